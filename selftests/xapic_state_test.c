// SPDX-License-Identifier: GPL-2.0-only
/*
 * What KVM's own xapic_state_test checks, driven from the VMM side: the
 * x2APIC ICR written through KVM_SET_MSRS reads back whole (BUSY dropped,
 * reserved bits refused) and shows in KVM_GET_LAPIC as ICR + ICR2; the
 * x2APIC ID is read-only through KVM_SET_LAPIC; with
 * KVM_X2APIC_API_USE_32BIT_IDS a mismatching ID is refused.  Expectations
 * are KVM 6.12's with kvm_amd, whose x2APIC ICR is split into ICR/ICR2.
 */
#include "kselftest_harness.h"
#include "lapic_util.h"

#define X2APIC_ICR_RSVD	(0xfff00000ull | 0x30000ull | 0x2000ull)
#define ICR_BUSY	0x1000ull

FIXTURE(x2) {
	struct lt_vm v;
	int vcpu;
};

FIXTURE_SETUP(x2)
{
	ASSERT_OK(lt_vm_create(&self->v, 1));
	self->vcpu = self->v.vcpu[0];
	ASSERT_OK(set_cpuid_x2apic(self->vcpu));
	ASSERT_EQ(1, enable_x2apic(self->vcpu));
}

FIXTURE_TEARDOWN(x2)
{
	lt_vm_destroy(&self->v);
}

/* Write @val to the x2APIC ICR and check what reads back, both ways. */
static void check_icr(struct __test_metadata *_metadata, int vcpu,
		      __u64 val)
{
	struct kvm_lapic_state s;
	__u64 old = msr(vcpu, X2APIC_MSR(APIC_ICR));
	__u64 want = val & ~ICR_BUSY;
	int r = set_msr(vcpu, X2APIC_MSR(APIC_ICR), val);

	if (val & X2APIC_ICR_RSVD) {
		ASSERT_EQ(0, r) TH_LOG("ICR %#llx accepted", (unsigned long long)val);
		want = old;
	} else {
		ASSERT_EQ(1, r) TH_LOG("ICR %#llx refused", (unsigned long long)val);
	}
	ASSERT_EQ(want, msr(vcpu, X2APIC_MSR(APIC_ICR)));
	ASSERT_OK(get_lapic(vcpu, &s));
	ASSERT_EQ((__u32)want, lapic_reg(&s, APIC_ICR));
	ASSERT_EQ((__u32)(want >> 32), lapic_reg(&s, APIC_ICR2));
}

TEST_F(x2, icr_self_fixed)
{
	__u64 i;

	for (i = 0; i <= 0xff; i++)
		check_icr(_metadata, self->vcpu, SH_SELF | ICR_LEVEL_ASSERT | i);
	/* BUSY is dropped rather than refused. */
	check_icr(_metadata, self->vcpu, SH_SELF | ICR_LEVEL_ASSERT | ICR_BUSY | 0x40);
}

/* Every delivery mode to absent vCPUs, then with a shorthand. */
TEST_F(x2, icr_absent_dest)
{
	__u64 i, j;

	for (i = 1; i < 0xff; i += 7)
		for (j = 0; j < 8; j++)
			check_icr(_metadata, self->vcpu,
				  i << 32 | ICR_LEVEL_ASSERT | 0xff | j << 8);
	for (j = 0; j < 8; j++)
		check_icr(_metadata, self->vcpu, SH_ALLBUT | ICR_LEVEL_ASSERT | j << 8);
}

TEST_F(x2, icr_reserved)
{
	check_icr(_metadata, self->vcpu, 0xa5a5a5a5a5a5a5a5ull & ~0x700ull);
	check_icr(_metadata, self->vcpu, 0x5a5a5a5a5a5a5a5aull & ~0x700ull);
	check_icr(_metadata, self->vcpu, ~0ull & ~0x700ull);
	check_icr(_metadata, self->vcpu, SH_SELF | 0x2000 | 0x30);
	check_icr(_metadata, self->vcpu, SH_SELF | 0x10000 | 0x30);
	check_icr(_metadata, self->vcpu, SH_SELF | 0x100000 | 0x30);
}

/* A self-IPI through the ICR lands in IRR once the APIC is enabled. */
TEST_F(x2, icr_self_irr)
{
	struct kvm_lapic_state s;

	/* Software-disabled: the fixed IPI is dropped. */
	ASSERT_EQ(1, set_msr(self->vcpu, X2APIC_MSR(APIC_ICR), SH_SELF | ICR_LEVEL_ASSERT | 0x41));
	ASSERT_OK(get_lapic(self->vcpu, &s));
	EXPECT_EQ(0u, lapic_reg(&s, APIC_IRR + 0x20));

	ASSERT_EQ(1, set_msr(self->vcpu, X2APIC_MSR(APIC_SPIV), 0x1ff));
	ASSERT_EQ(1, set_msr(self->vcpu, X2APIC_MSR(APIC_ICR), SH_SELF | ICR_LEVEL_ASSERT | 0x41));
	/* Level-triggered: the TMR bit follows. */
	ASSERT_EQ(1, set_msr(self->vcpu, X2APIC_MSR(APIC_ICR),
			     SH_SELF | ICR_LEVEL_ASSERT | ICR_LEVEL_TRIG | 0x62));
	/* Vectors below 16 are accepted as any other. */
	ASSERT_EQ(1, set_msr(self->vcpu, X2APIC_MSR(APIC_ICR), SH_SELF | ICR_LEVEL_ASSERT | 0x5));
	ASSERT_OK(get_lapic(self->vcpu, &s));
	EXPECT_EQ(1u << 1, lapic_reg(&s, APIC_IRR + 0x20));
	EXPECT_EQ(1u << 2, lapic_reg(&s, APIC_IRR + 0x30));
	EXPECT_EQ(1u << 2, lapic_reg(&s, APIC_TMR + 0x30));
	EXPECT_EQ(0u, lapic_reg(&s, APIC_TMR + 0x20));
	EXPECT_EQ(1u << 5, lapic_reg(&s, APIC_IRR));
	EXPECT_EQ(0u, lapic_reg(&s, APIC_ESR));
}

/* Without 32-bit IDs, the ID given to KVM_SET_LAPIC is ignored. */
TEST_F(x2, id_readonly)
{
	struct kvm_lapic_state s;
	__u32 i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i <= 0xff; i += 0x11) {
		lapic_set_reg(&s, APIC_ID, i << 24);
		lapic_set_reg(&s, APIC_SPIV, APIC_SPIV_ENABLE);
		ASSERT_OK(set_lapic(self->vcpu, &s));
		ASSERT_OK(get_lapic(self->vcpu, &s));
		ASSERT_EQ(0u, lapic_reg(&s, APIC_ID));
		ASSERT_EQ(0ull, msr(self->vcpu, X2APIC_MSR(APIC_ID)));
		/* The LDR is derived from the ID whatever the state says. */
		ASSERT_EQ(1u, lapic_reg(&s, APIC_LDR));
	}
}

static int enable_32bit_ids(int vm)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X2APIC_API,
		.args[0] = KVM_X2APIC_API_USE_32BIT_IDS,
	};

	return ioctl(vm, KVM_ENABLE_CAP, &cap);
}

/* With 32-bit IDs the state carries the real ID and must match it. */
TEST(x2apic_format)
{
	struct kvm_lapic_state s;
	struct lt_vm v;
	int vcpu;

	ASSERT_OK(lt_vm_create(&v, 2));
	ASSERT_OK(enable_32bit_ids(v.vm));
	vcpu = v.vcpu[1];
	ASSERT_OK(set_cpuid_x2apic(vcpu));
	ASSERT_EQ(1, enable_x2apic(vcpu));

	ASSERT_OK(get_lapic(vcpu, &s));
	EXPECT_EQ(1u, lapic_reg(&s, APIC_ID));
	EXPECT_EQ(1u << 1, lapic_reg(&s, APIC_LDR));

	lapic_set_reg(&s, APIC_TASKPRI, 0x20);
	ASSERT_OK(set_lapic(vcpu, &s));
	lapic_set_reg(&s, APIC_ID, 1u << 24);
	lapic_set_reg(&s, APIC_TASKPRI, 0x30);
	ASSERT_ERRNO(set_lapic(vcpu, &s), EINVAL);
	ASSERT_OK(get_lapic(vcpu, &s));
	EXPECT_EQ(1u, lapic_reg(&s, APIC_ID));
	EXPECT_EQ(0x20u, lapic_reg(&s, APIC_TASKPRI));
	lt_vm_destroy(&v);
}

/*
 * A refused KVM_SET_LAPIC leaves the APIC as it was.  KVM applies SPIV
 * before it validates; lapicv validates first (a deliberate divergence).
 */
TEST(refused_state_untouched)
{
	struct kvm_lapic_state s;
	struct lt_vm v;
	int vcpu;

	ASSERT_OK(lt_vm_create(&v, 1));
	REQUIRE_LAPICV();
	ASSERT_OK(enable_32bit_ids(v.vm));
	vcpu = v.vcpu[0];
	ASSERT_OK(set_cpuid_x2apic(vcpu));
	ASSERT_EQ(1, enable_x2apic(vcpu));
	ASSERT_OK(get_lapic(vcpu, &s));
	lapic_set_reg(&s, APIC_ID, 7);
	lapic_set_reg(&s, APIC_SPIV, 0x1ff);
	ASSERT_ERRNO(set_lapic(vcpu, &s), EINVAL);
	ASSERT_OK(get_lapic(vcpu, &s));
	EXPECT_EQ(0xffu, lapic_reg(&s, APIC_SPIV));
	lt_vm_destroy(&v);
}

/* The xAPIC ID and every other register round-trip through SET/GET. */
TEST(xapic_roundtrip)
{
	struct kvm_lapic_state s, t;
	struct lt_vm v;
	int vcpu;

	ASSERT_OK(lt_vm_create(&v, 2));
	vcpu = v.vcpu[1];
	ASSERT_OK(get_lapic(vcpu, &s));
	lapic_set_reg(&s, APIC_ID, 0x42u << 24);
	lapic_set_reg(&s, APIC_LDR, 0x08u << 24);
	lapic_set_reg(&s, APIC_DFR, 0x0fffffff);
	lapic_set_reg(&s, APIC_SPIV, 0x1ff);
	lapic_set_reg(&s, APIC_TASKPRI, 0x30);
	/* PPR is recomputed from TPR (ISR is empty): give the result. */
	lapic_set_reg(&s, APIC_PROCPRI, 0x30);
	lapic_set_reg(&s, APIC_ICR, 0x4041);
	lapic_set_reg(&s, APIC_ICR2, 0x3u << 24);
	lapic_set_reg(&s, APIC_IRR + 0x30, 0x5);
	lapic_set_reg(&s, APIC_TMR + 0x30, 0x4);
	ASSERT_OK(set_lapic(vcpu, &s));
	ASSERT_OK(get_lapic(vcpu, &t));
	EXPECT_EQ(0, memcmp(s.regs, t.regs, sizeof(s.regs)));
	lt_vm_destroy(&v);
}

TEST_HARNESS_MAIN
