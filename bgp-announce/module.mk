# bgp-announce: the BGP speaker.
PROGS += bgp-announce
bgp-announce_SRCS := bgp-announce/bgp-announce.c bgp-announce/config.c \
	bgp-announce/msg.c bgp-announce/rib.c bgp-announce/session.c \
	bgp-announce/update.c bgp-announce/ctl.c bgp-announce/barrier.c \
	bgp-announce/restart.c
MANS += bgp-announce/bgp-announce.8
FUZZERS += bgp-msg
fuzz-bgp-msg_SRCS := tests/fuzz/bgp-msg.c bgp-announce/msg.c
FUZZERS += bgp-ctl
fuzz-bgp-ctl_SRCS := tests/fuzz/bgp-ctl.c bgp-announce/ctl.c \
	bgp-announce/config.c bgp-announce/update.c bgp-announce/session.c \
	bgp-announce/rib.c bgp-announce/msg.c bgp-announce/barrier.c \
	bgp-announce/restart.c
FUZZERS += bgp-config
fuzz-bgp-config_SRCS := tests/fuzz/bgp-config.c bgp-announce/config.c \
	bgp-announce/restart.c
BENCHES += bench/bgp-announce bench/bgp-announce-ack
UNITS += bgp-announce-update
unit-bgp-announce-update_SRCS := tests/bgp-announce/update_test.c \
	bgp-announce/update.c bgp-announce/rib.c bgp-announce/msg.c \
	bgp-announce/barrier.c
UNITS += bgp-announce-msg
unit-bgp-announce-msg_SRCS := tests/bgp-announce/msg_test.c bgp-announce/msg.c
