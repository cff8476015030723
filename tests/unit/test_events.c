// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of events.c (KVM_GET/SET_VCPU_EVENTS, NMI and SMI latching,
 * what INIT resets), of lapic.c's MP-state refusal with an SMI latched, and
 * of the run step's use of the event and MP state: UNINITIALIZED and
 * HALTED vCPUs kept blocked, restored injected events carried out first.
 */
#include "test.h"
#include "unit_vm.h"

static struct lapicv_vm *vm_sw(unsigned int n)
{
	struct lapicv_vm *vm = unit_apic_vm_create(n, NULL, LAPICV_IRQWIN_COUNTER);
	unsigned int i;

	for (i = 0; vm && i < n; i++) {
		struct lapicv_vcpu *v = lapicv_get_vcpu(vm, i);

		mutex_lock(&v->mutex);
		lapicv_apic_reg_write(v->apic, APIC_SPIV, 0x1ff);
		mutex_unlock(&v->mutex);
	}
	return vm;
}

static struct kvm_vcpu_events get(struct lapicv_vcpu *v)
{
	struct kvm_vcpu_events e;

	memset(&e, 0xa5, sizeof(e));
	mutex_lock(&v->mutex);
	lapicv_get_vcpu_events(v, &e);
	mutex_unlock(&v->mutex);
	return e;
}

static int set(struct lapicv_vcpu *v, const struct kvm_vcpu_events *e)
{
	int r;

	mutex_lock(&v->mutex);
	r = lapicv_set_vcpu_events(v, e);
	mutex_unlock(&v->mutex);
	return r;
}

static int mp(struct lapicv_vcpu *v, u32 state)
{
	struct kvm_mp_state m = { .mp_state = state };
	int r;

	mutex_lock(&v->mutex);
	r = lapicv_set_mp_state(v, &m);
	mutex_unlock(&v->mutex);
	return r;
}

static int run(struct lapicv_vcpu *v, struct lapicv_run *r)
{
	int ret;

	mutex_lock(&v->mutex);
	ret = lapicv_vcpu_run(v, r);
	mutex_unlock(&v->mutex);
	return ret;
}

static bool test_get_fills_everything(void)
{
	struct lapicv_vm *vm = vm_sw(1);
	struct kvm_vcpu_events e = get(lapicv_get_vcpu(vm, 0)), want;

	memset(&want, 0, sizeof(want));
	want.flags = KVM_VCPUEVENT_VALID_NMI_PENDING |
		     KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM;
	ASSERT_EQ(memcmp(&e, &want, sizeof(e)), 0);
	unit_apic_vm_destroy(vm);
	return true;
}

/* KVM's process_nmi(): two latched, one while masked or one injected. */
static bool test_nmi_latch(void)
{
	struct lapicv_vm *vm = vm_sw(1);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	struct kvm_vcpu_events e = { .nmi.masked = 1 };
	int i;

	mutex_lock(&v->mutex);
	for (i = 0; i < 5; i++)
		lapicv_inject_nmi(v);
	mutex_unlock(&v->mutex);
	ASSERT_EQ(get(v).nmi.pending, 2);
	ASSERT_EQ(set(v, &e), 0);
	ASSERT_EQ(get(v).nmi.pending, 1);
	e.nmi.masked = 0;
	e.nmi.injected = 1;
	e.flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
	e.nmi.pending = 255;
	ASSERT_EQ(set(v, &e), 0);
	ASSERT_EQ(atomic_read(&v->events.nmi_queued), 255);
	ASSERT_EQ(get(v).nmi.pending, 1);
	e.nmi.injected = 0;
	ASSERT_EQ(set(v, &e), 0);
	ASSERT_EQ(get(v).nmi.pending, 2);
	unit_apic_vm_destroy(vm);
	return true;
}

/* Refusals in KVM's order, each with nothing changed. */
static bool test_set_refusals(void)
{
	struct lapicv_vm *vm = vm_sw(2);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	struct lapicv_vcpu *ap = lapicv_get_vcpu(vm, 1);
	struct kvm_vcpu_events e, before = get(v), after;
	static const u32 bad_flags[] = {
		1u << 6, ~0u, KVM_VCPUEVENT_VALID_PAYLOAD,
		KVM_VCPUEVENT_VALID_TRIPLE_FAULT,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad_flags); i++) {
		memset(&e, 0, sizeof(e));
		e.nmi.masked = 1;
		e.interrupt.injected = 1;
		e.flags = bad_flags[i];
		ASSERT_EQ(set(v, &e), -EINVAL);
	}
	memset(&e, 0, sizeof(e));
	e.nmi.masked = 1;
	e.exception.injected = 1;
	e.exception.nr = 32;
	ASSERT_EQ(set(v, &e), -EINVAL);
	e.exception.nr = 2;
	ASSERT_EQ(set(v, &e), -EINVAL);
	e.exception.nr = 31;
	e.flags = KVM_VCPUEVENT_VALID_SMM;
	e.smi.smm = 1;
	ASSERT_EQ(set(v, &e), -EINVAL);
	after = get(v);
	ASSERT_EQ(memcmp(&before, &after, sizeof(before)), 0);
	/* The SMI-in-wait-for-SIPI check; SMM nor SMI, no error. */
	ASSERT_EQ(mp(ap, KVM_MP_STATE_INIT_RECEIVED), 0);
	e.smi.smm = 0;
	e.smi.pending = 1;
	ASSERT_EQ(set(ap, &e), -EINVAL);
	ASSERT_FALSE(ap->events.exception.injected);
	e.smi.pending = 0;
	ASSERT_EQ(set(ap, &e), 0);
	ASSERT_TRUE(ap->events.exception.injected);
	unit_apic_vm_destroy(vm);
	return true;
}

/* An SMI is requested, latched by GET or a step, and refuses INIT states. */
static bool test_smi_latch_and_mp_state(void)
{
	struct lapicv_vm *vm = vm_sw(2);
	struct lapicv_vcpu *ap = lapicv_get_vcpu(vm, 1);
	struct kvm_vcpu_events e = { .flags = KVM_VCPUEVENT_VALID_SMM };
	struct lapicv_run r = { .rflags_if = 1 };

	ASSERT_EQ(mp(ap, KVM_MP_STATE_RUNNABLE), 0);
	mutex_lock(&ap->mutex);
	ASSERT_EQ(lapicv_inject_smi(ap), 0);
	mutex_unlock(&ap->mutex);
	/* Requested, not latched: KVM lets INIT_RECEIVED through. */
	ASSERT_FALSE(ap->events.smi_pending);
	ASSERT_EQ(run(ap, &r), 0);
	ASSERT_EQ(r.pending, LAPICV_RUN_PENDING_SMI);
	ASSERT_TRUE(ap->events.smi_pending);
	ASSERT_EQ(mp(ap, KVM_MP_STATE_INIT_RECEIVED), -EINVAL);
	ASSERT_EQ(mp(ap, KVM_MP_STATE_SIPI_RECEIVED), -EINVAL);
	ASSERT_EQ(ap->apic->mp_state, KVM_MP_STATE_RUNNABLE);
	ASSERT_EQ(mp(ap, KVM_MP_STATE_HALTED), 0);
	ASSERT_EQ(set(ap, &e), 0);
	ASSERT_FALSE(get(ap).smi.pending);
	ASSERT_EQ(mp(ap, KVM_MP_STATE_INIT_RECEIVED), 0);
	unit_apic_vm_destroy(vm);
	return true;
}

/* INIT drops what is queued, latched and in flight; mask and shadow stay. */
static bool test_init_reset(void)
{
	struct lapicv_vm *vm = vm_sw(2);
	struct lapicv_vcpu *ap = lapicv_get_vcpu(vm, 1);
	struct kvm_vcpu_events e = {
		.exception = { .injected = 1, .nr = 13 },
		.interrupt = { .injected = 1, .nr = 0x40, .shadow = 1 },
		.nmi = { .injected = 1, .masked = 1 },
		.flags = KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM,
		.smi = { .pending = 1, .latched_init = 1 },
	};
	struct kvm_mp_state m;

	ASSERT_EQ(set(ap, &e), 0);
	mutex_lock(&ap->mutex);
	lapicv_inject_nmi(ap);
	ASSERT_EQ(lapicv_get_mp_state(ap, &m, NULL), 0);
	mutex_unlock(&ap->mutex);
	ASSERT_EQ(m.mp_state, KVM_MP_STATE_INIT_RECEIVED);
	e = get(ap);
	ASSERT_EQ(e.exception.injected, 0);
	ASSERT_EQ(e.exception.nr, 13);
	ASSERT_EQ(e.interrupt.injected, 0);
	ASSERT_EQ(e.interrupt.nr, 0x40);
	ASSERT_EQ(e.nmi.injected, 0);
	ASSERT_EQ(e.nmi.pending, 0);
	ASSERT_EQ(e.nmi.masked, 1);
	ASSERT_EQ(e.interrupt.shadow, LAPICV_SHADOW_ANY);
	ASSERT_EQ(e.smi.pending, 0);
	ASSERT_EQ(e.smi.latched_init, 0);
	unit_apic_vm_destroy(vm);
	return true;
}

/* A never-started AP takes no NMI: the step sleeps (here: a signal). */
static bool test_uninitialized_does_not_run(void)
{
	struct lapicv_vm *vm = vm_sw(2);
	struct lapicv_vcpu *ap = lapicv_get_vcpu(vm, 1);
	struct lapicv_run r = { .rflags_if = 1 };

	ASSERT_EQ(ap->apic->mp_state, KVM_MP_STATE_UNINITIALIZED);
	mutex_lock(&ap->mutex);
	lapicv_inject_nmi(ap);
	mutex_unlock(&ap->mutex);
	current->sigpending = true;
	ASSERT_EQ(run(ap, &r), -EINTR);
	current->sigpending = false;
	ASSERT_EQ(r.exit_reason, LAPICV_RUN_NONE);
	ASSERT_EQ(ap->apic->mp_state, KVM_MP_STATE_UNINITIALIZED);
	ASSERT_EQ(get(ap).nmi.pending, 1);
	unit_apic_vm_destroy(vm);
	return true;
}

/* HALTED and AP_RESET_HOLD, restored by the VMM, stay blocked. */
static bool test_restored_halt_blocks(void)
{
	static const u32 states[] = {
		KVM_MP_STATE_HALTED, KVM_MP_STATE_AP_RESET_HOLD,
	};
	struct lapicv_vm *vm = vm_sw(1);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	struct lapicv_run r = { .rflags_if = 1 };
	struct kvm_msi m = { .address_lo = 0xfee00000, .data = 0x61 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(states); i++) {
		ASSERT_EQ(mp(v, states[i]), 0);
		current->sigpending = true;
		ASSERT_EQ(run(v, &r), -EINTR);
		current->sigpending = false;
		ASSERT_TRUE(r.halted_out);
		ASSERT_EQ(v->apic->mp_state, states[i]);
		ASSERT_EQ(lapicv_signal_msi(vm, &m), 1);
		ASSERT_EQ(run(v, &r), 0);
		ASSERT_EQ(r.exit_reason, LAPICV_RUN_INTR);
		ASSERT_EQ(r.vector, 0x61);
		ASSERT_EQ(v->apic->mp_state, KVM_MP_STATE_RUNNABLE);
		mutex_lock(&v->mutex);
		lapicv_apic_reg_write(v->apic, APIC_EOI, 0);
		mutex_unlock(&v->mutex);
	}
	unit_apic_vm_destroy(vm);
	return true;
}

/* Injected events first, one per step, exception > NMI > interrupt. */
static bool test_reinjection_order(void)
{
	struct lapicv_vm *vm = vm_sw(1);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	struct kvm_vcpu_events e = {
		.exception = { .injected = 1, .nr = 8, .has_error_code = 1 },
		.interrupt = { .injected = 1, .nr = 0x22, .soft = 1 },
		.nmi = { .injected = 1 },
	};
	struct kvm_msi m = { .address_lo = 0xfee00000, .data = 0x62 };
	struct lapicv_run r = { 0 };

	ASSERT_EQ(set(v, &e), 0);
	ASSERT_EQ(lapicv_signal_msi(vm, &m), 1);
	ASSERT_EQ(run(v, &r), 0);
	ASSERT_EQ(r.exit_reason, LAPICV_RUN_EXCEPTION);
	ASSERT_EQ(r.vector, 8);
	ASSERT_EQ(r.event_flags, LAPICV_RUN_EVENT_REINJECTED |
				 LAPICV_RUN_EVENT_ERROR_CODE);
	ASSERT_EQ(run(v, &r), 0);
	ASSERT_EQ(r.exit_reason, LAPICV_RUN_NMI);
	ASSERT_EQ(r.event_flags, LAPICV_RUN_EVENT_REINJECTED);
	ASSERT_TRUE(v->events.nmi_masked);
	ASSERT_EQ(run(v, &r), 0);
	ASSERT_EQ(r.exit_reason, LAPICV_RUN_INTR);
	ASSERT_EQ(r.vector, 0x22);
	ASSERT_EQ(r.event_flags, LAPICV_RUN_EVENT_REINJECTED |
				 LAPICV_RUN_EVENT_SOFT);
	ASSERT_FALSE(lapicv_events_need_reinjection(&v->events));
	r.rflags_if = 1;
	ASSERT_EQ(run(v, &r), 0);
	ASSERT_EQ(r.exit_reason, LAPICV_RUN_INTR);
	ASSERT_EQ(r.vector, 0x62);
	ASSERT_EQ(r.event_flags, 0);
	/* A software injection leaves its vector in the state, as KVM. */
	ASSERT_EQ(get(v).interrupt.nr, 0x62);
	unit_apic_vm_destroy(vm);
	return true;
}

/*
 * KVM's kvm_vcpu_has_events(): a queued NMI (KVM_REQ_NMI) ends a halt
 * even while NMIs are masked; latched and masked, it does not.
 */
static bool test_masked_nmi_ends_halt(void)
{
	struct lapicv_vm *vm = vm_sw(1);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	struct lapicv_run r = { .nmi_blocked = 1, .halted = 1 };

	mutex_lock(&v->mutex);
	lapicv_inject_nmi(v);
	mutex_unlock(&v->mutex);
	/* A signal, so that a step that sleeps ends anyway. */
	current->sigpending = true;
	ASSERT_EQ(run(v, &r), 0);
	ASSERT_EQ(r.exit_reason, LAPICV_RUN_NONE);
	ASSERT_FALSE(r.halted_out);
	ASSERT_EQ(r.pending, LAPICV_RUN_PENDING_NMI);
	ASSERT_EQ(v->apic->mp_state, KVM_MP_STATE_RUNNABLE);
	ASSERT_EQ(run(v, &r), -EINTR);
	ASSERT_TRUE(r.halted_out);
	current->sigpending = false;
	unit_apic_vm_destroy(vm);
	return true;
}

/*
 * KVM's vcpu_block(): whatever ends a halt clears a PV unhalt, so the
 * next HLT halts.
 */
static bool test_pv_unhalt_ends_with_halt(void)
{
	struct lapicv_vm *vm = vm_sw(1);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	struct lapicv_run r = { .rflags_if = 1, .halted = 1 };
	/* Fixed, vector 0x63; then delivery mode REMRD (KVM's PV unhalt). */
	struct kvm_msi m = { .address_lo = 0xfee00000, .data = 0x63 };
	struct kvm_msi remrd = { .address_lo = 0xfee00000, .data = 0x300 };

	ASSERT_EQ(lapicv_signal_msi(vm, &m), 1);
	ASSERT_EQ(lapicv_signal_msi(vm, &remrd), 1);
	ASSERT_TRUE(v->apic->pv_unhalted);
	ASSERT_EQ(run(v, &r), 0);
	ASSERT_EQ(r.exit_reason, LAPICV_RUN_INTR);
	ASSERT_EQ(r.vector, 0x63);
	ASSERT_FALSE(v->apic->pv_unhalted);
	/* The next halt sleeps. */
	current->sigpending = true;
	ASSERT_EQ(run(v, &r), -EINTR);
	current->sigpending = false;
	ASSERT_TRUE(r.halted_out);
	unit_apic_vm_destroy(vm);
	return true;
}

/* KVM's __kvm_emulate_halt(): no halt with a wake-up event already there. */
static bool test_hlt_with_event_pending(void)
{
	struct lapicv_vm *vm = vm_sw(1);
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, 0);
	struct kvm_msi m = { .address_lo = 0xfee00000, .data = 0x64 };
	struct kvm_msi remrd = { .address_lo = 0xfee00000, .data = 0x300 };

	mutex_lock(&v->mutex);
	ASSERT_TRUE(lapicv_vcpu_halt(v, true));
	ASSERT_EQ(v->apic->mp_state, KVM_MP_STATE_HALTED);
	v->apic->mp_state = KVM_MP_STATE_RUNNABLE;
	mutex_unlock(&v->mutex);
	ASSERT_EQ(lapicv_signal_msi(vm, &m), 1);
	ASSERT_EQ(lapicv_signal_msi(vm, &remrd), 1);
	mutex_lock(&v->mutex);
	/* IF=0: the vector is no wake-up event, the PV unhalt is. */
	ASSERT_FALSE(lapicv_vcpu_halt(v, false));
	ASSERT_FALSE(v->apic->pv_unhalted);
	ASSERT_TRUE(lapicv_vcpu_halt(v, false));
	v->apic->mp_state = KVM_MP_STATE_RUNNABLE;
	ASSERT_FALSE(lapicv_vcpu_halt(v, true));
	ASSERT_EQ(v->apic->mp_state, KVM_MP_STATE_RUNNABLE);
	mutex_unlock(&v->mutex);
	unit_apic_vm_destroy(vm);
	return true;
}

static const struct unit_case cases[] = {
	UNIT_CASE(test_get_fills_everything),
	UNIT_CASE(test_nmi_latch),
	UNIT_CASE(test_set_refusals),
	UNIT_CASE(test_smi_latch_and_mp_state),
	UNIT_CASE(test_init_reset),
	UNIT_CASE(test_uninitialized_does_not_run),
	UNIT_CASE(test_restored_halt_blocks),
	UNIT_CASE(test_masked_nmi_ends_halt),
	UNIT_CASE(test_pv_unhalt_ends_with_halt),
	UNIT_CASE(test_hlt_with_event_pending),
	UNIT_CASE(test_reinjection_order),
};

int main(int argc, char **argv)
{
	return unit_run("events", cases, ARRAY_SIZE(cases), argc, argv);
}
