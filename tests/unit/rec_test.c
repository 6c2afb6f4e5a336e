/*
 * rec_test: the examples of docs/records.md, parsed and formatted by lib/rec,
 * plus the name and address helpers the programs build records with.
 */
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "t.h"

static char *
reformat(const char *in, char *out, size_t cap)
{
	char line[REC_LINE_MAX];
	struct rec r;
	size_t n = strlen(in);
	enum rec_err e;

	memcpy(line, in, n + 1);
	e = rec_parse(&r, line, n);
	if (e != REC_OK) {
		snprintf(out, cap, "error: %s", rec_strerror(e));
		return out;
	}
	n = rec_format(out, cap, &r);
	if (n == 0)
		return strcpy(out, "error: format");
	out[n - 1] = '\0'; /* the newline */
	return out;
}

static void
examples(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[REC_LINE_MAX], out[REC_LINE_MAX], prev[REC_LINE_MAX] = "";
	enum { NONE, VALID, NORM, INVALID } block = NONE;
	int nvalid = 0, ninvalid = 0, nnorm = 0;

	T_CHECK(f != NULL, "open %s", path);
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "```", 3) == 0) {
			block =
			    strcmp(line, "```records") == 0		 ? VALID
			    : strcmp(line, "```records-normalized") == 0 ? NORM
			    : strcmp(line, "```records-invalid") == 0 ? INVALID
								      : NONE;
			continue;
		}
		switch (block) {
		case NONE:
			break;
		case VALID:
			nvalid++;
			T_CHECK(strcmp(reformat(line, out, sizeof out), line) ==
				    0,
				"records.md valid: %s -> %s", line, out);
			break;
		case NORM:
			if (strncmp(line, "=> ", 3) == 0) {
				nnorm++;
				T_CHECK(strcmp(reformat(prev, out, sizeof out),
					       line + 3) == 0,
					"records.md normalized: %s -> %s", prev,
					out);
			} else
				strcpy(prev, line);
			break;
		case INVALID:
			ninvalid++;
			T_CHECK(strncmp(reformat(line, out, sizeof out),
					"error: ", 7) == 0,
				"records.md invalid: %s (%s)", line, out);
			break;
		}
	}
	fclose(f);
	T_CHECK(nvalid >= 10 && ninvalid >= 10 && nnorm >= 3,
		"records.md has examples (%d valid, %d normalized, %d invalid)",
		nvalid, nnorm, ninvalid);
}

static void
names(void)
{
	static const uint8_t w1[] = {3,	  'W', 'w', 'W', 7,   'e', 'x',
				     'a', 'm', 'p', 'l', 'e', 0};
	static const uint8_t w2[] = {3, 'a', '.', ' ', 1, 0xff, 0};
	static const uint8_t root[] = {0};
	static const uint8_t bad1[] = {3, 'a', 'b'};	/* truncated */
	static const uint8_t bad2[] = {64, 'a', 0};	/* label > 63 */
	static const uint8_t bad3[] = {1, 'a', 1, 'b'}; /* no root label */
	uint8_t big[300];
	char out[REC_NAME_MAX];
	size_t n, i;

	n = rec_name_from_wire(out, sizeof out, w1, sizeof w1);
	T_CHECK(n == 11 && strcmp(out, "www.example") == 0,
		"name_from_wire lowercases (%s)", out);
	n = rec_name_from_wire(out, sizeof out, w2, sizeof w2);
	T_CHECK(strcmp(out, "a\\046\\032.\\255") == 0,
		"name_from_wire escapes (%s)", out);
	n = rec_name_from_wire(out, sizeof out, root, sizeof root);
	T_CHECK(n == 1 && strcmp(out, ".") == 0, "name_from_wire root");
	T_CHECK(rec_name_from_wire(out, sizeof out, bad1, sizeof bad1) == 0,
		"name_from_wire truncated");
	T_CHECK(rec_name_from_wire(out, sizeof out, bad2, sizeof bad2) == 0,
		"name_from_wire long label");
	T_CHECK(rec_name_from_wire(out, sizeof out, bad3, sizeof bad3) == 0,
		"name_from_wire no root label");
	T_CHECK(rec_name_from_wire(out, 5, w1, sizeof w1) == 0,
		"name_from_wire small buffer");

	/* The longest wire name, all escaped, fits REC_NAME_MAX. */
	for (i = 0; i + 64 < 255; i += 64) {
		big[i] = 63;
		memset(big + i + 1, 0xfe, 63);
	}
	big[i] = (uint8_t)(255 - i - 2);
	memset(big + i + 1, 0xfe, 255 - i - 2);
	big[254] = 0;
	n = rec_name_from_wire(out, sizeof out, big, 255);
	T_CHECK(n > 900 && n < REC_NAME_MAX, "name_from_wire 255 bytes (%zu)",
		n);
	T_CHECK(rec_name_check(out, &n) == 0, "its text form checks");
}

static void
addrs(void)
{
	struct rec_addr p, a;
	char out[64];

	T_CHECK(rec_addr_parse(&p, "10.0.0.0/8", 10, 1) == 0, "parse 10/8");
	T_CHECK(rec_addr_parse(&a, "10.1.2.3", 8, 0) == 0, "parse 10.1.2.3");
	T_CHECK(rec_addr_contains(&p, &a), "10/8 contains 10.1.2.3");
	rec_addr_parse(&a, "11.1.2.3", 8, 0);
	T_CHECK(!rec_addr_contains(&p, &a), "10/8 lacks 11.1.2.3");
	T_CHECK(rec_addr_parse(&p, "fc00::/7", 8, 1) == 0, "parse fc00::/7");
	rec_addr_parse(&a, "fd12::1", 7, 0);
	T_CHECK(rec_addr_contains(&p, &a), "fc00::/7 contains fd12::1");
	rec_addr_parse(&a, "fe80::1", 7, 0);
	T_CHECK(!rec_addr_contains(&p, &a), "fc00::/7 lacks fe80::1");
	T_CHECK(rec_addr_parse(&p, "0.0.0.0/0", 9, 1) == 0, "parse 0/0");
	T_CHECK(rec_addr_contains(&p, &a) == 0, "0/0 is IPv4 only");
	T_CHECK(rec_addr_parse(&p, "1.2.3.4/08", 10, 1) == -1,
		"leading zero length refused");
	rec_addr_parse(&a, "::ffff:127.0.0.1", 16, 0);
	rec_addr_format(out, sizeof out, &a, 0);
	T_CHECK(a.family == 4 && strcmp(out, "127.0.0.1") == 0,
		"mapped address is IPv4 (%s)", out);
	rec_addr_format(out, sizeof out, &a, 1);
	T_CHECK(strcmp(out, "127.0.0.1/32") == 0, "with length (%s)", out);
}

/* A NUL cannot be written in records.md: these lines are built here. */
static void
nuls(void)
{
	static const char *const lines[] = {
	    "peer 1764150000.250000 www.example.com 192.0.2.1\0JUNK -",
	    "answer 1764150000.000000 www.example.com 192.0.2.1\0 300 - -",
	    "announce 192.0.2.1/32 - www.example.com\0",
	    "eor\0",
	    "mark 1\0002",
	};
	char line[256];
	struct rec r;
	struct rec_addr a;
	size_t i, n;

	for (i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		/* The length runs to the second string's end. */
		n = strlen(lines[i]);
		n += 1 + strlen(lines[i] + n + 1);
		memcpy(line, lines[i], n + 1);
		T_CHECK(rec_parse(&r, line, n) == REC_E_NUL,
			"a NUL inside line %zu is refused", i);
	}
	T_CHECK(rec_addr_parse(&a, "192.0.2.1\0x", 11, 0) == -1,
		"an address with a NUL inside is refused");
	T_CHECK(rec_addr_parse(&a, "192.0.2.1", 9, 0) == 0,
		"the same address without it parses");
}

int
main(int argc, char **argv)
{
	examples(argc > 1 ? argv[1] : "docs/records.md");
	names();
	addrs();
	nuls();
	T_DONE();
}
