# crisiscast: make run (start on the sample site), make check (every test,
# then again under ASan+UBSan, then the fuzz corpus once; make fuzz runs
# the fuzzers, fuzz/fuzz.mk). Both install missing Debian packages first.

PREFIX    ?= /usr/local
DESTDIR   ?=
BINDIR    ?= $(PREFIX)/bin
SBINDIR   ?= $(PREFIX)/sbin
SHAREDIR  ?= $(PREFIX)/share/crisiscast
DOCDIR    ?= $(PREFIX)/share/doc/crisiscast
UNITDIR   ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
MANDIR    ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

CC        ?= cc
# libevent as its parts: libevent_openssl needs libevent_core, and the
# all-in-one libevent holds a second copy of that code (see LDFLAGS).
PKGS      := libevent_core libevent_extra libevent_openssl libcurl sqlite3 \
             libcjson yaml-0.1 libcrypto libssl libpcre2-8
TEST_PKGS := cmocka

# Debian packages behind the pkg-config names above, plus the tools the
# tests use.
DEB_PKGS  := build-essential pkg-config libevent-dev libcurl4-openssl-dev \
             libsqlite3-dev libcjson-dev libyaml-dev libssl-dev \
             libpcre2-dev libcmocka-dev sqlite3 python3 \
             openssl curl python3-cryptography python3-aiosmtpd apprise \
             chromium fonts-ipafont-gothic nodejs libxml2-utils prometheus wrk \
             clang libclang-rt-14-dev valgrind

BUILD     ?= build
OPT       ?= -O2
SANITIZE  ?=
CFLAGS    ?= $(OPT) -g
CFLAGS    += -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
             -Wmissing-prototypes -D_GNU_SOURCE -pthread $(SANITIZE) -Ilib -Idaemon
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_CFLAGS = $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS  = $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)
# --as-needed: link only what is used. libevent_openssl.pc still names the
# all-in-one -levent, which would map a second copy of libevent's core
# (about 0.15 MB resident, and two sets of its globals).
LDFLAGS   += -pthread -Wl,--as-needed $(SANITIZE)

LIB_SRC    := $(sort $(wildcard lib/*.c))
DAEMON_SRC := $(filter-out daemon/crisisctl.c,$(sort $(wildcard daemon/*.c)))
CTL_SRC    := daemon/crisisctl.c
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))

LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/%.o)
CTL_OBJ    := $(CTL_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all run check test unit integration asan deps install clean bench crash valgrind

all: $(BUILD)/crisiscastd $(BUILD)/crisisctl systemd/crisiscastd.service

# The unit for this PREFIX, for `systemd-analyze security --offline=true
# systemd/crisiscastd.service`; install writes its own copy.
systemd/crisiscastd.service: systemd/crisiscastd.service.in
	sed 's|@SBINDIR@|$(SBINDIR)|g' $< > $@

$(BUILD)/libcrisiscast.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

# GnuTLS calls _gnutls_global_init_skip() from its constructor through the
# dynamic linker: exported even when no library we link names it.
$(BUILD)/crisiscastd: $(DAEMON_OBJ) $(BUILD)/libcrisiscast.a
	$(CC) $(LDFLAGS) -Wl,--export-dynamic-symbol=_gnutls_global_init_skip \
	    -o $@ $^ $(PKG_LIBS)

$(BUILD)/crisisctl: $(CTL_OBJ) $(BUILD)/libcrisiscast.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# bench/idle.sh's baseline: crisiscastd's libraries loaded, nothing run.
$(BUILD)/rss-floor: bench/rss_floor.c
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) \
	    -Wl,--export-dynamic-symbol=_gnutls_global_init_skip \
	    -o $@ $< $(PKG_LIBS)

$(BUILD)/%.o: %.c $(wildcard lib/*.h daemon/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcrisiscast.a $(wildcard lib/*.h) \
    tests/unit/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(TEST_CFLAGS) -o $@ $< \
	    $(BUILD)/libcrisiscast.a $(LDFLAGS) $(TEST_LIBS) $(PKG_LIBS)

# deps: install what is missing, with sudo when not root. Quiet when
# everything is there already.
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' \
	        || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	    echo "installing Debian packages:$$missing"; \
	    if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	    $$SUDO apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi

run: deps
	$(MAKE) all
	@mkdir -p state
	@echo "crisiscastd: control socket state/control.sock, outbox state/outbox.jsonl"
	@echo "in another terminal: export CRISISCAST_SOCKET=$$PWD/state/control.sock"
	$(BUILD)/crisiscastd -d -f etc/crisiscast.yaml

unit: $(UNIT_BIN)
	@tests/run-unit.sh $(UNIT_BIN)

integration: all
	@BUILD=$(abspath $(BUILD)) tests/run-integration.sh

test: unit integration

check: deps
	$(MAKE) test
	$(MAKE) asan
	$(MAKE) valgrind
	$(MAKE) fuzz-regress

# The whole suite again under AddressSanitizer and UndefinedBehaviorSanitizer.
asan:
	$(MAKE) BUILD=build/asan OPT=-O1 \
	    SANITIZE="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    test

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(SHAREDIR)/rules $(DESTDIR)$(SHAREDIR)/templates \
	    $(DESTDIR)$(DOCDIR)/examples/rosters $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR)
	install -m 755 $(BUILD)/crisiscastd $(DESTDIR)$(SBINDIR)/crisiscastd
	install -m 755 $(BUILD)/crisisctl $(DESTDIR)$(BINDIR)/crisisctl
	install -m 644 rules/*.yaml $(DESTDIR)$(SHAREDIR)/rules/
	install -m 644 templates/*.txt $(DESTDIR)$(SHAREDIR)/templates/
	install -m 644 etc/crisiscast.yaml $(DESTDIR)$(DOCDIR)/examples/
	install -m 644 etc/rosters/*.yaml $(DESTDIR)$(DOCDIR)/examples/rosters/
	install -m 644 README.md $(DESTDIR)$(DOCDIR)/
	sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/crisiscastd.service.in \
	    > $(DESTDIR)$(UNITDIR)/crisiscastd.service
	install -m 644 systemd/crisiscast.sysusers $(DESTDIR)$(SYSUSERSDIR)/crisiscast.conf
	install -m 644 systemd/crisiscast.tmpfiles $(DESTDIR)$(TMPFILESDIR)/crisiscast.conf
	install -m 644 man/crisisctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/crisiscast.yaml.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 man/crisiscastd.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 completion/crisisctl.bash $(DESTDIR)$(BASHCOMPDIR)/crisisctl

# SIGKILL at random moments, CRASH_RUNS times (tests/crash/crash.sh);
# not part of check (62-crash-random runs a short version there).
CRASH_RUNS ?= 50
crash: all
	@BUILD=$(abspath $(BUILD)) CRASH_RUNS=$(CRASH_RUNS) \
	    $(if $(CRASH_SEED),CRASH_SEED=$(CRASH_SEED)) tests/crash/crash.sh

# The integration tests that exercise the most code, with the daemon under
# valgrind memcheck (lib.sh's VALGRIND hook): zero errors, zero leaks.
# About 3 minutes with the build, so part of check.
VALGRIND_TESTS ?= 02 03 05 10 11 15 18 19 22 25 26 30
valgrind:
	$(MAKE) BUILD=build/valgrind OPT=-O1 all
	@BUILD=$(abspath build/valgrind) VALGRIND=1 TEST_TIMEOUT=600 \
	    tests/run-integration.sh $(VALGRIND_TESTS)

# Fan-out figures (bench/fanout.sh); not part of check.
# Benchmarks print `name value unit` lines; the whole run is kept in
# bench/results.txt. Not part of check: figures, not pass/fail. The last,
# bench/soak.sh, takes about 12 minutes (SOAK_SECS, SOAK_ALERTS shorten it)
# and fails if the daemon lost or stranded anything.
bench: all $(BUILD)/rss-floor
	@{ BUILD=$(abspath $(BUILD)) bench/idle.sh && \
	    BUILD=$(abspath $(BUILD)) bench/fanout.sh && \
	    BUILD=$(abspath $(BUILD)) bench/confirm.sh && \
	    BUILD=$(abspath $(BUILD)) bench/soak.sh; } >bench/results.txt; \
	    rc=$$?; cat bench/results.txt; exit $$rc

include fuzz/fuzz.mk

clean:
	rm -rf build systemd/crisiscastd.service
