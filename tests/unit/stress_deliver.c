// SPDX-License-Identifier: GPL-2.0-only
/*
 * A concurrent delivery stress, one run per backend (soft: IRR; vmx: PIR,
 * ON and notification; svm: AVIC backing page and doorbell), built for
 * ThreadSanitizer (make unit-tsan, STRESS_SECONDS, STRESS_SEED).
 *
 * Threads on one VM:
 *  - senders, each owning a set of vectors, send MSIs to vCPU 0;
 *  - a flipper sets and clears an inhibit reason the backend honours, so
 *    APICv goes off and on while interrupts are in flight (the PIR/IRR
 *    hand-over on deactivation is where interrupts get lost);
 *  - the vCPU thread runs run steps (sometimes with interrupts blocked,
 *    which opens IRQ windows), and EOIs every vector it is given.
 * In epochs, as stress_inhibit.c: bursts, then the senders and the
 * flipper stop, the vCPU drains (run steps with IF=1 until nothing is
 * pending), and the main thread checks on the quiescent VM that
 *
 *   every vector sent in the epoch was injected at least once and at most
 *   as often as it was sent (an edge interrupt sent again before it was
 *   acknowledged coalesces with the first, as the APIC architecture
 *   allows; nothing else may vanish), no vector that was not sent was
 *   injected, IRR and ISR are empty again, the LAPIC invariants hold
 *   (invariants.h) and no IRQ window is left open.
 */
#include <pthread.h>
#include <time.h>

#include "test.h"
#include "invariants.h"
#include "unit_vm.h"

#define NR_SENDERS	2
#define VECS_PER_SENDER	16
#define FIRST_VECTOR	0x40

struct dstress {
	struct lapicv_vm *vm;
	struct lapicv_vcpu *vcpu;
	enum lapicv_inhibit_reason flip_reason;
	unsigned int seed;
	bool stop;
	int parked;		/* senders and flipper done with the burst */
	pthread_barrier_t epoch;
	unsigned long epochs;
	bool failed;

	/* Per epoch: sends by vector (senders own disjoint ranges). */
	unsigned int sent[256];
	/* Per epoch: injections by vector (the vCPU thread's). */
	unsigned int injected[256];
	unsigned long total_sent, total_injected, total_windows;
};

struct dworker {
	struct dstress *s;
	unsigned int idx;
};

static void set_failed(struct dstress *s)
{
	__atomic_store_n(&s->failed, true, __ATOMIC_RELAXED);
}

static bool dstopped(struct dstress *s)
{
	return __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE);
}

/* Burst done: park until the checker releases the next epoch. */
static bool dnext_epoch(struct dstress *s)
{
	__atomic_add_fetch(&s->parked, 1, __ATOMIC_RELEASE);
	pthread_barrier_wait(&s->epoch);
	pthread_barrier_wait(&s->epoch);
	return !dstopped(s);
}

static void *sender_thread(void *arg)
{
	struct dworker *w = arg;
	struct dstress *s = w->s;
	unsigned int seed = s->seed * 7 + w->idx;

	do {
		unsigned int n = rand_r(&seed) % 8;

		while (n--) {
			int vec = FIRST_VECTOR + w->idx * VECS_PER_SENDER +
				  rand_r(&seed) % VECS_PER_SENDER;
			struct kvm_msi msi = {
				.address_lo = 0xfee00000,	/* physical, ID 0 */
				.data = vec,			/* fixed, edge */
			};

			s->sent[vec]++;
			if (lapicv_signal_msi(s->vm, &msi) != 1)
				set_failed(s);
		}
	} while (dnext_epoch(s));
	return NULL;
}

static void *flipper_thread(void *arg)
{
	struct dstress *s = arg;
	unsigned int seed = s->seed * 13;

	do {
		if (rand_r(&seed) % 2)
			lapicv_set_or_clear_inhibit(s->vm, s->flip_reason,
						    rand_r(&seed) % 2);
	} while (dnext_epoch(s));
	return NULL;
}

/* One run step; returns the exit and counts an injected vector. */
static u32 step(struct dstress *s, bool interruptible)
{
	struct lapicv_vcpu *v = s->vcpu;
	struct lapicv_run run = { .rflags_if = interruptible };

	mutex_lock(&v->mutex);
	if (lapicv_vcpu_run(v, &run))
		set_failed(s);
	if (run.exit_reason == LAPICV_RUN_INTR ||
	    run.exit_reason == LAPICV_RUN_VIRTUAL_INTR) {
		s->injected[run.vector & 0xff]++;
		s->total_injected++;
		/* The guest's handler ends with an EOI. */
		lapicv_apic_reg_write(v->apic, APIC_EOI, 0);
	} else if (run.exit_reason == LAPICV_RUN_IRQ_WINDOW) {
		s->total_windows++;
	}
	mutex_unlock(&v->mutex);
	return run.exit_reason;
}

static void drain(struct dstress *s)
{
	unsigned int guard = 0;

	for (;;) {
		struct lapicv_run run = { .rflags_if = 1 };
		struct lapicv_vcpu *v = s->vcpu;

		if (step(s, true) != LAPICV_RUN_NONE)
			continue;
		/* NONE: confirm nothing is pending any more. */
		mutex_lock(&v->mutex);
		lapicv_vcpu_run(v, &run);
		mutex_unlock(&v->mutex);
		if (run.exit_reason == LAPICV_RUN_NONE &&
		    !(run.pending & LAPICV_RUN_PENDING_APIC))
			return;
		if (run.exit_reason == LAPICV_RUN_INTR ||
		    run.exit_reason == LAPICV_RUN_VIRTUAL_INTR) {
			s->injected[run.vector & 0xff]++;
			s->total_injected++;
			mutex_lock(&v->mutex);
			lapicv_apic_reg_write(v->apic, APIC_EOI, 0);
			mutex_unlock(&v->mutex);
		}
		if (++guard > 100000) {
			set_failed(s);
			return;
		}
	}
}

static void *vcpu_thread(void *arg)
{
	struct dstress *s = arg;
	unsigned int seed = s->seed * 3 + 1;

	do {
		/* Run while the senders send; a third of the steps blocked. */
		while (__atomic_load_n(&s->parked, __ATOMIC_ACQUIRE) <
		       NR_SENDERS + 1)
			step(s, rand_r(&seed) % 3);
		drain(s);
		pthread_barrier_wait(&s->epoch);
		pthread_barrier_wait(&s->epoch);
	} while (!dstopped(s));
	return NULL;
}

static bool check_epoch(struct dstress *s)
{
	struct lapicv_lapic *apic = s->vcpu->apic;
	unsigned int v;

	ASSERT_FALSE(__atomic_load_n(&s->failed, __ATOMIC_RELAXED));
	for (v = 0; v < 256; v++) {
		if (s->sent[v]) {
			ASSERT_GE(s->injected[v], 1);
			ASSERT_LE(s->injected[v], s->sent[v]);
		} else {
			ASSERT_EQ(s->injected[v], 0);
		}
		s->total_sent += s->sent[v];
		s->sent[v] = 0;
		s->injected[v] = 0;
	}
	mutex_lock(&s->vcpu->mutex);
	ASSERT_EQ(inv_highest(apic->regs + APIC_IRR), -1);
	ASSERT_EQ(inv_highest(apic->regs + APIC_ISR), -1);
	ASSERT_TRUE(inv_lapic(apic));
	ASSERT_FALSE(s->vcpu->irq_window);
	mutex_unlock(&s->vcpu->mutex);
	ASSERT_TRUE(inv_inhibits(s->vm, 0));
	return true;
}

static double dnow(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Two vCPUs on backend b, software-enabled, APICv state adopted. */
static struct lapicv_vm *vm_for_stress(const struct lapicv_backend *b)
{
	struct lapicv_vm *vm = unit_apic_vm_create(2, b, LAPICV_IRQWIN_COUNTER);
	unsigned int i;

	for (i = 0; i < 2; i++) {
		struct lapicv_vcpu *v = lapicv_get_vcpu(vm, i);
		struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
		struct lapicv_run run = { .rflags_if = 1 };

		mutex_lock(&v->mutex);
		lapicv_apic_reg_write(v->apic, APIC_SPIV, 0x1ff);
		/* The AP runs once started: UNINITIALIZED would sleep. */
		lapicv_set_mp_state(v, &mp);
		lapicv_vcpu_run(v, &run);
		mutex_unlock(&v->mutex);
	}
	return vm;
}

static bool run_dstress(const struct lapicv_backend *b,
			enum lapicv_inhibit_reason flip, double seconds)
{
	struct dstress *s = calloc(1, sizeof(*s));
	pthread_t st[NR_SENDERS], ft, vt;
	struct dworker w[NR_SENDERS];
	double end = dnow() + seconds;
	const char *e = getenv("STRESS_SEED");
	unsigned int i;
	bool ok;

	s->seed = e ? strtoul(e, NULL, 0) : (unsigned int)time(NULL);
	s->flip_reason = flip;
	s->vm = vm_for_stress(b);
	s->vcpu = lapicv_get_vcpu(s->vm, 0);
	pthread_barrier_init(&s->epoch, NULL, NR_SENDERS + 3);

	pthread_create(&vt, NULL, vcpu_thread, s);
	pthread_create(&ft, NULL, flipper_thread, s);
	for (i = 0; i < NR_SENDERS; i++) {
		w[i] = (struct dworker){ .s = s, .idx = i };
		pthread_create(&st[i], NULL, sender_thread, &w[i]);
	}
	for (;;) {
		pthread_barrier_wait(&s->epoch);
		s->epochs++;
		__atomic_store_n(&s->parked, 0, __ATOMIC_RELAXED);
		if (!check_epoch(s))
			set_failed(s);
		if (__atomic_load_n(&s->failed, __ATOMIC_RELAXED) || dnow() >= end)
			__atomic_store_n(&s->stop, true, __ATOMIC_RELEASE);
		pthread_barrier_wait(&s->epoch);
		if (dstopped(s))
			break;
	}
	pthread_join(vt, NULL);
	pthread_join(ft, NULL);
	for (i = 0; i < NR_SENDERS; i++)
		pthread_join(st[i], NULL);
	pthread_barrier_destroy(&s->epoch);

	printf("%s: seed %u, %.1f s, %lu epochs: %lu sent, %lu injected, %lu IRQ-window exits\n",
	       b->name, s->seed, seconds, s->epochs, s->total_sent,
	       s->total_injected, s->total_windows);
	ok = !__atomic_load_n(&s->failed, __ATOMIC_RELAXED);
	if (!ok)
		printf("broken in epoch %lu (replay: STRESS_SEED=%u)\n",
		       s->epochs, s->seed);
	unit_apic_vm_destroy(s->vm);
	free(s);
	return ok;
}

static double dseconds(void)
{
	const char *e = getenv("STRESS_SECONDS");
	double t = e ? atof(e) : 3.0;

	return (t > 0 ? t : 3.0) / 3;
}

static bool test_deliver_soft(void)
{
	return run_dstress(&lapicv_soft_backend, LAPICV_INHIBIT_NESTED, dseconds());
}

static bool test_deliver_vmx_posted(void)
{
	return run_dstress(&lapicv_vmx_backend, LAPICV_INHIBIT_BLOCKIRQ, dseconds());
}

static bool test_deliver_svm_avic(void)
{
	return run_dstress(&lapicv_svm_backend, LAPICV_INHIBIT_PIT_REINJ, dseconds());
}

static const struct unit_case cases[] = {
	UNIT_CASE(test_deliver_soft),
	UNIT_CASE(test_deliver_vmx_posted),
	UNIT_CASE(test_deliver_svm_avic),
};

int main(int argc, char **argv)
{
	return unit_run("stress_deliver", cases, ARRAY_SIZE(cases), argc, argv);
}
