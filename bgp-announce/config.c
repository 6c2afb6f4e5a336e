/*
 * config.c: bgp-announce's configuration, from the environment only (so an
 * envdir directory is the configuration file).
 *
 *   PEERS="r1 r2"             the peers, by name ([A-Za-z0-9_])
 *   PEER_r1_ADDRESS=...       per-peer setting; without PEER_r1_ the same
 *   KEY=...                   key is the default for every peer
 *   TAGS="video lan-1"        tags with their own attributes
 *   TAG_video_COMMUNITIES=... per-tag setting ('-' in a tag becomes '_');
 *                             without TAG_x_ the key is the default for
 *                             untagged routes and tags not listed
 *   LISTEN="ADDR[:PORT] ..."  accept connections (passive peers, collisions)
 *
 * config_print() writes the normalized form back in the same syntax.
 */
#include "bgpa.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int __attribute__((format(printf, 3, 4)))
cerr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int
addr_parse(struct addr *a, const char *s)
{
	memset(a, 0, sizeof *a);
	if (inet_pton(AF_INET, s, a->a) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->a) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -1;
}

const char *
addr_str(const struct addr *a, char *buf, size_t cap)
{
	if (!a->family || !inet_ntop(a->family, a->a, buf, (socklen_t)cap))
		snprintf(buf, cap, "-");
	return buf;
}

/* The variable lookup() last found, for messages. */
static char used[256];

/* PREFIX_KEY if set, else KEY (the default), else NULL. */
static const char *
lookup(const char *prefix, const char *key)
{
	const char *v;

	if (prefix) {
		snprintf(used, sizeof used, "%s%s", prefix, key);
		if ((v = getenv(used)) && *v)
			return v;
		if (!strncmp(key, "NEXT_HOP", 8) && !strncmp(prefix, "TAG_", 4))
			return NULL;
	}
	snprintf(used, sizeof used, "%s", key);
	v = getenv(key);
	return v && *v ? v : NULL;
}

static int
get_num(const char *prefix, const char *key, long long min, long long max,
	long long def, long long *out, char *err, size_t errlen)
{
	const char *v = lookup(prefix, key), *e = NULL;

	*out = def;
	if (!v)
		return 0;
	*out = strtonum(v, min, max, &e);
	if (e)
		return cerr(err, errlen, "%s: %s: %s", used, v, e);
	return 0;
}

static int
get_addr(const char *prefix, const char *key, int family, struct addr *a,
	 char *err, size_t errlen)
{
	const char *v = lookup(prefix, key);

	memset(a, 0, sizeof *a);
	if (!v)
		return 0;
	if (addr_parse(a, v) == -1 || (family && a->family != family))
		return cerr(err, errlen, "%s: %s: bad %saddress", used, v,
			    family == AF_INET ? "IPv4 "
			    : family	      ? "IPv6 "
					      : "");
	return 0;
}

static int
parse_u32(const char *s, size_t n, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 10)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "A:B A:B" (16-bit halves) or well-known names; "A:B:C" when large. */
static int
get_comms(const char *prefix, const char *key, struct tag_conf *t, int large,
	  char *err, size_t errlen)
{
	const char *v = lookup(prefix, key), *p, *end;
	const char *q[3];
	size_t ql[3], k, len;
	uint32_t x[3];

	if (!v)
		return 0;
	for (p = v; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		end = p + strcspn(p, " ,");
		len = (size_t)(end - p);
		if (!large && len == 9 && !memcmp(p, "no-export", 9))
			x[0] = 0xffffff01;
		else if (!large && len == 12 && !memcmp(p, "no-advertise", 12))
			x[0] = 0xffffff02;
		else if (!large && len == 9 && !memcmp(p, "blackhole", 9))
			x[0] = 0xffff029a;
		else {
			q[0] = p;
			for (k = 0; k < 3; k++) {
				const char *c =
				    memchr(q[k], ':', (size_t)(end - q[k]));
				ql[k] = (size_t)((c ? c : end) - q[k]);
				if (!c)
					break;
				if (k < 2)
					q[k + 1] = c + 1;
			}
			if (k != (large ? 2u : 1u))
				goto bad;
			for (k = 0; k <= (large ? 2u : 1u); k++)
				if (parse_u32(q[k], ql[k],
					      large ? UINT32_MAX : 65535,
					      &x[k]))
					goto bad;
			if (!large)
				x[0] = x[0] << 16 | x[1];
		}
		if (large) {
			if (t->nlcomm == BGPA_MAX_LCOMMS)
				return cerr(err, errlen, "%s: more than %d",
					    used, BGPA_MAX_LCOMMS);
			memcpy(t->lcomm[t->nlcomm++], x, sizeof x);
		} else {
			if (t->ncomm == BGPA_MAX_COMMS)
				return cerr(err, errlen, "%s: more than %d",
					    used, BGPA_MAX_COMMS);
			t->comm[t->ncomm++] = x[0];
		}
		p = end;
	}
	return 0;
bad:
	return cerr(err, errlen, "%s: %.*s: bad %scommunity", used,
		    (int)(end - p), p, large ? "large " : "");
}

static int
load_tag(struct tag_conf *t, const char *prefix, char *err, size_t errlen)
{
	long long v;

	/*
	 * A tag's next hop is only its own: the plain NEXT_HOP is every
	 * peer's default, which a tag's setting overrides.
	 */
	if ((prefix &&
	     (get_addr(prefix, "NEXT_HOP", AF_INET, &t->nh4, err, errlen) ||
	      get_addr(prefix, "NEXT_HOP6", AF_INET6, &t->nh6, err, errlen))) ||
	    get_comms(prefix, "COMMUNITIES", t, 0, err, errlen) ||
	    get_comms(prefix, "LARGE_COMMUNITIES", t, 1, err, errlen))
		return -1;
	if (lookup(prefix, "LOCAL_PREF")) {
		if (get_num(prefix, "LOCAL_PREF", 0, UINT32_MAX, 0, &v, err,
			    errlen))
			return -1;
		t->has_lp = 1;
		t->lp = (uint32_t)v;
	}
	if (lookup(prefix, "MED")) {
		if (get_num(prefix, "MED", 0, UINT32_MAX, 0, &v, err, errlen))
			return -1;
		t->has_med = 1;
		t->med = (uint32_t)v;
	}
	return 0;
}

static int
load_peer(struct peer_conf *pc, const char *name, char *err, size_t errlen)
{
	char prefix[96];
	const char *v;
	long long n;
	struct addr rid;

	snprintf(pc->name, sizeof pc->name, "%s", name);
	snprintf(prefix, sizeof prefix, "PEER_%s_", name);
	/* The address is the one setting that has no default. */
	snprintf(prefix, sizeof prefix, "PEER_%s_ADDRESS", name);
	if (!(v = getenv(prefix)) || !*v)
		return cerr(err, errlen, "%s: not set", prefix);
	if (addr_parse(&pc->addr, v) == -1)
		return cerr(err, errlen, "%s: %s: bad address", prefix, v);
	snprintf(prefix, sizeof prefix, "PEER_%s_", name);
	if (get_num(prefix, "PORT", 1, 65535, BGP_PORT, &n, err, errlen))
		return -1;
	pc->port = (uint16_t)n;
	if (!lookup(prefix, "REMOTE_AS"))
		return cerr(err, errlen, "%sREMOTE_AS: not set", prefix);
	if (get_num(prefix, "REMOTE_AS", 1, UINT32_MAX, 0, &n, err, errlen))
		return -1;
	pc->peer_as = (uint32_t)n;
	if (!lookup(prefix, "LOCAL_AS"))
		return cerr(err, errlen, "%sLOCAL_AS: not set", prefix);
	if (get_num(prefix, "LOCAL_AS", 1, UINT32_MAX, 0, &n, err, errlen))
		return -1;
	pc->local_as = (uint32_t)n;
	if (get_addr(prefix, "SOURCE", 0, &pc->source, err, errlen) ||
	    get_addr(prefix, "NEXT_HOP", AF_INET, &pc->nh4, err, errlen) ||
	    get_addr(prefix, "NEXT_HOP6", AF_INET6, &pc->nh6, err, errlen) ||
	    get_addr(prefix, "ROUTER_ID", AF_INET, &rid, err, errlen))
		return -1;
	if (pc->source.family && pc->source.family != pc->addr.family)
		return cerr(err, errlen, "%sSOURCE: not of the peer's family",
			    prefix);
	if (!rid.family && pc->source.family == AF_INET)
		rid = pc->source;
	if (!rid.family)
		return cerr(err, errlen, "%sROUTER_ID: not set", prefix);
	memcpy(&pc->router_id, rid.a, 4);
	pc->router_id = ntohl(pc->router_id);
	if (pc->router_id == 0)
		return cerr(err, errlen, "%sROUTER_ID: must not be 0.0.0.0",
			    prefix);
	if (get_num(prefix, "HOLD_TIME", 0, 65535, 90, &n, err, errlen))
		return -1;
	if (n == 1 || n == 2)
		return cerr(err, errlen, "%sHOLD_TIME: 0 or at least 3",
			    prefix);
	pc->hold = (uint16_t)n;
	if ((v = lookup(prefix, "PASSWORD"))) {
		if (strlen(v) > 80)
			return cerr(err, errlen, "%sPASSWORD: longer than 80",
				    prefix);
		snprintf(pc->password, sizeof pc->password, "%s", v);
	}
	if (get_num(prefix, "PASSIVE", 0, 1, 0, &n, err, errlen))
		return -1;
	pc->passive = (int)n;
	if (get_num(prefix, "TTL_SECURITY", 0, 254, 0, &n, err, errlen))
		return -1;
	pc->ttl_security = (int)n;
	if (get_num(prefix, "GRACEFUL_RESTART", 0, 4095, 120, &n, err, errlen))
		return -1;
	pc->gr_time = (uint16_t)n;
	if (get_num(prefix, "OPEN_TIMEOUT", 3, 240, 60, &n, err, errlen))
		return -1;
	pc->open_timeout = (uint16_t)n;
	return 0;
}

static int
valid_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 48)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

static int
load_listen(struct config *c, const char *v, char *err, size_t errlen)
{
	struct addr *a = &c->listen[c->nlisten];
	char host[128];
	const char *port = NULL, *e = NULL;
	size_t n;

	if (v[0] == '[') {
		n = strcspn(v + 1, "]");
		if (v[1 + n] != ']' || n >= sizeof host)
			goto bad;
		memcpy(host, v + 1, n);
		host[n] = '\0';
		if (v[2 + n] == ':')
			port = v + 3 + n;
		else if (v[2 + n])
			goto bad;
	} else {
		n = strcspn(v, ":");
		if (n >= sizeof host)
			goto bad;
		memcpy(host, v, n);
		host[n] = '\0';
		if (v[n] == ':')
			port = v + n + 1;
	}
	if (addr_parse(a, host) == -1)
		goto bad;
	c->listen_port[c->nlisten] = BGP_PORT;
	if (port) {
		c->listen_port[c->nlisten] =
		    (uint16_t)strtonum(port, 1, 65535, &e);
		if (e)
			goto bad;
	}
	c->nlisten++;
	return 0;
bad:
	return cerr(err, errlen,
		    "LISTEN: %s: want ADDR, ADDR:PORT or [ADDR]:PORT", v);
}

int
config_load(struct config *c, char *err, size_t errlen)
{
	const char *v, *p;
	char name[64], prefix[96];
	size_t n, i, j;

	memset(c, 0, sizeof *c);
	c->ntags = 1;
	if (load_tag(&c->tags[0], NULL, err, errlen))
		return -1;
	if ((v = getenv("TAGS")))
		for (p = v; *p;) {
			p += strspn(p, " ,");
			n = strcspn(p, " ,");
			if (!n)
				break;
			if (rec_tag_check(p, n) != 0 || (n == 1 && *p == '-'))
				return cerr(err, errlen, "TAGS: %.*s: bad tag",
					    (int)n, p);
			if (c->ntags == BGPA_MAX_TAGS)
				return cerr(err, errlen, "TAGS: more than %d",
					    BGPA_MAX_TAGS - 1);
			snprintf(c->tags[c->ntags].name, REC_TAG_MAX + 1,
				 "%.*s", (int)n, p);
			snprintf(name, sizeof name, "%.*s", (int)n, p);
			for (j = 0; name[j]; j++)
				if (name[j] == '-')
					name[j] = '_';
			for (i = 1; i < c->ntags; i++) {
				char other[64];
				snprintf(other, sizeof other, "%s",
					 c->tags[i].name);
				for (j = 0; other[j]; j++)
					if (other[j] == '-')
						other[j] = '_';
				if (!strcmp(other, name))
					return cerr(
					    err, errlen,
					    "TAGS: %s: listed twice (or "
					    "clashes with %s)",
					    c->tags[c->ntags].name,
					    c->tags[i].name);
			}
			/* Unset keys fall back to the defaults. */
			snprintf(prefix, sizeof prefix, "TAG_%s_", name);
			if (load_tag(&c->tags[c->ntags], prefix, err, errlen))
				return -1;
			c->ntags++;
			p += n;
		}
	if (!(v = getenv("PEERS")) || !*v)
		return cerr(err, errlen, "PEERS: not set");
	for (p = v; *p;) {
		p += strspn(p, " ,");
		n = strcspn(p, " ,");
		if (!n)
			break;
		if (!valid_name(p, n))
			return cerr(err, errlen,
				    "PEERS: %.*s: bad name "
				    "(letters, digits, _)",
				    (int)n, p);
		if (c->npeers == BGPA_MAX_PEERS)
			return cerr(err, errlen, "PEERS: more than %d",
				    BGPA_MAX_PEERS);
		snprintf(name, sizeof name, "%.*s", (int)n, p);
		for (i = 0; i < c->npeers; i++)
			if (!strcmp(c->peers[i].name, name))
				return cerr(err, errlen,
					    "PEERS: %s listed twice", name);
		if (load_peer(&c->peers[c->npeers], name, err, errlen))
			return -1;
		c->npeers++;
		p += n;
	}
	if (!c->npeers)
		return cerr(err, errlen, "PEERS: no peer");
	if ((v = getenv("LISTEN")))
		for (p = v; *p;) {
			char one[160];
			p += strspn(p, " ,");
			n = strcspn(p, " ,");
			if (!n)
				break;
			if (c->nlisten == BGPA_MAX_LISTEN)
				return cerr(err, errlen, "LISTEN: more than %d",
					    BGPA_MAX_LISTEN);
			snprintf(one, sizeof one, "%.*s", (int)n, p);
			if (load_listen(c, one, err, errlen))
				return -1;
			p += n;
		}
	for (i = 0; i < c->npeers; i++)
		if (c->peers[i].passive && !c->nlisten)
			return cerr(err, errlen,
				    "PEER_%s_PASSIVE: needs LISTEN",
				    c->peers[i].name);
	return 0;
}

uint16_t
config_tag(const struct config *c, const char *tag)
{
	size_t i;

	for (i = 1; i < c->ntags; i++)
		if (!strcmp(c->tags[i].name, tag))
			return (uint16_t)i;
	return 0;
}

static void
print_comms(const char *prefix, const struct tag_conf *t)
{
	size_t i;

	if (t->ncomm) {
		printf("%sCOMMUNITIES=", prefix);
		for (i = 0; i < t->ncomm; i++)
			printf("%s%u:%u", i ? " " : "", t->comm[i] >> 16,
			       t->comm[i] & 0xffff);
		printf("\n");
	}
	if (t->nlcomm) {
		printf("%sLARGE_COMMUNITIES=", prefix);
		for (i = 0; i < t->nlcomm; i++)
			printf("%s%u:%u:%u", i ? " " : "", t->lcomm[i][0],
			       t->lcomm[i][1], t->lcomm[i][2]);
		printf("\n");
	}
}

static void
print_tag(const char *prefix, const struct tag_conf *t)
{
	char b[64];

	if (t->nh4.family)
		printf("%sNEXT_HOP=%s\n", prefix,
		       addr_str(&t->nh4, b, sizeof b));
	if (t->nh6.family)
		printf("%sNEXT_HOP6=%s\n", prefix,
		       addr_str(&t->nh6, b, sizeof b));
	print_comms(prefix, t);
	if (t->has_lp)
		printf("%sLOCAL_PREF=%u\n", prefix, t->lp);
	if (t->has_med)
		printf("%sMED=%u\n", prefix, t->med);
}

void
config_print(const struct config *c)
{
	char b[64], prefix[96];
	size_t i, j;
	const struct peer_conf *pc;
	struct in_addr rid;

	if (c->nlisten) {
		printf("LISTEN=");
		for (i = 0; i < c->nlisten; i++)
			printf(c->listen[i].family == AF_INET6 ? "%s[%s]:%u"
							       : "%s%s:%u",
			       i ? " " : "",
			       addr_str(&c->listen[i], b, sizeof b),
			       c->listen_port[i]);
		printf("\n");
	}
	printf("PEERS=");
	for (i = 0; i < c->npeers; i++)
		printf("%s%s", i ? " " : "", c->peers[i].name);
	printf("\n");
	for (i = 0; i < c->npeers; i++) {
		pc = &c->peers[i];
		snprintf(prefix, sizeof prefix, "PEER_%s_", pc->name);
		printf("%sADDRESS=%s\n", prefix,
		       addr_str(&pc->addr, b, sizeof b));
		printf("%sPORT=%u\n", prefix, pc->port);
		printf("%sREMOTE_AS=%u\n", prefix, pc->peer_as);
		printf("%sLOCAL_AS=%u\n", prefix, pc->local_as);
		printf("%sTYPE=%s\n", prefix,
		       pc->peer_as == pc->local_as ? "ibgp" : "ebgp");
		rid.s_addr = htonl(pc->router_id);
		printf("%sROUTER_ID=%s\n", prefix, inet_ntoa(rid));
		if (pc->source.family)
			printf("%sSOURCE=%s\n", prefix,
			       addr_str(&pc->source, b, sizeof b));
		if (pc->nh4.family)
			printf("%sNEXT_HOP=%s\n", prefix,
			       addr_str(&pc->nh4, b, sizeof b));
		if (pc->nh6.family)
			printf("%sNEXT_HOP6=%s\n", prefix,
			       addr_str(&pc->nh6, b, sizeof b));
		printf("%sHOLD_TIME=%u\n", prefix, pc->hold);
		printf("%sPASSWORD=%s\n", prefix,
		       pc->password[0] ? "(set)" : "");
		printf("%sPASSIVE=%d\n", prefix, pc->passive);
		printf("%sTTL_SECURITY=%d\n", prefix, pc->ttl_security);
		printf("%sGRACEFUL_RESTART=%u\n", prefix, pc->gr_time);
		printf("%sOPEN_TIMEOUT=%u\n", prefix, pc->open_timeout);
	}
	print_tag("", &c->tags[0]);
	if (c->ntags > 1) {
		printf("TAGS=");
		for (i = 1; i < c->ntags; i++)
			printf("%s%s", i > 1 ? " " : "", c->tags[i].name);
		printf("\n");
	}
	for (i = 1; i < c->ntags; i++) {
		snprintf(prefix, sizeof prefix, "TAG_%s_", c->tags[i].name);
		for (j = 4; prefix[j]; j++)
			if (prefix[j] == '-')
				prefix[j] = '_';
		print_tag(prefix, &c->tags[i]);
	}
}

/* ---- variables that are not settings: misspelt, or of no peer or tag ---- */

static const char *const peer_keys[] = {"ADDRESS",
					"PORT",
					"REMOTE_AS",
					"LOCAL_AS",
					"SOURCE",
					"NEXT_HOP",
					"NEXT_HOP6",
					"ROUTER_ID",
					"HOLD_TIME",
					"PASSWORD",
					"PASSIVE",
					"TTL_SECURITY",
					"GRACEFUL_RESTART",
					"OPEN_TIMEOUT",
					"TYPE" /* what -n prints: ignored */,
					NULL};
static const char *const tag_keys[] = {
    "NEXT_HOP",	  "NEXT_HOP6", "COMMUNITIES", "LARGE_COMMUNITIES",
    "LOCAL_PREF", "MED",       NULL};
static const char *const globals[] = {"PEERS", "TAGS", "LISTEN", "METRICS_FILE",
				      NULL};

/* Optimal string alignment distance of a and b, capped at 9. */
static unsigned
distance(const char *a, const char *b)
{
	unsigned d[33][33], i, j, la = (unsigned)strlen(a),
				  lb = (unsigned)strlen(b), c;

	if (la > 32 || lb > 32)
		return 9;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < c)
				c = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < c)
				c = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < c)
				c = d[i - 2][j - 2] + 1;
			d[i][j] = c;
		}
	return d[la][lb] > 9 ? 9 : d[la][lb];
}

/* The known name s is a near miss of: "" when none. */
static const char *
near(const char *s, const char *const *known)
{
	unsigned best = 9, d;
	const char *b = "";
	size_t n = strlen(s);

	/* short names must match closer: PWD is not MED */
	unsigned max = n >= 8 ? 2 : n >= 4 ? 1 : 0;

	for (; *known; known++)
		if ((d = distance(s, *known)) <= max && d < best)
			best = d, b = *known;
	return b;
}

static int
in(const char *s, size_t n, const char *const *list)
{
	for (; *list; list++)
		if (strlen(*list) == n && !memcmp(*list, s, n))
			return 1;
	return 0;
}

/* The length of the known key var ends with ("_KEY"), 0 when none. */
static size_t
key_suffix(const char *var, const char *const *list)
{
	size_t n = strlen(var), k;

	for (; *list; list++) {
		k = strlen(*list);
		if (n > k + 1 && var[n - k - 1] == '_' &&
		    !strcmp(var + n - k, *list))
			return k;
	}
	return 0;
}

/*
 * PREFIX<name>_<KEY> (PEER_, TAG_): names are those given (their '-' as
 * '_'), the longest that fits first. 0 when it is a setting; else msg says
 * why and it returns 2 for a known key of a name not listed (a peer taken
 * out of PEERS), 1 for anything else.
 */
static int
check_prefixed(const char *var, const char *prefix, const char *what,
	       const char *list_var, const char *const *names, size_t nnames,
	       const char *const *keys, char *msg, size_t cap)
{
	size_t pl = strlen(prefix), i, best = 0, nl, j, kl;
	const char *key = NULL, *sugg;
	char n[64];

	for (i = 0; i < nnames; i++) {
		snprintf(n, sizeof n, "%s", names[i]);
		for (j = 0; n[j]; j++)
			if (n[j] == '-')
				n[j] = '_';
		nl = strlen(n);
		if (nl > best && !strncmp(var + pl, n, nl) &&
		    var[pl + nl] == '_') {
			best = nl;
			key = var + pl + nl + 1;
		}
	}
	if (key && in(key, strlen(key), keys))
		return 0;
	if ((kl = key_suffix(var, keys)) > 0) {
		/* PEER_r2_ADDRESS without r2 in PEERS */
		snprintf(msg, cap, "%s: %s %.*s is not in %s", var, what,
			 (int)(strlen(var) - kl - 1 - pl), var + pl, list_var);
		return 2;
	}
	if (!key) {
		snprintf(msg, cap, "%s: unknown variable (no %s of %s, no key)",
			 var, what, list_var);
		return 1;
	}
	sugg = near(key, keys);
	snprintf(msg, cap, "%s: unknown setting%s%.*s%s%s", var,
		 *sugg ? " (did you mean " : "", *sugg ? (int)(key - var) : 0,
		 var, sugg, *sugg ? "?)" : "");
	return 1;
}

size_t
config_unknown(const struct config *c, struct config_problem *pb, size_t max)
{
	extern char **environ;
	const char *names[BGPA_MAX_TAGS], *sugg;
	char var[256], *eq;
	size_t i, n = 0, k;
	const char *const *lists[] = {globals, peer_keys, tag_keys};

	for (i = 0; environ[i] && n < max; i++) {
		if (!(eq = strchr(environ[i], '=')) ||
		    (size_t)(eq - environ[i]) >= sizeof var)
			continue;
		memcpy(var, environ[i], (size_t)(eq - environ[i]));
		var[eq - environ[i]] = '\0';
		if (!strncmp(var, "PEER_", 5)) {
			for (k = 0; k < c->npeers; k++)
				names[k] = c->peers[k].name;
			if ((k = (size_t)check_prefixed(
				 var, "PEER_", "peer", "PEERS", names,
				 c->npeers, peer_keys, pb[n].msg,
				 sizeof pb[n].msg)))
				pb[n++].unlisted = k == 2;
			continue;
		}
		if (!strncmp(var, "TAG_", 4)) {
			for (k = 1; k < c->ntags; k++)
				names[k - 1] = c->tags[k].name;
			if ((k = (size_t)check_prefixed(
				 var, "TAG_", "tag", "TAGS", names,
				 c->ntags - 1, tag_keys, pb[n].msg,
				 sizeof pb[n].msg)))
				pb[n++].unlisted = k == 2;
			continue;
		}
		if (!strcmp(var, "ADDRESS")) {
			pb[n].unlisted = 0;
			snprintf(pb[n++].msg, sizeof pb->msg,
				 "ADDRESS: a peer's own (PEER_name_ADDRESS)");
			continue;
		}
		for (k = 0; k < 3; k++)
			if (in(var, strlen(var), lists[k]))
				break;
		if (k < 3)
			continue;
		for (k = 0; k < 3; k++)
			if (*(sugg = near(var, lists[k]))) {
				pb[n].unlisted = 0;
				snprintf(
				    pb[n++].msg, sizeof pb->msg,
				    "%.64s: unknown variable (did you mean "
				    "%s?)",
				    var, sugg);
				break;
			}
	}
	return n;
}
