/*
 * fuzz-bgp-msg: libFuzzer target for bgp-announce's message parser
 * (bgp-announce/msg.c): the input is a byte stream as a peer would send it,
 * framed and parsed message by message exactly as session.c does.
 */
#include <stddef.h>
#include <stdint.h>

#include "../../bgp-announce/bgpa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bgp_err e;
	struct bgp_open o;
	struct bgp_update u;
	int len, fam;
	const uint8_t *b;
	size_t blen;

	while ((len = bgp_frame(data, size, &e)) > 0) {
		b = data + BGP_HDR_LEN;
		blen = (size_t)len - BGP_HDR_LEN;
		switch (data[18]) {
		case BGP_OPEN:
			bgp_parse_open(b, blen, &o, &e);
			break;
		case BGP_UPDATE:
			bgp_parse_update(b, blen, size & 1, &u, &e);
			break;
		case BGP_ROUTE_REFRESH:
			bgp_parse_refresh(b, blen, &fam, &e);
			break;
		case BGP_NOTIFICATION:
			(void)bgp_err_name(b[0], b[1]);
			break;
		}
		data += len;
		size -= (size_t)len;
	}
	if (len == -1)
		(void)bgp_err_name(e.code, e.subcode);
	return 0;
}
