/*
 * serve.h: what sync-serve's parts share: the main loop (sync-serve.c), the
 * request handlers (http.c) and the connection guard (conn.c): the
 * configuration, the counters, the fetches being streamed.
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
	const char *store_dir, *peer_input, *dlist_path;
	const char *cert, *key, *client_ca;
	char *token;
	size_t token_len;
	uint64_t max_put;
	unsigned max_fetches, max_conns, per_addr;
	unsigned timeout_s; /* idle: no byte either way */
	unsigned head_s;    /* a request, head and PUT body, from its start */
	unsigned fetch_s;   /* a whole /fetch answer */
	int any_name, open;
	struct rec_addr exclude[MAX_EXCLUDE];
	int nexclude;
};

struct serve_stats {
	uint64_t fetches, fetches_incremental, fetch_errors, fetch_busy;
	uint64_t fetch_deadline;
	uint64_t puts, put_rejected, put_bad, put_toolarge, put_unavailable;
	uint64_t unauthorized, bad_requests, fetches_active;
	uint64_t conns_active, conns_refused, head_deadline, http_errors;
};

/* A fetch being streamed from a child's pipe. */
struct fetch {
	int fd; /* read end, non-blocking; -1 when the slot is free */
	pid_t pid;
	struct MHD_Connection *conn;
	int suspended;
	int64_t deadline_us; /* monotonic: the answer is cut off then */
	int expired; /* cut off: the child killed, the body ends short */
};

extern struct serve_conf cf;
extern struct serve_stats st;
extern struct dlist *dl;
extern struct fetch fetches[MAX_FETCHES];

/*
 * A libmicrohttpd daemon with every sync-serve option and callback: on sa
 * (NULL with MHD_USE_NO_LISTEN_SOCKET in flags), https with the PEM texts
 * when cert is not NULL (ca: require client certificates). NULL on failure,
 * libmicrohttpd's reason in the log.
 */
struct MHD_Daemon *serve_start(unsigned flags, const struct sockaddr *sa,
			       const char *cert, const char *key,
			       const char *ca);
/* Closes the peer input, to be reopened at the next put (SIGHUP). */
void serve_peer_close(void);

/* conn.c: who is connected, since when, and the limits on them. */
/* MHD_AcceptPolicyCallback: the total and per-address limits. */
enum MHD_Result conn_accept(void *cls, const struct sockaddr *sa,
			    socklen_t len);
/* MHD_NotifyConnectionCallback: tracks each connection from accept. */
void conn_notify(void *cls, struct MHD_Connection *c, void **socket_ctx,
		 enum MHD_ConnectionNotificationCode code);
/* The request on c has its answer queued: its deadline no longer runs. */
void conn_answered(struct MHD_Connection *c);
/* The request on c is over: the next one on it (keep-alive) starts now. */
void conn_next_request(struct MHD_Connection *c);
/* Closes what is over its deadline: request heads, fetches. */
void conn_sweep(int64_t now_us);
/* Milliseconds until the next deadline, at most max_ms. */
int conn_next_ms(int64_t now_us, int max_ms);
/* The client's address as text ("192.0.2.1", "2001:db8::1", "?"). */
const char *conn_who(struct MHD_Connection *c, char *buf, size_t cap);

#endif
