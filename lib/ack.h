/*
 * ack: a sink's acknowledgement channel (docs/records.md, mark and ack).
 *
 * The channel is a FIFO opened read-write and non-blocking: opening never
 * waits for a reader, a write never blocks, and a full FIFO drops the ack,
 * which the next one covers (acks are cumulative).
 */
#ifndef ACK_H
#define ACK_H

#include <stdint.h>

/* Opens path (which must be a FIFO). The fd, or -1 with errno. */
int ack_open(const char *path);
/* Writes "ack N". 1 written, 0 dropped (FIFO full), -1 with errno. */
int ack_write(int fd, uint64_t n);

#endif
