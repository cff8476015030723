/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The VM-wide APICv inhibit manager: why APICv is off, and the IRQ-window
 * counter.  inhibit.c owns struct lapicv_inhibits; see its lock card.
 */
#ifndef _LAPICV_INHIBIT_H
#define _LAPICV_INHIBIT_H

#include "lapicv_internal.h"

#include <uapi/linux/lapicv.h>

/* How the IRQWIN inhibit follows vCPUs that wait for an IRQ window. */
enum lapicv_irqwin_policy {
	/*
	 * Count the waiting vCPUs; take apicv_update_lock for write only when
	 * the count moves between 0 and 1 and no other reason is set.
	 */
	LAPICV_IRQWIN_COUNTER,
	/*
	 * Set and clear IRQWIN for write on every window, as KVM 6.12 does
	 * (Documentation/api.rst says what is known of the counter upstream).
	 */
	LAPICV_IRQWIN_LEGACY,
};

struct lapicv_inhibits {
	/* Read-mostly: written under update_lock for write, read anywhere. */
	unsigned long reasons;
	/* Fixed at VM creation. */
	unsigned long required;
	bool apicv_enabled;
	enum lapicv_irqwin_policy policy;

	/*
	 * Written on every IRQ window: kept off the line of the read-mostly
	 * fields above, which every run step reads.
	 */
	struct rw_semaphore update_lock ____cacheline_aligned;
	atomic_t irq_window;
	atomic64_t irqwin_transitions;

	/* Counters written under update_lock for write. */
	u64 inhibit_changes;
	u64 apicv_toggles;
	u64 update_lock_writes;
};

struct lapicv_vm;

/*
 * Set up a VM's inhibits: DISABLED when the backend does not accelerate,
 * else ABSENT until the VMM enables the split irqchip.  required is the
 * backend's mask of honoured reasons.
 */
void lapicv_inhibits_init(struct lapicv_inhibits *inh, bool apicv_enabled,
			  unsigned long required,
			  enum lapicv_irqwin_policy policy);

/*
 * Set or clear one reason.  When the mask goes between empty and non-empty
 * every vCPU gets LAPICV_REQ_APICV_UPDATE and a kick before the new mask is
 * published.  Reasons the backend does not honour are ignored; IRQWIN is
 * re-derived from the IRQ-window count under the counter policy.
 */
void lapicv_set_or_clear_inhibit(struct lapicv_vm *vm,
				 enum lapicv_inhibit_reason reason, bool set);
void __lapicv_set_or_clear_inhibit(struct lapicv_vm *vm,
				   enum lapicv_inhibit_reason reason, bool set);

/* A vCPU starts (inc) or stops (dec) waiting for an IRQ window. */
void lapicv_irq_window_inc_or_dec(struct lapicv_vm *vm, bool inc);

/* APICv may be active: no reason is set (KVM's kvm_apicv_activated). */
bool lapicv_apicv_activated(struct lapicv_vm *vm);

/* A consistent snapshot of the inhibit state and its counters. */
void lapicv_inhibits_read(struct lapicv_vm *vm,
			  struct lapicv_inhibit_state *st,
			  struct lapicv_vm_stats *stats);

/* Name of a reason ("IRQWIN"), or NULL past the last one. */
const char *lapicv_inhibit_name(unsigned int reason);

#endif /* _LAPICV_INHIBIT_H */
