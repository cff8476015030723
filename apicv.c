// SPDX-License-Identifier: GPL-2.0-only
/*
 * APICv in the core: the backend ops table, the soft backend, per-vCPU
 * activation, and the run step.
 *
 * The run step (LAPICV_RUN, and KVM_RUN's loop in run.c) is the interrupt
 * half of KVM's vcpu_enter_guest(): handle requests, accept INIT/SIPI,
 * inject an expired timer, move posted interrupts into IRR, then carry
 * out an event restored as injected (KVM_SET_VCPU_EVENTS) or inject NMI >
 * ExtINT > the highest deliverable APIC vector.  As in KVM's vcpu_run(),
 * a vCPU that is not RUNNABLE does not enter the guest: UNINITIALIZED and
 * INIT_RECEIVED wait for INIT/SIPI, HALTED and AP_RESET_HOLD for a
 * wake-up event.  The VMM, or run.c from the VMCB, supplies what KVM
 * reads from the VMCS/VMCB (RFLAGS.IF, the interrupt shadow, NMI
 * blocking, HLT).  With APICv active, APIC vectors are not injected by
 * software: the modelled CPU delivers them (virtual-interrupt delivery)
 * as soon as the guest is interruptible.
 *
 * One exit contract on every backend: an ExtINT or APIC vector pending
 * that the guest cannot take now ends the step with IRQ_WINDOW ("step
 * again once the guest is interruptible").  Whether a window really opens
 * is what KVM would do: for an ExtINT always, for an APIC vector only
 * while APICv is inactive (kvm_cpu_has_injectable_intr()).  The open
 * window is one flag, lapicv_vcpu.irq_window; backends act on its
 * transitions (enable_irq_window / disable_irq_window).
 *
 * Locking (lapicv.h and inhibit.c hold the cards of the locks used here):
 *
 * lapicv_lapic.apicv_active
 *	:Written:  by the vCPU's owner (vcpu->mutex) with
 *	           lapicv_inhibits.update_lock held for read, so that it never
 *	           disagrees with the VM's reasons once the APICV_UPDATE
 *	           request has been handled.
 *	:Read:     by senders without a lock (backend deliver_interrupt): a
 *	           sender that sees a stale value takes the other path, and
 *	           both paths end in IRR before the next run step looks.
 *
 * lapicv_vcpu.irq_window
 *	:Written:  by the vCPU's owner only (vcpu->mutex): opened and closed
 *	           by the run step, closed by INIT/RESET and the runner's
 *	           VINTR exit.
 */
#include "apicv.h"
#include "irq_route.h"
#include "lapic.h"
#include "timer.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/* ---- the ops table ---- */

#define LAPICV_OP(func)							\
	DEFINE_STATIC_CALL_NULL(lapicv_backend_##func,			\
				typeof(*lapicv_backend.func))
#define LAPICV_OP_OPTIONAL LAPICV_OP
#define LAPICV_OP_OPTIONAL_RET0 LAPICV_OP
#include "ops.h"

struct lapicv_backend lapicv_backend;

/* The first mandatory hook @b lacks, or NULL. */
static const char *lapicv_backend_missing(const struct lapicv_backend *b)
{
	const struct lapicv_backend cand = *b;
	const char *missing = NULL;

#define LAPICV_OP(func)							\
	(missing = missing ?: (cand.func ? NULL : #func))
#define LAPICV_OP_OPTIONAL(func)	((void)cand.func)
#define LAPICV_OP_OPTIONAL_RET0(func)	((void)cand.func)
#include "ops.h"
	return missing;
}

int lapicv_backend_setup(const struct lapicv_backend *b)
{
	const char *missing = lapicv_backend_missing(b);

	/* Refuse before changing anything: no static call half updated. */
	if (missing) {
		pr_err("lapicv: backend %s lacks mandatory hook %s\n",
		       b->name, missing);
		return -EINVAL;
	}
	lapicv_backend = *b;

	/*
	 * A NULL optional hook stays NULL (lapicv_call_cond() skips it); a
	 * NULL _RET0 hook returns 0 through the kernel's return-0 stub.
	 */
#define LAPICV_OP(func)							\
	static_call_update(lapicv_backend_##func, lapicv_backend.func)
#define LAPICV_OP_OPTIONAL LAPICV_OP
#define LAPICV_OP_OPTIONAL_RET0(func)					\
	static_call_update(lapicv_backend_##func, lapicv_backend.func ?: \
			   (void *)__static_call_return0)
#include "ops.h"
	return 0;
}

/* ---- IRR helpers shared by every backend ---- */

void lapicv_apic_set_irr(struct lapicv_lapic *apic, int vector)
{
	set_bit(LAPICV_VEC_POS(vector),
		(unsigned long *)(apic->regs + APIC_IRR +
				  LAPICV_REG_POS(vector)));
	/* The hint after the bit; pairs with the owner's clear-then-rescan. */
	smp_mb__after_atomic();
	WRITE_ONCE(apic->irr_pending, true);
}

bool lapicv_apic_update_irr(struct lapicv_lapic *apic, unsigned long *pir,
			    int *max_irr)
{
	u32 *pir32 = (u32 *)pir;
	bool got = false;
	u32 word, *irr;
	int i;

	*max_irr = -1;
	for (i = 7; i >= 0; i--) {
		irr = apic->regs + APIC_IRR + i * 0x10;
		word = READ_ONCE(pir32[i]) ? xchg(&pir32[i], 0) : 0;
		if (word) {
			/*
			 * Senders set IRR bits of their own concurrently:
			 * merge atomically rather than storing the word.
			 */
			if (word & ~READ_ONCE(*irr))
				got = true;
			atomic_or(word, (atomic_t *)irr);
		}
		if (*max_irr == -1 && READ_ONCE(*irr))
			*max_irr = i * 32 + __fls(READ_ONCE(*irr));
	}
	if (got)
		WRITE_ONCE(apic->irr_pending, true);
	return got;
}

int lapicv_sync_pir_to_irr(struct lapicv_vcpu *vcpu)
{
	lockdep_assert_held(&vcpu->mutex);
	return lapicv_call(sync_pir_to_irr)(vcpu);
}

/* ---- activation (KVM's __kvm_vcpu_update_apicv) ---- */

static int apicv_count_isr(struct lapicv_lapic *apic)
{
	int i, n = 0;

	for (i = 0; i < 8; i++)
		n += hweight32(lapicv_get_reg(apic, APIC_ISR + i * 0x10));
	return n;
}

void lapicv_apic_update_apicv(struct lapicv_lapic *apic)
{
	if (apic->apicv_active) {
		/*
		 * The modelled CPU owns IRR and ISR now: the software caches
		 * must send every lookup to the page itself.
		 */
		/* Senders write the same hint without the vCPU's mutex. */
		WRITE_ONCE(apic->irr_pending, true);
		apic->isr_count = 1;
	} else {
		/*
		 * irr_pending stays as it is: a sender may still be setting
		 * IRR through the APICv path; the next acknowledge rescans.
		 */
		apic->isr_count = apicv_count_isr(apic);
	}
	apic->highest_isr_cache = -1;
}

void lapicv_vcpu_update_apicv(struct lapicv_vcpu *vcpu)
{
	struct lapicv_inhibits *inh = &vcpu->vm->inhibits;
	struct lapicv_lapic *apic = vcpu->apic;
	bool activate;

	lockdep_assert_held(&vcpu->mutex);

	/* Readers of the reasons mask wait out a writer mid-update. */
	down_read(&inh->update_lock);
	activate = lapicv_backend.apicv && inh->apicv_enabled &&
		   lapicv_apicv_activated(vcpu->vm) &&
		   lapicv_apic_mode(apic->apic_base) != LAPICV_MODE_DISABLED;
	if (apic->apicv_active != activate) {
		WRITE_ONCE(apic->apicv_active, activate);
		trace_lapicv_apicv_update(vcpu->vcpu_id, activate);
		if (activate)
			vcpu->stats.apicv_activations++;
		else
			vcpu->stats.apicv_deactivations++;
		lapicv_apic_update_apicv(apic);
		/*
		 * Deactivated: interrupts accepted while APICv was on may sit
		 * in IRR with no request raised, so evaluate them.
		 */
		if (!activate)
			lapicv_make_request(vcpu, LAPICV_REQ_EVENT);
	}
	up_read(&inh->update_lock);
}

void lapicv_apicv_pre_state_restore(struct lapicv_vcpu *vcpu)
{
	lockdep_assert_held(&vcpu->mutex);

	/*
	 * The reset at vCPU creation comes before the backend's vcpu_create:
	 * nothing can have been posted yet.
	 */
	if (vcpu->backend)
		lapicv_call_cond(apicv_pre_state_restore)(vcpu);
}

void lapicv_apicv_post_set_state(struct lapicv_vcpu *vcpu)
{
	lockdep_assert_held(&vcpu->mutex);

	lapicv_apic_update_apicv(vcpu->apic);
	lapicv_make_request(vcpu, LAPICV_REQ_EVENT);
}

int lapicv_apicv_vcpu_create(struct lapicv_vcpu *vcpu)
{
	int r;

	/*
	 * Start active when the backend accelerates, as KVM does with
	 * enable_apicv, and let the first run step correct it against the
	 * VM's reasons (ABSENT until the split irqchip exists).
	 */
	if (vcpu->apic) {
		vcpu->apic->apicv_active = lapicv_backend.apicv &&
					   vcpu->vm->inhibits.apicv_enabled;
		lapicv_apic_update_apicv(vcpu->apic);
	}
	r = lapicv_call(vcpu_create)(vcpu);
	if (r)
		return r;
	lapicv_make_request(vcpu, LAPICV_REQ_APICV_UPDATE);
	return 0;
}

void lapicv_apicv_vcpu_free(struct lapicv_vcpu *vcpu)
{
	/*
	 * Only at VM destruction: an open IRQ window's count dies with the
	 * VM, and giving it back would walk vCPUs being freed.
	 */
	vcpu->irq_window = false;
	lapicv_call_cond(vcpu_free)(vcpu);
}

/* ---- the soft backend: no APICv ---- */

void lapicv_apic_deliver_irr(struct lapicv_lapic *apic, int vector)
{
	lapicv_apic_set_irr(apic, vector);
	lapicv_make_request(apic->vcpu, LAPICV_REQ_EVENT);
	lapicv_vcpu_kick(apic->vcpu);
	trace_lapicv_deliver(apic->vcpu->vcpu_id, vector, LAPICV_DELIVER_IRR);
}

int lapicv_sync_irr_only(struct lapicv_vcpu *vcpu)
{
	/* Nothing is posted elsewhere: IRR is the only place to look. */
	return lapicv_apic_find_highest_irr(vcpu->apic);
}

static void soft_deliver_interrupt(struct lapicv_lapic *apic,
				   int delivery_mode, int trig_mode, int vector)
{
	lapicv_apic_deliver_irr(apic, vector);
}

struct lapicv_backend lapicv_soft_backend = {
	.name			= "soft",
	.apicv			= false,
	.required_apicv_inhibits = 0,
	.deliver_interrupt	= soft_deliver_interrupt,
	.sync_pir_to_irr	= lapicv_sync_irr_only,
};

/* ---- the run step ---- */

struct apicv_run_ctx {
	struct lapicv_run *run;
	bool interruptible;	/* RFLAGS.IF and no interrupt shadow */
	bool halted;		/* still halted */
	bool vmm_window;	/* the VMM asked for an ExtINT window */
};

static void apicv_open_irq_window(struct lapicv_vcpu *vcpu)
{
	if (vcpu->irq_window)
		return;
	vcpu->irq_window = true;
	vcpu->stats.irq_windows++;
	trace_lapicv_irq_window(vcpu->vcpu_id, true);
	lapicv_call_cond(enable_irq_window)(vcpu);
}

static void apicv_close_irq_window(struct lapicv_vcpu *vcpu)
{
	if (!vcpu->irq_window)
		return;
	vcpu->irq_window = false;
	trace_lapicv_irq_window(vcpu->vcpu_id, false);
	lapicv_call_cond(disable_irq_window)(vcpu);
}

void lapicv_vcpu_irq_window_exit(struct lapicv_vcpu *vcpu)
{
	lockdep_assert_held(&vcpu->mutex);
	apicv_close_irq_window(vcpu);
}

/* KVM's kvm_cpu_accept_dm_intr(): LINT0 takes an ExtINT, none is pending. */
static bool apicv_accept_dm_intr(struct lapicv_lapic *apic)
{
	return apic->pending_external_vector == -1 &&
	       lapicv_apic_accept_pic_intr(apic);
}

bool lapicv_vcpu_ready_for_extint(struct lapicv_vcpu *vcpu, bool interruptible)
{
	return interruptible && apicv_accept_dm_intr(vcpu->apic) &&
	       !lapicv_events_need_reinjection(&vcpu->events);
}

void lapicv_apicv_vcpu_reset(struct lapicv_vcpu *vcpu)
{
	lockdep_assert_held(&vcpu->mutex);

	/* Before anything changes: PIR goes with the registers it feeds. */
	lapicv_apicv_pre_state_restore(vcpu);
	apicv_close_irq_window(vcpu);
}

static void apicv_exit(struct apicv_run_ctx *ctx, u32 reason, u32 vector)
{
	ctx->run->exit_reason = reason;
	ctx->run->vector = vector;
}

/*
 * A software-injected interrupt was delivered: as KVM after the entry,
 * the event state keeps its vector, no longer in flight.
 */
static void apicv_intr_delivered(struct lapicv_events *ev, int vec)
{
	ev->interrupt.nr = vec;
	ev->interrupt.soft = false;
}

/*
 * Carry out the event restored as injected, in KVM's order (exception,
 * NMI, interrupt; kvm_check_and_inject_events()), one per step.  KVM has
 * one injection slot and forgets the others at the next exit; lapicv
 * keeps them for the following steps.
 */
static void apicv_run_reinject(struct lapicv_vcpu *vcpu,
			       struct apicv_run_ctx *ctx)
{
	struct lapicv_events *ev = &vcpu->events;
	struct lapicv_run *run = ctx->run;

	run->event_flags = LAPICV_RUN_EVENT_REINJECTED;
	if (ev->exception.injected) {
		ev->exception.injected = false;
		apicv_exit(ctx, LAPICV_RUN_EXCEPTION, ev->exception.nr);
		if (ev->exception.has_error_code) {
			run->event_flags |= LAPICV_RUN_EVENT_ERROR_CODE;
			run->error_code = ev->exception.error_code;
		}
	} else if (ev->nmi_injected) {
		ev->nmi_injected = false;
		ev->nmi_masked = true;
		apicv_exit(ctx, LAPICV_RUN_NMI, 2);
	} else {
		ev->interrupt.injected = false;
		if (ev->interrupt.soft)
			run->event_flags |= LAPICV_RUN_EVENT_SOFT;
		apicv_exit(ctx, LAPICV_RUN_INTR, ev->interrupt.nr);
	}
}

/* UNINITIALIZED and INIT_RECEIVED: only INIT (and SIPI) move the vCPU. */
static bool apicv_waits_for_init(const struct lapicv_lapic *apic)
{
	return apic->mp_state == KVM_MP_STATE_UNINITIALIZED ||
	       apic->mp_state == KVM_MP_STATE_INIT_RECEIVED;
}

static bool apicv_has_events(struct lapicv_vcpu *vcpu,
			     struct apicv_run_ctx *ctx);

/*
 * Something is pending that the guest cannot take now.  A halted step
 * sleeps on (false); else the step ends with IRQ_WINDOW, after opening a
 * real window if @open.
 */
static bool apicv_irq_window_exit(struct lapicv_vcpu *vcpu,
				  struct apicv_run_ctx *ctx, bool open)
{
	if (ctx->halted)
		return false;
	if (open)
		apicv_open_irq_window(vcpu);
	apicv_exit(ctx, LAPICV_RUN_IRQ_WINDOW, 0);
	return true;
}

unsigned long lapicv_vcpu_take_init_sipi(struct lapicv_vcpu *vcpu,
					 u8 *sipi_vector)
{
	struct lapicv_lapic *apic = vcpu->apic;
	unsigned long done = apic->accepted_events;

	lockdep_assert_held(&vcpu->mutex);
	apic->accepted_events = 0;
	*sipi_vector = apic->accepted_sipi_vector;
	return done;
}

/* INIT/SIPI; true when the step ends here. */
static bool apicv_run_events(struct lapicv_vcpu *vcpu,
			     struct apicv_run_ctx *ctx)
{
	struct lapicv_lapic *apic = vcpu->apic;
	unsigned long done;
	u8 sipi_vector;

	/*
	 * KVM's vcpu_block() ends HLT for any INIT or SIPI, even a SIPI it
	 * then drops outside wait-for-SIPI.
	 */
	if (READ_ONCE(apic->pending_events))
		ctx->halted = false;
	lapicv_apic_accept_events(vcpu);
	/* What this or an earlier accept (KVM_GET_MP_STATE) acted on. */
	done = lapicv_vcpu_take_init_sipi(vcpu, &sipi_vector);
	/*
	 * INIT and SIPI may both have been accepted: SIPI wins the report,
	 * flagged with the INIT that came first.
	 */
	if (done & BIT(LAPICV_APIC_SIPI)) {
		apicv_exit(ctx, LAPICV_RUN_SIPI, sipi_vector);
		if (done & BIT(LAPICV_APIC_INIT))
			ctx->run->event_flags |= LAPICV_RUN_EVENT_INIT;
		ctx->halted = false;
		return true;
	}
	if (done & BIT(LAPICV_APIC_INIT)) {
		apicv_exit(ctx, LAPICV_RUN_INIT, 0);
		ctx->halted = false;
		return true;
	}
	return false;
}

/* Inject what the guest can take now; true when something was done. */
static bool apicv_run_inject(struct lapicv_vcpu *vcpu,
			     struct apicv_run_ctx *ctx, int max_irr)
{
	struct lapicv_events *ev = &vcpu->events;
	struct lapicv_lapic *apic = vcpu->apic;
	int vec;

	/* Restored in-flight events go first, and alone (KVM's can_inject). */
	if (lapicv_events_need_reinjection(ev)) {
		/* Halted: only after a wake-up event, as KVM's vcpu_block(). */
		if (ctx->halted && !apicv_has_events(vcpu, ctx))
			return false;
		apicv_run_reinject(vcpu, ctx);
		return true;
	}

	/* Collapse queued NMIs as the CPU's NMI latch does. */
	lapicv_events_process_nmi(vcpu);
	if (ev->nmi_pending && !ev->nmi_masked && !ev->shadow) {
		ev->nmi_pending--;
		/* Delivering an NMI blocks NMIs until the guest's IRET. */
		ev->nmi_masked = true;
		vcpu->stats.nmi_injections++;
		apicv_exit(ctx, LAPICV_RUN_NMI, 2);
		return true;
	}

	if (apic->pending_external_vector != -1 && lapicv_apic_accept_pic_intr(apic)) {
		if (ctx->interruptible) {
			apicv_exit(ctx, LAPICV_RUN_EXTINT,
				   apic->pending_external_vector);
			apicv_intr_delivered(ev, apic->pending_external_vector);
			apic->pending_external_vector = -1;
			vcpu->stats.extint_injections++;
			return true;
		}
		/* APICv cannot deliver an ExtINT: it needs the window. */
		return apicv_irq_window_exit(vcpu, ctx, true);
	}

	vec = lapicv_apic_deliverable_vector(apic, max_irr);
	if (vec < 0)
		return false;
	if (ctx->interruptible) {
		if (apic->apicv_active)
			vcpu->stats.virtual_intr_deliveries++;
		else
			vcpu->stats.intr_injections++;
		lapicv_apic_ack_interrupt(apic, vec);
		if (!apic->apicv_active)
			apicv_intr_delivered(ev, vec);
		apicv_exit(ctx, apic->apicv_active ? LAPICV_RUN_VIRTUAL_INTR :
			   LAPICV_RUN_INTR, vec);
		return true;
	}
	/*
	 * With APICv active the modelled CPU delivers the vector itself once
	 * the guest is interruptible, so no window opens (KVM opens none
	 * either); the exit is the same as on every backend.
	 */
	return apicv_irq_window_exit(vcpu, ctx, !apic->apicv_active);
}

/*
 * One pass of the step; true when it ends, false when the halted (or
 * wait-for-SIPI) vCPU should sleep.
 */
static bool apicv_run_once(struct lapicv_vcpu *vcpu, struct apicv_run_ctx *ctx)
{
	struct lapicv_lapic *apic = vcpu->apic;
	bool vmm_window;
	int max_irr;

	if (lapicv_check_request(vcpu, LAPICV_REQ_APICV_UPDATE))
		lapicv_vcpu_update_apicv(vcpu);
	/*
	 * Every pass evaluates everything, so EVENT needs no work of its
	 * own: cleared here (a wait-for-SIPI pass ends below and must not
	 * leave it to wake the sleep again) and after the PIR sync.
	 */
	lapicv_check_request(vcpu, LAPICV_REQ_EVENT);
	if (lapicv_check_request(vcpu, LAPICV_REQ_IOAPIC_EOI)) {
		unsigned int vec = find_first_bit(vcpu->ioapic_eoi_pending, 256);

		/* The request never comes without a vector; be safe anyway. */
		if (vec >= 256)
			goto no_eoi;
		__clear_bit(vec, vcpu->ioapic_eoi_pending);
		/* The rest, one per later step. */
		if (find_next_bit(vcpu->ioapic_eoi_pending, 256, vec) < 256)
			lapicv_make_request(vcpu, LAPICV_REQ_IOAPIC_EOI);
		apicv_exit(ctx, LAPICV_RUN_IOAPIC_EOI, vec);
		return true;
	}
no_eoi:
	/* After the EOI report, as KVM's vcpu_enter_guest() orders them. */
	if (lapicv_check_request(vcpu, LAPICV_REQ_SCAN_IOAPIC)) {
		lapicv_call(sync_pir_to_irr)(vcpu);
		lapicv_scan_ioapic_routes(vcpu);
	}

	lapicv_events_process_smi(vcpu);
	if (apicv_run_events(vcpu, ctx))
		return true;
	/*
	 * Wait-for-SIPI ignores everything else, as the CPU does, and KVM
	 * keeps a never-started vCPU blocked likewise until INIT.
	 */
	if (apicv_waits_for_init(apic))
		return false;

	if (lapicv_timer_pending(apic))
		lapicv_timer_inject_pending(apic);
	max_irr = lapicv_call(sync_pir_to_irr)(vcpu);
	/* The sync may raise EVENT for what this pass is about to see. */
	lapicv_check_request(vcpu, LAPICV_REQ_EVENT);

	/*
	 * KVM's vcpu_block(): a wake-up event ends the halt, and a PV unhalt
	 * with it, whatever is injected then (a queued NMI the guest still
	 * masks too: it waits for the IRET).  A VMM waiting for the window
	 * hears of it before anything is injected (KVM's vcpu_run()).
	 */
	if (ctx->halted && apicv_has_events(vcpu, ctx)) {
		ctx->halted = false;
		apic->pv_unhalted = false;
		if (ctx->vmm_window &&
		    lapicv_vcpu_ready_for_extint(vcpu, ctx->interruptible)) {
			apicv_exit(ctx, LAPICV_RUN_NONE, 0);
			return true;
		}
	}
	/* KVM's req_int_win, taken before this pass injects anything. */
	vmm_window = ctx->vmm_window && apicv_accept_dm_intr(apic);
	if (ctx->interruptible && !vmm_window)
		apicv_close_irq_window(vcpu);

	if (apicv_run_inject(vcpu, ctx, max_irr)) {
		ctx->halted = false;
	} else {
		if (ctx->halted)
			return false;
		apicv_exit(ctx, LAPICV_RUN_NONE, 0);
	}
	/*
	 * The window opens whatever was injected: once the guest can take
	 * an interrupt it exits, and the VMM passes its ExtINT.
	 */
	if (vmm_window)
		apicv_open_irq_window(vcpu);
	return true;
}

/*
 * Whether a sleeping vCPU has something to look at (KVM's
 * kvm_vcpu_has_events()).  Only what apicv_run_once() would act on in
 * this state counts, or the step would wake, find nothing and spin:
 * interrupts only if the guest could take them, nothing but INIT and SIPI
 * in wait-for-SIPI.  An IRR bit counts even without a request, because
 * AVIC senders raise none while APICv is active.
 */
static bool apicv_has_work(struct lapicv_vcpu *vcpu, struct apicv_run_ctx *ctx)
{
	struct lapicv_lapic *apic = vcpu->apic;

	if ((READ_ONCE(vcpu->requests) & ~LAPICV_REQ_NO_WAKEUP) ||
	    READ_ONCE(apic->pending_events) || signal_pending(current))
		return true;
	if (apicv_waits_for_init(apic))
		return false;
	/* An expired timer: the step injects it and looks again. */
	return lapicv_timer_pending(apic) || apicv_has_events(vcpu, ctx);
}

/*
 * The wake-up events of a halted vCPU (KVM's kvm_vcpu_has_events()), as
 * far as the run step can act on them.  A latched SMI is not one: lapicv
 * cannot take it.  A queued NMI is, even while NMIs are masked (KVM's
 * KVM_REQ_NMI); once latched, only one the guest can take.
 */
static bool apicv_has_events(struct lapicv_vcpu *vcpu,
			     struct apicv_run_ctx *ctx)
{
	struct lapicv_events *ev = &vcpu->events;
	struct lapicv_lapic *apic = vcpu->apic;

	if (READ_ONCE(apic->pv_unhalted) || atomic_read(&ev->nmi_queued))
		return true;
	if (ev->nmi_pending && !ev->nmi_masked && !ev->shadow)
		return true;
	if (!ctx->interruptible)
		return false;
	/* KVM's kvm_cpu_has_interrupt(): only the backend can look. */
	if (apic->guest_apic_protected)
		return lapicv_call(protected_apic_has_interrupt)(vcpu);
	return lapicv_call(has_posted_interrupt)(vcpu) ||
	       (READ_ONCE(apic->pending_external_vector) != -1 &&
		lapicv_apic_accept_pic_intr(apic)) ||
	       lapicv_apic_deliverable_vector(apic,
					      lapicv_apic_find_highest_irr(apic)) >= 0;
}

bool lapicv_vcpu_halt(struct lapicv_vcpu *vcpu, bool interruptible)
{
	struct apicv_run_ctx ctx = { .interruptible = interruptible };
	struct lapicv_lapic *apic = vcpu->apic;

	lockdep_assert_held(&vcpu->mutex);
	if (apicv_has_events(vcpu, &ctx)) {
		apic->pv_unhalted = false;
		return false;
	}
	apic->mp_state = KVM_MP_STATE_HALTED;
	return true;
}

/*
 * Sleep like kvm_vcpu_block(): until the LAPIC has work or a signal
 * arrives.  Senders set their reason before lapicv_vcpu_kick(), and
 * wait_event re-checks after queueing, so no wake-up is lost.
 */
static int apicv_block(struct lapicv_vcpu *vcpu, struct apicv_run_ctx *ctx)
{
	int r;

	lapicv_call_cond(vcpu_blocking)(vcpu);
	vcpu->stats.halts++;
	r = wait_event_interruptible(vcpu->wq, apicv_has_work(vcpu, ctx));
	lapicv_call_cond(vcpu_unblocking)(vcpu);
	if (r || signal_pending(current))
		return -EINTR;
	vcpu->stats.halt_wakeups++;
	return 0;
}

bool lapicv_run_valid(const struct lapicv_run *run)
{
	int i;

	if (run->rflags_if > 1 || run->interrupt_shadow > 1 ||
	    run->nmi_blocked > 1 || run->halted > 1 || run->flags || run->pad)
		return false;
	for (i = 0; i < ARRAY_SIZE(run->reserved); i++)
		if (run->reserved[i])
			return false;
	return true;
}

int lapicv_vcpu_run(struct lapicv_vcpu *vcpu, struct lapicv_run *run)
{
	lockdep_assert_held(&vcpu->mutex);

	if (!lapicv_run_valid(run))
		return -EINVAL;
	/* No split irqchip, no LAPIC: nothing for a run step to do. */
	if (!vcpu->apic)
		return -ENXIO;
	return lapicv_vcpu_step(vcpu, run, false);
}

int lapicv_vcpu_step(struct lapicv_vcpu *vcpu, struct lapicv_run *run,
		     bool vmm_window)
{
	struct apicv_run_ctx ctx = {
		.run = run,
		.interruptible = run->rflags_if && !run->interrupt_shadow,
		.vmm_window = vmm_window,
	};
	struct lapicv_lapic *apic = vcpu->apic;
	struct lapicv_events *ev = &vcpu->events;
	int r = 0;

	lockdep_assert_held(&vcpu->mutex);

	run->exit_reason = LAPICV_RUN_NONE;
	run->vector = 0;
	run->event_flags = 0;
	run->error_code = 0;
	vcpu->stats.runs++;
	/* The VMM's word for the guest's state is the state for this step. */
	ev->nmi_masked = run->nmi_blocked;
	ev->shadow = run->interrupt_shadow ? LAPICV_SHADOW_ANY : 0;
	/*
	 * HLT makes a RUNNABLE vCPU HALTED (KVM's kvm_emulate_halt()), and a
	 * HALTED or AP_RESET_HOLD vCPU, restored so or left so by a step a
	 * signal ended, stays blocked until a wake-up event, whatever the
	 * step says.
	 */
	if (run->halted && apic->mp_state == KVM_MP_STATE_RUNNABLE)
		apic->mp_state = KVM_MP_STATE_HALTED;
	ctx.halted = apic->mp_state == KVM_MP_STATE_HALTED ||
		     apic->mp_state == KVM_MP_STATE_AP_RESET_HOLD ||
		     run->halted;
	lapicv_call_cond(vcpu_load)(vcpu);
	while (!apicv_run_once(vcpu, &ctx)) {
		r = apicv_block(vcpu, &ctx);
		if (r)
			break;
	}
	lapicv_call_cond(vcpu_put)(vcpu);
	/* Woken: the vCPU runs again (KVM's vcpu_block()). */
	if (!ctx.halted && (apic->mp_state == KVM_MP_STATE_HALTED ||
			    apic->mp_state == KVM_MP_STATE_AP_RESET_HOLD))
		apic->mp_state = KVM_MP_STATE_RUNNABLE;

	run->pending = 0;
	if (atomic_read(&ev->nmi_queued) || ev->nmi_pending)
		run->pending |= LAPICV_RUN_PENDING_NMI;
	if (ev->smi_pending)
		run->pending |= LAPICV_RUN_PENDING_SMI;
	if (apic->pending_external_vector != -1 && lapicv_apic_accept_pic_intr(apic))
		run->pending |= LAPICV_RUN_PENDING_EXTINT;
	if (lapicv_apic_deliverable_vector(apic, lapicv_apic_find_highest_irr(apic)) >= 0)
		run->pending |= LAPICV_RUN_PENDING_APIC;
	run->apicv_active = apic->apicv_active;
	run->irq_window_open = vcpu->irq_window;
	run->halted_out = ctx.halted;
	trace_lapicv_run_exit(vcpu->vcpu_id, run->exit_reason, run->vector,
			      run->apicv_active);
	return r;
}

void lapicv_vcpu_get_stats(struct lapicv_vcpu *vcpu,
			   struct lapicv_vcpu_stats *st)
{
	lockdep_assert_held(&vcpu->mutex);

	*st = vcpu->stats;
	lapicv_call_cond(vcpu_stats)(vcpu, st);
}

/*
 * The stats fd reads without vcpu->mutex: a halted run step sleeps holding
 * it, and a reader must not wait for the guest's next interrupt.  Each
 * counter is an aligned u64 that only its owner increments, so READ_ONCE
 * gives a value it really had (x86-64 neither tears nor caches it); the
 * set is not one instant, which a cumulative counter does not need.  The
 * backend's counters are atomics or read with READ_ONCE likewise.
 */
void lapicv_vcpu_read_stats(struct lapicv_vcpu *vcpu,
			    struct lapicv_vcpu_stats *st)
{
	const u64 *src = (const u64 *)&vcpu->stats;
	u64 *dst = (u64 *)st;
	unsigned int i;

	for (i = 0; i < sizeof(*st) / sizeof(u64); i++)
		dst[i] = READ_ONCE(src[i]);
	lapicv_call_cond(vcpu_stats)(vcpu, st);
}

/* ---- guest accesses (KVM's apic_mmio_read/write, x2APIC MSRs) ---- */

u64 lapicv_apic_mmio_read(struct lapicv_lapic *apic, u32 offset, u8 size)
{
	u32 align = offset & 0xf, val;

	/*
	 * A disabled or x2APIC-mode APIC does not decode MMIO: the read
	 * hits nothing and returns all ones, as KVM's apic_mmio_read().
	 */
	if (!lapicv_apic_hw_enabled(apic) || lapicv_x2apic_mode(apic))
		return GENMASK_ULL(size * 8 - 1, 0);
	/* Unreadable registers and accesses across a register read 0. */
	if (align + size > 4 ||
	    lapicv_apic_reg_read(apic, offset & ~0xfu, &val))
		return 0;
	val >>= align * 8;
	return size == 4 ? val : val & GENMASK(size * 8 - 1, 0);
}

void lapicv_apic_mmio_write(struct lapicv_lapic *apic, u32 offset, u8 size,
			    u64 data)
{
	/*
	 * KVM drops what the APIC cannot take (odd sizes, unaligned, APIC
	 * disabled or in x2APIC mode) and ignores a failed register write:
	 * MMIO has no way to fault.
	 */
	if (!lapicv_apic_hw_enabled(apic) || lapicv_x2apic_mode(apic) ||
	    size != 4 || (offset & 0xf))
		return;
	lapicv_apic_reg_write(apic, offset, (u32)data);
}

static bool apicv_access_valid(const struct lapicv_guest_access *ga)
{
	if (ga->reserved[0] || ga->reserved[1] || ga->fault)
		return false;
	switch (ga->type) {
	case LAPICV_ACCESS_MMIO_READ:
	case LAPICV_ACCESS_MMIO_WRITE:
		return ga->address < 0x1000 &&
		       (ga->size == 1 || ga->size == 2 || ga->size == 4) &&
		       (ga->type == LAPICV_ACCESS_MMIO_READ ||
			ga->data <= U32_MAX);
	case LAPICV_ACCESS_MSR_READ:
	case LAPICV_ACCESS_MSR_WRITE:
		return !ga->size && ga->address >= APIC_BASE_MSR &&
		       ga->address < APIC_BASE_MSR + 0x100;
	default:
		return false;
	}
}

int lapicv_guest_access(struct lapicv_vcpu *vcpu,
			struct lapicv_guest_access *ga)
{
	struct lapicv_lapic *apic = vcpu->apic;
	u64 data = 0;

	lockdep_assert_held(&vcpu->mutex);

	if (!apic)
		return -ENXIO;
	/* The guest's own accesses never reach the VMM (KVM: TDX). */
	if (!apicv_access_valid(ga) || apic->guest_apic_protected)
		return -EINVAL;

	switch (ga->type) {
	case LAPICV_ACCESS_MMIO_READ:
		ga->data = lapicv_apic_mmio_read(apic, ga->address, ga->size);
		break;
	case LAPICV_ACCESS_MMIO_WRITE:
		lapicv_apic_mmio_write(apic, ga->address, ga->size, ga->data);
		break;
	case LAPICV_ACCESS_MSR_READ:
		ga->fault = lapicv_x2apic_msr_read(apic, ga->address, &data);
		ga->data = ga->fault ? 0 : data;
		break;
	case LAPICV_ACCESS_MSR_WRITE:
		ga->fault = lapicv_x2apic_msr_write(apic, ga->address, ga->data);
		break;
	}
	return 0;
}
