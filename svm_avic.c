// SPDX-License-Identifier: GPL-2.0-only
/*
 * The avic-model backend: AMD AVIC (APM vol. 2, 15.29), with the CPU's
 * side modelled by lapicv (neither AVIC nor SVM is used).
 *
 * The backing page is the LAPIC register page itself, as in KVM: AVIC reads
 * and writes IRR, ISR, TPR and PPR there.  Of each vCPU's physical APIC ID
 * table entry only IsRunning is modelled, set while the vCPU is in the run
 * step and not blocked (KVM's avic_vcpu_load/put and
 * avic_vcpu_blocking).  A sender sets the IRR bit in the backing page, then
 * rings the doorbell of a running target (the modelled doorbell is a count
 * plus a kick of the run step) or wakes a sleeping one.  Interrupts are
 * taken from IRR by the modelled CPU when the guest is interruptible, so
 * no IRQ window is needed for them while AVIC is active.
 *
 * The IRQ window: V_IRQ is ignored while AVIC is enabled, so a vCPU that
 * needs a window (an ExtINT, or any interrupt while AVIC is inhibited)
 * holds a count in the VM's IRQ-window counter while apicv.c's window
 * (lapicv_vcpu.irq_window) is open: enable_irq_window takes it and
 * disable_irq_window (the guest became interruptible, or INIT/RESET) gives
 * it back.  The seed patch takes the count in svm_set_vintr(), reached
 * from svm_enable_irq_window(), and marks the vCPU (avic_irq_window, not
 * checked first there); it gives it back in svm_clear_vintr(), reached
 * from interrupt_window_interception() and svm_set_gif(), if the mark is
 * set.  It gives nothing back at INIT; lapicv does.  apicv.c calls the
 * hooks on transitions only, so each vCPU holds one count at most; the
 * counter drives the VM-wide IRQWIN inhibit (inhibit.c).
 *
 * Locking: IRR bits and IsRunning are read and written atomically by
 * senders; the rest is the vCPU owner's (vcpu->mutex).  The IRQ-window
 * counter is inhibit.c's.
 */
#include "apicv.h"
#include "svm_avic.h"
#include "trace.h"

static struct lapicv_avic *to_avic(struct lapicv_vcpu *vcpu)
{
	return vcpu->backend;
}

static void avic_set_running(struct lapicv_vcpu *vcpu, bool running)
{
	WRITE_ONCE(to_avic(vcpu)->is_running, running);
	/*
	 * Pairs with the sender's barrier between its IRR bit and its read
	 * of IsRunning: either it rings/wakes, or this vCPU sees the bit.
	 */
	smp_mb();
}

static int svm_vcpu_create(struct lapicv_vcpu *vcpu)
{
	struct lapicv_avic *avic;

	avic = kzalloc(sizeof(*avic), GFP_KERNEL_ACCOUNT);
	if (!avic)
		return -ENOMEM;
	atomic64_set(&avic->doorbells, 0);
	atomic64_set(&avic->wakeups, 0);
	vcpu->backend = avic;
	return 0;
}

static void svm_vcpu_free(struct lapicv_vcpu *vcpu)
{
	kfree(vcpu->backend);
	vcpu->backend = NULL;
}

static void svm_vcpu_load(struct lapicv_vcpu *vcpu)
{
	avic_set_running(vcpu, true);
}

static void svm_vcpu_put(struct lapicv_vcpu *vcpu)
{
	avic_set_running(vcpu, false);
}

static void svm_deliver_interrupt(struct lapicv_lapic *apic, int delivery_mode,
				  int trig_mode, int vector)
{
	struct lapicv_vcpu *vcpu = apic->vcpu;
	struct lapicv_avic *avic = to_avic(vcpu);

	/*
	 * A stale apicv_active only picks the other path: both leave the
	 * vector in IRR for the run step, and deactivation raises EVENT.
	 */
	if (!READ_ONCE(apic->apicv_active)) {
		lapicv_apic_deliver_irr(apic, vector);
		return;
	}
	lapicv_apic_set_irr(apic, vector);
	/* The IRR bit before IsRunning is read; pairs with avic_set_running. */
	smp_mb__after_atomic();

	if (READ_ONCE(avic->is_running)) {
		atomic64_inc(&avic->doorbells);
		trace_lapicv_deliver(vcpu->vcpu_id, vector,
				     LAPICV_DELIVER_DOORBELL);
	} else {
		atomic64_inc(&avic->wakeups);
		trace_lapicv_deliver(vcpu->vcpu_id, vector,
				     LAPICV_DELIVER_WAKEUP);
	}
	/*
	 * Both end in a kick here: a doorbell makes the running vCPU look at
	 * IRR, a wake-up ends the sleep of a blocked one.
	 */
	lapicv_vcpu_kick(vcpu);
}

/* The window opened: where the seed's svm_set_vintr() takes the count. */
static void svm_enable_irq_window(struct lapicv_vcpu *vcpu)
{
	lapicv_irq_window_inc_or_dec(vcpu->vm, true);
}

/* The window closed: where the seed's svm_clear_vintr() gives it back. */
static void svm_disable_irq_window(struct lapicv_vcpu *vcpu)
{
	lapicv_irq_window_inc_or_dec(vcpu->vm, false);
}

static void svm_vcpu_stats(struct lapicv_vcpu *vcpu,
			   struct lapicv_vcpu_stats *st)
{
	struct lapicv_avic *avic = to_avic(vcpu);

	st->avic_doorbells = atomic64_read(&avic->doorbells);
	st->avic_wakeups = atomic64_read(&avic->wakeups);
}

struct lapicv_backend lapicv_svm_backend = {
	.name			= "avic-model",
	.apicv			= true,
	/* KVM's AVIC_REQUIRED_APICV_INHIBITS. */
	.required_apicv_inhibits = BIT(LAPICV_INHIBIT_DISABLED) |
				   BIT(LAPICV_INHIBIT_ABSENT) |
				   BIT(LAPICV_INHIBIT_HYPERV) |
				   BIT(LAPICV_INHIBIT_NESTED) |
				   BIT(LAPICV_INHIBIT_IRQWIN) |
				   BIT(LAPICV_INHIBIT_PIT_REINJ) |
				   BIT(LAPICV_INHIBIT_BLOCKIRQ) |
				   BIT(LAPICV_INHIBIT_SEV) |
				   BIT(LAPICV_INHIBIT_PHYSICAL_ID_ALIASED) |
				   BIT(LAPICV_INHIBIT_APIC_ID_MODIFIED) |
				   BIT(LAPICV_INHIBIT_APIC_BASE_MODIFIED) |
				   BIT(LAPICV_INHIBIT_LOGICAL_ID_ALIASED),
	.vcpu_create		= svm_vcpu_create,
	.vcpu_free		= svm_vcpu_free,
	.vcpu_load		= svm_vcpu_load,
	.vcpu_put		= svm_vcpu_put,
	.vcpu_blocking		= svm_vcpu_put,
	.vcpu_unblocking	= svm_vcpu_load,
	.deliver_interrupt	= svm_deliver_interrupt,
	/* AVIC posts into IRR directly: nothing to move. */
	.sync_pir_to_irr	= lapicv_sync_irr_only,
	.enable_irq_window	= svm_enable_irq_window,
	.disable_irq_window	= svm_disable_irq_window,
	.vcpu_stats		= svm_vcpu_stats,
};
