/*
 * opt: the command-line conventions every program shares.
 *
 *   -h          the usage text on stdout, then where the manual is; exit 0
 *   -V          "PROG (dnstap-bgp) VERSION" on stdout; exit 0
 *   bad usage   one line on stderr, "PROG: fatal: WHY (see PROG -h or
 *               PROG(8))"; exit 100
 *
 * A program calls opt_init() first with its usage text, sets opterr to 0
 * (getopt's own messages would be a second line), and sends getopt's '?'
 * and ':' to opt_bad(). Like log_fatal, these exit: they are the program's
 * decisions, made in one place.
 */
#ifndef OPT_H
#define OPT_H

#define DNSTAP_BGP_VERSION "0.9.0"

/* usage: "usage: PROG ...\n" lines; kept, not copied. Sets the log name. */
void opt_init(const char *prog, const char *usage);
void opt_help(void) __attribute__((noreturn));
void opt_version(void) __attribute__((noreturn));
/* "PROG: fatal: WHY (see PROG -h or PROG(8))", exit 100. */
void opt_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* getopt returned '?' or ':': names the option from optopt. */
void opt_bad(int c) __attribute__((noreturn));
/* A number in [min, max] or opt_usage naming what and why. */
long long opt_number(const char *s, long long min, long long max,
		     const char *what);

#endif
