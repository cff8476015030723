/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The local APIC timer (one-shot, periodic, TSC-deadline); timer.c owns it.
 *
 * Every entry point except the hrtimer callback runs in the vCPU's context
 * (lapicv_vcpu.mutex held, or the vCPU being created or freed); timer.c's
 * header comment says which fields the callback may touch meanwhile.
 */
#ifndef _LAPICV_TIMER_H
#define _LAPICV_TIMER_H

#include "lapicv_internal.h"

/*
 * The APIC bus clock by default: KVM's APIC_BUS_CYCLE_NS_DEFAULT, a 1 GHz
 * bus.  KVM_CAP_X86_APIC_BUS_CYCLES_NS sets a VM's own before its first
 * vCPU (lapicv_vm.apic_bus_cycle_ns, copied into each LAPIC).
 */
#define LAPICV_APIC_BUS_CYCLE_NS	1

struct lapicv_lapic;

/*
 * The APIC timer; owned by timer.c.  The hrtimer callback touches only
 * "pending", the periodic re-arm (target_expiration, tscdeadline) and the
 * vCPU's wake-up, as KVM's does.
 */
struct lapicv_timer {
	struct hrtimer timer;
	s64 period;			/* ns; 0 when TMICT is 0 */
	ktime_t target_expiration;	/* CLOCK_MONOTONIC; next expiry */
	u32 timer_mode;			/* APIC_LVT_TIMER_* of the LVTT */
	/* LVTT mode bits the guest's CPUID allows; 0 until KVM_SET_CPUID2. */
	u32 timer_mode_mask;
	u64 tscdeadline;		/* host TSC; also kept in periodic mode */
	atomic_t pending;		/* expiries not yet injected */
};

/* At LAPIC creation: set up the hrtimer; the timer is idle. */
void lapicv_timer_init(struct lapicv_lapic *apic);

/* At LAPIC free: stop the timer and wait for a running callback. */
void lapicv_timer_destroy(struct lapicv_lapic *apic);

/* Stop the timer and forget pending expiries (KVM's cancel_apic_timer). */
void lapicv_timer_cancel(struct lapicv_lapic *apic);

/*
 * KVM_SET_CPUID2 with a leaf 1: which LVTT modes the guest may select
 * (one-shot and periodic, plus TSC-deadline if @tsc_deadline).  lapic.c
 * masks LVTT writes with timer_mode_mask.
 */
void lapicv_timer_set_cpuid(struct lapicv_lapic *apic, bool tsc_deadline);

/*
 * After the LVTT register changed: adopt its timer mode.  Switching into
 * or out of TSC-deadline mode stops the timer and zeroes TMICT and the
 * deadline; one-shot <-> periodic keeps it running.
 */
void lapicv_timer_update_lvtt(struct lapicv_lapic *apic);

/*
 * After the TDCR register changed (lapic.c stored it masked with 0xb):
 * recompute divide_count and, if the timer runs, rescale what remains.
 */
void lapicv_timer_update_divide(struct lapicv_lapic *apic);

/*
 * A write of @val to TMICT: ignored in TSC-deadline mode, else stop the
 * timer, store TMICT and start counting down from it (0 leaves it idle).
 */
void lapicv_timer_write_tmict(struct lapicv_lapic *apic, u32 val);

/*
 * The current count as a read of TMCCT sees it: the time left in this
 * period in bus cycles divided by divide_count; 0 when idle, expired or in
 * TSC-deadline mode.
 */
u32 lapicv_timer_read_tmcct(struct lapicv_lapic *apic);

/*
 * The timer part of KVM_SET_LAPIC, after lapic.c copied the registers in:
 * stop, adopt LVTT and TDCR, restart counting down from the restored TMCCT
 * (TMICT if TMCCT is 0 in periodic mode or exceeds TMICT), zero TMCCT.
 */
void lapicv_timer_restore(struct lapicv_lapic *apic);

/*
 * MSR_IA32_TSC_DEADLINE: reads 0 and writes are ignored unless the APIC
 * is hardware-enabled and the LVTT is in TSC-deadline mode.  A write arms
 * the timer at host TSC @data (0 disarms it; a past value expires now).
 */
u64 lapicv_timer_get_tscdeadline(struct lapicv_lapic *apic);
void lapicv_timer_set_tscdeadline(struct lapicv_lapic *apic, u64 data);

/*
 * Expiries not yet injected, counted only while the APIC is enabled and
 * the LVTT unmasked (KVM's apic_has_pending_timer); for the run step.
 */
int lapicv_timer_pending(struct lapicv_lapic *apic);

/*
 * The run step's timer injection: if an expiry is pending, deliver it
 * through the LVTT, retire a one-shot or TSC-deadline timer (the deadline
 * MSR then reads 0) and clear the pending count.
 */
void lapicv_timer_inject_pending(struct lapicv_lapic *apic);

#endif /* _LAPICV_TIMER_H */
