// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of vapic.c: KVM_SET_USER_MEMORY_REGION's rules and errnos
 * (KVM 6.12's kvm_set_memory_region()) and the vapic word, with the real
 * source included, on whole VMs from harness_vm.c.
 */
#include "../../vapic.c"

#include "test.h"
#include "unit_vm.h"

#define MB	(1ULL << 20)

static int region(struct lapicv_vm *vm, u32 slot, u32 flags, u64 gpa,
		  u64 size, u64 hva)
{
	struct kvm_userspace_memory_region m = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = hva,
	};

	return lapicv_set_memory_region(vm, &m);
}

static bool test_region_checks(void)
{
	struct lapicv_vm *vm = unit_apic_vm_create(1, NULL, LAPICV_IRQWIN_COUNTER);

	ASSERT_EQ(region(vm, 0, BIT(2), 0, MB, 0x10000000), -EINVAL);	/* flags */
	ASSERT_EQ(region(vm, LAPICV_USER_MEM_SLOTS, 0, 0, MB, 0x10000000), -EINVAL);
	ASSERT_EQ(region(vm, 2 << 16, 0, 0, MB, 0x10000000), -EINVAL);	/* as 2 */
	ASSERT_EQ(region(vm, 0, 0, 0x800, MB, 0x10000000), -EINVAL);	/* unaligned */
	ASSERT_EQ(region(vm, 0, 0, 0, MB + 1, 0x10000000), -EINVAL);
	ASSERT_EQ(region(vm, 0, 0, 0, MB, 0x10000100), -EINVAL);
	ASSERT_EQ(region(vm, 0, 0, ~0xfffULL, 2 * 4096, 0x10000000), -EINVAL); /* wraps */
	ASSERT_EQ(region(vm, 0, 0, 0, 1ULL << 43, 0x10000000), -EINVAL);	/* too big */
	ASSERT_EQ(region(vm, 0, 0, 0, 0, 0), -EINVAL);	/* delete of nothing */
	ASSERT_EQ(region(vm, 0, KVM_MEM_READONLY | KVM_MEM_LOG_DIRTY_PAGES, 0, MB,
			 0x10000000), 0);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_region_overlap_and_changes(void)
{
	struct lapicv_vm *vm = unit_apic_vm_create(1, NULL, LAPICV_IRQWIN_COUNTER);

	ASSERT_EQ(region(vm, 0, 0, 0, MB, 0x10000000), 0);
	/* Overlap in the same address space; the other one is separate. */
	ASSERT_EQ(region(vm, 1, 0, MB / 2, MB, 0x20000000), -EEXIST);
	ASSERT_EQ(region(vm, 1 | 1 << 16, 0, MB / 2, MB, 0x20000000), 0);
	ASSERT_EQ(region(vm, 1, 0, MB, MB, 0x20000000), 0);	/* adjacent */
	/* An existing slot: same again is fine; size, hva, READONLY not. */
	ASSERT_EQ(region(vm, 0, 0, 0, MB, 0x10000000), 0);
	ASSERT_EQ(region(vm, 0, 0, 0, 2 * MB, 0x10000000), -EINVAL);
	ASSERT_EQ(region(vm, 0, 0, 0, MB, 0x30000000), -EINVAL);
	ASSERT_EQ(region(vm, 0, KVM_MEM_READONLY, 0, MB, 0x10000000), -EINVAL);
	/* A move (onto free space only) and a dirty-log change are. */
	ASSERT_EQ(region(vm, 0, 0, MB, MB, 0x10000000), -EEXIST);
	ASSERT_EQ(region(vm, 0, 0, 4 * MB, MB, 0x10000000), 0);
	ASSERT_EQ(region(vm, 0, KVM_MEM_LOG_DIRTY_PAGES, 4 * MB, MB, 0x10000000), 0);
	/* Replaced slots wait for a grace period before they are freed. */
	ASSERT_EQ(shim_rcu_pending(), 2);
	ASSERT_EQ(region(vm, 0, 0, 0, 0, 0), 0);
	ASSERT_EQ(shim_rcu_pending(), 3);
	ASSERT_EQ(xa_load(&vm->memslots, 0), 0);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_vapic_addr(void)
{
	struct lapicv_vm *vm = unit_apic_vm_create(1, NULL, LAPICV_IRQWIN_COUNTER);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	u64 hva = 0;

	ASSERT_EQ(region(vm, 0, 0, 0, MB, 0x10000000), 0);
	ASSERT_EQ(region(vm, 1, KVM_MEM_READONLY, MB, MB, 0x20000000), 0);
	ASSERT_EQ(region(vm, 2 | 1 << 16, 0, 4 * MB, MB, 0x30000000), 0);
	mutex_lock(&v->mutex);
	ASSERT_EQ(lapicv_vapic_set_addr(v, 0), 0);
	ASSERT_FALSE(lapicv_vapic_hva(v, &hva));
	ASSERT_EQ(lapicv_vapic_set_addr(v, 2 * MB), -EINVAL);	/* no region */
	ASSERT_EQ(lapicv_vapic_set_addr(v, MB + 16), -EINVAL);	/* read-only */
	ASSERT_EQ(lapicv_vapic_set_addr(v, 4 * MB), -EINVAL);	/* not AS 0 */
	ASSERT_EQ(lapicv_vapic_set_addr(v, MB - 2), -EINVAL);	/* straddles */
	ASSERT_EQ(lapicv_vapic_set_addr(v, 0x1230), 0);
	ASSERT_TRUE(lapicv_vapic_hva(v, &hva));
	ASSERT_EQ(hva, 0x10001230);
	mutex_unlock(&v->mutex);
	/* The region goes: the address stays, but there is nothing to sync. */
	ASSERT_EQ(region(vm, 0, 0, 0, 0, 0), 0);
	mutex_lock(&v->mutex);
	ASSERT_FALSE(lapicv_vapic_hva(v, &hva));
	mutex_unlock(&v->mutex);
	ASSERT_EQ(v->vapic_addr, 0x1230);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_vapic_word(void)
{
	struct lapicv_vm *vm = unit_apic_vm_create(1, NULL, LAPICV_IRQWIN_COUNTER);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	struct lapicv_irq irq = {
		.vector = 0x92, .delivery_mode = APIC_DM_FIXED, .level = true,
	};
	struct kvm_lapic_state s;

	mutex_lock(&v->mutex);
	ASSERT_EQ(lapicv_vapic_data(v), 0);
	lapicv_apic_reg_write(v->apic, APIC_SPIV, 0x1ff);
	/* The guest wrote TPR 0x35 into the vapic page. */
	lapicv_vapic_sync_from(v, 0xabcd0035);
	ASSERT_EQ(lapicv_get_reg(v->apic, APIC_TASKPRI), 0x35);
	ASSERT_EQ(lapicv_apic_get_state(v, &s), 0);
	*(u32 *)(s.regs + APIC_ISR + LAPICV_REG_POS(0x61)) |= BIT(LAPICV_VEC_POS(0x61));
	ASSERT_EQ(lapicv_apic_set_state(v, &s), 0);
	ASSERT_EQ(lapicv_apic_accept_irq(v->apic, &irq), 1);
	/* TPR | ISR class << 8 | highest IRR << 24. */
	ASSERT_EQ(lapicv_vapic_data(v), 0x35 | 0x60 << 8 | 0x92u << 24);
	mutex_unlock(&v->mutex);
	unit_apic_vm_destroy(vm);
	return true;
}

/*
 * A step's start takes the word's TPR byte only if the guest changed it
 * since lapicv wrote the word: a TPR the host set after the last step
 * stands.  Before, the step read back the stale byte over it.
 */
static bool test_vapic_host_tpr_wins(void)
{
	struct lapicv_vm *vm = unit_apic_vm_create(1, NULL, LAPICV_IRQWIN_COUNTER);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	u32 word;

	mutex_lock(&v->mutex);
	lapicv_apic_reg_write(v->apic, APIC_SPIV, 0x1ff);
	/* The end of a step writes the word with TPR 0. */
	word = lapicv_vapic_data(v);
	ASSERT_EQ(word & 0xff, 0);
	/* KVM_SET_MSRS / KVM_SET_LAPIC / LAPICV_GUEST_ACCESS set TPR 0x30. */
	lapicv_apic_reg_write(v->apic, APIC_TASKPRI, 0x30);
	/* The next step's start reads the word the guest did not touch. */
	lapicv_vapic_sync_from(v, word);
	ASSERT_EQ(lapicv_get_reg(v->apic, APIC_TASKPRI), 0x30);
	/* The guest's own write to the word is taken. */
	lapicv_vapic_sync_from(v, word | 0x50);
	ASSERT_EQ(lapicv_get_reg(v->apic, APIC_TASKPRI), 0x50);
	/* Written again, then the guest lowers it to what lapicv wrote before. */
	word = lapicv_vapic_data(v);
	ASSERT_EQ(word & 0xff, 0x50);
	lapicv_vapic_sync_from(v, 0);
	ASSERT_EQ(lapicv_get_reg(v->apic, APIC_TASKPRI), 0);
	mutex_unlock(&v->mutex);
	unit_apic_vm_destroy(vm);
	return true;
}

static const struct unit_case cases[] = {
	UNIT_CASE(test_region_checks),
	UNIT_CASE(test_region_overlap_and_changes),
	UNIT_CASE(test_vapic_addr),
	UNIT_CASE(test_vapic_word),
	UNIT_CASE(test_vapic_host_tpr_wins),
};

int main(int argc, char **argv)
{
	return unit_run("vapic", cases, ARRAY_SIZE(cases), argc, argv);
}
