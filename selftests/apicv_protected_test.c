// SPDX-License-Identifier: GPL-2.0-only
/*
 * Protected-APIC VMs (LAPICV_X86_PROTECTED_APIC_VM, TDX-style
 * guest_apic_protected): the VMM can neither read nor write the guest's
 * APIC, interrupts still reach it through posted interrupts, and a halted
 * vCPU learns of them through the backend's protected_apic_has_interrupt.
 * lapicv-only; only the vmx backend offers the VM type.
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

#define VEC	0x61

static bool protected_offered(int dev)
{
	return check_ext(dev, KVM_CAP_VM_TYPES) &
	       (1 << LAPICV_X86_PROTECTED_APIC_VM);
}

/* The VM type exists exactly when KVM_CAP_VM_TYPES says so. */
TEST(vm_type_follows_cap)
{
	int dev, vm;

	REQUIRE_LAPICV();
	dev = open_dev();
	ASSERT_OK(dev);
	ASSERT_EQ(1, check_ext(dev, KVM_CAP_VM_TYPES) & 1);
	vm = ioctl(dev, KVM_CREATE_VM, LAPICV_X86_PROTECTED_APIC_VM);
	if (protected_offered(dev)) {
		ASSERT_OK(vm);
		close(vm);
	} else {
		ASSERT_EQ(-1, vm);
		ASSERT_EQ(EINVAL, errno);
	}
	EXPECT_ERRNO(ioctl(dev, KVM_CREATE_VM, 64), EINVAL);
	EXPECT_ERRNO(ioctl(dev, KVM_CREATE_VM, ~0ul), EINVAL);
	close(dev);
}

FIXTURE(prot) {
	int dev, vm, vcpu;
};

FIXTURE_SETUP(prot)
{
	REQUIRE_LAPICV();
	self->dev = open_dev();
	ASSERT_OK(self->dev);
	if (!protected_offered(self->dev))
		SKIP(return, "the loaded backend offers no protected-APIC VMs");
	self->vm = ioctl(self->dev, KVM_CREATE_VM,
			 LAPICV_X86_PROTECTED_APIC_VM);
	ASSERT_OK(self->vm);
	ASSERT_OK(vm_enable_split_irqchip(self->vm, SPLIT_IRQCHIP_PINS));
	self->vcpu = vcpu_create(self->vm, 0);
	ASSERT_OK(self->vcpu);
}

FIXTURE_TEARDOWN(prot)
{
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
