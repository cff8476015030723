/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a lapicv VM and a lapicv vCPU own.
 *
 * A VM is created by KVM_CREATE_VM on /dev/lapicv and lives until the last
 * file that refers to it (the VM fd or any vCPU fd) is closed.  vCPUs are
 * created by KVM_CREATE_VCPU and live exactly as long as their VM: closing a
 * vCPU fd only drops the VM reference it held, as in KVM.
 *
 * Lock card (outermost first; Documentation/locking.rst has the full text):
 *
 * Order: lapicv_vm.lock -> lapicv_vcpu.mutex -> lapicv_vm.apic_map_lock
 * (irq.c) -> lapicv_inhibits.update_lock (inhibit.c) -> leaf locks
 * (lapicv_vm.memslots_lock in vapic.c with lapicv_npt.lock in npt.c
 * inside it, lapicv_vm.irq_routing_lock in irq_route.c, svm_lock in
 * svm/svm.c, wait queues).
 *
 * lapicv_vm.lock
 *	:Type:     mutex
 *	:Protects: created_vcpus, the vCPU array insertions and the VM-wide
 *	           capability state (irqchip mode, boot CPU id, vCPU id limit,
 *	           x2APIC API flags, the protected APIC).
 *	:Order:    taken before lapicv_vcpu.mutex.
 *	:Writers:  KVM_CREATE_VCPU, KVM_ENABLE_CAP and
 *	           LAPICV_ENABLE_PROTECTED_APIC (and, under it, the map
 *	           rebuild of a new protected-APIC vCPU).
 *
 * lapicv_vcpu.mutex
 *	:Type:     mutex
 *	:Protects: the vCPU's architectural state against concurrent ioctls:
 *	           one vCPU ioctl runs at a time, as in KVM.
 *	:Order:    inside lapicv_vm.lock; never held while taking another
 *	           vCPU's mutex.
 *
 * lapicv_inhibits.update_lock (inhibit.c has its card)
 *	:Order:    inside lapicv_vm.lock, lapicv_vcpu.mutex and
 *	           lapicv_vm.apic_map_lock.
 *
 * lapicv_vcpu.requests
 *	Lockless: set with atomic bit operations by any context (senders,
 *	timers, VM-wide updates), tested and cleared by the vCPU's owner.
 *
 * The vCPU array is published with release semantics on online_vcpus: a
 * reader that sees online_vcpus == n may use entries 0 .. n-1 without a
 * lock, because entries are never removed before the VM is destroyed.
 * The one exception is the entry of a vCPU whose fd could not be made:
 * it is erased and freed after synchronize_rcu(), so npt.c's flush,
 * which must see vCPUs not yet online, reads every entry under RCU.
 */
#ifndef _LAPICV_H
#define _LAPICV_H

#include "lapicv_internal.h"
#include "inhibit.h"
#include "events.h"

/*
 * Limits.  KVM sizes them from CONFIG_KVM_MAX_NR_VCPUS; lapicv fixes them.
 * The vCPU id is the vCPU's initial APIC ID, so ids past 255 need x2APIC.
 */
#define LAPICV_MAX_VCPUS	1024
#define LAPICV_MAX_VCPU_IDS	4096

/* KVM's MAX_NR_RESERVED_IOAPIC_PINS: the bound on split irqchip's args[0]. */
#define LAPICV_MAX_RESERVED_IOAPIC_PINS	4096

/* Bits in lapicv_vcpu.requests: work for the vCPU's next run step. */
enum lapicv_request {
	LAPICV_REQ_EVENT,		/* re-evaluate pending interrupts */
	LAPICV_REQ_APICV_UPDATE,	/* refresh apicv_active */
	/* report ioapic_eoi_pending to the VMM (KVM_EXIT_IOAPIC_EOI) */
	LAPICV_REQ_IOAPIC_EOI,
	/* rescan ioapic_handled_vectors (irq_route.c); wakes no sleeper */
	LAPICV_REQ_SCAN_IOAPIC,
	/* an SMI arrived: latch it in events.smi_pending (KVM_REQ_SMI) */
	LAPICV_REQ_SMI,
	LAPICV_NR_REQUESTS,
};

/* Requests a halted vCPU does not wake for (KVM_REQUEST_NO_WAKEUP). */
#define LAPICV_REQ_NO_WAKEUP	BIT(LAPICV_REQ_SCAN_IOAPIC)

struct lapicv_vm;
struct lapicv_lapic;
struct lapicv_apic_map;
struct lapicv_npt;
struct lapicv_vcpu_runner;

/* lapicv_vm.irqchip: KVM's irqchip modes. */
enum lapicv_irqchip {
	LAPICV_IRQCHIP_NONE,	/* no in-kernel LAPIC */
	LAPICV_IRQCHIP_KERNEL,	/* KVM_CREATE_IRQCHIP: LAPIC, no IOAPIC/PIC */
	LAPICV_IRQCHIP_SPLIT,	/* KVM_CAP_SPLIT_IRQCHIP */
};

struct lapicv_irq_routing;

struct lapicv_vcpu {
	struct lapicv_vm *vm;
	/* The id userspace gave KVM_CREATE_VCPU: the initial APIC ID. */
	u32 vcpu_id;

	/* One ioctl at a time; see the lock card above. */
	struct mutex mutex;

	/* LAPICV_REQ_* bits; see the lock card above. */
	unsigned long requests;

	/* The local APIC (lapic.c); created with the vCPU. */
	struct lapicv_lapic *apic;
	/*
	 * vm.c: the KVM_GET/SET_LAPIC state buffer, allocated with the LAPIC
	 * rather than per call; used under mutex only.
	 */
	struct kvm_lapic_state *lapic_buf;

	/* Where the vCPU sleeps while halted; see lapicv_vcpu_kick(). */
	wait_queue_head_t wq;
	/*
	 * run.c: the CPU running this vCPU's guest (KVM's IN_GUEST_MODE),
	 * else -1; see lapicv_vcpu_kick().  Written by the owner with
	 * interrupts off, read by any sender.
	 */
	int guest_cpu;

	/* apicv.c: the backend's state (vmx_pi.c, svm_avic.c); soft: NULL. */
	void *backend;
	/*
	 * apicv.c: an IRQ window is open, waiting for the guest's IF.  The
	 * one flag for it: backends act on its transitions.
	 */
	bool irq_window;
	/*
	 * Level-triggered vectors the guest EOId for the VMM's IOAPIC
	 * (KVM_EXIT_IOAPIC_EOI), set by lapic.c with LAPICV_REQ_IOAPIC_EOI and
	 * reported one per run step, lowest first.  A set, not one slot: a
	 * VMM may forward several EOIs between run steps.  Owner only.
	 */
	DECLARE_BITMAP(ioapic_eoi_pending, 256);
	/*
	 * irq_route.c: the vectors of the VMM's IOAPIC routes that reach
	 * this vCPU, whose EOIs are reported (KVM's ioapic_handled_vectors).
	 * Owner only.
	 */
	DECLARE_BITMAP(ioapic_handled_vectors, 256);
	/* events.c: NMI, SMI, shadow, injected events (card in events.h). */
	struct lapicv_events events;
	/* apicv.c: counters, written by the vCPU's owner (vcpu->mutex). */
	struct lapicv_vcpu_stats stats;
	/* vapic.c: KVM_SET_VAPIC_ADDR's guest-physical address, or 0. */
	u64 vapic_addr;
	/* run.c: KVM_RUN's state (kvm_run page, VMCB, GPRs). */
	struct lapicv_vcpu_runner *runner;
	/* vapic.c: the TPR byte lapicv last wrote to the vapic word. */
	u8 vapic_tpr;
};

struct lapicv_vm {
	/* One reference per open VM fd and per open vCPU fd. */
	refcount_t users;
	/* The process that created the VM; others get -EIO, as in KVM. */
	struct mm_struct *mm;

	/* See the lock card above. */
	struct mutex lock;
	/* vCPUs by creation index; entries appear, never disappear. */
	struct xarray vcpus;
	/* Published count of usable entries in vcpus (release/acquire). */
	atomic_t online_vcpus;
	/* Reserved by KVM_CREATE_VCPU before the vCPU is built; vm->lock. */
	u32 created_vcpus;

	/* LAPICV_IRQCHIP_*: set once, before any vCPU exists; vm->lock. */
	u8 irqchip;
	/*
	 * KVM_CAP_X86_APIC_BUS_CYCLES_NS: the APIC bus period in ns (timer.h),
	 * set under vm->lock before any vCPU exists, read-only after.
	 */
	u64 apic_bus_cycle_ns;
	/* KVM_SET_BOOT_CPU_ID: the vCPU id whose APIC is the BSP; vm->lock. */
	u32 bsp_vcpu_id;
	/*
	 * KVM_CAP_MAX_VCPU_ID: vCPU ids stay below it.  0 until the VMM sets
	 * it or the first vCPU fixes it at LAPICV_MAX_VCPU_IDS; vm->lock.
	 */
	u32 max_vcpu_ids;
	/*
	 * run.c: this VM holds an SVM reference; set once, under svm_lock
	 * (svm/svm.c), read without it.
	 */
	bool svm_held;
	/*
	 * KVM_CAP_SPLIT_IRQCHIP args[0]: GSIs below it are the VMM's IOAPIC
	 * pins (irq_route.c's scan).  Written under vm->lock before any vCPU
	 * exists, read-only after.
	 */
	u32 nr_reserved_ioapic_pins;

	/* LAPICV_ENABLE_PROTECTED_APIC; vm->lock, fixed once a vCPU exists. */
	bool protected_apic;

	/* KVM_CAP_X2APIC_API flags; vm->lock. */
	bool x2apic_format;
	bool x2apic_broadcast_quirk_disabled;

	/* APICv inhibit reasons and the IRQ-window count (inhibit.c). */
	struct lapicv_inhibits inhibits;

	/* The APIC map (irq.c): read under RCU, rebuilt under apic_map_lock. */
	struct lapicv_apic_map __rcu *apic_map;
	/* Serialises map rebuilds; a leaf lock, see irq.c's lock card. */
	struct mutex apic_map_lock;
	/* irq.c's CLEAN/DIRTY/UPDATE_IN_PROGRESS state of apic_map. */
	atomic_t apic_map_dirty;

	/* irq_route.c: KVM_SET_GSI_ROUTING's table (RCU), or NULL. */
	struct lapicv_irq_routing __rcu *irq_routing;
	/* Serialises table replacements; a leaf lock, see irq_route.c. */
	struct mutex irq_routing_lock;

	/* vapic.c: KVM_SET_USER_MEMORY_REGION's regions, by slot (RCU). */
	struct xarray memslots;
	/* Serialises region changes; a leaf lock, see vapic.c's card. */
	struct mutex memslots_lock;
	/* npt.c: the nested page tables of the SVM runner. */
	struct lapicv_npt *npt;
};

/* A LAPIC in the kernel (full or split irqchip), as KVM's lapic_in_kernel(). */
static inline bool lapicv_irqchip_in_kernel(struct lapicv_vm *vm)
{
	return READ_ONCE(vm->irqchip) != LAPICV_IRQCHIP_NONE;
}

static inline unsigned int lapicv_online_vcpus(struct lapicv_vm *vm)
{
	return atomic_read_acquire(&vm->online_vcpus);
}

/*
 * The vCPU at creation index idx, or NULL past the last one: walk them all
 * with  for (i = 0; (vcpu = lapicv_get_vcpu(vm, i)); i++)
 */
static inline struct lapicv_vcpu *lapicv_get_vcpu(struct lapicv_vm *vm,
						  unsigned int idx)
{
	if (idx >= lapicv_online_vcpus(vm))
		return NULL;
	return xa_load(&vm->vcpus, idx);
}

struct lapicv_vcpu *lapicv_get_vcpu_by_id(struct lapicv_vm *vm, u32 id);

static inline void lapicv_make_request(struct lapicv_vcpu *vcpu,
				       enum lapicv_request req)
{
	set_bit(req, &vcpu->requests);
}

/*
 * Set @req on every online vCPU without a kick: for requests a sleeping
 * vCPU need not wake for (LAPICV_REQ_NO_WAKEUP), as KVM's
 * kvm_make_all_cpus_request() for those.
 */
static inline void lapicv_make_all_vcpus_request(struct lapicv_vm *vm,
						 enum lapicv_request req)
{
	struct lapicv_vcpu *vcpu;
	unsigned int i;

	for (i = 0; (vcpu = lapicv_get_vcpu(vm, i)); i++)
		lapicv_make_request(vcpu, req);
}

/*
 * Tell the vCPU it has new work: wake it if it sleeps in a halted run step,
 * make it leave the guest if it runs one on another CPU (KVM's
 * kvm_vcpu_kick()).  Callers set the reason (an IRR bit, a request, a
 * pending timer) first.
 */
static inline void lapicv_vcpu_kick(struct lapicv_vcpu *vcpu)
{
	int cpu;

	/*
	 * The barrier in wq_has_sleeper() orders the caller's reason before
	 * the look at the queue, and pairs with the sleeper's queueing
	 * before it checks for work: either the sender sees the sleeper or
	 * the sleeper sees the reason.  No sleeper, no wait-queue lock.
	 */
	if (wq_has_sleeper(&vcpu->wq)) {
		wake_up_interruptible(&vcpu->wq);
		return;
	}
	/*
	 * Ordered after the reason by the same barrier; pairs with the
	 * runner's store of guest_cpu and full barrier before it looks for
	 * work (svm/svm.c): either the runner sees the reason or this sees
	 * the CPU, and the reschedule IPI makes the guest exit.
	 */
	cpu = READ_ONCE(vcpu->guest_cpu);
	if (cpu >= 0)
		lapicv_send_reschedule(cpu);
}

static inline bool lapicv_check_request(struct lapicv_vcpu *vcpu,
					enum lapicv_request req)
{
	return test_and_clear_bit(req, &vcpu->requests);
}

#endif /* _LAPICV_H */
