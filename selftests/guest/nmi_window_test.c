// SPDX-License-Identifier: GPL-2.0-only
/*
 * An NMI the guest cannot take at once goes in as soon as it can, on
 * whatever /dev/kvm is (kvm_amd, or lapicv's runner), with the same
 * expectations.  kvm_amd without vNMI has no NMI window in the CPU; it
 * single-steps the guest over what holds the NMI back, or exits right
 * after the event in its way (svm_enable_nmi_window(), and the -EBUSY of
 * kvm_check_and_inject_events()).  A hypervisor that left the NMI for the
 * guest's next exit instead gets it in wherever that exit happens to be.
 *
 *  shadow    The VMM sets an STI interrupt shadow and a pending NMI with
 *            KVM_SET_VCPU_EVENTS while the guest stands before two NOPs
 *            (its OUT completed by a KVM_RUN with immediate_exit).  The
 *            NMI must interrupt the guest right after the first NOP.
 *  reinject  The VMM restores an injected interrupt (interrupt.injected)
 *            and a pending NMI: the interrupt is delivered first, and
 *            the NMI before the interrupt handler's body runs.  (The
 *            handler ran once before, by INT, so that its code and stack
 *            are mapped and their first use makes no exit.)
 *  bursts    vCPU 0 sends bursts of BURST_NMIS NMI IPIs to vCPUs that
 *            spin in guest mode and waits for each burst's receiver to
 *            count one more NMI than there were bursts before.  NMIs that
 *            meet one pending may merge (KVM keeps at most two), so every
 *            burst gets at least one NMI in, and no more than were sent.
 *            vCPU 1 spins with "sti; pause; cli" (ipi_modes_test's
 *            receivers): QEMU's SVM leaves STI's shadow set past PAUSE,
 *            so nearly all of its exits report a shadow.  vCPU 2 spins
 *            with IF=0.  A lost NMI would leave the sender waiting for
 *            ever: the host says where it stopped after a minute instead
 *            of hanging (a hang report, not a timing expectation).
 */
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "apic.h"

#include "guest_util.h"

#define STOP_PORT	0x77
#define INTR_VECTOR	0x40

#define NR_VCPUS	3
#define NR_BURSTS	100
#define BURST_NMIS	3

/* Written by the guest. */
static uint32_t nmis[NR_VCPUS];
static uint64_t nmi_rip;
static uint32_t intrs;
static uint32_t nmis_seen_by_intr;

static void nmi_handler(struct ex_regs *regs)
{
	if (!READ_ONCE(nmis[0]))
		WRITE_ONCE(nmi_rip, regs->rip);
	WRITE_ONCE(nmis[0], READ_ONCE(nmis[0]) + 1);
}

/* Stop at STOP_PORT; @after gets the address right after the first NOP. */
#define STOP_BEFORE_NOPS(after)						\
	asm volatile("lea 1f(%%rip), %0\n\t"				\
		     "outb %%al, %1\n\t"				\
		     "nop\n"						\
		     "1:\tnop\n\t"					\
		     : "=&r"(after) : "i"(STOP_PORT), "a"(0) : "memory")

static void shadow_guest(void)
{
	uint64_t after;

	STOP_BEFORE_NOPS(after);
	while (!READ_ONCE(nmis[0]))
		cpu_relax();
	GUEST_ASSERT_EQ(READ_ONCE(nmi_rip), after);
	GUEST_ASSERT_EQ(READ_ONCE(nmis[0]), 1);
	GUEST_DONE();
}

static void intr_handler(struct ex_regs *regs)
{
	WRITE_ONCE(intrs, READ_ONCE(intrs) + 1);
	/* INT's run comes before the NMI; the restored ones after it. */
	if (READ_ONCE(nmis[0]))
		WRITE_ONCE(nmis_seen_by_intr, READ_ONCE(nmis_seen_by_intr) + 1);
}

static void reinject_guest(void)
{
	uint64_t after;

	asm volatile("int %0" :: "i"(INTR_VECTOR) : "memory");
	GUEST_ASSERT_EQ(READ_ONCE(intrs), 1);
	STOP_BEFORE_NOPS(after);
	(void)after;
	while (!READ_ONCE(nmis[0]) || READ_ONCE(intrs) < 2)
		cpu_relax();
	/*
	 * QEMU's SVM may deliver an interrupt that is followed by an exit
	 * twice (guest_util.h): every restored delivery must come after
	 * the NMI.
	 */
	GUEST_ASSERT_EQ(READ_ONCE(nmis_seen_by_intr), READ_ONCE(intrs) - 1);
	GUEST_ASSERT_EQ(READ_ONCE(nmis[0]), 1);
	GUEST_DONE();
}

/*
 * A one-vCPU VM running @guest to its OUT to STOP_PORT; the OUT completed
 * without entering again (immediate_exit), @set's fields restored on top
 * of the state, and the guest run to its end.  Returns the guest's count
 * of interrupt deliveries.
 */
static uint32_t run_case(void *guest, const struct kvm_vcpu_events *set)
{
	struct kvm_vcpu_events ev;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	int r;

	vm = vm_create_with_one_vcpu(&vcpu, guest);
	vm_install_exception_handler(vm, NMI_VECTOR, nmi_handler);
	vm_install_exception_handler(vm, INTR_VECTOR, intr_handler);

	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	if (vcpu->run->io.port != STOP_PORT &&
	    get_ucall(vcpu, &uc) == UCALL_ABORT)
		REPORT_GUEST_ASSERT(uc);
	TEST_ASSERT_EQ(vcpu->run->io.port, STOP_PORT);

	vcpu->run->immediate_exit = 1;
	r = __vcpu_run(vcpu);
	TEST_ASSERT(r == -1 && errno == EINTR,
		    "KVM_RUN with immediate_exit: %d, errno %d", r, errno);
	vcpu->run->immediate_exit = 0;

	vcpu_events_get(vcpu, &ev);
	TEST_ASSERT(!ev.nmi.pending && !ev.nmi.masked && !ev.nmi.injected &&
		    !ev.interrupt.injected && !ev.interrupt.shadow,
		    "events before the test: nmi %u/%u/%u, interrupt %u, shadow %u",
		    ev.nmi.pending, ev.nmi.masked, ev.nmi.injected,
		    ev.interrupt.injected, ev.interrupt.shadow);
	ev.flags = set->flags;
	ev.interrupt = set->interrupt;
	ev.nmi = set->nmi;
	vcpu_events_set(vcpu, &ev);

	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_DONE);
	sync_global_from_guest(vm, intrs);
	kvm_vm_free(vm);
	return intrs;
}

static void test_shadow(void)
{
	struct kvm_vcpu_events set = {
		.flags = KVM_VCPUEVENT_VALID_SHADOW |
			 KVM_VCPUEVENT_VALID_NMI_PENDING,
		.interrupt.shadow = KVM_X86_SHADOW_INT_STI,
		.nmi.pending = 1,
	};

	run_case(shadow_guest, &set);
	pr_info("shadow: the NMI came right after the shadowed instruction\n");
}

static void test_reinject(void)
{
	struct kvm_vcpu_events set = {
		.flags = KVM_VCPUEVENT_VALID_NMI_PENDING,
		.interrupt.injected = 1,
		.interrupt.nr = INTR_VECTOR,
		.nmi.pending = 1,
	};
	uint32_t n = run_case(reinject_guest, &set);

	pr_info("reinject: the NMI came before the restored interrupt's handler (%u deliveries)\n",
		n - 1);
}

/* ---- bursts ---- */

static uint32_t ready[NR_VCPUS];
static uint32_t cur_burst[NR_VCPUS];

static void burst_nmi_handler(struct ex_regs *regs)
{
	uint32_t id = x2apic_read_reg(APIC_ID);

	WRITE_ONCE(nmis[id], READ_ONCE(nmis[id]) + 1);
}

static void sender(void)
{
	uint32_t b, i, r;

	x2apic_enable();
	for (r = 1; r < NR_VCPUS; r++)
		while (!READ_ONCE(ready[r]))
			cpu_relax();

	for (b = 0; b < NR_BURSTS; b++) {
		for (r = 1; r < NR_VCPUS; r++) {
			WRITE_ONCE(cur_burst[r], b + 1);
			for (i = 0; i < BURST_NMIS; i++)
				x2apic_write_reg(APIC_ICR,
						 ((uint64_t)r << 32) | APIC_DM_NMI);
			while (READ_ONCE(nmis[r]) < b + 1)
				cpu_relax();
		}
	}
	GUEST_DONE();
}

static void receiver(uint32_t id)
{
	x2apic_enable();
	WRITE_ONCE(ready[id], 1);
	for (;;) {
		if (id == 1)
			asm volatile("sti; pause; cli" ::: "memory");
		else
			asm volatile("pause" ::: "memory");
	}
}

static void burst_guest(uint32_t id)
{
	if (id)
		receiver(id);
	else
		sender();
}

static void *sender_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct ucall uc;

	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_DONE);
	return NULL;
}

/* The receivers run until the sender is done, then get a signal. */
static void *receiver_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct ucall uc;

	for (;;) {
		if (__vcpu_run(vcpu) && errno == EINTR)
			return NULL;
		TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
		if (get_ucall(vcpu, &uc) == UCALL_ABORT)
			REPORT_GUEST_ASSERT(uc);
		TEST_FAIL("receiver %u: unexpected exit", vcpu->id);
	}
}

static void sig_ignore(int sig)
{
}

static void test_bursts(void)
{
	struct kvm_vcpu *vcpus[NR_VCPUS];
	pthread_t thr[NR_VCPUS];
	struct timespec deadline;
	struct kvm_vm *vm;
	uint32_t i;

	memset(nmis, 0, sizeof(nmis));
	signal(SIGUSR1, sig_ignore);
	vm = vm_create_with_vcpus(NR_VCPUS, burst_guest, vcpus);
	vm_install_exception_handler(vm, NMI_VECTOR, burst_nmi_handler);
	for (i = 0; i < NR_VCPUS; i++) {
		vcpu_args_set(vcpus[i], 1, i);
		TEST_ASSERT_EQ(pthread_create(&thr[i], NULL,
					      i ? receiver_thread : sender_thread,
					      vcpus[i]), 0);
	}

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 60;
	if (pthread_timedjoin_np(thr[0], NULL, &deadline)) {
		sync_global_from_guest(vm, cur_burst);
		sync_global_from_guest(vm, nmis);
		TEST_FAIL("sender still waiting after 60 s: burst %u of %u to vCPU 1 (%u NMIs taken), burst %u to vCPU 2 (%u NMIs taken)",
			  cur_burst[1], NR_BURSTS, nmis[1], cur_burst[2],
			  nmis[2]);
	}
	for (i = 1; i < NR_VCPUS; i++) {
		pthread_kill(thr[i], SIGUSR1);
		pthread_join(thr[i], NULL);
	}

	sync_global_from_guest(vm, nmis);
	TEST_ASSERT_EQ(nmis[0], 0);
	for (i = 1; i < NR_VCPUS; i++)
		TEST_ASSERT(nmis[i] >= NR_BURSTS &&
			    nmis[i] <= NR_BURSTS * BURST_NMIS,
			    "vCPU %u took %u NMIs for %u bursts of %u",
			    i, nmis[i], NR_BURSTS, BURST_NMIS);
	kvm_vm_free(vm);
	pr_info("bursts: %u and %u NMIs for %u bursts of %u\n", nmis[1],
		nmis[2], NR_BURSTS, BURST_NMIS);
}

int main(void)
{
	test_shadow();
	test_reinject();
	test_bursts();
	return 0;
}
