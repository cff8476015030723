/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers for the interrupt-routing selftests (apic_ipi_test.c,
 * msi_test.c): a VM with split irqchip and NR_VCPUS vCPUs, LAPIC state
 * through KVM_GET/SET_LAPIC, MSRs through KVM_GET/SET_MSRS, and the set of
 * vCPUs whose IRR holds a vector, which is what the tests compare.
 *
 * Everything goes through KVM's ioctls only, so the same expectations hold
 * on /dev/lapicv and /dev/kvm.
 */
#ifndef SELFTEST_IRQ_UTIL_H
#define SELFTEST_IRQ_UTIL_H

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "apic.h"
#include "lapicv_util.h"

#define NR_VCPUS		4

/* MSI address: 0xfee, destination 19:12, redirection hint, dest mode. */
#define MSI_ADDR(dest)		(0xfee00000u | ((uint32_t)(dest) & 0xff) << 12)
#define MSI_ADDR_LOGICAL	(1u << 2)
#define MSI_ADDR_RH		(1u << 3)

struct irq_vm {
	int dev;
	int vm;
	int vcpu[NR_VCPUS];
};

static inline int irq_vm_create(struct irq_vm *v, const unsigned long *ids)
{
	int i;

	v->dev = open_dev();
	if (v->dev < 0)
		return -1;
	v->vm = vm_create_split(v->dev);
	if (v->vm < 0)
		return -1;
	for (i = 0; i < NR_VCPUS; i++) {
		v->vcpu[i] = vcpu_create(v->vm, ids ? ids[i] : (unsigned long)i);
		if (v->vcpu[i] < 0)
			return -1;
	}
	return 0;
}

static inline void irq_vm_destroy(struct irq_vm *v)
{
	int i;

	for (i = 0; i < NR_VCPUS; i++)
		if (v->vcpu[i] >= 0)
			close(v->vcpu[i]);
	if (v->vm >= 0)
		close(v->vm);
	if (v->dev >= 0)
		close(v->dev);
}

/*
 * Read-modify-write of one register through KVM_GET/SET_LAPIC; the set
 * marks the map dirty and rebuilds it on both devices.
 */
static inline int lapic_write(int vcpu, int off, uint32_t v)
{
	struct kvm_lapic_state s;

	if (get_lapic(vcpu, &s))
		return -1;
	lapic_set_reg(&s, off, v);
	return set_lapic(vcpu, &s);
}

/* Software-enable the APIC (SPIV), plus LDR and DFR for logical tests. */
static inline int lapic_setup(int vcpu, uint32_t ldr, uint32_t dfr)
{
	struct kvm_lapic_state s;

	if (get_lapic(vcpu, &s))
		return -1;
	lapic_set_reg(&s, APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	lapic_set_reg(&s, APIC_LDR, ldr);
	lapic_set_reg(&s, APIC_DFR, dfr);
	return set_lapic(vcpu, &s);
}

/* CPUID leaf 1 with x2APIC (ECX bit 21), so the APIC may enter x2APIC. */
static inline int set_cpuid_x2apic(int vcpu)
{
	struct {
		struct kvm_cpuid2 hdr;
		struct kvm_cpuid_entry2 e[2];
	} c = {
		.hdr.nent = 2,
		.e[0] = { .function = 0, .eax = 1 },
		.e[1] = { .function = 1, .ecx = 1u << 21 },
	};

	return ioctl(vcpu, KVM_SET_CPUID2, &c);
}

/* Host-initiated APIC base write into x2APIC mode (vCPU 0 is the BSP). */
static inline int enter_x2apic(int vcpu, bool bsp)
{
	uint64_t base = APIC_BASE_DEFAULT | APIC_BASE_EN | APIC_BASE_EXTD;

	if (set_cpuid_x2apic(vcpu))
		return -1;
	if (bsp)
		base |= APIC_BASE_BSP;
	if (set_msr(vcpu, MSR_IA32_APICBASE, base) != 1)
		return -1;
	/* Software-enable through the x2APIC SPIV MSR. */
	return set_msr(vcpu, X2APIC_MSR(APIC_SPIV), APIC_SPIV_ENABLE | 0xff)
		== 1 ? 0 : -1;
}

/*
 * The vCPUs (bit i for v->vcpu[i]) whose IRR holds @vec; bit 31 flags a
 * failed KVM_GET_LAPIC.
 */
static inline uint32_t irr_mask(struct irq_vm *v, int vec)
{
	struct kvm_lapic_state s;
	uint32_t mask = 0;
	int i;

	for (i = 0; i < NR_VCPUS; i++) {
		if (get_lapic(v->vcpu[i], &s))
			return 1u << 31;
		if (lapic_test_vec(&s, APIC_IRR, vec))
			mask |= 1u << i;
	}
	return mask;
}

/*
 * The device's vector_hashing parameter (kvm.ko's or lapicv.ko's): true
 * unless the module was loaded with vector_hashing=0.
 */
#define HASHING_PARAM(mod)	"/sys/module/" mod "/parameters/vector_hashing"

static inline bool vector_hashing(void)
{
	const char *p = dev_is_kvm() ? HASHING_PARAM("kvm") :
				       HASHING_PARAM("lapicv");
	char c = 'Y';
	int fd = open(p, O_RDONLY);

	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = 'Y';
		close(fd);
	}
	return c != 'N' && c != '0';
}

#define REQUIRE_HASHING(h) do {						\
	bool __h = (h);							\
									\
	if (vector_hashing() != __h)					\
		SKIP(return, "needs vector_hashing=%d", __h);		\
} while (0)

#endif /* SELFTEST_IRQ_UTIL_H */
