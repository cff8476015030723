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

#endif /* _UAPI_LINUX_LAPICV_H */
