/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * GSI routing (KVM_SET_GSI_ROUTING) and the IOAPIC vectors each vCPU
 * reports EOIs for: irq_route.c.
 *
 * With a split irqchip the IOAPIC is the VMM's, and KVM learns which
 * vectors are its from the VMM's MSI routes of the reserved IOAPIC pins
 * (KVM_CAP_SPLIT_IRQCHIP's args[0]): each vCPU's ioapic_handled_vectors
 * is rescanned from them (KVM's kvm_scan_ioapic_routes()) when its run
 * step finds LAPICV_REQ_SCAN_IOAPIC, and an EOI is reported to the VMM
 * iff its vector is in that set.
 */
#ifndef _LAPICV_IRQ_ROUTE_H
#define _LAPICV_IRQ_ROUTE_H

#include "lapicv.h"

/* KVM_MAX_IRQ_ROUTES: the bound on entries and on each GSI. */
#define LAPICV_MAX_IRQ_ROUTES	4096

/* One MSI route, as the VMM gave it. */
struct lapicv_msi_route {
	u32 gsi;
	u32 address_lo;
	u32 address_hi;
	u32 data;
};

/* The routing table: replaced whole, never changed once published (RCU). */
struct lapicv_irq_routing {
	struct rcu_head rcu;
	u32 nr;
	struct lapicv_msi_route routes[];
};

/*
 * KVM_SET_GSI_ROUTING's checks of the header, before the entries are
 * copied in, in KVM's order: -EINVAL without a split irqchip, for more
 * than LAPICV_MAX_IRQ_ROUTES entries or for non-zero flags.
 */
int lapicv_irq_routing_check(struct lapicv_vm *vm,
			     const struct kvm_irq_routing *routing);

/*
 * KVM_SET_GSI_ROUTING with the @nr entries vm.c copied in: -EINVAL for a
 * GSI at or past LAPICV_MAX_IRQ_ROUTES, bad flags, a second entry for a
 * GSI, an IRQCHIP route (refused with a split irqchip, as KVM does), an
 * MSI route with address_hi[7:0] set under 32-bit IDs, or any other type;
 * -ENOMEM.  On success the table is replaced and every vCPU asked to
 * rescan; on failure nothing changes.
 */
int lapicv_set_irq_routing(struct lapicv_vm *vm,
			   const struct kvm_irq_routing_entry *ue, u32 nr);

/* At VM creation: no table yet, the lock initialised. */
void lapicv_irq_routing_init(struct lapicv_vm *vm);
/* Free the table at VM destruction, when no reader can remain. */
void lapicv_irq_routing_free(struct lapicv_vm *vm);

/*
 * KVM's vcpu_scan_ioapic() for a split irqchip: rebuild the vCPU's
 * ioapic_handled_vectors from the MSI routes of GSIs below the reserved
 * IOAPIC pin count: a level-triggered route's vector counts if the route
 * addresses this vCPU or the vector is in its IRR or ISR.  A hardware-
 * disabled APIC keeps its set, as in KVM.  The caller holds vcpu->mutex
 * and has synced posted interrupts into IRR.
 */
void lapicv_scan_ioapic_routes(struct lapicv_vcpu *vcpu);

#endif /* _LAPICV_IRQ_ROUTE_H */
