// SPDX-License-Identifier: GPL-2.0-only
/*
 * The local APIC of one vCPU: register file, APIC base, priorities, EOI,
 * acceptance of interrupt messages, INIT/SIPI, KVM_GET/SET_LAPIC, the APIC
 * MSRs and the CPUID facts the APIC depends on.
 *
 * Every value a VMM can read back follows KVM 6.12 with kvm_amd (no AVIC),
 * the reference for the selftests: the same registers, the same caches
 * (irr_pending, isr_count, highest_isr_cache) and the same split ICR in
 * x2APIC mode (kvm_amd keeps ICR[63:32] in the ICR2 slot).
 *
 * Locking: no lock of its own (card in Documentation/locking.rst).  The
 * vCPU's ioctls hold lapicv_vcpu.mutex, which covers everything here
 * except what senders on other vCPUs touch in lapicv_apic_accept_irq():
 * TMR bits (atomic bit operations), IRR and irr_pending (the backend's
 * deliver_interrupt), pending_events and sipi_vector (vector first, then
 * the bit, with a write barrier), the vCPU's nmi_queued (atomic) and
 * LAPICV_REQ_SMI (a request bit), arb_prio and pv_unhalted (plain stores,
 * as KVM's).
 */
#include "apicv.h"
#include "inhibit.h"
#include "irq.h"
#include "lapic.h"
#include "timer.h"
#include "trace.h"

#define APIC_VERSION_NR		0x14	/* integrated APIC, as KVM reports */
#define APIC_NR_LVT_DEFAULT	6	/* no CMCI: KVM's default mcg_cap */
#define APIC_LVR_DIRECTED_EOI_BIT	BIT(24)
#define APIC_SPIV_DIRECTED_EOI_BIT	BIT(12)
#define APIC_REG_WORDS		8	/* IRR/ISR/TMR: eight 32-bit words */

/* Bits the LVT registers keep, by LVT index (KVM's apic_lvt_mask[]). */
#define APIC_LVT_BASE_MASK	(APIC_LVT_MASKED | APIC_SEND_PENDING | 0xff)
#define APIC_LVT_LINT_MASK	(APIC_LVT_BASE_MASK | APIC_MODE_MASK |	\
				 APIC_INPUT_POLARITY | APIC_LVT_REMOTE_IRR | \
				 APIC_LVT_LEVEL_TRIGGER)

static const u32 apic_lvt_mask[LAPICV_NR_LVT] = {
	/* The timer mode bits come from timer_mode_mask, set by CPUID. */
	[LAPICV_LVT_TIMER]	= APIC_LVT_BASE_MASK,
	[LAPICV_LVT_THERMAL]	= APIC_LVT_BASE_MASK | APIC_MODE_MASK,
	[LAPICV_LVT_PERFCTR]	= APIC_LVT_BASE_MASK | APIC_MODE_MASK,
	[LAPICV_LVT_LINT0]	= APIC_LVT_LINT_MASK,
	[LAPICV_LVT_LINT1]	= APIC_LVT_LINT_MASK,
	[LAPICV_LVT_ERROR]	= APIC_LVT_BASE_MASK,
	[LAPICV_LVT_CMCI]	= APIC_LVT_BASE_MASK | APIC_MODE_MASK,
};

/* ICR[19:18], the destination shorthand (APIC_DEST_SELF, ...). */
#define APIC_ICR_SHORTHAND	0xc0000

/* x2APIC ICR bits that must be zero (31:20, 17:16 and 13). */
#define X2APIC_ICR_RSVD	(GENMASK_ULL(31, 20) | GENMASK_ULL(17, 16) | BIT_ULL(13))

/* One bit per 16-byte register slot, offsets 0x000 .. 0x3f0. */
#define APIC_REG_BIT(off)	BIT_ULL((off) >> 4)
#define APIC_REG_RANGE(off, n)	(APIC_REG_BIT(off) * (BIT_ULL(n) - 1))

/* ---- small helpers ---- */

static u32 apic_lvt_offset(int idx)
{
	/* CMCI sits apart from the other LVTs in the register page. */
	return idx == LAPICV_LVT_CMCI ? APIC_LVTCMCI : APIC_LVTT + 0x10 * idx;
}

static int apic_lvt_index(u32 offset)
{
	if (offset == APIC_LVTCMCI)
		return LAPICV_LVT_CMCI;
	if (offset < APIC_LVTT || offset > APIC_LVTERR)
		return -1;
	return (offset - APIC_LVTT) >> 4;
}

static bool apic_lvt_supported(struct lapicv_lapic *apic, int idx)
{
	return idx >= 0 && idx < apic->nr_lvt_entries;
}

static void apic_set_vector(int vec, void *bitmap)
{
	set_bit(LAPICV_VEC_POS(vec), bitmap + LAPICV_REG_POS(vec));
}

static void apic_clear_vector(int vec, void *bitmap)
{
	clear_bit(LAPICV_VEC_POS(vec), bitmap + LAPICV_REG_POS(vec));
}

static int apic_highest_vector(const void *bitmap)
{
	int i;
	u32 w;

	for (i = APIC_REG_WORDS - 1; i >= 0; i--) {
		/* Senders set IRR bits without the vCPU's mutex. */
		w = READ_ONCE(*(const u32 *)(bitmap + 0x10 * i));
		if (w)
			return i * 32 + __fls(w);
	}
	return -1;
}

static u32 apic_x2apic_ldr(u32 id)
{
	/* Cluster in bits 31:16, one bit for the position in the cluster. */
	return ((id >> 4) << 16) | BIT(id & 0xf);
}

static bool apic_is_bsp(struct lapicv_lapic *apic)
{
	return apic->apic_base & MSR_IA32_APICBASE_BSP;
}

/* KVM's kvm_vcpu_is_reset_bsp(): KVM_SET_BOOT_CPU_ID's id, 0 by default. */
static bool apic_is_reset_bsp(struct lapicv_lapic *apic)
{
	return apic->vcpu->vcpu_id == apic->vcpu->vm->bsp_vcpu_id;
}

static void apic_map_dirty(struct lapicv_lapic *apic)
{
	lapicv_apic_map_mark_dirty(apic->vcpu->vm);
}

/* ---- ID, LDR, DFR, SPIV, version ---- */

static void apic_set_xapic_id(struct lapicv_lapic *apic, u8 id)
{
	lapicv_set_reg(apic, APIC_ID, (u32)id << 24);
	apic_map_dirty(apic);
}

static void apic_set_x2apic_id(struct lapicv_lapic *apic)
{
	u32 id = apic->vcpu->vcpu_id;

	lapicv_set_reg(apic, APIC_ID, id);
	lapicv_set_reg(apic, APIC_LDR, apic_x2apic_ldr(id));
	apic_map_dirty(apic);
}

static void apic_set_ldr(struct lapicv_lapic *apic, u32 val)
{
	lapicv_set_reg(apic, APIC_LDR, val);
	apic_map_dirty(apic);
}

static void apic_set_dfr(struct lapicv_lapic *apic, u32 val)
{
	lapicv_set_reg(apic, APIC_DFR, val);
	apic_map_dirty(apic);
}

static void apic_set_spiv(struct lapicv_lapic *apic, u32 val)
{
	bool enabled = val & APIC_SPIV_APIC_ENABLED;

	lapicv_set_reg(apic, APIC_SPIV, val);
	if (enabled != apic->sw_enabled) {
		apic->sw_enabled = enabled;
		/* Software-disabled APICs drop out of the map. */
		apic_map_dirty(apic);
	}
}

static void apic_set_version(struct lapicv_lapic *apic)
{
	u32 v = APIC_VERSION_NR | ((apic->nr_lvt_entries - 1) << 16);

	/*
	 * The IOAPIC is the VMM's (split irqchip), so directed EOI can be
	 * offered to an x2APIC-capable guest, as KVM does.
	 */
	if (apic->cpuid_x2apic)
		v |= APIC_LVR_DIRECTED_EOI_BIT;
	lapicv_set_reg(apic, APIC_LVR, v);
}

/* ---- IRR, ISR, PPR ---- */

int lapicv_apic_find_highest_irr(struct lapicv_lapic *apic)
{
	/* irr_pending is a hint: when clear, IRR is known to be empty. */
	if (!READ_ONCE(apic->irr_pending))
		return -1;
	return apic_highest_vector(apic->regs + APIC_IRR);
}

int lapicv_apic_find_highest_isr(struct lapicv_lapic *apic)
{
	if (!apic->isr_count)
		return -1;
	if (apic->highest_isr_cache != -1)
		return apic->highest_isr_cache;
	return apic_highest_vector(apic->regs + APIC_ISR);
}

static void apic_clear_isr(struct lapicv_lapic *apic, int vec)
{
	void *isr = apic->regs + APIC_ISR;

	if (!lapicv_test_vector(vec, isr))
		return;
	apic_clear_vector(vec, isr);
	/* With APICv active the caches are unused. */
	if (apic->apicv_active)
		return;
	apic->isr_count--;
	/* The next highest is unknown until ISR is scanned again. */
	apic->highest_isr_cache = -1;
}

/* Recompute PPR; true if it dropped, which may unmask an IRR vector. */
static bool __apic_update_ppr(struct lapicv_lapic *apic, u32 *new_ppr)
{
	u32 old = lapicv_get_reg(apic, APIC_PROCPRI);
	u32 tpr = lapicv_get_reg(apic, APIC_TASKPRI);
	int isr = lapicv_apic_find_highest_isr(apic);
	u32 isrv = isr < 0 ? 0 : isr;
	u32 ppr;

	if ((tpr & 0xf0) >= (isrv & 0xf0))
		ppr = tpr & 0xff;
	else
		ppr = isrv & 0xf0;
	*new_ppr = ppr;
	if (ppr != old)
		lapicv_set_reg(apic, APIC_PROCPRI, ppr);
	return ppr < old;
}

static void apic_update_ppr(struct lapicv_lapic *apic)
{
	int irr;
	u32 ppr;

	if (!__apic_update_ppr(apic, &ppr))
		return;
	irr = lapicv_apic_find_highest_irr(apic);
	if (irr != -1 && (irr & 0xf0) > ppr)
		lapicv_make_request(apic->vcpu, LAPICV_REQ_EVENT);
}

static void apic_set_tpr(struct lapicv_lapic *apic, u32 tpr)
{
	lapicv_set_reg(apic, APIC_TASKPRI, tpr);
	apic_update_ppr(apic);
}

/* ---- EOI ---- */

/*
 * A vector of the VMM's IOAPIC was EOId: the IOAPIC must hear of it
 * (split irqchip: KVM's KVM_EXIT_IOAPIC_EOI), which the next run step
 * reports.  As in KVM, the vectors are those the last scan of the VMM's
 * GSI routes found for this vCPU (irq_route.c), whatever TMR says now: a
 * later edge message with the same vector clears TMR, and a level MSI
 * that is no IOAPIC route needs no EOI.
 */
static void apic_ioapic_eoi(struct lapicv_lapic *apic, int vec)
{
	if (!test_bit(vec, apic->vcpu->ioapic_handled_vectors))
		return;
	__set_bit(vec, apic->vcpu->ioapic_eoi_pending);
	lapicv_make_request(apic->vcpu, LAPICV_REQ_IOAPIC_EOI);
}

static void apic_set_eoi(struct lapicv_lapic *apic)
{
	int vec = lapicv_apic_find_highest_isr(apic);

	/* An EOI with nothing in service is legal and does nothing. */
	if (vec == -1)
		return;
	trace_lapicv_eoi(apic->vcpu->vcpu_id, vec);
	apic_clear_isr(apic, vec);
	apic_update_ppr(apic);
	apic_ioapic_eoi(apic, vec);
	lapicv_make_request(apic->vcpu, LAPICV_REQ_EVENT);
}

/* ---- acknowledge (KVM's kvm_get_apic_interrupt) ---- */

/*
 * The highest IRR vector above PPR's class, or -1: KVM's
 * kvm_apic_has_interrupt(), which asks only for a hardware-enabled APIC
 * and recomputes PPR first, since the stored one may predate the ISR it
 * depends on (KVM_SET_LAPIC computes it before the caches are reset).
 */
int lapicv_apic_deliverable_vector(struct lapicv_lapic *apic, int max_irr)
{
	u32 ppr;

	if (!lapicv_apic_hw_enabled(apic) || max_irr < 0)
		return -1;
	__apic_update_ppr(apic, &ppr);
	if ((u32)(max_irr & 0xf0) <= ppr)
		return -1;
	return max_irr;
}

static void apic_clear_irr(struct lapicv_lapic *apic, int vector)
{
	unsigned long *word = (unsigned long *)(apic->regs + APIC_IRR +
						LAPICV_REG_POS(vector));

	if (apic->apicv_active) {
		/* irr_pending stays true while the modelled CPU owns IRR. */
		clear_bit(LAPICV_VEC_POS(vector), word);
		return;
	}
	/*
	 * Clear the hint first and set it again if anything is left, so a
	 * sender's concurrent bit is never hidden behind a false hint.
	 */
	WRITE_ONCE(apic->irr_pending, false);
	clear_bit(LAPICV_VEC_POS(vector), word);
	/* The rescan must see bits set by senders after the hint cleared. */
	smp_mb__after_atomic();
	if (apic_highest_vector(apic->regs + APIC_IRR) != -1)
		WRITE_ONCE(apic->irr_pending, true);
}

static void apic_set_isr(struct lapicv_lapic *apic, int vector)
{
	unsigned long *word = (unsigned long *)(apic->regs + APIC_ISR +
						LAPICV_REG_POS(vector));

	if (__test_and_set_bit(LAPICV_VEC_POS(vector), word))
		return;
	/* Virtual delivery: the caches are unused. */
	if (apic->apicv_active)
		return;
	apic->isr_count++;
	/* Acknowledged vectors are the highest deliverable: cache it. */
	apic->highest_isr_cache = vector;
}

/*
 * Move @vector from IRR to ISR and raise PPR: what the CPU's INTA cycle
 * does, or, with APICv active, what the modelled virtual-interrupt
 * delivery does to the virtual-APIC page.
 */
void lapicv_apic_ack_interrupt(struct lapicv_lapic *apic, int vector)
{
	u32 ppr;

	apic_clear_irr(apic, vector);
	apic_set_isr(apic, vector);
	/* PPR only rises here: nothing new can become deliverable. */
	__apic_update_ppr(apic, &ppr);
}

/*
 * The PIC's ExtINT reaches the CPU only through LINT0 in ExtINT mode, or
 * directly while the APIC is hardware-disabled (KVM's
 * kvm_apic_accept_pic_intr()).
 */
bool lapicv_apic_accept_pic_intr(struct lapicv_lapic *apic)
{
	u32 lvt0 = lapicv_get_reg(apic, APIC_LVT0);

	if (!lapicv_apic_hw_enabled(apic))
		return true;
	return !(lvt0 & APIC_LVT_MASKED) &&
	       (lvt0 & APIC_MODE_MASK) == APIC_DM_EXTINT;
}

/* ---- interrupt acceptance ---- */

int lapicv_apic_accept_irq(struct lapicv_lapic *apic,
			   const struct lapicv_irq *irq)
{
	struct lapicv_vcpu *vcpu = apic->vcpu;
	int vec = irq->vector;

	switch (irq->delivery_mode) {
	case APIC_DM_LOWEST:
		apic->arb_prio++;
		fallthrough;
	case APIC_DM_FIXED:
		/* A level-triggered de-assert carries no interrupt. */
		if (irq->trig_mode && !irq->level)
			return 0;
		if (!lapicv_apic_enabled(apic))
			return 0;
		/*
		 * TMR before the backend sets IRR (or PIR), so that whoever
		 * acknowledges the vector finds its trigger mode.  Vectors
		 * below 16 are accepted like any other, as KVM does.
		 */
		if (lapicv_test_vector(vec, apic->regs + APIC_TMR) !=
		    !!irq->trig_mode) {
			if (irq->trig_mode)
				apic_set_vector(vec, apic->regs + APIC_TMR);
			else
				apic_clear_vector(vec, apic->regs + APIC_TMR);
		}
		/* The backend raises the request and kicks the vCPU. */
		lapicv_deliver_interrupt(apic, irq->delivery_mode,
					 irq->trig_mode, vec);
		return 1;
	case APIC_DM_REMRD:
		apic->pv_unhalted = true;
		break;
	case APIC_DM_SMI:
		/* Latched by the owner, as KVM's KVM_REQ_SMI. */
		lapicv_make_request(vcpu, LAPICV_REQ_SMI);
		break;
	case APIC_DM_NMI:
		lapicv_events_queue_nmi(&vcpu->events);
		break;
	case APIC_DM_INIT:
		/* INIT level de-assert is ignored by everything since P4. */
		if (irq->trig_mode && !irq->level)
			return 0;
		/* A new INIT discards a SIPI that has not been acted on. */
		WRITE_ONCE(apic->pending_events, BIT(LAPICV_APIC_INIT));
		break;
	case APIC_DM_STARTUP:
		apic->sipi_vector = vec;
		/* The receiver reads the vector after it sees the bit. */
		smp_wmb();
		set_bit(LAPICV_APIC_SIPI, &apic->pending_events);
		break;
	default:
		/*
		 * ExtINT reaches a vCPU only through KVM_INTERRUPT; an LVT
		 * in ExtINT mode, or a reserved mode, delivers nothing.
		 */
		return 0;
	}

	lapicv_make_request(vcpu, LAPICV_REQ_EVENT);
	lapicv_vcpu_kick(vcpu);
	return 1;
}

int lapicv_apic_local_deliver(struct lapicv_lapic *apic, int lvt_offset)
{
	u32 lvt = lapicv_get_reg(apic, lvt_offset);
	struct lapicv_irq irq = {
		.vector = lvt & APIC_VECTOR_MASK,
		.delivery_mode = lvt & APIC_MODE_MASK,
		.level = true,
		.trig_mode = !!(lvt & APIC_LVT_LEVEL_TRIGGER),
	};

	if (!lapicv_apic_hw_enabled(apic) || (lvt & APIC_LVT_MASKED))
		return 0;
	return lapicv_apic_accept_irq(apic, &irq);
}

int lapicv_apic_compare_prio(struct lapicv_lapic *a, struct lapicv_lapic *b)
{
	return a->arb_prio - b->arb_prio;
}

void lapicv_apic_send_ipi(struct lapicv_lapic *apic, u32 icr_low,
			  u32 icr_high)
{
	struct lapicv_irq irq = {
		.vector = icr_low & APIC_VECTOR_MASK,
		.delivery_mode = icr_low & APIC_MODE_MASK,
		.dest_mode = icr_low & APIC_DEST_LOGICAL,
		.level = !!(icr_low & APIC_INT_ASSERT),
		.trig_mode = !!(icr_low & APIC_INT_LEVELTRIG),
		.shorthand = icr_low & APIC_ICR_SHORTHAND,
	};

	/* xAPIC keeps the destination in ICR2[31:24]. */
	irq.dest_id = lapicv_x2apic_mode(apic) ? icr_high : icr_high >> 24;
	lapicv_irq_delivery_to_apic(apic->vcpu->vm, apic, &irq);
}

/* ---- register reads ---- */

static u64 apic_readable_regs(struct lapicv_lapic *apic)
{
	u64 mask = APIC_REG_BIT(APIC_ID) | APIC_REG_BIT(APIC_LVR) |
		   APIC_REG_BIT(APIC_TASKPRI) | APIC_REG_BIT(APIC_PROCPRI) |
		   APIC_REG_BIT(APIC_LDR) | APIC_REG_BIT(APIC_SPIV) |
		   APIC_REG_RANGE(APIC_ISR, APIC_REG_WORDS) |
		   APIC_REG_RANGE(APIC_TMR, APIC_REG_WORDS) |
		   APIC_REG_RANGE(APIC_IRR, APIC_REG_WORDS) |
		   APIC_REG_BIT(APIC_ESR) | APIC_REG_BIT(APIC_ICR) |
		   APIC_REG_BIT(APIC_LVTT) | APIC_REG_BIT(APIC_LVTTHMR) |
		   APIC_REG_BIT(APIC_LVTPC) | APIC_REG_BIT(APIC_LVT0) |
		   APIC_REG_BIT(APIC_LVT1) | APIC_REG_BIT(APIC_LVTERR) |
		   APIC_REG_BIT(APIC_TMICT) | APIC_REG_BIT(APIC_TMCCT) |
		   APIC_REG_BIT(APIC_TDCR);

	if (apic_lvt_supported(apic, LAPICV_LVT_CMCI))
		mask |= APIC_REG_BIT(APIC_LVTCMCI);
	/* x2APIC has no arbitration priority, DFR or ICR2. */
	if (!lapicv_x2apic_mode(apic))
		mask |= APIC_REG_BIT(APIC_ARBPRI) | APIC_REG_BIT(APIC_DFR) |
			APIC_REG_BIT(APIC_ICR2);
	return mask;
}

/* The value a read of a readable register returns. */
static u32 apic_read(struct lapicv_lapic *apic, u32 offset)
{
	switch (offset) {
	case APIC_ARBPRI:
		/* KVM does not model the arbitration priority: reads 0. */
		return 0;
	case APIC_TMCCT:
		return lapicv_timer_read_tmcct(apic);
	case APIC_PROCPRI:
		apic_update_ppr(apic);
		return lapicv_get_reg(apic, APIC_PROCPRI);
	default:
		return lapicv_get_reg(apic, offset);
	}
}

int lapicv_apic_reg_read(struct lapicv_lapic *apic, u32 offset, u32 *val)
{
	if (offset > APIC_SELF_IPI || (offset & 0xf) ||
	    !(apic_readable_regs(apic) & APIC_REG_BIT(offset)))
		return 1;
	*val = apic_read(apic, offset);
	return 0;
}

/* ---- register writes ---- */

static void apic_write_spiv(struct lapicv_lapic *apic, u32 val)
{
	u32 mask = 0x3ff;
	int i;

	if (lapicv_get_reg(apic, APIC_LVR) & APIC_LVR_DIRECTED_EOI_BIT)
		mask |= APIC_SPIV_DIRECTED_EOI_BIT;
	apic_set_spiv(apic, val & mask);
	if (val & APIC_SPIV_APIC_ENABLED)
		return;
	/* Software disable masks every LVT and drops expired ticks. */
	for (i = 0; i < apic->nr_lvt_entries; i++) {
		u32 off = apic_lvt_offset(i);

		lapicv_set_reg(apic, off,
			       lapicv_get_reg(apic, off) | APIC_LVT_MASKED);
	}
	lapicv_timer_update_lvtt(apic);
	atomic_set(&apic->lapic_timer.pending, 0);
}

static int apic_write_lvt(struct lapicv_lapic *apic, u32 offset, u32 val)
{
	int idx = apic_lvt_index(offset);
	u32 mask;

	if (!apic_lvt_supported(apic, idx))
		return 1;
	/* A software-disabled APIC keeps every LVT masked. */
	if (!lapicv_apic_sw_enabled(apic))
		val |= APIC_LVT_MASKED;
	mask = apic_lvt_mask[idx];
	if (idx == LAPICV_LVT_TIMER)
		mask |= apic->lapic_timer.timer_mode_mask;
	lapicv_set_reg(apic, offset, val & mask);
	if (idx == LAPICV_LVT_TIMER)
		lapicv_timer_update_lvtt(apic);
	return 0;
}

static int __apic_reg_write(struct lapicv_lapic *apic, u32 offset, u32 val)
{
	bool x2apic = lapicv_x2apic_mode(apic);

	switch (offset) {
	case APIC_ID:
		if (x2apic)
			return 1;
		apic_set_xapic_id(apic, val >> 24);
		return 0;
	case APIC_TASKPRI:
		apic_set_tpr(apic, val & 0xff);
		return 0;
	case APIC_EOI:
		apic_set_eoi(apic);
		return 0;
	case APIC_LDR:
		if (x2apic)
			return 1;
		apic_set_ldr(apic, val & APIC_LDR_MASK);
		return 0;
	case APIC_DFR:
		if (x2apic)
			return 1;
		/* Only the model bits are writable; the rest read as ones. */
		apic_set_dfr(apic, val | 0x0fffffff);
		return 0;
	case APIC_SPIV:
		apic_write_spiv(apic, val);
		return 0;
	case APIC_ICR:
		/* xAPIC only: x2APIC's 64-bit ICR goes through the MSR. */
		if (x2apic)
			return 1;
		/* Delivery is immediate, so the busy bit never reads set. */
		val &= ~APIC_ICR_BUSY;
		lapicv_apic_send_ipi(apic, val, lapicv_get_reg(apic, APIC_ICR2));
		lapicv_set_reg(apic, APIC_ICR, val);
		return 0;
	case APIC_ICR2:
		if (x2apic)
			return 1;
		lapicv_set_reg(apic, APIC_ICR2, val & 0xff000000);
		return 0;
	case APIC_LVTT:
	case APIC_LVTTHMR:
	case APIC_LVTPC:
	case APIC_LVT0:
	case APIC_LVT1:
	case APIC_LVTERR:
	case APIC_LVTCMCI:
		return apic_write_lvt(apic, offset, val);
	case APIC_TMICT:
		lapicv_timer_write_tmict(apic, val);
		return 0;
	case APIC_TDCR:
		lapicv_set_reg(apic, APIC_TDCR, val & 0xb);
		lapicv_timer_update_divide(apic);
		return 0;
	case APIC_ESR:
		/* ESR is not modelled; x2APIC requires writes of zero. */
		return x2apic && val;
	case APIC_SELF_IPI:
		if (!x2apic || (val & ~APIC_VECTOR_MASK))
			return 1;
		lapicv_apic_send_ipi(apic, APIC_DEST_SELF | val, 0);
		return 0;
	default:
		/* Read-only, reserved or unknown: the write fails. */
		return 1;
	}
}

int lapicv_apic_reg_write(struct lapicv_lapic *apic, u32 offset, u32 val)
{
	int r = __apic_reg_write(apic, offset, val);

	/* Cheap unless the write changed an ID, LDR, DFR or enable bit. */
	lapicv_recalculate_apic_map(apic->vcpu->vm);
	return r;
}

/* ---- x2APIC MSRs ---- */

/* kvm_amd keeps the x2APIC ICR split: bits 63:32 in the ICR2 slot. */
static u64 apic_x2apic_icr(struct lapicv_lapic *apic)
{
	return lapicv_get_reg(apic, APIC_ICR) |
	       (u64)lapicv_get_reg(apic, APIC_ICR2) << 32;
}

static int apic_x2apic_icr_write(struct lapicv_lapic *apic, u64 data)
{
	if (data & X2APIC_ICR_RSVD)
		return 1;
	/*
	 * BUSY is reserved in x2APIC mode; it is dropped rather than faulted,
	 * as KVM does, since Intel and AMD disagree about it.
	 */
	data &= ~(u64)APIC_ICR_BUSY;
	lapicv_apic_send_ipi(apic, (u32)data, (u32)(data >> 32));
	lapicv_set_reg(apic, APIC_ICR, (u32)data);
	lapicv_set_reg(apic, APIC_ICR2, (u32)(data >> 32));
	return 0;
}

int lapicv_x2apic_msr_read(struct lapicv_lapic *apic, u32 msr, u64 *data)
{
	u32 offset = (msr - APIC_BASE_MSR) << 4;
	u32 val;

	if (!lapicv_x2apic_mode(apic))
		return 1;
	if (offset == APIC_ICR) {
		*data = apic_x2apic_icr(apic);
		return 0;
	}
	if (lapicv_apic_reg_read(apic, offset, &val))
		return 1;
	*data = val;
	return 0;
}

int lapicv_x2apic_msr_write(struct lapicv_lapic *apic, u32 msr, u64 data)
{
	u32 offset = (msr - APIC_BASE_MSR) << 4;

	if (!lapicv_x2apic_mode(apic))
		return 1;
	if (offset == APIC_ICR)
		return apic_x2apic_icr_write(apic, data);
	/* Every other x2APIC register is 32 bits wide. */
	if (data >> 32)
		return 1;
	return lapicv_apic_reg_write(apic, offset, (u32)data);
}

/* ---- APIC base ---- */

static u64 apic_reserved_base_bits(struct lapicv_lapic *apic)
{
	/*
	 * Bits 7:0 and 9, and everything at or above MAXPHYADDR.  CPUID may
	 * claim 64 or more address bits (a byte's worth): then no address bit
	 * is reserved, as KVM's rsvd_bits() answers for an empty range.  A
	 * MAXPHYADDR of 0 reserves every bit, as in KVM.
	 */
	u64 rsvd = 0x2ff;

	if (apic->maxphyaddr < 64)
		rsvd |= GENMASK_ULL(63, apic->maxphyaddr);

	if (!apic->cpuid_x2apic)
		rsvd |= X2APIC_ENABLE;
	return rsvd;
}

static void apic_update_cpuid_runtime(struct lapicv_lapic *apic);

/* Apply a new APIC base; the caller recalculates the map. */
static void __apic_set_base(struct lapicv_lapic *apic, u64 value)
{
	u64 changed = apic->apic_base ^ value;

	apic->apic_base = value;
	if (changed & MSR_IA32_APICBASE_ENABLE) {
		apic_update_cpuid_runtime(apic);
		/* Enabling restores the xAPIC ID; disabling leaves the map. */
		if (value & MSR_IA32_APICBASE_ENABLE)
			apic_set_xapic_id(apic, apic->vcpu->vcpu_id);
		else
			apic_map_dirty(apic);
	}
	if (changed & X2APIC_ENABLE) {
		if (value & X2APIC_ENABLE)
			apic_set_x2apic_id(apic);
		else if (value & MSR_IA32_APICBASE_ENABLE)
			apic_set_xapic_id(apic, apic->vcpu->vcpu_id);
	}
	if (changed & (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE))
		lapicv_make_request(apic->vcpu, LAPICV_REQ_APICV_UPDATE);
	apic->base_address = value & MSR_IA32_APICBASE_BASE;
	/*
	 * APICv maps its page at the default address only.  Sticky, as in
	 * KVM: moving the base back does not clear the reason.
	 */
	if ((value & MSR_IA32_APICBASE_ENABLE) &&
	    apic->base_address != APIC_DEFAULT_PHYS_BASE)
		lapicv_set_or_clear_inhibit(apic->vcpu->vm,
					    LAPICV_INHIBIT_APIC_BASE_MODIFIED,
					    true);
}

int lapicv_apic_set_base(struct lapicv_vcpu *vcpu, u64 value,
			 bool host_initiated)
{
	struct lapicv_lapic *apic = vcpu->apic;
	enum lapicv_apic_mode old = lapicv_apic_mode(apic->apic_base);
	enum lapicv_apic_mode new = lapicv_apic_mode(value);

	lockdep_assert_held(&vcpu->mutex);

	if ((value & apic_reserved_base_bits(apic)) ||
	    new == LAPICV_MODE_INVALID)
		return 1;
	/* The SDM's forbidden transitions bind the guest, not the VMM. */
	if (!host_initiated &&
	    ((old == LAPICV_MODE_X2APIC && new == LAPICV_MODE_XAPIC) ||
	     (old == LAPICV_MODE_DISABLED && new == LAPICV_MODE_X2APIC)))
		return 1;
	__apic_set_base(apic, value);
	lapicv_recalculate_apic_map(vcpu->vm);
	return 0;
}

/* ---- MSRs for KVM_GET_MSRS / KVM_SET_MSRS ---- */

static bool apic_is_x2apic_msr(u32 index)
{
	return index >= APIC_BASE_MSR && index <= APIC_BASE_MSR + 0xff;
}

int lapicv_get_msr(struct lapicv_vcpu *vcpu, u32 index, u64 *data)
{
	struct lapicv_lapic *apic = vcpu->apic;

	lockdep_assert_held(&vcpu->mutex);

	/* Nobody outside the guest may read a protected APIC (KVM: TDX). */
	if (apic->guest_apic_protected)
		goto fail;
	if (index == MSR_IA32_APICBASE) {
		*data = apic->apic_base;
		return 0;
	}
	if (index == MSR_IA32_TSC_DEADLINE) {
		*data = lapicv_timer_get_tscdeadline(apic);
		return 0;
	}
	if (apic_is_x2apic_msr(index) &&
	    !lapicv_x2apic_msr_read(apic, index, data))
		return 0;
fail:
	/* A failed read returns 0 in the entry, as KVM's does. */
	*data = 0;
	return 1;
}

int lapicv_set_msr(struct lapicv_vcpu *vcpu, u32 index, u64 data,
		   bool host_initiated)
{
	struct lapicv_lapic *apic = vcpu->apic;

	lockdep_assert_held(&vcpu->mutex);

	/* Nor write it: the entry fails, which stops KVM_SET_MSRS there. */
	if (apic->guest_apic_protected)
		return 1;
	if (index == MSR_IA32_APICBASE)
		return lapicv_apic_set_base(vcpu, data, host_initiated);
	if (index == MSR_IA32_TSC_DEADLINE) {
		lapicv_timer_set_tscdeadline(apic, data);
		return 0;
	}
	if (apic_is_x2apic_msr(index))
		return lapicv_x2apic_msr_write(apic, index, data);
	return 1;
}

/* ---- create, reset, free ---- */

int lapicv_lapic_create(struct lapicv_vcpu *vcpu)
{
	struct lapicv_lapic *apic;

	apic = kzalloc(sizeof(*apic), GFP_KERNEL_ACCOUNT);
	if (!apic)
		return -ENOMEM;
	apic->regs = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!apic->regs) {
		kfree(apic);
		return -ENOMEM;
	}
	apic->vcpu = vcpu;
	apic->bus_cycle_ns = vcpu->vm->apic_bus_cycle_ns;
	apic->guest_apic_protected = vcpu->vm->protected_apic;
	apic->nr_lvt_entries = APIC_NR_LVT_DEFAULT;
	apic->maxphyaddr = 36;	/* no CPUID leaf 0x80000008 yet */
	apic->highest_isr_cache = -1;
	apic->pending_external_vector = -1;
	/*
	 * Start "enabled" so that RESET's base write below is not a
	 * disabled -> enabled transition, as KVM does.
	 */
	apic->apic_base = MSR_IA32_APICBASE_ENABLE;
	/* With an in-kernel (split) irqchip, APs wait for INIT and SIPI. */
	apic->mp_state = apic_is_reset_bsp(apic) ? KVM_MP_STATE_RUNNABLE :
						   KVM_MP_STATE_UNINITIALIZED;
	lapicv_timer_init(apic);
	vcpu->apic = apic;
	return 0;
}

void lapicv_lapic_free(struct lapicv_vcpu *vcpu)
{
	struct lapicv_lapic *apic = vcpu->apic;

	if (!apic)
		return;
	lapicv_timer_destroy(apic);
	kvfree(apic->cpuid_entries);
	free_page((unsigned long)apic->regs);
	kfree(apic);
	vcpu->apic = NULL;
}

static void apic_reset_regs(struct lapicv_lapic *apic, bool init_event)
{
	int i;

	/* RESET sets the xAPIC ID even when the APIC was already enabled. */
	if (!init_event)
		apic_set_xapic_id(apic, apic->vcpu->vcpu_id);
	apic_set_version(apic);
	for (i = 0; i < apic->nr_lvt_entries; i++)
		lapicv_set_reg(apic, apic_lvt_offset(i), APIC_LVT_MASKED);
	/*
	 * KVM's LINT0_REENABLED quirk (on by default): the BSP's LINT0 comes
	 * out of RESET and INIT unmasked in ExtINT mode, for the PIC.
	 */
	if (apic_is_reset_bsp(apic))
		lapicv_set_reg(apic, APIC_LVT0, APIC_DM_EXTINT);

	apic_set_dfr(apic, 0xffffffff);
	apic_set_spiv(apic, 0xff);
	lapicv_set_reg(apic, APIC_TASKPRI, 0);
	if (!lapicv_x2apic_mode(apic))
		apic_set_ldr(apic, 0);
	lapicv_set_reg(apic, APIC_ESR, 0);
	lapicv_set_reg(apic, APIC_ICR, 0);
	/*
	 * kvm_amd clears the x2APIC ICR as one 64-bit register at 0x300,
	 * which leaves the ICR2 slot (the split upper half) alone.
	 */
	if (lapicv_x2apic_mode(apic))
		lapicv_set_reg(apic, APIC_ICR + 4, 0);
	else
		lapicv_set_reg(apic, APIC_ICR2, 0);
	lapicv_set_reg(apic, APIC_TDCR, 0);
	lapicv_set_reg(apic, APIC_TMICT, 0);
	for (i = 0; i < APIC_REG_WORDS; i++) {
		lapicv_set_reg(apic, APIC_IRR + 0x10 * i, 0);
		lapicv_set_reg(apic, APIC_ISR + 0x10 * i, 0);
		lapicv_set_reg(apic, APIC_TMR + 0x10 * i, 0);
	}
}

void lapicv_lapic_reset(struct lapicv_vcpu *vcpu, bool init_event)
{
	struct lapicv_lapic *apic = vcpu->apic;
	u64 base;

	lockdep_assert_held(&vcpu->mutex);

	/* Before anything changes: PIR goes, an open IRQ window closes. */
	lapicv_apicv_vcpu_reset(vcpu);
	if (!init_event) {
		base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE;
		if (apic_is_reset_bsp(apic))
			base |= MSR_IA32_APICBASE_BSP;
		__apic_set_base(apic, base);
	}
	apic_reset_regs(apic, init_event);
	/*
	 * A protected APIC starts as a TD's virtual APIC does, in x2APIC
	 * mode and software-enabled: nobody outside the guest may set it up.
	 */
	if (apic->guest_apic_protected) {
		__apic_set_base(apic, apic->apic_base | X2APIC_ENABLE);
		apic_write_spiv(apic, APIC_SPIV_APIC_ENABLED | 0xff);
	}
	/*
	 * Adopt the masked LVTT and TDCR 0 with the timer stopped; TMICT and
	 * TMCCT are 0, so nothing restarts.
	 */
	lapicv_timer_restore(apic);
	/*
	 * Caches first (KVM 6.12 also sets the IRR hint here), so that PPR
	 * does not see an ISR vector the reset just cleared.
	 */
	apic->irr_pending = true;
	lapicv_apicv_post_set_state(vcpu);
	apic_update_ppr(apic);
	apic->arb_prio = 0;
	/* KVM's vCPU reset drops queued and injected events too. */
	lapicv_events_reset(vcpu);
	lapicv_recalculate_apic_map(vcpu->vm);
}

/* ---- KVM_GET_LAPIC / KVM_SET_LAPIC ---- */

/*
 * In x2APIC mode the ID is read-only and the LDR derived from it.  With
 * KVM_X2APIC_API_USE_32BIT_IDS the state carries the 32-bit ID, which must
 * match on set; without it the state carries ID << 24 and a set's ID is
 * ignored.  The split ICR needs no conversion.
 */
static int apic_state_fixup(struct lapicv_lapic *apic,
			    struct kvm_lapic_state *s, bool set)
{
	u32 id = apic->vcpu->vcpu_id;
	char *regs = s->regs;

	if (!lapicv_x2apic_mode(apic))
		return 0;
	if (apic->vcpu->vm->x2apic_format) {
		if (__lapicv_get_reg(regs, APIC_ID) != id)
			return -EINVAL;
	} else {
		__lapicv_set_reg(regs, APIC_ID, set ? id : id << 24);
	}
	if (set)
		__lapicv_set_reg(regs, APIC_LDR, apic_x2apic_ldr(id));
	return 0;
}

int lapicv_apic_get_state(struct lapicv_vcpu *vcpu, struct kvm_lapic_state *s)
{
	struct lapicv_lapic *apic = vcpu->apic;

	lockdep_assert_held(&vcpu->mutex);

	/* Nobody outside the guest may read a protected APIC (KVM: TDX). */
	if (apic->guest_apic_protected)
		return -EINVAL;
	/* Posted interrupts show in IRR, as KVM syncs them before a GET. */
	lapicv_sync_pir_to_irr(vcpu);
	memcpy(s->regs, apic->regs, sizeof(s->regs));
	/* TMCCT is computed from the timer, never stored. */
	__lapicv_set_reg(s->regs, APIC_TMCCT, lapicv_timer_read_tmcct(apic));
	return apic_state_fixup(apic, s, false);
}

/*
 * KVM rebuilds the APIC map on every KVM_SET_LAPIC.  The map follows only
 * the ID, LDR and DFR (the SPIV and the APIC mode mark it themselves), the
 * vCPUs and the x2APIC API format, so a state that changes none of them
 * gets the map KVM would build without the rebuild.
 */
static bool apic_state_moves_map(struct lapicv_lapic *apic,
				 const struct kvm_lapic_state *s)
{
	static const u32 map_regs[] = { APIC_ID, APIC_LDR, APIC_DFR };
	int i;

	for (i = 0; i < ARRAY_SIZE(map_regs); i++)
		if (lapicv_get_reg(apic, map_regs[i]) !=
		    __lapicv_get_reg(s->regs, map_regs[i]))
			return true;
	return lapicv_apic_map_stale(apic->vcpu->vm);
}

int lapicv_apic_set_state(struct lapicv_vcpu *vcpu, struct kvm_lapic_state *s)
{
	struct lapicv_lapic *apic = vcpu->apic;
	bool moves_map;
	int r;

	lockdep_assert_held(&vcpu->mutex);

	if (apic->guest_apic_protected)
		return -EINVAL;

	/*
	 * Validate (and fix up the caller's copy) before touching anything.
	 * KVM applies SPIV before it validates, so a refused state leaves a
	 * new SPIV behind there; lapicv leaves the old state whole.
	 */
	r = apic_state_fixup(apic, s, true);
	if (r)
		return r;

	moves_map = apic_state_moves_map(apic, s);
	/*
	 * The state is accepted: drop what was posted before the copy.  What
	 * is posted from here on is newer than the state and must stay.
	 */
	lapicv_apicv_pre_state_restore(vcpu);
	/* SPIV on its own first, so that sw_enabled follows the new value. */
	apic_set_spiv(apic, __lapicv_get_reg(s->regs, APIC_SPIV));
	memcpy(apic->regs, s->regs, sizeof(s->regs));
	if (moves_map)
		apic_map_dirty(apic);
	/*
	 * KVM rebuilds the map on every state, and every rebuild rescans the
	 * IOAPIC routes; the new IRR and ISR count in the scan.  A rebuild
	 * made here asked for the scan already, after this copy.
	 */
	if (!lapicv_recalculate_apic_map(vcpu->vm))
		lapicv_make_all_vcpus_request(vcpu->vm,
					      LAPICV_REQ_SCAN_IOAPIC);
	apic_set_version(apic);
	/*
	 * PPR before the IRR/ISR caches are refreshed, as KVM orders it: the
	 * PPR a VMM reads back depends on it.
	 */
	apic_update_ppr(apic);
	/* The saved current count restarts the timer where it stood. */
	lapicv_timer_restore(apic);
	/*
	 * The state may carry IRR bits: KVM 6.12 searches IRR after every
	 * state change rather than trust the hint.
	 */
	apic->irr_pending = true;
	/* The IRR/ISR caches and the event request. */
	lapicv_apicv_post_set_state(vcpu);
	apic->arb_prio = 0;
	return 0;
}

/* ---- INIT, SIPI and the MP state ---- */

unsigned long lapicv_apic_accept_events(struct lapicv_vcpu *vcpu)
{
	struct lapicv_lapic *apic = vcpu->apic;
	unsigned long now = 0;

	lockdep_assert_held(&vcpu->mutex);

	/*
	 * lapicv has no SMM and no nested guests, so INIT is never blocked
	 * and SIPI is only dropped outside wait-for-SIPI.
	 */
	if (test_and_clear_bit(LAPICV_APIC_INIT, &apic->pending_events)) {
		lapicv_lapic_reset(vcpu, true);
		apic->mp_state = apic_is_bsp(apic) ? KVM_MP_STATE_RUNNABLE :
						     KVM_MP_STATE_INIT_RECEIVED;
		/* A new INIT supersedes a SIPI not yet reported. */
		apic->accepted_events = BIT(LAPICV_APIC_INIT);
		now = BIT(LAPICV_APIC_INIT);
	}
	if (test_and_clear_bit(LAPICV_APIC_SIPI, &apic->pending_events) &&
	    apic->mp_state == KVM_MP_STATE_INIT_RECEIVED) {
		/* Pairs with the sender's barrier between vector and bit. */
		smp_rmb();
		/* The run step starts the vCPU at this vector << 12. */
		apic->accepted_sipi_vector = apic->sipi_vector;
		apic->accepted_events |= BIT(LAPICV_APIC_SIPI);
		apic->mp_state = KVM_MP_STATE_RUNNABLE;
		now |= BIT(LAPICV_APIC_SIPI);
	}
	return now;
}

int lapicv_get_mp_state(struct lapicv_vcpu *vcpu, struct kvm_mp_state *mp,
			unsigned long *accepted)
{
	struct lapicv_lapic *apic = vcpu->apic;
	unsigned long now = lapicv_apic_accept_events(vcpu);

	if (accepted)
		*accepted = now;
	mp->mp_state = apic->mp_state;
	/* A PV unhalt wakes a halted vCPU before it runs again. */
	if ((apic->mp_state == KVM_MP_STATE_HALTED ||
	     apic->mp_state == KVM_MP_STATE_AP_RESET_HOLD) && apic->pv_unhalted)
		mp->mp_state = KVM_MP_STATE_RUNNABLE;
	return 0;
}

int lapicv_set_mp_state(struct lapicv_vcpu *vcpu,
			const struct kvm_mp_state *mp)
{
	struct lapicv_lapic *apic = vcpu->apic;

	lockdep_assert_held(&vcpu->mutex);

	/*
	 * INIT/SIPI states are never blocked here (no SMM, no nesting), but
	 * KVM takes an SMI before INIT: not while one is latched.
	 */
	if ((mp->mp_state == KVM_MP_STATE_INIT_RECEIVED ||
	     mp->mp_state == KVM_MP_STATE_SIPI_RECEIVED) &&
	    vcpu->events.smi_pending)
		return -EINVAL;

	switch (mp->mp_state) {
	case KVM_MP_STATE_UNINITIALIZED:
	case KVM_MP_STATE_RUNNABLE:
	case KVM_MP_STATE_HALTED:
	case KVM_MP_STATE_AP_RESET_HOLD:
	case KVM_MP_STATE_INIT_RECEIVED:
		apic->mp_state = mp->mp_state;
		break;
	case KVM_MP_STATE_SIPI_RECEIVED:
		/* Stored as wait-for-SIPI with the SIPI still to accept. */
		apic->mp_state = KVM_MP_STATE_INIT_RECEIVED;
		set_bit(LAPICV_APIC_SIPI, &apic->pending_events);
		break;
	default:
		return -EINVAL;
	}
	/* The VMM set the state itself: nothing left to report. */
	apic->accepted_events = 0;
	lapicv_make_request(vcpu, LAPICV_REQ_EVENT);
	return 0;
}

/* ---- KVM_NMI, KVM_INTERRUPT ---- */

int lapicv_inject_nmi(struct lapicv_vcpu *vcpu)
{
	lapicv_events_queue_nmi(&vcpu->events);
	lapicv_make_request(vcpu, LAPICV_REQ_EVENT);
	return 0;
}

int lapicv_inject_extint(struct lapicv_vcpu *vcpu, u32 irq)
{
	struct lapicv_lapic *apic = vcpu->apic;

	lockdep_assert_held(&vcpu->mutex);

	if (irq >= KVM_NR_INTERRUPTS)
		return -EINVAL;
	/* One ExtINT at a time: the PIC must wait for the acknowledge. */
	if (apic->pending_external_vector != -1)
		return -EEXIST;
	apic->pending_external_vector = irq;
	lapicv_make_request(vcpu, LAPICV_REQ_EVENT);
	return 0;
}

/* ---- CPUID ---- */

#define CPUID_1_ECX_X2APIC		BIT(21)
#define CPUID_1_ECX_TSC_DEADLINE	BIT(24)
#define CPUID_1_ECX_OSXSAVE		BIT(27)
#define CPUID_1_EDX_APIC		BIT(9)
#define CPUID_7_ECX_OSPKE		BIT(4)
#define CPUID_D_1_EAX_XSAVEC_XSAVES	(BIT(1) | BIT(3))
/* XSAVE area for XCR0 = x87 only, as at RESET: legacy area + header. */
#define XSAVE_SIZE_FP_ONLY		576
#define CPUID_NO_INDEX			(~0u)

/* KVM's lookup: the first entry of @fn whose index matches or is unused. */
static struct kvm_cpuid_entry2 *
apic_cpuid_find(struct kvm_cpuid_entry2 *e, int nent, u32 fn, u32 index)
{
	int i;

	for (i = 0; i < nent; i++) {
		if (e[i].function != fn)
			continue;
		if (!(e[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		    e[i].index == index || index == CPUID_NO_INDEX)
			return &e[i];
	}
	return NULL;
}

static void apic_cpuid_change(u32 *reg, u32 bit, bool set)
{
	if (set)
		*reg |= bit;
	else
		*reg &= ~bit;
}

/*
 * KVM rewrites a few CPUID bits to follow vCPU state; GET_CPUID2 shows
 * them.  The APIC bit is the LAPIC's and kept here; the table keeps the
 * RESET CR4 and XCR0's OS-enabled bits and XSAVE sizes, which regs.c's
 * lapicv_cpuid_runtime() replaces with the runner's on every read.
 */
static void __apic_update_cpuid(struct lapicv_lapic *apic,
				struct kvm_cpuid_entry2 *e, int nent)
{
	struct kvm_cpuid_entry2 *best;

	best = apic_cpuid_find(e, nent, 1, CPUID_NO_INDEX);
	if (best) {
		if (boot_cpu_has(X86_FEATURE_XSAVE))
			best->ecx &= ~CPUID_1_ECX_OSXSAVE;
		apic_cpuid_change(&best->edx, CPUID_1_EDX_APIC,
				  lapicv_apic_hw_enabled(apic));
	}
	best = apic_cpuid_find(e, nent, 7, 0);
	if (best && boot_cpu_has(X86_FEATURE_PKU))
		best->ecx &= ~CPUID_7_ECX_OSPKE;
	best = apic_cpuid_find(e, nent, 0xd, 0);
	if (best)
		best->ebx = XSAVE_SIZE_FP_ONLY;
	best = apic_cpuid_find(e, nent, 0xd, 1);
	if (best && (best->eax & CPUID_D_1_EAX_XSAVEC_XSAVES))
		best->ebx = XSAVE_SIZE_FP_ONLY;
}

static void apic_update_cpuid_runtime(struct lapicv_lapic *apic)
{
	__apic_update_cpuid(apic, apic->cpuid_entries, apic->cpuid_nent);
}

static u8 apic_cpuid_maxphyaddr(struct kvm_cpuid_entry2 *e, int nent)
{
	struct kvm_cpuid_entry2 *best;

	best = apic_cpuid_find(e, nent, 0x80000000, CPUID_NO_INDEX);
	if (!best || best->eax < 0x80000008)
		return 36;
	best = apic_cpuid_find(e, nent, 0x80000008, CPUID_NO_INDEX);
	return best ? best->eax & 0xff : 36;
}

int lapicv_set_cpuid(struct lapicv_vcpu *vcpu,
		     struct kvm_cpuid_entry2 *entries, int nent)
{
	struct lapicv_lapic *apic = vcpu->apic;
	struct kvm_cpuid_entry2 *best;
	u32 vaddr_bits;

	lockdep_assert_held(&vcpu->mutex);

	/*
	 * Validate first: a refused table is left as the caller gave it, and
	 * the vCPU as it was.  (KVM rewrites its own copy of the table before
	 * checking it and frees it on refusal, so only the order differs.)
	 * KVM's canonical-address checks assume 48 or 57 virtual bits.
	 */
	best = apic_cpuid_find(entries, nent, 0x80000008, CPUID_NO_INDEX);
	if (best) {
		vaddr_bits = (best->eax >> 8) & 0xff;
		if (vaddr_bits != 48 && vaddr_bits != 57 && vaddr_bits != 0)
			return -EINVAL;
	}
	__apic_update_cpuid(apic, entries, nent);

	kvfree(apic->cpuid_entries);
	apic->cpuid_entries = entries;
	apic->cpuid_nent = nent;

	best = apic_cpuid_find(entries, nent, 1, CPUID_NO_INDEX);
	if (best) {
		/* Only a leaf 1 changes the timer modes and the version. */
		apic->cpuid_x2apic = best->ecx & CPUID_1_ECX_X2APIC;
		apic->cpuid_tsc_deadline = best->ecx & CPUID_1_ECX_TSC_DEADLINE;
		lapicv_timer_set_cpuid(apic, apic->cpuid_tsc_deadline);
		apic_set_version(apic);
	} else {
		apic->cpuid_x2apic = false;
		apic->cpuid_tsc_deadline = false;
	}
	apic->maxphyaddr = apic_cpuid_maxphyaddr(entries, nent);
	return 0;
}

const struct kvm_cpuid_entry2 *lapicv_get_cpuid(struct lapicv_vcpu *vcpu,
						u32 *nent)
{
	lockdep_assert_held(&vcpu->mutex);

	*nent = vcpu->apic->cpuid_nent;
	return vcpu->apic->cpuid_entries;
}
