/*
 * metrics: a program's counters, as one stats line (SIGUSR1) and as a
 * Prometheus text file for node_exporter's textfile collector.
 *
 * A program keeps its counters in a static table of struct metric; the same
 * table feeds both outputs, so the two never disagree. The file is written
 * atomically (temp file in the same directory, rename) so the collector
 * never reads half of it; programs rewrite it every few seconds and at exit
 * when the -M (or $METRICS_FILE) option names one.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>

enum metric_type { METRIC_COUNTER, METRIC_GAUGE };

struct metric {
	const char
	    *name; /* "frames_total": becomes dnstap_bgp_PROG_frames_total */
	const char *labels; /* NULL, or "kind=\"dns\"" */
	enum metric_type type;
	const char *help;
	const uint64_t *value;
};

/* "prog: info: stats: frames_total=12 errors_total{kind="dns"}=1 ..." */
void metrics_log(const struct metric *m, size_t n);

/*
 * Writes the table to path atomically (PATH.tmp.PID, created with
 * O_EXCL|O_NOFOLLOW so that a symlink planted there is never followed, then
 * renamed over path; mode 0644 less the umask: node_exporter reads it).
 * prog ("dnstap-read") becomes part of each metric name
 * (dnstap_bgp_dnstap_read_...). 0, or -1 with errno.
 */
int metrics_write(const char *path, const char *prog, const struct metric *m,
		  size_t n);

/*
 * The file a program's loop keeps fresh: metrics_file_tick rewrites it when
 * METRICS_EVERY_S seconds have passed since the last write (monotonic), or
 * at once with force (at exit); nothing when path is NULL. It returns -1
 * (errno set) only for a failure after a write that did not fail, so the
 * caller warns once per run of failures, not every few seconds.
 */
#define METRICS_EVERY_S 5
struct metrics_file {
	const char *path, *prog;
	const struct metric *m;
	size_t n;
	int64_t last_us; /* monotonic time of the last write, 0 before one */
	int failing;
};
int metrics_file_tick(struct metrics_file *mf, int force);

#endif
