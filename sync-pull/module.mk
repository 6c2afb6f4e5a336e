# sync-pull: pulls peers' caches over HTTP (libcurl), streams the JSON (yajl).
PROGS += sync-pull
sync-pull_SRCS := sync-pull/sync-pull.c
sync-pull_LIBS := $(CURL_LIBS) $(YAJL_LIBS) $(LMDB_LIBS)
MANS += sync-pull/sync-pull.8

# The Go wire format (lib/sync.c), and its fuzz target.
UNITS += sync
unit-sync_SRCS := tests/sync/sync_test.c
unit-sync_LIBS := $(YAJL_LIBS)
FUZZERS += sync-json
fuzz-sync-json_SRCS := tests/fuzz/sync-json.c
fuzz-sync-json_LIBS := $(YAJL_LIBS)

# Full and incremental sync of a 1,000,000-entry cache (BENCHMARKS.md).
BENCHES += bench/sync
