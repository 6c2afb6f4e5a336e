/*
 * frame_test: dnstap frames (packed here with the generated protobuf-c
 * code) to answer records: the exact lines, message type selection, the
 * time fallbacks, escapes, and each kind of bad frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dnstap-read/frame.h"
#include "../unit/t.h"
#include "dnstap.pb-c.h"
#include "../unit/msg.h"

static char got[8192];
static size_t gotlen, gotbytes;

static void
collect(void *arg, const char *line, size_t n)
{
	(void)arg;
	gotbytes += n;
	if (gotlen + n < sizeof got) {
		memcpy(got + gotlen, line, n);
		gotlen += n;
		got[gotlen] = '\0';
	}
}

/* got, on one line, for messages. */
static const char *
flat(void)
{
	static char f[sizeof got];
	size_t i;

	for (i = 0; i <= gotlen; i++)
		f[i] = got[i] == '\n' ? '|' : got[i];
	return f;
}

static struct msg m;
static uint8_t frame[70000];

/* Packs m as the response of a message of the given type and times. */
static size_t
pack(int type, long long rsec, long long qsec, uint32_t nsec)
{
	Dnstap__Dnstap d = DNSTAP__DNSTAP__INIT;
	Dnstap__Message msg = DNSTAP__MESSAGE__INIT;

	d.type = DNSTAP__DNSTAP__TYPE__MESSAGE;
	d.message = &msg;
	msg.type = (Dnstap__Message__Type)type;
	msg.has_response_message = 1;
	msg.response_message.data = m.b;
	msg.response_message.len = m.len;
	if (rsec >= 0) {
		msg.has_response_time_sec = 1;
		msg.response_time_sec = (uint64_t)rsec;
		msg.has_response_time_nsec = 1;
		msg.response_time_nsec = nsec;
	}
	if (qsec >= 0) {
		msg.has_query_time_sec = 1;
		msg.query_time_sec = (uint64_t)qsec;
	}
	return dnstap__dnstap__pack(&d, frame);
}

static enum frame_res
run(struct frame_ctx *c, size_t len, unsigned *n)
{
	uint8_t *copy = malloc(len ? len : 1);
	enum frame_res r;

	memcpy(copy, frame, len);
	gotlen = gotbytes = 0;
	got[0] = '\0';
	r = frame_records(c, copy, len, collect, NULL, n);
	free(copy);
	return r;
}

int
main(void)
{
	struct frame_ctx *c = frame_ctx_init(FRAME_T_CLIENT, 65536 * 2);
	struct frame_ctx *cr =
	    frame_ctx_init(FRAME_T_RESOLVER | FRAME_T_FORWARDER, 65536 * 2);
	unsigned n;
	size_t len;
	enum frame_res r;

	/* A chain answer: the exact lines. */
	m_start(&m, "WWW.example.com", 1, 3);
	m_cname(&m, "www.example.com", "cdn.Example.net");
	m_a(&m, "cdn.example.net", 7);
	m_aaaa(&m, "cdn.example.net", 1);
	len = pack(6, 1764150000, 1, 123456789);
	r = run(c, len, &n);
	T_CHECK(r == FRAME_OK && n == 2 &&
		    strcmp(got, "answer 1764150000.123456 www.example.com "
				"192.0.2.7 300 - cdn.example.net\n"
				"answer 1764150000.123456 www.example.com "
				"2001:db8::1 300 - cdn.example.net\n") == 0,
		"client response to records: %s", flat());

	T_CHECK(!frame_cut(c), "a plain chain is not cut");

	/* A CNAME loop is reported as a cut answer. */
	m_start(&m, "loop.example", 1, 3);
	m_cname(&m, "loop.example", "a.example");
	m_cname(&m, "a.example", "loop.example");
	m_a(&m, "a.example", 3);
	len = pack(6, 1, -1, 0);
	T_CHECK(run(c, len, &n) == FRAME_OK && n == 1 && frame_cut(c),
		"CNAME loop: the address on it, and the answer marked cut");

	/* Resolver responses only when asked for. */
	m_start(&m, "WWW.example.com", 1, 3);
	m_cname(&m, "www.example.com", "cdn.Example.net");
	m_a(&m, "cdn.example.net", 7);
	m_aaaa(&m, "cdn.example.net", 1);
	len = pack(4, 1764150000, -1, 0);
	T_CHECK(run(c, len, &n) == FRAME_SKIPPED && n == 0,
		"resolver response skipped by default");
	T_CHECK(run(cr, len, &n) == FRAME_OK && n == 2,
		"resolver response taken with -t resolver");
	len = pack(8, 1764150000, -1, 0);
	T_CHECK(run(cr, len, &n) == FRAME_OK && n == 2,
		"forwarder response taken with -t forwarder");
	len = pack(5, 1764150000, -1, 0);
	T_CHECK(run(c, len, &n) == FRAME_SKIPPED, "client query skipped");

	/* No response time: the query time. */
	m_start(&m, "a.example", 1, 1);
	m_a(&m, NULL, 1);
	len = pack(6, -1, 1700000000, 0);
	T_CHECK(
	    run(c, len, &n) == FRAME_OK &&
		strcmp(
		    got,
		    "answer 1700000000.000000 a.example 192.0.2.1 300 - -\n") ==
		    0,
	    "query time when no response time: %s", flat());

	/* Odd bytes in the question come out as \DDD. */
	m.len = 0;
	m_u16(&m, 1);
	m_u16(&m, 0x8180);
	m_u16(&m, 1);
	m_u16(&m, 1);
	m_u16(&m, 0);
	m_u16(&m, 0);
	m_u8(&m, 7);
	m_raw(&m, "o d,d.\\", 7);
	m_name(&m, "example");
	m_u16(&m, 1);
	m_u16(&m, 1);
	m_a(&m, NULL, 3);
	len = pack(6, 5, -1, 0);
	T_CHECK(run(c, len, &n) == FRAME_OK &&
		    strcmp(got,
			   "answer 5.000000 o\\032d\\044d\\046\\092.example "
			   "192.0.2.3 300 - -\n") == 0,
		"odd bytes escaped: %s", flat());

	/* Bad frames, each its own kind. */
	memcpy(frame, "\xff\xff\xff\xff garbage", 12);
	T_CHECK(run(c, 12, &n) == FRAME_E_PROTO, "garbage is a protobuf error");
	T_CHECK(run(c, 0, &n) == FRAME_E_PROTO,
		"empty frame is a protobuf error");
	{
		Dnstap__Dnstap d = DNSTAP__DNSTAP__INIT;

		len = dnstap__dnstap__pack(&d, frame);
		T_CHECK(run(c, len, &n) == FRAME_E_DNSTAP,
			"no message is a dnstap error");
	}
	len = pack(6, 1, -1, 1000000000u);
	T_CHECK(run(c, len, &n) == FRAME_E_DNSTAP,
		"nanoseconds >= 1e9 refused");
	m.len -= 3;
	len = pack(6, 1, -1, 0);
	T_CHECK(run(c, len, &n) == FRAME_E_DNS && n == 0,
		"truncated DNS message is a dns error");
	/* Every truncation of a good frame fails cleanly or emits nothing
	 * wrong (ASan checks the reads). */
	m_start(&m, "www.example.com", 1, 2);
	m_cname(&m, "www.example.com", "cdn.example.net");
	m_a(&m, "cdn.example.net", 7);
	len = pack(6, 1764150000, -1, 0);
	{
		size_t k, ok = 0;

		for (k = 0; k < len; k++)
			if (run(c, k, &n) == FRAME_OK && n > 0)
				ok++;
		T_CHECK(ok == 0, "no truncated frame yields records");
	}

	/*
	 * Amplification (issue 11): one 20 KB response, 1024 A records under
	 * a chain of 15 CNAMEs of 255-byte names made of bytes that are
	 * escaped, would be 15 MB of records. The records of one response are
	 * bounded (ANSWER_RECORDS_MAX, ANSWER_LINE_MAX, ANSWER_BYTES_MAX) and
	 * the cut is reported.
	 */
	m_amplifier(&m, 15, 1024);
	T_CHECK(m.len > 19000 && m.len < 22000, "amplifier is %zu bytes",
		m.len);
	len = pack(6, 1764150000, -1, 0);
	r = run(c, len, &n);
	T_CHECK(r == FRAME_OK && gotbytes <= 32768 && n <= 256,
		"amplifier: %u records, %zu bytes (at most 256, 32768)", n,
		gotbytes);
	T_CHECK(frame_cut(c) && frame_dropped(c) == 1024,
		"amplifier: reported as cut, 1024 records dropped");

	frame_ctx_destroy(&c);
	frame_ctx_destroy(&cr);
	T_CHECK(c == NULL, "destroy clears the pointer");
	T_DONE();
}
