/* metrics_test: the Prometheus text file, written whole, and the ratelimit. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "t.h"

static uint64_t frames = 42, dns_errors = 3, frame_errors = 0, conns = 2;
static const struct metric table[] = {
    {"frames_total", NULL, METRIC_COUNTER, "Frames read.", &frames},
    {"errors_total", "kind=\"dns\"", METRIC_COUNTER, "Errors by kind.",
     &dns_errors},
    {"errors_total", "kind=\"frame\"", METRIC_COUNTER, "Errors by kind.",
     &frame_errors},
    {"connections", NULL, METRIC_GAUGE, "Open connections.", &conns},
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

/* 60 metrics with long names: more than one log line can carry. */
static uint64_t many_values[60];
static struct metric many[60];
static char many_names[60][48];

/* stats lines of metrics_log(many), all lines under 1024 bytes, every
 * metric once: the number of lines, or -1. */
static int
stats_lines(void)
{
	char path[] = "/tmp/metrics_test.XXXXXX", got[16384], key[64];
	int fd = mkstemp(path), saved = dup(2), lines = 0, i;
	ssize_t n;
	char *p, *nl;

	if (fd == -1 || saved == -1)
		return -1;
	for (i = 0; i < 60; i++) {
		snprintf(many_names[i], sizeof many_names[i],
			 "a_rather_long_counter_name_number_%02d_total", i);
		many[i].name = many_names[i];
		many[i].labels = i % 2 ? "why=\"something\"" : NULL;
		many[i].value = &many_values[i];
		many_values[i] = 1000000u + (unsigned)i;
	}
	dup2(fd, 2);
	metrics_log(many, 60);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, got, sizeof got - 1, 0);
	close(fd);
	unlink(path);
	got[n > 0 ? n : 0] = '\0';
	for (p = got; (nl = strchr(p, '\n')); p = nl + 1) {
		if (nl - p >= 1024 ||
		    strncmp(p, "metrics_test: info: stats: ", 27))
			return -1;
		lines++;
	}
	for (i = 0; i < 60; i++) {
		snprintf(key, sizeof key, "%s%s=%llu", many_names[i],
			 i % 2 ? "{why=\"something\"}" : "",
			 (unsigned long long)many_values[i]);
		if (!strstr(got, key))
			return -1;
	}
	return lines;
}

int
main(void)
{
	char dir[] = "/tmp/metrics_test.XXXXXX", path[64], got[2048],
	     victim[64], tmp[96];
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

	/* A file kept fresh: one failure reported per run of failures. */
	{
		struct metrics_file mf = {path, "x", table, 1, 0, 0};
		int r1, r2, r3, r4;

		r1 = metrics_file_tick(&mf, 0); /* the directory is gone */
		r2 = metrics_file_tick(&mf, 1);
		T_CHECK(r1 == -1 && r2 == 0,
			"metrics_file_tick: a failure once, not at every try");
		mkdir(dir, 0700);
		r3 = metrics_file_tick(&mf, 0);
		T_CHECK(r3 == 0 && access(path, F_OK) == -1,
			"metrics_file_tick: not again within %d s",
			METRICS_EVERY_S);
		r3 = metrics_file_tick(&mf, 1);
		T_CHECK(r3 == 0 && access(path, F_OK) == 0,
			"metrics_file_tick: forced, written");
		rmdir(dir); /* not empty: still there */
		unlink(path);
		rmdir(dir);
		r4 = metrics_file_tick(&mf, 1);
		T_CHECK(r4 == -1, "metrics_file_tick: a new failure reported");
		mf.path = NULL;
		T_CHECK(metrics_file_tick(&mf, 1) == 0,
			"metrics_file_tick: no path, nothing");
	}

	/* A burst of 5 passes, the rest is suppressed and counted. */
	log_init("metrics_test");
	for (i = 0; i < 20; i++)
		log_warn_limited(&rl, "flood %d", i);
	T_CHECK(rl.suppressed == 15,
		"ratelimit suppresses after the burst (%llu)",
		(unsigned long long)rl.suppressed);
	T_CHECK(
	    stats_lines() > 1,
	    "a long stats line is split, every counter on one of the lines");
	T_DONE();
}
