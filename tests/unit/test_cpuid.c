// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of lapic.c's CPUID facts (KVM_SET_CPUID2): MAXPHYADDR and the
 * APIC base's reserved bits, and a refused table left untouched.  The
 * values are KVM 6.12's.
 */
#include "../../lapic.c"

#include "test.h"
#include "unit_vm.h"

#define LEAF(fn, a, c, d) { .function = (fn), .eax = (a), .ecx = (c), .edx = (d) }

/* Install a copy of @tab (set_cpuid owns what it accepts). */
static int set_cpuid(struct lapicv_vcpu *v, const struct kvm_cpuid_entry2 *tab,
		     int nent, struct kvm_cpuid_entry2 **copy)
{
	struct kvm_cpuid_entry2 *e = kvmalloc_array(nent, sizeof(*e), GFP_KERNEL);
	int r;

	memcpy(e, tab, sizeof(*e) * nent);
	mutex_lock(&v->mutex);
	r = lapicv_set_cpuid(v, e, nent);
	mutex_unlock(&v->mutex);
	if (copy)
		*copy = e;
	else if (r)
		kvfree(e);
	return r;
}

/* Leaf 0x80000008 with @phys physical and 48 virtual address bits. */
static int set_maxphyaddr(struct lapicv_vcpu *v, u32 phys)
{
	const struct kvm_cpuid_entry2 tab[] = {
		LEAF(1, 0, CPUID_1_ECX_X2APIC, CPUID_1_EDX_APIC),
		LEAF(0x80000000, 0x80000008, 0, 0),
		LEAF(0x80000008, (48 << 8) | phys, 0, 0),
	};

	return set_cpuid(v, tab, ARRAY_SIZE(tab), NULL);
}

static int set_base(struct lapicv_vcpu *v, u64 base)
{
	int r;

	mutex_lock(&v->mutex);
	r = lapicv_apic_set_base(v, base, true);
	mutex_unlock(&v->mutex);
	return r;
}

/*
 * MAXPHYADDR of 64 and more (CPUID has a byte for it) reserves no address
 * bit, as KVM's rsvd_bits() gives 0 for an empty range; before, the mask
 * shifted by 64 (UBSan aborts here) and refused every base.
 */
static bool test_maxphyaddr_64_and_up(void)
{
	struct lapicv_vm *vm = unit_apic_vm_create(1, NULL, LAPICV_IRQWIN_COUNTER);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	u64 base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE |
		   MSR_IA32_APICBASE_BSP;
	u32 phys[] = { 64, 65, 255 };
	int i;

	for (i = 0; i < ARRAY_SIZE(phys); i++) {
		ASSERT_EQ(set_maxphyaddr(v, phys[i]), 0);
		ASSERT_EQ(v->apic->maxphyaddr, phys[i]);
		ASSERT_EQ(set_base(v, base), 0);
		ASSERT_EQ(set_base(v, base | BIT_ULL(63)), 0);
		ASSERT_EQ(v->apic->apic_base, base | BIT_ULL(63));
		/* The architectural reserved bits stay reserved. */
		ASSERT_EQ(set_base(v, base | BIT(9)), 1);
		ASSERT_EQ(set_base(v, base | 1), 1);
	}
	/* 63: bit 63 only. */
	ASSERT_EQ(set_maxphyaddr(v, 63), 0);
	ASSERT_EQ(set_base(v, base | BIT_ULL(62)), 0);
	ASSERT_EQ(set_base(v, base | BIT_ULL(63)), 1);
	unit_apic_vm_destroy(vm);
	return true;
}

/* MAXPHYADDR 0 reserves every address bit, as KVM's rsvd_bits(0, 63). */
static bool test_maxphyaddr_0(void)
{
	struct lapicv_vm *vm = unit_apic_vm_create(1, NULL, LAPICV_IRQWIN_COUNTER);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	u64 old = v->apic->apic_base;

	ASSERT_EQ(set_maxphyaddr(v, 0), 0);
	ASSERT_EQ(set_base(v, APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE), 1);
	ASSERT_EQ(set_base(v, MSR_IA32_APICBASE_ENABLE), 1);
	ASSERT_EQ(v->apic->apic_base, old);
	/* Disabled with no address is the one value left. */
	ASSERT_EQ(set_base(v, 0), 0);
	unit_apic_vm_destroy(vm);
	return true;
}

/* A refused table is left as the caller gave it, the vCPU as it was. */
static bool test_refused_cpuid_untouched(void)
{
	struct lapicv_vm *vm = unit_apic_vm_create(1, NULL, LAPICV_IRQWIN_COUNTER);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	/* The APIC is enabled, so an accepted leaf 1 gets CPUID.APIC set. */
	const struct kvm_cpuid_entry2 bad[] = {
		LEAF(1, 0, CPUID_1_ECX_X2APIC | CPUID_1_ECX_TSC_DEADLINE, 0),
		LEAF(0x80000000, 0x80000008, 0, 0),
		LEAF(0x80000008, (40 << 8) | 40, 0, 0),	/* 40 virtual bits */
	};
	struct kvm_cpuid_entry2 *copy;
	u8 maxphyaddr = v->apic->maxphyaddr;
	bool x2apic = v->apic->cpuid_x2apic;
	u32 nent;

	ASSERT_EQ(set_cpuid(v, bad, ARRAY_SIZE(bad), &copy), -EINVAL);
	ASSERT_EQ(memcmp(copy, bad, sizeof(bad)), 0);
	kvfree(copy);
	ASSERT_EQ(v->apic->maxphyaddr, maxphyaddr);
	ASSERT_EQ(v->apic->cpuid_x2apic, x2apic);
	mutex_lock(&v->mutex);
	ASSERT_NULL(lapicv_get_cpuid(v, &nent));
	mutex_unlock(&v->mutex);
	ASSERT_EQ(nent, 0);

	/* The same table with 48 virtual bits is taken, and rewritten. */
	{
		struct kvm_cpuid_entry2 good[ARRAY_SIZE(bad)];

		memcpy(good, bad, sizeof(bad));
		good[2].eax = (48 << 8) | 40;
		ASSERT_EQ(set_cpuid(v, good, ARRAY_SIZE(good), &copy), 0);
		ASSERT_TRUE(copy[0].edx & CPUID_1_EDX_APIC);
		ASSERT_EQ(v->apic->maxphyaddr, 40);
		ASSERT_TRUE(v->apic->cpuid_x2apic);
	}
	unit_apic_vm_destroy(vm);
	return true;
}

static const struct unit_case cases[] = {
	UNIT_CASE(test_maxphyaddr_64_and_up),
	UNIT_CASE(test_maxphyaddr_0),
	UNIT_CASE(test_refused_cpuid_untouched),
};

int main(int argc, char **argv)
{
	return unit_run("cpuid", cases, ARRAY_SIZE(cases), argc, argv);
}
