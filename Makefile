# SPDX-License-Identifier: GPL-2.0
#
# rasync - kernel/async.c as an out-of-tree Rust-for-Linux module.
#
# `make` builds the modules against KDIR (default: the cached guest kernel that
# scripts/build-kernel builds under $RASYNC_CACHE, ~/.cache/rasync by default).
# `make run` boots that kernel and shows rasync at work; `make check` runs the tests.

LLVM ?= -19
# rustup's rustc/cargo and the cargo-installed bindgen, even from a bare environment.
export PATH := $(HOME)/.cargo/bin:$(PATH)
export RUST_LIB_SRC ?= /usr/lib/rustlib/src/rust/library

# make check-intree (and check): the intree kernel, rasync built into vmlinux.
INTREE_KDIR_GIVEN := $(filter-out undefined,$(origin INTREE_KDIR))
ifeq ($(origin INTREE_KDIR), undefined)
INTREE_KDIR = $(eval INTREE_KDIR := $(shell $(CURDIR)/scripts/build-kernel --flavour intree --print-kdir))$(INTREE_KDIR)
endif
# make check-intree-c: the same kernel with CONFIG_ASYNC_RUST off (async.c serving).
INTREE_C_KDIR = $(eval INTREE_C_KDIR := $(shell $(CURDIR)/scripts/build-kernel --flavour intree-c --print-kdir))$(INTREE_C_KDIR)

# make bench-kernel: the bench kernel (kernel/async.c) and the same with CONFIG_ASYNC_RUST
# (the bench-intree flavour), built on first use.
ifeq ($(origin BENCH_ASYNC_KDIR), undefined)
BENCH_ASYNC_KDIR = $(eval BENCH_ASYNC_KDIR := $(shell $(CURDIR)/scripts/build-kernel --flavour bench --print-kdir))$(BENCH_ASYNC_KDIR)
endif
ifeq ($(origin BENCH_INTREE_KDIR), undefined)
BENCH_INTREE_KDIR = $(eval BENCH_INTREE_KDIR := $(shell $(CURDIR)/scripts/build-kernel --flavour bench-intree --print-kdir))$(BENCH_INTREE_KDIR)
endif

ifeq ($(origin KDIR), undefined)
# Evaluated once, on first use, so the cache key is computed a single time.
KDIR = $(eval KDIR := $(shell $(CURDIR)/scripts/build-kernel --print-kdir))$(KDIR)
# make bench: the same fragments without configs/debug.config, built on first use.
BENCH_KDIR = $(eval BENCH_KDIR := $(shell $(CURDIR)/scripts/build-kernel --flavour bench --print-kdir))$(BENCH_KDIR)
OWN_KERNEL := 0
else
BENCH_KDIR = $(KDIR)
OWN_KERNEL := 1
endif

KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=$(LLVM)
RUSTFMT_CONFIG = $(firstword $(wildcard $(KDIR)/source/.rustfmt.toml $(KDIR)/.rustfmt.toml))
RS_FILES = $(shell find $(CURDIR)/rust $(CURDIR)/include $(CURDIR)/kunit $(CURDIR)/samples $(CURDIR)/lifecycle -name '*.rs')

.PHONY: all modules install check-install setup kernel kernel-bench kernel-intree kernel-bench-intree intree-series intree-modules check-intree check-intree-c run check bench bench-kernel bench-kernel-trace-w9 torture rustfmt rustfmtcheck clippy rust-analyzer clean help

all: modules

help:
	@echo 'rasync targets:'
	@echo '  modules (default) - build rasync.ko, the tests and the sample against KDIR'
	@echo '  install           - Kbuild modules_install of rasync.ko (INSTALL_MOD_PATH honoured), plus'
	@echo '                      Module.symvers and the headers for consumers in RASYNC_KIT'
	@echo '  setup             - install the toolchain (scripts/setup; idempotent)'
	@echo '  kernel            - build or reuse the cached guest kernel (scripts/build-kernel)'
	@echo '  kernel-bench      - build or reuse the cached bench kernel (no debug options)'
	@echo '  kernel-intree     - build or reuse the cached intree kernel: the test kernel with the'
	@echo '                      in-tree series applied, CONFIG_ASYNC_RUST=y (rasync in vmlinux)'
	@echo '  kernel-bench-intree - the bench kernel with the in-tree series and CONFIG_ASYNC_RUST=y'
	@echo '  intree-series     - write the in-tree series (git format-patch files for git am on'
	@echo '                      Linux 7.3) into SERIES_OUT, checked with checkpatch.pl'
	@echo '  run               - main job: boot the 2-node guest, load rasync and the sample, show traces'
	@echo '  check             - boot the guest, run every KUnit suite, print "N passed, N failed"'
	@echo '  check-intree      - boot the intree kernel: the kernel'"'"'s own async users on rasync'
	@echo '  check-intree-c    - negative control: the same suite on that kernel with CONFIG_ASYNC_RUST'
	@echo '                      off (kernel/async.c serving) must fail'
	@echo '  bench             - on the bench kernel under QEMU -icount: rasync against the kernel'"'"'s'
	@echo '                      async_schedule() (W1-W5), writes BENCHMARKS.md and bench/ratios.png'
	@echo '  bench-kernel      - the kernel'"'"'s own async users (W6-W9: boot, disks, module loading,'
	@echo '                      suspend/resume): BOOTS rounds of the bench kernel and of the'
	@echo '                      bench-intree one under -icount, each a W6 boot and a W7-W9 boot;'
	@echo '                      BENCHMARKS.md section, bench/kernel-*.png'
	@echo '  bench-kernel-trace-w9 - diagnose W9: TRACE_BOOTS boots of each bench kernel, each tracing'
	@echo '                      one more suspend; prints its critical path and worker wake-ups'
	@echo '  torture           - the torture run for DURATION seconds (default 600) and 50 load/unload cycles'
	@echo '  rustfmt           - reformat the Rust sources'
	@echo '  rustfmtcheck      - check the Rust sources are formatted'
	@echo '  clippy            - build with CLIPPY=1'
	@echo '  rust-analyzer     - write rust-project.json for editors'
	@echo '  clean             - remove build products from this tree'
	@echo 'variables:'
	@echo '  INTREE_KDIR=dir      the intree kernel for check-intree (default: the cached one)'
	@echo '  KDIR=/path/to/build  your own Rust-enabled kernel build (default: cached guest kernel;'
	@echo '                       with KDIR= set, make bench uses it too)'
	@echo '  BENCH_CLOCK=icount|wall  make bench: instruction-counted guest time (default) or wall'
	@echo '  BOOTS=n              make bench-kernel: rounds, a W6 and a W7-W9 boot of each kernel (default 7)'
	@echo '  TRACE_BOOTS=n        make bench-kernel-trace-w9: boots per kernel (default 2)'
	@echo '  BENCH_ASYNC_KDIR=dir, BENCH_INTREE_KDIR=dir  make bench-kernel: the two kernels'
	@echo '  LLVM=-19             as passed to the kernel build (LLVM=1 for an unsuffixed toolchain)'
	@echo '  RASYNC_CACHE=dir     where the guest kernel is cached (default ~/.cache/rasync)'
	@echo '  INSTALL_MOD_PATH=dir  make install: prefix of /lib/modules (as for the kernel)'
	@echo '  SERIES_OUT=dir       make intree-series: where the patches go (default build/intree-series)'
	@echo '  RASYNC_KIT=dir       make install: where Module.symvers and include/ go'
	@echo '                       (default INSTALL_MOD_PATH/usr/src/rasync)'

setup:
	@$(CURDIR)/scripts/setup

kernel: setup
	@$(CURDIR)/scripts/build-kernel

kernel-bench: setup
	@$(CURDIR)/scripts/build-kernel --flavour bench

kernel-intree: setup
	@$(CURDIR)/scripts/build-kernel --flavour intree

kernel-bench-intree: setup
	@$(CURDIR)/scripts/build-kernel --flavour bench-intree

# The engine's files come from rust/ and include/ here: the series is written, not kept.
SERIES_OUT ?= $(CURDIR)/build/intree-series
intree-series:
	@$(CURDIR)/scripts/intree-series --out $(SERIES_OUT)

modules:
	$(KMAKE) modules

clippy:
	$(KMAKE) CLIPPY=1 modules

rust-analyzer:
	$(KMAKE) rust-analyzer

rustfmt:
	rustfmt --config-path $(RUSTFMT_CONFIG) $(RS_FILES)

rustfmtcheck:
	rustfmt --check --config-path $(RUSTFMT_CONFIG) $(RS_FILES)

# make install: rasync.ko alone, through Kbuild's modules_install (INSTALL_MOD_PATH and
# INSTALL_MOD_DIR as for any external module: <prefix>/lib/modules/<release>/updates/),
# and the consumer's kit: build a consumer with
# KBUILD_EXTRA_SYMBOLS=$(RASYNC_KIT)/Module.symvers and -I$(RASYNC_KIT)/include.
RASYNC_KIT ?= $(INSTALL_MOD_PATH)/usr/src/rasync
install:
	$(KMAKE) RASYNC_CORE_ONLY=1 modules
	$(KMAKE) RASYNC_CORE_ONLY=1 modules_install
	install -D -m 644 $(CURDIR)/Module.symvers $(RASYNC_KIT)/Module.symvers
	install -D -m 644 $(CURDIR)/include/rasync.h $(RASYNC_KIT)/include/rasync.h
	install -D -m 644 $(CURDIR)/include/rasync.rs $(RASYNC_KIT)/include/rasync.rs
	@echo "rasync installed: $$(find $(or $(INSTALL_MOD_PATH),/)lib/modules/$$(cat $(KDIR)/include/config/kernel.release) -name rasync.ko); consumer kit: $(RASYNC_KIT)"

# check-install: make install into a scratch prefix, then build a consumer module against
# the installed kit alone (run by make check, on the host).
check-install:
	@$(CURDIR)/scripts/check-install $(KDIR) $(LLVM)

clean:
	$(KMAKE) clean
	$(MAKE) -C $(KDIR) M=$(CURDIR)/kunit/intree LLVM=$(LLVM) clean
	rm -rf $(CURDIR)/build

# run and check prepare everything themselves: toolchain, kernel, modules.
ifeq ($(OWN_KERNEL),0)
run check torture: kernel
bench: kernel-bench
endif

DURATION ?= 600
BENCH_CLOCK ?= icount

check: check-install

# make check ends with the intree guest (check-intree): on the cached kernels, or with
# INTREE_KDIR= given; RASYNC_INTREE=0 leaves it out.
RASYNC_INTREE ?= $(if $(filter 0,$(OWN_KERNEL))$(INTREE_KDIR_GIVEN),1,0)

run check torture:
	$(MAKE) --no-print-directory modules KDIR=$(KDIR)
	@RASYNC_TORTURE_DURATION=$(DURATION) $(CURDIR)/scripts/vm-run --kdir $(KDIR) $@
	@if [ $@ = check ] && [ "$(RASYNC_INTREE)" = 1 ]; then \
		$(MAKE) --no-print-directory check-intree; fi

# The intree guest's test modules (kunit/intree/) build against the intree kernel only.
intree-modules:
	$(MAKE) -C $(INTREE_KDIR) M=$(CURDIR)/kunit/intree LLVM=$(LLVM) modules

check-intree: setup
	$(MAKE) --no-print-directory intree-modules INTREE_KDIR=$(INTREE_KDIR)
	@$(CURDIR)/scripts/vm-run --kdir $(INTREE_KDIR) intree

# The suite must fail when async.c serves <linux/async.h>; the guest's logs stay in
# build/intree/ (the next check-intree rebuilds kunit/intree/ for its own kernel).
check-intree-c: setup
	$(MAKE) --no-print-directory intree-modules INTREE_KDIR=$(INTREE_C_KDIR)
	@if $(CURDIR)/scripts/vm-run --kdir $(INTREE_C_KDIR) intree; then \
		echo "negative control FAILED: the intree suite passed with kernel/async.c serving"; exit 1; \
	else echo "negative control OK: the intree suite failed with kernel/async.c serving"; fi

# W6-W9: the kernel's own async users, BOOTS rounds of boots of each bench kernel (scripts/kbench).
BOOTS ?= 7
bench-kernel: setup
	@$(CURDIR)/scripts/kbench --async $(BENCH_ASYNC_KDIR) --rasync $(BENCH_INTREE_KDIR) \
		--boots $(BOOTS)

# W9 diagnosed: a traced suspend per boot (scripts/kbench --trace-w9, scripts/kbench-w9-trace).
TRACE_BOOTS ?= 2
bench-kernel-trace-w9: setup
	@$(CURDIR)/scripts/kbench --async $(BENCH_ASYNC_KDIR) --rasync $(BENCH_INTREE_KDIR) \
		--boots $(TRACE_BOOTS) --trace-w9

# The bench modules are built from a copy of the sources (build/bench-src; Kbuild's MO=
# needs a clean source tree), so the test modules built here stay current.
BENCH_SRC = $(CURDIR)/build/bench-src
bench:
	@mkdir -p $(BENCH_SRC)
	@git -C $(CURDIR) ls-files -co --exclude-standard -- ':!build' | \
		tar -C $(CURDIR) -cf - -T - | tar -C $(BENCH_SRC) -xf -
	$(MAKE) --no-print-directory -C $(BENCH_KDIR) M=$(BENCH_SRC) LLVM=$(LLVM) modules
	@RASYNC_BENCH_CLOCK=$(BENCH_CLOCK) RASYNC_KO_DIR=$(BENCH_SRC) \
		$(CURDIR)/scripts/vm-run --kdir $(BENCH_KDIR) $@
