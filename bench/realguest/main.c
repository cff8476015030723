// SPDX-License-Identifier: GPL-2.0-only
/*
 * realguest_bench: the driver.  For each figure, BENCH_REPS repetitions
 * (default 3) of BENCH_RG_SLICES slices (default 2) per device, the
 * devices alternating slice by slice; a slice is one child process that
 * points /dev/kvm at the device, creates a VM, lets the guest measure for
 * BENCH_RG_MS milliseconds of guest TSC (default 150) and exits.  Per
 * repetition each device's mean per event; printed: each device's median
 * over the repetitions and the median of the per-repetition ratios.
 *
 *   realguest_bench [figure...]     default: every figure (BENCH_RG_FIGS,
 *                                   comma-separated, when no argument)
 *
 * Run as root in the bench guest (bench/guest.sh) with lapicv and kvm_amd
 * loaded, kvm.ko with enable_virt_at_load=0.
 */
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "rg.h"

bool rg_on_lapicv;
uint64_t rg_budget;
uint64_t rg_budget_ms = 150;

static int reps = 3, slices = 2;

static const struct rg_fig figs[] = {
	{ "ipi_rt_xapic", rg_ipi_halted, 0 },
	{ "ipi_rt_x2apic", rg_ipi_halted, 1 },
	{ "ipi_running", rg_ipi_running, 0 },
	{ "timer_tscdl_latency", rg_timer, RG_TIMER_TSCDL },
	{ "timer_oneshot_latency", rg_timer, RG_TIMER_ONESHOT },
	{ "timer_periodic_drift", rg_timer, RG_TIMER_PERIODIC, .drift = true },
	{ "msi_running", rg_msi, 0 },
	{ "msi_halted", rg_msi, 1 },
	{ "exit_pio", rg_exit, RG_EXIT_PIO },
	{ "exit_eoi_msr", rg_exit, RG_EXIT_EOI_MSR },
	{ "exit_xapic_mmio", rg_exit, RG_EXIT_XAPIC_MMIO },
	{ "extint", rg_extint, 0,
	  .aux = { "vmm_exits", "kvm_exits", "irq_windows", "lock_writes",
		   "irqwin_transitions", "extint_injections" } },
	{ "extint_other_inhibit", rg_extint, 1, .lapicv_only = true,
	  .aux = { "vmm_exits", "kvm_exits", "irq_windows", "lock_writes",
		   "irqwin_transitions", "extint_injections" } },
};

/* ---- helpers for the figures ---- */

/*
 * KVM's library creates a full in-kernel irqchip for every VM; the bench
 * wants a split one on both devices (lapicv has no in-kernel PIC or
 * IOAPIC, and a VMM passes ExtINTs with KVM_INTERRUPT only on a split
 * irqchip).  Linked with -Wl,--wrap=vm_create_irqchip.
 */
void __wrap_vm_create_irqchip(struct kvm_vm *vm)
{
	vm_enable_cap(vm, KVM_CAP_SPLIT_IRQCHIP, 24);
	vm->has_irqchip = true;
}

void rg_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % sysconf(_SC_NPROCESSORS_ONLN), &set);
	TEST_ASSERT_EQ(sched_setaffinity(0, sizeof(set), &set), 0);
}

double rg_cycles_to_ns(double cycles)
{
	return cycles * 1e6 / guest_tsc_khz;
}

struct kvm_vm *rg_vm_create(int nr, void *guest_code, struct kvm_vcpu **vcpus)
{
	struct kvm_vm *vm;
	int i;

	vm = vm_create(nr);
	/* Explicit on both devices: TMICT counts nanoseconds. */
	vm_enable_cap(vm, KVM_CAP_X86_APIC_BUS_CYCLES_NS, 1);
	for (i = 0; i < nr; i++)
		vcpus[i] = vm_vcpu_add(vm, i, guest_code);
	rg_budget = guest_tsc_khz * rg_budget_ms;
	sync_global_to_guest(vm, rg_budget);
	return vm;
}

void rg_res_from_guest(struct rg_res *r, const struct rg_guest *g)
{
	uint32_t i;

	r->n = g->n;
	r->ns = rg_cycles_to_ns(g->sum);
	r->nr_samples = g->n < RG_SAMPLES ? g->n : RG_SAMPLES;
	for (i = 0; i < r->nr_samples; i++)
		r->samples[i] = rg_cycles_to_ns(g->samples[i]);
}

uint64_t rg_vcpu_run_done(struct kvm_vcpu *vcpu,
			  void (*on_port)(struct kvm_vcpu *))
{
	struct ucall uc;
	uint64_t exits = 0;

	for (;;) {
		vcpu_run(vcpu);
		exits++;
		if (vcpu->run->exit_reason == KVM_EXIT_IO &&
		    vcpu->run->io.port == RG_PORT) {
			if (on_port)
				on_port(vcpu);
			continue;
		}
		TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_DONE:
			return exits;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			break;
		default:
			TEST_FAIL("unexpected ucall %lu", uc.cmd);
		}
	}
}

struct vcpu_thread {
	struct kvm_vcpu *vcpu;
	int cpu;
};

static void *vcpu_thread(void *arg)
{
	struct vcpu_thread *t = arg;

	rg_pin(t->cpu);
	rg_vcpu_run_done(t->vcpu, NULL);
	free(t);
	return NULL;
}

void rg_vcpu_start(struct kvm_vcpu *vcpu, int cpu, pthread_t *thr)
{
	struct vcpu_thread *t = malloc(sizeof(*t));

	TEST_ASSERT(t, "malloc");
	t->vcpu = vcpu;
	t->cpu = cpu;
	TEST_ASSERT_EQ(pthread_create(thr, NULL, vcpu_thread, t), 0);
}

void rg_vcpu_join(pthread_t thr)
{
	TEST_ASSERT_EQ(pthread_join(thr, NULL), 0);
}

uint64_t rg_stat(int fd, const char *name)
{
	struct kvm_stats_header h;
	struct kvm_stats_desc *d;
	size_t dsz;
	uint64_t v = 0;
	uint32_t i;
	char *buf;

	if (pread(fd, &h, sizeof(h), 0) != sizeof(h))
		return 0;
	dsz = sizeof(*d) + h.name_size;
	buf = calloc(h.num_desc, dsz);
	TEST_ASSERT(buf, "calloc");
	if (pread(fd, buf, h.num_desc * dsz, h.desc_offset) !=
	    (ssize_t)(h.num_desc * dsz))
		goto out;
	for (i = 0; i < h.num_desc; i++) {
		d = (void *)(buf + i * dsz);
		if (strcmp(d->name, name))
			continue;
		if (pread(fd, &v, sizeof(v), h.data_offset + d->offset) != sizeof(v))
			v = 0;
		break;
	}
out:
	free(buf);
	return v;
}

/* ---- the driver ---- */

static const char *const dev_names[2] = { "lapicv", "kvm" };
static dev_t dev_nums[2];

static int read_misc_dev(const char *name, dev_t *d)
{
	unsigned int maj, min;
	char path[64];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/class/misc/%s/dev", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	ok = fscanf(f, "%u:%u", &maj, &min) == 2;
	fclose(f);
	if (!ok)
		return -1;
	*d = makedev(maj, min);
	return 0;
}

static int use_dev(int d)
{
	unlink("/dev/kvm");
	return mknod("/dev/kvm", S_IFCHR | 0600, dev_nums[d]);
}

/* Slices whose guest hung (the alarm), per device, this figure. */
static int hung[2];

/* One slice in a child process; 0 and *@r, 1 if it hung, or -1. */
static int slice(const struct rg_fig *f, int d, struct rg_res *r)
{
	size_t got = 0;
	int p[2], st;
	pid_t pid;
	ssize_t n;

	if (use_dev(d) || pipe(p))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (!pid) {
		static struct rg_res res;

		close(p[0]);
		/* A guest that never finishes fails its figure, not the run. */
		alarm(rg_budget_ms / 100 + 8);
		rg_on_lapicv = d == 0;
		f->run(&res, f->arg);
		_exit(write(p[1], &res, sizeof(res)) == sizeof(res) ? 0 : 1);
	}
	close(p[1]);
	while (got < sizeof(*r) &&
	       (n = read(p[0], (char *)r + got, sizeof(*r) - got)) > 0)
		got += n;
	close(p[0]);
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM) {
		printf("# realguest: %s on %s: the guest hung, slice run again\n",
		       f->name, dev_names[d]);
		hung[d]++;
		return 1;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) || got != sizeof(*r) || r->n <= 0) {
		printf("# realguest: %s on %s failed (status 0x%x)\n", f->name,
		       dev_names[d], st);
		return -1;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void line(const char *fig, const char *what, const char *dev,
		 double v, const char *unit)
{
	printf("BENCH rg_%s_%s%s%s %.4g %s\n", fig, what, dev ? "_" : "",
	       dev ? dev : "", v, unit);
}

static int figure(const struct rg_fig *f)
{
	double val[2][64], mean[2][64], rat[64], aux[2][RG_AUX][64];
	int nd = f->lapicv_only ? 1 : 2, r, s, d, a;
	const char *unit = f->drift ? "ppm" : "ns";
	static struct rg_res one;
	struct rg_res sum[2];
	double t0 = now_s();
	static double *smp[2];
	size_t ns[2];
	uint32_t i;

	memset(hung, 0, sizeof(hung));
	for (d = 0; d < nd; d++) {
		smp[d] = realloc(smp[d], sizeof(double) * RG_SAMPLES * slices);
		TEST_ASSERT(smp[d], "realloc");
	}

	for (r = 0; r < reps; r++) {
		memset(sum, 0, sizeof(sum));
		memset(ns, 0, sizeof(ns));
		for (s = 0; s < slices; s++) {
			for (d = 0; d < nd; d++) {
				int k, e = 1;

				for (k = 0; k < 3 && e == 1; k++)
					e = slice(f, d, &one);
				if (e)
					return -1;
				sum[d].n += one.n;
				sum[d].ns += one.ns;
				for (a = 0; a < RG_AUX; a++)
					sum[d].aux[a] += one.aux[a];
				for (i = 0; i < one.nr_samples; i++)
					smp[d][ns[d]++] = one.samples[i];
			}
		}
		for (d = 0; d < nd; d++) {
			mean[d][r] = sum[d].ns / sum[d].n;
			val[d][r] = ns[d] ? median(smp[d], ns[d]) : mean[d][r];
			if (ns[d] > 10)
				printf("# realguest: %s %s: %zu samples, ns at 10/25/50/75/90 %%: %.0f %.0f %.0f %.0f %.0f\n",
				       f->name, dev_names[d], ns[d], smp[d][ns[d] / 10],
				       smp[d][ns[d] / 4], smp[d][ns[d] / 2],
				       smp[d][ns[d] * 3 / 4], smp[d][ns[d] * 9 / 10]);
			for (a = 0; a < RG_AUX; a++)
				aux[d][a][r] = sum[d].aux[a] / sum[d].n;
		}
		if (nd == 2)
			rat[r] = f->drift ? fabs(val[0][r]) / fabs(val[1][r]) :
					    val[0][r] / val[1][r];
	}
	for (d = 0; d < nd; d++) {
		line(f->name, f->drift ? "ppm" : "ns", dev_names[d],
		     median(val[d], reps), unit);
		if (!f->drift)
			line(f->name, "mean_ns", dev_names[d],
			     median(mean[d], reps), unit);
		if (hung[d])
			line(f->name, "hung_slices", dev_names[d], hung[d],
			     "slices");
		for (a = 0; a < RG_AUX && f->aux[a]; a++) {
			char what[64];

			if (isnan(median(aux[d][a], reps)))
				continue;
			snprintf(what, sizeof(what), "%s_per_irq", f->aux[a]);
			line(f->name, what, dev_names[d], median(aux[d][a], reps),
			     "per_irq");
		}
	}
	printf("# realguest: %s took %.1f s\n", f->name, now_s() - t0);
	if (nd == 2)
		line(f->name, f->drift ? "abs_ratio_lapicv_over_kvm" :
			      "ratio_lapicv_over_kvm", NULL, median(rat, reps),
		     "ratio");
	return 0;
}

static int env_int(const char *name, int def, int max)
{
	const char *s = getenv(name);
	int v = s ? atoi(s) : 0;

	return v > 0 ? (v > max ? max : v) : def;
}

int main(int argc, char **argv)
{
	const char *only = getenv("BENCH_RG_FIGS");
	bool any = argc < 2 && !only;
	unsigned int i;
	int j, bad = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	reps = env_int("BENCH_REPS", 3, 64);
	slices = env_int("BENCH_RG_SLICES", 2, 100);
	rg_budget_ms = env_int("BENCH_RG_MS", 150, 10000);
	if (read_misc_dev("lapicv", &dev_nums[0]) ||
	    read_misc_dev("kvm", &dev_nums[1])) {
		printf("# realguest: needs lapicv and kvm loaded\n");
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(figs); i++) {
		bool want = any;

		for (j = 1; j < argc; j++)
			want |= !strcmp(argv[j], figs[i].name);
		if (only && argc < 2) {
			char key[64];

			snprintf(key, sizeof(key), ",%s,", figs[i].name);
			want = strstr(only, key) != NULL;
		}
		if (want && figure(&figs[i]))
			bad = 1;
	}
	use_dev(1);
	return bad;
}
