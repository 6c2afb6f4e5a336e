# migrate: dnstap-bgp-migrate, the Go daemon's configuration converted.
PROGS += dnstap-bgp-migrate
dnstap-bgp-migrate_SRCS := migrate/dnstap-bgp-migrate.c migrate/toml.c
dnstap-bgp-migrate_LIBS := -lm
MANS += migrate/dnstap-bgp-migrate.8
FUZZERS += toml
fuzz-toml_SRCS := tests/fuzz/toml.c migrate/toml.c
