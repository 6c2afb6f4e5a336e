# dnstap-bgp: one hand-written GNU Makefile.
#
#   make                 build every program into build/bin
#   make check           build with AddressSanitizer + UBSan (build-san/) and
#                        run the whole suite; SANITIZE=0 runs it on build/
#   make bench           benchmarks (figures go into BENCHMARKS.md)
#   make fuzz            each libFuzzer target for FUZZ_SECONDS (build-fuzz/)
#   make install         PREFIX=/usr/local DESTDIR=
#   make deb             a Debian package in build-deb/ (dpkg-buildpackage)
#   make clean, make format
#
# Every program directory has a module.mk that adds to PROGS, UNITS and
# FUZZERS; the rules below build them all the same way.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/dnstap-bgp
MANDIR ?= $(PREFIX)/share/man
SHAREDIR ?= $(PREFIX)/share/dnstap-bgp
SYSCONFDIR ?= $(PREFIX)/etc
CONFDIR ?= $(SYSCONFDIR)/dnstap-bgp
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR ?= $(PREFIX)/share/doc/dnstap-bgp
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR ?=

CC ?= cc
PKG_CONFIG ?= pkg-config
FUZZ_SECONDS ?= 10
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wcast-qual -Wformat=2
ifeq ($(WERROR),1)
WARN += -Werror
endif

CFLAGS ?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -Ilib
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) $(SAN_CFLAGS)

ifeq ($(FUZZ),1)
O ?= build-fuzz
CC := clang
SAN_CFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -O1 -g
SAN_LDFLAGS := -fsanitize=address,undefined
else ifeq ($(SANITIZE),1)
O ?= build-san
SAN_CFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
SAN_LDFLAGS := $(SAN_CFLAGS)
else
O ?= build
endif

pc = $(shell $(PKG_CONFIG) --$(1) $(2) 2>/dev/null)
FSTRM_CFLAGS := $(call pc,cflags,libfstrm)
FSTRM_LIBS := $(call pc,libs,libfstrm)
PROTOBUF_CFLAGS := $(call pc,cflags,libprotobuf-c)
PROTOBUF_LIBS := $(call pc,libs,libprotobuf-c)
BSD_CFLAGS := $(call pc,cflags,libbsd-overlay)
BSD_LIBS := $(call pc,libs,libbsd-overlay)
CURL_CFLAGS := $(call pc,cflags,libcurl)
CURL_LIBS := $(call pc,libs,libcurl)
CDB_LIBS := -lcdb
LMDB_LIBS := -llmdb
IDN2_LIBS := $(call pc,libs,libidn2)
YAJL_LIBS := $(call pc,libs,yajl)
MHD_LIBS := $(call pc,libs,libmicrohttpd)
NFTNL_CFLAGS := $(call pc,cflags,libnftnl)
NFTNL_LIBS := $(call pc,libs,libnftnl)
MNL_CFLAGS := $(call pc,cflags,libmnl)
MNL_LIBS := $(call pc,libs,libmnl)

CPPFLAGS += $(BSD_CFLAGS)
BASE_LIBS := $(BSD_LIBS) $(CDB_LIBS)

PROGS :=
SCRIPTS :=
MANS :=
GEN_MANS :=
UNITS :=
FUZZERS :=
BENCHES :=

# lib/nl.c needs libmnl: it is a library of its own, which the programs
# that use netlink name in their NAME_LIBA (with $(MNL_LIBS) in NAME_LIBS),
# so that no other program needs libmnl to build or link.
LIB_NL_SRCS := lib/nl.c
LIB_SRCS := $(filter-out $(LIB_NL_SRCS),$(wildcard lib/*.c))
LIB := $(O)/lib/libdnstapbgp.a
LIB_NL := $(O)/lib/libdnstapbgp-nl.a

all: programs mans

include $(sort $(wildcard */module.mk))

programs: $(PROGS:%=$(O)/bin/%)

mans: $(GEN_MANS)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $($(firstword $(subst /, ,$<))_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_SRCS:%.c=$(O)/%.o)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(LIB_NL): $(LIB_NL_SRCS:%.c=$(O)/%.o)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^
$(LIB_NL_SRCS:%.c=$(O)/%.o): CPPFLAGS += $(MNL_CFLAGS)

# $(1): program name, built from $(1)_SRCS and linked with the libraries
# $(1)_LIBA (of this tree: $(LIB_NL)), $(LIB) and $(1)_LIBS.
define prog_rule
$(O)/bin/$(1): $$(patsubst %.c,$(O)/%.o,$$($(1)_SRCS)) $$($(1)_LIBA) $(LIB)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) $(SAN_LDFLAGS) -o $$@ $$^ $$($(1)_LIBS) $(BASE_LIBS)
endef
$(foreach p,$(PROGS),$(eval $(call prog_rule,$(p))))

# Unit tests: $(O)/tests/unit-NAME from unit-NAME_SRCS.
define unit_rule
$(O)/tests/unit-$(1): $$(patsubst %.c,$(O)/%.o,$$(unit-$(1)_SRCS)) $$(unit-$(1)_LIBA) $(LIB)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) $(SAN_LDFLAGS) -o $$@ $$^ $$(unit-$(1)_LIBS) $(BASE_LIBS)
endef
$(foreach u,$(UNITS),$(eval $(call unit_rule,$(u))))

# libFuzzer targets: $(O)/fuzz/fuzz-NAME from fuzz-NAME_SRCS (FUZZ=1 only).
define fuzz_rule
$(O)/fuzz/fuzz-$(1): $$(patsubst %.c,$(O)/%.o,$$(fuzz-$(1)_SRCS)) $$(fuzz-$(1)_LIBA) $(LIB)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -fsanitize=fuzzer $(SAN_LDFLAGS) -o $$@ $$^ $$(fuzz-$(1)_LIBS) $(BASE_LIBS)
endef
$(foreach f,$(FUZZERS),$(eval $(call fuzz_rule,$(f))))

units: $(UNITS:%=$(O)/tests/unit-%)

check:
	@$(MAKE) --no-print-directory -j$(JOBS) SANITIZE=$(if $(SANITIZE),$(SANITIZE),1) check-suite

check-suite: programs units mans
	BUILD=$(O) JOBS=$(JOBS) tests/run $(TESTS)

fuzz:
	@$(MAKE) --no-print-directory -j$(JOBS) FUZZ=1 fuzz-run

fuzz-run: $(FUZZERS:%=$(O)/fuzz/fuzz-%)
	BUILD=$(O) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz-run $(FUZZERS)

bench: programs
	BUILD=$(O) tests/bench-run $(BENCHES)

# Programs and scripts go to LIBEXECDIR (BIND's bind9-dnsutils owns
# /usr/bin/dnstap-read): run them through BINDIR/dnstap-bgp, or with
# LIBEXECDIR first in PATH. Service directories (runit, s6) and the systemd
# units and the cron.d example get the install paths substituted; the default configuration (the
# envdirs) goes to SHAREDIR/conf and, unless CONFDIR/env exists, to CONFDIR.
SERVICE_FILES := $(wildcard scripts/runit/*/run scripts/runit/*/log/run \
	scripts/s6/*/run scripts/s6/*/log/run scripts/runit/*/down scripts/s6/*/down \
	scripts/runit/*/finish scripts/s6/*/finish)
VERSION := $(shell sed -n 's/^\#define DNSTAP_BGP_VERSION "\(.*\)"/\1/p' lib/opt.h)
INSTALL_SUBST = sed -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' -e 's|@CONFDIR@|$(CONFDIR)|g' \
	-e 's|@VERSION@|$(VERSION)|g' -e 's|@SHAREDIR@|$(SHAREDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g'
MAN_SECTIONS = $(sort $(subst .,,$(suffix $(MANS) $(GEN_MANS))))

install: programs mans
	install -d $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSTEMDDIR) \
		$(MAN_SECTIONS:%=$(DESTDIR)$(MANDIR)/man%)
	$(foreach p,$(PROGS),install -m 755 $(O)/bin/$(p) $(DESTDIR)$(LIBEXECDIR);)
	set -e; for s in $(SCRIPTS); do \
		$(INSTALL_SUBST) $$s > $(DESTDIR)$(LIBEXECDIR)/$${s##*/}; \
		chmod 755 $(DESTDIR)$(LIBEXECDIR)/$${s##*/}; done
	set -e; for m in $(MANS) $(GEN_MANS); do d=$(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}; \
		$(INSTALL_SUBST) $$m > $$d; chmod 644 $$d; done
	$(INSTALL_SUBST) scripts/dnstap-bgp > $(DESTDIR)$(BINDIR)/dnstap-bgp
	chmod 755 $(DESTDIR)$(BINDIR)/dnstap-bgp
	set -e; for f in $(SERVICE_FILES); do \
		d=$(DESTDIR)$(SHAREDIR)/$${f#scripts/}; install -d $${d%/*}; \
		$(INSTALL_SUBST) $$f > $$d; if [ -x $$f ]; then chmod 755 $$d; else chmod 644 $$d; fi; done
	install -d $(DESTDIR)$(BASHCOMPDIR)
	$(INSTALL_SUBST) scripts/dnstap-bgp.bash > $(DESTDIR)$(BASHCOMPDIR)/dnstap-bgp
	chmod 644 $(DESTDIR)$(BASHCOMPDIR)/dnstap-bgp
	set -e; for p in $(filter-out dnstap-read,$(PROGS)) $(filter-out dnstap-bgp-%,$(notdir $(SCRIPTS))) dnstap-bgp-run; do \
		ln -sf dnstap-bgp $(DESTDIR)$(BASHCOMPDIR)/$$p; done
	install -d $(DESTDIR)$(DOCDIR)/examples
	install -m 644 docs/*.md $(DESTDIR)$(DOCDIR)
	install -m 644 docs/examples/* $(DESTDIR)$(DOCDIR)/examples
	install -d $(DESTDIR)$(SHAREDIR)/cron.d
	$(INSTALL_SUBST) scripts/cron/dnstap-bgp > $(DESTDIR)$(SHAREDIR)/cron.d/dnstap-bgp
	set -e; for f in scripts/systemd/*; do \
		$(INSTALL_SUBST) $$f > $(DESTDIR)$(SYSTEMDDIR)/$${f##*/}; \
		chmod 644 $(DESTDIR)$(SYSTEMDDIR)/$${f##*/}; done
	set -e; for d in $(DESTDIR)$(SHAREDIR)/conf $(if $(wildcard $(DESTDIR)$(CONFDIR)/env),,$(DESTDIR)$(CONFDIR)); do \
		for e in scripts/conf/*; do install -d $$d/$${e##*/}; \
			install -m 644 $$e/* $$d/$${e##*/}; done; done

# A .deb with dpkg-buildpackage (debian/), built in a copy of the tree
# under build-deb/ so that its results stay out of the tree's parent.
deb:
	rm -rf build-deb
	mkdir -p build-deb/src
	tar -cf - --exclude=./build --exclude=./build-san --exclude=./build-fuzz \
		--exclude=./build-deb --exclude=./.git . | tar -xf - -C build-deb/src
	cd build-deb/src && dpkg-buildpackage -b -us -uc > ../build.log 2>&1 || \
		{ tail -n 30 ../build.log; exit 1; }
	@ls build-deb/*.deb

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san build-fuzz build-deb

.PHONY: all programs mans units check check-suite fuzz fuzz-run bench install deb format clean

-include $(shell find $(O) -name '*.d' 2>/dev/null)
