#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *
secret_file(const char *path, size_t max, size_t *len, char *err, size_t errlen,
	    int *permanent)
{
	struct stat sb;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd;

	*permanent = 1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		goto fail;
	}
	if ((size_t)sb.st_size > max) {
		snprintf(err, errlen, "larger than %zu bytes", max);
		goto fail;
	}
	if (!(buf = malloc(max + 1))) {
		*permanent = 0;
		snprintf(err, errlen, "%s", strerror(errno));
		goto fail;
	}
	/* to the end, the size read: the file may change under us */
	while ((n = read(fd, buf + got, max + 1 - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*permanent = 0;
			snprintf(err, errlen, "%s", strerror(errno));
			goto fail;
		}
		got += (size_t)n;
		if (got > max) {
			snprintf(err, errlen, "larger than %zu bytes", max);
			goto fail;
		}
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
fail:
	if (buf)
		explicit_bzero(buf, max + 1);
	free(buf);
	close(fd);
	return NULL;
}

int
secret_token_check(const char *tok, size_t len, char *err, size_t errlen)
{
	size_t i;

	if (len == 0) {
		snprintf(err, errlen, "empty token");
		return -1;
	}
	if (len > SECRET_TOKEN_MAX) {
		snprintf(err, errlen, "token longer than %d bytes",
			 SECRET_TOKEN_MAX);
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)tok[i];

		if (c < 0x21 || c > 0x7e) {
			snprintf(err, errlen,
				 "token byte %zu is 0x%02x: a token is one "
				 "line of visible ASCII, without spaces",
				 i + 1, c);
			return -1;
		}
	}
	return 0;
}

char *
secret_token_file(const char *path, char *err, size_t errlen, int *permanent)
{
	size_t len;
	char *t = secret_file(path, SECRET_TOKEN_MAX + 2, &len, err, errlen,
			      permanent);

	if (!t)
		return NULL;
	if (len && t[len - 1] == '\n')
		len--;
	if (len && t[len - 1] == '\r')
		len--;
	t[len] = '\0';
	if (secret_token_check(t, len, err, errlen) == -1) {
		*permanent = 1;
		explicit_bzero(t, len);
		free(t);
		return NULL;
	}
	return t;
}

char *
secret_token(const char *path, const char *env, const char **from, char *err,
	     size_t errlen, int *permanent)
{
	static char name[64];
	const char *v;
	char *t;

	*err = '\0';
	*permanent = 1;
	*from = path;
	if (path)
		return secret_token_file(path, err, errlen, permanent);
	if (!(v = getenv(env)) || !*v)
		return NULL;
	snprintf(name, sizeof name, "$%s", env);
	*from = name;
	if (secret_token_check(v, strlen(v), err, errlen) == -1)
		return NULL;
	if (!(t = strdup(v))) {
		*permanent = 0;
		snprintf(err, errlen, "%s", strerror(errno));
	}
	return t;
}
