/*
 * tagenv_test: the TAGS list as nft-set, route-sync and bgp-announce read
 * it (spaces or commas, a bad tag or one too many said in one line), and
 * per-tag settings (TAG_<tag>_<KEY>, '-' as '_', else the default).
 */
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "t.h"
#include "tagenv.h"

/* The tags of list (max of them), joined by '|', or "error: MSG". */
static const char *
tags(const char *list, unsigned max)
{
	static char out[512];
	char tag[REC_TAG_MAX + 1], err[128];
	const char *p = list;
	unsigned n = 0;
	int r;

	out[0] = 0;
	while ((r = tagenv_next(&p, tag, &n, max, err, sizeof err)) == 1)
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s",
			 out[0] ? "|" : "", tag);
	if (r == -1)
		snprintf(out, sizeof out, "error: %s", err);
	return out;
}

int
main(void)
{
	char var[128];
	const char *v;

	T_CHECK(!strcmp(tags(" video, lan-1,,x_y ", 64), "video|lan-1|x_y"),
		"spaces and commas separate tags (%s)",
		tags(" video, lan-1,,x_y ", 64));
	T_CHECK(!strcmp(tags(NULL, 64), "") && !strcmp(tags("", 64), "") &&
		    !strcmp(tags(" , ", 64), ""),
		"no TAGS, an empty one: no tags");
	T_CHECK(!strcmp(tags("video Video", 64), "error: TAGS: Video: bad tag"),
		"a bad tag is named (%s)", tags("video Video", 64));
	T_CHECK(!strcmp(tags("-", 64), "error: TAGS: -: bad tag") &&
		    !strcmp(tags("-x", 64), "error: TAGS: -x: bad tag") &&
		    !strcmp(tags("a23456789012345678901234567890123", 64),
			    "error: TAGS: a23456789012345678901234567890123: "
			    "bad tag"),
		"'-' (no tag), a leading '-', 33 bytes: bad tags");
	T_CHECK(!strcmp(tags("a b c", 2), "error: TAGS: more than 2 tags"),
		"one tag more than the most (%s)", tags("a b c", 2));
	T_CHECK(!strcmp(tags("a b", 2), "a|b"), "as many as the most");

	setenv("TABLE", "9", 1);
	setenv("TAG_lan_1_TABLE", "5", 1);
	setenv("TAG_video_TABLE", "", 1);
	v = tagenv("lan-1", "TABLE", var, sizeof var);
	T_CHECK(v && !strcmp(v, "5") && !strcmp(var, "TAG_lan_1_TABLE"),
		"a tag's own setting, '-' as '_' (%s)", var);
	v = tagenv("video", "TABLE", var, sizeof var);
	T_CHECK(v && !strcmp(v, "9") && !strcmp(var, "TABLE"),
		"an empty setting of a tag: the default");
	v = tagenv("", "TABLE", var, sizeof var);
	T_CHECK(v && !strcmp(v, "9"), "the untagged: the default");
	T_CHECK(!tagenv("video", "METRIC", var, sizeof var) &&
		    !strcmp(var, "METRIC"),
		"neither set: NULL, the default's name for messages");
	T_DONE();
}
