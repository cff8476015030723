/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The local APIC as the selftests see it, after KVM's selftests
 * (include/x86_64/apic.h): register offsets in the KVM_GET_LAPIC page and
 * the xAPIC MMIO page (SDM names), the bits the tests use, and helpers for
 * KVM_GET/SET_LAPIC, one-MSR KVM_GET/SET_MSRS and KVM_SIGNAL_MSI.  Only
 * KVM's ioctls are used, so they work on /dev/lapicv and /dev/kvm alike.
 */
#ifndef SELFTEST_APIC_H
#define SELFTEST_APIC_H

#include <stdbool.h>
#include <linux/kvm.h>

#define MSR_IA32_APICBASE	0x1b
#define MSR_IA32_TSC_DEADLINE	0x6e0
#define APIC_BASE_DEFAULT	0xfee00000ull
#define APIC_BASE_BSP		(1ull << 8)
#define APIC_BASE_EXTD		(1ull << 10)
#define APIC_BASE_EN		(1ull << 11)
/* The x2APIC MSR of xAPIC register @off. */
#define X2APIC_MSR(off)		(0x800u + ((off) >> 4))

/* Register offsets (the KVM_GET_LAPIC layout). */
#define APIC_ID			0x20
#define APIC_LVR		0x30
#define APIC_TASKPRI		0x80
#define APIC_ARBPRI		0x90
#define APIC_PROCPRI		0xa0
#define APIC_EOI		0xb0
#define APIC_LDR		0xd0
#define APIC_DFR		0xe0
#define APIC_SPIV		0xf0
#define APIC_ISR		0x100
#define APIC_TMR		0x180
#define APIC_IRR		0x200
#define APIC_ESR		0x280
#define APIC_LVTCMCI		0x2f0
#define APIC_ICR		0x300
#define APIC_ICR2		0x310
#define APIC_LVTT		0x320
#define APIC_LVTTHMR		0x330
#define APIC_LVTPC		0x340
#define APIC_LVT0		0x350
#define APIC_LVT1		0x360
#define APIC_LVTERR		0x370
#define APIC_TMICT		0x380
#define APIC_TMCCT		0x390
#define APIC_TDCR		0x3e0
#define APIC_SELF_IPI		0x3f0

#define APIC_DFR_FLAT		0xffffffffu
#define APIC_DFR_CLUSTER	0x0fffffffu
#define APIC_SPIV_ENABLE	0x100u
#define LVT_MASKED		0x10000u

/* LVT timer modes and divide configurations. */
#define LVTT_ONESHOT		0x00000u
#define LVTT_PERIODIC		0x20000u
#define LVTT_TSCDEADLINE	0x40000u
#define TDCR_DIV1		0xb
#define TDCR_DIV2		0x0
#define TDCR_DIV16		0x3
#define TDCR_DIV128		0xa

/* ICR / MSI data fields. */
#define DM_FIXED		0x000
#define DM_LOWEST		0x100
#define DM_SMI			0x200
#define DM_REMRD		0x300
#define DM_NMI			0x400
#define DM_INIT			0x500
#define DM_SIPI			0x600
#define DM_EXTINT		0x700
#define ICR_LOGICAL		0x800
#define ICR_LEVEL_ASSERT	0x4000
#define ICR_LEVEL_TRIG		0x8000
#define SH_SELF			0x40000
#define SH_ALLINC		0x80000
#define SH_ALLBUT		0xc0000

/* CPUID leaf 1 bits the APIC depends on. */
#define CPUID1_ECX_X2APIC	(1u << 21)
#define CPUID1_ECX_TSC_DEADLINE	(1u << 24)
#define CPUID1_ECX_XSAVE	(1u << 26)
#define CPUID1_ECX_OSXSAVE	(1u << 27)
#define CPUID1_EDX_TSC		(1u << 4)
#define CPUID1_EDX_APIC		(1u << 9)

/* Register @off of a KVM_GET_LAPIC page, and its update. */
__u32 lapic_reg(const struct kvm_lapic_state *s, int off);
void lapic_set_reg(struct kvm_lapic_state *s, int off, __u32 v);
/* Whether @vec is set in the 256-bit IRR/ISR/TMR at @base. */
bool lapic_test_vec(const struct kvm_lapic_state *s, int base, int vec);

int get_lapic(int vcpu, struct kvm_lapic_state *s);
int set_lapic(int vcpu, struct kvm_lapic_state *s);

/* One-entry KVM_SET_MSRS / KVM_GET_MSRS: the count processed (1 or 0). */
int set_msr(int vcpu, __u32 index, __u64 data);
int get_msr(int vcpu, __u32 index, __u64 *data);

/*
 * A small guest CPUID: vendor leaf, leaf 1 with @ecx1 (plus APIC and TSC
 * in EDX), and the address widths leaf 0x80000008 with @phys_bits (none
 * if 0).
 */
int set_cpuid(int vcpu, __u32 ecx1, unsigned int phys_bits);

int get_mp_state(int vcpu);
int set_mp_state(int vcpu, __u32 state);

int signal_msi(int vm, __u32 lo, __u32 hi, __u32 data);
/* One MSI route of KVM_SET_GSI_ROUTING's table. */
struct msi_route {
	__u32 gsi, address_lo, address_hi, data;
};

/*
 * KVM_SET_GSI_ROUTING with @n MSI routes (the table replaced whole);
 * returns what the ioctl returned.
 */
int set_msi_routes(int vm, const struct msi_route *routes, unsigned int n);
/* KVM_ENABLE_CAP(KVM_CAP_X2APIC_API) with @flags. */
int enable_x2apic_api(int vm, __u64 flags);

#endif /* SELFTEST_APIC_H */
