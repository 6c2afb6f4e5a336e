/*
 * secret: the small files a program reads whole at start that hold a secret
 * or go with one: a bearer token (-T TOKENFILE, so that the token never
 * shows in ps), a TLS key, certificates. One set of rules for every program:
 *
 *   - a regular file, read whole: one larger than its limit is refused, not
 *     cut (a cut PEM or token fails later, and less clearly);
 *   - a token is one line of 1 to SECRET_TOKEN_MAX visible ASCII bytes
 *     (0x21-0x7e: what an HTTP header can carry without quoting), with an
 *     optional end of line ("\n" or "\r\n") and nothing after it. A token
 *     with a space, a control byte or a second line is refused: cut
 *     silently, it would not be the token the peer was given.
 *
 * Failures are returned with why in err and *permanent set: 1 for what
 * the operator must fix (missing, unreadable, wrong content), 0 for what
 * may pass (I/O, memory).
 */
#ifndef SECRET_H
#define SECRET_H

#include <stddef.h>

#define SECRET_TOKEN_MAX 1024

/*
 * The whole file at path, at most max bytes, in a malloc'd buffer with a
 * NUL after it (*len without it). NULL on failure.
 */
char *secret_file(const char *path, size_t max, size_t *len, char *err,
		  size_t errlen, int *permanent);

/* A token file, its end of line removed (malloc'd). NULL on failure. */
char *secret_token_file(const char *path, char *err, size_t errlen,
			int *permanent);

/* A token given another way ($SYNC_TOKEN): 0, or -1 with why in err. */
int secret_token_check(const char *tok, size_t len, char *err, size_t errlen);

/*
 * The token a program is given: from the file at path when path is not
 * NULL, else from the environment variable env when it is set and not
 * empty; *from names which ("PATH" or "$ENV"). NULL with err "" when there
 * is none; NULL with why in err when it is not one.
 */
char *secret_token(const char *path, const char *env, const char **from,
		   char *err, size_t errlen, int *permanent);

#endif
