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

#include "lapicv_util.h"

#ifndef BIT
#define BIT(n)		(1u << (n))
#endif
#ifndef BIT_ULL
#define BIT_ULL(n)	(1ull << (n))
#endif

#define LT_MAX_VCPUS		4

#define MSR_APICBASE		0x1b
#define MSR_TSC_DEADLINE	0x6e0
#define BASE_DEFAULT		0xfee00000ull
#define BASE_BSP		BIT_ULL(8)
#define BASE_EXTD		BIT_ULL(10)
#define BASE_EN			BIT_ULL(11)
#define X2MSR(off)		(0x800u + ((off) >> 4))

/* Register offsets in the KVM_GET_LAPIC page. */
#define R_ID		0x20
#define R_LVR		0x30
#define R_TPR		0x80
#define R_APR		0x90
#define R_PPR		0xa0
#define R_EOI		0xb0
#define R_LDR		0xd0
#define R_DFR		0xe0
#define R_SPIV		0xf0
#define R_ISR		0x100
#define R_TMR		0x180
#define R_IRR		0x200
#define R_ESR		0x280
#define R_CMCI		0x2f0
#define R_ICR		0x300
#define R_ICR2		0x310
#define R_LVTT		0x320
#define R_LVTTHMR	0x330
#define R_LVTPC		0x340
#define R_LVT0		0x350
#define R_LVT1		0x360
#define R_LVTERR	0x370
#define R_TMICT		0x380
#define R_TMCCT		0x390
#define R_TDCR		0x3e0
#define R_SELF_IPI	0x3f0

#define SPIV_ENABLE		0x100u
#define LVT_MASKED		0x10000u

/* ICR fields. */
#define ICR_DM_FIXED		0x000
#define ICR_DM_NMI		0x400
#define ICR_DM_INIT		0x500
#define ICR_DM_SIPI		0x600
#define ICR_ASSERT		0x4000
#define ICR_LEVEL		0x8000
#define ICR_SELF		0x40000
#define ICR_ALLBUT		0xc0000

/* CPUID bits the APIC depends on. */
#define CPUID1_ECX_X2APIC	BIT(21)
#define CPUID1_ECX_TSCDL	BIT(24)
#define CPUID1_ECX_OSXSAVE	BIT(27)
#define CPUID1_ECX_XSAVE	BIT(26)
#define CPUID1_EDX_APIC		BIT(9)

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

static inline __u32 reg(const struct kvm_lapic_state *s, int off)
{
	__u32 v;

	memcpy(&v, s->regs + off, sizeof(v));
	return v;
}

static inline void set_reg(struct kvm_lapic_state *s, int off, __u32 v)
{
	memcpy(s->regs + off, &v, sizeof(v));
}

static inline int get_lapic(int vcpu, struct kvm_lapic_state *s)
{
	return ioctl(vcpu, KVM_GET_LAPIC, s);
}

static inline int set_lapic(int vcpu, struct kvm_lapic_state *s)
{
	return ioctl(vcpu, KVM_SET_LAPIC, s);
}

/* One-entry KVM_SET_MSRS / KVM_GET_MSRS: the count processed (1 or 0). */
static inline int set_msr(int vcpu, __u32 index, __u64 data)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 1;
	m.e.index = index;
	m.e.data = data;
	return ioctl(vcpu, KVM_SET_MSRS, &m);
}

static inline int get_msr(int vcpu, __u32 index, __u64 *data)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m;
	int r;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 1;
	m.e.index = index;
	r = ioctl(vcpu, KVM_GET_MSRS, &m);
	*data = m.e.data;
	return r;
}

/* Value of a one-MSR read, or ~0 when it failed. */
static inline __u64 msr(int vcpu, __u32 index)
{
	__u64 v;

	return get_msr(vcpu, index, &v) == 1 ? v : ~0ull;
}

/*
 * A small guest CPUID: vendor leaf, leaf 1 with @ecx1, and the address
 * widths leaf 0x80000008 with @phys_bits (none if 0).
 */
static inline int set_cpuid(int vcpu, __u32 ecx1, unsigned int phys_bits)
{
	struct {
		struct kvm_cpuid2 hdr;
		struct kvm_cpuid_entry2 e[4];
	} c;
	int n = 0;

	memset(&c, 0, sizeof(c));
	c.e[n].function = 0;
	c.e[n++].eax = 1;
	c.e[n].function = 1;
	c.e[n].eax = 0x00a00f11;
	c.e[n].ecx = ecx1;
	c.e[n++].edx = CPUID1_EDX_APIC | BIT(4);	/* APIC, TSC */
	if (phys_bits) {
		c.e[n].function = 0x80000000;
		c.e[n++].eax = 0x80000008;
		c.e[n].function = 0x80000008;
		c.e[n++].eax = (48u << 8) | phys_bits;
	}
	c.hdr.nent = n;
	return ioctl(vcpu, KVM_SET_CPUID2, &c);
}

/* CPUID with x2APIC (and TSC-deadline), 48 physical address bits. */
static inline int set_cpuid_x2apic(int vcpu)
{
	return set_cpuid(vcpu, CPUID1_ECX_X2APIC | CPUID1_ECX_TSCDL, 48);
}

/* Put @vcpu's APIC in x2APIC mode (needs set_cpuid_x2apic() first). */
static inline int enable_x2apic(int vcpu)
{
	__u64 base = msr(vcpu, MSR_APICBASE);

	return set_msr(vcpu, MSR_APICBASE, base | BASE_EN | BASE_EXTD);
}

static inline int get_mp_state(int vcpu)
{
	struct kvm_mp_state mp = { .mp_state = ~0u };

	if (ioctl(vcpu, KVM_GET_MP_STATE, &mp))
		return -1;
	return mp.mp_state;
}

static inline int set_mp_state(int vcpu, __u32 state)
{
	struct kvm_mp_state mp = { .mp_state = state };

	return ioctl(vcpu, KVM_SET_MP_STATE, &mp);
}

#endif /* SELFTEST_LAPIC_UTIL_H */
