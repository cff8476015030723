// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_SET_SREGS's CR4 feature bits follow KVM_GET_SUPPORTED_CPUID, on
 * kvm_amd and on lapicv alike (KVM's cr4_reserved_bits): before the VMM
 * sets a CPUID, each of OSXSAVE, PCIDE, SMEP, SMAP, FSGSBASE, PKE, LA57
 * and UMIP is taken alone exactly when the supported table has its
 * feature, and a refused one leaves the registers as they were.  After
 * KVM_SET_CPUID2 with the supported table minus one feature, its bit is
 * refused too (the guest's reserved bits), the others still taken.
 *
 * LA57 is the one a host kernel booted with no5lvl does not use while its
 * CPU has it (the rig's second 6.12 boot): KVM offers it, and so must a
 * KVM_SET_SREGS take it.
 */
#include <string.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

struct cr4_bit {
	const char *name;
	struct kvm_x86_cpu_feature feature;
	uint64_t cr4;
};

/*
 * KVM_SET_SREGS in real mode (CR0, EFER and CS.L 0, as set_sregs_test has
 * it) with CR4 only @cr4: taken or not.
 */
static bool cr4_taken(struct kvm_vcpu *vcpu, uint64_t cr4)
{
	struct kvm_sregs orig, sregs, back;
	int rc;

	vcpu_sregs_get(vcpu, &orig);
	orig.cr0 = 0;
	orig.cr4 = 0;
	orig.efer = 0;
	orig.cs.l = 0;
	vcpu_sregs_set(vcpu, &orig);
	vcpu_sregs_get(vcpu, &orig);

	sregs = orig;
	sregs.cr4 = cr4;
	rc = _vcpu_sregs_set(vcpu, &sregs);
	vcpu_sregs_get(vcpu, &back);
	if (rc) {
		TEST_ASSERT(!memcmp(&back, &orig, sizeof(back)),
			    "a refused CR4 0x%lx changed the registers", cr4);
		return false;
	}
	TEST_ASSERT_EQ(back.cr4, cr4);
	return true;
}

int main(void)
{
	/* KVM's X86_FEATURE_* are statement expressions: a local table. */
	const struct cr4_bit bits[] = {
		{ "OSXSAVE", X86_FEATURE_XSAVE, X86_CR4_OSXSAVE },
		{ "PCIDE", X86_FEATURE_PCID, X86_CR4_PCIDE },
		{ "SMEP", X86_FEATURE_SMEP, X86_CR4_SMEP },
		{ "SMAP", X86_FEATURE_SMAP, X86_CR4_SMAP },
		{ "FSGSBASE", X86_FEATURE_FSGSBASE, X86_CR4_FSGSBASE },
		{ "PKE", X86_FEATURE_PKU, X86_CR4_PKE },
		{ "LA57", X86_FEATURE_LA57, X86_CR4_LA57 },
		{ "UMIP", X86_FEATURE_UMIP, X86_CR4_UMIP },
	};
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	unsigned int i, j;
	bool has;

	vm = vm_create_barebones();
	vcpu = __vm_vcpu_add(vm, 0);
	for (i = 0; i < ARRAY_SIZE(bits); i++) {
		has = kvm_cpu_has(bits[i].feature);
		TEST_ASSERT(cr4_taken(vcpu, bits[i].cr4) == has,
			    "CR4.%s %s, the supported CPUID %s it",
			    bits[i].name, has ? "refused" : "taken",
			    has ? "has" : "lacks");
	}
	kvm_vm_free(vm);

	/* The guest's CPUID: the supported one but for one feature. */
	for (i = 0; i < ARRAY_SIZE(bits); i++) {
		if (!kvm_cpu_has(bits[i].feature))
			continue;
		vm = vm_create_with_one_vcpu(&vcpu, NULL);
		vcpu_clear_cpuid_feature(vcpu, bits[i].feature);
		for (j = 0; j < ARRAY_SIZE(bits); j++) {
			has = kvm_cpu_has(bits[j].feature) && i != j;
			TEST_ASSERT(cr4_taken(vcpu, bits[j].cr4) == has,
				    "CR4.%s %s without CPUID %s",
				    bits[j].name, has ? "refused" : "taken",
				    bits[i].name);
		}
		kvm_vm_free(vm);
	}
	return 0;
}
