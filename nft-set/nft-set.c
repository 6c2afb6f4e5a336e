/*
 * nft-set: keeps nftables sets equal to ipcache's set of addresses.
 *
 * Reads ipcache's records on stdin (docs/records.md): "announce PREFIX TAG
 * NAME" adds the address to its tag's set, "withdraw" deletes it, "replay"
 * ... "eor" is the whole set: at eor the sets are read back from the kernel
 * and only the difference is changed, so a restart neither flushes a set
 * nor flaps an element. "mark N" is answered with "ack N" on the -A FIFO
 * once the kernel has confirmed every change caused by earlier records.
 * Writes nothing on stdout. Configuration: the environment (nft-set(8)).
 *
 * Elements it adds carry the comment "dnstap-bgp"; elements without it are
 * someone else's and are never deleted. Needs CAP_NET_ADMIN, nothing more.
 */
#include <errno.h>
#include <linux/capability.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ack.h"
#include "cap.h"
#include "clock.h"
#include "lineio.h"
#include "log.h"
#include "metrics.h"
#include "nft.h"
#include "opt.h"
#include "rec.h"
#include "sig.h"
#include "sink.h"
#include "tagenv.h"

#define MAX_CLASSES 65 /* TAGS entries, plus the default */
#define MAX_DESTS (2 * MAX_CLASSES)
#define RECORD_BUDGET 50000
#define RETRY_MS 5000 /* a missing set is looked for again */
#define METRICS_MS 10000

static const char usage_text[] =
    "usage: nft-set [-c] [-A ack-fifo] [-M metrics-file]\n"
    "       nft-set -n\n"
    "  -c  create the table and sets when missing\n"
    "  -A  write 'ack N' for each 'mark N' to this FIFO\n"
    "  -n  check the configuration (environment), print it, exit\n";

struct class
{
	char tag[REC_TAG_MAX + 1]; /* "" for the default */
	uint32_t dest[2];
};

static struct nft_dest dests[MAX_DESTS];
static int missing[MAX_DESTS];
static uint32_t ndests;
static struct class classes[MAX_CLASSES];
static uint32_t nclasses;

static struct sink S;
static struct sink_io IO = {.ackfd = -1};
static struct nftk *K;
static int create_sets;
static struct ratelimit bad_rl = RATELIMIT_INIT, kern_rl = RATELIMIT_INIT;

static struct {
	uint64_t added, deleted, batches, refused, resyncs;
	uint64_t refreshed, ours, foreign, no_dest;
} n;

static const struct metric metrics[] = {
    {"records_total", NULL, METRIC_COUNTER, "Records read", &IO.records},
    {"bad_records_total", NULL, METRIC_COUNTER,
     "Records that did not parse or were of an unexpected type", &IO.bad},
    {"elements_added_total", NULL, METRIC_COUNTER, "Elements added to the sets",
     &n.added},
    {"elements_deleted_total", NULL, METRIC_COUNTER,
     "Elements deleted from the sets", &n.deleted},
    {"elements_refreshed_total", NULL, METRIC_COUNTER,
     "Element timeouts renewed", &n.refreshed},
    {"batches_total", NULL, METRIC_COUNTER, "Transactions the kernel applied",
     &n.batches},
    {"batches_refused_total", NULL, METRIC_COUNTER,
     "Transactions the kernel refused (followed by a read-back)", &n.refused},
    {"resyncs_total", NULL, METRIC_COUNTER,
     "Read-backs of the sets from the kernel", &n.resyncs},
    {"acks_total", NULL, METRIC_COUNTER, "Acks written", &IO.acks},
    {"acks_dropped_total", NULL, METRIC_COUNTER,
     "Acks dropped: the channel was full", &IO.acks_dropped},
    {"no_set_total", NULL, METRIC_COUNTER,
     "Announces whose tag has no set for their address family", &n.no_dest},
    {"elements", NULL, METRIC_GAUGE, "Elements of ours in the sets", &n.ours},
    {"foreign_elements", NULL, METRIC_GAUGE,
     "Elements of others in the sets (left alone)", &n.foreign},
};
#define NMETRICS (sizeof metrics / sizeof metrics[0])

/* --- configuration ------------------------------------------------------ */

static int
name_ok(const char *s)
{
	size_t i, len = strlen(s);

	if (!len || len > 255)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-' || s[i] == '.'))
			return 0;
	return 1;
}

static uint32_t
dest_add(uint8_t family, uint8_t af, const char *table, const char *set,
	 uint64_t timeout_ms)
{
	uint32_t i;

	for (i = 0; i < ndests; i++)
		if (dests[i].family == family && dests[i].af == af &&
		    !strcmp(dests[i].table, table) &&
		    !strcmp(dests[i].set, set)) {
			if (dests[i].timeout_ms != timeout_ms)
				log_fatal(EXIT_PERM,
					  "bad configuration: set "
					  "%s %s used with two TIMEOUTs",
					  table, set);
			return i;
		}
	dests[i].family = family;
	dests[i].af = af;
	snprintf(dests[i].table, sizeof dests[i].table, "%s", table);
	snprintf(dests[i].set, sizeof dests[i].set, "%s", set);
	dests[i].timeout_ms = timeout_ms;
	return ndests++;
}

static void
load_class(struct class *c, const char *tag)
{
	char var[128];
	const char *fam, *table, *set, *to, *e;
	uint8_t family;
	uint64_t timeout_ms = 0;
	int af;

	snprintf(c->tag, sizeof c->tag, "%s", tag);
	fam = tagenv(tag, "FAMILY", var, sizeof var);
	if (!fam || !strcmp(fam, "inet"))
		family = NFPROTO_INET;
	else if (!strcmp(fam, "ip"))
		family = NFPROTO_IPV4;
	else if (!strcmp(fam, "ip6"))
		family = NFPROTO_IPV6;
	else
		log_fatal(EXIT_PERM,
			  "bad configuration: %s: %s: not inet, ip "
			  "or ip6",
			  var, fam);
	if (!(table = tagenv(tag, "TABLE", var, sizeof var)))
		table = "dnstap_bgp";
	if (!name_ok(table))
		log_fatal(EXIT_PERM, "bad configuration: %s: bad table name",
			  var);
	if ((to = tagenv(tag, "TIMEOUT", var, sizeof var))) {
		timeout_ms = (uint64_t)strtonum(to, 0, 100000000, &e) * 1000;
		if (e)
			log_fatal(EXIT_PERM,
				  "bad configuration: %s: %s: %s "
				  "(seconds, 0 to 100000000)",
				  var, to, e);
	}
	for (af = 4; af <= 6; af += 2) {
		set = tagenv(tag, af == 4 ? "SET4" : "SET6", var, sizeof var);
		if (!set)
			set = af == 4 ? "addr4" : "addr6";
		c->dest[af == 6] = SINK_NO_DEST;
		if (!strcmp(set, "-") || (family == NFPROTO_IPV4 && af == 6) ||
		    (family == NFPROTO_IPV6 && af == 4))
			continue;
		if (!name_ok(set))
			log_fatal(EXIT_PERM,
				  "bad configuration: %s: bad set "
				  "name",
				  var);
		c->dest[af == 6] =
		    dest_add(family, (uint8_t)af, table, set, timeout_ms);
	}
}

static void
config_load(void)
{
	const char *p = getenv("TAGS"), *bad;
	char tag[REC_TAG_MAX + 1];
	size_t len;
	int r;

	load_class(&classes[nclasses++], "");
	while ((r = tagenv_next(&p, tag, &bad, &len)) != 0) {
		if (r == -1)
			log_fatal(EXIT_PERM,
				  "bad configuration: TAGS: %.*s: "
				  "bad tag",
				  (int)len, bad);
		if (nclasses == MAX_CLASSES)
			log_fatal(EXIT_PERM,
				  "bad configuration: TAGS: more "
				  "than %d tags",
				  MAX_CLASSES - 1);
		load_class(&classes[nclasses++], tag);
	}
}

static const char *
fam_name(uint8_t f)
{
	return f == NFPROTO_INET ? "inet" : f == NFPROTO_IPV4 ? "ip" : "ip6";
}

static void
config_print(void)
{
	uint32_t i, af;
	const struct nft_dest *d;

	for (i = 0; i < nclasses; i++)
		for (af = 0; af < 2; af++) {
			printf("%s %s ", i ? classes[i].tag : "-",
			       af ? "ipv6" : "ipv4");
			if (classes[i].dest[af] == SINK_NO_DEST) {
				printf("-\n");
				continue;
			}
			d = &dests[classes[i].dest[af]];
			printf("set %s %s %s timeout %llu\n",
			       fam_name(d->family), d->table, d->set,
			       (unsigned long long)(d->timeout_ms / 1000));
		}
}

static uint32_t
dest_of(void *arg, const char *tag, int family)
{
	uint32_t i;

	(void)arg;
	for (i = 1; i < nclasses; i++)
		if (!strcmp(classes[i].tag, tag))
			return classes[i].dest[family == 6];
	return classes[0].dest[family == 6];
}

/* --- the kernel --------------------------------------------------------- */

static void
count_view(void)
{
	uint32_t i;

	n.ours = n.foreign = 0;
	for (i = 0; i < S.dest.n; i++)
		if (S.dest.e[i].used) {
			if (sink_have(&S.dest.e[i]) == SINK_OURS)
				n.ours++;
			else if (sink_have(&S.dest.e[i]) == SINK_FOREIGN)
				n.foreign++;
		}
}

/* Reads every set back: what is there, whose. 0, or -1 if one is missing. */
static int
resync(void)
{
	char why[600];
	enum nftk_check c;
	uint32_t i;
	int ret = 0;

	n.resyncs++;
	sink_view_begin(&S);
	for (i = 0; i < ndests; i++) {
		c = nftk_check(K, &dests[i], create_sets, why, sizeof why);
		if (c == NFTK_WRONG)
			log_fatal(EXIT_PERM, "%s", why);
		if (c == NFTK_OK && nftk_dump(K, &dests[i], i, &S) == 0) {
			if (missing[i])
				log_info("%s: found", why);
			missing[i] = 0;
			continue;
		}
		if (errno == ENOMEM)
			log_fatal(EXIT_TEMP, "out of memory");
		if (!missing[i])
			log_warn(
			    "unable to read %s: %s%s", why, strerror(errno),
			    errno == ENOENT ? " (create it, or run with -c)"
					    : "");
		missing[i] = 1;
		ret = -1;
	}
	sink_view_end(&S);
	return ret;
}

/*
 * Sends every pending change, in transactions. A refused transaction
 * (someone changed the set under us) is followed by a read-back and one
 * more try. 0 when everything is applied.
 */
static int
apply(void)
{
	static uint32_t *idx;
	static enum sink_op *ops;
	static size_t cap;
	enum sink_op op;
	uint32_t i, k, cnt, tries = 0;
	void *p;

	for (;;) {
		cnt = 0;
		nftk_batch_begin(K);
		while ((i = sink_next(&S, &op)) != PMAP_NONE) {
			if (missing[S.dest.e[i].id])
				continue; /* found again by the retry */
			if (cnt == cap) {
				cap = cap ? cap * 2 : 4096;
				if (!(p = realloc(idx, cap * sizeof *idx)))
					log_fatal(EXIT_TEMP, "out of memory");
				idx = p;
				if (!(p = realloc(ops, cap * sizeof *ops)))
					log_fatal(EXIT_TEMP, "out of memory");
				ops = p;
			}
			if (nftk_batch_add(K, &dests[S.dest.e[i].id], op,
					   &S.dest.e[i].p) == -1)
				log_fatal(EXIT_TEMP, "out of memory");
			idx[cnt] = i;
			ops[cnt++] = op;
			if (nftk_batch_full(K))
				break;
		}
		if (!cnt)
			return 0;
		if (nftk_batch_send(K) == 0) {
			n.batches++;
			for (k = 0; k < cnt; k++) {
				if (ops[k] == SINK_DEL)
					n.deleted++;
				else
					n.added++;
				sink_done(&S, idx[k], ops[k]);
			}
			continue;
		}
		n.refused++;
		log_warn_limited(&kern_rl,
				 "the kernel refused a transaction "
				 "of %u changes: %s; reading the sets back",
				 cnt, strerror(errno));
		if (resync() == -1 || ++tries == 2)
			return -1;
	}
}

/*
 * Renews the timeout of every element of ours in sets with TIMEOUT: a
 * delete and an add of the same elements in one transaction, which the
 * packet path sees as one change (the element never disappears).
 */
static void
refresh(void)
{
	uint32_t i, k, start, end;
	struct pmap_ent *e;

	for (start = 0; start < S.dest.n; start = end) {
		nftk_batch_begin(K);
		k = 0;
		for (end = start; end < S.dest.n && k < 4096; end++) {
			e = &S.dest.e[end];
			if (e->used && sink_have(e) == SINK_OURS &&
			    dests[e->id].timeout_ms && !missing[e->id] &&
			    nftk_batch_add(K, &dests[e->id], SINK_DEL, &e->p) ==
				0)
				k++;
		}
		for (i = start; i < end; i++) {
			e = &S.dest.e[i];
			if (e->used && sink_have(e) == SINK_OURS &&
			    dests[e->id].timeout_ms && !missing[e->id])
				(void)nftk_batch_add(K, &dests[e->id], SINK_ADD,
						     &e->p);
		}
		if (!k)
			continue;
		if (nftk_batch_send(K) == 0) {
			n.refreshed += k;
			n.batches++;
			continue;
		}
		n.refused++;
		log_warn_limited(&kern_rl,
				 "the kernel refused a timeout "
				 "renewal: %s; reading the sets back",
				 strerror(errno));
		(void)resync();
		(void)apply();
		return;
	}
}

/* --- records ------------------------------------------------------------ */

static int
io_apply(void *arg)
{
	(void)arg;
	return apply();
}

static int
io_readback(void *arg)
{
	(void)arg;
	return resync();
}

static void
settle(void)
{
	if (sink_settle(&S, &IO) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to write to the ack channel");
}

static void
input(struct lr *in)
{
	enum lr_result res;
	enum rec_err err;
	char *line;
	size_t len;
	int k = 0;

	while (k++ < RECORD_BUDGET &&
	       (res = lr_next(in, &line, &len)) != LR_NONE) {
		if (res == LR_LONG) {
			IO.records++;
			IO.bad++;
			log_warn_limited(&bad_rl, "stdin: line too long");
			continue;
		}
		switch (sink_line(&S, &IO, line, len, &err)) {
		case SINK_LINE_BAD:
			log_warn_limited(&bad_rl, "stdin: record %llu: %s",
					 (unsigned long long)IO.records,
					 err != REC_OK ? rec_strerror(err)
						       : "unexpected type");
			break;
		case SINK_LINE_TAGS:
			log_warn_limited(&bad_rl,
					 "stdin: record %llu: more than "
					 "%d tags",
					 (unsigned long long)IO.records,
					 SINK_MAX_TAGS);
			break;
		case SINK_LINE_NOMEM:
			log_fatal(EXIT_TEMP, "out of memory");
		case SINK_LINE_ACKERR:
			log_fatal_sys(EXIT_TEMP, "unable to write to the ack "
						 "channel");
		case SINK_LINE_REPLAYED:
			count_view();
			log_info("replay complete: %llu %s of ours, %llu of "
				 "others%s",
				 (unsigned long long)n.ours, "elements",
				 (unsigned long long)n.foreign, "");
			break;
		default:
			break;
		}
	}
	settle();
}

static void
write_metrics(const char *path)
{
	n.no_dest = S.no_dest;
	count_view();
	if (path && metrics_write(path, "nft-set", metrics, NMETRICS) == -1)
		log_warn_sys("unable to write %s", path);
}

int
main(int argc, char **argv)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, 0};
	const char *metrics_path = getenv("METRICS_FILE"), *ack_path = NULL;
	int opt, check = 0, sigfd, s, stop = 0, anymissing;
	int64_t now, next_metrics, next_refresh = 0, next_retry = 0, t;
	uint64_t min_timeout = 0;
	struct pollfd pfd[2];
	struct lr in;
	ssize_t k;
	uint32_t i;

	opt_init("nft-set", usage_text);
	opterr = 0;
	while ((opt = getopt(argc, argv, "cnA:M:hV")) != -1) {
		switch (opt) {
		case 'c':
			create_sets = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'A':
			ack_path = optarg;
			break;
		case 'M':
			metrics_path = optarg;
			break;
		case 'h':
			opt_help();
		case 'V':
			opt_version();
		default:
			opt_bad(opt);
		}
	}
	if (optind != argc)
		opt_usage("unexpected argument %s", argv[optind]);
	if (metrics_path && !*metrics_path)
		metrics_path = NULL;
	config_load();
	if (check) {
		config_print();
		return fflush(stdout) == 0 ? 0 : EXIT_TEMP;
	}
	for (i = 0; i < ndests; i++)
		if (dests[i].timeout_ms &&
		    (!min_timeout || dests[i].timeout_ms < min_timeout))
			min_timeout = dests[i].timeout_ms;

	if (cap_effective(CAP_NET_ADMIN) == 0)
		log_fatal(EXIT_PERM, "unable to change the kernel's tables: "
				     "needs CAP_NET_ADMIN");
	if (ack_path && (IO.ackfd = ack_open(ack_path)) == -1)
		log_fatal_sys(errno == ENOTSUP ? EXIT_PERM : EXIT_TEMP,
			      "unable to open the ack channel %s%s", ack_path,
			      errno == ENOTSUP ? " (not a FIFO)" : "");
	if ((sigfd = sig_open(sigs)) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to set up signals");
	if (lr_init(&in, 0, REC_LINE_MAX * 4) == -1 ||
	    sink_init(&S, dest_of, NULL) == -1)
		log_fatal(EXIT_TEMP, "out of memory");
	if (!(K = nftk_open()))
		log_fatal_sys(errno == EPERM ? EXIT_PERM : EXIT_TEMP,
			      "unable to open a netfilter netlink socket%s",
			      errno == EPERM ? " (needs CAP_NET_ADMIN)" : "");
	/* What the sets hold now; nothing is changed before the first eor
	 * but what records ask for. */
	IO.apply = io_apply;
	IO.readback = io_readback;
	IO.fresh_view = resync() == 0;
	count_view();
	log_info("started: %u sets, %llu elements of ours, %llu of others; "
		 "acks to %s",
		 ndests, (unsigned long long)n.ours,
		 (unsigned long long)n.foreign,
		 ack_path ? ack_path : "nowhere");

	next_metrics = clock_mono_ms();
	if (min_timeout)
		next_refresh = next_metrics + (int64_t)min_timeout / 3;
	while (!stop) {
		now = clock_mono_ms();
		anymissing = 0;
		for (i = 0; i < ndests; i++)
			anymissing |= missing[i];
		if (anymissing && now >= next_retry) {
			if (resync() == 0)
				settle();
			next_retry = now + RETRY_MS;
		}
		if (min_timeout && now >= next_refresh) {
			refresh();
			next_refresh = now + (int64_t)min_timeout / 3;
		}
		if (now >= next_metrics) {
			write_metrics(metrics_path);
			next_metrics = now + METRICS_MS;
		}
		t = next_metrics - now;
		if (min_timeout && next_refresh - now < t)
			t = next_refresh - now;
		if (anymissing && next_retry - now < t)
			t = next_retry - now;
		if (lr_pending(&in))
			t = 0;
		pfd[0] = (struct pollfd){sigfd, POLLIN, 0};
		pfd[1] = (struct pollfd){in.eof ? -1 : 0, POLLIN, 0};
		if (poll(pfd, 2, t < 0 ? 0 : (int)t) == -1) {
			if (errno == EINTR)
				continue;
			log_fatal_sys(EXIT_TEMP, "unable to poll");
		}
		if (pfd[0].revents)
			while ((s = sig_next(sigfd)) > 0) {
				if (s == SIGUSR1) {
					n.no_dest = S.no_dest;
					count_view();
					metrics_log(metrics, NMETRICS);
				} else if (s == SIGHUP) {
					log_info(
					    "SIGHUP: reading the sets back");
					if (resync() == 0)
						settle();
				} else
					stop = 1;
			}
		if (pfd[1].revents) {
			k = lr_fill(&in);
			if (k == -1 && errno != EINTR && errno != EAGAIN)
				log_fatal_sys(EXIT_TEMP,
					      "unable to read stdin");
		}
		if (pfd[1].revents || lr_pending(&in))
			input(&in);
		if (in.eof && !lr_pending(&in)) {
			log_info("end of input");
			stop = 1;
		}
	}
	write_metrics(metrics_path);
	log_info("exiting: %llu records, %llu elements added, %llu deleted, "
		 "%llu elements of ours in the sets",
		 (unsigned long long)IO.records, (unsigned long long)n.added,
		 (unsigned long long)n.deleted, (unsigned long long)n.ours);
	nftk_close(&K);
	sink_destroy(&S);
	lr_destroy(&in);
	return 0;
}
