/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What must hold of a LAPIC and of a VM's
 * inhibits between any two operations, for the fuzz targets (and any test).
 * Each check returns false after printing what broke.
 *
 * LAPIC (vcpu->mutex held, APICv inactive unless said otherwise):
 *  - every vector found is in 0..255 or -1;
 *  - the IRR hint: IRR not empty implies irr_pending;
 *  - isr_count is the number of ISR bits, and highest_isr_cache is -1 or
 *    the highest ISR vector (with APICv active isr_count is pinned to 1
 *    and the cache unused, as in KVM);
 *  - PPR, as a read computes it, follows TPR and the highest ISR vector
 *    (SDM 10.8.3.1).
 * Inhibits (no concurrent writer): the IRQ-window count is the number of
 * open windows; under the counter policy, with no other reason set,
 * IRQWIN is set exactly when the count is non-zero (stress_inhibit.c
 * derives it).
 */
#ifndef _UNIT_INVARIANTS_H
#define _UNIT_INVARIANTS_H

#include "test.h"
#include "lapic.h"

#define INV_FAIL(...) ({ fprintf(stderr, "invariant: " __VA_ARGS__); false; })

/* IRR/ISR/TMR: eight 32-bit words, 16 bytes apart. */
static u32 inv_word(const void *bitmap, int i)
{
	return READ_ONCE(*(const u32 *)(bitmap + 16 * i));
}

static int inv_highest(const void *bitmap)
{
	int i;

	for (i = 7; i >= 0; i--)
		if (inv_word(bitmap, i))
			return 32 * i + fls(inv_word(bitmap, i)) - 1;
	return -1;
}

static int inv_count(const void *bitmap)
{
	int i, n = 0;

	for (i = 0; i < 8; i++)
		n += hweight32(inv_word(bitmap, i));
	return n;
}

static bool inv_lapic(struct lapicv_lapic *apic)
{
	int irr = inv_highest(apic->regs + APIC_IRR);
	int isr = inv_highest(apic->regs + APIC_ISR);
	int found, cached = apic->highest_isr_cache;
	u32 tpr, ppr, want;

	found = lapicv_apic_find_highest_irr(apic);
	if (found < -1 || found > 255)
		return INV_FAIL("highest IRR %d out of range\n", found);
	if (irr >= 0 && !READ_ONCE(apic->irr_pending))
		return INV_FAIL("IRR has 0x%x but irr_pending is clear\n", irr);
	if (irr >= 0 && found != irr)
		return INV_FAIL("highest IRR 0x%x, found 0x%x\n", irr, found);

	found = lapicv_apic_find_highest_isr(apic);
	if (found != isr)
		return INV_FAIL("highest ISR 0x%x, found 0x%x\n", isr, found);
	if (apic->apicv_active) {
		if (apic->isr_count != 1)
			return INV_FAIL("APICv active with isr_count %d\n",
					apic->isr_count);
	} else {
		if (apic->isr_count != inv_count(apic->regs + APIC_ISR))
			return INV_FAIL("isr_count %d, ISR has %d bits\n",
					apic->isr_count,
					inv_count(apic->regs + APIC_ISR));
		if (cached != -1 && cached != isr)
			return INV_FAIL("highest_isr_cache 0x%x, ISR 0x%x\n",
					cached, isr);
	}

	if (lapicv_apic_reg_read(apic, APIC_PROCPRI, &ppr))
		return INV_FAIL("PPR unreadable\n");
	tpr = lapicv_get_reg(apic, APIC_TASKPRI);
	want = (tpr & 0xf0) >= ((isr < 0 ? 0 : isr) & 0xf0) ?
	       tpr & 0xff : (u32)isr & 0xf0;
	if (ppr != want)
		return INV_FAIL("PPR 0x%x, TPR 0x%x and ISR 0x%x make 0x%x\n",
				ppr, tpr, isr, want);
	return true;
}

static bool inv_inhibits(struct lapicv_vm *vm, unsigned int open_windows)
{
	struct lapicv_inhibits *inh = &vm->inhibits;
	unsigned long reasons = READ_ONCE(inh->reasons);
	int count = atomic_read(&inh->irq_window);
	bool irqwin = reasons & BIT(LAPICV_INHIBIT_IRQWIN);
	bool waiting = count > 0;

	if (count != (int)open_windows)
		return INV_FAIL("IRQ-window count %d, %u windows open\n",
				count, open_windows);
	if (inh->policy == LAPICV_IRQWIN_COUNTER &&
	    (inh->required & BIT(LAPICV_INHIBIT_IRQWIN)) &&
	    !(reasons & ~BIT(LAPICV_INHIBIT_IRQWIN)) && irqwin != waiting)
		return INV_FAIL("IRQWIN %d with count %d and no other reason\n",
				irqwin, count);
	if (reasons & ~inh->required & ~BIT(LAPICV_INHIBIT_DISABLED) &
	    ~BIT(LAPICV_INHIBIT_ABSENT))
		return INV_FAIL("reasons 0x%lx outside required 0x%lx\n",
				reasons, inh->required);
	return true;
}

#endif /* _UNIT_INVARIANTS_H */
