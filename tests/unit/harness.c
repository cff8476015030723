// SPDX-License-Identifier: GPL-2.0-only
/*
 * The runner of test.h, and fake VMs.
 *
 * The fake VM stands in for vm.c, the glue that is not part of the
 * userspace build: it builds struct lapicv_vm and lapicv_vcpu the way
 * vm.c does and provides lapicv_get_vcpu_by_id(), which vm.c exports.
 */
#include "test.h"
#include "timer.h"

void (*unit_vcpu_free_hook)(struct lapicv_vcpu *vcpu);

void unit_report(const char *file, int line, const char *expr,
		 const char *op, unsigned long long a, unsigned long long b)
{
	fprintf(stdout, "%s:%d: ASSERT(%s) failed: left %lld (0x%llx), right %lld (0x%llx)\n",
		file, line, expr, (long long)a, a, (long long)b, b);
}

int unit_run(const char *suite, const struct unit_case *cases, size_t n,
	     int argc, char **argv)
{
	unsigned int passed = 0, failed = 0;
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < n; i++) {
		unsigned long warns, missing;
		bool ok;
		int held;

		if (argc > 1 && !strstr(cases[i].name, argv[1]))
			continue;
		shim_reset();
		ok = cases[i].fn();
		held = shim_locks_held_count();
		shim_rcu_flush();
		warns = shim_take_warnings();
		missing = shim_missing_warns();
		if (ok && warns)
			printf("%s: %lu unexpected warning(s)\n", cases[i].name, warns);
		if (ok && missing)
			printf("%s: %lu expected warning(s) did not happen\n",
			       cases[i].name, missing);
		if (ok && held)
			printf("%s: returned with %d lock(s) held\n", cases[i].name, held);
		ok = ok && !warns && !missing && !held;
		printf("%s %s.%s\n", ok ? "ok" : "FAIL", suite, cases[i].name);
		if (ok)
			passed++;
		else
			failed++;
		if (held)
			break;	/* the thread's lock state is unusable now */
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}

struct lapicv_vcpu *lapicv_get_vcpu_by_id(struct lapicv_vm *vm, u32 id)
{
	struct lapicv_vcpu *vcpu;
	unsigned int i;

	for (i = 0; (vcpu = lapicv_get_vcpu(vm, i)); i++)
		if (vcpu->vcpu_id == id)
			return vcpu;
	return NULL;
}

struct lapicv_vcpu *unit_vcpu_add(struct lapicv_vm *vm, u32 id)
{
	struct lapicv_vcpu *vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL);
	unsigned int idx;

	if (!vcpu)
		return NULL;
	mutex_lock(&vm->lock);
	idx = vm->created_vcpus++;
	vcpu->vm = vm;
	vcpu->guest_cpu = -1;
	vcpu->vcpu_id = id;
	mutex_init(&vcpu->mutex);
	init_waitqueue_head(&vcpu->wq);
	if (xa_insert(&vm->vcpus, idx, vcpu, GFP_KERNEL)) {
		vm->created_vcpus--;
		mutex_unlock(&vm->lock);
		kfree(vcpu);
		return NULL;
	}
	atomic_set_release(&vm->online_vcpus, idx + 1);
	mutex_unlock(&vm->lock);
	return vcpu;
}

struct lapicv_vm *unit_vm_create(unsigned int nr_vcpus, bool apicv_enabled,
				 unsigned long required,
				 enum lapicv_irqwin_policy policy)
{
	struct lapicv_vm *vm = kzalloc(sizeof(*vm), GFP_KERNEL);
	unsigned int i;

	if (!vm)
		return NULL;
	refcount_set(&vm->users, 1);
	mutex_init(&vm->lock);
	xa_init(&vm->vcpus);
	vm->apic_bus_cycle_ns = LAPICV_APIC_BUS_CYCLE_NS;
	lapicv_inhibits_init(&vm->inhibits, apicv_enabled, required, policy);
	for (i = 0; i < nr_vcpus; i++) {
		if (!unit_vcpu_add(vm, i)) {
			unit_vm_destroy(vm);
			return NULL;
		}
	}
	return vm;
}

void unit_vm_destroy(struct lapicv_vm *vm)
{
	struct lapicv_vcpu *vcpu;
	unsigned long idx;

	xa_for_each(&vm->vcpus, idx, vcpu) {
		if (unit_vcpu_free_hook)
			unit_vcpu_free_hook(vcpu);
		mutex_destroy(&vcpu->mutex);
		kfree(vcpu);
	}
	xa_destroy(&vm->vcpus);
	mutex_destroy(&vm->lock);
	kfree(vm);
}
