/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * realguest_bench: interrupts into real guest code, lapicv against kvm_amd
 * in one boot.  Guest and host halves are built with KVM's selftest
 * library (libkvm.a, scripts/kvm-selftests.sh), which opens /dev/kvm: each
 * slice of a figure runs in a child process with /dev/kvm made lapicv's
 * or kvm's node, creates its VM, measures and exits, so that only one of
 * the two holds SVM at a time (kvm.ko loaded with enable_virt_at_load=0).
 * See Documentation/testing.rst, "Benchmarks".
 */
#ifndef RG_H
#define RG_H

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "apic.h"

/*
 * What one slice measured: @n events taking @ns in all, counters, and the
 * first RG_SAMPLES events' own times (@nr_samples of them, ns), of which
 * the parent takes the median: under TCG a few events take milliseconds
 * (the host's scheduler, QEMU switching guest CPUs) and would rule a mean.
 */
#define RG_AUX		6
#define RG_SAMPLES	2048
struct rg_res {
	double n;
	double ns;
	double aux[RG_AUX];
	uint32_t nr_samples;
	double samples[RG_SAMPLES];
};

/* One figure: @run fills @r in a child process (the device is set). */
struct rg_fig {
	const char *name;
	void (*run)(struct rg_res *r, unsigned long arg);
	unsigned long arg;
	/* Names of the aux[] counters printed per event (NULL: none). */
	const char *aux[RG_AUX];
	/* Only on lapicv (its counters): no time ratio. */
	bool lapicv_only;
	/* A drift, not a time: the ratio is of magnitudes. */
	bool drift;
};

/* Set by the parent before each slice: which device /dev/kvm is. */
extern bool rg_on_lapicv;
/* Guest time budget of one slice, in TSC cycles (0 before a VM exists). */
extern uint64_t rg_budget;
extern uint64_t rg_budget_ms;

/* The guest's results, read back with sync_global_from_guest(). */
struct rg_guest {
	uint64_t n;
	uint64_t cycles;
	int64_t sum;		/* signed sums (latency, drift) */
	uint64_t aux[4];
	int64_t samples[RG_SAMPLES];	/* TSC cycles, signed */
};

/* Guest: one event of @c cycles (signed: a latency can be negative). */
static inline void rg_sample(struct rg_guest *g, int64_t c)
{
	if (g->n < RG_SAMPLES)
		g->samples[g->n] = c;
	g->sum += c;
	g->n++;
}

/* Host: @r from the guest's @g (events, their sum and samples). */
void rg_res_from_guest(struct rg_res *r, const struct rg_guest *g);

/* Create a split-irqchip VM with @nr vCPUs, budget synced to the guest. */
struct kvm_vm *rg_vm_create(int nr, void *guest_code, struct kvm_vcpu **vcpus);
/* Run @vcpu in a thread pinned to @cpu until UCALL_DONE. */
void rg_vcpu_start(struct kvm_vcpu *vcpu, int cpu, pthread_t *thr);
void rg_vcpu_join(pthread_t thr);
/* Run @vcpu until UCALL_DONE here; port RG_PORT OUTs are counted. */
uint64_t rg_vcpu_run_done(struct kvm_vcpu *vcpu, void (*on_port)(struct kvm_vcpu *));
void rg_pin(int cpu);
double rg_cycles_to_ns(double cycles);
/* A binary stat of a VM or vCPU stats fd by name (0 if not there). */
uint64_t rg_stat(int stats_fd, const char *name);

#define RG_PORT		0x2000

static inline void rg_outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "d"(port) : "memory");
}

static inline void rg_sti_hlt_cli(void)
{
	asm volatile("sti; hlt; cli" ::: "memory");
}

/* The figures, by file. */
void rg_ipi_halted(struct rg_res *r, unsigned long x2);
void rg_ipi_running(struct rg_res *r, unsigned long unused);
void rg_timer(struct rg_res *r, unsigned long mode);
void rg_msi(struct rg_res *r, unsigned long halted);
void rg_exit(struct rg_res *r, unsigned long kind);
void rg_extint(struct rg_res *r, unsigned long other_inhibit);

enum { RG_TIMER_TSCDL, RG_TIMER_ONESHOT, RG_TIMER_PERIODIC };
enum { RG_EXIT_PIO, RG_EXIT_EOI_MSR, RG_EXIT_XAPIC_MMIO };

#endif /* RG_H */
