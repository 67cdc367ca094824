# synod build. `make` builds build/synod; `make test` runs every test; SAN=1 builds and
# tests with AddressSanitizer + UndefinedBehaviorSanitizer in build/san.
SAN ?= 0
CC ?= cc
ifeq ($(origin CC),default)
CC := gcc
endif

ifeq ($(SAN),1)
BUILD ?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT := -O1 -g
else
BUILD ?= build
SANFLAGS :=
OPT := -O2 -g
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wcast-align -Wstrict-prototypes \
        -Wmissing-prototypes -Wmissing-declarations -Wredundant-decls -Wformat=2 \
        -Wundef -Wvla -Wimplicit-fallthrough -Wno-unused-parameter
CFLAGS ?= $(OPT)
ALL_CFLAGS := -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) $(CFLAGS) \
              $(SANFLAGS) $(EXTRA_CFLAGS) -Isrc -MMD -MP
LDLIBS := -lm -llmdb -luv -ljansson
TEST_LDLIBS := -lcmocka

SRCS := $(shell find src -name '*.c' | sort)
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(BUILD)/obj/src/main.o
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
HARNESS_SRCS := $(sort $(wildcard tests/harness/*.c))
HARNESS_OBJS := $(HARNESS_SRCS:%.c=$(BUILD)/obj/%.o)
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
SCRIPT_SRCS := $(sort $(wildcard tests/scripts/*.c))
SCRIPT_BINS := $(SCRIPT_SRCS:tests/scripts/%.c=$(BUILD)/scripts/%)
DEPS_STAMP := build/.deps-ok

.PHONY: all run sim-trace test sim-soak bench bench-full fuzz deps clean check-layers format

all: $(BUILD)/synod $(UNIT_BINS) $(BENCH_BINS) $(SCRIPT_BINS)

$(DEPS_STAMP): tools/deps.sh
	@mkdir -p build
	@tools/deps.sh
	@touch $@

deps: $(DEPS_STAMP)

$(BUILD)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libsynod.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/synod: $(MAIN_OBJ) $(BUILD)/libsynod.a
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/obj/tests/%.o: tests/%.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -c $< -o $@

$(BUILD)/tests/%: tests/unit/%.c $(HARNESS_OBJS) $(BUILD)/libsynod.a | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests $< $(HARNESS_OBJS) $(BUILD)/libsynod.a -o $@ $(TEST_LDLIBS) $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(HARNESS_OBJS) $(BUILD)/libsynod.a | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests $< $(HARNESS_OBJS) $(BUILD)/libsynod.a -o $@ $(LDLIBS)

# Interaction-script drivers (tests/scripts/*.c), run by tests/scripts/*.sh.
$(BUILD)/scripts/%: tests/scripts/%.c $(HARNESS_OBJS) $(BUILD)/libsynod.a | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests $< $(HARNESS_OBJS) $(BUILD)/libsynod.a -o $@ $(LDLIBS)

# The same sources built with the deliberately broken rules compiled in (tests only).
build/mutants/synod: $(SRCS) $(shell find src -name '*.h')
	$(MAKE) --no-print-directory BUILD=build/mutants SAN=0 EXTRA_CFLAGS=-DSYN_MUTANTS build/mutants/synod-bin
	@cp build/mutants/synod-bin $@

build/mutants/synod-bin: $(BUILD)/obj/src/main.o $(BUILD)/libsynod.a
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

check-layers:
	@tools/check_layers.sh

test: all check-layers build/mutants/synod
	@BUILD=$(BUILD) SAN=$(SAN) tests/run.sh

run: $(BUILD)/synod
	@$(BUILD)/synod dev

sim-trace: $(BUILD)/synod
	$(BUILD)/synod sim --seed 42 --nodes 5 --trace

sim-soak: $(BUILD)/synod
	$(BUILD)/synod sim --seeds 100000 --nodes 3,5,7 --progress

# Coverage-guided fuzzing of the Raft core's inputs (clang + libFuzzer); FUZZ_SECONDS each.
FUZZ_SECONDS ?= 60
build/fuzz/fuzz_raft_step: tests/fuzz/fuzz_raft_step.c tests/harness/cluster.c tests/harness/message.c $(wildcard src/base/*.c src/raft/*.c) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	clang -std=c17 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -Itests $^ -o $@ -lm

# The WAL's record decoder: the bytes recovery reads from disk.
build/fuzz/fuzz_wal_record: tests/fuzz/fuzz_wal_record.c src/wal/wal_record.c $(wildcard src/base/*.c src/raft/*.c) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	clang -std=c17 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -Itests $^ -o $@ -lm

fuzz: build/fuzz/fuzz_raft_step build/fuzz/fuzz_wal_record
	@mkdir -p build/fuzz/corpus-raft-step build/fuzz/corpus-wal-record
	build/fuzz/fuzz_raft_step -max_total_time=$(FUZZ_SECONDS) -max_len=512 build/fuzz/corpus-raft-step
	build/fuzz/fuzz_wal_record -max_total_time=$(FUZZ_SECONDS) -max_len=4096 build/fuzz/corpus-wal-record

# The wire codecs' parsers (peer frames, RESP requests), FUZZ_SECONDS each, run by `make fuzz`.
build/fuzz/fuzz_peer_frame: tests/fuzz/fuzz_peer_frame.c src/net/peer_codec.c $(wildcard src/base/*.c src/raft/*.c) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	clang -std=c17 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -Itests $^ -o $@ -lm

build/fuzz/fuzz_resp: tests/fuzz/fuzz_resp.c src/api/resp.c $(wildcard src/base/*.c) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	clang -std=c17 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -Itests $^ -o $@ -lm

.PHONY: fuzz-peer-frame fuzz-resp
fuzz: fuzz-peer-frame fuzz-resp

fuzz-peer-frame: build/fuzz/fuzz_peer_frame
	@mkdir -p build/fuzz/corpus-peer-frame
	build/fuzz/fuzz_peer_frame -max_total_time=$(FUZZ_SECONDS) -max_len=8192 build/fuzz/corpus-peer-frame

fuzz-resp: build/fuzz/fuzz_resp
	@mkdir -p build/fuzz/corpus-resp
	build/fuzz/fuzz_resp -max_total_time=$(FUZZ_SECONDS) -max_len=8192 build/fuzz/corpus-resp

# The DNS codec and answers (src/dns without the server), FUZZ_SECONDS, run by `make fuzz`.
build/fuzz/fuzz_dns_msg: tests/fuzz/fuzz_dns_msg.c $(filter-out src/dns/dns_server%,$(wildcard src/dns/*.c)) $(wildcard src/base/*.c) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	clang -std=c17 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -Itests $^ -o $@ -lm

.PHONY: fuzz-dns-msg
fuzz: fuzz-dns-msg

fuzz-dns-msg: build/fuzz/fuzz_dns_msg
	@mkdir -p build/fuzz/corpus-dns-msg
	build/fuzz/fuzz_dns_msg -max_total_time=$(FUZZ_SECONDS) -max_len=2048 build/fuzz/corpus-dns-msg

# The Raft core in memory, then real agents against redis-server (bench/run.sh: RESP
# throughput, failover, memory and restart); bench-full runs the long versions.
bench: $(BUILD)/bench/raft_bench $(BUILD)/synod
	$(BUILD)/bench/raft_bench
	BUILD=$(BUILD) bench/run.sh

bench-full: $(BUILD)/bench/raft_bench $(BUILD)/synod
	$(BUILD)/bench/raft_bench
	BUILD=$(BUILD) bench/run.sh --full

format:
	clang-format -i $(SRCS) $(shell find src tests bench -name '*.[ch]')

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
