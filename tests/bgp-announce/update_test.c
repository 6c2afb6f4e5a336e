/*
 * update_test: bgp-announce's table (rib.c) and UPDATE packing (update.c)
 * without sockets: every message drained from a peer's output is framed
 * and parsed back with msg.c, and the prefixes counted.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../bgp-announce/bgpa.h"
#include "../unit/t.h"

static struct config cfg;
static struct bgpa g;

static void
key(uint32_t i, int *fam, uint8_t a[16])
{
	memset(a, 0, 16);
	*fam = i % 3 == 0 ? FAM6 : FAM4;
	if (*fam == FAM4) {
		a[0] = 10;
		a[1] = (uint8_t)(i >> 16), a[2] = (uint8_t)(i >> 8),
		a[3] = (uint8_t)i;
	} else {
		a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8;
		a[12] = (uint8_t)(i >> 24), a[13] = (uint8_t)(i >> 16),
		a[14] = (uint8_t)(i >> 8), a[15] = (uint8_t)i;
	}
}

static void
test_rib(void)
{
	struct rib r;
	uint8_t a[16];
	uint32_t i, n = 200000, bad = 0, idx;
	int fam;

	rib_init(&r);
	for (i = 0; i < n; i++) {
		key(i, &fam, a);
		idx = rib_get(&r, fam, a, fam == FAM4 ? 32 : 128);
		r.e[idx].present = 1;
	}
	T_CHECK(r.nused == n, "rib: %u entries", n);
	/* free every other one, in an order that exercises backward shift */
	for (i = 0; i < n; i += 2) {
		key(i, &fam, a);
		idx = rib_find(&r, fam, a, fam == FAM4 ? 32 : 128);
		r.e[idx].present = 0;
		rib_maybe_free(&r, idx);
	}
	for (i = 0; i < n; i++) {
		key(i, &fam, a);
		idx = rib_find(&r, fam, a, fam == FAM4 ? 32 : 128);
		if ((i % 2 == 0) != (idx == UINT32_MAX))
			bad++;
	}
	T_CHECK(bad == 0, "rib: lookups after deleting half (%u wrong)", bad);
	for (i = 0; i < n; i += 2) {
		key(i, &fam, a);
		rib_get(&r, fam, a, fam == FAM4 ? 32 : 128);
	}
	T_CHECK(r.nused == n && r.n == n, "rib: freed slots reused");
	idx = rib_find(&r, FAM4, (const uint8_t *)"\x0a\x00\x00\x01", 24);
	T_CHECK(idx == UINT32_MAX, "rib: prefix length is part of the key");
	rib_destroy(&r);
}

struct counts {
	unsigned msgs, announce, withdraw, eor, bad, too_long;
};

static void
drain(struct peer *p, struct counts *c)
{
	struct bgp_err e;
	struct bgp_update u;
	int len;

	memset(c, 0, sizeof *c);
	do {
		update_drain(&g, p);
		while ((len = bgp_frame(p->c.out.p + p->c.out.off,
					buf_pending(&p->c.out), &e)) > 0) {
			const uint8_t *m = p->c.out.p + p->c.out.off;
			c->msgs++;
			if (m[18] != BGP_UPDATE ||
			    bgp_parse_update(m + 19, (size_t)len - 19, p->as4,
					     &u, &e) == -1 ||
			    u.action != UPD_OK)
				c->bad++;
			else {
				c->announce += u.nannounce;
				c->withdraw += u.nwithdraw;
				c->eor += (unsigned)u.eor;
			}
			buf_consume(&p->c.out, (size_t)len);
		}
		if (len == -1 || buf_pending(&p->c.out)) {
			c->too_long++;
			return;
		}
	} while (update_pending(&g, p));
}

static void
set(uint32_t i, int present, uint16_t tag)
{
	uint8_t a[16];
	int fam;
	uint32_t idx;

	key(i, &fam, a);
	idx = rib_get(&g.rib, fam, a, fam == FAM4 ? 32 : 128);
	if (g.rib.e[idx].present == present && g.rib.e[idx].tag == tag)
		return;
	g.rib.e[idx].present = (uint8_t)present;
	g.rib.e[idx].tag = tag;
	update_changed(&g, idx);
	rib_maybe_free(&g.rib, idx);
}

static void
test_update(void)
{
	struct peer *p = &g.peers[0];
	struct counts c;
	uint32_t i, n = 30000;

	cfg.ntags = 2;
	snprintf(cfg.tags[1].name, sizeof cfg.tags[1].name, "video");
	cfg.tags[1].ncomm = BGPA_MAX_COMMS; /* big attributes still fit */
	cfg.tags[1].nlcomm = BGPA_MAX_LCOMMS;
	cfg.npeers = 1;
	cfg.peers[0].peer_as = 65001;
	cfg.peers[0].local_as = 4200000001u;
	cfg.peers[0].router_id = 0x7f000001;
	g.cfg = &cfg;
	g.npeers = 1;
	rib_init(&g.rib);
	p->pc = &cfg.peers[0];
	p->c.state = ST_ESTABLISHED;
	p->fam[FAM4] = p->fam[FAM6] = 1;
	p->as4 = 0; /* AS_TRANS and AS4_PATH */

	/* half the table before the session, half after */
	for (i = 0; i < n / 2; i++)
		set(i, 1, (uint16_t)(i % 2));
	T_CHECK(update_start(&g, p) == 0, "update: start");
	for (; i < n; i++)
		set(i, 1, (uint16_t)(i % 2));
	drain(p, &c);
	T_CHECK(c.bad == 0 && c.too_long == 0, "update: %u messages parse",
		c.msgs);
	T_CHECK(c.announce == n, "update: %u of %u announced", c.announce, n);
	T_CHECK(c.eor == 0, "update: no End-of-RIB before the input's eor");
	T_CHECK(c.msgs < n / 100, "update: packed (%u messages)", c.msgs);

	g.eor_seen = 1;
	drain(p, &c);
	T_CHECK(c.eor == 2 && c.announce == 0, "update: End-of-RIB per family");

	/* withdraw a third, cancel pairs, change some tags */
	for (i = 0; i < n; i += 3)
		set(i, 0, 0);
	for (i = n; i < n + 500; i++) {
		set(i, 1, 0);
		set(i, 0, 0);
	}
	for (i = 1; i < 1001; i += 3)
		set(i, 1, 1 - (i % 2));
	drain(p, &c);
	T_CHECK(c.bad == 0, "update: withdrawals parse");
	T_CHECK(c.withdraw == n / 3, "update: %u withdrawn, want %u",
		c.withdraw, n / 3);
	T_CHECK(c.announce == 334, "update: changed tags re-announced (%u)",
		c.announce);

	/*
	 * Session down and up again while the input replays its full state
	 * once more: the whole table, but End-of-RIB only once the replay
	 * has ended (eor), or the router would flush what is still to come.
	 */
	update_stop(&g, p);
	g.replaying = 1;
	T_CHECK(update_start(&g, p) == 0, "update: restart");
	drain(p, &c);
	T_CHECK(c.announce == n - n / 3 && c.eor == 0,
		"update: full table again (%u), no End-of-RIB mid-replay",
		c.announce);
	T_CHECK(!update_pending(&g, p), "update: nothing pending mid-replay");
	g.replaying = 0;
	T_CHECK(update_pending(&g, p), "update: End-of-RIB due after eor");
	drain(p, &c);
	T_CHECK(c.announce == 0 && c.eor == 2, "update: End-of-RIB after eor");
	update_stop(&g, p);
	T_CHECK(g.rib.nused == n - n / 3, "update: withdrawn entries freed");
	buf_free(&p->c.out);
	rib_destroy(&g.rib);
}

/* Writes what the socket takes of p's output. */
static void
flush(struct peer *p)
{
	ssize_t k;

	while (buf_pending(&p->c.out) &&
	       (k = write(p->c.fd, p->c.out.p + p->c.out.off,
			  buf_pending(&p->c.out))) > 0)
		buf_consume(&p->c.out, (size_t)k);
}

/* Acks on the pipe so far: how many, the last, whether in order. */
static void
read_acks(int fd, unsigned *n, unsigned long long *last, int *ordered)
{
	char b[65536], *l, *save;
	ssize_t k;
	unsigned long long v;

	while ((k = read(fd, b, sizeof b - 1)) > 0) {
		b[k] = '\0';
		for (l = strtok_r(b, "\n", &save); l;
		     l = strtok_r(NULL, "\n", &save)) {
			v = strtoull(l + 4, NULL, 10);
			if (strncmp(l, "ack ", 4) || (*n && v <= *last))
				*ordered = 0;
			*last = v;
			(*n)++;
		}
	}
}

/*
 * The barrier over a real TCP connection on loopback whose far end stops
 * reading: 10,000 marks, each after a change, stay within the bounded
 * rings and are not acked past what the far end's TCP took; once it reads
 * everything, the last mark is acked, every ack in order.
 */
static void
test_barrier(void)
{
	struct peer *p = &g.peers[0];
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof sin;
	int ls, fd, pipefd[2], small = 4096, ordered = 1;
	unsigned i, n = 10000, nacks = 0;
	size_t maxck = 0, maxm = 0;
	unsigned long long last = 0;
	char sink[65536];

	memset(&g, 0, sizeof g);
	g.cfg = &cfg;
	g.npeers = 1;
	rib_init(&g.rib);
	p->pc = &cfg.peers[0];
	p->idx = 0;
	p->c.state = ST_ESTABLISHED;
	p->fam[FAM4] = p->fam[FAM6] = 1;
	p->cursor = UINT32_MAX;
	update_start(&g, p);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	T_CHECK(ls >= 0 && bind(ls, (struct sockaddr *)&sin, len) == 0 &&
		    listen(ls, 1) == 0 &&
		    getsockname(ls, (struct sockaddr *)&sin, &len) == 0,
		"barrier: listening");
	p->c.fd = socket(AF_INET, SOCK_STREAM, 0);
	T_CHECK(connect(p->c.fd, (struct sockaddr *)&sin, len) == 0,
		"barrier: connected");
	fd = accept(ls, NULL, NULL);
	fcntl(p->c.fd, F_SETFL, O_NONBLOCK);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	T_CHECK(pipe(pipefd) == 0, "barrier: pipe");
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	fcntl(pipefd[1], F_SETFL, O_NONBLOCK);
	g.ack_fd = pipefd[1];

	barrier_mark(&g, 1);
	update_drain(&g, p); /* the (empty) table walk of a new session */
	barrier_check(&g);
	read_acks(pipefd[0], &nacks, &last, &ordered);
	T_CHECK(nacks == 1 && last == 1, "barrier: nothing to send: acked");
	for (i = 0; i < n; i++) {
		set(100000 + i, 1, 0);
		barrier_mark(&g, 10 + i);
		update_drain(&g, p);
		flush(p);
		barrier_check(&g);
		if (p->cklen > maxck)
			maxck = p->cklen;
		if (g.mlen > maxm)
			maxm = g.mlen;
	}
	read_acks(pipefd[0], &nacks, &last, &ordered);
	T_CHECK(last < 10 + n - 1 && g.mlen > 0,
		"barrier: the far end does not read: not all acked (last %llu)",
		last);
	T_CHECK(maxck <= 1024 && maxm <= 4096,
		"barrier: rings bounded (%zu checkpoints, %zu marks)", maxck,
		maxm);
	for (i = 0; i < 100000 && (g.mlen || buf_pending(&p->c.out)); i++) {
		while (read(fd, sink, sizeof sink) > 0)
			;
		flush(p);
		barrier_check(&g);
	}
	read_acks(pipefd[0], &nacks, &last, &ordered);
	T_CHECK(last == 10 + n - 1 && g.mlen == 0 && p->cklen == 0,
		"barrier: all acked once it reads (last %llu)", last);
	T_CHECK(ordered, "barrier: %u acks, in order", nacks);
	update_stop(&g, p);
	barrier_close(&g);
	close(pipefd[0]);
	close(p->c.fd);
	close(fd);
	close(ls);
	buf_free(&p->c.out);
	rib_destroy(&g.rib);
}

int
main(void)
{
	test_rib();
	test_update();
	test_barrier();
	T_DONE();
}
