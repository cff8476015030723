/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lapicv_bench: in-guest benchmarks of /dev/lapicv against /dev/kvm
 * (kvm_amd in the same guest).  See Documentation/testing.rst,
 * "Benchmarks", for what each figure means.
 *
 * Every figure is printed as one line "BENCH <name> <value> <unit>";
 * scripts/bench.sh collects them from the guest's console, derives the
 * cross-run ratios and prints the table.  Lines starting with '#' are
 * progress and context for a human.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>
#include <linux/lapicv.h>

#define DEV_LAPICV	"/dev/lapicv"
#define DEV_KVM		"/dev/kvm"

#define MSR_APIC_BASE		0x1b
#define APIC_BASE_DEFAULT	0xfee00000ull
#define APIC_BASE_BSP		(1ull << 8)
#define APIC_BASE_EXTD		(1ull << 10)
#define APIC_BASE_EN		(1ull << 11)
#define X2APIC_MSR(off)		(0x800u + ((off) >> 4))

/* xAPIC register offsets (the KVM_GET_LAPIC layout). */
#define APIC_ID			0x20
#define APIC_TASKPRI		0x80
#define APIC_EOI		0xb0
#define APIC_SPIV		0xf0
#define APIC_ICR		0x300
#define APIC_SPIV_ENABLE	0x100u

#define ICR_LOGICAL		0x800u
#define X2APIC_BROADCAST	0xffffffffu

#define MSI_ADDR(dest)		(0xfee00000u | ((uint32_t)(dest) & 0xff) << 12)

#define BENCH_VEC		0x41

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

/* Tunables, from the environment (see bench_init()). */
struct bench_opts {
	double seconds;		/* one repetition of a timed loop */
	int reps;		/* repetitions; the median is reported */
	int threads_max;	/* irqwin: 1, 2, ... up to this many */
	int scale_max;		/* scale: largest VM (vCPUs) */
};

extern struct bench_opts opts;

/* A split-irqchip VM on one device, with its vCPU fds. */
struct bvm {
	const char *dev_path;
	int dev;
	int vm;
	int nr;
	int *vcpu;
	double vcpu_create_ns;	/* spent in KVM_CREATE_VCPU, all of them */
};

double now_ns(void);

/* BENCH <name> <value> <unit> */
void bench_line(const char *name, double value, const char *unit);
/* The short device name used in figure names: "lapicv" or "kvm". */
const char *dev_name(const char *path);

/*
 * Time @op over repetitions of opts.seconds each, and return the median
 * ns per call; @op returns 0 or -1 (errno set) and gets the call number.
 * A failing call ends the measurement with -1.
 */
double time_op(int (*op)(void *ctx, unsigned long i), void *ctx);
/*
 * One repetition of time_op(): ns per call; *@i numbers the calls and
 * carries on across repetitions.
 */
double time_op_once(int (*op)(void *ctx, unsigned long i), void *ctx,
		    unsigned long *i);
/*
 * Time @op on two contexts (lapicv's, KVM's; NULL: skip that side): each
 * of opts.reps repetitions gives each side opts.seconds in ten slices
 * that alternate between them, so that the load other guests put on the
 * host falls on both alike.  @ns: each side's median ns per call;
 * @ratio: the median of the per-repetition ratios ns[0] / ns[1].
 * Returns 0, or -1 - side when a call failed (errno set).
 */
int time_pair(int (*op)(void *ctx, unsigned long i), void *ctx[2],
	      double ns[2], double *ratio);
/* Call @op for @seconds: the ns it took (-1 on failure) and *@calls. */
double time_slice(int (*op)(void *ctx, unsigned long i), void *ctx,
		  unsigned long *i, double seconds, unsigned long *calls);
double median(double *v, int n);

/* Create the device's VM with split irqchip and @nr vCPUs (ids 0..nr-1). */
int bvm_create(struct bvm *b, const char *dev_path, int nr);
void bvm_destroy(struct bvm *b);

int set_msr(int vcpu, uint32_t index, uint64_t data);
int get_lapic(int vcpu, struct kvm_lapic_state *s);
int set_lapic(int vcpu, struct kvm_lapic_state *s);
uint32_t lapic_reg(const struct kvm_lapic_state *s, int off);
void lapic_set_reg(struct kvm_lapic_state *s, int off, uint32_t v);
/* Software-enable the APIC through KVM_GET/SET_LAPIC (xAPIC mode). */
int lapic_enable(int vcpu);
/* CPUID with x2APIC, then APIC base EN | EXTD, then SPIV enabled. */
int enter_x2apic(int vcpu, bool bsp);
int signal_msi(int vm, uint32_t addr_lo, uint32_t data);

/* The lapicv module parameter @name ("backend", ...), or "?". */
const char *lapicv_param(const char *name);
int lapicv_param_set(const char *name, const char *value);

/* The benchmarks (one per item of the issue). */
int bench_ioctl(void);
int bench_run(void);
int bench_irqwin(void);
int bench_scale(void);
int bench_mem(void);

#endif /* BENCH_H */
