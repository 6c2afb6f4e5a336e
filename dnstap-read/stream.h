/*
 * stream: the receiving side of one Frame Streams connection or file.
 *
 * Frame Streams (fstrm) framing: a data frame is a 32-bit big-endian length
 * and that many bytes; a control frame is a zero length (the escape), a
 * 32-bit length and a control payload (type and fields, decoded by
 * libfstrm's fstrm_control_*). A sender opens with READY (bidirectional:
 * we answer ACCEPT) and START, both naming the content type, sends data
 * frames, and ends with STOP (bidirectional: we answer FINISH). Bytes are
 * read by the caller into stream_space(); stream_input() hands each whole
 * data frame to a callback, keeps a partial frame at the front of the
 * buffer (growing it up to max_frame), and queues replies in wbuf for the
 * caller to write.
 */
#ifndef STREAM_H
#define STREAM_H

#include <stddef.h>
#include <stdint.h>

#define STREAM_CONTENT_TYPE "protobuf:dnstap.Dnstap"
#define STREAM_CONTROL_MAX 512 /* FSTRM_CONTROL_FRAME_LENGTH_MAX */

enum stream_err {
	STREAM_OK = 0,
	STREAM_E_SIZE,	/* a frame over max_frame, a control frame over 512 */
	STREAM_E_CTYPE, /* READY or START for another content type */
	STREAM_E_HANDSHAKE, /* a control frame out of order or undecodable */
	STREAM_E_NOMEM,
};

struct stream {
	int started;  /* START seen: data frames are welcome */
	int ready;    /* READY seen: bidirectional */
	uint8_t *buf; /* bytes received, from the start of a frame */
	size_t len, cap, max_frame;
	uint8_t wbuf[2 * (STREAM_CONTROL_MAX + 8)]; /* ACCEPT, FINISH */
	size_t wlen;
	uint64_t frames;
	enum stream_err err;
	char why[64]; /* the error, for a log line */
};

typedef void stream_frame_fn(void *arg, const uint8_t *frame, size_t len);

/* 0, or -1 when out of memory. */
int stream_init(struct stream *s, size_t cap, size_t max_frame);
void stream_destroy(struct stream *s);
/* Where to read the next bytes into: *n bytes free (never 0). */
uint8_t *stream_space(struct stream *s, size_t *n);
/*
 * n more bytes are in stream_space(). 0 go on, 1 STOP seen (wbuf may hold
 * FINISH), -1 bad input (err and why say what; close the connection).
 */
int stream_input(struct stream *s, size_t n, stream_frame_fn *fn, void *arg);

#endif
