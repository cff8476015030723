/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The vmx-model backend: VT-x posted interrupts and virtual-interrupt
 * delivery, carried out by lapicv's own model of the CPU's side
 * (vmx_pi.c).  It never uses VT-x.
 */
#ifndef _LAPICV_VMX_PI_H
#define _LAPICV_VMX_PI_H

#include "lapicv_internal.h"

/* Bits of lapicv_pi_desc.control (bits 256..319 of the descriptor). */
#define LAPICV_PI_ON		0	/* outstanding notification */
#define LAPICV_PI_SN		1	/* suppress notification */

/*
 * The posted-interrupt descriptor, in the SDM's layout (29.6): 256 PIR
 * bits, then ON and SN in the next 64 bits, 64-byte aligned.  The
 * notification vector and destination are not modelled: a notification
 * is a kick of the vCPU's wait queue, whatever the vCPU is doing.
 */
struct lapicv_pi_desc {
	unsigned long pir[4];
	unsigned long control;
	u32 rsvd[6];
} __aligned(64);

/* The vmx-model backend's per-vCPU state. */
struct lapicv_vmx {
	struct lapicv_pi_desc pi_desc;
	/* Notifications sent and suppressed (ON already set, or SN). */
	atomic64_t notifications;
	atomic64_t suppressed;
	/* PIR -> IRR syncs that moved at least one vector. */
	u64 pir_syncs;
};

#endif /* _LAPICV_VMX_PI_H */
