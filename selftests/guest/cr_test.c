// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest writes of CR0 and CR4, on kvm_amd and on lapicv alike: the guest
 * reads back its own CR4.MCE whatever the CPU runs with, a CR4 bit its
 * CPUID lacks is a #GP (the host's CPU has it), and with CR0.CD set (which
 * KVM's CD/NW quirk keeps out of the CPU's CR0, so that CR0 accesses are
 * intercepted) MOV from CR0, SMSW, CLTS and LMSW in their register and
 * memory forms do what the CPU would.  F2 and F3 before MOV CRn change
 * nothing.  KVM_GET_SREGS reports the guest's view.
 */
#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#include "guest_util.h"

#define CR0_TS	(1ul << 3)
#define CR0_NW	(1ul << 29)
#define CR0_CD	(1ul << 30)
#define CR4_MCE	(1ul << 6)
#define CR4_OSXSAVE (1ul << 18)

static void guest_set_cr0(uint64_t val)
{
	asm volatile("mov %0, %%cr0" : : "r"(val) : "memory");
}

static uint16_t guest_msw;

static void guest_code(void)
{
	uint64_t cr4 = get_cr4(), cr0 = get_cr0(), val;
	uint8_t vec;

	/* CR4.MCE: the guest's own value, both ways. */
	set_cr4(cr4 & ~CR4_MCE);
	GUEST_ASSERT_EQ(get_cr4(), cr4 & ~CR4_MCE);
	GUEST_SYNC(cr4 & ~CR4_MCE);
	set_cr4(cr4 | CR4_MCE);
	GUEST_ASSERT_EQ(get_cr4(), cr4 | CR4_MCE);
	GUEST_SYNC(cr4 | CR4_MCE);

	/* F3 and F2 on MOV to and from CR4: no part of the instruction. */
	asm volatile(".byte 0xf3; mov %0, %%cr4" : : "r"(cr4 & ~CR4_MCE)
		     : "memory");
	asm volatile(".byte 0xf2; mov %%cr4, %0" : "=r"(val));
	GUEST_ASSERT_EQ(val, cr4 & ~CR4_MCE);
	set_cr4(cr4 | CR4_MCE);

	/* OSXSAVE without XSAVE in the guest's CPUID: #GP, nothing set. */
	vec = kvm_asm_safe("mov %[v], %%cr4", [v] "r"(cr4 | CR4_OSXSAVE));
	GUEST_ASSERT_EQ(vec, GP_VECTOR);
	GUEST_ASSERT_EQ(get_cr4(), cr4 | CR4_MCE);
	set_cr4(cr4);

	/* CR0.CD: kept out of the CPU's CR0, read back by the guest. */
	guest_set_cr0(cr0 | CR0_CD);
	GUEST_ASSERT_EQ(get_cr0(), cr0 | CR0_CD);
	GUEST_SYNC(cr0 | CR0_CD);

	/* SMSW to a register: CR0's low bits. */
	val = ~0ull;
	asm volatile("smsw %w0" : "+r"(val));
	GUEST_ASSERT_EQ(val, ~0xffffull | (cr0 & 0xffff));
	asm volatile("smsw %q0" : "=r"(val));
	GUEST_ASSERT_EQ(val, cr0 | CR0_CD);

	/* SMSW to memory: CR0's low 16 bits, nothing more. */
	guest_msw = 0xffff;
	asm volatile("smsw %0" : "=m"(guest_msw) : : "memory");
	GUEST_ASSERT_EQ(guest_msw, (uint16_t)cr0);

	/* CLTS. */
	guest_set_cr0(cr0 | CR0_CD | CR0_TS);
	GUEST_ASSERT_EQ(get_cr0(), cr0 | CR0_CD | CR0_TS);
	asm volatile("clts" ::: "memory");
	GUEST_ASSERT_EQ(get_cr0(), cr0 | CR0_CD);

	/* LMSW from a register sets TS; from memory clears it; PE stays. */
	asm volatile("lmsw %w0" : : "r"((uint16_t)(cr0 | CR0_TS)) : "memory");
	GUEST_ASSERT_EQ(get_cr0(), cr0 | CR0_CD | CR0_TS);
	guest_msw = 0;
	asm volatile("lmsw %0" : : "m"(guest_msw) : "memory");
	GUEST_ASSERT_EQ(get_cr0(), (cr0 | CR0_CD) & ~0xeull);
	guest_set_cr0(cr0 | CR0_CD);

	/* NW without CD: #GP, CR0 unchanged. */
	vec = kvm_asm_safe("mov %[v], %%cr0", [v] "r"(cr0 | CR0_NW));
	GUEST_ASSERT_EQ(vec, GP_VECTOR);
	GUEST_ASSERT_EQ(get_cr0(), cr0 | CR0_CD);

	guest_set_cr0(cr0);
	GUEST_ASSERT_EQ(get_cr0(), cr0);
	GUEST_DONE();
}

static void expect_sync(struct kvm_vcpu *vcpu, bool cr4)
{
	struct kvm_sregs sregs;
	struct ucall uc;

	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_SYNC);
	vcpu_sregs_get(vcpu, &sregs);
	TEST_ASSERT_EQ(cr4 ? sregs.cr4 : sregs.cr0, uc.args[1]);
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	vcpu_clear_cpuid_feature(vcpu, X86_FEATURE_XSAVE);

	expect_sync(vcpu, true);
	expect_sync(vcpu, true);
	expect_sync(vcpu, false);
	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_DONE);
	kvm_vm_free(vm);
	return 0;
}
