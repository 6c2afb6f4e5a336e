# sync-serve: the sync server (libmicrohttpd), /fetch from ipcache's store,
# /put into ipcache's peer input.
GNUTLS_LIBS := $(call pc,libs,gnutls)
PROGS += sync-serve
sync-serve_SRCS := sync-serve/sync-serve.c sync-serve/http.c sync-serve/conn.c
sync-serve_LIBS := $(MHD_LIBS) $(GNUTLS_LIBS) $(YAJL_LIBS) $(LMDB_LIBS)
MANS += sync-serve/sync-serve.8

# A store writer for the tests and the benchmark (a self-test when run bare).
UNITS += sync-storetool
unit-sync-storetool_SRCS := tests/sync/storetool.c
unit-sync-storetool_LIBS := $(LMDB_LIBS)

# libFuzzer: raw requests through libmicrohttpd into the handlers.
FUZZERS += http-serve
fuzz-http-serve_SRCS := tests/fuzz/http-serve.c sync-serve/http.c sync-serve/conn.c
fuzz-http-serve_LIBS := $(MHD_LIBS) $(GNUTLS_LIBS) $(YAJL_LIBS) $(LMDB_LIBS)

# libFuzzer: listening addresses and tokens (lib/hostport.c, lib/secret.c).
FUZZERS += hostport
fuzz-hostport_SRCS := tests/fuzz/hostport.c
