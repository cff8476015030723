/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The per-vCPU local APIC: state and the contract between lapic.c (register
 * file, state, EOI, INIT/SIPI), irq.c (APIC map and interrupt routing) and
 * timer.c (the APIC timer).  Nothing here knows about VMX or SVM.
 *
 * Every value a VMM can observe through KVM's ioctls (KVM_GET_LAPIC,
 * KVM_GET_MSRS, KVM_GET_MP_STATE) is kept exactly as KVM keeps it, so the
 * same test expectations hold on /dev/lapicv and /dev/kvm.
 */
#ifndef _LAPICV_LAPIC_H
#define _LAPICV_LAPIC_H

#include "lapicv.h"
#include "timer.h"

/* Bits in lapicv_lapic.pending_events. */
#define LAPICV_APIC_INIT	0
#define LAPICV_APIC_SIPI	1

#define LAPICV_APIC_BROADCAST	0xffu
#define LAPICV_X2APIC_BROADCAST	0xffffffffu

/* The APIC mode, encoded as the APIC base MSR's EN and EXTD bits. */
enum lapicv_apic_mode {
	LAPICV_MODE_DISABLED	= 0,
	LAPICV_MODE_INVALID	= X2APIC_ENABLE,
	LAPICV_MODE_XAPIC	= MSR_IA32_APICBASE_ENABLE,
	LAPICV_MODE_X2APIC	= MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE,
};

enum lapicv_lvt {
	LAPICV_LVT_TIMER,
	LAPICV_LVT_THERMAL,
	LAPICV_LVT_PERFCTR,
	LAPICV_LVT_LINT0,
	LAPICV_LVT_LINT1,
	LAPICV_LVT_ERROR,
	LAPICV_LVT_CMCI,
	LAPICV_NR_LVT,
};

/* One interrupt message on its way to one or more local APICs. */
struct lapicv_irq {
	u32 vector;
	u16 delivery_mode;	/* APIC_DM_* */
	u16 dest_mode;		/* APIC_DEST_PHYSICAL or APIC_DEST_LOGICAL */
	bool level;		/* asserted; false only for INIT de-assert */
	u16 trig_mode;		/* APIC_EDGE_TRIG or APIC_LEVEL_TRIG (as 0/1) */
	u32 shorthand;		/* APIC_DEST_NOSHORT, _SELF, _ALLINC, _ALLBUT */
	u32 dest_id;
	bool msi_redir_hint;
};

/* The per-vCPU local APIC; owned by lapic.c. */
struct lapicv_lapic {
	struct lapicv_vcpu *vcpu;
	unsigned long base_address;
	/* The APIC base MSR as the guest sees it. */
	u64 apic_base;
	struct lapicv_timer lapic_timer;
	u32 divide_count;

	bool apicv_active;
	bool sw_enabled;
	/* Some IRR bit may be set; always true while apicv_active. */
	bool irr_pending;
	bool lvt0_in_nmi_mode;
	/* TDX-style: the VMM cannot read or write the register page. */
	bool guest_apic_protected;
	/* Bits set in ISR; 1 while apicv_active (hardware owns ISR). */
	s16 isr_count;
	/* Highest ISR vector, or -1 when unknown and ISR must be scanned. */
	int highest_isr_cache;

	/* The register page, laid out as the guest sees it (4 KiB). */
	void *regs;

	unsigned long pending_events;	/* LAPICV_APIC_INIT / _SIPI */
	unsigned int sipi_vector;
	int nr_lvt_entries;

	/* KVM_MP_STATE_*; changed by the vCPU's owner only. */
	u32 mp_state;
	/* Lowest-priority arbitration priority (KVM's apic_arb_prio). */
	int arb_prio;

	/* Guest CPUID facts the APIC depends on (KVM_SET_CPUID2). */
	bool cpuid_x2apic;
	bool cpuid_tsc_deadline;
	u8 maxphyaddr;
};

/* ---- register page accessors ---- */

static inline u32 __lapicv_get_reg(const char *regs, int off)
{
	return *(const u32 *)(regs + off);
}

static inline void __lapicv_set_reg(char *regs, int off, u32 val)
{
	*(u32 *)(regs + off) = val;
}

static inline u32 lapicv_get_reg(const struct lapicv_lapic *apic, int off)
{
	return __lapicv_get_reg(apic->regs, off);
}

static inline void lapicv_set_reg(struct lapicv_lapic *apic, int off, u32 val)
{
	__lapicv_set_reg(apic->regs, off, val);
}

/* IRR/ISR/TMR are eight 32-bit words, 16 bytes apart. */
#define LAPICV_VEC_POS(v)	((v) & 31)
#define LAPICV_REG_POS(v)	(((v) >> 5) << 4)

static inline bool lapicv_test_vector(int vec, const void *bitmap)
{
	return *(const u32 *)(bitmap + LAPICV_REG_POS(vec)) &
		BIT(LAPICV_VEC_POS(vec));
}

static inline enum lapicv_apic_mode lapicv_apic_mode(u64 apic_base)
{
	return apic_base & (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE);
}

static inline bool lapicv_apic_hw_enabled(const struct lapicv_lapic *apic)
{
	return apic->apic_base & MSR_IA32_APICBASE_ENABLE;
}

static inline bool lapicv_apic_sw_enabled(const struct lapicv_lapic *apic)
{
	return apic->sw_enabled;
}

static inline bool lapicv_apic_enabled(const struct lapicv_lapic *apic)
{
	return lapicv_apic_hw_enabled(apic) && lapicv_apic_sw_enabled(apic);
}

static inline bool lapicv_x2apic_mode(const struct lapicv_lapic *apic)
{
	return apic->apic_base & X2APIC_ENABLE;
}

#endif /* _LAPICV_LAPIC_H */
