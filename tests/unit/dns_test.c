/*
 * dns_test: the DNS response parser (lib/dns), shared by dnstap-read and
 * dns-hold. Compression, pointer loops, truncation at every byte, CNAME
 * chains in and out of order and looping, several A/AAAA, uppercase, odd
 * bytes, bad record data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "t.h"
#include "msg.h"

static struct msg m;
static struct dns_answers a;

/* Parses a heap copy of exactly len bytes, so ASan sees any overread. */
static enum dns_err
parse(const uint8_t *b, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	enum dns_err e;

	memcpy(copy, b, len);
	e = dns_answers(&a, copy, len);
	free(copy);
	return e;
}

static int
wire_is(const struct dns_name *n, const char *text)
{
	struct msg w;

	w.len = 0;
	m_name(&w, text);
	return n->len == w.len && memcmp(n->wire, w.b, w.len) == 0;
}

/* Every prefix of the message fails cleanly; the whole one parses. */
static void
truncations(const char *what)
{
	size_t n, bad = 0;

	for (n = 0; n < m.len; n++)
		if (parse(m.b, n) == DNS_OK)
			bad++;
	T_CHECK(bad == 0, "%s: every truncation is an error", what);
	T_CHECK(parse(m.b, m.len) == DNS_OK, "%s: whole message parses", what);
}

int
main(void)
{
	unsigned i;
	char longname[300];

	/* A direct answer, owner compressed to the question. */
	m_start(&m, "www.example.com", 1, 1);
	m_a(&m, NULL, 1);
	T_CHECK(parse(m.b, m.len) == DNS_OK && a.naddr == 1 &&
		    a.addr[0].family == 4 && a.addr[0].a[3] == 1 &&
		    a.addr[0].depth == 0 && a.addr[0].ttl == 300 &&
		    wire_is(&a.qname, "www.example.com") && a.nchain == 0,
		"compressed owner");
	truncations("compressed owner");

	/* Uppercase in the question and the owner: lowercased, matched. */
	m_start(&m, "WWW.Example.COM", 1, 1);
	m_a(&m, "www.EXAMPLE.com", 2);
	T_CHECK(parse(m.b, m.len) == DNS_OK && a.naddr == 1 &&
		    wire_is(&a.qname, "www.example.com"),
		"uppercase names lowercased and matched");

	/* Several A and AAAA. */
	m_start(&m, "multi.example", 255, 5);
	for (i = 0; i < 3; i++)
		m_a(&m, NULL, (uint8_t)(10 + i));
	m_aaaa(&m, NULL, 1);
	m_aaaa(&m, "multi.example", 2);
	T_CHECK(parse(m.b, m.len) == DNS_OK && a.naddr == 5 &&
		    a.addr[2].a[3] == 12 && a.addr[3].family == 6 &&
		    a.addr[4].a[15] == 2 && a.addr[4].a[0] == 0x20,
		"three A and two AAAA");
	truncations("several addresses");

	/* A chain in order: www -> a -> b, addresses at b. */
	m_start(&m, "www.example", 1, 4);
	m_cname(&m, "www.example", "a.cdn.example");
	m_cname(&m, "a.cdn.example", "b.cdn.example");
	m_a(&m, "b.cdn.example", 7);
	m_aaaa(&m, "b.cdn.example", 8);
	T_CHECK(parse(m.b, m.len) == DNS_OK && a.nchain == 2 &&
		    wire_is(&a.chain[0], "a.cdn.example") &&
		    wire_is(&a.chain[1], "b.cdn.example") && a.naddr == 2 &&
		    a.addr[0].depth == 2 && a.addr[1].depth == 2,
		"CNAME chain in order");
	truncations("chain");

	/* The same chain backwards. */
	m_start(&m, "www.example", 1, 4);
	m_aaaa(&m, "b.cdn.example", 8);
	m_a(&m, "b.cdn.example", 7);
	m_cname(&m, "a.cdn.example", "b.cdn.example");
	m_cname(&m, "www.example", "a.cdn.example");
	T_CHECK(parse(m.b, m.len) == DNS_OK && a.nchain == 2 && a.naddr == 2 &&
		    a.addr[0].depth == 2 && a.addr[0].family == 6,
		"CNAME chain out of order");

	/* A compressed CNAME target pointing into the previous record. */
	m_start(&m, "www.example", 1, 2);
	m_ptr(&m, 12);
	m_rr(&m, 5, 300, 6);
	m_u8(&m, 3);
	m_raw(&m, "cdn", 3);
	{
		size_t ex = m.len;

		m_ptr(&m, 16); /* "example" inside the question */
		m_ptr(&m, (unsigned)ex - 4);
	}
	m_rr(&m, 1, 300, 4);
	m_raw(&m, "\xc6\x33\x64\x01", 4);
	T_CHECK(parse(m.b, m.len) == DNS_OK && a.nchain == 1 &&
		    wire_is(&a.chain[0], "cdn.example") && a.naddr == 1 &&
		    a.addr[0].a[0] == 198 && a.addr[0].depth == 1,
		"compressed CNAME target and owner");
	truncations("compressed chain");

	/* Addresses of a name outside the chain are not the question's. */
	m_start(&m, "www.example", 1, 2);
	m_a(&m, "other.example", 1);
	m_a(&m, NULL, 2);
	T_CHECK(parse(m.b, m.len) == DNS_OK && a.naddr == 1 &&
		    a.addr[0].a[3] == 2,
		"unrelated owner ignored");

	/* A CNAME loop: the chain stops, the addresses on it still count. */
	m_start(&m, "www.example", 1, 3);
	m_cname(&m, "www.example", "a.example");
	m_cname(&m, "a.example", "www.example");
	m_a(&m, "a.example", 3);
	T_CHECK(parse(m.b, m.len) == DNS_OK && a.chain_loop && a.nchain == 1 &&
		    a.naddr == 1 && a.addr[0].depth == 1,
		"CNAME loop detected");

	/* A CNAME to the root ends the chain. */
	m_start(&m, "www.example", 1, 2);
	m_name(&m, "www.example");
	m_rr(&m, 5, 300, 1);
	m_u8(&m, 0);
	m_a(&m, NULL, 3);
	T_CHECK(parse(m.b, m.len) == DNS_OK && a.nchain == 0 && a.naddr == 1,
		"CNAME to the root ends the chain");

	/* A chain of 20 links is cut at DNS_CHAIN_MAX. */
	m_start(&m, "c0.example", 1, 21);
	for (i = 0; i < 20; i++) {
		char o[32], t[32];

		snprintf(o, sizeof o, "c%u.example", i);
		snprintf(t, sizeof t, "c%u.example", i + 1);
		m_cname(&m, o, t);
	}
	m_a(&m, "c20.example", 9);
	T_CHECK(parse(m.b, m.len) == DNS_OK && a.chain_cut &&
		    a.nchain == DNS_CHAIN_MAX && a.naddr == 0,
		"long chain cut, its end not attributed");

	/* Odd bytes in a label are data, not syntax. */
	m_start(&m, "x.example", 1, 1);
	m.len = 12;
	m_u8(&m, 6);
	m_raw(&m, "a.b \\\xff", 6);
	m_name(&m, "example");
	m_u16(&m, 1);
	m_u16(&m, 1);
	m_ptr(&m, 12);
	m_rr(&m, 1, 0xffffffffu, 4);
	m_raw(&m, "\xc0\x00\x02\x05", 4);
	T_CHECK(parse(m.b, m.len) == DNS_OK && a.naddr == 1 &&
		    a.qname.wire[0] == 6 &&
		    memcmp(a.qname.wire + 1, "a.b \\\xff", 6) == 0 &&
		    a.addr[0].ttl == 0,
		"odd label bytes kept, TTL over 2^31-1 is 0");

	/* TTL 2^31-1 stays. */
	m_start(&m, "t.example", 1, 1);
	m_ptr(&m, 12);
	m_rr(&m, 1, 0x7fffffffu, 4);
	m_raw(&m, "\xc0\x00\x02\x05", 4);
	T_CHECK(parse(m.b, m.len) == DNS_OK && a.addr[0].ttl == 0x7fffffffu,
		"TTL 2^31-1 kept");

	/* A pointer to itself, a forward pointer, one into the header. */
	m_start(&m, "p.example", 1, 1);
	{
		size_t here = m.len;

		m_ptr(&m, (unsigned)here);
	}
	m_rr(&m, 1, 300, 4);
	m_raw(&m, "\xc0\x00\x02\x05", 4);
	T_CHECK(parse(m.b, m.len) == DNS_E_NAME, "pointer to itself refused");
	m_start(&m, "p.example", 1, 1);
	m_ptr(&m, (unsigned)m.len + 2);
	m_rr(&m, 1, 300, 4);
	m_raw(&m, "\xc0\x00\x02\x05", 4);
	T_CHECK(parse(m.b, m.len) == DNS_E_NAME, "forward pointer refused");
	m_start(&m, "p.example", 1, 1);
	m_ptr(&m, 2);
	m_rr(&m, 1, 300, 4);
	m_raw(&m, "\xc0\x00\x02\x05", 4);
	T_CHECK(parse(m.b, m.len) == DNS_E_NAME, "pointer into header refused");

	/* Two pointers pointing at each other, as a CNAME target. */
	m_start(&m, "p.example", 5, 1);
	m_ptr(&m, 12);
	m_rr(&m, 5, 300, 4);
	{
		size_t x = m.len;

		m_ptr(&m, (unsigned)x + 2);
		m_ptr(&m, (unsigned)x);
	}
	T_CHECK(parse(m.b, m.len) == DNS_E_NAME, "pointer loop refused");

	/*
	 * A pointer back into the name's own labels: what it leads to would
	 * run past the pointer (found by fuzz-dns-hold: a question that read
	 * on into the bytes after it). And a label and a pointer to it,
	 * repeated: each jump would read the same bytes again.
	 */
	m_start(&m, "x.example", 1, 0);
	m.len = 12;
	m_u8(&m, 3);
	m_raw(&m, "a\002b", 3); /* "\002b" also reads as a label */
	m_ptr(&m, 14);
	m_u16(&m, 1);
	m_u16(&m, 1);
	T_CHECK(parse(m.b, m.len) == DNS_E_NAME,
		"a pointer into its own name, past itself, refused");
	m_start(&m, "x.example", 1, 0);
	m.len = 12;
	m_u8(&m, 1);
	m_raw(&m, "a", 1);
	m_ptr(&m, 12);
	m_u16(&m, 1);
	m_u16(&m, 1);
	T_CHECK(parse(m.b, m.len) == DNS_E_NAME,
		"a label and a pointer back to it refused");

	/* A name over 255 bytes. */
	memset(longname, 0, sizeof longname);
	for (i = 0; i < 5; i++)
		strcat(longname,
		       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
	strcat(longname, "example");
	m_start(&m, longname, 1, 0);
	T_CHECK(parse(m.b, m.len) == DNS_E_NAME, "name over 255 bytes refused");

	/* A label length with the reserved 01/10 bits. */
	m_start(&m, "x.example", 1, 0);
	m.b[12] = 0x41;
	T_CHECK(parse(m.b, m.len) == DNS_E_NAME, "extended label type refused");

	/* Bad data lengths, wrong counts, a query. */
	m_start(&m, "x.example", 1, 1);
	m_ptr(&m, 12);
	m_rr(&m, 1, 300, 5);
	m_raw(&m, "\xc0\x00\x02\x05\x00", 5);
	T_CHECK(parse(m.b, m.len) == DNS_E_RDATA, "A of 5 bytes refused");
	m_start(&m, "x.example", 5, 1);
	m_ptr(&m, 12);
	m_rr(&m, 5, 300, 2);
	m_name(&m, "y.example");
	T_CHECK(parse(m.b, m.len) != DNS_OK,
		"CNAME longer than its data refused");
	m_start(&m, "x.example", 1, 0);
	m.b[5] = 0;
	T_CHECK(parse(m.b, m.len) == DNS_E_QUESTION, "no question refused");
	m_start(&m, "x.example", 1, 0);
	m.b[2] = 0x01;
	T_CHECK(parse(m.b, m.len) == DNS_E_NOTRESPONSE, "query refused");
	m_start(&m, "x.example", 1, 3);
	m_a(&m, NULL, 1);
	T_CHECK(parse(m.b, m.len) == DNS_E_SHORT, "answer count past the end");

	/* Another class is skipped, not an error. */
	m_start(&m, "x.example", 1, 2);
	m_ptr(&m, 12);
	m_u16(&m, 1);
	m_u16(&m, 3);
	m_u32(&m, 300);
	m_u16(&m, 4);
	m_raw(&m, "\x0a\x00\x00\x01", 4);
	m_a(&m, NULL, 4);
	T_CHECK(parse(m.b, m.len) == DNS_OK && a.naddr == 1 &&
		    a.addr[0].a[3] == 4,
		"CHAOS class record skipped");

	/* More addresses than DNS_ADDR_MAX: the first ones, and a flag. */
	m_start(&m, "many.example", 1, DNS_ADDR_MAX + 10);
	for (i = 0; i < DNS_ADDR_MAX + 10; i++)
		m_a(&m, NULL, (uint8_t)i);
	T_CHECK(parse(m.b, m.len) == DNS_OK && a.naddr == DNS_ADDR_MAX &&
		    a.addr_cut,
		"addresses past DNS_ADDR_MAX cut");

	T_DONE();
}
