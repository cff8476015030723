/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The local APIC timer (one-shot, periodic, TSC-deadline); timer.c owns it.
 */
#ifndef _LAPICV_TIMER_H
#define _LAPICV_TIMER_H

#include "lapicv_internal.h"

/*
 * The APIC timer; owned by timer.c.  The hrtimer callback touches only
 * "pending" and the vCPU's wake-up, as KVM's does.
 */
struct lapicv_timer {
	struct hrtimer timer;
	s64 period;			/* ns; 0 unless periodic */
	ktime_t target_expiration;
	u32 timer_mode;			/* APIC_LVT_TIMER_* of the LVTT */
	u32 timer_mode_mask;
	u64 tscdeadline;
	u64 expired_tscdeadline;
	atomic_t pending;		/* expiries not yet injected */
};

#endif /* _LAPICV_TIMER_H */
