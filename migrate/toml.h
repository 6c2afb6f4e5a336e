/*
 * toml: a strict parser of the part of TOML that the Go dnstap-bgp
 * daemon's configuration uses (Debian 12 has no C TOML library).
 *
 *   # comment
 *   key = "basic string"     'literal string'
 *   key = 65000              (decimal integers, _ between digits)
 *   key = true               false
 *   key = ["a", "b",]        (arrays of those, over several lines)
 *   [table]
 *
 * Keys are bare (A-Z a-z 0-9 _ -) or quoted. Everything else TOML has
 * (dotted keys, inline tables, arrays of tables, multi-line strings,
 * floats, dates, nested arrays) is refused with the line and what it is,
 * never guessed at; so are duplicate keys and tables, control characters
 * and bytes that are not UTF-8.
 */
#ifndef TOML_H
#define TOML_H

#include <stddef.h>

enum toml_type { TOML_STRING, TOML_INT, TOML_BOOL, TOML_ARRAY };

struct toml_val {
	enum toml_type type;
	char *s; /* TOML_STRING: NUL-terminated (a NUL inside is refused) */
	long long i;
	int b;
	struct toml_val *items; /* TOML_ARRAY: n values, none an array */
	size_t n;
};

struct toml_kv {
	char *table; /* "" for the top level */
	char *key;
	struct toml_val v;
	int line;
};

struct toml {
	struct toml_kv *kv; /* in the order written */
	size_t n;
	char **tables; /* the [table] headers, also when empty */
	size_t ntables;
};

/*
 * Parses text[0..len). 0, or -1 with the reason in err and its line in
 * *line (and t freed); -1 with errno ENOMEM for memory.
 */
int toml_parse(const char *text, size_t len, struct toml *t, char *err,
	       size_t errlen, int *line);
void toml_free(struct toml *t);

#endif
