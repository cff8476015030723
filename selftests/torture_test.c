// SPDX-License-Identifier: GPL-2.0-only
/*
 * Concurrency torture on whatever backend lapicv was loaded with: vCPU
 * threads in LAPICV_RUN loops (halted or not, interruptible or not, so IRQ
 * windows open and close), EOIing each delivery through LAPICV_GUEST_ACCESS
 * and sending IPIs with ICR writes; sender threads posting KVM_SIGNAL_MSI;
 * a thread flipping the PIT_REINJ inhibit (APICv off and on) and doing
 * KVM_SET_LAPIC on a scratch vCPU; signals interrupting everything.
 *
 * Every interrupt is accounted for.  "Token" vectors (0x40-0xbf) are sent
 * to a vCPU only while the previous one of the same vector to the same
 * vCPU has been delivered, so none may coalesce: delivered == sent, per
 * vCPU and vector, once the senders stop and the vCPUs drain.  "Free"
 * vectors (0xc0-0xcf) are sent at will and may coalesce in IRR as the APIC
 * architecture allows: 1 <= delivered <= sent.  A delivery of a vector
 * never sent is a failure, as is a vCPU left with IRR bits after the
 * drain, and a thread that makes no progress for HANG_SECONDS.
 *
 * The scratch vCPU (the last one) takes KVM_SET_LAPIC and only free
 * vectors: a SET_LAPIC replaces IRR/ISR wholesale, so it cannot be counted.
 *
 * At the end the fds are closed while the vCPU threads are still inside
 * halted run steps; signals end the steps and the threads.  The module's
 * reference count must be back where it was.  TORTURE_SECONDS (default
 * 10) bounds the run.  lapicv-only: KVM has no run step.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <linux/lapicv.h>

#include "irq_util.h"
#include "lapicv_run.h"

#define NR_ACC			(NR_VCPUS - 1)	/* counted vCPUs */
#define SCRATCH			(NR_VCPUS - 1)
#define NR_SENDERS		2
#define TOKEN_LO		0x40
#define TOKEN_HI		0xbf
#define FREE_LO			0xc0
#define FREE_HI			0xcf
#define DEFAULT_SECONDS		10
#define HANG_SECONDS		15
#define DRAIN_SECONDS		15
#define REFCNT_PATH		"/sys/module/lapicv/refcnt"

/* Thread indexes: the vCPUs' threads, the MSI senders, the flipper. */
#define T_VCPU			0
#define T_SENDER		(T_VCPU + NR_VCPUS)
#define T_FLIPPER		(T_SENDER + NR_SENDERS)
#define NR_THREADS		(T_FLIPPER + 1)

struct thread {
	pthread_t tid;
	pid_t ktid;
	int idx;
	uint64_t rng;
	atomic_ulong progress;
};

static struct irq_vm v;
static struct thread threads[NR_THREADS];
static atomic_bool stop_senders, stop_all;

static atomic_ulong sent[NR_VCPUS][256], delivered[NR_VCPUS][256];
static atomic_bool outstanding[NR_VCPUS][256];
static atomic_int spurious_vec = -1, spurious_vcpu = -1;
static atomic_ulong msis, ipis, flips, set_lapics, eintrs, windows;
static atomic_int bad_errno;
static atomic_ulong bad_cmd;

static uint64_t rnd(struct thread *t)
{
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * 0x2545f4914f6cdd1dull;
}

static unsigned int below(struct thread *t, unsigned int n)
{
	return rnd(t) % n;
}

static bool is_token(int vec)
{
	return vec >= TOKEN_LO && vec <= TOKEN_HI;
}

/* An ioctl that must succeed, or fail only with EINTR or EBADF (at the end). */
static bool ok(long r, unsigned long cmd)
{
	if (r >= 0)
		return true;
	if (errno == EINTR) {
		atomic_fetch_add(&eintrs, 1);
		return false;
	}
	/* At the end the fds go (and their numbers may be reused). */
	if ((errno == EBADF || errno == ENOTTY) && atomic_load(&stop_all))
		return false;
	if (!atomic_load(&bad_errno)) {
		atomic_store(&bad_cmd, cmd);
		atomic_store(&bad_errno, errno);
	}
	return false;
}

/*
 * Claim the right to send @vec to @dest: token vectors one at a time,
 * free vectors always.  Counted as sent before it is sent, so that
 * delivered <= sent holds at every moment.
 */
static bool claim(int dest, int vec)
{
	bool no = false;

	if (is_token(vec) &&
	    !atomic_compare_exchange_strong(&outstanding[dest][vec], &no, true))
		return false;
	atomic_fetch_add(&sent[dest][vec], 1);
	return true;
}

/* A send that failed: nothing was sent. */
static void unclaim(int dest, int vec)
{
	atomic_fetch_sub(&sent[dest][vec], 1);
	if (is_token(vec))
		atomic_store(&outstanding[dest][vec], false);
}

static int pick_vector(struct thread *t, int dest)
{
	if (dest == SCRATCH || below(t, 32) == 0)
		return FREE_LO + below(t, FREE_HI - FREE_LO + 1);
	return TOKEN_LO + below(t, TOKEN_HI - TOKEN_LO + 1);
}

/* The guest on vCPU @self sends a fixed IPI (physical destination). */
static void send_ipi(struct thread *t, int self)
{
	int dest = below(t, NR_VCPUS), vec = pick_vector(t, dest);

	if (!claim(dest, vec))
		return;
	if (!ok(guest_write(v.vcpu[self], APIC_ICR2, (uint32_t)dest << 24),
		LAPICV_GUEST_ACCESS) ||
	    !ok(guest_write(v.vcpu[self], APIC_ICR, vec), LAPICV_GUEST_ACCESS)) {
		/* ICR2 alone sends nothing; an ICR write that failed neither. */
		unclaim(dest, vec);
		return;
	}
	atomic_fetch_add(&ipis, 1);
}

static void delivered_one(int self, int vec)
{
	if (vec < 0 || vec > 255 || !atomic_load(&sent[self][vec])) {
		atomic_store(&spurious_vcpu, self);
		atomic_store(&spurious_vec, vec);
		return;
	}
	atomic_fetch_add(&delivered[self][vec], 1);
	if (is_token(vec))
		atomic_store(&outstanding[self][vec], false);
}

static void *vcpu_thread(void *arg)
{
	struct thread *t = arg;
	int self = t->idx - T_VCPU, fd = v.vcpu[self];
	struct lapicv_run run;

	while (!atomic_load(&stop_all)) {
		bool draining = atomic_load(&stop_senders);

		memset(&run, 0, sizeof(run));
		run.rflags_if = draining || below(t, 8);
		run.interrupt_shadow = !draining && !below(t, 16);
		run.halted = below(t, 4) != 0;
		atomic_fetch_add(&t->progress, 1);
		if (!ok(ioctl(fd, LAPICV_RUN, &run), LAPICV_RUN))
			continue;
		if (run.irq_window_open)
			atomic_fetch_add(&windows, 1);
		if (run.exit_reason == LAPICV_RUN_INTR ||
		    run.exit_reason == LAPICV_RUN_VIRTUAL_INTR) {
			if (self != SCRATCH)
				delivered_one(self, run.vector);
			ok(guest_write(fd, APIC_EOI, 0), LAPICV_GUEST_ACCESS);
		}
		if (self != SCRATCH && !draining && !below(t, 3))
			send_ipi(t, self);
	}
	return NULL;
}

static void *sender_thread(void *arg)
{
	struct thread *t = arg;

	while (!atomic_load(&stop_senders)) {
		int dest = below(t, NR_VCPUS), vec;
		long r;

		/* The scratch vCPU less often: its MSIs are not counted. */
		if (dest == SCRATCH && below(t, 4))
			dest = below(t, NR_ACC);
		vec = pick_vector(t, dest);

		atomic_fetch_add(&t->progress, 1);
		if (!claim(dest, vec)) {
			sched_yield();
			continue;
		}
		r = signal_msi(v.vm, MSI_ADDR(dest), 0, vec);
		if (!ok(r, KVM_SIGNAL_MSI)) {
			unclaim(dest, vec);
			continue;
		}
		atomic_fetch_add(&msis, 1);
	}
	return NULL;
}

/* A valid state for the scratch vCPU: its ID, enabled, a random TPR. */
static void scratch_set_lapic(struct thread *t)
{
	struct kvm_lapic_state s;

	if (!ok(get_lapic(v.vcpu[SCRATCH], &s), KVM_GET_LAPIC))
		return;
	lapic_set_reg(&s, APIC_TASKPRI, below(t, 4) ? 0 : below(t, 256));
	lapic_set_reg(&s, APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	if (!below(t, 4)) {
		/* A periodic timer on a free vector, or none. */
		lapic_set_reg(&s, APIC_TDCR, 0xb);
		lapic_set_reg(&s, APIC_LVTT, (1u << 17) | FREE_HI |
			      (below(t, 2) ? 1u << 16 : 0));
		lapic_set_reg(&s, APIC_TMICT, 200000 + below(t, 2000000));
	}
	if (ok(set_lapic(v.vcpu[SCRATCH], &s), KVM_SET_LAPIC))
		atomic_fetch_add(&set_lapics, 1);
}

static void *flipper_thread(void *arg)
{
	struct thread *t = arg;
	struct lapicv_inhibit_op op = { .reason = LAPICV_INHIBIT_PIT_REINJ };

	while (!atomic_load(&stop_senders)) {
		atomic_fetch_add(&t->progress, 1);
		op.set = !op.set;
		if (ok(ioctl(v.vm, LAPICV_SET_INHIBIT, &op), LAPICV_SET_INHIBIT))
			atomic_fetch_add(&flips, 1);
		if (!below(t, 4))
			scratch_set_lapic(t);
		usleep(below(t, 2000));
	}
	op.set = 0;
	ok(ioctl(v.vm, LAPICV_SET_INHIBIT, &op), LAPICV_SET_INHIBIT);
	return NULL;
}

static void on_kick(int sig)
{
	(void)sig;
}

static long read_long(const char *path)
{
	long val = -1;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%ld", &val) != 1)
			val = -1;
		fclose(f);
	}
	return val;
}

/* Where a thread hangs: its kernel stack. */
static void dump_stack_of(struct thread *t)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stack", t->ktid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		fprintf(stderr, "#   thread %d: %s", t->idx, line);
	if (f)
		fclose(f);
}

static void *start(void *arg)
{
	struct thread *t = arg;

	t->ktid = gettid();
	if (t->idx < T_SENDER)
		return vcpu_thread(t);
	if (t->idx < T_FLIPPER)
		return sender_thread(t);
	return flipper_thread(t);
}

/*
 * Kick threads [from, to) until @done says so or a thread stops moving;
 * returns false on a hang (stack printed).
 */
static bool kick_until(int from, int to, time_t deadline,
		       bool (*done)(void))
{
	unsigned long last[NR_THREADS] = { 0 };
	time_t moved[NR_THREADS], now;
	int i;

	for (i = 0; i < NR_THREADS; i++)
		moved[i] = time(NULL);
	while (!done() && (now = time(NULL)) < deadline) {
		for (i = from; i < to; i++) {
			unsigned long p = atomic_load(&threads[i].progress);

			pthread_kill(threads[i].tid, SIGUSR1);
			if (p != last[i]) {
				last[i] = p;
				moved[i] = now;
			} else if (now - moved[i] > HANG_SECONDS) {
				dump_stack_of(&threads[i]);
				return false;
			}
		}
		usleep(20000);
	}
	return true;
}

static bool never(void)
{
	return false;
}

/* Every token delivered, no counted vCPU with anything in IRR. */
static bool drained(void)
{
	int i, vec;

	for (i = 0; i < NR_ACC; i++)
		for (vec = 0; vec < 256; vec++)
			if (atomic_load(&outstanding[i][vec]) ||
			    (atomic_load(&sent[i][vec]) &&
			     !atomic_load(&delivered[i][vec])))
				return false;
	return true;
}

static struct kvm_lapic_state irr_state[NR_ACC];
static int irr_err[NR_ACC];
static atomic_bool irr_done;

static void *read_irrs(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < NR_ACC; i++)
		irr_err[i] = get_lapic(v.vcpu[i], &irr_state[i]) ? errno : 0;
	atomic_store(&irr_done, true);
	return NULL;
}

static bool irrs_read(void)
{
	return atomic_load(&irr_done);
}

static int joined;

static bool all_joined(void)
{
	while (joined < NR_THREADS &&
	       !pthread_tryjoin_np(threads[joined].tid, NULL))
		joined++;
	return joined == NR_THREADS;
}

static unsigned long torture_seconds(void)
{
	const char *s = getenv("TORTURE_SECONDS");

	return s && *s ? strtoul(s, NULL, 0) : DEFAULT_SECONDS;
}

FIXTURE(torture) {
};

FIXTURE_SETUP(torture)
{
}

FIXTURE_TEARDOWN(torture)
{
}

TEST_F_TIMEOUT(torture, run_msi_ipi_inhibit_set_lapic, 7200)
{
	struct sigaction sa = { .sa_handler = on_kick };
	unsigned long secs = torture_seconds(), total_sent = 0, lost = 0;
	uint64_t seed = (uint64_t)time(NULL) * 2654435761u;
	pthread_t irr_tid;
	long refcnt0, refcnt1;
	int i, vec, e;

	REQUIRE_LAPICV();
	TH_LOG("seed %#llx, %lu s", (unsigned long long)seed, secs);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	refcnt0 = read_long(REFCNT_PATH);
	memset(&v, -1, sizeof(v));
	ASSERT_OK(irq_vm_create(&v, NULL));
	/* APs run once started: KVM keeps an UNINITIALIZED vCPU blocked. */
	for (i = 0; i < NR_VCPUS; i++) {
		ASSERT_OK(lapic_setup(v.vcpu[i], 0, APIC_DFR_FLAT));
		ASSERT_OK(set_mp_state(v.vcpu[i], KVM_MP_STATE_RUNNABLE));
	}

	for (i = 0; i < NR_THREADS; i++) {
		threads[i].idx = i;
		threads[i].rng = seed + 0x9e3779b97f4a7c15ull * (i + 1);
		ASSERT_EQ(0, pthread_create(&threads[i].tid, NULL, start,
					    &threads[i]));
	}
	ASSERT_TRUE(kick_until(0, NR_THREADS, time(NULL) + secs, never));

	/* Senders stop; the vCPUs take what is pending, IF=1. */
	atomic_store(&stop_senders, true);
	EXPECT_TRUE(kick_until(0, NR_THREADS, time(NULL) + DRAIN_SECONDS,
			       drained));
	/*
	 * KVM_GET_LAPIC waits for the vCPU mutex, which a halted step holds
	 * until a kick ends it: read IRR in a thread, kicking meanwhile.
	 */
	ASSERT_EQ(0, pthread_create(&irr_tid, NULL, read_irrs, NULL));
	EXPECT_TRUE(kick_until(0, NR_THREADS, time(NULL) + HANG_SECONDS,
			       irrs_read));
	ASSERT_EQ(0, pthread_join(irr_tid, NULL));
	for (i = 0; i < NR_ACC; i++) {
		ASSERT_EQ(0, irr_err[i]) TH_LOG("KVM_GET_LAPIC: %s",
						errno_name(irr_err[i]));
		for (vec = 16; vec < 256; vec++)
			EXPECT_FALSE(lapic_test_vec(&irr_state[i], APIC_IRR,
						    vec))
				TH_LOG("vCPU %d: vector %#x still in IRR", i,
				       vec);
	}

	/* Close everything under the vCPU threads, then end them. */
	atomic_store(&stop_all, true);
	irq_vm_destroy(&v);
	EXPECT_TRUE(kick_until(0, NR_THREADS, time(NULL) + HANG_SECONDS + 5,
			       all_joined));
	ASSERT_EQ(NR_THREADS, joined) TH_LOG("threads left inside ioctls");

	for (i = 0; i < NR_ACC; i++) {
		for (vec = 0; vec < 256; vec++) {
			unsigned long snt = atomic_load(&sent[i][vec]);
			unsigned long dlv = atomic_load(&delivered[i][vec]);

			total_sent += snt;
			/* Tokens never coalesce; free vectors at least once. */
			EXPECT_TRUE(is_token(vec) ? dlv == snt :
				    dlv <= snt && (!snt || dlv))
				TH_LOG("vCPU %d vector %#x: %lu sent, %lu delivered",
				       i, vec, snt, dlv);
			if (dlv < snt)
				lost += snt - dlv;
		}
	}
	TH_LOG("%lu MSIs, %lu IPIs, %lu counted (%lu coalesced)",
	       atomic_load(&msis), atomic_load(&ipis), total_sent, lost);
	TH_LOG("%lu inhibit flips, %lu SET_LAPICs, %lu EINTRs, %lu IRQ windows",
	       atomic_load(&flips), atomic_load(&set_lapics),
	       atomic_load(&eintrs), atomic_load(&windows));
	EXPECT_EQ(-1, atomic_load(&spurious_vec))
		TH_LOG("vCPU %d got vector %#x, never sent to it",
		       atomic_load(&spurious_vcpu), atomic_load(&spurious_vec));
	e = atomic_load(&bad_errno);
	EXPECT_EQ(0, e) TH_LOG("ioctl %#lx failed: %s",
			       atomic_load(&bad_cmd), errno_name(e));
	refcnt1 = read_long(REFCNT_PATH);
	EXPECT_EQ(refcnt0, refcnt1);
}

TEST_HARNESS_MAIN
