/*
 * fuzz-domain-cdb: the domain list reader (lib/dlist.c) on any file: a
 * list that was damaged, cut or replaced by something else must be
 * refused or answer lookups without reading outside its copy, the probed
 * lookup must agree with the plain one, and lookups with pread (a list
 * opened over its size limit) with those in the copy.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {
    "example.com",
    "www.example.com",
    "mail.example.com",
    "a",
    "x.y.z.example.org",
    "xn--bcher-kva.de",
    "b.a",
    "a123456789.b123456789.c123456789.d123456789.e123456789.f123456789.com",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dlist *dl, *cold;
	struct dlist_match m1, m2, m3;
	struct dlist_probe pr;
	char path[64], err[128];
	size_t i;
	int fd, h1, h2, h3;

	fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd == -1)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	dl = dlist_open(path, err, sizeof err);
	/* The same file read with pread (over the limit) answers the same. */
	cold = dlist_open_limit(path, 0, err, sizeof err);
	if (!dl != !cold)
		abort();
	if (dl) {
		for (i = 0; i < sizeof names / sizeof names[0]; i++) {
			h1 = dlist_lookup(dl, names[i], strlen(names[i]), &m1);
			dlist_probe_start(dl, &pr, names[i], strlen(names[i]));
			dlist_probe_fetch(dl, &pr);
			dlist_probe_fetch(dl, &pr);
			h2 = dlist_probe_lookup(dl, &pr, &m2);
			if (h1 != h2 || (h1 && (m1.excluded != m2.excluded ||
						m1.exact != m2.exact ||
						m1.tag_len != m2.tag_len ||
						m1.entry_len != m2.entry_len)))
				abort();
			/* An exact entry covers the whole name only. */
			if (h1 && m1.exact && m1.entry_len != strlen(names[i]))
				abort();
			h3 =
			    dlist_lookup(cold, names[i], strlen(names[i]), &m3);
			if (h1 != h3 ||
			    (h1 && (m1.excluded != m3.excluded ||
				    m1.exact != m3.exact ||
				    m1.tag_len != m3.tag_len ||
				    memcmp(m1.tag, m3.tag, m1.tag_len) != 0 ||
				    m1.entry_len != m3.entry_len)))
				abort();
		}
		dlist_close(&dl);
		dlist_close(&cold);
	}
	close(fd);
	return 0;
}
