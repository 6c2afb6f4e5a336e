#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

void
metrics_log(const struct metric *m, size_t n)
{
	char line[900], item[256];
	size_t o = 0, i;
	int k;

	/* Several lines when needed: log.c cuts a message at 1023 bytes. */
	for (i = 0; i < n; i++) {
		k = snprintf(
		    item, sizeof item, "%s%s%s%s=%llu", m[i].name,
		    m[i].labels ? "{" : "", m[i].labels ? m[i].labels : "",
		    m[i].labels ? "}" : "", (unsigned long long)*m[i].value);
		if (k < 0 || (size_t)k >= sizeof item)
			continue;
		if (o && o + 1 + (size_t)k >= sizeof line) {
			line[o] = '\0';
			log_info("stats: %s", line);
			o = 0;
		}
		if (o)
			line[o++] = ' ';
		memcpy(line + o, item, (size_t)k);
		o += (size_t)k;
	}
	line[o] = '\0';
	log_info("stats: %s", line);
}

/*
 * The temporary file is created, never opened: O_EXCL with O_NOFOLLOW, so
 * that nothing planted at its name (a symlink to a file of ours, in a
 * directory node_exporter's users may share) is followed or written
 * through. A file left at that name by a process that died with our pid is
 * removed (unlink removes a symlink, not its target) and the name tried
 * once more.
 */
static FILE *
create_tmp(const char *tmp)
{
	FILE *f;
	int fd, tries;

	for (tries = 0; tries < 2; tries++) {
		fd = open(tmp,
			  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0644);
		if (fd != -1)
			break;
		if (errno != EEXIST || unlink(tmp) == -1)
			return NULL;
	}
	if (fd == -1)
		return NULL;
	if (!(f = fdopen(fd, "w"))) {
		close(fd);
		unlink(tmp);
	}
	return f;
}

int
metrics_write(const char *path, const char *prog, const struct metric *m,
	      size_t n)
{
	char tmp[4096], pfx[128];
	const char *last = NULL;
	size_t i, j;
	FILE *f;
	int fd, e;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path,
			     (long)getpid()) >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(pfx, sizeof pfx, "dnstap_bgp_%s_", prog);
	for (j = 0; pfx[j]; j++)
		if (pfx[j] == '-')
			pfx[j] = '_';
	if (!(f = create_tmp(tmp)))
		return -1;
	for (i = 0; i < n; i++) {
		if (!last || strcmp(last, m[i].name) != 0) {
			fprintf(f, "# HELP %s%s %s\n# TYPE %s%s %s\n", pfx,
				m[i].name, m[i].help, pfx, m[i].name,
				m[i].type == METRIC_COUNTER ? "counter"
							    : "gauge");
			last = m[i].name;
		}
		fprintf(f, "%s%s%s%s%s %llu\n", pfx, m[i].name,
			m[i].labels ? "{" : "", m[i].labels ? m[i].labels : "",
			m[i].labels ? "}" : "",
			(unsigned long long)*m[i].value);
	}
	fd = fileno(f);
	if (fflush(f) == EOF || ferror(f) || fsync(fd) == -1) {
		e = errno;
		fclose(f);
		unlink(tmp);
		errno = e;
		return -1;
	}
	if (fclose(f) == EOF || rename(tmp, path) == -1) {
		e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

int
metrics_file_tick(struct metrics_file *mf, int force)
{
	int64_t now = clock_mono_us();
	int was = mf->failing;

	if (!mf->path || (!force && mf->last_us &&
			  now - mf->last_us < METRICS_EVERY_S * 1000000LL))
		return 0;
	mf->last_us = now;
	mf->failing = metrics_write(mf->path, mf->prog, mf->m, mf->n) == -1;
	return mf->failing && !was ? -1 : 0;
}
