// SPDX-License-Identifier: GPL-2.0-only
/*
 * The APIC timer through lapicv's run step (LAPICV_RUN): a halted vCPU is
 * woken by the expiry, the LVTT vector is injected once per expiry, and
 * the injection retires a one-shot or TSC-deadline timer as KVM's guest
 * entry does (kvm_inject_apic_timer_irqs).  LAPICV_RUN is lapicv's own
 * ioctl, so every test here skips on /dev/kvm.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/lapicv.h>

#include "kselftest_harness.h"
#include "lapicv_util.h"
#include "lapicv_run.h"
#include "timer_util.h"

FIXTURE(run) {
	int devfd;
	int vmfd;
	int vcpufd;
};

/* x2APIC, software-enabled, TDCR divide by 1, LVTT one-shot unmasked. */
FIXTURE_SETUP(run)
{
	REQUIRE_LAPICV();
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
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_TDCR), TDCR_DIV1));
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_LVTT),
			     LVTT_ONESHOT | TIMER_VECTOR));
}

FIXTURE_TEARDOWN(run)
{
	if (dev_is_kvm())
		return;
	close(self->vcpufd);
	close(self->vmfd);
	close(self->devfd);
}

static bool injected(const struct lapicv_run *r, __u32 vector)
{
	return (r->exit_reason == LAPICV_RUN_INTR ||
		r->exit_reason == LAPICV_RUN_VIRTUAL_INTR) &&
	       r->vector == vector;
}

/* A halted vCPU sleeps until the one-shot expiry, then takes the vector. */
TEST_F_TIMEOUT(run, oneshot_wakes_halted, 60)
{
	const __u32 tmict = 50 * MS;
	struct kvm_lapic_state s;
	struct lapicv_run r;
	__u64 t0, t1;

	t0 = now_ns();
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_TMICT), tmict));
	ASSERT_OK(lapicv_run_step(self->vcpufd, true, true, &r));
	t1 = now_ns();
	ASSERT_TRUE(injected(&r, TIMER_VECTOR))
		TH_LOG("exit %u vector %#x", r.exit_reason, r.vector);
	EXPECT_EQ(0, r.halted_out);
	/* An hrtimer never fires early. */
	EXPECT_GE(t1 - t0, tmict);

	ASSERT_OK(get_lapic(self->vcpufd, &s));
	EXPECT_EQ(0, lapic_reg(&s, APIC_TMCCT));
	EXPECT_TRUE(lapic_test_vec(&s, APIC_ISR, TIMER_VECTOR));
	EXPECT_FALSE(lapic_test_vec(&s, APIC_IRR, TIMER_VECTOR));

	/* One-shot: nothing more, even after EOI. */
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_EOI), 0));
	sleep_ns(tmict);
	ASSERT_OK(lapicv_run_step(self->vcpufd, true, false, &r));
	EXPECT_EQ(LAPICV_RUN_NONE, r.exit_reason);
}

/* The injection retires a TSC deadline: the MSR reads 0 afterwards. */
TEST_F_TIMEOUT(run, tscdeadline_injection_clears_msr, 60)
{
	struct lapicv_run r;
	__u64 d, v = 1;

	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_LVTT),
			     LVTT_TSCDEADLINE | TIMER_VECTOR));
	d = rdtsc() + 1000000;
	ASSERT_EQ(1, set_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, d));
	EXPECT_EQ(1, get_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, &v));
	EXPECT_EQ(d, v);

	ASSERT_OK(lapicv_run_step(self->vcpufd, true, true, &r));
	ASSERT_TRUE(injected(&r, TIMER_VECTOR))
		TH_LOG("exit %u vector %#x", r.exit_reason, r.vector);
	/* The deadline has passed by the time the vector is injected. */
	EXPECT_GE(rdtsc(), d);
	EXPECT_EQ(1, get_msr(self->vcpufd, MSR_IA32_TSC_DEADLINE, &v));
	EXPECT_EQ(0, v);
}

/* Periodic: every period brings the vector again once EOI frees ISR. */
TEST_F_TIMEOUT(run, periodic_reinjects, 60)
{
	const __u32 tmict = 20 * MS;
	struct lapicv_run r;
	int i;

	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_LVTT),
			     LVTT_PERIODIC | TIMER_VECTOR));
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_TMICT), tmict));
	for (i = 0; i < 3; i++) {
		ASSERT_OK(lapicv_run_step(self->vcpufd, true, true, &r));
		ASSERT_TRUE(injected(&r, TIMER_VECTOR))
			TH_LOG("period %d: exit %u vector %#x", i,
			       r.exit_reason, r.vector);
		ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_EOI), 0));
	}
	/* Still counting: the period reloads. */
	EXPECT_LE(msr_tmcct_raw(self->vcpufd), tmict);

	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_TMICT), 0));
	sleep_ns(3 * tmict);
	ASSERT_OK(lapicv_run_step(self->vcpufd, true, false, &r));
	EXPECT_EQ(LAPICV_RUN_NONE, r.exit_reason);
}

/*
 * An expiry while the LVTT is masked stays pending without reaching IRR;
 * unmasking the LVTT (same mode, so the timer is not touched) lets the
 * next run step inject it, as KVM's apic_has_pending_timer() gates it.
 */
TEST_F_TIMEOUT(run, masked_expiry_waits_for_unmask, 60)
{
	const __u32 tmict = 10 * MS;
	struct kvm_lapic_state s;
	struct lapicv_run r;

	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_LVTT),
			     LVT_MASKED | LVTT_ONESHOT | TIMER_VECTOR));
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_TMICT), tmict));
	sleep_ns(tmict + 100 * MS);

	ASSERT_OK(lapicv_run_step(self->vcpufd, true, false, &r));
	EXPECT_EQ(LAPICV_RUN_NONE, r.exit_reason);
	ASSERT_OK(get_lapic(self->vcpufd, &s));
	EXPECT_FALSE(lapic_test_vec(&s, APIC_IRR, TIMER_VECTOR));

	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_LVTT),
			     LVTT_ONESHOT | TIMER_VECTOR));
	ASSERT_OK(lapicv_run_step(self->vcpufd, true, false, &r));
	EXPECT_TRUE(injected(&r, TIMER_VECTOR))
		TH_LOG("exit %u vector %#x", r.exit_reason, r.vector);
}

/*
 * KVM_SET_LAPIC of a one-shot timer with TMCCT 0 has already expired: the
 * next run step injects without waiting.  A later TMICT write forgets an
 * expiry not yet injected.
 */
TEST_F(run, restore_expired_and_rewrite)
{
	struct kvm_lapic_state s;
	struct lapicv_run r;

	ASSERT_OK(get_lapic(self->vcpufd, &s));
	lapic_set_reg(&s, APIC_TMICT, 1000 * MS);
	lapic_set_reg(&s, APIC_TMCCT, 0);
	ASSERT_OK(set_lapic(self->vcpufd, &s));
	ASSERT_OK(lapicv_run_step(self->vcpufd, true, false, &r));
	EXPECT_TRUE(injected(&r, TIMER_VECTOR))
		TH_LOG("exit %u vector %#x", r.exit_reason, r.vector);
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_EOI), 0));

	ASSERT_OK(set_lapic(self->vcpufd, &s));
	ASSERT_EQ(1, set_msr(self->vcpufd, X2APIC_MSR(APIC_TMICT), 1000 * MS));
	ASSERT_OK(lapicv_run_step(self->vcpufd, true, false, &r));
	EXPECT_EQ(LAPICV_RUN_NONE, r.exit_reason);
	EXPECT_NE(0, msr_tmcct_raw(self->vcpufd));
}

TEST_HARNESS_MAIN
