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
 * The next tag of a TAGS list ("video lan-1", spaces or commas) into tag
 * (REC_TAG_MAX + 1 bytes): 1, 0 at the end, -1 for a bad tag (*bad and
 * *badlen name it). *p moves past it.
 */
int tagenv_next(const char **p, char *tag, const char **bad, size_t *badlen);

#endif
