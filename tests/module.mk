# Unit tests of lib/.
UNITS += rec lineio metrics log opt dns answer hostport secret recin tagenv nl
unit-nl_SRCS := tests/unit/nl_test.c
unit-nl_LIBA := $(LIB_NL)
unit-nl_LIBS := $(MNL_LIBS)
unit-rec_SRCS := tests/unit/rec_test.c
unit-lineio_SRCS := tests/unit/lineio_test.c
unit-recin_SRCS := tests/unit/recin_test.c
unit-tagenv_SRCS := tests/unit/tagenv_test.c
unit-metrics_SRCS := tests/unit/metrics_test.c
unit-log_SRCS := tests/unit/log_test.c
unit-opt_SRCS := tests/unit/opt_test.c
unit-dns_SRCS := tests/unit/dns_test.c
unit-answer_SRCS := tests/unit/answer_test.c
# lib/sink against a simulated kernel (nft-set, route-sync).
FUZZERS += sink
fuzz-sink_SRCS := tests/fuzz/sink.c
unit-hostport_SRCS := tests/unit/hostport_test.c
unit-secret_SRCS := tests/unit/secret_test.c
