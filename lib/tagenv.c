#include "tagenv.h"

#include <stdio.h>
#include <stdlib.h>

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
