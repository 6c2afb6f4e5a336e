# route-sync: keeps kernel routes for ipcache's set.
PROGS += route-sync
route-sync_SRCS := route-sync/route-sync.c route-sync/rt.c
route-sync_CFLAGS := $(MNL_CFLAGS)
route-sync_LIBS := $(MNL_LIBS)
MANS += route-sync/route-sync.8
FUZZERS += rt-dump
fuzz-rt-dump_SRCS := tests/fuzz/rt-dump.c route-sync/rt.c
fuzz-rt-dump_LIBS := $(MNL_LIBS)
