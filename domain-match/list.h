/*
 * list: domain list texts, one line at a time, in the formats lists are
 * published in (domain-compile's input; the query mode of domain-match
 * uses list_name only).
 *
 *   plain    [!|=]NAME [TAG]   # a comment runs from '#' to the end
 *            NAME and every name below it; !NAME excludes them; =NAME is
 *            that name only (an exact entry). TAG overrides the list's tag.
 *   hosts    ADDRESS NAME...   # comment
 *            every NAME, as a plain entry; localhost and the other names
 *            hosts files give their own machine are skipped
 *   dnsmasq  server=/NAME/NAME/.../UPSTREAM (also local=, address=,
 *            ipset=, nftset=): every NAME of the line; other options are
 *            skipped; '#' starts a comment at the start of a line only
 *   adblock  ||NAME^ (AdGuard / Adblock Plus domain rules) as an entry,
 *            @@||NAME^ as an exclusion; rules with paths, $modifiers or
 *            wildcards, cosmetic and URL rules are skipped; '!' comments
 *   v2fly    [domain:]NAME, full:NAME (exact), keyword:, regexp: (skipped),
 *            include:LIST, each rule with @attributes and &affiliations
 *            (domain-list-community's data/ files)
 *
 * NAME in any case, with or without the trailing dot, in Unicode (converted
 * to its A-label with libidn2) or ASCII (xn-- labels taken as they are);
 * list_name turns it into the canonical record form of lib/rec.h, so list
 * keys and record names compare bytewise.
 */
#ifndef LIST_H
#define LIST_H

#include <stddef.h>

#include "rec.h"

enum list_format {
	LIST_AUTO = 0, /* not known (yet): list_sniff decides */
	LIST_PLAIN,
	LIST_HOSTS,
	LIST_DNSMASQ,
	LIST_ADBLOCK,
	LIST_V2FLY,
};

enum list_result {
	LIST_EMPTY = 0, /* blank, comment or header only */
	LIST_ENTRY,	/* names (and names dropped: see list_line.dropped) */
	LIST_SKIP,	/* a rule this toolkit does not take: .skip says why */
	LIST_BAD,	/* malformed: .why says what is wrong */
	LIST_INCLUDE,	/* v2fly include:, .include names the list */
};

/* Why a rule, or a name of a line, is skipped (counted, not an error). */
enum list_skip {
	SKIP_LOCALHOST, /* hosts: localhost, ip6-*, an address as a name */
	SKIP_WILDCARD,
	SKIP_PATH,	/* adblock: a path, a port or more after the name */
	SKIP_MODIFIER,	/* adblock: $modifiers */
	SKIP_RULE,	/* adblock: cosmetic, URL, unanchored or address rule */
	SKIP_KEYWORD,	/* v2fly keyword: */
	SKIP_REGEXP,	/* v2fly regexp:, adblock /regex/ */
	SKIP_OPTION,	/* dnsmasq: another option, or no domain */
	SKIP_ATTRIBUTE, /* v2fly: left out by an attribute filter */
	SKIP_N
};

struct list_line {
	enum list_result res;
	const char *why;     /* LIST_BAD */
	enum list_skip skip; /* LIST_SKIP */
	char *names;	     /* LIST_ENTRY: n names, each NUL-terminated,
				back to back (raw, for list_name) */
	size_t n;
	size_t dropped[SKIP_N]; /* names of the line skipped, per reason */
	int excluded;		/* !NAME, @@||NAME^ */
	int exact;		/* =NAME, full:NAME */
	char *tag;		/* plain: the line's TAG, or NULL */
	size_t tag_len;
	char *attrs; /* v2fly: nattrs attribute names (without
			'@'; for include: filters, "-a" for
			@-a), each NUL-terminated */
	size_t nattrs;
	char *include; /* LIST_INCLUDE: the list's name */
};

/*
 * Parses line[0..len) (NUL-terminated, modified in place: the pointers of
 * l point into it) in format f (not LIST_AUTO) into l.
 */
enum list_result list_line(enum list_format f, char *line, size_t len,
			   struct list_line *l);

/*
 * The format a line shows, or LIST_AUTO when it could be several (a bare
 * name, a comment). Read-only.
 */
enum list_format list_sniff(const char *line, size_t len);

/* "plain", "hosts", ... ; and back (-1 for an unknown name). */
const char *list_format_name(enum list_format f);
int list_format_parse(const char *s, enum list_format *f);

/* A reason for counting, as the summary line says it ("wildcard"). */
const char *list_skip_name(enum list_skip s);

/*
 * Converts a name as a person writes it (any case, Unicode or ASCII, one
 * trailing dot) to the canonical record form in out (REC_NAME_MAX bytes).
 * 0, or -1 with *why set.
 */
int list_name(const char *in, size_t len, char *out, size_t *outlen,
	      const char **why);

#endif
