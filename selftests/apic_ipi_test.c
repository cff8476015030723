// SPDX-License-Identifier: GPL-2.0-only
/*
 * IPIs: the VMM writes a vCPU's x2APIC ICR (MSR 0x830) with KVM_SET_MSRS,
 * which sends the IPI as a guest's WRMSR would.  Four vCPUs in x2APIC mode
 * (ids 0-3, x2APIC LDR = 1 << id in cluster 0); receivers are read back as
 * IRR bits (KVM_GET_LAPIC) and MP states (KVM_GET_MP_STATE).
 *
 * Covers physical and x2APIC-cluster logical destinations, the three
 * shorthands, the x2APIC broadcast, lowest priority by vector hashing
 * (kvm_amd's default), NMI/INIT/SIPI and a mixed xAPIC/x2APIC VM.
 */
#define _GNU_SOURCE
#include "irq_util.h"

#define ICR	X2APIC_MSR(APIC_ICR)

FIXTURE(ipi) {
	struct irq_vm v;
};

FIXTURE_SETUP(ipi)
{
	int i;

	memset(&self->v, -1, sizeof(self->v));
	ASSERT_OK(irq_vm_create(&self->v, NULL));
	for (i = 0; i < NR_VCPUS; i++)
		ASSERT_OK(enter_x2apic(self->v.vcpu[i], i == 0));
}

FIXTURE_TEARDOWN(ipi)
{
	irq_vm_destroy(&self->v);
}

/* ICR write from vCPU @from: 1 when KVM_SET_MSRS took it. */
static int send_ipi(struct irq_vm *v, int from, uint32_t dest, uint32_t low)
{
	return set_msr(v->vcpu[from], ICR, (uint64_t)dest << 32 | low);
}

#define IPI(from, dest, low)	send_ipi(&self->v, from, dest, low)

TEST_F(ipi, x2apic_ldr)
{
	struct kvm_lapic_state s;
	int i;

	for (i = 0; i < NR_VCPUS; i++) {
		ASSERT_OK(get_lapic(self->v.vcpu[i], &s));
		ASSERT_EQ(1u << i, lapic_reg(&s, APIC_LDR));
	}
}

TEST_F(ipi, physical)
{
	int d;

	for (d = 0; d < NR_VCPUS; d++) {
		ASSERT_EQ(1, IPI(0, d, 0x40 + d));
		ASSERT_EQ(1u << d, irr_mask(&self->v, 0x40 + d));
	}
	/* To itself by ID, and from another sender. */
	ASSERT_EQ(1, IPI(3, 3, 0x50));
	ASSERT_EQ(0x8, irr_mask(&self->v, 0x50));
	/* IDs nobody has, inside and past the map. */
	ASSERT_EQ(1, IPI(0, 200, 0x51));
	ASSERT_EQ(1, IPI(0, 0x12345, 0x51));
	ASSERT_EQ(0, irr_mask(&self->v, 0x51));
}

TEST_F(ipi, shorthands)
{
	/* The destination field is ignored with a shorthand. */
	ASSERT_EQ(1, IPI(1, 3, SH_SELF | 0x40));
	ASSERT_EQ(0x2, irr_mask(&self->v, 0x40));
	ASSERT_EQ(1, IPI(1, 3, SH_ALLINC | 0x41));
	ASSERT_EQ(0xf, irr_mask(&self->v, 0x41));
	ASSERT_EQ(1, IPI(1, 3, SH_ALLBUT | 0x42));
	ASSERT_EQ(0xd, irr_mask(&self->v, 0x42));
	ASSERT_EQ(1, IPI(2, 0, SH_ALLBUT | ICR_LOGICAL | 0x43));
	ASSERT_EQ(0xb, irr_mask(&self->v, 0x43));
}

TEST_F(ipi, broadcast)
{
	ASSERT_EQ(1, IPI(0, 0xffffffff, 0x40));
	ASSERT_EQ(0xf, irr_mask(&self->v, 0x40));
	ASSERT_EQ(1, IPI(2, 0xffffffff, ICR_LOGICAL | 0x41));
	ASSERT_EQ(0xf, irr_mask(&self->v, 0x41));
	/* From an x2APIC sender 0xff is just an ID, with or without quirk. */
	ASSERT_EQ(1, IPI(0, 0xff, 0x42));
	ASSERT_EQ(0, irr_mask(&self->v, 0x42));
	ASSERT_OK(enable_x2apic_api(self->v.vm, 3));
	ASSERT_EQ(1, IPI(0, 0xff, 0x43));
	ASSERT_EQ(0, irr_mask(&self->v, 0x43));
	ASSERT_EQ(1, IPI(0, 0xffffffff, 0x44));
	ASSERT_EQ(0xf, irr_mask(&self->v, 0x44));
}

TEST_F(ipi, logical)
{
	/* Cluster 0, bits 1 and 3. */
	ASSERT_EQ(1, IPI(0, 0x0000000a, ICR_LOGICAL | 0x40));
	ASSERT_EQ(0xa, irr_mask(&self->v, 0x40));
	ASSERT_EQ(1, IPI(0, 0x0000ffff, ICR_LOGICAL | 0x41));
	ASSERT_EQ(0xf, irr_mask(&self->v, 0x41));
	/* Cluster 1 is empty, as is every bit past the highest ID. */
	ASSERT_EQ(1, IPI(0, 0x00010001, ICR_LOGICAL | 0x42));
	ASSERT_EQ(1, IPI(0, 0x0000fff0, ICR_LOGICAL | 0x42));
	ASSERT_EQ(1, IPI(0, 0x7fff0001, ICR_LOGICAL | 0x42));
	ASSERT_EQ(0, irr_mask(&self->v, 0x42));
}

/* A software-disabled APIC stays in the x2APIC cluster but refuses. */
TEST_F(ipi, logical_sw_disabled)
{
	ASSERT_EQ(1, set_msr(self->v.vcpu[2], X2APIC_MSR(APIC_SPIV), 0xff));
	ASSERT_EQ(1, IPI(0, 0x0000000f, ICR_LOGICAL | 0x40));
	ASSERT_EQ(0xb, irr_mask(&self->v, 0x40));
	if (vector_hashing()) {
		/* Hashing may land on it: 0x42 % 4 = 2, and the IPI is lost. */
		ASSERT_EQ(1, IPI(0, 0xf, ICR_LOGICAL | DM_LOWEST | 0x42));
		ASSERT_EQ(0, irr_mask(&self->v, 0x42));
		ASSERT_EQ(1, IPI(0, 0xf, ICR_LOGICAL | DM_LOWEST | 0x43));
		ASSERT_EQ(0x8, irr_mask(&self->v, 0x43));
	} else {
		/*
		 * Arbitration skips no one either: vCPU 0, 1, then 2 refuses
		 * (its count still grows), then 3.
		 */
		ASSERT_EQ(1, IPI(0, 0xf, ICR_LOGICAL | DM_LOWEST | 0x42));
		ASSERT_EQ(1, IPI(0, 0xf, ICR_LOGICAL | DM_LOWEST | 0x42));
		ASSERT_EQ(0x3, irr_mask(&self->v, 0x42));
		ASSERT_EQ(1, IPI(0, 0xf, ICR_LOGICAL | DM_LOWEST | 0x43));
		ASSERT_EQ(0, irr_mask(&self->v, 0x43));
		ASSERT_EQ(1, IPI(0, 0xf, ICR_LOGICAL | DM_LOWEST | 0x44));
		ASSERT_EQ(0x8, irr_mask(&self->v, 0x44));
	}
}

TEST_F(ipi, lowest_prio)
{
	int vec;

	REQUIRE_HASHING(1);
	/* Four candidates: vector % 4 picks the vCPU. */
	for (vec = 0x40; vec < 0x48; vec++) {
		ASSERT_EQ(1, IPI(0, 0x0000000f, ICR_LOGICAL | DM_LOWEST | vec));
		ASSERT_EQ(1u << (vec % 4), irr_mask(&self->v, vec));
	}
	/* Bits 0, 2, 3: 0x50 % 3 = 2 is the third, vCPU 3. */
	ASSERT_EQ(1, IPI(1, 0x0000000d, ICR_LOGICAL | DM_LOWEST | 0x50));
	ASSERT_EQ(0x8, irr_mask(&self->v, 0x50));
	/*
	 * The hash counts every addressed bit of the 16-APIC cluster, owned
	 * or not: six bits here, 0x51 % 6 = 3 lands on bit 13 and the IPI
	 * is lost; 0x55 % 6 = 1 is bit 1.
	 */
	ASSERT_EQ(1, IPI(1, 0x0000f003, ICR_LOGICAL | DM_LOWEST | 0x51));
	ASSERT_EQ(0, irr_mask(&self->v, 0x51));
	ASSERT_EQ(1, IPI(1, 0x0000f003, ICR_LOGICAL | DM_LOWEST | 0x55));
	ASSERT_EQ(0x2, irr_mask(&self->v, 0x55));
	/* Physical lowest priority has one candidate. */
	ASSERT_EQ(1, IPI(1, 2, DM_LOWEST | 0x52));
	ASSERT_EQ(0x4, irr_mask(&self->v, 0x52));
	/* Broadcast lowest priority picks one on the slow path. */
	ASSERT_EQ(1, IPI(1, 0xffffffff, DM_LOWEST | 0x53));
	ASSERT_EQ(0x8, irr_mask(&self->v, 0x53));	/* 83 % 4 = 3 */
	/* A shorthand with lowest priority too. */
	ASSERT_EQ(1, IPI(1, 0, SH_ALLBUT | DM_LOWEST | 0x54));
	ASSERT_EQ(0x1, irr_mask(&self->v, 0x54));	/* 84 % 3 = 0 */
}

/* With an in-kernel LAPIC, APs start UNINITIALIZED and the BSP RUNNABLE. */
/* vector_hashing=0: round robin by arbitration priority. */
TEST_F(ipi, lowest_prio_arbitration)
{
	int vec;

	REQUIRE_HASHING(0);
	for (vec = 0x40; vec < 0x48; vec++) {
		ASSERT_EQ(1, IPI(0, 0x0000000f, ICR_LOGICAL | DM_LOWEST | vec));
		ASSERT_EQ(1u << (vec - 0x40) % 4, irr_mask(&self->v, vec));
	}
	/* Broadcast and shorthand go through the slow path's arbitration. */
	ASSERT_EQ(1, IPI(1, 0xffffffff, DM_LOWEST | 0x50));
	ASSERT_EQ(0x1, irr_mask(&self->v, 0x50));
	ASSERT_EQ(1, IPI(1, 0, SH_ALLBUT | DM_LOWEST | 0x51));
	ASSERT_EQ(0x4, irr_mask(&self->v, 0x51));
}

TEST_F(ipi, init_sipi)
{
	ASSERT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(self->v.vcpu[0]));
	ASSERT_EQ(KVM_MP_STATE_UNINITIALIZED, get_mp_state(self->v.vcpu[2]));
	ASSERT_EQ(1, IPI(0, 2, DM_INIT | ICR_LEVEL_ASSERT));
	ASSERT_EQ(KVM_MP_STATE_INIT_RECEIVED, get_mp_state(self->v.vcpu[2]));
	ASSERT_EQ(KVM_MP_STATE_UNINITIALIZED, get_mp_state(self->v.vcpu[3]));
	ASSERT_EQ(1, IPI(0, 2, DM_SIPI | 0x9a));
	ASSERT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(self->v.vcpu[2]));

	/* INIT to everyone else: the APs wait for SIPI. */
	ASSERT_EQ(1, IPI(0, 0, SH_ALLBUT | DM_INIT | ICR_LEVEL_ASSERT));
	ASSERT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(self->v.vcpu[0]));
	ASSERT_EQ(KVM_MP_STATE_INIT_RECEIVED, get_mp_state(self->v.vcpu[1]));
	ASSERT_EQ(KVM_MP_STATE_INIT_RECEIVED, get_mp_state(self->v.vcpu[3]));
	/* A logical SIPI to vCPU 3 only. */
	ASSERT_EQ(1, IPI(0, 0x8, ICR_LOGICAL | DM_SIPI | 0x9a));
	ASSERT_EQ(KVM_MP_STATE_INIT_RECEIVED, get_mp_state(self->v.vcpu[1]));
	ASSERT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(self->v.vcpu[3]));
}

/* A level-triggered INIT de-assert is not delivered. */
TEST_F(ipi, init_deassert)
{
	ASSERT_EQ(1, IPI(0, 2, DM_INIT | ICR_LEVEL_TRIG));
	ASSERT_EQ(KVM_MP_STATE_UNINITIALIZED, get_mp_state(self->v.vcpu[2]));
	ASSERT_EQ(1, IPI(0, 2, DM_INIT | ICR_LEVEL_TRIG | ICR_LEVEL_ASSERT));
	ASSERT_EQ(KVM_MP_STATE_INIT_RECEIVED, get_mp_state(self->v.vcpu[2]));
}

/* vCPU 3 back in xAPIC mode, still reachable from x2APIC senders. */
TEST_F(ipi, mixed_modes)
{
	ASSERT_EQ(1, set_msr(self->v.vcpu[3], MSR_IA32_APICBASE, 0));
	ASSERT_EQ(1, set_msr(self->v.vcpu[3], MSR_IA32_APICBASE,
			     APIC_BASE_DEFAULT | APIC_BASE_EN));
	ASSERT_OK(lapic_setup(self->v.vcpu[3], 0x01u << 24, APIC_DFR_FLAT));

	ASSERT_EQ(1, IPI(0, 3, 0x40));
	ASSERT_EQ(0x8, irr_mask(&self->v, 0x40));
	ASSERT_EQ(1, IPI(0, 0, SH_ALLINC | 0x41));
	ASSERT_EQ(0xf, irr_mask(&self->v, 0x41));
	/* x2APIC broadcast: the xAPIC vCPU does not take 0xffffffff. */
	ASSERT_EQ(1, IPI(0, 0xffffffff, 0x42));
	ASSERT_EQ(0x7, irr_mask(&self->v, 0x42));
	/*
	 * Logical modes differ, so the slow path matches each APIC in its
	 * own mode: x2APIC cluster 0 bit 0 is vCPU 0, and vCPU 3's flat LDR
	 * bit 0 matches the same destination.
	 */
	ASSERT_EQ(1, IPI(0, 0x1, ICR_LOGICAL | 0x43));
	ASSERT_EQ(0x9, irr_mask(&self->v, 0x43));
}

TEST_F(ipi, nmi)
{
	struct kvm_lapic_state s;

	ASSERT_EQ(1, IPI(0, 1, DM_NMI));
	ASSERT_EQ(1, IPI(0, 0, SH_ALLBUT | DM_NMI));
	/* An NMI sets no IRR bit (vector field ignored). */
	ASSERT_EQ(1, IPI(0, 1, DM_NMI | 0x40));
	ASSERT_OK(get_lapic(self->v.vcpu[1], &s));
	ASSERT_FALSE(lapic_test_vec(&s, APIC_IRR, 0x40));
}

TEST_HARNESS_MAIN
