/*
 * list: one line of a domain list text (domain-compile's input), parsed.
 *
 *   [!]NAME [TAG]   # a comment runs from '#' to the end of the line
 *
 * NAME in any case, with or without the trailing dot, in Unicode (converted
 * to its A-label with libidn2) or ASCII (xn-- labels taken as they are);
 * the result is the canonical record form of lib/rec.h, so list keys and
 * record names compare bytewise. TAG overrides the list's tag for this line;
 * an exclusion (!NAME) takes no tag.
 */
#ifndef LIST_H
#define LIST_H

#include <stddef.h>

#include "rec.h"

enum list_result {
	LIST_EMPTY = 0, /* blank or comment only */
	LIST_ENTRY,
	LIST_BAD,	/* *why says what is wrong */
};

struct list_entry {
	char name[REC_NAME_MAX];
	size_t name_len;
	char tag[REC_TAG_MAX + 1]; /* "" when the line has none */
	size_t tag_len;
	int excluded;
};

/* Parses line[0..len) (NUL-terminated, modified in place) into e. */
enum list_result list_parse(char *line, size_t len, struct list_entry *e,
    const char **why);

/*
 * Converts a name as a person writes it (any case, Unicode or ASCII, one
 * trailing dot) to the canonical record form in out (REC_NAME_MAX bytes).
 * 0, or -1 with *why set.
 */
int list_name(const char *in, size_t len, char *out, size_t *outlen,
    const char **why);

#endif
