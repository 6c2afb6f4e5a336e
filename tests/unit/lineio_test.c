/* lineio_test: whole lines, overlong lines dropped, last line without \n. */
#include <string.h>
#include <unistd.h>

#include "lineio.h"
#include "t.h"

int
main(void)
{
	int p[2];
	struct lr r;
	struct lw w;
	char *line;
	size_t len;
	const char *in = "one\ntwo\n0123456789012345678901234567890123\nthree\nlast";
	const char *want[] = { "one", "two", "<long>", "three", "last" };
	int i = 0, bad = 0;
	enum lr_result res;

	if (pipe(p) == -1)
		return 1;
	lw_init(&w, p[1], 8);
	T_CHECK(lw_put(&w, in, strlen(in)) == 0 && lw_flush(&w) == 0,
	    "writer puts and flushes");
	close(p[1]);
	lr_init(&r, p[0], 16);
	for (;;) {
		res = lr_next(&r, &line, &len);
		if (res == LR_NONE) {
			if (lr_fill(&r) <= 0 && lr_pending(&r) == 0)
				break;
			continue;
		}
		if (i >= 5) {
			bad = 1;
			break;
		}
		if (res == LR_LONG)
			bad |= strcmp(want[i], "<long>") != 0;
		else
			bad |= strcmp(want[i], line) != 0 || len != strlen(line);
		i++;
	}
	T_CHECK(i == 5 && !bad, "reader yields lines, drops overlong (%d)", i);
	lr_destroy(&r);
	lw_destroy(&w);
	T_DONE();
}
