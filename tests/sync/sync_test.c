/*
 * sync_test: the Go wire format (lib/sync.c): times both ways, entries as
 * encoding/json writes them, and the stream parser on good, broken and
 * hostile input fed in chunks of every size.
 */
#include <stdlib.h>
#include <string.h>

#include "../unit/t.h"
#include "sync.h"

struct got {
	char out[4096];
	size_t len;
	int stop_after;
};

static int
collect(const struct sync_raw *r, void *arg)
{
	struct got *g = arg;
	struct sync_entry e;
	enum sync_err err;
	int n;

	err = sync_entry_from_raw(&e, r, 1900000000LL * 1000000);
	if (err == SYNC_OK)
		n = snprintf(g->out + g->len, sizeof g->out - g->len,
			     "%s %s %lld %s|", e.name, e.tag,
			     (long long)e.time_us, r->ip);
	else
		n = snprintf(g->out + g->len, sizeof g->out - g->len, "E:%s|",
			     sync_strerror(err));
	g->len += (size_t)n;
	return g->stop_after && --g->stop_after == 0;
}

/* Parses s in chunks of step bytes; returns "OK:entries" or "ERR:why". */
static const char *
parse(enum sync_mode mode, const char *s, size_t step, struct got *g)
{
	static char res[4200];
	struct sync_parser *p = sync_parser_new(mode, collect, g);
	size_t i, n = strlen(s);
	int rc = 0;

	g->len = 0;
	g->out[0] = '\0';
	for (i = 0; i < n && rc == 0; i += step)
		rc = sync_parser_feed(p, s + i, n - i < step ? n - i : step);
	if (rc == 0)
		rc = sync_parser_finish(p);
	snprintf(res, sizeof res, "%s:%s", rc ? "ERR" : "OK",
		 rc ? sync_parser_error(p) : g->out);
	sync_parser_free(&p);
	return res;
}

static void
case_(enum sync_mode mode, const char *in, const char *want)
{
	struct got g = {.stop_after = 0};
	size_t step;
	const char *r;
	char name[61];

	snprintf(name, sizeof name, "%s", in);
	name[strcspn(name, "\n")] = '\0';

	for (step = 1; step <= strlen(in) + 1; step++) {
		r = parse(mode, in, step, &g);
		if (strncmp(r, want, strlen(want)) != 0) {
			T_CHECK(0, "parse %s (step %zu): got %s want %s", name,
				step, r, want);
			return;
		}
	}
	T_CHECK(1, "parse %s -> %.60s", name, want);
}

static void
time_case(const char *s, long long want_us, int ok)
{
	int64_t us = 0;
	int rc = sync_time_parse(s, strlen(s), &us);

	T_CHECK(ok ? rc == 0 && us == want_us : rc == -1, "time %s", s);
}

/* A name as a peer sends it -> canonical, or "" for refused. */
static void
name_case(const char *in, const char *want)
{
	char out[REC_NAME_MAX], again[REC_NAME_MAX];
	size_t n = sync_name_canon(out, sizeof out, in, strlen(in)), k;

	out[n] = '\0';
	if (!*want) {
		T_CHECK(n == 0, "name %s refused (got %s)", in, out);
		return;
	}
	/* the output is what the record parser keeps as it is */
	memcpy(again, out, n + 1);
	k = n;
	T_CHECK(n && strcmp(out, want) == 0 && rec_name_check(again, &k) == 0 &&
		    k == n && strcmp(again, out) == 0,
		"name %s -> %s (got %s)", in, want, out);
}

int
main(void)
{
	char buf[600], *big;
	size_t n;
	struct rec_addr a;

	/* Go's RFC3339Nano: fraction without trailing zeros, Z for UTC */
	n = sync_time_format(buf, sizeof buf, 1764150000123456LL);
	T_CHECK(n && memcmp(buf, "2025-11-26T09:40:00.123456Z", n) == 0,
		"time format with fraction");
	n = sync_time_format(buf, sizeof buf, 1764150000500000LL);
	T_CHECK(n && memcmp(buf, "2025-11-26T09:40:00.5Z", n) == 0,
		"time format trailing zeros dropped");
	n = sync_time_format(buf, sizeof buf, 951782400000000LL);
	T_CHECK(n && memcmp(buf, "2000-02-29T00:00:00Z", n) == 0,
		"time format whole second, leap day");
	time_case("2025-11-26T09:40:00.123456Z", 1764150000123456LL, 1);
	time_case("2025-11-26T10:40:00.123456789+01:00", 1764150000123456LL, 1);
	time_case("2025-11-26T04:10:00-05:30", 1764150000000000LL, 1);
	time_case("1970-01-01T00:00:00Z", 0, 1);
	time_case("2000-02-29T00:00:00Z", 951782400000000LL, 1);
	time_case("2001-02-29T00:00:00Z", 0, 0);
	time_case("2025-11-26T09:40:00", 0, 0);
	time_case("2025-11-26 09:40:00Z", 0, 0);
	time_case("2025-11-26T24:00:00Z", 0, 0);
	time_case("2025-11-26T09:40:00.Z", 0, 0);
	time_case("2025-11-26T09:40:00+0100", 0, 0);
	time_case("2025-13-26T09:40:00Z", 0, 0);

	/* names as the Go daemon sends them (miekg/dns presentation format) */
	name_case("www.example.com", "www.example.com");
	name_case("WWW.Example.COM", "www.example.com");
	name_case("www.example.com.", "www.example.com");
	name_case("A\\.B.Example.com", "a\\046b.example.com");
	name_case("a\\ b\\@c\\;d\\(e\\)f\\\"g\\'h\\\\i.example",
		  "a\\032b\\064c\\059d\\040e\\041f\\034g\\039h\\092i.example");
	name_case("x\\000\\255\\127y.example", "x\\000\\255\\127y.example");
	name_case("\\097\\066c.example", "abc.example");
	name_case("a,b+c!d=e/f.example",
		  "a\\044b\\043c\\033d\\061e\\047f.example");
	name_case("_srv.*.x-y.example", "_srv.*.x-y.example");
	name_case("odd\\032name\\046with\\092bytes.example",
		  "odd\\032name\\046with\\092bytes.example");
	name_case("a\\..example", "a\\046.example");
	name_case("a\\.", "a\\046");
	name_case(".", ".");
	name_case("", "");
	name_case("..", "");
	name_case("a..example", "");
	name_case(".example", "");
	name_case("example..", "");
	name_case("a\\", "");
	name_case("a\\25", "");
	name_case("a\\25.example", "");
	name_case("a\\256.example", "");
	name_case("a\\2x5.example", "");
	name_case("a b.example", "");
	name_case("a\tb.example", "");
	name_case("caf\xc3\xa9.example", "");
	name_case("a\\\x01b.example", "");
	{
		char in[600], want[600];

		/* 63 bytes in a label, 255 in the wire form: the limits */
		memset(in, 'a', 63);
		strcpy(in + 63, ".example");
		name_case(in, in);
		memset(in, 'a', 64);
		strcpy(in + 64, ".example");
		name_case(in, "");
		/* 4 labels of 62 + 1 of 1: 4*63 + 2 + 1 = 255 */
		for (int i = 0; i < 4; i++) {
			memset(in + i * 63, 'b', 62);
			in[i * 63 + 62] = '.';
		}
		strcpy(in + 252, "c");
		name_case(in, in);
		strcpy(in + 252, "cd");
		name_case(in, "");
		/* escapes count as one byte each: 62 of \\. is one label */
		for (int i = 0; i < 63; i++)
			memcpy(in + 2 * i, "\\.", 2),
			    memcpy(want + 4 * i, "\\046", 4);
		strcpy(in + 126, ".example");
		strcpy(want + 252, ".example");
		name_case(in, want);
	}

	/* entries as encoding/json writes them */
	rec_addr_parse(&a, "192.0.2.1", 9, 0);
	n = sync_entry_json(buf, sizeof buf, &a, "www.example.com", 15,
			    1764150000123456LL, "");
	buf[n] = '\0';
	T_CHECK(strcmp(buf,
		       "{\"IP\":\"192.0.2.1\",\"Domain\":\"www.example.com\","
		       "\"TS\":\"2025-11-26T09:40:00.123456Z\"}") == 0,
		"entry json: %s", buf);
	rec_addr_parse(&a, "2001:db8::1", 11, 0);
	n = sync_entry_json(buf, sizeof buf, &a, "a\\032b&<>.example", 17,
			    1764150000000000LL, "video");
	buf[n] = '\0';
	T_CHECK(strcmp(buf, "{\"IP\":\"2001:db8::1\",\"Domain\":"
			    "\"a\\\\032b\\u0026\\u003c\\u003e.example\",\"TS\":"
			    "\"2025-11-26T09:40:00Z\",\"Tag\":\"video\"}") == 0,
		"entry json escapes: %s", buf);
	T_CHECK(sync_entry_json(buf, 20, &a, "x", 1, 0, "") == 0,
		"entry json: small buffer refused");

	/* the parser: Go's shapes */
	case_(SYNC_ARRAY, "null\n", "OK:");
	case_(SYNC_ARRAY, "[]\n", "OK:");
	case_(SYNC_ARRAY,
	      "[{\"IP\":\"192.0.2.1\",\"Domain\":\"WWW.Example.com\","
	      "\"TS\":\"2025-11-26T10:40:00.123456789+01:00\"},"
	      "{\"ip\":\"::ffff:192.0.2.2\",\"domain\":\"b.example.\",\"ts\":"
	      "\"2025-11-26T09:40:00Z\",\"Tag\":\"video\",\"Extra\":[1,{\"a\":["
	      "]}]}]\n",
	      "OK:www.example.com  1764150000123456 192.0.2.1|"
	      "b.example video 1764150000000000 ::ffff:192.0.2.2|");
	case_(SYNC_ARRAY,
	      "[{\"IP\":\"192.0.2.300\",\"Domain\":\"a.example\",\"TS\":"
	      "\"2025-11-26T09:40:00Z\"},null,{\"IP\":\"192.0.2.1\",\"Domain\":"
	      "\"a..example\",\"TS\":\"2025-11-26T09:40:00Z\"},{\"IP\":"
	      "\"192.0.2.1\",\"Domain\":\"a.example\",\"TS\":null},{\"IP\":"
	      "\"192.0.2.1\",\"Domain\":\"a.example\",\"TS\":\"2099-01-01T00:"
	      "00:00Z\"},"
	      "{\"IP\":\"192.0.2.1\",\"Domain\":\"a.example\",\"TS\":"
	      "\"2025-11-26T09:40:00Z\",\"Tag\":\"Bad Tag\"}]",
	      "OK:E:bad IP|E:null entry|E:bad Domain|E:bad TS|E:bad TS|E:bad "
	      "Tag|");
	case_(SYNC_OBJECT,
	      "{\"IP\":\"2001:db8::1\",\"Domain\":\"a.example\",\"TS\":"
	      "\"2025-11-26T09:40:00Z\"}",
	      "OK:a.example  1764150000000000 2001:db8::1|");
	case_(SYNC_OBJECT, "null", "OK:E:null entry|");
	/*
	 * What a Go cache can hold: names escaped by miekg/dns (a JSON "\\"
	 * is one backslash), and the entry an empty PUT leaves in it (Go adds
	 * a zero entry on io.EOF), which Go serves as below: each is taken or
	 * refused alone, the rest of the fetch is merged.
	 */
	case_(SYNC_ARRAY,
	      "[{\"IP\":\"\",\"Domain\":\"\",\"TS\":\"0001-01-01T00:00:00Z\"},"
	      "{\"IP\":\"192.0.2.9\",\"Domain\":\"Go\\\\.Esc\\\\032.Example."
	      "COM\","
	      "\"TS\":\"2025-11-26T09:40:00Z\"},"
	      "{\"IP\":\"192.0.2.9\",\"Domain\":\"bad\\\\25.example.com\","
	      "\"TS\":\"2025-11-26T09:40:00Z\"}]\n",
	      "OK:E:bad IP|go\\046esc\\032.example.com  1764150000000000 "
	      "192.0.2.9|"
	      "E:bad Domain|");
	/* encoding/json writes < > & as \u003c \u003e \u0026 (miekg/dns
	 * leaves them raw in a name) */
	case_(SYNC_OBJECT,
	      "{\"IP\":\"192.0.2.9\",\"Domain\":\"a\\u003cb\\u0026c.example\","
	      "\"TS\":\"2025-11-26T09:40:00Z\"}",
	      "OK:a\\060b\\038c.example  1764150000000000 192.0.2.9|");

	/* broken responses */
	case_(SYNC_ARRAY, "", "ERR:empty body");
	case_(SYNC_OBJECT, " \r\n", "ERR:empty body");
	case_(SYNC_ARRAY, "[{\"IP\":\"192.0.2.1\"", "ERR:truncated JSON");
	case_(SYNC_OBJECT, "{\"IP\":\"192.0.2.6\",", "ERR:truncated JSON");
	case_(SYNC_OBJECT, "{\"IP\":\"192.0.2.6\",\"Domain\":\"b.ex",
	      "ERR:truncated JSON");
	case_(SYNC_ARRAY, "nul", "ERR:truncated JSON");
	case_(SYNC_ARRAY,
	      "[{\"IP\":\"192.0.2.1\",\"Domain\":\"a.example\","
	      "\"TS\":\"2025-11-26T09:40:00Z\"}",
	      "ERR:");
	case_(SYNC_ARRAY, "[{\"IP\":1}]", "ERR:wrong type: number");
	case_(SYNC_ARRAY, "[{\"Domain\":[\"a\"]}]", "ERR:wrong type: array");
	case_(SYNC_ARRAY, "[\"x\"]", "ERR:wrong type: string for an entry");
	case_(SYNC_ARRAY, "{}", "ERR:wrong type: object at the top");
	case_(SYNC_ARRAY, "42", "ERR:wrong type: number at the top");
	case_(SYNC_ARRAY, "[] []", "ERR:parse error");
	case_(SYNC_ARRAY, "[}", "ERR:parse error");
	case_(SYNC_OBJECT, "[]", "ERR:wrong type: array at the top");
	case_(SYNC_OBJECT, "{\"IP\":true}", "ERR:wrong type: boolean");

	/* hostile: deep nesting and huge tokens stop early, in bounded memory
	 */
	big = malloc(200001);
	memset(big, '[', 200000);
	big[200000] = '\0';
	memcpy(big + 200000 - 100, "[{\"x\":", 6);
	case_(SYNC_ARRAY, big + 200000 - 100, "ERR:nested too deeply");
	big[0] = '[', big[1] = '"';
	memset(big + 2, 'a', 199998);
	{
		struct got g = {.stop_after = 0};

		T_CHECK(strcmp(parse(SYNC_ARRAY, big, 1000, &g),
			       "ERR:token too long") == 0,
			"long string refused");
		memset(big + 1, '1', 199999);
		T_CHECK(strcmp(parse(SYNC_ARRAY, big, 1000, &g),
			       "ERR:token too long") == 0,
			"long number refused");
	}
	free(big);
	{
		struct got g = {.stop_after = 1};

		T_CHECK(strncmp(parse(SYNC_ARRAY, "[null,null]", 100, &g),
				"ERR:stopped", 11) == 0,
			"callback stops the parse");
	}
	T_DONE();
}
