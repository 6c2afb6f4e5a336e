/*
 * formats: the line parsers of the published list formats (hosts, dnsmasq,
 * Adblock/AdGuard, v2fly domain-list-community) and the format sniffer;
 * list.h describes each format. A parser only splits and classifies: the
 * names it hands out are raw, for list_name to check and convert.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "listfmt.h"

/* An IPv4 or IPv6 address (with a %zone, as hosts files write fe80::1%lo0). */
static int
is_address(const char *s, size_t n)
{
	unsigned char buf[16];
	char tmp[64];
	const char *pct = memchr(s, '%', n);

	size_t i;

	if (pct && pct > s)
		n = (size_t)(pct - s);
	if (n == 0 || n >= sizeof tmp)
		return 0;
	for (i = 0; i < n; i++) /* most names end here, cheaply */
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F') || s[i] == ':' ||
		      s[i] == '.'))
			return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET, tmp, buf) == 1 ||
	       inet_pton(AF_INET6, tmp, buf) == 1;
}

/* The names hosts files give their own machine. */
static int
is_local_name(const char *s, size_t n)
{
	static const char *const local[] = {
	    "localhost",    "localhost.localdomain", "localhost.",
	    "local",	    "broadcasthost",	     "ip6-localhost",
	    "ip6-loopback", "ip6-localnet",	     "ip6-mcastprefix",
	    "ip6-allnodes", "ip6-allrouters",	     "ip6-allhosts",
	};
	size_t i;

	if (n < 5 || (s[0] | 0x20) > 'l') /* not localhost, ip6-..., local */
		return 0;
	for (i = 0; i < sizeof local / sizeof local[0]; i++)
		if (strlen(local[i]) == n && strncasecmp(s, local[i], n) == 0)
			return 1;
	return 0;
}

enum list_result
lf_hosts(char *line, char *end, struct list_line *l)
{
	char *p = line, *t, *w = NULL;
	size_t len;

	t = lf_token(&p, end, &len);
	if (!t)
		return LIST_EMPTY;
	if (!is_address(t, len))
		return lf_bad(l, "not ADDRESS NAME... (hosts format)");
	while ((t = lf_token(&p, end, &len))) {
		if (is_local_name(t, len) || is_address(t, len)) {
			l->dropped[SKIP_LOCALHOST]++;
			continue;
		}
		if (!w)
			w = l->names = t;
		lf_put(l, &w, t, len);
		if (p < end)
			p++; /* its NUL may be where p stands */
	}
	if (l->n)
		return LIST_ENTRY;
	if (l->dropped[SKIP_LOCALHOST]) {
		l->dropped[SKIP_LOCALHOST]--;
		return lf_skip(l, SKIP_LOCALHOST);
	}
	return lf_bad(l, "an address without a name");
}

/*
 * KEY=/NAME/NAME/.../VALUE for the options that name domains. Other
 * options are skipped; '#' is a comment at the start of a line only (it
 * is part of values: server=/a/1.2.3.4#5353, address=/#/).
 */
enum list_result
lf_dnsmasq(char *line, char *end, struct list_line *l)
{
	static const char *const keys[] = {"server", "local", "address",
					   "ipset", "nftset"};
	char *p, *eq, *first, *last, *name, *slash, *w;
	size_t i, klen, n;

	p = lf_trim(line, &end);
	if (p == end || *p == '#')
		return LIST_EMPTY;
	if (end - p > 2 && p[0] == '-' && p[1] == '-')
		p += 2; /* the command-line spelling, --server=... */
	eq = memchr(p, '=', (size_t)(end - p));
	klen = eq ? (size_t)(eq - p) : (size_t)(end - p);
	for (i = 0; i < klen; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
		      (p[i] >= '0' && p[i] <= '9') || p[i] == '-'))
			return lf_bad(l, "not a dnsmasq option line");
	if (klen == 0)
		return lf_bad(l, "not a dnsmasq option line");
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strlen(keys[i]) == klen && memcmp(p, keys[i], klen) == 0)
			break;
	if (i == sizeof keys / sizeof keys[0] || !eq || eq + 1 == end ||
	    eq[1] != '/')
		return lf_skip(l, SKIP_OPTION); /* no domain on this line */
	first = eq + 1;
	last = first;
	for (slash = first;
	     (slash = memchr(slash + 1, '/', (size_t)(end - slash - 1)));)
		last = slash;
	if (last == first)
		return lf_bad(l, "no '/' after the domains");
	w = l->names = first + 1;
	for (name = first + 1; name <= last; name = slash + 1) {
		slash = memchr(name, '/', (size_t)(last + 1 - name));
		n = (size_t)(slash - name);
		/* "" (unqualified names) and "#" (every domain): none. */
		if (n == 0 || (n == 1 && name[0] == '#'))
			l->dropped[SKIP_OPTION]++;
		else if (memchr(name, '*', n))
			l->dropped[SKIP_WILDCARD]++;
		else
			lf_put(l, &w, name, n);
	}
	if (l->n)
		return LIST_ENTRY;
	for (i = 0; i < SKIP_N; i++)
		if (l->dropped[i]) {
			l->dropped[i]--;
			return lf_skip(l, (enum list_skip)i);
		}
	return lf_skip(l, SKIP_OPTION);
}

static int
name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c >= 0x80;
}

/*
 * ||NAME^ and @@||NAME^ (an optional '|' after the '^'); everything else
 * an ad blocker understands is skipped by kind, since it does not name a
 * domain and all below it.
 */
enum list_result
lf_adblock(char *line, char *end, struct list_line *l)
{
	char *p = lf_trim(line, &end), *name;
	size_t n;

	if (p == end || *p == '!' || *p == '[')
		return LIST_EMPTY; /* comment, [Adblock Plus 2.0] header */
	if (*p == '#' && (end - p == 1 || lf_space(p[1]) || p[1] == '#'))
		return p[1] == '#' ? lf_skip(l, SKIP_RULE) : LIST_EMPTY;
	if (strstr(p, "##") || strstr(p, "#@#") || strstr(p, "#$#") ||
	    strstr(p, "#%#") || strstr(p, "#?#"))
		return lf_skip(l, SKIP_RULE); /* cosmetic and scriptlets */
	if (p[0] == '@' && p[1] == '@') {
		l->excluded = 1;
		p += 2;
	}
	if (*p == '/')
		return lf_skip(l, SKIP_REGEXP);
	if (p[0] != '|' || p[1] != '|')
		return lf_skip(l, SKIP_RULE); /* URL or substring pattern */
	name = p += 2;
	if (*p == '*' || *p == '.')
		return lf_skip(l, SKIP_WILDCARD);
	while (p < end && name_char((unsigned char)*p))
		p++;
	n = (size_t)(p - name);
	if (p == end)
		return lf_skip(l, SKIP_RULE); /* no ^: a prefix of any host */
	switch (*p) {
	case '^':
		break;
	case '*':
		return lf_skip(l, SKIP_WILDCARD);
	case '/':
	case ':':
	case '?':
	case '=':
	case '&':
		return lf_skip(l, SKIP_PATH);
	case '$':
		return lf_skip(l, SKIP_MODIFIER);
	default:
		return lf_bad(l, "character not allowed in a name");
	}
	p++;
	if (p < end && *p == '|')
		p++;
	if (p < end)
		return lf_skip(l, *p == '$'   ? SKIP_MODIFIER
				  : *p == '*' ? SKIP_WILDCARD
					      : SKIP_PATH);
	if (n == 0)
		return lf_bad(l, "no name between || and ^");
	if (is_address(name, n))
		return lf_skip(l, SKIP_RULE);
	name[n] = '\0';
	l->names = name;
	l->n = 1;
	return LIST_ENTRY;
}

static int
attr_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '!' ||
	       c == '.';
}

/*
 * [TYPE:]VALUE [@ATTR | &AFFILIATION]... ; affiliations file a rule into
 * another list of the collection as well: nothing to do here.
 */
enum list_result
lf_v2fly(char *line, char *end, struct list_line *l)
{
	char *p = line, *rule, *value, *colon, *t, *w = NULL;
	size_t len, rlen, vlen, tlen, i;
	int include = 0;

	rule = lf_token(&p, end, &rlen);
	if (!rule)
		return LIST_EMPTY;
	colon = memchr(rule, ':', rlen);
	value = colon ? colon + 1 : rule;
	vlen = rlen - (size_t)(value - rule);
	tlen = colon ? (size_t)(colon - rule) : 0;
	if (!colon || (tlen == 6 && memcmp(rule, "domain", 6) == 0))
		;
	else if (tlen == 4 && memcmp(rule, "full", 4) == 0)
		l->exact = 1;
	else if (tlen == 7 && memcmp(rule, "include", 7) == 0)
		include = 1;
	else if (tlen == 7 && memcmp(rule, "keyword", 7) == 0)
		return lf_skip(l, SKIP_KEYWORD);
	else if (tlen == 6 && memcmp(rule, "regexp", 6) == 0)
		return lf_skip(l, SKIP_REGEXP);
	else
		return lf_bad(l, "unknown rule type (domain:, full:, "
				 "keyword:, regexp:, include:)");
	if (vlen == 0)
		return lf_bad(l, "no value after the rule type");
	while ((t = lf_token(&p, end, &len))) {
		if (t[0] == '&')
			continue;
		if (t[0] != '@' || len < 2)
			return lf_bad(l, "expected @attribute or &affiliation");
		t++;
		len--;
		if (t[0] == '-' && !include)
			return lf_bad(l, "@-attribute on a rule (only "
					 "include: filters with it)");
		for (i = t[0] == '-'; i < len; i++)
			if (!attr_char((unsigned char)t[i]))
				return lf_bad(l, "bad character in an "
						 "attribute");
		if (len == (size_t)(t[0] == '-'))
			return lf_bad(l, "empty attribute");
		if (!w)
			w = l->attrs = t;
		memmove(w, t, len);
		w[len] = '\0';
		w += len + 1;
		l->nattrs++;
		if (p < end)
			p++; /* its NUL may be where p stands */
	}
	value[vlen] = '\0';
	if (include) {
		for (i = 0; i < vlen; i++)
			if (!attr_char((unsigned char)value[i]))
				return lf_bad(l, "bad list name to include");
		if (value[0] == '.')
			return lf_bad(l, "bad list name to include");
		l->include = value;
		return LIST_INCLUDE;
	}
	l->names = value;
	l->n = 1;
	return LIST_ENTRY;
}

static int
has_prefix(const char *s, size_t n, const char *pfx)
{
	size_t k = strlen(pfx);

	return n >= k && strncasecmp(s, pfx, k) == 0;
}

enum list_format
list_sniff(const char *line, size_t len)
{
	static const char *const dnsmasq[] = {
	    "server=/", "local=/", "address=/", "ipset=/", "nftset=/"};
	static const char *const v2fly[] = {
	    "domain:", "full:", "include:", "keyword:", "regexp:"};
	const char *p = line, *end = line + len, *t, *u;
	size_t i;

	while (p < end && lf_space(*p))
		p++;
	while (end > p && lf_space(end[-1]))
		end--;
	len = (size_t)(end - p);
	if (len == 0 || *p == '#')
		return LIST_AUTO;
	if (has_prefix(p, len, "[adblock") || has_prefix(p, len, "[adguard") ||
	    has_prefix(p, len, "||") || has_prefix(p, len, "@@"))
		return LIST_ADBLOCK;
	/* "! Title", "!-----": an Adblock comment; "!name": an exclusion. */
	if (*p == '!' && (len == 1 || lf_space(p[1]) || p[1] == '-' ||
			  p[1] == '!' || p[1] == '#'))
		return LIST_ADBLOCK;
	if (*p == '!' || *p == '=')
		return LIST_PLAIN;
	for (i = 0; i < sizeof dnsmasq / sizeof dnsmasq[0]; i++)
		if (has_prefix(p, len, dnsmasq[i]))
			return LIST_DNSMASQ;
	for (i = 0; i < sizeof v2fly / sizeof v2fly[0]; i++)
		if (has_prefix(p, len, v2fly[i]))
			return LIST_V2FLY;
	for (t = p; t < end && !lf_space(*t); t++)
		;
	for (u = t; u < end && lf_space(*u); u++)
		;
	if (u == end || *u == '#')
		return LIST_AUTO; /* one word: a name, in several formats */
	if (is_address(p, (size_t)(t - p)))
		return LIST_HOSTS;
	if (*u == '@' || *u == '&')
		return LIST_V2FLY;
	for (t = u; t < end && !lf_space(*t) && *t != '#'; t++)
		;
	/* NAME TAG */
	if ((t == end || lf_space(*t) || *t == '#') &&
	    rec_tag_check(u, (size_t)(t - u)) == 0)
		return LIST_PLAIN;
	return LIST_AUTO;
}
