/*
 * packet_test: dns-hold's checks of queries and answers (dns-hold/packet.c):
 * what is relayed, answered FORMERR or dropped; EDNS sizes; which answers
 * match a query; error responses; truncation to the client's UDP size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dns-hold/packet.h"
#include "../unit/msg.h"
#include "../unit/t.h"

static struct msg m;

/* A query for name/type, with an OPT of udp bytes when udp > 0. */
static void
query(const char *name, unsigned type, unsigned udp)
{
	m.len = 0;
	m_u16(&m, 0xbeef);
	m_u16(&m, 0x0100); /* RD */
	m_u16(&m, 1);
	m_u16(&m, 0);
	m_u16(&m, 0);
	m_u16(&m, udp ? 1 : 0);
	m_name(&m, name);
	m_u16(&m, type);
	m_u16(&m, 1);
	if (udp) {
		m_u8(&m, 0);
		m_u16(&m, 41);
		m_u16(&m, udp);
		m_u32(&m, 0);
		m_u16(&m, 8); /* a cookie option, kept as it is */
		m_u16(&m, 10);
		m_u16(&m, 4);
		m_raw(&m, "\x01\x02\x03\x04", 4);
	}
}

/* Parses a heap copy of exactly len bytes, so ASan sees any overread. */
static enum pkt_verdict
parse(struct pkt_query *q, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);
	enum pkt_verdict v;

	memcpy(c, m.b, len);
	v = pkt_query_parse(q, c, len);
	free(c);
	return v;
}

static int
matches(const struct pkt_query *q)
{
	uint8_t *c = malloc(m.len ? m.len : 1);
	int r;

	memcpy(c, m.b, m.len);
	r = pkt_response_matches(c, m.len, q);
	free(c);
	return r;
}

int
main(void)
{
	struct pkt_query q, q2;
	uint8_t out[600];
	size_t n, k, bad;
	unsigned i;

	/* A plain query, then with EDNS. */
	query("WWW.Example.TEST", 1, 0);
	T_CHECK(parse(&q, m.len) == PKT_RELAY && q.id == 0xbeef &&
		    q.qdcount == 1 && q.qtype == 1 && q.qclass == 1 &&
		    q.udp_size == 512 && !q.edns && q.qend == m.len &&
		    q.qname.len == 18 &&
		    memcmp(q.qname.wire, "\003www", 4) == 0,
		"plain query: relayed, 512 bytes, name lowercased");
	query("www.example.test", 28, 1232);
	T_CHECK(parse(&q, m.len) == PKT_RELAY && q.edns && q.udp_size == 1232,
		"EDNS query: the client's size");
	query("www.example.test", 28, 100);
	T_CHECK(parse(&q, m.len) == PKT_RELAY && q.udp_size == 512,
		"EDNS size below 512 counts as 512");
	query("www.example.test", 28, 65535);
	T_CHECK(parse(&q, m.len) == PKT_RELAY && q.udp_size == 65535,
		"EDNS size 65535 kept");

	/* Every truncation of a query is dropped or FORMERR, never read
	 * past its end. */
	query("www.example.test", 1, 4096);
	for (k = 0, bad = 0; k < m.len; k++)
		if (parse(&q, k) == PKT_RELAY)
			bad++;
	T_CHECK(bad == 0, "truncated queries are never relayed");
	T_CHECK(parse(&q, 11) == PKT_DROP, "under a header: dropped");

	/* Responses are never answered; two questions, bad names: FORMERR. */
	query("www.example.test", 1, 0);
	m.b[2] |= 0x80;
	T_CHECK(parse(&q, m.len) == PKT_DROP, "a response is dropped");
	query("www.example.test", 1, 0);
	m.b[5] = 2;
	T_CHECK(parse(&q, m.len) == PKT_FORMERR, "two questions: FORMERR");
	query("www.example.test", 1, 0);
	m.b[12] = 0xc0;
	m.b[13] = 12;
	T_CHECK(parse(&q, m.len) == PKT_FORMERR && q.qdcount == 0,
		"a pointer in the question: FORMERR without the question");
	query("www.example.test", 1, 1232);
	m.b[m.len - 19] = 1; /* OPT owner not the root */
	T_CHECK(parse(&q, m.len) != PKT_RELAY, "an OPT not owned by the root");
	query("www.example.test", 1, 1232);
	m.b[11] = 2;
	T_CHECK(parse(&q, m.len) == PKT_FORMERR,
		"additional count past the end");
	/* A cookie-only query (no question, RFC 7873 5.4). */
	query("www.example.test", 1, 1232);
	memmove(m.b + 12, m.b + 12 + 22, m.len - 12 - 22);
	m.len -= 22;
	m.b[5] = 0;
	T_CHECK(parse(&q, m.len) == PKT_RELAY && q.qdcount == 0 && q.edns,
		"a query without a question, with OPT: relayed");
	/* Over PKT_QUERY_MAX. */
	T_CHECK(pkt_query_parse(&q, m.b, PKT_QUERY_MAX + 1) == PKT_FORMERR,
		"a query over PKT_QUERY_MAX: FORMERR");

	/* Which answers match. */
	query("www.example.test", 1, 0);
	parse(&q, m.len);
	m_start(&m, "WWW.EXAMPLE.test", 1, 1);
	m_a(&m, NULL, 1);
	T_CHECK(matches(&q), "same question in other case: matches");
	m_start(&m, "www.example.test", 28, 0);
	T_CHECK(!matches(&q), "another type: no match");
	m_start(&m, "xww.example.test", 1, 0);
	T_CHECK(!matches(&q), "another name: no match");
	m_start(&m, "www.example.test", 1, 0);
	m.b[2] &= 0x7f;
	T_CHECK(!matches(&q), "QR clear: no match");
	m_start(&m, "www.example.test", 1, 0);
	m.b[5] = 0;
	m.len = 12;
	T_CHECK(!matches(&q), "no question, NOERROR: no match");
	m.b[3] = 0x81; /* FORMERR */
	T_CHECK(matches(&q), "no question, FORMERR: matches");
	m_start(&m, "www.example.test", 1, 0);
	for (k = 0, bad = 0; k < m.len; k++) {
		size_t whole = m.len;

		m.len = k;
		bad += matches(&q);
		m.len = whole;
	}
	T_CHECK(bad == 0, "no truncated answer matches");

	/* Error responses: header, question, OPT when the query had one. */
	query("www.example.test", 1, 1232);
	parse(&q, m.len);
	n = pkt_error(out, sizeof out, &q, m.b, PKT_RCODE_REFUSED);
	T_CHECK(n == (size_t)q.qend + 11 && out[0] == 0xbe && out[1] == 0xef &&
		    out[2] == 0x81 && out[3] == 0x85 && out[5] == 1 &&
		    out[7] == 0 && out[11] == 1 &&
		    memcmp(out + 12, m.b + 12, q.qend - 12) == 0 &&
		    out[q.qend + 2] == 41,
		"REFUSED: ID, RD, question and OPT kept");
	{
		uint8_t *c = malloc(n);
		struct dns_answers a;

		memcpy(c, out, n);
		T_CHECK(pkt_response_matches(c, n, &q) &&
			    dns_answers(&a, c, n) == DNS_OK && a.naddr == 0,
			"an error response parses and matches its query");
		free(c);
	}
	query("www.example.test", 1, 0);
	m.b[5] = 2;
	parse(&q, m.len);
	n = pkt_error(out, sizeof out, &q, m.b, PKT_RCODE_FORMERR);
	T_CHECK(n == 12 && out[3] == 0x81 && out[5] == 0,
		"FORMERR to a bad question: the header alone");

	/* Truncation to the client's size. */
	query("big.example.test", 1, 0);
	parse(&q2, m.len);
	m_start(&m, "big.example.test", 1, 100);
	for (i = 0; i < 100; i++)
		m_a(&m, NULL, (uint8_t)i);
	m.b[11] = 1; /* an OPT with a cookie */
	m_u8(&m, 0);
	m_u16(&m, 41);
	m_u16(&m, 1232);
	m_u32(&m, 0);
	m_u16(&m, 8);
	m_u16(&m, 10);
	m_u16(&m, 4);
	m_raw(&m, "\x01\x02\x03\x04", 4);
	k = m.len;
	T_CHECK(pkt_fit(m.b, m.len, 4096) == k, "an answer that fits is kept");
	n = pkt_fit(m.b, m.len, 512);
	T_CHECK(n == (size_t)q2.qend + 19 && (m.b[2] & 0x02) && m.b[7] == 0 &&
		    m.b[9] == 0 && m.b[11] == 1 && m.b[q2.qend + 2] == 41 &&
		    memcmp(m.b + n - 4, "\x01\x02\x03\x04", 4) == 0,
		"over 512: TC, question and OPT only (%zu bytes)", n);
	{
		struct dns_answers a;

		T_CHECK(dns_answers(&a, m.b, n) == DNS_OK && a.naddr == 0,
			"a truncated answer has no records");
		m.len = n;
		T_CHECK(matches(&q2), "a truncated answer still matches");
	}
	/* Garbage over the size: the header alone, TC. */
	memset(m.b + 12, 0xff, 600);
	m.b[4] = 0;
	m.b[5] = 1;
	n = pkt_fit(m.b, 612, 512);
	T_CHECK(n == 12 && (m.b[2] & 0x02),
		"unreadable and too big: header, TC");

	T_DONE();
}
