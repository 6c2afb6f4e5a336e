/*
 * hold_test: dns-hold's marks, acknowledgements and held responses
 * (dns-hold/hold.c): marks grow from the wall clock; a sink becomes live
 * with its first acknowledgement of this run, falls silent when it owes a
 * mark without progress, comes back with a new one; what every live sink
 * acknowledged; the ring keeps order, wraps, refuses when full.
 */
#include <stdio.h>
#include <string.h>

#include "../../dns-hold/hold.h"
#include "../unit/t.h"

int
main(void)
{
	struct hold h;
	struct hold_dest d;
	struct held *e;
	uint8_t msg[3000];
	uint64_t m1, m2, m3;
	unsigned i, n, bad;

	memset(&d, 0, sizeof d);
	memset(msg, 7, sizeof msg);
	T_CHECK(hold_init(&h, 16384, 2, 50000, 500000) == 0, "init");

	/* Marks: from the wall clock, always growing. */
	m1 = hold_mark(&h, 1000000, 10);
	m2 = hold_mark(&h, 999000, 20); /* the clock stepped back */
	m3 = hold_mark(&h, 2000000, 30);
	T_CHECK(m1 == 1000000 && m2 == 1000001 && m3 == 2000000,
		"marks grow: %llu %llu %llu", (unsigned long long)m1,
		(unsigned long long)m2, (unsigned long long)m3);

	/* No sink live yet: nothing is held. */
	T_CHECK(!hold_on(&h) && hold_acked(&h) == UINT64_MAX,
		"no live sink: not holding");
	T_CHECK(hold_ack(&h, 0, 999999, 40) == -1 && !hold_on(&h),
		"an acknowledgement from before this run is stale");
	T_CHECK(hold_ack(&h, 0, m2, 40) == 1 && hold_on(&h) &&
		    hold_acked(&h) == m2,
		"the first acknowledgement makes a sink live");
	T_CHECK(
	    hold_ack(&h, 1, UINT64_MAX, 40) == 1 && hold_acked(&h) == m2 &&
		h.sink[1].acked == m3,
	    "an acknowledgement past the last mark counts as the last mark");
	T_CHECK(hold_ack(&h, 0, m1, 41) == 0 && h.sink[0].acked == m2,
		"an older acknowledgement changes nothing");

	/* Silence: sink 0 owes m3 since 30; nothing new for 500 ms. */
	T_CHECK(hold_tick(&h, 40 + 499999) == 0, "not silent before the bound");
	T_CHECK(hold_tick(&h, 40 + 500000) == 1 && hold_on(&h) &&
		    hold_acked(&h) == m3,
		"silent at the bound: only the other sink is waited for");
	T_CHECK(hold_ack(&h, 0, m3, 600000) == 1 && hold_acked(&h) == m3,
		"a new acknowledgement brings it back");
	/* Progress restarts the clock: a slow sink is not silent. */
	m1 = hold_mark(&h, 0, 700000);
	m2 = hold_mark(&h, 0, 800000);
	T_CHECK(hold_ack(&h, 0, m1, 1100000) == 0 &&
		    hold_ack(&h, 1, m2, 1100000) == 0 &&
		    hold_tick(&h, 1500000) == 0 && hold_tick(&h, 1600000) == 1,
		"owing since its last progress, then silent");
	T_CHECK(hold_ack(&h, 0, m2, 1700000) == 1 && h.sink[0].owed_since == 0,
		"all acknowledged: owes nothing");
	T_CHECK(hold_tick(&h, 99000000) == 0, "owing nothing: never silent");

	/* The ring: order, bound, wrap-around, full. */
	e = hold_push(&h, 5, 1000, &d, msg, 100);
	T_CHECK(e && e->until == 1000 + 50000 && e->len == 100 &&
		    hold_head(&h) == e,
		"push: the head, held until now + bound");
	for (i = 0, n = 1; i < 20; i++)
		n += hold_push(&h, 6 + i, 2000 + i, &d, msg, 1000) != NULL;
	T_CHECK(n < 21 && n > 5, "a full ring refuses (%u held)", n);
	for (i = 0, bad = 0; i < 4; i++) {
		e = hold_head(&h);
		bad += !e || e->mark != 5 + i;
		hold_pop(&h);
	}
	T_CHECK(bad == 0, "popped in order");
	/* Now there is room at the start: the next ones wrap. */
	for (i = 0; i < 3; i++)
		bad += hold_push(&h, 100 + i, 3000, &d, msg, 1000) == NULL;
	T_CHECK(bad == 0 && h.wrapped, "room freed at the head is used again");
	{
		uint64_t last = 0;

		n = 0;
		while ((e = hold_head(&h))) {
			bad += e->mark <= last || e->msg[999] != 7;
			last = e->mark;
			hold_pop(&h);
			n++;
		}
		T_CHECK(bad == 0 && n > 3 && h.count == 0 && !h.wrapped,
			"wrapped ring drains in order, data intact (%u)", n);
	}
	/* Many rounds of push and pop keep the ring consistent. */
	for (i = 0, bad = 0; i < 100000; i++) {
		size_t len = (i * 7919) % 2900 + 1;

		if (!hold_push(&h, i, 0, &d, msg, len)) {
			e = hold_head(&h);
			bad += !e;
			hold_pop(&h);
			continue;
		}
		if (i % 3 == 0) {
			hold_pop(&h);
			hold_pop(&h);
		}
	}
	T_CHECK(bad == 0 && h.count < 16384 / 64, "push/pop rounds");
	hold_destroy(&h);
	T_CHECK(h.ring == NULL, "destroy");
	T_DONE();
}
