/*
 * domain-compile: compiles domain list texts into the cdb that domain-match
 * and ipcache map (format: lib/dlist.h).
 *
 * Reads each LIST ([TAG=]FILE) line by line in its format (list.h: plain,
 * hosts, dnsmasq, adblock, v2fly; named with -f, or found from the first
 * lines that tell), reports bad lines as "file:line: reason" and skips
 * them, says per list in one line what it took, converted and skipped,
 * merges all entries (duplicates: an exclusion beats an inclusion of the
 * same name, an entry for the name and below beats an exact one, otherwise
 * the first listed wins), and publishes the cdb atomically: temp file in
 * the same directory, fsync, rename, fsync of the directory. No entry at
 * all is an error and leaves the old file alone. With -n it only checks
 * and prints the merged entries, normalized.
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
#include "opt.h"
#include "rec.h"

#define MAX_TAGS 4096
#define MAX_FILES 65535
#define MAX_SHOWN 50	 /* diagnostics per kind printed; the rest counted */
#define MAX_FILTERS 64	 /* attribute filters, from -a and include: */
#define MAX_DEPTH 16	 /* include: nesting */
#define SNIFF_LINES 1000 /* lines read before an undecided list is plain */
#define SNIFF_BYTES (1 << 20)

enum kind { K_SUFFIX, K_EXACT, K_EXCLUDED };

struct ent {
	uint64_t h;   /* dlist_hash of the name: the sort key */
	uint64_t off; /* name in the arena */
	uint32_t seq; /* order listed: the tie-breaker */
	uint32_t line;
	uint16_t len;
	uint16_t tag;  /* index into tags */
	uint16_t file; /* index into files */
	uint8_t kind;
};

/* What one list (with what it includes) gave, for its summary line. */
struct stats {
	uint64_t suffix, exact, excluded, idn, bad, files;
	uint64_t skip[SKIP_N];
};

/* One file being read. */
struct src {
	const char *path;
	uint16_t file, tag;
	enum list_format fmt;
	const char **filters; /* "attr" must be there, "-attr" must not */
	size_t nfilters;
	int depth;
	dev_t dev[MAX_DEPTH + 1]; /* the files including this one, and it */
	ino_t ino[MAX_DEPTH + 1];
	struct stats *st;
};

static const char usage_text[] =
    "usage: domain-compile [-e] [-f FORMAT] [-a ATTRS] [-t TAG] "
    "-o FILE.cdb [TAG=]LIST...\n"
    "       domain-compile -n [-e] [-f FORMAT] [-a ATTRS] [-t TAG] "
    "[TAG=]LIST...\n"
    "  -o FILE.cdb  the cdb to write (atomically)\n"
    "  -n           check only: print the merged entries\n"
    "  -f FORMAT    auto (default), plain, hosts, dnsmasq, adblock, v2fly\n"
    "  -a ATTRS     v2fly: keep rules with @ATTR, drop those with -ATTR\n"
    "  -t TAG       the tag of entries whose line and list give none\n"
    "  -e           accept a list without entries\n";

static char *arena;
static size_t arena_len, arena_cap;
static struct ent *ents;
static size_t nents, ents_cap;
static char *tags[MAX_TAGS];
static size_t ntags;
static char **files;
static size_t nfiles, files_cap;
static uint64_t skipped, dups, conflicts, shown_bad, shown_conflicts;
static const char *filters[MAX_FILTERS];
static size_t nfilters;

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

static uint16_t
file_index(const char *path)
{
	if (nfiles == MAX_FILES)
		log_fatal(EXIT_PERM, "more than %d list files", MAX_FILES);
	files = grow(files, &files_cap, nfiles + 1, sizeof *files);
	if (!(files[nfiles] = strdup(path)))
		log_fatal(EXIT_TEMP, "unable to allocate memory for the lists");
	return (uint16_t)nfiles++;
}

static void
bad_line(struct src *s, uint64_t line, const char *name, const char *why)
{
	skipped++;
	s->st->bad++;
	if (++shown_bad > MAX_SHOWN)
		return;
	if (name)
		log_warn("%s:%llu: '%s': %s", s->path, (unsigned long long)line,
			 name, why);
	else
		log_warn("%s:%llu: %s", s->path, (unsigned long long)line, why);
}

static void
add_entry(struct src *s, uint64_t lineno, const char *name, size_t len,
	  uint16_t tag, enum kind k)
{
	if (nents >= UINT32_MAX)
		log_fatal(EXIT_PERM, "%s:%llu: too many entries", s->path,
			  (unsigned long long)lineno);
	arena = grow(arena, &arena_cap, arena_len + len, 1);
	ents = grow(ents, &ents_cap, nents + 1, sizeof *ents);
	memcpy(arena + arena_len, name, len);
	ents[nents] = (struct ent){
	    .h = dlist_hash(name, len),
	    .off = arena_len,
	    .seq = (uint32_t)nents,
	    .line = lineno > UINT32_MAX ? UINT32_MAX : (uint32_t)lineno,
	    .len = (uint16_t)len,
	    .tag = tag,
	    .file = s->file,
	    .kind = (uint8_t)k,
	};
	arena_len += len;
	nents++;
}

/* Does a rule with these attributes pass the filters of s? */
static int
attrs_pass(const struct src *s, const char *attrs, size_t nattrs)
{
	size_t i, k;
	const char *a, *f;
	int want, has;

	for (i = 0; i < s->nfilters; i++) {
		f = s->filters[i];
		want = f[0] != '-';
		f += !want;
		has = 0;
		for (k = 0, a = attrs; k < nattrs; k++, a += strlen(a) + 1)
			if (strcmp(a, f) == 0)
				has = 1;
		if (has != want)
			return 0;
	}
	return 1;
}

static void read_file(struct src *s);

/* include:NAME: the file NAME in the directory of s, read as v2fly. */
static void
include(struct src *s, uint64_t lineno, const struct list_line *l)
{
	struct src in = *s;
	const char *f[MAX_FILTERS], *a;
	char *dirc, *path;
	struct stat st;
	size_t i;
	int fd;

	if (s->depth == MAX_DEPTH) {
		bad_line(s, lineno, l->include, "includes nested too deep");
		return;
	}
	if (s->nfilters + l->nattrs > MAX_FILTERS) {
		bad_line(s, lineno, l->include, "too many attribute filters");
		return;
	}
	memcpy(f, s->filters, s->nfilters * sizeof *f);
	for (i = 0, a = l->attrs; i < l->nattrs; i++, a += strlen(a) + 1)
		f[s->nfilters + i] = a;
	if (!(dirc = strdup(strcmp(s->path, "-") == 0 ? "./-" : s->path)) ||
	    asprintf(&path, "%s/%s", dirname(dirc), l->include) == -1)
		log_fatal(EXIT_TEMP, "unable to allocate memory");
	free(dirc);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1)
		log_fatal_sys(EXIT_TEMP, "%s:%llu: unable to open %s", s->path,
			      (unsigned long long)lineno, path);
	for (i = 0; i <= (size_t)s->depth; i++)
		if (s->dev[i] == st.st_dev && s->ino[i] == st.st_ino) {
			close(fd);
			bad_line(
			    s, lineno, l->include,
			    "an include loop: that list is being read already");
			free(path);
			return;
		}
	close(fd);
	in.path = path;
	in.file = file_index(path);
	in.fmt = LIST_V2FLY;
	in.filters = f;
	in.nfilters = s->nfilters + l->nattrs;
	in.depth = s->depth + 1;
	s->st->files++;
	read_file(&in);
	free(path);
}

/* One line of s in its format. */
static void
take_line(struct src *s, char *line, size_t len, uint64_t lineno)
{
	struct list_line l;
	char name[REC_NAME_MAX];
	const char *why, *p;
	size_t i, nlen, n;
	uint16_t tag;
	enum kind k;

	switch (list_line(s->fmt, line, len, &l)) {
	case LIST_EMPTY:
		return;
	case LIST_BAD:
		bad_line(s, lineno, NULL, l.why);
		return;
	case LIST_SKIP:
		skipped++;
		s->st->skip[l.skip]++;
		for (i = 0; i < SKIP_N; i++)
			s->st->skip[i] += l.dropped[i];
		return;
	case LIST_INCLUDE:
		include(s, lineno, &l);
		return;
	case LIST_ENTRY:
		break;
	}
	for (i = 0; i < SKIP_N; i++)
		s->st->skip[i] += l.dropped[i];
	if (s->fmt == LIST_V2FLY && !attrs_pass(s, l.attrs, l.nattrs)) {
		skipped++;
		s->st->skip[SKIP_ATTRIBUTE]++;
		return;
	}
	tag = l.tag ? tag_index(l.tag) : s->tag;
	k = l.excluded ? K_EXCLUDED : l.exact ? K_EXACT : K_SUFFIX;
	for (i = 0, p = l.names; i < l.n; i++, p += n + 1) {
		n = strlen(p);
		if (list_name(p, n, name, &nlen, &why) == -1) {
			bad_line(s, lineno, l.n > 1 ? p : NULL, why);
			continue;
		}
		for (size_t b = 0; b < n; b++)
			if ((unsigned char)p[b] >= 0x80) {
				s->st->idn++;
				break;
			}
		add_entry(s, lineno, name, nlen, tag, k);
		if (k == K_EXCLUDED)
			s->st->excluded++;
		else if (k == K_EXACT)
			s->st->exact++;
		else
			s->st->suffix++;
	}
}

/*
 * Lines read before the format is known, each as its length (a size_t,
 * SIZE_MAX for a line too long) and its bytes: a line may hold a NUL.
 */
struct pending {
	char *buf;
	size_t len, cap, lines;
};

static void
pend(struct pending *p, const char *line, size_t len, int toolong)
{
	size_t n = toolong ? 0 : len, mark = toolong ? SIZE_MAX : len;

	p->buf = grow(p->buf, &p->cap, p->len + sizeof mark + n + 1, 1);
	memcpy(p->buf + p->len, &mark, sizeof mark);
	memcpy(p->buf + p->len + sizeof mark, line, n);
	p->buf[p->len + sizeof mark + n] = '\0';
	p->len += sizeof mark + n + 1;
	p->lines++;
}

static void
replay(struct src *s, struct pending *p, uint64_t first)
{
	size_t at = 0, n;
	uint64_t lineno = first;

	while (at < p->len) {
		memcpy(&n, p->buf + at, sizeof n);
		at += sizeof n;
		if (n == SIZE_MAX) {
			bad_line(s, lineno, NULL, "line too long");
			n = 0;
		} else
			take_line(s, p->buf + at, n, lineno);
		at += n + 1;
		lineno++;
	}
	free(p->buf);
	*p = (struct pending){0};
}

/*
 * The format most of the first lines show (list_sniff); plain when none
 * does or on a tie with plain: a stray hosts or Adblock line in a plain
 * list is a bad line of that list, not a reason to read it otherwise.
 */
static enum list_format
elect(const size_t *votes)
{
	enum list_format f, best = LIST_PLAIN;

	for (f = LIST_PLAIN; f <= LIST_V2FLY; f++)
		if (votes[f] > votes[best])
			best = f;
	return best;
}

static void
read_file(struct src *s)
{
	struct pending p = {0};
	struct stat st;
	struct lr r;
	enum lr_result res;
	size_t votes[LIST_V2FLY + 1] = {0};
	char *line;
	size_t len;
	uint64_t lineno = 0;
	ssize_t n;
	int fd;

	fd =
	    strcmp(s->path, "-") == 0 ? 0 : open(s->path, O_RDONLY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to open %s", s->path);
	s->dev[s->depth] = st.st_dev;
	s->ino[s->depth] = st.st_ino;
	if (lr_init(&r, fd, 65536) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to allocate a line buffer");
	for (;;) {
		while ((res = lr_next(&r, &line, &len)) != LR_NONE) {
			lineno++;
			if (s->fmt != LIST_AUTO) {
				if (res == LR_LONG)
					bad_line(s, lineno, NULL,
						 "line too long");
				else
					take_line(s, line, len, lineno);
				continue;
			}
			if (res != LR_LONG)
				votes[list_sniff(line, len)]++;
			pend(&p, line, len, res == LR_LONG);
			if (p.lines < SNIFF_LINES && p.len < SNIFF_BYTES)
				continue;
			s->fmt = elect(votes);
			replay(s, &p, lineno - p.lines + 1);
		}
		n = lr_fill(&r);
		if (n == -1)
			log_fatal_sys(EXIT_TEMP, "unable to read %s", s->path);
		if (n == 0 && lr_pending(&r) == 0)
			break;
	}
	if (s->fmt == LIST_AUTO) {
		s->fmt = elect(votes);
		replay(s, &p, lineno - p.lines + 1);
	}
	lr_destroy(&r);
	if (fd != 0)
		close(fd);
}

/* One line: "FILE: FORMAT (how): what was taken, converted, skipped". */
static void
summary(const char *path, enum list_format f, int named, const struct stats *st)
{
	char skips[512] = "", taken[128] = "", inc[64] = "";
	uint64_t total = 0, taken_n = st->suffix + st->exact + st->excluded;
	size_t i, o = 0;

	for (i = 0; i < SKIP_N; i++) {
		total += st->skip[i];
		if (st->skip[i] && o < sizeof skips)
			o += (size_t)snprintf(
			    skips + o, sizeof skips - o, "%s%llu %s",
			    o ? ", " : " (", (unsigned long long)st->skip[i],
			    list_skip_name((enum list_skip)i));
	}
	if (st->bad && o < sizeof skips)
		o += (size_t)snprintf(skips + o, sizeof skips - o, "%s%llu bad",
				      o ? ", " : " (",
				      (unsigned long long)st->bad);
	if (o && o < sizeof skips)
		snprintf(skips + o, sizeof skips - o, ")");
	total += st->bad;
	if (taken_n)
		snprintf(taken, sizeof taken,
			 " (%llu suffix, %llu exact, "
			 "%llu excluded)",
			 (unsigned long long)st->suffix,
			 (unsigned long long)st->exact,
			 (unsigned long long)st->excluded);
	if (st->files)
		snprintf(inc, sizeof inc, ", with %llu included file%s",
			 (unsigned long long)st->files,
			 st->files == 1 ? "" : "s");
	log_info("%s: %s (%s): %llu taken%s, %llu converted to A-labels, "
		 "%llu skipped%s%s",
		 path, list_format_name(f), named ? "named" : "detected",
		 (unsigned long long)taken_n, taken,
		 (unsigned long long)st->idn, (unsigned long long)total, skips,
		 inc);
}

/*
 * Equal names next to each other in the order listed: by hash first, so
 * that sorting a million names rarely reads them (the arena is far from
 * the entries, and names share long prefixes).
 */
static int
ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	int c;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if ((c = memcmp(arena + x->off, arena + y->off, x->len)))
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* By name, for people: -n prints the entries sorted so. */
static int
name_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(arena + x->off, arena + y->off, n);

	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Of two entries for one name, the one that wins: the higher kind rank. */
static int
beats(const struct ent *a, const struct ent *b)
{
	static const int rank[] = {
	    [K_EXACT] = 0, [K_SUFFIX] = 1, [K_EXCLUDED] = 2};

	return rank[a->kind] > rank[b->kind];
}

/*
 * Sorts and keeps one entry per name (marking the others len 0): an
 * exclusion wins over inclusions, an inclusion of the name and below over
 * an exact one, otherwise the first listed. Returns the number kept.
 */
static size_t
merge(void)
{
	size_t i, j, k, win, kept = 0;

	if (nents)
		qsort(ents, nents, sizeof *ents, ent_cmp);
	for (i = 0; i < nents; i = j) {
		win = i;
		for (j = i + 1; j < nents && ents[j].h == ents[i].h &&
				ents[j].len == ents[i].len &&
				memcmp(arena + ents[j].off, arena + ents[i].off,
				       ents[i].len) == 0;
		     j++)
			if (beats(&ents[j], &ents[win]))
				win = j;
		for (k = i; k < j; k++) {
			if (k == win)
				continue;
			dups++;
			if (ents[k].kind != K_EXCLUDED &&
			    ents[win].kind != K_EXCLUDED &&
			    ents[k].tag != ents[win].tag) {
				conflicts++;
				if (++shown_conflicts > MAX_SHOWN)
					continue;
				if (ents[k].kind != ents[win].kind)
					log_warn("%s:%u: =%.*s: %s:%u lists it "
						 "and the names below it with "
						 "tag %s; keeping that",
						 files[ents[k].file],
						 ents[k].line, (int)ents[k].len,
						 arena + ents[k].off,
						 files[ents[win].file],
						 ents[win].line,
						 tags[ents[win].tag]);
				else
					log_warn("%s:%u: %.*s: already listed "
						 "at %s:%u with tag %s; "
						 "keeping that",
						 files[ents[k].file],
						 ents[k].line, (int)ents[k].len,
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

	if (e->kind == K_EXCLUDED) {
		buf[0] = '!';
		return 1;
	}
	n = strlen(tags[e->tag]);
	buf[0] = e->kind == K_EXACT ? '=' : '+';
	memcpy(buf + 1, tags[e->tag], n);
	return (int)n + 1;
}

static void
print_entries(void)
{
	struct lw w;
	char v[REC_TAG_MAX + 2];
	size_t i, k;
	int vl;

	if (lw_init(&w, 1, 65536) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to allocate a buffer");
	for (i = k = 0; i < nents; i++)
		if (ents[i].len)
			ents[k++] = ents[i];
	nents = k;
	qsort(ents, nents, sizeof *ents, name_cmp);
	for (i = 0; i < nents; i++) {
		vl = value_of(&ents[i], v);
		if ((ents[i].kind == K_EXCLUDED && lw_put(&w, "!", 1) == -1) ||
		    (ents[i].kind == K_EXACT && lw_put(&w, "=", 1) == -1) ||
		    lw_put(&w, arena + ents[i].off, ents[i].len) == -1 ||
		    (ents[i].kind != K_EXCLUDED &&
		     (lw_put(&w, " ", 1) == -1 ||
		      lw_put(&w, v + 1, (size_t)vl - 1) == -1)) ||
		    lw_put(&w, "\n", 1) == -1)
			log_fatal_sys(EXIT_TEMP, "unable to write to stdout");
	}
	if (lw_flush(&w) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to write to stdout");
	lw_destroy(&w);
}

/*
 * Writes the cdb to a temp file next to out, then renames it over out.
 * -1 with errno and *what (the file the step failed on) on failure, with
 * nothing left behind.
 */
static int
write_cdb(const char *out, size_t kept, const char **what)
{
	struct cdb_make cm;
	char *tmp, *dirc, hdr[64], v[REC_TAG_MAX + 2];
	unsigned char *bloom = NULL, depths[16] = {0};
	const char *q;
	size_t i, labels, bsize = dlist_bloom_size(kept);
	int fd, dfd, vl, hl, e;

	if (asprintf(&tmp, "%s.tmp.XXXXXX", out) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to allocate memory");
	*what = tmp;
	fd = mkstemp(tmp);
	if (fd == -1)
		return -1;
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
		     (q = memchr(q, '.',
				 ents[i].len -
				     (size_t)(q - arena - ents[i].off)));
		     q++)
			labels++;
		depths[labels / 8] |= (unsigned char)(1u << (labels % 8));
	}
	if (cdb_make_add(&cm, DLIST_DEPTHS_KEY, sizeof DLIST_DEPTHS_KEY - 1,
			 depths, sizeof depths) == -1)
		goto fail;
	if (cdb_make_add(&cm, DLIST_BLOOM_KEY, sizeof DLIST_BLOOM_KEY - 1,
			 bloom, (unsigned)bsize) == -1)
		goto fail;
	if (cdb_make_finish(&cm) == -1 || fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, out) == -1) {
		*what = out;
		goto fail;
	}
	free(bloom);
	free(tmp);
	*what = NULL;
	/* The rename itself is durable only once the directory is synced. */
	if (!(dirc = strdup(out)))
		log_fatal_sys(EXIT_TEMP, "unable to allocate memory");
	dfd = open(dirname(dirc), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1 || fsync(dfd) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to sync the directory of %s",
			      out);
	close(dfd);
	free(dirc);
	return 0;
fail:
	e = errno;
	free(bloom);
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = e;
	return -1;
}

/* -a: "cn,-ads" or "@cn @-ads" into filters. */
static void
add_filters(char *arg)
{
	char *t, *save = NULL;

	for (t = strtok_r(arg, ", ", &save); t;
	     t = strtok_r(NULL, ", ", &save)) {
		if (*t == '@')
			t++;
		if (*t == '\0' || (t[0] == '-' && t[1] == '\0'))
			opt_usage("bad attribute filter in -a");
		if (nfilters == MAX_FILTERS)
			opt_usage("more than %d attribute filters",
				  MAX_FILTERS);
		filters[nfilters++] = t;
	}
}

int
main(int argc, char **argv)
{
	const char *out = NULL, *deftag = "default", *empty_list = NULL;
	enum list_format fmt = LIST_AUTO;
	struct stats st;
	struct src s;
	const char *what;
	char exacts[32];
	int c, check = 0, allow_empty = 0, i;
	size_t kept, excluded = 0, exact = 0, before;
	uint16_t def, tag;

	opt_init(argv[0], usage_text);
	opterr = 0;
	while ((c = getopt(argc, argv, ":a:ef:hno:t:V")) != -1) {
		switch (c) {
		case 'a':
			add_filters(optarg);
			break;
		case 'e':
			allow_empty = 1;
			break;
		case 'f':
			if (list_format_parse(optarg, &fmt) == -1)
				opt_usage("unknown list format %s", optarg);
			break;
		case 'h':
			opt_help();
		case 'n':
			check = 1;
			break;
		case 'o':
			out = optarg;
			break;
		case 't':
			deftag = optarg;
			break;
		case 'V':
			opt_version();
		default:
			opt_bad(c);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		opt_usage("no list to compile");
	if (!out && !check)
		opt_usage("no output file: -o FILE.cdb, or -n to check");
	if (out && *out == '\0')
		opt_usage("empty output file name");
	if (argc > UINT16_MAX)
		opt_usage("more than %d lists", UINT16_MAX);
	if (rec_tag_check(deftag, strlen(deftag)) == -1 ||
	    strcmp(deftag, "-") == 0)
		opt_usage("bad tag: %s", deftag);

	def = tag_index(deftag);
	for (i = 0; i < argc; i++) {
		/* TAG=FILE when what precedes '=' is a valid tag. */
		char *eq = strchr(argv[i], '=');
		const char *path = argv[i];

		tag = def;
		if (eq && eq > argv[i] &&
		    rec_tag_check(argv[i], (size_t)(eq - argv[i])) == 0) {
			*eq = '\0';
			tag = tag_index(argv[i]);
			path = eq + 1;
		}
		if (*path == '\0')
			opt_usage("empty list name in %s=", argv[i]);
		before = nents;
		memset(&st, 0, sizeof st);
		s = (struct src){
		    .path = path,
		    .file = file_index(path),
		    .tag = tag,
		    .fmt = fmt,
		    .filters = filters,
		    .nfilters = nfilters,
		    .st = &st,
		};
		read_file(&s);
		summary(path, s.fmt, fmt != LIST_AUTO, &st);
		/*
		 * One list of several coming back as an error page must not
		 * silently drop its tag's routes.
		 */
		if (nents == before && !allow_empty && !empty_list)
			empty_list = path;
	}

	kept = merge();
	for (size_t k = 0; k < nents; k++) {
		if (ents[k].len && ents[k].kind == K_EXCLUDED)
			excluded++;
		if (ents[k].len && ents[k].kind == K_EXACT)
			exact++;
	}
	if (shown_bad > MAX_SHOWN)
		log_warn("%llu more bad lines not shown",
			 (unsigned long long)(shown_bad - MAX_SHOWN));
	if (shown_conflicts > MAX_SHOWN)
		log_warn("%llu more tag conflicts not shown",
			 (unsigned long long)(shown_conflicts - MAX_SHOWN));
	if (kept == excluded)
		log_fatal(EXIT_PERM, "no entry to match in the lists%s",
			  check ? "" : "; the old file stays in place");
	if (empty_list)
		log_fatal(EXIT_PERM, "%s: no entry in this list%s", empty_list,
			  check ? "" : "; the old file stays in place");
	if (check)
		print_entries();
	else if (write_cdb(out, kept, &what) == -1)
		log_fatal(EXIT_TEMP,
			  "unable to write %s: %s; the old file "
			  "stays in place",
			  what, strerror(errno));
	/* Said once it is true: the file is in place (or -n printed it). */
	snprintf(exacts, sizeof exacts, "%zu exact, ", exact);
	log_info("%s: %zu entries (%zu included, %s%zu excluded), "
		 "%llu lines skipped, %llu duplicates (%llu with another "
		 "tag) from %d list%s",
		 check ? "check" : out, kept, kept - excluded - exact,
		 exact ? exacts : "", excluded, (unsigned long long)skipped,
		 (unsigned long long)dups, (unsigned long long)conflicts, argc,
		 argc == 1 ? "" : "s");
	return 0;
}
