/*
 * t.h: the unit-test side of the runner's protocol. Each check prints
 * "pass: NAME" or "fail: NAME: where"; tests/run counts the lines.
 */
#ifndef T_H
#define T_H

#include <stdio.h>

static int t_failed;

#define T_CHECK(cond, ...)                                                     \
	do {                                                                   \
		if (cond) {                                                    \
			printf("pass: ");                                      \
			printf(__VA_ARGS__);                                   \
			printf("\n");                                          \
		} else {                                                       \
			t_failed++;                                            \
			printf("fail: ");                                      \
			printf(__VA_ARGS__);                                   \
			printf(": %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
		}                                                              \
	} while (0)

#define T_DONE() return t_failed ? 1 : 0

#endif
