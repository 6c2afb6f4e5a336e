/*
 * domain-compile: compiles domain list texts into the cdb that domain-match
 * and ipcache map (format: lib/dlist.h).
 *
 * Reads each LIST ([TAG=]FILE) line by line (list.h), reports bad lines as
 * "file:line: reason" and skips them, merges all entries (duplicates:
 * an exclusion beats an inclusion of the same name, otherwise the first
 * listed wins), and publishes the cdb atomically: temp file in the same
 * directory, fsync, rename, fsync of the directory. No entry at all is an
 * error and leaves the old file alone. With -n it only checks and prints the
 * merged entries, normalized.
 */
#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dlist.h"
#include "lineio.h"
#include "list.h"
#include "log.h"
#include "rec.h"

#define MAX_TAGS 4096
#define MAX_SHOWN 50 /* diagnostics per kind printed; the rest only counted */

struct ent {
	uint64_t off;	/* name in the arena */
	uint32_t seq;	/* order listed: the tie-breaker */
	uint32_t line;
	uint16_t len;
	uint16_t tag;	/* index into tags */
	uint16_t file;
	uint8_t excluded;
};

static char *arena;
static size_t arena_len, arena_cap;
static struct ent *ents;
static size_t nents, ents_cap;
static char *tags[MAX_TAGS];
static size_t ntags;
static const char **files;
static uint64_t skipped, dups, conflicts, shown_bad, shown_conflicts;

static void
usage(void)
{
	log_fatal(EXIT_PERM, "usage: domain-compile [-en] [-t TAG] "
			     "-o FILE.cdb [TAG=]LIST...");
}

static void *
grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 1024;

	if (need <= *cap)
		return p;
	while (n < need)
		n *= 2;
	p = realloc(p, n * size);
	if (!p)
		log_fatal(EXIT_TEMP, "unable to allocate memory for the lists");
	*cap = n;
	return p;
}

static uint16_t
tag_index(const char *t)
{
	static size_t last;
	size_t i;

	/* Lines with a tag mostly repeat the one before. */
	if (last < ntags && strcmp(tags[last], t) == 0)
		return (uint16_t)last;
	for (i = 0; i < ntags; i++)
		if (strcmp(tags[i], t) == 0)
			return (uint16_t)(last = i);
	if (ntags == MAX_TAGS)
		log_fatal(EXIT_PERM, "more than %d different tags", MAX_TAGS);
	if (!(tags[ntags] = strdup(t)))
		log_fatal(EXIT_TEMP, "unable to allocate memory for the lists");
	return (uint16_t)ntags++;
}

static void
bad_line(const char *file, uint64_t line, const char *why)
{
	skipped++;
	if (++shown_bad <= MAX_SHOWN)
		log_warn("%s:%llu: %s", file, (unsigned long long)line, why);
}

/* Reads one list; its entries go to ents with default tag deftag. */
static void
read_list(const char *file, uint16_t fileno, uint16_t deftag)
{
	struct lr r;
	struct list_entry e;
	enum lr_result res;
	const char *why;
	char *line;
	size_t len;
	uint64_t lineno = 0;
	ssize_t n;
	int fd;

	fd = strcmp(file, "-") == 0 ? 0 : open(file, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		log_fatal_sys(EXIT_TEMP, "unable to open %s", file);
	if (lr_init(&r, fd, 65536) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to allocate a line buffer");
	for (;;) {
		while ((res = lr_next(&r, &line, &len)) != LR_NONE) {
			lineno++;
			if (res == LR_LONG) {
				bad_line(file, lineno, "line too long");
				continue;
			}
			switch (list_parse(line, len, &e, &why)) {
			case LIST_EMPTY:
				continue;
			case LIST_BAD:
				bad_line(file, lineno, why);
				continue;
			case LIST_ENTRY:
				break;
			}
			if (nents >= UINT32_MAX)
				log_fatal(EXIT_PERM, "%s:%llu: too many entries",
				    file, (unsigned long long)lineno);
			arena = grow(arena, &arena_cap, arena_len + e.name_len,
			    1);
			ents = grow(ents, &ents_cap, nents + 1, sizeof *ents);
			memcpy(arena + arena_len, e.name, e.name_len);
			ents[nents] = (struct ent){
				.off = arena_len,
				.seq = (uint32_t)nents,
				.line = lineno > UINT32_MAX ? UINT32_MAX :
							      (uint32_t)lineno,
				.len = (uint16_t)e.name_len,
				.tag = e.tag_len ? tag_index(e.tag) : deftag,
				.file = fileno,
				.excluded = (uint8_t)e.excluded,
			};
			arena_len += e.name_len;
			nents++;
		}
		n = lr_fill(&r);
		if (n == -1)
			log_fatal_sys(EXIT_TEMP, "unable to read %s", file);
		if (n == 0 && lr_pending(&r) == 0)
			break;
	}
	lr_destroy(&r);
	if (fd != 0)
		close(fd);
}

static int
ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(arena + x->off, arena + y->off, n);

	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Sorts and keeps one entry per name (marking the others len 0): an
 * exclusion wins over inclusions, otherwise the first listed. Returns the
 * number kept.
 */
static size_t
merge(void)
{
	size_t i, j, k, win, kept = 0;

	if (nents)
		qsort(ents, nents, sizeof *ents, ent_cmp);
	for (i = 0; i < nents; i = j) {
		win = i;
		for (j = i + 1; j < nents && ents[j].len == ents[i].len &&
		     memcmp(arena + ents[j].off, arena + ents[i].off,
			 ents[i].len) == 0;
		     j++)
			if (ents[j].excluded && !ents[win].excluded)
				win = j;
		for (k = i; k < j; k++) {
			if (k == win)
				continue;
			dups++;
			if (!ents[k].excluded && !ents[win].excluded &&
			    ents[k].tag != ents[win].tag) {
				conflicts++;
				if (++shown_conflicts <= MAX_SHOWN)
					log_warn("%s:%u: %.*s: already listed "
						 "at %s:%u with tag %s; "
						 "keeping that",
					    files[ents[k].file], ents[k].line,
					    (int)ents[k].len,
					    arena + ents[k].off,
					    files[ents[win].file],
					    ents[win].line,
					    tags[ents[win].tag]);
			}
			ents[k].len = 0;
		}
		kept++;
	}
	return kept;
}

static int
value_of(const struct ent *e, char *buf)
{
	size_t n;

	if (e->excluded) {
		buf[0] = '!';
		return 1;
	}
	n = strlen(tags[e->tag]);
	buf[0] = '+';
	memcpy(buf + 1, tags[e->tag], n);
	return (int)n + 1;
}

static void
print_entries(void)
{
	struct lw w;
	char v[REC_TAG_MAX + 2];
	size_t i;
	int vl;

	if (lw_init(&w, 1, 65536) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to allocate a buffer");
	for (i = 0; i < nents; i++) {
		if (ents[i].len == 0)
			continue;
		vl = value_of(&ents[i], v);
		if ((ents[i].excluded && lw_put(&w, "!", 1) == -1) ||
		    lw_put(&w, arena + ents[i].off, ents[i].len) == -1 ||
		    (!ents[i].excluded &&
			(lw_put(&w, " ", 1) == -1 ||
			    lw_put(&w, v + 1, (size_t)vl - 1) == -1)) ||
		    lw_put(&w, "\n", 1) == -1)
			log_fatal_sys(EXIT_TEMP, "unable to write to stdout");
	}
	if (lw_flush(&w) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to write to stdout");
	lw_destroy(&w);
}

/* Writes the cdb to a temp file next to out, then renames it over out. */
static void
write_cdb(const char *out, size_t kept)
{
	struct cdb_make cm;
	char *tmp, *dirc, hdr[64], v[REC_TAG_MAX + 2];
	unsigned char *bloom, depths[16] = { 0 };
	const char *q;
	size_t i, labels, bsize = dlist_bloom_size(kept);
	int fd, dfd, vl, hl;

	if (asprintf(&tmp, "%s.tmp.XXXXXX", out) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to allocate memory");
	fd = mkstemp(tmp);
	if (fd == -1)
		log_fatal_sys(EXIT_TEMP, "unable to create %s", tmp);
	hl = snprintf(hdr, sizeof hdr, "%s%zu", DLIST_HEADER, kept);
	if (fchmod(fd, 0644) == -1 || cdb_make_start(&cm, fd) == -1 ||
	    cdb_make_add(&cm, "", 0, hdr, (unsigned)hl) == -1)
		goto fail;
	if (!(bloom = calloc(1, bsize)))
		log_fatal_sys(EXIT_TEMP, "unable to allocate memory");
	for (i = 0; i < nents; i++) {
		if (ents[i].len == 0)
			continue;
		vl = value_of(&ents[i], v);
		if (cdb_make_add(&cm, arena + ents[i].off, ents[i].len, v,
			(unsigned)vl) == -1)
			goto fail;
		dlist_bloom_add(bloom, bsize, arena + ents[i].off, ents[i].len);
		for (labels = 1, q = arena + ents[i].off;
		     (q = memchr(q, '.', ents[i].len -
			      (size_t)(q - arena - ents[i].off)));
		     q++)
			labels++;
		depths[labels / 8] |= (unsigned char)(1u << (labels % 8));
	}
	if (cdb_make_add(&cm, DLIST_DEPTHS_KEY, sizeof DLIST_DEPTHS_KEY - 1,
		depths, sizeof depths) == -1)
		goto fail;
	if (cdb_make_add(&cm, DLIST_BLOOM_KEY, sizeof DLIST_BLOOM_KEY - 1, bloom,
		(unsigned)bsize) == -1)
		goto fail;
	free(bloom);
	if (cdb_make_finish(&cm) == -1 || fsync(fd) == -1 || close(fd) == -1)
		goto fail;
	fd = -1;
	if (rename(tmp, out) == -1)
		goto fail;
	/* The rename itself is durable only once the directory is synced. */
	if (!(dirc = strdup(out)))
		log_fatal_sys(EXIT_TEMP, "unable to allocate memory");
	dfd = open(dirname(dirc), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1 || fsync(dfd) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to sync the directory of %s",
		    out);
	close(dfd);
	free(dirc);
	free(tmp);
	return;
fail:
	{
		int e = errno;

		if (fd != -1)
			close(fd);
		unlink(tmp);
		errno = e;
		log_fatal_sys(EXIT_TEMP, "unable to write %s", tmp);
	}
}

int
main(int argc, char **argv)
{
	const char *out = NULL, *deftag = "default";
	const char *empty_list = NULL;
	int c, check = 0, allow_empty = 0, i;
	size_t kept, excluded = 0, before;
	uint16_t def, tag;

	log_init(argv[0]);
	while ((c = getopt(argc, argv, "eno:t:")) != -1) {
		switch (c) {
		case 'e':
			allow_empty = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'o':
			out = optarg;
			break;
		case 't':
			deftag = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || (!out && !check) || argc > UINT16_MAX)
		usage();
	if (rec_tag_check(deftag, strlen(deftag)) == -1 ||
	    strcmp(deftag, "-") == 0)
		log_fatal(EXIT_PERM, "bad tag: %s", deftag);
	if (out && *out == '\0')
		usage();

	if (!(files = calloc((size_t)argc, sizeof *files)))
		log_fatal_sys(EXIT_TEMP, "unable to allocate memory");
	def = tag_index(deftag);
	for (i = 0; i < argc; i++) {
		/* TAG=FILE when what precedes '=' is a valid tag. */
		char *eq = strchr(argv[i], '=');

		tag = def;
		files[i] = argv[i];
		if (eq && eq > argv[i] &&
		    rec_tag_check(argv[i], (size_t)(eq - argv[i])) == 0) {
			*eq = '\0';
			tag = tag_index(argv[i]);
			files[i] = eq + 1;
		}
		if (*files[i] == '\0')
			usage();
		before = nents;
		read_list(files[i], (uint16_t)i, tag);
		/*
		 * One list of several coming back as an error page must not
		 * silently drop its tag's routes.
		 */
		if (nents == before && !allow_empty)
			empty_list = files[i];
	}

	kept = merge();
	for (size_t k = 0; k < nents; k++)
		if (ents[k].len && ents[k].excluded)
			excluded++;
	if (shown_bad > MAX_SHOWN)
		log_warn("%llu more bad lines not shown",
		    (unsigned long long)(shown_bad - MAX_SHOWN));
	if (shown_conflicts > MAX_SHOWN)
		log_warn("%llu more tag conflicts not shown",
		    (unsigned long long)(shown_conflicts - MAX_SHOWN));
	log_info("%s: %zu entries (%zu included, %zu excluded), "
		 "%llu lines skipped, %llu duplicates (%llu with another "
		 "tag) from %d list%s",
	    check ? "check" : out, kept, kept - excluded, excluded,
	    (unsigned long long)skipped, (unsigned long long)dups,
	    (unsigned long long)conflicts, argc, argc == 1 ? "" : "s");
	if (kept == excluded)
		log_fatal(EXIT_PERM, "no entry to match in the lists%s",
		    check ? "" : "; the old file stays in place");
	if (empty_list)
		log_fatal(EXIT_PERM, "%s: no entry in this list%s", empty_list,
		    check ? "" : "; the old file stays in place");
	if (check)
		print_entries();
	else
		write_cdb(out, kept);
	return 0;
}
