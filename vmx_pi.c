// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vmx backend: posted interrupts and virtual-interrupt delivery as
 * VT-x does them (SDM 29.6 and 30.2), with the CPU's side modelled.
 *
 * A sender sets the vector's PIR bit, then ON; only the sender that sets
 * ON notifies, and only while SN is clear.  The "CPU" (the next run step)
 * clears ON and moves PIR into IRR with xchg per word, then sets RVI when
 * APICv is active, else raises LAPICV_REQ_EVENT (the seed's
 * vmx_sync_pir_to_irr()).  A notification is a kick of the vCPU's wait
 * queue: the posted-interrupt vector would make a running guest process
 * PIR, the wake-up vector would wake a blocked vCPU; here both wake the
 * run step's wait, and NV records which one was in force.
 *
 * SN is set while the vCPU is outside the run step (KVM's vmx_vcpu_pi_put
 * for a preempted vCPU): nobody waits then, and the next run step syncs.
 *
 * Locking: the descriptor is lockless.  Senders touch PIR and ON with
 * atomic bit operations; ON's test-and-set and SN's clear are full
 * barriers, so a sender that reads SN set and a run step that clears SN
 * and then reads ON cannot both miss each other.  Everything else here is
 * the vCPU owner's (vcpu->mutex).
 */
#include "apicv.h"
#include "trace.h"
#include "vmx_pi.h"

static struct lapicv_vmx *to_vmx(struct lapicv_vcpu *vcpu)
{
	return vcpu->backend;
}

static void pi_set_nv(struct lapicv_pi_desc *pi, u8 nv)
{
	unsigned long old, new;

	/* Only the owner writes NV, but senders flip ON in the same word. */
	do {
		old = READ_ONCE(pi->control);
		new = (old & ~(0xffUL << LAPICV_PI_NV_SHIFT)) |
		      ((unsigned long)nv << LAPICV_PI_NV_SHIFT);
	} while (cmpxchg(&pi->control, old, new) != old);
}

static int vmx_vcpu_create(struct lapicv_vcpu *vcpu)
{
	struct lapicv_vmx *vmx;

	vmx = kzalloc(sizeof(*vmx), GFP_KERNEL_ACCOUNT);
	if (!vmx)
		return -ENOMEM;
	/*
	 * No physical CPU to name: NDST carries the vCPU's own id, SN is set
	 * until the first run step.
	 */
	vmx->pi_desc.control = BIT(LAPICV_PI_SN) |
		((unsigned long)LAPICV_POSTED_INTR_VECTOR << LAPICV_PI_NV_SHIFT) |
		((unsigned long)vcpu->vcpu_id << LAPICV_PI_NDST_SHIFT);
	atomic64_set(&vmx->notifications, 0);
	atomic64_set(&vmx->suppressed, 0);
	vmx->apicv_ctrls = vcpu->apic && vcpu->apic->apicv_active;
	vcpu->backend = vmx;
	return 0;
}

static void vmx_vcpu_free(struct lapicv_vcpu *vcpu)
{
	kfree(vcpu->backend);
	vcpu->backend = NULL;
}

static void vmx_vcpu_load(struct lapicv_vcpu *vcpu)
{
	struct lapicv_pi_desc *pi = &to_vmx(vcpu)->pi_desc;

	pi_set_nv(pi, LAPICV_POSTED_INTR_VECTOR);
	clear_bit(LAPICV_PI_SN, &pi->control);
	/* Pairs with the sender's test-and-set of ON before it reads SN. */
	smp_mb__after_atomic();
}

static void vmx_vcpu_put(struct lapicv_vcpu *vcpu)
{
	set_bit(LAPICV_PI_SN, &to_vmx(vcpu)->pi_desc.control);
}

static void vmx_vcpu_blocking(struct lapicv_vcpu *vcpu)
{
	/* A notification must now wake the vCPU (KVM's pi_enable_wakeup). */
	pi_set_nv(&to_vmx(vcpu)->pi_desc, LAPICV_POSTED_INTR_WAKEUP_VECTOR);
}

static void vmx_vcpu_unblocking(struct lapicv_vcpu *vcpu)
{
	pi_set_nv(&to_vmx(vcpu)->pi_desc, LAPICV_POSTED_INTR_VECTOR);
}

static void vmx_refresh_apicv_exec_ctrl(struct lapicv_vcpu *vcpu)
{
	struct lapicv_vmx *vmx = to_vmx(vcpu);

	vmx->apicv_ctrls = vcpu->apic->apicv_active;
	/*
	 * Bits posted before a deactivation stay in PIR: every run step syncs
	 * PIR whatever the APICv state, as KVM does for assigned devices.
	 */
	if (!vmx->apicv_ctrls)
		vmx->rvi = 0;
}

/* Post @vector; false when APICv is off and IRR must be used instead. */
static bool vmx_deliver_posted_interrupt(struct lapicv_vcpu *vcpu, int vector)
{
	struct lapicv_vmx *vmx = to_vmx(vcpu);
	struct lapicv_pi_desc *pi = &vmx->pi_desc;

	if (!READ_ONCE(vcpu->apic->apicv_active))
		return false;
	/*
	 * Already posted and not yet synced, or a notification outstanding
	 * for an earlier bit, or notifications suppressed: nothing to send.
	 */
	if (test_and_set_bit(vector, pi->pir) ||
	    test_and_set_bit(LAPICV_PI_ON, &pi->control) ||
	    test_bit(LAPICV_PI_SN, &pi->control)) {
		atomic64_inc(&vmx->suppressed);
		trace_lapicv_deliver(vcpu->vcpu_id, vector,
				     LAPICV_DELIVER_POSTED_QUIET);
		return true;
	}
	atomic64_inc(&vmx->notifications);
	lapicv_vcpu_kick(vcpu);
	trace_lapicv_deliver(vcpu->vcpu_id, vector, LAPICV_DELIVER_POSTED);
	return true;
}

static void vmx_deliver_interrupt(struct lapicv_lapic *apic, int delivery_mode,
				  int trig_mode, int vector)
{
	struct lapicv_vcpu *vcpu = apic->vcpu;

	if (!vmx_deliver_posted_interrupt(vcpu, vector))
		lapicv_apic_deliver_irr(apic, vector);
}

static int vmx_sync_pir_to_irr(struct lapicv_vcpu *vcpu)
{
	struct lapicv_vmx *vmx = to_vmx(vcpu);
	struct lapicv_pi_desc *pi = &vmx->pi_desc;
	struct lapicv_lapic *apic = vcpu->apic;
	bool got = false;
	int max_irr;

	if (test_bit(LAPICV_PI_ON, &pi->control)) {
		clear_bit(LAPICV_PI_ON, &pi->control);
		/*
		 * ON before PIR: a sender that posts after this point sets ON
		 * again and notifies, so its bit is seen by the next sync.
		 */
		smp_mb__after_atomic();
		got = lapicv_apic_update_irr(apic, pi->pir, &max_irr);
		if (got)
			vmx->pir_syncs++;
	} else {
		max_irr = lapicv_apic_find_highest_irr(apic);
	}

	/*
	 * New vectors reach the guest through RVI when virtual-interrupt
	 * delivery is on, else through an event evaluation.
	 */
	if (apic->apicv_active)
		vmx->rvi = max_irr < 0 ? 0 : max_irr;
	else if (got)
		lapicv_make_request(vcpu, LAPICV_REQ_EVENT);
	return max_irr;
}

static bool vmx_has_posted_interrupt(struct lapicv_vcpu *vcpu)
{
	struct lapicv_pi_desc *pi = &to_vmx(vcpu)->pi_desc;
	int i;

	if (test_bit(LAPICV_PI_ON, &pi->control))
		return true;
	/* With SN set, bits may be posted without ON. */
	if (!test_bit(LAPICV_PI_SN, &pi->control))
		return false;
	for (i = 0; i < ARRAY_SIZE(pi->pir); i++)
		if (READ_ONCE(pi->pir[i]))
			return true;
	return false;
}

/*
 * A protected APIC's pending interrupt, as the modelled CPU sees it:
 * something posted, or a vector in the virtual IRR above the virtual PPR.
 */
static bool vmx_protected_apic_has_interrupt(struct lapicv_vcpu *vcpu)
{
	struct lapicv_lapic *apic = vcpu->apic;

	return vmx_has_posted_interrupt(vcpu) ||
	       lapicv_apic_deliverable_vector(apic,
					      lapicv_apic_find_highest_irr(apic)) >= 0;
}

static void vmx_hwapic_irr_update(struct lapicv_vcpu *vcpu, int max_irr)
{
	to_vmx(vcpu)->rvi = max_irr < 0 ? 0 : max_irr;
}

static void vmx_hwapic_isr_update(struct lapicv_vcpu *vcpu, int max_isr)
{
	to_vmx(vcpu)->svi = max_isr < 0 ? 0 : max_isr;
}

static void vmx_apicv_post_state_restore(struct lapicv_vcpu *vcpu)
{
	struct lapicv_pi_desc *pi = &to_vmx(vcpu)->pi_desc;
	int i;

	/* The restored IRR is the whole truth: drop what was posted. */
	clear_bit(LAPICV_PI_ON, &pi->control);
	for (i = 0; i < ARRAY_SIZE(pi->pir); i++)
		xchg(&pi->pir[i], 0);
}

static void vmx_enable_irq_window(struct lapicv_vcpu *vcpu)
{
	to_vmx(vcpu)->irq_window_exiting = true;
}

static void vmx_irq_window_exit(struct lapicv_vcpu *vcpu)
{
	to_vmx(vcpu)->irq_window_exiting = false;
}

static void vmx_vcpu_stats(struct lapicv_vcpu *vcpu,
			   struct lapicv_vcpu_stats *st)
{
	struct lapicv_vmx *vmx = to_vmx(vcpu);

	st->pi_notifications = atomic64_read(&vmx->notifications);
	st->pi_suppressed = atomic64_read(&vmx->suppressed);
	/* Lockless for the stats fd: see lapicv_vcpu_read_stats(). */
	st->pir_syncs = READ_ONCE(vmx->pir_syncs);
}

struct lapicv_backend lapicv_vmx_backend = {
	.name			= "vmx",
	.apicv			= true,
	/* KVM's VMX_REQUIRED_APICV_INHIBITS. */
	.required_apicv_inhibits = BIT(LAPICV_INHIBIT_DISABLED) |
				   BIT(LAPICV_INHIBIT_ABSENT) |
				   BIT(LAPICV_INHIBIT_HYPERV) |
				   BIT(LAPICV_INHIBIT_BLOCKIRQ) |
				   BIT(LAPICV_INHIBIT_PHYSICAL_ID_ALIASED) |
				   BIT(LAPICV_INHIBIT_APIC_ID_MODIFIED) |
				   BIT(LAPICV_INHIBIT_APIC_BASE_MODIFIED),
	.vcpu_create		= vmx_vcpu_create,
	.vcpu_free		= vmx_vcpu_free,
	.vcpu_load		= vmx_vcpu_load,
	.vcpu_put		= vmx_vcpu_put,
	.vcpu_blocking		= vmx_vcpu_blocking,
	.vcpu_unblocking	= vmx_vcpu_unblocking,
	.refresh_apicv_exec_ctrl = vmx_refresh_apicv_exec_ctrl,
	.deliver_interrupt	= vmx_deliver_interrupt,
	.sync_pir_to_irr	= vmx_sync_pir_to_irr,
	.has_posted_interrupt	= vmx_has_posted_interrupt,
	.protected_apic_has_interrupt = vmx_protected_apic_has_interrupt,
	.hwapic_irr_update	= vmx_hwapic_irr_update,
	.hwapic_isr_update	= vmx_hwapic_isr_update,
	.apicv_post_state_restore = vmx_apicv_post_state_restore,
	.enable_irq_window	= vmx_enable_irq_window,
	.irq_window_exit	= vmx_irq_window_exit,
	.vcpu_stats		= vmx_vcpu_stats,
};
