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
 * else (requests, signals, the pipes, the deadlines) runs in one poll loop.
 * This file is the options and the loop; http.c the handlers; conn.c the
 * limits on connections.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "hostport.h"
#include "metrics.h"
#include "opt.h"
#include "secret.h"
#include "serve.h"
#include "sig.h"
#include "store.h"

#define MAX_LISTEN 8

static const char usage_text[] =
    "usage: sync-serve -s STORE (-d DOMAINS.cdb | -A) [-p PEERINPUT]\n"
    "                  [-l ADDR:PORT]... [-x PREFIX]... [-T TOKENFILE] [-O]\n"
    "                  [-C CERT -K KEY [-a CLIENTCA]] [-b BYTES] [-F FETCHES]\n"
    "                  [-c CONNS] [-m PERADDR] [-t SECONDS] [-H SECONDS]\n"
    "                  [-D SECONDS] [-M METRICS]\n"
    "       sync-serve -h | -V\n";

static const struct metric metrics[] = {
    {"fetches_total", NULL, METRIC_COUNTER, "GET /fetch answered", &st.fetches},
    {"fetches_incremental_total", NULL, METRIC_COUNTER,
     "GET /fetch?since= answered", &st.fetches_incremental},
    {"fetch_errors_total", NULL, METRIC_COUNTER,
     "Fetches cut short by a store error", &st.fetch_errors},
    {"fetch_busy_total", NULL, METRIC_COUNTER,
     "Fetches refused (503): too many at once", &st.fetch_busy},
    {"fetch_deadline_total", NULL, METRIC_COUNTER,
     "Fetches cut off: not sent whole within -D seconds", &st.fetch_deadline},
    {"fetches_active", NULL, METRIC_GAUGE, "Fetches being streamed",
     &st.fetches_active},
    {"puts_total", NULL, METRIC_COUNTER, "PUT /put entries forwarded",
     &st.puts},
    {"put_rejected_total", NULL, METRIC_COUNTER,
     "PUT entries refused by validation (400)", &st.put_rejected},
    {"put_bad_total", NULL, METRIC_COUNTER,
     "PUT bodies that are not one JSON entry: empty, truncated, invalid (400)",
     &st.put_bad},
    {"put_toolarge_total", NULL, METRIC_COUNTER,
     "PUT bodies over the limit (413)", &st.put_toolarge},
    {"put_unavailable_total", NULL, METRIC_COUNTER,
     "PUT entries not forwarded: peer input unavailable (503)",
     &st.put_unavailable},
    {"unauthorized_total", NULL, METRIC_COUNTER,
     "Requests without the right token (401)", &st.unauthorized},
    {"bad_requests_total", NULL, METRIC_COUNTER,
     "Other requests refused (400, 404)", &st.bad_requests},
    {"connections_active", NULL, METRIC_GAUGE, "Connections open",
     &st.conns_active},
    {"connections_refused_total", NULL, METRIC_COUNTER,
     "Connections refused at accept: -c or -m reached", &st.conns_refused},
    {"request_deadline_total", NULL, METRIC_COUNTER,
     "Connections closed: a request not whole within -H seconds",
     &st.head_deadline},
    {"http_errors_total", NULL, METRIC_COUNTER,
     "libmicrohttpd's messages: malformed requests, connections cut",
     &st.http_errors},
};
#define NMETRICS (sizeof metrics / sizeof metrics[0])

static struct {
	const char *spec[MAX_LISTEN];
	struct sockaddr_storage ss[MAX_LISTEN];
	struct MHD_Daemon *d[MAX_LISTEN];
	int n;
} lsn;
static const char *token_from; /* the -T file, or "$SYNC_TOKEN" */
static char *pem_cert, *pem_key, *pem_ca;
static struct metrics_file mfile = {NULL, "sync-serve", metrics, NMETRICS, 0,
				    0};
static int sfd = -1;

static void
add_listen(const char *spec)
{
	char err[256];
	socklen_t len;

	if (lsn.n == MAX_LISTEN)
		opt_usage("-l: at most %d addresses", MAX_LISTEN);
	if (hostport_parse(spec, &lsn.ss[lsn.n], &len, err, sizeof err) == -1)
		opt_usage("-l %s: %s", spec, err);
	lsn.spec[lsn.n++] = spec;
}

static void
options(int argc, char **argv)
{
	int c;

	cf.max_put = 65536;
	cf.max_fetches = 4;
	cf.max_conns = 64;
	cf.per_addr = 8;
	cf.timeout_s = 60;
	cf.head_s = 20;
	cf.fetch_s = 300;
	mfile.path = getenv("METRICS_FILE");
	opterr = 0;
	while ((c = getopt(argc, argv,
			   ":a:Ab:c:C:d:D:F:hH:K:l:m:M:Op:s:t:T:Vx:")) != -1) {
		switch (c) {
		case 'a':
			cf.client_ca = optarg;
			break;
		case 'A':
			cf.any_name = 1;
			break;
		case 'b':
			cf.max_put =
			    (uint64_t)opt_number(optarg, 64, 1 << 24, "-b");
			break;
		case 'c':
			cf.max_conns =
			    (unsigned)opt_number(optarg, 1, 10000, "-c");
			break;
		case 'C':
			cf.cert = optarg;
			break;
		case 'd':
			cf.dlist_path = optarg;
			break;
		case 'D':
			cf.fetch_s =
			    (unsigned)opt_number(optarg, 1, 86400, "-D");
			break;
		case 'F':
			cf.max_fetches =
			    (unsigned)opt_number(optarg, 1, MAX_FETCHES, "-F");
			break;
		case 'h':
			opt_help();
		case 'H':
			cf.head_s = (unsigned)opt_number(optarg, 1, 3600, "-H");
			break;
		case 'K':
			cf.key = optarg;
			break;
		case 'l':
			add_listen(optarg);
			break;
		case 'm':
			cf.per_addr =
			    (unsigned)opt_number(optarg, 1, 10000, "-m");
			break;
		case 'M':
			mfile.path = optarg;
			break;
		case 'O':
			cf.open = 1;
			break;
		case 'p':
			cf.peer_input = optarg;
			break;
		case 's':
			cf.store_dir = optarg;
			break;
		case 't':
			cf.timeout_s =
			    (unsigned)opt_number(optarg, 1, 3600, "-t");
			break;
		case 'T':
			token_from = optarg;
			break;
		case 'V':
			/*
			 * -V was the client CA before 0.9 (now -a): "-V FILE"
			 * in an old run file must not print the version and
			 * exit 0 for the supervisor to restart every second.
			 */
			if (optind < argc && argv[optind][0] != '-')
				opt_usage("-V takes no argument; the client CA "
					  "is -a CLIENTCA since 0.9");
			opt_version();
		case 'x':
			if (cf.nexclude == MAX_EXCLUDE)
				opt_usage("-x: at most %d prefixes",
					  MAX_EXCLUDE);
			if (rec_addr_parse(&cf.exclude[cf.nexclude], optarg,
					   strlen(optarg), 1) == -1)
				opt_usage("-x %s: not an address or prefix",
					  optarg);
			cf.nexclude++;
			break;
		default:
			opt_bad(c);
		}
	}
	if (optind != argc)
		opt_usage("unexpected argument %s", argv[optind]);
	if (!cf.store_dir)
		opt_usage("-s STORE is required");
	if (!cf.dlist_path == !cf.any_name)
		opt_usage("one of -d DOMAINS.cdb and -A is required");
	if (!cf.cert != !cf.key)
		opt_usage("-C and -K go together");
	if (cf.client_ca && !cf.cert)
		opt_usage("-a needs -C and -K");
	if (lsn.n == 0)
		add_listen("127.0.0.1:8080");
}

/* The token, from -T or $SYNC_TOKEN, by lib/secret's rules. */
static void
read_token(void)
{
	char err[256];
	int permanent;

	cf.token = secret_token(token_from, "SYNC_TOKEN", &token_from, err,
				sizeof err, &permanent);
	if (!cf.token && *err)
		log_fatal(permanent ? EXIT_PERM : EXIT_TEMP,
			  "unable to use the token of %s: %s", token_from, err);
	cf.token_len = cf.token ? strlen(cf.token) : 0;
}

static char *
read_pem(const char *path)
{
	char err[256], *pem;
	size_t len;
	int permanent;

	if (!path)
		return NULL;
	if (!(pem = secret_file(path, 1 << 20, &len, err, sizeof err,
				&permanent)))
		log_fatal(permanent ? EXIT_PERM : EXIT_TEMP,
			  "unable to read %s: %s", path, err);
	return pem;
}

/*
 * Without a token or client certificates anyone who connects reads the
 * cache and pushes entries: only on loopback, unless -O says so.
 */
static const char *
access_policy(void)
{
	char a[HOSTPORT_MAX];
	int i;

	if (cf.token)
		return cf.client_ca ? "token and client certificate required"
				    : "token required";
	if (cf.client_ca)
		return "client certificate required";
	for (i = 0; i < lsn.n; i++) {
		if (hostport_loopback((struct sockaddr *)&lsn.ss[i]))
			continue;
		hostport_format(a, sizeof a, (struct sockaddr *)&lsn.ss[i]);
		if (!cf.open)
			log_fatal(
			    EXIT_PERM,
			    "refusing to serve %s without a "
			    "token: anyone who connects could read the cache "
			    "and push entries; give one (-T TOKENFILE or "
			    "$SYNC_TOKEN), require client certificates (-a), "
			    "or say -O to serve it open",
			    a);
		log_warn("serving %s open (-O): no token, no client "
			 "certificate: anyone who connects reads the cache and "
			 "pushes entries",
			 a);
		return "OPEN to anyone who connects (-O)";
	}
	return "no token: loopback only";
}

static void
setup(void)
{
	static const int sigs[] = {SIGTERM, SIGINT,  SIGHUP,
				   SIGUSR1, SIGCHLD, 0};
	char err[256], addrs[MAX_LISTEN * (HOSTPORT_MAX + 2)], a[HOSTPORT_MAX];
	const char *policy;
	struct store *st0;
	size_t o = 0;
	int i, permanent;

	read_token();
	policy = access_policy();
	if (cf.dlist_path && !(dl = dlist_open(cf.dlist_path, err, sizeof err)))
		log_fatal(errno == ENOENT ? EXIT_TEMP : EXIT_PERM,
			  "unable to open %s: %s", cf.dlist_path, err);
	/* the store must be there and readable now, not at the first fetch */
	if (!(st0 = store_open(cf.store_dir, STORE_READ, err, sizeof err,
			       &permanent)))
		log_fatal(permanent ? EXIT_PERM : EXIT_TEMP,
			  "unable to open %s: %s", cf.store_dir, err);
	store_close(&st0);
	pem_cert = read_pem(cf.cert);
	pem_key = read_pem(cf.key);
	pem_ca = read_pem(cf.client_ca);
	for (i = 0; i < MAX_FETCHES; i++)
		fetches[i].fd = -1;
	if ((sfd = sig_open(sigs)) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to set up signals");
	for (i = 0; i < lsn.n; i++) {
		lsn.d[i] = serve_start(0, (struct sockaddr *)&lsn.ss[i],
				       pem_cert, pem_key, pem_ca);
		hostport_format(a, sizeof a, (struct sockaddr *)&lsn.ss[i]);
		if (!lsn.d[i])
			log_fatal(EXIT_TEMP, "unable to listen on %s", a);
		o += (size_t)snprintf(addrs + o, sizeof addrs - o, "%s%s",
				      i ? " " : "", a);
	}
	log_info(
	    "listening on %s (%s, %s); serving %s; peer input %s; "
	    "names %s; limits: %u connections, %u per address, request %u s, "
	    "fetch %u s, %u fetches at once",
	    addrs, cf.cert ? "https" : "http", policy, cf.store_dir,
	    cf.peer_input ? cf.peer_input : "stdout",
	    cf.dlist_path ? cf.dlist_path : "any (-A)", cf.max_conns,
	    cf.per_addr, cf.head_s, cf.fetch_s, cf.max_fetches);
}

static void
reap(void)
{
	int status, i, expired;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		expired = 0;
		for (i = 0; i < MAX_FETCHES; i++) {
			if (fetches[i].pid == pid) {
				fetches[i].pid = 0;
				expired = fetches[i].expired;
			}
		}
		/* one cut off at its deadline is counted there */
		if (!expired &&
		    (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
			st.fetch_errors++;
	}
}

static void
write_metrics(int force)
{
	if (metrics_file_tick(&mfile, force) == -1)
		log_warn_sys("unable to write %s", mfile.path);
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

/* Resumes the fetches whose pipe has something (or its end) to send. */
static void
resume_fetches(const struct pollfd *pfd, struct fetch *const *pf, int nf)
{
	int i;

	for (i = 0; i < nf; i++) {
		if (pfd[i].revents && pf[i]->suspended) {
			pf[i]->suspended = 0;
			MHD_resume_connection(pf[i]->conn);
		}
	}
}

/* Until TERM or INT: returns the signal's name. */
static const char *
loop(void)
{
	struct pollfd pfd[1 + MAX_LISTEN + MAX_FETCHES];
	struct fetch *pf[MAX_FETCHES];
	time_t last_reload = time(NULL);
	int i, np, nf, sig;

	for (;;) {
		MHD_UNSIGNED_LONG_LONG mto, to = 1000;

		np = 0;
		pfd[np].fd = sfd, pfd[np++].events = POLLIN;
		for (i = 0; i < lsn.n; i++) {
			pfd[np].fd = MHD_get_daemon_info(
					 lsn.d[i], MHD_DAEMON_INFO_EPOLL_FD)
					 ->epoll_fd;
			pfd[np++].events = POLLIN;
			if (MHD_get_timeout(lsn.d[i], &mto) == MHD_YES &&
			    mto < to)
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
		resume_fetches(pfd + np - nf, pf, nf);
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
				return sig == SIGTERM ? "SIGTERM" : "SIGINT";
			}
		}
		conn_sweep(clock_mono_us());
		for (i = 0; i < lsn.n; i++)
			MHD_run(lsn.d[i]);
		write_metrics(0);
	}
}

int
main(int argc, char **argv)
{
	const char *why;
	int i;

	opt_init(argv[0], usage_text);
	options(argc, argv);
	setup();
	why = loop();

	for (i = 0; i < lsn.n; i++)
		MHD_stop_daemon(lsn.d[i]);
	for (i = 0; i < MAX_FETCHES; i++)
		if (fetches[i].pid > 0)
			kill(fetches[i].pid, SIGTERM);
	reap();
	write_metrics(1);
	log_info("exiting on %s: %llu fetches (%llu incremental, %llu "
		 "failed, %llu cut off), %llu puts forwarded, %llu refused, "
		 "%llu unauthorized, %llu connections refused, %llu closed at "
		 "the request deadline",
		 why, (unsigned long long)st.fetches,
		 (unsigned long long)st.fetches_incremental,
		 (unsigned long long)st.fetch_errors,
		 (unsigned long long)st.fetch_deadline,
		 (unsigned long long)st.puts,
		 (unsigned long long)(st.put_rejected + st.put_bad +
				      st.put_toolarge + st.put_unavailable),
		 (unsigned long long)st.unauthorized,
		 (unsigned long long)st.conns_refused,
		 (unsigned long long)st.head_deadline);
	serve_peer_close();
	dlist_close(&dl);
	free(cf.token);
	free(pem_cert);
	free(pem_key);
	free(pem_ca);
	close(sfd);
	return 0;
}
