// SPDX-License-Identifier: GPL-2.0-only
/*
 * Item 4: scale.  VMs of 1, 64, 256 and 1024 vCPUs (up to opts.scale_max)
 * on both devices, per operation:
 *
 *   create	KVM_CREATE_VCPU, ns per vCPU (all N of them / N)
 *   set_id	KVM_SET_LAPIC on vCPU 0 alternating its xAPIC ID between 0
 *		and 0xff (every call rebuilds the APIC map over N vCPUs)
 *   bcast	a fixed IPI to all (x2APIC ICR 0xffffffff via KVM_SET_MSRS
 *		on vCPU 0), every vCPU in x2APIC mode with its APIC enabled
 *   mcast	a fixed IPI to x2APIC logical cluster 0, mask 0xffff (up to
 *		16 vCPUs)
 *
 * Both VMs of a size exist at once; creation alternates between them in
 * chunks, the timed operations in slices (time_pair()).
 *
 * Item 5: memory, from the counters of a memory cgroup the process moves
 * into: "kernel" (every kmem charge: slab, pages, vmalloc, page tables)
 * and "slab", around creating MEM_VMS VMs without vCPUs (per VM) and
 * MEM_VCPUS vCPUs in one VM (per vCPU), on both devices.  Both include
 * what any VM fd costs (files, anon inodes); the KVM figures show what
 * the same VM costs with kvm_amd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "lapicv_util.h"

static const char * const devs[] = { DEV_LAPICV, DEV_KVM };
static const int sizes[] = { 1, 64, 256, 1024 };

#define NR_SIZES	ARRAY_SIZE(sizes)

enum { OP_CREATE, OP_SET_ID, OP_BCAST, OP_MCAST, NR_SCALE_OPS };

static const char * const op_names[NR_SCALE_OPS] = {
	"create_vcpu", "set_lapic_id", "bcast_ipi", "mcast_ipi",
};

struct scale_ctx {
	struct bvm *b;
	struct kvm_lapic_state s[2];
};

static int op_set_id(void *p, unsigned long i)
{
	struct scale_ctx *c = p;

	return set_lapic(c->b->vcpu[0], &c->s[i & 1]);
}

static int op_bcast(void *p, unsigned long i)
{
	struct scale_ctx *c = p;

	(void)i;
	return set_msr(c->b->vcpu[0], X2APIC_MSR(APIC_ICR),
		       (uint64_t)X2APIC_BROADCAST << 32 | BENCH_VEC);
}

static int op_mcast(void *p, unsigned long i)
{
	struct scale_ctx *c = p;

	(void)i;
	return set_msr(c->b->vcpu[0], X2APIC_MSR(APIC_ICR),
		       (uint64_t)0xffff << 32 | ICR_LOGICAL | BENCH_VEC);
}

/*
 * vCPU creation on both devices, alternating chunks of CREATE_CHUNK (the
 * host's load falls on both alike): ns per vCPU into @ns[dev].
 */
#define CREATE_CHUNK	32

static int scale_create(struct bvm *b, int n, double ns[2])
{
	double t[2] = { 0, 0 }, t0;
	unsigned int d;
	int i, k;

	for (d = 0; d < 2; d++) {
		if (bvm_create(&b[d], devs[d], 0))
			return -1;
		free(b[d].vcpu);
		b[d].vcpu = calloc(n, sizeof(int));
		if (!b[d].vcpu || ensure_nofile(2 * n + 32))
			return -1;
	}
	for (i = 0; i < n; i += CREATE_CHUNK) {
		for (d = 0; d < 2; d++) {
			t0 = now_ns();
			for (k = i; k < n && k < i + CREATE_CHUNK; k++) {
				b[d].vcpu[k] = vcpu_create(b[d].vm, k);
				if (b[d].vcpu[k] < 0) {
					printf("# scale: %s: vCPU %d: %s\n", devs[d], k,
					       errno_name(errno));
					return -1;
				}
				b[d].nr++;
			}
			t[d] += now_ns() - t0;
		}
	}
	for (d = 0; d < 2; d++)
		ns[d] = t[d] / n;
	return 0;
}

/* Two VMs of @n vCPUs, lapicv's and KVM's: every operation into @ns. */
static int scale_one(int n, double ns[2][NR_SCALE_OPS],
		     double ratio[NR_SCALE_OPS])
{
	static int (* const timed[])(void *ctx, unsigned long i) = {
		[OP_SET_ID] = op_set_id,
		[OP_BCAST] = op_bcast,
		[OP_MCAST] = op_mcast,
	};
	struct scale_ctx c[2];
	void *ctx[2] = { &c[0], &c[1] };
	double res[2];
	struct bvm b[2];
	unsigned int d, o;
	int i, err = -1;

	memset(c, 0, sizeof(c));
	memset(b, 0, sizeof(b));
	for (d = 0; d < 2; d++) {
		b[d].dev = -1;
		b[d].vm = -1;
		c[d].b = &b[d];
	}
	if (scale_create(b, n, res))
		goto out;
	for (d = 0; d < 2; d++)
		ns[d][OP_CREATE] = res[d];
	ratio[OP_CREATE] = res[0] / res[1];

	for (d = 0; d < 2; d++) {
		if (get_lapic(b[d].vcpu[0], &c[d].s[0]))
			goto out;
		c[d].s[1] = c[d].s[0];
		lapic_set_reg(&c[d].s[1], APIC_ID, 0xffu << 24);
	}
	for (o = OP_SET_ID; o < NR_SCALE_OPS; o++) {
		if (o == OP_BCAST) {
			/* vCPU 0 its own ID again, then all in x2APIC mode. */
			for (d = 0; d < 2; d++) {
				if (set_lapic(b[d].vcpu[0], &c[d].s[0]))
					goto out;
				for (i = 0; i < n; i++)
					if (enter_x2apic(b[d].vcpu[i], i == 0))
						goto out;
			}
		}
		i = time_pair(timed[o], ctx, res, &ratio[o]);
		if (i < 0) {
			printf("# scale: %s on %s failed\n", op_names[o],
			       devs[-1 - i]);
			goto out;
		}
		for (d = 0; d < 2; d++)
			ns[d][o] = res[d];
	}
	err = 0;
out:
	if (err)
		printf("# scale: %d vCPUs: %s\n", n, errno_name(errno));
	for (d = 0; d < 2; d++)
		bvm_destroy(&b[d]);
	return err;
}

int bench_scale(void)
{
	double ns[2][NR_SCALE_OPS], ratio[NR_SCALE_OPS];
	double seconds = opts.seconds;
	int reps = opts.reps, err = 0;
	unsigned int d, s, o;
	char name[96];

	/* Shorter repetitions: four sizes, three timed operations. */
	opts.seconds = seconds < 0.3 ? seconds : 0.3;
	opts.reps = reps < 3 ? reps : 3;
	printf("# scale: %d x %.2g s per figure, devices alternating, up to %d vCPUs\n",
	       opts.reps, opts.seconds, opts.scale_max);
	for (s = 0; s < NR_SIZES && sizes[s] <= opts.scale_max; s++) {
		if (scale_one(sizes[s], ns, ratio)) {
			err = -1;
			continue;
		}
		for (o = 0; o < NR_SCALE_OPS; o++) {
			for (d = 0; d < 2; d++) {
				snprintf(name, sizeof(name), "scale_%s_ns_%s_n%d",
					 op_names[o], dev_name(devs[d]), sizes[s]);
				bench_line(name, ns[d][o], "ns");
			}
			snprintf(name, sizeof(name),
				 "scale_%s_ratio_lapicv_over_kvm_n%d",
				 op_names[o], sizes[s]);
			bench_line(name, ratio[o], "ratio");
		}
	}
	opts.seconds = seconds;
	opts.reps = reps;
	return err;
}

/* ---- memory ---- */

#define CGROOT		"/sys/fs/cgroup"
#define CGDIR		CGROOT "/lapicv_bench"
#define MEM_VMS		128
#define MEM_VCPUS	256

struct mem_sample {
	double kernel;		/* memory.stat "kernel": all kmem charged */
	double slab;		/* memory.stat "slab": slab objects, bytes */
};

static int write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	int r;

	if (!f)
		return -1;
	r = fputs(s, f) < 0;
	return fclose(f) || r ? -1 : 0;
}

/*
 * Move this process into a memory cgroup of its own: lapicv and KVM
 * allocate with GFP_KERNEL_ACCOUNT, so the cgroup's kmem counters see
 * exactly what they allocate for this process, byte-precise for slab
 * objects, page-granular for pages.
 */
static int memcg_enter(void)
{
	if (access(CGROOT "/cgroup.controllers", F_OK) &&
	    mount("none", CGROOT, "cgroup2", 0, NULL))
		return -1;
	write_file(CGROOT "/cgroup.subtree_control", "+memory");
	if (mkdir(CGDIR, 0755) && errno != EEXIST)
		return -1;
	if (access(CGDIR "/memory.stat", F_OK))
		return -1;
	return write_file(CGDIR "/cgroup.procs", "0");
}

/*
 * The cgroup's counters, after the kernel's periodic stats flush (every
 * 2 s): reading memory.stat flushes only past a threshold of updates.
 */
static int mem_snap(struct mem_sample *m)
{
	unsigned long long v;
	char line[256];
	FILE *f;

	usleep(2100000);
	f = fopen(CGDIR "/memory.stat", "r");
	if (!f)
		return -1;
	m->kernel = -1;
	m->slab = -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "kernel %llu", &v) == 1)
			m->kernel = v;
		else if (sscanf(line, "slab %llu", &v) == 1)
			m->slab = v;
	}
	fclose(f);
	return m->kernel < 0 || m->slab < 0 ? -1 : 0;
}

static void mem_lines(const char *what, const char *dev,
		      const struct mem_sample *a, const struct mem_sample *b,
		      int n)
{
	char name[96];

	snprintf(name, sizeof(name), "mem_kernel_per_%s_%s", what, dev_name(dev));
	bench_line(name, (b->kernel - a->kernel) / n, "bytes");
	snprintf(name, sizeof(name), "mem_slab_per_%s_%s", what, dev_name(dev));
	bench_line(name, (b->slab - a->slab) / n, "bytes");
}

int bench_mem(void)
{
	struct mem_sample m0, m1, m2, m3;
	struct bvm vms[MEM_VMS], b;
	unsigned int d;
	int i;

	if (memcg_enter()) {
		printf("# mem: no memory cgroup: %s\n", errno_name(errno));
		return -1;
	}
	printf("# mem: memory cgroup counters, %d VMs without vCPUs, one VM with %d vCPUs\n",
	       MEM_VMS, MEM_VCPUS);
	for (d = 0; d < 2; d++) {
		if (mem_snap(&m0))
			goto fail;
		for (i = 0; i < MEM_VMS; i++)
			if (bvm_create(&vms[i], devs[d], 0))
				goto fail;
		if (mem_snap(&m1))
			goto fail;
		for (i = 0; i < MEM_VMS; i++)
			bvm_destroy(&vms[i]);
		if (bvm_create(&b, devs[d], 0) || mem_snap(&m2))
			goto fail;
		b.vcpu = realloc(b.vcpu, MEM_VCPUS * sizeof(int));
		for (i = 0; i < MEM_VCPUS; i++) {
			b.vcpu[i] = vcpu_create(b.vm, i);
			if (b.vcpu[i] < 0)
				goto fail;
			b.nr++;
		}
		if (mem_snap(&m3))
			goto fail;
		bvm_destroy(&b);
		mem_lines("vm", devs[d], &m0, &m1, MEM_VMS);
		mem_lines("vcpu", devs[d], &m2, &m3, MEM_VCPUS);
	}
	return 0;
fail:
	printf("# mem: %s: %s\n", devs[d], errno_name(errno));
	return -1;
}
