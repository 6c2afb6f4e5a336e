/*
 * fuzz-bgp-config: libFuzzer target for bgp-announce's settings and its
 * restart state file (bgp-announce/config.c, restart.c). The input is
 * lines NAME=VALUE, the environment config_load reads (an envdir's files
 * become exactly that), then optionally a line "--" and the text of the
 * -R state file, read by restart_open against the peers just configured.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../bgp-announce/bgpa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VARS 64

static struct config cfg;
static struct bgpa g;
static char state[64];

/* The state file's text into a file restart_open can read. */
static void
read_state(const char *s, size_t n)
{
	FILE *f;
	size_t i;

	if (!*state)
		snprintf(state, sizeof state, "/tmp/fuzz-bgp-config.%ld",
			 (long)getpid());
	if (!(f = fopen(state, "w")))
		return;
	if (fwrite(s, 1, n, f) != n) {
		fclose(f);
		return;
	}
	fclose(f);
	memset(&g, 0, sizeof g);
	g.cfg = &cfg;
	g.npeers = cfg.npeers;
	for (i = 0; i < g.npeers; i++) {
		g.peers[i].pc = &cfg.peers[i];
		g.peers[i].idx = (int)i;
		g.peers[i].c.fd = g.peers[i].in.fd = -1;
	}
	restart_open(&g, state);
	unlink(state);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *line, *next, *eq, err[256];
	size_t nvars = 0;

	if (!(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	clearenv();
	for (line = text; line && *line; line = next) {
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		if (strcmp(line, "--") == 0)
			break;
		if (nvars == MAX_VARS || !(eq = strchr(line, '=')) ||
		    eq == line)
			continue;
		*eq = '\0';
		setenv(line, eq + 1, 1);
		nvars++;
	}
	if (config_load(&cfg, err, sizeof err) == 0 && next)
		read_state(next, strlen(next));
	free(text);
	return 0;
}
