/*
 * log: diagnostics on stderr, one line each, "prog: level: message".
 *
 * The one place in lib/ that writes to stderr; programs call it, library code
 * returns errors instead. Warnings about bad input go through a ratelimit so a
 * flood of garbage costs a line a second, not a line a record; every call is
 * still counted by the caller.
 *
 * Every byte of a message outside printable ASCII (newlines, terminal
 * controls, bytes of 0x80 and above) is written \xHH: outside input passed
 * as an argument can never forge a line or hide in one. A message is cut at
 * 1023 bytes before escaping.
 */
#ifndef LOG_H
#define LOG_H

#include <stdint.h>
#include <time.h>

/*
 * Exit codes shared by every program (daemontools convention): EXIT_PERM for
 * usage, bad config, bad data (retrying will not help), EXIT_TEMP for system
 * calls, I/O, network (a supervisor restart may).
 */
#define EXIT_PERM 100
#define EXIT_TEMP 111

/* Sets the program name used as the prefix of every line. */
void log_init(const char *prog);
const char *log_prog(void);

/* "prog: fatal: ..." then exit(code). */
void log_fatal(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* Same, with ": strerror(errno)" appended. */
void log_fatal_sys(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn_sys(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A token bucket for repeated warnings: up to burst lines, then one per
 * interval seconds; suppressed lines are counted and reported with the next
 * line that passes.
 */
struct ratelimit {
	time_t last;
	unsigned tokens;
	unsigned burst;
	unsigned interval;
	uint64_t suppressed;
};
#define RATELIMIT_INIT                                                         \
	{                                                                      \
		0, 5, 5, 1, 0                                                  \
	}

void log_warn_limited(struct ratelimit *rl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
