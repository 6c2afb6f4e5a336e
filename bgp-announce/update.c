/*
 * update.c: from the table to UPDATE messages, per peer.
 *
 * A peer's work is its queue of changed entries plus, after the session
 * comes up (or a ROUTE-REFRESH), a walk over the whole table. Work is taken
 * in batches only while the peer's output buffer is below OUT_HIGH, so a
 * slow peer holds at most that much memory and never slows the others: what
 * it has not been sent yet is still in the table. A batch is sorted by
 * (withdraw/announce, family, tag) and each run is packed into as few
 * messages as fit in 4096 bytes. The state of an entry is read when the
 * batch is built, so an announce and a withdraw that meet on the queue
 * cancel out and a prefix is sent once however often it changed.
 */
#include "bgpa.h"
#include "wire.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define OUT_HIGH (512 * 1024)
#define BATCH 4096

struct item {
	uint32_t idx;
	uint32_t key; /* announce << 24 | fam << 16 | tag */
};

static struct item batch[BATCH];

static uint64_t
bit(const struct peer *p)
{
	return 1ULL << p->idx;
}

/* Sets or clears p's "sent" bit of e, keeping p's per-family count. */
static void
set_sent(struct peer *p, struct rib_entry *e, int on)
{
	if (!(e->sent & bit(p)) == !on)
		return;
	if (on) {
		e->sent |= bit(p);
		p->nsent[e->fam]++;
	} else {
		e->sent &= ~bit(p);
		p->nsent[e->fam]--;
	}
}

static int
q_push(struct peer *p, uint32_t i)
{
	if (p->qhead > 0 && p->qhead == p->qlen)
		p->qhead = p->qlen = 0;
	if (p->qlen == p->qcap) {
		if (p->qhead > p->qcap / 2) {
			memmove(p->q, p->q + p->qhead,
				(p->qlen - p->qhead) * sizeof *p->q);
			p->qlen -= p->qhead;
			p->qhead = 0;
		} else {
			size_t cap = p->qcap ? p->qcap * 2 : 4096;
			uint32_t *q = realloc(p->q, cap * sizeof *q);
			if (!q)
				return -1;
			p->q = q;
			p->qcap = cap;
		}
	}
	p->q[p->qlen++] = i;
	p->q_pushed++;
	return 0;
}

void
update_changed(struct bgpa *g, uint32_t i)
{
	struct rib_entry *e = &g->rib.e[i];
	size_t k;
	struct peer *p;

	for (k = 0; k < g->npeers; k++) {
		p = &g->peers[k];
		if (p->c.state != ST_ESTABLISHED || (e->queued & bit(p)))
			continue;
		if (q_push(p, i) == -1) {
			/* No memory: the table walk will find it. */
			p->cursor = 0;
			continue;
		}
		e->queued |= bit(p);
	}
}

static int
put_attr(uint8_t *o, uint8_t flags, uint8_t type, const void *v, size_t n)
{
	if (n > 255) {
		o[0] = flags | 0x10;
		o[1] = type;
		o[2] = (uint8_t)(n >> 8);
		o[3] = (uint8_t)n;
		memcpy(o + 4, v, n);
		return (int)n + 4;
	}
	o[0] = flags;
	o[1] = type;
	o[2] = (uint8_t)n;
	memcpy(o + 3, v, n);
	return (int)n + 3;
}

/*
 * Next hops: the tag's, the peer's, the source address, then for IPv4 the
 * router id as the Go daemon does (operators point routes at it, often a
 * loopback address), for IPv6 the session's own address if IPv6.
 */
void
update_next_hops(const struct peer *p, const struct tag_conf *t, uint8_t nh4[4],
		 uint8_t nh6[16])
{
	const struct peer_conf *pc = p->pc;

	if (t->nh4.family)
		memcpy(nh4, t->nh4.a, 4);
	else if (pc->nh4.family)
		memcpy(nh4, pc->nh4.a, 4);
	else if (pc->source.family == AF_INET)
		memcpy(nh4, pc->source.a, 4);
	else
		wire_put32(nh4, pc->router_id);
	if (t->nh6.family)
		memcpy(nh6, t->nh6.a, 16);
	else if (pc->nh6.family)
		memcpy(nh6, pc->nh6.a, 16);
	else if (pc->source.family == AF_INET6)
		memcpy(nh6, pc->source.a, 16);
	else if (p->c.local.family == AF_INET6)
		memcpy(nh6, p->c.local.a, 16);
	else {
		/* IPv4-mapped: the best an IPv4-only speaker can say. */
		memset(nh6, 0, 16);
		nh6[10] = nh6[11] = 0xff;
		memcpy(nh6 + 12, nh4, 4);
	}
}

/*
 * The path attributes of tag t towards p, for family fam. For IPv6 the
 * blob ends with MP_REACH_NLRI's fixed part (without its length, which
 * depends on the prefixes): update_emit() completes it.
 */
static int
build_attrs(struct bgpa *g, struct peer *p, size_t tag, int fam)
{
	const struct tag_conf *t = &g->cfg->tags[tag];
	const struct peer_conf *pc = p->pc;
	uint8_t a[1600], v[400], nh4[4], nh6[16];
	int n = 0, ebgp = pc->peer_as != pc->local_as;
	size_t i;

	update_next_hops(p, t, nh4, nh6);
	v[0] = 0; /* IGP */
	n += put_attr(a + n, 0x40, 1, v, 1);
	if (!ebgp)
		n += put_attr(a + n, 0x40, 2, v, 0);
	else if (p->as4) {
		v[0] = 2, v[1] = 1;
		wire_put32(v + 2, pc->local_as);
		n += put_attr(a + n, 0x40, 2, v, 6);
	} else {
		uint16_t as2 =
		    pc->local_as > 65535 ? AS_TRANS : (uint16_t)pc->local_as;
		v[0] = 2, v[1] = 1, v[2] = (uint8_t)(as2 >> 8),
		v[3] = (uint8_t)as2;
		n += put_attr(a + n, 0x40, 2, v, 4);
	}
	if (fam == FAM4)
		n += put_attr(a + n, 0x40, 3, nh4, 4);
	if (t->has_med) {
		wire_put32(v, t->med);
		n += put_attr(a + n, 0x80, 4, v, 4);
	}
	if (!ebgp) {
		wire_put32(v, t->has_lp ? t->lp : 100);
		n += put_attr(a + n, 0x40, 5, v, 4);
	}
	if (t->ncomm) {
		for (i = 0; i < t->ncomm; i++)
			wire_put32(v + 4 * i, t->comm[i]);
		n += put_attr(a + n, 0xc0, 8, v, 4 * t->ncomm);
	}
	if (ebgp && !p->as4 && pc->local_as > 65535) {
		v[0] = 2, v[1] = 1;
		wire_put32(v + 2, pc->local_as);
		n += put_attr(a + n, 0xc0, 17, v, 6); /* AS4_PATH */
	}
	if (t->nlcomm) {
		for (i = 0; i < t->nlcomm; i++) {
			wire_put32(v + 12 * i, t->lcomm[i][0]);
			wire_put32(v + 12 * i + 4, t->lcomm[i][1]);
			wire_put32(v + 12 * i + 8, t->lcomm[i][2]);
		}
		n += put_attr(a + n, 0xc0, 32, v, 12 * t->nlcomm);
	}
	if (fam == FAM6) {
		/* MP_REACH_NLRI: flags, type, 2-byte length (filled later) */
		a[n++] = 0x90, a[n++] = 14, a[n++] = 0, a[n++] = 0;
		a[n++] = 0, a[n++] = 2, a[n++] = 1, a[n++] = 16;
		memcpy(a + n, nh6, 16);
		n += 16;
		a[n++] = 0;
	}
	free(p->attr[tag][fam]);
	if (!(p->attr[tag][fam] = malloc((size_t)n)))
		return -1;
	memcpy(p->attr[tag][fam], a, (size_t)n);
	p->attrlen[tag][fam] = (uint16_t)n;
	return 0;
}

int
update_start(struct bgpa *g, struct peer *p)
{
	size_t t;
	int f;

	for (t = 0; t < g->cfg->ntags; t++)
		for (f = 0; f < NFAM; f++)
			if (build_attrs(g, p, t, f) == -1)
				return -1;
	/* The queue is kept: entries on it are skipped by the walk. */
	p->cursor = 0;
	p->eor_sent = 0;
	return 0;
}

void
update_stop(struct bgpa *g, struct peer *p)
{
	uint64_t b = bit(p);
	uint32_t i;
	size_t t;

	for (i = 0; i < g->rib.n; i++) {
		struct rib_entry *e = &g->rib.e[i];
		if (!e->used || !((e->sent | e->queued) & b))
			continue;
		e->sent &= ~b;
		e->queued &= ~b;
		rib_maybe_free(&g->rib, i);
	}
	for (t = 0; t < BGPA_MAX_TAGS; t++) {
		free(p->attr[t][FAM4]);
		free(p->attr[t][FAM6]);
		p->attr[t][FAM4] = p->attr[t][FAM6] = NULL;
	}
	free(p->q);
	p->q = NULL;
	p->qhead = p->qlen = p->qcap = 0;
	p->cursor = UINT32_MAX;
	barrier_peer_down(g, p);
	p->nsent[FAM4] = p->nsent[FAM6] = 0;
}

void
update_refresh(struct bgpa *g, struct peer *p, int fam)
{
	uint32_t i;

	/* Withdrawals still queued keep their bit. */
	for (i = 0; i < g->rib.n; i++)
		if (g->rib.e[i].fam == fam && g->rib.e[i].present)
			set_sent(p, &g->rib.e[i], 0);
	p->cursor = 0;
}

int
update_pending(const struct bgpa *g, const struct peer *p)
{
	if (p->c.state != ST_ESTABLISHED)
		return 0;
	if (p->qhead < p->qlen || p->cursor < g->rib.n)
		return 1;
	return !p->eor_sent && g->eor_seen && !g->replaying;
}

static int
cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void
sent_msg(struct bgpa *g, struct peer *p, size_t len)
{
	p->msgs_out++;
	p->updates_out++;
	g->n.updates++;
	g->n.msgs_out++;
	g->n.bytes_out += len;
}

/* Packs batch[from..to), all of one key, into UPDATEs on p's output. */
static int
emit(struct bgpa *g, struct peer *p, size_t from, size_t to)
{
	uint32_t key = batch[from].key;
	int announce = (int)(key >> 24), fam = (int)(key >> 16 & 0xff);
	size_t tag = key & 0xffff, alen = 0, hdr, n, plen, pb, k;
	uint8_t *m;
	const uint8_t *attr = NULL;

	if (announce) {
		attr = p->attr[tag][fam];
		alen = p->attrlen[tag][fam];
	}
	while (from < to) {
		if (buf_reserve(&p->c.out, BGP_MAX_LEN) == -1)
			return -1;
		m = p->c.out.p + p->c.out.len;
		/* header, withdrawn length, [withdrawn], attr length, attrs */
		hdr = BGP_HDR_LEN + 2;
		n = hdr;
		m[BGP_HDR_LEN] = m[BGP_HDR_LEN + 1] = 0;
		if (announce) {
			m[n++] = 0, m[n++] = 0;
			memcpy(m + n, attr, alen);
			n += alen;
		} else if (fam == FAM6) {
			m[n++] = 0, m[n++] = 0;
			m[n++] = 0x90, m[n++] = 15, m[n++] = 0, m[n++] = 0;
			m[n++] = 0, m[n++] = 2, m[n++] = 1;
		}
		for (k = 0; from < to; from++, k++) {
			const struct rib_entry *e = &g->rib.e[batch[from].idx];
			plen = e->plen;
			pb = (size_t)bgp_prefix_bytes(e->plen);
			/* IPv4 withdrawals still need the attribute length. */
			if (n + 1 + pb + (!announce && fam == FAM4 ? 2 : 0) >
			    BGP_MAX_LEN)
				break;
			m[n++] = (uint8_t)plen;
			memcpy(m + n, e->a, pb);
			n += pb;
		}
		if (announce) {
			size_t al = alen;
			if (fam == FAM6) {
				/* MP_REACH_NLRI's length runs to the end. */
				size_t mp = n - (hdr + 2 + alen);
				size_t mplen = 21 + mp;
				m[hdr + 2 + alen - 23] = (uint8_t)(mplen >> 8);
				m[hdr + 2 + alen - 22] = (uint8_t)mplen;
				al = alen + mp;
			}
			m[hdr] = (uint8_t)(al >> 8);
			m[hdr + 1] = (uint8_t)al;
			p->pfx_announced += k;
			g->n.announced += k;
		} else if (fam == FAM6) {
			size_t mplen = n - (hdr + 2 + 4);
			m[hdr + 4] = (uint8_t)(mplen >> 8);
			m[hdr + 5] = (uint8_t)mplen;
			m[hdr + 1] = (uint8_t)(n - hdr - 2);
			m[hdr] = (uint8_t)((n - hdr - 2) >> 8);
			p->pfx_withdrawn += k;
			g->n.withdrawn += k;
		} else {
			size_t wl = n - hdr;
			memmove(m + BGP_HDR_LEN + 2, m + hdr, wl);
			n = BGP_HDR_LEN + 2 + wl;
			m[BGP_HDR_LEN] = (uint8_t)(wl >> 8);
			m[BGP_HDR_LEN + 1] = (uint8_t)wl;
			m[n++] = 0, m[n++] = 0;
			p->pfx_withdrawn += k;
			g->n.withdrawn += k;
		}
		bgp_put_header(m, n, BGP_UPDATE);
		buf_commit(&p->c.out, n);
		sent_msg(g, p, n);
	}
	return 0;
}

static void
send_eor(struct bgpa *g, struct peer *p)
{
	static const uint8_t eor6[] = {0, 0, 0, 6, 0x80, 15, 3, 0, 2, 1};
	uint8_t m[BGP_HDR_LEN + sizeof eor6];

	if (p->fam[FAM4]) {
		memset(m, 0, sizeof m);
		bgp_put_header(m, BGP_HDR_LEN + 4, BGP_UPDATE);
		buf_add(&p->c.out, m, BGP_HDR_LEN + 4);
		sent_msg(g, p, BGP_HDR_LEN + 4);
	}
	if (p->fam[FAM6]) {
		bgp_put_header(m, sizeof m, BGP_UPDATE);
		memcpy(m + BGP_HDR_LEN, eor6, sizeof eor6);
		buf_add(&p->c.out, m, sizeof m);
		sent_msg(g, p, sizeof m);
	}
	p->eor_sent = 1;
}

void
update_drain(struct bgpa *g, struct peer *p)
{
	uint64_t b = bit(p);
	size_t n, i, j;
	uint32_t idx;
	struct rib_entry *e;

	while (p->c.state == ST_ESTABLISHED &&
	       buf_pending(&p->c.out) < OUT_HIGH) {
		n = 0;
		while (n < BATCH && p->qhead < p->qlen) {
			idx = p->q[p->qhead++];
			p->q_popped++;
			e = &g->rib.e[idx];
			e->queued &= ~b;
			if (!p->fam[e->fam]) {
				rib_maybe_free(&g->rib, idx);
				continue;
			}
			if (e->present) {
				set_sent(p, e, 1);
				batch[n].idx = idx;
				batch[n++].key =
				    1u << 24 | (uint32_t)e->fam << 16 | e->tag;
			} else if (e->sent & b) {
				set_sent(p, e, 0);
				batch[n].idx = idx;
				batch[n++].key = (uint32_t)e->fam << 16;
				rib_maybe_free(&g->rib, idx);
			} else
				rib_maybe_free(&g->rib, idx);
		}
		while (n < BATCH && p->cursor < g->rib.n) {
			idx = p->cursor++;
			e = &g->rib.e[idx];
			if (!e->used || !e->present || !p->fam[e->fam] ||
			    ((e->sent | e->queued) & b))
				continue;
			set_sent(p, e, 1);
			batch[n].idx = idx;
			batch[n++].key =
			    1u << 24 | (uint32_t)e->fam << 16 | e->tag;
		}
		if (n == 0) {
			if (p->cursor != UINT32_MAX && p->cursor >= g->rib.n) {
				p->cursor = UINT32_MAX;
				p->walks++;
				barrier_progress(g, p);
			}
			if (!p->eor_sent && g->eor_seen && !g->replaying)
				send_eor(g, p);
			return;
		}
		qsort(batch, n, sizeof *batch, cmp_item);
		for (i = 0; i < n; i = j) {
			for (j = i + 1; j < n && batch[j].key == batch[i].key;
			     j++)
				;
			if (emit(g, p, i, j) == -1)
				return;
		}
		if (p->cklen)
			barrier_progress(g, p);
	}
}
