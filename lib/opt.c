#include "opt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static const char *opt_text = "";

void
opt_init(const char *prog, const char *usage)
{
	log_init(prog);
	opt_text = usage;
}

void
opt_help(void)
{
	printf("%sSee %s(8) for the whole manual.\n", opt_text, log_prog());
	exit(fflush(stdout) == 0 ? 0 : EXIT_TEMP);
}

void
opt_version(void)
{
	printf("%s (dnstap-bgp) %s\n", log_prog(), DNSTAP_BGP_VERSION);
	exit(fflush(stdout) == 0 ? 0 : EXIT_TEMP);
}

void
opt_usage(const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	log_fatal(EXIT_PERM, "%s (see %s -h or %s(8))", why, log_prog(),
		  log_prog());
}

void
opt_bad(int c)
{
	if (c == ':')
		opt_usage("option -%c needs an argument", optopt);
	if (optopt)
		opt_usage("unknown option -%c", optopt);
	opt_usage("bad usage");
}

long long
opt_number(const char *s, long long min, long long max, const char *what)
{
	const char *e;
	long long v = strtonum(s, min, max, &e);

	if (e)
		opt_usage("%s %s: %s (%lld to %lld)", what, s, e, min, max);
	return v;
}
