/*
 * answer: a parsed DNS response to `answer` records. See answer.h.
 */
#include "answer.h"

#include <string.h>

/* Decimal digits of v into end-backwards; returns where they start. */
static char *
digits(char *end, uint64_t v, int minwidth)
{
	char *p = end;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v || end - p < minwidth);
	return p;
}

/* "answer TIME QNAME " into p (room for REC_NAME_MAX + 40); the length. */
static size_t
prefix(char *p, int64_t time_us, const char *qname, size_t qlen)
{
	char tmp[24], *s;
	size_t o;
	uint64_t us = time_us < 0 ? 0 : (uint64_t)time_us;

	memcpy(p, "answer ", 7);
	o = 7;
	s = digits(tmp + sizeof tmp, us / 1000000, 1);
	memcpy(p + o, s, (size_t)(tmp + sizeof tmp - s));
	o += (size_t)(tmp + sizeof tmp - s);
	p[o++] = '.';
	s = digits(tmp + sizeof tmp, us % 1000000, 6);
	memcpy(p + o, s, 6);
	o += 6;
	p[o++] = ' ';
	memcpy(p + o, qname, qlen);
	o += qlen;
	p[o++] = ' ';
	return o;
}

/* Presentation forms of the question and the chain. */
static int
names(struct answer_fmt *f, const struct dns_answers *a)
{
	size_t o = 0, n;
	unsigned k;

	f->qname_len = rec_name_from_wire(f->qname, sizeof f->qname,
					  a->qname.wire, a->qname.len);
	if (!f->qname_len)
		return -1;
	f->ends[0] = 0;
	for (k = 0; k < a->nchain; k++) {
		if (k)
			f->chain[o++] = ',';
		n = rec_name_from_wire(f->chain + o, sizeof f->chain - o,
				       a->chain[k].wire, a->chain[k].len);
		if (!n)
			return -1;
		o += n;
		f->ends[k + 1] = o;
	}
	f->nchain = a->nchain;
	return 0;
}

int
answer_format(struct answer_fmt *f, const struct dns_answers *a,
	      int64_t time_us, char *out, size_t cap, size_t *len)
{
	char head[REC_NAME_MAX + 48], addr[64], tmp[16], *ttl;
	size_t o = 0, hl, al, tl, cl, line;
	struct rec_addr ra;
	unsigned i;

	*len = 0;
	f->nrec = f->dropped = 0;
	f->qname_len = 0;
	f->nchain = 0;
	if (a->naddr == 0)
		return 0;
	if (names(f, a) == -1)
		return -1;
	if (cap > ANSWER_BYTES_MAX)
		cap = ANSWER_BYTES_MAX;
	hl = prefix(head, time_us, f->qname, f->qname_len);
	for (i = 0; i < a->naddr; i++) {
		const struct dns_addr *d = &a->addr[i];

		rec_addr_set(&ra, d->a, d->family == 4 ? 4 : 16);
		al = rec_addr_format(addr, sizeof addr, &ra, 0);
		ttl = digits(tmp + sizeof tmp, d->ttl, 1);
		tl = (size_t)(tmp + sizeof tmp - ttl);
		cl = d->depth ? f->ends[d->depth] : 1;
		line = hl + al + 1 + tl + 3 + cl + 1;
		if (!al || f->nrec == ANSWER_RECORDS_MAX ||
		    line > ANSWER_LINE_MAX || line > cap - o) {
			f->dropped++;
			continue;
		}
		memcpy(out + o, head, hl);
		o += hl;
		memcpy(out + o, addr, al);
		o += al;
		out[o++] = ' ';
		memcpy(out + o, ttl, tl);
		o += tl;
		memcpy(out + o, " - ", 3);
		o += 3;
		if (d->depth)
			memcpy(out + o, f->chain, cl);
		else
			out[o] = '-';
		o += cl;
		out[o++] = '\n';
		f->nrec++;
	}
	*len = o;
	return 0;
}
