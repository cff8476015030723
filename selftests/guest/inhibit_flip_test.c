// SPDX-License-Identifier: GPL-2.0-only
/*
 * An APICv inhibit flipping while real guests take interrupts: lapicv only
 * (LAPICV_SET_INHIBIT, LAPICV_GET_INHIBITS and the stats ioctls of
 * <linux/lapicv.h>); on kvm_amd the test reports a skip with the reason.
 *
 * Two vCPUs in x2APIC mode each take a stream of LAPIC timer interrupts
 * (one-shot, re-armed from the handler's count, NR_TIMERS of them) while a
 * host thread sends each vCPU NR_MSIS MSIs, one at a time (the next once
 * the guest has counted the last, so none can merge in IRR), and another
 * host thread sets and clears a VMM inhibit reason (PIT_REINJ) as fast as
 * it can until both streams are done.  Then one more MSI per vCPU ends its
 * wait.  Counted exactly at the end, so nothing was lost or taken twice:
 *
 *  - each guest took NR_TIMERS timer and NR_MSIS + 1 MSI interrupts (the
 *    guest checks each timer interrupt comes alone as it goes);
 *  - each vCPU's intr_injections (IRR -> ISR acknowledges) is that sum,
 *    and its IRR and ISR are empty;
 *  - the inhibit state is the one before the flipping (the reason ended
 *    cleared), no vCPU waits for an IRQ window (irq_window 0, no IRQWIN
 *    reason), the IRQ-window count went 0->1 as often as 1->0;
 *  - inhibit_changes grew by two per flip if the backend honours the
 *    reason with APICv enabled, else not at all; apicv_toggles likewise
 *    when no other reason was set; every vCPU's activations and
 *    deactivations pair up.
 *
 * Under KVM_RUN lapicv runs the soft backend only (the models refuse
 * KVM_RUN), where APICv is off and a VMM reason is accepted but changes
 * nothing: the test then shows that the flipping ioctls racing with the
 * runner leave delivery exact and the state unchanged.
 */
#include <pthread.h>
#include <time.h>
#include <linux/lapicv.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "apic.h"

#include "guest_util.h"

#define NR_VCPUS	2
#define NR_TIMERS	200
#define NR_MSIS		200
#define TIMER_VECTOR	0xec
#define MSI_VECTOR	0x40
#define FLIP_REASON	LAPICV_INHIBIT_PIT_REINJ

/* Written by the guest. */
static uint32_t timers[NR_VCPUS];
static uint32_t msis[NR_VCPUS];
static uint32_t ready[NR_VCPUS];	/* APIC enabled: MSIs may come */
/* Written by the host: no more MSIs are coming. */
static uint32_t host_done;

/* QEMU's second deliveries of one injected interrupt (guest_util.h). */
static uint32_t redelivered[NR_VCPUS];

static void count_irq(struct ex_regs *regs, uint32_t *counts)
{
	uint32_t id = x2apic_read_reg(APIC_ID);

	if (redelivery(regs)) {
		WRITE_ONCE(redelivered[id], redelivered[id] + 1);
		return;
	}
	WRITE_ONCE(counts[id], counts[id] + 1);
	x2apic_write_reg(APIC_EOI, 0);
}

static void timer_handler(struct ex_regs *regs)
{
	count_irq(regs, timers);
}

static void msi_handler(struct ex_regs *regs)
{
	count_irq(regs, msis);
}

static void guest_code(uint32_t id)
{
	uint32_t armed = 0;

	x2apic_enable();
	GUEST_ASSERT_EQ(x2apic_read_reg(APIC_ID), id);
	x2apic_write_reg(APIC_TDCR, 0xb);	/* divide by 1 */
	x2apic_write_reg(APIC_LVTT, TIMER_VECTOR);
	WRITE_ONCE(ready[id], 1);

	/* IF=0 but in the STI shadow before HLT: windows open often. */
	while (READ_ONCE(timers[id]) < NR_TIMERS || !READ_ONCE(host_done)) {
		uint32_t t = READ_ONCE(timers[id]);

		GUEST_ASSERT_EQ(t, armed);
		if (armed < NR_TIMERS) {
			armed++;
			x2apic_write_reg(APIC_TMICT, 20000);
		}
		while (READ_ONCE(timers[id]) == t &&
		       (armed > t || !READ_ONCE(host_done)))
			asm volatile("sti; hlt; cli" ::: "memory");
	}
	GUEST_ASSERT_EQ(READ_ONCE(timers[id]), NR_TIMERS);
	GUEST_DONE();
}

struct ctx {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpus[NR_VCPUS];
	volatile uint32_t *msis;	/* the guest's counters */
	volatile uint32_t *ready;
	volatile bool streams_done;
	uint64_t flips;
};

static void sleep_us(long us)
{
	struct timespec ts = { .tv_nsec = us * 1000 };

	nanosleep(&ts, NULL);
}

static void send_msi(struct kvm_vm *vm, uint32_t dest)
{
	struct kvm_msi msi = {
		.address_lo = 0xfee00000 | dest << 12,
		.data = MSI_VECTOR,
	};

	TEST_ASSERT_EQ(__vm_ioctl(vm, KVM_SIGNAL_MSI, &msi), 1);
}

static void *msi_thread(void *arg)
{
	struct ctx *c = arg;
	uint32_t i, v;

	/* An MSI to a software-disabled APIC is dropped (returns 0). */
	for (v = 0; v < NR_VCPUS; v++)
		while (!c->ready[v])
			sleep_us(100);
	for (i = 1; i <= NR_MSIS; i++) {
		for (v = 0; v < NR_VCPUS; v++)
			send_msi(c->vm, v);
		for (v = 0; v < NR_VCPUS; v++)
			while (c->msis[v] < i)
				sleep_us(100);
	}
	return NULL;
}

static void set_inhibit(struct kvm_vm *vm, uint32_t reason, uint32_t set)
{
	struct lapicv_inhibit_op op = { .reason = reason, .set = set };

	vm_ioctl(vm, LAPICV_SET_INHIBIT, &op);
}

static void *flip_thread(void *arg)
{
	struct ctx *c = arg;

	while (!c->streams_done) {
		set_inhibit(c->vm, FLIP_REASON, 1);
		sleep_us(200);
		set_inhibit(c->vm, FLIP_REASON, 0);
		c->flips++;
		sleep_us(200);
	}
	return NULL;
}

static void *vcpu_thread(void *arg)
{
	struct ucall uc;

	TEST_ASSERT_EQ(run_to_ucall(arg, &uc), UCALL_DONE);
	return NULL;
}

static bool lapic_empty(struct kvm_lapic_state *l, uint32_t reg)
{
	uint32_t i;

	for (i = 0; i < 8; i++)
		if (*(uint32_t *)&l->regs[reg + i * 0x10])
			return false;
	return true;
}

int main(void)
{
	struct lapicv_inhibit_state before, after;
	struct lapicv_vm_stats s0, s1;
	pthread_t vthr[NR_VCPUS], mthr, fthr;
	bool honoured, others;
	struct ctx c = { 0 };
	uint32_t v;

	c.vm = vm_create_with_vcpus(NR_VCPUS, guest_code, c.vcpus);
	if (__vm_ioctl(c.vm, LAPICV_GET_INHIBITS, &before)) {
		/* "# SKIP <reason>": the rig reports the reason by name. */
		ksft_exit_skip("LAPICV_GET_INHIBITS: %s (/dev/kvm is not lapicv)\n",
			       strerror(errno));
	}
	vm_ioctl(c.vm, LAPICV_GET_VM_STATS, &s0);
	honoured = before.apicv_enabled && (before.required & BIT(FLIP_REASON));
	others = before.reasons & ~BIT(FLIP_REASON);
	pr_info("inhibits before: 0x%llx \"%s\", APICv %s, %s\n",
		before.reasons, before.names,
		before.apicv_enabled ? "enabled" : "disabled",
		honoured ? "the reason is honoured" : "the reason changes nothing");

	vm_install_exception_handler(c.vm, TIMER_VECTOR, timer_handler);
	vm_install_exception_handler(c.vm, MSI_VECTOR, msi_handler);
	c.msis = addr_gva2hva(c.vm, (vm_vaddr_t)msis);
	c.ready = addr_gva2hva(c.vm, (vm_vaddr_t)ready);
	for (v = 0; v < NR_VCPUS; v++) {
		vcpu_args_set(c.vcpus[v], 1, v);
		TEST_ASSERT_EQ(pthread_create(&vthr[v], NULL, vcpu_thread,
					      c.vcpus[v]), 0);
	}
	TEST_ASSERT_EQ(pthread_create(&fthr, NULL, flip_thread, &c), 0);
	TEST_ASSERT_EQ(pthread_create(&mthr, NULL, msi_thread, &c), 0);

	pthread_join(mthr, NULL);
	/* The timers: the guests' own counts, read as they go. */
	for (v = 0; v < NR_VCPUS; v++) {
		volatile uint32_t *t = addr_gva2hva(c.vm, (vm_vaddr_t)&timers[v]);

		while (*t < NR_TIMERS)
			sleep_us(100);
	}
	c.streams_done = true;
	pthread_join(fthr, NULL);

	*(volatile uint32_t *)addr_gva2hva(c.vm, (vm_vaddr_t)&host_done) = 1;
	for (v = 0; v < NR_VCPUS; v++)
		send_msi(c.vm, v);
	for (v = 0; v < NR_VCPUS; v++)
		pthread_join(vthr[v], NULL);

	sync_global_from_guest(c.vm, timers);
	sync_global_from_guest(c.vm, msis);
	sync_global_from_guest(c.vm, redelivered);
	for (v = 0; v < NR_VCPUS; v++) {
		struct lapicv_vcpu_stats st;
		struct kvm_lapic_state l;

		TEST_ASSERT_EQ(timers[v], NR_TIMERS);
		TEST_ASSERT_EQ(msis[v], NR_MSIS + 1);
		vcpu_ioctl(c.vcpus[v], LAPICV_GET_VCPU_STATS, &st);
		TEST_ASSERT(st.intr_injections + st.virtual_intr_deliveries ==
			    NR_TIMERS + NR_MSIS + 1,
			    "vCPU %u: %llu interrupts acknowledged, %u taken",
			    v, st.intr_injections + st.virtual_intr_deliveries,
			    NR_TIMERS + NR_MSIS + 1);
		TEST_ASSERT(st.apicv_activations == st.apicv_deactivations ||
			    st.apicv_activations == st.apicv_deactivations + 1,
			    "vCPU %u: %llu APICv activations, %llu deactivations",
			    v, st.apicv_activations, st.apicv_deactivations);
		vcpu_ioctl(c.vcpus[v], KVM_GET_LAPIC, &l);
		TEST_ASSERT(lapic_empty(&l, 0x200) && lapic_empty(&l, 0x100),
			    "vCPU %u: IRR or ISR not empty at the end", v);
		pr_info("vCPU %u: %u timer, %u MSI interrupts, %llu IRQ windows, %u redelivered by QEMU\n",
			v, timers[v], msis[v], st.irq_windows, redelivered[v]);
	}

	vm_ioctl(c.vm, LAPICV_GET_INHIBITS, &after);
	vm_ioctl(c.vm, LAPICV_GET_VM_STATS, &s1);
	TEST_ASSERT(after.reasons == before.reasons,
		    "inhibits 0x%llx \"%s\" after, 0x%llx before",
		    after.reasons, after.names, before.reasons);
	TEST_ASSERT_EQ(after.irq_window, 0);
	TEST_ASSERT_EQ(after.reasons & BIT(LAPICV_INHIBIT_IRQWIN), 0);
	TEST_ASSERT_EQ(s1.irqwin_transitions % 2, 0);
	TEST_ASSERT_EQ(s1.inhibit_changes - s0.inhibit_changes,
		       honoured ? 2 * c.flips : 0);
	TEST_ASSERT_EQ(s1.apicv_toggles - s0.apicv_toggles,
		       honoured && !others ? 2 * c.flips : 0);
	pr_info("%lu flips of PIT_REINJ: inhibits and counters consistent: ok\n",
		c.flips);
	kvm_vm_free(c.vm);
	return 0;
}
