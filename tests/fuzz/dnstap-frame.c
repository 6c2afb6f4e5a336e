/*
 * fuzz-dnstap-frame: one Frame Streams data frame (a dnstap protobuf with a
 * DNS response inside) to answer records, with every message type taken.
 * Each emitted line must be a valid record (rec_parse accepts it), and the
 * records of one frame stay within lib/answer's bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../dnstap-read/frame.h"
#include "answer.h"
#include "rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(void *arg, const char *lines, size_t len)
{
	char buf[ANSWER_LINE_MAX + 1];
	const char *p = lines, *nl;
	struct rec r;
	size_t n;

	(void)arg;
	if (len == 0 || len > ANSWER_BYTES_MAX || lines[len - 1] != '\n')
		abort();
	while (p < lines + len) {
		nl = memchr(p, '\n', (size_t)(lines + len - p));
		n = (size_t)(nl - p);
		if (n + 1 > ANSWER_LINE_MAX)
			abort();
		memcpy(buf, p, n);
		buf[n] = '\0';
		if (rec_parse(&r, buf, n) != REC_OK)
			abort();
		p = nl + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct frame_ctx *c;
	unsigned n;

	if (!c)
		c = frame_ctx_init(FRAME_T_CLIENT | FRAME_T_RESOLVER |
				       FRAME_T_FORWARDER,
				   1 << 20);
	if (size > 1 << 20)
		return 0;
	(void)frame_records(c, data, size, check, NULL, &n);
	return 0;
}
