/*
 * answer: the `answer` records of one DNS response (docs/records.md), as
 * dnstap-read and dns-hold both write them.
 *
 * One record per A/AAAA answer that dns_answers() attributed to the
 * question: "answer TIME QNAME ADDR TTL - CHAIN\n", QNAME the question name
 * and CHAIN the CNAME names from it to the address's owner, in the canonical
 * presentation form (lowercase, \DDD escapes). The time, the question and
 * the chain are formatted once per response, the addresses and TTLs without
 * stdio.
 *
 * The output of one response is bounded: a response can name 255-byte
 * names made only of escaped bytes (4 characters each) and repeat a
 * 16-name chain for every address, so 20 KB of DNS would otherwise become
 * 15 MB of records. A record longer than ANSWER_LINE_MAX is not written,
 * nor anything past ANSWER_RECORDS_MAX records or ANSWER_BYTES_MAX bytes;
 * what was left out is counted in answer_fmt.dropped.
 */
#ifndef ANSWER_H
#define ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"
#include "rec.h"

#define ANSWER_RECORDS_MAX 256 /* records written per response */
#define ANSWER_LINE_MAX 2048   /* bytes of one record, newline included */
#define ANSWER_BYTES_MAX 32768 /* bytes of all records of one response */

struct answer_fmt {
	/* After answer_format: the question and the chain names in record
	 * form; chain name k is chain[ends[k] + (k > 0)..ends[k + 1]). */
	char qname[REC_NAME_MAX];
	size_t qname_len;
	char chain[DNS_CHAIN_MAX * REC_NAME_MAX];
	size_t ends[DNS_CHAIN_MAX + 1];
	unsigned nchain;
	unsigned nrec;	  /* records written */
	unsigned dropped; /* records left out by the bounds */
};

/*
 * Writes the records of the parsed response a, stamped time_us
 * (microseconds since the epoch), into out[0..cap) as whole lines; *len is
 * set to the bytes written (ANSWER_BYTES_MAX of cap is always enough).
 * 0, or -1 when a name of a cannot be written (not a wire name).
 */
int answer_format(struct answer_fmt *f, const struct dns_answers *a,
		  int64_t time_us, char *out, size_t cap, size_t *len);

#endif
