/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers for the APIC timer selftests (apic_timer_test.c,
 * apic_timer_run_test.c): register offsets, KVM_GET/SET_LAPIC, one-MSR
 * KVM_GET/SET_MSRS, a leaf-1 guest CPUID, clocks and sleeps.
 */
#ifndef SELFTEST_TIMER_UTIL_H
#define SELFTEST_TIMER_UTIL_H

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <linux/kvm.h>

#define APIC_SPIV	0xf0
#define APIC_IRR	0x200
#define APIC_LVTT	0x320
#define APIC_TMICT	0x380
#define APIC_TMCCT	0x390
#define APIC_TDCR	0x3e0

#define LVT_MASKED		0x10000u
#define LVTT_ONESHOT		0x00000u
#define LVTT_PERIODIC		0x20000u
#define LVTT_TSCDEADLINE	0x40000u
#define TIMER_VECTOR		0xec

#define TDCR_DIV1	0xb
#define TDCR_DIV2	0x0
#define TDCR_DIV16	0x3
#define TDCR_DIV128	0xa

#define MSR_IA32_APICBASE	0x1b
#define MSR_IA32_TSC_DEADLINE	0x6e0
#define X2APIC_MSR(off)		(0x800 + ((off) >> 4))

#define APICBASE_DEFAULT	0xfee00000ull
#define APICBASE_BSP		0x100ull
#define APICBASE_EXTD		0x400ull
#define APICBASE_EN		0x800ull

#define CPUID1_ECX_X2APIC	0x00200000u
#define CPUID1_ECX_TSC_DEADLINE	0x01000000u
#define CPUID1_EDX_TSC		0x010u
#define CPUID1_EDX_APIC		0x200u

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

static inline __u32 reg(const struct kvm_lapic_state *s, int off)
{
	__u32 v;

	memcpy(&v, s->regs + off, sizeof(v));
	return v;
}

static inline void set_reg(struct kvm_lapic_state *s, int off, __u32 v)
{
	memcpy(s->regs + off, &v, sizeof(v));
}

static inline int get_lapic(int vcpufd, struct kvm_lapic_state *s)
{
	return ioctl(vcpufd, KVM_GET_LAPIC, s);
}

static inline int set_lapic(int vcpufd, struct kvm_lapic_state *s)
{
	return ioctl(vcpufd, KVM_SET_LAPIC, s);
}

/* KVM_SET_MSRS of one MSR: returns the number processed (1 or 0). */
static inline int set_msr(int vcpufd, __u32 index, __u64 data)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr.nmsrs = 1, .e.index = index, .e.data = data };

	return ioctl(vcpufd, KVM_SET_MSRS, &m);
}

/* KVM_GET_MSRS of one MSR; returns the number processed. */
static inline int get_msr(int vcpufd, __u32 index, __u64 *data)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr.nmsrs = 1, .e.index = index };
	int r = ioctl(vcpufd, KVM_GET_MSRS, &m);

	*data = m.e.data;
	return r;
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
