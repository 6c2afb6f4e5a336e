/*
 * fuzz-hostport: the command-line texts every listening program and every
 * token user takes: lib/hostport's ADDR:PORT (whatever parses must format
 * and parse again to the same address) and lib/secret's token check (what
 * it accepts is visible ASCII, nothing else).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostport.h"
#include "secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage a, b;
	socklen_t la, lb;
	char text[HOSTPORT_MAX], err[256], *s;
	size_t i;

	if (size > 4096 || !(s = malloc(size + 1)))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (hostport_parse(s, &a, &la, err, sizeof err) == 0) {
		hostport_format(text, sizeof text, (struct sockaddr *)&a);
		if (hostport_parse(text, &b, &lb, err, sizeof err) != 0 ||
		    la != lb || memcmp(&a, &b, la) != 0)
			abort();
		(void)hostport_loopback((struct sockaddr *)&a);
	} else if (!err[0]) {
		abort(); /* a refusal says why */
	}
	if (secret_token_check((const char *)data, size, err, sizeof err) ==
	    0) {
		if (size == 0 || size > SECRET_TOKEN_MAX)
			abort();
		for (i = 0; i < size; i++)
			if (data[i] < 0x21 || data[i] > 0x7e)
				abort();
	}
	free(s);
	return 0;
}
