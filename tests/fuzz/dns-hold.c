/*
 * fuzz-dns-hold: dns-hold's handling of the packets it relays. The first
 * byte picks the side:
 *   even: a client's query: parsed (relayed, FORMERR or dropped); the error
 *         responses built for it must parse and match it.
 *   odd:  two bytes of query length, a query, then an upstream answer: if
 *         the answer matches the query it gets the client's ID, is cut to
 *         the client's UDP size (it must then fit), and its records are
 *         formatted as dns-hold writes them: each line a valid record,
 *         within lib/answer's bounds; a malformed answer gives none.
 *         The packet cache (-k) is offered the pair: when it keeps it, the
 *         same query gets the same bytes back but the ID (the query's),
 *         and a second later with TTLs aged, which still parse the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../dns-hold/cache.h"
#include "../../dns-hold/packet.h"
#include "answer.h"
#include "rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dns_answers a;
static struct answer_fmt f;
static char out[ANSWER_BYTES_MAX];
static uint8_t buf[65536];
static uint8_t hit[PCACHE_RESP_MAX];
static struct pcache pc;
static int64_t now = 1000000;

/* The cache's side: a kept answer comes back as it went in, but its ID
 * and TTLs. */
static void
cache_side(const uint8_t *q, size_t ql, const uint8_t *r, size_t n)
{
	size_t got;

	if (!pc.nsets && pcache_init(&pc, 8, 3600, 7) == -1)
		abort();
	now += 1500000; /* 1.5 s per input: entries also expire */
	if (!pcache_put(&pc, q, ql, r, n, now))
		return;
	/* At once: the same bytes but the ID. */
	got = pcache_get(&pc, q, ql, hit, sizeof hit, now + 500000);
	if (got != n || hit[0] != q[0] || hit[1] != q[1] ||
	    memcmp(hit + 2, r + 2, n - 2))
		abort();
	/* 1.2 s later: gone (a TTL of 1) or aged, and read the same way. */
	got = pcache_get(&pc, q, ql, hit, sizeof hit, now + 1200000);
	if (got && (got != n || hit[0] != q[0] || hit[1] != q[1] ||
		    (dns_answers(&a, hit, got) == DNS_OK) !=
			(dns_answers(&a, r, n) == DNS_OK)))
		abort();
}

static void
lines_valid(size_t len)
{
	char line[ANSWER_LINE_MAX + 1];
	const char *p = out, *nl;
	struct rec r;
	size_t n;

	while (p < out + len) {
		nl = memchr(p, '\n', (size_t)(out + len - p));
		if (!nl)
			abort();
		n = (size_t)(nl - p);
		if (n + 1 > ANSWER_LINE_MAX)
			abort();
		memcpy(line, p, n);
		line[n] = '\0';
		if (rec_parse(&r, line, n) != REC_OK || r.type != REC_ANSWER)
			abort();
		p = nl + 1;
	}
}

static void
query_side(const uint8_t *d, size_t len)
{
	static const unsigned rcodes[] = {PKT_RCODE_FORMERR, PKT_RCODE_SERVFAIL,
					  PKT_RCODE_REFUSED};
	struct pkt_query q;
	enum pkt_verdict v = pkt_query_parse(&q, d, len);
	uint8_t resp[PKT_HDR + DNS_NAME_MAX + 4 + 16];
	size_t n, i;

	if (v == PKT_DROP)
		return;
	if (q.qend > len || q.udp_size < 512 || q.qdcount > 1)
		abort();
	for (i = 0; i < 3; i++) {
		n = pkt_error(resp, sizeof resp, &q, d, rcodes[i]);
		if (n < PKT_HDR || !pkt_response_matches(resp, n, &q) ||
		    pkt_id(resp) != q.id)
			abort();
	}
}

static void
answer_side(const uint8_t *d, size_t size)
{
	struct pkt_query q;
	size_t ql, len, n;

	if (size < 2)
		return;
	ql = (size_t)d[0] << 8 | d[1];
	if (ql > size - 2)
		return;
	if (pkt_query_parse(&q, d + 2, ql) != PKT_RELAY)
		return;
	len = size - 2 - ql;
	memcpy(buf, d + 2 + ql, len);
	if (!pkt_response_matches(buf, len, &q))
		return;
	pkt_set_id(buf, q.id);
	n = pkt_fit(buf, len, q.udp_size);
	if (n > len || (n != len && n > q.udp_size))
		abort();
	if (n != len && !(buf[2] & 0x02))
		abort();
	cache_side(d + 2, ql, buf, n);
	if (dns_answers(&a, buf, n) != DNS_OK)
		return;
	if (answer_format(&f, &a, 1764150000000000, out, sizeof out, &len) ==
	    -1)
		return;
	if (len > ANSWER_BYTES_MAX || f.nrec > ANSWER_RECORDS_MAX)
		abort();
	lines_valid(len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > sizeof buf)
		return 0;
	if (data[0] & 1)
		answer_side(data + 1, size - 1);
	else
		query_side(data + 1, size - 1);
	return 0;
}
