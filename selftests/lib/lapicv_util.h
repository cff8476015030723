/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the lapicv selftests.
 *
 * Every test runs against the device named by $LAPICV_DEV: /dev/lapicv by
 * default, /dev/kvm for real KVM.  The two must behave the same for every
 * KVM-compatible ioctl, so tests state one expectation and run on both;
 * REQUIRE_LAPICV() skips the tests of lapicv-only behaviour on KVM.
 *
 * The helpers return what the ioctl returned (-1 with errno on failure) and
 * never abort: the test decides, with the ASSERT_* macros below, which print
 * the errno by name.  The macros are kselftest_harness.h ones: include the
 * harness before this header.
 */
#ifndef SELFTEST_LAPICV_UTIL_H
#define SELFTEST_LAPICV_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <unistd.h>
#include <linux/kvm.h>

#define LAPICV_DEFAULT_DEV	"/dev/lapicv"

/* The IOAPIC pins a VMM reserves with KVM_CAP_SPLIT_IRQCHIP (QEMU: 24). */
#define SPLIT_IRQCHIP_PINS	24
/*
 * The largest KVM_CAP_SPLIT_IRQCHIP argument: KVM's
 * MAX_NR_RESERVED_IOAPIC_PINS, which is KVM_MAX_IRQ_ROUTES.
 */
#define SPLIT_IRQCHIP_MAX_PINS	4096

/* The device under test: $LAPICV_DEV, or /dev/lapicv. */
const char *dev_path(void);
/* True when the device under test is KVM's misc device (10:232). */
bool dev_is_kvm(void);
/* open(dev_path(), O_RDWR | O_CLOEXEC). */
int open_dev(void);

/* KVM_CREATE_VM with type 0 on the device fd; returns the VM fd. */
int vm_create(int devfd);
/* vm_create() plus KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP, 24 pins). */
int vm_create_split(int devfd);
/* KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP) with @pins reserved pins. */
int vm_enable_split_irqchip(int vmfd, unsigned long pins);
/* KVM_CREATE_VCPU; returns the vCPU fd. */
int vcpu_create(int vmfd, unsigned long id);
/* KVM_CHECK_EXTENSION on a system or VM fd. */
int check_ext(int fd, long cap);
/* Raise RLIMIT_NOFILE so that @n more fds fit; 0 or -1 with errno. */
int ensure_nofile(unsigned long n);
/* "EINVAL" for EINVAL, "E?" for numbers glibc has no name for. */
const char *errno_name(int err);

/*
 * Skip a test of behaviour only lapicv has when the device is KVM.  Like
 * KVM's TEST_REQUIRE() it ends the test's process (the harness forks one
 * per test) with KSFT_SKIP and the reason: call it first in the test.
 */
#define REQUIRE_LAPICV() do {						\
	if (dev_is_kvm()) {						\
		SKIP(, "lapicv-only behaviour; %s is KVM", dev_path());	\
		_exit(KSFT_SKIP);					\
	}								\
} while (0)

/*
 * @expr must succeed (return >= 0); on failure print errno by name, then
 * the optional printf-style context.
 */
#define ASSERT_OK(expr, ...) do {					\
	long __r = (long)(expr);					\
	int __e = errno;						\
									\
	ASSERT_LE(0, __r) {						\
		TH_LOG("%s failed: %s", #expr, errno_name(__e));	\
		__VA_OPT__(TH_LOG(__VA_ARGS__);)			\
	}								\
} while (0)

/* @expr must fail with -1 and errno @err. */
#define ASSERT_ERRNO(expr, err) do {					\
	long __r = (long)(expr);					\
	int __e = errno, __want = (err);				\
									\
	ASSERT_EQ(-1, __r)						\
		TH_LOG("%s: expected -1/%s, got %ld", #expr,		\
		       errno_name(__want), __r);			\
	ASSERT_EQ(__want, __e)						\
		TH_LOG("%s: expected %s, got %s", #expr,		\
		       errno_name(__want), errno_name(__e));		\
} while (0)

/* As ASSERT_ERRNO, but the test goes on after a mismatch. */
#define EXPECT_ERRNO(expr, err) do {					\
	long __r = (long)(expr);					\
	int __e = errno, __want = (err);				\
									\
	EXPECT_EQ(-1, __r)						\
		TH_LOG("%s: expected -1/%s, got %ld", #expr,		\
		       errno_name(__want), __r);			\
	if (__r == -1)							\
		EXPECT_EQ(__want, __e)					\
			TH_LOG("%s: expected %s, got %s", #expr,	\
			       errno_name(__want), errno_name(__e));	\
} while (0)

#endif /* SELFTEST_LAPICV_UTIL_H */
