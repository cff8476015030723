// SPDX-License-Identifier: GPL-2.0-only
/*
 * Item 3: IRQ-window contention, the seed patch's case (lapicv only; needs
 * the module loaded with backend=avic-model, where an IRQ window inhibits
 * APICv).
 *
 * Each of N threads owns one vCPU of one VM and loops:
 *
 *	KVM_INTERRUPT(0x20)		an ExtINT from the VMM's PIC
 *	LAPICV_RUN, IF=0		-> IRQ_WINDOW: the window opens
 *	LAPICV_RUN, IF=1		-> EXTINT: injected, the window closes
 *
 * for opts.seconds, opts.reps times, under irqwin_policy=legacy and
 * =counter (the parameter is read at VM creation, so it is switched
 * through sysfs between the two VMs, which then take turns in slices),
 * without and with another inhibit set (LAPICV_SET_INHIBIT PIT_REINJ).
 * Reported: windows per second (median of the repetitions) and, from
 * LAPICV_GET_VM_STATS over all of them, apicv_update_lock write
 * acquisitions per window and per 0<->1 transition of the VM's IRQ-window
 * count, and APICv toggles (inhibit mask empty <-> not) per window.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "bench.h"
#include "lapicv_util.h"

#define EXTINT_VEC	0x20
#define APIC_LVT0	0x350
#define LVT_DM_EXTINT	0x700

struct irqwin_thread {
	pthread_t tid;
	int vcpu;
	unsigned long windows;
	unsigned long bad;		/* unexpected exits */
	int err;			/* errno of a failed ioctl */
};

static atomic_int go, stop;

static int run_step(int vcpu, int if_flag, struct lapicv_run *r)
{
	memset(r, 0, sizeof(*r));
	r->rflags_if = if_flag;
	return ioctl(vcpu, LAPICV_RUN, r);
}

static void *irqwin_loop(void *arg)
{
	struct kvm_interrupt irq = { .irq = EXTINT_VEC };
	struct irqwin_thread *t = arg;
	struct lapicv_run r;

	while (!atomic_load_explicit(&go, memory_order_acquire))
		;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		if (ioctl(t->vcpu, KVM_INTERRUPT, &irq) ||
		    run_step(t->vcpu, 0, &r)) {
			t->err = errno;
			break;
		}
		if (r.exit_reason != LAPICV_RUN_IRQ_WINDOW)
			t->bad++;
		if (run_step(t->vcpu, 1, &r)) {
			t->err = errno;
			break;
		}
		if (r.exit_reason != LAPICV_RUN_EXTINT)
			t->bad++;
		else
			t->windows++;
	}
	return NULL;
}

struct irqwin_result {
	double windows_per_s;		/* median */
	double writes_per_window;
	double writes_per_transition;
	double transitions_per_window;
	double toggles_per_window;	/* APICv on <-> off */
};

/* One VM under one policy, its threads and what they counted. */
struct irqwin_vm {
	const char *policy;
	struct bvm b;
	struct irqwin_thread *t;
	struct lapicv_vm_stats s0;
	double rate[64];
	double windows;
	double rep_windows, rep_ns;	/* the current repetition's slices */
};

static int vcpu_accept_extint(int vcpu)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	struct kvm_lapic_state s;

	/* An AP runs only once started (KVM keeps UNINITIALIZED blocked). */
	if (ioctl(vcpu, KVM_SET_MP_STATE, &mp) || get_lapic(vcpu, &s))
		return -1;
	lapic_set_reg(&s, APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	lapic_set_reg(&s, APIC_LVT0, LVT_DM_EXTINT);
	return set_lapic(vcpu, &s);
}

static int irqwin_vm_create(struct irqwin_vm *w, const char *policy,
			    bool other, int nthreads)
{
	struct lapicv_inhibit_op op = { LAPICV_INHIBIT_PIT_REINJ, 1 };
	int i;

	memset(w, 0, sizeof(*w));
	w->policy = policy;
	w->b.dev = -1;
	w->b.vm = -1;
	if (lapicv_param_set("irqwin_policy", policy) ||
	    strcmp(lapicv_param("irqwin_policy"), policy)) {
		printf("# irqwin: cannot set irqwin_policy=%s\n", policy);
		return -1;
	}
	w->t = calloc(nthreads, sizeof(*w->t));
	if (!w->t || bvm_create(&w->b, DEV_LAPICV, nthreads))
		return -1;
	for (i = 0; i < nthreads; i++) {
		w->t[i].vcpu = w->b.vcpu[i];
		if (vcpu_accept_extint(w->b.vcpu[i]))
			return -1;
	}
	if (other && ioctl(w->b.vm, LAPICV_SET_INHIBIT, &op))
		return -1;
	return ioctl(w->b.vm, LAPICV_GET_VM_STATS, &w->s0);
}

/* One slice of a repetition: every thread loops for @seconds. */
static int irqwin_slice(struct irqwin_vm *w, int nthreads, double seconds)
{
	struct timespec ts;
	unsigned long n = 0;
	double t0, t1;
	int i;

	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - ts.tv_sec) * 1e9);
	atomic_store(&go, 0);
	atomic_store(&stop, 0);
	for (i = 0; i < nthreads; i++) {
		w->t[i].windows = 0;
		if (pthread_create(&w->t[i].tid, NULL, irqwin_loop, &w->t[i]))
			return -1;
	}
	t0 = now_ns();
	atomic_store_explicit(&go, 1, memory_order_release);
	nanosleep(&ts, NULL);
	atomic_store(&stop, 1);
	t1 = now_ns();
	for (i = 0; i < nthreads; i++) {
		pthread_join(w->t[i].tid, NULL);
		n += w->t[i].windows;
	}
	for (i = 0; i < nthreads; i++) {
		if (w->t[i].err || w->t[i].bad) {
			printf("# irqwin: %s: vCPU %d: %lu unexpected exits, %s\n",
			       w->policy, i, w->t[i].bad,
			       w->t[i].err ? errno_name(w->t[i].err) : "");
			return -1;
		}
	}
	w->rep_windows += n;
	w->rep_ns += t1 - t0;
	w->windows += n;
	return 0;
}

static int irqwin_result(struct irqwin_vm *w, int reps,
			 struct irqwin_result *res)
{
	struct lapicv_vm_stats s1;
	double writes, transitions;

	if (ioctl(w->b.vm, LAPICV_GET_VM_STATS, &s1) || !w->windows)
		return -1;
	writes = s1.update_lock_writes - w->s0.update_lock_writes;
	transitions = s1.irqwin_transitions - w->s0.irqwin_transitions;
	res->windows_per_s = median(w->rate, reps);
	res->writes_per_window = writes / w->windows;
	res->transitions_per_window = transitions / w->windows;
	res->writes_per_transition = transitions ? writes / transitions : 0;
	res->toggles_per_window =
		(s1.apicv_toggles - w->s0.apicv_toggles) / w->windows;
	return 0;
}

/*
 * Both policies for one case: a VM each; each repetition gives each
 * opts.seconds in SLICES slices that alternate (legacy, counter, legacy,
 * ...) so that a change in the host's load falls on both alike.
 */
#define SLICES	10

static int irqwin_case(bool other, int nthreads, struct irqwin_result *res)
{
	static const char * const policies[] = { "legacy", "counter" };
	struct irqwin_vm w[2];
	int p, rep, s, err = -1;

	memset(w, 0, sizeof(w));
	for (p = 0; p < 2; p++)
		if (irqwin_vm_create(&w[p], policies[p], other, nthreads))
			goto out;
	for (rep = 0; rep < opts.reps && rep < 64; rep++) {
		for (p = 0; p < 2; p++) {
			w[p].rep_windows = 0;
			w[p].rep_ns = 0;
		}
		for (s = 0; s < SLICES; s++)
			for (p = 0; p < 2; p++)
				if (irqwin_slice(&w[p], nthreads,
						 opts.seconds / SLICES))
					goto out;
		for (p = 0; p < 2; p++)
			w[p].rate[rep] = w[p].rep_windows / (w[p].rep_ns / 1e9);
	}
	for (p = 0; p < 2; p++)
		if (irqwin_result(&w[p], rep, &res[p]))
			goto out;
	err = 0;
out:
	if (err)
		printf("# irqwin: %s, %d threads: failed (%s)\n",
		       other ? "PIT_REINJ" : "alone", nthreads, errno_name(errno));
	for (p = 0; p < 2; p++) {
		if (w[p].b.vcpu)
			bvm_destroy(&w[p].b);
		free(w[p].t);
	}
	return err;
}

static void irqwin_lines(const char *policy, bool other, int n,
			 const struct irqwin_result *res)
{
	static const struct {
		const char *name, *unit;
		size_t off;
	} figs[] = {
		{ "windows_per_s", "windows/s",
		  offsetof(struct irqwin_result, windows_per_s) },
		{ "writes_per_window", "writes/window",
		  offsetof(struct irqwin_result, writes_per_window) },
		{ "transitions_per_window", "transitions/window",
		  offsetof(struct irqwin_result, transitions_per_window) },
		{ "writes_per_transition", "writes/transition",
		  offsetof(struct irqwin_result, writes_per_transition) },
		{ "toggles_per_window", "toggles/window",
		  offsetof(struct irqwin_result, toggles_per_window) },
	};
	char name[96];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(figs); i++) {
		snprintf(name, sizeof(name), "irqwin_%s_%s_%s_t%d", figs[i].name,
			 policy, other ? "pitreinj" : "alone", n);
		bench_line(name, *(const double *)((const char *)res + figs[i].off),
			   figs[i].unit);
	}
}

int bench_irqwin(void)
{
	struct irqwin_result res[2], head[2][2];
	int other, n, err = 0;

	if (strcmp(lapicv_param("backend"), "avic-model")) {
		printf("# irqwin: needs backend=avic-model (have %s)\n",
		       lapicv_param("backend"));
		return -1;
	}
	printf("# irqwin: %d x %.2g s per figure, policies alternating, 1..%d vCPU threads\n",
	       opts.reps, opts.seconds, opts.threads_max);
	memset(head, 0, sizeof(head));
	for (other = 0; other < 2; other++) {
		for (n = 1; n <= opts.threads_max; n *= 2) {
			if (irqwin_case(other, n, res)) {
				err = -1;
				continue;
			}
			irqwin_lines("legacy", other, n, &res[0]);
			irqwin_lines("counter", other, n, &res[1]);
			if (n == 2) {
				head[0][other] = res[0];
				head[1][other] = res[1];
			}
		}
	}
	lapicv_param_set("irqwin_policy", "counter");
	if (head[0][0].windows_per_s > 0 && head[1][0].windows_per_s > 0)
		bench_line("irqwin_counter_over_legacy",
			   head[1][0].windows_per_s / head[0][0].windows_per_s,
			   "ratio");
	if (head[0][1].windows_per_s > 0 && head[1][1].windows_per_s > 0)
		bench_line("irqwin_counter_over_legacy_other_inhibit",
			   head[1][1].windows_per_s / head[0][1].windows_per_s,
			   "ratio");
	if (head[1][1].windows_per_s > 0)
		bench_line("irqwin_write_locks_per_window_other_inhibit",
			   head[1][1].writes_per_window, "writes/window");
	if (head[1][0].windows_per_s > 0)
		bench_line("irqwin_write_locks_per_transition_alone",
			   head[1][0].writes_per_transition, "writes/transition");
	return err;
}
