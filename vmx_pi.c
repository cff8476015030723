// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vmx-model backend: posted interrupts and virtual-interrupt delivery
 * as VT-x does them (SDM 29.6 and 30.2), with the CPU's side modelled by
 * lapicv (no VT-x is used).
 *
 * A sender sets the vector's PIR bit, then ON; only the sender that sets
 * ON notifies, and only while SN is clear.  The "CPU" (the next run step)
 * clears ON and moves PIR into IRR with xchg per word; with APICv
 * inactive it raises LAPICV_REQ_EVENT (the seed's vmx_sync_pir_to_irr()).
 * With APICv active the run step's delivery of the highest IRR vector is
 * the modelled virtual-interrupt delivery.  A notification is a kick of
 * the vCPU's wait queue, which serves for both the posted-interrupt and
 * the wake-up vector of the real thing.
 *
 * SN is set while the vCPU is outside the run step (KVM's vmx_vcpu_pi_put
 * for a preempted vCPU): nobody waits then, and the next run step syncs.
 * PIR is cleared before KVM_SET_LAPIC or INIT/RESET replaces the register
 * page (KVM's vmx_apicv_pre_state_restore), whatever the APICv state.
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

static int vmx_vcpu_create(struct lapicv_vcpu *vcpu)
{
	struct lapicv_vmx *vmx;

	vmx = kzalloc(sizeof(*vmx), GFP_KERNEL_ACCOUNT);
	if (!vmx)
		return -ENOMEM;
	/* SN is set until the first run step. */
	vmx->pi_desc.control = BIT(LAPICV_PI_SN);
	atomic64_set(&vmx->notifications, 0);
	atomic64_set(&vmx->suppressed, 0);
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

	clear_bit(LAPICV_PI_SN, &pi->control);
	/* Pairs with the sender's test-and-set of ON before it reads SN. */
	smp_mb__after_atomic();
}

static void vmx_vcpu_put(struct lapicv_vcpu *vcpu)
{
	set_bit(LAPICV_PI_SN, &to_vmx(vcpu)->pi_desc.control);
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
	 * With virtual-interrupt delivery on the run step delivers from IRR
	 * itself; else new vectors need an event evaluation.
	 */
	if (got && !apic->apicv_active)
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

static void vmx_apicv_pre_state_restore(struct lapicv_vcpu *vcpu)
{
	struct lapicv_pi_desc *pi = &to_vmx(vcpu)->pi_desc;
	int i;

	/*
	 * The new register page is the whole truth from here on: what was
	 * posted before it goes, what is posted after it stays.  ON before
	 * PIR: cleared the other way round, a post between the two would
	 * leave a PIR bit with ON clear, which no sync looks at until the
	 * next post.
	 */
	clear_bit(LAPICV_PI_ON, &pi->control);
	for (i = 0; i < ARRAY_SIZE(pi->pir); i++)
		xchg(&pi->pir[i], 0);
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
	.name			= "vmx-model",
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
	.deliver_interrupt	= vmx_deliver_interrupt,
	.sync_pir_to_irr	= vmx_sync_pir_to_irr,
	.has_posted_interrupt	= vmx_has_posted_interrupt,
	.protected_apic_has_interrupt = vmx_protected_apic_has_interrupt,
	.apicv_pre_state_restore = vmx_apicv_pre_state_restore,
	.vcpu_stats		= vmx_vcpu_stats,
};
