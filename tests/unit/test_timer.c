// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of timer.c on the shim's fake clock, with the real source
 * included.  Time stands still between shim_clock_advance() calls, so
 * counts and expiries are checked exactly, where the selftests in a
 * guest can only bound them.
 *
 * The LAPIC here is a bare struct lapicv_lapic: the timer reads only its
 * registers, divide_count, APIC base and software-enable flag.  LVTT
 * deliveries go to the fake lapicv_apic_local_deliver() below, which
 * counts them, so lapic.c is not needed.
 */
#include "../../timer.c"

#include "test.h"

#define TSC_PER_US	(SHIM_TSC_KHZ / 1000)
#define VEC		0xec

static unsigned int delivered;
static int delivered_lvt;

int lapicv_apic_local_deliver(struct lapicv_lapic *apic, int lvt_offset)
{
	delivered++;
	delivered_lvt = lvt_offset;
	return 1;
}

/*
 * Static, not on a test's stack: a test that fails returns early and
 * leaves its hrtimer queued, and the shim drops queued timers only at the
 * next reset.
 */
static struct fixture {
	struct lapicv_vm *vm;
	struct lapicv_lapic apic;
} fx;

static void fixture_free(struct fixture *f)
{
	lapicv_timer_destroy(&f->apic);
	kfree(f->apic.regs);
	unit_vm_destroy(f->vm);
}

/*
 * An enabled xAPIC as a VMM leaves it after KVM_SET_CPUID2 (with or
 * without TSC-deadline) and a reset: LVTT masked one-shot, TDCR 0.
 */
static bool fixture_init(struct fixture *f, bool tsc_deadline)
{
	struct lapicv_lapic *apic = &f->apic;

	memset(f, 0, sizeof(*f));
	delivered = 0;
	delivered_lvt = 0;
	f->vm = unit_vm_create(1, false, 0, LAPICV_IRQWIN_COUNTER);
	ASSERT_NONNULL(f->vm);
	apic->vcpu = lapicv_get_vcpu(f->vm, 0);
	apic->regs = kzalloc(PAGE_SIZE, GFP_KERNEL);
	ASSERT_NONNULL(apic->regs);
	apic->apic_base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE;
	apic->sw_enabled = true;
	apic->bus_cycle_ns = LAPICV_APIC_BUS_CYCLE_NS;
	lapicv_timer_init(apic);
	lapicv_timer_set_cpuid(apic, tsc_deadline);
	lapicv_set_reg(apic, APIC_LVTT, APIC_LVT_MASKED);
	lapicv_timer_restore(apic);
	return true;
}

/* An LVTT write as lapic.c makes it: store, then tell the timer. */
static void write_lvtt(struct lapicv_lapic *apic, u32 val)
{
	val &= APIC_LVT_MASKED | APIC_VECTOR_MASK |
	       apic->lapic_timer.timer_mode_mask;
	lapicv_set_reg(apic, APIC_LVTT, val);
	lapicv_timer_update_lvtt(apic);
}

static void write_tdcr(struct lapicv_lapic *apic, u32 val)
{
	lapicv_set_reg(apic, APIC_TDCR, val & 0xb);
	lapicv_timer_update_divide(apic);
}

static unsigned long wakeups(struct fixture *f)
{
	return shim_wq_wakeups(&f->apic.vcpu->wq);
}

/* One-shot at divide 1: exact counts, one expiry, one wake-up, one IRQ. */
static bool test_oneshot(void)
{
	struct fixture *f = &fx;
	struct lapicv_lapic *apic = &f->apic;

	ASSERT_TRUE(fixture_init(f, false));
	write_tdcr(apic, 0xb);
	write_lvtt(apic, APIC_LVT_TIMER_ONESHOT | VEC);
	lapicv_timer_write_tmict(apic, 1000000);
	/*
	 * KVM takes the time left modulo the period, so a whole period left
	 * reads 0: an instant only the fake clock can stop at.
	 */
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 0);
	ASSERT_EQ(shim_clock_advance(1), 0);
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 999999);

	ASSERT_EQ(shim_clock_advance(399999), 0);
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 600000);
	ASSERT_EQ(lapicv_timer_pending(apic), 0);

	ASSERT_EQ(shim_clock_advance(599999), 0);
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 1);
	ASSERT_EQ(shim_clock_advance(1), 1);
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 0);
	ASSERT_EQ(lapicv_timer_pending(apic), 1);
	ASSERT_EQ(wakeups(f), 1);
	/* Nothing reaches the LAPIC before the run step injects. */
	ASSERT_EQ(delivered, 0);
	ASSERT_EQ(shim_hrtimers_queued(), 0);

	lapicv_timer_inject_pending(apic);
	ASSERT_EQ(delivered, 1);
	ASSERT_EQ(delivered_lvt, APIC_LVTT);
	ASSERT_EQ(lapicv_timer_pending(apic), 0);
	lapicv_timer_inject_pending(apic);
	ASSERT_EQ(delivered, 1);
	/* TMICT survives; the count stays 0. */
	ASSERT_EQ(lapicv_get_reg(apic, APIC_TMICT), 1000000);
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 0);
	fixture_free(f);
	return true;
}

/* TDCR encodings: 0b1011 is 1, then 2, 4, ... 128 from bits 0, 1 and 3. */
static bool test_divide_encodings(void)
{
	static const struct { u32 tdcr, div; } t[] = {
		{ 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
		{ 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 },
		/* Bit 2 is not part of the encoding. */
		{ 0x4, 2 }, { 0xf, 1 },
	};
	struct fixture *f = &fx;
	unsigned int i;

	ASSERT_TRUE(fixture_init(f, false));
	/* KVM's reset value, TDCR 0: divide by 2. */
	ASSERT_EQ(f->apic.divide_count, 2);
	write_lvtt(&f->apic, APIC_LVT_TIMER_ONESHOT | VEC);
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		write_tdcr(&f->apic, t[i].tdcr);
		ASSERT_EQ(f->apic.divide_count, t[i].div);
		lapicv_timer_write_tmict(&f->apic, 1000);
		shim_clock_advance(100 * t[i].div);
		ASSERT_EQ(lapicv_timer_read_tmcct(&f->apic), 900);
	}
	fixture_free(f);
	return true;
}

/*
 * A TDCR write mid-count keeps the count and rescales the time left; an
 * unchanged divisor leaves the timer alone.
 */
static bool test_divide_change_rescales(void)
{
	struct fixture *f = &fx;
	struct lapicv_lapic *apic = &f->apic;

	ASSERT_TRUE(fixture_init(f, false));
	write_tdcr(apic, 0xb);
	write_lvtt(apic, APIC_LVT_TIMER_ONESHOT | VEC);
	lapicv_timer_write_tmict(apic, 1000000);
	shim_clock_advance(400000);
	write_tdcr(apic, 0x0);
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 600000);
	ASSERT_EQ(shim_clock_advance(1199999), 0);
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 0);	/* 1 ns / 2 */
	ASSERT_EQ(shim_clock_advance(1), 1);
	ASSERT_EQ(lapicv_timer_pending(apic), 1);
	fixture_free(f);
	return true;
}

/* Periodic: reloads each period; expiries coalesce until injected. */
static bool test_periodic(void)
{
	struct fixture *f = &fx;
	struct lapicv_lapic *apic = &f->apic;

	ASSERT_TRUE(fixture_init(f, false));
	write_tdcr(apic, 0xb);
	write_lvtt(apic, APIC_LVT_TIMER_PERIODIC | VEC);
	lapicv_timer_write_tmict(apic, 1000000);

	ASSERT_EQ(shim_clock_advance(2500000), 2);
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 500000);
	ASSERT_EQ(lapicv_timer_pending(apic), 1);
	ASSERT_EQ(wakeups(f), 1);
	ASSERT_EQ(shim_hrtimers_queued(), 1);

	lapicv_timer_inject_pending(apic);
	ASSERT_EQ(delivered, 1);
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 500000);
	ASSERT_EQ(shim_clock_advance(500000), 1);
	ASSERT_EQ(lapicv_timer_pending(apic), 1);
	/* On the boundary: the next period has not begun counting. */
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 0);
	ASSERT_EQ(wakeups(f), 2);

	/* TMICT 0 stops it and drops the expiry not yet injected. */
	lapicv_timer_write_tmict(apic, 0);
	ASSERT_EQ(shim_hrtimers_queued(), 0);
	ASSERT_EQ(lapicv_timer_pending(apic), 0);
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 0);
	fixture_free(f);
	return true;
}

/* Periods under min_timer_period_us are raised to it (200 us). */
static bool test_periodic_min_period(void)
{
	struct fixture *f = &fx;
	struct lapicv_lapic *apic = &f->apic;
	unsigned long logs = shim_log_count();

	ASSERT_TRUE(fixture_init(f, false));
	write_tdcr(apic, 0xb);
	write_lvtt(apic, APIC_LVT_TIMER_PERIODIC | VEC);
	lapicv_timer_write_tmict(apic, 1000);
	ASSERT_EQ(apic->lapic_timer.period, 200000);
	ASSERT_EQ(shim_clock_advance(1000), 0);
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 199000);
	ASSERT_EQ(shim_clock_advance(199000), 1);
	ASSERT_GT(shim_log_count(), logs);

	/* One-shot counts are never raised. */
	write_lvtt(apic, APIC_LVT_TIMER_ONESHOT | VEC);
	lapicv_timer_write_tmict(apic, 1000);
	ASSERT_EQ(apic->lapic_timer.period, 1000);
	fixture_free(f);
	return true;
}

/*
 * Without a TSC-deadline CPUID bit the mode field has one bit: a write of
 * TSC-deadline mode selects one-shot.  No leaf 1 at all: one-shot only.
 */
static bool test_mode_mask(void)
{
	struct fixture *f = &fx;
	struct lapicv_lapic *apic = &f->apic;

	ASSERT_TRUE(fixture_init(f, false));
	write_lvtt(apic, APIC_LVT_TIMER_TSCDEADLINE | VEC);
	ASSERT_EQ(apic->lapic_timer.timer_mode, APIC_LVT_TIMER_ONESHOT);
	write_lvtt(apic, APIC_LVT_TIMER_PERIODIC | VEC);
	ASSERT_EQ(apic->lapic_timer.timer_mode, APIC_LVT_TIMER_PERIODIC);

	apic->lapic_timer.timer_mode_mask = 0;
	lapicv_set_reg(apic, APIC_LVTT, APIC_LVT_TIMER_PERIODIC | VEC);
	lapicv_timer_update_lvtt(apic);
	ASSERT_EQ(apic->lapic_timer.timer_mode, APIC_LVT_TIMER_ONESHOT);
	fixture_free(f);
	return true;
}

/* TSC deadline: exact expiry, value kept until injection, then 0. */
static bool test_tscdeadline(void)
{
	struct fixture *f = &fx;
	struct lapicv_lapic *apic = &f->apic;
	u64 d;

	ASSERT_TRUE(fixture_init(f, true));
	write_lvtt(apic, APIC_LVT_TIMER_TSCDEADLINE | VEC);
	ASSERT_EQ(apic->lapic_timer.timer_mode, APIC_LVT_TIMER_TSCDEADLINE);

	d = rdtsc() + 10 * TSC_PER_US;
	lapicv_timer_set_tscdeadline(apic, d);
	ASSERT_EQ(lapicv_timer_get_tscdeadline(apic), d);
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 0);
	ASSERT_EQ(shim_clock_advance(9999), 0);
	ASSERT_EQ(shim_clock_advance(1), 1);
	ASSERT_GE(rdtsc(), d);
	ASSERT_EQ(lapicv_timer_pending(apic), 1);
	ASSERT_EQ(lapicv_timer_get_tscdeadline(apic), d);

	lapicv_timer_inject_pending(apic);
	ASSERT_EQ(delivered, 1);
	ASSERT_EQ(lapicv_timer_get_tscdeadline(apic), 0);

	/* A deadline in the past expires in the write itself. */
	lapicv_timer_set_tscdeadline(apic, 1);
	ASSERT_EQ(lapicv_timer_pending(apic), 1);
	ASSERT_EQ(shim_hrtimers_queued(), 0);
	ASSERT_EQ(lapicv_timer_get_tscdeadline(apic), 1);

	/* 0 disarms and forgets the expiry. */
	lapicv_timer_set_tscdeadline(apic, 0);
	ASSERT_EQ(lapicv_timer_pending(apic), 0);
	ASSERT_EQ(shim_clock_advance(1000000), 0);

	/* TMICT means nothing in this mode. */
	lapicv_timer_write_tmict(apic, 1000);
	ASSERT_EQ(lapicv_get_reg(apic, APIC_TMICT), 0);
	ASSERT_EQ(shim_hrtimers_queued(), 0);
	fixture_free(f);
	return true;
}

/* The deadline MSR needs TSC-deadline mode and a hardware-enabled APIC. */
static bool test_tscdeadline_gates(void)
{
	struct fixture *f = &fx;
	struct lapicv_lapic *apic = &f->apic;
	u64 d;

	ASSERT_TRUE(fixture_init(f, true));
	d = rdtsc() + 10 * TSC_PER_US;
	write_lvtt(apic, APIC_LVT_TIMER_ONESHOT | VEC);
	lapicv_timer_set_tscdeadline(apic, d);
	ASSERT_EQ(lapicv_timer_get_tscdeadline(apic), 0);
	ASSERT_EQ(shim_hrtimers_queued(), 0);

	write_lvtt(apic, APIC_LVT_TIMER_TSCDEADLINE | VEC);
	apic->sw_enabled = false;
	lapicv_timer_set_tscdeadline(apic, d);
	ASSERT_EQ(lapicv_timer_get_tscdeadline(apic), d);

	apic->apic_base &= ~MSR_IA32_APICBASE_ENABLE;
	ASSERT_EQ(lapicv_timer_get_tscdeadline(apic), 0);
	lapicv_timer_set_tscdeadline(apic, d + 1);
	apic->apic_base |= MSR_IA32_APICBASE_ENABLE;
	ASSERT_EQ(lapicv_timer_get_tscdeadline(apic), d);

	/* Leaving the mode stops the timer and drops the deadline. */
	write_lvtt(apic, APIC_LVT_TIMER_PERIODIC | VEC);
	ASSERT_EQ(shim_hrtimers_queued(), 0);
	write_lvtt(apic, APIC_LVT_TIMER_TSCDEADLINE | VEC);
	ASSERT_EQ(lapicv_timer_get_tscdeadline(apic), 0);
	fixture_free(f);
	return true;
}

/* An expiry is held, not counted, while the LVTT is masked. */
static bool test_pending_gates(void)
{
	struct fixture *f = &fx;
	struct lapicv_lapic *apic = &f->apic;

	ASSERT_TRUE(fixture_init(f, false));
	write_tdcr(apic, 0xb);
	write_lvtt(apic, APIC_LVT_MASKED | APIC_LVT_TIMER_ONESHOT | VEC);
	lapicv_timer_write_tmict(apic, 1000);
	ASSERT_EQ(shim_clock_advance(1000), 1);
	ASSERT_EQ(lapicv_timer_pending(apic), 0);
	ASSERT_EQ(wakeups(f), 1);

	write_lvtt(apic, APIC_LVT_TIMER_ONESHOT | VEC);
	ASSERT_EQ(lapicv_timer_pending(apic), 1);
	apic->sw_enabled = false;
	ASSERT_EQ(lapicv_timer_pending(apic), 0);
	apic->sw_enabled = true;
	apic->apic_base &= ~MSR_IA32_APICBASE_ENABLE;
	ASSERT_EQ(lapicv_timer_pending(apic), 0);
	apic->apic_base |= MSR_IA32_APICBASE_ENABLE;
	ASSERT_EQ(lapicv_timer_pending(apic), 1);
	fixture_free(f);
	return true;
}

/* KVM_SET_LAPIC's timer part: restart from TMCCT, then zero TMCCT. */
static bool test_restore(void)
{
	struct fixture *f = &fx;
	struct lapicv_lapic *apic = &f->apic;

	ASSERT_TRUE(fixture_init(f, false));
	lapicv_set_reg(apic, APIC_LVTT, APIC_LVT_TIMER_ONESHOT | VEC);
	lapicv_set_reg(apic, APIC_TDCR, 0x1);		/* divide by 4 */
	lapicv_set_reg(apic, APIC_TMICT, 1000);
	lapicv_set_reg(apic, APIC_TMCCT, 250);
	lapicv_timer_restore(apic);
	ASSERT_EQ(lapicv_get_reg(apic, APIC_TMCCT), 0);
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 250);
	ASSERT_EQ(shim_clock_advance(999), 0);
	ASSERT_EQ(shim_clock_advance(1), 1);

	/* More than TMICT: from TMICT. */
	lapicv_set_reg(apic, APIC_TMCCT, 5000);
	lapicv_timer_restore(apic);
	ASSERT_EQ(lapicv_timer_pending(apic), 0);
	shim_clock_advance(4);
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 999);

	/*
	 * One-shot from 0: due now.  The fake clock has not moved since,
	 * so the hrtimer fires at the next advance rather than in place.
	 */
	lapicv_set_reg(apic, APIC_TMCCT, 0);
	lapicv_timer_restore(apic);
	ASSERT_EQ(shim_clock_run(), 1);
	ASSERT_EQ(lapicv_timer_pending(apic), 1);
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 0);

	/* Periodic from 0: a whole period. */
	lapicv_set_reg(apic, APIC_LVTT, APIC_LVT_TIMER_PERIODIC | VEC);
	lapicv_set_reg(apic, APIC_TMICT, 100000);
	lapicv_timer_restore(apic);
	ASSERT_EQ(lapicv_timer_pending(apic), 0);
	shim_clock_advance(4);
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 99999);

	/* Into TSC-deadline mode: TMICT is zeroed, nothing runs. */
	lapicv_timer_set_cpuid(apic, true);
	lapicv_set_reg(apic, APIC_LVTT, APIC_LVT_TIMER_TSCDEADLINE | VEC);
	lapicv_timer_restore(apic);
	ASSERT_EQ(lapicv_get_reg(apic, APIC_TMICT), 0);
	ASSERT_EQ(shim_hrtimers_queued(), 0);
	fixture_free(f);
	return true;
}

/* One-shot <-> periodic leaves a running count alone. */
static bool test_oneshot_periodic_switch(void)
{
	struct fixture *f = &fx;
	struct lapicv_lapic *apic = &f->apic;

	ASSERT_TRUE(fixture_init(f, false));
	write_tdcr(apic, 0xb);
	write_lvtt(apic, APIC_LVT_TIMER_ONESHOT | VEC);
	lapicv_timer_write_tmict(apic, 1000000);
	shim_clock_advance(300000);
	write_lvtt(apic, APIC_LVT_TIMER_PERIODIC | VEC);
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 700000);
	ASSERT_EQ(shim_clock_advance(700000), 1);
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 0);
	ASSERT_EQ(shim_hrtimers_queued(), 1);
	shim_clock_advance(100000);
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 900000);

	write_lvtt(apic, APIC_LVT_TIMER_ONESHOT | VEC);
	ASSERT_EQ(shim_clock_advance(900000), 1);
	ASSERT_EQ(shim_hrtimers_queued(), 0);
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 0);
	fixture_free(f);
	return true;
}

/* Destroy and cancel leave no hrtimer behind. */
static bool test_cancel_destroy(void)
{
	struct fixture *f = &fx;
	struct lapicv_lapic *apic = &f->apic;

	ASSERT_TRUE(fixture_init(f, false));
	write_lvtt(apic, APIC_LVT_TIMER_PERIODIC | VEC);
	lapicv_timer_write_tmict(apic, 1000000);
	ASSERT_EQ(shim_hrtimers_queued(), 1);
	lapicv_timer_cancel(apic);
	ASSERT_EQ(shim_hrtimers_queued(), 0);
	lapicv_timer_write_tmict(apic, 1000000);
	ASSERT_EQ(shim_hrtimers_queued(), 1);
	fixture_free(f);
	ASSERT_EQ(shim_hrtimers_queued(), 0);
	return true;
}

/*
 * KVM_CAP_X86_APIC_BUS_CYCLES_NS: a 40 ns bus (25 MHz, what KVM's
 * apic_bus_clock_test sets) makes each count last 40 ns times the divide.
 */
static bool test_bus_cycle(void)
{
	struct fixture *f = &fx;
	struct lapicv_lapic *apic = &f->apic;

	ASSERT_TRUE(fixture_init(f, false));
	apic->bus_cycle_ns = 40;
	write_tdcr(apic, 0x1);		/* divide by 4 */
	write_lvtt(apic, APIC_LVT_TIMER_ONESHOT | VEC);
	lapicv_timer_write_tmict(apic, 1000);
	/* 1000 counts of 160 ns: 160 us; after 16 us, 900 counts left. */
	ASSERT_EQ(shim_clock_advance(16000), 0);
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 900);
	ASSERT_EQ(shim_clock_advance(143840), 0);
	ASSERT_EQ(lapicv_timer_read_tmcct(apic), 1);
	ASSERT_EQ(shim_clock_advance(159), 0);
	ASSERT_EQ(shim_clock_advance(1), 1);
	ASSERT_EQ(lapicv_timer_pending(apic), 1);
	fixture_free(f);
	return true;
}

static const struct unit_case cases[] = {
	UNIT_CASE(test_oneshot),
	UNIT_CASE(test_bus_cycle),
	UNIT_CASE(test_divide_encodings),
	UNIT_CASE(test_divide_change_rescales),
	UNIT_CASE(test_periodic),
	UNIT_CASE(test_periodic_min_period),
	UNIT_CASE(test_mode_mask),
	UNIT_CASE(test_tscdeadline),
	UNIT_CASE(test_tscdeadline_gates),
	UNIT_CASE(test_pending_gates),
	UNIT_CASE(test_restore),
	UNIT_CASE(test_oneshot_periodic_switch),
	UNIT_CASE(test_cancel_destroy),
};

int main(int argc, char **argv)
{
	return unit_run("timer", cases, ARRAY_SIZE(cases), argc, argv);
}
