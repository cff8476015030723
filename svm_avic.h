/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The svm backend: AMD AVIC, with the CPU's side modelled (svm_avic.c).
 */
#ifndef _LAPICV_SVM_AVIC_H
#define _LAPICV_SVM_AVIC_H

#include "lapicv_internal.h"

/* AVIC physical APIC ID table entry (APM vol. 2, 15.29.3.3). */
#define LAPICV_AVIC_HOST_ID_MASK	GENMASK_ULL(11, 0)
#define LAPICV_AVIC_BACKING_PAGE_MASK	GENMASK_ULL(51, 12)
#define LAPICV_AVIC_IS_RUNNING		BIT_ULL(62)
#define LAPICV_AVIC_VALID		BIT_ULL(63)

/* The svm backend's per-vCPU state. */
struct lapicv_avic {
	/*
	 * This vCPU's entry of the physical APIC ID table.  The backing page
	 * is the LAPIC register page itself, as in KVM; its address field
	 * holds the page frame of apic->regs.
	 */
	u64 physical_id_entry;
	/* AVIC enabled in the modelled VMCB (follows apicv_active). */
	bool avic_ctrl;
	/* Modelled V_IRQ + VINTR intercept (svm_set_vintr). */
	bool vintr;
	/* This vCPU holds a count in the VM's IRQ-window counter. */
	bool avic_irq_window;
	/* Doorbells rung for a running target, wake-ups of a sleeping one. */
	atomic64_t doorbells;
	atomic64_t wakeups;
};

#endif /* _LAPICV_SVM_AVIC_H */
