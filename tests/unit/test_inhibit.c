// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of inhibit.c: the VM-wide APICv inhibit reasons and the
 * IRQ-window counter, built against the shim with the real source
 * included, so its static functions are in reach.
 *
 * A note on idempotence: lapicv_irq_window_inc_or_dec() counts every call.
 * Opening a window twice for one vCPU counts it twice, and closing one
 * that was never opened drives the count down for everyone.  Keeping each
 * vCPU's contribution at 0 or 1 is the caller's job, as in the seed patch
 * (svm->avic_irq_window: svm_set_vintr() sets it and increments,
 * svm_clear_vintr() decrements only when it clears it; apicv.c calls the
 * backend on the window flag's transitions only).  The tests
 * below model that caller with window_open()/window_close().
 */
#include "../../inhibit.c"

#include "test.h"

#define ALL	UNIT_ALL_INHIBITS

static unsigned long reasons(struct lapicv_vm *vm)
{
	return READ_ONCE(vm->inhibits.reasons);
}

static struct lapicv_vm_stats stats(struct lapicv_vm *vm)
{
	struct lapicv_vm_stats s;

	lapicv_inhibits_read(vm, NULL, &s);
	return s;
}

/* The caller's half of the contract: one count per waiting vCPU. */
static void window_open(struct lapicv_vm *vm, bool *flag)
{
	if (*flag)
		return;
	*flag = true;
	lapicv_irq_window_inc_or_dec(vm, true);
}

static void window_close(struct lapicv_vm *vm, bool *flag)
{
	if (!*flag)
		return;
	*flag = false;
	lapicv_irq_window_inc_or_dec(vm, false);
}

/* Every vCPU has a pending APICV_UPDATE (consumed) and n more kicks. */
static bool all_requested(struct lapicv_vm *vm, unsigned long *kicks,
			  unsigned long n)
{
	struct lapicv_vcpu *vcpu;
	unsigned int i;

	for (i = 0; (vcpu = lapicv_get_vcpu(vm, i)); i++) {
		ASSERT_TRUE(lapicv_check_request(vcpu, LAPICV_REQ_APICV_UPDATE));
		ASSERT_FALSE(test_bit(LAPICV_REQ_EVENT, &vcpu->requests));
		ASSERT_EQ(shim_wq_wakeups(&vcpu->wq), kicks[i] + n);
		kicks[i] += n;
	}
	return true;
}

/* No vCPU has a request or a kick since the last look. */
static bool none_requested(struct lapicv_vm *vm, unsigned long *kicks)
{
	struct lapicv_vcpu *vcpu;
	unsigned int i;

	for (i = 0; (vcpu = lapicv_get_vcpu(vm, i)); i++) {
		ASSERT_EQ(vcpu->requests, 0);
		ASSERT_EQ(shim_wq_wakeups(&vcpu->wq), kicks[i]);
	}
	return true;
}

/* A VM whose only reason, ABSENT, has been cleared: APICv active. */
static struct lapicv_vm *active_vm(unsigned int nr, unsigned long required,
				   enum lapicv_irqwin_policy policy,
				   unsigned long *kicks)
{
	struct lapicv_vm *vm = unit_vm_create(nr, true, required, policy);
	struct lapicv_vcpu *vcpu;
	unsigned int i;

	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_ABSENT, false);
	for (i = 0; (vcpu = lapicv_get_vcpu(vm, i)); i++) {
		lapicv_check_request(vcpu, LAPICV_REQ_APICV_UPDATE);
		kicks[i] = shim_wq_wakeups(&vcpu->wq);
	}
	return vm;
}

/* ---- initial state, filtering, toggles ---- */

static bool test_init_without_apicv_is_disabled(void)
{
	struct lapicv_vm *vm = unit_vm_create(2, false, ALL, LAPICV_IRQWIN_COUNTER);
	unsigned long kicks[2] = { 0, 0 };

	ASSERT_EQ(reasons(vm), BIT(LAPICV_INHIBIT_DISABLED));
	ASSERT_FALSE(lapicv_apicv_activated(vm));
	/* Without APICv nothing changes, and the lock is not even taken. */
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_DISABLED, false);
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_PIT_REINJ, true);
	ASSERT_EQ(reasons(vm), BIT(LAPICV_INHIBIT_DISABLED));
	ASSERT_EQ(stats(vm).update_lock_writes, 0);
	ASSERT_TRUE(none_requested(vm, kicks));
	unit_vm_destroy(vm);
	return true;
}

static bool test_init_with_apicv_is_absent(void)
{
	struct lapicv_vm *vm = unit_vm_create(3, true, ALL, LAPICV_IRQWIN_COUNTER);
	unsigned long kicks[3] = { 0, 0, 0 };
	struct lapicv_vm_stats s;

	ASSERT_EQ(reasons(vm), BIT(LAPICV_INHIBIT_ABSENT));
	ASSERT_FALSE(lapicv_apicv_activated(vm));
	ASSERT_TRUE(none_requested(vm, kicks));

	/* Enabling the split irqchip clears ABSENT: APICv goes active. */
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_ABSENT, false);
	ASSERT_EQ(reasons(vm), 0);
	ASSERT_TRUE(lapicv_apicv_activated(vm));
	ASSERT_TRUE(all_requested(vm, kicks, 1));
	s = stats(vm);
	ASSERT_EQ(s.inhibit_changes, 1);
	ASSERT_EQ(s.apicv_toggles, 1);
	ASSERT_EQ(s.update_lock_writes, 1);
	unit_vm_destroy(vm);
	return true;
}

static bool test_required_mask_filters_reasons(void)
{
	unsigned long required = ALL & ~BIT(LAPICV_INHIBIT_PIT_REINJ);
	unsigned long kicks[2];
	struct lapicv_vm *vm = active_vm(2, required, LAPICV_IRQWIN_COUNTER, kicks);
	struct lapicv_vm_stats before = stats(vm), after;

	/* A reason the backend does not honour changes nothing... */
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_PIT_REINJ, true);
	ASSERT_EQ(reasons(vm), 0);
	ASSERT_TRUE(lapicv_apicv_activated(vm));
	ASSERT_TRUE(none_requested(vm, kicks));
	after = stats(vm);
	ASSERT_EQ(after.inhibit_changes, before.inhibit_changes);
	ASSERT_EQ(after.apicv_toggles, before.apicv_toggles);
	/* ...and takes no lock to find out. */
	ASSERT_EQ(after.update_lock_writes, before.update_lock_writes);

	/* One it does honour still works. */
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_NESTED, true);
	ASSERT_EQ(reasons(vm), BIT(LAPICV_INHIBIT_NESTED));
	ASSERT_TRUE(all_requested(vm, kicks, 1));
	unit_vm_destroy(vm);
	return true;
}

static bool test_requests_only_when_activation_flips(void)
{
	unsigned long kicks[4];
	struct lapicv_vm *vm = active_vm(4, ALL, LAPICV_IRQWIN_COUNTER, kicks);

	/* none -> some: every vCPU must refresh. */
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_PIT_REINJ, true);
	ASSERT_TRUE(all_requested(vm, kicks, 1));
	/* some -> more, and back: APICv stays off, nobody is bothered. */
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_NESTED, true);
	ASSERT_TRUE(none_requested(vm, kicks));
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_PIT_REINJ, false);
	ASSERT_TRUE(none_requested(vm, kicks));
	ASSERT_EQ(reasons(vm), BIT(LAPICV_INHIBIT_NESTED));
	/* some -> none: refresh again. */
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_NESTED, false);
	ASSERT_TRUE(all_requested(vm, kicks, 1));
	ASSERT_EQ(stats(vm).apicv_toggles, 3);	/* incl. ABSENT's clear */
	unit_vm_destroy(vm);
	return true;
}

static bool test_repeated_set_is_not_a_change(void)
{
	unsigned long kicks[1];
	struct lapicv_vm *vm = active_vm(1, ALL, LAPICV_IRQWIN_COUNTER, kicks);
	struct lapicv_vm_stats s0 = stats(vm), s;

	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_SEV, true);
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_SEV, true);
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_HYPERV, false);
	s = stats(vm);
	ASSERT_EQ(s.inhibit_changes, s0.inhibit_changes + 1);
	ASSERT_EQ(s.apicv_toggles, s0.apicv_toggles + 1);
	/* Only the real change takes the lock. */
	ASSERT_EQ(s.update_lock_writes, s0.update_lock_writes + 1);
	ASSERT_TRUE(all_requested(vm, kicks, 1));
	unit_vm_destroy(vm);
	return true;
}

/* vCPUs created later are covered as soon as they are published. */
static bool test_late_vcpu_gets_requests(void)
{
	unsigned long kicks[2];
	struct lapicv_vm *vm = active_vm(1, ALL, LAPICV_IRQWIN_COUNTER, kicks);
	struct lapicv_vcpu *late = unit_vcpu_add(vm, 7);

	kicks[1] = 0;
	ASSERT_NONNULL(late);
	ASSERT_EQ(lapicv_get_vcpu_by_id(vm, 7), late);
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_BLOCKIRQ, true);
	ASSERT_TRUE(all_requested(vm, kicks, 1));
	unit_vm_destroy(vm);
	return true;
}

/* ---- lock assertions are real ---- */

static bool test_locked_form_asserts_write_lock(void)
{
	unsigned long kicks[1];
	struct lapicv_vm *vm = active_vm(1, ALL, LAPICV_IRQWIN_COUNTER, kicks);
	struct lapicv_inhibits *inh = &vm->inhibits;

	/* Not held at all, then held only for read: both must warn. */
	shim_expect_warns(1);
	__lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_NESTED, true);
	ASSERT_EQ(shim_missing_warns(), 0);

	down_read(&inh->update_lock);
	shim_expect_warns(1);
	__lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_NESTED, false);
	ASSERT_EQ(shim_missing_warns(), 0);
	up_read(&inh->update_lock);

	/* Held for write: silent. */
	down_write(&inh->update_lock);
	__lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_NESTED, true);
	up_write(&inh->update_lock);
	ASSERT_EQ(shim_take_warnings(), 0);
	ASSERT_EQ(reasons(vm), BIT(LAPICV_INHIBIT_NESTED));
	unit_vm_destroy(vm);
	return true;
}

/* ---- names and the VMM-visible snapshot ---- */

static bool test_names(void)
{
	unsigned int r, q;

	for (r = 0; r < LAPICV_NR_INHIBITS; r++) {
		ASSERT_NONNULL(lapicv_inhibit_name(r));
		ASSERT_GT(strlen(lapicv_inhibit_name(r)), 0);
		for (q = 0; q < r; q++)
			ASSERT_NE(strcmp(lapicv_inhibit_name(r),
					 lapicv_inhibit_name(q)), 0);
	}
	ASSERT_STREQ(lapicv_inhibit_name(LAPICV_INHIBIT_IRQWIN), "IRQWIN");
	ASSERT_STREQ(lapicv_inhibit_name(LAPICV_INHIBIT_DISABLED), "DISABLED");
	ASSERT_STREQ(lapicv_inhibit_name(LAPICV_INHIBIT_LOGICAL_ID_ALIASED),
		     "LOGICAL_ID_ALIASED");
	ASSERT_NULL(lapicv_inhibit_name(LAPICV_NR_INHIBITS));
	ASSERT_NULL(lapicv_inhibit_name(~0u));
	return true;
}

static bool test_snapshot(void)
{
	unsigned long required = ALL & ~BIT(LAPICV_INHIBIT_SEV);
	struct lapicv_vm *vm = unit_vm_create(2, true, required,
					      LAPICV_IRQWIN_COUNTER);
	struct lapicv_inhibit_state st;
	struct lapicv_vm_stats s;
	bool w0 = false;

	memset(&st, 0xa5, sizeof(st));
	lapicv_inhibits_read(vm, &st, NULL);
	ASSERT_EQ(st.reasons, BIT(LAPICV_INHIBIT_ABSENT));
	ASSERT_EQ(st.required, required);
	ASSERT_EQ(st.apicv_enabled, 1);
	ASSERT_EQ(st.irq_window, 0);
	ASSERT_STREQ(st.names, "ABSENT");
	/* The buffer is cleared past the string: no stale bytes leak out. */
	ASSERT_EQ(st.names[sizeof(st.names) - 1], 0);

	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_PIT_REINJ, true);
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_DISABLED, true);
	window_open(vm, &w0);
	lapicv_inhibits_read(vm, &st, &s);
	ASSERT_STREQ(st.names, "DISABLED ABSENT PIT_REINJ");
	ASSERT_EQ(st.irq_window, 1);
	ASSERT_EQ(s.irqwin_transitions, 1);
	ASSERT_EQ(s.update_lock_writes, 2);
	ASSERT_EQ(s.inhibit_changes, 2);
	ASSERT_EQ(s.apicv_toggles, 0);
	ASSERT_EQ(s.reserved[0], 0);

	/* Every reason at once still fits, in bit order. */
	lapicv_inhibits_init(&vm->inhibits, true, ALL, LAPICV_IRQWIN_LEGACY);
	for (unsigned int r = 0; r < LAPICV_NR_INHIBITS; r++)
		lapicv_set_or_clear_inhibit(vm, r, true);
	lapicv_inhibits_read(vm, &st, NULL);
	ASSERT_EQ(st.reasons, ALL);
	ASSERT_STREQ(st.names,
		     "DISABLED HYPERV ABSENT BLOCKIRQ PHYSICAL_ID_ALIASED APIC_ID_MODIFIED APIC_BASE_MODIFIED NESTED IRQWIN PIT_REINJ SEV LOGICAL_ID_ALIASED");
	unit_vm_destroy(vm);
	return true;
}

/* ---- the IRQ-window counter policy ---- */

static bool test_counter_toggle_only_on_first_and_last_window(void)
{
	unsigned long kicks[2];
	struct lapicv_vm *vm = active_vm(2, ALL, LAPICV_IRQWIN_COUNTER, kicks);
	u64 writes = stats(vm).update_lock_writes;
	bool w0 = false, w1 = false;

	/* 0 -> 1 with no other reason: the write lock, IRQWIN, a toggle. */
	window_open(vm, &w0);
	ASSERT_EQ(reasons(vm), BIT(LAPICV_INHIBIT_IRQWIN));
	ASSERT_EQ(stats(vm).update_lock_writes, writes + 1);
	ASSERT_TRUE(all_requested(vm, kicks, 1));

	/* 1 -> 2 and 2 -> 1: read lock only. */
	window_open(vm, &w1);
	window_close(vm, &w0);
	ASSERT_EQ(reasons(vm), BIT(LAPICV_INHIBIT_IRQWIN));
	ASSERT_EQ(stats(vm).update_lock_writes, writes + 1);
	ASSERT_EQ(atomic_read(&vm->inhibits.irq_window), 1);
	ASSERT_TRUE(none_requested(vm, kicks));

	/* 1 -> 0: the write lock again, APICv back on. */
	window_close(vm, &w1);
	ASSERT_EQ(reasons(vm), 0);
	ASSERT_EQ(stats(vm).update_lock_writes, writes + 2);
	ASSERT_EQ(stats(vm).irqwin_transitions, 2);
	ASSERT_TRUE(all_requested(vm, kicks, 1));
	unit_vm_destroy(vm);
	return true;
}

static bool test_counter_lazy_while_another_reason_is_set(void)
{
	struct lapicv_vm *vm = unit_vm_create(2, true, ALL, LAPICV_IRQWIN_COUNTER);
	u64 writes = stats(vm).update_lock_writes;
	bool w0 = false;

	/* ABSENT is set: APICv is off anyway, so no write and no IRQWIN. */
	window_open(vm, &w0);
	ASSERT_EQ(reasons(vm), BIT(LAPICV_INHIBIT_ABSENT));
	ASSERT_EQ(stats(vm).update_lock_writes, writes);
	ASSERT_EQ(stats(vm).irqwin_transitions, 1);

	/* Clearing ABSENT catches IRQWIN up: still inhibited, no toggle. */
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_ABSENT, false);
	ASSERT_EQ(reasons(vm), BIT(LAPICV_INHIBIT_IRQWIN));
	ASSERT_EQ(stats(vm).apicv_toggles, 0);
	ASSERT_EQ(lapicv_get_vcpu(vm, 0)->requests, 0);

	/* The last window closes with no other reason: eager again. */
	window_close(vm, &w0);
	ASSERT_EQ(reasons(vm), 0);
	ASSERT_EQ(stats(vm).apicv_toggles, 1);
	ASSERT_EQ(stats(vm).update_lock_writes, writes + 2);
	unit_vm_destroy(vm);
	return true;
}

static bool test_counter_irqwin_rederived_on_any_change(void)
{
	unsigned long kicks[1];
	struct lapicv_vm *vm = active_vm(1, ALL, LAPICV_IRQWIN_COUNTER, kicks);
	bool w0 = false;

	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_PIT_REINJ, true);
	window_open(vm, &w0);			/* lazy: PIT_REINJ is set */
	ASSERT_EQ(reasons(vm), BIT(LAPICV_INHIBIT_PIT_REINJ));
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_NESTED, true);
	ASSERT_EQ(reasons(vm), BIT(LAPICV_INHIBIT_PIT_REINJ) |
			       BIT(LAPICV_INHIBIT_NESTED) |
			       BIT(LAPICV_INHIBIT_IRQWIN));
	window_close(vm, &w0);			/* lazy: IRQWIN now stale */
	ASSERT_TRUE(test_bit(LAPICV_INHIBIT_IRQWIN, &vm->inhibits.reasons));
	/* Even a change that changes nothing else catches up. */
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_NESTED, true);
	ASSERT_EQ(reasons(vm), BIT(LAPICV_INHIBIT_PIT_REINJ) |
			       BIT(LAPICV_INHIBIT_NESTED));
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_NESTED, false);
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_PIT_REINJ, false);
	ASSERT_EQ(reasons(vm), 0);
	unit_vm_destroy(vm);
	return true;
}

/* Under the counter policy IRQWIN is the count's: a direct set is moot. */
static bool test_counter_ignores_direct_irqwin(void)
{
	unsigned long kicks[1];
	struct lapicv_vm *vm = active_vm(1, ALL, LAPICV_IRQWIN_COUNTER, kicks);
	bool w0 = false;

	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_IRQWIN, true);
	ASSERT_EQ(reasons(vm), 0);
	window_open(vm, &w0);
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_IRQWIN, false);
	ASSERT_EQ(reasons(vm), BIT(LAPICV_INHIBIT_IRQWIN));
	window_close(vm, &w0);
	ASSERT_EQ(reasons(vm), 0);
	unit_vm_destroy(vm);
	return true;
}

/* A backend that does not honour IRQWIN (VMX) never sees it. */
static bool test_counter_without_irqwin_in_required(void)
{
	unsigned long required = ALL & ~BIT(LAPICV_INHIBIT_IRQWIN);
	unsigned long kicks[1];
	struct lapicv_vm *vm = active_vm(1, required, LAPICV_IRQWIN_COUNTER, kicks);
	bool w0 = false;

	window_open(vm, &w0);
	ASSERT_EQ(reasons(vm), 0);
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_NESTED, true);
	ASSERT_EQ(reasons(vm), BIT(LAPICV_INHIBIT_NESTED));
	window_close(vm, &w0);
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_NESTED, false);
	ASSERT_EQ(reasons(vm), 0);
	ASSERT_TRUE(lapicv_apicv_activated(vm));
	unit_vm_destroy(vm);
	return true;
}

/* inc/dec count every call: idempotence is the caller's flag. */
static bool test_window_idempotence_is_the_callers(void)
{
	unsigned long kicks[1];
	struct lapicv_vm *vm = active_vm(1, ALL, LAPICV_IRQWIN_COUNTER, kicks);
	bool w0 = false;

	window_open(vm, &w0);
	window_open(vm, &w0);
	ASSERT_EQ(atomic_read(&vm->inhibits.irq_window), 1);
	window_close(vm, &w0);
	window_close(vm, &w0);
	ASSERT_EQ(atomic_read(&vm->inhibits.irq_window), 0);

	/* Without the flag, a second open counts twice and one close is short. */
	lapicv_irq_window_inc_or_dec(vm, true);
	lapicv_irq_window_inc_or_dec(vm, true);
	lapicv_irq_window_inc_or_dec(vm, false);
	ASSERT_EQ(atomic_read(&vm->inhibits.irq_window), 1);
	ASSERT_EQ(reasons(vm), BIT(LAPICV_INHIBIT_IRQWIN));
	lapicv_irq_window_inc_or_dec(vm, false);
	ASSERT_EQ(reasons(vm), 0);
	unit_vm_destroy(vm);
	return true;
}

/* ---- the legacy policy ---- */

static bool test_legacy_writes_on_every_window(void)
{
	unsigned long kicks[2];
	struct lapicv_vm *vm = active_vm(2, ALL, LAPICV_IRQWIN_LEGACY, kicks);
	u64 writes = stats(vm).update_lock_writes;
	bool w0 = false, w1 = false;

	window_open(vm, &w0);
	ASSERT_EQ(reasons(vm), BIT(LAPICV_INHIBIT_IRQWIN));
	ASSERT_TRUE(all_requested(vm, kicks, 1));
	window_open(vm, &w1);
	ASSERT_EQ(stats(vm).update_lock_writes, writes + 2);
	ASSERT_TRUE(none_requested(vm, kicks));
	/*
	 * KVM's behaviour before the counter: the first vCPU to close its
	 * window clears IRQWIN although another still waits for one.
	 */
	window_close(vm, &w0);
	ASSERT_EQ(reasons(vm), 0);
	ASSERT_EQ(atomic_read(&vm->inhibits.irq_window), 1);
	ASSERT_TRUE(all_requested(vm, kicks, 1));
	window_close(vm, &w1);
	ASSERT_EQ(stats(vm).update_lock_writes, writes + 4);
	ASSERT_EQ(stats(vm).irqwin_transitions, 2);

	/* Other reasons do not make it lazy. */
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_PIT_REINJ, true);
	writes = stats(vm).update_lock_writes;
	window_open(vm, &w0);
	ASSERT_EQ(reasons(vm), BIT(LAPICV_INHIBIT_PIT_REINJ) |
			       BIT(LAPICV_INHIBIT_IRQWIN));
	window_close(vm, &w0);
	ASSERT_EQ(reasons(vm), BIT(LAPICV_INHIBIT_PIT_REINJ));
	ASSERT_EQ(stats(vm).update_lock_writes, writes + 2);
	unit_vm_destroy(vm);
	return true;
}

/* Legacy: IRQWIN is an ordinary reason, set and cleared directly too. */
static bool test_legacy_irqwin_is_a_plain_reason(void)
{
	unsigned long kicks[1];
	struct lapicv_vm *vm = active_vm(1, ALL, LAPICV_IRQWIN_LEGACY, kicks);

	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_IRQWIN, true);
	ASSERT_EQ(reasons(vm), BIT(LAPICV_INHIBIT_IRQWIN));
	ASSERT_EQ(atomic_read(&vm->inhibits.irq_window), 0);
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_NESTED, true);
	lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_IRQWIN, false);
	ASSERT_EQ(reasons(vm), BIT(LAPICV_INHIBIT_NESTED));
	unit_vm_destroy(vm);
	return true;
}

static const struct unit_case cases[] = {
	UNIT_CASE(test_init_without_apicv_is_disabled),
	UNIT_CASE(test_init_with_apicv_is_absent),
	UNIT_CASE(test_required_mask_filters_reasons),
	UNIT_CASE(test_requests_only_when_activation_flips),
	UNIT_CASE(test_repeated_set_is_not_a_change),
	UNIT_CASE(test_late_vcpu_gets_requests),
	UNIT_CASE(test_locked_form_asserts_write_lock),
	UNIT_CASE(test_names),
	UNIT_CASE(test_snapshot),
	UNIT_CASE(test_counter_toggle_only_on_first_and_last_window),
	UNIT_CASE(test_counter_lazy_while_another_reason_is_set),
	UNIT_CASE(test_counter_irqwin_rederived_on_any_change),
	UNIT_CASE(test_counter_ignores_direct_irqwin),
	UNIT_CASE(test_counter_without_irqwin_in_required),
	UNIT_CASE(test_window_idempotence_is_the_callers),
	UNIT_CASE(test_legacy_writes_on_every_window),
	UNIT_CASE(test_legacy_irqwin_is_a_plain_reason),
};

int main(int argc, char **argv)
{
	return unit_run("inhibit", cases, ARRAY_SIZE(cases), argc, argv);
}
