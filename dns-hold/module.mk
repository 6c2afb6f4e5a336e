# dns-hold: a DNS relay that writes answer records and holds listed answers
# until the pipeline acknowledges their routes.
PROGS += dns-hold
MANS += dns-hold/dns-hold.8
DNSHOLD_CORE := dns-hold/packet.c dns-hold/hold.c dns-hold/cache.c
dns-hold_SRCS := dns-hold/dns-hold.c dns-hold/relay.c $(DNSHOLD_CORE)

# Unit tests of the packet checks, the hold (marks, acks, the ring) and the
# packet cache.
UNITS += dns-hold-packet dns-hold-hold dns-hold-cache
unit-dns-hold-packet_SRCS := tests/dns-hold/packet_test.c dns-hold/packet.c
unit-dns-hold-hold_SRCS := tests/dns-hold/hold_test.c dns-hold/hold.c
unit-dns-hold-cache_SRCS := tests/dns-hold/cache_test.c dns-hold/cache.c

FUZZERS += dns-hold
fuzz-dns-hold_SRCS := tests/fuzz/dns-hold.c $(DNSHOLD_CORE)

BENCHES += bench/dns-hold
