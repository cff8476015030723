// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vCPU's event state and KVM_GET/SET_VCPU_EVENTS with KVM 6.12's
 * semantics (x86.c kvm_vcpu_ioctl_x86_get/set_vcpu_events(), process_nmi(),
 * smm.c process_smi()), as kvm_amd without vNMI reports them.
 *
 * lapicv has no SMM: an SMI is latched and reported, never taken, so it
 * stays pending until KVM_SET_VCPU_EVENTS clears it or INIT resets the
 * vCPU; entering SMM through KVM_SET_VCPU_EVENTS is refused.  Neither
 * KVM_CAP_EXCEPTION_PAYLOAD nor KVM_CAP_X86_TRIPLE_FAULT_EVENT exists here,
 * so exceptions are only ever "injected", never "pending".
 *
 * Locking: events.h has the card.
 */
#include "events.h"
#include "lapic.h"

#define EVENTS_NMI_VECTOR	2

#define EVENTS_VALID_FLAGS	(KVM_VCPUEVENT_VALID_NMI_PENDING |	\
				 KVM_VCPUEVENT_VALID_SIPI_VECTOR |	\
				 KVM_VCPUEVENT_VALID_SHADOW |		\
				 KVM_VCPUEVENT_VALID_SMM |		\
				 KVM_VCPUEVENT_VALID_PAYLOAD |		\
				 KVM_VCPUEVENT_VALID_TRIPLE_FAULT)

void lapicv_events_process_nmi(struct lapicv_vcpu *vcpu)
{
	struct lapicv_events *ev = &vcpu->events;
	/*
	 * The CPU latches one NMI while NMIs are blocked or one is being
	 * delivered; KVM lets a second wait otherwise, so that two sent at
	 * once are not folded into one.
	 */
	unsigned int limit = ev->nmi_masked || ev->nmi_injected ? 1 : 2;
	unsigned int queued = atomic_xchg(&ev->nmi_queued, 0);

	lockdep_assert_held(&vcpu->mutex);

	ev->nmi_pending = min_t(unsigned int, ev->nmi_pending + min(queued, 2u),
				limit);
}

void lapicv_events_process_smi(struct lapicv_vcpu *vcpu)
{
	lockdep_assert_held(&vcpu->mutex);

	if (lapicv_check_request(vcpu, LAPICV_REQ_SMI))
		vcpu->events.smi_pending = true;
}

void lapicv_events_reset(struct lapicv_vcpu *vcpu)
{
	struct lapicv_events *ev = &vcpu->events;

	/*
	 * KVM's kvm_vcpu_reset(): queued, latched and in-flight events go;
	 * an SMI still requested (not yet latched) survives, and kvm_amd
	 * keeps the NMI mask and the interrupt shadow, as do the vectors.
	 */
	atomic_set(&ev->nmi_queued, 0);
	ev->nmi_pending = 0;
	ev->nmi_injected = false;
	ev->smi_pending = false;
	ev->exception.injected = false;
	ev->interrupt.injected = false;
}

int lapicv_inject_smi(struct lapicv_vcpu *vcpu)
{
	lapicv_make_request(vcpu, LAPICV_REQ_SMI);
	lapicv_make_request(vcpu, LAPICV_REQ_EVENT);
	return 0;
}

void lapicv_get_vcpu_events(struct lapicv_vcpu *vcpu,
			    struct kvm_vcpu_events *e)
{
	struct lapicv_events *ev = &vcpu->events;
	struct lapicv_lapic *apic = vcpu->apic;

	lapicv_events_process_nmi(vcpu);
	lapicv_events_process_smi(vcpu);

	memset(e, 0, sizeof(*e));
	/*
	 * KVM never reports a software exception (#BP, #OF) as injected: the
	 * API has no instruction length for it.  The vector and error code
	 * are reported whatever the state.
	 */
	if (ev->exception.nr != BP_VECTOR && ev->exception.nr != OF_VECTOR)
		e->exception.injected = ev->exception.injected;
	e->exception.nr = ev->exception.nr;
	e->exception.has_error_code = ev->exception.has_error_code;
	e->exception.error_code = ev->exception.error_code;
	e->exception_payload = ev->exception.payload;
	/* Nor a soft interrupt (INTn), for the same reason. */
	e->interrupt.injected = ev->interrupt.injected && !ev->interrupt.soft;
	e->interrupt.nr = ev->interrupt.nr;
	e->interrupt.shadow = ev->shadow;
	e->nmi.injected = ev->nmi_injected;
	e->nmi.pending = ev->nmi_pending;
	e->nmi.masked = ev->nmi_masked;
	/* sipi_vector is never reported; smi.smm is 0 without SMM. */
	e->smi.pending = ev->smi_pending;
	e->smi.latched_init = apic &&
			      test_bit(LAPICV_APIC_INIT, &apic->pending_events);
	e->flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW |
		   KVM_VCPUEVENT_VALID_SMM;
}

/* KVM's checks, in KVM's order, then lapicv's; nothing is changed yet. */
static int events_check(struct lapicv_vcpu *vcpu,
			const struct kvm_vcpu_events *e)
{
	bool smm = e->flags & KVM_VCPUEVENT_VALID_SMM;

	if (e->flags & ~EVENTS_VALID_FLAGS)
		return -EINVAL;
	/* KVM_CAP_EXCEPTION_PAYLOAD cannot be enabled. */
	if (e->flags & KVM_VCPUEVENT_VALID_PAYLOAD)
		return -EINVAL;
	/*
	 * Without the payload flag KVM ignores exception.pending (and the
	 * payload flag), so only an injected exception is checked.
	 */
	if (e->exception.injected &&
	    (e->exception.nr > 31 || e->exception.nr == EVENTS_NMI_VECTOR))
		return -EINVAL;
	/* INIT is latched in SMM: no SMM (nor SMI) in wait-for-SIPI. */
	if (smm && (e->smi.smm || e->smi.pending) && vcpu->apic &&
	    vcpu->apic->mp_state == KVM_MP_STATE_INIT_RECEIVED)
		return -EINVAL;
	/* lapicv's own: there is no SMM to enter. */
	if (smm && e->smi.smm)
		return -EINVAL;
	/*
	 * KVM_CAP_X86_TRIPLE_FAULT_EVENT cannot be enabled.  KVM checks this
	 * last, after applying everything else; lapicv refuses first.
	 */
	if (e->flags & KVM_VCPUEVENT_VALID_TRIPLE_FAULT)
		return -EINVAL;
	return 0;
}

int lapicv_set_vcpu_events(struct lapicv_vcpu *vcpu,
			   const struct kvm_vcpu_events *e)
{
	struct lapicv_events *ev = &vcpu->events;
	struct lapicv_lapic *apic = vcpu->apic;
	int r;

	lockdep_assert_held(&vcpu->mutex);

	r = events_check(vcpu, e);
	if (r)
		return r;

	/* NMIs already queued are latched under the old mask first. */
	lapicv_events_process_nmi(vcpu);

	ev->exception.injected = e->exception.injected;
	ev->exception.nr = e->exception.nr;
	ev->exception.has_error_code = e->exception.has_error_code;
	ev->exception.error_code = e->exception.error_code;
	ev->exception.payload = e->exception_payload;

	ev->interrupt.injected = e->interrupt.injected;
	ev->interrupt.nr = e->interrupt.nr;
	ev->interrupt.soft = e->interrupt.soft;
	if (e->flags & KVM_VCPUEVENT_VALID_SHADOW)
		ev->shadow = e->interrupt.shadow ? LAPICV_SHADOW_ANY : 0;

	ev->nmi_injected = e->nmi.injected;
	if (e->flags & KVM_VCPUEVENT_VALID_NMI_PENDING) {
		ev->nmi_pending = 0;
		atomic_set(&ev->nmi_queued, e->nmi.pending);
	}
	ev->nmi_masked = e->nmi.masked;

	if ((e->flags & KVM_VCPUEVENT_VALID_SIPI_VECTOR) && apic)
		apic->sipi_vector = e->sipi_vector;

	if (e->flags & KVM_VCPUEVENT_VALID_SMM) {
		/* smi.smm is 0 here; smm_inside_nmi means nothing outside SMM. */
		ev->smi_pending = e->smi.pending;
		if (apic) {
			if (e->smi.latched_init)
				set_bit(LAPICV_APIC_INIT, &apic->pending_events);
			else
				clear_bit(LAPICV_APIC_INIT, &apic->pending_events);
		}
	}

	lapicv_make_request(vcpu, LAPICV_REQ_EVENT);
	return 0;
}
