// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of irq.c (the APIC map and interrupt routing), with the real
 * source included, on whole VMs from harness_vm.c.  Deliveries go through
 * the soft backend, so "delivered" means an IRR bit at the target.
 */
#include "../../irq.c"

#include "test.h"
#include "unit_vm.h"

static int wr(struct lapicv_lapic *apic, u32 off, u32 val)
{
	int r;

	mutex_lock(&apic->vcpu->mutex);
	r = lapicv_apic_reg_write(apic, off, val);
	mutex_unlock(&apic->vcpu->mutex);
	return r;
}

static struct lapicv_vm *vm_up(unsigned int n, const struct lapicv_backend *b)
{
	struct lapicv_vm *vm = unit_apic_vm_create(n, b, LAPICV_IRQWIN_COUNTER);
	unsigned int i;

	for (i = 0; vm && i < n; i++)
		wr(unit_apic(vm, i), APIC_SPIV, APIC_SPIV_APIC_ENABLED | 0xff);
	return vm;
}

/* Bit i set: vCPU i has vector vec in IRR. */
static unsigned long irr_has(struct lapicv_vm *vm, int vec)
{
	struct lapicv_vcpu *vcpu;
	unsigned long mask = 0;
	unsigned int i;

	for (i = 0; (vcpu = lapicv_get_vcpu(vm, i)); i++)
		if (lapicv_test_vector(vec, vcpu->apic->regs + APIC_IRR))
			mask |= BIT(i);
	return mask;
}

static int deliver(struct lapicv_vm *vm, u16 dm, u16 dest_mode, u32 dest, int vec)
{
	struct lapicv_irq irq = {
		.vector = vec, .delivery_mode = dm, .dest_mode = dest_mode,
		.level = true, .dest_id = dest, .shorthand = APIC_DEST_NOSHORT,
	};

	return lapicv_irq_delivery_to_apic(vm, NULL, &irq);
}

static bool map_is_null(struct lapicv_vm *vm)
{
	return !rcu_access_pointer(vm->apic_map);
}

static bool test_physical_fixed(void)
{
	struct lapicv_vm *vm = vm_up(4, NULL);

	ASSERT_EQ(deliver(vm, APIC_DM_FIXED, APIC_DEST_PHYSICAL, 2, 0x41), 1);
	ASSERT_EQ(irr_has(vm, 0x41), BIT(2));
	/* Broadcast reaches every present APIC. */
	ASSERT_EQ(deliver(vm, APIC_DM_FIXED, APIC_DEST_PHYSICAL, 0xff, 0x42), 4);
	ASSERT_EQ(irr_has(vm, 0x42), 0xf);
	/* Nobody at ID 7: the map answers "no one". */
	ASSERT_EQ(deliver(vm, APIC_DM_FIXED, APIC_DEST_PHYSICAL, 7, 0x43), 0);
	ASSERT_EQ(irr_has(vm, 0x43), 0);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_logical_flat(void)
{
	struct lapicv_vm *vm = vm_up(4, NULL);
	unsigned int i;

	for (i = 0; i < 4; i++)
		wr(unit_apic(vm, i), APIC_LDR, BIT(i) << 24);
	ASSERT_EQ(rcu_access_pointer(vm->apic_map)->logical_mode,
		  LAPICV_APIC_MODE_XAPIC_FLAT);
	ASSERT_EQ(deliver(vm, APIC_DM_FIXED, APIC_DEST_LOGICAL, 0x05, 0x50), 2);
	ASSERT_EQ(irr_has(vm, 0x50), BIT(0) | BIT(2));
	ASSERT_EQ(deliver(vm, APIC_DM_FIXED, APIC_DEST_LOGICAL, 0xff, 0x51), 4);
	ASSERT_EQ(deliver(vm, APIC_DM_FIXED, APIC_DEST_LOGICAL, 0x30, 0x52), 0);
	ASSERT_EQ(irr_has(vm, 0x52), 0);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_logical_cluster(void)
{
	struct lapicv_vm *vm = vm_up(4, NULL);
	unsigned int i;

	/* Cluster 1 holds vCPUs 0 and 1, cluster 2 vCPUs 2 and 3. */
	for (i = 0; i < 4; i++) {
		wr(unit_apic(vm, i), APIC_DFR, APIC_DFR_CLUSTER);
		wr(unit_apic(vm, i), APIC_LDR, (((1 + i / 2) << 4) | BIT(i % 2)) << 24);
	}
	ASSERT_EQ(rcu_access_pointer(vm->apic_map)->logical_mode,
		  LAPICV_APIC_MODE_XAPIC_CLUSTER);
	ASSERT_EQ(deliver(vm, APIC_DM_FIXED, APIC_DEST_LOGICAL, 0x13, 0x60), 2);
	ASSERT_EQ(irr_has(vm, 0x60), BIT(0) | BIT(1));
	ASSERT_EQ(deliver(vm, APIC_DM_FIXED, APIC_DEST_LOGICAL, 0x22, 0x61), 1);
	ASSERT_EQ(irr_has(vm, 0x61), BIT(3));
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_mixed_logical_modes_take_slow_path(void)
{
	struct lapicv_vm *vm = vm_up(2, NULL);

	wr(unit_apic(vm, 0), APIC_LDR, BIT(0) << 24);
	wr(unit_apic(vm, 1), APIC_DFR, APIC_DFR_CLUSTER);
	wr(unit_apic(vm, 1), APIC_LDR, 0x11 << 24);
	ASSERT_EQ(rcu_access_pointer(vm->apic_map)->logical_mode,
		  LAPICV_APIC_MODE_MAP_DISABLED);
	/* Each APIC matches with its own DFR model. */
	ASSERT_EQ(deliver(vm, APIC_DM_FIXED, APIC_DEST_LOGICAL, 0x01, 0x70), 1);
	ASSERT_EQ(irr_has(vm, 0x70), BIT(0));
	ASSERT_EQ(deliver(vm, APIC_DM_FIXED, APIC_DEST_LOGICAL, 0x11, 0x71), 2);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_lowest_priority_picks_one(void)
{
	struct lapicv_vm *vm = vm_up(4, NULL);
	unsigned int i;
	int vec;

	for (i = 0; i < 4; i++)
		wr(unit_apic(vm, i), APIC_LDR, BIT(i) << 24);
	for (vec = 0x80; vec < 0x90; vec++) {
		ASSERT_EQ(deliver(vm, APIC_DM_LOWEST, APIC_DEST_LOGICAL, 0x0f, vec), 1);
		ASSERT_EQ(hweight_long(irr_has(vm, vec)), 1);
		/* Vector hashing: the same vector always lands alike. */
		ASSERT_EQ(deliver(vm, APIC_DM_LOWEST, APIC_DEST_LOGICAL, 0x0f, vec), 1);
		ASSERT_EQ(hweight_long(irr_has(vm, vec)), 1);
	}
	/* Physical lowest priority to one ID is plain delivery. */
	ASSERT_EQ(deliver(vm, APIC_DM_LOWEST, APIC_DEST_PHYSICAL, 3, 0x91), 1);
	ASSERT_EQ(irr_has(vm, 0x91), BIT(3));
	unit_apic_vm_destroy(vm);
	return true;
}

/* An APIC backend that honours every inhibit, delivering like soft. */
static struct lapicv_backend inhibit_backend;

static bool test_alias_fallback_and_inhibits(void)
{
	struct lapicv_vm *vm;

	inhibit_backend = lapicv_soft_backend;
	inhibit_backend.name = "unit";
	inhibit_backend.apicv = true;
	inhibit_backend.required_apicv_inhibits = UNIT_ALL_INHIBITS;
	vm = vm_up(3, &inhibit_backend);
	ASSERT_FALSE(map_is_null(vm));
	ASSERT_EQ(READ_ONCE(vm->inhibits.reasons), 0);

	/* vCPU 1 takes vCPU 0's xAPIC ID: no map, slow path, inhibited. */
	ASSERT_EQ(wr(unit_apic(vm, 1), APIC_ID, 0), 0);
	ASSERT_TRUE(map_is_null(vm));
	ASSERT_EQ(READ_ONCE(vm->inhibits.reasons),
		  BIT(LAPICV_INHIBIT_PHYSICAL_ID_ALIASED) |
		  BIT(LAPICV_INHIBIT_LOGICAL_ID_ALIASED) |
		  BIT(LAPICV_INHIBIT_APIC_ID_MODIFIED));
	ASSERT_EQ(deliver(vm, APIC_DM_FIXED, APIC_DEST_PHYSICAL, 0, 0x44), 2);
	ASSERT_EQ(irr_has(vm, 0x44), BIT(0) | BIT(1));
	/* The slow path finding nobody says so with -1. */
	ASSERT_EQ(deliver(vm, APIC_DM_FIXED, APIC_DEST_PHYSICAL, 9, 0x45), -1);

	/* A unique but changed ID: a map again, still "modified". */
	ASSERT_EQ(wr(unit_apic(vm, 1), APIC_ID, 5 << 24), 0);
	ASSERT_FALSE(map_is_null(vm));
	ASSERT_EQ(READ_ONCE(vm->inhibits.reasons),
		  BIT(LAPICV_INHIBIT_APIC_ID_MODIFIED));
	ASSERT_EQ(deliver(vm, APIC_DM_FIXED, APIC_DEST_PHYSICAL, 5, 0x46), 1);
	ASSERT_EQ(irr_has(vm, 0x46), BIT(1));
	/* Back to its own ID: nothing left to inhibit APICv. */
	ASSERT_EQ(wr(unit_apic(vm, 1), APIC_ID, 1 << 24), 0);
	ASSERT_EQ(READ_ONCE(vm->inhibits.reasons), 0);
	/* Every replaced map waits for a grace period, then is freed. */
	ASSERT_GT(shim_rcu_pending(), 0);
	shim_rcu_flush();
	ASSERT_EQ(shim_rcu_pending(), 0);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_hw_disabled_apic_is_absent(void)
{
	struct lapicv_vm *vm = vm_up(4, NULL);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 3);

	mutex_lock(&v->mutex);
	ASSERT_EQ(lapicv_apic_set_base(v, APIC_DEFAULT_PHYS_BASE, true), 0);
	mutex_unlock(&v->mutex);
	ASSERT_EQ(deliver(vm, APIC_DM_FIXED, APIC_DEST_PHYSICAL, 3, 0x48), 0);
	ASSERT_EQ(deliver(vm, APIC_DM_FIXED, APIC_DEST_PHYSICAL, 0xff, 0x49), 3);
	ASSERT_EQ(irr_has(vm, 0x49), 0x7);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_ipi_shorthands(void)
{
	struct lapicv_vm *vm = vm_up(4, NULL);
	struct lapicv_lapic *src = unit_apic(vm, 1);

	lapicv_apic_send_ipi(src, APIC_DEST_SELF | 0x90, 0);
	ASSERT_EQ(irr_has(vm, 0x90), BIT(1));
	lapicv_apic_send_ipi(src, APIC_DEST_ALLBUT | 0x91, 0);
	ASSERT_EQ(irr_has(vm, 0x91), BIT(0) | BIT(2) | BIT(3));
	lapicv_apic_send_ipi(src, APIC_DEST_ALLINC | 0x92, 0);
	ASSERT_EQ(irr_has(vm, 0x92), 0xf);
	/* No shorthand: ICR2[31:24] in xAPIC mode. */
	lapicv_apic_send_ipi(src, 0x93, 2 << 24);
	ASSERT_EQ(irr_has(vm, 0x93), BIT(2));
	/* An NMI IPI queues an NMI, no IRR bit. */
	lapicv_apic_send_ipi(src, APIC_DM_NMI, 3 << 24);
	ASSERT_EQ(atomic_read(&lapicv_get_vcpu(vm, 3)->events.nmi_queued), 1);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_match_dest(void)
{
	struct lapicv_vm *vm = vm_up(2, NULL);
	struct lapicv_lapic *a = unit_apic(vm, 0), *b = unit_apic(vm, 1);

	wr(b, APIC_LDR, BIT(3) << 24);
	ASSERT_TRUE(lapicv_apic_match_dest(b, NULL, APIC_DEST_NOSHORT, 1, APIC_DEST_PHYSICAL));
	ASSERT_FALSE(lapicv_apic_match_dest(b, NULL, APIC_DEST_NOSHORT, 0, APIC_DEST_PHYSICAL));
	ASSERT_TRUE(lapicv_apic_match_dest(b, NULL, APIC_DEST_NOSHORT, 0xff, APIC_DEST_PHYSICAL));
	ASSERT_TRUE(lapicv_apic_match_dest(b, NULL, APIC_DEST_NOSHORT, 0x08, APIC_DEST_LOGICAL));
	ASSERT_FALSE(lapicv_apic_match_dest(b, NULL, APIC_DEST_NOSHORT, 0x07, APIC_DEST_LOGICAL));
	ASSERT_TRUE(lapicv_apic_match_dest(a, a, APIC_DEST_SELF, 0, 0));
	ASSERT_FALSE(lapicv_apic_match_dest(b, a, APIC_DEST_SELF, 0, 0));
	ASSERT_FALSE(lapicv_apic_match_dest(a, a, APIC_DEST_ALLBUT, 0, 0));
	ASSERT_TRUE(lapicv_apic_match_dest(b, a, APIC_DEST_ALLBUT, 0, 0));
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_signal_msi(void)
{
	struct lapicv_vm *vm = vm_up(4, NULL);
	struct kvm_msi msi = {
		.address_lo = 0xfee00000 | (2 << 12),
		.data = 0x35,
	};

	ASSERT_EQ(lapicv_signal_msi(vm, &msi), 1);
	ASSERT_EQ(irr_has(vm, 0x35), BIT(2));
	/* KVM_MSI_VALID_DEVID is accepted (and ignored), nothing else. */
	msi.flags = KVM_MSI_VALID_DEVID;
	ASSERT_EQ(lapicv_signal_msi(vm, &msi), 1);
	msi.flags = 2;
	ASSERT_EQ(lapicv_signal_msi(vm, &msi), -EINVAL);
	msi.flags = 0;
	/* Level-triggered, logical destination 0x0a in flat mode. */
	wr(unit_apic(vm, 1), APIC_LDR, BIT(1) << 24);
	wr(unit_apic(vm, 3), APIC_LDR, BIT(3) << 24);
	msi.address_lo = 0xfee00000 | (0x0a << 12) | BIT(2);
	msi.data = 0x36 | BIT(15) | BIT(14);
	ASSERT_EQ(lapicv_signal_msi(vm, &msi), 2);
	ASSERT_EQ(irr_has(vm, 0x36), BIT(1) | BIT(3));
	ASSERT_TRUE(lapicv_test_vector(0x36, unit_apic(vm, 3)->regs + APIC_TMR));
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_x2apic_logical_clusters(void)
{
	struct lapicv_vm *vm = vm_up(20, NULL);
	u64 base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE;
	unsigned int i;

	for (i = 0; i < 20; i++) {
		struct lapicv_vcpu *v = lapicv_get_vcpu(vm, i);

		v->apic->cpuid_x2apic = true;
		mutex_lock(&v->mutex);
		ASSERT_EQ(lapicv_apic_set_base(v, base, true), 0);
		mutex_unlock(&v->mutex);
	}
	ASSERT_EQ(rcu_access_pointer(vm->apic_map)->logical_mode,
		  LAPICV_APIC_MODE_X2APIC);
	/* Cluster 1 (IDs 16..31), bits 0 and 3: vCPUs 16 and 19. */
	ASSERT_EQ(deliver(vm, APIC_DM_FIXED, APIC_DEST_LOGICAL, (1 << 16) | 0x9, 0xa0), 2);
	ASSERT_EQ(irr_has(vm, 0xa0), BIT(16) | BIT(19));
	/* Bits past the last vCPU of the cluster address nobody. */
	ASSERT_EQ(deliver(vm, APIC_DM_FIXED, APIC_DEST_LOGICAL, (1 << 16) | 0x8000, 0xa1), 0);
	/*
	 * Broadcast: a device cannot name 0xffffffff, so its 0xff counts as
	 * one (KVM's broadcast quirk); an x2APIC IPI uses 0xffffffff.
	 */
	ASSERT_EQ(deliver(vm, APIC_DM_FIXED, APIC_DEST_PHYSICAL, 0xff, 0xa2), 20);
	ASSERT_EQ(irr_has(vm, 0xa2), BIT(20) - 1);
	lapicv_apic_send_ipi(unit_apic(vm, 0), 0xa3, 0xffffffff);
	ASSERT_EQ(irr_has(vm, 0xa3), BIT(20) - 1);
	unit_apic_vm_destroy(vm);
	return true;
}

static u32 map_max_id(struct lapicv_vm *vm)
{
	return rcu_access_pointer(vm->apic_map)->max_apic_id;
}

static int set_base(struct lapicv_vcpu *v, u64 base)
{
	int r;

	mutex_lock(&v->mutex);
	r = lapicv_apic_set_base(v, base, true);
	mutex_unlock(&v->mutex);
	return r;
}

/*
 * A rebuild starts from the size of the map it replaces; max_apic_id must
 * still be the largest ID present, growing and shrinking with it.
 */
static bool test_map_follows_largest_id(void)
{
	struct lapicv_vm *vm = vm_up(2, NULL);
	u64 xapic = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE;
	struct lapicv_vcpu *v = unit_apic_vcpu_add(vm, 400);

	ASSERT_TRUE(v);
	v->apic->cpuid_x2apic = true;
	ASSERT_EQ(set_base(v, xapic | X2APIC_ENABLE), 0);
	ASSERT_EQ(map_max_id(vm), 400);
	ASSERT_TRUE(rcu_access_pointer(vm->apic_map)->phys_map[400] == v->apic);
	/* Disabled: absent, and the map shrinks back to the xAPIC IDs. */
	ASSERT_EQ(set_base(v, APIC_DEFAULT_PHYS_BASE), 0);
	ASSERT_EQ(map_max_id(vm), 255);
	ASSERT_EQ(deliver(vm, APIC_DM_FIXED, APIC_DEST_PHYSICAL, 0xff, 0x50), 2);
	/* Back in xAPIC mode: its 32-bit ID counts again. */
	ASSERT_EQ(set_base(v, xapic), 0);
	ASSERT_EQ(map_max_id(vm), 400);
	unit_apic_vm_destroy(vm);
	return true;
}

static const struct unit_case cases[] = {
	UNIT_CASE(test_physical_fixed),
	UNIT_CASE(test_logical_flat),
	UNIT_CASE(test_logical_cluster),
	UNIT_CASE(test_mixed_logical_modes_take_slow_path),
	UNIT_CASE(test_lowest_priority_picks_one),
	UNIT_CASE(test_alias_fallback_and_inhibits),
	UNIT_CASE(test_hw_disabled_apic_is_absent),
	UNIT_CASE(test_ipi_shorthands),
	UNIT_CASE(test_match_dest),
	UNIT_CASE(test_signal_msi),
	UNIT_CASE(test_x2apic_logical_clusters),
	UNIT_CASE(test_map_follows_largest_id),
};

int main(int argc, char **argv)
{
	return unit_run("irq", cases, ARRAY_SIZE(cases), argc, argv);
}
