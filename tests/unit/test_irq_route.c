// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of irq_route.c: KVM_SET_GSI_ROUTING's checks and errnos
 * (KVM 6.12's kvm_set_irq_routing(), setup_routing_entry(),
 * kvm_set_routing_entry() with a split irqchip), the scan of the reserved
 * IOAPIC pins' MSI routes into each vCPU's ioapic_handled_vectors, who
 * asks for a scan, and which EOIs are reported.  Whole VMs from
 * harness_vm.c (split irqchip; the harness reserves no pins, the tests set
 * nr_reserved_ioapic_pins as KVM_ENABLE_CAP does).
 */
#include "../../irq_route.c"

#include "test.h"
#include "unit_vm.h"

#define PINS		24
/* An MSI address for physical destination @d; data for @vec. */
#define ADDR(d)		(0xfee00000u | (u32)(d) << 12)
#define LEVEL		BIT(15)

static struct kvm_irq_routing_entry msi_route(u32 gsi, u32 dest, u32 data)
{
	return (struct kvm_irq_routing_entry){
		.gsi = gsi, .type = KVM_IRQ_ROUTING_MSI,
		.u.msi = { .address_lo = ADDR(dest), .data = data },
	};
}

static struct lapicv_vm *vm_up(unsigned int n)
{
	struct lapicv_vm *vm = unit_apic_vm_create(n, NULL, LAPICV_IRQWIN_COUNTER);
	unsigned int i;

	if (!vm)
		return NULL;
	vm->nr_reserved_ioapic_pins = PINS;
	for (i = 0; i < n; i++) {
		struct lapicv_lapic *apic = unit_apic(vm, i);
		/* Started APs: a never-started one waits for INIT in a step. */
		const struct kvm_mp_state mp = { KVM_MP_STATE_RUNNABLE };

		mutex_lock(&apic->vcpu->mutex);
		lapicv_apic_reg_write(apic, APIC_SPIV, APIC_SPIV_APIC_ENABLED | 0xff);
		WARN_ON(lapicv_set_mp_state(apic->vcpu, &mp));
		mutex_unlock(&apic->vcpu->mutex);
	}
	return vm;
}

static u32 run(struct lapicv_vcpu *v, u32 *vec)
{
	struct lapicv_run r = { .rflags_if = 1 };

	mutex_lock(&v->mutex);
	WARN_ON(lapicv_vcpu_run(v, &r));
	mutex_unlock(&v->mutex);
	*vec = r.vector;
	return r.exit_reason;
}

static void eoi(struct lapicv_vcpu *v)
{
	mutex_lock(&v->mutex);
	lapicv_apic_reg_write(v->apic, APIC_EOI, 0);
	mutex_unlock(&v->mutex);
}

static int send(struct lapicv_vm *vm, u32 dest, u32 data)
{
	struct kvm_msi m = { .address_lo = ADDR(dest), .data = data };

	return lapicv_signal_msi(vm, &m);
}

static int set_routes(struct lapicv_vm *vm,
		      const struct kvm_irq_routing_entry *e, u32 nr)
{
	struct kvm_irq_routing hdr = { .nr = nr };
	int r = lapicv_irq_routing_check(vm, &hdr);

	return r ? r : lapicv_set_irq_routing(vm, e, nr);
}

static bool test_routing_errnos(void)
{
	struct lapicv_vm *vm = vm_up(1);
	struct kvm_irq_routing_entry e[3] = {
		msi_route(0, 0, 0x50), msi_route(5, 0, 0x51), msi_route(9, 0, 0x52),
	};
	struct kvm_irq_routing hdr = { .nr = 4097 };
	struct lapicv_irq_routing *rt;

	ASSERT_EQ(lapicv_irq_routing_check(vm, &hdr), -EINVAL);
	hdr.nr = 4096;
	ASSERT_EQ(lapicv_irq_routing_check(vm, &hdr), 0);
	hdr.flags = 1;
	ASSERT_EQ(lapicv_irq_routing_check(vm, &hdr), -EINVAL);

	ASSERT_EQ(set_routes(vm, e, 3), 0);
	rt = rcu_dereference_protected(vm->irq_routing, true);
	ASSERT_EQ(rt->nr, 3);

	/* Each refusal leaves the table as it was. */
	e[2].gsi = 4096;
	ASSERT_EQ(set_routes(vm, e, 3), -EINVAL);
	e[2].gsi = 5;					/* a second route for 5 */
	ASSERT_EQ(set_routes(vm, e, 3), -EINVAL);
	e[2].gsi = 9;
	e[1].flags = KVM_MSI_VALID_DEVID | 2;
	ASSERT_EQ(set_routes(vm, e, 3), -EINVAL);
	e[1].flags = 0;
	e[1].type = KVM_IRQ_ROUTING_IRQCHIP;		/* split irqchip */
	e[1].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
	e[1].u.irqchip.pin = 5;
	ASSERT_EQ(set_routes(vm, e, 3), -EINVAL);
	e[1].type = KVM_IRQ_ROUTING_HV_SINT;		/* no SynIC here */
	ASSERT_EQ(set_routes(vm, e, 3), -EINVAL);
	e[1].type = 99;
	ASSERT_EQ(set_routes(vm, e, 3), -EINVAL);
	e[1] = msi_route(5, 0, 0x51);
	e[1].u.msi.address_hi = 1;
	ASSERT_EQ(rcu_dereference_protected(vm->irq_routing, true), rt);
	/* address_hi[7:0] is refused only with 32-bit IDs. */
	vm->x2apic_format = true;
	ASSERT_EQ(set_routes(vm, e, 3), -EINVAL);
	ASSERT_EQ(rcu_dereference_protected(vm->irq_routing, true), rt);
	vm->x2apic_format = false;
	e[1].flags = KVM_MSI_VALID_DEVID;
	ASSERT_EQ(set_routes(vm, e, 3), 0);
	ASSERT_NE(rcu_dereference_protected(vm->irq_routing, true), rt);
	/* An empty table is a table. */
	ASSERT_EQ(set_routes(vm, NULL, 0), 0);
	ASSERT_EQ(rcu_dereference_protected(vm->irq_routing, true)->nr, 0);
	shim_rcu_flush();
	unit_apic_vm_destroy(vm);
	return true;
}

/* Without KVM_CAP_SPLIT_IRQCHIP: KVM's kvm_arch_can_set_irq_routing(). */
static bool test_routing_needs_split_irqchip(void)
{
	struct lapicv_vm *vm = unit_vm_create(0, false, 0, LAPICV_IRQWIN_COUNTER);
	struct kvm_irq_routing hdr = { .nr = 0 };

	ASSERT_EQ(lapicv_irq_routing_check(vm, &hdr), -EINVAL);
	unit_vm_destroy(vm);
	return true;
}

/*
 * The scan: level MSI routes of GSIs below the reserved pins that reach
 * the vCPU; not edge routes, not GSIs past the pins, not other vCPUs'.
 */
static bool test_scan_reserved_pins(void)
{
	struct lapicv_vm *vm = vm_up(2);
	struct lapicv_vcpu *v0 = lapicv_get_vcpu(vm, 0), *v1 = lapicv_get_vcpu(vm, 1);
	const struct kvm_irq_routing_entry e[] = {
		msi_route(0, 0, LEVEL | 0x50),
		msi_route(1, 0, 0x51),			/* edge */
		msi_route(PINS, 0, LEVEL | 0x52),	/* past the pins */
		msi_route(2, 1, LEVEL | 0x53),		/* vCPU 1 */
	};
	u32 vec;

	ASSERT_EQ(set_routes(vm, e, ARRAY_SIZE(e)), 0);
	ASSERT_TRUE(test_bit(LAPICV_REQ_SCAN_IOAPIC, &v0->requests));
	ASSERT_TRUE(test_bit(LAPICV_REQ_SCAN_IOAPIC, &v1->requests));
	ASSERT_EQ(run(v0, &vec), LAPICV_RUN_NONE);
	ASSERT_EQ(run(v1, &vec), LAPICV_RUN_NONE);
	ASSERT_FALSE(test_bit(LAPICV_REQ_SCAN_IOAPIC, &v0->requests));
	ASSERT_EQ(bitmap_weight(v0->ioapic_handled_vectors, 256), 1);
	ASSERT_TRUE(test_bit(0x50, v0->ioapic_handled_vectors));
	ASSERT_EQ(bitmap_weight(v1->ioapic_handled_vectors, 256), 1);
	ASSERT_TRUE(test_bit(0x53, v1->ioapic_handled_vectors));
	unit_apic_vm_destroy(vm);
	return true;
}

/*
 * The dead line: a level vector of a routed pin is in service, an edge
 * message with the same vector clears TMR, and the EOI is still reported
 * (before, TMR at EOI time decided, and the VMM's Remote-IRR stayed set).
 */
static bool test_eoi_reported_after_edge_clears_tmr(void)
{
	struct lapicv_vm *vm = vm_up(1);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	const struct kvm_irq_routing_entry e = msi_route(3, 0, LEVEL | 0x50);
	u32 vec;

	ASSERT_EQ(set_routes(vm, &e, 1), 0);
	ASSERT_EQ(send(vm, 0, LEVEL | 0x50), 1);
	ASSERT_EQ(run(v, &vec), LAPICV_RUN_INTR);
	ASSERT_EQ(vec, 0x50);
	ASSERT_EQ(send(vm, 0, 0x50), 1);		/* edge: TMR cleared */
	ASSERT_FALSE(lapicv_test_vector(0x50, v->apic->regs + APIC_TMR));
	eoi(v);
	ASSERT_EQ(run(v, &vec), LAPICV_RUN_IOAPIC_EOI);
	ASSERT_EQ(vec, 0x50);
	unit_apic_vm_destroy(vm);
	return true;
}

/* A level MSI that is no reserved pin's route needs no IOAPIC EOI. */
static bool test_level_msi_not_routed_not_reported(void)
{
	struct lapicv_vm *vm = vm_up(1);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	const struct kvm_irq_routing_entry e = msi_route(PINS + 1, 0, LEVEL | 0x60);
	u32 vec;

	ASSERT_EQ(set_routes(vm, &e, 1), 0);
	ASSERT_EQ(send(vm, 0, LEVEL | 0x60), 1);
	ASSERT_EQ(run(v, &vec), LAPICV_RUN_INTR);
	ASSERT_TRUE(lapicv_test_vector(0x60, v->apic->regs + APIC_TMR));
	eoi(v);
	ASSERT_EQ(run(v, &vec), LAPICV_RUN_NONE);
	ASSERT_TRUE(bitmap_empty(v->ioapic_eoi_pending, 256));
	unit_apic_vm_destroy(vm);
	return true;
}

/*
 * Who asks for a scan: a map rebuild (an APIC ID change makes a route
 * reach another vCPU) and KVM_SET_LAPIC (a vector in service counts even
 * when the route now points elsewhere, KVM's kvm_apic_pending_eoi()).
 */
static bool test_scan_requests(void)
{
	struct lapicv_vm *vm = vm_up(2);
	struct lapicv_vcpu *v0 = lapicv_get_vcpu(vm, 0), *v1 = lapicv_get_vcpu(vm, 1);
	const struct kvm_irq_routing_entry e = msi_route(4, 7, LEVEL | 0x70);
	struct kvm_lapic_state s;
	u32 vec;

	ASSERT_EQ(set_routes(vm, &e, 1), 0);
	ASSERT_EQ(run(v1, &vec), LAPICV_RUN_NONE);
	ASSERT_FALSE(test_bit(0x70, v1->ioapic_handled_vectors));
	/* vCPU 1 takes APIC ID 7: the rebuild asks every vCPU to rescan. */
	mutex_lock(&v1->mutex);
	lapicv_apic_reg_write(v1->apic, APIC_ID, 7 << 24);
	mutex_unlock(&v1->mutex);
	ASSERT_TRUE(test_bit(LAPICV_REQ_SCAN_IOAPIC, &v0->requests));
	ASSERT_EQ(run(v1, &vec), LAPICV_RUN_NONE);
	ASSERT_TRUE(test_bit(0x70, v1->ioapic_handled_vectors));

	/* vCPU 0, not addressed, gets 0x70 in service by KVM_SET_LAPIC. */
	ASSERT_EQ(run(v0, &vec), LAPICV_RUN_NONE);
	ASSERT_FALSE(test_bit(0x70, v0->ioapic_handled_vectors));
	mutex_lock(&v0->mutex);
	ASSERT_EQ(lapicv_apic_get_state(v0, &s), 0);
	*(u32 *)(s.regs + APIC_ISR + LAPICV_REG_POS(0x70)) |= BIT(LAPICV_VEC_POS(0x70));
	clear_bit(LAPICV_REQ_SCAN_IOAPIC, &v0->requests);
	ASSERT_EQ(lapicv_apic_set_state(v0, &s), 0);
	mutex_unlock(&v0->mutex);
	ASSERT_TRUE(test_bit(LAPICV_REQ_SCAN_IOAPIC, &v0->requests));
	ASSERT_EQ(run(v0, &vec), LAPICV_RUN_NONE);
	ASSERT_TRUE(test_bit(0x70, v0->ioapic_handled_vectors));
	eoi(v0);
	ASSERT_EQ(run(v0, &vec), LAPICV_RUN_IOAPIC_EOI);
	ASSERT_EQ(vec, 0x70);
	unit_apic_vm_destroy(vm);
	return true;
}

static const struct unit_case cases[] = {
	UNIT_CASE(test_routing_errnos),
	UNIT_CASE(test_routing_needs_split_irqchip),
	UNIT_CASE(test_scan_reserved_pins),
	UNIT_CASE(test_eoi_reported_after_edge_clears_tmr),
	UNIT_CASE(test_level_msi_not_routed_not_reported),
	UNIT_CASE(test_scan_requests),
};

int main(int argc, char **argv)
{
	return unit_run("irq_route", cases, ARRAY_SIZE(cases), argc, argv);
}
