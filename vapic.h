/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest memory regions (KVM_SET_USER_MEMORY_REGION) as far as lapicv needs
 * them, and the vapic page (KVM_SET_VAPIC_ADDR): vapic.c.
 *
 * Guest memory serves the vapic word and, on SVM hosts, the runner's nested
 * page tables (npt.c).  vapic.c keeps the VMM's
 * regions, translates guest-physical addresses to the VMM's user
 * addresses and computes what to write; vm.c does the copy to and from
 * userspace at the run step.
 */
#ifndef _LAPICV_VAPIC_H
#define _LAPICV_VAPIC_H

#include "lapicv.h"

/* KVM's limits on x86: slot ids per address space, address spaces. */
#define LAPICV_USER_MEM_SLOTS		32764
#define LAPICV_MEM_ADDRESS_SPACES	2
/* KVM's KVM_MEM_MAX_NR_PAGES on 64-bit hosts. */
#define LAPICV_MEM_MAX_NR_PAGES		((1ULL << 31) - 1)

/* One region; replaced, never changed, once published (RCU). */
struct lapicv_memslot {
	struct rcu_head rcu;
	u32 slot;		/* address space << 16 | id */
	u32 flags;		/* KVM_MEM_* */
	u64 gpa;
	u64 size;
	u64 hva;
};

void lapicv_memslots_init(struct lapicv_vm *vm);
void lapicv_memslots_destroy(struct lapicv_vm *vm);

/*
 * KVM_SET_USER_MEMORY_REGION after vm.c copied it in and checked the
 * user address with access_ok(): create, move, change flags or delete
 * (size 0), with KVM's errnos.
 */
int lapicv_set_memory_region(struct lapicv_vm *vm,
			     const struct kvm_userspace_memory_region *mem);

/*
 * npt.c: @old is about to be replaced or removed in the memslot xarray
 * (deleted, moved, flags changed): begin drops the runner's mappings of
 * its range and holds off nested page faults, end (once the xarray
 * change is done or has failed) lets them go on.  memslots_lock held.
 */
void lapicv_memslot_unmap_begin(struct lapicv_vm *vm,
				const struct lapicv_memslot *old);
void lapicv_memslot_unmap_end(struct lapicv_vm *vm,
			      const struct lapicv_memslot *old);

/* KVM_SET_VAPIC_ADDR: -EINVAL unless 0 or 4 writable bytes in one region. */
int lapicv_vapic_set_addr(struct lapicv_vcpu *vcpu, u64 gpa);

/*
 * The vapic sync (vapic.c states the rule).  vcpu->mutex held.
 * lapicv_vapic_hva(): the user address of the word, false if none.
 * lapicv_vapic_sync_from(): at a step's start, with the word read there:
 * takes its TPR byte if the guest changed it since lapicv_vapic_data().
 * lapicv_vapic_data(): the word to write (KVM's kvm_lapic_sync_to_vapic()
 * layout); remembers its TPR byte.
 * lapicv_vapic_tpr(): the APIC's TPR, to tell whether a host-side ioctl
 * changed it (then the word is written at once).
 */
bool lapicv_vapic_hva(struct lapicv_vcpu *vcpu, u64 *hva);
void lapicv_vapic_sync_from(struct lapicv_vcpu *vcpu, u32 data);
u32 lapicv_vapic_data(struct lapicv_vcpu *vcpu);
u32 lapicv_vapic_tpr(struct lapicv_vcpu *vcpu);

#endif /* _LAPICV_VAPIC_H */
