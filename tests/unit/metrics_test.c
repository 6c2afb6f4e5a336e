/* metrics_test: the Prometheus text file, written whole, and the ratelimit. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "t.h"

static uint64_t frames = 42, dns_errors = 3, frame_errors = 0, conns = 2;
static const struct metric table[] = {
	{ "frames_total", NULL, METRIC_COUNTER, "Frames read.", &frames },
	{ "errors_total", "kind=\"dns\"", METRIC_COUNTER, "Errors by kind.",
	    &dns_errors },
	{ "errors_total", "kind=\"frame\"", METRIC_COUNTER, "Errors by kind.",
	    &frame_errors },
	{ "connections", NULL, METRIC_GAUGE, "Open connections.", &conns },
};

static const char want[] =
    "# HELP dnstap_bgp_dnstap_read_frames_total Frames read.\n"
    "# TYPE dnstap_bgp_dnstap_read_frames_total counter\n"
    "dnstap_bgp_dnstap_read_frames_total 42\n"
    "# HELP dnstap_bgp_dnstap_read_errors_total Errors by kind.\n"
    "# TYPE dnstap_bgp_dnstap_read_errors_total counter\n"
    "dnstap_bgp_dnstap_read_errors_total{kind=\"dns\"} 3\n"
    "dnstap_bgp_dnstap_read_errors_total{kind=\"frame\"} 0\n"
    "# HELP dnstap_bgp_dnstap_read_connections Open connections.\n"
    "# TYPE dnstap_bgp_dnstap_read_connections gauge\n"
    "dnstap_bgp_dnstap_read_connections 2\n";

int
main(void)
{
	char dir[] = "/tmp/metrics_test.XXXXXX", path[64], got[2048], victim[64],
	    tmp[96];
	struct stat st;
	struct ratelimit rl = RATELIMIT_INIT;
	FILE *f;
	size_t n;
	int i;

	T_CHECK(mkdtemp(dir) != NULL, "temp dir");
	snprintf(path, sizeof path, "%s/m.prom", dir);
	T_CHECK(metrics_write(path, "dnstap-read", table, 4) == 0,
	    "metrics_write succeeds");
	f = fopen(path, "r");
	n = f ? fread(got, 1, sizeof got - 1, f) : 0;
	got[n] = '\0';
	if (f)
		fclose(f);
	T_CHECK(strcmp(got, want) == 0, "textfile format:\n%s", got);

	/*
	 * A symlink planted at the temporary name (PATH.tmp.PID) is not
	 * followed: the file it points to keeps its content, and path becomes
	 * a regular file with the metrics.
	 */
	snprintf(victim, sizeof victim, "%s/victim", dir);
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	f = fopen(victim, "w");
	if (f) {
		fputs("precious\n", f);
		fclose(f);
	}
	T_CHECK(symlink(victim, tmp) == 0, "symlink planted at the temp name");
	T_CHECK(metrics_write(path, "dnstap-read", table, 4) == 0,
	    "metrics_write with a symlink at its temp name succeeds");
	f = fopen(victim, "r");
	n = f ? fread(got, 1, sizeof got - 1, f) : 0;
	got[n] = '\0';
	if (f)
		fclose(f);
	T_CHECK(strcmp(got, "precious\n") == 0,
	    "the symlink's target is not written through:\n%s", got);
	T_CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode),
	    "the metrics file is a regular file, not the planted link");
	T_CHECK(lstat(tmp, &st) == -1, "no temp name left behind");
	unlink(victim);
	unlink(path);
	rmdir(dir);
	snprintf(path, sizeof path, "%s/m.prom", dir);
	T_CHECK(metrics_write(path, "x", table, 1) == -1,
	    "metrics_write into a missing directory fails");

	/* A burst of 5 passes, the rest is suppressed and counted. */
	log_init("metrics_test");
	for (i = 0; i < 20; i++)
		log_warn_limited(&rl, "flood %d", i);
	T_CHECK(rl.suppressed == 15, "ratelimit suppresses after the burst (%llu)",
	    (unsigned long long)rl.suppressed);
	T_DONE();
}
