// SPDX-License-Identifier: GPL-2.0-only
/*
 * APIC helpers shared by the selftests; see apic.h.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "apic.h"

__u32 lapic_reg(const struct kvm_lapic_state *s, int off)
{
	__u32 v;

	memcpy(&v, s->regs + off, sizeof(v));
	return v;
}

void lapic_set_reg(struct kvm_lapic_state *s, int off, __u32 v)
{
	memcpy(s->regs + off, &v, sizeof(v));
}

bool lapic_test_vec(const struct kvm_lapic_state *s, int base, int vec)
{
	return lapic_reg(s, base + (vec >> 5) * 0x10) & (1u << (vec & 31));
}

int get_lapic(int vcpu, struct kvm_lapic_state *s)
{
	return ioctl(vcpu, KVM_GET_LAPIC, s);
}

int set_lapic(int vcpu, struct kvm_lapic_state *s)
{
	return ioctl(vcpu, KVM_SET_LAPIC, s);
}

int set_msr(int vcpu, __u32 index, __u64 data)
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

int get_msr(int vcpu, __u32 index, __u64 *data)
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

int set_cpuid(int vcpu, __u32 ecx1, unsigned int phys_bits)
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
	c.e[n++].edx = CPUID1_EDX_APIC | CPUID1_EDX_TSC;
	if (phys_bits) {
		c.e[n].function = 0x80000000;
		c.e[n++].eax = 0x80000008;
		c.e[n].function = 0x80000008;
		c.e[n++].eax = (48u << 8) | phys_bits;
	}
	c.hdr.nent = n;
	return ioctl(vcpu, KVM_SET_CPUID2, &c);
}

int get_mp_state(int vcpu)
{
	struct kvm_mp_state mp = { .mp_state = ~0u };

	if (ioctl(vcpu, KVM_GET_MP_STATE, &mp))
		return -1;
	return mp.mp_state;
}

int set_mp_state(int vcpu, __u32 state)
{
	struct kvm_mp_state mp = { .mp_state = state };

	return ioctl(vcpu, KVM_SET_MP_STATE, &mp);
}

int signal_msi(int vm, __u32 lo, __u32 hi, __u32 data)
{
	struct kvm_msi msi = {
		.address_lo = lo,
		.address_hi = hi,
		.data = data,
	};

	return ioctl(vm, KVM_SIGNAL_MSI, &msi);
}

int set_msi_routes(int vm, const struct msi_route *routes, unsigned int n)
{
	struct kvm_irq_routing *t;
	unsigned int i;
	int r;

	t = calloc(1, sizeof(*t) + n * sizeof(t->entries[0]));
	if (!t)
		return -1;
	t->nr = n;
	for (i = 0; i < n; i++) {
		t->entries[i].gsi = routes[i].gsi;
		t->entries[i].type = KVM_IRQ_ROUTING_MSI;
		t->entries[i].u.msi.address_lo = routes[i].address_lo;
		t->entries[i].u.msi.address_hi = routes[i].address_hi;
		t->entries[i].u.msi.data = routes[i].data;
	}
	r = ioctl(vm, KVM_SET_GSI_ROUTING, t);
	free(t);
	return r;
}

int enable_x2apic_api(int vm, __u64 flags)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X2APIC_API,
		.args[0] = flags,
	};

	return ioctl(vm, KVM_ENABLE_CAP, &cap);
}
