// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_SET_GSI_ROUTING and the IOAPIC EOIs of a split irqchip, with the
 * same expectations on /dev/lapicv and /dev/kvm (kvm_amd).
 *
 * KVM reports an EOI to the VMM (KVM_EXIT_IOAPIC_EOI) iff its vector is in
 * the vCPU's ioapic_handled_vectors, which it rescans before entry from
 * the MSI routes of the GSIs below the reserved IOAPIC pins: whatever TMR
 * says at EOI time.  The tests put the vector in service with
 * KVM_SET_LAPIC, EOI it with a host-initiated x2APIC EOI write
 * (KVM_SET_MSRS) and look at the next run: LAPICV_RUN on lapicv, KVM_RUN
 * on KVM, whose guest, parked at the reset vector on a page of
 * "out %al, $0x80", exits with KVM_EXIT_IO when there is nothing to report.
 * Each run before the EOI also lets KVM scan the routes.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/lapicv.h>

#include "irq_util.h"
#include "lapicv_run.h"

#ifndef KVM_CAP_IRQ_ROUTING
#define KVM_CAP_IRQ_ROUTING	25
#endif

#define MAX_ROUTES	4096	/* KVM_MAX_IRQ_ROUTES */
#define LEVEL		(1u << 15)
#define RESET_PAGES	16	/* 64 KiB below 4 GiB: the reset vector */
#define RESET_GPA	0xffff0000ull

TEST(cap_irq_routing)
{
	int dev = open_dev(), vm;

	ASSERT_OK(dev);
	EXPECT_EQ(MAX_ROUTES, check_ext(dev, KVM_CAP_IRQ_ROUTING));
	vm = vm_create_split(dev);
	ASSERT_OK(vm);
	EXPECT_EQ(MAX_ROUTES, check_ext(vm, KVM_CAP_IRQ_ROUTING));
	close(vm);
	close(dev);
}

/* The bounds: no table, a full one, one too many; a split irqchip only. */
TEST(routing_bounds)
{
	struct msi_route *r = calloc(MAX_ROUTES + 1, sizeof(*r));
	int dev = open_dev(), vm, i;

	ASSERT_NE(NULL, r);
	ASSERT_OK(dev);
	for (i = 0; i <= MAX_ROUTES; i++)
		r[i] = (struct msi_route){ .gsi = i, .address_lo = MSI_ADDR(0),
					   .data = 0x30 };
	vm = vm_create(dev);
	ASSERT_OK(vm);
	EXPECT_ERRNO(set_msi_routes(vm, r, 1), EINVAL);	/* no irqchip */
	ASSERT_OK(vm_enable_split_irqchip(vm, SPLIT_IRQCHIP_PINS));
	EXPECT_EQ(0, set_msi_routes(vm, r, 0));
	EXPECT_EQ(0, set_msi_routes(vm, r, MAX_ROUTES));
	EXPECT_ERRNO(set_msi_routes(vm, r, MAX_ROUTES + 1), EINVAL);
	r[0].gsi = MAX_ROUTES;
	EXPECT_ERRNO(set_msi_routes(vm, r, 1), EINVAL);
	close(vm);
	close(dev);
	free(r);
}

FIXTURE(eoi) {
	struct irq_vm v;
	struct kvm_run *run;
	size_t run_size;
	void *mem;
};

FIXTURE_SETUP(eoi)
{
	struct kvm_userspace_memory_region region = {
		.guest_phys_addr = RESET_GPA,
		.memory_size = RESET_PAGES * 4096,
	};
	unsigned char *p;
	int i;

	memset(&self->v, -1, sizeof(self->v));
	self->run = NULL;
	ASSERT_OK(irq_vm_create(&self->v, NULL));
	/* out %al, $0x80 all the way: KVM's guest exits wherever it is. */
	self->mem = mmap(NULL, RESET_PAGES * 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	for (p = self->mem, i = 0; i < RESET_PAGES * 4096; i += 2) {
		p[i] = 0xe6;
		p[i + 1] = 0x80;
	}
	region.userspace_addr = (unsigned long)self->mem;
	ASSERT_OK(ioctl(self->v.vm, KVM_SET_USER_MEMORY_REGION, &region));
	if (dev_is_kvm()) {
		self->run_size = ioctl(self->v.dev, KVM_GET_VCPU_MMAP_SIZE, 0);
		self->run = mmap(NULL, self->run_size, PROT_READ | PROT_WRITE,
				 MAP_SHARED, self->v.vcpu[0], 0);
		ASSERT_NE(MAP_FAILED, self->run);
	}
	/* vCPU 0 (the BSP) in x2APIC mode, software-enabled. */
	ASSERT_OK(enter_x2apic(self->v.vcpu[0], true));
}

FIXTURE_TEARDOWN(eoi)
{
	if (self->run && self->run != MAP_FAILED)
		munmap(self->run, self->run_size);
	irq_vm_destroy(&self->v);
	munmap(self->mem, RESET_PAGES * 4096);
}

#define VCPU0	(self->v.vcpu[0])

/*
 * One run of @vcpu (KVM_RUN with @run mapped, else LAPICV_RUN): the EOI
 * vector it reports, -1 for none, -2 for an unexpected result.
 */
static int run_eoi(int vcpu, struct kvm_run *run)
{
	struct lapicv_run r;

	if (!run) {
		if (lapicv_run_step(vcpu, false, false, &r))
			return -2;
		return r.exit_reason == LAPICV_RUN_IOAPIC_EOI ? (int)r.vector :
		       r.exit_reason == LAPICV_RUN_NONE ? -1 : -2;
	}
	if (ioctl(vcpu, KVM_RUN, 0))
		return -2;
	if (run->exit_reason == KVM_EXIT_IOAPIC_EOI)
		return run->eoi.vector;
	return run->exit_reason == KVM_EXIT_IO ? -1 : -2;
}

#define RUN_EOI()	run_eoi(VCPU0, self->run)

/* Put @vec in service (ISR), with TMR as @level says, IRR clear. */
static int set_in_service(int vcpu, int vec, bool level)
{
	struct kvm_lapic_state s;
	int off = (vec >> 5) * 0x10;
	__u32 bit = 1u << (vec & 31);

	if (get_lapic(vcpu, &s))
		return -1;
	lapic_set_reg(&s, APIC_ISR + off, lapic_reg(&s, APIC_ISR + off) | bit);
	lapic_set_reg(&s, APIC_IRR + off, lapic_reg(&s, APIC_IRR + off) & ~bit);
	lapic_set_reg(&s, APIC_TMR + off, level ?
		      lapic_reg(&s, APIC_TMR + off) | bit :
		      lapic_reg(&s, APIC_TMR + off) & ~bit);
	return set_lapic(vcpu, &s);
}

static int eoi_msr(int vcpu)
{
	return set_msr(vcpu, X2APIC_MSR(APIC_EOI), 0) == 1 ? 0 : -1;
}

/*
 * A routed level vector whose TMR bit an edge message cleared (TMR clear
 * in service): its EOI is reported.  The dead line of issue 10, item 3.
 */
TEST_F(eoi, routed_reported_without_tmr)
{
	const struct msi_route route = {
		.gsi = 2, .address_lo = MSI_ADDR(0), .data = LEVEL | 0x50,
	};

	ASSERT_OK(set_msi_routes(self->v.vm, &route, 1));
	ASSERT_EQ(-1, RUN_EOI());
	ASSERT_OK(set_in_service(VCPU0, 0x50, false));
	ASSERT_OK(eoi_msr(VCPU0));
	EXPECT_EQ(0x50, RUN_EOI());
	EXPECT_EQ(-1, RUN_EOI());
}

/*
 * A level vector of no route (TMR set in service, no table at all): not
 * reported, as a level MSI that has no IOAPIC needs no EOI.
 */
TEST_F(eoi, unrouted_level_not_reported)
{
	ASSERT_EQ(-1, RUN_EOI());
	ASSERT_OK(set_in_service(VCPU0, 0x60, true));
	ASSERT_OK(eoi_msr(VCPU0));
	EXPECT_EQ(-1, RUN_EOI());
}

/*
 * Routes at or past the reserved pins, edge routes and routes to another
 * vCPU are no IOAPIC EOIs of vCPU 0's.
 */
TEST_F(eoi, only_reserved_level_routes_to_the_vcpu)
{
	const struct msi_route routes[] = {
		{ .gsi = SPLIT_IRQCHIP_PINS, .address_lo = MSI_ADDR(0),
		  .data = LEVEL | 0x51 },
		{ .gsi = 1, .address_lo = MSI_ADDR(0), .data = 0x52 },
		{ .gsi = 3, .address_lo = MSI_ADDR(1), .data = LEVEL | 0x53 },
		{ .gsi = 4, .address_lo = MSI_ADDR(0), .data = LEVEL | 0x54 },
	};
	int vec;

	ASSERT_OK(set_msi_routes(self->v.vm, routes, 4));
	ASSERT_EQ(-1, RUN_EOI());
	for (vec = 0x51; vec <= 0x54; vec++) {
		ASSERT_OK(set_in_service(VCPU0, vec, true));
		ASSERT_OK(eoi_msr(VCPU0));
		EXPECT_EQ(vec == 0x54 ? vec : -1, RUN_EOI())
			TH_LOG("vector 0x%x", vec);
	}
}

/*
 * A new table takes effect at the next run: the EOI of a vector routed
 * only by the old table, after a run with the new one, is not reported.
 */
TEST_F(eoi, new_table_rescanned)
{
	const struct msi_route route = {
		.gsi = 2, .address_lo = MSI_ADDR(0), .data = LEVEL | 0x50,
	};

	ASSERT_OK(set_msi_routes(self->v.vm, &route, 1));
	ASSERT_EQ(-1, RUN_EOI());
	ASSERT_OK(set_msi_routes(self->v.vm, NULL, 0));
	ASSERT_EQ(-1, RUN_EOI());
	ASSERT_OK(set_in_service(VCPU0, 0x50, true));
	ASSERT_OK(eoi_msr(VCPU0));
	EXPECT_EQ(-1, RUN_EOI());
}

TEST_HARNESS_MAIN
