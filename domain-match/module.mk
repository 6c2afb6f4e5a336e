# domain-match: the list matcher, and domain-compile, its list compiler.
PROGS += domain-match domain-compile
domain-match_SRCS := domain-match/domain-match.c domain-match/list.c
domain-match_LIBS := $(IDN2_LIBS)
domain-compile_SRCS := domain-match/domain-compile.c domain-match/list.c
domain-compile_LIBS := $(IDN2_LIBS)
FUZZERS += domain-list domain-cdb record
fuzz-domain-list_SRCS := tests/fuzz/domain-list.c domain-match/list.c
fuzz-domain-list_LIBS := $(IDN2_LIBS)
fuzz-record_SRCS := tests/fuzz/record.c
fuzz-domain-cdb_SRCS := tests/fuzz/domain-cdb.c
SCRIPTS += scripts/domain-update
MANS += domain-match/domain-match.8 domain-match/domain-compile.8 domain-match/domain-update.8
BENCHES += bench/domain-match
UNITS += dlist
unit-dlist_SRCS := tests/domain-match/dlist_test.c
