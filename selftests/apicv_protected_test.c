// SPDX-License-Identifier: GPL-2.0-only
/*
 * Protected-APIC VMs (LAPICV_ENABLE_PROTECTED_APIC, TDX-style
 * guest_apic_protected): the VMM can neither read nor write the guest's
 * APIC, through the LAPIC ioctls or the MSRs, interrupts still reach it
 * through posted interrupts, and a halted vCPU learns of them through the
 * backend's protected_apic_has_interrupt.  lapicv-only but for the VM
 * types, which must read as kvm_amd's: only the vmx-model backend offers the
 * request.
 */
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "kselftest_harness.h"
#include "lapicv_util.h"
#include "irq_util.h"
#include "lapicv_run.h"
#include <linux/lapicv.h>

#ifndef KVM_CAP_VM_TYPES
#define KVM_CAP_VM_TYPES	235
#endif
/* Upstream's KVM_X86_TDX_VM, which nothing here may claim to offer. */
#define X86_TDX_VM		5

#define VEC	0x61

/*
 * KVM_CAP_VM_TYPES is the default type alone, as kvm_amd without SEV
 * answers, and type 5 (TDX upstream) is refused as kvm_amd refuses it.
 */
TEST(vm_types_default_only)
{
	int dev;

	dev = open_dev();
	ASSERT_OK(dev);
	EXPECT_EQ(1, check_ext(dev, KVM_CAP_VM_TYPES) & ((1 << X86_TDX_VM) | 1));
	EXPECT_ERRNO(ioctl(dev, KVM_CREATE_VM, X86_TDX_VM), EINVAL);
	EXPECT_ERRNO(ioctl(dev, KVM_CREATE_VM, 64), EINVAL);
	EXPECT_ERRNO(ioctl(dev, KVM_CREATE_VM, ~0ul), EINVAL);
	close(dev);
}

/* Try the request on a new VM: 0 when the backend offers it. */
static int probe_protected(int dev)
{
	int vm = vm_create(dev), r;

	if (vm < 0)
		return -1;
	r = ioctl(vm, LAPICV_ENABLE_PROTECTED_APIC, 0);
	close(vm);
	return r;
}

/*
 * The request: a non-zero argument is refused; before the first vCPU it
 * succeeds on a backend that can answer for a protected APIC (and again
 * when repeated), is refused with EINVAL elsewhere, and once a vCPU
 * exists it is refused with EBUSY.
 */
TEST(enable_protected_apic)
{
	int dev, vm, vcpu;
	bool offered;

	REQUIRE_LAPICV();
	dev = open_dev();
	ASSERT_OK(dev);
	offered = probe_protected(dev) == 0;
	if (!offered)
		ASSERT_EQ(EINVAL, errno);
	vm = vm_create(dev);
	ASSERT_OK(vm);
	EXPECT_ERRNO(ioctl(vm, LAPICV_ENABLE_PROTECTED_APIC, 1), EINVAL);
	if (offered) {
		ASSERT_OK(ioctl(vm, LAPICV_ENABLE_PROTECTED_APIC, 0));
		ASSERT_OK(ioctl(vm, LAPICV_ENABLE_PROTECTED_APIC, 0));
	}
	ASSERT_OK(vm_enable_split_irqchip(vm, SPLIT_IRQCHIP_PINS));
	vcpu = vcpu_create(vm, 0);
	ASSERT_OK(vcpu);
	EXPECT_ERRNO(ioctl(vm, LAPICV_ENABLE_PROTECTED_APIC, 0),
		     offered ? EBUSY : EINVAL);
	close(vcpu);
	close(vm);

	/* A VM that has vCPUs and did not ask stays unprotected. */
	vm = vm_create(dev);
	ASSERT_OK(vm);
	ASSERT_OK(vm_enable_split_irqchip(vm, SPLIT_IRQCHIP_PINS));
	vcpu = vcpu_create(vm, 0);
	ASSERT_OK(vcpu);
	EXPECT_ERRNO(ioctl(vm, LAPICV_ENABLE_PROTECTED_APIC, 0),
		     offered ? EBUSY : EINVAL);
	{
		struct kvm_lapic_state s;

		EXPECT_EQ(0, ioctl(vcpu, KVM_GET_LAPIC, &s));
	}
	close(vcpu);
	close(vm);
	close(dev);
}

FIXTURE(prot) {
	int dev, vm, vcpu, vcpu1;
};

FIXTURE_SETUP(prot)
{
	REQUIRE_LAPICV();
	self->dev = open_dev();
	ASSERT_OK(self->dev);
	if (probe_protected(self->dev))
		SKIP(return, "the loaded backend offers no protected-APIC VMs");
	self->vm = vm_create(self->dev);
	ASSERT_OK(self->vm);
	ASSERT_OK(ioctl(self->vm, LAPICV_ENABLE_PROTECTED_APIC, 0));
	ASSERT_OK(vm_enable_split_irqchip(self->vm, SPLIT_IRQCHIP_PINS));
	self->vcpu = vcpu_create(self->vm, 0);
	ASSERT_OK(self->vcpu);
	self->vcpu1 = vcpu_create(self->vm, 1);
	ASSERT_OK(self->vcpu1);
	/* A started AP: a never-started one waits for INIT in a run step. */
	ASSERT_OK(set_mp_state(self->vcpu1, KVM_MP_STATE_RUNNABLE));
}

FIXTURE_TEARDOWN(prot)
{
	if (self->vcpu1 > 0)
		close(self->vcpu1);
	if (self->vcpu > 0)
		close(self->vcpu);
	if (self->vm > 0)
		close(self->vm);
	close(self->dev);
}

/* The VMM sees nothing of the APIC and cannot reach into it. */
TEST_F(prot, state_refused)
{
	struct lapicv_guest_access ga = {
		.type = LAPICV_ACCESS_MSR_READ,
		.address = X2APIC_MSR(APIC_SPIV),
	};
	struct kvm_lapic_state s;

	memset(&s, 0, sizeof(s));
	EXPECT_ERRNO(ioctl(self->vcpu, KVM_GET_LAPIC, &s), EINVAL);
	EXPECT_ERRNO(ioctl(self->vcpu, KVM_SET_LAPIC, &s), EINVAL);
	EXPECT_ERRNO(ioctl(self->vcpu, LAPICV_GUEST_ACCESS, &ga), EINVAL);
}

/* KVM_GET/SET_MSRS: each APIC entry fails, so the count stops at 0. */
TEST_F(prot, msrs_refused)
{
	static const __u32 msrs[] = {
		MSR_IA32_APICBASE, MSR_IA32_TSC_DEADLINE,
		X2APIC_MSR(APIC_ID), X2APIC_MSR(APIC_TASKPRI),
		X2APIC_MSR(APIC_SPIV), X2APIC_MSR(APIC_IRR),
		X2APIC_MSR(APIC_ISR), X2APIC_MSR(APIC_ICR),
	};
	struct lapicv_run r;
	unsigned int i;
	__u64 data;

	for (i = 0; i < ARRAY_SIZE(msrs); i++) {
		EXPECT_EQ(0, get_msr(self->vcpu, msrs[i], &data))
			TH_LOG("KVM_GET_MSRS 0x%x", msrs[i]);
		EXPECT_EQ(0, set_msr(self->vcpu, msrs[i], 0))
			TH_LOG("KVM_SET_MSRS 0x%x", msrs[i]);
	}
	/* A fixed IPI to vCPU 1 through the ICR is not sent. */
	EXPECT_EQ(0, set_msr(self->vcpu, X2APIC_MSR(APIC_ICR),
			     (1ull << 32) | VEC));
	/* An AP waits for INIT/SIPI in its step: start it running. */
	ASSERT_OK(set_mp_state(self->vcpu1, KVM_MP_STATE_RUNNABLE));
	ASSERT_OK(lapicv_run_step(self->vcpu1, true, false, &r));
	EXPECT_EQ(0u, r.vector);
	EXPECT_EQ(0u, r.pending & LAPICV_RUN_PENDING_APIC);
	/* Nor an EOI, a TPR or a disabled APIC: vCPU 0 still takes an MSI. */
	ASSERT_EQ(1, signal_msi(self->vm, MSI_ADDR(0), 0, VEC));
	ASSERT_OK(lapicv_run_step(self->vcpu, true, false, &r));
	EXPECT_EQ(VEC, r.vector);
}

/* An MSI is posted and delivered virtually at the next run step. */
TEST_F(prot, msi_delivered)
{
	struct lapicv_run r;

	ASSERT_OK(lapicv_run_step(self->vcpu, true, false, &r));
	ASSERT_EQ(LAPICV_RUN_NONE, r.exit_reason);
	/* x2APIC from the start: the MSI names the vCPU's 32-bit ID 0. */
	ASSERT_EQ(1, signal_msi(self->vm, MSI_ADDR(0), 0, VEC));
	ASSERT_OK(lapicv_run_step(self->vcpu, true, false, &r));
	ASSERT_EQ(VEC, r.vector);
	EXPECT_TRUE(r.exit_reason == LAPICV_RUN_VIRTUAL_INTR ||
		    r.exit_reason == LAPICV_RUN_INTR);
}

struct sender {
	int vm;
	unsigned int delay_ms;
};

static void *send_later(void *arg)
{
	struct sender *s = arg;
	struct timespec ts = {
		.tv_sec = s->delay_ms / 1000,
		.tv_nsec = (s->delay_ms % 1000) * 1000000L,
	};

	nanosleep(&ts, NULL);
	signal_msi(s->vm, MSI_ADDR(0), 0, VEC);
	return NULL;
}

/* A halted vCPU is woken by an interrupt it cannot be shown. */
TEST_F(prot, halted_woken)
{
	struct sender s = { .vm = self->vm, .delay_ms = 200 };
	struct lapicv_run r;
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, send_later, &s));
	ASSERT_OK(lapicv_run_step(self->vcpu, true, true, &r));
	pthread_join(t, NULL);
	ASSERT_EQ(VEC, r.vector);
	EXPECT_FALSE(r.halted_out);
}

TEST_HARNESS_MAIN
