/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Nested page tables (npt.c): guest-physical to host-physical for the SVM
 * runner, built on nested page faults from memslot memory.
 */
#ifndef _LAPICV_NPT_H
#define _LAPICV_NPT_H

#include <linux/cpumask.h>
#include <linux/mmu_notifier.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct lapicv_vm;
struct lapicv_memslot;

struct lapicv_npt {
	/* On the VMM's mm from KVM_CREATE_VM until the VM is destroyed. */
	struct mmu_notifier mn;
	struct lapicv_vm *vm;
	/* KVM's mmu_lock; see npt.c's lock card. */
	spinlock_t lock;
	/* The top-level table (4 or 5 levels, as the host pages). */
	u64 *root;
	int levels;
	/*
	 * KVM's mmu_invalidate_seq, _in_progress and _range_start/_end (on
	 * the VMM's addresses): bumped by each invalidation's end and each
	 * memslot change; invalidations under way and the union of their
	 * ranges, valid while invalidating is non-zero.
	 */
	unsigned long seq;
	unsigned int invalidating;
	unsigned long inv_start, inv_end;
	/* The flush's CPUs (vCPUs in guest mode), built under lock. */
	cpumask_var_t kick;
	/*
	 * Flushes so far, bumped under lock before the flush looks for
	 * vCPUs in guest mode; each vCPU's entry flushes its TLB when the
	 * count moved since its last (svm/svm.c).
	 */
	unsigned long tlb_gen;
};

/*
 * Tables and the MMU notifier on vm->mm: 0, -ENOMEM, or -EINTR with a
 * signal pending (mmu_notifier_register() takes all of the mm's locks
 * interruptibly; KVM_CREATE_VM on KVM fails the same way).
 */
int lapicv_npt_create(struct lapicv_vm *vm);
/* Unregister the notifier, free every table; no vCPU runs any more. */
void lapicv_npt_destroy(struct lapicv_vm *vm);

/* The root's physical address, for the VMCB's nested_cr3. */
u64 lapicv_npt_root(struct lapicv_vm *vm);
/* The VM's flush count, for lapicv_svm_gate.tlb_gen. */
const unsigned long *lapicv_npt_tlb_gen(struct lapicv_vm *vm);

enum lapicv_npt_fault {
	LAPICV_NPT_MAPPED,	/* mapped (or raced): enter the guest again */
	LAPICV_NPT_NO_SLOT,	/* outside every memslot: emulated MMIO */
	LAPICV_NPT_READONLY,	/* a write to a read-only memslot: MMIO */
};

/*
 * A nested page fault at @gpa (EXITINFO1's write bit in @write): map the
 * page the VMM (current->mm) has at the memslot's address, or leave it to
 * the next fault if an invalidation raced.  -errno when the VMM has no
 * page there it can give (-EFAULT for an unmapped address, as KVM).
 */
int lapicv_npt_fault(struct lapicv_vm *vm, u64 gpa, bool write);

/*
 * Where one memslot sits, copied out of it (no reference to the slot), so
 * that the reads of one emulation look the slot up once, as KVM's reads
 * of one exit use one memslots snapshot.  size 0: nothing cached.
 */
struct lapicv_npt_window {
	u64 gpa;
	u64 size;
	unsigned long hva;
};

/*
 * Read @len bytes of guest-physical memory at @gpa through the memslots
 * (the VMM's memory, current->mm): 0, or -EFAULT outside every memslot or
 * for memory the VMM cannot read.  Never across a memslot's end.  @w:
 * the slot of an earlier read, used if it holds @gpa, else replaced by
 * the slot looked up (size 0 to start afresh).
 */
int lapicv_npt_read(struct lapicv_vm *vm, struct lapicv_npt_window *w,
		    u64 gpa, void *buf, unsigned int len);

/* The same for a write of guest memory (an emulated store). */
int lapicv_npt_write(struct lapicv_vm *vm, struct lapicv_npt_window *w,
		     u64 gpa, const void *buf, unsigned int len);

#endif /* _LAPICV_NPT_H */
