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

/*
 * Copies s[0..n) to out (room for cap bytes), each byte outside printable
 * ASCII written \xHH, so no argument can start a line of its own or put
 * terminal controls into a log. Returns the bytes written.
 */
static size_t
log_escape(char *out, size_t cap, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f) {
			if (o + 1 > cap)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 4 > cap)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	return o;
}

/* One write(2) per line so lines from several processes never interleave. */
static void __attribute__((format(printf, 3, 0)))
log_line(const char *level, const char *suffix, const char *fmt, va_list ap)
{
	char msg[1024], buf[4096]; /* PIPE_BUF: one atomic write */
	size_t n;
	int m;

	m = snprintf(buf, sizeof buf, "%s: %s: ", log_name, level);
	n = m < 0 || (size_t)m >= 256 ? 0 : (size_t)m;
	m = vsnprintf(msg, sizeof msg, fmt, ap);
	if (m < 0)
		m = 0;
	n += log_escape(buf + n, sizeof buf - 1 - n, msg,
			(size_t)m >= sizeof msg ? sizeof msg - 1 : (size_t)m);
	if (suffix && n + 2 < sizeof buf - 1) {
		buf[n++] = ':';
		buf[n++] = ' ';
		n += log_escape(buf + n, sizeof buf - 1 - n, suffix,
				strlen(suffix));
	}
	buf[n++] = '\n';
	(void)!write(2, buf, n);
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
		unsigned add =
		    (unsigned)((now - rl->last) / (time_t)rl->interval);

		rl->tokens =
		    rl->tokens + add > rl->burst ? rl->burst : rl->tokens + add;
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
