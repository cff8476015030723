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
	/* The VM's APIC bus period in ns (timer.h), fixed at creation. */
	u64 bus_cycle_ns;

	bool apicv_active;
	bool sw_enabled;
	/* Some IRR bit may be set; always true while apicv_active. */
	bool irr_pending;
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
	/*
	 * INIT/SIPI accepted (LAPICV_APIC_* bits) but not yet reported by a
	 * run step: lapicv owns no CPU registers, so the VMM must hear of
	 * each one, even when KVM_GET_MP_STATE did the accepting.  Owner
	 * only (vcpu->mutex).
	 */
	unsigned long accepted_events;
	u8 accepted_sipi_vector;
	int nr_lvt_entries;

	/* KVM_MP_STATE_*; changed by the vCPU's owner only. */
	u32 mp_state;
	/* Lowest-priority arbitration priority (KVM's apic_arb_prio). */
	int arb_prio;

	/* Guest CPUID facts the APIC depends on (KVM_SET_CPUID2). */
	bool cpuid_x2apic;
	bool cpuid_tsc_deadline;
	u8 maxphyaddr;

	/* lapic.c: event state KVM keeps in kvm_vcpu_arch (NMIs: events.h). */
	/* A REMRD (PV unhalt) message arrived: a halted vCPU reads RUNNABLE. */
	bool pv_unhalted;
	/* ExtINT vector from the VMM's PIC (KVM_INTERRUPT), or -1. */
	int pending_external_vector;
	/* The table KVM_SET_CPUID2 gave, as KVM_GET_CPUID2 returns it. */
	struct kvm_cpuid_entry2 *cpuid_entries;
	int cpuid_nent;
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

/* ---- lapic.c ----
 *
 * Unless a comment says otherwise, these run in the vCPU's own ioctls, with
 * lapicv_vcpu.mutex held, and return 0 or KVM's errno as a negative value.
 * The register-level helpers return 0 on success and 1 where KVM's would
 * fail the access (a #GP for a guest, a failed MSR for the VMM).
 */

/* KVM's KVM_MAX_CPUID_ENTRIES: the most entries KVM_SET_CPUID2 takes. */
#define LAPICV_MAX_CPUID_ENTRIES	256

/* Allocate the APIC and its zeroed register page; lapicv_lapic_reset next. */
int lapicv_lapic_create(struct lapicv_vcpu *vcpu);
/* Stop the timer and free what lapicv_lapic_create() allocated. */
void lapicv_lapic_free(struct lapicv_vcpu *vcpu);
/*
 * RESET (init_event false: APIC base to 0xfee00000 | EN, plus BSP for vCPU
 * id 0) or INIT (init_event true: APIC base and xAPIC ID kept), as KVM's
 * kvm_lapic_reset() plus the APIC part of kvm_vcpu_reset().
 */
void lapicv_lapic_reset(struct lapicv_vcpu *vcpu, bool init_event);

/*
 * MSR_IA32_APICBASE write.  Returns 1 for reserved bits (MAXPHYADDR, the
 * x2APIC bit without x2APIC in CPUID), the invalid mode, and, for guest
 * writes only, x2APIC -> xAPIC and disabled -> x2APIC.
 */
int lapicv_apic_set_base(struct lapicv_vcpu *vcpu, u64 value,
			 bool host_initiated);

/* xAPIC-layout register access, offset in bytes; 4-byte reads and writes. */
int lapicv_apic_reg_read(struct lapicv_lapic *apic, u32 offset, u32 *val);
int lapicv_apic_reg_write(struct lapicv_lapic *apic, u32 offset, u32 val);

/* MSR 0x800 + (offset >> 4); 1 unless the APIC is in x2APIC mode. */
int lapicv_x2apic_msr_read(struct lapicv_lapic *apic, u32 msr, u64 *data);
int lapicv_x2apic_msr_write(struct lapicv_lapic *apic, u32 msr, u64 data);

/*
 * KVM_GET_MSRS / KVM_SET_MSRS for one entry: MSR_IA32_APICBASE, the x2APIC
 * range and MSR_IA32_TSC_DEADLINE.  0 on success, 1 on failure (the
 * caller stops there and reports how many entries were processed).  Every
 * one fails on a protected APIC, which nobody outside the guest may touch.
 */
int lapicv_get_msr(struct lapicv_vcpu *vcpu, u32 index, u64 *data);
int lapicv_set_msr(struct lapicv_vcpu *vcpu, u32 index, u64 data,
		   bool host_initiated);

/* Send the IPI that ICR (low, high) describes; no lock needed on targets. */
void lapicv_apic_send_ipi(struct lapicv_lapic *apic, u32 icr_low,
			  u32 icr_high);

/*
 * Accept one interrupt message at one destination (KVM's
 * __apic_accept_irq()): sets IRR/TMR, pending INIT/SIPI, or queues an
 * NMI (events.h) or requests an SMI, then raises LAPICV_REQ_EVENT and kicks.  Returns 1 if the
 * message was accepted, 0 if dropped (disabled APIC, INIT de-assert, ...).
 * Callable from any context that may run irq.c's delivery, without the
 * target's mutex: every field a sender touches is set atomically.
 */
int lapicv_apic_accept_irq(struct lapicv_lapic *apic,
			   const struct lapicv_irq *irq);
/* Deliver through the LVT entry at @lvt_offset (APIC_LVTT, APIC_LVT0, ...). */
int lapicv_apic_local_deliver(struct lapicv_lapic *apic, int lvt_offset);
/* Lowest-priority arbitration: < 0 when @a should win over @b. */
int lapicv_apic_compare_prio(struct lapicv_lapic *a, struct lapicv_lapic *b);

/* Highest vector set in IRR / ISR, or -1; the caches follow KVM's rules. */
int lapicv_apic_find_highest_irr(struct lapicv_lapic *apic);
int lapicv_apic_find_highest_isr(struct lapicv_lapic *apic);
/* The highest IRR vector above PPR's priority class, or -1. */
int lapicv_apic_deliverable_vector(struct lapicv_lapic *apic, int max_irr);
/*
 * Acknowledge @vector (from lapicv_apic_deliverable_vector()): IRR to ISR
 * and PPR, or the modelled virtual-interrupt delivery with APICv active.
 */
void lapicv_apic_ack_interrupt(struct lapicv_lapic *apic, int vector);
/* An ExtINT from the VMM's PIC may reach the CPU now. */
bool lapicv_apic_accept_pic_intr(struct lapicv_lapic *apic);

/*
 * KVM_GET_LAPIC / KVM_SET_LAPIC.  set_state fixes up @s in place (the
 * caller's copy) and leaves the APIC untouched when it refuses it.
 */
int lapicv_apic_get_state(struct lapicv_vcpu *vcpu, struct kvm_lapic_state *s);
int lapicv_apic_set_state(struct lapicv_vcpu *vcpu, struct kvm_lapic_state *s);

/*
 * Act on pending INIT and SIPI (KVM's kvm_apic_accept_events()); returns
 * the ones acted on by this call (BIT(LAPICV_APIC_INIT), _SIPI), which
 * are also added to accepted_events.
 */
unsigned long lapicv_apic_accept_events(struct lapicv_vcpu *vcpu);
/*
 * KVM_GET_MP_STATE (accepts events first; *@accepted, when not NULL, is
 * what that accept acted on) and KVM_SET_MP_STATE.
 */
int lapicv_get_mp_state(struct lapicv_vcpu *vcpu, struct kvm_mp_state *mp,
			unsigned long *accepted);
int lapicv_set_mp_state(struct lapicv_vcpu *vcpu,
			const struct kvm_mp_state *mp);

/* KVM_NMI and KVM_INTERRUPT (ExtINT from the VMM's PIC). */
int lapicv_inject_nmi(struct lapicv_vcpu *vcpu);
int lapicv_inject_extint(struct lapicv_vcpu *vcpu, u32 irq);

/*
 * KVM_SET_CPUID2: takes ownership of @entries (kvmalloc'ed, @nent of them)
 * on success only.  KVM_GET_CPUID2: the table as KVM would return it, and
 * its length in @nent; valid until the next lapicv_set_cpuid().
 */
int lapicv_set_cpuid(struct lapicv_vcpu *vcpu,
		     struct kvm_cpuid_entry2 *entries, int nent);
const struct kvm_cpuid_entry2 *lapicv_get_cpuid(struct lapicv_vcpu *vcpu,
						u32 *nent);

#endif /* _LAPICV_LAPIC_H */
