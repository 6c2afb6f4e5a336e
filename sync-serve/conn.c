/*
 * conn.c: sync-serve's connection guard. libmicrohttpd closes a connection
 * that sends nothing for -t seconds, but one that sends a byte now and then
 * (slowloris) would keep its slot for ever, before any token is looked at;
 * and a client that takes a /fetch slowly would keep its fetch child, and
 * the child's LMDB read snapshot, which keeps ipcache's store from reusing
 * pages. So every connection is tracked from accept:
 *
 *   - at most -c connections at once, -m from one client address (refused
 *     at accept, before libmicrohttpd reads a byte);
 *   - a request must arrive whole (its head, and a PUT's body) within -H
 *     seconds of the connection, or of the previous answer on it;
 *   - a /fetch answer must be sent whole within -D seconds.
 *
 * What passes a deadline is shut down (the socket; a fetch's child is
 * killed), counted and logged (rate-limited).
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "serve.h"

struct conn {
	struct conn *next, **prevp;
	struct MHD_Connection *c;
	int fd;
	unsigned char addr[16]; /* IPv4 as IPv4-mapped IPv6 */
	int64_t since_us;	/* the current request's start (monotonic) */
	int answered;		/* its answer is queued: no deadline */
	int cut;		/* shut down: already counted */
	unsigned requests;	/* answered on this connection */
};

static struct conn *conns;
static struct ratelimit rl_limit = RATELIMIT_INIT, rl_late = RATELIMIT_INIT;

static int
addr_key(const struct sockaddr *sa, unsigned char key[16])
{
	memset(key, 0, 16);
	if (sa && sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr,
		       4);
		return 0;
	}
	if (sa && sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return 0;
	}
	return -1;
}

static void
key_text(const unsigned char key[16], char *buf, size_t cap)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,	   0,
						 0, 0, 0, 0, 0xff, 0xff};

	if (memcmp(key, mapped, 12) == 0)
		inet_ntop(AF_INET, key + 12, buf, (socklen_t)cap);
	else
		inet_ntop(AF_INET6, key, buf, (socklen_t)cap);
}

enum MHD_Result
conn_accept(void *cls, const struct sockaddr *sa, socklen_t len)
{
	unsigned char key[16];
	char who[INET6_ADDRSTRLEN];
	const struct conn *k;
	unsigned total = 0, same = 0;

	(void)cls;
	(void)len;
	if (addr_key(sa, key) == -1)
		return MHD_NO;
	for (k = conns; k; k = k->next) {
		total++;
		same += memcmp(k->addr, key, 16) == 0;
	}
	if (total < cf.max_conns && same < cf.per_addr)
		return MHD_YES;
	st.conns_refused++;
	key_text(key, who, sizeof who);
	if (total >= cf.max_conns)
		log_warn_limited(&rl_limit,
				 "%s: connection refused: %u "
				 "connections open, the limit (-c)",
				 who, total);
	else
		log_warn_limited(
		    &rl_limit,
		    "%s: connection refused: %u "
		    "connections open from this address, the limit (-m)",
		    who, same);
	return MHD_NO;
}

void
conn_notify(void *cls, struct MHD_Connection *c, void **socket_ctx,
	    enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo *ci;
	struct conn *k = *socket_ctx;

	(void)cls;
	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (!k)
			return;
		if ((*k->prevp = k->next))
			k->next->prevp = k->prevp;
		free(k);
		*socket_ctx = NULL;
		st.conns_active--;
		return;
	}
	/* without memory the connection goes unguarded: the idle timeout
	 * still holds */
	if (code != MHD_CONNECTION_NOTIFY_STARTED ||
	    !(k = calloc(1, sizeof *k)))
		return;
	k->c = c;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	k->fd = ci ? ci->connect_fd : -1;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	addr_key(ci ? ci->client_addr : NULL, k->addr);
	k->since_us = clock_mono_us();
	if ((k->next = conns))
		conns->prevp = &k->next;
	k->prevp = &conns;
	conns = k;
	*socket_ctx = k;
	st.conns_active++;
}

static struct conn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

void
conn_answered(struct MHD_Connection *c)
{
	struct conn *k = conn_of(c);

	if (k)
		k->answered = 1;
}

void
conn_next_request(struct MHD_Connection *c)
{
	struct conn *k = conn_of(c);

	if (k) {
		k->answered = 0;
		k->requests++;
		k->since_us = clock_mono_us();
	}
}

const char *
conn_who(struct MHD_Connection *c, char *buf, size_t cap)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	unsigned char key[16];

	if (!ci || addr_key(ci->client_addr, key) == -1)
		snprintf(buf, cap, "?");
	else
		key_text(key, buf, cap);
	return buf;
}

/*
 * Shuts the socket: libmicrohttpd sees the end and closes the connection,
 * with a reset (linger 0), so what is still queued for a slow reader goes
 * at once instead of trickling out behind the end.
 */
static void
cut(struct MHD_Connection *c)
{
	static const struct linger now = {1, 0};
	struct conn *k = conn_of(c);

	if (k && k->fd != -1 && !k->cut) {
		k->cut = 1;
		setsockopt(k->fd, SOL_SOCKET, SO_LINGER, &now, sizeof now);
		shutdown(k->fd, SHUT_RDWR);
	}
}

void
conn_sweep(int64_t now_us)
{
	struct conn *k;
	char who[INET6_ADDRSTRLEN];
	int i;

	for (k = conns; k; k = k->next) {
		if (k->answered || k->cut ||
		    now_us - k->since_us < (int64_t)cf.head_s * 1000000)
			continue;
		/*
		 * A kept-alive connection that sends nothing after its answers
		 * looks the same as a slow next request: closed all the same,
		 * but as the idle peer it most likely is (libcurl keeps them).
		 */
		if (k->requests > 0) {
			cut(k->c);
			continue;
		}
		st.head_deadline++;
		key_text(k->addr, who, sizeof who);
		log_warn_limited(&rl_late,
				 "%s: request not whole within %u s "
				 "(-H): connection closed",
				 who, cf.head_s);
		cut(k->c);
	}
	for (i = 0; i < MAX_FETCHES; i++) {
		struct fetch *f = &fetches[i];

		if (f->fd == -1 || !f->conn || f->expired ||
		    now_us < f->deadline_us)
			continue;
		f->expired = 1;
		st.fetch_deadline++;
		log_warn_limited(&rl_late,
				 "%s: GET /fetch not sent whole "
				 "within %u s (-D): cut off",
				 conn_who(f->conn, who, sizeof who),
				 cf.fetch_s);
		/* the child and its read snapshot go at once */
		if (f->pid > 0)
			kill(f->pid, SIGKILL);
		cut(f->conn);
		if (f->suspended) {
			/* fetch_read ends the body at its next call */
			f->suspended = 0;
			MHD_resume_connection(f->conn);
		}
	}
}
