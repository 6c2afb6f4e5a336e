/*
 * fuzz-dnstap-stream: a Frame Streams byte stream (handshake, control and
 * data frames) through the receiving side of a connection, delivered in
 * chunks whose sizes come from the input's first byte, each data frame on
 * to records. Small max_frame and buffer so growth and limits are hit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../dnstap-read/frame.h"
#include "../../dnstap-read/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct frame_ctx *fc;

static void
emit(void *arg, const char *line, size_t n)
{
	(void)arg;
	if (n == 0 || line[n - 1] != '\n')
		abort();
}

static void
on_frame(void *arg, const uint8_t *frame, size_t len)
{
	unsigned n;

	(void)arg;
	(void)frame_records(fc, frame, len, emit, NULL, &n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream s;
	size_t chunk, room, k;
	uint8_t *p;
	int r = 0;

	if (!fc)
		fc = frame_ctx_init(FRAME_T_CLIENT, 4096);
	if (size < 1)
		return 0;
	chunk = (size_t)data[0] % 64 + 1;
	data++;
	size--;
	if (stream_init(&s, 64, 4096) == -1)
		return 0;
	while (size && r == 0) {
		p = stream_space(&s, &room);
		if (room == 0)
			abort(); /* the buffer must always take more */
		k = chunk < size ? chunk : size;
		k = k < room ? k : room;
		memcpy(p, data, k);
		data += k;
		size -= k;
		r = stream_input(&s, k, on_frame, NULL);
		if (s.len > s.max_frame + 8 + 64)
			abort(); /* never more than a frame buffered */
		s.wlen = 0;
	}
	stream_destroy(&s);
	return 0;
}
