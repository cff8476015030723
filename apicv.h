/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * APICv: the backend ops table, per-vCPU activation and the run step.
 *
 * A backend is what KVM's vendor module is to x86.c for interrupts: soft
 * (no APICv, the default), or one of lapicv's own models of the CPU's side
 * of APICv: vmx-model (posted interrupts, vmx_pi.c) or avic-model (AVIC,
 * svm_avic.c).  Neither model uses the hardware.  One is chosen by name at
 * module load; its hooks are reached through static calls declared from
 * the list in ops.h, so the core has no vendor branches.
 */
#ifndef _LAPICV_APICV_H
#define _LAPICV_APICV_H

#include "lapicv.h"
#include "lapic.h"

struct lapicv_backend {
	const char *name;
	/* The backend accelerates: VMs start with ABSENT, not DISABLED. */
	bool apicv;
	/* Inhibit reasons that turn this backend's APICv off. */
	unsigned long required_apicv_inhibits;

	/* Per-vCPU backend state, after the LAPIC exists; 0 or -errno. */
	int (*vcpu_create)(struct lapicv_vcpu *vcpu);
	void (*vcpu_free)(struct lapicv_vcpu *vcpu);
	/* The run step starts (load) and ends (put): KVM's vcpu_load/put. */
	void (*vcpu_load)(struct lapicv_vcpu *vcpu);
	void (*vcpu_put)(struct lapicv_vcpu *vcpu);
	/* A halted run step goes to sleep / wakes up. */
	void (*vcpu_blocking)(struct lapicv_vcpu *vcpu);
	void (*vcpu_unblocking)(struct lapicv_vcpu *vcpu);
	/*
	 * A fixed or lowest-priority interrupt was accepted by @apic (TMR
	 * already updated): make it pending and get the vCPU to see it.  Any
	 * context, without the target's mutex.
	 */
	void (*deliver_interrupt)(struct lapicv_lapic *apic, int delivery_mode,
				  int trig_mode, int vector);
	/* Move posted interrupts into IRR; returns the highest IRR or -1. */
	int (*sync_pir_to_irr)(struct lapicv_vcpu *vcpu);
	/* Something is posted but not yet in IRR (a wake-up condition). */
	bool (*has_posted_interrupt)(struct lapicv_vcpu *vcpu);
	/*
	 * KVM_SET_LAPIC (after its checks) or INIT/RESET is about to replace
	 * the register page: drop what is posted outside it.  Whatever the
	 * APICv state.
	 */
	void (*apicv_pre_state_restore)(struct lapicv_vcpu *vcpu);
	/*
	 * apicv.c's IRQ window (lapicv_vcpu.irq_window) opened / closed:
	 * act on the transition (svm: the VM's IRQ-window count).
	 */
	void (*enable_irq_window)(struct lapicv_vcpu *vcpu);
	void (*disable_irq_window)(struct lapicv_vcpu *vcpu);
	/* guest_apic_protected VMs: is an interrupt pending? */
	bool (*protected_apic_has_interrupt)(struct lapicv_vcpu *vcpu);
	/* Fill in the backend's counters of @st. */
	void (*vcpu_stats)(struct lapicv_vcpu *vcpu,
			   struct lapicv_vcpu_stats *st);
};

/* The chosen backend's data and hooks (name, apicv, inhibits, ...). */
extern struct lapicv_backend lapicv_backend;

#define LAPICV_OP(func)							\
	DECLARE_STATIC_CALL(lapicv_backend_##func,			\
			    typeof(*lapicv_backend.func))
#define LAPICV_OP_OPTIONAL LAPICV_OP
#define LAPICV_OP_OPTIONAL_RET0 LAPICV_OP
#include "ops.h"

/* lapicv_deliver tracepoint: how a fixed interrupt reached the vCPU. */
enum lapicv_deliver_how {
	LAPICV_DELIVER_IRR,		/* IRR bit and an EVENT request */
	LAPICV_DELIVER_POSTED,		/* PIR, ON, notification */
	LAPICV_DELIVER_POSTED_QUIET,	/* PIR; ON or SN already set */
	LAPICV_DELIVER_DOORBELL,	/* AVIC: target running */
	LAPICV_DELIVER_WAKEUP,		/* AVIC: target not running */
};

/*
 * How core files call a hook.  tests/unit defines these before including
 * this header, to call through function pointers instead.
 */
#ifndef lapicv_call
#define lapicv_call(func)	static_call(lapicv_backend_##func)
#define lapicv_call_cond(func)	static_call_cond(lapicv_backend_##func)
#endif

extern struct lapicv_backend lapicv_soft_backend;
extern struct lapicv_backend lapicv_vmx_backend;
extern struct lapicv_backend lapicv_svm_backend;

/*
 * Copy @b into lapicv_backend and point every static call at its hooks.
 * -EINVAL, with a pr_err naming the hook, if a mandatory hook is missing.
 */
int lapicv_backend_setup(const struct lapicv_backend *b);

/* ---- per-vCPU ---- */

/* After lapicv_lapic_create(): APICv state and the backend's part. */
int lapicv_apicv_vcpu_create(struct lapicv_vcpu *vcpu);
void lapicv_apicv_vcpu_free(struct lapicv_vcpu *vcpu);

/*
 * KVM's static_call(deliver_interrupt) in __apic_accept_irq(): for a fixed
 * or lowest-priority interrupt, after TMR is set; lapic.c calls this
 * instead of setting IRR itself.  Any context.
 */
static inline void lapicv_deliver_interrupt(struct lapicv_lapic *apic,
					    int delivery_mode, int trig_mode,
					    int vector)
{
	lapicv_call(deliver_interrupt)(apic, delivery_mode, trig_mode, vector);
}

/*
 * Set an IRR bit and the hint after it (KVM's kvm_lapic_set_irr()).  Any
 * context: atomic, and the hint is only ever set here.
 */
void lapicv_apic_set_irr(struct lapicv_lapic *apic, int vector);
/*
 * Software delivery, the path without APICv on every backend: IRR, an
 * EVENT request, a kick.  Any context.
 */
void lapicv_apic_deliver_irr(struct lapicv_lapic *apic, int vector);
/* sync_pir_to_irr for a backend that never posts outside IRR. */
int lapicv_sync_irr_only(struct lapicv_vcpu *vcpu);

/*
 * Merge a 256-bit posted-interrupt request bitmap into IRR, clearing it
 * word by word with xchg (KVM's kvm_apic_update_irr()).  Returns whether
 * a new vector arrived; *max_irr gets the highest IRR or -1.
 */
bool lapicv_apic_update_irr(struct lapicv_lapic *apic, unsigned long *pir,
			    int *max_irr);

/* Posted interrupts into IRR, e.g. before KVM_GET_LAPIC; vcpu->mutex. */
int lapicv_sync_pir_to_irr(struct lapicv_vcpu *vcpu);

/*
 * KVM's kvm_apic_update_apicv(): the IRR/ISR caches after apicv_active
 * changed.  vcpu->mutex.
 */
void lapicv_apic_update_apicv(struct lapicv_lapic *apic);

/* Refresh apicv_active from the VM's inhibits (__kvm_vcpu_update_apicv). */
void lapicv_vcpu_update_apicv(struct lapicv_vcpu *vcpu);

/*
 * KVM_SET_LAPIC and INIT/RESET, once the request is known to succeed and
 * before the register page changes: the backend drops what it posted
 * outside the page (KVM's apicv_pre_state_restore).  vcpu->mutex.
 */
void lapicv_apicv_pre_state_restore(struct lapicv_vcpu *vcpu);

/*
 * KVM_SET_LAPIC's APICv tail (kvm_apic_set_state()): refresh the IRR/ISR
 * caches and raise an event request.  lapic.c calls it after the register
 * page is in place.  vcpu->mutex.
 */
void lapicv_apicv_post_set_state(struct lapicv_vcpu *vcpu);

/*
 * INIT or RESET of the vCPU, before the register page changes: drop what
 * the backend posted outside it (lapicv_apicv_pre_state_restore(), as
 * KVM's kvm_lapic_reset() does) and close an open IRQ window, as KVM's
 * init_vmcb()/vmx_vcpu_reset() clear the window-exiting controls.
 * vcpu->mutex.
 */
void lapicv_apicv_vcpu_reset(struct lapicv_vcpu *vcpu);

/*
 * LAPICV_GUEST_ACCESS after vm.c copied the struct in: 0, or -EINVAL for
 * a malformed request (state untouched).  vcpu->mutex held.
 */
struct lapicv_guest_access;
int lapicv_guest_access(struct lapicv_vcpu *vcpu,
			struct lapicv_guest_access *ga);

/* LAPICV_GET_VCPU_STATS; vcpu->mutex held. */
void lapicv_vcpu_get_stats(struct lapicv_vcpu *vcpu,
			   struct lapicv_vcpu_stats *st);
/* The same counters without vcpu->mutex, for the stats fd; never sleeps. */
void lapicv_vcpu_read_stats(struct lapicv_vcpu *vcpu,
			    struct lapicv_vcpu_stats *st);

/* LAPICV_RUN after vm.c copied the struct in; vcpu->mutex held. */
struct lapicv_run;
/* LAPICV_RUN's "in" bytes, flags, padding and reserved words are valid. */
bool lapicv_run_valid(const struct lapicv_run *run);
int lapicv_vcpu_run(struct lapicv_vcpu *vcpu, struct lapicv_run *run);

/*
 * The decision itself, for every way of running a vCPU: LAPICV_RUN after
 * its checks, and the SVM runner's KVM_RUN (run.c) with the guest's state
 * read from the VMCB.  @run's "in" fields are valid and vcpu->apic exists;
 * vcpu->mutex held.  0, or -EINTR when a signal ended a sleep.
 *
 * @vmm_window: KVM_RUN's request_interrupt_window on a split irqchip (KVM's
 * dm_request_for_irq_injection()).  The step then opens an IRQ window
 * whenever LINT0 could take an ExtINT and none is pending, and a halted
 * vCPU whose wake-up finds the guest ready for an ExtINT ends the step
 * RUNNABLE with LAPICV_RUN_NONE, nothing injected, for the caller to
 * report the open window first.
 */
int lapicv_vcpu_step(struct lapicv_vcpu *vcpu, struct lapicv_run *run,
		     bool vmm_window);

/*
 * KVM's kvm_vcpu_ready_for_interrupt_injection() on a split irqchip: the
 * guest can take an interrupt (@interruptible: RFLAGS.IF, no shadow),
 * LINT0 accepts an ExtINT, none is pending, and no event waits for
 * (re)injection.  vcpu->mutex held.
 */
bool lapicv_vcpu_ready_for_extint(struct lapicv_vcpu *vcpu, bool interruptible);

/*
 * The INIT and SIPI that lapicv_apic_accept_events() acted on since the
 * last call (BIT(LAPICV_APIC_INIT), BIT(LAPICV_APIC_SIPI)), and the SIPI's
 * vector; the next step reports none of them.  vcpu->mutex held.
 */
unsigned long lapicv_vcpu_take_init_sipi(struct lapicv_vcpu *vcpu,
					 u8 *sipi_vector);

/*
 * The guest's HLT (KVM's __kvm_emulate_halt() with an in-kernel LAPIC):
 * the vCPU becomes HALTED (true), unless a wake-up event is there already
 * (@interruptible: RFLAGS.IF and no shadow after the HLT), which ends a
 * PV unhalt instead.  vcpu->mutex held.
 */
bool lapicv_vcpu_halt(struct lapicv_vcpu *vcpu, bool interruptible);

/* The CPU's VINTR exit: the open IRQ window has done its work. */
void lapicv_vcpu_irq_window_exit(struct lapicv_vcpu *vcpu);

/*
 * The guest's xAPIC MMIO at @offset (0 .. 0xfff) of the APIC page, as
 * KVM's apic_mmio_read/write(): @size 1, 2, 4 or 8 bytes; a disabled or
 * x2APIC-mode APIC reads all ones and ignores writes; reads across a
 * register read 0; writes other than 4 aligned bytes are dropped.
 */
u64 lapicv_apic_mmio_read(struct lapicv_lapic *apic, u32 offset, u8 size);
void lapicv_apic_mmio_write(struct lapicv_lapic *apic, u32 offset, u8 size,
			    u64 data);

#endif /* _LAPICV_APICV_H */
