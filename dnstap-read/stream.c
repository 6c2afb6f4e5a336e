/*
 * stream: Frame Streams framing and handshakes on the receiving side. See
 * stream.h.
 */
#include "stream.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fstrm.h>

int
stream_init(struct stream *s, size_t cap, size_t max_frame)
{
	memset(s, 0, sizeof *s);
	s->cap = cap;
	s->max_frame = max_frame;
	s->buf = malloc(cap);
	return s->buf ? 0 : -1;
}

void
stream_destroy(struct stream *s)
{
	free(s->buf);
	s->buf = NULL;
}

uint8_t *
stream_space(struct stream *s, size_t *n)
{
	*n = s->cap - s->len;
	return s->buf + s->len;
}

static int
fail(struct stream *s, enum stream_err e, const char *why)
{
	s->err = e;
	snprintf(s->why, sizeof s->why, "%s", why);
	return -1;
}

/* Queues ACCEPT (with our content type) or FINISH. */
static int
reply(struct stream *s, struct fstrm_control *c, fstrm_control_type type)
{
	size_t n = sizeof s->wbuf - s->wlen;

	fstrm_control_reset(c);
	if (fstrm_control_set_type(c, type) != fstrm_res_success ||
	    (type == FSTRM_CONTROL_ACCEPT &&
	     fstrm_control_add_field_content_type(
		 c, (const uint8_t *)STREAM_CONTENT_TYPE,
		 strlen(STREAM_CONTENT_TYPE)) != fstrm_res_success) ||
	    fstrm_control_encode(c, s->wbuf + s->wlen, &n,
				 FSTRM_CONTROL_FLAG_WITH_HEADER) !=
		fstrm_res_success)
		return -1;
	s->wlen += n;
	return 0;
}

/* A control frame's payload: 0 go on, 1 STOP, -1 error. */
static int
control(struct stream *s, const uint8_t *p, size_t n)
{
	struct fstrm_control *c;
	fstrm_control_type type;
	int ct_ok, r = -1;

	/* Control frames come a few per connection: no need to keep one. */
	if (!(c = fstrm_control_init()))
		return fail(s, STREAM_E_NOMEM, "out of memory");
	if (fstrm_control_decode(c, p, n, 0) != fstrm_res_success ||
	    fstrm_control_get_type(c, &type) != fstrm_res_success) {
		fail(s, STREAM_E_HANDSHAKE, "bad control frame");
		goto out;
	}
	ct_ok = fstrm_control_match_field_content_type(
		    c, (const uint8_t *)STREAM_CONTENT_TYPE,
		    strlen(STREAM_CONTENT_TYPE)) == fstrm_res_success;
	switch (type) {
	case FSTRM_CONTROL_READY:
		if (s->ready || s->started)
			fail(s, STREAM_E_HANDSHAKE, "unexpected READY");
		else if (!ct_ok)
			fail(s, STREAM_E_CTYPE,
			     "content type is not " STREAM_CONTENT_TYPE);
		else if (reply(s, c, FSTRM_CONTROL_ACCEPT) == -1)
			fail(s, STREAM_E_HANDSHAKE, "unable to encode ACCEPT");
		else {
			s->ready = 1;
			r = 0;
		}
		break;
	case FSTRM_CONTROL_START:
		if (s->started)
			fail(s, STREAM_E_HANDSHAKE, "unexpected START");
		else if (!ct_ok)
			fail(s, STREAM_E_CTYPE,
			     "content type is not " STREAM_CONTENT_TYPE);
		else {
			s->started = 1;
			r = 0;
		}
		break;
	case FSTRM_CONTROL_STOP:
		if (!s->started)
			fail(s, STREAM_E_HANDSHAKE, "unexpected STOP");
		else if (s->ready && reply(s, c, FSTRM_CONTROL_FINISH) == -1)
			fail(s, STREAM_E_HANDSHAKE, "unable to encode FINISH");
		else
			r = 1;
		break;
	default:
		fail(s, STREAM_E_HANDSHAKE, "unexpected control frame");
		break;
	}
out:
	fstrm_control_destroy(&c);
	return r;
}

int
stream_input(struct stream *s, size_t n, stream_frame_fn *fn, void *arg)
{
	size_t p = 0, avail, need;
	uint32_t flen, clen;
	uint8_t *nb;
	int r = 0;

	s->len += n;
	while (r == 0 && (avail = s->len - p) >= 4) {
		flen = wire_get32(s->buf + p);
		if (flen == 0) {
			if (avail < 8)
				break;
			clen = wire_get32(s->buf + p + 4);
			if (clen > STREAM_CONTROL_MAX)
				return fail(s, STREAM_E_SIZE,
					    "control frame too large");
			need = 8 + (size_t)clen;
		} else {
			if (!s->started)
				return fail(s, STREAM_E_HANDSHAKE,
					    "data frame before START");
			if (flen > s->max_frame) {
				char why[64];

				snprintf(why, sizeof why, "frame of %lu bytes",
					 (unsigned long)flen);
				return fail(s, STREAM_E_SIZE, why);
			}
			need = 4 + (size_t)flen;
		}
		if (avail < need) {
			/* Wait for the rest, with room for all of it. */
			if (need > s->cap) {
				if (!(nb = realloc(s->buf, need)))
					return fail(s, STREAM_E_NOMEM,
						    "out of memory");
				s->buf = nb;
				s->cap = need;
			}
			break;
		}
		if (flen == 0) {
			r = control(s, s->buf + p + 8, clen);
		} else {
			fn(arg, s->buf + p + 4, flen);
			s->frames++;
		}
		p += need;
	}
	if (r == -1)
		return -1;
	if (p) {
		memmove(s->buf, s->buf + p, s->len - p);
		s->len -= p;
	}
	return r;
}
