// SPDX-License-Identifier: GPL-2.0-only
/*
 * GSI routing and the IOAPIC EOI vectors of a split irqchip.
 *
 * KVM_SET_GSI_ROUTING follows KVM 6.12 (kvm_main.c, irqchip.c's
 * kvm_set_irq_routing() and setup_routing_entry(), irq_comm.c's
 * kvm_set_routing_entry()) with an in-kernel LAPIC (split irqchip or
 * KVM_CREATE_IRQCHIP's LAPIC without IOAPIC/PIC): MSI routes only (IRQCHIP
 * routes are refused, as KVM refuses them in split mode and as lapicv has
 * no in-kernel IOAPIC or PIC for them; lapicv has no Hyper-V SynIC or Xen
 * event channels), one route per GSI, validated whole before
 * the table is replaced.  The table exists for one purpose here, as in
 * KVM's split mode: telling each vCPU which EOIs the VMM's IOAPIC needs.
 *
 * Lock card:
 *
 * lapicv_vm.irq_routing_lock
 *	:Type:     mutex (KVM's irq_lock)
 *	:Protects: replacing lapicv_vm.irq_routing (writers).
 *	:Order:    a leaf: taken by KVM_SET_GSI_ROUTING with no other lock
 *	           held, nothing inside it.
 *
 * lapicv_vm.irq_routing
 *	RCU: readers (the scan) use rcu_read_lock(); a table is never
 *	modified once published, only replaced, and freed after a grace
 *	period.  NULL until the first KVM_SET_GSI_ROUTING.
 *
 * lapicv_vcpu.ioapic_handled_vectors
 *	Owner only (vcpu->mutex): written by the scan, read at EOI.
 */
#include "irq.h"
#include "irq_route.h"

int lapicv_irq_routing_check(struct lapicv_vm *vm,
			     const struct kvm_irq_routing *routing)
{
	if (READ_ONCE(vm->irqchip) == LAPICV_IRQCHIP_NONE)
		return -EINVAL;
	if (routing->nr > LAPICV_MAX_IRQ_ROUTES)
		return -EINVAL;
	if (routing->flags)
		return -EINVAL;
	return 0;
}

/* One entry, as KVM checks it; @seen holds the GSIs of earlier entries. */
static int irq_route_check_entry(struct lapicv_vm *vm,
				 const struct kvm_irq_routing_entry *ue,
				 unsigned long *seen)
{
	u32 allowed = ue->type == KVM_IRQ_ROUTING_MSI ? KVM_MSI_VALID_DEVID : 0;

	if (ue->flags & ~allowed)
		return -EINVAL;
	/* One route per GSI unless both are IRQCHIP routes, refused below. */
	if (test_bit(ue->gsi, seen))
		return -EINVAL;
	if (ue->type != KVM_IRQ_ROUTING_MSI)
		return -EINVAL;
	/* KVM's kvm_msi_route_invalid(). */
	if (READ_ONCE(vm->x2apic_format) && (ue->u.msi.address_hi & 0xff))
		return -EINVAL;
	__set_bit(ue->gsi, seen);
	return 0;
}

int lapicv_set_irq_routing(struct lapicv_vm *vm,
			   const struct kvm_irq_routing_entry *ue, u32 nr)
{
	/* 512 bytes: the GSIs seen so far, for the one-route-per-GSI rule. */
	DECLARE_BITMAP(seen, LAPICV_MAX_IRQ_ROUTES);
	struct lapicv_irq_routing *new, *old;
	int r = 0;
	u32 i;

	/* KVM looks at every GSI before anything else. */
	for (i = 0; i < nr; i++)
		if (ue[i].gsi >= LAPICV_MAX_IRQ_ROUTES)
			return -EINVAL;

	bitmap_zero(seen, LAPICV_MAX_IRQ_ROUTES);
	for (i = 0; i < nr && !r; i++)
		r = irq_route_check_entry(vm, &ue[i], seen);
	if (r)
		return r;

	new = kvzalloc(struct_size(new, routes, nr), GFP_KERNEL_ACCOUNT);
	if (!new)
		return -ENOMEM;
	new->nr = nr;
	for (i = 0; i < nr; i++) {
		new->routes[i].gsi = array_index_nospec(ue[i].gsi,
							LAPICV_MAX_IRQ_ROUTES);
		new->routes[i].address_lo = ue[i].u.msi.address_lo;
		new->routes[i].address_hi = ue[i].u.msi.address_hi;
		new->routes[i].data = ue[i].u.msi.data;
	}

	mutex_lock(&vm->irq_routing_lock);
	old = rcu_dereference_protected(vm->irq_routing,
					lockdep_is_held(&vm->irq_routing_lock));
	rcu_assign_pointer(vm->irq_routing, new);
	mutex_unlock(&vm->irq_routing_lock);

	/* KVM's kvm_arch_post_irq_routing_update() with a split irqchip. */
	lapicv_make_all_vcpus_request(vm, LAPICV_REQ_SCAN_IOAPIC);
	if (old)
		kvfree_rcu(old, rcu);
	return 0;
}

void lapicv_irq_routing_init(struct lapicv_vm *vm)
{
	mutex_init(&vm->irq_routing_lock);
	RCU_INIT_POINTER(vm->irq_routing, NULL);
}

void lapicv_irq_routing_free(struct lapicv_vm *vm)
{
	/* The VM is going away: no fd, hence no reader, is left. */
	kvfree(rcu_dereference_protected(vm->irq_routing, true));
	RCU_INIT_POINTER(vm->irq_routing, NULL);
}

void lapicv_scan_ioapic_routes(struct lapicv_vcpu *vcpu)
{
	struct lapicv_lapic *apic = vcpu->apic;
	struct lapicv_vm *vm = vcpu->vm;
	struct lapicv_irq_routing *rt;
	struct lapicv_irq irq;
	u32 i;

	lockdep_assert_held(&vcpu->mutex);

	if (!lapicv_apic_hw_enabled(apic))
		return;
	bitmap_zero(vcpu->ioapic_handled_vectors, 256);

	rcu_read_lock();
	rt = rcu_dereference(vm->irq_routing);
	for (i = 0; rt && i < rt->nr; i++) {
		const struct lapicv_msi_route *e = &rt->routes[i];

		/* Only the reserved pins are the VMM's IOAPIC. */
		if (e->gsi >= vm->nr_reserved_ioapic_pins)
			continue;
		lapicv_msi_to_irq(vm, e->address_lo, e->address_hi, e->data,
				  &irq);
		if (!irq.trig_mode)
			continue;
		if (lapicv_apic_match_dest(apic, NULL, APIC_DEST_NOSHORT,
					   irq.dest_id, irq.dest_mode) ||
		    lapicv_test_vector(irq.vector, apic->regs + APIC_IRR) ||
		    lapicv_test_vector(irq.vector, apic->regs + APIC_ISR))
			__set_bit(irq.vector, vcpu->ioapic_handled_vectors);
	}
	rcu_read_unlock();
}
