#include "tagenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"

const char *
tagenv(const char *tag, const char *key, char *var, size_t varlen)
{
	const char *v;
	size_t i;
	int n;

	if (tag && *tag) {
		n = snprintf(var, varlen, "TAG_%s_%s", tag, key);
		if (n > 0 && (size_t)n < varlen) {
			for (i = 4; var[i]; i++)
				if (var[i] == '-')
					var[i] = '_';
			if ((v = getenv(var)) && *v)
				return v;
		}
	}
	snprintf(var, varlen, "%s", key);
	v = getenv(key);
	return v && *v ? v : NULL;
}

int
tagenv_next(const char **p, char *tag, const char **bad, size_t *badlen)
{
	const char *s = *p, *end;
	size_t len;

	if (!s)
		return 0;
	while (*s == ' ' || *s == ',')
		s++;
	if (!*s)
		return 0;
	end = s + strcspn(s, " ,");
	len = (size_t)(end - s);
	*p = end;
	if (len > REC_TAG_MAX || rec_tag_check(s, len) || *s == '-') {
		*bad = s;
		*badlen = len;
		return -1;
	}
	memcpy(tag, s, len);
	tag[len] = 0;
	return 1;
}
