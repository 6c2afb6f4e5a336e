/*
 * tagenv: per-tag settings from the environment, in bgp-announce's style:
 * TAG_<tag>_<KEY> for one tag ('-' in the tag becomes '_'), else <KEY> as
 * the default for untagged routes and tags without their own.
 */
#ifndef TAGENV_H
#define TAGENV_H

#include <stddef.h>

/*
 * The value for tag (NULL or "" for the default), or NULL when neither
 * variable is set or both are empty. var receives the name of the variable
 * the value came from (or the default's name), for messages.
 */
const char *tagenv(const char *tag, const char *key, char *var, size_t varlen);

/*
 * The next tag of a TAGS list ("video lan-1", spaces or commas; *p starts
 * at getenv("TAGS"), NULL for none, and moves past it) into tag
 * (REC_TAG_MAX + 1 bytes), *n counting them: 1, 0 at the end, or -1 with
 * one line in err for a bad tag ("TAGS: Video: bad tag") or one more than
 * max ("TAGS: more than 64 tags").
 */
int tagenv_next(const char **p, char *tag, unsigned *n, unsigned max, char *err,
		size_t errlen);

#endif
