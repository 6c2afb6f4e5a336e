/*
 * restart.c: the restart state file (-R), so that a restarted bgp-announce
 * knows which peers may still hold its routes and sets the Restart State
 * bit (RFC 4724 4.1) in its OPEN to them.
 *
 * While a session with graceful restart on both sides is up (or ended with
 * the process still running, the peer keeping our routes as stale), the
 * file names the peer and the restart time we advertised to it, under the
 * time the process was last known alive:
 *
 *   alive 1764150000
 *   peer r1 120
 *
 * It is rewritten (temp file, rename) when the set changes and every 10 s
 * while it is not empty; -w's withdrawal at exit removes it (the peers
 * hold nothing). At start, a peer it names whose restart time has not run
 * out since "alive" gets the R bit until its first session is up.
 */
#include "bgpa.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define ALIVE_EVERY_MS 10000

static const char *path;
static int64_t next_alive;

/* At start: which peers get the R bit. */
void
restart_open(struct bgpa *g, const char *file)
{
	char line[256], name[64];
	long long alive = -1, now = clock_wall_us() / 1000000;
	unsigned t;
	size_t i;
	FILE *f;

	path = file;
	if (!(f = fopen(file, "r"))) {
		if (errno != ENOENT)
			log_warn_sys("unable to read %s", file);
		return;
	}
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "alive %lld", &alive) == 1) {
			/* From the future (the clock stepped back, or a bad
			 * file): as if written now, so the R bit errs on the
			 * side of the routes the peer may hold. */
			if (alive > now)
				alive = now;
			continue;
		}
		if (sscanf(line, "peer %63s %u", name, &t) != 2 || alive < 0)
			continue;
		for (i = 0; i < g->npeers; i++) {
			struct peer *p = &g->peers[i];

			if (strcmp(p->pc->name, name) || !p->pc->gr_time ||
			    now - alive > (long long)t)
				continue;
			/* it may still hold our routes as stale */
			p->restart_bit = 1;
			p->gr_held = 1;
			log_info("peer %s: restarting: it may hold our routes "
				 "for %lld s more (Restart State bit set)",
				 name, (long long)t - (now - alive));
		}
	}
	fclose(f);
}

/* Writes the file now (or removes it when no peer holds routes). */
static void
save(struct bgpa *g)
{
	char tmp[4096];
	size_t i, n = 0;
	FILE *f;
	int fd;

	for (i = 0; i < g->npeers; i++)
		n += (size_t)g->peers[i].gr_held;
	if (!n) {
		if (unlink(path) == -1 && errno != ENOENT)
			log_warn_sys("unable to remove %s", path);
		return;
	}
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
		return;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd == -1 || !(f = fdopen(fd, "w"))) {
		log_warn_sys("unable to write %s", tmp);
		if (fd != -1)
			close(fd);
		return;
	}
	fprintf(f, "alive %lld\n", (long long)(clock_wall_us() / 1000000));
	for (i = 0; i < g->npeers; i++)
		if (g->peers[i].gr_held)
			fprintf(f, "peer %s %u\n", g->peers[i].pc->name,
				g->peers[i].pc->gr_time);
	if (fclose(f) == EOF || rename(tmp, path) == -1) {
		log_warn_sys("unable to write %s", path);
		unlink(tmp);
	}
}

void
restart_established(struct bgpa *g, struct peer *p, int peer_gr)
{
	p->restart_bit = 0; /* this process's sessions are not restarts */
	if (!path || p->gr_held == (peer_gr && p->pc->gr_time))
		return;
	p->gr_held = peer_gr && p->pc->gr_time;
	save(g);
}

int64_t
restart_timer(struct bgpa *g)
{
	size_t i;

	if (!path)
		return -1;
	for (i = 0; i < g->npeers && !g->peers[i].gr_held; i++)
		;
	if (i == g->npeers)
		return -1;
	if (g->now >= next_alive) {
		save(g);
		next_alive = g->now + ALIVE_EVERY_MS;
	}
	return next_alive - g->now;
}

void
restart_exit(struct bgpa *g, int withdrawn)
{
	size_t i;

	if (!path)
		return;
	/* withdrawn and sent Cease: an Established peer holds nothing */
	if (withdrawn)
		for (i = 0; i < g->npeers; i++)
			if (g->peers[i].c.state == ST_ESTABLISHED)
				g->peers[i].gr_held = 0;
	save(g);
}
