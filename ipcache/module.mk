# ipcache: the address cache (stdin answers + peer FIFO -> announce/withdraw).
UNITS += ipcache-store
unit-ipcache-store_SRCS := tests/ipcache/store_test.c
unit-ipcache-store_LIBS := $(LMDB_LIBS)
PROGS += ipcache
ipcache_SRCS := ipcache/ipcache.c ipcache/engine.c ipcache/list.c
ipcache_LIBS := $(LMDB_LIBS)
MANS += ipcache/ipcache.8
FUZZERS += ipcache
fuzz-ipcache_SRCS := tests/fuzz/ipcache.c ipcache/engine.c
BENCHES += bench/ipcache
