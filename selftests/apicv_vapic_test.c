// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest memory regions (KVM_SET_USER_MEMORY_REGION) and the vapic page
 * (KVM_SET_VAPIC_ADDR).  The errnos are KVM's and are asserted on both
 * devices; the vapic sync around a run step is lapicv-only (KVM writes
 * the vapic word only when it enters a guest).
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include <linux/lapicv.h>

#include "irq_util.h"

#define PAGE		0x1000ull
#define MEM_PAGES	4
#define GPA		0x100000ull

static int set_region(int vm, __u32 slot, __u32 flags, __u64 gpa,
		      __u64 size, void *hva)
{
	struct kvm_userspace_memory_region mem = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (__u64)(unsigned long)hva,
	};

	return ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mem);
}

static int set_vapic(int vcpu, __u64 gpa)
{
	struct kvm_vapic_addr va = { .vapic_addr = gpa };

	return ioctl(vcpu, KVM_SET_VAPIC_ADDR, &va);
}

FIXTURE(vapic) {
	struct irq_vm v;
	char *mem;
};

FIXTURE_SETUP(vapic)
{
	int i;

	memset(&self->v, -1, sizeof(self->v));
	ASSERT_OK(irq_vm_create(&self->v, NULL));
	for (i = 0; i < NR_VCPUS; i++)
		ASSERT_OK(lapic_setup(self->v.vcpu[i], 0, APIC_DFR_FLAT));
	self->mem = mmap(NULL, MEM_PAGES * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
}

FIXTURE_TEARDOWN(vapic)
{
	irq_vm_destroy(&self->v);
	munmap(self->mem, MEM_PAGES * PAGE);
}

#define VM	(self->v.vm)
#define VCPU0	(self->v.vcpu[0])
#define SIZE	(MEM_PAGES * PAGE)

TEST_F(vapic, region_errors)
{
	char *m = self->mem;

	EXPECT_ERRNO(set_region(VM, 0, 0, GPA, SIZE - 1, m), EINVAL);
	EXPECT_ERRNO(set_region(VM, 0, 0, GPA + 8, SIZE, m), EINVAL);
	EXPECT_ERRNO(set_region(VM, 0, 0, GPA, SIZE, m + 8), EINVAL);
	EXPECT_ERRNO(set_region(VM, 0, 1u << 7, GPA, SIZE, m), EINVAL);
	EXPECT_ERRNO(set_region(VM, 32764, 0, GPA, SIZE, m), EINVAL);
	EXPECT_ERRNO(set_region(VM, 2u << 16, 0, GPA, SIZE, m), EINVAL);
	EXPECT_ERRNO(set_region(VM, 0, 0, ~0ull & ~(PAGE - 1), 2 * PAGE, m),
		     EINVAL);
	/* Deleting a slot that does not exist. */
	EXPECT_ERRNO(set_region(VM, 5, 0, 0, 0, NULL), EINVAL);
}

TEST_F(vapic, region_lifecycle)
{
	char *m = self->mem;

	ASSERT_OK(set_region(VM, 0, 0, GPA, 2 * PAGE, m));
	/* Overlap in the same address space; another space is separate. */
	EXPECT_ERRNO(set_region(VM, 1, 0, GPA + PAGE, 2 * PAGE, m + 2 * PAGE),
		     EEXIST);
	ASSERT_OK(set_region(VM, 1u << 16 | 1, 0, GPA, PAGE, m + 2 * PAGE));
	/* An existing slot may not change size, address or READONLY. */
	EXPECT_ERRNO(set_region(VM, 0, 0, GPA, PAGE, m), EINVAL);
	EXPECT_ERRNO(set_region(VM, 0, 0, GPA, 2 * PAGE, m + 2 * PAGE),
		     EINVAL);
	EXPECT_ERRNO(set_region(VM, 0, KVM_MEM_READONLY, GPA, 2 * PAGE, m),
		     EINVAL);
	/* Unchanged, dirty logging, a move: all fine. */
	ASSERT_OK(set_region(VM, 0, 0, GPA, 2 * PAGE, m));
	ASSERT_OK(set_region(VM, 0, KVM_MEM_LOG_DIRTY_PAGES, GPA, 2 * PAGE, m));
	ASSERT_OK(set_region(VM, 0, KVM_MEM_LOG_DIRTY_PAGES, 2 * GPA, 2 * PAGE,
			     m));
	ASSERT_OK(set_region(VM, 0, 0, 0, 0, NULL));
	EXPECT_ERRNO(set_region(VM, 0, 0, 0, 0, NULL), EINVAL);
}

TEST_F(vapic, vapic_addr_errors)
{
	char *m = self->mem;

	/* No memory there yet. */
	EXPECT_ERRNO(set_vapic(VCPU0, GPA), EINVAL);
	ASSERT_OK(set_region(VM, 0, 0, GPA, PAGE, m));
	ASSERT_OK(set_vapic(VCPU0, GPA + 0x10));
	/* Running off the end of the region. */
	EXPECT_ERRNO(set_vapic(VCPU0, GPA + PAGE - 2), EINVAL);
	ASSERT_OK(set_vapic(VCPU0, 0));
	/* KVM writes the vapic word: a read-only region will not do. */
	ASSERT_OK(set_region(VM, 1, KVM_MEM_READONLY, 2 * GPA, PAGE, m + PAGE));
	EXPECT_ERRNO(set_vapic(VCPU0, 2 * GPA), EINVAL);
}

/* Without the split irqchip there is no LAPIC: KVM's EINVAL. */
TEST(vapic_without_lapic)
{
	int dev, vm, vcpu;

	dev = open_dev();
	ASSERT_OK(dev);
	vm = vm_create(dev);
	ASSERT_OK(vm);
	vcpu = vcpu_create(vm, 0);
	ASSERT_OK(vcpu);
	ASSERT_ERRNO(set_vapic(vcpu, 0), EINVAL);
	close(vcpu);
	close(vm);
	close(dev);
}

/*
 * After a run step the vapic word is TPR | (max ISR & 0xf0) << 8 |
 * max IRR << 24; before one, the guest's TPR comes from its low byte.
 */
TEST_F(vapic, sync_layout)
{
	__u32 *word = (__u32 *)(self->mem + 0x10);
	struct kvm_lapic_state l;
	struct lapicv_run r;

	REQUIRE_LAPICV();
	ASSERT_OK(set_region(VM, 0, 0, GPA, PAGE, self->mem));
	ASSERT_OK(set_vapic(VCPU0, GPA + 0x10));
	ASSERT_EQ(1, signal_msi(VM, MSI_ADDR(0), 0, 0x51));
	ASSERT_EQ(1, signal_msi(VM, MSI_ADDR(0), 0, 0x61));
	memset(&r, 0, sizeof(r));
	r.rflags_if = 1;
	ASSERT_OK(ioctl(VCPU0, LAPICV_RUN, &r));
	ASSERT_EQ(0x61, r.vector);
	ASSERT_EQ(0x51006000u, *word);

	/* The guest raises TPR in the vapic page; the next step adopts it. */
	*word = 0x70;
	memset(&r, 0, sizeof(r));
	ASSERT_OK(ioctl(VCPU0, LAPICV_RUN, &r));
	ASSERT_OK(get_lapic(VCPU0, &l));
	ASSERT_EQ(0x70, lapic_reg(&l, APIC_TASKPRI));
	ASSERT_EQ(0x51006070u, *word);

	/* Address 0 turns the sync off. */
	ASSERT_OK(set_vapic(VCPU0, 0));
	*word = 0;
	ASSERT_OK(ioctl(VCPU0, LAPICV_RUN, &r));
	ASSERT_EQ(0, *word);
}

static __u32 tpr(int vcpu)
{
	struct kvm_lapic_state l;

	if (get_lapic(vcpu, &l))
		return ~0u;
	return lapic_reg(&l, APIC_TASKPRI);
}

static int step(int vcpu)
{
	struct lapicv_run r;

	memset(&r, 0, sizeof(r));
	return ioctl(vcpu, LAPICV_RUN, &r);
}

static int guest_mmio_write(int vcpu, __u32 off, __u32 val)
{
	struct lapicv_guest_access ga = {
		.type = LAPICV_ACCESS_MMIO_WRITE, .size = 4,
		.address = off, .data = val,
	};

	return ioctl(vcpu, LAPICV_GUEST_ACCESS, &ga);
}

/*
 * A TPR the VMM sets between steps (KVM_SET_LAPIC, LAPICV_GUEST_ACCESS,
 * KVM_SET_MSRS) is in the word at once and survives the next step, as in
 * KVM, which writes the word before entry; a TPR the guest writes to the
 * word between steps is still taken, also across a host change that
 * leaves the TPR alone, and loses to a later host TPR change.  Before the
 * fix, each step read back the stale byte the last step left.
 */
TEST_F(vapic, host_tpr_wins)
{
	__u32 *word = (__u32 *)(self->mem + 0x10);
	int vcpu = VCPU0;
	__u64 base;

	REQUIRE_LAPICV();
	ASSERT_OK(set_region(VM, 0, 0, GPA, PAGE, self->mem));
	ASSERT_OK(set_vapic(vcpu, GPA + 0x10));
	ASSERT_OK(step(vcpu));
	ASSERT_EQ(0u, *word & 0xff);

	ASSERT_OK(lapic_write(vcpu, APIC_TASKPRI, 0x30));
	EXPECT_EQ(0x30u, *word & 0xff);
	ASSERT_OK(step(vcpu));
	EXPECT_EQ(0x30u, tpr(vcpu));

	ASSERT_OK(guest_mmio_write(vcpu, APIC_TASKPRI, 0x40));
	EXPECT_EQ(0x40u, *word & 0xff);
	ASSERT_OK(step(vcpu));
	EXPECT_EQ(0x40u, tpr(vcpu));

	/* The guest's own write, then a host change that leaves TPR alone. */
	*word = 0x60;
	ASSERT_EQ(1, get_msr(vcpu, MSR_IA32_APICBASE, &base));
	ASSERT_EQ(1, set_msr(vcpu, MSR_IA32_APICBASE, base));
	EXPECT_EQ(0x60u, *word & 0xff);
	ASSERT_OK(step(vcpu));
	EXPECT_EQ(0x60u, tpr(vcpu));

	/* The guest's write, then a host TPR change: the host's wins. */
	*word = 0x70;
	ASSERT_OK(lapic_write(vcpu, APIC_TASKPRI, 0x20));
	EXPECT_EQ(0x20u, *word & 0xff);
	ASSERT_OK(step(vcpu));
	EXPECT_EQ(0x20u, tpr(vcpu));

	/* x2APIC: the TPR MSR. */
	ASSERT_OK(set_cpuid_x2apic(vcpu));
	ASSERT_OK(enter_x2apic(vcpu, true));
	ASSERT_EQ(1, set_msr(vcpu, X2APIC_MSR(APIC_TASKPRI), 0x50));
	EXPECT_EQ(0x50u, *word & 0xff);
	ASSERT_OK(step(vcpu));
	EXPECT_EQ(0x50u, tpr(vcpu));
}

/* A new vapic address gets the word at once, not the page's old byte. */
TEST_F(vapic, new_address_written)
{
	__u32 *word = (__u32 *)(self->mem + 0x20);

	REQUIRE_LAPICV();
	ASSERT_OK(set_region(VM, 0, 0, GPA, PAGE, self->mem));
	ASSERT_OK(lapic_write(VCPU0, APIC_TASKPRI, 0x20));
	*word = 0xff;
	ASSERT_OK(set_vapic(VCPU0, GPA + 0x20));
	EXPECT_EQ(0x20u, *word & 0xff);
	ASSERT_OK(step(VCPU0));
	EXPECT_EQ(0x20u, tpr(VCPU0));
}

TEST_HARNESS_MAIN
