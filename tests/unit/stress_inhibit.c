// SPDX-License-Identifier: GPL-2.0-only
/*
 * A concurrent stress of inhibit.c, built for ThreadSanitizer (make
 * unit-tsan) and run for a bounded time (STRESS_SECONDS, default 3; the
 * seed is printed and can be replayed with STRESS_SEED).
 *
 * Threads, all on one VM:
 *  - "flippers", each owning one VMM-settable reason, set and clear it at
 *    random (lapicv_set_or_clear_inhibit());
 *  - "vCPUs", each owning one vCPU, open and close IRQ windows at random
 *    through their own idempotence flag (as apicv.c's irq_window, and
 *    svm->avic_irq_window in the seed patch's svm_clear_vintr()), and
 *    handle LAPICV_REQ_APICV_UPDATE as apicv.c's run step does: re-read
 *    the reasons under update_lock for read;
 *  - an observer taking snapshots (lapicv_inhibits_read()).
 * ThreadSanitizer checks every access on the way, and the build's chaos
 * points (SHIM_CHAOS: random yields after shared accesses) widen the race
 * windows; removing inhibit.c's read lock around the count makes this
 * test fail within a second.  The run is cut into
 * short epochs: each worker does a burst of a few operations, then all
 * meet at a barrier and the main thread checks the invariants below on
 * the quiescent VM, so the races that matter (the last operations of a
 * burst) are judged thousands of times per run, not once at the end.
 *
 * The invariant under the counter policy, derived from the seed patch
 * (001: "set/clear the IRQWIN inhibit according to the counter when *any*
 * inhibit changes, and then force an immediate update if and only if the
 * count hits a 0<=>1 transition *and* there is no other inhibit"):
 *
 *   Let c be the window count at quiescence, O the final reasons other than IRQWIN
 *   and W the final IRQWIN bit.  Every write of the reasons recomputes W
 *   from c, read under the write lock, while c only changes under the read
 *   lock, so each write sees an exact c.  Consider the last 0<->1 crossing
 *   of c.  If it saw O empty, it performs a write after the crossing, and
 *   so does every later write: W == (c > 0).  If it saw O non-empty, W may
 *   be stale, but only until the next write of any reason; and O cannot
 *   become empty without such a write.  Hence, once quiescent:
 *
 *     (1) O == 0  implies  W == (c > 0);
 *     (2) after one more write of any reason (even one that changes
 *         nothing), W == (c > 0) unconditionally;
 *     (3) c == the number of vCPUs whose flag is set (no lost update);
 *     (4) O == exactly the reasons the flippers left set;
 *     (5) every vCPU that has handled its requests sees APICv active iff
 *         the reasons are empty (requests are made before the new mask is
 *         published, so no vCPU refreshes against a stale one), and each
 *         vCPU was kicked exactly once per activation toggle;
 *     (6) the write lock was taken at least once per reason change and at
 *         most once per call plus once per 0<->1 crossing (the counter's
 *         whole point); a call that would change nothing, IRQWIN
 *         included, takes no lock.
 *
 * Under the legacy policy (3), (4) and (5) hold too, and the write lock is
 * taken exactly once per reason change and once per window change.
 */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "../../inhibit.c"

#include "test.h"

#define NR_VCPUS	4
#define NR_FLIPPERS	3

static const enum lapicv_inhibit_reason flip_reasons[NR_FLIPPERS] = {
	LAPICV_INHIBIT_PIT_REINJ, LAPICV_INHIBIT_NESTED, LAPICV_INHIBIT_BLOCKIRQ,
};

struct stress {
	struct lapicv_vm *vm;
	enum lapicv_irqwin_policy policy;
	unsigned int seed;
	double seconds;
	bool stop;
	pthread_barrier_t epoch;
	unsigned long epochs;
	/* Writes the checker itself made, and where the count started. */
	unsigned long checker_writes;
	u64 base_writes;
	/* The first failed check ends the run; its line is kept. */
	bool failed;

	/* Per flipper: its reason's final state and how often it flipped. */
	bool flip_set[NR_FLIPPERS];
	unsigned long flips[NR_FLIPPERS];
	/* Flips that changed their reason: only these surely take the lock. */
	unsigned long changes[NR_FLIPPERS];

	/* Per vCPU: the idempotence flag, its view of APICv, window ops. */
	bool window[NR_VCPUS];
	bool apicv_active[NR_VCPUS];
	unsigned long window_ops[NR_VCPUS];
	unsigned long refreshes[NR_VCPUS];

	unsigned long snapshots;
	unsigned long observer_errors;
};

struct worker {
	struct stress *s;
	unsigned int idx;
};

static bool stopped(struct stress *s)
{
	return __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE);
}

/* End of a burst: park while the checker looks; false when the run ends. */
static bool next_epoch(struct stress *s)
{
	pthread_barrier_wait(&s->epoch);
	pthread_barrier_wait(&s->epoch);
	return !stopped(s);
}

/* The APICv refresh of apicv.c's run step: under update_lock for read. */
static void vcpu_refresh(struct stress *s, unsigned int i)
{
	struct lapicv_inhibits *inh = &s->vm->inhibits;

	down_read(&inh->update_lock);
	s->apicv_active[i] = !inh->reasons;
	up_read(&inh->update_lock);
	s->refreshes[i]++;
}

static void *vcpu_thread(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	unsigned int seed = s->seed * 31 + w->idx;
	struct lapicv_vcpu *vcpu = lapicv_get_vcpu(s->vm, w->idx);

	do {
		unsigned int n = rand_r(&seed) % 8;

		while (n--) {
			if (lapicv_check_request(vcpu, LAPICV_REQ_APICV_UPDATE))
				vcpu_refresh(s, w->idx);
			if (rand_r(&seed) % 2) {
				/* svm_set_vintr() / svm_clear_vintr(), flag. */
				bool open = !s->window[w->idx];

				s->window[w->idx] = open;
				lapicv_irq_window_inc_or_dec(s->vm, open);
				s->window_ops[w->idx]++;
			}
		}
	} while (next_epoch(s));
	return NULL;
}

static void *flipper_thread(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	unsigned int seed = s->seed * 17 + 100 + w->idx;

	do {
		unsigned int n = rand_r(&seed) % 3;

		while (n--) {
			bool set = rand_r(&seed) % 2;
			unsigned int spin = rand_r(&seed) % 256;

			/* Leave the lock alone a while: windows race flips. */
			while (spin--)
				cpu_relax();
			lapicv_set_or_clear_inhibit(s->vm, flip_reasons[w->idx], set);
			if (s->flip_set[w->idx] != set)
				s->changes[w->idx]++;
			s->flip_set[w->idx] = set;
			s->flips[w->idx]++;
		}
	} while (next_epoch(s));
	return NULL;
}

/* Snapshots must always be self-consistent. */
static void *observer_thread(void *arg)
{
	struct stress *s = arg;
	struct lapicv_inhibit_state st;
	struct lapicv_vm_stats vs;
	char names[256];

	while (!stopped(s)) {
		lapicv_inhibits_read(s->vm, &st, &vs);
		inhibit_names_of(st.reasons, names, sizeof(names));
		if (strcmp(names, st.names) || (int)st.irq_window < 0 ||
		    (int)st.irq_window > NR_VCPUS ||
		    (st.reasons & BIT(LAPICV_INHIBIT_ABSENT)) ||
		    vs.apicv_toggles > vs.inhibit_changes)
			__atomic_add_fetch(&s->observer_errors, 1, __ATOMIC_RELAXED);
		s->snapshots++;
		(void)lapicv_apicv_activated(s->vm);
	}
	return NULL;
}

static bool check_epoch(struct stress *s);

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run_threads(struct stress *s)
{
	pthread_t vt[NR_VCPUS], ft[NR_FLIPPERS], ot;
	struct worker vw[NR_VCPUS], fw[NR_FLIPPERS];
	double end = now_seconds() + s->seconds;
	unsigned int i;

	pthread_barrier_init(&s->epoch, NULL, NR_VCPUS + NR_FLIPPERS + 1);
	for (i = 0; i < NR_VCPUS; i++) {
		vw[i] = (struct worker){ .s = s, .idx = i };
		pthread_create(&vt[i], NULL, vcpu_thread, &vw[i]);
	}
	for (i = 0; i < NR_FLIPPERS; i++) {
		fw[i] = (struct worker){ .s = s, .idx = i };
		pthread_create(&ft[i], NULL, flipper_thread, &fw[i]);
	}
	pthread_create(&ot, NULL, observer_thread, s);

	for (;;) {
		pthread_barrier_wait(&s->epoch);
		s->epochs++;
		if (!check_epoch(s))
			s->failed = true;
		if (s->failed || now_seconds() >= end)
			__atomic_store_n(&s->stop, true, __ATOMIC_RELEASE);
		pthread_barrier_wait(&s->epoch);
		if (stopped(s))
			break;
	}

	for (i = 0; i < NR_VCPUS; i++)
		pthread_join(vt[i], NULL);
	for (i = 0; i < NR_FLIPPERS; i++)
		pthread_join(ft[i], NULL);
	pthread_join(ot, NULL);
	pthread_barrier_destroy(&s->epoch);
}

static double stress_seconds(void)
{
	const char *e = getenv("STRESS_SECONDS");
	double t = e ? atof(e) : 3.0;

	return t > 0 ? t : 3.0;
}

static unsigned int stress_seed(void)
{
	const char *e = getenv("STRESS_SEED");

	return e ? (unsigned int)strtoul(e, NULL, 0) : (unsigned int)time(NULL);
}

static unsigned long sum(const unsigned long *v, unsigned int n)
{
	unsigned long t = 0;

	while (n--)
		t += v[n];
	return t;
}

/* (5): drain each vCPU's requests, then compare its view and its kicks. */
static bool vcpus_agree(struct stress *s)
{
	struct lapicv_vm_stats vs;
	bool active = lapicv_apicv_activated(s->vm);
	unsigned int i;

	lapicv_inhibits_read(s->vm, NULL, &vs);
	for (i = 0; i < NR_VCPUS; i++) {
		struct lapicv_vcpu *vcpu = lapicv_get_vcpu(s->vm, i);

		if (lapicv_check_request(vcpu, LAPICV_REQ_APICV_UPDATE))
			vcpu_refresh(s, i);
		ASSERT_EQ(s->apicv_active[i], active);
		ASSERT_EQ(shim_wq_wakeups(&vcpu->wq), vs.apicv_toggles);
	}
	return true;
}

/* The invariants of the header comment, on a quiescent VM. */
static bool check_epoch(struct stress *s)
{
	unsigned long other = 0, count = 0, flips, changes, wops;
	struct lapicv_inhibit_state st;
	struct lapicv_vm_stats vs;
	unsigned int i;

	for (i = 0; i < NR_FLIPPERS; i++)
		if (s->flip_set[i])
			other |= BIT(flip_reasons[i]);
	for (i = 0; i < NR_VCPUS; i++)
		count += s->window[i];
	flips = sum(s->flips, NR_FLIPPERS) + s->checker_writes;
	changes = sum(s->changes, NR_FLIPPERS);
	wops = sum(s->window_ops, NR_VCPUS);

	lapicv_inhibits_read(s->vm, &st, &vs);
	ASSERT_EQ(__atomic_load_n(&s->observer_errors, __ATOMIC_RELAXED), 0);
	/* (3) no lost update of the count; (4) the other reasons. */
	ASSERT_EQ(st.irq_window, count);
	ASSERT_EQ(st.reasons & ~BIT(LAPICV_INHIBIT_IRQWIN), other);
	/* (5) */
	ASSERT_TRUE(vcpus_agree(s));

	if (s->policy == LAPICV_IRQWIN_LEGACY) {
		/*
		 * Every reason change and every window change wrote; a call
		 * that changes nothing takes no lock.
		 */
		ASSERT_EQ(vs.update_lock_writes, s->base_writes + changes + wops);
		return true;
	}
	/* (1) */
	if (!other)
		ASSERT_EQ(!!(st.reasons & BIT(LAPICV_INHIBIT_IRQWIN)), count > 0);
	/* (6) */
	ASSERT_GE(vs.update_lock_writes, s->base_writes + changes);
	ASSERT_LE(vs.update_lock_writes,
		  s->base_writes + flips + vs.irqwin_transitions);
	ASSERT_LE(vs.irqwin_transitions, wops);
	/*
	 * (2), every other epoch (so that stale IRQWIN states also carry
	 * into the next burst): a write changing no other reason catches
	 * IRQWIN up.
	 */
	if (s->epochs % 2) {
		lapicv_set_or_clear_inhibit(s->vm, flip_reasons[0], s->flip_set[0]);
		s->checker_writes++;
		lapicv_inhibits_read(s->vm, &st, NULL);
		ASSERT_EQ(!!(st.reasons & BIT(LAPICV_INHIBIT_IRQWIN)), count > 0);
		ASSERT_EQ(st.reasons & ~BIT(LAPICV_INHIBIT_IRQWIN), other);
		ASSERT_TRUE(vcpus_agree(s));
	}
	return true;
}

static bool run_stress(enum lapicv_irqwin_policy policy, double seconds)
{
	struct stress *s = calloc(1, sizeof(*s));
	struct lapicv_vm_stats vs;
	unsigned int i;
	bool ok = false;

	s->seed = stress_seed();
	s->seconds = seconds;
	s->policy = policy;
	s->vm = unit_vm_create(NR_VCPUS, true, UNIT_ALL_INHIBITS, policy);
	lapicv_set_or_clear_inhibit(s->vm, LAPICV_INHIBIT_ABSENT, false);
	for (i = 0; i < NR_VCPUS; i++) {
		lapicv_check_request(lapicv_get_vcpu(s->vm, i),
				     LAPICV_REQ_APICV_UPDATE);
		vcpu_refresh(s, i);
	}
	lapicv_inhibits_read(s->vm, NULL, &vs);
	s->base_writes = vs.update_lock_writes;

	run_threads(s);

	lapicv_inhibits_read(s->vm, NULL, &vs);
	printf("%s: seed %u, %.1f s, %lu epochs: %lu flips, %lu window ops, ",
	       policy == LAPICV_IRQWIN_COUNTER ? "counter" : "legacy",
	       s->seed, seconds, s->epochs, sum(s->flips, NR_FLIPPERS),
	       sum(s->window_ops, NR_VCPUS));
	printf("%lu refreshes, %lu snapshots; writes %llu, toggles %llu, crossings %llu\n",
	       sum(s->refreshes, NR_VCPUS),
	       s->snapshots, (unsigned long long)vs.update_lock_writes,
	       (unsigned long long)vs.apicv_toggles,
	       (unsigned long long)vs.irqwin_transitions);
	if (s->failed) {
		printf("invariant broken in epoch %lu (replay: STRESS_SEED=%u)\n",
		       s->epochs, s->seed);
		return false;
	}

	/* Wind down: close every window, clear every reason; APICv is back. */
	for (i = 0; i < NR_VCPUS; i++)
		if (s->window[i])
			lapicv_irq_window_inc_or_dec(s->vm, false);
	for (i = 0; i < NR_FLIPPERS; i++)
		lapicv_set_or_clear_inhibit(s->vm, flip_reasons[i], false);
	if (policy == LAPICV_IRQWIN_LEGACY)
		lapicv_set_or_clear_inhibit(s->vm, LAPICV_INHIBIT_IRQWIN, false);
	ASSERT_EQ(READ_ONCE(s->vm->inhibits.reasons), 0);
	ASSERT_EQ(atomic_read(&s->vm->inhibits.irq_window), 0);
	ASSERT_TRUE(vcpus_agree(s));
	ok = true;

	unit_vm_destroy(s->vm);
	free(s);
	return ok;
}

static bool test_stress_counter_policy(void)
{
	return run_stress(LAPICV_IRQWIN_COUNTER, stress_seconds() * 2 / 3);
}

static bool test_stress_legacy_policy(void)
{
	return run_stress(LAPICV_IRQWIN_LEGACY, stress_seconds() / 3);
}

static const struct unit_case cases[] = {
	UNIT_CASE(test_stress_counter_policy),
	UNIT_CASE(test_stress_legacy_policy),
};

int main(int argc, char **argv)
{
	return unit_run("stress_inhibit", cases, ARRAY_SIZE(cases), argc, argv);
}
