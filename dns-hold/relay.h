/*
 * relay: dns-hold's state shared between its files: the counters, the
 * configuration, and the hooks the relay calls into the program (records,
 * holding, delivery). One thread, so plain globals.
 */
#ifndef RELAY_H
#define RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "hold.h"
#include "packet.h"
#include "rec.h"

#define UP_MAX 8	/* upstream servers */
#define UP_SOCKS_MAX 64 /* UDP sockets per upstream */
#define UP_TCP_MAX 4	/* TCP connections per upstream */
#define LISTEN_MAX 8
#define ALLOW_MAX 64
#define BATCH 32 /* datagrams per recvmmsg/sendmmsg */

struct counters {
	uint64_t q_udp, q_tcp, refused, formerr, dropped_q, servfail;
	uint64_t answers, truncated, malformed, spoofed, late;
	uint64_t up_timeouts, up_errors, up_retries, inflight_dropped, inflight;
	uint64_t records, records_dropped, records_skipped, cut, out_dropped;
	uint64_t held, released_ack, released_timeout, released_open, hold_full,
	    not_held_silent, not_held_out, held_now;
	uint64_t marks, acks, acks_stale, acks_bad;
	uint64_t tcp_conns, tcp_open, tcp_refused, tcp_full, tcp_closed_idle,
	    tcp_closed_bad, tcp_unread, tx_dropped, client_gone;
	uint64_t sinks_live, list_reloads;
};
extern struct counters st;

struct relay_conf {
	int64_t up_timeout; /* us */
	int64_t tcp_idle;   /* us */
	unsigned max_flights, up_socks, max_tcp;
	uint32_t cache_entries, cache_max_ttl; /* -k, -x */
	size_t nallow;
	struct rec_addr allow[ALLOW_MAX];
};
extern struct relay_conf conf;

/* The packet cache (relay.c; its counters for the metrics). */
extern struct pcache pc;

/* Microseconds, monotonic, read once per turn of the loop. */
extern int64_t now_us;

/*
 * The program's side of a response: records written, then either held
 * (1) or to be delivered now (0). msg is the response with the client's ID.
 */
int relay_response(const struct hold_dest *to, const uint8_t *msg, size_t len,
		   const char *from);

/* relay.c: the relay itself. */
int relay_init(void);
/* ADDR or ADDR:PORT or [ADDR]:PORT; 0 or -1 (EINVAL). */
int relay_upstream_add(const char *spec);
/* Binds a UDP socket and a TCP listener on spec; 0 or -1 with errno. */
int relay_listen(const char *spec);
/* Adds the relay's descriptors to the epoll set ep. */
int relay_epoll(int ep);
/* An epoll event of the relay (tag from relay_epoll); what it sends goes
 * out at the next relay_flush(). */
void relay_event(uint64_t tag, uint32_t events);
/* Timers: upstream timeouts, idle connections. The next deadline (us). */
int64_t relay_tick(void);
/* Sends a response to its client. */
void relay_deliver(const struct hold_dest *to, const uint8_t *msg, size_t len);
/* Sends a held response (its TCP client's pipeline slot is freed). */
void relay_release(const struct hold_dest *to, const uint8_t *msg, size_t len);
/* Sends what is batched for UDP clients and upstreams, asks again what
 * failed: once per turn of the loop, after its events. */
void relay_flush(void);
/* "127.0.0.1:53 [::1]:53", "127.0.0.1:5301" for the start line. */
const char *relay_listening(void);
const char *relay_upstreams(void);
void relay_destroy(void);

#define TAG_KIND(t) ((unsigned)((t) >> 32))
#define TAG(kind, i) ((uint64_t)(kind) << 32 | (uint32_t)(i))
enum {
	EV_SIG = 1,
	EV_OUT,
	EV_SINK,
	EV_LUDP,
	EV_LTCP,
	EV_CLIENT,
	EV_UUDP,
	EV_UTCP
};

#endif
