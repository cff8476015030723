# SPDX-License-Identifier: GPL-2.0-only
#
# Building against KVM's own selftest library (libkvm.a and its headers),
# which scripts/kvm-selftests.sh builds from linux-source-6.12 into the
# rig's cache.  Included, after they set TOPDIR, by selftests/guest/Makefile
# and bench/realguest/Makefile; no rules.
#
# KVM_SELFTESTS names the library; by default what scripts/kvm-selftests.sh
# prints (it builds the library first if the cache has none).  Sets KSRC,
# LIBKVM and the LIBKVM_CFLAGS, LIBKVM_LDFLAGS and LIBKVM_LDLIBS to build
# with.

ifeq ($(origin CC),default)
CC := gcc
endif

ifneq ($(MAKECMDGOALS),clean)
KVM_SELFTESTS ?= $(shell bash $(TOPDIR)/scripts/kvm-selftests.sh)
ifeq ($(wildcard $(KVM_SELFTESTS)/lib/libkvm.a),)
$(error no KVM selftest library in "$(KVM_SELFTESTS)": see scripts/kvm-selftests.sh)
endif
endif
KSRC := $(KVM_SELFTESTS)/src
LIBKVM := $(KVM_SELFTESTS)/lib/libkvm.a

# The flags KVM's selftest Makefile (and its lib.mk) compiles its tests
# with, so that guest code is built as KVM's is, plus -Werror; lapicv's
# uapi headers after KVM's (<linux/kvm.h> is 6.12's).  The whole library
# is linked, as KVM links every test with all of its objects (its string
# functions must replace libc's in guest code).
LIBKVM_CFLAGS := -D_GNU_SOURCE= -Wall -Wstrict-prototypes -Wuninitialized \
	  -Werror -O2 -g -std=gnu99 -DCONFIG_64BIT -U_FORTIFY_SOURCE \
	  -fno-builtin-memcmp -fno-builtin-memcpy -fno-builtin-memset \
	  -fno-builtin-strnlen -fno-stack-protector -fno-PIE \
	  -fno-strict-aliasing -march=x86-64-v2 \
	  -ffile-prefix-map=$(TOPDIR)/= \
	  -I$(KSRC)/tools/include -I$(KSRC)/tools/arch/x86/include \
	  -I$(KSRC)/usr/include -I$(KSRC)/tools/testing/selftests/kvm/include \
	  -I$(KSRC)/tools/testing/selftests/kvm/include/x86_64 \
	  -I$(KSRC)/tools/testing/selftests \
	  -isystem $(KSRC)/usr/include -idirafter $(TOPDIR)/include/uapi
LIBKVM_LDFLAGS := -static -pthread -no-pie
LIBKVM_LDLIBS := -Wl,--whole-archive $(LIBKVM) -Wl,--no-whole-archive -ldl
