# dkimrot — GNU make.  `make`, `make check`, `make SANITIZE=1 check`.
# Every build product goes under $(BUILD) so that several trees (or
# several sanitizer builds) never share objects.

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
DESTDIR    ?=
BUILD      ?= build
VERSION    := 0.1.0

CC       ?= cc
PKGS     := openssl libgit2 libssh2 yaml-0.1 rpm createrepo_c ldns opendkim zlib \
            libarchive
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
            -Wshadow -Wstrict-prototypes -Wmissing-prototypes -I. \
            -DDKIMROT_VERSION='"$(VERSION)"' \
            $(shell pkg-config --cflags $(PKGS))
LDLIBS   += $(filter-out -L,$(shell pkg-config --libs $(PKGS))) -lrpmbuild -lrpmsign -lpthread
TEST_LDLIBS := $(shell pkg-config --libs cmocka)

ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
BUILD   := $(BUILD)-san
endif

LIB_SRC  := $(sort $(wildcard common/*.c keygen/*.c rotator/*.c packaging/*.c check/*.c))
# The spec templates are compiled in (packaging/rpm.h: dk_spec_*[]).
SPEC_IN  := $(sort $(wildcard specs/*.spec.in))
GEN_OBJ  := $(BUILD)/gen/specs.o
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(GEN_OBJ)
UNIT_SRC := $(sort $(wildcard tests/unit/t_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/f_*.c))
FUZZ_REPLAY := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/replay/%)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
# Small programs on top of libdk.a that the shell tests drive.
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
BIN      := $(BUILD)/dkimrot
# The crash tests' binary: the same sources with the fault points of
# common/fault.h compiled in, objects apart.  Never installed.
FAULT_BIN := $(BUILD)/dkimrot-faults
FAULT_OBJ := $(patsubst %.c,$(BUILD)/faults/%.o,dkimrot.c $(LIB_SRC)) $(GEN_OBJ)

.PHONY: bench-year all check check-unit check-cli check-e2e check-sim check-fuzz soak \
        check-valgrind fuzz bench install uninstall clean demo rpm deb \
        check-self

all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/gen/specs.c: $(SPEC_IN) scripts/embed.awk
	@mkdir -p $(dir $@)
	awk -f scripts/embed.awk $(SPEC_IN) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libdk.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(BIN): $(BUILD)/dkimrot.o $(BUILD)/libdk.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/faults/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DDK_FAULTS -MMD -MP -c -o $@ $<

$(FAULT_BIN): $(FAULT_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libdk.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libdk.a $(LDLIBS) $(TEST_LDLIBS)

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libdk.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libdk.a $(LDLIBS)

# Corpus replay: the fuzz target linked with a small main() that feeds it
# every file of its corpus (no libFuzzer needed, runs under gcc).
$(BUILD)/replay/%: tests/fuzz/%.c tests/fuzz/replay.c $(BUILD)/libdk.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< tests/fuzz/replay.c $(BUILD)/libdk.a $(LDLIBS)

$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(BUILD)/gen/specs.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(LIB_SRC) \
	    $(BUILD)/gen/specs.c $(LDLIBS)

# Test scripts find the binary and the tree through these.  LeakSanitizer
# needs the slow unwinder to see through libcrypto (built without frame
# pointers) to the library frame a suppression in tests/lsan.supp names.
TEST_ENV := DKIMROT=$(abspath $(BIN)) DKIMROT_SRC=$(abspath .) \
            DKIMROT_FAULTS=$(abspath $(FAULT_BIN)) \
            DKIMROT_BUILD=$(abspath $(BUILD)) CMOCKA_MESSAGE_OUTPUT=TAP \
            LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp):fast_unwind_on_malloc=0:print_suppressions=0

check: check-unit check-fuzz check-cli check-e2e check-sim

check-unit: $(BIN) $(UNIT_BIN)
	$(TEST_ENV) prove -f --exec '' $(UNIT_BIN)

check-fuzz: $(FUZZ_REPLAY)
	@set -e; for f in $(FUZZ_REPLAY); do n=$$(basename $$f); \
	  echo "replay $$n"; $$f tests/fuzz/corpus/$${n#f_}; done

check-cli: $(BIN) $(FAULT_BIN) $(TOOL_BIN)
	@if ls tests/cli/*.sh >/dev/null 2>&1; then \
	  $(TEST_ENV) prove -f --exec /bin/sh tests/cli/*.sh; fi

check-e2e: $(BIN) $(FAULT_BIN) $(TOOL_BIN)
	@if ls tests/e2e/*.sh >/dev/null 2>&1; then \
	  $(TEST_ENV) prove -f --exec /bin/sh tests/e2e/*.sh; fi

check-sim: $(BIN) $(FAULT_BIN) $(TOOL_BIN)
	@if ls tests/sim/*.sh >/dev/null 2>&1; then \
	  $(TEST_ENV) prove -f --exec /bin/sh tests/sim/*.sh; fi

# The long soaks: the simulations over a whole year each (make check runs
# the short default of each).
soak: $(BIN) $(FAULT_BIN) $(TOOL_BIN)
	$(TEST_ENV) DKIMROT_SIM_HOURS=8760 DKIMROT_RACE_HOURS=8760 \
	    prove -f --exec /bin/sh tests/sim/*.sh

# Library leaks we cannot fix are listed, with reasons, in the .supp files.
VALGRIND := valgrind --quiet --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite --show-possibly-lost=no \
            --track-fds=no --num-callers=40 \
            --suppressions=$(abspath tests/valgrind.supp)

check-valgrind: $(BIN) $(FAULT_BIN) $(UNIT_BIN)
	$(TEST_ENV) prove -f --exec '$(VALGRIND)' $(UNIT_BIN)
	@if ls tests/cli/*.sh >/dev/null 2>&1; then \
	  $(TEST_ENV) DKIMROT_WRAP='$(VALGRIND)' prove -f --exec /bin/sh tests/cli/*.sh; fi

fuzz: $(FUZZ_BIN)

# Bench helpers: the single-thread OpenSSL limit (libcrypto only, not the
# product), keygen/batch.c's rate and the layout's floor (libc only).
$(BUILD)/bench/osslrate: tests/bench/osslrate.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(shell pkg-config --libs openssl) -lpthread

$(BUILD)/bench/layout: tests/bench/layout.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

$(BUILD)/bench/%: tests/bench/%.c $(BUILD)/libdk.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libdk.a $(LDLIBS)

# CFLAGS through the environment, so that the flags above are added to it.
BENCH_BUILD := build-bench
bench:
	CFLAGS='-O3 -DNDEBUG' $(MAKE) BUILD=$(BENCH_BUILD) all \
	    $(BENCH_BUILD)/tools/rpmtool $(BENCH_BUILD)/bench/osslrate \
	    $(BENCH_BUILD)/bench/batchrate $(BENCH_BUILD)/bench/layout
	DKIMROT=$(abspath $(BENCH_BUILD)/dkimrot) DKIMROT_SRC=$(abspath .) \
	    DKIMROT_BUILD=$(abspath $(BENCH_BUILD)) sh tests/bench/run.sh
	DKIMROT=$(abspath $(BENCH_BUILD)/dkimrot) DKIMROT_SRC=$(abspath .) \
	    DKIMROT_BUILD=$(abspath $(BENCH_BUILD)) sh tests/bench/scale.sh

# A simulated year at 10,000 domains, one run a day (many minutes).
bench-year:
	CFLAGS='-O3 -DNDEBUG' $(MAKE) BUILD=$(BENCH_BUILD) all
	DKIMROT=$(abspath $(BENCH_BUILD)/dkimrot) DKIMROT_SRC=$(abspath .) \
	    DKIMROT_BUILD=$(abspath $(BENCH_BUILD)) sh tests/bench/year.sh

demo: $(BIN)
	DKIMROT=$(abspath $(BIN)) DKIMROT_SRC=$(abspath .) sh scripts/demo.sh

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/dkimrot
	install -m 0644 man/dkimrot.1 $(DESTDIR)$(MANDIR)/man1/dkimrot.1
	install -m 0644 man/dkimrot.yaml.5 $(DESTDIR)$(MANDIR)/man5/dkimrot.yaml.5

# Packages of dkimrot itself, into $(BUILD) (dist/self.sh).
rpm: $(BIN)
	sh dist/self.sh rpm $(BIN) $(BUILD) $(VERSION)

deb: $(BIN)
	sh dist/self.sh deb $(BIN) $(BUILD) $(VERSION)

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/dkimrot $(DESTDIR)$(MANDIR)/man1/dkimrot.1 \
	      $(DESTDIR)$(MANDIR)/man5/dkimrot.yaml.5

clean:
	rm -rf build build-san build-bench build-fuzz

-include $(LIB_OBJ:.o=.d) $(BUILD)/dkimrot.d $(FAULT_OBJ:.o=.d)
