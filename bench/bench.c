// SPDX-License-Identifier: GPL-2.0-only
/*
 * lapicv_bench: the shared helpers and main().
 *
 *   lapicv_bench ioctl|run|irqwin|scale|mem
 *
 * Environment: BENCH_SECONDS (one repetition of a timed loop, default 1),
 * BENCH_REPS (repetitions, median reported, default 3), BENCH_THREADS
 * (irqwin: up to this many vCPU threads, default 4), BENCH_SCALE_MAX
 * (scale: largest VM, default 1024 vCPUs).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "lapicv_util.h"

struct bench_opts opts = {
	.seconds = 1.0,
	.reps = 3,
	.threads_max = 4,
	.scale_max = 1024,
};

double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

void bench_line(const char *name, double value, const char *unit)
{
	printf("BENCH %s %.4g %s\n", name, value, unit);
	fflush(stdout);
}

const char *dev_name(const char *path)
{
	return strcmp(path, DEV_KVM) ? "lapicv" : "kvm";
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double median(double *v, int n)
{
	if (n <= 0)
		return -1;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Calls between two looks at the clock. */
#define BATCH	32

double time_slice(int (*op)(void *ctx, unsigned long i), void *ctx,
		  unsigned long *i, double seconds, unsigned long *calls)
{
	double t0, t;
	int k;

	*calls = 0;
	t0 = now_ns();
	do {
		for (k = 0; k < BATCH; k++, (*i)++, (*calls)++)
			if (op(ctx, *i))
				return -1;
		t = now_ns();
	} while (t - t0 < seconds * 1e9);
	return t - t0;
}

double time_op_once(int (*op)(void *ctx, unsigned long i), void *ctx,
		    unsigned long *i)
{
	unsigned long calls;
	double t = time_slice(op, ctx, i, opts.seconds, &calls);

	return t < 0 ? -1 : t / calls;
}

double time_op(int (*op)(void *ctx, unsigned long i), void *ctx)
{
	unsigned long i = 0;
	double res[64];
	int r;

	for (r = 0; r < opts.reps && r < 64; r++) {
		res[r] = time_op_once(op, ctx, &i);
		if (res[r] < 0)
			return -1;
	}
	return median(res, r);
}

#define SLICES	10

int time_pair(int (*op)(void *ctx, unsigned long i), void *ctx[2],
	      double ns[2], double *ratio)
{
	unsigned long seq[2] = { 0, 0 }, calls, n[2];
	double res[2][64], rat[64], t[2], dt;
	unsigned int d;
	int r, s;

	for (r = 0; r < opts.reps && r < 64; r++) {
		memset(t, 0, sizeof(t));
		memset(n, 0, sizeof(n));
		for (s = 0; s < SLICES; s++) {
			for (d = 0; d < 2; d++) {
				if (!ctx[d])
					continue;
				dt = time_slice(op, ctx[d], &seq[d],
						opts.seconds / SLICES, &calls);
				if (dt < 0)
					return -1 - d;
				t[d] += dt;
				n[d] += calls;
			}
		}
		for (d = 0; d < 2; d++)
			res[d][r] = ctx[d] ? t[d] / n[d] : -1;
		rat[r] = ctx[0] && ctx[1] ? res[0][r] / res[1][r] : -1;
	}
	for (d = 0; d < 2; d++)
		ns[d] = ctx[d] ? median(res[d], r) : -1;
	*ratio = median(rat, r);
	return 0;
}

int bvm_create(struct bvm *b, const char *dev_path, int nr)
{
	double t0;
	int i;

	memset(b, 0, sizeof(*b));
	b->dev_path = dev_path;
	b->dev = -1;
	b->vm = -1;
	b->vcpu = calloc(nr ? nr : 1, sizeof(*b->vcpu));
	if (!b->vcpu)
		return -1;
	if (ensure_nofile(nr + 16))
		return -1;
	b->dev = open(dev_path, O_RDWR | O_CLOEXEC);
	if (b->dev < 0)
		return -1;
	b->vm = vm_create_split(b->dev);
	if (b->vm < 0)
		return -1;
	t0 = now_ns();
	for (i = 0; i < nr; i++) {
		b->vcpu[i] = vcpu_create(b->vm, i);
		if (b->vcpu[i] < 0)
			return -1;
		b->nr++;
	}
	b->vcpu_create_ns = now_ns() - t0;
	return 0;
}

void bvm_destroy(struct bvm *b)
{
	int i;

	for (i = 0; i < b->nr; i++)
		close(b->vcpu[i]);
	if (b->vm >= 0)
		close(b->vm);
	if (b->dev >= 0)
		close(b->dev);
	free(b->vcpu);
	memset(b, 0, sizeof(*b));
	b->vm = -1;
	b->dev = -1;
}

int set_msr(int vcpu, uint32_t index, uint64_t data)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr.nmsrs = 1, .e.index = index, .e.data = data };

	return ioctl(vcpu, KVM_SET_MSRS, &m) == 1 ? 0 : -1;
}

int get_lapic(int vcpu, struct kvm_lapic_state *s)
{
	return ioctl(vcpu, KVM_GET_LAPIC, s);
}

int set_lapic(int vcpu, struct kvm_lapic_state *s)
{
	return ioctl(vcpu, KVM_SET_LAPIC, s);
}

uint32_t lapic_reg(const struct kvm_lapic_state *s, int off)
{
	uint32_t v;

	memcpy(&v, s->regs + off, sizeof(v));
	return v;
}

void lapic_set_reg(struct kvm_lapic_state *s, int off, uint32_t v)
{
	memcpy(s->regs + off, &v, sizeof(v));
}

int lapic_enable(int vcpu)
{
	struct kvm_lapic_state s;

	if (get_lapic(vcpu, &s))
		return -1;
	lapic_set_reg(&s, APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	return set_lapic(vcpu, &s);
}

int enter_x2apic(int vcpu, bool bsp)
{
	struct {
		struct kvm_cpuid2 hdr;
		struct kvm_cpuid_entry2 e[2];
	} c = {
		.hdr.nent = 2,
		.e[0] = { .function = 0, .eax = 1 },
		.e[1] = { .function = 1, .ecx = 1u << 21, .edx = 1u << 9 },
	};
	uint64_t base = APIC_BASE_DEFAULT | APIC_BASE_EN | APIC_BASE_EXTD;

	if (ioctl(vcpu, KVM_SET_CPUID2, &c))
		return -1;
	if (bsp)
		base |= APIC_BASE_BSP;
	/* xAPIC first: the disabled -> x2APIC transition is invalid. */
	if (set_msr(vcpu, MSR_APIC_BASE, base & ~APIC_BASE_EXTD))
		return -1;
	if (set_msr(vcpu, MSR_APIC_BASE, base))
		return -1;
	return set_msr(vcpu, X2APIC_MSR(APIC_SPIV), APIC_SPIV_ENABLE | 0xff);
}

int signal_msi(int vm, uint32_t addr_lo, uint32_t data)
{
	struct kvm_msi msi = { .address_lo = addr_lo, .data = data };

	return ioctl(vm, KVM_SIGNAL_MSI, &msi);
}

const char *lapicv_param(const char *name)
{
	static char buf[64];
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/module/lapicv/parameters/%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return "?";
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return "?";
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

int lapicv_param_set(const char *name, const char *value)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/module/lapicv/parameters/%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	n = write(fd, value, strlen(value));
	close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -1;
}

static void bench_init(void)
{
	const char *s;

	s = getenv("BENCH_SECONDS");
	if (s && atof(s) > 0)
		opts.seconds = atof(s);
	s = getenv("BENCH_REPS");
	if (s && atoi(s) > 0)
		opts.reps = atoi(s) > 64 ? 64 : atoi(s);
	s = getenv("BENCH_THREADS");
	if (s && atoi(s) > 0)
		opts.threads_max = atoi(s);
	s = getenv("BENCH_SCALE_MAX");
	if (s && atoi(s) > 0)
		opts.scale_max = atoi(s);
}

static const struct {
	const char *name;
	int (*fn)(void);
} cmds[] = {
	{ "ioctl", bench_ioctl },
	{ "run", bench_run },
	{ "irqwin", bench_irqwin },
	{ "scale", bench_scale },
	{ "mem", bench_mem },
};

int main(int argc, char **argv)
{
	unsigned int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	bench_init();
	for (i = 0; argc == 2 && i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn() ? 1 : 0;
	fprintf(stderr, "usage: %s ioctl|run|irqwin|scale|mem\n", argv[0]);
	return 2;
}
