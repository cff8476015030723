/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The vmx backend: VT-x posted interrupts and virtual-interrupt delivery,
 * carried out by lapicv's own model of the CPU's side (vmx_pi.c).
 */
#ifndef _LAPICV_VMX_PI_H
#define _LAPICV_VMX_PI_H

#include "lapicv_internal.h"

/* Notification vectors, as Linux assigns them (irq_vectors.h). */
#define LAPICV_POSTED_INTR_VECTOR		0xf2
#define LAPICV_POSTED_INTR_WAKEUP_VECTOR	0xf1

/* Bits of lapicv_pi_desc.control (bits 256..319 of the descriptor). */
#define LAPICV_PI_ON		0	/* outstanding notification */
#define LAPICV_PI_SN		1	/* suppress notification */
#define LAPICV_PI_NV_SHIFT	16	/* notification vector, 8 bits */
#define LAPICV_PI_NDST_SHIFT	32	/* notification destination */

/*
 * The posted-interrupt descriptor, in the SDM's layout (29.6): 256 PIR
 * bits, then ON, SN, NV and NDST in the next 64 bits, 64-byte aligned.
 */
struct lapicv_pi_desc {
	unsigned long pir[4];
	unsigned long control;
	u32 rsvd[6];
} __aligned(64);

/* The vmx backend's per-vCPU state. */
struct lapicv_vmx {
	struct lapicv_pi_desc pi_desc;
	/* Guest interrupt status (VMCS): requesting / servicing vector. */
	u8 rvi;
	u8 svi;
	/* Modelled execution controls: VID + posted-interrupt processing. */
	bool apicv_ctrls;
	/* Modelled "interrupt-window exiting". */
	bool irq_window_exiting;
	/* Notifications sent and suppressed (ON already set, or SN). */
	atomic64_t notifications;
	atomic64_t suppressed;
	/* PIR -> IRR syncs that moved at least one vector. */
	u64 pir_syncs;
};

#endif /* _LAPICV_VMX_PI_H */
