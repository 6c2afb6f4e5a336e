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
 * else (requests, signals, the pipes) runs in one poll loop. This file is
 * the loop; http.c the handlers.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "serve.h"
#include "sig.h"
#include "store.h"

#define MAX_LISTEN 8

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
static void
usage(void)
{
	log_fatal(EXIT_PERM, "usage: sync-serve -s STORE (-d DOMAINS.cdb | -A) "
	    "[-p PEERINPUT] [-l ADDR:PORT]... [-x PREFIX]... [-b BYTES] "
	    "[-F FETCHES] [-c CONNS] [-t SECONDS] [-T TOKENFILE] "
	    "[-C CERT -K KEY [-V CLIENTCA]] [-M METRICS]");
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

/*
 * The domain list, looked at once a second (asked NULL) and reopened on
 * SIGHUP: lib/dlist's one policy and messages.
 */
static void
reload_list(const char *asked)
{
	char msg[1024];
	enum dlist_event ev;

	if (dl && (ev = dlist_reload(&dl, cf.dlist_path, asked, msg,
				     sizeof msg)) != DLIST_SAME)
		(ev == DLIST_LOADED ? log_info : log_warn)("%s", msg);
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
	time_t last_reload;
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
		    cf.cert ? serve_handle_tls : serve_handle, NULL,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss[i],
		    MHD_OPTION_CONNECTION_LIMIT, cf.max_conns,
		    MHD_OPTION_CONNECTION_TIMEOUT, cf.timeout_s,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
		    MHD_OPTION_NOTIFY_COMPLETED, serve_completed, NULL,
		    cf.cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
		    pem_cert, MHD_OPTION_HTTPS_MEM_KEY, pem_key,
		    pem_ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, pem_ca,
		    MHD_OPTION_END);
		if (!d[i])
			log_fatal(EXIT_TEMP, "unable to listen on %s", listen[i]);
	}
	log_info("listening on %s%s", listen[0], nlisten > 1 ? " and more" : "");

	last_reload = time(NULL);
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
		if (time(NULL) != last_reload) {
			reload_list(NULL);
			last_reload = time(NULL);
		}
		while ((sig = sig_next(sfd)) > 0) {
			if (sig == SIGUSR1) {
				metrics_log(metrics, NMETRICS);
			} else if (sig == SIGCHLD) {
				reap();
			} else if (sig == SIGHUP) {
				reload_list("SIGHUP");
				serve_peer_close();
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
	serve_peer_close();
	dlist_close(&dl);
	free(cf.token);
	free(pem_cert);
	free(pem_key);
	free(pem_ca);
	close(sfd);
	return 0;
}
