/*
 * serve.h: what sync-serve's main loop (sync-serve.c) and its request
 * handlers (http.c) share: the configuration, the counters, the fetches
 * being streamed.
 */
#ifndef SERVE_H
#define SERVE_H

#include <microhttpd.h>
#include <stdint.h>
#include <sys/types.h>

#include "dlist.h"
#include "log.h"
#include "rec.h"

#define MAX_EXCLUDE 64
#define MAX_FETCHES 64

struct serve_conf {
	const char *store_dir, *peer_input, *dlist_path, *metrics_path;
	const char *cert, *key, *client_ca;
	char *token;
	size_t token_len;
	uint64_t max_put;
	unsigned max_fetches, timeout_s, max_conns;
	int any_name;
	struct rec_addr exclude[MAX_EXCLUDE];
	int nexclude;
};

struct serve_stats {
	uint64_t fetches, fetches_incremental, fetch_errors, fetch_busy;
	uint64_t puts, put_rejected, put_bad, put_toolarge, put_unavailable;
	uint64_t unauthorized, bad_requests, fetches_active;
};

/* A fetch being streamed from a child's pipe. */
struct fetch {
	int fd; /* read end, non-blocking; -1 when the slot is free */
	pid_t pid;
	struct MHD_Connection *conn;
	int suspended;
};

extern struct serve_conf cf;
extern struct serve_stats st;
extern struct dlist *dl;
extern struct fetch fetches[MAX_FETCHES];

/* The libmicrohttpd access handler: /fetch and /put. */
enum MHD_Result serve_handle(void *cls, struct MHD_Connection *c,
    const char *url, const char *method, const char *version,
    const char *upload, size_t *upload_size, void **con_cls);
/* The same behind TLS: with -V, a valid client certificate first. */
enum MHD_Result serve_handle_tls(void *cls, struct MHD_Connection *c,
    const char *url, const char *method, const char *version,
    const char *upload, size_t *upload_size, void **con_cls);
/* MHD_OPTION_NOTIFY_COMPLETED: frees a request's state. */
void serve_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe);
/* Closes the peer input, to be reopened at the next put (SIGHUP). */
void serve_peer_close(void);

#endif
