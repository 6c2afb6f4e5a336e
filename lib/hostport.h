/*
 * hostport: the ADDR:PORT text of a listening address, one set of rules for
 * every program that listens on TCP (dnstap-read -l, sync-serve -l).
 *
 *   192.0.2.1:8080     a dotted-quad IPv4 address (no "127.1", no hex)
 *   [2001:db8::1]:8080 an IPv6 address in brackets (a zone as [fe80::1%eth0])
 *   0.0.0.0:8080       every IPv4 address; [::]:8080 every IPv6 address
 *
 * The port is 1 to 65535 in decimal digits: getaddrinfo takes "99999" and
 * binds 34463, so it never sees the port. No host names: a listening
 * address is not looked up (a name that resolves differently at the next
 * start would silently move the service).
 */
#ifndef HOSTPORT_H
#define HOSTPORT_H

#include <stddef.h>
#include <sys/socket.h>

/* Longest text hostport_format writes, NUL included. */
#define HOSTPORT_MAX 80

/*
 * Parses spec into ss and its length. 0, or -1 with why in err (errlen
 * bytes, always a usage error: nothing here depends on the system state).
 */
int hostport_parse(const char *spec, struct sockaddr_storage *ss,
		   socklen_t *len, char *err, size_t errlen);

/* 1 when sa is a loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104). */
int hostport_loopback(const struct sockaddr *sa);

/* "192.0.2.1:8080" or "[2001:db8::1]:8080"; "?" for another family. */
void hostport_format(char *buf, size_t cap, const struct sockaddr *sa);

#endif
