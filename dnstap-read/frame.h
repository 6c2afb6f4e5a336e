/*
 * frame: one Frame Streams data frame (a protobuf dnstap.Dnstap message)
 * to answer records.
 *
 * The frame is unpacked by protobuf-c into a per-context arena (no malloc
 * per frame), filtered by dnstap message type, its DNS response parsed by
 * lib/dns, and its A/AAAA answers formatted by lib/answer (bounded per
 * response) and handed to the caller's emit function: the records of one
 * frame at once, whole lines with their newlines.
 */
#ifndef FRAME_H
#define FRAME_H

#include <stddef.h>
#include <stdint.h>

/* Bits of frame_ctx.types: 1 << dnstap.Message.Type. */
#define FRAME_T_RESOLVER (1u << 4)  /* RESOLVER_RESPONSE */
#define FRAME_T_CLIENT (1u << 6)    /* CLIENT_RESPONSE */
#define FRAME_T_FORWARDER (1u << 8) /* FORWARDER_RESPONSE */

enum frame_res {
	FRAME_OK = 0,	/* records emitted (maybe none) */
	FRAME_SKIPPED,	/* a message type not asked for */
	FRAME_E_PROTO,	/* not a dnstap.Dnstap protobuf */
	FRAME_E_DNSTAP, /* no message, no response, or a bad time */
	FRAME_E_DNS,	/* the DNS response is malformed */
	FRAME_RES_COUNT_
};

typedef void frame_emit(void *arg, const char *line, size_t len);

struct frame_ctx;

/* max_frame: the largest frame that will be passed. NULL on ENOMEM. */
struct frame_ctx *frame_ctx_init(unsigned types, size_t max_frame);
void frame_ctx_destroy(struct frame_ctx **c);

/*
 * Decodes buf[0..len) and emits its records; *nrec counts them. After an
 * error, frame_detail() says more (a DNS error, for the log line).
 */
enum frame_res frame_records(struct frame_ctx *c, const uint8_t *buf,
			     size_t len, frame_emit *emit, void *arg,
			     unsigned *nrec);
const char *frame_strerror(enum frame_res r);
/*
 * Whether the last frame's answer was cut short (not an error): a CNAME
 * loop, a chain over 16 links or 64 CNAMEs, over 1024 addresses, or
 * records left out by lib/answer's bounds (frame_dropped() of them).
 */
int frame_cut(const struct frame_ctx *c);
unsigned frame_dropped(const struct frame_ctx *c);
const char *frame_detail(const struct frame_ctx *c);

#endif
