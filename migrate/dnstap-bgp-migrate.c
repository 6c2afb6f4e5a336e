/*
 * dnstap-bgp-migrate: converts the Go dnstap-bgp daemon's TOML
 * configuration into this toolkit's configuration directory.
 *
 *   dnstap-bgp-migrate [-e ENVFILE] CONFIG.toml DIR
 *
 * Reads CONFIG.toml (toml.h: the subset the Go daemon's file uses; keys
 * matched without case, as its decoder does) and, with -e, the daemon's
 * systemd EnvironmentFile (NAMESPACE: its network namespace). Writes into
 * DIR, which must be new or empty, the envdir files that differ from the
 * installed defaults (env/, bgp-announce/, sync-pull/), a cron.d file for
 * domain-update, and "services", the services to run. On stdout: one line
 * per setting, what it became or why it could not be mapped, then the
 * steps left. A file the Go daemon itself would refuse (a missing domain
 * list, [dnstap] or [bgp], a value of the wrong type) is refused: exit 100,
 * nothing written.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "opt.h"
#include "toml.h"

#define MAX_FILES 96
#define MAX_CONFIG (1 << 20)

static const char usage_text[] =
    "usage: dnstap-bgp-migrate [-e ENVFILE] CONFIG.toml DIR\n"
    "  CONFIG.toml  the Go dnstap-bgp daemon's configuration\n"
    "  DIR          a new directory for this toolkit's configuration\n"
    "  -e ENVFILE   the Go daemon's EnvironmentFile (NAMESPACE=...)\n";

/* The defaults these options start from (scripts/conf/env). */
#define IPCACHE_DEFAULT                                                        \
	"-s $DNSTAP_BGP_STATEDIR/cache -d $DNSTAP_BGP_STATEDIR/domains.cdb "   \
	"-p $DNSTAP_BGP_RUNDIR/peer"
#define SYNC_SERVE_DEFAULT                                                     \
	"-s $DNSTAP_BGP_STATEDIR/cache -d $DNSTAP_BGP_STATEDIR/domains.cdb "   \
	"-p $DNSTAP_BGP_RUNDIR/peer"
#define SYNC_PULL_DEFAULT                                                      \
	"-o $DNSTAP_BGP_RUNDIR/peer -s $DNSTAP_BGP_STATEDIR/sync-pull "        \
	"-w $DNSTAP_BGP_STATEDIR/sync-pull -d "                                \
	"$DNSTAP_BGP_STATEDIR/domains.cdb "                                    \
	"-p $DNSTAP_BGP_STATEDIR/cache"

struct file {
	char path[64];
	char *value;
};

static struct toml t;
static unsigned char *used;
static const char *config;
static struct file files[MAX_FILES];
static size_t nfiles;
static char *report;
static size_t report_len, report_cap;
static unsigned mapped, unmapped;

static void __attribute__((format(printf, 1, 2))) out(const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(report + report_len, report_cap - report_len, fmt,
			      ap);
		va_end(ap);
		if (n < 0)
			log_fatal(EXIT_TEMP, "unable to format the report");
		if ((size_t)n < report_cap - report_len)
			break;
		report_cap = (report_cap + (size_t)n) * 2;
		if (!(report = realloc(report, report_cap)))
			log_fatal(EXIT_TEMP, "unable to allocate memory");
	}
	report_len += (size_t)n;
}

/* A file of DIR: "env/IPCACHE_OPTS", its one-line value (replaced). */
static void __attribute__((format(printf, 2, 3)))
set(const char *path, const char *fmt, ...)
{
	va_list ap;
	size_t i;
	char *v;

	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) == -1)
		log_fatal(EXIT_TEMP, "unable to allocate memory");
	va_end(ap);
	for (i = 0; i < nfiles; i++)
		if (strcmp(files[i].path, path) == 0)
			break;
	if (i == nfiles) {
		if (nfiles == MAX_FILES)
			log_fatal(EXIT_PERM, "too many settings");
		snprintf(files[nfiles++].path, sizeof files[0].path, "%s",
			 path);
	}
	free(files[i].value);
	files[i].value = v;
}

static const char *
value_of(const char *path)
{
	size_t i;

	for (i = 0; i < nfiles; i++)
		if (strcmp(files[i].path, path) == 0)
			return files[i].value;
	return NULL;
}

/* s, printable: other bytes as \xHH (the report quotes outside input). */
static const char *
show(const char *s)
{
	static char buf[4][1024];
	static int k;
	char *b = buf[k++ % 4];
	size_t o = 0;

	for (; *s && o + 5 < sizeof buf[0]; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
			b[o++] = (char)c;
		else
			o += (size_t)snprintf(b + o, 5, "\\x%02x", c);
	}
	b[o] = '\0';
	return b;
}

/*
 * One line of the report about kv (NULL: no key to name): what it became
 * when ok, else why it could not be mapped.
 */
static void __attribute__((format(printf, 3, 4)))
say(const struct toml_kv *kv, int ok, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (kv)
		out("%s%s%s (line %d)%s%s\n", kv->table, *kv->table ? "." : "",
		    show(kv->key), kv->line,
		    ok ? " -> " : ": not mapped: ", what);
	else
		out("%s%s\n", ok ? "" : "not mapped: ", what);
	if (ok)
		mapped++;
	else
		unmapped++;
}

static void __attribute__((format(printf, 2, 3), noreturn))
refuse(const struct toml_kv *kv, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (kv)
		log_fatal(EXIT_PERM,
			  "%s:%d: %s%s%s: %s (the Go daemon refuses "
			  "it too); nothing written",
			  config, kv->line, kv->table, *kv->table ? "." : "",
			  show(kv->key), why);
	log_fatal(EXIT_PERM,
		  "%s: %s (the Go daemon refuses it too); nothing "
		  "written",
		  config, why);
}

/* The key of a table, matched without case as the Go decoder does. */
static struct toml_kv *
get(const char *table, const char *key)
{
	struct toml_kv *found = NULL;
	size_t i;

	for (i = 0; i < t.n; i++)
		if (strcasecmp(t.kv[i].table, table) == 0 &&
		    strcasecmp(t.kv[i].key, key) == 0) {
			if (found)
				log_fatal(EXIT_PERM,
					  "%s:%d: %s%s%s: given "
					  "twice (keys are matched "
					  "without case); nothing "
					  "written",
					  config, t.kv[i].line, t.kv[i].table,
					  *t.kv[i].table ? "." : "",
					  show(t.kv[i].key));
			found = &t.kv[i];
			used[i] = 1;
		}
	return found;
}

static int
has_table(const char *table)
{
	size_t i;

	for (i = 0; i < t.ntables; i++)
		if (strcasecmp(t.tables[i], table) == 0)
			return 1;
	return 0;
}

/* A string value, or refused; NULL when absent. */
static const char *
str(const struct toml_kv *kv)
{
	const char *c;

	if (!kv)
		return NULL;
	if (kv->v.type != TOML_STRING)
		refuse(kv, "a string expected");
	for (c = kv->v.s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			refuse(kv, "a control character in the value");
	return kv->v.s;
}

static int
is_ip4(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1;
}

static int
is_ip6(const char *s)
{
	struct in6_addr a;

	return inet_pton(AF_INET6, s, &a) == 1;
}

/* A value that is safe in an envdir file read as a command line. */
static int
plain_word(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("/._-:[]%@+,=", *s)))
			return 0;
	return 1;
}

/*
 * Go's time.ParseDuration for what configurations hold: [+-] then one or
 * more DECIMAL UNIT, UNIT one of ns us µs ms s m h. Seconds in *sec.
 */
static int
go_duration(const char *s, double *sec)
{
	static const struct {
		const char *u;
		double f;
	} units[] = {{"ns", 1e-9},	  {"us", 1e-6}, {"\xc2\xb5s", 1e-6},
		     {"\xce\xbcs", 1e-6}, {"ms", 1e-3}, {"s", 1},
		     {"m", 60},		  {"h", 3600}};
	double total = 0, v, frac;
	int neg = 0, digits;
	size_t i, n;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*sec = 0;
		return 0;
	}
	if (!*s)
		return -1;
	while (*s) {
		v = 0;
		digits = 0;
		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (*s++ - '0');
			digits++;
		}
		if (*s == '.') {
			s++;
			for (frac = 0.1; *s >= '0' && *s <= '9'; frac /= 10) {
				v += (*s++ - '0') * frac;
				digits++;
			}
		}
		if (!digits)
			return -1;
		for (i = 0; i < sizeof units / sizeof units[0]; i++) {
			n = strlen(units[i].u);
			/* "m" must not take the m of "ms". */
			if (strncmp(s, units[i].u, n) == 0 &&
			    !(n == 1 && s[0] == 'm' && s[1] == 's'))
				break;
		}
		if (i == sizeof units / sizeof units[0])
			return -1;
		s += strlen(units[i].u);
		total += v * units[i].f;
		if (total > 9.2e9) /* Go's limit, about 292 years */
			return -1;
	}
	*sec = neg ? -total : total;
	return 0;
}

static void
top_level(void)
{
	const struct toml_kv *kv;
	const char *v;
	char ipc[512];
	double sec = 86400;
	int v6;

	/* domains: the list, compiled from cron by domain-update. */
	kv = get("", "domains");
	v = str(kv);
	if (!v || !*v)
		refuse(kv, "no domain list (domains = \"PATH\")");
	if (!plain_word(v))
		say(kv, 0,
		    "the path \"%s\" has characters an envdir "
		    "value cannot hold; set DOMAIN_SOURCES in "
		    "cron.d/dnstap-bgp by hand",
		    show(v));
	else {
		set("cron.d/dnstap-bgp",
		    "# cron.d: the domain list, rebuilt every 30 minutes "
		    "(domain-update(8));\n"
		    "# written by dnstap-bgp-migrate from the Go daemon's "
		    "list. Copy to\n"
		    "# /etc/cron.d/dnstap-bgp and run the command once by "
		    "hand first.\n"
		    "DOMAIN_CDB=/var/lib/dnstap-bgp/domains.cdb\n"
		    "DOMAIN_SOURCES=default=%s\n"
		    "*/30 * * * * dnstap-bgp dnstap-bgp domain-update",
		    v);
		say(kv, 1,
		    "cron.d/dnstap-bgp: DOMAIN_SOURCES=default=%s "
		    "(domain-update compiles it into "
		    "/var/lib/dnstap-bgp/domains.cdb; the same "
		    "plain list, a name matching itself and all "
		    "below it)",
		    show(v));
	}

	snprintf(ipc, sizeof ipc, "%s", IPCACHE_DEFAULT);
	if ((kv = get("", "ttl")) && (v = str(kv))) {
		if (go_duration(v, &sec) == -1) {
			say(kv, 0,
			    "\"%s\" is not a Go duration: the Go "
			    "daemon logged that and used 24h; so "
			    "does ipcache (-L 86400)",
			    show(v));
			sec = 86400;
		} else if (sec < 1) {
			say(kv, 0,
			    "\"%s\": a lifetime under a second; "
			    "ipcache keeps its default, -L 86400",
			    show(v));
			sec = 86400;
		} else {
			sec = ceil(sec);
			say(kv, 1,
			    "env/IPCACHE_OPTS: -L %.0f (seconds an "
			    "address stays after its last answer)",
			    sec);
		}
	}
	if (sec != 86400)
		snprintf(ipc + strlen(ipc), sizeof ipc - strlen(ipc),
			 " -L %.0f", sec);
	v6 = 0;
	if ((kv = get("", "ipv6"))) {
		if (kv->v.type != TOML_BOOL)
			refuse(kv, "true or false expected");
		v6 = kv->v.b;
	}
	if (!v6) {
		snprintf(ipc + strlen(ipc), sizeof ipc - strlen(ipc),
			 " -x ::/0");
		if (kv)
			say(kv, 1,
			    "env/IPCACHE_OPTS: -x ::/0 (no IPv6 "
			    "address is cached or announced, as "
			    "the Go daemon without ipv6)");
		else
			out("ipv6 (not set, so false) -> env/IPCACHE_OPTS: "
			    "-x ::/0 (no IPv6 address is cached or "
			    "announced)\n");
	} else
		say(kv, 1,
		    "IPv6 addresses cached and announced (the "
		    "toolkit's default)");
	set("env/IPCACHE_OPTS", "%s", ipc);

	if ((kv = get("", "cache"))) {
		str(kv);
		say(kv, 0,
		    "the Bolt file %s is not read: the cache comes "
		    "over with one pull from the running Go "
		    "daemon's /fetch (see below)",
		    show(kv->v.s));
	}
}

static void
dnstap(void)
{
	const struct toml_kv *kv, *perm;
	const char *v, *p = NULL;
	char opts[512], mode[8] = "0660", host[256];
	const char *colon;
	long m;
	char *end;

	if (!has_table("dnstap"))
		refuse(NULL, "no [dnstap] table");
	kv = get("dnstap", "listen");
	v = str(kv);
	if (!v || !*v)
		refuse(kv, "no DNSTap address (listen = \"PATH\" or "
			   "\"ADDR:PORT\")");
	if ((perm = get("dnstap", "perm")) && (p = str(perm)) && *p) {
		errno = 0;
		m = strtol(p, &end, 8);
		if (errno || *end || m < 0 || m > 0777)
			refuse(perm, "not an octal file mode");
		snprintf(mode, sizeof mode, "0%03lo", m);
	}
	colon = strrchr(v, ':');
	if (!strchr(v, '/') && colon) {
		/* ADDR:PORT (Go tries TCP first; a path has a slash). */
		snprintf(host, sizeof host, "%.*s", (int)(colon - v), v);
		if (*host == '\0')
			snprintf(opts, sizeof opts, "-l 0.0.0.0%s", colon);
		else if (is_ip4(host) ||
			 (host[0] == '[' && host[strlen(host) - 1] == ']'))
			snprintf(opts, sizeof opts, "-l %s", v);
		else {
			say(kv, 0,
			    "\"%s\": dnstap-read listens on "
			    "addresses, not host names; set -l in "
			    "env/DNSTAP_READ_OPTS by hand",
			    show(v));
			return;
		}
		say(kv, 1, "env/DNSTAP_READ_OPTS: %s (TCP)", opts);
		if (perm)
			say(perm, 0,
			    "a mode for a UNIX socket; listen is "
			    "TCP (the Go daemon ignored it too)");
	} else {
		if (!plain_word(v)) {
			say(kv, 0,
			    "the path \"%s\" has characters an "
			    "envdir value cannot hold",
			    show(v));
			return;
		}
		snprintf(opts, sizeof opts, "-l %s%s -m %s",
			 v[0] == '/' ? "" : "./", v, mode);
		say(kv, 1,
		    "env/DNSTAP_READ_OPTS: -l %s%s (the same "
		    "socket: the resolver needs no change; "
		    "dnstap-read takes it over once the Go daemon "
		    "has stopped)",
		    v[0] == '/' ? "" : "./", show(v));
		if (perm && p && *p)
			say(perm, 1, "env/DNSTAP_READ_OPTS: -m %s", mode);
		else
			out("dnstap.perm (not set) -> env/DNSTAP_READ_OPTS: "
			    "-m 0660 (the toolkit's default; give the "
			    "resolver's user the group, or -u)\n");
	}
	set("env/DNSTAP_READ_OPTS", "%s", opts);
	if ((kv = get("dnstap", "ipv6")))
		say(kv, 0,
		    "set by the Go daemon from the top-level ipv6 "
		    "whatever is written here");
}

static void
bgp(void)
{
	const struct toml_kv *kv, *rid, *src, *nh, *nh6, *peers;
	const char *v, *s;
	char names[1024] = "", name[16], host[256], path[64];
	long long as;
	size_t i, n = 0;
	int v6 = 0;
	char *end;
	long port;

	if (!has_table("bgp"))
		refuse(NULL, "no [bgp] table");
	kv = get("bgp", "as");
	if (!kv)
		refuse(NULL, "no BGP AS ([bgp] as = NUMBER)");
	if (kv->v.type != TOML_INT)
		refuse(kv, "an integer expected");
	as = kv->v.i;
	if (as < 1 || as > 4294967295LL)
		refuse(kv, "not an AS number (1 to 4294967295)");
	set("bgp-announce/LOCAL_AS", "%lld", as);
	set("bgp-announce/REMOTE_AS", "%lld", as);
	say(kv, 1,
	    "bgp-announce/LOCAL_AS=%lld, REMOTE_AS=%lld (iBGP, "
	    "as the Go daemon peers)",
	    as, as);

	rid = get("bgp", "routerID");
	src = get("bgp", "sourceIP");
	if ((v = str(rid)) && *v) {
		if (!is_ip4(v))
			refuse(rid, "not an IPv4 address");
		set("bgp-announce/ROUTER_ID", "%s", v);
		say(rid, 1, "bgp-announce/ROUTER_ID=%s", v);
	}
	if ((s = str(src)) && *s && is_ip6(s)) {
		/* The peers are IPv4 (Go splits HOST:PORT at the first ':'). */
		say(src, 0,
		    "%s: an IPv6 address to reach IPv4 peers "
		    "from (the Go daemon could not connect from it "
		    "either)",
		    show(s));
		s = NULL;
	} else if (s && *s) {
		if (!is_ip4(s) && !is_ip6(s))
			refuse(src, "not an IP address");
		set("bgp-announce/SOURCE", "%s", s);
		say(src, 1,
		    "bgp-announce/SOURCE=%s (while both speakers "
		    "run, ours needs another address: the routers "
		    "tell neighbors apart by address)",
		    s);
	}
	if ((!v || !*v) && (!s || !*s || !is_ip4(s)))
		say(rid, 0,
		    "no router id: set ROUTER_ID in "
		    "bgp-announce/ (an IPv4 address)");
	if ((nh = get("bgp", "nextHop")) && (v = str(nh)) && *v) {
		if (!is_ip4(v))
			refuse(nh, "not an IPv4 address");
		set("bgp-announce/NEXT_HOP", "%s", v);
		say(nh, 1, "bgp-announce/NEXT_HOP=%s", v);
	}
	if ((kv = get("", "ipv6")) && kv->v.type == TOML_BOOL)
		v6 = kv->v.b;
	if ((nh6 = get("bgp", "nextHopIPv6")) && (v = str(nh6)) && *v) {
		if (!is_ip6(v))
			refuse(nh6, "not an IPv6 address");
		set("bgp-announce/NEXT_HOP6", "%s", v);
		say(nh6, 1, "bgp-announce/NEXT_HOP6=%s", v);
	} else if (v6) {
		set("bgp-announce/NEXT_HOP6", "fd00::1");
		out("bgp.nextHopIPv6 (not set) -> bgp-announce/NEXT_HOP6="
		    "fd00::1 (the Go daemon's fixed default for IPv6 "
		    "routes)\n");
	}

	peers = get("bgp", "peers");
	if (!peers || peers->v.type != TOML_ARRAY || peers->v.n == 0) {
		if (peers && peers->v.type != TOML_ARRAY)
			refuse(peers, "an array of strings expected");
		refuse(peers, "no BGP peer (peers = [\"ADDR\", ...])");
	}
	for (i = 0; i < peers->v.n; i++) {
		const struct toml_val *p = &peers->v.items[i];
		const char *colon;

		if (p->type != TOML_STRING)
			refuse(peers, "an array of strings expected");
		/* HOST or HOST:PORT, split at the first ':' as Go does. */
		colon = strchr(p->s, ':');
		snprintf(host, sizeof host, "%.*s",
			 colon ? (int)(colon - p->s) : (int)strlen(p->s), p->s);
		port = 179;
		if (colon) {
			errno = 0;
			port = strtol(colon + 1, &end, 10);
			if (errno || *end || colon[1] == '\0')
				refuse(peers,
				       "peer \"%s\": a port that is "
				       "not a number",
				       show(p->s));
		}
		if (!is_ip4(host)) {
			say(peers, 0,
			    "peer \"%s\": bgp-announce takes "
			    "addresses, not host names: add it "
			    "to PEERS with PEER_name_ADDRESS by "
			    "hand",
			    show(p->s));
			continue;
		}
		if (port < 1 || port > 65535) {
			say(peers, 0, "peer \"%s\": port out of range",
			    show(p->s));
			continue;
		}
		snprintf(name, sizeof name, "r%zu", ++n);
		snprintf(path, sizeof path, "bgp-announce/PEER_%s_ADDRESS",
			 name);
		set(path, "%s", host);
		if (port != 179) {
			snprintf(path, sizeof path, "bgp-announce/PEER_%s_PORT",
				 name);
			set(path, "%ld", port);
		}
		snprintf(names + strlen(names), sizeof names - strlen(names),
			 "%s%s", *names ? " " : "", name);
		out("bgp.peers[%zu] = \"%s\" (line %d) -> bgp-announce/PEERS "
		    "%s: PEER_%s_ADDRESS=%s",
		    i, show(p->s), peers->line, name, name, host);
		if (port != 179)
			out(", PEER_%s_PORT=%ld", name, port);
		out("\n");
		mapped++;
	}
	if (n)
		set("bgp-announce/PEERS", "%s", names);
	set("bgp-announce/GRACEFUL_RESTART", "120");
	out("(new) -> bgp-announce/GRACEFUL_RESTART=120: routers keep our "
	    "routes while a stage restarts (the Go daemon had no graceful "
	    "restart)\n");
	if ((kv = get("bgp", "ipv6")))
		say(kv, 0,
		    "set by the Go daemon from the top-level ipv6 "
		    "whatever is written here");
}

/* "ADDR:PORT" as sync-serve takes it; NULL when it cannot be mapped. */
static const char *
listen_addr(const char *v, char *buf, size_t len)
{
	const char *colon = strrchr(v, ':');
	char host[256];

	if (!colon || colon[1] == '\0')
		return NULL;
	snprintf(host, sizeof host, "%.*s", (int)(colon - v), v);
	if (*host == '\0')
		snprintf(buf, len, "0.0.0.0%s", colon);
	else if (is_ip4(host) ||
		 (host[0] == '[' && host[strlen(host) - 1] == ']'))
		snprintf(buf, len, "%s", v);
	else
		return NULL;
	return buf;
}

static void
syncer(char *services, size_t len, char *pull_from, size_t plen)
{
	const struct toml_kv *kv, *peers;
	const char *v;
	char addr[300], list[2048] = "", opts[1024];
	double sec;
	size_t i;

	if ((kv = get("syncer", "listen")) && (v = str(kv)) && *v) {
		if (!listen_addr(v, addr, sizeof addr) || !plain_word(addr)) {
			say(kv, 0,
			    "\"%s\": sync-serve listens on "
			    "ADDR:PORT; set -l in "
			    "env/SYNC_SERVE_OPTS by hand",
			    show(v));
		} else {
			set("env/SYNC_SERVE_OPTS", "%s -l %s",
			    SYNC_SERVE_DEFAULT, addr);
			snprintf(services + strlen(services),
				 len - strlen(services), " sync-serve");
			say(kv, 1,
			    "env/SYNC_SERVE_OPTS: -l %s; service "
			    "sync-serve up (the same /fetch and "
			    "/put)",
			    addr);
		}
		/* Where the Go daemon's /fetch is, from this host. */
		if (listen_addr(v, addr, sizeof addr)) {
			if (strncmp(addr, "0.0.0.0:", 8) == 0)
				snprintf(pull_from, plen, "127.0.0.1%s",
					 addr + 7);
			else if (strncmp(addr, "[::]:", 5) == 0)
				snprintf(pull_from, plen, "[::1]%s", addr + 4);
			else
				snprintf(pull_from, plen, "%s", addr);
		}
	}
	snprintf(opts, sizeof opts, "%s", SYNC_PULL_DEFAULT);
	if ((kv = get("syncer", "syncInterval")) && (v = str(kv))) {
		if (go_duration(v, &sec) == -1)
			refuse(kv, "not a Go duration");
		if (sec <= 0)
			say(kv, 0,
			    "0: the Go daemon never pulled on a "
			    "schedule, only pushed; sync-pull "
			    "always pulls, every -i seconds "
			    "(default 600)");
		else {
			sec = ceil(sec) > 604800 ? 604800 : ceil(sec);
			snprintf(opts + strlen(opts),
				 sizeof opts - strlen(opts), " -i %.0f", sec);
			say(kv, 1, "env/SYNC_PULL_OPTS: -i %.0f", sec);
		}
	}
	peers = get("syncer", "peers");
	if (peers && peers->v.type != TOML_ARRAY)
		refuse(peers, "an array of strings expected");
	for (i = 0; peers && i < peers->v.n; i++) {
		const struct toml_val *p = &peers->v.items[i];

		if (p->type != TOML_STRING)
			refuse(peers, "an array of strings expected");
		if (!plain_word(p->s) || !*p->s) {
			say(peers, 0, "peer \"%s\": not HOST:PORT", show(p->s));
			continue;
		}
		snprintf(list + strlen(list), sizeof list - strlen(list),
			 "%s%s", *list ? " " : "", p->s);
		out("syncer.peers[%zu] = \"%s\" (line %d) -> "
		    "sync-pull/SYNC_PEERS (pulled every interval, new "
		    "entries pushed to its /put)\n",
		    i, show(p->s), peers->line);
		mapped++;
	}
	if (*list) {
		set("sync-pull/SYNC_PEERS", "%s", list);
		set("env/SYNC_PULL_OPTS", "%s", opts);
		snprintf(services + strlen(services), len - strlen(services),
			 " sync-pull");
	}
}

/* NAMESPACE=... and the rest of the Go daemon's EnvironmentFile. */
static void
envfile(const char *path)
{
	char line[1024], *v, *e;
	FILE *f = fopen(path, "r");
	int n = 0;

	if (!f)
		log_fatal_sys(EXIT_TEMP, "unable to open %s", path);
	while (fgets(line, sizeof line, f)) {
		n++;
		line[strcspn(line, "\r\n")] = '\0';
		v = line + strspn(line, " \t");
		if (*v == '#' || *v == ';' || *v == '\0')
			continue;
		if (!(e = strchr(v, '='))) {
			out("%s:%d: not mapped: not NAME=VALUE\n", path, n);
			unmapped++;
			continue;
		}
		*e++ = '\0';
		if (*e == '"' && e[strlen(e) - 1] == '"' && strlen(e) >= 2) {
			e[strlen(e) - 1] = '\0';
			e++;
		}
		if (strcmp(v, "NAMESPACE") == 0 && *e && plain_word(e)) {
			set("env/DNSTAP_BGP_NETNS", "%s", e);
			out("%s:%d NAMESPACE -> env/DNSTAP_BGP_NETNS=%s (every "
			    "stage runs in it, as the daemon did)\n",
			    path, n, show(e));
			mapped++;
		} else if (strcmp(v, "CONFIG") == 0)
			out("%s:%d CONFIG: the file converted here (%s)\n",
			    path, n, show(e));
		else {
			out("%s:%d: not mapped: %s\n", path, n, show(v));
			unmapped++;
		}
	}
	if (ferror(f))
		log_fatal_sys(EXIT_TEMP, "unable to read %s", path);
	fclose(f);
}

static void
write_file(int dfd, const char *path, const char *value)
{
	const char *slash = strchr(path, '/');
	char dir[64];
	size_t n = strlen(value);
	int fd;

	if (slash && (size_t)(slash - path) < sizeof dir) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		if (mkdirat(dfd, dir, 0755) == -1 && errno != EEXIST)
			log_fatal_sys(EXIT_TEMP, "unable to create %s", dir);
	}
	fd = openat(dfd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd == -1 || write(fd, value, n) != (ssize_t)n ||
	    write(fd, "\n", 1) != 1 || fsync(fd) == -1 || close(fd) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to write %s", path);
}

static void
read_config(const char *path, char **text, size_t *len)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1 || fstat(fd, &st) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to open %s", path);
	if (!S_ISREG(st.st_mode) || st.st_size > MAX_CONFIG)
		log_fatal(EXIT_PERM,
			  "%s: not a configuration file (a regular "
			  "file of at most 1 MB)",
			  path);
	if (!(*text = malloc((size_t)st.st_size + 1)))
		log_fatal(EXIT_TEMP, "unable to allocate memory");
	*len = 0;
	while ((n = read(fd, *text + *len, (size_t)st.st_size - *len)) > 0)
		*len += (size_t)n;
	if (n == -1)
		log_fatal_sys(EXIT_TEMP, "unable to read %s", path);
	close(fd);
}

int
main(int argc, char **argv)
{
	const char *env = NULL, *dir;
	char *text, err[256],
	    services[256] = "dnstap-read domain-match ipcache "
			    "bgp-announce",
	    pull_from[320] = "";
	struct stat st;
	size_t len, i;
	int c, dfd, line;

	opt_init(argv[0], usage_text);
	opterr = 0;
	while ((c = getopt(argc, argv, ":e:hV")) != -1) {
		switch (c) {
		case 'e':
			env = optarg;
			break;
		case 'h':
			opt_help();
		case 'V':
			opt_version();
		default:
			opt_bad(c);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		opt_usage("expected CONFIG.toml and DIR");
	config = argv[0];
	dir = argv[1];
	if (stat(dir, &st) == 0) {
		DIR *d;
		struct dirent *de;
		int empty = 1;

		if (!S_ISDIR(st.st_mode) || !(d = opendir(dir)))
			log_fatal(EXIT_PERM,
				  "%s exists and is not a directory "
				  "this can write into",
				  dir);
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				empty = 0;
		closedir(d);
		if (!empty)
			log_fatal(EXIT_PERM,
				  "%s is not empty: give a new "
				  "directory, then copy what it "
				  "holds into /etc/dnstap-bgp",
				  dir);
	}

	read_config(config, &text, &len);
	if (toml_parse(text, len, &t, err, sizeof err, &line) == -1) {
		if (errno == ENOMEM)
			log_fatal(EXIT_TEMP, "unable to allocate memory");
		log_fatal(EXIT_PERM, "%s:%d: %s; nothing written", config, line,
			  err);
	}
	free(text);
	if (!(used = calloc(t.n + 1, 1)))
		log_fatal(EXIT_TEMP, "unable to allocate memory");

	out("# dnstap-bgp-migrate: %s -> %s\n", show(config), show(dir));
	top_level();
	dnstap();
	bgp();
	syncer(services, sizeof services, pull_from, sizeof pull_from);
	if (env)
		envfile(env);
	for (i = 0; i < t.n; i++)
		if (!used[i])
			say(&t.kv[i], 0,
			    "not a setting of the Go daemon "
			    "(it ignores it too)");
	for (i = 0; i < t.ntables; i++)
		if (strcasecmp(t.tables[i], "dnstap") &&
		    strcasecmp(t.tables[i], "bgp") &&
		    strcasecmp(t.tables[i], "syncer"))
			out("[%s]: not mapped: not a table of the Go daemon\n",
			    show(t.tables[i])),
			    unmapped++;
	set("services", "%s", services);

	/* Everything checked: now the directory. */
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		log_fatal_sys(EXIT_TEMP, "unable to create %s", dir);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to open %s", dir);
	for (i = 0; i < nfiles; i++)
		write_file(dfd, files[i].path, files[i].value);
	if (fsync(dfd) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to sync %s", dir);
	close(dfd);

	out("# %u settings mapped, %u not mapped; services to run: %s\n",
	    mapped, unmapped, value_of("services"));
	out("# next: copy %s/env, bgp-announce, sync-pull into "
	    "/etc/dnstap-bgp (they hold only what differs from the "
	    "defaults), cron.d/dnstap-bgp into /etc/cron.d; then the "
	    "switch-over of dnstap-bgp-migrate(8) and docs/operations.md\n",
	    show(dir));
	if (*pull_from)
		out("# the cache: once ipcache runs, pull it from the Go "
		    "daemon once: dnstap-bgp sync-pull -1 -o "
		    "/run/dnstap-bgp/peer %s\n",
		    pull_from);
	else
		out("# the cache: the Go daemon serves no /fetch ([syncer] "
		    "listen is not set): add listen = \"127.0.0.1:8080\" to "
		    "its [syncer] and restart it to bring its cache over, or "
		    "let DNS traffic refill ours\n");
	if (fwrite(report, 1, report_len, stdout) != report_len ||
	    fflush(stdout) == EOF)
		log_fatal_sys(EXIT_TEMP, "unable to write to stdout");
	toml_free(&t);
	return 0;
}
