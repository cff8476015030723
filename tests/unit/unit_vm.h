/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Whole VMs with LAPICs, built by harness_vm.c.
 */
#ifndef _UNIT_VM_H
#define _UNIT_VM_H

#include "apicv.h"
#include "irq.h"
#include "irq_route.h"
#include "lapic.h"
#include "vapic.h"

/*
 * A VM on backend b (NULL: soft) with a split irqchip and nr_vcpus vCPUs,
 * ids 0 .. nr_vcpus - 1, each reset as KVM_CREATE_VCPU leaves it.
 */
struct lapicv_vm *unit_apic_vm_create(unsigned int nr_vcpus,
				      const struct lapicv_backend *b,
				      enum lapicv_irqwin_policy policy);
struct lapicv_vcpu *unit_apic_vcpu_add(struct lapicv_vm *vm, u32 id);
void unit_apic_vm_destroy(struct lapicv_vm *vm);

static inline struct lapicv_lapic *unit_apic(struct lapicv_vm *vm,
					     unsigned int idx)
{
	return lapicv_get_vcpu(vm, idx)->apic;
}

#endif /* _UNIT_VM_H */
