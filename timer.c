// SPDX-License-Identifier: GPL-2.0-only
/*
 * The local APIC timer: one-shot, periodic and TSC-deadline modes on a
 * CLOCK_MONOTONIC hrtimer, with the semantics of KVM's software timer.
 *
 * Time bases.  TMICT counts APIC bus cycles (lapicv_lapic.bus_cycle_ns each)
 * times divide_count.  A lapicv VM has no TSC offset or scaling of its own,
 * so the guest TSC is the host TSC: TSC-deadline values are compared with
 * rdtsc() and converted with tsc_khz, as KVM does for a vCPU whose offset
 * is 0 and ratio 1 (kvm_read_l1_tsc() returning the host TSC).
 *
 * Concurrency (lock card).
 *
 * lapicv_timer
 *	:Type:     no lock of its own.
 *	:Protects: n/a.  Most writes by the vCPU's context (its mutex held)
 *	           follow hrtimer_cancel(), so the callback cannot run beside
 *	           them.  One does not, as in KVM: an LVTT write that keeps the
 *	           mode updates timer_mode and the period's clamp with the
 *	           timer armed; the callback then sees the old or the new
 *	           value, each a consistent timer.
 *	:Writers:  the vCPU's context; and the hrtimer callback, which writes
 *	           only "pending" (atomic) and, in periodic mode,
 *	           target_expiration and tscdeadline.  A periodic target is
 *	           advanced by the callback at each expiry, and by the vCPU's
 *	           context only when it (re)starts a stopped timer already
 *	           past its target (apic_start_sw_period()); injecting the
 *	           expiry leaves it alone.
 *	:Readers:  TMCCT and MSR reads run alongside the callback without a
 *	           lock, as in KVM: target_expiration and timer_mode are read
 *	           and written with READ_ONCE()/WRITE_ONCE(), and a read that
 *	           races with a re-arm sees either period's value.
 *
 * Expiry while the vCPU is not in a run step does what KVM's does for a
 * vCPU outside the guest: the expiry is counted in "pending" (one at most)
 * and the vCPU is woken; the LVTT interrupt reaches IRR only when the run
 * step injects it (lapicv_timer_inject_pending()).  So a VMM sees exactly
 * what it sees on KVM: TMCCT 0 after a one-shot expiry, IRR unchanged, the
 * TSC-deadline MSR still holding the expired deadline.
 *
 * KVM's timer advance (firing TSC-deadline timers early and busy-waiting
 * at guest entry) and its VMX preemption-timer offload are not emulated:
 * the SVM runner does not tune its entry timing.
 */
#include "lapic.h"
#include "timer.h"

/*
 * KVM's min_timer_period_us: the shortest periodic period a guest may
 * program, as unthrottled hrtimers would otherwise let it load the host.
 */
static unsigned int min_timer_period_us = 200;
module_param(min_timer_period_us, uint, 0644);
MODULE_PARM_DESC(min_timer_period_us,
		 "Shortest periodic APIC timer period, in microseconds");

static struct lapicv_lapic *apic_of_timer(struct hrtimer *t)
{
	return container_of(t, struct lapicv_lapic, lapic_timer.timer);
}

static u32 apic_timer_mode(struct lapicv_lapic *apic)
{
	return READ_ONCE(apic->lapic_timer.timer_mode);
}

static bool apic_lvtt_oneshot(struct lapicv_lapic *apic)
{
	return apic_timer_mode(apic) == APIC_LVT_TIMER_ONESHOT;
}

static bool apic_lvtt_period(struct lapicv_lapic *apic)
{
	return apic_timer_mode(apic) == APIC_LVT_TIMER_PERIODIC;
}

static bool apic_lvtt_tscdeadline(struct lapicv_lapic *apic)
{
	return apic_timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE;
}

/* The guest TSC: the host's, as the file comment explains. */
static u64 apic_guest_tsc(u64 host_tsc)
{
	return host_tsc;
}

static u64 apic_ns_to_cycles(u64 ns)
{
	return mul_u64_u32_div(ns, tsc_khz, NSEC_PER_MSEC);
}

static u64 apic_tmict_to_ns(struct lapicv_lapic *apic, u32 count)
{
	return (u64)count * apic->bus_cycle_ns * apic->divide_count;
}

/* TDCR bits 0, 1 and 3 select divide by 2 .. 128, or 1 (0b1011). */
static void apic_update_divide_count(struct lapicv_lapic *apic)
{
	u32 tdcr = lapicv_get_reg(apic, APIC_TDCR);
	u32 shift = ((tdcr & 0x3) | ((tdcr & 0x8) >> 1)) + 1;

	apic->divide_count = 1u << (shift & 0x7);
}

static void apic_limit_periodic_timer(struct lapicv_lapic *apic)
{
	struct lapicv_timer *t = &apic->lapic_timer;
	s64 min_period = min_timer_period_us * (s64)NSEC_PER_USEC;

	if (!apic_lvtt_period(apic) || !t->period || t->period >= min_period)
		return;

	/* A guest can hit this at will: never more than a trickle of logs. */
	pr_info_ratelimited("lapicv: vcpu %u: periodic APIC timer of %lld ns raised to %lld ns\n",
			    apic->vcpu->vcpu_id, t->period, min_period);
	t->period = min_period;
}

/*
 * The timer reached its deadline.  A vCPU outside the run step cannot take
 * the interrupt now: count it (once; more expiries before the injection
 * coalesce, as on KVM) and wake the vCPU.  @from_timer_fn: called by the
 * hrtimer, not by the vCPU itself, which needs no wake-up.
 */
static void apic_timer_expired(struct lapicv_lapic *apic, bool from_timer_fn)
{
	struct lapicv_timer *t = &apic->lapic_timer;

	if (atomic_read(&t->pending))
		return;

	atomic_inc(&t->pending);
	if (from_timer_fn)
		lapicv_vcpu_kick(apic->vcpu);
}

/*
 * Arm the hrtimer for the TSC deadline.  IRQs stay off between reading the
 * clock and the TSC so the two describe the same instant.  The arithmetic
 * is KVM's, wrap-around included, so a deadline far in the future fires
 * when KVM's would.
 */
static void apic_start_sw_tscdeadline(struct lapicv_lapic *apic)
{
	struct lapicv_timer *t = &apic->lapic_timer;
	u64 deadline = t->tscdeadline;
	unsigned long flags;
	u64 guest_tsc, ns;
	bool expired;
	ktime_t now;

	if (!deadline || !tsc_khz)
		return;

	/* The clock and the TSC read together, as one instant. */
	local_irq_save(flags);
	now = ktime_get();
	guest_tsc = apic_guest_tsc(rdtsc());

	ns = (deadline - guest_tsc) * 1000000ULL;
	do_div(ns, tsc_khz);

	expired = deadline <= guest_tsc || !ns;
	if (!expired)
		hrtimer_start(&t->timer, ktime_add_ns(now, ns),
			      HRTIMER_MODE_ABS_SOFT);
	local_irq_restore(flags);
	/* Outside the irq-off section: expiry kicks (a wait-queue lock). */
	if (expired)
		apic_timer_expired(apic, false);
}

/*
 * Next periodic expiry: one period after the last one, but never in the
 * past: a VMM that did not run the vCPU for a while gets one interrupt,
 * not a burst of catch-up expiries.  The TSC deadline follows the same
 * kernel-time target so the two never drift apart.
 */
static void apic_advance_periodic_target(struct lapicv_lapic *apic)
{
	struct lapicv_timer *t = &apic->lapic_timer;
	ktime_t now = ktime_get();
	u64 tsc = rdtsc();
	ktime_t target;

	target = ktime_add_ns(t->target_expiration, t->period);
	if (ktime_before(target, now))
		target = now;
	WRITE_ONCE(t->target_expiration, target);
	t->tscdeadline = apic_guest_tsc(tsc) +
			 apic_ns_to_cycles(ktime_sub(target, now));
}

static void apic_start_sw_period(struct lapicv_lapic *apic)
{
	struct lapicv_timer *t = &apic->lapic_timer;

	if (!t->period)
		return;

	if (ktime_after(ktime_get(), t->target_expiration)) {
		apic_timer_expired(apic, false);
		if (apic_lvtt_oneshot(apic))
			return;
		apic_advance_periodic_target(apic);
	}

	hrtimer_start(&t->timer, t->target_expiration, HRTIMER_MODE_ABS_SOFT);
}

/*
 * (Re)arm the hrtimer for the current mode.  A one-shot or TSC-deadline
 * expiry still waiting for injection keeps the timer idle.
 */
static void apic_restart_timer(struct lapicv_lapic *apic)
{
	if (!apic_lvtt_period(apic) && atomic_read(&apic->lapic_timer.pending))
		return;

	if (apic_lvtt_period(apic) || apic_lvtt_oneshot(apic))
		apic_start_sw_period(apic);
	else if (apic_lvtt_tscdeadline(apic))
		apic_start_sw_tscdeadline(apic);
}

/*
 * Compute period and target from TMICT, or, when restoring state, from
 * the count in @count_reg (TMCCT).  Returns false if TMICT is 0: the
 * timer stays idle.
 */
static bool apic_set_target_expiration(struct lapicv_lapic *apic,
				       u32 count_reg)
{
	struct lapicv_timer *t = &apic->lapic_timer;
	u64 tsc = rdtsc();
	ktime_t now = ktime_get();
	s64 deadline;

	t->period = apic_tmict_to_ns(apic, lapicv_get_reg(apic, APIC_TMICT));
	if (!t->period) {
		t->tscdeadline = 0;
		return false;
	}

	apic_limit_periodic_timer(apic);
	deadline = t->period;

	if (count_reg != APIC_TMICT) {
		u32 count = lapicv_get_reg(apic, count_reg);

		deadline = apic_tmict_to_ns(apic, count);
		if (deadline <= 0) {
			/* Nothing left: periodic starts a new period. */
			deadline = apic_lvtt_period(apic) ? t->period : 0;
		} else if (deadline > t->period) {
			/* Userspace handed in more than a full period. */
			pr_info_ratelimited("lapicv: vcpu %u: restored timer count %u exceeds the initial count; using the initial count\n",
					    apic->vcpu->vcpu_id, count);
			lapicv_set_reg(apic, count_reg, 0);
			deadline = t->period;
		}
	}

	t->tscdeadline = apic_guest_tsc(tsc) + apic_ns_to_cycles(deadline);
	WRITE_ONCE(t->target_expiration, ktime_add_ns(now, deadline));
	return true;
}

static void __apic_start_timer(struct lapicv_lapic *apic, u32 count_reg)
{
	atomic_set(&apic->lapic_timer.pending, 0);

	if ((apic_lvtt_period(apic) || apic_lvtt_oneshot(apic)) &&
	    !apic_set_target_expiration(apic, count_reg))
		return;

	apic_restart_timer(apic);
}

/*
 * Runs in softirq context (HRTIMER_MODE_ABS_SOFT), unlike KVM's hard-irq
 * timer: the kick takes the vCPU's wait-queue lock, a spinlock_t, which a
 * hard-irq callback must not take (PREEMPT_RT makes it a sleeping lock).
 * KVM avoids that with an rcuwait; lapicv pays a softirq's latency.
 */
static enum hrtimer_restart apic_timer_fn(struct hrtimer *data)
{
	struct lapicv_lapic *apic = apic_of_timer(data);
	struct lapicv_timer *t = &apic->lapic_timer;

	apic_timer_expired(apic, true);

	/* Periodic timers only run with a period; see set_target. */
	if (!apic_lvtt_period(apic) || !t->period)
		return HRTIMER_NORESTART;

	apic_advance_periodic_target(apic);
	hrtimer_set_expires(&t->timer, t->target_expiration);
	return HRTIMER_RESTART;
}

void lapicv_timer_init(struct lapicv_lapic *apic)
{
	struct lapicv_timer *t = &apic->lapic_timer;

	hrtimer_init(&t->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_SOFT);
	t->timer.function = apic_timer_fn;
	atomic_set(&t->pending, 0);
}

void lapicv_timer_destroy(struct lapicv_lapic *apic)
{
	hrtimer_cancel(&apic->lapic_timer.timer);
}

void lapicv_timer_cancel(struct lapicv_lapic *apic)
{
	hrtimer_cancel(&apic->lapic_timer.timer);
	atomic_set(&apic->lapic_timer.pending, 0);
}

void lapicv_timer_set_cpuid(struct lapicv_lapic *apic, bool tsc_deadline)
{
	/* KVM's values: the LVTT mode field is bits 18:17. */
	apic->lapic_timer.timer_mode_mask = tsc_deadline ? 3 << 17 : 1 << 17;
}

void lapicv_timer_update_lvtt(struct lapicv_lapic *apic)
{
	struct lapicv_timer *t = &apic->lapic_timer;
	u32 mode = lapicv_get_reg(apic, APIC_LVTT) & t->timer_mode_mask;
	bool to_tscdeadline = mode == APIC_LVT_TIMER_TSCDEADLINE;

	if (t->timer_mode == mode)
		return;

	/*
	 * The count and the deadline mean nothing in the other clock, so a
	 * switch into or out of TSC-deadline mode stops the timer.
	 */
	if (apic_lvtt_tscdeadline(apic) != to_tscdeadline) {
		lapicv_timer_cancel(apic);
		lapicv_set_reg(apic, APIC_TMICT, 0);
		t->period = 0;
		t->tscdeadline = 0;
	}
	WRITE_ONCE(t->timer_mode, mode);
	apic_limit_periodic_timer(apic);
}

/*
 * Keep the time already elapsed and scale what remains by the new divisor,
 * moving the TSC deadline by the same amount.
 */
static void apic_rescale_target(struct lapicv_lapic *apic, u32 old_divisor)
{
	struct lapicv_timer *t = &apic->lapic_timer;
	u64 old_ns, new_ns;
	ktime_t now, left;

	t->period = apic_tmict_to_ns(apic, lapicv_get_reg(apic, APIC_TMICT));
	apic_limit_periodic_timer(apic);

	now = ktime_get();
	left = ktime_sub(t->target_expiration, now);
	old_ns = left > 0 ? ktime_to_ns(left) : 0;
	new_ns = mul_u64_u32_div(old_ns, apic->divide_count, old_divisor);

	t->tscdeadline += apic_ns_to_cycles(new_ns) - apic_ns_to_cycles(old_ns);
	WRITE_ONCE(t->target_expiration, ktime_add_ns(now, new_ns));
}

void lapicv_timer_update_divide(struct lapicv_lapic *apic)
{
	u32 old_divisor = apic->divide_count;

	apic_update_divide_count(apic);
	if (apic->divide_count == old_divisor || !apic->lapic_timer.period)
		return;

	/* Stop the callback before moving the target it re-arms from. */
	hrtimer_cancel(&apic->lapic_timer.timer);
	apic_rescale_target(apic, old_divisor);
	apic_restart_timer(apic);
}

void lapicv_timer_write_tmict(struct lapicv_lapic *apic, u32 val)
{
	/* TMICT is not a timer register in TSC-deadline mode. */
	if (apic_lvtt_tscdeadline(apic))
		return;

	lapicv_timer_cancel(apic);
	lapicv_set_reg(apic, APIC_TMICT, val);
	__apic_start_timer(apic, APIC_TMICT);
}

u32 lapicv_timer_read_tmcct(struct lapicv_lapic *apic)
{
	struct lapicv_timer *t = &apic->lapic_timer;
	s64 period = t->period;
	ktime_t left;
	u64 ns;

	if (apic_lvtt_tscdeadline(apic))
		return 0;
	if (!lapicv_get_reg(apic, APIC_TMICT) || !period)
		return 0;

	left = ktime_sub(READ_ONCE(t->target_expiration), ktime_get());
	if (left < 0)
		left = 0;

	/* A periodic timer past its target counts in the next period. */
	ns = (u64)ktime_to_ns(left) % (u64)period;
	return div64_u64(ns, (u64)apic->bus_cycle_ns * apic->divide_count);
}

void lapicv_timer_restore(struct lapicv_lapic *apic)
{
	lapicv_timer_cancel(apic);
	lapicv_timer_update_lvtt(apic);
	/* Stopped above: only the divisor changes, nothing to rescale. */
	apic_update_divide_count(apic);
	__apic_start_timer(apic, APIC_TMCCT);
	/* TMCCT is computed on every read; the page never holds it. */
	lapicv_set_reg(apic, APIC_TMCCT, 0);
}

u64 lapicv_timer_get_tscdeadline(struct lapicv_lapic *apic)
{
	if (!lapicv_apic_hw_enabled(apic) || !apic_lvtt_tscdeadline(apic))
		return 0;
	return apic->lapic_timer.tscdeadline;
}

void lapicv_timer_set_tscdeadline(struct lapicv_lapic *apic, u64 data)
{
	if (!lapicv_apic_hw_enabled(apic) || !apic_lvtt_tscdeadline(apic))
		return;

	hrtimer_cancel(&apic->lapic_timer.timer);
	apic->lapic_timer.tscdeadline = data;
	__apic_start_timer(apic, APIC_TMICT);
}

int lapicv_timer_pending(struct lapicv_lapic *apic)
{
	u32 lvtt = lapicv_get_reg(apic, APIC_LVTT);

	if (!lapicv_apic_enabled(apic) || (lvtt & APIC_LVT_MASKED))
		return 0;
	return atomic_read(&apic->lapic_timer.pending);
}

void lapicv_timer_inject_pending(struct lapicv_lapic *apic)
{
	struct lapicv_timer *t = &apic->lapic_timer;

	if (atomic_read(&t->pending) <= 0)
		return;

	lapicv_apic_local_deliver(apic, APIC_LVTT);
	/*
	 * The deadline is spent: a TSC-deadline MSR read now returns 0, and
	 * a one-shot timer is idle.  A periodic timer keeps its target,
	 * which the callback has already advanced.
	 */
	if (apic_lvtt_tscdeadline(apic)) {
		t->tscdeadline = 0;
	} else if (apic_lvtt_oneshot(apic)) {
		t->tscdeadline = 0;
		WRITE_ONCE(t->target_expiration, 0);
	}
	atomic_set(&t->pending, 0);
}
