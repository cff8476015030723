// SPDX-License-Identifier: GPL-2.0-only
/*
 * Item 2: the interrupt round trip through the run step, on the backend
 * the module was loaded with (scripts/bench.sh reloads it per backend).
 * lapicv only: KVM has no run step without a guest.
 *
 * Round trip, one thread: KVM_SIGNAL_MSI (fixed, vector BENCH_VEC, to
 * vCPU 0) -> LAPICV_RUN with IF=1 injects it (IRR -> ISR, by software
 * or by the modelled virtual-interrupt delivery when APICv is active)
 * -> EOI, as the guest's x2APIC EOI MSR write forwarded with
 * LAPICV_GUEST_ACCESS; a second figure does the EOI with a host
 * KVM_SET_MSRS of MSR 0x80b instead.
 *
 * Wake-up: the vCPU thread (guest CPU 1) sleeps in a halted LAPICV_RUN;
 * the sender (guest CPU 0) waits until the kernel shows the thread
 * sleeping, takes the time and signals the MSI; the vCPU thread takes the
 * time when LAPICV_RUN returns with the interrupt injected.  The median
 * of all samples is reported.  In single-threaded TCG the two guest CPUs
 * share one host thread, so this includes QEMU switching between them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"
#include "lapicv_util.h"

struct rt_ctx {
	int vm;
	int vcpu;
	int dest;		/* the MSI's destination APIC ID */
	bool set_msrs_eoi;	/* EOI by KVM_SET_MSRS, not guest access */
	unsigned long bad;
};

static bool injected(const struct lapicv_run *r)
{
	return (r->exit_reason == LAPICV_RUN_INTR ||
		r->exit_reason == LAPICV_RUN_VIRTUAL_INTR) &&
	       r->vector == BENCH_VEC;
}

static int eoi(int vcpu, bool set_msrs)
{
	struct lapicv_guest_access ga = {
		.type = LAPICV_ACCESS_MSR_WRITE,
		.address = X2APIC_MSR(APIC_EOI),
	};

	if (set_msrs)
		return set_msr(vcpu, X2APIC_MSR(APIC_EOI), 0);
	if (ioctl(vcpu, LAPICV_GUEST_ACCESS, &ga))
		return -1;
	return ga.fault ? -1 : 0;
}

static int run_step(int vcpu, bool halted, struct lapicv_run *r)
{
	memset(r, 0, sizeof(*r));
	r->rflags_if = 1;
	r->halted = halted;
	return ioctl(vcpu, LAPICV_RUN, r);
}

static int op_round_trip(void *p, unsigned long i)
{
	struct rt_ctx *c = p;
	struct lapicv_run r;

	(void)i;
	if (signal_msi(c->vm, MSI_ADDR(c->dest), BENCH_VEC) < 0 ||
	    run_step(c->vcpu, false, &r))
		return -1;
	if (!injected(&r)) {
		c->bad++;
		errno = EPROTO;
		return -1;
	}
	return eoi(c->vcpu, c->set_msrs_eoi);
}

static int op_signal_msi(void *p, unsigned long i)
{
	struct rt_ctx *c = p;

	(void)i;
	return signal_msi(c->vm, MSI_ADDR(c->dest), BENCH_VEC) < 0 ? -1 : 0;
}

/* ---- wake-up latency ---- */

#define MAX_SAMPLES	(1 << 16)

/*
 * The two threads wait for each other with futexes, not by spinning: in
 * single-threaded TCG a spinning guest CPU holds the host thread until
 * QEMU's round-robin kick (100 ms), while a sleeping one halts and lets
 * the other guest CPU run at once.
 */
struct wake_ctx {
	int vm;
	int vcpu;
	pid_t tid;			/* the vCPU thread */
	atomic_uint armed;		/* seq: the vCPU thread is about to sleep */
	atomic_uint done;		/* seq: the vCPU thread returned */
	atomic_int stop;
	double t1;			/* when LAPICV_RUN returned */
	unsigned long bad;
	int err;
};

static void futex_wake(atomic_uint *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Sleep until *@addr >= @seq. */
static void futex_wait_seq(atomic_uint *addr, unsigned int seq)
{
	unsigned int cur;

	while ((cur = atomic_load(addr)) < seq)
		syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, cur, NULL, NULL, 0);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *wake_vcpu_thread(void *arg)
{
	struct wake_ctx *w = arg;
	struct lapicv_run r;
	unsigned int seq;

	pin(1);
	w->tid = syscall(SYS_gettid);
	for (seq = 1; !atomic_load(&w->stop); seq++) {
		atomic_store(&w->armed, seq);
		futex_wake(&w->armed);
		if (run_step(w->vcpu, true, &r))
			w->err = errno;
		w->t1 = now_ns();
		if (!w->err && !injected(&r))
			w->bad++;
		atomic_store(&w->done, seq);
		futex_wake(&w->done);
		if (w->err)
			break;
		if (eoi(w->vcpu, false)) {
			w->err = errno;
			break;
		}
	}
	return NULL;
}

/* True once @tid is asleep ('S' in /proc/<tid>/stat). */
static bool thread_sleeping(pid_t tid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'S';
}

static void on_signal(int sig)
{
	(void)sig;
}

static double wake_latency(int vm, int vcpu, unsigned long *samples)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct timespec pause = { 0, 20000 };
	struct wake_ctx w = { .vm = vm, .vcpu = vcpu };
	double *lat, t0, start, res;
	unsigned long n = 0, early = 0;
	unsigned int seq;
	int polls;
	pthread_t t;

	sigaction(SIGUSR1, &sa, NULL);
	lat = calloc(MAX_SAMPLES, sizeof(*lat));
	if (!lat || pthread_create(&t, NULL, wake_vcpu_thread, &w))
		return -1;
	pin(0);
	start = now_ns();
	for (seq = 1; n < MAX_SAMPLES; seq++) {
		futex_wait_seq(&w.armed, seq);
		for (polls = 0; !w.err && polls < 1000; polls++) {
			nanosleep(&pause, NULL);
			if (thread_sleeping(w.tid))
				break;
		}
		if (w.err)
			break;
		if (now_ns() - start > opts.seconds * 1e9 * opts.reps)
			atomic_store(&w.stop, 1);
		t0 = now_ns();
		if (signal_msi(vm, MSI_ADDR(0), BENCH_VEC) < 0) {
			printf("# run: wake-up: KVM_SIGNAL_MSI: %s\n",
			       errno_name(errno));
			atomic_store(&w.stop, 1);
			/* End the vCPU thread's sleep: EINTR. */
			pthread_kill(t, SIGUSR1);
			break;
		}
		futex_wait_seq(&w.done, seq);
		if (w.err)
			break;
		if (w.t1 < t0)
			early++;
		else
			lat[n++] = w.t1 - t0;
		if (atomic_load(&w.stop))
			break;
	}
	atomic_store(&w.stop, 1);
	pthread_join(t, NULL);
	res = (w.err || w.bad || !n) ? -1 : median(lat, n);
	if (res < 0 || early)
		printf("# run: wake-up: %lu samples, %lu bad exits, %lu before the MSI, %s\n",
		       n, w.bad, early, w.err ? errno_name(w.err) : "no error");
	*samples = n;
	free(lat);
	return res;
}

int bench_run(void)
{
	const char *be = lapicv_param("backend");
	struct lapicv_vcpu_stats st0, st1;
	struct rt_ctx c = { 0 };
	unsigned long samples = 0;
	double ns;
	char name[96];
	struct bvm b;
	int err = 0;

	printf("# run: backend=%s, %d x %.2g s per figure; EOI: LAPICV_GUEST_ACCESS MSR 0x80b\n",
	       be, opts.reps, opts.seconds);
	if (bvm_create(&b, DEV_LAPICV, 2) || enter_x2apic(b.vcpu[0], true) ||
	    enter_x2apic(b.vcpu[1], false)) {
		printf("# run: setup failed: %s\n", errno_name(errno));
		bvm_destroy(&b);
		return -1;
	}
	c.vm = b.vm;
	c.vcpu = b.vcpu[0];

	ns = time_op(op_round_trip, &c);
	if (ns < 0) {
		printf("# run: round trip failed: %s\n", errno_name(errno));
		err = -1;
	} else {
		snprintf(name, sizeof(name), "roundtrip_ns_%s", be);
		bench_line(name, ns, "ns");
	}
	c.set_msrs_eoi = true;
	ns = time_op(op_round_trip, &c);
	if (ns < 0) {
		printf("# run: round trip with KVM_SET_MSRS EOI failed: %s\n",
		       errno_name(errno));
	} else {
		snprintf(name, sizeof(name), "roundtrip_setmsrs_eoi_ns_%s", be);
		bench_line(name, ns, "ns");
	}

	/* MSIs alone, to vCPU 1, which never runs: for reference. */
	c.dest = 1;
	ns = time_op(op_signal_msi, &c);
	if (ns >= 0) {
		snprintf(name, sizeof(name), "signal_msi_ns_%s", be);
		bench_line(name, ns, "ns");
	}

	/* vCPU 0 again: nothing pending, nothing in service. */
	ioctl(b.vcpu[0], LAPICV_GET_VCPU_STATS, &st0);
	ns = wake_latency(b.vm, b.vcpu[0], &samples);
	if (ns < 0) {
		printf("# run: wake-up latency failed\n");
		err = -1;
	} else {
		ioctl(b.vcpu[0], LAPICV_GET_VCPU_STATS, &st1);
		printf("# run: wake-up: %lu samples, %llu of %llu run steps slept\n",
		       samples, (unsigned long long)(st1.halt_wakeups - st0.halt_wakeups),
		       (unsigned long long)(st1.runs - st0.runs));
		snprintf(name, sizeof(name), "wakeup_ns_%s", be);
		bench_line(name, ns, "ns");
	}
	bvm_destroy(&b);
	return err;
}
