# SPDX-License-Identifier: GPL-2.0-only
#
# lapicv top-level Makefile.
#
#   make                 build lapicv.ko for KVER (default: the running kernel's
#                        headers if installed, else the newest Debian headers)
#   make KVER=<version>  build for /lib/modules/<version>/build
#   make modules-all     build for every installed Debian amd64 header set
#   make W=1 C=1         warnings and sparse, passed through to Kbuild
#   make checkpatch      scripts/checkpatch.pl --strict --no-tree on the tree
#   make check           the test command: module builds, selftests in QEMU
#                        guests (6.12: lapicv + kvm_amd, 6.1: lapicv), summary
#   make demo            the main job: a guest with the module and the demo VMM
#   make check-debug     the selftests and real-guest suites on a KASAN/lockdep/kmemleak debug kernel
#                        (slow: not part of make check)
#   make fuzz-guest      the guest-side fuzzer alone, many seeds, in a guest
#   make install         install lapicv.ko into /lib/modules/$(KVER)/updates
#                        and the udev rule for /dev/lapicv (DESTDIR= stages)
#
# Each kernel version builds in build/<version>/ (a tree of symlinks), so
# builds for 6.1 and 6.12 never share objects.

SRCDIR := $(CURDIR)

installed_kvers = $(sort $(patsubst /usr/src/linux-headers-%,%,$(wildcard /usr/src/linux-headers-*-amd64)))
newest_kver = $(shell printf '%s\n' $(installed_kvers) | sort -V | tail -n 1)

ifeq ($(KVER),)
  ifneq ($(wildcard /lib/modules/$(shell uname -r)/build/Makefile),)
    KVER := $(shell uname -r)
  else
    KVER := $(newest_kver)
  endif
endif
KDIR ?= /lib/modules/$(KVER)/build
ifeq ($(wildcard $(KDIR)/Makefile),)
  KDIR := /usr/src/linux-headers-$(KVER)
endif
BUILD := $(SRCDIR)/build/$(KVER)

# Files that make up the module tree, linked into each build directory.
MOD_SRCS := Kbuild $(wildcard *.c) $(wildcard *.h) include svm

.PHONY: all modules modules-all clean checkpatch check demo install diff-long \
	unit unit-tsan fuzz bench fuzz-ioctl fuzz-guest dkms-check check-debug

all: modules

modules:
	@test -n "$(KVER)" || { echo "no kernel headers found: run scripts/deps.sh" >&2; exit 1; }
	@test -f "$(KDIR)/Makefile" || { echo "no headers for $(KVER) in $(KDIR)" >&2; exit 1; }
	@mkdir -p $(BUILD)
	@for f in $(MOD_SRCS); do ln -sfn $(SRCDIR)/$$f $(BUILD)/$$f; done
	@find $(BUILD) -maxdepth 1 -xtype l -delete
	$(MAKE) -C $(KDIR) M=$(BUILD) modules
	@cp $(BUILD)/lapicv.ko $(SRCDIR)/lapicv.ko

modules-all:
	@for v in $(installed_kvers); do \
		$(MAKE) --no-print-directory KVER=$$v modules || exit 1; \
	done

# DESTDIR=<dir> stages the files (the module and the udev rule that makes
# /dev/lapicv group kvm, mode 0660) without running depmod or udevadm.
UDEV_RULES := /lib/udev/rules.d/60-lapicv.rules
install: modules
	install -D -m 0644 $(BUILD)/lapicv.ko $(DESTDIR)/lib/modules/$(KVER)/updates/lapicv.ko
	install -D -m 0644 $(SRCDIR)/udev/60-lapicv.rules $(DESTDIR)$(UDEV_RULES)
ifeq ($(DESTDIR),)
	depmod -a $(KVER)
	-udevadm control --reload-rules
endif

# checkpatch.pl comes from the kernel source the test rig extracts; see
# scripts/guest-kernels.sh.  Kernel code gets no --ignore entries.
# Userspace code (selftests, samples, bench, tests/unit) gets two, because
# it has no kernel headers: PREFER_KERNEL_TYPES (it uses <stdint.h> types,
# as KVM's own selftests do), BIT_MACRO (there is no BIT() to use) and
# MACRO_WITH_FLOW_CONTROL (test assertions return from the failing test, as
# kselftest_harness.h's do).
CHECKPATCH ?= $(shell bash $(SRCDIR)/scripts/cache.sh dir)/checkpatch/checkpatch.pl
CHECKPATCH_USER_DIRS := selftests samples bench tests scripts
CHECKPATCH_KERNEL_FILES = $(shell git -C $(SRCDIR) ls-files '*.c' '*.h' | \
	grep -v -E '^($(subst $(space),|,$(CHECKPATCH_USER_DIRS)))/')
# tests/unit/shim/ and tests/unit/include/ are left out: they re-implement
# kernel macros in userspace with their exact signatures, so unused and
# reused macro arguments are their nature there, not defects.
CHECKPATCH_USER_FILES = $(shell git -C $(SRCDIR) ls-files $(addsuffix /*.[ch],$(CHECKPATCH_USER_DIRS)) | \
	grep -v -E '^tests/unit/(shim|include)/')
space := $(subst ,, )
checkpatch:
	@cd $(SRCDIR) && perl $(CHECKPATCH) --strict --no-tree --no-summary \
		--terse -f $(CHECKPATCH_KERNEL_FILES)
	@cd $(SRCDIR) && perl $(CHECKPATCH) --strict --no-tree --no-summary \
		--terse --ignore PREFER_KERNEL_TYPES,BIT_MACRO,MACRO_WITH_FLOW_CONTROL \
		-f $(CHECKPATCH_USER_FILES)

check:
	@bash $(SRCDIR)/scripts/check.sh

demo:
	@bash $(SRCDIR)/scripts/demo.sh

bench:
	@bash $(SRCDIR)/scripts/bench.sh

# The selftests on a KASAN/lockdep/kmemleak/UBSAN guest kernel built from
# linux-source-6.12 (scripts/debug-kernel.sh); slow, not part of make check.
check-debug:
	@bash $(SRCDIR)/scripts/check-debug.sh

# The ioctl fuzzer alone in a guest (FUZZ_SECONDS, FUZZ_SEED, FUZZ_BACKEND
# pass through), and the DKMS cycle for every installed header set.
fuzz-ioctl:
	@bash $(SRCDIR)/scripts/fuzz-ioctl.sh

# The guest-side fuzzer alone in a guest, for longer than make check runs
# it (FUZZ_GUEST_SEED, FUZZ_GUEST_SEEDS, FUZZ_GUEST_RUNS, FUZZ_GUEST_KVM
# pass through); see scripts/fuzz-guest.sh.
fuzz-guest:
	@bash $(SRCDIR)/scripts/fuzz-guest.sh

dkms-check:
	@bash $(SRCDIR)/scripts/dkms-check.sh

# make diff-long: the differential selftest alone, in the newest guest with
# lapicv and kvm_amd: DIFF_STEPS steps in each of its runs (default 50000,
# a few minutes in TCG), DIFF_SEED to replay a seed.
DIFF_STEPS ?= 50000
diff-long:
	@set -e; v=$(newest_kver); d=$$(mktemp -d); trap 'rm -rf "$$d"' EXIT; \
	$(MAKE) --no-print-directory KVER=$$v modules >/dev/null; \
	$(MAKE) --no-print-directory -C selftests >/dev/null; \
	cp selftests/build/differential_test "$$d/"; \
	bash scripts/mkinitramfs.sh -K -t "$$d" $$v "$$d/guest.cpio.gz" scripts/guest/check.sh; \
	LAPICV_QEMU_TIMEOUT=$${LAPICV_QEMU_TIMEOUT:-1200} bash scripts/qemu-run.sh $$v \
		"$$d/guest.cpio.gz" rig_tag=diff rig_suites=lapicv,kvm \
		LAPICV_DIFF_STEPS=$(DIFF_STEPS) $(if $(DIFF_SEED),LAPICV_DIFF_SEED=$(DIFF_SEED)) | \
		tee "$$d/log" | grep --line-buffered 'kvm differential_test\]' || true; \
	grep -qx 'rig: end' "$$d/log" || { echo "diff-long: the guest did not finish" >&2; exit 1; }; \
	bash scripts/tap-summary.sh "$$d/log"

clean:
	rm -rf $(SRCDIR)/build $(SRCDIR)/lapicv.ko

# tests/unit: the core files built as userspace programs (unit tests with
# ASan/UBSan, a ThreadSanitizer stress, libFuzzer targets); see
# Documentation/testing.rst, "Unit build".  STRESS_SECONDS and FUZZ_SECONDS
# pass through.
unit:
	@$(MAKE) --no-print-directory -C tests/unit unit

unit-tsan:
	@$(MAKE) --no-print-directory -C tests/unit unit-tsan

fuzz:
	@$(MAKE) --no-print-directory -C tests/unit fuzz
