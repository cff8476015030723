/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Nested page tables (npt.c): guest-physical to host-physical for the SVM
 * runner, built on nested page faults from memslot memory.
 */
#ifndef _LAPICV_NPT_H
#define _LAPICV_NPT_H

#include <linux/mutex.h>
#include <linux/srcu.h>
#include <linux/types.h>

struct lapicv_vm;
struct lapicv_memslot;

struct lapicv_npt {
	/* Serialises table changes; see npt.c's lock card. */
	struct mutex lock;
	/* The top-level table (4 or 5 levels, as the host pages). */
	u64 *root;
	int levels;
	/* Bumped (under lock) by every unmap: a racing fault retries. */
	unsigned long seq;
	/* Pages pinned for leaves, accounted to the VMM's mm->pinned_vm. */
	unsigned long pinned;
	/* vCPUs hold it across VMRUN; an unmap waits for them to exit. */
	struct srcu_struct srcu;
};

int lapicv_npt_create(struct lapicv_vm *vm);
/* Unpin every page and free every table; no vCPU runs any more. */
void lapicv_npt_destroy(struct lapicv_vm *vm);

/* The root's physical address, for the VMCB's nested_cr3. */
u64 lapicv_npt_root(struct lapicv_vm *vm);

enum lapicv_npt_fault {
	LAPICV_NPT_MAPPED,	/* mapped (or raced): enter the guest again */
	LAPICV_NPT_NO_SLOT,	/* outside every memslot: emulated MMIO */
	LAPICV_NPT_READONLY,	/* a write to a read-only memslot: MMIO */
};

/*
 * A nested page fault at @gpa (EXITINFO1's write bit in @write): pin the
 * backing page of the VMM (current->mm) and map it.  -errno when the
 * VMM's memory cannot be pinned (-EFAULT for an unmapped address).
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

#endif /* _LAPICV_NPT_H */
