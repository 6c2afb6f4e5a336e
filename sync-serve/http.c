/*
 * http.c: sync-serve's request handlers (libmicrohttpd parses the HTTP):
 * the token, GET /fetch streamed from a child process that walks the store,
 * PUT /put parsed as it arrives, validated and forwarded as a peer record;
 * and the daemon that calls them, its messages sent to the program's log.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "lineio.h"
#include "serve.h"
#include "store.h"
#include "sync.h"

struct serve_conf cf;
struct serve_stats st;
struct dlist *dl;
struct fetch fetches[MAX_FETCHES];

/* one per kind, so that a flood of one kind does not hide the others */
static struct ratelimit rl = RATELIMIT_INIT, rl_put = RATELIMIT_INIT,
			rl_auth = RATELIMIT_INIT, rl_mhd = RATELIMIT_INIT;
static int peer_fd = -1;

/* Per-request state of a PUT. */
struct put {
	struct sync_parser *parser;
	uint64_t bytes;
	int entries;
	struct sync_raw raw;
};

/* Queues a short text answer ("Bad request: ..." as the Go daemon writes). */
static enum MHD_Result answer(struct MHD_Connection *c, unsigned code,
			      const char *fmt, ...)
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
	conn_answered(c);
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
static void fetch_child(int64_t since_us) __attribute__((noreturn));
static void
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
	wk.now = clock_wall_us();
	rc = store_each(s, since_us, walk_entry, &wk, err, sizeof err);
	if (rc == -1) {
		/* the body ends short of JSON: the client merges nothing */
		log_warn("unable to read %s: %s", cf.store_dir, err);
		lw_flush(&wk.w);
		_exit(EXIT_TEMP);
	}
	/* Go's encoding/json: an empty cache is null, then a newline */
	if ((wk.n ? lw_put(&wk.w, "]\n", 2) : lw_put(&wk.w, "null\n", 5)) ==
		-1 ||
	    lw_flush(&wk.w) == -1)
		_exit(EXIT_TEMP); /* the client went away */
	_exit(0);
}

static ssize_t
fetch_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct fetch *f = cls;
	ssize_t n;

	(void)pos;
	if (f->expired)
		return MHD_CONTENT_READER_END_WITH_ERROR; /* past -D */
	n = read(f->fd, buf, max);
	if (n > 0)
		return n;
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (errno == EAGAIN || errno == EINTR) {
		/* nothing yet: park the connection until there is */
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
	const char *since =
	    MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
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
		log_warn_limited(&rl, "unable to open %s: %s", cf.store_dir,
				 err);
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
	f->expired = 0;
	f->deadline_us = clock_mono_us() + (int64_t)cf.fetch_s * 1000000;
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
		conn_answered(c);
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
	peer_fd =
	    open(cf.peer_input, O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC);
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
	/* a partial write: not on a pipe with n <= PIPE_BUF */
	if (w >= 0)
		errno = EIO;
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
		/* the parser says why: empty, truncated, where it went bad */
		const char *why = *sync_parser_error(pu->parser)
				      ? sync_parser_error(pu->parser)
				      : "not one entry";

		st.put_bad++;
		log_warn_limited(&rl_put, "%s: PUT /put: %s (%llu bytes)", who,
				 why, (unsigned long long)pu->bytes);
		return answer(c, 400, "Bad request: %s", why);
	}
	err = sync_entry_from_raw(&e, &pu->raw, clock_wall_us());
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
			log_warn_limited(&rl_put,
					 "%s: PUT /put: %s %s: address "
					 "excluded",
					 who, e.name, addr);
			return answer(c, 400, "Bad request: address excluded");
		}
	}
	if (!cf.any_name &&
	    (!dlist_lookup(dl, e.name, e.name_len, &m) || m.excluded)) {
		st.put_rejected++;
		log_warn_limited(&rl_put,
				 "%s: PUT /put: %s %s: not in the domain "
				 "list",
				 who, e.name, addr);
		return answer(c, 400,
			      "Bad request: name not in the domain list");
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
serve_handle(void *cls, struct MHD_Connection *c, const char *url,
	     const char *method, const char *version, const char *upload,
	     size_t *upload_size, void **con_cls)
{
	struct put *pu = *con_cls;
	char who[64];
	const char *cl;
	unsigned long long len;

	(void)cls;
	(void)version;
	conn_who(c, who, sizeof who);
	if (!pu && strcmp(url, "/put") != 0) {
		/* everything but /put is answered on the first call */
		if (!authorized(c)) {
			st.unauthorized++;
			log_warn_limited(&rl_auth,
					 "%s: %.16s %.200s: bad or "
					 "missing token",
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
			log_warn_limited(&rl, "%s: %.16s /fetch: not GET", who,
					 method);
			return answer(c, 400, "%s", "");
		}
		return handle_fetch(c, who);
	}
	if (!pu) {
		if (!authorized(c)) {
			st.unauthorized++;
			log_warn_limited(&rl_auth,
					 "%s: %.16s %.200s: bad or "
					 "missing token",
					 who, method, url);
			return answer(c, 401, "Unauthorized\n");
		}
		if (strcmp(method, "PUT") != 0 && strcmp(method, "POST") != 0) {
			st.bad_requests++;
			log_warn_limited(&rl, "%s: %.16s /put: not PUT", who,
					 method);
			return answer(c, 400, "Bad request: method not PUT\n");
		}
		cl = MHD_lookup_connection_value(
		    c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && (len = strtoull(cl, NULL, 10)) > cf.max_put) {
			/* refused before a byte of the body is read */
			st.put_toolarge++;
			log_warn_limited(&rl_put,
					 "%s: PUT /put: body of %llu bytes, "
					 "limit %llu",
					 who, len,
					 (unsigned long long)cf.max_put);
			return answer(c, 413, "Body too large\n");
		}
		if (!(pu = calloc(1, sizeof *pu)) ||
		    !(pu->parser =
			  sync_parser_new(SYNC_OBJECT, put_entry, pu))) {
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
serve_completed(void *cls, struct MHD_Connection *c, void **con_cls,
		enum MHD_RequestTerminationCode toe)
{
	struct put *pu = *con_cls;

	(void)cls;
	(void)toe;
	conn_next_request(c);
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
	if (!ci ||
	    gnutls_certificate_verify_peers2((gnutls_session_t)ci->tls_session,
					     &status) != 0 ||
	    status != 0 ||
	    gnutls_certificate_type_get((gnutls_session_t)ci->tls_session) !=
		GNUTLS_CRT_X509)
		return MHD_NO;
	{
		unsigned n = 0;

		if (!gnutls_certificate_get_peers(
			(gnutls_session_t)ci->tls_session, &n) ||
		    n == 0)
			return MHD_NO;
	}
	return MHD_YES;
}

static enum MHD_Result
serve_handle_tls(void *cls, struct MHD_Connection *c, const char *url,
		 const char *method, const char *version, const char *upload,
		 size_t *upload_size, void **con_cls)
{
	char who[64];

	if (!*con_cls && accept_tls(c) != MHD_YES) {
		st.unauthorized++;
		log_warn_limited(&rl_auth,
				 "%s: %.16s %.200s: no valid client "
				 "certificate",
				 conn_who(c, who, sizeof who), method, url);
		return answer(c, 401, "Client certificate required\n");
	}
	return serve_handle(cls, c, url, method, version, upload, upload_size,
			    con_cls);
}

/* ---- the daemon ---- */

void
serve_peer_close(void)
{
	if (peer_fd > 1)
		close(peer_fd);
	peer_fd = -1;
}

/*
 * libmicrohttpd's own messages (a malformed request, a connection cut):
 * into the log as every other line, counted and rate-limited, since a
 * client can cause them at will.
 */
static void __attribute__((format(printf, 2, 0)))
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[400];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	st.http_errors++;
	log_warn_limited(&rl_mhd, "libmicrohttpd: %s", msg);
}

struct MHD_Daemon *
serve_start(unsigned flags, const struct sockaddr *sa, const char *cert,
	    const char *key, const char *ca)
{
	flags |= MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (sa && sa->sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (cert)
		flags |= MHD_USE_TLS;
	return MHD_start_daemon(
	    flags, 0, conn_accept, NULL, cert ? serve_handle_tls : serve_handle,
	    NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_NOTIFY_CONNECTION, conn_notify, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, serve_completed, NULL,
	    MHD_OPTION_CONNECTION_LIMIT, cf.max_conns,
	    MHD_OPTION_CONNECTION_TIMEOUT, cf.timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
	    sa ? MHD_OPTION_SOCK_ADDR : MHD_OPTION_END, sa,
	    cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
	    MHD_OPTION_HTTPS_MEM_KEY, key,
	    ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, ca,
	    MHD_OPTION_END);
}
