/* secret_test: token and key files, read whole with one set of rules. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"
#include "t.h"

static char dir[] = "/tmp/secret_test.XXXXXX";
static char path[256];

static void
put(const void *s, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd == -1 || write(fd, s, n) != (ssize_t)n)
		perror(path);
	close(fd);
}

/* The file holds s (n bytes): the token read is want, or refused when NULL. */
static void
token(const char *what, const void *s, size_t n, const char *want)
{
	char err[256] = "";
	int perm = -1;
	char *t;

	put(s, n);
	t = secret_token_file(path, err, sizeof err, &perm);
	if (want)
		T_CHECK(t && strcmp(t, want) == 0, "token %s: '%s' (%s)", what,
			want, err);
	else
		T_CHECK(!t && *err && perm == 1, "token %s: refused (%s)", what,
			err);
	free(t);
}

int
main(void)
{
	char big[SECRET_TOKEN_MAX + 8], err[256];
	size_t len;
	int perm;
	char *f;

	if (!mkdtemp(dir))
		return 111;
	snprintf(path, sizeof path, "%s/f", dir);
	token("alone", "s3cret", 6, "s3cret");
	token("with a newline", "s3cret\n", 7, "s3cret");
	token("with CR LF", "s3cret\r\n", 8, "s3cret");
	token("RFC 6750 characters", "aZ09-._~+/==\n", 13, "aZ09-._~+/==");
	token("empty", "", 0, NULL);
	token("only a newline", "\n", 1, NULL);
	token("a second line", "s3cret\nother\n", 13, NULL);
	token("two newlines", "s3cret\n\n", 8, NULL);
	token("a space inside", "s3 cret\n", 8, NULL);
	token("a trailing space", "s3cret \n", 8, NULL);
	token("a NUL inside", "s3\0cret\n", 8, NULL);
	token("a byte over 0x7e", "s3\xc3\xa9t\n", 7, NULL);
	memset(big, 'a', sizeof big);
	big[SECRET_TOKEN_MAX] = '\0';
	token("of the longest length", big, SECRET_TOKEN_MAX, big);
	big[SECRET_TOKEN_MAX] = 'a';
	token("one byte too long", big, SECRET_TOKEN_MAX + 1, NULL);
	token("far too long, not cut", big, sizeof big, NULL);

	T_CHECK(
	    !secret_token_file("/nonexistent/token", err, sizeof err, &perm) &&
		perm == 1 && strstr(err, "No such file"),
	    "a missing token file: permanent (%s)", err);
	T_CHECK(!secret_token_file(dir, err, sizeof err, &perm) && perm == 1,
		"a directory: refused (%s)", err);
	T_CHECK(secret_token_check("abc", 3, err, sizeof err) == 0 &&
		    secret_token_check("a\nb", 3, err, sizeof err) == -1 &&
		    secret_token_check("", 0, err, sizeof err) == -1,
		"tokens from the environment: the same rules");

	{
		const char *from = NULL;
		char *t;

		unsetenv("T_TOKEN");
		t = secret_token(NULL, "T_TOKEN", &from, err, sizeof err,
				 &perm);
		T_CHECK(!t && !*err, "no file, no variable: no token");
		setenv("T_TOKEN", "fromenv", 1);
		t = secret_token(NULL, "T_TOKEN", &from, err, sizeof err,
				 &perm);
		T_CHECK(t && strcmp(t, "fromenv") == 0 &&
			    strcmp(from, "$T_TOKEN") == 0,
			"the variable when no file (%s)", from ? from : "-");
		free(t);
		put("fromfile\n", 9);
		t = secret_token(path, "T_TOKEN", &from, err, sizeof err,
				 &perm);
		T_CHECK(t && strcmp(t, "fromfile") == 0 && from == path,
			"the file before the variable");
		free(t);
		setenv("T_TOKEN", "two\nlines", 1);
		t = secret_token(NULL, "T_TOKEN", &from, err, sizeof err,
				 &perm);
		T_CHECK(!t && *err && perm == 1,
			"a variable that is no token: refused (%s)", err);
	}

	put("-----BEGIN X-----\n\0\1\n", 21);
	f = secret_file(path, 21, &len, err, sizeof err, &perm);
	T_CHECK(f && len == 21 &&
		    memcmp(f, "-----BEGIN X-----\n\0\1\n", 21) == 0 &&
		    f[21] == '\0',
		"a file of exactly the limit: whole, any bytes, NUL after");
	free(f);
	f = secret_file(path, 20, &len, err, sizeof err, &perm);
	T_CHECK(!f && perm == 1 && strstr(err, "larger than 20"),
		"a file over the limit: refused, not cut (%s)", err);
	free(f);
	unlink(path);
	rmdir(dir);
	T_DONE();
}
