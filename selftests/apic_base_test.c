// SPDX-License-Identifier: GPL-2.0-only
/*
 * MSR_IA32_APICBASE through KVM_GET/SET_MSRS (host-initiated writes): the
 * RESET values, reserved bits from MAXPHYADDR, the x2APIC CPUID gate, the
 * invalid mode, the transitions a VMM may make, the APIC ID and LDR that
 * follow the mode, the CPUID APIC bit that follows EN, and KVM's
 * count-of-processed-MSRs rule.  Expectations are KVM 6.12's
 * (arch/x86/kvm/lapic.c kvm_apic_set_base(), x86.c msr_io()).
 */
#include <cpuid.h>

#include "kselftest_harness.h"
#include "lapic_util.h"
#include <linux/lapicv.h>

FIXTURE(base) {
	struct lt_vm v;
};

FIXTURE_SETUP(base)
{
	ASSERT_OK(lt_vm_create(&self->v, 3));
}

FIXTURE_TEARDOWN(base)
{
	lt_vm_destroy(&self->v);
}

/* vCPU 0 is the BSP; the others are APs in UNINITIALIZED. */
TEST_F(base, reset_values)
{
	struct kvm_lapic_state s;
	int i;

	EXPECT_EQ(APIC_BASE_DEFAULT | APIC_BASE_EN | APIC_BASE_BSP,
		  msr(self->v.vcpu[0], MSR_IA32_APICBASE));
	for (i = 1; i < 3; i++)
		EXPECT_EQ(APIC_BASE_DEFAULT | APIC_BASE_EN,
			  msr(self->v.vcpu[i], MSR_IA32_APICBASE));

	for (i = 0; i < 3; i++) {
		ASSERT_OK(get_lapic(self->v.vcpu[i], &s));
		EXPECT_EQ((__u32)i << 24, lapic_reg(&s, APIC_ID));
		/* Version 0x14, six LVT entries, no directed EOI yet. */
		EXPECT_EQ(0x50014u, lapic_reg(&s, APIC_LVR));
		EXPECT_EQ(0xffu, lapic_reg(&s, APIC_SPIV));
		EXPECT_EQ(0xffffffffu, lapic_reg(&s, APIC_DFR));
		EXPECT_EQ(0u, lapic_reg(&s, APIC_LDR));
		EXPECT_EQ(0u, lapic_reg(&s, APIC_TASKPRI));
		EXPECT_EQ(0u, lapic_reg(&s, APIC_PROCPRI));
		EXPECT_EQ(LVT_MASKED, lapic_reg(&s, APIC_LVTT));
		EXPECT_EQ(LVT_MASKED, lapic_reg(&s, APIC_LVTERR));
		EXPECT_EQ(LVT_MASKED, lapic_reg(&s, APIC_LVT1));
		/* KVM's LINT0_REENABLED quirk: the BSP's LINT0 is ExtINT. */
		EXPECT_EQ(i ? LVT_MASKED : 0x700u, lapic_reg(&s, APIC_LVT0));
		/* No CMCI: the slot stays zero. */
		EXPECT_EQ(0u, lapic_reg(&s, APIC_LVTCMCI));
	}
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(self->v.vcpu[0]));
	EXPECT_EQ(KVM_MP_STATE_UNINITIALIZED, get_mp_state(self->v.vcpu[1]));
}

/* Without CPUID, MAXPHYADDR is 36 and x2APIC is not offered. */
TEST_F(base, reserved_bits_default)
{
	int vcpu = self->v.vcpu[1];
	__u64 base = APIC_BASE_DEFAULT | APIC_BASE_EN;

	EXPECT_EQ(0, set_msr(vcpu, MSR_IA32_APICBASE, base | (1ull << 36)));
	EXPECT_EQ(0, set_msr(vcpu, MSR_IA32_APICBASE, base | (1ull << 63)));
	EXPECT_EQ(0, set_msr(vcpu, MSR_IA32_APICBASE, base | (1ull << 9)));
	EXPECT_EQ(0, set_msr(vcpu, MSR_IA32_APICBASE, base | 0x1));
	EXPECT_EQ(0, set_msr(vcpu, MSR_IA32_APICBASE, base | 0x80));
	EXPECT_EQ(0, set_msr(vcpu, MSR_IA32_APICBASE, base | APIC_BASE_EXTD));
	/* Refused writes leave the MSR alone. */
	EXPECT_EQ(base, msr(vcpu, MSR_IA32_APICBASE));
	/* Bit 35 is below MAXPHYADDR, and BSP is writable. */
	EXPECT_EQ(1, set_msr(vcpu, MSR_IA32_APICBASE, base | (1ull << 35)));
	EXPECT_EQ(base | (1ull << 35), msr(vcpu, MSR_IA32_APICBASE));
	EXPECT_EQ(1, set_msr(vcpu, MSR_IA32_APICBASE, base | APIC_BASE_BSP));
	EXPECT_EQ(base | APIC_BASE_BSP, msr(vcpu, MSR_IA32_APICBASE));
}

/* CPUID leaf 0x80000008 moves MAXPHYADDR; leaf 1 opens x2APIC. */
TEST_F(base, reserved_bits_cpuid)
{
	int vcpu = self->v.vcpu[1];
	__u64 base = APIC_BASE_DEFAULT | APIC_BASE_EN;

	ASSERT_OK(set_cpuid(vcpu, CPUID1_ECX_X2APIC, 40));
	EXPECT_EQ(1, set_msr(vcpu, MSR_IA32_APICBASE, base | (1ull << 39)));
	EXPECT_EQ(0, set_msr(vcpu, MSR_IA32_APICBASE, base | (1ull << 40)));
	EXPECT_EQ(1, set_msr(vcpu, MSR_IA32_APICBASE, base | APIC_BASE_EXTD));
	EXPECT_EQ(base | APIC_BASE_EXTD, msr(vcpu, MSR_IA32_APICBASE));

	/* A leaf 0x80000000 too small for 0x80000008: back to 36 bits. */
	ASSERT_OK(set_cpuid(vcpu, CPUID1_ECX_X2APIC, 0));
	EXPECT_EQ(0, set_msr(vcpu, MSR_IA32_APICBASE, base | (1ull << 36)));
}

/*
 * CPUID may claim 64 or more physical address bits (the field is a byte):
 * then no address bit is reserved (KVM's rsvd_bits() of an empty range),
 * and the architectural reserved bits still are.
 */
TEST_F(base, reserved_bits_maxphyaddr_64)
{
	int vcpu = self->v.vcpu[1];
	__u64 base = APIC_BASE_DEFAULT | APIC_BASE_EN;
	unsigned int phys[] = { 64, 65, 255 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(phys); i++) {
		ASSERT_OK(set_cpuid(vcpu, CPUID1_ECX_X2APIC, phys[i]));
		EXPECT_EQ(1, set_msr(vcpu, MSR_IA32_APICBASE, base | (1ull << 63)))
			TH_LOG("MAXPHYADDR %u", phys[i]);
		EXPECT_EQ(base | (1ull << 63), msr(vcpu, MSR_IA32_APICBASE));
		EXPECT_EQ(0, set_msr(vcpu, MSR_IA32_APICBASE, base | (1ull << 9)));
		EXPECT_EQ(1, set_msr(vcpu, MSR_IA32_APICBASE, base));
	}
	/* 63 bits: bit 63 alone is reserved. */
	ASSERT_OK(set_cpuid(vcpu, CPUID1_ECX_X2APIC, 63));
	EXPECT_EQ(0, set_msr(vcpu, MSR_IA32_APICBASE, base | (1ull << 63)));
	EXPECT_EQ(1, set_msr(vcpu, MSR_IA32_APICBASE, base | (1ull << 62)));
}

/* EXTD without EN is the invalid mode, whatever the CPUID. */
TEST_F(base, invalid_mode)
{
	int vcpu = self->v.vcpu[1];

	ASSERT_OK(set_cpuid_x2apic(vcpu));
	EXPECT_EQ(0, set_msr(vcpu, MSR_IA32_APICBASE, APIC_BASE_DEFAULT | APIC_BASE_EXTD));
	EXPECT_EQ(APIC_BASE_DEFAULT | APIC_BASE_EN, msr(vcpu, MSR_IA32_APICBASE));
}

/*
 * The VMM may make every transition, including the two a guest may not
 * (x2APIC -> xAPIC and disabled -> x2APIC); the ID follows the mode.
 */
TEST_F(base, host_transitions)
{
	struct kvm_lapic_state s;
	int vcpu = self->v.vcpu[2];
	__u64 en = APIC_BASE_DEFAULT | APIC_BASE_EN;

	ASSERT_OK(set_cpuid_x2apic(vcpu));
	ASSERT_EQ(1, set_msr(vcpu, MSR_IA32_APICBASE, en | APIC_BASE_EXTD));
	ASSERT_OK(get_lapic(vcpu, &s));
	/* Without 32-bit IDs the x2APIC ID is reported as ID << 24. */
	EXPECT_EQ(2u << 24, lapic_reg(&s, APIC_ID));
	/* Cluster 0, bit 2: the x2APIC LDR derived from ID 2. */
	EXPECT_EQ(1u << 2, lapic_reg(&s, APIC_LDR));
	EXPECT_EQ(2ull, msr(vcpu, X2APIC_MSR(APIC_ID)));
	EXPECT_EQ(1ull << 2, msr(vcpu, X2APIC_MSR(APIC_LDR)));

	ASSERT_EQ(1, set_msr(vcpu, MSR_IA32_APICBASE, en));
	ASSERT_OK(get_lapic(vcpu, &s));
	EXPECT_EQ(2u << 24, lapic_reg(&s, APIC_ID));
	/* Leaving x2APIC keeps the derived LDR: only the ID is rewritten. */
	EXPECT_EQ(1u << 2, lapic_reg(&s, APIC_LDR));

	ASSERT_EQ(1, set_msr(vcpu, MSR_IA32_APICBASE, APIC_BASE_DEFAULT));
	EXPECT_EQ(APIC_BASE_DEFAULT, msr(vcpu, MSR_IA32_APICBASE));
	ASSERT_EQ(1, set_msr(vcpu, MSR_IA32_APICBASE, en | APIC_BASE_EXTD));
	EXPECT_EQ(2ull, msr(vcpu, X2APIC_MSR(APIC_ID)));
	ASSERT_EQ(1, set_msr(vcpu, MSR_IA32_APICBASE, APIC_BASE_DEFAULT));
	ASSERT_EQ(1, set_msr(vcpu, MSR_IA32_APICBASE, en));
	EXPECT_EQ(en, msr(vcpu, MSR_IA32_APICBASE));
}

/* Re-enabling a disabled APIC restores the xAPIC ID from the vCPU id. */
TEST_F(base, enable_restores_id)
{
	struct kvm_lapic_state s;
	int vcpu = self->v.vcpu[1];

	ASSERT_OK(get_lapic(vcpu, &s));
	lapic_set_reg(&s, APIC_ID, 0x55u << 24);
	ASSERT_OK(set_lapic(vcpu, &s));
	ASSERT_OK(get_lapic(vcpu, &s));
	EXPECT_EQ(0x55u << 24, lapic_reg(&s, APIC_ID));

	/* A write that keeps EN does not touch the ID. */
	ASSERT_EQ(1, set_msr(vcpu, MSR_IA32_APICBASE, APIC_BASE_DEFAULT | APIC_BASE_EN));
	ASSERT_OK(get_lapic(vcpu, &s));
	EXPECT_EQ(0x55u << 24, lapic_reg(&s, APIC_ID));

	ASSERT_EQ(1, set_msr(vcpu, MSR_IA32_APICBASE, APIC_BASE_DEFAULT));
	ASSERT_EQ(1, set_msr(vcpu, MSR_IA32_APICBASE, APIC_BASE_DEFAULT | APIC_BASE_EN));
	ASSERT_OK(get_lapic(vcpu, &s));
	EXPECT_EQ(1u << 24, lapic_reg(&s, APIC_ID));
}

/* KVM_GET_CPUID2 shows CPUID.1:EDX.APIC following the EN bit. */
TEST_F(base, cpuid_apic_bit)
{
	struct {
		struct kvm_cpuid2 hdr;
		struct kvm_cpuid_entry2 e[8];
	} c;
	int vcpu = self->v.vcpu[1];
	unsigned int i, leaf1 = ~0u;

	ASSERT_OK(set_cpuid_x2apic(vcpu));
	ASSERT_EQ(1, set_msr(vcpu, MSR_IA32_APICBASE, APIC_BASE_DEFAULT));

	memset(&c, 0, sizeof(c));
	c.hdr.nent = 3;
	ASSERT_ERRNO(ioctl(vcpu, KVM_GET_CPUID2, &c), E2BIG);
	c.hdr.nent = 8;
	ASSERT_OK(ioctl(vcpu, KVM_GET_CPUID2, &c));
	ASSERT_EQ(4u, c.hdr.nent);
	for (i = 0; i < c.hdr.nent; i++)
		if (c.e[i].function == 1)
			leaf1 = i;
	ASSERT_NE(~0u, leaf1);
	EXPECT_EQ(0u, c.e[leaf1].edx & CPUID1_EDX_APIC);
	EXPECT_EQ(CPUID1_ECX_X2APIC | CPUID1_ECX_TSC_DEADLINE, c.e[leaf1].ecx);

	ASSERT_EQ(1, set_msr(vcpu, MSR_IA32_APICBASE, APIC_BASE_DEFAULT | APIC_BASE_EN));
	c.hdr.nent = 8;
	ASSERT_OK(ioctl(vcpu, KVM_GET_CPUID2, &c));
	EXPECT_EQ(CPUID1_EDX_APIC, c.e[leaf1].edx & CPUID1_EDX_APIC);
}

TEST_F(base, cpuid_too_big)
{
	struct kvm_cpuid2 hdr = { .nent = 257 };

	ASSERT_ERRNO(ioctl(self->v.vcpu[0], KVM_SET_CPUID2, &hdr), E2BIG);
}

/* The count KVM_SET/GET_MSRS return stops at the first failing entry. */
TEST_F(base, msr_count)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[3];
	} m;
	int vcpu = self->v.vcpu[1];

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 3;
	m.e[0].index = MSR_IA32_APICBASE;
	m.e[0].data = APIC_BASE_DEFAULT | APIC_BASE_EN | APIC_BASE_BSP;
	m.e[1].index = MSR_IA32_APICBASE;
	m.e[1].data = APIC_BASE_DEFAULT | APIC_BASE_EN | (1ull << 9);
	m.e[2].index = MSR_IA32_APICBASE;
	m.e[2].data = APIC_BASE_DEFAULT;
	EXPECT_EQ(1, ioctl(vcpu, KVM_SET_MSRS, &m));
	EXPECT_EQ(APIC_BASE_DEFAULT | APIC_BASE_EN | APIC_BASE_BSP, msr(vcpu, MSR_IA32_APICBASE));

	/* In xAPIC mode the x2APIC MSRs cannot be read. */
	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 3;
	m.e[0].index = MSR_IA32_APICBASE;
	m.e[1].index = X2APIC_MSR(APIC_ID);
	m.e[1].data = 0x1234;
	m.e[2].index = MSR_IA32_APICBASE;
	EXPECT_EQ(1, ioctl(vcpu, KVM_GET_MSRS, &m));
	EXPECT_EQ(APIC_BASE_DEFAULT | APIC_BASE_EN | APIC_BASE_BSP, m.e[0].data);
	/* The failed entry reads 0; later ones come back as they went in. */
	EXPECT_EQ(0ull, m.e[1].data);
	EXPECT_EQ(0ull, m.e[2].data);
	EXPECT_EQ(0, set_msr(vcpu, X2APIC_MSR(APIC_TASKPRI), 0x10));

	m.hdr.nmsrs = 0;
	EXPECT_EQ(0, ioctl(vcpu, KVM_GET_MSRS, &m));
}

/* KVM's MAX_IO_MSRS is 256: 255 entries pass, 256 are too many. */
TEST_F(base, msr_limit)
{
	static struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[256];
	} m;
	int vcpu = self->v.vcpu[0];
	int i;

	for (i = 0; i < 256; i++)
		m.e[i].index = MSR_IA32_APICBASE;
	m.hdr.nmsrs = 256;
	EXPECT_ERRNO(ioctl(vcpu, KVM_GET_MSRS, &m), E2BIG);
	EXPECT_ERRNO(ioctl(vcpu, KVM_SET_MSRS, &m), E2BIG);
	m.hdr.nmsrs = 255;
	EXPECT_EQ(255, ioctl(vcpu, KVM_GET_MSRS, &m));
	EXPECT_EQ(APIC_BASE_DEFAULT | APIC_BASE_EN | APIC_BASE_BSP, m.e[254].data);
}

/* MSR_IA32_TSC_DEADLINE reads 0 outside TSC-deadline mode. */
TEST_F(base, tsc_deadline_outside_mode)
{
	int vcpu = self->v.vcpu[0];

	EXPECT_EQ(1, set_msr(vcpu, MSR_IA32_TSC_DEADLINE, 12345));
	EXPECT_EQ(0ull, msr(vcpu, MSR_IA32_TSC_DEADLINE));
}

/* Without a split irqchip there is no in-kernel LAPIC: -EINVAL. */
TEST(no_irqchip)
{
	struct kvm_lapic_state s;
	int dev, vm, vcpu;

	dev = open_dev();
	ASSERT_OK(dev);
	vm = vm_create(dev);
	ASSERT_OK(vm);
	vcpu = vcpu_create(vm, 0);
	ASSERT_OK(vcpu);
	memset(&s, 0, sizeof(s));
	EXPECT_ERRNO(get_lapic(vcpu, &s), EINVAL);
	EXPECT_ERRNO(set_lapic(vcpu, &s), EINVAL);
	close(vcpu);
	close(vm);
	close(dev);
}

/*
 * Moving the APIC base sets the sticky APIC_BASE_MODIFIED inhibit, as in
 * KVM (lapicv-only: KVM has no ioctl to read its inhibits).
 */
TEST(base_moved_inhibit)
{
	__u64 bit = BIT_ULL(LAPICV_INHIBIT_APIC_BASE_MODIFIED);
	struct lapicv_inhibit_state st;
	struct lt_vm v;

	ASSERT_OK(lt_vm_create(&v, 2));
	REQUIRE_LAPICV();
	ASSERT_OK(ioctl(v.vm, LAPICV_GET_INHIBITS, &st));
	if (!(st.required & bit))
		SKIP(return, "the APICv backend ignores APIC_BASE_MODIFIED");
	EXPECT_EQ(0ull, st.reasons & bit);
	/* Disabled at another address: no reason yet. */
	ASSERT_EQ(1, set_msr(v.vcpu[1], MSR_IA32_APICBASE, 0xfed00000));
	ASSERT_OK(ioctl(v.vm, LAPICV_GET_INHIBITS, &st));
	EXPECT_EQ(0ull, st.reasons & bit);
	ASSERT_EQ(1, set_msr(v.vcpu[1], MSR_IA32_APICBASE, 0xfed00000 | APIC_BASE_EN));
	ASSERT_OK(ioctl(v.vm, LAPICV_GET_INHIBITS, &st));
	EXPECT_EQ(bit, st.reasons & bit);
	ASSERT_EQ(1, set_msr(v.vcpu[1], MSR_IA32_APICBASE, APIC_BASE_DEFAULT | APIC_BASE_EN));
	ASSERT_OK(ioctl(v.vm, LAPICV_GET_INHIBITS, &st));
	EXPECT_EQ(bit, st.reasons & bit);
	lt_vm_destroy(&v);
}

/*
 * KVM_GET_SUPPORTED_CPUID offers x2APIC in leaf 1 on both devices, and
 * not TSC-deadline; leaf 0x80000008 has the host's MAXPHYADDR; nent 0
 * and 3 are -E2BIG (selftests/cpuid_test.c has the rest).
 */
TEST(supported_cpuid)
{
	struct {
		struct kvm_cpuid2 hdr;
		struct kvm_cpuid_entry2 e[256];
	} c;
	unsigned int a, b, cx, d, i, leaf1 = ~0u, ext8 = ~0u;
	int dev = open_dev();

	ASSERT_OK(dev);
	memset(&c, 0, sizeof(c));
	ASSERT_ERRNO(ioctl(dev, KVM_GET_SUPPORTED_CPUID, &c), E2BIG);
	c.hdr.nent = 256;
	ASSERT_OK(ioctl(dev, KVM_GET_SUPPORTED_CPUID, &c));
	ASSERT_LE(4u, c.hdr.nent);
	for (i = 0; i < c.hdr.nent; i++) {
		if (c.e[i].function == 1 && leaf1 == ~0u)
			leaf1 = i;
		if (c.e[i].function == 0x80000008)
			ext8 = i;
	}
	ASSERT_NE(~0u, leaf1);
	ASSERT_NE(~0u, ext8);
	EXPECT_EQ(CPUID1_ECX_X2APIC, c.e[leaf1].ecx & CPUID1_ECX_X2APIC);
	EXPECT_EQ(CPUID1_EDX_APIC, c.e[leaf1].edx & CPUID1_EDX_APIC);
	/* TSC-deadline is KVM_CAP_TSC_DEADLINE_TIMER's, not CPUID's. */
	EXPECT_EQ(0u, c.e[leaf1].ecx & CPUID1_ECX_TSC_DEADLINE);
	__cpuid(0x80000008, a, b, cx, d);
	EXPECT_EQ(a & 0xff, c.e[ext8].eax & 0xff);
	c.hdr.nent = 3;
	EXPECT_ERRNO(ioctl(dev, KVM_GET_SUPPORTED_CPUID, &c), E2BIG);
	close(dev);
}

TEST_HARNESS_MAIN
