// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_SIGNAL_MSI and KVM_CAP_X2APIC_API: MSI decoding, physical and logical
 * (flat, cluster, x2APIC) routing, broadcasts and the x2APIC broadcast
 * quirk, lowest priority by vector hashing, the map's fallbacks when IDs
 * alias, and the ioctl's result (deliveries, 0, or -1 = EPERM).
 *
 * The result tells the fast path (the APIC map decided: 0 when nobody
 * answers) from the slow path (every vCPU matched: -1 when nobody
 * answers), so several tests check both the receivers (IRR bits through
 * KVM_GET_LAPIC) and the count.  Expectations follow kvm_amd in 6.12 with
 * its default vector_hashing=1.
 */
#define _GNU_SOURCE
#include "irq_util.h"

#include <linux/lapicv.h>

FIXTURE(msi) {
	struct irq_vm v;
};

FIXTURE_SETUP(msi)
{
	int i;

	memset(&self->v, -1, sizeof(self->v));
	ASSERT_OK(irq_vm_create(&self->v, NULL));
	/* Software-enable every APIC; LDR 0 keeps them out of logical maps. */
	for (i = 0; i < NR_VCPUS; i++)
		ASSERT_OK(lapic_setup(self->v.vcpu[i], 0, APIC_DFR_FLAT));
}

FIXTURE_TEARDOWN(msi)
{
	irq_vm_destroy(&self->v);
}

#define MSI(lo, hi, data)	signal_msi(self->v.vm, lo, hi, data)

TEST_F(msi, physical_fixed)
{
	int d;

	for (d = 0; d < NR_VCPUS; d++) {
		ASSERT_EQ(1, MSI(MSI_ADDR(d), 0, 0x40 + d));
		ASSERT_EQ(1u << d, irr_mask(&self->v, 0x40 + d));
	}
	/* Nobody has ID 7: the map says so, the result is 0, not -1. */
	ASSERT_EQ(0, MSI(MSI_ADDR(7), 0, 0x50));
	ASSERT_EQ(0, irr_mask(&self->v, 0x50));
}

TEST_F(msi, decoding)
{
	/* Vector 8:0, delivery mode 10:8, trigger 15; other bits ignored. */
	ASSERT_EQ(1, MSI(MSI_ADDR(1) | 0xff0, 0, 0x7f0041));
	ASSERT_EQ(0x2, irr_mask(&self->v, 0x41));
	/* Without 32-bit IDs, address_hi is ignored altogether. */
	ASSERT_EQ(1, MSI(MSI_ADDR(2), 0xffffffff, 0x42));
	ASSERT_EQ(0x4, irr_mask(&self->v, 0x42));
}

/* The trigger mode reaches the destination's TMR. */
TEST_F(msi, level_trigger)
{
	struct kvm_lapic_state s;

	ASSERT_EQ(1, MSI(MSI_ADDR(1), 0, ICR_LEVEL_TRIG | 0x61));
	ASSERT_OK(get_lapic(self->v.vcpu[1], &s));
	ASSERT_TRUE(lapic_test_vec(&s, APIC_IRR, 0x61));
	ASSERT_TRUE(lapic_test_vec(&s, APIC_TMR, 0x61));
	ASSERT_EQ(1, MSI(MSI_ADDR(1), 0, 0x61));
	ASSERT_OK(get_lapic(self->v.vcpu[1], &s));
	ASSERT_FALSE(lapic_test_vec(&s, APIC_TMR, 0x61));
}

/* 0xff is a broadcast: the slow path counts every present APIC. */
TEST_F(msi, broadcast)
{
	ASSERT_EQ(4, MSI(MSI_ADDR(0xff), 0, 0x40));
	ASSERT_EQ(0xf, irr_mask(&self->v, 0x40));
	/* Logical 0xff too, whatever the LDRs. */
	ASSERT_EQ(4, MSI(MSI_ADDR(0xff) | MSI_ADDR_LOGICAL, 0, 0x41));
	ASSERT_EQ(0xf, irr_mask(&self->v, 0x41));
	/* A lowest-priority physical broadcast is delivered as fixed. */
	ASSERT_EQ(4, MSI(MSI_ADDR(0xff), 0, DM_LOWEST | 0x42));
	ASSERT_EQ(0xf, irr_mask(&self->v, 0x42));
}

/* A hardware-disabled APIC is absent: neither in the map nor counted. */
TEST_F(msi, hw_disabled)
{
	ASSERT_EQ(1, set_msr(self->v.vcpu[3], MSR_IA32_APICBASE, 0));
	ASSERT_EQ(3, MSI(MSI_ADDR(0xff), 0, 0x40));
	ASSERT_EQ(0x7, irr_mask(&self->v, 0x40));
	ASSERT_EQ(0, MSI(MSI_ADDR(3), 0, 0x41));
	ASSERT_EQ(0, irr_mask(&self->v, 0x41));
}

/* A software-disabled APIC is a destination that refuses fixed IRQs. */
TEST_F(msi, sw_disabled)
{
	ASSERT_OK(lapic_write(self->v.vcpu[2], APIC_SPIV, 0xff));
	ASSERT_EQ(0, MSI(MSI_ADDR(2), 0, 0x40));
	ASSERT_EQ(3, MSI(MSI_ADDR(0xff), 0, 0x41));
	ASSERT_EQ(0xb, irr_mask(&self->v, 0x41));
	/* NMI is accepted all the same. */
	ASSERT_EQ(1, MSI(MSI_ADDR(2), 0, DM_NMI));
}

/*
 * Two vCPUs with one xAPIC ID: the map is given up and every vCPU is
 * matched, so both get the MSI, and an unused ID yields -1.
 */
TEST_F(msi, physical_alias)
{
	ASSERT_OK(lapic_write(self->v.vcpu[1], APIC_ID, 2u << 24));
	ASSERT_EQ(2, MSI(MSI_ADDR(2), 0, 0x40));
	ASSERT_EQ(0x6, irr_mask(&self->v, 0x40));
	ASSERT_ERRNO(MSI(MSI_ADDR(1), 0, 0x41), EPERM);
	ASSERT_EQ(0, irr_mask(&self->v, 0x41));
	/* Undo the alias: the map is back, ID 1 is again a fast-path 0. */
	ASSERT_OK(lapic_write(self->v.vcpu[1], APIC_ID, 1u << 24));
	ASSERT_EQ(0, MSI(MSI_ADDR(7), 0, 0x42));
	ASSERT_EQ(1, MSI(MSI_ADDR(1), 0, 0x42));
}

/* With 32-bit IDs the first vCPU with an aliased xAPIC ID owns it. */
TEST_F(msi, physical_alias_32bit_ids)
{
	ASSERT_OK(enable_x2apic_api(self->v.vm, KVM_X2APIC_API_USE_32BIT_IDS));
	ASSERT_OK(lapic_write(self->v.vcpu[1], APIC_ID, 2u << 24));
	ASSERT_EQ(1, MSI(MSI_ADDR(2), 0, 0x40));
	ASSERT_EQ(0x2, irr_mask(&self->v, 0x40));
	ASSERT_EQ(0, MSI(MSI_ADDR(1), 0, 0x41));
}

/*
 * Enabling 32-bit IDs does not rebuild the map: the aliased map stays
 * disabled until the next APIC change, as in KVM.
 */
TEST_F(msi, x2apic_api_keeps_map)
{
	ASSERT_OK(lapic_write(self->v.vcpu[1], APIC_ID, 2u << 24));
	ASSERT_OK(enable_x2apic_api(self->v.vm, KVM_X2APIC_API_USE_32BIT_IDS));
	ASSERT_EQ(2, MSI(MSI_ADDR(2), 0, 0x40));
	ASSERT_OK(lapic_setup(self->v.vcpu[0], 0, APIC_DFR_FLAT));
	ASSERT_EQ(1, MSI(MSI_ADDR(2), 0, 0x41));
	ASSERT_EQ(0x2, irr_mask(&self->v, 0x41));
}

static void set_ldrs(struct __test_metadata *_metadata, struct irq_vm *v,
		     const uint32_t *ldr, const uint32_t *dfr)
{
	int i;

	for (i = 0; i < NR_VCPUS; i++)
		ASSERT_OK(lapic_setup(v->vcpu[i], ldr[i] << 24, dfr[i]));
}

static const uint32_t all_flat[NR_VCPUS] = {
	APIC_DFR_FLAT, APIC_DFR_FLAT, APIC_DFR_FLAT, APIC_DFR_FLAT,
};

static const uint32_t all_cluster[NR_VCPUS] = {
	APIC_DFR_CLUSTER, APIC_DFR_CLUSTER, APIC_DFR_CLUSTER, APIC_DFR_CLUSTER,
};

#define LOGICAL(d)	(MSI_ADDR(d) | MSI_ADDR_LOGICAL)

TEST_F(msi, logical_flat)
{
	static const uint32_t ldr[NR_VCPUS] = { 0x01, 0x02, 0x04, 0x08 };

	set_ldrs(_metadata, &self->v, ldr, all_flat);
	ASSERT_EQ(2, MSI(LOGICAL(0x05), 0, 0x40));
	ASSERT_EQ(0x5, irr_mask(&self->v, 0x40));
	ASSERT_EQ(4, MSI(LOGICAL(0x0f), 0, 0x41));
	ASSERT_EQ(0xf, irr_mask(&self->v, 0x41));
	/* Bits nobody owns: the flat map answers 0. */
	ASSERT_EQ(0, MSI(LOGICAL(0x30), 0, 0x42));
	ASSERT_EQ(0, irr_mask(&self->v, 0x42));
}

TEST_F(msi, logical_cluster)
{
	static const uint32_t ldr[NR_VCPUS] = { 0x01, 0x02, 0x11, 0x14 };

	set_ldrs(_metadata, &self->v, ldr, all_cluster);
	ASSERT_EQ(2, MSI(LOGICAL(0x03), 0, 0x40));
	ASSERT_EQ(0x3, irr_mask(&self->v, 0x40));
	ASSERT_EQ(2, MSI(LOGICAL(0x15), 0, 0x41));
	ASSERT_EQ(0xc, irr_mask(&self->v, 0x41));
	ASSERT_EQ(1, MSI(LOGICAL(0x11), 0, 0x42));
	ASSERT_EQ(0x4, irr_mask(&self->v, 0x42));
	ASSERT_EQ(0, MSI(LOGICAL(0x21), 0, 0x43));
	ASSERT_EQ(0, irr_mask(&self->v, 0x43));
}

/* A logical ID on two APICs disables the logical map: slow path. */
TEST_F(msi, logical_alias)
{
	static const uint32_t ldr[NR_VCPUS] = { 0x01, 0x01, 0x02, 0x08 };

	set_ldrs(_metadata, &self->v, ldr, all_flat);
	ASSERT_EQ(2, MSI(LOGICAL(0x01), 0, 0x40));
	ASSERT_EQ(0x3, irr_mask(&self->v, 0x40));
	ASSERT_ERRNO(MSI(LOGICAL(0x04), 0, 0x41), EPERM);
	/* Physical routing still uses the map. */
	ASSERT_EQ(0, MSI(MSI_ADDR(9), 0, 0x42));
}

/* Flat and cluster APICs in one VM: each matches by its own DFR. */
TEST_F(msi, logical_mixed)
{
	static const uint32_t ldr[NR_VCPUS] = { 0x01, 0x02, 0x04, 0x18 };
	static const uint32_t dfr[NR_VCPUS] = {
		APIC_DFR_FLAT, APIC_DFR_FLAT, APIC_DFR_FLAT, APIC_DFR_CLUSTER,
	};

	set_ldrs(_metadata, &self->v, ldr, dfr);
	ASSERT_EQ(2, MSI(LOGICAL(0x03), 0, 0x40));
	ASSERT_EQ(0x3, irr_mask(&self->v, 0x40));
	ASSERT_EQ(1, MSI(LOGICAL(0x18), 0, 0x41));
	ASSERT_EQ(0x8, irr_mask(&self->v, 0x41));
	ASSERT_ERRNO(MSI(LOGICAL(0x40), 0, 0x42), EPERM);
}

/* Lowest priority: candidate number (vector % candidates) wins. */
TEST_F(msi, lowest_prio_hashing)
{
	static const uint32_t ldr[NR_VCPUS] = { 0x01, 0x02, 0x04, 0x08 };
	int vec;

	REQUIRE_HASHING(1);
	set_ldrs(_metadata, &self->v, ldr, all_flat);
	for (vec = 0x40; vec < 0x48; vec++) {
		ASSERT_EQ(1, MSI(LOGICAL(0x0f), 0, DM_LOWEST | vec));
		ASSERT_EQ(1u << (vec % 4), irr_mask(&self->v, vec));
	}
	/* Two candidates: bits 1 and 3. */
	ASSERT_EQ(1, MSI(LOGICAL(0x0a), 0, DM_LOWEST | 0x51));
	ASSERT_EQ(0x8, irr_mask(&self->v, 0x51));
	/* The redirection hint makes a fixed MSI lowest priority. */
	ASSERT_EQ(1, MSI(LOGICAL(0x0f) | MSI_ADDR_RH, 0, 0x52));
	ASSERT_EQ(0x4, irr_mask(&self->v, 0x52));
	/* Physical lowest priority has one candidate. */
	ASSERT_EQ(1, MSI(MSI_ADDR(3), 0, DM_LOWEST | 0x53));
	ASSERT_EQ(0x8, irr_mask(&self->v, 0x53));
}

/*
 * The map hashes over every addressed bit, owned or not: landing on a
 * bit nobody owns drops the interrupt.
 */
TEST_F(msi, lowest_prio_hash_hole)
{
	static const uint32_t ldr[NR_VCPUS] = { 0x01, 0x02, 0x04, 0x08 };

	REQUIRE_HASHING(1);
	set_ldrs(_metadata, &self->v, ldr, all_flat);
	/* Five addressed bits; 0x45 % 5 = 4 is bit 4: nobody. */
	ASSERT_EQ(0, MSI(LOGICAL(0x1f), 0, DM_LOWEST | 0x45));
	ASSERT_EQ(0, irr_mask(&self->v, 0x45));
	/* 0x46 % 5 = 0: vCPU 0. */
	ASSERT_EQ(1, MSI(LOGICAL(0x1f), 0, DM_LOWEST | 0x46));
	ASSERT_EQ(0x1, irr_mask(&self->v, 0x46));
}

/* On the slow path candidates are the matching, enabled vCPUs in order. */
TEST_F(msi, lowest_prio_slow)
{
	/* vCPUs 1 and 2 share bit 1: no logical map. */
	static const uint32_t ldr[NR_VCPUS] = { 0x01, 0x02, 0x02, 0x08 };

	REQUIRE_HASHING(1);
	set_ldrs(_metadata, &self->v, ldr, all_flat);
	ASSERT_EQ(1, MSI(LOGICAL(0x03), 0, DM_LOWEST | 0x40));
	ASSERT_EQ(0x2, irr_mask(&self->v, 0x40));	/* 64 % 3 = 1 */
	ASSERT_EQ(1, MSI(LOGICAL(0x03), 0, DM_LOWEST | 0x41));
	ASSERT_EQ(0x4, irr_mask(&self->v, 0x41));	/* 65 % 3 = 2 */
	/* A software-disabled APIC matches but is no candidate. */
	ASSERT_OK(lapic_write(self->v.vcpu[0], APIC_SPIV, 0xff));
	ASSERT_EQ(1, MSI(LOGICAL(0x03), 0, DM_LOWEST | 0x42));
	ASSERT_EQ(0x2, irr_mask(&self->v, 0x42));	/* 66 % 2 = 0 */
	ASSERT_ERRNO(MSI(LOGICAL(0x01), 0, DM_LOWEST | 0x43), EPERM);
	ASSERT_ERRNO(MSI(LOGICAL(0x10), 0, DM_LOWEST | 0x44), EPERM);
	ASSERT_EQ(0, irr_mask(&self->v, 0x43) | irr_mask(&self->v, 0x44));
}

/*
 * vector_hashing=0: the candidate that accepted the fewest lowest-priority
 * interrupts wins, the first one on a tie; KVM_SET_LAPIC resets the count.
 */
TEST_F(msi, lowest_prio_arbitration)
{
	static const uint32_t ldr[NR_VCPUS] = { 0x01, 0x02, 0x04, 0x08 };
	int vec;

	REQUIRE_HASHING(0);
	set_ldrs(_metadata, &self->v, ldr, all_flat);
	for (vec = 0x40; vec < 0x48; vec++) {
		ASSERT_EQ(1, MSI(LOGICAL(0x0f), 0, DM_LOWEST | vec));
		ASSERT_EQ(1u << (vec - 0x40) % 4, irr_mask(&self->v, vec));
	}
	/* A redirection hint with fixed delivery does not count. */
	ASSERT_EQ(1, MSI(LOGICAL(0x0f) | MSI_ADDR_RH, 0, 0x50));
	ASSERT_EQ(1, MSI(LOGICAL(0x0f) | MSI_ADDR_RH, 0, 0x51));
	ASSERT_EQ(0x1, irr_mask(&self->v, 0x50) | irr_mask(&self->v, 0x51));
	ASSERT_OK(lapic_setup(self->v.vcpu[2], 0x04u << 24, APIC_DFR_FLAT));
	ASSERT_EQ(1, MSI(LOGICAL(0x0f), 0, DM_LOWEST | 0x52));
	ASSERT_EQ(0x4, irr_mask(&self->v, 0x52));
	ASSERT_EQ(1, MSI(LOGICAL(0x0f), 0, DM_LOWEST | 0x53));
	ASSERT_EQ(0x4, irr_mask(&self->v, 0x53));
	ASSERT_EQ(1, MSI(LOGICAL(0x0f), 0, DM_LOWEST | 0x54));
	ASSERT_EQ(0x1, irr_mask(&self->v, 0x54));
}

/* The slow path arbitrates over matching, software-enabled vCPUs. */
TEST_F(msi, lowest_prio_arbitration_slow)
{
	static const uint32_t ldr[NR_VCPUS] = { 0x01, 0x02, 0x02, 0x08 };
	static const uint32_t expect[] = { 0x1, 0x2, 0x4, 0x1, 0x2, 0x4 };
	unsigned int i;

	REQUIRE_HASHING(0);
	set_ldrs(_metadata, &self->v, ldr, all_flat);
	for (i = 0; i < ARRAY_SIZE(expect); i++) {
		ASSERT_EQ(1, MSI(LOGICAL(0x03), 0, DM_LOWEST | (0x40 + i)));
		ASSERT_EQ(expect[i], irr_mask(&self->v, 0x40 + i));
	}
	ASSERT_OK(lapic_write(self->v.vcpu[1], APIC_SPIV, 0xff));
	ASSERT_EQ(1, MSI(LOGICAL(0x03), 0, DM_LOWEST | 0x50));
	ASSERT_EQ(0x1, irr_mask(&self->v, 0x50));
	ASSERT_EQ(1, MSI(LOGICAL(0x03), 0, DM_LOWEST | 0x51));
	ASSERT_EQ(0x4, irr_mask(&self->v, 0x51));
}

/* Non-fixed delivery modes reach the same destinations. */
TEST_F(msi, delivery_modes)
{
	ASSERT_EQ(1, MSI(MSI_ADDR(1), 0, DM_NMI));
	ASSERT_EQ(4, MSI(MSI_ADDR(0xff), 0, DM_NMI));
	ASSERT_EQ(1, MSI(MSI_ADDR(1), 0, DM_SMI));
	/*
	 * ExtINT comes from the PIC, never from a message: every destination
	 * refuses it, so even the slow path's broadcast counts 0, not -1.
	 */
	ASSERT_EQ(0, MSI(MSI_ADDR(1), 0, DM_EXTINT | 0x30));
	ASSERT_EQ(0, MSI(MSI_ADDR(0xff), 0, DM_EXTINT | 0x30));
	ASSERT_EQ(0, irr_mask(&self->v, 0x30));
}

/* With an in-kernel LAPIC, APs start UNINITIALIZED. */
TEST_F(msi, init_sipi)
{
	ASSERT_EQ(KVM_MP_STATE_UNINITIALIZED, get_mp_state(self->v.vcpu[2]));
	ASSERT_EQ(1, MSI(MSI_ADDR(2), 0, DM_INIT));
	ASSERT_EQ(KVM_MP_STATE_INIT_RECEIVED, get_mp_state(self->v.vcpu[2]));
	ASSERT_EQ(KVM_MP_STATE_UNINITIALIZED, get_mp_state(self->v.vcpu[1]));
	ASSERT_EQ(1, MSI(MSI_ADDR(2), 0, DM_SIPI | 0x10));
	ASSERT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(self->v.vcpu[2]));
	/* INIT to the BSP leaves it runnable. */
	ASSERT_EQ(1, MSI(MSI_ADDR(0), 0, DM_INIT));
	ASSERT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(self->v.vcpu[0]));
}

TEST_F(msi, flags)
{
	struct kvm_msi msi = {
		.address_lo = MSI_ADDR(1),
		.data = 0x40,
		.flags = KVM_MSI_VALID_DEVID,
		.devid = 0x1234,
	};

	/* A device id is accepted and plays no part in routing. */
	ASSERT_EQ(1, ioctl(self->v.vm, KVM_SIGNAL_MSI, &msi));
	ASSERT_EQ(0x2, irr_mask(&self->v, 0x40));
	msi.flags = 2;
	ASSERT_ERRNO(ioctl(self->v.vm, KVM_SIGNAL_MSI, &msi), EINVAL);
	msi.flags = ~0u;
	ASSERT_ERRNO(ioctl(self->v.vm, KVM_SIGNAL_MSI, &msi), EINVAL);
	ASSERT_ERRNO(ioctl(self->v.vm, KVM_SIGNAL_MSI, NULL), EFAULT);
}

/*
 * KVM_SET_LAPIC replaces IRR with the state's: a vector signalled before
 * it is gone afterwards, on every backend.  kvm_amd overwrites the IRR
 * bit; with posted interrupts the vector waits outside IRR, and the
 * restore drops it too (KVM on Intel: vmx_apicv_pre_state_restore()).
 * The state is read before the MSI: a GET in between would sync it in.
 */
TEST_F(msi, set_lapic_drops_earlier_msi)
{
	struct kvm_lapic_state s, after;
	int vcpu = self->v.vcpu[1];

	ASSERT_OK(get_lapic(vcpu, &s));
	ASSERT_FALSE(lapic_test_vec(&s, APIC_IRR, 0x62));
	ASSERT_EQ(1, MSI(MSI_ADDR(1), 0, 0x62));
	ASSERT_OK(set_lapic(vcpu, &s));
	ASSERT_OK(get_lapic(vcpu, &after));
	ASSERT_FALSE(lapic_test_vec(&after, APIC_IRR, 0x62));
	ASSERT_EQ(0, irr_mask(&self->v, 0x62));
	/* What is signalled after the restore stays. */
	ASSERT_EQ(1, MSI(MSI_ADDR(1), 0, 0x63));
	ASSERT_EQ(0x2, irr_mask(&self->v, 0x63));
}

/* Without an in-kernel LAPIC there is nothing to signal. */
TEST(msi_without_irqchip)
{
	int dev = open_dev(), vm;

	ASSERT_OK(dev);
	vm = vm_create(dev);
	ASSERT_OK(vm);
	ASSERT_ERRNO(signal_msi(vm, MSI_ADDR(0), 0, 0x40), EINVAL);
	close(vm);
	close(dev);
}

/*
 * The map is rebuilt while a new vCPU is reset, before it is online, so
 * it misses the newest vCPU until the next APIC change; the map then
 * answers 0 for it.  (NMIs are accepted by software-disabled APICs.)
 */
TEST(fresh_vcpus)
{
	struct irq_vm v;
	int d;

	memset(&v, -1, sizeof(v));
	ASSERT_OK(irq_vm_create(&v, NULL));
	for (d = 0; d < NR_VCPUS - 1; d++)
		EXPECT_EQ(1, signal_msi(v.vm, MSI_ADDR(d), 0, DM_NMI));
	EXPECT_EQ(0, signal_msi(v.vm, MSI_ADDR(NR_VCPUS - 1), 0, DM_NMI));
	EXPECT_EQ(NR_VCPUS, signal_msi(v.vm, MSI_ADDR(0xff), 0, DM_NMI));
	ASSERT_OK(lapic_setup(v.vcpu[0], 0, APIC_DFR_FLAT));
	EXPECT_EQ(1, signal_msi(v.vm, MSI_ADDR(NR_VCPUS - 1), 0, DM_NMI));
	irq_vm_destroy(&v);
}

#define MAP_INHIBITS	((1ull << LAPICV_INHIBIT_PHYSICAL_ID_ALIASED) |	\
			 (1ull << LAPICV_INHIBIT_LOGICAL_ID_ALIASED) |	\
			 (1ull << LAPICV_INHIBIT_APIC_ID_MODIFIED))

static uint64_t map_inhibits(struct __test_metadata *_metadata, int vm)
{
	struct lapicv_inhibit_state st;

	EXPECT_EQ(0, ioctl(vm, LAPICV_GET_INHIBITS, &st));
	return st.reasons & MAP_INHIBITS;
}

/*
 * lapicv only: what the map cannot express inhibits APICv, with KVM's
 * three reasons.  Needs a backend that honours them (vmx-model,
 * avic-model).
 */
TEST_F(msi, map_inhibits)
{
	static const uint32_t ldr[NR_VCPUS] = { 0x01, 0x01, 0x02, 0x08 };
	struct lapicv_inhibit_state st;
	int i;

	REQUIRE_LAPICV();
	ASSERT_EQ(0, ioctl(self->v.vm, LAPICV_GET_INHIBITS, &st));
	if ((st.required & MAP_INHIBITS) != MAP_INHIBITS)
		SKIP(return, "the backend honours no APIC map inhibits");

	ASSERT_EQ(0, map_inhibits(_metadata, self->v.vm));
	/* Physical alias: no map at all; vCPU 1's ID is also modified. */
	ASSERT_OK(lapic_write(self->v.vcpu[1], APIC_ID, 2u << 24));
	ASSERT_EQ(MAP_INHIBITS, map_inhibits(_metadata, self->v.vm));
	ASSERT_OK(lapic_write(self->v.vcpu[1], APIC_ID, 1u << 24));
	ASSERT_EQ(0, map_inhibits(_metadata, self->v.vm));
	/* Logical alias only. */
	for (i = 0; i < NR_VCPUS; i++)
		ASSERT_OK(lapic_setup(self->v.vcpu[i], ldr[i] << 24,
				      APIC_DFR_FLAT));
	ASSERT_EQ(1ull << LAPICV_INHIBIT_LOGICAL_ID_ALIASED,
		  map_inhibits(_metadata, self->v.vm));
	/* A changed but unique xAPIC ID. */
	ASSERT_OK(lapic_setup(self->v.vcpu[1], 0x04u << 24, APIC_DFR_FLAT));
	ASSERT_OK(lapic_write(self->v.vcpu[3], APIC_ID, 9u << 24));
	ASSERT_EQ(1ull << LAPICV_INHIBIT_APIC_ID_MODIFIED,
		  map_inhibits(_metadata, self->v.vm));
}

TEST(x2apic_api_caps)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_X2APIC_API };
	int dev = open_dev(), vm;

	ASSERT_OK(dev);
	ASSERT_EQ(3, check_ext(dev, KVM_CAP_X2APIC_API));
	ASSERT_EQ(1, check_ext(dev, KVM_CAP_SIGNAL_MSI));
	vm = vm_create_split(dev);
	ASSERT_OK(vm);
	ASSERT_EQ(3, check_ext(vm, KVM_CAP_X2APIC_API));
	ASSERT_EQ(1, check_ext(vm, KVM_CAP_SIGNAL_MSI));

	ASSERT_ERRNO(enable_x2apic_api(vm, 4), EINVAL);
	ASSERT_ERRNO(enable_x2apic_api(vm, ~0ull), EINVAL);
	cap.flags = 1;
	ASSERT_ERRNO(ioctl(vm, KVM_ENABLE_CAP, &cap), EINVAL);
	ASSERT_EQ(0, enable_x2apic_api(vm, 0));
	/* Allowed with vCPUs, and again. */
	ASSERT_OK(vcpu_create(vm, 0));
	ASSERT_EQ(0, enable_x2apic_api(vm, KVM_X2APIC_API_USE_32BIT_IDS));
	ASSERT_EQ(0, enable_x2apic_api(vm, 3));
	ASSERT_EQ(0, enable_x2apic_api(vm, 0));
	close(vm);
	close(dev);
}

/* With 32-bit IDs, address_hi[31:8] extends the destination. */
TEST_F(msi, extended_dest)
{
	ASSERT_OK(enable_x2apic_api(self->v.vm, KVM_X2APIC_API_USE_32BIT_IDS));
	ASSERT_ERRNO(MSI(MSI_ADDR(1), 0x1, 0x40), EINVAL);
	ASSERT_ERRNO(MSI(MSI_ADDR(1), 0x80, 0x40), EINVAL);
	ASSERT_EQ(0, irr_mask(&self->v, 0x40));
	ASSERT_EQ(1, MSI(MSI_ADDR(1), 0, 0x41));
	ASSERT_EQ(0x2, irr_mask(&self->v, 0x41));
	/* 0x101 is past every ID. */
	ASSERT_EQ(0, MSI(MSI_ADDR(1), 0x100, 0x42));
	ASSERT_EQ(0, irr_mask(&self->v, 0x42));
}

/* vCPU ids 0, 1, 2 and 300: 300 cannot be an xAPIC ID. */
FIXTURE(msi300) {
	struct irq_vm v;
};

FIXTURE_SETUP(msi300)
{
	static const unsigned long ids[NR_VCPUS] = { 0, 1, 2, 300 };

	memset(&self->v, -1, sizeof(self->v));
	ASSERT_OK(irq_vm_create(&self->v, ids));
}

FIXTURE_TEARDOWN(msi300)
{
	irq_vm_destroy(&self->v);
}

static void enable_all(struct __test_metadata *_metadata, struct irq_vm *v)
{
	int i;

	for (i = 0; i < NR_VCPUS; i++)
		ASSERT_OK(lapic_setup(v->vcpu[i], 0, APIC_DFR_FLAT));
}

/* Without 32-bit IDs, vCPU 300 in xAPIC mode answers to 300 & 0xff. */
TEST_F(msi300, truncated_id)
{
	struct kvm_lapic_state s;

	enable_all(_metadata, &self->v);
	ASSERT_OK(get_lapic(self->v.vcpu[3], &s));
	ASSERT_EQ(44u << 24, lapic_reg(&s, APIC_ID));
	ASSERT_EQ(1, signal_msi(self->v.vm, MSI_ADDR(44), 0, 0x40));
	ASSERT_EQ(0x8, irr_mask(&self->v, 0x40));
}

/*
 * With 32-bit IDs the VMM reaches it by its full id through address_hi,
 * while it still answers to its xAPIC ID.
 */
TEST_F(msi300, hotplug_id)
{
	ASSERT_OK(enable_x2apic_api(self->v.vm, KVM_X2APIC_API_USE_32BIT_IDS));
	enable_all(_metadata, &self->v);
	ASSERT_EQ(1, signal_msi(self->v.vm, MSI_ADDR(300 & 0xff), 0x100, 0x40));
	ASSERT_EQ(0x8, irr_mask(&self->v, 0x40));
	ASSERT_EQ(1, signal_msi(self->v.vm, MSI_ADDR(44), 0, 0x41));
	ASSERT_EQ(0x8, irr_mask(&self->v, 0x41));
	/* 301 is past the map (sized for ID 300). */
	ASSERT_EQ(0, signal_msi(self->v.vm, MSI_ADDR(45), 0x100, 0x42));
}

/*
 * x2APIC-mode vCPUs: a device's 0xff is a broadcast for them too unless
 * KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK; then it is physical ID 0xff (or
 * logical cluster 0, APICs 0-7), and only 0xffffffff broadcasts.
 */
FIXTURE(msix2) {
	struct irq_vm v;
};

FIXTURE_SETUP(msix2)
{
	int i;

	memset(&self->v, -1, sizeof(self->v));
	ASSERT_OK(irq_vm_create(&self->v, NULL));
	for (i = 0; i < NR_VCPUS; i++)
		ASSERT_OK(enter_x2apic(self->v.vcpu[i], i == 0));
}

FIXTURE_TEARDOWN(msix2)
{
	irq_vm_destroy(&self->v);
}

TEST_F(msix2, broadcast_quirk)
{
	ASSERT_EQ(4, signal_msi(self->v.vm, MSI_ADDR(0xff), 0, 0x40));
	ASSERT_EQ(0xf, irr_mask(&self->v, 0x40));
	ASSERT_EQ(4, signal_msi(self->v.vm, LOGICAL(0xff), 0, 0x41));
	ASSERT_EQ(0xf, irr_mask(&self->v, 0x41));
}

TEST_F(msix2, broadcast_quirk_disabled)
{
	ASSERT_OK(enable_x2apic_api(self->v.vm,
				    KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK));
	ASSERT_EQ(0, signal_msi(self->v.vm, MSI_ADDR(0xff), 0, 0x40));
	ASSERT_EQ(0, irr_mask(&self->v, 0x40));
	/* Logical cluster 0, bits 0-7: vCPUs 0-3 (x2APIC LDR 1 << id). */
	ASSERT_EQ(4, signal_msi(self->v.vm, LOGICAL(0xff), 0, 0x41));
	ASSERT_EQ(0xf, irr_mask(&self->v, 0x41));
	ASSERT_EQ(2, signal_msi(self->v.vm, LOGICAL(0x05), 0, 0x42));
	ASSERT_EQ(0x5, irr_mask(&self->v, 0x42));
}

/* Two vCPUs back in xAPIC mode: 0xffffffff reaches only x2APIC ones. */
TEST_F(msix2, x2apic_broadcast_mixed)
{
	int i;

	ASSERT_OK(enable_x2apic_api(self->v.vm, 3));
	for (i = 2; i < NR_VCPUS; i++) {
		ASSERT_EQ(1, set_msr(self->v.vcpu[i], MSR_IA32_APICBASE, 0));
		ASSERT_EQ(1, set_msr(self->v.vcpu[i], MSR_IA32_APICBASE,
				     APIC_BASE_DEFAULT | APIC_BASE_EN));
		ASSERT_OK(lapic_setup(self->v.vcpu[i], 0, APIC_DFR_FLAT));
	}
	ASSERT_EQ(2, signal_msi(self->v.vm, MSI_ADDR(0xff), 0xffffff00, 0x40));
	ASSERT_EQ(0x3, irr_mask(&self->v, 0x40));
	/* 0xff is no broadcast with the x2APIC logical map and no quirk. */
	ASSERT_EQ(0, signal_msi(self->v.vm, MSI_ADDR(0xff), 0, 0x41));
	/* Physical 2 is vCPU 2 by its xAPIC ID. */
	ASSERT_EQ(1, signal_msi(self->v.vm, MSI_ADDR(2), 0, 0x42));
	ASSERT_EQ(0x4, irr_mask(&self->v, 0x42));
}

TEST_HARNESS_MAIN
