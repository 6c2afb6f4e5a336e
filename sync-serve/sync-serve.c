/*
 * sync-serve: the sync server. Peers (ours or the Go dnstap-bgp) pull this
 * instance's cache and push entries to it, over HTTP (libmicrohttpd):
 *
 *   GET /fetch[?since=TIME]   the store (lib/store.h) as the Go daemon's JSON
 *                             array, every entry or those changed since TIME;
 *                             the X-Dnstap-Bgp-Cursor header is the TIME to
 *                             ask for next time
 *   PUT /put                  one entry: validated, then written as a `peer`
 *                             record into ipcache's peer input (a FIFO)
 *
 * A fetch streams: a child process opens the store, walks it and writes the
 * JSON into a pipe that the server forwards, so neither process holds the
 * answer in memory and a slow client only slows its own child. Everything
 * else (requests, signals, the pipes) runs in one poll loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dlist.h"
#include "lineio.h"
#include "log.h"
#include "metrics.h"
#include "rec.h"
#include "sig.h"
#include "store.h"
#include "sync.h"

#define MAX_LISTEN 8
#define MAX_EXCLUDE 64
#define MAX_FETCHES 64

static struct {
	uint64_t fetches, fetches_incremental, fetch_errors, fetch_busy;
	uint64_t puts, put_rejected, put_bad, put_toolarge, put_unavailable;
	uint64_t unauthorized, bad_requests, fetches_active;
} st;

static const struct metric metrics[] = {
	{ "fetches_total", NULL, METRIC_COUNTER, "GET /fetch answered", &st.fetches },
	{ "fetches_incremental_total", NULL, METRIC_COUNTER, "GET /fetch?since= answered", &st.fetches_incremental },
	{ "fetch_errors_total", NULL, METRIC_COUNTER, "Fetches cut short by a store error", &st.fetch_errors },
	{ "fetch_busy_total", NULL, METRIC_COUNTER, "Fetches refused (503): too many at once", &st.fetch_busy },
	{ "fetches_active", NULL, METRIC_GAUGE, "Fetches being streamed", &st.fetches_active },
	{ "puts_total", NULL, METRIC_COUNTER, "PUT /put entries forwarded", &st.puts },
	{ "put_rejected_total", NULL, METRIC_COUNTER, "PUT entries refused by validation (400)", &st.put_rejected },
	{ "put_bad_total", NULL, METRIC_COUNTER, "PUT bodies that are not one JSON entry (400)", &st.put_bad },
	{ "put_toolarge_total", NULL, METRIC_COUNTER, "PUT bodies over the limit (413)", &st.put_toolarge },
	{ "put_unavailable_total", NULL, METRIC_COUNTER, "PUT entries not forwarded: peer input unavailable (503)", &st.put_unavailable },
	{ "unauthorized_total", NULL, METRIC_COUNTER, "Requests without the right token (401)", &st.unauthorized },
	{ "bad_requests_total", NULL, METRIC_COUNTER, "Other requests refused (400, 404)", &st.bad_requests },
};
#define NMETRICS (sizeof metrics / sizeof metrics[0])

static struct {
	const char *store_dir, *peer_input, *dlist_path, *metrics_path;
	const char *cert, *key, *client_ca;
	char *token;
	size_t token_len;
	uint64_t max_put;
	unsigned max_fetches, timeout_s, max_conns;
	int any_name;
	struct rec_addr exclude[MAX_EXCLUDE];
	int nexclude;
} cf;

static struct dlist *dl;
/* one per kind, so that a flood of one kind does not hide the others */
static struct ratelimit rl = RATELIMIT_INIT, rl_put = RATELIMIT_INIT,
    rl_auth = RATELIMIT_INIT;
static int peer_fd = -1;

/* A fetch being streamed from a child's pipe. */
struct fetch {
	int fd; /* read end, non-blocking; -1 when the slot is free */
	pid_t pid;
	struct MHD_Connection *conn;
	int suspended;
};
static struct fetch fetches[MAX_FETCHES];

/* Per-request state of a PUT. */
struct put {
	struct sync_parser *parser;
	uint64_t bytes;
	int entries;
	struct sync_raw raw;
};

static void
usage(void)
{
	log_fatal(EXIT_PERM, "usage: sync-serve -s STORE (-d DOMAINS.cdb | -A) "
	    "[-p PEERINPUT] [-l ADDR:PORT]... [-x PREFIX]... [-b BYTES] "
	    "[-F FETCHES] [-c CONNS] [-t SECONDS] [-T TOKENFILE] "
	    "[-C CERT -K KEY [-V CLIENTCA]] [-M METRICS]");
}

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long long
number(const char *s, long long min, long long max, const char *what)
{
	const char *err;
	long long v = strtonum(s, min, max, &err);

	if (err) {
		log_warn("%s %s: %s", what, s, err);
		usage();
	}
	return v;
}

/* A whole small file (a token, a PEM), NUL-terminated. */
static char *
slurp(const char *path, size_t max)
{
	char *buf;
	ssize_t n;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		log_fatal_sys(EXIT_PERM, "unable to open %s", path);
	if (!(buf = malloc(max + 1)))
		log_fatal_sys(EXIT_TEMP, "unable to allocate");
	while (len < max && (n = read(fd, buf + len, max - len)) != 0) {
		if (n < 0)
			log_fatal_sys(EXIT_TEMP, "unable to read %s", path);
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

static const char *
peer_name(struct MHD_Connection *c, char *buf, size_t cap)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (!sa || getnameinfo(sa, sa->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in), buf,
	    (socklen_t)cap, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(buf, cap, "?");
	return buf;
}

/* Queues a short text answer ("Bad request: ..." as the Go daemon writes). */
static enum MHD_Result
answer(struct MHD_Connection *c, unsigned code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum MHD_Result
answer(struct MHD_Connection *c, unsigned code, const char *fmt, ...)
{
	char body[512];
	struct MHD_Response *r;
	enum MHD_Result ret;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof body)
		n = sizeof body - 1;
	r = MHD_create_response_from_buffer((size_t)n, body,
	    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8");
	if (code == 401)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		    "Bearer");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

/* Constant time: the token's bytes must not leak through timing. */
static int
authorized(struct MHD_Connection *c)
{
	const char *h;
	size_t n, i;
	unsigned char diff = 0;

	if (!cf.token)
		return 1;
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	n = strlen(h);
	diff = n != cf.token_len;
	for (i = 0; i < cf.token_len; i++)
		diff |= (unsigned char)(h[i < n ? i : 0] ^ cf.token[i]);
	return diff == 0;
}

/* ---- /fetch ---- */

struct walk {
	struct lw w;
	uint64_t n;
	int64_t now;
};

static int
walk_entry(const struct store_entry *e, void *arg)
{
	struct walk *wk = arg;
	char buf[2 * REC_NAME_MAX + 256];
	size_t n;

	if (e->expires_us && e->expires_us <= wk->now)
		return 0;
	n = sync_entry_json(buf + 1, sizeof buf - 1, &e->addr, e->name,
	    strlen(e->name), e->last_us, e->tag);
	if (n == 0)
		return 0;
	buf[0] = wk->n ? ',' : '[';
	wk->n++;
	return lw_put(&wk->w, buf, n + 1) == -1;
}

/* The child: the JSON of the store on fd 3, then exit. */
static void __attribute__((noreturn))
fetch_child(int64_t since_us)
{
	struct store *s;
	struct walk wk;
	char err[256];
	int permanent = 0, rc;

	s = store_open(cf.store_dir, STORE_READ, err, sizeof err, &permanent);
	if (!s) {
		log_warn("unable to open %s: %s", cf.store_dir, err);
		_exit(EXIT_TEMP);
	}
	if (lw_init(&wk.w, 3, 65536) == -1)
		_exit(EXIT_TEMP);
	wk.n = 0;
	wk.now = now_us();
	rc = store_each(s, since_us, walk_entry, &wk, err, sizeof err);
	if (rc == -1) {
		/* the body ends short of valid JSON: the client merges nothing */
		log_warn("unable to read %s: %s", cf.store_dir, err);
		lw_flush(&wk.w);
		_exit(EXIT_TEMP);
	}
	/* Go's encoding/json: an empty cache is null, then a newline */
	if ((wk.n ? lw_put(&wk.w, "]\n", 2) : lw_put(&wk.w, "null\n", 5)) ==
	    -1 || lw_flush(&wk.w) == -1)
		_exit(EXIT_TEMP); /* the client went away */
	_exit(0);
}

static ssize_t
fetch_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct fetch *f = cls;
	ssize_t n;

	(void)pos;
	n = read(f->fd, buf, max);
	if (n > 0)
		return n;
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (errno == EAGAIN || errno == EINTR) {
		/* nothing yet: park the connection until the pipe is readable */
		f->suspended = 1;
		MHD_suspend_connection(f->conn);
		return 0;
	}
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void
fetch_free(void *cls)
{
	struct fetch *f = cls;

	/* the child sees EPIPE if it is still writing, and exits */
	close(f->fd);
	f->fd = -1;
	f->conn = NULL;
	st.fetches_active--;
}

static enum MHD_Result
handle_fetch(struct MHD_Connection *c, const char *who)
{
	const char *since = MHD_lookup_connection_value(c,
	    MHD_GET_ARGUMENT_KIND, "since");
	struct MHD_Response *r;
	struct store *s;
	struct fetch *f = NULL;
	char err[256], cursor[SYNC_TIME_MAX];
	int64_t since_us = 0;
	int permanent, p[2];
	unsigned i, active = 0;
	size_t n;
	pid_t pid;

	if (since && *since &&
	    (sync_time_parse(since, strlen(since), &since_us) == -1 ||
	    since_us < 0)) {
		st.bad_requests++;
		log_warn_limited(&rl, "%s: GET /fetch: bad since %.40s", who,
		    since);
		return answer(c, 400, "Bad request: bad since");
	}
	for (i = 0; i < MAX_FETCHES; i++) {
		if (fetches[i].fd != -1 || fetches[i].pid > 0)
			active++;
		else if (!f)
			f = &fetches[i];
	}
	if (!f || active >= cf.max_fetches) {
		st.fetch_busy++;
		log_warn_limited(&rl, "%s: GET /fetch: too many at once", who);
		return answer(c, 503, "Busy: too many fetches\n");
	}
	/*
	 * The cursor is the newest change in the store now; the child's
	 * snapshot is at least this new, and every later change gets a newer
	 * time (store.h), so since=cursor next time misses nothing.
	 */
	s = store_open(cf.store_dir, STORE_READ, err, sizeof err, &permanent);
	if (!s) {
		st.fetch_errors++;
		log_warn_limited(&rl, "unable to open %s: %s", cf.store_dir, err);
		return answer(c, 503, "Store unavailable\n");
	}
	n = sync_time_format(cursor, sizeof cursor - 1, store_changed(s));
	cursor[n] = '\0';
	store_close(&s);
	if (pipe2(p, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		st.fetch_errors++;
		log_warn_sys("unable to start a fetch");
		return answer(c, 503, "Busy\n");
	}
	if (pid == 0) {
		sigset_t all;

		/* the parent's signals stay blocked for its signalfd */
		sigfillset(&all);
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		close(p[0]);
		if (dup2(p[1], 3) == -1)
			_exit(EXIT_TEMP);
		closefrom(4);
		fetch_child(since_us);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	f->fd = p[0];
	f->pid = pid;
	f->conn = c;
	f->suspended = 0;
	st.fetches_active++;
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 65536,
	    fetch_read, f, fetch_free);
	if (!r) {
		fetch_free(f);
		return MHD_NO;
	}
	/* what Go's net/http sniffs for a JSON body */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8");
	MHD_add_response_header(r, "X-Dnstap-Bgp-Cursor", cursor);
	st.fetches++;
	if (since_us)
		st.fetches_incremental++;
	{
		enum MHD_Result ret = MHD_queue_response(c, 200, r);

		MHD_destroy_response(r);
		return ret;
	}
}

/* ---- /put ---- */

static int
put_entry(const struct sync_raw *raw, void *arg)
{
	struct put *pu = arg;

	pu->raw = *raw;
	pu->entries++;
	return 0;
}

static int
peer_open(void)
{
	if (peer_fd != -1)
		return 0;
	if (!cf.peer_input) {
		peer_fd = 1;
		return 0;
	}
	/* non-blocking: no reader (ENXIO) or a full pipe answers 503 */
	peer_fd = open(cf.peer_input, O_WRONLY | O_APPEND | O_NONBLOCK |
	    O_CLOEXEC);
	return peer_fd == -1 ? -1 : 0;
}

/* One write(2) per record, at most PIPE_BUF: never interleaved. */
static int
peer_write(const char *line, size_t n)
{
	ssize_t w;

	if (peer_open() == -1)
		return -1;
	w = write(peer_fd, line, n);
	if (w == (ssize_t)n)
		return 0;
	if (w >= 0)
		errno = EIO; /* a partial write: not on a pipe with n <= PIPE_BUF */
	if (peer_fd == 1) {
		if (errno == EPIPE)
			log_fatal(EXIT_TEMP, "unable to write to stdout: %s",
			    strerror(errno));
		return -1;
	}
	if (errno != EAGAIN) {
		close(peer_fd);
		peer_fd = -1;
	}
	return -1;
}

static enum MHD_Result
finish_put(struct MHD_Connection *c, struct put *pu, const char *who)
{
	struct sync_entry e;
	struct dlist_match m;
	enum sync_err err;
	char line[REC_LINE_MAX], addr[64];
	size_t n;
	int i;

	if (sync_parser_finish(pu->parser) == -1 || pu->entries != 1) {
		st.put_bad++;
		log_warn_limited(&rl_put, "%s: PUT /put: %s", who,
		    pu->entries ? sync_parser_error(pu->parser) : "empty body");
		return answer(c, 400, "Bad request: %s",
		    pu->entries ? sync_parser_error(pu->parser) : "empty body");
	}
	err = sync_entry_from_raw(&e, &pu->raw, now_us());
	if (err != SYNC_OK) {
		st.put_rejected++;
		log_warn_limited(&rl_put, "%s: PUT /put: %s", who,
		    sync_strerror(err));
		return answer(c, 400, "Bad request: %s", sync_strerror(err));
	}
	rec_addr_format(addr, sizeof addr, &e.addr, 0);
	for (i = 0; i < cf.nexclude; i++) {
		if (rec_addr_contains(&cf.exclude[i], &e.addr)) {
			st.put_rejected++;
			log_warn_limited(&rl_put, "%s: PUT /put: %s %s: address "
			    "excluded", who, e.name, addr);
			return answer(c, 400, "Bad request: address excluded");
		}
	}
	if (!cf.any_name &&
	    (!dlist_lookup(dl, e.name, e.name_len, &m) || m.excluded)) {
		st.put_rejected++;
		log_warn_limited(&rl_put, "%s: PUT /put: %s %s: not in the domain "
		    "list", who, e.name, addr);
		return answer(c, 400, "Bad request: name not in the domain list");
	}
	n = sync_entry_record(line, sizeof line, &e);
	if (n == 0 || n > PIPE_BUF || peer_write(line, n) == -1) {
		st.put_unavailable++;
		log_warn_limited(&rl, "unable to write to %s: %s",
		    cf.peer_input ? cf.peer_input : "stdout",
		    n ? strerror(errno) : "record too long");
		return answer(c, 503, "Peer input unavailable\n");
	}
	st.puts++;
	/* Go answers a put with 200 and an empty body */
	return answer(c, 200, "%s", "");
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct put *pu = *con_cls;
	char who[64];
	const char *cl;
	unsigned long long len;

	(void)cls;
	(void)version;
	peer_name(c, who, sizeof who);
	if (!pu && strcmp(url, "/put") != 0) {
		/* everything but /put is answered on the first call */
		if (!authorized(c)) {
			st.unauthorized++;
			log_warn_limited(&rl_auth, "%s: %s %s: bad or missing token",
			    who, method, url);
			return answer(c, 401, "Unauthorized\n");
		}
		if (strcmp(url, "/fetch") != 0) {
			st.bad_requests++;
			return answer(c, 404, "404 page not found\n");
		}
		if (strcmp(method, "GET") != 0) {
			/* Go: any other method is 400 with no body */
			st.bad_requests++;
			log_warn_limited(&rl, "%s: %s /fetch: not GET", who,
			    method);
			return answer(c, 400, "%s", "");
		}
		return handle_fetch(c, who);
	}
	if (!pu) {
		if (!authorized(c)) {
			st.unauthorized++;
			log_warn_limited(&rl_auth, "%s: %s %s: bad or missing token",
			    who, method, url);
			return answer(c, 401, "Unauthorized\n");
		}
		if (strcmp(method, "PUT") != 0 && strcmp(method, "POST") != 0) {
			st.bad_requests++;
			log_warn_limited(&rl, "%s: %s /put: not PUT", who, method);
			return answer(c, 400, "Bad request: method %s", method);
		}
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && (len = strtoull(cl, NULL, 10)) > cf.max_put) {
			/* refused before a byte of the body is read */
			st.put_toolarge++;
			log_warn_limited(&rl_put, "%s: PUT /put: body of %llu bytes, "
			    "limit %llu", who, len,
			    (unsigned long long)cf.max_put);
			return answer(c, 413, "Body too large\n");
		}
		if (!(pu = calloc(1, sizeof *pu)) ||
		    !(pu->parser = sync_parser_new(SYNC_OBJECT, put_entry, pu))) {
			free(pu);
			return MHD_NO;
		}
		*con_cls = pu;
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;

		pu->bytes += n;
		*upload_size = 0;
		/*
		 * A chunked body has no length up front. libmicrohttpd answers
		 * only once the upload is read: the rest is dropped unparsed,
		 * and a sender that goes on far past the limit is cut off.
		 */
		if (pu->bytes > 16 * cf.max_put)
			return MHD_NO;
		if (pu->bytes <= cf.max_put)
			sync_parser_feed(pu->parser, upload, n);
		return MHD_YES;
	}
	if (pu->bytes > cf.max_put) {
		st.put_toolarge++;
		log_warn_limited(&rl_put, "%s: PUT /put: body over %llu bytes",
		    who, (unsigned long long)cf.max_put);
		return answer(c, 413, "Body too large\n");
	}
	return finish_put(c, pu, who);
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct put *pu = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (pu) {
		sync_parser_free(&pu->parser);
		free(pu);
		*con_cls = NULL;
	}
}

/* ---- TLS client certificates ---- */

static enum MHD_Result
accept_tls(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;
	unsigned status = 1;

	if (!cf.client_ca)
		return MHD_YES;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || gnutls_certificate_verify_peers2(
	    (gnutls_session_t)ci->tls_session, &status) != 0 || status != 0 ||
	    gnutls_certificate_type_get((gnutls_session_t)ci->tls_session) !=
	    GNUTLS_CRT_X509)
		return MHD_NO;
	{
		unsigned n = 0;

		if (!gnutls_certificate_get_peers(
		    (gnutls_session_t)ci->tls_session, &n) || n == 0)
			return MHD_NO;
	}
	return MHD_YES;
}

static enum MHD_Result
handle_tls(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	char who[64];

	if (!*con_cls && accept_tls(c) != MHD_YES) {
		st.unauthorized++;
		log_warn_limited(&rl_auth, "%s: %s %s: no valid client certificate",
		    peer_name(c, who, sizeof who), method, url);
		return answer(c, 401, "Client certificate required\n");
	}
	return handle(cls, c, url, method, version, upload, upload_size,
	    con_cls);
}

/* ---- main ---- */

static int
parse_listen(const char *s, struct sockaddr_storage *ss)
{
	char host[256];
	const char *colon = strrchr(s, ':');
	struct addrinfo hints, *res;
	size_t hl;

	if (!colon || (hl = (size_t)(colon - s)) >= sizeof host)
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res) != 0)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

static void
reap(void)
{
	int status, i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < MAX_FETCHES; i++)
			if (fetches[i].pid == pid)
				fetches[i].pid = 0;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			st.fetch_errors++;
	}
}

static void
write_metrics(void)
{
	if (cf.metrics_path &&
	    metrics_write(cf.metrics_path, "sync-serve", metrics, NMETRICS) == -1)
		log_warn_sys("unable to write %s", cf.metrics_path);
}

int
main(int argc, char **argv)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD,
		0 };
	const char *listen[MAX_LISTEN], *token_file = NULL, *s;
	struct MHD_Daemon *d[MAX_LISTEN];
	struct pollfd pfd[1 + MAX_LISTEN + MAX_FETCHES];
	struct fetch *pf[MAX_FETCHES];
	struct sockaddr_storage ss[MAX_LISTEN];
	char err[256], *pem_cert = NULL, *pem_key = NULL, *pem_ca = NULL;
	int c, i, nlisten = 0, sfd, sig, stop = 0, np, nf, permanent;
	struct store *st0;
	time_t last_metrics = 0;

	log_init(argv[0]);
	cf.max_put = 65536;
	cf.max_fetches = 4;
	cf.max_conns = 64;
	cf.timeout_s = 60;
	cf.metrics_path = getenv("METRICS_FILE");
	while ((c = getopt(argc, argv, "Ab:c:C:d:F:K:l:M:p:s:t:T:V:x:")) != -1) {
		switch (c) {
		case 'A': cf.any_name = 1; break;
		case 'b': cf.max_put = (uint64_t)number(optarg, 64, 1 << 24, "body limit"); break;
		case 'c': cf.max_conns = (unsigned)number(optarg, 1, 10000, "connection limit"); break;
		case 'C': cf.cert = optarg; break;
		case 'd': cf.dlist_path = optarg; break;
		case 'F': cf.max_fetches = (unsigned)number(optarg, 1, MAX_FETCHES, "fetch limit"); break;
		case 'K': cf.key = optarg; break;
		case 'l':
			if (nlisten == MAX_LISTEN) {
				log_warn("at most %d -l", MAX_LISTEN);
				usage();
			}
			listen[nlisten++] = optarg;
			break;
		case 'M': cf.metrics_path = optarg; break;
		case 'p': cf.peer_input = optarg; break;
		case 's': cf.store_dir = optarg; break;
		case 't': cf.timeout_s = (unsigned)number(optarg, 1, 3600, "timeout"); break;
		case 'T': token_file = optarg; break;
		case 'V': cf.client_ca = optarg; break;
		case 'x':
			if (cf.nexclude == MAX_EXCLUDE ||
			    rec_addr_parse(&cf.exclude[cf.nexclude], optarg,
			    strlen(optarg), 1) == -1) {
				log_warn("bad or too many -x %s", optarg);
				usage();
			}
			cf.nexclude++;
			break;
		default: usage();
		}
	}
	if (optind != argc || !cf.store_dir || (!cf.dlist_path == !cf.any_name))
		usage();
	if (!cf.cert != !cf.key || (cf.client_ca && !cf.cert)) {
		log_warn("-C and -K go together; -V needs them");
		usage();
	}
	if (nlisten == 0)
		listen[nlisten++] = "127.0.0.1:8080";
	for (i = 0; i < nlisten; i++) {
		if (parse_listen(listen[i], &ss[i]) == -1) {
			log_warn("bad listen address %s (ADDR:PORT)", listen[i]);
			usage();
		}
	}
	if (token_file) {
		cf.token = slurp(token_file, 1024);
		cf.token[strcspn(cf.token, "\r\n")] = '\0';
	} else if ((s = getenv("SYNC_TOKEN")) && *s) {
		cf.token = strdup(s);
	}
	if (cf.token && !*cf.token)
		log_fatal(EXIT_PERM, "unable to use %s: empty token", token_file);
	cf.token_len = cf.token ? strlen(cf.token) : 0;

	if (cf.dlist_path && !(dl = dlist_open(cf.dlist_path, err, sizeof err)))
		log_fatal(errno == ENOENT ? EXIT_TEMP : EXIT_PERM,
		    "unable to open %s: %s", cf.dlist_path, err);
	/* the store must be there and readable now, not at the first fetch */
	if (!(st0 = store_open(cf.store_dir, STORE_READ, err, sizeof err,
	    &permanent)))
		log_fatal(permanent ? EXIT_PERM : EXIT_TEMP,
		    "unable to open %s: %s", cf.store_dir, err);
	store_close(&st0);
	if (cf.cert) {
		pem_cert = slurp(cf.cert, 1 << 20);
		pem_key = slurp(cf.key, 1 << 20);
		if (cf.client_ca)
			pem_ca = slurp(cf.client_ca, 1 << 20);
	}
	for (i = 0; i < MAX_FETCHES; i++)
		fetches[i].fd = -1;
	if ((sfd = sig_open(sigs)) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to set up signals");
	for (i = 0; i < nlisten; i++) {
		unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
		    MHD_USE_ERROR_LOG;

		if (ss[i].ss_family == AF_INET6)
			flags |= MHD_USE_IPv6;
		if (cf.cert)
			flags |= MHD_USE_TLS;
		d[i] = MHD_start_daemon(flags, 0, NULL, NULL,
		    cf.cert ? handle_tls : handle, NULL,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss[i],
		    MHD_OPTION_CONNECTION_LIMIT, cf.max_conns,
		    MHD_OPTION_CONNECTION_TIMEOUT, cf.timeout_s,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
		    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
		    cf.cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
		    pem_cert, MHD_OPTION_HTTPS_MEM_KEY, pem_key,
		    pem_ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, pem_ca,
		    MHD_OPTION_END);
		if (!d[i])
			log_fatal(EXIT_TEMP, "unable to listen on %s", listen[i]);
	}
	log_info("listening on %s%s", listen[0], nlisten > 1 ? " and more" : "");

	while (!stop) {
		MHD_UNSIGNED_LONG_LONG mto, to = 1000;

		np = 0;
		pfd[np].fd = sfd, pfd[np++].events = POLLIN;
		for (i = 0; i < nlisten; i++) {
			pfd[np].fd = MHD_get_daemon_info(d[i],
			    MHD_DAEMON_INFO_EPOLL_FD)->epoll_fd;
			pfd[np++].events = POLLIN;
			if (MHD_get_timeout(d[i], &mto) == MHD_YES && mto < to)
				to = mto;
		}
		nf = 0;
		for (i = 0; i < MAX_FETCHES; i++) {
			if (fetches[i].fd != -1 && fetches[i].suspended) {
				pf[nf++] = &fetches[i];
				pfd[np].fd = fetches[i].fd;
				pfd[np++].events = POLLIN;
			}
		}
		if (poll(pfd, (nfds_t)np, (int)to) == -1 && errno != EINTR)
			log_fatal_sys(EXIT_TEMP, "unable to poll");
		for (i = 0; i < nf; i++) {
			struct pollfd *q = &pfd[np - nf + i];

			if (q->revents) {
				pf[i]->suspended = 0;
				MHD_resume_connection(pf[i]->conn);
			}
		}
		while ((sig = sig_next(sfd)) > 0) {
			if (sig == SIGUSR1) {
				metrics_log(metrics, NMETRICS);
			} else if (sig == SIGCHLD) {
				reap();
			} else if (sig == SIGHUP) {
				if (dl && dlist_changed(dl, cf.dlist_path)) {
					struct dlist *n = dlist_open(cf.dlist_path,
					    err, sizeof err);

					if (n) {
						dlist_close(&dl);
						dl = n;
						log_info("reloaded %s", cf.dlist_path);
					} else {
						log_warn("unable to reload %s: %s",
						    cf.dlist_path, err);
					}
				}
				if (peer_fd > 1)
					close(peer_fd);
				peer_fd = -1;
			} else {
				stop = 1;
			}
		}
		for (i = 0; i < nlisten; i++)
			MHD_run(d[i]);
		if (cf.metrics_path && time(NULL) - last_metrics >= 5) {
			write_metrics();
			last_metrics = time(NULL);
		}
	}

	for (i = 0; i < nlisten; i++)
		MHD_stop_daemon(d[i]);
	for (i = 0; i < MAX_FETCHES; i++)
		if (fetches[i].pid > 0)
			kill(fetches[i].pid, SIGTERM);
	reap();
	write_metrics();
	if (peer_fd > 1)
		close(peer_fd);
	dlist_close(&dl);
	free(cf.token);
	free(pem_cert);
	free(pem_key);
	free(pem_ca);
	close(sfd);
	return 0;
}
