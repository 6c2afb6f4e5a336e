#include "hostport.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* At most 64 bytes of outside text in a message. */
static void
bad(char *err, size_t errlen, const char *what, const char *s, size_t n)
{
	snprintf(err, errlen, "%s '%.*s'", what, (int)(n > 64 ? 64 : n), s);
}

static int
port_parse(const char *s, unsigned *port)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i == 5)
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (i == 0 || v < 1 || v > 65535)
		return -1;
	*port = v;
	return 0;
}

int
hostport_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
	       char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 32];
	const char *colon = strrchr(spec, ':'), *h = spec;
	size_t hl;
	unsigned port;

	memset(ss, 0, sizeof *ss);
	if (!colon) {
		bad(err, errlen, "no port (want ADDR:PORT) in", spec,
		    strlen(spec));
		return -1;
	}
	if (port_parse(colon + 1, &port) == -1) {
		bad(err, errlen, "port not from 1 to 65535:", colon + 1,
		    strlen(colon + 1));
		return -1;
	}
	hl = (size_t)(colon - spec);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		struct addrinfo hints, *ai;

		h++;
		hl -= 2;
		if (hl == 0 || hl >= sizeof host || memchr(h, '[', hl) ||
		    memchr(h, ']', hl))
			goto bad_host;
		memcpy(host, h, hl);
		host[hl] = '\0';
		memset(&hints, 0, sizeof hints);
		hints.ai_family = AF_INET6;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
		/* getaddrinfo takes a zone (fe80::1%eth0), inet_pton not */
		if (getaddrinfo(host, NULL, &hints, &ai) != 0)
			goto bad_host;
		memcpy(ss, ai->ai_addr, ai->ai_addrlen);
		*len = ai->ai_addrlen;
		freeaddrinfo(ai);
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		return 0;
	}
	if (hl == 0) {
		snprintf(err, errlen,
			 "no address before the port (every "
			 "address is 0.0.0.0 or [::])");
		return -1;
	}
	if (memchr(h, ':', hl)) {
		bad(err, errlen,
		    "an IPv6 address needs brackets ([ADDR]:PORT):", spec,
		    strlen(spec));
		return -1;
	}
	if (hl >= sizeof host)
		goto bad_host;
	memcpy(host, h, hl);
	host[hl] = '\0';
	{
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		/* dotted quad only: inet_aton's "127.1" and "0x7f.1" are not */
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			goto bad_host;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof *sin;
	}
	return 0;
bad_host:
	bad(err, errlen, "not a numeric IPv4 or [IPv6] address:", h, hl);
	return -1;
}

int
hostport_loopback(const struct sockaddr *sa)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,	   0,
						 0, 0, 0, 0, 0xff, 0xff};
	const unsigned char *a;

	if (sa->sa_family == AF_INET) {
		a = (const unsigned char *)&((const struct sockaddr_in *)sa)
			->sin_addr;
		return a[0] == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *in6 =
		    &((const struct sockaddr_in6 *)sa)->sin6_addr;

		a = in6->s6_addr;
		if (IN6_IS_ADDR_LOOPBACK(in6))
			return 1;
		return memcmp(a, mapped, sizeof mapped) == 0 && a[12] == 127;
	}
	return 0;
}

void
hostport_format(char *buf, size_t cap, const struct sockaddr *sa)
{
	char host[INET6_ADDRSTRLEN + 32];
	socklen_t sl = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						 : sizeof(struct sockaddr_in);

	if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    getnameinfo(sa, sl, host, sizeof host, NULL, 0, NI_NUMERICHOST) !=
		0) {
		snprintf(buf, cap, "?");
		return;
	}
	if (sa->sa_family == AF_INET6)
		snprintf(buf, cap, "[%s]:%u", host,
			 ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
	else
		snprintf(buf, cap, "%s:%u", host,
			 ntohs(((const struct sockaddr_in *)sa)->sin_port));
}
