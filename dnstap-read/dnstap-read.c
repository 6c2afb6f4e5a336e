/*
 * dnstap-read: DNSTap (Frame Streams of protobuf:dnstap.Dnstap) in, one
 * `answer` record per A/AAAA answer out (docs/records.md).
 *
 * Reads Frame Streams files (-r, "-" for stdin), or serves any number of
 * senders on UNIX and TCP sockets (-l) from one non-blocking poll loop: each
 * connection is a stream (stream.c: its own buffer bounded by the largest
 * frame, the bidirectional READY, ACCEPT, START, ..., STOP, FINISH or the
 * unidirectional START, ..., STOP handshake) and is closed alone when it
 * misbehaves, or when it holds its slot owing us the rest of a handshake or
 * of a frame for longer than -T seconds (a connection idle between frames is
 * healthy: resolvers keep theirs open for days). Each data frame becomes
 * records in frame.c. When stdout cannot take more, the loop stops reading
 * sockets (the DNS servers then drop on their side) instead of queueing:
 * memory stays bounded and the stall is counted. Nothing waits anywhere but
 * in the loop's poll: signals and -T work while stdout is blocked.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "frame.h"
#include "hostport.h"
#include "lineio.h"
#include "log.h"
#include "metrics.h"
#include "opt.h"
#include "sig.h"
#include "stream.h"

/*
 * Output is written in OUT_CAP batches; above OUT_HIGH buffered nothing more
 * is read. One turn of the loop reads at most READ_MAX bytes per sender and
 * stops reading senders once OUT_HIGH is reached, so the buffer never holds
 * more than OUT_HIGH and what one READ_MAX of frames makes.
 */
#define OUT_CAP (256 * 1024)
#define OUT_HIGH (64 * 1024)
#define READ_MAX (64 * 1024)
#define CONN_BUF_MIN (64 * 1024) /* initial per-connection buffer */
#define FILE_BUF (1024 * 1024)
#define MAX_LISTEN 16
#define METRICS_INTERVAL 10 /* seconds */
#define EXIT_FLUSH_MS 1000  /* how long TERM waits for a stuck stdout */

static const char usage_text[] =
    "usage: dnstap-read [-t TYPES] [-s MAXFRAME] [-M FILE] -r FILE ...\n"
    "       dnstap-read [-t TYPES] [-s MAXFRAME] [-M FILE] [-c MAXCONN]\n"
    "                   [-T TIMEOUT] [-m MODE] [-u USER[:GROUP]]\n"
    "                   -l PATH|ADDR:PORT ...\n"
    "       dnstap-read -h | -V\n";

static struct {
	uint64_t conns, conns_open, frames, skipped, records;
	uint64_t e_proto, e_dnstap, e_dns, e_size, e_ctype, e_handshake,
	    e_truncated, e_read, e_timeout;
	uint64_t stalls, stalled, cut, dropped;
} st;

static const struct metric metrics[] = {
    {"connections_total", NULL, METRIC_COUNTER, "Sender connections accepted",
     &st.conns},
    {"connections", NULL, METRIC_GAUGE, "Sender connections open",
     &st.conns_open},
    {"frames_total", NULL, METRIC_COUNTER, "Data frames received", &st.frames},
    {"frames_skipped_total", NULL, METRIC_COUNTER,
     "Frames of message types not selected", &st.skipped},
    {"records_total", NULL, METRIC_COUNTER, "Answer records written",
     &st.records},
    {"answers_cut_total", NULL, METRIC_COUNTER,
     "Answers cut short: CNAME loop, chain over 16, over 1024 addresses, "
     "records over the bounds",
     &st.cut},
    {"records_dropped_total", NULL, METRIC_COUNTER,
     "Records left out: over 256 per response, 2048 bytes per record or 32768 "
     "bytes per response",
     &st.dropped},
    {"errors_total", "kind=\"protobuf\"", METRIC_COUNTER, "Bad input by kind",
     &st.e_proto},
    {"errors_total", "kind=\"dnstap\"", METRIC_COUNTER, "Bad input by kind",
     &st.e_dnstap},
    {"errors_total", "kind=\"dns\"", METRIC_COUNTER, "Bad input by kind",
     &st.e_dns},
    {"errors_total", "kind=\"frame_size\"", METRIC_COUNTER, "Bad input by kind",
     &st.e_size},
    {"errors_total", "kind=\"content_type\"", METRIC_COUNTER,
     "Bad input by kind", &st.e_ctype},
    {"errors_total", "kind=\"handshake\"", METRIC_COUNTER, "Bad input by kind",
     &st.e_handshake},
    {"errors_total", "kind=\"truncated\"", METRIC_COUNTER, "Bad input by kind",
     &st.e_truncated},
    {"errors_total", "kind=\"read\"", METRIC_COUNTER, "Bad input by kind",
     &st.e_read},
    {"errors_total", "kind=\"timeout\"", METRIC_COUNTER, "Bad input by kind",
     &st.e_timeout},
    {"stalls_total", NULL, METRIC_COUNTER,
     "Times reading stopped because stdout was full", &st.stalls},
    {"stalled", NULL, METRIC_GAUGE,
     "1 while reading is stopped by back-pressure", &st.stalled},
};
#define NMETRICS (sizeof metrics / sizeof metrics[0])

static struct frame_ctx *fctx;
static struct lw out;
static size_t max_frame = 256 * 1024;
static int64_t io_timeout = 30 * 1000; /* ms; 0: never */
static const char *metrics_file;
static struct ratelimit rl_input = RATELIMIT_INIT;

static void
emit(void *arg, const char *line, size_t n)
{
	(void)arg;
	if (lw_put(&out, line, n) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to write to stdout");
}

/* One data frame from sender arg (a name): records out, errors counted. */
static void
frame_in(void *arg, const uint8_t *buf, size_t len)
{
	const char *from = arg;
	enum frame_res r;
	unsigned nrec;

	st.frames++;
	r = frame_records(fctx, buf, len, emit, NULL, &nrec);
	st.records += nrec;
	switch (r) {
	case FRAME_OK:
		if (frame_cut(fctx)) {
			st.cut++;
			st.dropped += frame_dropped(fctx);
			log_warn_limited(
			    &rl_input,
			    "%s: answer cut short: CNAME loop, chain over 16, "
			    "over 1024 addresses, or %u records over the "
			    "bounds",
			    from, frame_dropped(fctx));
		}
		return;
	case FRAME_SKIPPED:
		st.skipped++;
		return;
	case FRAME_E_PROTO:
		st.e_proto++;
		break;
	case FRAME_E_DNSTAP:
		st.e_dnstap++;
		break;
	default:
		st.e_dns++;
		break;
	}
	log_warn_limited(&rl_input, "%s: frame skipped: %s: %s", from,
			 frame_strerror(r), frame_detail(fctx));
}

static void
metrics_flush(void)
{
	if (metrics_file &&
	    metrics_write(metrics_file, "dnstap-read", metrics, NMETRICS) == -1)
		log_warn_sys("unable to write %s", metrics_file);
}

/* ---- sockets ---- */

struct listener {
	int fd;
	char name[128];
	char *path; /* UNIX: ours to unlink at exit while it is ours */
	dev_t dev;  /* the socket file we created */
	ino_t ino;
};

struct conn {
	int fd;
	char name[160];
	int closing;   /* close once the reply (FINISH) is written */
	int64_t since; /* owes us bytes since (ms), see conn_clock; 0: idle */
	struct stream s;
};

static struct listener listeners[MAX_LISTEN];
static size_t nlisteners;
static struct conn **conns;
static size_t nconns, maxconns = 256;

/*
 * Is a listener alive behind the socket file? A connect() that is accepted
 * or queued says yes (a live dnstap-read logs one connection that closes
 * at once); ECONNREFUSED says it is left from a run that is gone. 1 alive,
 * 0 stale or gone, -1 with errno when that cannot be told (EACCES...).
 */
static int
unix_alive(const struct sockaddr_un *sun)
{
	int fd, r, e;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	r = connect(fd, (const struct sockaddr *)sun, sizeof *sun);
	e = errno;
	close(fd);
	if (r == 0 || e == EAGAIN || e == EINPROGRESS)
		return 1;
	if (e == ECONNREFUSED || e == ENOENT)
		return 0;
	errno = e;
	return -1;
}

/*
 * Listens on a UNIX socket. A socket file left by a run that is gone is
 * replaced; one a live listener serves is never touched: -1 with errno
 * EADDRINUSE (the resolver keeps its connection to the one that serves).
 */
static int
listen_unix(struct listener *l, const char *path, long mode, uid_t uid,
	    gid_t gid)
{
	struct sockaddr_un sun;
	struct stat sb;
	int fd, e;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	/* Never remove anything but a socket, nor a live one. */
	if (lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode)) {
		switch (unix_alive(&sun)) {
		case 1:
			errno = EADDRINUSE;
			return -1;
		case -1:
			return -1;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1)
		goto fail;
	if (lstat(path, &sb) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	l->dev = sb.st_dev;
	l->ino = sb.st_ino;
	if ((mode >= 0 && chmod(path, (mode_t)mode) == -1) ||
	    ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	     chown(path, uid, gid) == -1) ||
	    listen(fd, 128) == -1) {
		e = errno;
		unlink(path);
		close(fd);
		errno = e;
		return -1;
	}
	l->fd = fd;
	l->path = strdup(path);
	snprintf(l->name, sizeof l->name, "unix:%s", path);
	return 0;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* Removes the socket file if it is still the one we created. */
static void
unlink_ours(const struct listener *l)
{
	struct stat sb;

	if (l->path && lstat(l->path, &sb) == 0 && sb.st_dev == l->dev &&
	    sb.st_ino == l->ino)
		unlink(l->path);
}

/*
 * Is spec HOST:PORT with a host name (a letter in it, not in brackets)?
 * Then host and port are filled. An address is lib/hostport's alone (its
 * rules: sync-serve's too); a name is looked up when listening.
 */
static int
tcp_name(const char *spec, char *host, size_t hostlen, const char **port)
{
	const char *err, *colon = strrchr(spec, ':'), *p;
	size_t hl;
	int alpha = 0;

	if (!colon || spec[0] == '[' || (hl = (size_t)(colon - spec)) == 0 ||
	    hl >= hostlen)
		return 0;
	for (p = spec; p < colon; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
			alpha = 1;
		else if (!(*p >= '0' && *p <= '9') && *p != '.' && *p != '-')
			return 0;
	}
	*port = colon + 1;
	(void)strtonum(*port, 1, 65535, &err); /* getaddrinfo takes 99999 */
	if (!alpha || err)
		return 0;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	return 1;
}

/*
 * Listens on TCP: -1 with a reason in why. A host name is looked up now
 * (the first address it has); one that does not resolve is a temporary
 * error like a failed bind: the resolver may come later. A bad address
 * was a usage error already (options).
 */
static int
listen_tcp(struct listener *l, const char *spec, char *why, size_t whylen)
{
	struct sockaddr_storage ss;
	struct addrinfo hints, *ai;
	socklen_t len;
	char host[256];
	const char *port;
	int fd, one = 1, e, r;

	if (tcp_name(spec, host, sizeof host, &port)) {
		memset(&hints, 0, sizeof hints);
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
		if ((r = getaddrinfo(host, port, &hints, &ai)) != 0) {
			snprintf(why, whylen, "%s",
				 r == EAI_SYSTEM ? strerror(errno)
						 : gai_strerror(r));
			return -1;
		}
		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		len = ai->ai_addrlen;
		freeaddrinfo(ai);
	} else if (hostport_parse(spec, &ss, &len, why, whylen) == -1) {
		errno = EINVAL;
		return -1;
	}
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
	    (ss.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) ==
		 -1) ||
	    bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, 128) == -1) {
		e = errno;
		if (fd != -1)
			close(fd);
		snprintf(why, whylen, "%s", strerror(e));
		return -1;
	}
	l->fd = fd;
	l->path = NULL;
	snprintf(l->name, sizeof l->name, "tcp:%s", spec);
	return 0;
}

static void
conn_accept(struct listener *l)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	struct ucred cred;
	socklen_t cl = sizeof cred;
	struct conn *c;
	int fd;

	fd = accept4(l->fd, (struct sockaddr *)&ss, &sl,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn_sys("%s: unable to accept", l->name);
		return;
	}
	if (!(c = calloc(1, sizeof *c)) ||
	    stream_init(&c->s, CONN_BUF_MIN, max_frame) == -1) {
		log_warn("%s: unable to accept: out of memory", l->name);
		free(c);
		close(fd);
		return;
	}
	c->fd = fd;
	c->since = clock_mono_ms(); /* the handshake is owed from now */
	if (ss.ss_family == AF_UNIX) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0)
			snprintf(c->name, sizeof c->name, "%s pid %ld", l->name,
				 (long)cred.pid);
		else
			snprintf(c->name, sizeof c->name, "%s", l->name);
	} else if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host,
			       serv, sizeof serv,
			       NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
		snprintf(c->name, sizeof c->name,
			 ss.ss_family == AF_INET6 ? "tcp:[%s]:%s" : "tcp:%s:%s",
			 host, serv);
	} else {
		snprintf(c->name, sizeof c->name, "%s", l->name);
	}
	conns[nconns++] = c;
	st.conns++;
	st.conns_open++;
	log_info("%s: connected", c->name);
}

static void
conn_free(struct conn *c)
{
	close(c->fd);
	stream_destroy(&c->s);
	free(c);
	st.conns_open--;
}

/* Counts and logs the stream's error; -1 (close it). */
static int
conn_fail(struct conn *c)
{
	static uint64_t *const counter[] = {
	    [STREAM_OK] = &st.e_handshake,
	    [STREAM_E_SIZE] = &st.e_size,
	    [STREAM_E_CTYPE] = &st.e_ctype,
	    [STREAM_E_HANDSHAKE] = &st.e_handshake,
	    [STREAM_E_NOMEM] = &st.e_read,
	};

	(*counter[c->s.err])++;
	log_warn_limited(&rl_input, "%s: closing connection: %s", c->name,
			 c->s.why);
	return -1;
}

/* Writes the queued control frames; EPIPE and the like are no error. */
static void
conn_write(struct conn *c)
{
	ssize_t k;

	while (c->s.wlen) {
		k = write(c->fd, c->s.wbuf, c->s.wlen);
		if (k == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				c->s.wlen = 0;
				c->closing = 1;
			}
			return;
		}
		memmove(c->s.wbuf, c->s.wbuf + k, c->s.wlen - (size_t)k);
		c->s.wlen -= (size_t)k;
	}
}

/*
 * Restarts or stops the clock of -T after a read. A connection owes us
 * bytes while its handshake is unfinished (timed from the accept), while a
 * frame is partly read (timed from the read that began it: a busy sender's
 * reads often end inside a frame, so each frame completed restarts the
 * clock) and while FINISH waits to be read. Between frames it owes nothing.
 */
static void
conn_clock(struct conn *c, int advanced)
{
	if (c->s.started && !c->closing && c->s.len == 0)
		c->since = 0;
	else if (!c->since || (advanced && c->s.started))
		c->since = clock_mono_ms();
}

/* Reads what the socket has. 0 keep the connection, -1 close it. */
static int
conn_read(struct conn *c)
{
	uint8_t *p;
	size_t room;
	ssize_t n;
	uint64_t frames = c->s.frames;
	int r, started = c->s.started;

	if (c->closing)
		return -1;
	p = stream_space(&c->s, &room);
	n = read(c->fd, p, room < READ_MAX ? room : READ_MAX);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		if (errno == ECONNRESET && c->s.len == 0)
			return -1; /* gone between frames: normal */
		st.e_read++;
		log_warn_limited(&rl_input, "%s: unable to read: %s", c->name,
				 strerror(errno));
		return -1;
	}
	if (n == 0) {
		/* Closing without STOP is normal (dnsdist, pdns do it);
		 * inside a frame it is not. */
		if (c->s.len) {
			st.e_truncated++;
			log_warn_limited(
			    &rl_input,
			    "%s: closing connection: closed in the middle of a "
			    "frame",
			    c->name);
		}
		return -1;
	}
	r = stream_input(&c->s, (size_t)n, frame_in, c->name);
	if (r == -1)
		return conn_fail(c);
	if (r == 1) {
		c->closing = 1;
		conn_write(c);
	} else if (c->s.wlen) {
		conn_write(c);
	}
	conn_clock(c, c->s.frames != frames || c->s.started != started);
	return 0;
}

/*
 * A connection that owed us bytes for -T: counted, logged, -1 (close it).
 * While reading is paused by back-pressure, a connection whose bytes wait
 * in its socket owes us nothing (we are the ones not reading): its clock
 * restarts; one with nothing waiting (stuck inside a frame, silent in its
 * handshake) still owes, and is closed on time. *next is lowered to this
 * connection's deadline.
 */
static int
conn_expired(struct conn *c, int paused, int64_t now, int64_t *next)
{
	const char *what;
	int waiting = 0;

	if (!io_timeout || !c->since)
		return 0;
	if (paused && (ioctl(c->fd, FIONREAD, &waiting) == -1 || waiting > 0))
		c->since = now;
	if (now - c->since < io_timeout) {
		if (c->since + io_timeout < *next)
			*next = c->since + io_timeout;
		return 0;
	}
	st.e_timeout++;
	if (!c->s.started)
		what = "handshake not finished";
	else if (c->closing)
		what = "FINISH not read";
	else
		what = "frame not finished";
	log_warn_limited(&rl_input, "%s: closing connection: %s in %lld s",
			 c->name, what, (long long)(io_timeout / 1000));
	return -1;
}

/* Writes what stdout takes now; exits 111 when the next stage is gone. */
static void
out_try(void)
{
	if (lw_flush(&out) == -1 && errno != EAGAIN)
		log_fatal_sys(EXIT_TEMP, "unable to write to stdout");
}

/*
 * Waits in poll, with the signals, until stdout holds at most below bytes:
 * 0; 1 when TERM or INT came (sigfd -1: no signals); -1 when the deadline
 * (monotonic ms, 0 none) passed first.
 */
static int
out_wait(int sigfd, size_t below, int64_t deadline)
{
	struct pollfd p[2];
	int64_t t;
	int s, timeout;

	for (;;) {
		out_try();
		if (lw_pending(&out) <= below)
			return 0;
		timeout = -1;
		if (deadline) {
			if ((t = deadline - clock_mono_ms()) <= 0)
				return -1;
			timeout = (int)t;
		}
		p[0] = (struct pollfd){.fd = out.fd, .events = POLLOUT};
		p[1] = (struct pollfd){.fd = sigfd, .events = POLLIN};
		if (poll(p, sigfd == -1 ? 1 : 2, timeout) == -1 &&
		    errno != EINTR)
			log_fatal_sys(EXIT_TEMP, "unable to poll");
		while (sigfd != -1 && (s = sig_next(sigfd)) > 0) {
			if (s == SIGTERM || s == SIGINT)
				return 1;
			if (s == SIGUSR1)
				metrics_log(metrics, NMETRICS);
		}
	}
}

/*
 * At TERM: what stdout takes within EXIT_FLUSH_MS. The rest is dropped
 * with a warning, as ipcache does: a next stage that does not read would
 * only hold the supervisor's stop up (the senders' frames are gone anyway).
 */
static void
out_last(void)
{
	if (out_wait(-1, 0, clock_mono_ms() + EXIT_FLUSH_MS) == -1) {
		log_warn("standard output blocked: %zu bytes not written",
			 lw_pending(&out));
		out.len = 0;
	}
}

/*
 * Replays one Frame Streams file through the same frame parser as the
 * sockets (libfstrm's file reader takes a file cut inside a frame for a
 * clean end): 0, or 1 when a signal said stop. Bad data exits 100 after the
 * records before it are written. While stdout is blocked the file waits
 * (and signals are still taken).
 */
static int
file_read(const char *path, int sigfd)
{
	struct stream sm;
	char name[256];
	const char *why = NULL;
	uint8_t *p;
	size_t room;
	ssize_t n;
	int fd = 0, r = 0, stop = 0;

	snprintf(name, sizeof name, "%s",
		 strcmp(path, "-") == 0 ? "stdin" : path);
	if (strcmp(path, "-") != 0 &&
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to open %s", path);
	if (stream_init(&sm, FILE_BUF, max_frame) == -1)
		log_fatal(EXIT_TEMP, "unable to allocate: out of memory");
	while (r == 0) {
		if (out_wait(sigfd, OUT_HIGH - 1, 0) == 1) {
			stop = 1;
			break;
		}
		p = stream_space(&sm, &room);
		n = read(fd, p, room < READ_MAX ? room : READ_MAX);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			log_fatal_sys(EXIT_TEMP, "unable to read %s", name);
		if (n == 0)
			break;
		/* A READY in a file gets an ACCEPT nobody reads. */
		sm.wlen = 0;
		r = stream_input(&sm, (size_t)n, frame_in, name);
	}
	if (r == -1) {
		if (sm.err == STREAM_E_SIZE)
			st.e_size++;
		else if (sm.err == STREAM_E_CTYPE)
			st.e_ctype++;
		else
			st.e_handshake++;
		why = sm.why;
	} else if (r == 0 && !stop && sm.len) {
		st.e_truncated++;
		why = "ends in the middle of a frame";
	}
	if (why) {
		if (out_wait(sigfd, 0, 0) == 1)
			out_last();
		metrics_flush();
		log_fatal(EXIT_PERM, "unable to read %s: %s", name, why);
	}
	if (fd != 0)
		close(fd);
	stream_destroy(&sm);
	return stop;
}

static void
conn_close(size_t i)
{
	log_info("%s: closed after %llu frames", conns[i]->name,
		 (unsigned long long)conns[i]->s.frames);
	conn_free(conns[i]);
	conns[i] = NULL;
}

/* The listening sockets, the connections and stdout into pfd; the count. */
static size_t
serve_pollfds(struct pollfd *pfd, int sigfd, int paused)
{
	size_t i, np = 0;

	pfd[np++] = (struct pollfd){.fd = sigfd, .events = POLLIN};
	pfd[np++] = (struct pollfd){.fd = lw_pending(&out) ? out.fd : -1,
				    .events = POLLOUT};
	for (i = 0; i < nlisteners; i++)
		pfd[np++] = (struct pollfd){
		    .fd = !paused && nconns < maxconns ? listeners[i].fd : -1,
		    .events = POLLIN};
	for (i = 0; i < nconns; i++) {
		struct conn *c = conns[i];
		short ev =
		    (short)((paused ? 0 : POLLIN) | (c->s.wlen ? POLLOUT : 0));

		/* Left out entirely while paused: a hung-up socket would
		 * wake poll at once, again and again. */
		pfd[np++] =
		    (struct pollfd){.fd = ev ? c->fd : -1, .events = ev};
	}
	return np;
}

/*
 * Serves the listeners until TERM or INT: the exit reason. Everything
 * waits in the one poll here; stdout is non-blocking.
 */
static const char *
serve(int sigfd)
{
	struct pollfd *pfd;
	size_t i, j, np, first_conn;
	int64_t next_metrics = clock_mono_ms() + METRICS_INTERVAL * 1000, t,
		now;
	int64_t next_expiry = INT64_MAX;
	int s, paused, timeout;
	const char *why = NULL;

	if (!(conns = calloc(maxconns, sizeof *conns)) ||
	    !(pfd = calloc(2 + MAX_LISTEN + maxconns, sizeof *pfd)))
		log_fatal(EXIT_TEMP, "unable to allocate: out of memory");

	while (!why) {
		out_try();
		paused = lw_pending(&out) >= OUT_HIGH;
		if (paused && !st.stalled)
			st.stalls++;
		st.stalled = (uint64_t)paused;

		np = serve_pollfds(pfd, sigfd, paused);
		first_conn = 2 + nlisteners;
		t = next_expiry;
		if (metrics_file && next_metrics < t)
			t = next_metrics;
		timeout = -1;
		if (t != INT64_MAX) {
			t -= clock_mono_ms();
			timeout = t < 0 ? 0 : t > 3600000 ? 3600000 : (int)t;
		}
		if (poll(pfd, np, timeout) == -1) {
			if (errno == EINTR)
				continue;
			log_fatal_sys(EXIT_TEMP, "unable to poll");
		}

		if (pfd[0].revents) {
			while ((s = sig_next(sigfd)) > 0) {
				if (s == SIGTERM)
					why = "SIGTERM";
				else if (s == SIGINT)
					why = "SIGINT";
				else if (s == SIGUSR1)
					metrics_log(metrics, NMETRICS);
			}
			if (why)
				break;
		}
		if (metrics_file && clock_mono_ms() >= next_metrics) {
			metrics_flush();
			next_metrics =
			    clock_mono_ms() + METRICS_INTERVAL * 1000;
		}
		out_try();
		for (i = 0; i < nlisteners; i++)
			if (pfd[2 + i].revents & POLLIN)
				for (j = 0; j < 16 && nconns < maxconns; j++) {
					size_t before = nconns;

					conn_accept(&listeners[i]);
					if (nconns == before)
						break;
				}
		/* Connections accepted just now are not in pfd: only the
		 * first (np - first_conn) are looked at. Once stdout holds
		 * OUT_HIGH the others wait for the next turn. */
		for (i = 0; i < np - first_conn; i++) {
			struct conn *c = conns[i];
			short re = pfd[first_conn + i].revents;
			int gone = 0;

			if (!re)
				continue;
			if (re & POLLOUT)
				conn_write(c);
			if ((re & (POLLIN | POLLHUP | POLLERR)) &&
			    lw_pending(&out) < OUT_HIGH)
				gone = conn_read(c) == -1;
			if (c->closing && c->s.wlen == 0)
				gone = 1;
			if (gone)
				conn_close(i);
		}
		/* All of them, those accepted just now too: their
		 * handshake clock runs. */
		now = clock_mono_ms();
		next_expiry = INT64_MAX;
		for (i = 0; i < nconns; i++)
			if (conns[i] && conn_expired(conns[i], paused, now,
						     &next_expiry) == -1)
				conn_close(i);
		for (i = j = 0; i < nconns; i++)
			if (conns[i])
				conns[j++] = conns[i];
		nconns = j;
	}
	out_last();
	for (i = 0; i < nconns; i++)
		conn_free(conns[i]);
	for (i = 0; i < nlisteners; i++) {
		close(listeners[i].fd);
		unlink_ours(&listeners[i]);
		free(listeners[i].path);
	}
	free(conns);
	free(pfd);
	return why;
}

/* "client,resolver,forwarder" to FRAME_T_ bits; 0 when bad. */
static unsigned
types_parse(const char *s)
{
	unsigned t = 0;
	size_t n;

	while (*s) {
		n = strcspn(s, ",");
		if (n == 6 && strncmp(s, "client", n) == 0)
			t |= FRAME_T_CLIENT;
		else if (n == 8 && strncmp(s, "resolver", n) == 0)
			t |= FRAME_T_RESOLVER;
		else if (n == 9 && strncmp(s, "forwarder", n) == 0)
			t |= FRAME_T_FORWARDER;
		else
			return 0;
		s += n;
		if (*s == ',' && *++s == '\0')
			return 0;
	}
	return t;
}

/* USER[:GROUP], names or numbers; -1 when unknown. */
static int
owner_parse(char *s, uid_t *uid, gid_t *gid)
{
	char *g = strchr(s, ':');
	struct passwd *pw;
	struct group *gr;
	const char *err;
	long long v;

	if (g)
		*g++ = '\0';
	if (*s) {
		if ((pw = getpwnam(s))) {
			*uid = pw->pw_uid;
			if (!g)
				*gid = pw->pw_gid;
		} else {
			v = strtonum(s, 0, 0x7fffffff, &err);
			if (err)
				return -1;
			*uid = (uid_t)v;
		}
	}
	if (g && *g) {
		if ((gr = getgrnam(g))) {
			*gid = gr->gr_gid;
		} else {
			v = strtonum(g, 0, 0x7fffffff, &err);
			if (err)
				return -1;
			*gid = (gid_t)v;
		}
	}
	return 0;
}

/* The command line. */
static struct {
	const char *files[64], *lspec[MAX_LISTEN];
	size_t nfiles, nl;
	unsigned types;
	long mode;
	uid_t uid;
	gid_t gid;
} cf = {
    .types = FRAME_T_CLIENT, .mode = -1, .uid = (uid_t)-1, .gid = (gid_t)-1};

static void
options(int argc, char **argv)
{
	char host[256], err[256], *end;
	struct sockaddr_storage ss;
	socklen_t sl;
	const char *port;
	int c;

	opt_init("dnstap-read", usage_text);
	opterr = 0;
	metrics_file = getenv("METRICS_FILE");
	if (metrics_file && !*metrics_file)
		metrics_file = NULL;
	while ((c = getopt(argc, argv, ":c:hl:M:m:r:s:T:t:u:V")) != -1) {
		switch (c) {
		case 'c':
			maxconns = (size_t)opt_number(optarg, 1, 65536, "-c");
			break;
		case 'h':
			opt_help();
		case 'l':
			if (cf.nl == MAX_LISTEN)
				opt_usage("at most %d -l", MAX_LISTEN);
			/* A path has a slash; a name is looked up later. */
			if (!strchr(optarg, '/') &&
			    !tcp_name(optarg, host, sizeof host, &port) &&
			    hostport_parse(optarg, &ss, &sl, err, sizeof err) ==
				-1)
				opt_usage("-l %s: %s", optarg, err);
			cf.lspec[cf.nl++] = optarg;
			break;
		case 'M':
			metrics_file = *optarg ? optarg : NULL;
			break;
		case 'm':
			errno = 0;
			cf.mode = strtol(optarg, &end, 8);
			if (errno || *end || !*optarg || cf.mode < 0 ||
			    cf.mode > 07777)
				opt_usage("-m %s: not an octal mode", optarg);
			break;
		case 'r':
			if (cf.nfiles == sizeof cf.files / sizeof cf.files[0])
				opt_usage("too many -r");
			cf.files[cf.nfiles++] = optarg;
			break;
		case 's':
			max_frame =
			    (size_t)opt_number(optarg, 1024, 16777216, "-s");
			break;
		case 'T':
			io_timeout = opt_number(optarg, 0, 86400, "-T") * 1000;
			break;
		case 't':
			if (!(cf.types = types_parse(optarg)))
				opt_usage("-t %s: want client, resolver, "
					  "forwarder, comma-separated",
					  optarg);
			break;
		case 'u':
			if (owner_parse(optarg, &cf.uid, &cf.gid) == -1)
				opt_usage("-u %s: unknown user or group",
					  optarg);
			break;
		case 'V':
			opt_version();
		default:
			opt_bad(c);
		}
	}
	if (optind != argc)
		opt_usage("unexpected argument %s", argv[optind]);
	if ((cf.nfiles == 0) == (cf.nl == 0))
		opt_usage("give -r FILE or -l ADDRESS (not both)");
}

/* Opens every -l; on failure removes the socket files made so far. */
static void
setup_listeners(void)
{
	char why[256], names[512];
	size_t i, k = 0;
	int r, e;

	for (i = 0; i < cf.nl; i++) {
		struct listener *l = &listeners[nlisteners];

		why[0] = '\0';
		if (strchr(cf.lspec[i], '/'))
			r = listen_unix(l, cf.lspec[i], cf.mode, cf.uid,
					cf.gid);
		else
			r = listen_tcp(l, cf.lspec[i], why, sizeof why);
		if (r == -1) {
			e = errno;
			while (nlisteners)
				unlink_ours(&listeners[--nlisteners]);
			if (!why[0])
				snprintf(why, sizeof why, "%s",
					 e == EADDRINUSE &&
						 strchr(cf.lspec[i], '/')
					     ? "a live listener is serving it "
					       "(another "
					       "dnstap-read?); left alone"
					     : strerror(e));
			log_fatal(e == ENAMETOOLONG ? EXIT_PERM : EXIT_TEMP,
				  "unable to listen on %s: %s", cf.lspec[i],
				  why);
		}
		nlisteners++;
		k += (size_t)snprintf(names + k,
				      k < sizeof names ? sizeof names - k : 0,
				      "%s%s", i ? ", " : "", l->name);
	}
	log_info("listening on %s; answer records to stdout", names);
}

int
main(int argc, char **argv)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, 0};
	const char *why = "end of input";
	size_t i;
	int sigfd;

	options(argc, argv);
	if (lw_init(&out, 1, OUT_CAP) == -1 ||
	    !(fctx = frame_ctx_init(cf.types, max_frame)))
		log_fatal(EXIT_TEMP, "unable to allocate: out of memory");
	if ((sigfd = sig_open(sigs)) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to set up signals");
	/* Never block on stdout: the loops wait for it in their poll. */
	if (lw_nonblock(&out) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to set stdout non-blocking");
	if (cf.nl) {
		setup_listeners();
		why = serve(sigfd);
	} else {
		log_info("reading %zu file%s; answer records to stdout",
			 cf.nfiles, cf.nfiles == 1 ? "" : "s");
		for (i = 0; i < cf.nfiles; i++)
			if (file_read(cf.files[i], sigfd)) {
				why = "signal";
				out_last();
				break;
			}
		if (out_wait(sigfd, 0, 0) == 1)
			out_last();
	}
	metrics_flush();
	log_info("exiting (%s): %llu connections, %llu frames, %llu records, "
		 "%llu errors, %llu stalls",
		 why, (unsigned long long)st.conns,
		 (unsigned long long)st.frames, (unsigned long long)st.records,
		 (unsigned long long)(st.e_proto + st.e_dnstap + st.e_dns +
				      st.e_size + st.e_ctype + st.e_handshake +
				      st.e_truncated + st.e_read +
				      st.e_timeout),
		 (unsigned long long)st.stalls);
	lw_destroy(&out);
	frame_ctx_destroy(&fctx);
	close(sigfd);
	return 0;
}
