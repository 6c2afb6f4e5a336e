# nft-set: keeps nftables sets equal to ipcache's set.
PROGS += nft-set
nft-set_SRCS := nft-set/nft-set.c nft-set/nft.c
nft-set_CFLAGS := $(NFTNL_CFLAGS) $(MNL_CFLAGS)
nft-set_LIBA := $(LIB_NL)
nft-set_LIBS := $(NFTNL_LIBS) $(MNL_LIBS)
MANS += nft-set/nft-set.8
BENCHES += bench/kernel

# libFuzzer target for the ruleset's notifications (nftev_parse).
FUZZERS += nft-event
fuzz-nft-event_SRCS := tests/fuzz/nft-event.c nft-set/nft.c
fuzz-nft-event_LIBA := $(LIB_NL)
fuzz-nft-event_LIBS := $(NFTNL_LIBS) $(MNL_LIBS)
