// SPDX-License-Identifier: GPL-2.0-only
/*
 * The IRQ-window benchmark's model on the host's own cores: inhibit.c
 * built in userspace against the unit build's shim (tests/unit), whose
 * rw-semaphore is a pthread rw-lock, so N threads contend for
 * update_lock in parallel, which the TCG guest of `make bench` cannot
 * show (its guest CPUs take turns on one host thread).  Not part of
 * `make bench`: `make -C bench host` builds build/host_irqwin.
 *
 * Each thread owns one vCPU of one VM and loops as the run step of
 * backend=avic-model does around an ExtINT window: open (svm_enable_irq_window:
 * lapicv_irq_window_inc_or_dec(vm, true)), handle an APICv update request
 * as apicv.c does (read the reasons under update_lock for read), spin
 * WORK_NS for the rest of the window (what the syscalls and the guest
 * cost), close (inc_or_dec(vm, false)), handle a request again, spin
 * again.  HOST_TOGGLE_NS (default 0) adds a cost to every APICv refresh,
 * to model KVM's, which on hardware zaps the APIC access page and flushes
 * TLBs.
 *
 *   host_irqwin [seconds [work_ns [toggle_ns]]]
 *
 * Prints "BENCH host_irqwin_<figure>_<policy>_<alone|pitreinj>_t<N>"
 * lines and the counter/legacy ratios.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../../inhibit.c"

#include "test.h"

#define MAX_THREADS	8

struct hw_run {
	struct lapicv_vm *vm;
	double work_ns, toggle_ns;
	int go, stop;
};

struct hw_thread {
	struct hw_run *r;
	pthread_t tid;
	unsigned int idx;
	unsigned long windows;
	unsigned long refreshes;
};

static double hw_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void hw_spin(double ns)
{
	double end = hw_now() + ns;

	while (ns > 0 && hw_now() < end)
		cpu_relax();
}

static void hw_refresh(struct hw_thread *t, struct lapicv_vcpu *vcpu)
{
	struct lapicv_inhibits *inh = &t->r->vm->inhibits;
	bool active;

	if (!lapicv_check_request(vcpu, LAPICV_REQ_APICV_UPDATE))
		return;
	down_read(&inh->update_lock);
	active = !inh->reasons;
	up_read(&inh->update_lock);
	(void)active;
	hw_spin(t->r->toggle_ns);
	t->refreshes++;
}

static void *hw_loop(void *arg)
{
	struct hw_thread *t = arg;
	struct hw_run *r = t->r;
	struct lapicv_vcpu *vcpu = lapicv_get_vcpu(r->vm, t->idx);

	while (!__atomic_load_n(&r->go, __ATOMIC_ACQUIRE))
		cpu_relax();
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		lapicv_irq_window_inc_or_dec(r->vm, true);
		hw_refresh(t, vcpu);
		hw_spin(r->work_ns);
		lapicv_irq_window_inc_or_dec(r->vm, false);
		hw_refresh(t, vcpu);
		hw_spin(r->work_ns);
		t->windows++;
	}
	return NULL;
}

struct hw_result {
	double windows_per_s, writes_per_window, toggles_per_window;
};

static int hw_case(enum lapicv_irqwin_policy policy, bool other, int n,
		   double seconds, double work_ns, double toggle_ns,
		   struct hw_result *res)
{
	struct hw_thread t[MAX_THREADS];
	struct hw_run r = { .work_ns = work_ns, .toggle_ns = toggle_ns };
	struct lapicv_vm_stats s0, s1;
	struct timespec ts;
	double windows = 0, t0, t1;
	int i;

	r.vm = unit_vm_create(n, true, UNIT_ALL_INHIBITS, policy);
	if (!r.vm)
		return -1;
	lapicv_set_or_clear_inhibit(r.vm, LAPICV_INHIBIT_ABSENT, false);
	if (other)
		lapicv_set_or_clear_inhibit(r.vm, LAPICV_INHIBIT_PIT_REINJ, true);
	lapicv_inhibits_read(r.vm, NULL, &s0);
	for (i = 0; i < n; i++) {
		t[i] = (struct hw_thread){ .r = &r, .idx = i };
		pthread_create(&t[i].tid, NULL, hw_loop, &t[i]);
	}
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - ts.tv_sec) * 1e9);
	t0 = hw_now();
	__atomic_store_n(&r.go, 1, __ATOMIC_RELEASE);
	nanosleep(&ts, NULL);
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	t1 = hw_now();
	for (i = 0; i < n; i++) {
		pthread_join(t[i].tid, NULL);
		windows += t[i].windows;
	}
	lapicv_inhibits_read(r.vm, NULL, &s1);
	unit_vm_destroy(r.vm);
	res->windows_per_s = windows / ((t1 - t0) / 1e9);
	res->writes_per_window =
		(s1.update_lock_writes - s0.update_lock_writes) / windows;
	res->toggles_per_window = (s1.apicv_toggles - s0.apicv_toggles) / windows;
	return 0;
}

static void hw_lines(const char *policy, bool other, int n,
		     const struct hw_result *res)
{
	const char *o = other ? "pitreinj" : "alone";

	printf("BENCH host_irqwin_windows_per_s_%s_%s_t%d %.4g windows/s\n",
	       policy, o, n, res->windows_per_s);
	printf("BENCH host_irqwin_writes_per_window_%s_%s_t%d %.4g writes/window\n",
	       policy, o, n, res->writes_per_window);
	printf("BENCH host_irqwin_toggles_per_window_%s_%s_t%d %.4g toggles/window\n",
	       policy, o, n, res->toggles_per_window);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1;
	double work_ns = argc > 2 ? atof(argv[2]) : 0;
	double toggle_ns = argc > 3 ? atof(argv[3]) : 0;
	struct hw_result res[2];
	int other, n;

	printf("# host_irqwin: %.2g s per case, work %.0f ns, toggle %.0f ns, %ld host CPUs\n",
	       seconds, work_ns, toggle_ns, sysconf(_SC_NPROCESSORS_ONLN));
	for (other = 0; other < 2; other++) {
		for (n = 1; n <= MAX_THREADS; n *= 2) {
			if (hw_case(LAPICV_IRQWIN_LEGACY, other, n, seconds,
				    work_ns, toggle_ns, &res[0]) ||
			    hw_case(LAPICV_IRQWIN_COUNTER, other, n, seconds,
				    work_ns, toggle_ns, &res[1]))
				return 1;
			hw_lines("legacy", other, n, &res[0]);
			hw_lines("counter", other, n, &res[1]);
			printf("BENCH host_irqwin_counter_over_legacy_%s_t%d %.4g ratio\n",
			       other ? "pitreinj" : "alone", n,
			       res[1].windows_per_s / res[0].windows_per_s);
		}
	}
	return 0;
}
