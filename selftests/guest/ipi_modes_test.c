// SPDX-License-Identifier: GPL-2.0-only
/*
 * IPIs of every delivery mode and destination mode, sent by guest code
 * between four vCPUs, on whatever /dev/kvm is (kvm_amd, or lapicv's
 * runner), with the same expectations.
 *
 * vCPU 0 sends; vCPUs 1 and 3 wait spinning in guest mode with IF=1,
 * vCPU 2 waits halted (STI; HLT).  Each receiver counts every vector in
 * its handler and EOIs it (by MMIO in xAPIC mode, by MSR in x2APIC mode);
 * NMIs are counted apart.  Three VMs, one per APIC mode:
 *
 *  xapic-flat     ICR through the xAPIC page; logical IDs in the flat
 *                 model (LDR bit n for vCPU n)
 *  xapic-cluster  the same in the cluster model (vCPUs 0, 1 in cluster 0,
 *                 vCPUs 2, 3 in cluster 1)
 *  x2apic         ICR and SELF_IPI through the x2APIC MSRs; logical IDs
 *                 are the architectural ones (cluster 0, bit n)
 *
 * Each mode has a table of IPIs: fixed, lowest priority (exactly one of
 * the targets takes it), NMI, and ExtINT, which KVM drops (an ICR cannot
 * send ExtINT), to physical and logical destinations (some that match
 * nobody), the broadcast destination, and the self, all-including-self
 * and all-excluding-self shorthands.  The sender waits for the targets of
 * each IPI before the next; each IPI has its own vector, so a stray or
 * doubled delivery shows in the counts, which the host checks exactly at
 * the end.  A last fixed IPI with a lower vector than any tested one
 * drains every IRR first.
 * (SMI is left out: neither device has SMM here.  Fixed physical IPIs to
 * a halted vCPU through the xAPIC page are KVM's xapic_ipi_test.)
 *
 * Then INIT and SIPI, all-excluding-self: every receiver, spinning or
 * halted, restarts in real mode at the SIPI vector's page and reports
 * over port I/O.
 */
#include <pthread.h>
#include <time.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "apic.h"

#include "guest_util.h"

#define NR_VCPUS	4
#define APIC_LDR	0xd0
#define APIC_DFR	0xe0
#define APIC_SELF_IPI	0x3f0
#define DFR_FLAT	0xffffffffu
#define DFR_CLUSTER	0x0fffffffu

#define STOP_VECTOR	0x30	/* below every tested vector */
#define VEC_BASE	0x40	/* phase p uses VEC_BASE + p */
#define MAX_PHASES	32
#define AP_PORT		0x77
#define SIPI_PAGE	0x1000

/* Receivers' waiting: bit n set if vCPU n waits halted. */
#define HALTERS		(1u << 2)
#define ALL		0xfu
#define OTHERS		0xeu

enum apic_mode { XAPIC_FLAT, XAPIC_CLUSTER, X2APIC, NR_MODES };

static const char * const mode_names[NR_MODES] = {
	"xapic-flat", "xapic-cluster", "x2apic",
};

/* "How" beyond the ICR: the x2APIC SELF_IPI register. */
#define VIA_SELF_IPI	(1u << 31)

struct ipi {
	uint32_t icr;		/* ICR bits but the vector (or VIA_SELF_IPI) */
	uint32_t dest;		/* destination field */
	uint8_t targets;	/* bit n: vCPU n takes it (lowest: one of) */
};

#define FIXED_PHYS(d, t)	{ APIC_DM_FIXED, d, t }
#define FIXED_LOG(d, t)		{ APIC_DM_FIXED | APIC_DEST_LOGICAL, d, t }
#define LOWEST_LOG(d, t)	{ APIC_DM_LOWEST | APIC_DEST_LOGICAL, d, t }
#define NMI_LOG(d, t)		{ APIC_DM_NMI | APIC_DEST_LOGICAL, d, t }
#define SHORT(s, t)		{ APIC_DM_FIXED | (s), 0, t }

static const struct ipi xapic_flat_ipis[] = {
	FIXED_PHYS(1, 1u << 1),
	FIXED_LOG(0x06, (1u << 1) | (1u << 2)),
	FIXED_LOG(0x08, 1u << 3),
	FIXED_PHYS(5, 0),			/* no such APIC ID */
	FIXED_LOG(0x00, 0),			/* empty mask */
	FIXED_LOG(0xff, ALL),			/* logical broadcast */
	FIXED_PHYS(0xff, ALL),			/* physical broadcast */
	SHORT(APIC_DEST_SELF, 1u << 0),
	SHORT(APIC_DEST_ALLINC, ALL),
	SHORT(APIC_DEST_ALLBUT, OTHERS),
	LOWEST_LOG(0x0e, OTHERS),
	{ APIC_DM_LOWEST, 2, 1u << 2 },
	{ APIC_DM_NMI, 2, 1u << 2 },
	NMI_LOG(0x0a, (1u << 1) | (1u << 3)),
	{ APIC_DM_NMI | APIC_DEST_ALLBUT, 0, OTHERS },
	{ APIC_DM_EXTINT, 1, 0 },
	{ APIC_DM_EXTINT | APIC_DEST_LOGICAL, 0x0c, 0 },
};

static const struct ipi xapic_cluster_ipis[] = {
	FIXED_LOG(0x13, (1u << 2) | (1u << 3)),
	FIXED_LOG(0x02, 1u << 1),
	FIXED_LOG(0x0f, (1u << 0) | (1u << 1)),	/* all of cluster 0 */
	FIXED_LOG(0xff, ALL),			/* broadcast */
	FIXED_LOG(0x21, 0),			/* cluster 2 is empty */
	SHORT(APIC_DEST_ALLBUT, OTHERS),
	LOWEST_LOG(0x13, (1u << 2) | (1u << 3)),
	NMI_LOG(0x13, (1u << 2) | (1u << 3)),
	{ APIC_DM_EXTINT | APIC_DEST_LOGICAL, 0x11, 0 },
};

static const struct ipi x2apic_ipis[] = {
	FIXED_PHYS(1, 1u << 1),
	FIXED_PHYS(2, 1u << 2),
	FIXED_LOG(0x0a, (1u << 1) | (1u << 3)),
	FIXED_LOG(0x06, (1u << 1) | (1u << 2)),
	FIXED_LOG(0xff, ALL),			/* cluster 0, bits 0-7 */
	FIXED_LOG(0x10001, 0),			/* cluster 1 is empty */
	FIXED_PHYS(0xff, 0),			/* APIC ID 255, no broadcast */
	FIXED_PHYS(5, 0),			/* no such APIC ID */
	FIXED_LOG(0xffffffff, ALL),		/* broadcast */
	FIXED_PHYS(0xffffffff, ALL),		/* broadcast */
	SHORT(APIC_DEST_SELF, 1u << 0),
	{ VIA_SELF_IPI, 0, 1u << 0 },
	SHORT(APIC_DEST_ALLINC, ALL),
	SHORT(APIC_DEST_ALLBUT, OTHERS),
	LOWEST_LOG(0x0e, OTHERS),
	{ APIC_DM_LOWEST, 3, 1u << 3 },
	{ APIC_DM_NMI, 2, 1u << 2 },
	NMI_LOG(0x0a, (1u << 1) | (1u << 3)),
	{ APIC_DM_NMI | APIC_DEST_ALLBUT, 0, OTHERS },
	{ APIC_DM_EXTINT, 1, 0 },
};

static const struct ipi * const mode_ipis[NR_MODES] = {
	xapic_flat_ipis, xapic_cluster_ipis, x2apic_ipis,
};

static const uint32_t mode_nr_ipis[NR_MODES] = {
	ARRAY_SIZE(xapic_flat_ipis), ARRAY_SIZE(xapic_cluster_ipis),
	ARRAY_SIZE(x2apic_ipis),
};

/* Shared with the guest (synced per VM). */
static uint32_t mode;
/* Written by the guest: counts[receiver][phase], NMIs, stops. */
static uint32_t counts[NR_VCPUS][MAX_PHASES];
static uint32_t nmis[NR_VCPUS];
static uint32_t stops[NR_VCPUS];
static uint32_t ready[NR_VCPUS];
static uint32_t cur_phase;
static uint32_t redelivered[NR_VCPUS];	/* see guest_util.h */

static bool guest_x2apic(void)
{
	return READ_ONCE(mode) == X2APIC;
}

static uint32_t self_id(void)
{
	if (guest_x2apic())
		return x2apic_read_reg(APIC_ID);
	return GET_APIC_ID_FIELD(xapic_read_reg(APIC_ID));
}

static void eoi(void)
{
	if (guest_x2apic())
		x2apic_write_reg(APIC_EOI, 0);
	else
		xapic_write_reg(APIC_EOI, 0);
}

static void inc(uint32_t *p)
{
	WRITE_ONCE(*p, READ_ONCE(*p) + 1);
}

static void ipi_handler(struct ex_regs *regs)
{
	if (redelivery(regs)) {
		inc(&redelivered[self_id()]);
		return;
	}
	inc(&counts[self_id()][regs->vector - VEC_BASE]);
	eoi();
}

static void stop_handler(struct ex_regs *regs)
{
	if (redelivery(regs)) {
		inc(&redelivered[self_id()]);
		return;
	}
	inc(&stops[self_id()]);
	eoi();
}

static void nmi_handler(struct ex_regs *regs)
{
	inc(&nmis[self_id()]);
}

static void send(uint32_t icr, uint32_t dest)
{
	if (icr & VIA_SELF_IPI)
		x2apic_write_reg(APIC_SELF_IPI, icr & APIC_VECTOR_MASK);
	else if (guest_x2apic())
		x2apic_write_reg(APIC_ICR, ((uint64_t)dest << 32) | icr);
	else {
		xapic_write_reg(APIC_ICR2, SET_APIC_DEST_FIELD(dest));
		xapic_write_reg(APIC_ICR, icr);
	}
}

static void apic_setup(uint32_t id)
{
	if (guest_x2apic()) {
		x2apic_enable();
		GUEST_ASSERT_EQ(x2apic_read_reg(APIC_ID), id);
		/* Architectural: cluster id >> 4, bit id & 0xf. */
		GUEST_ASSERT_EQ(x2apic_read_reg(APIC_LDR), 1u << id);
		return;
	}
	xapic_enable();
	GUEST_ASSERT_EQ(GET_APIC_ID_FIELD(xapic_read_reg(APIC_ID)), id);
	if (READ_ONCE(mode) == XAPIC_FLAT) {
		xapic_write_reg(APIC_DFR, DFR_FLAT);
		xapic_write_reg(APIC_LDR, (1u << id) << 24);
	} else {
		xapic_write_reg(APIC_DFR, DFR_CLUSTER);
		xapic_write_reg(APIC_LDR,
				(((id / 2) << 4) | (1u << (id % 2))) << 24);
	}
}

static uint32_t sum_counts(uint32_t phase, uint8_t targets)
{
	uint32_t i, n = 0;

	for (i = 0; i < NR_VCPUS; i++)
		if (targets & (1u << i))
			n += READ_ONCE(counts[i][phase]);
	return n;
}

static void sender(void)
{
	const struct ipi *ipis = mode_ipis[READ_ONCE(mode)];
	uint32_t nr = mode_nr_ipis[READ_ONCE(mode)];
	uint32_t nmi_want[NR_VCPUS] = { 0 };
	uint32_t p, i;

	apic_setup(0);
	for (i = 1; i < NR_VCPUS; i++)
		while (!READ_ONCE(ready[i]))
			cpu_relax();

	/* The sender takes its own IPIs (self, broadcasts) while it waits. */
	asm volatile("sti" ::: "memory");
	for (p = 0; p < nr; p++) {
		const struct ipi *ipi = &ipis[p];
		uint32_t dm = ipi->icr & APIC_DM_FIXED_MASK;

		WRITE_ONCE(cur_phase, p);
		send(ipi->icr | (dm == APIC_DM_NMI ? 0 : VEC_BASE + p),
		     ipi->dest);
		if (dm == APIC_DM_NMI) {
			for (i = 0; i < NR_VCPUS; i++) {
				if (!(ipi->targets & (1u << i)))
					continue;
				nmi_want[i]++;
				while (READ_ONCE(nmis[i]) < nmi_want[i])
					cpu_relax();
			}
		} else if (dm == APIC_DM_LOWEST) {
			while (!sum_counts(p, ipi->targets))
				cpu_relax();
		} else {
			for (i = 0; i < NR_VCPUS; i++)
				while ((ipi->targets & (1u << i)) &&
				       !READ_ONCE(counts[i][p]))
					cpu_relax();
		}
	}

	/* Lower than every vector above: it comes after any left in IRR. */
	WRITE_ONCE(cur_phase, nr);
	send(APIC_DM_FIXED | APIC_DEST_ALLBUT | STOP_VECTOR, 0);
	for (i = 1; i < NR_VCPUS; i++)
		while (!READ_ONCE(stops[i]))
			cpu_relax();
	asm volatile("cli" ::: "memory");

	WRITE_ONCE(cur_phase, nr + 1);
	send(APIC_DM_INIT | APIC_INT_ASSERT | APIC_DEST_ALLBUT, 0);
	send(APIC_DM_STARTUP | APIC_DEST_ALLBUT | (SIPI_PAGE >> 12), 0);
	GUEST_DONE();
}

static void receiver(uint32_t id)
{
	bool halter = HALTERS & (1u << id);

	apic_setup(id);
	WRITE_ONCE(ready[id], 1);
	/* Wait for the stop IPI, then for INIT, which ends the loop. */
	for (;;) {
		if (halter)
			asm volatile("sti; hlt; cli" ::: "memory");
		else
			asm volatile("sti; pause; cli" ::: "memory");
	}
}

static void guest_code(uint32_t id)
{
	if (id)
		receiver(id);
	else
		sender();
}

/* Real mode: mov $0x2a, %al; out %al, $AP_PORT; hlt */
static const uint8_t tramp[] = { 0xb0, 0x2a, 0xe6, AP_PORT, 0xf4 };

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct kvm_sregs sregs;
	struct ucall uc;

	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	if (vcpu->id == 0) {
		uint64_t cmd = get_ucall(vcpu, &uc);

		if (cmd == UCALL_ABORT)
			REPORT_GUEST_ASSERT(uc);
		TEST_ASSERT_EQ(cmd, UCALL_DONE);
		return NULL;
	}
	if (vcpu->run->io.port != AP_PORT && get_ucall(vcpu, &uc) == UCALL_ABORT)
		REPORT_GUEST_ASSERT(uc);
	/* A receiver ends in the SIPI page, in real mode. */
	TEST_ASSERT_EQ(vcpu->run->io.port, AP_PORT);
	TEST_ASSERT_EQ(*((uint8_t *)vcpu->run + vcpu->run->io.data_offset),
		       0x2a);
	vcpu_sregs_get(vcpu, &sregs);
	TEST_ASSERT_EQ(sregs.cs.selector, SIPI_PAGE >> 4);
	TEST_ASSERT_EQ(sregs.cr0 & X86_CR0_PE, 0);
	return NULL;
}

static void check_counts(enum apic_mode m)
{
	const struct ipi *ipis = mode_ipis[m];
	uint32_t nmi_want[NR_VCPUS] = { 0 };
	uint32_t p, i;

	for (p = 0; p < mode_nr_ipis[m]; p++) {
		const struct ipi *ipi = &ipis[p];
		uint32_t dm = ipi->icr & APIC_DM_FIXED_MASK;

		for (i = 0; i < NR_VCPUS; i++) {
			bool t = ipi->targets & (1u << i);

			if (dm == APIC_DM_NMI)
				nmi_want[i] += t;
			if (dm == APIC_DM_LOWEST && t)
				continue;
			TEST_ASSERT(counts[i][p] == (dm == APIC_DM_FIXED && t),
				    "%s IPI %u (ICR 0x%x dest 0x%x): vCPU %u took it %u times",
				    mode_names[m], p, ipi->icr, ipi->dest, i,
				    counts[i][p]);
		}
		if (dm == APIC_DM_LOWEST)
			TEST_ASSERT(sum_counts(p, ipi->targets) == 1,
				    "%s IPI %u (lowest priority, dest 0x%x): taken %u times",
				    mode_names[m], p, ipi->dest,
				    sum_counts(p, ipi->targets));
	}
	for (i = 0; i < NR_VCPUS; i++) {
		TEST_ASSERT(nmis[i] == nmi_want[i],
			    "%s: vCPU %u took %u NMIs, not %u",
			    mode_names[m], i, nmis[i], nmi_want[i]);
		TEST_ASSERT(stops[i] == !!i, "%s: vCPU %u took %u stop IPIs",
			    mode_names[m], i, stops[i]);
	}
}

static void test_mode(enum apic_mode m)
{
	struct kvm_vcpu *vcpus[NR_VCPUS];
	pthread_t thr[NR_VCPUS];
	struct timespec deadline;
	struct kvm_vm *vm;
	uint32_t i;
	int r;

	TEST_ASSERT(mode_nr_ipis[m] <= MAX_PHASES, "too many IPIs");
	vm = vm_create_with_vcpus(NR_VCPUS, guest_code, vcpus);
	virt_pg_map(vm, APIC_DEFAULT_GPA, APIC_DEFAULT_GPA);
	memcpy(addr_gpa2hva(vm, SIPI_PAGE), tramp, sizeof(tramp));
	for (i = 0; i < mode_nr_ipis[m]; i++)
		vm_install_exception_handler(vm, VEC_BASE + i, ipi_handler);
	vm_install_exception_handler(vm, STOP_VECTOR, stop_handler);
	vm_install_exception_handler(vm, NMI_VECTOR, nmi_handler);
	mode = m;
	sync_global_to_guest(vm, mode);
	for (i = 0; i < NR_VCPUS; i++) {
		vcpu_args_set(vcpus[i], 1, i);
		TEST_ASSERT_EQ(pthread_create(&thr[i], NULL, vcpu_thread,
					      vcpus[i]), 0);
	}

	/*
	 * Not a timing assertion: a lost IPI would leave the sender waiting
	 * for ever; say which one after a minute instead of hanging.
	 */
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 60;
	for (i = 0; i < NR_VCPUS; i++) {
		r = pthread_timedjoin_np(thr[i], NULL, &deadline);
		if (r) {
			sync_global_from_guest(vm, cur_phase);
			TEST_FAIL("%s: vCPU %u still running after 60 s, sender at IPI %u",
				  mode_names[m], i, cur_phase);
		}
	}

	sync_global_from_guest(vm, counts);
	sync_global_from_guest(vm, nmis);
	sync_global_from_guest(vm, stops);
	sync_global_from_guest(vm, redelivered);
	check_counts(m);
	kvm_vm_free(vm);
	pr_info("%s: %u IPIs, INIT and SIPI to all but self: ok (%u, %u, %u, %u redelivered by QEMU)\n",
		mode_names[m], mode_nr_ipis[m], redelivered[0],
		redelivered[1], redelivered[2], redelivered[3]);
}

int main(void)
{
	int m;

	for (m = 0; m < NR_MODES; m++)
		test_mode(m);
	return 0;
}
