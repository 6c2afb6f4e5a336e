/*
 * nlcheck: the framing of a buffer of netlink messages, checked before
 * libmnl walks it (libmnl trusts the lengths it reads: a length near 2^32
 * makes it step outside the buffer).
 */
#ifndef NLCHECK_H
#define NLCHECK_H

#include <stddef.h>

/* 1 when buf[0..len) is whole messages, each of at least a header. */
int nl_frames_ok(const void *buf, size_t len);

#endif
