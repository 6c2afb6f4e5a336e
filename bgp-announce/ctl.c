/*
 * ctl.c: the control socket (-S): answers "status" and "routes [FILTER]"
 * in the line format that bgp-announce(8) specifies under CONTROL SOCKET.
 *
 * Clients are served from the poll loop like peers: the request line is
 * read without waiting, and the answer is produced as the client takes it
 * (a routes answer walks the table with a cursor, CTL_OUT bytes at a
 * time), so a client that stops reading holds one bounded buffer and
 * nothing else, and is dropped after CTL_IDLE_MS.
 */
#include "bgpa.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "opt.h"

#define CTL_REQ_MS 5000
#define CTL_IDLE_MS 30000
#define CTL_OUT (64 * 1024)

static ino_t ctl_ino; /* the socket we bound, so we remove only ours */

/* Appends one formatted line to b (lines are short; memory is bounded). */
static void __attribute__((format(printf, 2, 3)))
put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (buf_reserve(b, 4096) == -1)
		return;
	va_start(ap, fmt);
	n = vsnprintf((char *)b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		if (buf_reserve(b, (size_t)n + 1) == -1)
			return;
		va_start(ap, fmt);
		n = vsnprintf((char *)b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

static const char *
nh_str(const struct addr *a, char *buf, size_t cap)
{
	return a->family ? addr_str(a, buf, cap) : "-";
}

/* "a:b,c:d" or "-" */
static void
comms_str(const struct tag_conf *t, char *o, size_t cap, int large)
{
	size_t i, n = 0, k = large ? t->nlcomm : t->ncomm;
	int w;

	o[0] = '-', o[1] = '\0';
	for (i = 0; i < k && n < cap; i++, n += (size_t)w) {
		if (large)
			w = snprintf(o + n, cap - n, "%s%u:%u:%u", i ? "," : "",
				     t->lcomm[i][0], t->lcomm[i][1],
				     t->lcomm[i][2]);
		else
			w = snprintf(o + n, cap - n, "%s%u:%u", i ? "," : "",
				     t->comm[i] >> 16, t->comm[i] & 0xffff);
		if (w < 0)
			break;
	}
}

static void
status(struct bgpa *g, struct buf *b)
{
	static const char *input[] = {"waiting", "replaying", "complete"};
	char a[64], n4[64], n6[64], c[1024], l[1536];
	uint8_t nh4[4], nh6[16];
	struct addr x;
	size_t i;

	put(b, "bgp-announce %s %ld %lld\n", DNSTAP_BGP_VERSION, (long)getpid(),
	    (long long)g->started);
	put(b, "input %s %llu %u %u\n",
	    input[g->replaying	? 1
		  : g->eor_seen ? 2
				: 0],
	    (unsigned long long)g->n.records, g->rib.npresent[FAM4],
	    g->rib.npresent[FAM6]);
	if (g->ack_fd >= 0)
		put(b, "ack %llu %llu %zu %llu\n",
		    (unsigned long long)g->last_mark,
		    (unsigned long long)g->last_ack, g->mlen,
		    (unsigned long long)g->n.acks_dropped);
	for (i = 0; i < g->npeers; i++) {
		const struct peer *p = &g->peers[i];
		const struct peer_conf *pc = p->pc;

		update_next_hops(p, &g->cfg->tags[0], nh4, nh6);
		x.family = AF_INET;
		memcpy(x.a, nh4, 4);
		addr_str(&x, n4, sizeof n4);
		x.family = AF_INET6;
		memcpy(x.a, nh6, 16);
		addr_str(&x, n6, sizeof n6);
		put(b, "peer %s %s %u %u %s %lld %llu %llu %s %s\n", pc->name,
		    addr_str(&pc->addr, a, sizeof a), pc->port, pc->peer_as,
		    state_name(peer_state(g, p)), (long long)p->since,
		    (unsigned long long)p->nsent[FAM4],
		    (unsigned long long)p->nsent[FAM6], n4, n6);
		if (p->last_error[0])
			put(b, "lasterror %s %s\n", pc->name, p->last_error);
	}
	for (i = 0; i < g->cfg->ntags; i++) {
		const struct tag_conf *t = &g->cfg->tags[i];
		char lp[16] = "-", med[16] = "-";

		if (t->has_lp)
			snprintf(lp, sizeof lp, "%u", t->lp);
		if (t->has_med)
			snprintf(med, sizeof med, "%u", t->med);
		comms_str(t, c, sizeof c, 0);
		comms_str(t, l, sizeof l, 1);
		put(b, "tag %s %s %s %s %s %s %s\n", i ? t->name : "-",
		    nh_str(&t->nh4, n4, sizeof n4),
		    nh_str(&t->nh6, n6, sizeof n6), lp, med, c, l);
	}
	put(b, "end\n");
}

/* Does route e match c's filter? */
static int
match(const struct ctl_client *c, const struct rib_entry *e)
{
	const char *label = e->label ? e->label : "- -", *name;
	size_t taglen, nl;

	if (c->fkind == 0)
		return 1;
	if (c->fkind == 1)
		return c->fa.family == (e->fam == FAM4 ? 4 : 6) &&
		       c->fa.plen == e->plen &&
		       !memcmp(c->fa.a, e->a, e->fam == FAM4 ? 4 : 16);
	taglen = strcspn(label, " ");
	name = label + taglen + (label[taglen] ? 1 : 0);
	if (taglen == c->flen && !memcmp(label, c->ftext, taglen))
		return 1;
	nl = strlen(name);
	if (nl == c->flen && !memcmp(name, c->ftext, nl))
		return 1;
	return nl > c->flen && name[nl - c->flen - 1] == '.' &&
	       !memcmp(name + nl - c->flen, c->ftext, c->flen);
}

void
ctl_fill(struct bgpa *g, struct ctl_client *c)
{
	char pfx[64], peers[BGPA_MAX_PEERS * 65];
	struct rec_addr ra;
	size_t k, o;

	while (c->cursor != UINT32_MAX && buf_pending(&c->out) < CTL_OUT) {
		const struct rib_entry *e;

		if (c->cursor >= g->rib.n) {
			put(&c->out, "end\n");
			c->cursor = UINT32_MAX;
			break;
		}
		e = &g->rib.e[c->cursor++];
		if (!e->used || !e->present || !match(c, e))
			continue;
		rec_addr_set(&ra, e->a, e->fam == FAM4 ? 4 : 16);
		ra.plen = e->plen;
		rec_addr_format(pfx, sizeof pfx, &ra, 1);
		o = 0;
		for (k = 0; k < g->npeers; k++)
			if (e->sent & (1ULL << g->peers[k].idx))
				o += (size_t)snprintf(
				    peers + o, sizeof peers - o, "%s%s",
				    o ? "," : "", g->peers[k].pc->name);
		put(&c->out, "route %s %s %s\n", pfx,
		    e->label ? e->label : "- -", o ? peers : "-");
	}
}

void
ctl_request(struct bgpa *g, struct ctl_client *c)
{
	char *r = c->req, *arg;
	size_t n = c->reqlen, i;

	c->answering = 1;
	c->cursor = UINT32_MAX;
	while (n && (r[n - 1] == '\r' || r[n - 1] == ' '))
		n--;
	r[n] = '\0';
	if (!strcmp(r, "status")) {
		status(g, &c->out);
		return;
	}
	if (strncmp(r, "routes", 6) || (r[6] && r[6] != ' ')) {
		put(&c->out,
		    "error unknown request (status, routes [FILTER])\nend\n");
		return;
	}
	arg = r + 6 + (r[6] == ' ');
	c->fkind = 0;
	if (*arg) {
		size_t al = strlen(arg);

		if (strchr(arg, ' ') || al >= sizeof c->ftext) {
			put(&c->out, "error bad filter\nend\n");
			return;
		}
		if (rec_addr_parse(&c->fa, arg, al, 1) == 0 ||
		    rec_addr_parse(&c->fa, arg, al, 0) == 0)
			c->fkind = 1;
		else {
			/* names are kept lowercase, without the root's dot */
			if (al > 1 && arg[al - 1] == '.')
				al--;
			for (i = 0; i < al; i++)
				c->ftext[i] =
				    (char)(arg[i] >= 'A' && arg[i] <= 'Z'
					       ? arg[i] - 'A' + 'a'
					       : arg[i]);
			c->ftext[al] = '\0';
			c->flen = al;
			c->fkind = 2;
		}
	}
	c->cursor = 0;
	ctl_fill(g, c);
}

void
ctl_init(struct bgpa *g)
{
	size_t i;

	g->ctl_fd = -1;
	for (i = 0; i < CTL_MAX; i++)
		g->ctl[i].fd = -1;
}

void
ctl_open(struct bgpa *g, const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t um;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path)
		log_fatal(EXIT_PERM, "control socket %s: path too long", path);
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to create the control socket");
	if (lstat(path, &st) == 0) {
		/* Replace a dead socket, never a live one or another file. */
		if (!S_ISSOCK(st.st_mode))
			log_fatal(EXIT_TEMP,
				  "unable to listen on %s: not a "
				  "socket",
				  path);
		if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0 ||
		    errno != ECONNREFUSED)
			log_fatal(EXIT_TEMP,
				  "unable to listen on %s: another "
				  "process answers on it",
				  path);
		close(fd);
		if (unlink(path) == -1 && errno != ENOENT)
			log_fatal_sys(EXIT_TEMP, "unable to remove %s", path);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			log_fatal_sys(EXIT_TEMP,
				      "unable to create the control socket");
	}
	um = umask(0117);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		umask(um);
		log_fatal_sys(EXIT_TEMP, "unable to listen on %s", path);
	}
	umask(um);
	if (chmod(path, 0660) == -1 || listen(fd, 16) == -1 ||
	    stat(path, &st) == -1)
		log_fatal_sys(EXIT_TEMP, "unable to listen on %s", path);
	ctl_ino = st.st_ino;
	g->ctl_fd = fd;
	g->ctl_path = path;
}

static void
client_close(struct ctl_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	buf_free(&c->out);
	c->fd = -1;
}

static void
client_accept(struct bgpa *g)
{
	static const char busy[] = "error busy\nend\n";
	struct ctl_client *c = NULL;
	size_t i;
	int fd;

	fd = accept4(g->ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1)
		return;
	for (i = 0; i < CTL_MAX && !c; i++)
		if (g->ctl[i].fd < 0)
			c = &g->ctl[i];
	if (!c) {
		(void)!send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL);
		close(fd);
		return;
	}
	memset(c, 0, sizeof *c);
	c->fd = fd;
	c->cursor = UINT32_MAX;
	c->deadline = g->now + CTL_REQ_MS;
}

/* Reads the request; builds the answer once its line is complete. */
static void
client_read(struct bgpa *g, struct ctl_client *c)
{
	ssize_t k;
	char *nl;

	k = recv(c->fd, c->req + c->reqlen, sizeof c->req - 1 - c->reqlen, 0);
	if (k == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (k <= 0 && c->reqlen == 0) {
		client_close(c);
		return;
	}
	if (k > 0)
		c->reqlen += (size_t)k;
	if ((nl = memchr(c->req, '\n', c->reqlen)))
		c->reqlen = (size_t)(nl - c->req);
	else if (k > 0 && c->reqlen < sizeof c->req - 1)
		return;
	else if (k > 0) {
		put(&c->out, "error request too long\nend\n");
		c->answering = 1;
		c->cursor = UINT32_MAX;
		goto out;
	}
	/* a newline, or end of input after a request without one */
	ctl_request(g, c);
out:
	c->deadline = g->now + CTL_IDLE_MS;
}

static void
client_write(struct bgpa *g, struct ctl_client *c)
{
	ssize_t k;

	for (;;) {
		if (!buf_pending(&c->out))
			ctl_fill(g, c);
		if (!buf_pending(&c->out)) {
			client_close(c);
			return;
		}
		k = send(c->fd, c->out.p + c->out.off, buf_pending(&c->out),
			 MSG_NOSIGNAL);
		if (k == -1 && errno == EINTR)
			continue;
		if (k == -1 && errno == EAGAIN)
			return;
		if (k <= 0) {
			client_close(c);
			return;
		}
		buf_consume(&c->out, (size_t)k);
		c->deadline = g->now + CTL_IDLE_MS;
	}
}

size_t
ctl_pollfds(struct bgpa *g, struct pollfd *pfd, size_t max)
{
	size_t n = 0, i;

	if (g->ctl_fd < 0 || max == 0)
		return 0;
	pfd[n].fd = g->ctl_fd;
	pfd[n].events = POLLIN;
	pfd[n++].revents = 0;
	for (i = 0; i < CTL_MAX && n < max; i++) {
		if (g->ctl[i].fd < 0)
			continue;
		pfd[n].fd = g->ctl[i].fd;
		pfd[n].events = g->ctl[i].answering ? POLLOUT : POLLIN;
		pfd[n++].revents = 0;
	}
	return n;
}

void
ctl_events(struct bgpa *g, struct pollfd *pfd, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		if (pfd[i].fd == g->ctl_fd) {
			client_accept(g);
			continue;
		}
		for (k = 0; k < CTL_MAX; k++) {
			struct ctl_client *c = &g->ctl[k];

			if (c->fd != pfd[i].fd)
				continue;
			if (!c->answering)
				client_read(g, c);
			if (c->fd >= 0 && c->answering)
				client_write(g, c);
			break;
		}
	}
}

int64_t
ctl_timers(struct bgpa *g)
{
	int64_t next = INT64_MAX;
	size_t i;

	for (i = 0; i < CTL_MAX; i++) {
		struct ctl_client *c = &g->ctl[i];

		if (c->fd < 0)
			continue;
		if (g->now >= c->deadline) {
			client_close(c);
			continue;
		}
		if (c->deadline < next)
			next = c->deadline;
	}
	return next == INT64_MAX ? -1 : next - g->now;
}

void
ctl_close(struct bgpa *g)
{
	struct stat st;
	size_t i;

	for (i = 0; i < CTL_MAX; i++)
		client_close(&g->ctl[i]);
	if (g->ctl_fd < 0)
		return;
	close(g->ctl_fd);
	g->ctl_fd = -1;
	/* A successor may have taken the path over already: leave its. */
	if (stat(g->ctl_path, &st) == 0 && st.st_ino == ctl_ino)
		unlink(g->ctl_path);
}
