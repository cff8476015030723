/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers for the LAPIC-state selftests (apic_base_test.c,
 * xapic_state_test.c, lapic_regs_test.c, mp_state_test.c): a split-irqchip
 * VM with a few vCPUs, KVM_GET/SET_LAPIC, single-MSR KVM_GET/SET_MSRS and
 * a small guest CPUID.  Only KVM's ioctls are used, so every expectation
 * holds on /dev/lapicv and /dev/kvm alike.
 */
#ifndef SELFTEST_LAPIC_UTIL_H
#define SELFTEST_LAPIC_UTIL_H

#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "apic.h"
#include "lapicv_util.h"

#ifndef BIT
#define BIT(n)		(1u << (n))
#endif
#ifndef BIT_ULL
#define BIT_ULL(n)	(1ull << (n))
#endif

#define LT_MAX_VCPUS		4

struct lt_vm {
	int dev;
	int vm;
	int nr;
	int vcpu[LT_MAX_VCPUS];
};

/* A split-irqchip VM with @nr vCPUs, ids 0 .. nr - 1; -1 on failure. */
static inline int lt_vm_create(struct lt_vm *v, int nr)
{
	int i;

	memset(v, -1, sizeof(*v));
	v->nr = nr;
	v->dev = open_dev();
	if (v->dev < 0)
		return -1;
	v->vm = vm_create_split(v->dev);
	if (v->vm < 0)
		return -1;
	for (i = 0; i < nr; i++) {
		v->vcpu[i] = vcpu_create(v->vm, i);
		if (v->vcpu[i] < 0)
			return -1;
	}
	return 0;
}

static inline void lt_vm_destroy(struct lt_vm *v)
{
	int i;

	for (i = 0; i < LT_MAX_VCPUS; i++)
		if (v->vcpu[i] >= 0)
			close(v->vcpu[i]);
	if (v->vm >= 0)
		close(v->vm);
	if (v->dev >= 0)
		close(v->dev);
}

/* Value of a one-MSR read, or ~0 when it failed. */
static inline __u64 msr(int vcpu, __u32 index)
{
	__u64 v;

	return get_msr(vcpu, index, &v) == 1 ? v : ~0ull;
}

/* CPUID with x2APIC (and TSC-deadline), 48 physical address bits. */
static inline int set_cpuid_x2apic(int vcpu)
{
	return set_cpuid(vcpu, CPUID1_ECX_X2APIC | CPUID1_ECX_TSC_DEADLINE, 48);
}

/* Put @vcpu's APIC in x2APIC mode (needs set_cpuid_x2apic() first). */
static inline int enable_x2apic(int vcpu)
{
	__u64 base = msr(vcpu, MSR_IA32_APICBASE);

	return set_msr(vcpu, MSR_IA32_APICBASE,
		       base | APIC_BASE_EN | APIC_BASE_EXTD);
}

#endif /* SELFTEST_LAPIC_UTIL_H */
