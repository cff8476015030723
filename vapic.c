// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest memory regions and the vapic page.
 *
 * The regions follow KVM_SET_USER_MEMORY_REGION's rules and errnos (KVM
 * 6.12, kvm_set_memory_region()): page-aligned sizes and addresses, no
 * wrap, at most LAPICV_MEM_MAX_NR_PAGES, flags LOG_DIRTY_PAGES and
 * READONLY, -EEXIST for an overlap in the same address space, and an
 * existing slot may only move or change LOG_DIRTY_PAGES.  Only what the
 * vapic needs is kept: no dirty log, no MMU.
 *
 * The vapic word (KVM's kvm_lapic_sync_to_vapic()) is
 *   TPR | (highest ISR & 0xf0) << 8 | highest IRR << 24
 *
 * The rule, KVM's order for a run with the guest running between steps:
 * lapicv writes the word at the end of each run step (KVM: before entry),
 * when KVM_SET_VAPIC_ADDR sets it, and after a host-side ioctl
 * (KVM_SET_LAPIC, KVM_SET_MSRS, LAPICV_GUEST_ACCESS) that changed the
 * TPR; it remembers the TPR byte it wrote.  At the start of each step
 * (KVM: after exit, kvm_lapic_sync_from_vapic()) it takes the word's TPR
 * byte only if it differs from the one it wrote: then the guest wrote it.
 * So a host-side TPR change is in the word at once and stays, a guest's
 * TPR write between steps is taken, also across host-side ioctls that
 * leave the TPR alone, and a step never reads back a stale byte.  In KVM
 * the guest's write is taken at the exit before any host ioctl, and a
 * host TPR change made after it wins: the same outcome.
 *
 * Lock card:
 *
 * lapicv_vm.memslots_lock
 *	:Type:     mutex
 *	:Protects: changes of lapicv_vm.memslots (writers).
 *	:Order:    taken inside vm->lock and vcpu->mutex; only
 *	           lapicv_npt.lock (npt.c) is taken inside it.
 *
 * lapicv_vm.memslots
 *	:Type:     xarray of struct lapicv_memslot, read under RCU; an entry
 *	           is never modified, only replaced, and freed after a grace
 *	           period.
 *
 * lapicv_vcpu.vapic_addr, lapicv_vcpu.vapic_tpr
 *	:Written:  by the vCPU's owner (vcpu->mutex).
 */
#include "lapic.h"
#include "vapic.h"

#define LAPICV_MEM_VALID_FLAGS	(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY)
/* x86 guest pages, whatever the host's PAGE_SIZE. */
#define LAPICV_GUEST_PAGE_MASK	0xfffULL
#define LAPICV_GUEST_PAGE_SHIFT	12

void lapicv_memslots_init(struct lapicv_vm *vm)
{
	mutex_init(&vm->memslots_lock);
	xa_init(&vm->memslots);
}

void lapicv_memslots_destroy(struct lapicv_vm *vm)
{
	struct lapicv_memslot *s;
	unsigned long idx;

	xa_for_each(&vm->memslots, idx, s)
		kfree(s);
	xa_destroy(&vm->memslots);
}

/* Another slot of @as overlapping [gpa, gpa + size)? */
static bool memslot_overlaps(struct lapicv_vm *vm, u32 slot, u64 gpa,
			     u64 size)
{
	struct lapicv_memslot *s;
	unsigned long idx;

	xa_for_each(&vm->memslots, idx, s) {
		if (s->slot == slot || s->slot >> 16 != slot >> 16)
			continue;
		if (gpa < s->gpa + s->size && s->gpa < gpa + size)
			return true;
	}
	return false;
}

static int memslot_check(const struct kvm_userspace_memory_region *mem)
{
	if (mem->flags & ~LAPICV_MEM_VALID_FLAGS)
		return -EINVAL;
	if ((mem->slot & 0xffff) >= LAPICV_USER_MEM_SLOTS ||
	    mem->slot >> 16 >= LAPICV_MEM_ADDRESS_SPACES)
		return -EINVAL;
	if ((mem->memory_size | mem->guest_phys_addr | mem->userspace_addr) &
	    LAPICV_GUEST_PAGE_MASK)
		return -EINVAL;
	if (mem->guest_phys_addr + mem->memory_size < mem->guest_phys_addr)
		return -EINVAL;
	if (mem->memory_size >> LAPICV_GUEST_PAGE_SHIFT > LAPICV_MEM_MAX_NR_PAGES)
		return -EINVAL;
	return 0;
}

static int __lapicv_set_memory_region(struct lapicv_vm *vm,
				      const struct kvm_userspace_memory_region *mem)
{
	struct lapicv_memslot *old, *new;
	int r;

	lockdep_assert_held(&vm->memslots_lock);

	old = xa_load(&vm->memslots, mem->slot);
	if (!mem->memory_size) {
		if (!old)
			return -EINVAL;
		lapicv_memslot_unmap_begin(vm, old);
		xa_erase(&vm->memslots, mem->slot);
		lapicv_memslot_unmap_end(vm, old);
		kfree_rcu(old, rcu);
		return 0;
	}
	if (old) {
		/* Only a move or a change of LOG_DIRTY_PAGES, as in KVM. */
		if (mem->userspace_addr != old->hva ||
		    mem->memory_size != old->size ||
		    (mem->flags ^ old->flags) & KVM_MEM_READONLY)
			return -EINVAL;
		if (mem->guest_phys_addr == old->gpa && mem->flags == old->flags)
			return 0;
	}
	if ((!old || mem->guest_phys_addr != old->gpa) &&
	    memslot_overlaps(vm, mem->slot, mem->guest_phys_addr,
			     mem->memory_size))
		return -EEXIST;

	new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new)
		return -ENOMEM;
	new->slot = mem->slot;
	new->flags = mem->flags;
	new->gpa = mem->guest_phys_addr;
	new->size = mem->memory_size;
	new->hva = mem->userspace_addr;
	if (old)
		lapicv_memslot_unmap_begin(vm, old);
	r = xa_err(xa_store(&vm->memslots, mem->slot, new, GFP_KERNEL_ACCOUNT));
	if (old)
		lapicv_memslot_unmap_end(vm, old);
	if (r) {
		kfree(new);
		return r;
	}
	if (old)
		kfree_rcu(old, rcu);
	return 0;
}

int lapicv_set_memory_region(struct lapicv_vm *vm,
			     const struct kvm_userspace_memory_region *mem)
{
	int r = memslot_check(mem);

	if (r)
		return r;
	mutex_lock(&vm->memslots_lock);
	r = __lapicv_set_memory_region(vm, mem);
	mutex_unlock(&vm->memslots_lock);
	return r;
}

/*
 * The user address of @len writable bytes at @gpa in address space 0, or
 * 0 if they are not all inside one writable region.
 */
static u64 memslot_gpa_to_hva(struct lapicv_vm *vm, u64 gpa, u64 len)
{
	struct lapicv_memslot *s;
	unsigned long idx;
	u64 hva = 0;

	rcu_read_lock();
	xa_for_each_range(&vm->memslots, idx, s, 0, 0xffff) {
		if (gpa < s->gpa || gpa + len > s->gpa + s->size ||
		    gpa + len < gpa)
			continue;
		if (!(s->flags & KVM_MEM_READONLY))
			hva = s->hva + (gpa - s->gpa);
		break;
	}
	rcu_read_unlock();
	return hva;
}

int lapicv_vapic_set_addr(struct lapicv_vcpu *vcpu, u64 gpa)
{
	lockdep_assert_held(&vcpu->mutex);

	if (gpa && !memslot_gpa_to_hva(vcpu->vm, gpa, sizeof(u32)))
		return -EINVAL;
	vcpu->vapic_addr = gpa;
	return 0;
}

bool lapicv_vapic_hva(struct lapicv_vcpu *vcpu, u64 *hva)
{
	lockdep_assert_held(&vcpu->mutex);

	if (!vcpu->vapic_addr || !vcpu->apic)
		return false;
	/* A region deleted since KVM_SET_VAPIC_ADDR: nothing to sync. */
	*hva = memslot_gpa_to_hva(vcpu->vm, vcpu->vapic_addr, sizeof(u32));
	return *hva;
}

void lapicv_vapic_sync_from(struct lapicv_vcpu *vcpu, u32 data)
{
	lockdep_assert_held(&vcpu->mutex);

	/*
	 * The guest's TPR writes went to the vapic page, not the APIC; a byte
	 * lapicv wrote itself is no news, and may be older than the APIC's.
	 */
	if ((data & 0xff) != vcpu->vapic_tpr)
		lapicv_apic_reg_write(vcpu->apic, APIC_TASKPRI, data & 0xff);
}

u32 lapicv_vapic_tpr(struct lapicv_vcpu *vcpu)
{
	lockdep_assert_held(&vcpu->mutex);

	return vcpu->apic ? lapicv_get_reg(vcpu->apic, APIC_TASKPRI) & 0xff : 0;
}

u32 lapicv_vapic_data(struct lapicv_vcpu *vcpu)
{
	struct lapicv_lapic *apic = vcpu->apic;
	int max_irr = lapicv_apic_find_highest_irr(apic);
	int max_isr = lapicv_apic_find_highest_isr(apic);
	u32 tpr = lapicv_get_reg(apic, APIC_TASKPRI) & 0xff;

	lockdep_assert_held(&vcpu->mutex);

	if (max_irr < 0)
		max_irr = 0;
	if (max_isr < 0)
		max_isr = 0;
	vcpu->vapic_tpr = tpr;
	return tpr | (max_isr & 0xf0) << 8 | (u32)max_irr << 24;
}
