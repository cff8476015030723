// SPDX-License-Identifier: GPL-2.0-only
/*
 * The local APIC timer as a VMM sees it without running the vCPU: TMCCT in
 * KVM_GET_LAPIC and the x2APIC MSR, the TSC-deadline MSR, and what
 * KVM_SET_LAPIC restores.  Every expectation holds on /dev/kvm (kvm_amd)
 * and /dev/lapicv alike.
 *
 * Timing: the APIC bus runs at 1 GHz (KVM's default bus cycle of 1 ns), so
 * a count of N at divide D lasts N * D ns.  Bounds are derived from
 * CLOCK_MONOTONIC readings taken around the ioctls, which bracket the
 * kernel's own ktime_get() readings, so they hold however slow the guest
 * is; only "expired" checks depend on sleeping, and they sleep far past
 * the deadline.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lapicv_util.h"
#include "timer_util.h"

FIXTURE(timer) {
	int devfd;
	int vmfd;
	int vcpufd;
	struct kvm_lapic_state s;
};

FIXTURE_SETUP(timer)
{
	self->devfd = open_dev();
	ASSERT_OK(self->devfd);
	self->vmfd = vm_create_split(self->devfd);
	ASSERT_OK(self->vmfd);
	self->vcpufd = vcpu_create(self->vmfd, 0);
	ASSERT_OK(self->vcpufd);
	ASSERT_OK(set_cpuid_leaf1(self->vcpufd, CPUID1_ECX_X2APIC |
				  CPUID1_ECX_TSC_DEADLINE));
	ASSERT_OK(get_lapic(self->vcpufd, &self->s));
	/* Software-enable the APIC so LVT writes keep their mask bit. */
	lapic_set_reg(&self->s, APIC_SPIV, 0x1ff);
}

FIXTURE_TEARDOWN(timer)
{
	close(self->vcpufd);
	close(self->vmfd);
	close(self->devfd);
}

/*
 * KVM_SET_LAPIC with a timer running from @count (TMCCT) of @tmict;
 * *@t0 is taken just before the ioctl.
 */
static int start_xapic(struct kvm_lapic_state *s, int vcpufd, __u32 lvtt,
		       __u32 tdcr, __u32 tmict, __u32 count,
		       __u64 *t0)
{
	lapic_set_reg(s, APIC_LVTT, lvtt);
	lapic_set_reg(s, APIC_TDCR, tdcr);
	lapic_set_reg(s, APIC_TMICT, tmict);
	lapic_set_reg(s, APIC_TMCCT, count);
	*t0 = now_ns();
	return set_lapic(vcpufd, s);
}

/* TMCCT from KVM_GET_LAPIC; *@t1 is taken just after the ioctl. */
static __u32 read_tmcct(struct __test_metadata *_metadata, int vcpufd,
			__u64 *t1)
{
	struct kvm_lapic_state s;

	ASSERT_OK(get_lapic(vcpufd, &s));
	if (t1)
		*t1 = now_ns();
	return lapic_reg(&s, APIC_TMCCT);
}

/*
 * A count started at @t0 from @count at divide @div, read before @t1:
 * at most @count, and at least what remains if all of t1 - t0 elapsed.
 */
#define ASSERT_COUNT_IN(v, count, div, t0, t1) do {			\
	__u64 __v = (v), __c = (count), __span = (t1) - (t0);		\
	__u64 __gone = __span / (div) + 1;				\
	__u64 __min = __gone < __c ? __c - __gone : 0;			\
									\
	ASSERT_LE(__v, __c);						\
	ASSERT_GE(__v, __min)						\
		TH_LOG("count %llu lost more than %llu in %llu ns",	\
		       (unsigned long long)__c,				\
		       (unsigned long long)__gone,			\
		       (unsigned long long)__span);			\
} while (0)

TEST(cap_tsc_deadline_timer)
{
	int devfd = open_dev();
	int vmfd;

	ASSERT_OK(devfd);
	EXPECT_EQ(1, check_ext(devfd, KVM_CAP_TSC_DEADLINE_TIMER));
	vmfd = vm_create_split(devfd);
	ASSERT_OK(vmfd);
	EXPECT_EQ(1, check_ext(vmfd, KVM_CAP_TSC_DEADLINE_TIMER));
	close(vmfd);
	close(devfd);
}

/* One-shot: counts down from TMICT, decreases, then reads 0 for good. */
TEST_F_TIMEOUT(timer, oneshot_xapic, 60)
{
	const __u32 tmict = 300 * MS;	/* 300 ms at divide by 1 */
	__u64 t0, t1, t2;
	__u32 c1, c2;
	int i;

	ASSERT_OK(start_xapic(&self->s, self->vcpufd,
			      LVTT_ONESHOT | TIMER_VECTOR, TDCR_DIV1, tmict,
			      tmict, &t0));
	c1 = read_tmcct(_metadata, self->vcpufd, &t1);
	ASSERT_NE(0, c1);
	ASSERT_COUNT_IN(c1, tmict, 1, t0, t1);

	sleep_ns(10 * MS);
	c2 = read_tmcct(_metadata, self->vcpufd, &t2);
	if (t2 - t0 < tmict) {
		ASSERT_LT(c2, c1);
		ASSERT_COUNT_IN(c2, tmict, 1, t0, t2);
	}

	sleep_ns(tmict + 500 * MS);
	for (i = 0; i < 3; i++) {
		struct kvm_lapic_state s;

		ASSERT_OK(get_lapic(self->vcpufd, &s));
		EXPECT_EQ(0, lapic_reg(&s, APIC_TMCCT));
		/* The count register survives expiry. */
		EXPECT_EQ(tmict, lapic_reg(&s, APIC_TMICT));
		/* Expiry alone injects nothing: IRR waits for KVM_RUN. */
		EXPECT_EQ(0, lapic_reg(&s, APIC_IRR + 0x10 * (TIMER_VECTOR >> 5)));
		sleep_ns(20 * MS);
	}
}

/* TDCR: the count runs at bus / divide; 1, 2, 16 and 128. */
TEST_F_TIMEOUT(timer, divide_xapic, 60)
{
	static const __u32 tdcrs[] = {
		TDCR_DIV1, TDCR_DIV2, TDCR_DIV16, TDCR_DIV128,
	};
	const __u64 gap = 50 * MS;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(tdcrs); i++) {
		unsigned int div = div_of(tdcrs[i]);
		__u32 tmict = 2000 * MS / div;	/* 2 s at any divide */
		__u64 t0, t1, tm, slept;
		__u32 c, gone;

		ASSERT_OK(start_xapic(&self->s, self->vcpufd,
				      LVTT_ONESHOT | TIMER_VECTOR, tdcrs[i],
				      tmict, tmict, &t0));
		tm = now_ns();
		sleep_ns(gap);
		slept = now_ns() - tm;
		c = read_tmcct(_metadata, self->vcpufd, &t1);
		ASSERT_COUNT_IN(c, tmict, div, t0, t1);
		/* And at least the sleep's worth of counts are gone. */
		gone = slept / div;
		ASSERT_LE(c, tmict - gone + 1)
			TH_LOG("divide %u: %u left of %u after %llu ns", div,
			       c, tmict, (unsigned long long)slept);
	}
}

/* KVM_SET_LAPIC restarts the timer from the TMCCT in the blob. */
TEST_F(timer, restore_from_tmcct)
{
	const __u32 tmict = 2000 * MS;
	const __u32 count = 1000 * MS;
	struct kvm_lapic_state s;
	__u64 t0, t1;
	__u32 c;

	/* One-shot, half-way through; masking the LVT does not stop it. */
	ASSERT_OK(start_xapic(&self->s, self->vcpufd,
			      LVT_MASKED | LVTT_ONESHOT | TIMER_VECTOR,
			      TDCR_DIV1, tmict, count, &t0));
	c = read_tmcct(_metadata, self->vcpufd, &t1);
	ASSERT_COUNT_IN(c, count, 1, t0, t1);

	/* TMCCT above TMICT: the timer starts from TMICT instead. */
	ASSERT_OK(start_xapic(&self->s, self->vcpufd,
			      LVTT_ONESHOT | TIMER_VECTOR, TDCR_DIV1, count,
			      tmict, &t0));
	c = read_tmcct(_metadata, self->vcpufd, &t1);
	ASSERT_COUNT_IN(c, count, 1, t0, t1);

	/* Periodic with TMCCT 0: a whole period. */
	ASSERT_OK(start_xapic(&self->s, self->vcpufd,
			      LVTT_PERIODIC | TIMER_VECTOR, TDCR_DIV1, tmict,
			      0, &t0));
	c = read_tmcct(_metadata, self->vcpufd, &t1);
	ASSERT_COUNT_IN(c, tmict, 1, t0, t1);

	/* One-shot with TMCCT 0 has already expired. */
	ASSERT_OK(start_xapic(&self->s, self->vcpufd,
			      LVTT_ONESHOT | TIMER_VECTOR, TDCR_DIV1, tmict,
			      0, &t0));
	ASSERT_OK(get_lapic(self->vcpufd, &s));
	EXPECT_EQ(0, lapic_reg(&s, APIC_TMCCT));
	EXPECT_EQ(tmict, lapic_reg(&s, APIC_TMICT));

	/* TMICT 0 stops the timer whatever TMCCT says. */
	ASSERT_OK(start_xapic(&self->s, self->vcpufd,
			      LVTT_ONESHOT | TIMER_VECTOR, TDCR_DIV1, 0,
			      count, &t0));
	EXPECT_EQ(0, read_tmcct(_metadata, self->vcpufd, NULL));
}

/* Periodic: the count reloads, so TMCCT keeps reading non-zero. */
TEST_F_TIMEOUT(timer, periodic_xapic, 60)
{
	const __u32 tmict = 100 * MS;	/* 100 ms periods */
	unsigned int nonzero = 0;
	__u64 t0;
	__u32 c;
	int i;

	ASSERT_OK(start_xapic(&self->s, self->vcpufd,
			      LVTT_PERIODIC | TIMER_VECTOR, TDCR_DIV1, tmict,
			      tmict, &t0));
	/* 10 reads over about 4 periods, out of step with the period. */
	for (i = 0; i < 10; i++) {
		sleep_ns(37 * MS);
		c = read_tmcct(_metadata, self->vcpufd, NULL);
		EXPECT_LE(c, tmict);
		nonzero += c != 0;
	}
	/*
	 * A read between an expiry and the hrtimer callback that re-arms
	 * the period sees 0; allow for two such late callbacks.
	 */
	EXPECT_GE(nonzero, 8);

	ASSERT_OK(get_lapic(self->vcpufd, &self->s));
	EXPECT_EQ(0, lapic_reg(&self->s, APIC_IRR + 0x10 * (TIMER_VECTOR >> 5)));
}

/*
 * Periodic periods shorter than min_timer_period_us (200 us) are raised to
 * it, so TMCCT can exceed a small TMICT.
 */
TEST_F(timer, periodic_min_period)
{
	const __u32 tmict = 1000;		/* 1 us requested */
	__u32 c, max = 0;
	__u64 t0;
	int i;

	ASSERT_OK(start_xapic(&self->s, self->vcpufd,
			      LVTT_PERIODIC | TIMER_VECTOR, TDCR_DIV1, tmict,
			      tmict, &t0));
	sleep_ns(5 * MS);
	for (i = 0; i < 20; i++) {
		c = read_tmcct(_metadata, self->vcpufd, NULL);
		EXPECT_LT(c, MIN_PERIOD_NS);
		if (c > max)
			max = c;
		sleep_ns(MIN_PERIOD_NS / 3);
	}
	/*
	 * A read between an expiry and the callback that re-arms the period
	 * sees 0 (as in KVM).  A host that never keeps up with the period
	 * (the debug kernel of make check-debug, under TCG) gives nothing
	 * else: then there is nothing to judge.
	 */
	if (!max)
		SKIP(return,
		     "every TMCCT read was 0: the host did not keep up with a %llu ns period",
		     MIN_PERIOD_NS);
	EXPECT_GT(max, tmict);

	/* Stop it again: TMICT 0. */
	ASSERT_OK(start_xapic(&self->s, self->vcpufd,
			      LVTT_PERIODIC | TIMER_VECTOR, TDCR_DIV1, 0, 0,
			      &t0));
	EXPECT_EQ(0, read_tmcct(_metadata, self->vcpufd, NULL));
}

/*
 * Without CPUID leaf 1 the LVTT has no periodic mode (KVM's
 * timer_mode_mask is 0), so a "periodic" timer behaves as one-shot.
 */
TEST(no_cpuid_no_periodic)
{
	const __u32 tmict = 50 * MS;
	struct kvm_lapic_state s;
	int devfd, vmfd, vcpufd;

	devfd = open_dev();
	ASSERT_OK(devfd);
	vmfd = vm_create_split(devfd);
	ASSERT_OK(vmfd);
	vcpufd = vcpu_create(vmfd, 0);
	ASSERT_OK(vcpufd);
	ASSERT_OK(get_lapic(vcpufd, &s));
	lapic_set_reg(&s, APIC_SPIV, 0x1ff);
	lapic_set_reg(&s, APIC_LVTT, LVTT_PERIODIC | TIMER_VECTOR);
	lapic_set_reg(&s, APIC_TDCR, TDCR_DIV1);
	lapic_set_reg(&s, APIC_TMICT, tmict);
	lapic_set_reg(&s, APIC_TMCCT, tmict);
	ASSERT_OK(set_lapic(vcpufd, &s));
	sleep_ns(tmict + 300 * MS);
	ASSERT_OK(get_lapic(vcpufd, &s));
	EXPECT_EQ(0, lapic_reg(&s, APIC_TMCCT));
	/* The register keeps the bit the guest wrote. */
	EXPECT_EQ(LVTT_PERIODIC | TIMER_VECTOR, lapic_reg(&s, APIC_LVTT));

	/* Nor a TSC-deadline mode: the MSR stays 0. */
	lapic_set_reg(&s, APIC_LVTT, LVTT_TSCDEADLINE | TIMER_VECTOR);
	ASSERT_OK(set_lapic(vcpufd, &s));
	EXPECT_EQ(1, set_msr(vcpufd, MSR_IA32_TSC_DEADLINE, rdtsc() + 1000000));
	{
		__u64 v = 1;

		EXPECT_EQ(1, get_msr(vcpufd, MSR_IA32_TSC_DEADLINE, &v));
		EXPECT_EQ(0, v);
	}
	close(vcpufd);
	close(vmfd);
	close(devfd);
}

/*
 * MSR_IA32_TSC_DEADLINE holds a value only in TSC-deadline mode with the
 * APIC hardware-enabled; elsewhere writes succeed but are dropped.
 */
TEST_F(timer, tscdeadline_msr_modes)
{
	__u64 v, d = rdtsc() + (1ull << 40);	/* far in the future */
	struct kvm_lapic_state s;
	__u64 t0;

	/* One-shot mode: dropped. */
	ASSERT_OK(start_xapic(&self->s, self->vcpufd,
			      LVTT_ONESHOT | TIMER_VECTOR, TDCR_DIV1, 0, 0,
			      &t0));
	EXPECT_EQ(1, set_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, d));
	EXPECT_EQ(1, get_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, &v));
	EXPECT_EQ(0, v);

	/* Periodic mode: dropped. */
	ASSERT_OK(start_xapic(&self->s, self->vcpufd,
			      LVTT_PERIODIC | TIMER_VECTOR, TDCR_DIV1, 0, 0,
			      &t0));
	EXPECT_EQ(1, set_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, d));
	EXPECT_EQ(1, get_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, &v));
	EXPECT_EQ(0, v);

	/* TSC-deadline mode: kept, and TMCCT reads 0. */
	ASSERT_OK(start_xapic(&self->s, self->vcpufd,
			      LVTT_TSCDEADLINE | TIMER_VECTOR, TDCR_DIV1, 0, 0,
			      &t0));
	EXPECT_EQ(1, get_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, &v));
	EXPECT_EQ(0, v);
	EXPECT_EQ(1, set_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, d));
	EXPECT_EQ(1, get_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, &v));
	EXPECT_EQ(d, v);
	EXPECT_EQ(0, read_tmcct(_metadata, self->vcpufd, NULL));

	/* Software-disabled APIC: still kept (only EN matters). */
	self->s.regs[APIC_SPIV + 1] = 0;	/* SPIV bit 8 clear */
	ASSERT_OK(set_lapic(self->vcpufd, &self->s));
	EXPECT_EQ(1, get_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, &v));
	EXPECT_EQ(d, v);
	EXPECT_EQ(1, set_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, d + 1));
	EXPECT_EQ(1, get_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, &v));
	EXPECT_EQ(d + 1, v);

	/* KVM_SET_LAPIC in the same mode keeps the deadline... */
	lapic_set_reg(&self->s, APIC_SPIV, 0x1ff);
	ASSERT_OK(set_lapic(self->vcpufd, &self->s));
	EXPECT_EQ(1, get_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, &v));
	EXPECT_EQ(d + 1, v);

	/* ...0 disarms it... */
	EXPECT_EQ(1, set_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, 0));
	EXPECT_EQ(1, get_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, &v));
	EXPECT_EQ(0, v);

	/* ...and leaving the mode clears it for good. */
	EXPECT_EQ(1, set_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, d));
	ASSERT_OK(start_xapic(&self->s, self->vcpufd,
			      LVTT_ONESHOT | TIMER_VECTOR, TDCR_DIV1, 0, 0,
			      &t0));
	ASSERT_OK(start_xapic(&self->s, self->vcpufd,
			      LVTT_TSCDEADLINE | TIMER_VECTOR, TDCR_DIV1, 0, 0,
			      &t0));
	EXPECT_EQ(1, get_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, &v));
	EXPECT_EQ(0, v);

	/* Hardware-disabled APIC: reads 0, writes dropped. */
	EXPECT_EQ(1, set_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, d));
	ASSERT_EQ(1, set_msr(self->vcpufd, MSR_IA32_APICBASE,
			     APIC_BASE_DEFAULT | APIC_BASE_BSP));
	EXPECT_EQ(1, get_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, &v));
	EXPECT_EQ(0, v);
	EXPECT_EQ(1, set_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, d + 5));
	ASSERT_OK(get_lapic(self->vcpufd, &s));
	EXPECT_EQ(0, lapic_reg(&s, APIC_TMCCT));

	/* Re-enabling leaves the timer alone: the old deadline is back. */
	ASSERT_EQ(1, set_msr(self->vcpufd, MSR_IA32_APICBASE,
			     APIC_BASE_DEFAULT | APIC_BASE_BSP | APIC_BASE_EN));
	EXPECT_EQ(1, get_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, &v));
	EXPECT_EQ(d, v);
}

/*
 * A TSC deadline keeps its value after it passes: only the injection at
 * guest entry, which a VMM that never runs the vCPU never triggers,
 * clears it.  A deadline already in the past expires at once, likewise.
 */
TEST_F_TIMEOUT(timer, tscdeadline_expiry, 60)
{
	__u64 v, d;
	__u64 t0;

	ASSERT_OK(start_xapic(&self->s, self->vcpufd,
			      LVTT_TSCDEADLINE | TIMER_VECTOR, TDCR_DIV1, 0, 0,
			      &t0));
	d = rdtsc() + 1000000;		/* well under 300 ms at any TSC rate */
	EXPECT_EQ(1, set_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, d));
	sleep_ns(300 * MS);
	EXPECT_EQ(1, get_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, &v));
	EXPECT_EQ(d, v);
	ASSERT_OK(get_lapic(self->vcpufd, &self->s));
	EXPECT_EQ(0, lapic_reg(&self->s, APIC_IRR + 0x10 * (TIMER_VECTOR >> 5)));
	EXPECT_EQ(0, lapic_reg(&self->s, APIC_TMCCT));

	/* A past deadline: expired at once, value kept. */
	EXPECT_EQ(1, set_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, 1));
	EXPECT_EQ(1, get_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, &v));
	EXPECT_EQ(1, v);

	/* Re-arming after an expiry works the same. */
	d = rdtsc() + (1ull << 40);
	EXPECT_EQ(1, set_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, d));
	EXPECT_EQ(1, get_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, &v));
	EXPECT_EQ(d, v);
}

/*
 * Entering or leaving TSC-deadline mode zeroes TMICT, even when
 * KVM_SET_LAPIC supplies one; one-shot <-> periodic keeps the count.
 */
TEST_F(timer, mode_switch_clears_tmict)
{
	const __u32 tmict = 2000 * MS;
	struct kvm_lapic_state s;
	__u64 t0, t1;
	__u32 c;

	ASSERT_OK(start_xapic(&self->s, self->vcpufd,
			      LVTT_ONESHOT | TIMER_VECTOR, TDCR_DIV1, tmict,
			      tmict, &t0));
	ASSERT_OK(start_xapic(&self->s, self->vcpufd,
			      LVTT_TSCDEADLINE | TIMER_VECTOR, TDCR_DIV1, tmict,
			      tmict, &t0));
	ASSERT_OK(get_lapic(self->vcpufd, &s));
	EXPECT_EQ(0, lapic_reg(&s, APIC_TMICT));
	EXPECT_EQ(0, lapic_reg(&s, APIC_TMCCT));

	ASSERT_OK(start_xapic(&self->s, self->vcpufd,
			      LVTT_ONESHOT | TIMER_VECTOR, TDCR_DIV1, tmict,
			      tmict, &t0));
	ASSERT_OK(get_lapic(self->vcpufd, &s));
	EXPECT_EQ(0, lapic_reg(&s, APIC_TMICT));
	EXPECT_EQ(0, lapic_reg(&s, APIC_TMCCT));

	/* Now in one-shot mode already: the blob's TMICT is taken. */
	ASSERT_OK(start_xapic(&self->s, self->vcpufd,
			      LVTT_ONESHOT | TIMER_VECTOR, TDCR_DIV1, tmict,
			      tmict, &t0));
	ASSERT_OK(start_xapic(&self->s, self->vcpufd,
			      LVTT_PERIODIC | TIMER_VECTOR, TDCR_DIV1, tmict,
			      tmict, &t0));
	ASSERT_OK(get_lapic(self->vcpufd, &s));
	t1 = now_ns();
	EXPECT_EQ(tmict, lapic_reg(&s, APIC_TMICT));
	c = lapic_reg(&s, APIC_TMCCT);
	ASSERT_COUNT_IN(c, tmict, 1, t0, t1);
}

/* x2APIC: the timer through MSRs 0x832 (LVTT), 0x838 (TMICT), 0x83e. */
FIXTURE(x2timer) {
	int devfd;
	int vmfd;
	int vcpufd;
};

FIXTURE_SETUP(x2timer)
{
	self->devfd = open_dev();
	ASSERT_OK(self->devfd);
	self->vmfd = vm_create_split(self->devfd);
	ASSERT_OK(self->vmfd);
	self->vcpufd = vcpu_create(self->vmfd, 0);
	ASSERT_OK(self->vcpufd);
	ASSERT_OK(set_cpuid_leaf1(self->vcpufd, CPUID1_ECX_X2APIC |
				  CPUID1_ECX_TSC_DEADLINE));
	ASSERT_EQ(1, set_msr(self->vcpufd, MSR_IA32_APICBASE,
			     APIC_BASE_DEFAULT | APIC_BASE_BSP | APIC_BASE_EN |
			     APIC_BASE_EXTD));
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_SPIV), 0x1ff));
}

FIXTURE_TEARDOWN(x2timer)
{
	close(self->vcpufd);
	close(self->vmfd);
	close(self->devfd);
}

static __u32 msr_tmcct(struct __test_metadata *_metadata, int vcpufd)
{
	__u64 v = ~0ull;

	ASSERT_EQ(1, get_msr(vcpufd, X2APIC_MSR(APIC_TMCCT), &v));
	return v;
}

TEST_F_TIMEOUT(x2timer, oneshot_msr, 60)
{
	const __u32 tmict = 300 * MS;
	__u64 t0, t1;
	__u32 c, c2;

	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_TDCR), TDCR_DIV1));
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_LVTT),
			     LVTT_ONESHOT | TIMER_VECTOR));
	t0 = now_ns();
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_TMICT), tmict));
	c = msr_tmcct(_metadata, self->vcpufd);
	t1 = now_ns();
	ASSERT_NE(0, c);
	ASSERT_COUNT_IN(c, tmict, 1, t0, t1);

	sleep_ns(10 * MS);
	c2 = read_tmcct(_metadata, self->vcpufd, &t1);
	if (t1 - t0 < tmict) {
		ASSERT_LT(c2, c);
		ASSERT_COUNT_IN(c2, tmict, 1, t0, t1);
	}

	sleep_ns(tmict + 500 * MS);
	EXPECT_EQ(0, msr_tmcct(_metadata, self->vcpufd));
	EXPECT_EQ(0, read_tmcct(_metadata, self->vcpufd, NULL));

	/* A new TMICT write restarts it. */
	t0 = now_ns();
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_TMICT), tmict));
	c = msr_tmcct(_metadata, self->vcpufd);
	t1 = now_ns();
	ASSERT_COUNT_IN(c, tmict, 1, t0, t1);

	/* TMICT 0 stops it. */
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_TMICT), 0));
	EXPECT_EQ(0, msr_tmcct(_metadata, self->vcpufd));
}

/*
 * A TDCR write while the timer runs keeps the count: what remains is
 * rescaled to the new divisor, it does not jump.
 */
TEST_F(x2timer, divide_change_rescales)
{
	const __u32 tmict = 1000 * MS;
	__u64 t0, t1;
	__u32 c0, c1;

	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_TDCR), TDCR_DIV1));
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_LVTT),
			     LVTT_ONESHOT | TIMER_VECTOR));
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_TMICT), tmict));
	t0 = now_ns();
	c0 = msr_tmcct(_metadata, self->vcpufd);
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_TDCR),
			     TDCR_DIV128));
	c1 = msr_tmcct(_metadata, self->vcpufd);
	t1 = now_ns();
	/* At most t1 - t0 ns at divide 1 were lost across the switch. */
	ASSERT_COUNT_IN(c1, c0, 1, t0, t1);

	/* From now on it counts 128 times slower. */
	sleep_ns(100 * MS);
	t0 = now_ns();
	c0 = msr_tmcct(_metadata, self->vcpufd);
	sleep_ns(50 * MS);
	c1 = msr_tmcct(_metadata, self->vcpufd);
	t1 = now_ns();
	ASSERT_NE(0, c1);
	ASSERT_COUNT_IN(c1, c0, 128, t0, t1);
}

/*
 * An LVTT write between one-shot and periodic leaves a running count
 * alone; the mode decides only what happens when it reaches 0.
 */
TEST_F_TIMEOUT(x2timer, oneshot_periodic_switch, 60)
{
	const __u32 tmict = 200 * MS;
	unsigned int nonzero = 0;
	__u64 t0, t1;
	__u32 c;
	int i;

	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_TDCR), TDCR_DIV1));
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_LVTT),
			     LVTT_ONESHOT | TIMER_VECTOR));
	t0 = now_ns();
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_TMICT), tmict));
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_LVTT),
			     LVTT_PERIODIC | TIMER_VECTOR));
	c = msr_tmcct(_metadata, self->vcpufd);
	t1 = now_ns();
	ASSERT_COUNT_IN(c, tmict, 1, t0, t1);

	/* Past the first expiry it reloads, as periodic. */
	sleep_ns(tmict + 150 * MS);
	for (i = 0; i < 3; i++) {
		nonzero += msr_tmcct(_metadata, self->vcpufd) != 0;
		sleep_ns(23 * MS);
	}
	/* One read may fall between an expiry and its re-arm. */
	EXPECT_GE(nonzero, 2);

	/* Back to one-shot: the current period is the last. */
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_LVTT),
			     LVTT_ONESHOT | TIMER_VECTOR));
	sleep_ns(2 * tmict + 150 * MS);
	EXPECT_EQ(0, msr_tmcct(_metadata, self->vcpufd));
	EXPECT_EQ(0, read_tmcct(_metadata, self->vcpufd, NULL));
}

/* TMICT writes are ignored in TSC-deadline mode; the MSR works. */
TEST_F(x2timer, tscdeadline_msr)
{
	__u64 v, d = rdtsc() + (1ull << 40);
	struct kvm_lapic_state s;

	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_LVTT),
			     LVTT_TSCDEADLINE | TIMER_VECTOR));
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_TMICT), 12345));
	ASSERT_OK(get_lapic(self->vcpufd, &s));
	EXPECT_EQ(0, lapic_reg(&s, APIC_TMICT));
	EXPECT_EQ(0, msr_tmcct(_metadata, self->vcpufd));

	EXPECT_EQ(1, set_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, d));
	EXPECT_EQ(1, get_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, &v));
	EXPECT_EQ(d, v);

	/* Back to one-shot through the register: the deadline is gone. */
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_LVTT),
			     LVTT_ONESHOT | TIMER_VECTOR));
	EXPECT_EQ(1, get_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, &v));
	EXPECT_EQ(0, v);
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_LVTT),
			     LVTT_TSCDEADLINE | TIMER_VECTOR));
	EXPECT_EQ(1, get_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, &v));
	EXPECT_EQ(0, v);
}

TEST_HARNESS_MAIN
