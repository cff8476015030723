/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The vCPU's event state: what KVM keeps in kvm_vcpu_arch for
 * KVM_GET/SET_VCPU_EVENTS (NMIs queued, latched, being injected and
 * masked; the interrupt shadow; an SMI latched; an exception and an
 * interrupt being injected).  Nothing here knows about VMX or SVM: a run
 * step (apicv.c's LAPICV_RUN today, a real runner later) writes the guest's
 * side of it and carries out what was restored as injected.
 *
 * Lock card:
 *
 * lapicv_events
 *	:Type:     no lock of its own.
 *	:Protects: n/a: every field is the vCPU owner's (lapicv_vcpu.mutex)
 *	           except nmi_queued, which senders of NMIs (KVM_NMI, NMI IPIs
 *	           and MSIs from any vCPU or the VM fd) increment atomically.
 *	           SMIs from senders arrive as LAPICV_REQ_SMI, a request bit.
 */
#ifndef _LAPICV_EVENTS_H
#define _LAPICV_EVENTS_H

#include "lapicv_internal.h"

struct lapicv_vcpu;

/* KVM's KVM_X86_SHADOW_INT_* as kvm_amd reports a shadow: both bits. */
#define LAPICV_SHADOW_ANY	(KVM_X86_SHADOW_INT_MOV_SS | KVM_X86_SHADOW_INT_STI)

struct lapicv_events {
	/* NMIs sent and not yet latched; atomic, any context. */
	atomic_t nmi_queued;
	/*
	 * NMIs latched from nmi_queued by lapicv_events_process_nmi(): at
	 * most two, one while NMIs are masked or one is being injected.
	 */
	u8 nmi_pending;
	/* An NMI was being injected (restored): delivered first. */
	bool nmi_injected;
	/* NMIs are blocked until the guest's IRET. */
	bool nmi_masked;
	/* The interrupt shadow: 0 or LAPICV_SHADOW_ANY. */
	u8 shadow;
	/* An SMI was latched; lapicv has no SMM, so it stays until cleared. */
	bool smi_pending;
	/* The exception being injected (KVM's kvm_queued_exception). */
	struct {
		bool injected;
		bool has_error_code;
		u8 nr;
		u32 error_code;
		/* Kept and returned as KVM does, though never delivered. */
		u64 payload;
	} exception;
	/* The external (or soft, INTn) interrupt being injected. */
	struct {
		bool injected;
		bool soft;
		u8 nr;
	} interrupt;
};

/* An NMI arrived (KVM_NMI or an NMI message); the caller requests EVENT. */
static inline void lapicv_events_queue_nmi(struct lapicv_events *ev)
{
	atomic_inc(&ev->nmi_queued);
}

/* Injected events that must be delivered before anything new. */
static inline bool lapicv_events_need_reinjection(const struct lapicv_events *ev)
{
	return ev->exception.injected || ev->nmi_injected ||
	       ev->interrupt.injected;
}

/*
 * These run with lapicv_vcpu.mutex held.
 *
 * Latch queued NMIs as the CPU does (KVM's process_nmi()); move a
 * requested SMI into smi_pending (KVM's process_smi()).
 */
void lapicv_events_process_nmi(struct lapicv_vcpu *vcpu);
void lapicv_events_process_smi(struct lapicv_vcpu *vcpu);
/* What INIT and RESET drop (KVM's kvm_vcpu_reset(); mask and shadow stay). */
void lapicv_events_reset(struct lapicv_vcpu *vcpu);
/* KVM_SMI: an SMI for the vCPU, latched at the next step or GET. */
int lapicv_inject_smi(struct lapicv_vcpu *vcpu);
/* KVM_GET_VCPU_EVENTS: fills every byte of @e. */
void lapicv_get_vcpu_events(struct lapicv_vcpu *vcpu,
			    struct kvm_vcpu_events *e);
/* KVM_SET_VCPU_EVENTS: 0, or -EINVAL with nothing changed. */
int lapicv_set_vcpu_events(struct lapicv_vcpu *vcpu,
			   const struct kvm_vcpu_events *e);

#endif /* _LAPICV_EVENTS_H */
