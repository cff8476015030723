// SPDX-License-Identifier: GPL-2.0-only
/*
 * LAPICV_RUN, the run step, for whichever backend the module was loaded
 * with (/sys/module/lapicv/parameters/backend): injection order and
 * acknowledge (IRR -> ISR, PPR), NMI, ExtINT and its IRQ window, the
 * IRQ-window counter's 0<->1 rule (avic-model), APICv activation across
 * inhibit flips (vmx-model, avic-model), INIT/SIPI, and halted vCPUs woken
 * by an MSI or ended by a signal.  Exit reasons are the same on every
 * backend: only apicv_active, irq_window_open and the inhibits differ.
 * All of it is lapicv-only: KVM has no run step without a guest, so every
 * test skips on /dev/kvm.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

#include <linux/lapicv.h>

#include "irq_util.h"
#include "lapicv_run.h"

#define VEC_LOW			0x41
#define VEC_HIGH		0x81

#define BACKEND_PARAM	"/sys/module/lapicv/parameters/backend"

/* The module's backend: "soft", "vmx-model", "avic-model" or "?". */
static const char *backend(void)
{
	static char name[16];
	FILE *f;

	if (name[0])
		return name;
	f = fopen(BACKEND_PARAM, "r");
	if (!f || !fgets(name, sizeof(name), f))
		snprintf(name, sizeof(name), "?");
	if (f)
		fclose(f);
	name[strcspn(name, "\n")] = '\0';
	return name;
}

static bool backend_is(const char *b)
{
	return !strcmp(backend(), b);
}

static int policy_is_counter(void)
{
	char buf[16] = "";
	FILE *f = fopen("/sys/module/lapicv/parameters/irqwin_policy", "r");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	return !strncmp(buf, "counter", 7);
}

struct run_in {
	bool if_flag, shadow, nmi_blocked, halted;
};

static int run(int vcpu, struct run_in in, struct lapicv_run *out)
{
	memset(out, 0, sizeof(*out));
	out->rflags_if = in.if_flag;
	out->interrupt_shadow = in.shadow;
	out->nmi_blocked = in.nmi_blocked;
	out->halted = in.halted;
	return ioctl(vcpu, LAPICV_RUN, out);
}

#define IF1	((struct run_in){ .if_flag = true })
#define IF0	((struct run_in){ .if_flag = false })
#define SHADOW	((struct run_in){ .if_flag = true, .shadow = true })

static int get_inhibits(int vm, struct lapicv_inhibit_state *st)
{
	return ioctl(vm, LAPICV_GET_INHIBITS, st);
}

static int get_stats(int vm, struct lapicv_vm_stats *s)
{
	return ioctl(vm, LAPICV_GET_VM_STATS, s);
}

static int set_inhibit(int vm, unsigned int reason, bool set)
{
	struct lapicv_inhibit_op op = { .reason = reason, .set = set };

	return ioctl(vm, LAPICV_SET_INHIBIT, &op);
}

/* The APICv flavour of an injected APIC vector. */
static unsigned int intr_exit(const struct lapicv_run *r)
{
	return r->apicv_active ? LAPICV_RUN_VIRTUAL_INTR : LAPICV_RUN_INTR;
}

FIXTURE(run) {
	struct irq_vm v;
};

FIXTURE_SETUP(run)
{
	int i;

	REQUIRE_LAPICV();
	memset(&self->v, -1, sizeof(self->v));
	ASSERT_OK(irq_vm_create(&self->v, NULL));
	/* APs run once started: KVM keeps an UNINITIALIZED vCPU blocked. */
	for (i = 0; i < NR_VCPUS; i++) {
		ASSERT_OK(lapic_setup(self->v.vcpu[i], 0, APIC_DFR_FLAT));
		ASSERT_OK(set_mp_state(self->v.vcpu[i], KVM_MP_STATE_RUNNABLE));
	}
	TH_LOG("backend %s", backend());
}

FIXTURE_TEARDOWN(run)
{
	irq_vm_destroy(&self->v);
}

#define VCPU0	(self->v.vcpu[0])
#define MSI_TO(d, data)	signal_msi(self->v.vm, MSI_ADDR(d), 0, (data))

/* The backend parameter names a real backend; VMs follow its APICv flag. */
TEST_F(run, backend_param)
{
	struct lapicv_inhibit_state st;

	ASSERT_TRUE(backend_is("soft") || backend_is("vmx-model") ||
		    backend_is("avic-model")) TH_LOG("backend=%s", backend());
	ASSERT_OK(get_inhibits(self->v.vm, &st));
	ASSERT_EQ(!backend_is("soft"), st.apicv_enabled);
	/* Without a backend DISABLED; else the split irqchip cleared ABSENT. */
	ASSERT_EQ(backend_is("soft") ? 1ull << LAPICV_INHIBIT_DISABLED : 0,
		  st.reasons) TH_LOG("reasons: %s", st.names);
}

TEST_F(run, bad_input)
{
	struct lapicv_run r;

	memset(&r, 0, sizeof(r));
	r.reserved[2] = 1;
	ASSERT_ERRNO(ioctl(VCPU0, LAPICV_RUN, &r), EINVAL);
	memset(&r, 0, sizeof(r));
	r.flags = 1;
	ASSERT_ERRNO(ioctl(VCPU0, LAPICV_RUN, &r), EINVAL);
	memset(&r, 0, sizeof(r));
	r.pad = 1;
	ASSERT_ERRNO(ioctl(VCPU0, LAPICV_RUN, &r), EINVAL);
	memset(&r, 0, sizeof(r));
	r.rflags_if = 2;
	ASSERT_ERRNO(ioctl(VCPU0, LAPICV_RUN, &r), EINVAL);
	ASSERT_ERRNO(ioctl(VCPU0, LAPICV_RUN, NULL), EFAULT);
	/* A refused step changed nothing: the next one finds nothing. */
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_NONE, r.exit_reason);
	ASSERT_EQ(0, r.pending);
}

TEST_F(run, nothing_pending)
{
	struct lapicv_run r;

	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_NONE, r.exit_reason);
	ASSERT_EQ(0, r.vector);
	ASSERT_EQ(0, r.pending);
	ASSERT_EQ(0, r.irq_window_open);
	ASSERT_EQ(!backend_is("soft"), r.apicv_active);
}

/* MSI -> run step -> acknowledged: ISR set, IRR clear, PPR raised. */
TEST_F(run, msi_injected_and_acked)
{
	struct kvm_lapic_state s;
	struct lapicv_run r;

	ASSERT_EQ(1, MSI_TO(0, VEC_LOW));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(intr_exit(&r), r.exit_reason);
	ASSERT_EQ(VEC_LOW, r.vector);
	ASSERT_OK(get_lapic(VCPU0, &s));
	ASSERT_FALSE(lapic_test_vec(&s, APIC_IRR, VEC_LOW));
	ASSERT_TRUE(lapic_test_vec(&s, APIC_ISR, VEC_LOW));
	ASSERT_EQ(VEC_LOW & 0xf0, lapic_reg(&s, APIC_PROCPRI));
	/* In service: the same class does not preempt itself. */
	ASSERT_EQ(1, MSI_TO(0, VEC_LOW + 1));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_NONE, r.exit_reason);
	ASSERT_EQ(0, r.pending);
}

/* The highest vector first; a lower class waits behind PPR. */
TEST_F(run, priority_order)
{
	struct lapicv_run r;

	ASSERT_EQ(1, MSI_TO(0, VEC_LOW));
	ASSERT_EQ(1, MSI_TO(0, VEC_HIGH));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(intr_exit(&r), r.exit_reason);
	ASSERT_EQ(VEC_HIGH, r.vector);
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_NONE, r.exit_reason);
}

/* TPR masks a class: nothing deliverable, no window either. */
TEST_F(run, tpr_masks)
{
	struct lapicv_run r;

	ASSERT_OK(lapic_write(VCPU0, APIC_TASKPRI, 0x50));
	ASSERT_EQ(1, MSI_TO(0, VEC_LOW));
	ASSERT_OK(run(VCPU0, IF0, &r));
	ASSERT_EQ(LAPICV_RUN_NONE, r.exit_reason);
	ASSERT_EQ(0, r.irq_window_open);
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_NONE, r.exit_reason);
}

/* NMI beats everything, and waits while NMIs are blocked. */
TEST_F(run, nmi)
{
	struct run_in blocked = { .if_flag = true, .nmi_blocked = true };
	struct lapicv_run r;

	ASSERT_EQ(1, MSI_TO(0, VEC_HIGH));
	ASSERT_OK(ioctl(VCPU0, KVM_NMI));
	ASSERT_OK(run(VCPU0, blocked, &r));
	ASSERT_EQ(intr_exit(&r), r.exit_reason);
	ASSERT_TRUE(r.pending & LAPICV_RUN_PENDING_NMI);
	ASSERT_OK(run(VCPU0, IF0, &r));
	ASSERT_EQ(LAPICV_RUN_NMI, r.exit_reason);
	ASSERT_EQ(2, r.vector);
	ASSERT_FALSE(r.pending & LAPICV_RUN_PENDING_NMI);
}

/*
 * An APIC vector with IF=0 ends the step with IRQ_WINDOW on every backend.
 * Only without APICv does a window really open (irq_window_open); with
 * APICv the modelled CPU delivers the vector once IF is set, so AVIC's
 * IRQ-window count and IRQWIN stay untouched, as on KVM.
 */
TEST_F(run, apic_vector_if0)
{
	struct lapicv_inhibit_state st;
	struct lapicv_run r;

	ASSERT_EQ(1, MSI_TO(0, VEC_LOW));
	ASSERT_OK(run(VCPU0, IF0, &r));
	ASSERT_EQ(LAPICV_RUN_IRQ_WINDOW, r.exit_reason);
	ASSERT_EQ(!r.apicv_active, r.irq_window_open);
	ASSERT_EQ(!backend_is("soft"), r.apicv_active);
	ASSERT_TRUE(r.pending & LAPICV_RUN_PENDING_APIC);
	ASSERT_OK(get_inhibits(self->v.vm, &st));
	ASSERT_EQ(0, st.irq_window);
	ASSERT_FALSE(st.reasons & (1ull << LAPICV_INHIBIT_IRQWIN));
	/* Still not interruptible (shadow): the same exit again. */
	ASSERT_OK(run(VCPU0, SHADOW, &r));
	ASSERT_EQ(LAPICV_RUN_IRQ_WINDOW, r.exit_reason);
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(intr_exit(&r), r.exit_reason);
	ASSERT_EQ(VEC_LOW, r.vector);
	ASSERT_EQ(0, r.irq_window_open);
}

/*
 * ExtINT with IF=0 opens a window on every backend; on avic-model the window
 * holds the VM's IRQ-window count, so IRQWIN is set (0 -> 1 with no
 * other reason: one write of apicv_update_lock), and closing it clears
 * IRQWIN again (one more write).
 */
TEST_F(run, extint_window)
{
	struct kvm_interrupt irq = { .irq = 0x20 };
	struct lapicv_vm_stats s0, s1, s2;
	struct lapicv_inhibit_state st;
	bool svm = backend_is("avic-model");
	struct lapicv_run r;

	ASSERT_OK(get_stats(self->v.vm, &s0));
	ASSERT_OK(ioctl(VCPU0, KVM_INTERRUPT, &irq));
	ASSERT_OK(run(VCPU0, IF0, &r));
	ASSERT_EQ(LAPICV_RUN_IRQ_WINDOW, r.exit_reason);
	ASSERT_EQ(1, r.irq_window_open);
	ASSERT_TRUE(r.pending & LAPICV_RUN_PENDING_EXTINT);
	/* Still not interruptible (shadow): the window stays open. */
	ASSERT_OK(run(VCPU0, SHADOW, &r));
	ASSERT_EQ(LAPICV_RUN_IRQ_WINDOW, r.exit_reason);

	ASSERT_OK(get_inhibits(self->v.vm, &st));
	ASSERT_OK(get_stats(self->v.vm, &s1));
	ASSERT_EQ(svm ? 1 : 0, st.irq_window);
	ASSERT_EQ(svm, !!(st.reasons & (1ull << LAPICV_INHIBIT_IRQWIN)))
		TH_LOG("reasons: %s", st.names);
	if (svm && policy_is_counter()) {
		ASSERT_EQ(s0.update_lock_writes + 1, s1.update_lock_writes);
		ASSERT_EQ(s0.irqwin_transitions + 1, s1.irqwin_transitions);
	}

	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_EXTINT, r.exit_reason);
	ASSERT_EQ(0x20, r.vector);
	ASSERT_EQ(0, r.irq_window_open);
	ASSERT_OK(get_inhibits(self->v.vm, &st));
	ASSERT_OK(get_stats(self->v.vm, &s2));
	ASSERT_EQ(0, st.irq_window);
	ASSERT_FALSE(st.reasons & (1ull << LAPICV_INHIBIT_IRQWIN));
	if (svm && policy_is_counter()) {
		ASSERT_EQ(s1.update_lock_writes + 1, s2.update_lock_writes);
		ASSERT_EQ(s1.irqwin_transitions + 1, s2.irqwin_transitions);
	}
	/* The AVIC window inhibited APICv; the next step re-activates it. */
	if (!backend_is("soft")) {
		ASSERT_OK(run(VCPU0, IF1, &r));
		ASSERT_EQ(1, r.apicv_active);
	}
}

/* An AP's LINT0 is masked after RESET: the PIC's ExtINT does not reach it. */
TEST_F(run, extint_needs_lint0)
{
	struct kvm_interrupt irq = { .irq = 0x20 };
	struct lapicv_run r;
	int ap = self->v.vcpu[1];

	ASSERT_OK(ioctl(ap, KVM_INTERRUPT, &irq));
	ASSERT_OK(run(ap, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_NONE, r.exit_reason);
	ASSERT_EQ(0, r.pending);
	ASSERT_OK(run(ap, IF0, &r));
	ASSERT_EQ(0, r.irq_window_open);
}

/*
 * avic-model, counter policy: with another reason set, opening and closing the
 * window takes no write lock; IRQWIN catches up when that reason goes.
 */
TEST_F(run, irqwin_counter_lazy)
{
	struct kvm_interrupt irq = { .irq = 0x20 };
	struct lapicv_vm_stats s0, s1;
	struct lapicv_inhibit_state st;
	struct lapicv_run r;

	if (!backend_is("avic-model") || !policy_is_counter())
		SKIP(return, "needs backend=avic-model and irqwin_policy=counter (have %s)",
		     backend());

	ASSERT_OK(set_inhibit(self->v.vm, LAPICV_INHIBIT_PIT_REINJ, true));
	ASSERT_OK(ioctl(VCPU0, KVM_INTERRUPT, &irq));
	ASSERT_OK(get_stats(self->v.vm, &s0));
	ASSERT_OK(run(VCPU0, IF0, &r));
	ASSERT_EQ(LAPICV_RUN_IRQ_WINDOW, r.exit_reason);
	ASSERT_OK(get_stats(self->v.vm, &s1));
	ASSERT_EQ(s0.update_lock_writes, s1.update_lock_writes);
	ASSERT_OK(get_inhibits(self->v.vm, &st));
	ASSERT_EQ(1, st.irq_window);
	ASSERT_EQ(1ull << LAPICV_INHIBIT_PIT_REINJ, st.reasons)
		TH_LOG("reasons: %s", st.names);

	/* Clearing PIT_REINJ re-derives IRQWIN from the count. */
	ASSERT_OK(set_inhibit(self->v.vm, LAPICV_INHIBIT_PIT_REINJ, false));
	ASSERT_OK(get_inhibits(self->v.vm, &st));
	ASSERT_EQ(1ull << LAPICV_INHIBIT_IRQWIN, st.reasons)
		TH_LOG("reasons: %s", st.names);

	/* Closing: 1 -> 0 with only IRQWIN set toggles it, one write. */
	ASSERT_OK(get_stats(self->v.vm, &s0));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_EXTINT, r.exit_reason);
	ASSERT_OK(get_stats(self->v.vm, &s1));
	ASSERT_EQ(s0.update_lock_writes + 1, s1.update_lock_writes);
	ASSERT_OK(get_inhibits(self->v.vm, &st));
	ASSERT_EQ(0, st.reasons) TH_LOG("reasons: %s", st.names);

	/* With PIT_REINJ set again, a full window takes no write at all. */
	ASSERT_OK(set_inhibit(self->v.vm, LAPICV_INHIBIT_PIT_REINJ, true));
	ASSERT_OK(ioctl(VCPU0, KVM_INTERRUPT, &irq));
	ASSERT_OK(get_stats(self->v.vm, &s0));
	ASSERT_OK(run(VCPU0, IF0, &r));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_EXTINT, r.exit_reason);
	ASSERT_OK(get_stats(self->v.vm, &s1));
	ASSERT_EQ(s0.update_lock_writes, s1.update_lock_writes);
	ASSERT_EQ(s0.irqwin_transitions + 2, s1.irqwin_transitions);
}

/*
 * avic-model, legacy policy: every window takes apicv_update_lock for write on
 * open and on close, even while another reason keeps APICv off anyway
 * (the cost the counter policy removes).
 */
TEST_F(run, irqwin_legacy_writes)
{
	struct kvm_interrupt irq = { .irq = 0x20 };
	struct lapicv_vm_stats s0, s1;
	struct lapicv_run r;

	if (!backend_is("avic-model") || policy_is_counter())
		SKIP(return, "needs backend=avic-model and irqwin_policy=legacy (have %s)",
		     backend());

	ASSERT_OK(set_inhibit(self->v.vm, LAPICV_INHIBIT_PIT_REINJ, true));
	ASSERT_OK(ioctl(VCPU0, KVM_INTERRUPT, &irq));
	ASSERT_OK(get_stats(self->v.vm, &s0));
	ASSERT_OK(run(VCPU0, IF0, &r));
	ASSERT_EQ(LAPICV_RUN_IRQ_WINDOW, r.exit_reason);
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_EXTINT, r.exit_reason);
	ASSERT_OK(get_stats(self->v.vm, &s1));
	ASSERT_EQ(s0.update_lock_writes + 2, s1.update_lock_writes);
	ASSERT_EQ(s0.irqwin_transitions + 2, s1.irqwin_transitions);
}

/*
 * avic-model, counter policy: two vCPUs waiting for a window take the write
 * lock once (0 -> 1) and give it back once (1 -> 0).
 */
TEST_F(run, irqwin_two_vcpus)
{
	struct kvm_interrupt irq = { .irq = 0x20 };
	int ap = self->v.vcpu[1];
	struct lapicv_vm_stats s0, s1;
	struct lapicv_inhibit_state st;
	struct lapicv_run r;

	if (!backend_is("avic-model") || !policy_is_counter())
		SKIP(return, "needs backend=avic-model and irqwin_policy=counter (have %s)",
		     backend());

	/* Let the AP's LINT0 take the PIC's ExtINT too. */
	ASSERT_OK(lapic_write(ap, APIC_LVT0, 0x700));
	ASSERT_OK(ioctl(VCPU0, KVM_INTERRUPT, &irq));
	ASSERT_OK(ioctl(ap, KVM_INTERRUPT, &irq));
	ASSERT_OK(get_stats(self->v.vm, &s0));
	ASSERT_OK(run(VCPU0, IF0, &r));
	ASSERT_EQ(LAPICV_RUN_IRQ_WINDOW, r.exit_reason);
	ASSERT_OK(run(ap, IF0, &r));
	ASSERT_EQ(LAPICV_RUN_IRQ_WINDOW, r.exit_reason);
	ASSERT_OK(get_inhibits(self->v.vm, &st));
	ASSERT_EQ(2, st.irq_window);
	ASSERT_OK(get_stats(self->v.vm, &s1));
	ASSERT_EQ(s0.update_lock_writes + 1, s1.update_lock_writes);

	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_EXTINT, r.exit_reason);
	ASSERT_OK(get_inhibits(self->v.vm, &st));
	ASSERT_EQ(1, st.irq_window);
	ASSERT_EQ(1ull << LAPICV_INHIBIT_IRQWIN, st.reasons);
	ASSERT_OK(run(ap, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_EXTINT, r.exit_reason);
	ASSERT_OK(get_inhibits(self->v.vm, &st));
	ASSERT_EQ(0, st.irq_window);
	ASSERT_EQ(0, st.reasons);
	ASSERT_OK(get_stats(self->v.vm, &s0));
	ASSERT_EQ(s1.update_lock_writes + 1, s0.update_lock_writes);
	ASSERT_EQ(s1.irqwin_transitions + 1, s0.irqwin_transitions);
}

/* Start an AP as a guest's BSP does: INIT, then SIPI. */
static int start_ap(int vm, int ap, int dest)
{
	struct lapicv_run r;

	if (signal_msi(vm, MSI_ADDR(dest), 0, DM_INIT) != 1 ||
	    run(ap, IF1, &r) || r.exit_reason != LAPICV_RUN_INIT ||
	    signal_msi(vm, MSI_ADDR(dest), 0, DM_SIPI | 0x10) != 1 ||
	    run(ap, IF1, &r) || r.exit_reason != LAPICV_RUN_SIPI)
		return -1;
	return 0;
}

/*
 * INIT closes an open IRQ window (KVM's init_vmcb): an AP parked in
 * wait-for-SIPI holds no IRQ-window count, so on avic-model IRQWIN goes
 * and AVIC comes back for the whole VM.
 */
TEST_F(run, init_closes_irq_window)
{
	struct kvm_interrupt irq = { .irq = 0x20 };
	bool avic = backend_is("avic-model");
	struct lapicv_inhibit_state st;
	int ap = self->v.vcpu[1];
	struct lapicv_run r;

	ASSERT_OK(start_ap(self->v.vm, ap, 1));
	ASSERT_OK(lapic_write(ap, APIC_LVT0, 0x700));
	ASSERT_OK(ioctl(ap, KVM_INTERRUPT, &irq));
	ASSERT_OK(run(ap, IF0, &r));
	ASSERT_EQ(LAPICV_RUN_IRQ_WINDOW, r.exit_reason);
	ASSERT_EQ(1, r.irq_window_open);
	ASSERT_OK(get_inhibits(self->v.vm, &st));
	ASSERT_EQ(avic ? 1 : 0, st.irq_window);
	ASSERT_EQ(avic, !!(st.reasons & (1ull << LAPICV_INHIBIT_IRQWIN)))
		TH_LOG("reasons: %s", st.names);

	ASSERT_EQ(1, MSI_TO(1, DM_INIT));
	ASSERT_OK(run(ap, IF0, &r));
	ASSERT_EQ(LAPICV_RUN_INIT, r.exit_reason);
	ASSERT_EQ(0, r.irq_window_open);
	ASSERT_EQ(KVM_MP_STATE_INIT_RECEIVED, get_mp_state(ap));
	ASSERT_OK(get_inhibits(self->v.vm, &st));
	ASSERT_EQ(0, st.irq_window);
	ASSERT_FALSE(st.reasons & (1ull << LAPICV_INHIBIT_IRQWIN))
		TH_LOG("reasons: %s", st.names);
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(!backend_is("soft"), r.apicv_active);
}

/*
 * INIT drops a vector posted before it, also one posted while APICv was
 * active and left behind when it was inhibited (vmx-model: PIR is cleared
 * before the reset whatever the APICv state, as KVM's pre-restore hook).
 */
TEST_F(run, init_drops_posted_vector)
{
	struct kvm_lapic_state s;
	int ap = self->v.vcpu[1];
	struct lapicv_run r;

	ASSERT_EQ(1, MSI_TO(1, VEC_HIGH));
	ASSERT_OK(set_inhibit(self->v.vm, LAPICV_INHIBIT_BLOCKIRQ, true));
	ASSERT_EQ(1, MSI_TO(1, DM_INIT));
	ASSERT_OK(run(ap, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_INIT, r.exit_reason);
	ASSERT_EQ(0, r.apicv_active);
	ASSERT_EQ(0, r.pending);
	ASSERT_OK(get_lapic(ap, &s));
	ASSERT_FALSE(lapic_test_vec(&s, APIC_IRR, VEC_HIGH));
}

struct flipper {
	int vm;
	unsigned int delay_ms;
};

/* Inhibit APICv, then send an MSI to vCPU 0. */
static void *inhibit_then_msi(void *arg)
{
	struct flipper *f = arg;

	msleep(f->delay_ms);
	set_inhibit(f->vm, LAPICV_INHIBIT_BLOCKIRQ, true);
	msleep(f->delay_ms);
	signal_msi(f->vm, MSI_ADDR(0), 0, VEC_HIGH);
	return NULL;
}

/*
 * A halted vCPU is woken by an inhibit flip, refreshes APICv and sleeps
 * on; the MSI that follows is then injected by software.
 */
TEST_F(run, halted_refresh_on_inhibit)
{
	struct run_in halted = { .if_flag = true, .halted = true };
	struct flipper f = { self->v.vm, 150 };
	struct lapicv_vcpu_stats st;
	struct lapicv_run r;
	pthread_t t;

	if (backend_is("soft"))
		SKIP(return, "backend=soft has no APICv to activate");
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(1, r.apicv_active);
	ASSERT_EQ(0, pthread_create(&t, NULL, inhibit_then_msi, &f));
	ASSERT_OK(run(VCPU0, halted, &r));
	pthread_join(t, NULL);
	ASSERT_EQ(0, r.apicv_active);
	ASSERT_EQ(LAPICV_RUN_INTR, r.exit_reason);
	ASSERT_EQ(VEC_HIGH, r.vector);
	ASSERT_OK(ioctl(VCPU0, LAPICV_GET_VCPU_STATS, &st));
	ASSERT_EQ(2, st.halts);
	ASSERT_EQ(2, st.halt_wakeups);
	ASSERT_EQ(1, st.apicv_deactivations);
}

/* An inhibit flip reaches the vCPU at its next run step. */
TEST_F(run, activation_follows_inhibits)
{
	struct lapicv_run r;

	if (backend_is("soft"))
		SKIP(return, "backend=soft has no APICv to activate");
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(1, r.apicv_active);
	ASSERT_OK(set_inhibit(self->v.vm, LAPICV_INHIBIT_BLOCKIRQ, true));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(0, r.apicv_active);
	/* Deactivated: an MSI now goes through IRR and software injection. */
	ASSERT_EQ(1, MSI_TO(0, VEC_LOW));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_INTR, r.exit_reason);
	ASSERT_OK(set_inhibit(self->v.vm, LAPICV_INHIBIT_BLOCKIRQ, false));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(1, r.apicv_active);
}

/* INIT to an AP: reported once; SIPI then starts it at the vector. */
TEST_F(run, init_sipi)
{
	int ap = self->v.vcpu[1];
	struct lapicv_run r;

	ASSERT_EQ(1, MSI_TO(1, DM_INIT));
	ASSERT_OK(run(ap, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_INIT, r.exit_reason);
	ASSERT_EQ(KVM_MP_STATE_INIT_RECEIVED, get_mp_state(ap));
	ASSERT_EQ(1, MSI_TO(1, DM_SIPI | 0x12));
	ASSERT_OK(run(ap, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_SIPI, r.exit_reason);
	ASSERT_EQ(0x12, r.vector);
	ASSERT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(ap));
}

struct waker {
	int vm;
	int dest;
	int vector;
	unsigned int delay_ms;
};

static void *send_msi_later(void *arg)
{
	struct waker *w = arg;
	struct timespec ts = {
		.tv_sec = w->delay_ms / 1000,
		.tv_nsec = (w->delay_ms % 1000) * 1000000L,
	};

	nanosleep(&ts, NULL);
	signal_msi(w->vm, MSI_ADDR(w->dest), 0, w->vector);
	return NULL;
}

/* A halted vCPU sleeps in the step until another thread's MSI. */
TEST_F(run, halted_woken_by_msi)
{
	struct run_in halted = { .if_flag = true, .halted = true };
	struct waker w = { self->v.vm, 0, VEC_HIGH, 200 };
	struct lapicv_run r;
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, send_msi_later, &w));
	ASSERT_OK(run(VCPU0, halted, &r));
	pthread_join(t, NULL);
	ASSERT_EQ(intr_exit(&r), r.exit_reason);
	ASSERT_EQ(VEC_HIGH, r.vector);
	ASSERT_EQ(0, r.halted_out);
	ASSERT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(VCPU0));
}

/* Halted with IF=0: an MSI does not wake it, an NMI does. */
TEST_F(run, halted_if0_woken_by_nmi)
{
	struct run_in halted = { .if_flag = false, .halted = true };
	struct waker w = { self->v.vm, 0, DM_NMI, 200 };
	struct lapicv_run r;
	pthread_t t;

	ASSERT_EQ(1, MSI_TO(0, VEC_HIGH));
	ASSERT_EQ(0, pthread_create(&t, NULL, send_msi_later, &w));
	ASSERT_OK(run(VCPU0, halted, &r));
	pthread_join(t, NULL);
	ASSERT_EQ(LAPICV_RUN_NMI, r.exit_reason);
	ASSERT_TRUE(r.pending & LAPICV_RUN_PENDING_APIC);
}

/* A halted AP is woken by INIT, which the step then reports. */
TEST_F(run, halted_woken_by_init)
{
	struct run_in halted = { .if_flag = true, .halted = true };
	struct waker w = { self->v.vm, 1, DM_INIT, 200 };
	struct lapicv_run r;
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, send_msi_later, &w));
	ASSERT_OK(run(self->v.vcpu[1], halted, &r));
	pthread_join(t, NULL);
	ASSERT_EQ(LAPICV_RUN_INIT, r.exit_reason);
	ASSERT_EQ(KVM_MP_STATE_INIT_RECEIVED, get_mp_state(self->v.vcpu[1]));
}

struct ipi_sender {
	int vcpu;		/* the sending vCPU's fd */
	__u32 icr;
	unsigned int delay_ms;
};

/* vCPU 1's guest writes ICR (destination APIC ID 0). */
static void *send_ipi_later(void *arg)
{
	struct ipi_sender *s = arg;

	msleep(s->delay_ms);
	guest_write(s->vcpu, APIC_ICR2, 0);
	guest_write(s->vcpu, APIC_ICR, s->icr);
	return NULL;
}

/* A halted vCPU is woken by another vCPU's IPI. */
TEST_F(run, halted_woken_by_ipi)
{
	struct run_in halted = { .if_flag = true, .halted = true };
	struct ipi_sender s = { self->v.vcpu[1], 0x92, 200 };
	struct lapicv_run r;
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, send_ipi_later, &s));
	ASSERT_OK(run(VCPU0, halted, &r));
	pthread_join(t, NULL);
	ASSERT_EQ(intr_exit(&r), r.exit_reason);
	ASSERT_EQ(0x92, r.vector);
}

/* A halted vCPU is woken by its own APIC timer (one-shot, ~20 ms). */
TEST_F(run, halted_woken_by_timer)
{
	struct run_in halted = { .if_flag = true, .halted = true };
	struct lapicv_run r;

	ASSERT_OK(guest_write(VCPU0, APIC_TDCR, 0xb));		/* divide by 1 */
	ASSERT_OK(guest_write(VCPU0, APIC_LVTT, 0x93));	/* one-shot */
	ASSERT_OK(guest_write(VCPU0, APIC_TMICT, 20000000));
	ASSERT_OK(run(VCPU0, halted, &r));
	ASSERT_EQ(intr_exit(&r), r.exit_reason);
	ASSERT_EQ(0x93, r.vector);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* A signal ends a halted step with EINTR, as KVM_RUN does. */
TEST_F(run, halted_signal_eintr)
{
	struct run_in halted = { .if_flag = true, .halted = true };
	struct sigaction sa = { .sa_handler = on_alarm };
	struct lapicv_run r;

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	alarm(1);
	ASSERT_ERRNO(run(VCPU0, halted, &r), EINTR);
	ASSERT_EQ(LAPICV_RUN_NONE, r.exit_reason);
	ASSERT_EQ(1, r.halted_out);
}

/*
 * The VMM's IOAPIC routes (KVM_SET_GSI_ROUTING, reserved pins 0 and 1):
 * level-triggered VEC_LOW and VEC_HIGH to vCPU 0.
 */
static int route_level_vectors(int vm)
{
	const struct msi_route routes[] = {
		{ .gsi = 0, .address_lo = MSI_ADDR(0), .data = 1u << 15 | VEC_LOW },
		{ .gsi = 1, .address_lo = MSI_ADDR(0), .data = 1u << 15 | VEC_HIGH },
	};

	return set_msi_routes(vm, routes, 2);
}

/*
 * The guest EOIs a level-triggered vector of an IOAPIC route: the VMM's
 * IOAPIC must hear of it (KVM's KVM_EXIT_IOAPIC_EOI in split-irqchip
 * mode), once; an edge-triggered EOI is not reported.
 */
TEST_F(run, level_eoi_reported)
{
	const __u32 level = 1u << 15 | 1u << 14;	/* trigger, assert */
	const struct msi_route route = {
		.gsi = 1, .address_lo = MSI_ADDR(0), .data = 1u << 15 | VEC_HIGH,
	};
	struct lapicv_run r;

	ASSERT_OK(set_msi_routes(self->v.vm, &route, 1));
	ASSERT_EQ(1, MSI_TO(0, VEC_HIGH | level));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(intr_exit(&r), r.exit_reason);
	ASSERT_EQ(VEC_HIGH, r.vector);
	ASSERT_OK(guest_write(VCPU0, APIC_EOI, 0));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_IOAPIC_EOI, r.exit_reason);
	ASSERT_EQ(VEC_HIGH, r.vector);
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_NONE, r.exit_reason);

	ASSERT_EQ(1, MSI_TO(0, VEC_LOW));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(VEC_LOW, r.vector);
	ASSERT_OK(guest_write(VCPU0, APIC_EOI, 0));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_NONE, r.exit_reason);
}

/* Several level EOIs between run steps are each reported, lowest first. */
TEST_F(run, level_eois_queue)
{
	const __u32 level = 1u << 15 | 1u << 14;
	struct lapicv_run r;

	ASSERT_OK(route_level_vectors(self->v.vm));
	ASSERT_EQ(1, MSI_TO(0, VEC_LOW | level));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(VEC_LOW, r.vector);
	ASSERT_EQ(1, MSI_TO(0, VEC_HIGH | level));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(VEC_HIGH, r.vector);
	ASSERT_OK(guest_write(VCPU0, APIC_EOI, 0));
	ASSERT_OK(guest_write(VCPU0, APIC_EOI, 0));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_IOAPIC_EOI, r.exit_reason);
	ASSERT_EQ(VEC_LOW, r.vector);
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_IOAPIC_EOI, r.exit_reason);
	ASSERT_EQ(VEC_HIGH, r.vector);
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_NONE, r.exit_reason);
}

/*
 * EOIs follow the routes, not TMR at EOI time (KVM's split irqchip): a
 * later edge message with the vector of a routed level interrupt in
 * service clears TMR, and its EOI is still reported, or the VMM's
 * Remote-IRR would stay set for good; a level MSI that is no IOAPIC
 * route is not reported.  Before, TMR decided both.
 */
#define VEC_OTHER	0xa1
TEST_F(run, eoi_follows_routes_not_tmr)
{
	const __u32 level = 1u << 15 | 1u << 14;
	struct kvm_lapic_state s;
	struct lapicv_run r;

	ASSERT_OK(route_level_vectors(self->v.vm));
	ASSERT_EQ(1, MSI_TO(0, VEC_HIGH | level));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(VEC_HIGH, r.vector);
	ASSERT_EQ(1, MSI_TO(0, VEC_HIGH));		/* edge: TMR cleared */
	ASSERT_OK(get_lapic(VCPU0, &s));
	ASSERT_FALSE(lapic_test_vec(&s, APIC_TMR, VEC_HIGH));
	ASSERT_OK(guest_write(VCPU0, APIC_EOI, 0));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_IOAPIC_EOI, r.exit_reason);
	ASSERT_EQ(VEC_HIGH, r.vector);
	/* The edge one, pending meanwhile: a routed vector, also reported. */
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(intr_exit(&r), r.exit_reason);
	ASSERT_EQ(VEC_HIGH, r.vector);
	ASSERT_OK(guest_write(VCPU0, APIC_EOI, 0));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_IOAPIC_EOI, r.exit_reason);
	ASSERT_EQ(VEC_HIGH, r.vector);

	/* A level MSI of no route: TMR set, no report. */
	ASSERT_EQ(1, MSI_TO(0, VEC_OTHER | level));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(VEC_OTHER, r.vector);
	ASSERT_OK(get_lapic(VCPU0, &s));
	ASSERT_TRUE(lapic_test_vec(&s, APIC_TMR, VEC_OTHER));
	ASSERT_OK(guest_write(VCPU0, APIC_EOI, 0));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_NONE, r.exit_reason);
}

/* Queued NMIs collapse as the CPU latches them: two at most. */
TEST_F(run, nmis_latch_two)
{
	struct run_in blocked = { .if_flag = true, .nmi_blocked = true };
	struct lapicv_run r;
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_OK(ioctl(VCPU0, KVM_NMI));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_NMI, r.exit_reason);
	/* One more is latched behind the one in service... */
	ASSERT_TRUE(r.pending & LAPICV_RUN_PENDING_NMI);
	ASSERT_OK(ioctl(VCPU0, KVM_NMI));
	ASSERT_OK(run(VCPU0, blocked, &r));
	ASSERT_EQ(LAPICV_RUN_NONE, r.exit_reason);
	/* ... and only one while NMIs are blocked. */
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_NMI, r.exit_reason);
	ASSERT_FALSE(r.pending & LAPICV_RUN_PENDING_NMI);
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_NONE, r.exit_reason);
}

/*
 * INIT and SIPI accepted by KVM_GET_MP_STATE (as QEMU's state syncs do)
 * are still reported by the next run step: the VMM owns the registers.
 */
TEST_F(run, sipi_reported_after_get_mp_state)
{
	int ap = self->v.vcpu[1];
	struct lapicv_run r;

	ASSERT_EQ(1, MSI_TO(1, DM_INIT));
	ASSERT_EQ(1, MSI_TO(1, DM_SIPI | 0x34));
	ASSERT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(ap));
	ASSERT_OK(run(ap, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_SIPI, r.exit_reason);
	ASSERT_EQ(0x34, r.vector);
	ASSERT_OK(run(ap, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_NONE, r.exit_reason);
}

/*
 * In wait-for-SIPI only INIT and SIPI wake the step: a queued NMI must
 * not make it spin.  The thread's CPU time over a 300 ms sleep shows it.
 */
TEST_F(run, wait_for_sipi_sleeps)
{
	struct run_in halted = { .if_flag = true, .halted = true };
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value.tv_usec = 300000 };
	struct kvm_interrupt irq = { .irq = 0x30 };
	int ap = self->v.vcpu[1];
	struct timespec t0, t1;
	struct lapicv_run r;
	long cpu_ms;

	ASSERT_EQ(1, MSI_TO(1, DM_INIT));
	ASSERT_OK(run(ap, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_INIT, r.exit_reason);
	ASSERT_OK(ioctl(ap, KVM_NMI));
	/* An ExtINT raises an event request the wait must not spin on. */
	ASSERT_OK(ioctl(ap, KVM_INTERRUPT, &irq));
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	ASSERT_ERRNO(run(ap, halted, &r), EINTR);
	ASSERT_EQ(0, clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1));
	cpu_ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		 (t1.tv_nsec - t0.tv_nsec) / 1000000;
	EXPECT_LT(cpu_ms, 150) TH_LOG("the step used %ld ms of CPU", cpu_ms);
	ASSERT_EQ(KVM_MP_STATE_INIT_RECEIVED, get_mp_state(ap));
}

static int get_events(int vcpu, struct kvm_vcpu_events *e)
{
	return ioctl(vcpu, KVM_GET_VCPU_EVENTS, e);
}

static int set_events(int vcpu, const struct kvm_vcpu_events *e)
{
	struct kvm_vcpu_events copy = *e;

	return ioctl(vcpu, KVM_SET_VCPU_EVENTS, &copy);
}

/* A step that must sleep: a 200 ms alarm ends it with EINTR. */
static int run_until_alarm(int vcpu, struct run_in in, struct lapicv_run *r)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value.tv_usec = 200000 };

	if (sigaction(SIGALRM, &sa, NULL) || setitimer(ITIMER_REAL, &it, NULL))
		return -2;
	return run(vcpu, in, r);
}

/*
 * A never-started AP (UNINITIALIZED) does not run: a queued NMI waits,
 * the step sleeps until INIT, which resets the NMI away (KVM keeps such a
 * vCPU in kvm_vcpu_block() until INIT).
 */
TEST_F(run, uninitialized_waits_for_init)
{
	int ap = self->v.vcpu[1];
	struct kvm_vcpu_events e;
	struct waker w = { self->v.vm, 1, DM_INIT, 200 };
	struct lapicv_run r;
	pthread_t t;

	ASSERT_OK(set_mp_state(ap, KVM_MP_STATE_UNINITIALIZED));
	ASSERT_OK(ioctl(ap, KVM_NMI));
	ASSERT_EQ(1, MSI_TO(1, VEC_LOW));
	ASSERT_ERRNO(run_until_alarm(ap, IF1, &r), EINTR);
	ASSERT_EQ(LAPICV_RUN_NONE, r.exit_reason);
	ASSERT_EQ(KVM_MP_STATE_UNINITIALIZED, get_mp_state(ap));
	ASSERT_OK(get_events(ap, &e));
	ASSERT_EQ(1, e.nmi.pending);
	/* INIT wakes it, and the step reports it. */
	ASSERT_EQ(0, pthread_create(&t, NULL, send_msi_later, &w));
	ASSERT_OK(run(ap, IF1, &r));
	pthread_join(t, NULL);
	ASSERT_EQ(LAPICV_RUN_INIT, r.exit_reason);
	ASSERT_EQ(KVM_MP_STATE_INIT_RECEIVED, get_mp_state(ap));
	ASSERT_OK(get_events(ap, &e));
	ASSERT_EQ(0, e.nmi.pending);
}

/* AP_RESET_HOLD waits for a wake-up event, then runs (KVM's vcpu_block()). */
TEST_F(run, ap_reset_hold_waits)
{
	int ap = self->v.vcpu[1];
	struct lapicv_run r;

	ASSERT_OK(set_mp_state(ap, KVM_MP_STATE_AP_RESET_HOLD));
	ASSERT_ERRNO(run_until_alarm(ap, IF1, &r), EINTR);
	ASSERT_EQ(1, r.halted_out);
	ASSERT_EQ(KVM_MP_STATE_AP_RESET_HOLD, get_mp_state(ap));
	ASSERT_EQ(1, MSI_TO(1, VEC_HIGH));
	ASSERT_OK(run(ap, IF1, &r));
	ASSERT_EQ(intr_exit(&r), r.exit_reason);
	ASSERT_EQ(VEC_HIGH, r.vector);
	ASSERT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(ap));
}

/*
 * A HALTED MP state the VMM restored keeps the vCPU halted whatever the
 * step says, until a wake-up event; a signal leaves it HALTED.
 */
TEST_F(run, restored_halted_blocks)
{
	struct lapicv_run r;

	ASSERT_OK(set_mp_state(VCPU0, KVM_MP_STATE_HALTED));
	ASSERT_ERRNO(run_until_alarm(VCPU0, IF1, &r), EINTR);
	ASSERT_EQ(LAPICV_RUN_NONE, r.exit_reason);
	ASSERT_EQ(1, r.halted_out);
	ASSERT_EQ(KVM_MP_STATE_HALTED, get_mp_state(VCPU0));
	/* IF=0: an APIC vector is no wake-up event. */
	ASSERT_EQ(1, MSI_TO(0, VEC_HIGH));
	ASSERT_ERRNO(run_until_alarm(VCPU0, IF0, &r), EINTR);
	ASSERT_EQ(KVM_MP_STATE_HALTED, get_mp_state(VCPU0));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(intr_exit(&r), r.exit_reason);
	ASSERT_EQ(0, r.halted_out);
	ASSERT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(VCPU0));
}

/* A latched SMI is reported as pending; lapicv cannot take it. */
TEST_F(run, smi_stays_pending)
{
	struct kvm_vcpu_events e = { .flags = KVM_VCPUEVENT_VALID_SMM };
	struct lapicv_run r;

	ASSERT_OK(ioctl(VCPU0, KVM_SMI));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_NONE, r.exit_reason);
	ASSERT_EQ(LAPICV_RUN_PENDING_SMI, r.pending);
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_PENDING_SMI, r.pending);
	ASSERT_ERRNO(set_mp_state(VCPU0, KVM_MP_STATE_INIT_RECEIVED), EINVAL);
	ASSERT_OK(set_events(VCPU0, &e));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(0, r.pending);
}

/* The step's NMI blocking and shadow are the events' state afterwards. */
TEST_F(run, inputs_are_event_state)
{
	struct run_in blocked = { .if_flag = true, .shadow = true,
				  .nmi_blocked = true };
	struct kvm_vcpu_events e;
	struct lapicv_run r;

	ASSERT_OK(run(VCPU0, blocked, &r));
	ASSERT_OK(get_events(VCPU0, &e));
	ASSERT_EQ(1, e.nmi.masked);
	ASSERT_EQ(KVM_X86_SHADOW_INT_MOV_SS | KVM_X86_SHADOW_INT_STI,
		  e.interrupt.shadow);
	/* An NMI delivered blocks NMIs until the guest's IRET. */
	ASSERT_OK(ioctl(VCPU0, KVM_NMI));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_NMI, r.exit_reason);
	ASSERT_EQ(0, r.event_flags);
	ASSERT_OK(get_events(VCPU0, &e));
	ASSERT_EQ(1, e.nmi.masked);
	ASSERT_EQ(0, e.interrupt.shadow);
	ASSERT_EQ(0, e.nmi.injected);
}

/*
 * Events restored as injected go first, one per step, in KVM's order
 * (exception, NMI, interrupt), whatever IF says; new events wait.
 */
TEST_F(run, injected_events_carried_out)
{
	struct kvm_vcpu_events e;
	struct lapicv_run r;

	memset(&e, 0, sizeof(e));
	e.exception.injected = 1;
	e.exception.nr = 14;
	e.exception.has_error_code = 1;
	e.exception.error_code = 0x10;
	e.nmi.injected = 1;
	e.interrupt.injected = 1;
	e.interrupt.nr = 0x33;
	ASSERT_OK(set_events(VCPU0, &e));
	ASSERT_EQ(1, MSI_TO(0, VEC_HIGH));
	ASSERT_OK(run(VCPU0, IF0, &r));
	ASSERT_EQ(LAPICV_RUN_EXCEPTION, r.exit_reason);
	ASSERT_EQ(14, r.vector);
	ASSERT_EQ(LAPICV_RUN_EVENT_REINJECTED | LAPICV_RUN_EVENT_ERROR_CODE,
		  r.event_flags);
	ASSERT_EQ(0x10, r.error_code);
	/* The out fields need not be cleared for the next step. */
	r.rflags_if = 0;
	ASSERT_OK(ioctl(VCPU0, LAPICV_RUN, &r));
	ASSERT_EQ(LAPICV_RUN_NMI, r.exit_reason);
	ASSERT_EQ(LAPICV_RUN_EVENT_REINJECTED, r.event_flags);
	ASSERT_EQ(0, r.error_code);
	ASSERT_OK(get_events(VCPU0, &e));
	ASSERT_EQ(1, e.nmi.masked);
	ASSERT_EQ(0, e.nmi.injected);
	ASSERT_EQ(1, e.interrupt.injected);
	ASSERT_OK(run(VCPU0, IF0, &r));
	ASSERT_EQ(LAPICV_RUN_INTR, r.exit_reason);
	ASSERT_EQ(0x33, r.vector);
	ASSERT_EQ(LAPICV_RUN_EVENT_REINJECTED, r.event_flags);
	ASSERT_OK(get_events(VCPU0, &e));
	ASSERT_EQ(0, e.exception.injected);
	ASSERT_EQ(0, e.interrupt.injected);
	/* Then the new one. */
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(intr_exit(&r), r.exit_reason);
	ASSERT_EQ(VEC_HIGH, r.vector);
	ASSERT_EQ(0, r.event_flags);
	/* A soft interrupt (INTn) says so. */
	memset(&e, 0, sizeof(e));
	e.interrupt.injected = 1;
	e.interrupt.soft = 1;
	e.interrupt.nr = 0x80;
	ASSERT_OK(set_events(VCPU0, &e));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_INTR, r.exit_reason);
	ASSERT_EQ(0x80, r.vector);
	ASSERT_EQ(LAPICV_RUN_EVENT_REINJECTED | LAPICV_RUN_EVENT_SOFT,
		  r.event_flags);
}

/* A halted vCPU carries out an injected event only once woken. */
TEST_F(run, injected_event_waits_for_wakeup)
{
	struct run_in halted = { .if_flag = true, .halted = true };
	struct kvm_vcpu_events e;
	struct lapicv_run r;

	memset(&e, 0, sizeof(e));
	e.interrupt.injected = 1;
	e.interrupt.nr = 0x35;
	ASSERT_OK(set_events(VCPU0, &e));
	ASSERT_ERRNO(run_until_alarm(VCPU0, halted, &r), EINTR);
	ASSERT_EQ(KVM_MP_STATE_HALTED, get_mp_state(VCPU0));
	ASSERT_EQ(1, MSI_TO(0, VEC_HIGH));
	ASSERT_OK(run(VCPU0, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_INTR, r.exit_reason);
	ASSERT_EQ(0x35, r.vector);
	ASSERT_EQ(0, r.halted_out);
	ASSERT_TRUE(r.pending & LAPICV_RUN_PENDING_APIC);
	ASSERT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(VCPU0));
}

/* KVM_SET_VCPU_EVENTS's SIPI vector starts a SIPI_RECEIVED vCPU. */
TEST_F(run, restored_sipi_vector)
{
	struct kvm_vcpu_events e = {
		.flags = KVM_VCPUEVENT_VALID_SIPI_VECTOR, .sipi_vector = 0x9a,
	};
	int ap = self->v.vcpu[1];
	struct lapicv_run r;

	ASSERT_OK(set_events(ap, &e));
	ASSERT_OK(set_mp_state(ap, KVM_MP_STATE_SIPI_RECEIVED));
	ASSERT_OK(run(ap, IF1, &r));
	ASSERT_EQ(LAPICV_RUN_SIPI, r.exit_reason);
	ASSERT_EQ(0x9a, r.vector);
}

/* Without the split irqchip a vCPU has no LAPIC: nothing to run. */
TEST(run_without_lapic)
{
	struct lapicv_run r;
	int dev, vm, vcpu;

	REQUIRE_LAPICV();
	dev = open_dev();
	ASSERT_OK(dev);
	vm = vm_create(dev);
	ASSERT_OK(vm);
	vcpu = vcpu_create(vm, 0);
	ASSERT_OK(vcpu);
	memset(&r, 0, sizeof(r));
	ASSERT_ERRNO(ioctl(vcpu, LAPICV_RUN, &r), ENXIO);
	close(vcpu);
	close(vm);
	close(dev);
}

TEST_HARNESS_MAIN
