// SPDX-License-Identifier: GPL-2.0-only
/*
 * INIT, SIPI and the MP state: KVM_GET_MP_STATE accepts pending INIT/SIPI
 * first, KVM_SET_MP_STATE's validity rules, INIT and SIPI IPIs sent
 * through the x2APIC ICR, INIT resetting the target's LAPIC, and the
 * KVM_NMI / KVM_INTERRUPT errnos of a split irqchip.  Expectations are
 * KVM 6.12's (x86.c kvm_arch_vcpu_ioctl_{get,set}_mpstate(),
 * kvm_vcpu_ioctl_interrupt(), lapic.c kvm_apic_accept_events()).
 */
#include "kselftest_harness.h"
#include "lapic_util.h"

FIXTURE(mp) {
	struct lt_vm v;
};

/*
 * Four vCPUs in x2APIC mode with their APICs software-enabled; the
 * KVM_SET_LAPIC of each also brings the APIC map up to date.
 */
FIXTURE_SETUP(mp)
{
	struct kvm_lapic_state s;
	int i;

	ASSERT_OK(lt_vm_create(&self->v, 4));
	for (i = 0; i < 4; i++) {
		ASSERT_OK(set_cpuid_x2apic(self->v.vcpu[i]));
		ASSERT_EQ(1, enable_x2apic(self->v.vcpu[i]));
		ASSERT_OK(get_lapic(self->v.vcpu[i], &s));
		lapic_set_reg(&s, APIC_SPIV, 0x1ff);
		ASSERT_OK(set_lapic(self->v.vcpu[i], &s));
	}
}

FIXTURE_TEARDOWN(mp)
{
	lt_vm_destroy(&self->v);
}

static int send_ipi(int vcpu, __u32 dest, __u32 low)
{
	return set_msr(vcpu, X2APIC_MSR(APIC_ICR), (__u64)dest << 32 | low);
}

TEST_F(mp, initial)
{
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(self->v.vcpu[0]));
	EXPECT_EQ(KVM_MP_STATE_UNINITIALIZED, get_mp_state(self->v.vcpu[1]));
	EXPECT_EQ(KVM_MP_STATE_UNINITIALIZED, get_mp_state(self->v.vcpu[3]));
}

TEST_F(mp, set_validity)
{
	int vcpu = self->v.vcpu[1];
	static const __u32 ok[] = {
		KVM_MP_STATE_UNINITIALIZED, KVM_MP_STATE_HALTED,
		KVM_MP_STATE_AP_RESET_HOLD, KVM_MP_STATE_INIT_RECEIVED,
		KVM_MP_STATE_RUNNABLE,
	};
	static const __u32 bad[] = {
		KVM_MP_STATE_STOPPED, KVM_MP_STATE_CHECK_STOP,
		KVM_MP_STATE_OPERATING, KVM_MP_STATE_LOAD,
		KVM_MP_STATE_SUSPENDED, 11, 0x80000000u, ~0u,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		ASSERT_OK(set_mp_state(vcpu, ok[i]));
		EXPECT_EQ((int)ok[i], get_mp_state(vcpu));
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_ERRNO(set_mp_state(vcpu, bad[i]), EINVAL);
		EXPECT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(vcpu));
	}
}

/* SIPI_RECEIVED is stored as INIT_RECEIVED plus a pending SIPI. */
TEST_F(mp, set_sipi_received)
{
	int vcpu = self->v.vcpu[2];

	ASSERT_OK(set_mp_state(vcpu, KVM_MP_STATE_SIPI_RECEIVED));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(vcpu));
}

/* INIT puts an AP in wait-for-SIPI and resets its LAPIC; SIPI starts it. */
TEST_F(mp, init_sipi_ap)
{
	struct kvm_lapic_state s;
	int bsp = self->v.vcpu[0], ap = self->v.vcpu[2];

	ASSERT_EQ(1, set_msr(ap, X2APIC_MSR(APIC_TASKPRI), 0x40));
	ASSERT_EQ(1, set_msr(ap, X2APIC_MSR(APIC_LVTERR), 0xf3));
	ASSERT_OK(set_mp_state(ap, KVM_MP_STATE_RUNNABLE));

	ASSERT_EQ(1, send_ipi(bsp, 2, DM_INIT | ICR_LEVEL_ASSERT));
	EXPECT_EQ(KVM_MP_STATE_INIT_RECEIVED, get_mp_state(ap));
	ASSERT_OK(get_lapic(ap, &s));
	EXPECT_EQ(0u, lapic_reg(&s, APIC_TASKPRI));
	EXPECT_EQ(LVT_MASKED, lapic_reg(&s, APIC_LVTERR));
	EXPECT_EQ(0xffu, lapic_reg(&s, APIC_SPIV));
	/* INIT keeps the APIC base, hence x2APIC mode and its ID. */
	EXPECT_EQ(APIC_BASE_DEFAULT | APIC_BASE_EN | APIC_BASE_EXTD, msr(ap, MSR_IA32_APICBASE));
	EXPECT_EQ(2ull, msr(ap, X2APIC_MSR(APIC_ID)));
	EXPECT_EQ(1ull << 2, msr(ap, X2APIC_MSR(APIC_LDR)));
	EXPECT_EQ(0x1050014ull, msr(ap, X2APIC_MSR(APIC_LVR)));

	ASSERT_EQ(1, send_ipi(bsp, 2, DM_SIPI | ICR_LEVEL_ASSERT | 0x9a));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(ap));
	/* A SIPI outside wait-for-SIPI is dropped. */
	ASSERT_EQ(1, send_ipi(bsp, 2, DM_SIPI | ICR_LEVEL_ASSERT | 0x9b));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(ap));
	ASSERT_OK(set_mp_state(ap, KVM_MP_STATE_INIT_RECEIVED));
	EXPECT_EQ(KVM_MP_STATE_INIT_RECEIVED, get_mp_state(ap));
}

/*
 * The registers change when INIT and SIPI are accepted, also before the
 * VM's first KVM_RUN (KVM's kvm_apic_accept_events() resets the vCPU at
 * once): INIT puts the AP in the INIT state, SIPI sets CS and RIP only,
 * and what the VMM writes in between stays, across later GETs.
 */
TEST_F(mp, init_sipi_registers_before_run)
{
	int bsp = self->v.vcpu[0], ap = self->v.vcpu[2];
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	ASSERT_OK(ioctl(ap, KVM_GET_REGS, &regs));
	regs.rax = 0x1234;
	regs.rip = 0x5555;
	ASSERT_OK(ioctl(ap, KVM_SET_REGS, &regs));
	ASSERT_OK(set_mp_state(ap, KVM_MP_STATE_RUNNABLE));

	ASSERT_EQ(1, send_ipi(bsp, 2, DM_INIT | ICR_LEVEL_ASSERT));
	EXPECT_EQ(KVM_MP_STATE_INIT_RECEIVED, get_mp_state(ap));
	ASSERT_OK(ioctl(ap, KVM_GET_REGS, &regs));
	EXPECT_EQ(0ull, regs.rax);
	EXPECT_EQ(0xfff0ull, regs.rip);
	EXPECT_EQ(2ull, regs.rflags);
	ASSERT_OK(ioctl(ap, KVM_GET_SREGS, &sregs));
	EXPECT_EQ(0xf000, sregs.cs.selector);
	EXPECT_EQ(0xffff0000ull, sregs.cs.base);

	/* The VMM's own value survives SIPI and a second GET. */
	regs.rax = 0x4321;
	ASSERT_OK(ioctl(ap, KVM_SET_REGS, &regs));
	EXPECT_EQ(KVM_MP_STATE_INIT_RECEIVED, get_mp_state(ap));
	ASSERT_EQ(1, send_ipi(bsp, 2, DM_SIPI | ICR_LEVEL_ASSERT | 0x9a));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(ap));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(ap));
	ASSERT_OK(ioctl(ap, KVM_GET_REGS, &regs));
	EXPECT_EQ(0x4321ull, regs.rax);
	EXPECT_EQ(0ull, regs.rip);
	ASSERT_OK(ioctl(ap, KVM_GET_SREGS, &sregs));
	EXPECT_EQ(0x9a00, sregs.cs.selector);
	EXPECT_EQ(0x9a000ull, sregs.cs.base);
}

/* INIT to the BSP resets its LAPIC but leaves it RUNNABLE. */
TEST_F(mp, init_bsp)
{
	struct kvm_lapic_state s;
	int bsp = self->v.vcpu[0];

	ASSERT_EQ(1, set_msr(bsp, X2APIC_MSR(APIC_TASKPRI), 0x40));
	ASSERT_EQ(1, send_ipi(self->v.vcpu[1], 0, DM_INIT | ICR_LEVEL_ASSERT));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(bsp));
	ASSERT_OK(get_lapic(bsp, &s));
	EXPECT_EQ(0u, lapic_reg(&s, APIC_TASKPRI));
	/* The LINT0 quirk applies at INIT too. */
	EXPECT_EQ(0x700u, lapic_reg(&s, APIC_LVT0));
}

/* A level-triggered INIT de-assert does nothing. */
TEST_F(mp, init_deassert)
{
	int ap = self->v.vcpu[3];

	ASSERT_OK(set_mp_state(ap, KVM_MP_STATE_RUNNABLE));
	ASSERT_EQ(1, send_ipi(self->v.vcpu[0], 3, DM_INIT | ICR_LEVEL_TRIG));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(ap));
}

/* INIT to all but self, then a SIPI to all but self. */
TEST_F(mp, init_sipi_broadcast)
{
	int i;

	ASSERT_EQ(1, send_ipi(self->v.vcpu[0], 0, SH_ALLBUT | DM_INIT |
			      ICR_LEVEL_ASSERT));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(self->v.vcpu[0]));
	for (i = 1; i < 4; i++)
		EXPECT_EQ(KVM_MP_STATE_INIT_RECEIVED,
			  get_mp_state(self->v.vcpu[i]));
	ASSERT_EQ(1, send_ipi(self->v.vcpu[0], 0, SH_ALLBUT | DM_SIPI |
			      ICR_LEVEL_ASSERT | 0x10));
	for (i = 1; i < 4; i++)
		EXPECT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(self->v.vcpu[i]));
}

/* An INIT then SIPI pending together are both acted on at once. */
TEST_F(mp, init_then_sipi_pending)
{
	int ap = self->v.vcpu[1];

	ASSERT_EQ(1, send_ipi(self->v.vcpu[0], 1, DM_INIT | ICR_LEVEL_ASSERT));
	ASSERT_EQ(1, send_ipi(self->v.vcpu[0], 1, DM_SIPI | ICR_LEVEL_ASSERT | 1));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(ap));
}

TEST_F(mp, nmi)
{
	EXPECT_EQ(0, ioctl(self->v.vcpu[1], KVM_NMI));
	EXPECT_EQ(0, ioctl(self->v.vcpu[1], KVM_NMI));
}

/* Split irqchip: KVM_INTERRUPT queues one ExtINT vector at a time. */
TEST_F(mp, interrupt)
{
	struct kvm_interrupt irq = { .irq = 256 };
	int vcpu = self->v.vcpu[0];

	EXPECT_ERRNO(ioctl(vcpu, KVM_INTERRUPT, &irq), EINVAL);
	irq.irq = 0x30;
	EXPECT_EQ(0, ioctl(vcpu, KVM_INTERRUPT, &irq));
	irq.irq = 0x31;
	EXPECT_ERRNO(ioctl(vcpu, KVM_INTERRUPT, &irq), EEXIST);
	irq.irq = 256;
	EXPECT_ERRNO(ioctl(vcpu, KVM_INTERRUPT, &irq), EINVAL);
}

TEST_HARNESS_MAIN
