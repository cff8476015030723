// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of a protected APIC (LAPICV_ENABLE_PROTECTED_APIC, TDX-style
 * guest_apic_protected) on the MSR path: KVM_GET/SET_MSRS entries for the
 * APIC base, the x2APIC range and TSC deadline fail and change nothing.
 */
#include "../../lapic.c"

#include "test.h"
#include "unit_vm.h"

/* vm.c's order: the request before the first vCPU, on the vmx-model backend. */
static struct lapicv_vm *protected_vm(unsigned int n)
{
	struct lapicv_vm *vm = unit_apic_vm_create(0, &lapicv_vmx_backend,
						   LAPICV_IRQWIN_COUNTER);
	unsigned int i;

	if (!vm)
		return NULL;
	vm->protected_apic = true;
	for (i = 0; i < n; i++)
		if (!unit_apic_vcpu_add(vm, i))
			return NULL;
	return vm;
}

static bool test_protected_msrs_refused(void)
{
	static const u32 msrs[] = {
		MSR_IA32_APICBASE, MSR_IA32_TSC_DEADLINE,
		APIC_BASE_MSR + (APIC_ID >> 4),
		APIC_BASE_MSR + (APIC_TASKPRI >> 4),
		APIC_BASE_MSR + (APIC_SPIV >> 4),
		APIC_BASE_MSR + (APIC_IRR >> 4),
		APIC_BASE_MSR + (APIC_ISR >> 4),
	};
	struct lapicv_vm *vm = protected_vm(2);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	struct lapicv_lapic *apic = v->apic, *other;
	u64 base, data;
	u32 tpr;
	int i;

	ASSERT_TRUE(apic->guest_apic_protected);
	base = apic->apic_base;
	tpr = lapicv_get_reg(apic, APIC_TASKPRI);
	mutex_lock(&v->mutex);
	for (i = 0; i < ARRAY_SIZE(msrs); i++) {
		data = 0x1234;
		ASSERT_EQ(lapicv_get_msr(v, msrs[i], &data), 1);
		/* A failed read leaves 0 in the entry, as KVM's. */
		ASSERT_EQ(data, 0);
	}
	ASSERT_EQ(lapicv_set_msr(v, MSR_IA32_APICBASE, base & ~X2APIC_ENABLE, true), 1);
	ASSERT_EQ(lapicv_set_msr(v, MSR_IA32_TSC_DEADLINE, 1000, true), 1);
	ASSERT_EQ(lapicv_set_msr(v, APIC_BASE_MSR + (APIC_TASKPRI >> 4), 0xf0, true), 1);
	ASSERT_EQ(lapicv_set_msr(v, APIC_BASE_MSR + (APIC_SPIV >> 4), 0xff, true), 1);
	/* A fixed IPI to vCPU 1 through the ICR must not be sent. */
	ASSERT_EQ(lapicv_set_msr(v, APIC_BASE_MSR + (APIC_ICR >> 4),
				 (1ull << 32) | 0x40, true), 1);
	mutex_unlock(&v->mutex);
	ASSERT_EQ(apic->apic_base, base);
	ASSERT_EQ(lapicv_get_reg(apic, APIC_TASKPRI), tpr);
	ASSERT_TRUE(lapicv_get_reg(apic, APIC_SPIV) & APIC_SPIV_APIC_ENABLED);
	other = unit_apic(vm, 1);
	ASSERT_FALSE(lapicv_test_vector(0x40, other->regs + APIC_IRR));
	unit_apic_vm_destroy(vm);
	return true;
}

/* The same entries work on an ordinary vCPU of the same backend. */
static bool test_unprotected_msrs_work(void)
{
	struct lapicv_vm *vm = unit_apic_vm_create(1, &lapicv_vmx_backend,
						   LAPICV_IRQWIN_COUNTER);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	u64 data;

	mutex_lock(&v->mutex);
	ASSERT_EQ(lapicv_get_msr(v, MSR_IA32_APICBASE, &data), 0);
	ASSERT_EQ(data, v->apic->apic_base);
	ASSERT_EQ(lapicv_get_msr(v, MSR_IA32_TSC_DEADLINE, &data), 0);
	mutex_unlock(&v->mutex);
	unit_apic_vm_destroy(vm);
	return true;
}

static const struct unit_case cases[] = {
	UNIT_CASE(test_protected_msrs_refused),
	UNIT_CASE(test_unprotected_msrs_work),
};

int main(int argc, char **argv)
{
	return unit_run("protected", cases, ARRAY_SIZE(cases), argc, argv);
}
