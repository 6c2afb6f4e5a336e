/*
 * bgpa.h: the parts of bgp-announce shared between its files.
 *
 *   config.c   peers and per-tag attributes from the environment (-n prints)
 *   msg.c      BGP wire format: message framing, OPEN/UPDATE/NOTIFICATION
 *              parsing (the libFuzzer target) and byte buffers
 *   rib.c      the routing table: the set of prefixes to announce, the one
 *              source of truth; per peer only "sent" and "queued" bits
 *   update.c   turns a peer's queued prefixes into packed UPDATE messages
 *   session.c  per-peer TCP connection and RFC 4271 state machine
 *   ctl.c      the control socket: status and routes for people
 *   barrier.c  marks in, acks out once the peers' TCP has taken the UPDATEs
 *   restart.c  which peers may hold our routes across a restart (R bit)
 *   bgp-announce.c  main: options, the poll loop, stdin records, signals
 */
#ifndef BGPA_H
#define BGPA_H

#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "rec.h"

#define BGPA_MAX_PEERS 64
#define BGPA_MAX_TAGS 256
#define BGPA_MAX_LISTEN 8
#define BGPA_MAX_COMMS 64
#define BGPA_MAX_LCOMMS 32

#define BGP_HDR_LEN 19
#define BGP_MAX_LEN 4096
#define BGP_PORT 179
#define AS_TRANS 23456

enum bgp_type {
	BGP_OPEN = 1,
	BGP_UPDATE = 2,
	BGP_NOTIFICATION = 3,
	BGP_KEEPALIVE = 4,
	BGP_ROUTE_REFRESH = 5,
};

/* Address families we speak: index 0 IPv4 unicast, 1 IPv6 unicast. */
enum { FAM4 = 0, FAM6 = 1, NFAM = 2 };

/* ---- msg.c ---- */

struct buf {
	uint8_t *p;
	size_t off, len, cap;  /* unsent bytes are p[off..len) */
	uint64_t added, taken; /* bytes ever added and consumed */
};

int buf_reserve(struct buf *b, size_t n);
/* Appends; -1 only when memory runs out. */
int buf_add(struct buf *b, const void *data, size_t n);
/* Counts n bytes written in place after buf_reserve() as added. */
void buf_commit(struct buf *b, size_t n);
void buf_consume(struct buf *b, size_t n);
size_t buf_pending(const struct buf *b);
void buf_free(struct buf *b);

/* A NOTIFICATION to send, filled in by the parsers on error. */
struct bgp_err {
	uint8_t code, subcode;
	uint8_t data[32]; /* the offending bytes, as many as fit */
	uint8_t datalen;
	const char *why;
};

struct bgp_open {
	uint8_t version;
	uint16_t my_as;
	uint16_t hold;
	uint32_t id;
	uint32_t as4; /* the 4-octet AS capability, or my_as */
	int has_as4;
	int has_mp;	   /* any multiprotocol capability at all */
	int fam[NFAM];	   /* multiprotocol unicast IPv4 / IPv6 */
	int route_refresh; /* RFC 2918 or the old Cisco code 128 */
	int gr;		   /* graceful restart capability present */
	unsigned unknown_caps;
};

/*
 * Checks the header of the message at b[0..n). Returns its length when the
 * whole message is there, 0 when more bytes are needed, -1 on a bad header
 * (e filled: marker, length, type).
 */
int bgp_frame(const uint8_t *b, size_t n, struct bgp_err *e);
/* Body parsers (after the 19-byte header). 0, or -1 with e filled. */
int bgp_parse_open(const uint8_t *p, size_t n, struct bgp_open *o,
		   struct bgp_err *e);
/* RFC 7606's handlings of an UPDATE error short of a session reset. */
enum upd_action { UPD_OK = 0, UPD_DISCARD = 1, UPD_WITHDRAW = 2 };

struct bgp_update {
	unsigned nannounce, nwithdraw; /* prefixes */
	int eor;		       /* an End-of-RIB marker */
	enum upd_action action;	       /* the strongest an error asked for */
	struct bgp_err err;	       /* that error (code 3), for the log */
	unsigned ndiscard;	       /* attributes discarded */
};

/*
 * Checks an UPDATE (as4: 4-octet AS numbers negotiated) and counts its
 * prefixes. -1 when it calls for a session reset (e filled: the lengths
 * that locate its fields, its NLRI, a multiprotocol attribute, an unknown
 * well-known attribute); otherwise 0, and u->action says whether RFC 7606
 * would withdraw its routes or drop attributes.
 */
int bgp_parse_update(const uint8_t *p, size_t n, int as4, struct bgp_update *u,
		     struct bgp_err *e);
int bgp_parse_refresh(const uint8_t *p, size_t n, int *fam, struct bgp_err *e);
/* A NOTIFICATION's code and subcode as text ("hold timer expired"). */
const char *bgp_err_name(uint8_t code, uint8_t subcode);
/* Writes a header for a message of total length len and type. */
void bgp_put_header(uint8_t *p, size_t len, uint8_t type);
int bgp_prefix_bytes(uint8_t plen);

/* ---- config.c ---- */

struct addr {
	int family; /* 0 none, AF_INET, AF_INET6 */
	uint8_t a[16];
};

struct tag_conf {
	char name[REC_TAG_MAX + 1]; /* "" for the defaults */
	struct addr nh4, nh6;
	uint32_t comm[BGPA_MAX_COMMS];
	size_t ncomm;
	uint32_t lcomm[BGPA_MAX_LCOMMS][3];
	size_t nlcomm;
	int has_lp, has_med;
	uint32_t lp, med;
};

struct peer_conf {
	char name[64];
	struct addr addr;
	uint16_t port;
	uint32_t peer_as, local_as, router_id;
	struct addr source;
	struct addr nh4, nh6; /* the peer's default next hops */
	uint16_t hold;
	char password[81];
	int passive;
	int ttl_security;      /* GTSM: hops allowed, 0 off */
	uint16_t gr_time;      /* graceful restart time, 0: no capability */
	uint16_t open_timeout; /* bound on OpenSent and OpenConfirm, s */
};

struct config {
	struct peer_conf peers[BGPA_MAX_PEERS];
	size_t npeers;
	struct tag_conf
	    tags[BGPA_MAX_TAGS]; /* [0]: defaults, "-" and unknown */
	size_t ntags;
	struct addr listen[BGPA_MAX_LISTEN];
	uint16_t listen_port[BGPA_MAX_LISTEN];
	size_t nlisten;
};

/* Reads the environment into c. 0, or -1 with a message in err. */
int config_load(struct config *c, char *err, size_t errlen);
/* The configuration normalized, as the environment that reproduces it. */
void config_print(const struct config *c);
/*
 * Variables in the environment that configure nothing: PEER_x_KEY and
 * TAG_x_KEY of no such peer or tag or key, near misses of the known names
 * (GRACEFULL_RESTART). One problem each into pb; returns how many.
 */
struct config_problem {
	char msg[200];
	int unlisted; /* a known key of a peer or tag not listed */
};
size_t config_unknown(const struct config *c, struct config_problem *pb,
		      size_t max);
/* The tag index for a record's tag (0 when not configured). */
uint16_t config_tag(const struct config *c, const char *tag);
int addr_parse(struct addr *a, const char *s);
const char *addr_str(const struct addr *a, char *buf, size_t cap);

/* ---- rib.c ---- */

struct rib_entry {
	uint8_t a[16];
	uint8_t fam; /* FAM4, FAM6 */
	uint8_t plen;
	uint8_t present; /* to be announced */
	uint8_t used;	 /* slot in use */
	uint16_t tag;
	uint32_t gen;	 /* replay generation of the last announce */
	char *label;	 /* "TAG NAME" of the last announce, for people */
	uint64_t sent;	 /* per peer: announced to it and not withdrawn */
	uint64_t queued; /* per peer: on its queue */
};

struct rib {
	struct rib_entry *e;
	uint32_t n, cap;
	uint32_t *free;
	uint32_t nfree, freecap;
	uint32_t *slot; /* hash: index + 1, 0 empty */
	uint32_t nslot, nused;
	uint32_t present; /* count */
	uint32_t npresent[NFAM];
	uint32_t gen;
};

int rib_init(struct rib *r);
void rib_destroy(struct rib *r);
/* Index of the prefix, or UINT32_MAX. */
uint32_t rib_find(const struct rib *r, int fam, const uint8_t *a, uint8_t plen);
/* Finds or adds; UINT32_MAX when out of memory. */
uint32_t rib_get(struct rib *r, int fam, const uint8_t *a, uint8_t plen);
/* Frees the entry when nothing refers to it any more. */
void rib_maybe_free(struct rib *r, uint32_t i);
/* Sets the entry's "TAG NAME" label (tag "" is "-"). -1: out of memory. */
int rib_label(struct rib *r, uint32_t i, const char *tag, size_t taglen,
	      const char *name, size_t namelen);

/* ---- session.c / update.c ---- */

enum peer_state {
	ST_IDLE,
	ST_CONNECT,
	ST_ACTIVE,
	ST_OPENSENT,
	ST_OPENCONFIRM,
	ST_ESTABLISHED,
};

struct conn {
	int fd;
	enum peer_state state;
	int inbound;
	struct buf in, out;
	struct bgp_open open; /* the peer's, once received */
	/* timers: monotonic ms, 0 when not running */
	int64_t t_connect; /* Connect: the TCP handshake's bound */
	int64_t t_open;	   /* OpenSent, OpenConfirm: whatever the hold time */
	int64_t t_hold;	   /* OpenConfirm, Established: negotiated hold */
	int64_t t_keepalive;
	uint16_t hold;	   /* negotiated, seconds */
	struct addr local; /* our address on this connection */
};

struct peer {
	struct peer_conf *pc;
	int idx;	  /* bit in rib_entry.sent/queued */
	struct conn c;	  /* the session (or the outgoing attempt) */
	struct conn in;	  /* an incoming connection racing c (collision) */
	int64_t retry_at; /* next connect attempt */
	int backoff;	  /* seconds */
	int64_t up_since;
	int as4, fam[NFAM], rr;
	/* sync state, valid in ESTABLISHED */
	uint32_t *q;
	size_t qhead, qlen, qcap;
	uint64_t q_pushed, q_popped; /* entries ever queued, ever taken */
	uint64_t walks;		     /* full-table walks finished */
	/* barrier.c: what each pending mark waits for from this peer */
	struct ckpt {
		uint64_t seq;	/* the mark's */
		uint64_t qpos;	/* q_popped must reach this */
		uint64_t walk;	/* walks must reach this */
		uint64_t bytes; /* then the peer's TCP must ack c.out to here */
	} * ck;
	size_t ckhead, cklen, ckcap; /* a ring */
	uint32_t cursor; /* full-table walk position, UINT32_MAX when done */
	int eor_sent;
	/* ROUTE-REFRESH: one resend per family per RR_MIN_MS, the rest merged
	 */
	int64_t rr_next[NFAM];
	int rr_pending[NFAM];
	uint8_t *attr[BGPA_MAX_TAGS][NFAM]; /* path attributes per tag */
	uint16_t attrlen[BGPA_MAX_TAGS][NFAM];
	uint64_t nsent[NFAM]; /* prefixes announced to it now */
	int restart_bit;      /* RFC 4724 R bit in our OPEN: we restarted */
	int gr_held;	      /* it may hold our routes (graceful restart) */
	int64_t since; /* wall s: established, or the last session's end */
	uint64_t m_state, m_since; /* for the metrics file */
	/* counters */
	uint64_t msgs_in, msgs_out, updates_out, pfx_announced, pfx_withdrawn;
	uint64_t notif_in, notif_out;
	char last_error[96];
};

/* A client of the control socket (ctl.c). */
struct ctl_client {
	int fd;
	int answering;	  /* request read, answer being written */
	int64_t deadline; /* ms: request due, or progress due */
	char req[1024];
	size_t reqlen;
	struct buf out;
	uint32_t cursor; /* routes: next table index, UINT32_MAX when done */
	int fkind;	 /* routes filter: 0 none, 1 prefix, 2 text */
	struct rec_addr fa;
	char ftext[REC_NAME_MAX];
	size_t flen;
};
#define CTL_MAX 8

struct bgpa {
	struct config *cfg;
	struct rib rib;
	struct peer peers[BGPA_MAX_PEERS];
	size_t npeers;
	int listen_fd[BGPA_MAX_LISTEN];
	int eor_seen;	      /* the input has completed a full-state replay */
	int replaying;	      /* between replay and eor */
	int shutting;	      /* withdraw-all shutdown: no reconnects */
	int64_t now;	      /* ms, monotonic */
	int64_t started;      /* wall s */
	uint8_t minlen[NFAM]; /* shortest prefix announced (-L) */
	/* barrier.c */
	int ack_fd;	   /* -A, or -1 */
	int64_t settle_us; /* -D: wait this long after the TCP ack */
	uint64_t mark_seq; /* marks read */
	struct mark {
		uint64_t seq, n;
		int had_peers; /* some peer was Established at the mark */
		int64_t ready; /* mono us: ackable from then (settle), 0 */
	} * marks;
	size_t mhead, mlen, mcap; /* a ring */
	uint64_t last_mark, last_ack;
	int ctl_fd; /* control socket, -1 without -S */
	const char *ctl_path;
	struct ctl_client ctl[CTL_MAX];
	struct bgp_counters {
		uint64_t peers_up, updates, announced, withdrawn, notif_out,
		    notif_in, errors, records, bad_records, msgs_in, msgs_out,
		    bytes_out, sessions, table, refused, upd_withdrawn,
		    attr_discarded, refused_records, marks, acks, acks_dropped;
	} n;
};

void session_init(struct bgpa *g);
/* Poll set: fills up to max pollfds with the peers' sockets and listener. */
size_t session_pollfds(struct bgpa *g, struct pollfd *pfd, size_t max);
void session_events(struct bgpa *g, struct pollfd *pfd, size_t n);
/* Timers: connects, keepalives, hold timers. Returns ms until the next. */
int64_t session_timers(struct bgpa *g);
/* Writes what is queued; drains rib changes into UPDATEs as room allows. */
void session_output(struct bgpa *g);
/* 1 when some peer has table work that fits into its output now. */
int session_busy(const struct bgpa *g);
void session_stats(const struct bgpa *g);
/* Cease to every peer and close (shutdown with withdrawal). */
void session_close_all(struct bgpa *g, int cease);
/* Output still unsent to established peers. */
size_t session_unsent(const struct bgpa *g);
const char *state_name(enum peer_state s);

/* The peer's state as RFC 4271 names it (no connection: idle or active). */
enum peer_state peer_state(const struct bgpa *g, const struct peer *p);

/* ctl.c */
void ctl_init(struct bgpa *g);
/* Listens on path (mode 0660); exits 111 when it cannot. */
void ctl_open(struct bgpa *g, const char *path);
size_t ctl_pollfds(struct bgpa *g, struct pollfd *pfd, size_t max);
void ctl_events(struct bgpa *g, struct pollfd *pfd, size_t n);
/* Drops clients past their deadline; ms until the next one, -1 none. */
int64_t ctl_timers(struct bgpa *g);
/* Closes every client and the socket, and removes it. */
void ctl_close(struct bgpa *g);
/* Builds the answer to the request line in c->req (for tests: no socket). */
void ctl_request(struct bgpa *g, struct ctl_client *c);
/* Adds route lines to c->out up to its bound, then "end". */
void ctl_fill(struct bgpa *g, struct ctl_client *c);

/* barrier.c */
/* Opens the acknowledgement channel (a FIFO, created when missing). */
void barrier_open(struct bgpa *g, const char *path, int64_t settle_us);
/* A mark N read from stdin, after every record before it was applied. */
void barrier_mark(struct bgpa *g, uint64_t n);
/* p's queue or table walk moved on: marks learn their byte positions. */
void barrier_progress(struct bgpa *g, struct peer *p);
/* p's session ended: it holds no mark back any more. */
void barrier_peer_down(struct bgpa *g, struct peer *p);
/* Writes the acks that are due; us until it must look again, -1 none. */
int64_t barrier_check(struct bgpa *g);
void barrier_close(struct bgpa *g);

/* restart.c */
/* Reads the restart state file: which peers get the R bit. */
void restart_open(struct bgpa *g, const char *path);
/* p is Established; peer_gr: it advertised graceful restart. */
void restart_established(struct bgpa *g, struct peer *p, int peer_gr);
/* Keeps the file's "alive" time current; ms until next, -1 none. */
int64_t restart_timer(struct bgpa *g);
/* At exit (before the sessions close): withdrawn with -w or not. */
void restart_exit(struct bgpa *g, int withdrawn);

/* update.c */
/* A prefix changed: queue it for every established peer. */
void update_changed(struct bgpa *g, uint32_t i);
/* Session established: build attributes, start the full-table walk. */
int update_start(struct bgpa *g, struct peer *p);
/* Session down: forget what was sent, empty the queue. */
void update_stop(struct bgpa *g, struct peer *p);
/* Fills p's output up to its limit. */
void update_drain(struct bgpa *g, struct peer *p);
/* 1 when p has queued work (queue, table walk, or End-of-RIB due). */
int update_pending(const struct bgpa *g, const struct peer *p);
/* Resends family fam's table to p from the start (ROUTE-REFRESH). */
void update_refresh(struct bgpa *g, struct peer *p, int fam);
/* The next hops p's routes of tag t carry. */
void update_next_hops(const struct peer *p, const struct tag_conf *t,
		      uint8_t nh4[4], uint8_t nh6[16]);

#endif
