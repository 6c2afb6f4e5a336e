/*
 * answer_test: a parsed DNS response to answer records (lib/answer): the
 * exact lines (chain, escapes, TTL, time), the bounds against amplification,
 * and the address formatter against inet_ntop over every shape of zero runs.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "msg.h"
#include "t.h"

static struct msg m;
static struct dns_answers a;
static struct answer_fmt f;
static char out[ANSWER_BYTES_MAX];
static size_t outlen;

static int
run(int64_t t)
{
	if (dns_answers(&a, m.b, m.len) != DNS_OK)
		return -1;
	if (answer_format(&f, &a, t, out, sizeof out, &outlen) == -1)
		return -1;
	out[outlen < sizeof out ? outlen : sizeof out - 1] = '\0';
	return 0;
}

/* Every line of out parses as a record and formats back to itself. */
static int
lines_roundtrip(void)
{
	char line[REC_LINE_MAX], back[REC_LINE_MAX];
	const char *p = out, *nl;
	struct rec r;
	size_t n;

	while (p < out + outlen) {
		nl = memchr(p, '\n', (size_t)(out + outlen - p));
		if (!nl)
			return 0;
		n = (size_t)(nl - p);
		memcpy(line, p, n);
		line[n] = '\0';
		if (rec_parse(&r, line, n) != REC_OK)
			return 0;
		if (rec_format(back, sizeof back, &r) != n + 1 ||
		    memcmp(back, p, n + 1) != 0)
			return 0;
		p = nl + 1;
	}
	return 1;
}

/* rec_addr_format against inet_ntop for one address. */
static int
addr_same(const uint8_t *b, int v6)
{
	char want[INET6_ADDRSTRLEN], got[64];
	struct rec_addr ra;

	memset(&ra, 0, sizeof ra);
	ra.family = v6 ? 6 : 4;
	ra.plen = v6 ? 128 : 32;
	memcpy(ra.a, b, v6 ? 16 : 4);
	if (!inet_ntop(v6 ? AF_INET6 : AF_INET, b, want, sizeof want))
		return 0;
	if (rec_addr_format(got, sizeof got, &ra, 0) != strlen(want) ||
	    strcmp(got, want) != 0) {
		printf("# %s != %s\n", got, want);
		return 0;
	}
	return 1;
}

int
main(void)
{
	static const uint16_t vals[] = {1,     0xf,    0x10,   0xab,   0x100,
					0xfff, 0x1000, 0xffff, 0x2001, 0xdb8};
	unsigned pat, i, v, bad = 0, tried = 0;
	uint8_t b[16];
	uint32_t x = 12345;

	/* Chain, direct and out-of-chain owners, mixed case, v4 and v6. */
	m_start(&m, "WWW.example.com", 1, 4);
	m_cname(&m, "www.example.com", "cdn.Example.net");
	m_a(&m, "cdn.example.net", 7);
	m_aaaa(&m, "cdn.example.net", 1);
	m_a(&m, NULL, 9);
	T_CHECK(run(1764150000123456) == 0 &&
		    strcmp(out, "answer 1764150000.123456 www.example.com "
				"192.0.2.7 300 - cdn.example.net\n"
				"answer 1764150000.123456 www.example.com "
				"2001:db8::1 300 - cdn.example.net\n"
				"answer 1764150000.123456 www.example.com "
				"192.0.2.9 300 - -\n") == 0 &&
		    f.nrec == 3 && f.dropped == 0,
		"chain and direct answers");
	T_CHECK(lines_roundtrip(), "records parse and format back");
	T_CHECK(f.qname_len == 15 && strcmp(f.qname, "www.example.com") == 0 &&
		    f.nchain == 1 && f.ends[1] == 15 &&
		    memcmp(f.chain, "cdn.example.net", 15) == 0,
		"question and chain names kept for lookups");

	/* A two-link chain: the chain field up to the owner's depth. */
	m_start(&m, "a.example", 28, 4);
	m_cname(&m, "a.example", "b.example");
	m_cname(&m, "b.example", "c.example");
	m_aaaa(&m, "b.example", 2);
	m_aaaa(&m, "c.example", 3);
	T_CHECK(
	    run(5) == 0 &&
		strcmp(out,
		       "answer 0.000005 a.example 2001:db8::2 300 - b.example\n"
		       "answer 0.000005 a.example 2001:db8::3 300 - "
		       "b.example,c.example\n") == 0,
	    "depth picks the chain prefix");

	/* Escapes, TTL 0 from 2^31 and above, a mapped v4 address. */
	m.len = 0;
	m_u16(&m, 1);
	m_u16(&m, 0x8180);
	m_u16(&m, 1);
	m_u16(&m, 2);
	m_u16(&m, 0);
	m_u16(&m, 0);
	m_u8(&m, 7);
	m_raw(&m, "o d,d.\\", 7);
	m_name(&m, "Example");
	m_u16(&m, 1);
	m_u16(&m, 1);
	m_ptr(&m, 12);
	m_rr(&m, 1, 0x80000000u, 4);
	m_raw(&m, "\xc6\x33\x64\x07", 4);
	m_ptr(&m, 12);
	m_rr(&m, 28, 2147483647u, 16);
	m_raw(&m, "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\x00\x02\x08", 16);
	T_CHECK(run(0) == 0 &&
		    strcmp(out,
			   "answer 0.000000 o\\032d\\044d\\046\\092.example "
			   "198.51.100.7 0 - -\n"
			   "answer 0.000000 o\\032d\\044d\\046\\092.example "
			   "192.0.2.8 2147483647 - -\n") == 0,
		"escapes, TTLs, mapped address");
	T_CHECK(lines_roundtrip(), "escaped records parse and format back");

	/* No address: nothing, no error. */
	m_start(&m, "none.example", 1, 0);
	T_CHECK(run(1) == 0 && outlen == 0 && f.nrec == 0, "no address");

	/* The amplifier: 20 KB in, at most ANSWER_BYTES_MAX out. */
	m_amplifier(&m, 15, 1024);
	T_CHECK(m.len > 19000 && m.len < 22000, "amplifier is %zu bytes",
		m.len);
	T_CHECK(run(1) == 0 && outlen <= ANSWER_BYTES_MAX &&
		    f.nrec + f.dropped == 1024 && f.dropped > 0,
		"amplifier: %zu bytes, %u records, %u dropped", outlen, f.nrec,
		f.dropped);
	/* Records over ANSWER_LINE_MAX are dropped, shorter ones kept. */
	m_amplifier(&m, 1, 3);
	T_CHECK(run(1) == 0 && f.nrec == 3 && f.dropped == 0 &&
		    lines_roundtrip(),
		"one long link: records of %zu bytes kept", outlen / 3);
	m_amplifier(&m, 2, 3);
	T_CHECK(run(1) == 0 && f.nrec == 0 && f.dropped == 3 && outlen == 0,
		"two long links: over ANSWER_LINE_MAX, dropped");
	/* Many plain addresses: cut at ANSWER_RECORDS_MAX. */
	m_start(&m, "many.example", 1, 300);
	for (i = 0; i < 300; i++)
		m_a(&m, NULL, (uint8_t)i);
	T_CHECK(run(1) == 0 && f.nrec == ANSWER_RECORDS_MAX &&
		    f.dropped == 300 - ANSWER_RECORDS_MAX && lines_roundtrip(),
		"addresses past ANSWER_RECORDS_MAX dropped");
	/* The caller's buffer bounds it too, whole lines only. */
	m_start(&m, "www.example.com", 1, 3);
	for (i = 0; i < 3; i++)
		m_a(&m, NULL, (uint8_t)i);
	T_CHECK(dns_answers(&a, m.b, m.len) == DNS_OK &&
		    answer_format(&f, &a, 1, out, 80, &outlen) == 0 &&
		    f.nrec == 1 && f.dropped == 2 && out[outlen - 1] == '\n',
		"a small buffer takes whole lines");

	/* Addresses: every pattern of zero groups, against inet_ntop. */
	for (pat = 0; pat < 256; pat++)
		for (v = 0; v < sizeof vals / sizeof vals[0]; v++) {
			for (i = 0; i < 8; i++) {
				unsigned w =
				    pat & 1u << i
					? vals[(v + i) %
					       (sizeof vals / sizeof vals[0])]
					: 0;

				b[2 * i] = (uint8_t)(w >> 8);
				b[2 * i + 1] = (uint8_t)w;
			}
			tried++;
			bad += !addr_same(b, 1);
		}
	/* The dotted tails glibc writes: ::a.b.c.d, ::ffff:a.b.c.d. */
	for (i = 0; i < 4096; i++) {
		memset(b, 0, 16);
		x = x * 1103515245 + 12345;
		memcpy(b + 12, &x, 4);
		if (i & 1)
			b[10] = b[11] = 0xff;
		if (i & 2)
			b[12] = b[13] = 0;
		tried++;
		bad += !addr_same(b, 1);
		bad += !addr_same(b + 12, 0);
	}
	for (i = 0; i < 100000; i++) {
		unsigned k;

		for (k = 0; k < 16; k++) {
			x = x * 1103515245 + 12345;
			b[k] = (x >> 16) & 3 ? (uint8_t)(x >> 8) : 0;
		}
		tried++;
		bad += !addr_same(b, 1);
	}
	T_CHECK(bad == 0, "%u addresses as inet_ntop writes them, %u differ",
		tried, bad);

	T_DONE();
}
