/*
 * rt.h: route-sync's side of the kernel: routes through rtnetlink (libmnl).
 */
#ifndef ROUTE_SYNC_RT_H
#define ROUTE_SYNC_RT_H

#include <stdint.h>

#include "rec.h"
#include "sink.h"

/* How a class of routes is made (one per tag class). */
struct rt_dest {
	uint32_t table;
	uint32_t metric;
	uint8_t type;	   /* RTN_UNICAST, RTN_BLACKHOLE, ... */
	uint8_t has_gw[2]; /* IPv4, IPv6 gateway given */
	uint8_t gw[2][16];
	char dev[16]; /* "" for none */
	uint32_t oif; /* dev's index, 0 while it does not exist */
};

struct rtk;

struct rtk *rtk_open(uint8_t protocol);
void rtk_close(struct rtk **k);

/*
 * Reads every route of table in use by dests into s. Routes of our
 * protocol are ours (stale when their attributes are not the class's);
 * others with the same prefix, table and metric are foreign. Routes of
 * ours in those tables that belong to no class (a metric no longer
 * configured) are deleted. 0 or -1 with errno.
 */
int rtk_dump(struct rtk *k, const struct rt_dest *d, uint32_t nd,
	     struct sink *s);

/*
 * One buffer of a route dump (RTM_NEWROUTE messages) into s, as rtk_dump
 * reads it: what libmnl's callback run returns. For the fuzzer.
 */
int rtk_parse(struct rtk *k, const struct rt_dest *d, uint32_t nd,
	      struct sink *s, const void *buf, size_t len);

/*
 * A batch of route changes (rtnetlink has no transactions: each message
 * succeeds or fails alone). rtk_send returns the number of changes that
 * failed, with ok[i] 0 for each, or -1 with errno when the answers were
 * lost. *exists is set when an add met a route already there.
 */
void rtk_batch_begin(struct rtk *k);
int rtk_batch_add(struct rtk *k, const struct rt_dest *d, enum sink_op op,
		  const struct rec_addr *p);
int rtk_batch_full(const struct rtk *k);
int rtk_batch_send(struct rtk *k, uint8_t *ok, int *exists, int *firsterr);

/*
 * Following the kernel: a second socket gets its link, address and route
 * notifications, and the links' states now (a dump) are kept. What may
 * have removed routes of ours or let refused ones in is counted in a
 * struct rt_changes, which rtk_changes adds to.
 */
struct rt_changes {
	uint64_t events;   /* each of the below */
	uint64_t links;	   /* a link came, went, went up or down */
	uint64_t addrs;	   /* an address was added or removed */
	uint64_t deleted;  /* a route of ours deleted by someone else */
	uint64_t lost;	   /* notifications lost (or garbled) */
	char link[16];	   /* the last link counted */
	const char *state; /* its state then: "up", "down", "removed"... */
};

/* Subscribes and reads the links' states. 0, or -1 with errno. */
int rtk_follow(struct rtk *k);
int rtk_follow_fd(const struct rtk *k);
/*
 * Reads every notification queued (never waits) into c: 1 when one may
 * have changed routes of ours in the tables of d, else 0; -1 with errno
 * when the read failed or memory ran out (ENOMEM).
 */
int rtk_changes(struct rtk *k, const struct rt_dest *d, uint32_t nd,
		struct rt_changes *c);
/* One buffer of notifications into c, as rtk_changes reads it (for the
 * fuzzer): 0, or -1 when memory ran out. */
int rtk_parse_changes(struct rtk *k, const struct rt_dest *d, uint32_t nd,
		      struct rt_changes *c, const void *buf, size_t len);

#endif
