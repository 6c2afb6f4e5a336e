/*
 * msg.h: builds DNS messages byte by byte for the unit tests of lib/dns,
 * lib/answer and dnstap-read's frames. Names are given as "www.example.com"
 * (labels split on '.') or as raw wire bytes; compression pointers are put
 * explicitly.
 */
#ifndef MSG_H
#define MSG_H

#include <stdint.h>
#include <string.h>

struct msg {
	uint8_t b[65536];
	size_t len;
};

static inline void
m_u8(struct msg *m, unsigned v)
{
	m->b[m->len++] = (uint8_t)v;
}

static inline void
m_u16(struct msg *m, unsigned v)
{
	m_u8(m, v >> 8);
	m_u8(m, v & 0xff);
}

static inline void
m_u32(struct msg *m, uint32_t v)
{
	m_u16(m, v >> 16);
	m_u16(m, v & 0xffff);
}

static inline void
m_raw(struct msg *m, const void *p, size_t n)
{
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

/* Labels of s, without the root label (end with m_u8(m, 0) or m_ptr). */
static inline void
m_labels(struct msg *m, const char *s)
{
	size_t n;

	while (*s) {
		n = strcspn(s, ".");
		m_u8(m, (unsigned)n);
		m_raw(m, s, n);
		s += n;
		if (*s == '.')
			s++;
	}
}

static inline void
m_name(struct msg *m, const char *s)
{
	m_labels(m, s);
	m_u8(m, 0);
}

static inline void
m_ptr(struct msg *m, unsigned off)
{
	m_u16(m, 0xc000 | off);
}

/* Header and question; the name ends up at offset 12. */
static inline void
m_start(struct msg *m, const char *qname, unsigned qtype, unsigned ancount)
{
	m->len = 0;
	m_u16(m, 0x1234);
	m_u16(m, 0x8180); /* QR RD RA, NOERROR */
	m_u16(m, 1);
	m_u16(m, ancount);
	m_u16(m, 0);
	m_u16(m, 0);
	m_name(m, qname);
	m_u16(m, qtype);
	m_u16(m, 1);
}

/* The fixed part of a record after its owner name. */
static inline void
m_rr(struct msg *m, unsigned type, uint32_t ttl, unsigned rdlen)
{
	m_u16(m, type);
	m_u16(m, 1);
	m_u32(m, ttl);
	m_u16(m, rdlen);
}

static inline void
m_a(struct msg *m, const char *owner, uint8_t last)
{
	uint8_t a[4] = {192, 0, 2, last};

	if (owner)
		m_name(m, owner);
	else
		m_ptr(m, 12);
	m_rr(m, 1, 300, 4);
	m_raw(m, a, 4);
}

static inline void
m_aaaa(struct msg *m, const char *owner, uint8_t last)
{
	uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};

	a[15] = last;
	if (owner)
		m_name(m, owner);
	else
		m_ptr(m, 12);
	m_rr(m, 28, 300, 16);
	m_raw(m, a, 16);
}

static inline void
m_cname(struct msg *m, const char *owner, const char *target)
{
	m_name(m, owner);
	m_rr(m, 5, 300, (unsigned)strlen(target) + 2);
	m_name(m, target);
}

/* A 255-byte wire name of '.' bytes (each written \046), unique per k. */
static inline void
m_amp_name(struct msg *m, unsigned k)
{
	static const unsigned labels[4] = {63, 63, 63, 61};
	unsigned i, j;

	for (i = 0; i < 4; i++) {
		m_u8(m, labels[i]);
		for (j = 0; j < labels[i]; j++)
			m_u8(m, j == 0 ? 'a' + k : '.');
	}
	m_u8(m, 0);
}

/*
 * The amplifier of issue 11: a response to a 255-byte name, links CNAMEs
 * of 255-byte names, naddr A records owned by the last (links 15, naddr
 * 1024: about 20 KB).
 */
static inline void
m_amplifier(struct msg *m, unsigned links, unsigned naddr)
{
	size_t prev = 12, here, k;

	m->len = 0;
	m_u16(m, 7);
	m_u16(m, 0x8180);
	m_u16(m, 1);
	m_u16(m, links + naddr);
	m_u16(m, 0);
	m_u16(m, 0);
	m_amp_name(m, 0);
	m_u16(m, 1);
	m_u16(m, 1);
	for (k = 1; k <= links; k++) {
		m_ptr(m, (unsigned)prev);
		m_rr(m, 5, 300, 255);
		here = m->len;
		m_amp_name(m, (unsigned)k);
		prev = here;
	}
	for (k = 0; k < naddr; k++) {
		m_ptr(m, (unsigned)prev);
		m_rr(m, 1, 300, 4);
		m_raw(m, "\xc0\x00\x02\x01", 4);
	}
}

#endif
