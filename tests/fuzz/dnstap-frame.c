/*
 * fuzz-dnstap-frame: one Frame Streams data frame (a dnstap protobuf with a
 * DNS response inside) to answer records, with every message type taken.
 * Each emitted line must be a valid record (rec_parse accepts it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../dnstap-read/frame.h"
#include "rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(void *arg, const char *line, size_t n)
{
	char buf[REC_LINE_MAX + 1];
	struct rec r;

	(void)arg;
	if (n == 0 || n > REC_LINE_MAX || line[n - 1] != '\n')
		abort();
	memcpy(buf, line, n - 1);
	buf[n - 1] = '\0';
	if (rec_parse(&r, buf, n - 1) != REC_OK)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct frame_ctx *c;
	unsigned n;

	if (!c)
		c = frame_ctx_init(FRAME_T_CLIENT | FRAME_T_RESOLVER |
			FRAME_T_FORWARDER, 1 << 20);
	if (size > 1 << 20)
		return 0;
	(void)frame_records(c, data, size, check, NULL, &n);
	return 0;
}
