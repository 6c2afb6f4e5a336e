/*
 * cache_test: dns-hold's packet cache (dns-hold/cache.c): an answer kept
 * for the query's exact bytes and served with the asker's ID and its TTLs
 * aged; gone at its smallest TTL or the -x cap; which queries and answers
 * may not be kept; a full set replaces the answer that expires first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dns-hold/cache.h"
#include "../unit/msg.h"
#include "../unit/t.h"
#include "wire.h"

#define S 1000000 /* a second in microseconds */

static struct msg qm, am;

/* A query for name (as written) with flags, an OPT of udp bytes (0: none)
 * and, when opt, one option of that code. */
static void
query(const char *name, unsigned id, unsigned flags, unsigned udp, unsigned opt)
{
	qm.len = 0;
	m_u16(&qm, id);
	m_u16(&qm, flags);
	m_u16(&qm, 1);
	m_u16(&qm, 0);
	m_u16(&qm, 0);
	m_u16(&qm, udp ? 1 : 0);
	m_name(&qm, name);
	m_u16(&qm, 1);
	m_u16(&qm, 1);
	if (udp) {
		m_u8(&qm, 0);
		m_u16(&qm, 41);
		m_u16(&qm, udp);
		m_u32(&qm, 0);
		m_u16(&qm, opt ? 8 : 0);
		if (opt) {
			m_u16(&qm, opt);
			m_u16(&qm, 4);
			m_raw(&qm, "\x01\x02\x03\x04", 4);
		}
	}
}

/* An answer to name: n A records with TTLs ttl, ttl+100, ... */
static void
answer(const char *name, unsigned n, uint32_t ttl)
{
	unsigned i;

	m_start(&am, name, 1, n);
	for (i = 0; i < n; i++) {
		m_ptr(&am, 12);
		m_rr(&am, 1, ttl + 100 * i, 4);
		m_raw(&am, "\xc0\x00\x02", 3);
		m_u8(&am, i + 1);
	}
}

/* The TTL of the i-th A record of out (answers built above). */
static uint32_t
ttl_at(const uint8_t *out, size_t qend, unsigned i)
{
	return wire_get32(out + qend + 16 * i + 6);
}

static size_t
get(struct pcache *c, uint8_t *out, int64_t now)
{
	return pcache_get(c, qm.b, qm.len, out, PCACHE_RESP_MAX, now);
}

int
main(void)
{
	static uint8_t out[PCACHE_RESP_MAX];
	struct pcache c;
	size_t n, qend = 12 + 18 + 4; /* www.example.test */
	int64_t t0 = 1000 * (int64_t)S;
	unsigned i;

	T_CHECK(pcache_init(&c, 0, 60, 1) == 0 && !c.nsets &&
		    pcache_put(&c, qm.b, 0, am.b, 0, t0) == 0,
		"-k 0: off, nothing kept");
	T_CHECK(pcache_init(&c, 1000, 3600, 42) == 0 && c.nsets == 256,
		"1,000 entries: 256 sets of 4");

	query("www.example.test", 0x1111, 0x0100, 1232, 0);
	answer("www.example.test", 3, 300);
	am.b[0] = 0x11, am.b[1] = 0x11;
	T_CHECK(get(&c, out, t0) == 0 && c.misses == 1, "not kept: a miss");
	T_CHECK(pcache_put(&c, qm.b, qm.len, am.b, am.len, t0) == 1 &&
		    c.stored == 1,
		"NOERROR with records: kept");
	query("www.example.test", 0x2222, 0x0100, 1232, 0);
	n = get(&c, out, t0 + S / 2);
	T_CHECK(n == am.len && out[0] == 0x22 && out[1] == 0x22 &&
		    !memcmp(out + 2, am.b + 2, am.len - 2) && c.hits == 1,
		"the same query: the answer, with the asker's ID");
	n = get(&c, out, t0 + 2 * S + S / 2);
	T_CHECK(n && ttl_at(out, qend, 0) == 298 &&
		    ttl_at(out, qend, 1) == 398 && ttl_at(out, qend, 2) == 498,
		"2.5 s later: every TTL lowered by 2 (%u %u %u)",
		ttl_at(out, qend, 0), ttl_at(out, qend, 1),
		ttl_at(out, qend, 2));
	T_CHECK(get(&c, out, t0 + 299 * S + S - 1) && ttl_at(out, qend, 0) == 1,
		"just before the smallest TTL: TTL 1");
	T_CHECK(get(&c, out, t0 + 300 * S) == 0 && pcache_live(&c, t0) == 0,
		"at the smallest TTL: gone");
	(void)pcache_put(&c, qm.b, qm.len, am.b, am.len, t0);
	T_CHECK(pcache_get(&c, qm.b, qm.len, out, am.len - 1, t0) == 0 &&
		    pcache_get(&c, qm.b, qm.len, out, am.len, t0) == am.len,
		"an answer larger than the room: a miss");

	/* What makes another key: case, flags, the EDNS size. */
	query("WWW.example.test", 1, 0x0100, 1232, 0);
	T_CHECK(get(&c, out, t0) == 0, "the name in other case: a miss");
	query("www.example.test", 1, 0x0110, 1232, 0);
	T_CHECK(get(&c, out, t0) == 0, "CD set: a miss");
	query("www.example.test", 1, 0x0100, 512, 0);
	T_CHECK(get(&c, out, t0) == 0, "another EDNS size: a miss");
	query("www.example.test", 1, 0x0100, 0, 0);
	T_CHECK(get(&c, out, t0) == 0, "no EDNS: a miss");
	T_CHECK(pcache_put(&c, qm.b, qm.len, am.b, am.len, t0) == 1 &&
		    get(&c, out, t0 + 1) == am.len,
		"a query without OPT is kept on its own");

	/* The -x cap. */
	pcache_free(&c);
	T_CHECK(pcache_init(&c, 4, 10, 7) == 0 && c.nsets == 1,
		"4 entries: one set");
	query("www.example.test", 1, 0x0100, 1232, 0);
	(void)pcache_put(&c, qm.b, qm.len, am.b, am.len, t0);
	T_CHECK(get(&c, out, t0 + 9 * S) && ttl_at(out, qend, 0) == 291,
		"-x 10: served 9 s, TTLs aged from the answer's");
	T_CHECK(get(&c, out, t0 + 10 * S) == 0, "-x 10: gone after 10 s");

	/* Queries that are not kept. */
	c.uncacheable = 0;
	query("www.example.test", 1, 0x0100, 1232, 10);
	T_CHECK(get(&c, out, t0) == 0 &&
		    pcache_put(&c, qm.b, qm.len, am.b, am.len, t0) == 0,
		"a query with a COOKIE: not kept");
	query("www.example.test", 1, 0x0100, 1232, 8);
	T_CHECK(pcache_put(&c, qm.b, qm.len, am.b, am.len, t0) == 0,
		"a query with a client subnet: not kept");
	query("www.example.test", 1, 0x0900, 0, 0);
	T_CHECK(pcache_put(&c, qm.b, qm.len, am.b, am.len, t0) == 0,
		"opcode 1: not kept");
	query("www.example.test", 1, 0x0100, 0, 0);
	qm.b[4] = 0, qm.b[5] = 2;
	T_CHECK(pcache_put(&c, qm.b, qm.len, am.b, am.len, t0) == 0,
		"two questions counted: not kept");
	query("www.example.test", 1, 0x0100, 0, 0);
	qm.b[qm.len++] = 0;
	T_CHECK(pcache_put(&c, qm.b, qm.len, am.b, am.len, t0) == 0,
		"a byte after the question: not kept");
	T_CHECK(pcache_put(&c, qm.b, 11, am.b, am.len, t0) == 0 &&
		    pcache_get(&c, qm.b, 5, out, sizeof out, t0) == 0,
		"shorter than a header: not kept");
	T_CHECK(c.uncacheable == 2, "uncacheable queries counted when asked");

	/* Answers that are not kept. */
	query("www.example.test", 1, 0x0100, 1232, 0);
#define NOT_KEPT(what)                                                         \
	T_CHECK(pcache_put(&c, qm.b, qm.len, am.b, am.len, t0) == 0 &&         \
		    get(&c, out, t0) == 0,                                     \
		"%s: not kept", what)
	answer("www.example.test", 1, 300);
	am.b[3] = 0x82;
	NOT_KEPT("SERVFAIL");
	am.b[3] = 0x85;
	NOT_KEPT("REFUSED");
	answer("www.example.test", 1, 300);
	am.b[2] |= 0x02;
	NOT_KEPT("truncated");
	answer("www.example.test", 0, 300);
	NOT_KEPT("NOERROR without records (no TTL)");
	answer("www.example.test", 2, 0);
	NOT_KEPT("a TTL of 0");
	answer("www.example.test", 1, 0x80000000u);
	NOT_KEPT("a TTL with the top bit set (RFC 2181: 0)");
	answer("www.example.test", 1, 300);
	am.len--;
	NOT_KEPT("a record cut short");
	answer("www.example.test", 1, 300);
	m_u8(&am, 0);
	NOT_KEPT("a byte after the last record");
	answer("www.example.test", 1, 300);
	am.b[0x7] = 2;
	NOT_KEPT("one record counted twice");
	answer("www.example.test", 1, 300);
	am.b[11] = 1; /* an OPT with extended RCODE BADVERS */
	m_u8(&am, 0);
	m_rr(&am, 41, 0x01000000, 0);
	NOT_KEPT("an extended RCODE");
	answer("www.example.test", 1, 300);
	am.b[2] &= 0x7f;
	NOT_KEPT("QR clear");
	answer("www.example.test", 1, 300);
	am.b[7] = 2; /* an owner read from the first record's TTL: ",", and
			"*" once aged by 2 s */
	m_ptr(&am, (unsigned)qend + 8);
	m_rr(&am, 1, 300, 4);
	m_raw(&am, "\xc0\x00\x02\x09", 4);
	NOT_KEPT("a name read through a pointer into a TTL");
	answer("www.example.test", 1, 300);
	am.b[7] = 2; /* a CNAME's target the same way */
	m_ptr(&am, 12);
	m_rr(&am, 5, 300, 2);
	m_ptr(&am, (unsigned)qend + 8);
	NOT_KEPT("a CNAME target read through a pointer into a TTL");
	answer("www.example.test", 1, 300);
	am.b[7] = 2; /* a pointer loop */
	m_ptr(&am, (unsigned)am.len);
	m_rr(&am, 1, 300, 4);
	m_raw(&am, "\xc0\x00\x02\x09", 4);
	NOT_KEPT("a name that points at itself");
	answer("www.example.test", PCACHE_TTLS_MAX + 1, 300);
	NOT_KEPT("over 128 records");
	m_start(&am, "www.example.test", 16, 1);
	m_ptr(&am, 12);
	m_rr(&am, 16, 300, 4100);
	memset(am.b + am.len, 'x', 4100);
	am.len += 4100;
	NOT_KEPT("over 4,096 bytes");

	/* NXDOMAIN with its SOA, and an OPT that is not aged. */
	m_start(&am, "www.example.test", 1, 0);
	am.b[3] = 0x83;
	am.b[9] = 1;
	am.b[11] = 1;
	m_name(&am, "example.test");
	m_rr(&am, 6, 120, 22);
	m_u8(&am, 0);
	m_u8(&am, 0);
	for (i = 0; i < 5; i++)
		m_u32(&am, 300);
	m_u8(&am, 0);
	m_rr(&am, 41, 0x00008000, 0); /* DO */
	T_CHECK(pcache_put(&c, qm.b, qm.len, am.b, am.len, t0) == 1,
		"NXDOMAIN with a SOA: kept");
	n = get(&c, out, t0 + 5 * S);
	T_CHECK(n == am.len && wire_get32(out + qend + 18) == 115 &&
		    wire_get32(out + n - 6) == 0x00008000,
		"NXDOMAIN 5 s later: the SOA's TTL aged (115), the OPT's "
		"flags untouched");
	T_CHECK(get(&c, out, t0 + 10 * S) == 0,
		"NXDOMAIN: gone at the -x cap (10 s), below the SOA's 120");

	/* A full set: the answer that expires first makes room. */
	pcache_free(&c);
	(void)pcache_init(&c, 4, 3600, 7);
	for (i = 0; i < 5; i++) {
		char name[32];

		(void)snprintf(name, sizeof name, "n%u.example.test", i);
		query(name, 1, 0x0100, 0, 0);
		answer(name, 1, i == 2 ? 100 : 1000 + i);
		(void)pcache_put(&c, qm.b, qm.len, am.b, am.len, t0);
	}
	query("n2.example.test", 1, 0x0100, 0, 0);
	T_CHECK(c.replaced == 1 && get(&c, out, t0) == 0,
		"5 answers in a set of 4: the first to expire replaced");
	query("n4.example.test", 1, 0x0100, 0, 0);
	T_CHECK(get(&c, out, t0) && pcache_live(&c, t0) == 4,
		"the new one kept, 4 live");
	/* A larger answer to a kept query grows its buffer. */
	answer("n4.example.test", 60, 1000);
	T_CHECK(pcache_put(&c, qm.b, qm.len, am.b, am.len, t0) == 1 &&
		    get(&c, out, t0) == am.len && pcache_live(&c, t0) == 4 &&
		    c.replaced == 1,
		"a larger answer replaces its own entry");
	pcache_clear(&c);
	T_CHECK(pcache_live(&c, t0) == 0 && get(&c, out, t0) == 0,
		"cleared (SIGHUP): nothing served");
	pcache_free(&c);
	T_DONE();
}
