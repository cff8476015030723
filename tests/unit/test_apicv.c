// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of apicv.c's run step and the backends' halves of it (soft,
 * vmx posted interrupts, svm AVIC with the IRQ-window counter), through
 * the public entry points only, on whole VMs from harness_vm.c.
 */
#include "test.h"
#include "unit_vm.h"

struct step {
	u32 exit, vector, pending;
	bool apicv, window;
};

static struct step run(struct lapicv_vcpu *v, bool rflags_if, bool shadow,
		       bool nmi_blocked)
{
	struct lapicv_run r = {
		.rflags_if = rflags_if, .interrupt_shadow = shadow,
		.nmi_blocked = nmi_blocked,
	};
	struct step s;

	mutex_lock(&v->mutex);
	WARN_ON(lapicv_vcpu_run(v, &r));
	mutex_unlock(&v->mutex);
	s = (struct step){ r.exit_reason, r.vector, r.pending,
			   r.apicv_active, r.irq_window_open };
	return s;
}

static void eoi(struct lapicv_vcpu *v)
{
	mutex_lock(&v->mutex);
	lapicv_apic_reg_write(v->apic, APIC_EOI, 0);
	mutex_unlock(&v->mutex);
}

static int msi(struct lapicv_vm *vm, u32 dest, u32 vec)
{
	struct kvm_msi m = { .address_lo = 0xfee00000 | dest << 12, .data = vec };

	return lapicv_signal_msi(vm, &m);
}

/* VM on backend b, APICs software-enabled, first run step done. */
static struct lapicv_vm *vm_up(unsigned int n, const struct lapicv_backend *b)
{
	struct lapicv_vm *vm = unit_apic_vm_create(n, b, LAPICV_IRQWIN_COUNTER);
	unsigned int i;

	for (i = 0; vm && i < n; i++) {
		struct lapicv_vcpu *v = lapicv_get_vcpu(vm, i);

		mutex_lock(&v->mutex);
		lapicv_apic_reg_write(v->apic, APIC_SPIV, 0x1ff);
		mutex_unlock(&v->mutex);
		if (!i)
			run(v, true, false, false);
	}
	return vm;
}

static bool test_nmi_then_extint_then_apic(void)
{
	struct lapicv_vm *vm = vm_up(1, NULL);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	struct step s;

	ASSERT_EQ(msi(vm, 0, 0x50), 1);
	mutex_lock(&v->mutex);
	ASSERT_EQ(lapicv_inject_nmi(v), 0);
	ASSERT_EQ(lapicv_inject_extint(v, 0x20), 0);
	ASSERT_EQ(lapicv_inject_extint(v, 0x21), -EEXIST);
	mutex_unlock(&v->mutex);

	s = run(v, true, false, false);
	ASSERT_EQ(s.exit, LAPICV_RUN_NMI);
	ASSERT_EQ(s.vector, 2);
	ASSERT_EQ(s.pending, LAPICV_RUN_PENDING_EXTINT | LAPICV_RUN_PENDING_APIC);
	s = run(v, true, false, false);
	ASSERT_EQ(s.exit, LAPICV_RUN_EXTINT);
	ASSERT_EQ(s.vector, 0x20);
	s = run(v, true, false, false);
	ASSERT_EQ(s.exit, LAPICV_RUN_INTR);
	ASSERT_EQ(s.vector, 0x50);
	ASSERT_EQ(s.pending, 0);
	/* In service now: PPR is 0x50 until the EOI. */
	ASSERT_EQ(lapicv_get_reg(v->apic, APIC_PROCPRI), 0x50);
	ASSERT_EQ(run(v, true, false, false).exit, LAPICV_RUN_NONE);
	eoi(v);
	ASSERT_EQ(lapicv_get_reg(v->apic, APIC_PROCPRI), 0);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_nmi_blocked_and_shadow(void)
{
	struct lapicv_vm *vm = vm_up(1, NULL);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);

	mutex_lock(&v->mutex);
	ASSERT_EQ(lapicv_inject_nmi(v), 0);
	mutex_unlock(&v->mutex);
	ASSERT_EQ(run(v, true, false, true).exit, LAPICV_RUN_NONE);
	ASSERT_EQ(run(v, true, true, false).exit, LAPICV_RUN_NONE);
	ASSERT_EQ(run(v, false, false, false).exit, LAPICV_RUN_NMI);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_priority_gates_delivery(void)
{
	struct lapicv_vm *vm = vm_up(1, NULL);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	struct step s;

	mutex_lock(&v->mutex);
	lapicv_apic_reg_write(v->apic, APIC_TASKPRI, 0x60);
	mutex_unlock(&v->mutex);
	ASSERT_EQ(msi(vm, 0, 0x65), 1);
	/* Same class as TPR: not deliverable, not even "pending". */
	s = run(v, true, false, false);
	ASSERT_EQ(s.exit, LAPICV_RUN_NONE);
	ASSERT_EQ(s.pending, 0);
	ASSERT_EQ(msi(vm, 0, 0x71), 1);
	s = run(v, true, false, false);
	ASSERT_EQ(s.exit, LAPICV_RUN_INTR);
	ASSERT_EQ(s.vector, 0x71);
	eoi(v);
	mutex_lock(&v->mutex);
	lapicv_apic_reg_write(v->apic, APIC_TASKPRI, 0);
	mutex_unlock(&v->mutex);
	s = run(v, true, false, false);
	ASSERT_EQ(s.exit, LAPICV_RUN_INTR);
	ASSERT_EQ(s.vector, 0x65);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_soft_irq_window(void)
{
	struct lapicv_vm *vm = vm_up(1, NULL);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	struct step s;

	ASSERT_EQ(msi(vm, 0, 0x40), 1);
	s = run(v, false, false, false);
	ASSERT_EQ(s.exit, LAPICV_RUN_IRQ_WINDOW);
	ASSERT_TRUE(s.window);
	ASSERT_EQ(s.pending, LAPICV_RUN_PENDING_APIC);
	s = run(v, true, false, false);
	ASSERT_EQ(s.exit, LAPICV_RUN_INTR);
	ASSERT_FALSE(s.window);
	unit_apic_vm_destroy(vm);
	return true;
}

/* svm: an ExtINT needs a window, which inhibits AVIC through the counter. */
static bool test_svm_extint_window_inhibits(void)
{
	struct lapicv_vm *vm = vm_up(2, &lapicv_svm_backend);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	struct step s;

	ASSERT_EQ(READ_ONCE(vm->inhibits.reasons), 0);
	ASSERT_TRUE(v->apic->apicv_active);
	mutex_lock(&v->mutex);
	ASSERT_EQ(lapicv_inject_extint(v, 0x30), 0);
	mutex_unlock(&v->mutex);
	s = run(v, false, false, false);
	ASSERT_EQ(s.exit, LAPICV_RUN_IRQ_WINDOW);
	ASSERT_EQ(atomic_read(&vm->inhibits.irq_window), 1);
	ASSERT_EQ(READ_ONCE(vm->inhibits.reasons), BIT(LAPICV_INHIBIT_IRQWIN));
	/* Every vCPU was asked to refresh; this one turns APICv off. */
	ASSERT_TRUE(test_bit(LAPICV_REQ_APICV_UPDATE, &lapicv_get_vcpu(vm, 1)->requests));
	s = run(v, true, false, false);
	ASSERT_EQ(s.exit, LAPICV_RUN_EXTINT);
	ASSERT_EQ(s.vector, 0x30);
	/* The window closed: the count is 0 and AVIC may come back. */
	ASSERT_EQ(atomic_read(&vm->inhibits.irq_window), 0);
	ASSERT_EQ(READ_ONCE(vm->inhibits.reasons), 0);
	s = run(v, true, false, false);
	ASSERT_TRUE(s.apicv);
	unit_apic_vm_destroy(vm);
	return true;
}

/* vmx: a posted interrupt is in PIR, not IRR, until something syncs it. */
static bool test_vmx_posted_interrupt_sync(void)
{
	struct lapicv_vm *vm = vm_up(1, &lapicv_vmx_backend);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	struct kvm_lapic_state st;
	struct step s;

	ASSERT_TRUE(v->apic->apicv_active);
	ASSERT_EQ(msi(vm, 0, 0x88), 1);
	ASSERT_FALSE(lapicv_test_vector(0x88, v->apic->regs + APIC_IRR));
	/* KVM_GET_LAPIC syncs PIR first, so the VMM sees the vector. */
	mutex_lock(&v->mutex);
	ASSERT_EQ(lapicv_apic_get_state(v, &st), 0);
	mutex_unlock(&v->mutex);
	ASSERT_TRUE(lapicv_test_vector(0x88, st.regs + APIC_IRR));
	s = run(v, true, false, false);
	ASSERT_EQ(s.exit, LAPICV_RUN_VIRTUAL_INTR);
	ASSERT_EQ(s.vector, 0x88);
	eoi(v);
	/* With APICv inhibited, delivery falls back to IRR. */
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_BLOCKIRQ, true);
	s = run(v, true, false, false);
	ASSERT_FALSE(s.apicv);
	ASSERT_EQ(msi(vm, 0, 0x89), 1);
	ASSERT_TRUE(lapicv_test_vector(0x89, v->apic->regs + APIC_IRR));
	s = run(v, true, false, false);
	ASSERT_EQ(s.exit, LAPICV_RUN_INTR);
	ASSERT_EQ(s.vector, 0x89);
	unit_apic_vm_destroy(vm);
	return true;
}

static bool test_init_sipi_exits(void)
{
	struct lapicv_vm *vm = vm_up(2, NULL);
	struct lapicv_vcpu *bsp = lapicv_get_vcpu(vm, 0);
	struct lapicv_vcpu *ap = lapicv_get_vcpu(vm, 1);
	struct step s;

	mutex_lock(&bsp->mutex);
	lapicv_apic_reg_write(bsp->apic, APIC_ICR2, 1 << 24);
	lapicv_apic_reg_write(bsp->apic, APIC_ICR, APIC_DM_INIT | APIC_INT_ASSERT);
	mutex_unlock(&bsp->mutex);
	s = run(ap, true, false, false);
	ASSERT_EQ(s.exit, LAPICV_RUN_INIT);
	ASSERT_EQ(ap->apic->mp_state, KVM_MP_STATE_INIT_RECEIVED);
	mutex_lock(&bsp->mutex);
	lapicv_apic_reg_write(bsp->apic, APIC_ICR, APIC_DM_STARTUP | 0x9f);
	mutex_unlock(&bsp->mutex);
	s = run(ap, true, false, false);
	ASSERT_EQ(s.exit, LAPICV_RUN_SIPI);
	ASSERT_EQ(s.vector, 0x9f);
	ASSERT_EQ(ap->apic->mp_state, KVM_MP_STATE_RUNNABLE);
	unit_apic_vm_destroy(vm);
	return true;
}

static u32 send_and_step(struct lapicv_vcpu *bsp, struct lapicv_vcpu *ap,
			 u32 icr, struct lapicv_run *r)
{
	mutex_lock(&bsp->mutex);
	lapicv_apic_reg_write(bsp->apic, APIC_ICR2, 1 << 24);
	lapicv_apic_reg_write(bsp->apic, APIC_ICR, icr);
	mutex_unlock(&bsp->mutex);
	memset(r, 0, sizeof(*r));
	mutex_lock(&ap->mutex);
	WARN_ON(lapicv_vcpu_run(ap, r));
	mutex_unlock(&ap->mutex);
	return r->exit_reason;
}

/*
 * A SIPI exit says whether INIT came with it (the INIT state first) or
 * was reported before (SIPI changes CS and RIP only); what
 * KVM_GET_MP_STATE accepted is reported by the next step, or taken once.
 */
static bool test_sipi_flags_init(void)
{
	struct lapicv_vm *vm = vm_up(2, NULL);
	struct lapicv_vcpu *bsp = lapicv_get_vcpu(vm, 0);
	struct lapicv_vcpu *ap = lapicv_get_vcpu(vm, 1);
	struct kvm_mp_state mp;
	struct lapicv_run r;
	u8 vec;

	ASSERT_EQ(send_and_step(bsp, ap, APIC_DM_INIT | APIC_INT_ASSERT, &r),
		  LAPICV_RUN_INIT);
	ASSERT_EQ(send_and_step(bsp, ap, APIC_DM_STARTUP | 0x9f, &r),
		  LAPICV_RUN_SIPI);
	ASSERT_EQ(r.event_flags, 0);

	/* Both at once: one SIPI exit, flagged. */
	mutex_lock(&bsp->mutex);
	lapicv_apic_reg_write(bsp->apic, APIC_ICR, APIC_DM_INIT | APIC_INT_ASSERT);
	mutex_unlock(&bsp->mutex);
	ASSERT_EQ(send_and_step(bsp, ap, APIC_DM_STARTUP | 0x9e, &r),
		  LAPICV_RUN_SIPI);
	ASSERT_EQ(r.vector, 0x9e);
	ASSERT_EQ(r.event_flags, LAPICV_RUN_EVENT_INIT);

	/* Accepted by KVM_GET_MP_STATE and taken: no step reports them. */
	mutex_lock(&bsp->mutex);
	lapicv_apic_reg_write(bsp->apic, APIC_ICR, APIC_DM_INIT | APIC_INT_ASSERT);
	lapicv_apic_reg_write(bsp->apic, APIC_ICR, APIC_DM_STARTUP | 0x9d);
	mutex_unlock(&bsp->mutex);
	mutex_lock(&ap->mutex);
	ASSERT_EQ(lapicv_get_mp_state(ap, &mp, NULL), 0);
	ASSERT_EQ(mp.mp_state, KVM_MP_STATE_RUNNABLE);
	ASSERT_EQ(lapicv_vcpu_take_init_sipi(ap, &vec),
		  BIT(LAPICV_APIC_INIT) | BIT(LAPICV_APIC_SIPI));
	ASSERT_EQ(vec, 0x9d);
	ASSERT_EQ(lapicv_vcpu_take_init_sipi(ap, &vec), 0);
	memset(&r, 0, sizeof(r));
	r.rflags_if = 1;
	WARN_ON(lapicv_vcpu_run(ap, &r));
	mutex_unlock(&ap->mutex);
	ASSERT_EQ(r.exit_reason, LAPICV_RUN_NONE);
	unit_apic_vm_destroy(vm);
	return true;
}

/* A halted step with nothing to do sleeps; a signal ends it. */
static bool test_halted_step_interrupted(void)
{
	struct lapicv_vm *vm = vm_up(1, NULL);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	struct lapicv_run r = { .rflags_if = 1, .halted = 1 };

	current->sigpending = true;
	mutex_lock(&v->mutex);
	ASSERT_EQ(lapicv_vcpu_run(v, &r), -EINTR);
	ASSERT_TRUE(r.halted_out);
	mutex_unlock(&v->mutex);
	current->sigpending = false;
	/* Something to do: the halted step returns with it at once. */
	ASSERT_EQ(msi(vm, 0, 0x41), 1);
	mutex_lock(&v->mutex);
	ASSERT_EQ(lapicv_vcpu_run(v, &r), 0);
	mutex_unlock(&v->mutex);
	ASSERT_EQ(r.exit_reason, LAPICV_RUN_INTR);
	ASSERT_EQ(r.vector, 0x41);
	unit_apic_vm_destroy(vm);
	return true;
}

/*
 * One exit contract on every backend: an APIC vector the guest cannot
 * take (IF=0) ends the step with IRQ_WINDOW.  Only a backend without
 * active APICv really opens a window (KVM's kvm_cpu_has_injectable_intr()
 * is false for APIC vectors while APICv is active), so AVIC stays on.
 */
static bool test_irq_window_exit_on_every_backend(void)
{
	const struct lapicv_backend *b[] = {
		NULL, &lapicv_vmx_backend, &lapicv_svm_backend,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(b); i++) {
		struct lapicv_vm *vm = vm_up(1, b[i]);
		struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
		struct step s;

		ASSERT_EQ(msi(vm, 0, 0x40), 1);
		s = run(v, false, false, false);
		ASSERT_EQ(s.exit, LAPICV_RUN_IRQ_WINDOW);
		ASSERT_EQ(s.pending, LAPICV_RUN_PENDING_APIC);
		ASSERT_EQ(s.window, !s.apicv);
		ASSERT_EQ(s.apicv, !!b[i]);
		ASSERT_EQ(atomic_read(&vm->inhibits.irq_window), 0);
		ASSERT_FALSE(READ_ONCE(vm->inhibits.reasons) &
			     BIT(LAPICV_INHIBIT_IRQWIN));
		/* Still not interruptible: the same exit again. */
		s = run(v, true, true, false);
		ASSERT_EQ(s.exit, LAPICV_RUN_IRQ_WINDOW);
		s = run(v, true, false, false);
		ASSERT_EQ(s.exit, s.apicv ? LAPICV_RUN_VIRTUAL_INTR :
			  LAPICV_RUN_INTR);
		ASSERT_EQ(s.vector, 0x40);
		ASSERT_FALSE(s.window);
		unit_apic_vm_destroy(vm);
	}
	return true;
}

/*
 * svm: INIT drops an open IRQ window (KVM's init_vmcb), so a parked AP
 * does not hold the IRQ-window count and AVIC stays on for the VM.
 */
static bool test_svm_init_drops_irq_window(void)
{
	struct lapicv_vm *vm = vm_up(2, &lapicv_svm_backend);
	struct lapicv_vcpu *bsp = lapicv_get_vcpu(vm, 0);
	struct lapicv_vcpu *ap = lapicv_get_vcpu(vm, 1);
	struct step s;

	/* Start the AP as a guest does: INIT, then SIPI. */
	ASSERT_EQ(msi(vm, 1, APIC_DM_INIT), 1);
	ASSERT_EQ(run(ap, true, false, false).exit, LAPICV_RUN_INIT);
	ASSERT_EQ(msi(vm, 1, APIC_DM_STARTUP | 0x10), 1);
	ASSERT_EQ(run(ap, true, false, false).exit, LAPICV_RUN_SIPI);

	mutex_lock(&ap->mutex);
	lapicv_apic_reg_write(ap->apic, APIC_SPIV, 0x1ff);
	lapicv_apic_reg_write(ap->apic, APIC_LVT0, APIC_DM_EXTINT);
	ASSERT_EQ(lapicv_inject_extint(ap, 0x30), 0);
	mutex_unlock(&ap->mutex);
	s = run(ap, false, false, false);
	ASSERT_EQ(s.exit, LAPICV_RUN_IRQ_WINDOW);
	ASSERT_TRUE(s.window);
	ASSERT_EQ(atomic_read(&vm->inhibits.irq_window), 1);
	ASSERT_EQ(READ_ONCE(vm->inhibits.reasons), BIT(LAPICV_INHIBIT_IRQWIN));

	mutex_lock(&bsp->mutex);
	lapicv_apic_reg_write(bsp->apic, APIC_ICR2, 1 << 24);
	lapicv_apic_reg_write(bsp->apic, APIC_ICR, APIC_DM_INIT | APIC_INT_ASSERT);
	mutex_unlock(&bsp->mutex);
	s = run(ap, false, false, false);
	ASSERT_EQ(s.exit, LAPICV_RUN_INIT);
	ASSERT_FALSE(s.window);
	ASSERT_EQ(ap->apic->mp_state, KVM_MP_STATE_INIT_RECEIVED);
	ASSERT_EQ(atomic_read(&vm->inhibits.irq_window), 0);
	ASSERT_EQ(READ_ONCE(vm->inhibits.reasons), 0);
	/* The BSP gets AVIC back at its next step. */
	s = run(bsp, true, false, false);
	ASSERT_TRUE(s.apicv);
	unit_apic_vm_destroy(vm);
	return true;
}

/*
 * vmx: INIT drops what was posted, whether or not APICv is active (KVM's
 * pre-state-restore hook): a vector posted before APICv was inhibited
 * must not reach IRR after the reset.
 */
static bool test_vmx_init_drops_pir_while_inhibited(void)
{
	struct lapicv_vm *vm = vm_up(2, &lapicv_vmx_backend);
	struct lapicv_vcpu *bsp = lapicv_get_vcpu(vm, 0);
	struct lapicv_vcpu *ap = lapicv_get_vcpu(vm, 1);
	struct kvm_lapic_state st;
	struct step s;

	ASSERT_TRUE(ap->apic->apicv_active);
	ASSERT_EQ(msi(vm, 1, 0x44), 1);
	ASSERT_FALSE(lapicv_test_vector(0x44, ap->apic->regs + APIC_IRR));
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_BLOCKIRQ, true);
	mutex_lock(&bsp->mutex);
	lapicv_apic_reg_write(bsp->apic, APIC_ICR2, 1 << 24);
	lapicv_apic_reg_write(bsp->apic, APIC_ICR, APIC_DM_INIT | APIC_INT_ASSERT);
	mutex_unlock(&bsp->mutex);
	s = run(ap, true, false, false);
	ASSERT_EQ(s.exit, LAPICV_RUN_INIT);
	ASSERT_FALSE(s.apicv);
	mutex_lock(&ap->mutex);
	ASSERT_EQ(lapicv_apic_get_state(ap, &st), 0);
	mutex_unlock(&ap->mutex);
	ASSERT_FALSE(lapicv_test_vector(0x44, st.regs + APIC_IRR));
	ASSERT_EQ(lapicv_apic_find_highest_irr(ap->apic), -1);
	unit_apic_vm_destroy(vm);
	return true;
}

/* The step as KVM_RUN takes it with request_interrupt_window set. */
static int vmm_step(struct lapicv_vcpu *v, struct lapicv_run *r)
{
	int ret;

	mutex_lock(&v->mutex);
	ret = lapicv_vcpu_step(v, r, true);
	mutex_unlock(&v->mutex);
	return ret;
}

static bool ready(struct lapicv_vcpu *v, bool interruptible)
{
	bool ret;

	mutex_lock(&v->mutex);
	ret = lapicv_vcpu_ready_for_extint(v, interruptible);
	mutex_unlock(&v->mutex);
	return ret;
}

/*
 * request_interrupt_window (KVM's req_int_win and vcpu_run()): a window
 * opens for the VMM's ExtINT while LINT0 takes one and none is pending,
 * whatever is injected; a halted vCPU's wake-up ends the step with
 * nothing injected when the guest is ready for an ExtINT.
 */
static bool test_vmm_irq_window(void)
{
	struct lapicv_vm *vm = vm_up(1, NULL);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	struct lapicv_run r = { .rflags_if = 0 };
	struct lapicv_lapic *apic = v->apic;
	u32 lvt0 = lapicv_get_reg(apic, APIC_LVT0);

	ASSERT_TRUE(ready(v, true));
	ASSERT_FALSE(ready(v, false));
	ASSERT_EQ(vmm_step(v, &r), 0);
	ASSERT_EQ(r.exit_reason, LAPICV_RUN_NONE);
	ASSERT_TRUE(r.irq_window_open);
	/* Open while interruptible too, with an APIC vector injected. */
	ASSERT_EQ(msi(vm, 0, 0x41), 1);
	r.rflags_if = 1;
	ASSERT_EQ(vmm_step(v, &r), 0);
	ASSERT_EQ(r.exit_reason, LAPICV_RUN_INTR);
	ASSERT_TRUE(r.irq_window_open);
	eoi(v);
	/* The VINTR exit closes it; a pending ExtINT is not ready. */
	mutex_lock(&v->mutex);
	lapicv_vcpu_irq_window_exit(v);
	ASSERT_EQ(lapicv_inject_extint(v, 0x30), 0);
	mutex_unlock(&v->mutex);
	ASSERT_FALSE(ready(v, true));
	r.rflags_if = 0;
	ASSERT_EQ(vmm_step(v, &r), 0);
	ASSERT_EQ(r.exit_reason, LAPICV_RUN_IRQ_WINDOW);
	r.rflags_if = 1;
	ASSERT_EQ(vmm_step(v, &r), 0);
	ASSERT_EQ(r.exit_reason, LAPICV_RUN_EXTINT);
	/* LINT0 masked: no ExtINT can come, no window. */
	mutex_lock(&v->mutex);
	lapicv_vcpu_irq_window_exit(v);
	lapicv_apic_reg_write(apic, APIC_LVT0, lvt0 | APIC_LVT_MASKED);
	mutex_unlock(&v->mutex);
	ASSERT_FALSE(ready(v, true));
	r.rflags_if = 0;
	ASSERT_EQ(vmm_step(v, &r), 0);
	ASSERT_FALSE(r.irq_window_open);
	mutex_lock(&v->mutex);
	lapicv_apic_reg_write(apic, APIC_LVT0, lvt0);
	mutex_unlock(&v->mutex);

	/* Halted: the MSI ends the halt, and stays in IRR for now. */
	r.rflags_if = 1;
	r.halted = 1;
	ASSERT_EQ(msi(vm, 0, 0x42), 1);
	ASSERT_EQ(vmm_step(v, &r), 0);
	ASSERT_EQ(r.exit_reason, LAPICV_RUN_NONE);
	ASSERT_FALSE(r.halted_out);
	ASSERT_EQ(apic->mp_state, KVM_MP_STATE_RUNNABLE);
	ASSERT_EQ(lapicv_apic_find_highest_irr(apic), 0x42);
	r.halted = 0;
	ASSERT_EQ(vmm_step(v, &r), 0);
	ASSERT_EQ(r.exit_reason, LAPICV_RUN_INTR);
	ASSERT_EQ(r.vector, 0x42);
	unit_apic_vm_destroy(vm);
	return true;
}

static const struct unit_case cases[] = {
	UNIT_CASE(test_nmi_then_extint_then_apic),
	UNIT_CASE(test_nmi_blocked_and_shadow),
	UNIT_CASE(test_priority_gates_delivery),
	UNIT_CASE(test_soft_irq_window),
	UNIT_CASE(test_svm_extint_window_inhibits),
	UNIT_CASE(test_vmx_posted_interrupt_sync),
	UNIT_CASE(test_init_sipi_exits),
	UNIT_CASE(test_halted_step_interrupted),
	UNIT_CASE(test_irq_window_exit_on_every_backend),
	UNIT_CASE(test_svm_init_drops_irq_window),
	UNIT_CASE(test_vmx_init_drops_pir_while_inhibited),
	UNIT_CASE(test_vmm_irq_window),
	UNIT_CASE(test_sipi_flags_init),
};

int main(int argc, char **argv)
{
	return unit_run("apicv", cases, ARRAY_SIZE(cases), argc, argv);
}
