/*
 * fuzz-rt-dump: route-sync's reading of an rtnetlink route dump
 * (route-sync/rt.c, route_cb through libmnl): any bytes as one buffer of
 * the dump, against two classes of routes. Nothing may crash or read out
 * of bounds; routes it takes for ours with a stale metric are listed.
 * The same bytes as a buffer of the kernel's link, address and route
 * notifications (rtk_parse_changes), with no link known yet.
 */
#include <linux/rtnetlink.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../route-sync/rt.h"
#include "sink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t
dest_of(void *arg, const char *tag, int family)
{
	(void)arg;
	(void)family;
	return *tag ? 1 : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rtk *k;
	static struct rt_dest d[2];
	struct rt_changes c = {0};
	struct rtk *ev;
	struct sink s;
	void *buf;

	if (!k) {
		if (!(k = rtk_open(247)))
			abort();
		d[0].table = 100;
		d[0].metric = 100;
		d[0].type = RTN_UNICAST;
		d[0].has_gw[0] = 1;
		memcpy(d[0].gw[0], "\x0a\x00\x00\x02", 4);
		d[1].table = 101;
		d[1].metric = 7;
		d[1].type = RTN_BLACKHOLE;
	}
	/* An aligned copy, as a read would give it. */
	if (!(buf = malloc(size ? size : 1)))
		return 0;
	memcpy(buf, data, size);
	if (sink_init(&s, dest_of, NULL) == -1)
		abort();
	sink_view_begin(&s);
	(void)rtk_parse(k, d, 2, &s, buf, size);
	sink_view_end(&s);
	sink_destroy(&s);
	/* A fresh one: the links it learns would pile up across inputs. */
	if (!(ev = rtk_open(247)))
		abort();
	(void)rtk_parse_changes(ev, d, 2, &c, buf, size);
	rtk_close(&ev);
	free(buf);
	return 0;
}
