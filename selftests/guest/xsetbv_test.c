// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest's XCR0, on kvm_amd and on lapicv alike.  The VMM gives the
 * guest XSAVE in CPUID leaf 1 and a leaf 0xD of its own (x87, SSE, YMM).
 * The guest starts with XCR0 = x87 only in the CPU (CPUID 0xD's EBX the
 * size for it), XSETBV without x87, with YMM but not SSE, or of another
 * XCR is a #GP, x87+SSE is taken, and the VMM's XCR0 is its own after.
 * A second guest is given its XCR0 by the VMM (KVM_SET_XCRS, before its
 * first run), reads it with XGETBV, and KVM_GET_XCRS shows it after.  (The
 * first guest's own XSETBV cannot be read back: QEMU lets it through.)
 *
 * QEMU's SVM does not intercept XSETBV: there the guest's XSETBV goes to
 * the (emulated) CPU, so KVM's checks against leaf 0xD, and the XCR0 the
 * hypervisor keeps, cannot be told from the CPU's own here; what the
 * guest finds at RESET, the CPU's checks and the host's XCR0 can.
 */
#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#include "guest_util.h"

#define CPUID_1_ECX_XSAVE	(1u << 26)
#define XCR0_FP_SSE		(XFEATURE_MASK_FP | XFEATURE_MASK_SSE)
#define XCR0_FP_SSE_YMM		(XCR0_FP_SSE | XFEATURE_MASK_YMM)
/* The legacy area and the XSAVE header. */
#define XSAVE_SIZE_FP_SSE	576

static uint32_t xsave_size(void)
{
	uint32_t eax, ebx, ecx, edx;

	cpuid(0xd, &eax, &ebx, &ecx, &edx);
	return ebx;
}

static void guest_code(void)
{
	set_cr4(get_cr4() | X86_CR4_OSXSAVE);
	/* RESET: x87 only, and the XSAVE area that needs. */
	GUEST_ASSERT_EQ(xgetbv(0), XFEATURE_MASK_FP);
	GUEST_ASSERT_EQ(xsave_size(), XSAVE_SIZE_FP_SSE);

	GUEST_ASSERT_EQ(xsetbv_safe(0, 0), GP_VECTOR);
	GUEST_ASSERT_EQ(xsetbv_safe(0, XFEATURE_MASK_FP | XFEATURE_MASK_YMM),
			GP_VECTOR);
	GUEST_ASSERT_EQ(xsetbv_safe(1, XFEATURE_MASK_FP), GP_VECTOR);
	GUEST_ASSERT_EQ(xgetbv(0), XFEATURE_MASK_FP);

	GUEST_ASSERT_EQ(xsetbv_safe(0, XCR0_FP_SSE), 0);
	GUEST_ASSERT_EQ(xgetbv(0), XCR0_FP_SSE);
	GUEST_DONE();
}

/* The XCR0 the VMM gave, as the guest finds it once CR4.OSXSAVE is set. */
static void guest_code_vmm_xcr0(void)
{
	set_cr4(get_cr4() | X86_CR4_OSXSAVE);
	GUEST_SYNC(xgetbv(0));
	GUEST_DONE();
}

/*
 * The default CPUID, with XSAVE in leaf 1 and the VMM's own leaf 0xD:
 * subleaf 0 offers x87, SSE and, with @ymm, YMM; subleaf 1 offers none of
 * XSAVEOPT/XSAVEC/XSAVES.
 */
static void set_xsave_cpuid(struct kvm_vcpu *vcpu, bool ymm)
{
	struct kvm_cpuid2 *c = allocate_kvm_cpuid2(vcpu->cpuid->nent + 2);
	struct kvm_cpuid_entry2 *e;
	uint32_t i, n = 0;

	for (i = 0; i < vcpu->cpuid->nent; i++) {
		e = &vcpu->cpuid->entries[i];
		if (e->function == 0xd)
			continue;
		c->entries[n] = *e;
		if (e->function == 0 && c->entries[n].eax < 0xd)
			c->entries[n].eax = 0xd;
		if (e->function == 1)
			c->entries[n].ecx |= CPUID_1_ECX_XSAVE;
		n++;
	}
	for (i = 0; i < 2; i++) {
		e = &c->entries[n++];
		memset(e, 0, sizeof(*e));
		e->function = 0xd;
		e->index = i;
		e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		if (i == 0) {
			e->eax = ymm ? XCR0_FP_SSE_YMM : XCR0_FP_SSE;
			e->ebx = XSAVE_SIZE_FP_SSE;
			e->ecx = e->ebx;
		}
	}
	c->nent = n;
	vcpu_init_cpuid(vcpu, c);
	free(c);
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	struct kvm_xcrs xcrs;
	uint64_t host_xcr0, want;

	TEST_REQUIRE(this_cpu_has(X86_FEATURE_OSXSAVE));
	host_xcr0 = xgetbv(0);

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	set_xsave_cpuid(vcpu, true);
	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_DONE);
	kvm_vm_free(vm);
	/* The guest's XCR0 stayed the guest's. */
	TEST_ASSERT_EQ(xgetbv(0), host_xcr0);

	/* The VMM's XCR0 (with YMM where the host has it) in the CPU. */
	want = host_xcr0 & XCR0_FP_SSE_YMM;
	vm = vm_create_with_one_vcpu(&vcpu, guest_code_vmm_xcr0);
	set_xsave_cpuid(vcpu, true);
	memset(&xcrs, 0, sizeof(xcrs));
	xcrs.nr_xcrs = 1;
	xcrs.xcrs[0].value = want;
	vcpu_xcrs_set(vcpu, &xcrs);
	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_SYNC);
	TEST_ASSERT_EQ(uc.args[1], want);
	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_DONE);
	vcpu_xcrs_get(vcpu, &xcrs);
	TEST_ASSERT_EQ(xcrs.nr_xcrs, 1);
	TEST_ASSERT_EQ(xcrs.xcrs[0].value, want);
	kvm_vm_free(vm);
	TEST_ASSERT_EQ(xgetbv(0), host_xcr0);
	return 0;
}
