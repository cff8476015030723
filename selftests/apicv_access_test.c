// SPDX-License-Identifier: GPL-2.0-only
/*
 * LAPICV_GUEST_ACCESS: a VMM forwards its guest's xAPIC MMIO and x2APIC
 * MSR accesses, with guest semantics: EOI retires the in-service vector,
 * TPR reads back byte-wise, ICR sends an IPI, SELF_IPI targets the
 * sender, MSR accesses outside x2APIC mode fault, MMIO in x2APIC mode
 * reads all ones.  lapicv-only: each test skips on /dev/kvm.
 */
#define _GNU_SOURCE
#include <linux/lapicv.h>

#include "irq_util.h"
#include "lapicv_run.h"

static int msr_read(int vcpu, __u32 off, struct lapicv_guest_access *ga)
{
	return guest_access(vcpu, LAPICV_ACCESS_MSR_READ, X2APIC_MSR(off), 0, 0, ga);
}

static int msr_write(int vcpu, __u32 off, __u64 data,
		     struct lapicv_guest_access *ga)
{
	return guest_access(vcpu, LAPICV_ACCESS_MSR_WRITE, X2APIC_MSR(off), 0, data,
		       ga);
}

static __u64 mmio_read(int vcpu, __u32 off, __u32 size)
{
	struct lapicv_guest_access ga;

	if (guest_access(vcpu, LAPICV_ACCESS_MMIO_READ, off, size, 0, &ga))
		return ~0ull;
	return ga.data;
}

FIXTURE(access) {
	struct irq_vm v;
};

FIXTURE_SETUP(access)
{
	int i;

	REQUIRE_LAPICV();
	memset(&self->v, -1, sizeof(self->v));
	ASSERT_OK(irq_vm_create(&self->v, NULL));
	for (i = 0; i < NR_VCPUS; i++)
		ASSERT_OK(lapic_setup(self->v.vcpu[i], 0, APIC_DFR_FLAT));
}

FIXTURE_TEARDOWN(access)
{
	irq_vm_destroy(&self->v);
}

#define VCPU0	(self->v.vcpu[0])

TEST_F(access, bad_input)
{
	struct lapicv_guest_access ga;

	ASSERT_ERRNO(guest_access(VCPU0, 9, 0x80, 4, 0, &ga), EINVAL);
	ASSERT_ERRNO(guest_access(VCPU0, LAPICV_ACCESS_MMIO_READ, 0x80, 3, 0, &ga),
		     EINVAL);
	ASSERT_ERRNO(guest_access(VCPU0, LAPICV_ACCESS_MMIO_READ, 0x1000, 4, 0, &ga),
		     EINVAL);
	ASSERT_ERRNO(guest_access(VCPU0, LAPICV_ACCESS_MSR_READ, 0x900, 0, 0, &ga),
		     EINVAL);
	ASSERT_ERRNO(guest_access(VCPU0, LAPICV_ACCESS_MMIO_WRITE, 0x80, 4,
				  1ull << 32, &ga), EINVAL);
	memset(&ga, 0, sizeof(ga));
	ga.type = LAPICV_ACCESS_MMIO_READ;
	ga.size = 4;
	ga.reserved[1] = 1;
	ASSERT_ERRNO(ioctl(VCPU0, LAPICV_GUEST_ACCESS, &ga), EINVAL);
	ASSERT_ERRNO(ioctl(VCPU0, LAPICV_GUEST_ACCESS, NULL), EFAULT);
}

/* TPR written as a register, read back whole and byte by byte. */
TEST_F(access, tpr_bytes)
{
	ASSERT_OK(guest_write(VCPU0, APIC_TASKPRI, 0x5a));
	ASSERT_EQ(0x5a, mmio_read(VCPU0, APIC_TASKPRI, 4));
	ASSERT_EQ(0x5a, mmio_read(VCPU0, APIC_TASKPRI, 1));
	ASSERT_EQ(0, mmio_read(VCPU0, APIC_TASKPRI + 1, 1));
	ASSERT_EQ(0x5a, mmio_read(VCPU0, APIC_PROCPRI, 2));
	/* Across the end of the 32-bit register: reads 0. */
	ASSERT_EQ(0, mmio_read(VCPU0, APIC_TASKPRI + 2, 4));
	/* An unaligned write is dropped. */
	ASSERT_OK(guest_write(VCPU0, APIC_TASKPRI + 4, 0x10));
	ASSERT_EQ(0x5a, mmio_read(VCPU0, APIC_TASKPRI, 4));
}

/* MSI -> run step -> guest EOI through MMIO: ISR empty, PPR back to 0. */
TEST_F(access, eoi_retires)
{
	struct kvm_lapic_state l;
	struct lapicv_run r;

	ASSERT_EQ(1, signal_msi(self->v.vm, MSI_ADDR(0), 0, 0x51));
	ASSERT_OK(lapicv_run_step(VCPU0, true, false, &r));
	ASSERT_EQ(0x51, r.vector);
	ASSERT_EQ(0x50, mmio_read(VCPU0, APIC_PROCPRI, 4));
	ASSERT_OK(guest_write(VCPU0, APIC_EOI, 0));
	ASSERT_OK(get_lapic(VCPU0, &l));
	ASSERT_FALSE(lapic_test_vec(&l, APIC_ISR, 0x51));
	ASSERT_EQ(0, lapic_reg(&l, APIC_PROCPRI));
	/* A lower vector now gets through. */
	ASSERT_EQ(1, signal_msi(self->v.vm, MSI_ADDR(0), 0, 0x31));
	ASSERT_OK(lapicv_run_step(VCPU0, true, false, &r));
	ASSERT_EQ(0x31, r.vector);
}

/* A guest ICR write sends a fixed IPI to APIC ID 2. */
TEST_F(access, icr_sends_ipi)
{
	ASSERT_OK(guest_write(VCPU0, APIC_ICR2, 2u << 24));
	ASSERT_OK(guest_write(VCPU0, APIC_ICR, 0x61));
	ASSERT_EQ(1u << 2, irr_mask(&self->v, 0x61));
}

/* MSR accesses fault outside x2APIC mode; in it, MMIO reads all ones. */
TEST_F(access, x2apic_msrs)
{
	struct lapicv_guest_access ga;

	ASSERT_OK(msr_read(VCPU0, APIC_TASKPRI, &ga));
	ASSERT_EQ(1, ga.fault);
	ASSERT_EQ(0, ga.data);

	ASSERT_OK(enter_x2apic(VCPU0, true));
	ASSERT_OK(msr_write(VCPU0, APIC_TASKPRI, 0x20, &ga));
	ASSERT_EQ(0, ga.fault);
	ASSERT_OK(msr_read(VCPU0, APIC_TASKPRI, &ga));
	ASSERT_EQ(0, ga.fault);
	ASSERT_EQ(0x20, ga.data);
	ASSERT_EQ(0xffffffffull, mmio_read(VCPU0, APIC_TASKPRI, 4));
	ASSERT_EQ(0xffull, mmio_read(VCPU0, APIC_TASKPRI, 1));

	/* SELF_IPI: the vector lands in the sender's own IRR. */
	ASSERT_OK(msr_write(VCPU0, APIC_SELF_IPI, 0x71, &ga));
	ASSERT_EQ(0, ga.fault);
	ASSERT_EQ(1u << 0, irr_mask(&self->v, 0x71));
	/* Reserved bits in SELF_IPI fault. */
	ASSERT_OK(msr_write(VCPU0, APIC_SELF_IPI, 0x171, &ga));
	ASSERT_EQ(1, ga.fault);
}

TEST_HARNESS_MAIN
