// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of lapic.c, with the real source included, on whole VMs
 * (harness_vm.c: soft backend, split irqchip, vCPUs reset as
 * KVM_CREATE_VCPU leaves them).  Register values are those KVM 6.12 with
 * kvm_amd shows a VMM, which lapic.c follows.
 */
/*
 * A seam inside KVM_SET_LAPIC: lapic.c's call of lapicv_timer_restore(),
 * which comes after the register copy, goes through unit_timer_restore(),
 * which can deliver an MSI at that point before the real restore (as
 * tools/testing/vma overrides kernel calls).  Unarmed, it is the real one.
 */
#define lapicv_timer_restore(apic) unit_timer_restore(apic)
#include "../../lapic.c"
#undef lapicv_timer_restore

#include "test.h"
#include "unit_vm.h"

void (lapicv_timer_restore)(struct lapicv_lapic *apic);

/* The MSI unit_timer_restore() sends once, when vector is set. */
static struct {
	struct lapicv_vm *vm;
	u32 dest, vector;
	int delivered;
} restore_msi;

void unit_timer_restore(struct lapicv_lapic *apic)
{
	struct kvm_msi m = {
		.address_lo = 0xfee00000 | restore_msi.dest << 12,
		.data = restore_msi.vector,
	};

	if (restore_msi.vector) {
		restore_msi.delivered = lapicv_signal_msi(restore_msi.vm, &m);
		restore_msi.vector = 0;
	}
	lapicv_timer_restore(apic);
}

/* Register access as a vCPU ioctl does it: under the vCPU's mutex. */
static u32 rd(struct lapicv_lapic *apic, u32 off)
{
	u32 v = 0xdeadbeef;

	mutex_lock(&apic->vcpu->mutex);
	WARN_ON(lapicv_apic_reg_read(apic, off, &v));
	mutex_unlock(&apic->vcpu->mutex);
	return v;
}

static int wr(struct lapicv_lapic *apic, u32 off, u32 val)
{
	int r;

	mutex_lock(&apic->vcpu->mutex);
	r = lapicv_apic_reg_write(apic, off, val);
	mutex_unlock(&apic->vcpu->mutex);
	return r;
}

/* A VM of n vCPUs whose APICs are software-enabled (SPIV.EN). */
static struct lapicv_vm *vm_up(unsigned int n)
{
	struct lapicv_vm *vm = unit_apic_vm_create(n, NULL, LAPICV_IRQWIN_COUNTER);
	unsigned int i;

	for (i = 0; vm && i < n; i++)
		wr(unit_apic(vm, i), APIC_SPIV, APIC_SPIV_APIC_ENABLED | 0xff);
	return vm;
}

static int accept(struct lapicv_lapic *apic, u32 dm, int vec, bool level_trig)
{
	struct lapicv_irq irq = {
		.vector = vec, .delivery_mode = dm, .level = true,
		.trig_mode = level_trig,
	};

	return lapicv_apic_accept_irq(apic, &irq);
}

/* Put vectors in service the way a VMM can: through KVM_SET_LAPIC. */
static bool set_isr(struct lapicv_lapic *apic, const int *vecs, int n)
{
	struct kvm_lapic_state s;
	int i;

	mutex_lock(&apic->vcpu->mutex);
	ASSERT_EQ(lapicv_apic_get_state(apic->vcpu, &s), 0);
	for (i = 0; i < n; i++)
		*(u32 *)(s.regs + APIC_ISR + LAPICV_REG_POS(vecs[i])) |=
			BIT(LAPICV_VEC_POS(vecs[i]));
	ASSERT_EQ(lapicv_apic_set_state(apic->vcpu, &s), 0);
	mutex_unlock(&apic->vcpu->mutex);
	return true;
}

static bool test_reset_values(void)
{
	struct lapicv_vm *vm = unit_apic_vm_create(2, NULL, LAPICV_IRQWIN_COUNTER);
	struct lapicv_lapic *bsp = unit_apic(vm, 0), *ap = unit_apic(vm, 1);

	ASSERT_EQ(bsp->apic_base, APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE |
				  MSR_IA32_APICBASE_BSP);
	ASSERT_EQ(ap->apic_base, APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE);
	ASSERT_EQ(rd(bsp, APIC_ID), 0);
	ASSERT_EQ(rd(ap, APIC_ID), 1 << 24);
	/* Version 0x14, six LVTs (max LVT index 5), no directed EOI yet. */
	ASSERT_EQ(rd(bsp, APIC_LVR), 0x14 | (5 << 16));
	ASSERT_EQ(rd(bsp, APIC_SPIV), 0xff);
	ASSERT_FALSE(lapicv_apic_sw_enabled(bsp));
	ASSERT_EQ(rd(bsp, APIC_DFR), 0xffffffff);
	ASSERT_EQ(rd(bsp, APIC_TASKPRI), 0);
	ASSERT_EQ(rd(bsp, APIC_PROCPRI), 0);
	/* The BSP's LINT0 comes up in ExtINT for the PIC, the AP's masked. */
	ASSERT_EQ(rd(bsp, APIC_LVT0), APIC_DM_EXTINT);
	ASSERT_EQ(rd(ap, APIC_LVT0), APIC_LVT_MASKED);
	ASSERT_EQ(rd(bsp, APIC_LVTT), APIC_LVT_MASKED);
	ASSERT_EQ(rd(bsp, APIC_LVTERR), APIC_LVT_MASKED);
	ASSERT_EQ(bsp->mp_state, KVM_MP_STATE_RUNNABLE);
	ASSERT_EQ(ap->mp_state, KVM_MP_STATE_UNINITIALIZED);
	ASSERT_EQ(lapicv_apic_find_highest_irr(bsp), -1);
	ASSERT_EQ(lapicv_apic_find_highest_isr(bsp), -1);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_highest_irr_and_hint(void)
{
	struct lapicv_vm *vm = vm_up(1);
	struct lapicv_lapic *apic = unit_apic(vm, 0);

	ASSERT_EQ(lapicv_apic_find_highest_irr(apic), -1);
	lapicv_apic_set_irr(apic, 0x31);
	lapicv_apic_set_irr(apic, 0x80);
	lapicv_apic_set_irr(apic, 0x45);
	ASSERT_TRUE(apic->irr_pending);
	ASSERT_EQ(lapicv_apic_find_highest_irr(apic), 0x80);
	lapicv_apic_set_irr(apic, 0xff);
	ASSERT_EQ(lapicv_apic_find_highest_irr(apic), 0xff);
	ASSERT_TRUE(lapicv_test_vector(0x45, apic->regs + APIC_IRR));
	/* The hint is trusted: cleared, IRR counts as empty. */
	apic->irr_pending = false;
	ASSERT_EQ(lapicv_apic_find_highest_irr(apic), -1);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_isr_count_and_cache(void)
{
	struct lapicv_vm *vm = vm_up(1);
	struct lapicv_lapic *apic = unit_apic(vm, 0);
	const int vecs[] = { 0x40, 0x91, 0x62 };

	ASSERT_TRUE(set_isr(apic, vecs, 3));
	ASSERT_EQ(apic->isr_count, 3);
	ASSERT_EQ(apic->highest_isr_cache, -1);	/* rescan on demand */
	ASSERT_EQ(lapicv_apic_find_highest_isr(apic), 0x91);

	/* EOI clears the highest and invalidates the cache. */
	ASSERT_EQ(wr(apic, APIC_EOI, 0), 0);
	ASSERT_EQ(apic->isr_count, 2);
	ASSERT_FALSE(lapicv_test_vector(0x91, apic->regs + APIC_ISR));
	ASSERT_EQ(apic->highest_isr_cache, -1);
	ASSERT_EQ(lapicv_apic_find_highest_isr(apic), 0x62);
	ASSERT_EQ(wr(apic, APIC_EOI, 0), 0);
	ASSERT_EQ(wr(apic, APIC_EOI, 0), 0);
	ASSERT_EQ(apic->isr_count, 0);
	ASSERT_EQ(lapicv_apic_find_highest_isr(apic), -1);
	/* A stale cache is never consulted with nothing in service. */
	apic->highest_isr_cache = 0x99;
	ASSERT_EQ(lapicv_apic_find_highest_isr(apic), -1);
	apic->highest_isr_cache = -1;
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_ppr_from_tpr_and_isr(void)
{
	struct lapicv_vm *vm = vm_up(1);
	struct lapicv_lapic *apic = unit_apic(vm, 0);
	const int vec = 0x45;

	ASSERT_EQ(wr(apic, APIC_TASKPRI, 0x20), 0);
	ASSERT_EQ(rd(apic, APIC_PROCPRI), 0x20);
	ASSERT_TRUE(set_isr(apic, &vec, 1));
	/* ISR class above TPR's: PPR is the ISR class, sub-class 0. */
	ASSERT_EQ(rd(apic, APIC_PROCPRI), 0x40);
	/* Same class: TPR wins, all eight bits. */
	ASSERT_EQ(wr(apic, APIC_TASKPRI, 0x4f), 0);
	ASSERT_EQ(rd(apic, APIC_PROCPRI), 0x4f);
	ASSERT_EQ(wr(apic, APIC_TASKPRI, 0x50), 0);
	ASSERT_EQ(rd(apic, APIC_PROCPRI), 0x50);
	/* TPR keeps only its low byte. */
	ASSERT_EQ(wr(apic, APIC_TASKPRI, 0x1234), 0);
	ASSERT_EQ(rd(apic, APIC_TASKPRI), 0x34);
	ASSERT_EQ(rd(apic, APIC_PROCPRI), 0x40);
	ASSERT_EQ(wr(apic, APIC_EOI, 0), 0);
	ASSERT_EQ(rd(apic, APIC_PROCPRI), 0x34);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_eoi_unmasking_requests_event(void)
{
	struct lapicv_vm *vm = vm_up(1);
	struct lapicv_lapic *apic = unit_apic(vm, 0);
	struct lapicv_vcpu *vcpu = apic->vcpu;
	const int vec = 0x80;

	ASSERT_TRUE(set_isr(apic, &vec, 1));
	ASSERT_EQ(accept(apic, APIC_DM_FIXED, 0x60, false), 1);
	lapicv_check_request(vcpu, LAPICV_REQ_EVENT);
	/* Raising TPR never asks for an evaluation. */
	ASSERT_EQ(wr(apic, APIC_TASKPRI, 0x10), 0);
	ASSERT_FALSE(lapicv_check_request(vcpu, LAPICV_REQ_EVENT));
	/* The EOI drops PPR below 0x60's class: evaluate again. */
	ASSERT_EQ(wr(apic, APIC_EOI, 0), 0);
	ASSERT_TRUE(lapicv_check_request(vcpu, LAPICV_REQ_EVENT));
	/* An EOI with nothing in service does nothing at all. */
	ASSERT_EQ(wr(apic, APIC_EOI, 0), 0);
	ASSERT_FALSE(lapicv_check_request(vcpu, LAPICV_REQ_EVENT));
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_accept_fixed_sets_irr_tmr_and_kicks(void)
{
	struct lapicv_vm *vm = vm_up(1);
	struct lapicv_lapic *apic = unit_apic(vm, 0);
	unsigned long kicks = shim_wq_wakeups(&apic->vcpu->wq);
	struct lapicv_irq deassert = {
		.vector = 0x55, .delivery_mode = APIC_DM_FIXED,
		.level = false, .trig_mode = 1,
	};

	ASSERT_EQ(accept(apic, APIC_DM_FIXED, 0x55, true), 1);
	ASSERT_TRUE(lapicv_test_vector(0x55, apic->regs + APIC_IRR));
	ASSERT_TRUE(lapicv_test_vector(0x55, apic->regs + APIC_TMR));
	ASSERT_TRUE(lapicv_check_request(apic->vcpu, LAPICV_REQ_EVENT));
	ASSERT_EQ(shim_wq_wakeups(&apic->vcpu->wq), kicks + 1);
	/* The same vector edge-triggered clears its TMR bit. */
	ASSERT_EQ(accept(apic, APIC_DM_FIXED, 0x55, false), 1);
	ASSERT_FALSE(lapicv_test_vector(0x55, apic->regs + APIC_TMR));
	/* A level de-assert carries nothing. */
	ASSERT_EQ(lapicv_apic_accept_irq(apic, &deassert), 0);
	ASSERT_FALSE(lapicv_test_vector(0x55, apic->regs + APIC_TMR));
	/* Lowest priority counts toward arbitration. */
	ASSERT_EQ(accept(apic, APIC_DM_LOWEST, 0x56, false), 1);
	ASSERT_EQ(apic->arb_prio, 1);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_accept_on_disabled_apic(void)
{
	struct lapicv_vm *vm = unit_apic_vm_create(1, NULL, LAPICV_IRQWIN_COUNTER);
	struct lapicv_lapic *apic = unit_apic(vm, 0);

	/* Software-disabled (RESET's SPIV): fixed is dropped, NMI is not. */
	ASSERT_EQ(accept(apic, APIC_DM_FIXED, 0x40, false), 0);
	ASSERT_EQ(lapicv_apic_find_highest_irr(apic), -1);
	ASSERT_EQ(accept(apic, APIC_DM_NMI, 0, false), 1);
	ASSERT_EQ(atomic_read(&apic->vcpu->events.nmi_queued), 1);
	ASSERT_EQ(accept(apic, APIC_DM_SMI, 0, false), 1);
	ASSERT_TRUE(test_bit(LAPICV_REQ_SMI, &apic->vcpu->requests));
	ASSERT_EQ(accept(apic, APIC_DM_EXTINT, 0x20, false), 0);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_init_sipi_and_accept_events(void)
{
	struct lapicv_vm *vm = vm_up(2);
	struct lapicv_lapic *bsp = unit_apic(vm, 0), *ap = unit_apic(vm, 1);
	struct lapicv_vcpu *v = ap->vcpu;

	/* SIPI before INIT: dropped at accept_events (not waiting). */
	ASSERT_EQ(accept(ap, APIC_DM_STARTUP, 0x12, false), 1);
	mutex_lock(&v->mutex);
	ASSERT_EQ(lapicv_apic_accept_events(v), 0);
	ASSERT_EQ(ap->mp_state, KVM_MP_STATE_UNINITIALIZED);
	ASSERT_EQ(ap->pending_events, 0);

	/*
	 * INIT, then SIPI: INIT_RECEIVED, then RUNNABLE at the vector; each
	 * accept returns what it acted on (the runner's registers follow).
	 */
	ASSERT_EQ(accept(ap, APIC_DM_INIT, 0, false), 1);
	ASSERT_EQ(ap->pending_events, BIT(LAPICV_APIC_INIT));
	ASSERT_EQ(lapicv_apic_accept_events(v), BIT(LAPICV_APIC_INIT));
	ASSERT_EQ(ap->mp_state, KVM_MP_STATE_INIT_RECEIVED);
	ASSERT_EQ(lapicv_apic_accept_events(v), 0);
	ASSERT_EQ(accept(ap, APIC_DM_STARTUP, 0x9a, false), 1);
	ASSERT_EQ(lapicv_apic_accept_events(v), BIT(LAPICV_APIC_SIPI));
	ASSERT_EQ(ap->accepted_events,
		  BIT(LAPICV_APIC_INIT) | BIT(LAPICV_APIC_SIPI));
	ASSERT_EQ(ap->mp_state, KVM_MP_STATE_RUNNABLE);
	ASSERT_EQ(ap->sipi_vector, 0x9a);

	/* A new INIT discards a SIPI not yet acted on. */
	ASSERT_EQ(accept(ap, APIC_DM_STARTUP, 0x10, false), 1);
	ASSERT_EQ(accept(ap, APIC_DM_INIT, 0, false), 1);
	ASSERT_EQ(ap->pending_events, BIT(LAPICV_APIC_INIT));
	/* INIT resets the APIC: software-disabled again, ID kept. */
	lapicv_apic_accept_events(v);
	mutex_unlock(&v->mutex);
	ASSERT_FALSE(lapicv_apic_sw_enabled(ap));
	ASSERT_EQ(rd(ap, APIC_ID), 1 << 24);

	/* The BSP stays runnable through INIT. */
	ASSERT_EQ(accept(bsp, APIC_DM_INIT, 0, false), 1);
	mutex_lock(&bsp->vcpu->mutex);
	lapicv_apic_accept_events(bsp->vcpu);
	mutex_unlock(&bsp->vcpu->mutex);
	ASSERT_EQ(bsp->mp_state, KVM_MP_STATE_RUNNABLE);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_register_read_validity(void)
{
	struct lapicv_vm *vm = vm_up(1);
	struct lapicv_lapic *apic = unit_apic(vm, 0);
	u32 v;

	ASSERT_EQ(lapicv_apic_reg_read(apic, APIC_EOI, &v), 1);	/* write-only */
	ASSERT_EQ(lapicv_apic_reg_read(apic, APIC_ID + 4, &v), 1);	/* unaligned */
	ASSERT_EQ(lapicv_apic_reg_read(apic, 0x400, &v), 1);		/* past the page */
	ASSERT_EQ(lapicv_apic_reg_read(apic, APIC_LVTCMCI, &v), 1);	/* no CMCI */
	ASSERT_EQ(lapicv_apic_reg_read(apic, APIC_SELF_IPI, &v), 1);
	/* The arbitration priority reads 0 in xAPIC mode. */
	ASSERT_EQ(lapicv_apic_reg_read(apic, APIC_ARBPRI, &v), 0);
	ASSERT_EQ(v, 0);
	/* Read-only registers reject writes. */
	ASSERT_EQ(wr(apic, APIC_LVR, 0), 1);
	ASSERT_EQ(wr(apic, APIC_PROCPRI, 0), 1);
	ASSERT_EQ(wr(apic, APIC_IRR, 0), 1);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_lvt_masks_and_sw_disable(void)
{
	struct lapicv_vm *vm = vm_up(1);
	struct lapicv_lapic *apic = unit_apic(vm, 0);

	ASSERT_EQ(wr(apic, APIC_LVT1, APIC_DM_NMI | APIC_LVT_LEVEL_TRIGGER |
				      BIT(20) | 0xff), 0);
	/* Level trigger and delivery mode kept on LINT1, bit 20 dropped. */
	ASSERT_EQ(rd(apic, APIC_LVT1), APIC_DM_NMI | APIC_LVT_LEVEL_TRIGGER | 0xff);
	/* The error LVT keeps neither mode nor trigger. */
	ASSERT_EQ(wr(apic, APIC_LVTERR, APIC_DM_NMI | APIC_LVT_LEVEL_TRIGGER | 0xfe), 0);
	ASSERT_EQ(rd(apic, APIC_LVTERR), 0xfe);
	/* No timer modes before KVM_SET_CPUID2: the mode bits are dropped. */
	ASSERT_EQ(wr(apic, APIC_LVTT, APIC_LVT_TIMER_PERIODIC | 0xec), 0);
	ASSERT_EQ(rd(apic, APIC_LVTT), 0xec);
	lapicv_timer_set_cpuid(apic, true);
	ASSERT_EQ(wr(apic, APIC_LVTT, APIC_LVT_TIMER_PERIODIC | 0xec), 0);
	ASSERT_EQ(rd(apic, APIC_LVTT), APIC_LVT_TIMER_PERIODIC | 0xec);
	ASSERT_EQ(wr(apic, APIC_LVTCMCI, 0), 1);	/* not present */

	/* Software disable masks every LVT, and keeps new writes masked. */
	ASSERT_EQ(wr(apic, APIC_SPIV, 0xff), 0);
	ASSERT_EQ(rd(apic, APIC_LVT1) & APIC_LVT_MASKED, APIC_LVT_MASKED);
	ASSERT_EQ(rd(apic, APIC_LVTT) & APIC_LVT_MASKED, APIC_LVT_MASKED);
	ASSERT_EQ(wr(apic, APIC_LVT0, APIC_DM_EXTINT), 0);
	ASSERT_EQ(rd(apic, APIC_LVT0), APIC_DM_EXTINT | APIC_LVT_MASKED);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_apic_base_validation(void)
{
	struct lapicv_vm *vm = vm_up(2);
	struct lapicv_lapic *apic = unit_apic(vm, 1);
	struct lapicv_vcpu *v = apic->vcpu;
	u64 base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE;

	mutex_lock(&v->mutex);
	/* Reserved bits: 7:0, 9, MAXPHYADDR and up, EXTD without CPUID. */
	ASSERT_EQ(lapicv_apic_set_base(v, base | 1, true), 1);
	ASSERT_EQ(lapicv_apic_set_base(v, base | BIT(9), true), 1);
	ASSERT_EQ(lapicv_apic_set_base(v, base | BIT_ULL(36), true), 1);
	ASSERT_EQ(lapicv_apic_set_base(v, base | X2APIC_ENABLE, true), 1);
	apic->cpuid_x2apic = true;
	/* EXTD without EN is the invalid mode. */
	ASSERT_EQ(lapicv_apic_set_base(v, APIC_DEFAULT_PHYS_BASE | X2APIC_ENABLE, true), 1);
	ASSERT_EQ(lapicv_apic_set_base(v, base | X2APIC_ENABLE, false), 0);
	/* x2APIC -> xAPIC is refused to the guest, allowed to the VMM. */
	ASSERT_EQ(lapicv_apic_set_base(v, base, false), 1);
	ASSERT_EQ(lapicv_apic_set_base(v, base, true), 0);
	/* disabled -> x2APIC likewise. */
	ASSERT_EQ(lapicv_apic_set_base(v, APIC_DEFAULT_PHYS_BASE, false), 0);
	ASSERT_EQ(lapicv_apic_set_base(v, base | X2APIC_ENABLE, false), 1);
	ASSERT_EQ(lapicv_apic_set_base(v, base | X2APIC_ENABLE, true), 0);
	mutex_unlock(&v->mutex);
	ASSERT_EQ(apic->apic_base, base | X2APIC_ENABLE);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_x2apic_id_ldr_and_msrs(void)
{
	struct lapicv_vm *vm = vm_up(18);
	struct lapicv_lapic *apic = unit_apic(vm, 17);
	struct lapicv_vcpu *v = apic->vcpu;
	u64 base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE;
	u64 data;

	apic->cpuid_x2apic = true;
	mutex_lock(&v->mutex);
	ASSERT_EQ(lapicv_set_msr(v, MSR_IA32_APICBASE, base | X2APIC_ENABLE, false), 0);
	/* ID = vCPU id; LDR = cluster (id >> 4) << 16 | bit (id & 15). */
	ASSERT_EQ(lapicv_get_msr(v, APIC_BASE_MSR + (APIC_ID >> 4), &data), 0);
	ASSERT_EQ(data, 17);
	ASSERT_EQ(lapicv_get_msr(v, APIC_BASE_MSR + (APIC_LDR >> 4), &data), 0);
	ASSERT_EQ(data, (1 << 16) | BIT(1));
	/* No DFR, ICR2 or arbitration priority in x2APIC mode. */
	ASSERT_EQ(lapicv_get_msr(v, APIC_BASE_MSR + (APIC_DFR >> 4), &data), 1);
	ASSERT_EQ(data, 0);
	ASSERT_EQ(lapicv_get_msr(v, APIC_BASE_MSR + (APIC_ARBPRI >> 4), &data), 1);
	/* ID and LDR are read-only; 32-bit registers refuse high bits. */
	ASSERT_EQ(lapicv_set_msr(v, APIC_BASE_MSR + (APIC_ID >> 4), 3, false), 1);
	ASSERT_EQ(lapicv_set_msr(v, APIC_BASE_MSR + (APIC_TASKPRI >> 4), BIT_ULL(32), false), 1);
	/* ESR must be written with 0. */
	ASSERT_EQ(lapicv_set_msr(v, APIC_BASE_MSR + (APIC_ESR >> 4), 1, false), 1);
	ASSERT_EQ(lapicv_set_msr(v, APIC_BASE_MSR + (APIC_ESR >> 4), 0, false), 0);
	/* ICR: reserved bits fault; a valid write lands split in ICR/ICR2. */
	ASSERT_EQ(lapicv_set_msr(v, APIC_BASE_MSR + (APIC_ICR >> 4), BIT_ULL(13), false), 1);
	ASSERT_EQ(lapicv_set_msr(v, APIC_BASE_MSR + (APIC_ICR >> 4),
				 (5ULL << 32) | APIC_DM_NMI, false), 0);
	ASSERT_EQ(lapicv_get_msr(v, APIC_BASE_MSR + (APIC_ICR >> 4), &data), 0);
	ASSERT_EQ(data, (5ULL << 32) | APIC_DM_NMI);
	ASSERT_EQ(atomic_read(&lapicv_get_vcpu(vm, 5)->events.nmi_queued), 1);
	mutex_unlock(&v->mutex);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_self_ipi(void)
{
	struct lapicv_vm *vm = vm_up(2);
	struct lapicv_lapic *apic = unit_apic(vm, 1);
	struct lapicv_vcpu *v = apic->vcpu;
	u64 base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE;

	/* xAPIC has no SELF_IPI register. */
	ASSERT_EQ(wr(apic, APIC_SELF_IPI, 0x33), 1);
	apic->cpuid_x2apic = true;
	mutex_lock(&v->mutex);
	ASSERT_EQ(lapicv_set_msr(v, MSR_IA32_APICBASE, base | X2APIC_ENABLE, false), 0);
	ASSERT_EQ(lapicv_set_msr(v, APIC_BASE_MSR + (APIC_SELF_IPI >> 4), 0x133, false), 1);
	ASSERT_EQ(lapicv_set_msr(v, APIC_BASE_MSR + (APIC_SELF_IPI >> 4), 0x33, false), 0);
	mutex_unlock(&v->mutex);
	ASSERT_EQ(lapicv_apic_find_highest_irr(apic), 0x33);
	ASSERT_EQ(lapicv_apic_find_highest_irr(unit_apic(vm, 0)), -1);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_state_roundtrip(void)
{
	struct lapicv_vm *vm = vm_up(2);
	struct lapicv_lapic *apic = unit_apic(vm, 1);
	struct lapicv_vcpu *v = apic->vcpu;
	struct kvm_lapic_state s, t;

	ASSERT_EQ(wr(apic, APIC_TASKPRI, 0x30), 0);
	ASSERT_EQ(accept(apic, APIC_DM_FIXED, 0x77, true), 1);
	mutex_lock(&v->mutex);
	ASSERT_EQ(lapicv_apic_get_state(v, &s), 0);
	ASSERT_EQ(__lapicv_get_reg(s.regs, APIC_TASKPRI), 0x30);
	ASSERT_EQ(__lapicv_get_reg(s.regs, APIC_ID), 1 << 24);
	ASSERT_TRUE(lapicv_test_vector(0x77, s.regs + APIC_IRR));
	ASSERT_TRUE(lapicv_test_vector(0x77, s.regs + APIC_TMR));

	/* Into a fresh APIC (vCPU 0 reset): the same state comes back. */
	lapicv_lapic_reset(v, true);
	ASSERT_EQ(lapicv_apic_find_highest_irr(apic), -1);
	memcpy(&t, &s, sizeof(t));
	ASSERT_EQ(lapicv_apic_set_state(v, &t), 0);
	memset(&t, 0, sizeof(t));
	ASSERT_EQ(lapicv_apic_get_state(v, &t), 0);
	ASSERT_EQ(memcmp(&s, &t, sizeof(s)), 0);
	ASSERT_EQ(lapicv_apic_find_highest_irr(apic), 0x77);
	ASSERT_TRUE(lapicv_apic_sw_enabled(apic));
	ASSERT_TRUE(lapicv_check_request(v, LAPICV_REQ_EVENT));
	mutex_unlock(&v->mutex);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_state_x2apic_id_fixup(void)
{
	struct lapicv_vm *vm = vm_up(4);
	struct lapicv_lapic *apic = unit_apic(vm, 3);
	struct lapicv_vcpu *v = apic->vcpu;
	u64 base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE |
		   X2APIC_ENABLE;
	struct kvm_lapic_state s;

	apic->cpuid_x2apic = true;
	mutex_lock(&v->mutex);
	ASSERT_EQ(lapicv_set_msr(v, MSR_IA32_APICBASE, base, true), 0);
	/* Without 32-bit IDs the state carries ID << 24, and a set ignores it. */
	ASSERT_EQ(lapicv_apic_get_state(v, &s), 0);
	ASSERT_EQ(__lapicv_get_reg(s.regs, APIC_ID), 3 << 24);
	__lapicv_set_reg(s.regs, APIC_ID, 9 << 24);
	__lapicv_set_reg(s.regs, APIC_LDR, 0x1234);
	ASSERT_EQ(lapicv_apic_set_state(v, &s), 0);
	ASSERT_EQ(lapicv_get_reg(apic, APIC_ID), 3);
	ASSERT_EQ(lapicv_get_reg(apic, APIC_LDR), BIT(3));

	/* With them, the ID must match, and a mismatch changes nothing. */
	vm->x2apic_format = true;
	ASSERT_EQ(lapicv_apic_get_state(v, &s), 0);
	ASSERT_EQ(__lapicv_get_reg(s.regs, APIC_ID), 3);
	__lapicv_set_reg(s.regs, APIC_ID, 4);
	__lapicv_set_reg(s.regs, APIC_TASKPRI, 0x70);
	ASSERT_EQ(lapicv_apic_set_state(v, &s), -EINVAL);
	ASSERT_EQ(lapicv_get_reg(apic, APIC_TASKPRI), 0);
	mutex_unlock(&v->mutex);
	unit_apic_vm_destroy(vm);
	return true;
}

/*
 * vmx: an MSI posted while KVM_SET_LAPIC runs, after the register copy,
 * reaches IRR.  PIR is cleared before the copy (KVM's
 * apicv_pre_state_restore), not after it, where it would drop this edge.
 */
static bool test_vmx_msi_during_set_state_kept(void)
{
	struct lapicv_vm *vm = unit_apic_vm_create(1, &lapicv_vmx_backend,
						   LAPICV_IRQWIN_COUNTER);
	struct lapicv_lapic *apic = unit_apic(vm, 0);
	struct lapicv_vcpu *v = apic->vcpu;
	struct kvm_lapic_state s;

	ASSERT_EQ(wr(apic, APIC_SPIV, APIC_SPIV_APIC_ENABLED | 0xff), 0);
	ASSERT_TRUE(apic->apicv_active);
	mutex_lock(&v->mutex);
	ASSERT_EQ(lapicv_apic_get_state(v, &s), 0);
	restore_msi.vm = vm;
	restore_msi.dest = 0;
	restore_msi.vector = 0x61;
	ASSERT_EQ(lapicv_apic_set_state(v, &s), 0);
	ASSERT_EQ(restore_msi.vector, 0);
	ASSERT_EQ(restore_msi.delivered, 1);
	ASSERT_EQ(lapicv_apic_get_state(v, &s), 0);
	mutex_unlock(&v->mutex);
	ASSERT_TRUE(lapicv_test_vector(0x61, s.regs + APIC_IRR));
	unit_apic_vm_destroy(vm);
	return true;
}

/*
 * vmx: a vector posted before KVM_SET_LAPIC is dropped by it, as the
 * restored state's IRR says (KVM's vmx_apicv_pre_state_restore()).  The
 * state is read before the MSI, so it does not carry the vector; left in
 * PIR, the GET that follows would sync it into IRR.
 */
static bool test_vmx_set_state_drops_earlier_msi(void)
{
	struct lapicv_vm *vm = unit_apic_vm_create(1, &lapicv_vmx_backend,
						   LAPICV_IRQWIN_COUNTER);
	struct lapicv_lapic *apic = unit_apic(vm, 0);
	struct lapicv_vcpu *v = apic->vcpu;
	struct kvm_msi m = { .address_lo = 0xfee00000, .data = 0x62 };
	struct kvm_lapic_state s;

	ASSERT_EQ(wr(apic, APIC_SPIV, APIC_SPIV_APIC_ENABLED | 0xff), 0);
	ASSERT_TRUE(apic->apicv_active);
	mutex_lock(&v->mutex);
	ASSERT_EQ(lapicv_apic_get_state(v, &s), 0);
	mutex_unlock(&v->mutex);
	ASSERT_FALSE(lapicv_test_vector(0x62, s.regs + APIC_IRR));

	/* Posted: in PIR, not yet in IRR. */
	ASSERT_EQ(lapicv_signal_msi(vm, &m), 1);
	ASSERT_FALSE(lapicv_test_vector(0x62, apic->regs + APIC_IRR));

	mutex_lock(&v->mutex);
	ASSERT_EQ(lapicv_apic_set_state(v, &s), 0);
	ASSERT_EQ(lapicv_apic_get_state(v, &s), 0);
	mutex_unlock(&v->mutex);
	ASSERT_FALSE(lapicv_test_vector(0x62, s.regs + APIC_IRR));
	ASSERT_EQ(lapicv_apic_find_highest_irr(apic), -1);
	unit_apic_vm_destroy(vm);
	return true;
}

/* The lock contract is checked: these entry points need vcpu->mutex. */
static bool test_entry_points_assert_vcpu_mutex(void)
{
	struct lapicv_vm *vm = vm_up(1);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	struct kvm_lapic_state s;
	u64 data;

	/* get_state warns twice: its own check and sync_pir_to_irr's. */
	shim_expect_warns(4);
	lapicv_apic_get_state(v, &s);
	lapicv_get_msr(v, MSR_IA32_APICBASE, &data);
	lapicv_apic_accept_events(v);
	ASSERT_EQ(shim_missing_warns(), 0);
	unit_apic_vm_destroy(vm);
	return true;
}

static const struct unit_case cases[] = {
	UNIT_CASE(test_reset_values),
	UNIT_CASE(test_highest_irr_and_hint),
	UNIT_CASE(test_isr_count_and_cache),
	UNIT_CASE(test_ppr_from_tpr_and_isr),
	UNIT_CASE(test_eoi_unmasking_requests_event),
	UNIT_CASE(test_accept_fixed_sets_irr_tmr_and_kicks),
	UNIT_CASE(test_accept_on_disabled_apic),
	UNIT_CASE(test_init_sipi_and_accept_events),
	UNIT_CASE(test_register_read_validity),
	UNIT_CASE(test_lvt_masks_and_sw_disable),
	UNIT_CASE(test_apic_base_validation),
	UNIT_CASE(test_x2apic_id_ldr_and_msrs),
	UNIT_CASE(test_self_ipi),
	UNIT_CASE(test_state_roundtrip),
	UNIT_CASE(test_state_x2apic_id_fixup),
	UNIT_CASE(test_vmx_msi_during_set_state_kept),
	UNIT_CASE(test_vmx_set_state_drops_earlier_msi),
	UNIT_CASE(test_entry_points_assert_vcpu_mutex),
};

int main(int argc, char **argv)
{
	return unit_run("lapic", cases, ARRAY_SIZE(cases), argc, argv);
}
