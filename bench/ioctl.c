// SPDX-License-Identifier: GPL-2.0-only
/*
 * Item 1: the cost of the KVM-compatible ioctls a VMM calls most, the same
 * code on /dev/lapicv and /dev/kvm, ns per call and the lapicv/kvm ratio.
 *
 * Each VM has one vCPU with its APIC software-enabled.  The MSI goes to
 * that vCPU (fixed, vector BENCH_VEC); nothing acknowledges it, so after
 * the first call the IRR bit is already set and every device does its
 * full delivery (set the bit, request, kick) on a vCPU that is not running.
 * KVM_SET_LAPIC writes back the state just read ("unchanged"), or
 * alternates the APIC ID between 0 and 1 so that every call rebuilds the
 * APIC map ("id").  The TPR write is one KVM_SET_MSRS of MSR 0x808 in
 * x2APIC mode, alternating 0x00 and 0x10.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "bench.h"
#include "lapicv_util.h"

struct ioctl_ctx {
	struct bvm b;
	/* s[0]: the state read at setup (ID 0); s[1]: the same with ID 1. */
	struct kvm_lapic_state s[2];
	struct kvm_lapic_state scratch;	/* where KVM_GET_LAPIC reads to */
	int x2vcpu;		/* a second VM's vCPU, in x2APIC mode */
	struct bvm x2;
};

static int op_signal_msi(void *p, unsigned long i)
{
	struct ioctl_ctx *c = p;

	(void)i;
	return signal_msi(c->b.vm, MSI_ADDR(0), BENCH_VEC) < 0 ? -1 : 0;
}

static int op_get_lapic(void *p, unsigned long i)
{
	struct ioctl_ctx *c = p;

	(void)i;
	return get_lapic(c->b.vcpu[0], &c->scratch);
}

static int op_set_lapic(void *p, unsigned long i)
{
	struct ioctl_ctx *c = p;

	(void)i;
	return set_lapic(c->b.vcpu[0], &c->s[0]);
}

static int op_set_lapic_id(void *p, unsigned long i)
{
	struct ioctl_ctx *c = p;

	return set_lapic(c->b.vcpu[0], &c->s[i & 1]);
}

static int op_set_msrs_tpr(void *p, unsigned long i)
{
	struct ioctl_ctx *c = p;

	return set_msr(c->x2vcpu, X2APIC_MSR(APIC_TASKPRI), i & 1 ? 0x10 : 0);
}

/* The floor: a VM ioctl that does next to nothing on either device. */
static int op_check_extension(void *p, unsigned long i)
{
	struct ioctl_ctx *c = p;

	(void)i;
	return check_ext(c->b.vm, KVM_CAP_SPLIT_IRQCHIP) < 0 ? -1 : 0;
}

static int op_get_mp_state(void *p, unsigned long i)
{
	struct ioctl_ctx *c = p;
	struct kvm_mp_state mp;

	(void)i;
	return ioctl(c->b.vcpu[0], KVM_GET_MP_STATE, &mp);
}

static const struct {
	const char *name;	/* figure name prefix */
	int (*op)(void *ctx, unsigned long i);
	const char *what;
} ops[] = {
	{ "signal_msi", op_signal_msi, "KVM_SIGNAL_MSI, fixed, one vCPU" },
	{ "get_lapic", op_get_lapic, "KVM_GET_LAPIC" },
	{ "set_lapic", op_set_lapic, "KVM_SET_LAPIC, unchanged state" },
	{ "set_lapic_id", op_set_lapic_id,
	  "KVM_SET_LAPIC, APIC ID changed (map rebuild)" },
	{ "set_msrs_tpr", op_set_msrs_tpr, "KVM_SET_MSRS, x2APIC TPR (0x808)" },
	{ "get_mp_state", op_get_mp_state, "KVM_GET_MP_STATE" },
	{ "check_extension", op_check_extension,
	  "KVM_CHECK_EXTENSION on the VM fd (the syscall floor)" },
};

#define NR_OPS	ARRAY_SIZE(ops)

static int ioctl_setup(struct ioctl_ctx *c, const char *dev)
{
	if (bvm_create(&c->b, dev, 1) || lapic_enable(c->b.vcpu[0]) ||
	    get_lapic(c->b.vcpu[0], &c->s[0]))
		return -1;
	c->s[1] = c->s[0];
	lapic_set_reg(&c->s[1], APIC_ID, 1u << 24);
	if (bvm_create(&c->x2, dev, 1) || enter_x2apic(c->x2.vcpu[0], true))
		return -1;
	c->x2vcpu = c->x2.vcpu[0];
	return 0;
}

static int ioctl_op(struct ioctl_ctx *c, unsigned int i, const bool *on,
		    double *ns, double *ratio)
{
	void *ctx[2] = { on[0] ? &c[0] : NULL, on[1] ? &c[1] : NULL };
	int r = time_pair(ops[i].op, ctx, ns, ratio);

	if (r < 0)
		printf("# ioctl: %s on %s failed: %s\n", ops[i].what,
		       c[-1 - r].b.dev_path, errno_name(errno));
	return r ? -1 : 0;
}

int bench_ioctl(void)
{
	static const char * const devs[] = { DEV_LAPICV, DEV_KVM };
	/* To trace one figure: BENCH_ONLY=set_lapic, BENCH_DEV=kvm. */
	const char *only = getenv("BENCH_ONLY"), *dev = getenv("BENCH_DEV");
	struct ioctl_ctx c[2];
	bool on[2];
	double ns[2], ratio;
	char name[96];
	unsigned int d, i;
	int err = 0;

	printf("# ioctl: %d x %.2g s per figure, devices alternating, median; lapicv backend=%s\n",
	       opts.reps, opts.seconds, lapicv_param("backend"));
	memset(c, 0, sizeof(c));
	for (d = 0; d < 2; d++) {
		on[d] = !dev || !strcmp(dev, dev_name(devs[d]));
		if (on[d] && ioctl_setup(&c[d], devs[d])) {
			printf("# ioctl: %s setup failed: %s\n", devs[d],
			       errno_name(errno));
			return -1;
		}
	}
	for (i = 0; i < NR_OPS; i++) {
		if (only && strcmp(only, ops[i].name))
			continue;
		if (ioctl_op(c, i, on, ns, &ratio)) {
			err = -1;
			continue;
		}
		for (d = 0; d < 2; d++) {
			if (!on[d])
				continue;
			snprintf(name, sizeof(name), "%s_ns_%s", ops[i].name,
				 dev_name(devs[d]));
			bench_line(name, ns[d], "ns");
		}
		if (ratio <= 0)
			continue;
		snprintf(name, sizeof(name), "%s_ratio_lapicv_over_kvm",
			 ops[i].name);
		bench_line(name, ratio, "ratio");
	}
	for (d = 0; d < 2; d++) {
		if (!on[d])
			continue;
		bvm_destroy(&c[d].x2);
		bvm_destroy(&c[d].b);
	}
	return err;
}
