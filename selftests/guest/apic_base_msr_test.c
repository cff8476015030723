// SPDX-License-Identifier: GPL-2.0-only
/*
 * The smallest real-guest test: the guest reads its APIC base MSR and
 * hands the value to the host through a ucall; the host checks that it is
 * what KVM_GET_MSRS reports and the reset value of a BSP (xAPIC enabled at
 * 0xfee00000).  Runs on whatever /dev/kvm is: kvm_amd, or lapicv once it
 * has KVM_RUN (until then KVM's library skips it for a missing capability).
 */
#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "apic.h"

#include "guest_util.h"

#define BSP_RESET_APIC_BASE \
	(APIC_DEFAULT_GPA | MSR_IA32_APICBASE_ENABLE | MSR_IA32_APICBASE_BSP)

static void guest_code(void)
{
	GUEST_SYNC1(rdmsr(MSR_IA32_APICBASE));
	GUEST_DONE();
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	uint64_t host_view;

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	host_view = vcpu_get_msr(vcpu, MSR_IA32_APICBASE);
	TEST_ASSERT_EQ(host_view, BSP_RESET_APIC_BASE);

	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_SYNC);
	TEST_ASSERT_EQ(uc.args[0], host_view);

	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_DONE);
	kvm_vm_free(vm);
	return 0;
}
