/*
 * fuzz-http-serve: sync-serve's request path as a peer reaches it: raw bytes
 * on a connection into libmicrohttpd and sync-serve's handlers (http.c):
 * the token check, the /fetch query, /put bodies streamed through the JSON
 * parser, validation and the peer record. The store does not exist (a fetch
 * answers 503 without forking); the peer input is /dev/null.
 */
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../sync-serve/serve.h"
#include "clock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct MHD_Daemon *d;

static void
setup(void)
{
	static char token[] = "s3cret";
	int i;

	log_init("fuzz-http-serve");
	cf.store_dir = "/nonexistent/store";
	/* FUZZ_PEER_INPUT=FILE shows what the seeds forward */
	cf.peer_input = getenv("FUZZ_PEER_INPUT");
	if (!cf.peer_input)
		cf.peer_input = "/dev/null";
	cf.any_name = 1;
	cf.token = token;
	cf.token_len = strlen(token);
	cf.max_put = 1024;
	cf.max_fetches = 4;
	cf.max_conns = 64;
	cf.per_addr = 64;
	cf.timeout_s = 1;
	cf.head_s = 1;
	cf.fetch_s = 1;
	rec_addr_parse(&cf.exclude[0], "203.0.113.0/24", 14, 1);
	cf.nexclude = 1;
	for (i = 0; i < MAX_FETCHES; i++)
		fetches[i].fd = -1;
	/* the daemon sync-serve runs, with its callbacks and limits */
	d = serve_start(MHD_USE_NO_LISTEN_SOCKET, NULL, NULL, NULL, NULL);
	if (!d)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in sa;
	char buf[4096];
	size_t off = 0;
	int s[2], i, closed = 0;
	ssize_t n;

	if (!d)
		setup();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, s) == -1)
		return 0;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(0x7f000001);
	if (MHD_add_connection(d, s[0], (struct sockaddr *)&sa, sizeof sa) !=
	    MHD_YES) {
		close(s[1]);
		return 0;
	}
	for (i = 0; i < 400 && !closed; i++) {
		if (off < size) {
			n = write(s[1], data + off, size - off);
			if (n > 0)
				off += (size_t)n;
			if (off == size)
				shutdown(s[1], SHUT_WR);
		} else if (size == 0 && i == 0) {
			shutdown(s[1], SHUT_WR);
		}
		conn_sweep(clock_mono_us());
		MHD_run(d);
		while ((n = read(s[1], buf, sizeof buf)) > 0)
			;
		if (n == 0)
			closed = 1;
	}
	close(s[1]);
	/* let libmicrohttpd see the close and free the connection */
	for (i = 0; i < 100 &&
		    MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS)
			    ->num_connections > 0;
	     i++)
		MHD_run(d);
	return 0;
}
