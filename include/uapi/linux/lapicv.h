/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * lapicv's own ioctls: what KVM's uAPI has no ioctl for.
 *
 * Everything KVM already offers (KVM_CREATE_VM, KVM_GET_LAPIC, ...) keeps
 * KVM's number and structure from <linux/kvm.h>; the ioctls here use their
 * own type, LAPICVIO, so they can never collide with a KVM ioctl.
 */
#ifndef _UAPI_LINUX_LAPICV_H
#define _UAPI_LINUX_LAPICV_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define LAPICVIO	0xAF

/*
 * APICv inhibit reasons: bit numbers in lapicv_inhibit_state.reasons, the
 * same as KVM's enum kvm_apicv_inhibit so traces read alike.
 */
enum lapicv_inhibit_reason {
	LAPICV_INHIBIT_DISABLED,		/* no APICv backend (soft) */
	LAPICV_INHIBIT_HYPERV,			/* VMM: Hyper-V AutoEOI */
	LAPICV_INHIBIT_ABSENT,			/* no split irqchip yet */
	LAPICV_INHIBIT_BLOCKIRQ,		/* VMM: debug IRQ blocking */
	LAPICV_INHIBIT_PHYSICAL_ID_ALIASED,	/* APIC IDs not 1:1 */
	LAPICV_INHIBIT_APIC_ID_MODIFIED,	/* an APIC ID was changed */
	LAPICV_INHIBIT_APIC_BASE_MODIFIED,	/* an APIC base was moved */
	LAPICV_INHIBIT_NESTED,			/* VMM: a vCPU runs nested */
	LAPICV_INHIBIT_IRQWIN,			/* waiting for an IRQ window */
	LAPICV_INHIBIT_PIT_REINJ,		/* VMM: PIT re-injection */
	LAPICV_INHIBIT_SEV,			/* VMM: SEV guest */
	LAPICV_INHIBIT_LOGICAL_ID_ALIASED,	/* logical IDs not 1:1 */
	LAPICV_NR_INHIBITS,
};

/* The reasons a VMM may set or clear; lapicv owns the others. */
#define LAPICV_INHIBITS_VMM_SETTABLE				\
	((1u << LAPICV_INHIBIT_HYPERV) |			\
	 (1u << LAPICV_INHIBIT_BLOCKIRQ) |			\
	 (1u << LAPICV_INHIBIT_NESTED) |			\
	 (1u << LAPICV_INHIBIT_PIT_REINJ) |			\
	 (1u << LAPICV_INHIBIT_SEV))

/*
 * LAPICV_ENABLE_PROTECTED_APIC (VM fd, argument 0): make the VM a
 * protected-APIC VM (TDX-style guest_apic_protected): the VMM cannot read
 * or write the guest's APIC (KVM_GET_LAPIC, KVM_SET_LAPIC,
 * LAPICV_GUEST_ACCESS: -EINVAL; KVM_GET/SET_MSRS on the APIC MSRs, the APIC
 * base and TSC deadline: the entry fails), and interrupts reach the guest
 * only through posted interrupts.  Only before the first vCPU (then
 * -EBUSY); -EINVAL for a non-zero argument or on a backend that cannot
 * answer for an APIC nobody may read (all but vmx-model).  Asking again before
 * the first vCPU succeeds.  KVM_CREATE_VM takes KVM_X86_DEFAULT_VM only.
 */
#define LAPICV_ENABLE_PROTECTED_APIC	_IO(LAPICVIO, 0x03)

/* LAPICV_SET_INHIBIT (VM fd): set (set = 1) or clear (set = 0) a reason. */
struct lapicv_inhibit_op {
	__u32 reason;
	__u32 set;
};

/* LAPICV_GET_INHIBITS (VM fd): why APICv is (in)active in this VM. */
struct lapicv_inhibit_state {
	__u64 reasons;		/* bit n: reason n is set */
	__u64 required;		/* reasons the backend honours */
	__u32 apicv_enabled;	/* the backend accelerates at all */
	__u32 irq_window;	/* vCPUs waiting for an IRQ window */
	/* Names of the reasons set, e.g. "IRQWIN PIT_REINJ", NUL-terminated. */
	char names[256];
};

/* LAPICV_GET_VM_STATS (VM fd): counters since the VM was created. */
struct lapicv_vm_stats {
	__u64 inhibit_changes;		/* changes of the reasons mask */
	__u64 apicv_toggles;		/* changes between none and some */
	__u64 update_lock_writes;	/* apicv_update_lock taken for write */
	__u64 irqwin_transitions;	/* IRQ-window count 0->1 or 1->0 */
	__u64 reserved[12];
};

#define LAPICV_SET_INHIBIT	_IOW(LAPICVIO, 0x00, struct lapicv_inhibit_op)
#define LAPICV_GET_INHIBITS	_IOR(LAPICVIO, 0x01, struct lapicv_inhibit_state)
#define LAPICV_GET_VM_STATS	_IOR(LAPICVIO, 0x02, struct lapicv_vm_stats)

/*
 * LAPICV_RUN (vCPU fd): the run step.  The VMM says how interruptible its
 * guest is; lapicv does what KVM's vcpu_enter_guest() does for interrupts
 * and says what happened.  All of "out" is written; "in" is left as given.
 */

/* lapicv_run.exit_reason */
enum lapicv_run_exit {
	LAPICV_RUN_NONE,	/* nothing the guest can take is pending */
	LAPICV_RUN_NMI,		/* an NMI was injected */
	LAPICV_RUN_EXTINT,	/* the KVM_INTERRUPT vector was injected */
	LAPICV_RUN_INTR,	/* an APIC vector was injected (IRR->ISR) */
	LAPICV_RUN_VIRTUAL_INTR,/* APICv delivered an APIC vector */
	/* pending, guest not interruptible: step again once it is */
	LAPICV_RUN_IRQ_WINDOW,
	LAPICV_RUN_INIT,	/* INIT accepted: the vCPU waits for SIPI */
	LAPICV_RUN_SIPI,	/* SIPI accepted: start at vector << 12 */
	LAPICV_RUN_IOAPIC_EOI,	/* the guest EOId a level vector for the IOAPIC */
	LAPICV_RUN_EXCEPTION,	/* an exception restored as injected, vector */
};

/*
 * lapicv_run.event_flags: how the exit's event was injected.  An event
 * restored as injected by KVM_SET_VCPU_EVENTS (exception, NMI, interrupt)
 * is carried out before anything new, one per step: exit EXCEPTION, NMI or
 * INTR (the APIC is not touched) with _REINJECTED.
 */
#define LAPICV_RUN_EVENT_REINJECTED	(1u << 0)
#define LAPICV_RUN_EVENT_SOFT		(1u << 1) /* INTR: INTn, not external */
#define LAPICV_RUN_EVENT_ERROR_CODE	(1u << 2) /* EXCEPTION: error_code */
/* SIPI: an INIT was accepted with it, the vCPU's INIT state comes first. */
#define LAPICV_RUN_EVENT_INIT		(1u << 3)

/* lapicv_run.pending: what is still pending after the step. */
#define LAPICV_RUN_PENDING_NMI		(1u << 0)
#define LAPICV_RUN_PENDING_EXTINT	(1u << 1)
#define LAPICV_RUN_PENDING_APIC		(1u << 2)
/* An SMI is latched: lapicv has no SMM, KVM_SET_VCPU_EVENTS clears it. */
#define LAPICV_RUN_PENDING_SMI		(1u << 3)

struct lapicv_run {
	/* in: the guest's state, as the VMM's vCPU sees it */
	__u8 rflags_if;		/* RFLAGS.IF (0 or 1) */
	__u8 interrupt_shadow;	/* STI / MOV SS shadow (0 or 1) */
	__u8 nmi_blocked;	/* NMIs blocked, e.g. inside a handler */
	__u8 halted;		/* HLT: sleep until something is pending */
	__u32 flags;		/* must be 0 */
	/* out */
	__u32 exit_reason;	/* LAPICV_RUN_* */
	__u32 vector;		/* injected, SIPI or EOI vector; else 0 */
	__u32 pending;		/* LAPICV_RUN_PENDING_* */
	__u8 apicv_active;	/* the vCPU's APICv state after the step */
	/* a real IRQ window is open (none for APIC vectors with APICv) */
	__u8 irq_window_open;
	__u8 halted_out;	/* still halted (only with exit NONE) */
	__u8 pad;		/* must be 0 */
	__u32 event_flags;	/* LAPICV_RUN_EVENT_* of the exit's event */
	__u32 error_code;	/* with LAPICV_RUN_EVENT_ERROR_CODE, else 0 */
	__u64 reserved[3];	/* must be 0 */
};

#define LAPICV_RUN		_IOWR(LAPICVIO, 0x80, struct lapicv_run)

/*
 * LAPICV_GET_VCPU_STATS (vCPU fd): the vCPU's counters since creation.
 * Backend-specific ones stay 0 on other backends.
 */
struct lapicv_vcpu_stats {
	__u64 runs;			/* decision steps: LAPICV_RUN, KVM_RUN passes */
	__u64 nmi_injections;
	__u64 extint_injections;
	__u64 intr_injections;		/* software acknowledge, IRR -> ISR */
	__u64 virtual_intr_deliveries;	/* modelled APICv delivery */
	__u64 irq_windows;		/* IRQ windows opened */
	__u64 halts;			/* sleeps in a halted run step */
	__u64 halt_wakeups;		/* sleeps ended by work, not a signal */
	__u64 apicv_activations;
	__u64 apicv_deactivations;
	__u64 pi_notifications;		/* vmx-model: posted, notification sent */
	__u64 pi_suppressed;		/* vmx-model: posted, ON or SN already set */
	__u64 pir_syncs;		/* vmx-model: PIR -> IRR moved a vector */
	__u64 avic_doorbells;		/* avic-model: target was running */
	__u64 avic_wakeups;		/* avic-model: target was not running */
	__u64 exits;			/* guest exits under KVM_RUN (KVM's "exits") */
	__u64 reserved[16];
};

#define LAPICV_GET_VCPU_STATS	_IOR(LAPICVIO, 0x81, struct lapicv_vcpu_stats)

/*
 * LAPICV_GUEST_ACCESS (vCPU fd): forward one guest access to the APIC,
 * with the semantics the guest would see (EOI, TPR, ICR sends an IPI,
 * SELF_IPI, ...).  xAPIC MMIO: address is the offset in the 4 KiB APIC
 * page, size 1, 2 or 4 for reads (within one 32-bit register) and 4 for
 * writes; unaligned or odd-sized writes, and any access while the APIC is
 * disabled or in x2APIC mode, are dropped (reads return all ones), as the
 * hardware does.  x2APIC MSRs: address is the MSR index (0x800..0x8ff),
 * size 0; fault = 1 where the CPU raises #GP.
 */
enum lapicv_access_type {
	LAPICV_ACCESS_MMIO_READ,
	LAPICV_ACCESS_MMIO_WRITE,
	LAPICV_ACCESS_MSR_READ,
	LAPICV_ACCESS_MSR_WRITE,
};

struct lapicv_guest_access {
	__u32 type;		/* LAPICV_ACCESS_* */
	__u32 size;		/* MMIO: 1, 2 or 4; MSR: 0 */
	__u32 address;		/* MMIO offset or MSR index */
	__u32 fault;		/* out: 1 = #GP (MSR accesses only) */
	__u64 data;		/* in for writes, out for reads */
	__u64 reserved[2];	/* must be 0 */
};

#define LAPICV_GUEST_ACCESS	_IOWR(LAPICVIO, 0x82, struct lapicv_guest_access)

#endif /* _UAPI_LINUX_LAPICV_H */
