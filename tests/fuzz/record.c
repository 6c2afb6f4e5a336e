/*
 * fuzz-record: the record parser and formatter (lib/rec.c). Whatever
 * rec_parse accepts must format, and the formatted line must parse again
 * and format to the same bytes (one record, one spelling).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out1[REC_LINE_MAX + 64], out2[REC_LINE_MAX + 64];
	struct rec r;
	char *line;
	size_t n1, n2;

	if (size >= REC_LINE_MAX)
		return 0;
	line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (rec_parse(&r, line, size) == REC_OK) {
		n1 = rec_format(out1, sizeof out1, &r);
		if (n1 == 0 || out1[n1 - 1] != '\n')
			abort();
		memcpy(out2, out1, n1);
		out2[n1 - 1] = '\0';
		if (rec_parse(&r, out2, n1 - 1) != REC_OK)
			abort();
		n2 = rec_format(out2, sizeof out2, &r);
		if (n2 != n1 || memcmp(out1, out2, n1) != 0)
			abort();
	}
	free(line);
	return 0;
}
