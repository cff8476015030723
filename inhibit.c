// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VM-wide APICv inhibit manager and the IRQ-window counter.
 *
 * APICv is active in a VM only while no inhibit reason is set.  Reasons
 * come from lapicv itself (aliased or modified APIC IDs and bases, no split
 * irqchip, no APICv backend, vCPUs waiting for an IRQ window) and from the
 * VMM (PIT re-injection, nested, ...).  When the mask goes between empty and
 * non-empty, every vCPU is asked to refresh its APICv state at its next run
 * step (apicv.c), which it does holding update_lock for read.
 *
 * The IRQ window: a vCPU that must inject an interrupt APICv cannot deliver
 * (an ExtINT from the VMM's PIC, on AVIC) waits for an IRQ window with APICv
 * inhibited.  Under the counter policy the VM counts such vCPUs and takes
 * update_lock for write only when the count moves between 0 and 1 while no
 * other reason is set: with another reason set APICv is off anyway, and the
 * next change of any reason re-derives IRQWIN from the count.  Holding
 * update_lock for read around the count's update makes the two paths meet:
 * a racing change of another reason either is seen (no toggle needed) or
 * sees the new count.  The legacy policy takes the lock for write on every
 * window, as KVM 6.12 does, so both can be measured on the same code.
 *
 * Lock card (mirrored in Documentation/locking.rst):
 *
 * lapicv_inhibits.update_lock (KVM's apicv_update_lock)
 *	:Type:     rw_semaphore
 *	:Protects: reasons, and the counters written with it.  Readers: IRQ-
 *	           window count updates, the per-vCPU APICv refresh, the
 *	           snapshots of LAPICV_GET_INHIBITS and LAPICV_GET_VM_STATS.
 *	:Order:    inside lapicv_vm.lock, lapicv_vcpu.mutex and
 *	           lapicv_vm.apic_map_lock (map rebuilds set their reasons);
 *	           outside the leaf locks.  A vCPU may take it for write with
 *	           its own APICV_UPDATE request pending (an APIC base change):
 *	           it handles that request later, in its run step.
 *	:Writers:  a set or clear that changes the mask (one that would not
 *	           returns without the lock); the IRQ-window 0<->1 toggle.
 *
 * lapicv_inhibits.irq_window
 *	:Type:     atomic_t; under the counter policy changed only with
 *	           update_lock held for read.
 */
#include "lapicv.h"
#include "inhibit.h"
#include "trace.h"

static const char * const inhibit_names[LAPICV_NR_INHIBITS] = {
	[LAPICV_INHIBIT_DISABLED]		= "DISABLED",
	[LAPICV_INHIBIT_HYPERV]			= "HYPERV",
	[LAPICV_INHIBIT_ABSENT]			= "ABSENT",
	[LAPICV_INHIBIT_BLOCKIRQ]		= "BLOCKIRQ",
	[LAPICV_INHIBIT_PHYSICAL_ID_ALIASED]	= "PHYSICAL_ID_ALIASED",
	[LAPICV_INHIBIT_APIC_ID_MODIFIED]	= "APIC_ID_MODIFIED",
	[LAPICV_INHIBIT_APIC_BASE_MODIFIED]	= "APIC_BASE_MODIFIED",
	[LAPICV_INHIBIT_NESTED]			= "NESTED",
	[LAPICV_INHIBIT_IRQWIN]			= "IRQWIN",
	[LAPICV_INHIBIT_PIT_REINJ]		= "PIT_REINJ",
	[LAPICV_INHIBIT_SEV]			= "SEV",
	[LAPICV_INHIBIT_LOGICAL_ID_ALIASED]	= "LOGICAL_ID_ALIASED",
};

const char *lapicv_inhibit_name(unsigned int reason)
{
	return reason < LAPICV_NR_INHIBITS ? inhibit_names[reason] : NULL;
}

static void inhibit_assign(unsigned long *mask, unsigned int reason, bool set)
{
	if (set)
		__set_bit(reason, mask);
	else
		__clear_bit(reason, mask);
}

void lapicv_inhibits_init(struct lapicv_inhibits *inh, bool apicv_enabled,
			  unsigned long required,
			  enum lapicv_irqwin_policy policy)
{
	memset(inh, 0, sizeof(*inh));
	inh->apicv_enabled = apicv_enabled;
	inh->required = required;
	inh->policy = policy;
	__set_bit(apicv_enabled ? LAPICV_INHIBIT_ABSENT :
		  LAPICV_INHIBIT_DISABLED, &inh->reasons);
	init_rwsem(&inh->update_lock);
	atomic_set(&inh->irq_window, 0);
	atomic64_set(&inh->irqwin_transitions, 0);
}

static void inhibit_request_all(struct lapicv_vm *vm)
{
	struct lapicv_vcpu *vcpu;
	unsigned int i;

	for (i = 0; (vcpu = lapicv_get_vcpu(vm, i)); i++) {
		lapicv_make_request(vcpu, LAPICV_REQ_APICV_UPDATE);
		lapicv_vcpu_kick(vcpu);
	}
}

void __lapicv_set_or_clear_inhibit(struct lapicv_vm *vm,
				   enum lapicv_inhibit_reason reason, bool set)
{
	struct lapicv_inhibits *inh = &vm->inhibits;
	unsigned long old, new;

	lockdep_assert_held_write(&inh->update_lock);

	if (!(inh->required & BIT(reason)))
		return;

	old = inh->reasons;
	new = old;
	if (reason != LAPICV_INHIBIT_IRQWIN ||
	    inh->policy == LAPICV_IRQWIN_LEGACY)
		inhibit_assign(&new, reason, set);
	/*
	 * Under the counter policy IRQWIN always follows the count, whatever
	 * reason changed: this is where a toggle skipped by
	 * lapicv_irq_window_inc_or_dec() catches up.
	 */
	if (inh->policy == LAPICV_IRQWIN_COUNTER &&
	    (inh->required & BIT(LAPICV_INHIBIT_IRQWIN)))
		inhibit_assign(&new, LAPICV_INHIBIT_IRQWIN,
			       atomic_read(&inh->irq_window));

	if (new == old)
		return;
	trace_lapicv_inhibit(old, new, reason, set);
	inh->inhibit_changes++;
	if (!!old != !!new) {
		inh->apicv_toggles++;
		/*
		 * Ask every vCPU to refresh before publishing: a vCPU that
		 * handles the request blocks on update_lock until the new
		 * mask is in place, so none refreshes against the old one.
		 */
		inhibit_request_all(vm);
	}
	WRITE_ONCE(inh->reasons, new);
}

/*
 * Would __lapicv_set_or_clear_inhibit() leave the mask as it is?  Only if
 * the reason already has the wanted value and IRQWIN already follows the
 * count (which any call re-derives).  Map rebuilds ask for their three
 * reasons on every ID change: this spares them the write lock.  Without
 * the lock the answer may be stale by the time the caller returns, which
 * is the same as a racing change landing just after this call.
 */
static bool inhibit_unchanged(struct lapicv_inhibits *inh,
			      unsigned int reason, bool set)
{
	unsigned long r = READ_ONCE(inh->reasons);

	if (reason == LAPICV_INHIBIT_IRQWIN || test_bit(reason, &r) != set)
		return false;
	if (inh->policy == LAPICV_IRQWIN_COUNTER &&
	    (inh->required & BIT(LAPICV_INHIBIT_IRQWIN)))
		return test_bit(LAPICV_INHIBIT_IRQWIN, &r) ==
		       !!atomic_read(&inh->irq_window);
	return true;
}

void lapicv_set_or_clear_inhibit(struct lapicv_vm *vm,
				 enum lapicv_inhibit_reason reason, bool set)
{
	struct lapicv_inhibits *inh = &vm->inhibits;

	if (!inh->apicv_enabled || !(inh->required & BIT(reason)) ||
	    inhibit_unchanged(inh, reason, set))
		return;

	down_write(&inh->update_lock);
	inh->update_lock_writes++;
	__lapicv_set_or_clear_inhibit(vm, reason, set);
	up_write(&inh->update_lock);
}

void lapicv_irq_window_inc_or_dec(struct lapicv_vm *vm, bool inc)
{
	struct lapicv_inhibits *inh = &vm->inhibits;
	/* A backend that ignores IRQWIN would take the lock for nothing. */
	bool honoured = inh->apicv_enabled &&
			(inh->required & BIT(LAPICV_INHIBIT_IRQWIN));
	bool toggle;
	int count;

	if (inh->policy == LAPICV_IRQWIN_LEGACY) {
		/* Counted only to be seen; the inhibit follows every window. */
		count = inc ? atomic_inc_return(&inh->irq_window) :
			      atomic_dec_return(&inh->irq_window);
		WARN_ON_ONCE(count < 0);
		if (count == inc)
			atomic64_inc(&inh->irqwin_transitions);
		if (honoured)
			lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_IRQWIN,
						    inc);
		return;
	}

	down_read(&inh->update_lock);
	count = inc ? atomic_inc_return(&inh->irq_window) :
		      atomic_dec_return(&inh->irq_window);
	/* Callers hold one count per vCPU at most (apicv.c's irq_window). */
	WARN_ON_ONCE(count < 0);
	toggle = count == inc;
	if (toggle)
		atomic64_inc(&inh->irqwin_transitions);
	/* With another reason set, APICv is off already: stay lazy. */
	toggle = toggle && honoured &&
		 !(READ_ONCE(inh->reasons) & ~BIT(LAPICV_INHIBIT_IRQWIN));
	up_read(&inh->update_lock);

	if (toggle)
		lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_IRQWIN, inc);
}

bool lapicv_apicv_activated(struct lapicv_vm *vm)
{
	return !READ_ONCE(vm->inhibits.reasons);
}

static void inhibit_names_of(unsigned long reasons, char *buf, size_t size)
{
	unsigned int r;
	size_t len = 0;

	buf[0] = '\0';
	for_each_set_bit(r, &reasons, LAPICV_NR_INHIBITS)
		len += scnprintf(buf + len, size - len, "%s%s",
				 len ? " " : "", inhibit_names[r]);
}

void lapicv_inhibits_read(struct lapicv_vm *vm,
			  struct lapicv_inhibit_state *st,
			  struct lapicv_vm_stats *stats)
{
	struct lapicv_inhibits *inh = &vm->inhibits;

	down_read(&inh->update_lock);
	if (st) {
		memset(st, 0, sizeof(*st));
		st->reasons = inh->reasons;
		st->required = inh->required;
		st->apicv_enabled = inh->apicv_enabled;
		st->irq_window = atomic_read(&inh->irq_window);
		inhibit_names_of(inh->reasons, st->names, sizeof(st->names));
	}
	if (stats) {
		memset(stats, 0, sizeof(*stats));
		stats->inhibit_changes = inh->inhibit_changes;
		stats->apicv_toggles = inh->apicv_toggles;
		stats->update_lock_writes = inh->update_lock_writes;
		stats->irqwin_transitions =
			atomic64_read(&inh->irqwin_transitions);
	}
	up_read(&inh->update_lock);
}
