/* hostport_test: the one ADDR:PORT parser of every listening program. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "hostport.h"
#include "t.h"

/* spec parses and formats back as want ("" when it must be refused). */
static void
one(const char *spec, const char *want)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char err[256] = "", out[HOSTPORT_MAX];
	int rc = hostport_parse(spec, &ss, &len, err, sizeof err);

	if (!*want) {
		T_CHECK(rc == -1 && *err, "'%s' refused (%s)", spec, err);
		return;
	}
	hostport_format(out, sizeof out, (struct sockaddr *)&ss);
	T_CHECK(rc == 0 && strcmp(out, want) == 0 &&
		    len == (ss.ss_family == AF_INET6
				? sizeof(struct sockaddr_in6)
				: sizeof(struct sockaddr_in)),
		"'%s' is %s (got %s, %s)", spec, want, rc ? "-" : out, err);
}

static int
loopback(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256];

	return hostport_parse(spec, &ss, &len, err, sizeof err) == 0 &&
	       hostport_loopback((struct sockaddr *)&ss);
}

int
main(void)
{
	one("127.0.0.1:8080", "127.0.0.1:8080");
	one("0.0.0.0:1", "0.0.0.0:1");
	one("192.0.2.1:65535", "192.0.2.1:65535");
	one("[::1]:8080", "[::1]:8080");
	one("[::]:6000", "[::]:6000");
	one("[2001:db8::1]:00080", "[2001:db8::1]:80");
	/* the port: getaddrinfo would take these and bind another one */
	one("127.0.0.1:99999", "");
	one("127.0.0.1:65536", "");
	one("127.0.0.1:0", "");
	one("127.0.0.1:", "");
	one("127.0.0.1:-1", "");
	one("127.0.0.1:+80", "");
	one("127.0.0.1: 80", "");
	one("127.0.0.1:80 ", "");
	one("127.0.0.1:0x50", "");
	one("127.0.0.1:http", "");
	one("127.0.0.1:1000000000000000000080", "");
	/* the address: numeric, dotted quad, IPv6 in brackets */
	one("127.0.0.1", "");
	one(":8080", "");
	one("[]:8080", "");
	one("127.1:8080", "");
	one("0x7f.0.0.1:8080", "");
	one("localhost:8080", "");
	one("nonexistent.invalid:6000", "");
	one("::1:8080", "");
	one("[::1:8080", "");
	one("[[::1]]:8080", "");
	one("[127.0.0.1]:8080", "");
	one("256.0.0.1:8080", "");
	one("", "");
	T_CHECK(loopback("127.0.0.1:1") && loopback("127.9.8.7:1") &&
		    loopback("[::1]:1") && loopback("[::ffff:127.0.0.2]:1"),
		"loopback: 127/8, ::1 and IPv4-mapped 127/8");
	T_CHECK(!loopback("0.0.0.0:1") && !loopback("[::]:1") &&
		    !loopback("192.0.2.1:1") &&
		    !loopback("[::ffff:192.0.2.1]:1") &&
		    !loopback("128.0.0.1:1"),
		"not loopback: the wildcards and other addresses");
	T_DONE();
}
