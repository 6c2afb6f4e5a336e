/*
 * listfmt: what list.c and formats.c share (not for the programs: they
 * use list.h).
 */
#ifndef LISTFMT_H
#define LISTFMT_H

#include "list.h"

static inline int
lf_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static inline enum list_result
lf_bad(struct list_line *l, const char *why)
{
	l->why = why;
	return LIST_BAD;
}

static inline enum list_result
lf_skip(struct list_line *l, enum list_skip why)
{
	l->skip = why;
	return LIST_SKIP;
}

/* Blanks off both ends of p..*end; *end is written a NUL. */
char *lf_trim(char *p, char **end);
/* The next blank-separated token of *p..end (its length in *len), or NULL. */
char *lf_token(char **p, char *end, size_t *len);
/* Moves name s (n bytes) to *w, NUL-terminates it, counts it in l. */
void lf_put(struct list_line *l, char **w, const char *s, size_t n);

enum list_result lf_hosts(char *line, char *end, struct list_line *l);
enum list_result lf_dnsmasq(char *line, char *end, struct list_line *l);
enum list_result lf_adblock(char *line, char *end, struct list_line *l);
enum list_result lf_v2fly(char *line, char *end, struct list_line *l);

#endif
