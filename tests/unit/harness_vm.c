// SPDX-License-Identifier: GPL-2.0-only
/*
 * Whole VMs with LAPICs, built the way vm.c
 * builds them (the soft backend unless a test picks another, a split
 * irqchip, each vCPU created, reset and published as KVM_CREATE_VCPU
 * does).  Linked only into the tests that need the LAPIC: it pulls most
 * of the core in.
 */
#include "test.h"
#include "unit_vm.h"

struct lapicv_vm *unit_apic_vm_create(unsigned int nr_vcpus,
				      const struct lapicv_backend *b,
				      enum lapicv_irqwin_policy policy)
{
	struct lapicv_vm *vm;
	unsigned int i;

	if (lapicv_backend_setup(b ? b : &lapicv_soft_backend))
		return NULL;
	vm = kzalloc(sizeof(*vm), GFP_KERNEL);
	if (!vm)
		return NULL;
	refcount_set(&vm->users, 1);
	mutex_init(&vm->lock);
	mutex_init(&vm->apic_map_lock);
	xa_init(&vm->vcpus);
	lapicv_memslots_init(vm);
	lapicv_irq_routing_init(vm);
	lapicv_inhibits_init(&vm->inhibits, lapicv_backend.apicv,
			     lapicv_backend.required_apicv_inhibits, policy);
	/* KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP), before any vCPU. */
	mutex_lock(&vm->lock);
	vm->irqchip = LAPICV_IRQCHIP_SPLIT;
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_ABSENT, false);
	mutex_unlock(&vm->lock);
	for (i = 0; i < nr_vcpus; i++) {
		if (!unit_apic_vcpu_add(vm, i)) {
			unit_apic_vm_destroy(vm);
			return NULL;
		}
	}
	return vm;
}

struct lapicv_vcpu *unit_apic_vcpu_add(struct lapicv_vm *vm, u32 id)
{
	struct lapicv_vcpu *vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL);
	u32 idx;

	if (!vcpu)
		return NULL;
	vcpu->vm = vm;
	vcpu->vcpu_id = id;
	mutex_init(&vcpu->mutex);
	init_waitqueue_head(&vcpu->wq);
	if (lapicv_lapic_create(vcpu))
		goto free;
	mutex_lock(&vcpu->mutex);
	lapicv_lapic_reset(vcpu, false);
	mutex_unlock(&vcpu->mutex);
	if (lapicv_apicv_vcpu_create(vcpu)) {
		lapicv_lapic_free(vcpu);
		goto free;
	}
	mutex_lock(&vm->lock);
	vm->created_vcpus++;
	idx = atomic_read(&vm->online_vcpus);
	if (xa_insert(&vm->vcpus, idx, vcpu, GFP_KERNEL)) {
		vm->created_vcpus--;
		mutex_unlock(&vm->lock);
		lapicv_apicv_vcpu_free(vcpu);
		lapicv_lapic_free(vcpu);
		goto free;
	}
	atomic_set_release(&vm->online_vcpus, idx + 1);
	mutex_unlock(&vm->lock);
	return vcpu;
free:
	mutex_destroy(&vcpu->mutex);
	kfree(vcpu);
	return NULL;
}

void unit_apic_vm_destroy(struct lapicv_vm *vm)
{
	struct lapicv_vcpu *vcpu;
	unsigned long idx;

	xa_for_each(&vm->vcpus, idx, vcpu) {
		lapicv_apicv_vcpu_free(vcpu);
		lapicv_lapic_free(vcpu);
		mutex_destroy(&vcpu->mutex);
		kfree(vcpu);
	}
	xa_destroy(&vm->vcpus);
	lapicv_apic_map_free(vm);
	lapicv_irq_routing_free(vm);
	mutex_destroy(&vm->irq_routing_lock);
	lapicv_memslots_destroy(vm);
	mutex_destroy(&vm->memslots_lock);
	mutex_destroy(&vm->apic_map_lock);
	mutex_destroy(&vm->lock);
	kfree(vm);
}
