// SPDX-License-Identifier: GPL-2.0-only
/*
 * The register file through the x2APIC MSRs (KVM_GET/SET_MSRS) and
 * KVM_GET/SET_LAPIC: which registers read, which writes fail, the bits
 * each register keeps, SPIV's software disable masking the LVTs, the
 * version register, TPR/PPR/ISR and EOI, SELF_IPI and ESR.  Expectations
 * are KVM 6.12's (arch/x86/kvm/lapic.c kvm_lapic_readable_reg_mask(),
 * kvm_lapic_reg_write()).
 */
#include <fcntl.h>

#include "kselftest_harness.h"
#include "lapic_util.h"
#include <linux/lapicv.h>

FIXTURE(regs) {
	struct lt_vm v;
	int vcpu;
};

FIXTURE_SETUP(regs)
{
	ASSERT_OK(lt_vm_create(&self->v, 2));
	self->vcpu = self->v.vcpu[1];
	ASSERT_OK(set_cpuid_x2apic(self->vcpu));
	ASSERT_EQ(1, enable_x2apic(self->vcpu));
	ASSERT_EQ(1, set_msr(self->vcpu, X2APIC_MSR(APIC_SPIV), 0x1ff));
}

FIXTURE_TEARDOWN(regs)
{
	lt_vm_destroy(&self->v);
}

static bool x2apic_readable(__u32 off)
{
	switch (off) {
	case APIC_ID: case APIC_LVR: case APIC_TASKPRI: case APIC_PROCPRI: case APIC_LDR:
	case APIC_SPIV: case APIC_ESR: case APIC_ICR: case APIC_TMICT: case APIC_TMCCT:
	case APIC_TDCR:
		return true;
	}
	return (off >= APIC_ISR && off < APIC_ISR + 0x180) ||
	       (off >= APIC_LVTT && off <= APIC_LVTERR);
}

/* x2APIC has no APR, DFR, ICR2; EOI and SELF_IPI are write-only. */
TEST_F(regs, x2apic_readable)
{
	__u64 v;
	__u32 off;

	for (off = 0; off < 0x1000; off += 0x10) {
		int want = x2apic_readable(off);

		EXPECT_EQ(want, get_msr(self->vcpu, X2APIC_MSR(off), &v))
			TH_LOG("offset %#x", off);
	}
}

TEST_F(regs, x2apic_readonly)
{
	static const __u32 ro[] = {
		APIC_ID, APIC_LVR, APIC_ARBPRI, APIC_PROCPRI, APIC_LDR, APIC_DFR,
		APIC_ISR, APIC_ISR + 0x70, APIC_TMR, APIC_IRR, APIC_IRR + 0x10,
		APIC_TMCCT, APIC_ICR2, APIC_LVTCMCI, 0x0, 0x10, 0x3a0, 0x400, 0xff0,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ro); i++)
		EXPECT_EQ(0, set_msr(self->vcpu, X2APIC_MSR(ro[i]), 0))
			TH_LOG("offset %#x", ro[i]);
	/* Bits 63:32 are reserved in every register but the ICR. */
	EXPECT_EQ(0, set_msr(self->vcpu, X2APIC_MSR(APIC_TASKPRI), 1ull << 32));
	EXPECT_EQ(0, set_msr(self->vcpu, X2APIC_MSR(APIC_EOI), 1ull << 40));
	EXPECT_EQ(1, set_msr(self->vcpu, X2APIC_MSR(APIC_EOI), 0));
}

TEST_F(regs, write_masks)
{
	int vcpu = self->vcpu;

	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_TASKPRI), 0x1ff));
	EXPECT_EQ(0xffull, msr(vcpu, X2APIC_MSR(APIC_TASKPRI)));
	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_TASKPRI), 0));

	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_LVT0), 0xffffffff));
	EXPECT_EQ(0x1f7ffull, msr(vcpu, X2APIC_MSR(APIC_LVT0)));
	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_LVT1), 0xffffffff));
	EXPECT_EQ(0x1f7ffull, msr(vcpu, X2APIC_MSR(APIC_LVT1)));
	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_LVTTHMR), 0xffffffff));
	EXPECT_EQ(0x117ffull, msr(vcpu, X2APIC_MSR(APIC_LVTTHMR)));
	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_LVTPC), 0xffffffff));
	EXPECT_EQ(0x117ffull, msr(vcpu, X2APIC_MSR(APIC_LVTPC)));
	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_LVTERR), 0xffffffff));
	EXPECT_EQ(0x110ffull, msr(vcpu, X2APIC_MSR(APIC_LVTERR)));
	/* TSC-deadline is offered by CPUID, so both mode bits stay. */
	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_LVTT), 0xfffdffff));
	EXPECT_EQ(0x510ffull, msr(vcpu, X2APIC_MSR(APIC_LVTT)));
	/* No CMCI LVT with KVM's default MCG_CAP. */
	EXPECT_EQ(0, set_msr(vcpu, X2APIC_MSR(APIC_LVTCMCI), 0x10));

	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_TDCR), 0xffffffff));
	EXPECT_EQ(0xbull, msr(vcpu, X2APIC_MSR(APIC_TDCR)));
	/* Directed EOI is offered (x2APIC CPUID, split irqchip). */
	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_SPIV), 0xffffffff));
	EXPECT_EQ(0x13ffull, msr(vcpu, X2APIC_MSR(APIC_SPIV)));
}

/* Without TSC-deadline in CPUID only one-shot/periodic remain. */
TEST_F(regs, lvtt_without_tsc_deadline)
{
	int vcpu = self->vcpu;

	ASSERT_OK(set_cpuid(vcpu, CPUID1_ECX_X2APIC, 48));
	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_LVTT), 0xfffdffff));
	EXPECT_EQ(0x110ffull, msr(vcpu, X2APIC_MSR(APIC_LVTT)));
	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_LVTT), 0x200ef));
	EXPECT_EQ(0x200efull, msr(vcpu, X2APIC_MSR(APIC_LVTT)));
}

TEST_F(regs, version)
{
	struct kvm_lapic_state s;

	EXPECT_EQ(0x1050014ull, msr(self->vcpu, X2APIC_MSR(APIC_LVR)));
	/* vCPU 0 has no CPUID: no directed EOI, SPIV bit 12 dropped. */
	ASSERT_OK(get_lapic(self->v.vcpu[0], &s));
	EXPECT_EQ(0x50014u, lapic_reg(&s, APIC_LVR));
	/* KVM_SET_LAPIC cannot change the version. */
	lapic_set_reg(&s, APIC_LVR, 0x12345678);
	ASSERT_OK(set_lapic(self->v.vcpu[0], &s));
	ASSERT_OK(get_lapic(self->v.vcpu[0], &s));
	EXPECT_EQ(0x50014u, lapic_reg(&s, APIC_LVR));
}

/* Clearing SPIV.EN masks every LVT, and keeps new LVT values masked. */
TEST_F(regs, sw_disable_masks_lvts)
{
	int vcpu = self->vcpu;

	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_LVT0), 0x700));
	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_LVTERR), 0xfe));
	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_SPIV), 0xff));
	EXPECT_EQ(0x10700ull, msr(vcpu, X2APIC_MSR(APIC_LVT0)));
	EXPECT_EQ(0x100feull, msr(vcpu, X2APIC_MSR(APIC_LVTERR)));
	EXPECT_EQ(0x10000ull, msr(vcpu, X2APIC_MSR(APIC_LVTT)));
	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_LVT1), 0x400));
	EXPECT_EQ(0x10400ull, msr(vcpu, X2APIC_MSR(APIC_LVT1)));
	/* Re-enabling does not unmask anything. */
	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_SPIV), 0x1ff));
	EXPECT_EQ(0x10700ull, msr(vcpu, X2APIC_MSR(APIC_LVT0)));
}

TEST_F(regs, esr)
{
	EXPECT_EQ(1, set_msr(self->vcpu, X2APIC_MSR(APIC_ESR), 0));
	EXPECT_EQ(0, set_msr(self->vcpu, X2APIC_MSR(APIC_ESR), 1));
	EXPECT_EQ(0ull, msr(self->vcpu, X2APIC_MSR(APIC_ESR)));
}

TEST_F(regs, self_ipi)
{
	struct kvm_lapic_state s;

	EXPECT_EQ(0, set_msr(self->vcpu, X2APIC_MSR(APIC_SELF_IPI), 0x140));
	EXPECT_EQ(1, set_msr(self->vcpu, X2APIC_MSR(APIC_SELF_IPI), 0x40));
	EXPECT_EQ(1, set_msr(self->vcpu, X2APIC_MSR(APIC_SELF_IPI), 0xff));
	ASSERT_OK(get_lapic(self->vcpu, &s));
	EXPECT_EQ(1u, lapic_reg(&s, APIC_IRR + 0x20));
	EXPECT_EQ(1u << 31, lapic_reg(&s, APIC_IRR + 0x70));
	EXPECT_EQ(0u, lapic_reg(&s, APIC_TMR + 0x20));
	EXPECT_EQ(1ull, msr(self->vcpu, X2APIC_MSR(APIC_IRR + 0x20)));
}

/* A Y/N module parameter; false if absent. */
static bool param_on(const char *path)
{
	char c = 'N';
	int fd = open(path, O_RDONLY);

	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = 'N';
		close(fd);
	}
	return c == 'Y' || c == '1';
}

/*
 * Whether a new vCPU starts with APICv active: KVM with enable_apicv
 * (AVIC or APICv on), lapicv with an accelerating backend.
 */
static bool apicv_active_at_create(int vm)
{
	struct lapicv_inhibit_state st;

	if (dev_is_kvm())
		return param_on("/sys/module/kvm_amd/parameters/avic") ||
		       param_on("/sys/module/kvm_intel/parameters/enable_apicv");
	return !ioctl(vm, LAPICV_GET_INHIBITS, &st) && st.apicv_enabled;
}

/*
 * PPR after KVM_SET_LAPIC is computed before the ISR caches are rebuilt,
 * as KVM does.  Without APICv the caches still say "ISR empty", so the
 * page shows PPR = TPR until PPR is read through the MSR (which
 * recomputes it); with APICv active the caches always defer to ISR.  EOI
 * retires the highest ISR.
 */
TEST_F(regs, ppr_isr_eoi)
{
	struct kvm_lapic_state s;
	int vcpu = self->vcpu;

	ASSERT_OK(get_lapic(vcpu, &s));
	lapic_set_reg(&s, APIC_TASKPRI, 0x20);
	lapic_set_reg(&s, APIC_ISR + 0x20, 1u << 16);	/* vector 0x50 */
	lapic_set_reg(&s, APIC_ISR + 0x10, 1u << 1);	/* vector 0x21 */
	ASSERT_OK(set_lapic(vcpu, &s));
	ASSERT_OK(get_lapic(vcpu, &s));
	EXPECT_EQ(apicv_active_at_create(self->v.vm) ? 0x50u : 0x20u,
		  lapic_reg(&s, APIC_PROCPRI));
	EXPECT_EQ(0x50ull, msr(vcpu, X2APIC_MSR(APIC_PROCPRI)));
	ASSERT_OK(get_lapic(vcpu, &s));
	EXPECT_EQ(0x50u, lapic_reg(&s, APIC_PROCPRI));

	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_TASKPRI), 0x71));
	EXPECT_EQ(0x71ull, msr(vcpu, X2APIC_MSR(APIC_PROCPRI)));
	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_TASKPRI), 0x10));
	EXPECT_EQ(0x50ull, msr(vcpu, X2APIC_MSR(APIC_PROCPRI)));

	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_EOI), 0));
	ASSERT_OK(get_lapic(vcpu, &s));
	EXPECT_EQ(0u, lapic_reg(&s, APIC_ISR + 0x20));
	EXPECT_EQ(1u << 1, lapic_reg(&s, APIC_ISR + 0x10));
	EXPECT_EQ(0x20u, lapic_reg(&s, APIC_PROCPRI));

	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_EOI), 0));
	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_EOI), 0));
	ASSERT_OK(get_lapic(vcpu, &s));
	EXPECT_EQ(0u, lapic_reg(&s, APIC_ISR + 0x10));
	EXPECT_EQ(0x10u, lapic_reg(&s, APIC_PROCPRI));
}

/* In xAPIC mode none of the x2APIC MSRs answer. */
TEST_F(regs, xapic_mode_no_msrs)
{
	__u64 v;
	int vcpu = self->v.vcpu[0];

	EXPECT_EQ(0, get_msr(vcpu, X2APIC_MSR(APIC_LVR), &v));
	EXPECT_EQ(0, get_msr(vcpu, X2APIC_MSR(APIC_ID), &v));
	EXPECT_EQ(0, set_msr(vcpu, X2APIC_MSR(APIC_TASKPRI), 0));
	EXPECT_EQ(0, set_msr(vcpu, X2APIC_MSR(APIC_EOI), 0));
}

/* One xAPIC MMIO access through LAPICV_GUEST_ACCESS; returns the data. */
static __u64 mmio(int vcpu, __u32 type, __u32 off, __u32 val)
{
	struct lapicv_guest_access ga = {
		.type = type, .size = 4, .address = off, .data = val,
	};

	return ioctl(vcpu, LAPICV_GUEST_ACCESS, &ga) ? ~0ull : ga.data;
}

#define MMIO_RD(vcpu, off)	mmio(vcpu, LAPICV_ACCESS_MMIO_READ, off, 0)
#define MMIO_WR(vcpu, off, v)	mmio(vcpu, LAPICV_ACCESS_MMIO_WRITE, off, v)

/*
 * xAPIC register writes as a guest makes them, with the masks of KVM's
 * kvm_lapic_reg_write() (lapicv-only: KVM offers no such ioctl; its
 * xapic_state_test checks ICR/ICR2 the same way from guest code).
 */
TEST(xapic_mmio_writes)
{
	struct kvm_lapic_state s;
	struct lt_vm v;
	int vcpu;

	ASSERT_OK(lt_vm_create(&v, 2));
	REQUIRE_LAPICV();
	vcpu = v.vcpu[1];
	MMIO_WR(vcpu, APIC_SPIV, 0x1ff);
	MMIO_WR(vcpu, APIC_ID, 0xabcdef12);
	MMIO_WR(vcpu, APIC_LDR, 0xffffffff);
	MMIO_WR(vcpu, APIC_DFR, 0);
	MMIO_WR(vcpu, APIC_ICR2, 0xffffffff);
	MMIO_WR(vcpu, APIC_ESR, 0x40);
	MMIO_WR(vcpu, APIC_ARBPRI, 0x55);
	MMIO_WR(vcpu, APIC_LVR, 0);
	MMIO_WR(vcpu, APIC_SELF_IPI, 0x40);
	ASSERT_OK(get_lapic(vcpu, &s));
	EXPECT_EQ(0xab000000u, lapic_reg(&s, APIC_ID));
	EXPECT_EQ(0xff000000u, lapic_reg(&s, APIC_LDR));
	EXPECT_EQ(0x0fffffffu, lapic_reg(&s, APIC_DFR));
	EXPECT_EQ(0xff000000u, lapic_reg(&s, APIC_ICR2));
	EXPECT_EQ(0u, lapic_reg(&s, APIC_ESR));
	EXPECT_EQ(0u, lapic_reg(&s, APIC_ARBPRI));
	EXPECT_EQ(0x50014u, lapic_reg(&s, APIC_LVR));
	EXPECT_EQ(0u, lapic_reg(&s, APIC_IRR + 0x20));

	/* A self-IPI through the xAPIC ICR: BUSY never reads back. */
	MMIO_WR(vcpu, APIC_ICR, 0x1000 | SH_SELF | ICR_LEVEL_ASSERT | 0x61);
	ASSERT_OK(get_lapic(vcpu, &s));
	EXPECT_EQ(SH_SELF | ICR_LEVEL_ASSERT | 0x61u, lapic_reg(&s, APIC_ICR));
	EXPECT_EQ(1u << 1, lapic_reg(&s, APIC_IRR + 0x30));
	EXPECT_EQ((__u64)(SH_SELF | ICR_LEVEL_ASSERT | 0x61u), MMIO_RD(vcpu, APIC_ICR));

	/* The arbitration priority reads 0 whatever the page holds. */
	lapic_set_reg(&s, APIC_ARBPRI, 0x77);
	ASSERT_OK(set_lapic(vcpu, &s));
	EXPECT_EQ(0ull, MMIO_RD(vcpu, APIC_ARBPRI));
	EXPECT_EQ(0xff000000ull, MMIO_RD(vcpu, APIC_ICR2));
	EXPECT_EQ(0x0fffffffull, MMIO_RD(vcpu, APIC_DFR));
	/* EOI and SELF_IPI are write-only; reserved offsets read 0. */
	EXPECT_EQ(0ull, MMIO_RD(vcpu, APIC_EOI));
	EXPECT_EQ(0ull, MMIO_RD(vcpu, 0x3a0));
	lt_vm_destroy(&v);
}

TEST_HARNESS_MAIN
