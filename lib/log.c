#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *log_name = "?";

void
log_init(const char *prog)
{
	const char *slash = strrchr(prog, '/');

	log_name = slash ? slash + 1 : prog;
}

const char *
log_prog(void)
{
	return log_name;
}

/* One write(2) per line so lines from several processes never interleave. */
static void __attribute__((format(printf, 3, 0)))
log_line(const char *level, const char *suffix, const char *fmt, va_list ap)
{
	char buf[1024];
	int n, m;

	n = snprintf(buf, sizeof buf, "%s: %s: ", log_name, level);
	if (n < 0 || (size_t)n >= sizeof buf)
		n = 0;
	m = vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
	if (m < 0)
		m = 0;
	n = (size_t)(n + m) >= sizeof buf - 1 ? (int)sizeof buf - 2 : n + m;
	if (suffix) {
		m = snprintf(buf + n, sizeof buf - (size_t)n, ": %s", suffix);
		if (m > 0)
			n = (size_t)(n + m) >= sizeof buf - 1 ?
			    (int)sizeof buf - 2 : n + m;
	}
	buf[n++] = '\n';
	(void)!write(2, buf, (size_t)n);
}

void
log_fatal(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line("fatal", NULL, fmt, ap);
	va_end(ap);
	exit(code);
}

void
log_fatal_sys(int code, const char *fmt, ...)
{
	va_list ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	log_line("fatal", e, fmt, ap);
	va_end(ap);
	exit(code);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line("warning", NULL, fmt, ap);
	va_end(ap);
}

void
log_warn_sys(const char *fmt, ...)
{
	va_list ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	log_line("warning", e, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line("info", NULL, fmt, ap);
	va_end(ap);
}

void
log_warn_limited(struct ratelimit *rl, const char *fmt, ...)
{
	va_list ap;
	time_t now = time(NULL);
	char note[64];

	if (now - rl->last >= (time_t)rl->interval) {
		unsigned add = (unsigned)((now - rl->last) / (time_t)rl->interval);

		rl->tokens = rl->tokens + add > rl->burst ? rl->burst :
		    rl->tokens + add;
		rl->last = now;
	}
	if (rl->tokens == 0) {
		rl->suppressed++;
		return;
	}
	rl->tokens--;
	va_start(ap, fmt);
	if (rl->suppressed) {
		snprintf(note, sizeof note, "(%llu similar suppressed)",
		    (unsigned long long)rl->suppressed);
		rl->suppressed = 0;
		log_line("warning", note, fmt, ap);
	} else
		log_line("warning", NULL, fmt, ap);
	va_end(ap);
}
