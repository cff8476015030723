/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers for the APIC timer selftests (apic_timer_test.c,
 * apic_timer_run_test.c): a leaf-1 guest CPUID, the divider, TMCCT
 * through its x2APIC MSR, clocks and sleeps; the APIC itself is lib/apic.h.
 */
#ifndef SELFTEST_TIMER_UTIL_H
#define SELFTEST_TIMER_UTIL_H

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <linux/kvm.h>

#include "apic.h"

#define TIMER_VECTOR		0xec

/* KVM's min_timer_period_us default, in ns. */
#define MIN_PERIOD_NS	200000ull

#define MS		1000000ull

static inline __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static inline void sleep_ns(__u64 ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000ull,
			       .tv_nsec = ns % 1000000000ull };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

/* A guest CPUID with leaf 1 only: the APIC's view of the guest's CPU. */
static inline int set_cpuid_leaf1(int vcpufd, __u32 ecx)
{
	struct {
		struct kvm_cpuid2 hdr;
		struct kvm_cpuid_entry2 e[1];
	} c;

	memset(&c, 0, sizeof(c));
	c.hdr.nent = 1;
	c.e[0].function = 1;
	c.e[0].eax = 0x00a00f11;	/* family 0x19, as on the host */
	c.e[0].ecx = ecx;
	c.e[0].edx = CPUID1_EDX_TSC | CPUID1_EDX_APIC;
	return ioctl(vcpufd, KVM_SET_CPUID2, &c);
}

static inline __u64 rdtsc(void)
{
	return __builtin_ia32_rdtsc();
}

static inline unsigned int div_of(__u32 tdcr)
{
	unsigned int shift = ((tdcr & 3) | ((tdcr & 8) >> 1)) + 1;

	return 1u << (shift & 7);
}

/* TMCCT through the x2APIC MSR (0x839); 0 if the read fails. */
static inline __u32 msr_tmcct_raw(int vcpufd)
{
	__u64 v = 0;

	get_msr(vcpufd, X2APIC_MSR(APIC_TMCCT), &v);
	return v;
}

#endif /* SELFTEST_TIMER_UTIL_H */
