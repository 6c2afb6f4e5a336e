/*
 * fuzz-bgp-ctl: libFuzzer target for bgp-announce's control socket
 * requests (bgp-announce/ctl.c): the input is a request line as a client
 * would send it; the whole answer is produced against a small table and
 * configuration, exactly as the socket would write it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bgp-announce/bgpa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config cfg;
static struct bgpa g;

static void
setup(void)
{
	static const char *labels[] = {
	    "- www.example.com", "video cdn.example.net", "other a.example.org",
	    "video cdn.example.net"};
	static const uint8_t a[4][16] = {{10, 0, 0, 1},
					 {10, 0, 0, 2},
					 {10, 0, 0, 3},
					 {0x20, 1, 0xd, 0xb8, [15] = 1}};
	char err[256];
	uint32_t i, k;

	setenv("PEERS", "r1 r2", 1);
	setenv("PEER_r1_ADDRESS", "192.0.2.1", 1);
	setenv("PEER_r2_ADDRESS", "2001:db8::2", 1);
	setenv("LOCAL_AS", "65000", 1);
	setenv("REMOTE_AS", "65000", 1);
	setenv("ROUTER_ID", "192.0.2.254", 1);
	setenv("COMMUNITIES", "65000:1", 1);
	setenv("TAGS", "video", 1);
	setenv("TAG_video_LARGE_COMMUNITIES", "65000:1:2", 1);
	if (config_load(&cfg, err, sizeof err) == -1)
		abort();
	g.cfg = &cfg;
	g.npeers = cfg.npeers;
	for (i = 0; i < g.npeers; i++) {
		g.peers[i].pc = &cfg.peers[i];
		g.peers[i].idx = (int)i;
		g.peers[i].c.fd = g.peers[i].in.fd = -1;
	}
	rib_init(&g.rib);
	for (k = 0; k < 4; k++) {
		int fam = k == 3 ? FAM6 : FAM4;
		const char *sp = strchr(labels[k], ' ');

		i = rib_get(&g.rib, fam, a[k], fam == FAM4 ? 32 : 128);
		g.rib.e[i].present = 1;
		g.rib.e[i].sent = k & 1 ? 3 : 1;
		rib_label(&g.rib, i, labels[k], (size_t)(sp - labels[k]),
			  sp + 1, strlen(sp + 1));
	}
	ctl_init(&g);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_client c;
	size_t n = size < sizeof c.req - 1 ? size : sizeof c.req - 1;
	const uint8_t *nl;

	if (!g.cfg)
		setup();
	memset(&c, 0, sizeof c);
	c.fd = -1;
	if ((nl = memchr(data, '\n', n)))
		n = (size_t)(nl - data);
	memcpy(c.req, data, n);
	c.reqlen = n;
	ctl_request(&g, &c);
	while (c.cursor != UINT32_MAX) {
		buf_consume(&c.out, buf_pending(&c.out));
		ctl_fill(&g, &c);
	}
	/* every answer ends with "end" */
	if (buf_pending(&c.out) < 4 ||
	    memcmp(c.out.p + c.out.len - 4, "end\n", 4) != 0)
		abort();
	buf_free(&c.out);
	return 0;
}
