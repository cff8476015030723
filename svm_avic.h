/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The avic-model backend: AMD AVIC, with the CPU's side modelled by lapicv
 * (svm_avic.c).  It never uses AVIC or SVM.
 */
#ifndef _LAPICV_SVM_AVIC_H
#define _LAPICV_SVM_AVIC_H

#include "lapicv_internal.h"

/* The avic-model backend's per-vCPU state. */
struct lapicv_avic {
	/*
	 * The IsRunning bit of this vCPU's physical APIC ID table entry: a
	 * sender rings the doorbell while it is set, else wakes the vCPU.
	 * The entry's other fields (backing page, host APIC ID) name things
	 * only a real CPU would follow, and are not modelled.
	 */
	bool is_running;
	/* Doorbells rung for a running target, wake-ups of a sleeping one. */
	atomic64_t doorbells;
	atomic64_t wakeups;
};

#endif /* _LAPICV_SVM_AVIC_H */
