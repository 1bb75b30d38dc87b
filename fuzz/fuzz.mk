# fuzz.mk: libFuzzer targets (included by the Makefile).
#
#   make fuzz [FUZZ_SECS=60]  build, then run each target for FUZZ_SECS
#                             seconds on fuzz/corpus/<target>/ (new inputs
#                             are added there); crashes land in
#                             build/fuzz/crashes/<target>/
#   make fuzz-merge           shrink each corpus to the inputs that still add
#                             coverage (run before committing a grown one)
#   make fuzz-regress         run each target once over its corpus and
#                             fuzz/regress/<target>/ (every crash ever
#                             found, kept after its fix)
#
# The library is built again with clang into build/fuzz/obj with
# -fsanitize=fuzzer-no-link,address,undefined; targets link it with
# -fsanitize=fuzzer. Not part of `make all`.

FUZZ_CC      ?= clang
FUZZ_SECS    ?= 60
FUZZ_BUILD   := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer
FUZZ_TARGETS := fuzz_config_roster fuzz_rules_pii fuzz_template fuzz_proto \
                fuzz_form fuzz_callbacks fuzz_cap fuzz_mime
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)
# -rss_limit_mb: ASan's shadow counts; -max_len: larger than every loader
# limit that matters here while keeping runs fast.
FUZZ_OPTS    ?= -rss_limit_mb=4096 -max_len=65536 -timeout=20
export ASAN_OPTIONS ?= detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1

.PHONY: fuzz fuzz-build fuzz-merge fuzz-regress

FUZZ_LIB     := $(FUZZ_BUILD)/obj/libcrisiscast.a

# The library through the Makefile's own rules, in its own BUILD.
fuzz-build:
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD)/obj CC=$(FUZZ_CC) \
	    OPT="-O1" SANITIZE="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" \
	    $(FUZZ_LIB)
	@$(MAKE) -s --no-print-directory $(FUZZ_BINS)

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h fuzz/fields.h $(FUZZ_LIB)
	$(FUZZ_CC) -O1 -g -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE \
	    -DFUZZ_SRCDIR='"$(CURDIR)"' -Ilib $(PKG_CFLAGS) \
	    -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(FUZZ_LIB) $(PKG_LIBS)

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p fuzz/corpus/$$t build/fuzz/crashes/$$t; \
	    echo "== $$t ($(FUZZ_SECS) s)"; \
	    $(FUZZ_BUILD)/$$t $(FUZZ_OPTS) -max_total_time=$(FUZZ_SECS) \
	        -print_final_stats=1 \
	        -artifact_prefix=build/fuzz/crashes/$$t/ \
	        fuzz/corpus/$$t $$(test -d fuzz/regress/$$t && \
	            echo fuzz/regress/$$t) \
	        2>build/fuzz/$$t.log || { tail -40 build/fuzz/$$t.log; \
	        echo "$$t: FAILED, input in build/fuzz/crashes/$$t/"; \
	        exit 1; }; \
	    grep -E '^stat::number_of_executed_units|^stat::new_units_added' \
	        build/fuzz/$$t.log | sed "s/^/$$t /"; \
	done

fuzz-regress: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    dirs=""; for d in fuzz/corpus/$$t fuzz/regress/$$t; do \
	        test -d $$d && dirs="$$dirs $$d"; done; \
	    test -n "$$dirs" || continue; \
	    $(FUZZ_BUILD)/$$t $(FUZZ_OPTS) -runs=0 $$dirs \
	        >build/fuzz/$$t.regress.log 2>&1 || { \
	        tail -40 build/fuzz/$$t.regress.log; \
	        echo "$$t: regression input fails"; exit 1; }; \
	done; echo "fuzz-regress: $(words $(FUZZ_TARGETS)) targets clean"

fuzz-merge: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    test -d fuzz/corpus/$$t || continue; \
	    rm -rf build/fuzz/merge; mkdir -p build/fuzz/merge; \
	    $(FUZZ_BUILD)/$$t $(FUZZ_OPTS) -merge=1 build/fuzz/merge \
	        fuzz/corpus/$$t >build/fuzz/$$t.merge.log 2>&1 || { \
	        tail -20 build/fuzz/$$t.merge.log; exit 1; }; \
	    echo "$$t: $$(ls fuzz/corpus/$$t | wc -l) -> $$(ls build/fuzz/merge | wc -l) inputs"; \
	    rm -rf fuzz/corpus/$$t; mv build/fuzz/merge fuzz/corpus/$$t; \
	done
