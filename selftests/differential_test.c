// SPDX-License-Identifier: GPL-2.0-only
/*
 * Randomized differential test: one seeded random sequence of operations
 * that need no guest execution is applied in lockstep to a VM on
 * /dev/lapicv and to a VM on /dev/kvm (kvm_amd) in the same process.  After
 * every step, for every vCPU, these must be identical on both devices:
 *
 *  - the step's own return value and errno (and what a read returned);
 *  - KVM_GET_LAPIC: all 1024 bytes but TMCCT (0x390);
 *  - KVM_GET_MP_STATE (in the "mp_every_step" run; the other run reads it
 *    only as one of the random operations, so that a pending INIT or SIPI
 *    can meet later operations before something accepts it);
 *  - one KVM_GET_MSRS of the APIC base, the TSC deadline and every readable
 *    x2APIC register: the count processed and all the values (TMCCT's
 *    value masked);
 *  - KVM_GET_CPUID2 (its leaf 1 APIC bit follows the APIC base);
 *  - KVM_GET_VCPU_EVENTS, the whole struct (NMIs latched by it, as KVM's
 *    process_nmi() does, on both devices alike).
 *
 * KVM_SET_VCPU_EVENTS is drawn with smi.smm 0 and without
 * KVM_VCPUEVENT_VALID_TRIPLE_FAULT: entering SMM is refused by lapicv,
 * which has none, and KVM applies the rest of the struct before it refuses
 * the triple-fault flag, lapicv nothing (both documented differences,
 * Documentation/api.rst; vcpu_events_test.c covers them).
 *
 * Timers: only timer-independent state is compared.  TMCCT is the one value
 * that depends on time; an expiry is invisible to a VMM that never runs the
 * vCPU (KVM and lapicv both only count it as pending, IRR stays untouched
 * and the TSC-deadline MSR keeps its value), so timers may run.  Initial
 * counts are 0, or long enough (>= 2^24 bus cycles, 16 ms) that periodic
 * timers do not flood a TCG guest with expiries.
 *
 * LAPICV_DIFF_SEED picks the seed (default: the time), LAPICV_DIFF_STEPS
 * the steps per run (default DEFAULT_STEPS), LAPICV_DIFF_TRACE=1 prints
 * every operation.  The seed is printed first; the first divergence prints
 * the seed, step, operation, the last few operations, and a diff of what
 * differs, and fails the test.  Needs both devices; skips otherwise.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kselftest_harness.h"
#include "lapic_util.h"

#define NR_VCPUS	4
#define DEFAULT_STEPS	4000
#define HISTORY		12

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* The readable x2APIC registers (KVM's kvm_lapic_readable_reg_mask()). */
static const __u32 x2_readable[] = {
	0x802, 0x803, 0x808, 0x80a, 0x80d, 0x80f,
	0x810, 0x811, 0x812, 0x813, 0x814, 0x815, 0x816, 0x817,
	0x818, 0x819, 0x81a, 0x81b, 0x81c, 0x81d, 0x81e, 0x81f,
	0x820, 0x821, 0x822, 0x823, 0x824, 0x825, 0x826, 0x827,
	0x828, 0x830, 0x832, 0x833, 0x834, 0x835, 0x836, 0x837,
	0x838, 0x839, 0x83e,
};

#define NR_X2_READABLE	ARRAY_SIZE(x2_readable)
/* APIC base, TSC deadline, then the x2APIC registers. */
#define NR_CHECK_MSRS	(2 + NR_X2_READABLE)
#define X2_TMCCT	0x839

/*
 * The operations, with their weights.  `on` is the switch for an operation
 * that diverges because of a known, reported bug: set it to false (with
 * the reason in `off_why`) to keep the test going past it, and back to
 * true once fixed.  The committed default runs everything that passes.
 */
enum op_kind {
	OP_SET_LAPIC,
	OP_APIC_BASE,
	OP_X2_WRITE,
	OP_X2_ICR,
	OP_MSR_BATCH,
	OP_MSR_READ,
	OP_TSC_DEADLINE,
	OP_MSI,
	OP_NMI,
	OP_INTERRUPT,
	OP_SET_MP,
	OP_GET_MP,
	OP_X2APIC_API,
	OP_SET_CPUID,
	OP_GSI_ROUTING,
	OP_GET_EVENTS,
	OP_SET_EVENTS,
	OP_SMI,
	NR_OPS
};

static struct {
	const char *name;
	unsigned int weight;
	bool on;
	const char *off_why;
} ops[NR_OPS] = {
	[OP_SET_LAPIC]		= { "KVM_SET_LAPIC",	  16, true },
	[OP_APIC_BASE]		= { "SET_MSRS(APIC_BASE)", 7, true },
	[OP_X2_WRITE]		= { "SET_MSRS(x2APIC)",	  18, true },
	[OP_X2_ICR]		= { "SET_MSRS(x2APIC ICR)", 14, true },
	[OP_MSR_BATCH]		= { "SET_MSRS(batch)",	   4, true },
	[OP_MSR_READ]		= { "GET_MSRS",		   5, true },
	[OP_TSC_DEADLINE]	= { "SET_MSRS(TSC_DEADLINE)", 2, true },
	[OP_MSI]		= { "KVM_SIGNAL_MSI",	  12, true },
	[OP_NMI]		= { "KVM_NMI",		   2, true },
	[OP_INTERRUPT]		= { "KVM_INTERRUPT",	   2, true },
	[OP_SET_MP]		= { "KVM_SET_MP_STATE",	   4, true },
	[OP_GET_MP]		= { "KVM_GET_MP_STATE",	   4, true },
	/* Not weighted: drawn mostly in the first tenth of a run (draw()). */
	[OP_X2APIC_API]		= { "ENABLE_CAP(X2APIC_API)", 0, true },
	[OP_SET_CPUID]		= { "KVM_SET_CPUID2",	   1, true },
	[OP_GSI_ROUTING]	= { "KVM_SET_GSI_ROUTING", 2, true },
	[OP_GET_EVENTS]		= { "KVM_GET_VCPU_EVENTS", 2, true },
	[OP_SET_EVENTS]		= { "KVM_SET_VCPU_EVENTS", 6, true },
	[OP_SMI]		= { "KVM_SMI",		   2, true },
};

struct side {
	const char *path;
	int dev, vm, vcpu[NR_VCPUS];
};

#define MAX_BATCH	4
#define MAX_CPUID	8
#define MAX_ROUTES	4

struct op {
	enum op_kind kind;
	int vcpu;
	__u64 a, b;
	struct kvm_msr_entry batch[MAX_BATCH];	/* OP_MSR_BATCH */
	struct kvm_irq_routing_entry routes[MAX_ROUTES]; /* OP_GSI_ROUTING */
	struct kvm_vcpu_events ev;	/* OP_SET_EVENTS */
	struct kvm_lapic_state st;	/* OP_SET_LAPIC */
	char desc[256];
};

/* What one side answered to an operation. */
struct answer {
	long ret;		/* return value, or -errno */
	__u64 val;		/* what a read returned */
};

/* Everything compared after a step, for one vCPU of one side. */
struct snap {
	long lapic_ret;
	struct kvm_lapic_state lapic;
	long mp_ret;
	__u32 mp;
	long msrs_ret;
	struct kvm_msr_entry msrs[NR_CHECK_MSRS];
	long cpuid_ret;
	__u32 nent;
	struct kvm_cpuid_entry2 cpuid[MAX_CPUID];
	long ev_ret;
	struct kvm_vcpu_events ev;
};

struct run {
	__u64 seed, rng;
	int steps, step;
	bool trace, mp_every_step;
	struct side s[2];
	/* Model state, to steer the generator (never compared). */
	__u64 x2api_flags;
	/* Per operation: how often drawn, and how often it succeeded. */
	unsigned int drawn[NR_OPS], ok[NR_OPS];
	/* vCPU-steps in x2APIC mode, with a software-enabled APIC. */
	unsigned int x2apic_steps, sw_enabled_steps;
	__u32 ids[NR_VCPUS];
	char history[HISTORY][288];
};

/* splitmix64: small, fast and the same everywhere. */
static __u64 rnd(struct run *r)
{
	__u64 z = (r->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static __u32 pick(struct run *r, __u32 n)
{
	return rnd(r) % n;
}

/* True with probability 1/n. */
static bool one_in(struct run *r, __u32 n)
{
	return pick(r, n) == 0;
}

static long res(long ret)
{
	return ret < 0 ? -errno : ret;
}

static int side_open(struct side *s, const char *path, const __u32 *ids)
{
	int i;

	memset(s, -1, sizeof(*s));
	s->path = path;
	s->dev = open(path, O_RDWR | O_CLOEXEC);
	if (s->dev < 0)
		return -1;
	s->vm = vm_create_split(s->dev);
	if (s->vm < 0)
		return -1;
	for (i = 0; i < NR_VCPUS; i++) {
		s->vcpu[i] = vcpu_create(s->vm, ids[i]);
		if (s->vcpu[i] < 0 || set_cpuid_x2apic(s->vcpu[i]))
			return -1;
	}
	return 0;
}

static void side_close(struct side *s)
{
	int i;

	for (i = 0; i < NR_VCPUS; i++)
		if (s->vcpu[i] >= 0)
			close(s->vcpu[i]);
	if (s->vm >= 0)
		close(s->vm);
	if (s->dev >= 0)
		close(s->dev);
}

/* Random values for the registers the operations write. */

static __u32 rnd_vector(struct run *r)
{
	return one_in(r, 16) ? pick(r, 16) : 16 + pick(r, 240);
}

static __u32 rnd_lvt(struct run *r)
{
	/* Fixed, SMI, NMI, INIT, ExtINT and the reserved modes. */
	__u32 v = rnd_vector(r) | pick(r, 8) << 8;

	if (!one_in(r, 3))
		v |= LVT_MASKED;
	if (one_in(r, 4))
		v |= BIT(15);		/* level */
	if (one_in(r, 4))
		v |= pick(r, 4) << 17;	/* timer mode */
	if (one_in(r, 8))
		v |= (__u32)rnd(r) & 0xfffe7000;	/* reserved, RO bits */
	return v;
}

static __u32 rnd_tmict(struct run *r)
{
	static const __u32 v[] = { 0, 0, 0x1000000, 0x7fffffff, 0xffffffff };

	return v[pick(r, 5)];
}

static __u32 rnd_spiv(struct run *r)
{
	__u32 v = (__u32)rnd(r) & 0xff;

	if (!one_in(r, 4))
		v |= APIC_SPIV_ENABLE;
	if (one_in(r, 4))
		v |= BIT(12);		/* directed EOI */
	if (one_in(r, 8))
		v |= (__u32)rnd(r) & 0xffffee00;
	return v;
}

/* A bit pattern for one IRR, ISR or TMR word. */
static __u32 rnd_vec_word(struct run *r)
{
	switch (pick(r, 4)) {
	case 0:
		return 0;
	case 1:
	case 2:
		return BIT(pick(r, 32));
	default:
		return (__u32)rnd(r);
	}
}

/* A destination id: mostly one of the vCPUs' ids, or the next one. */
static __u32 rnd_dest(struct run *r)
{
	__u32 i = pick(r, NR_VCPUS + 1);

	return i < NR_VCPUS ? r->ids[i] : r->ids[NR_VCPUS - 1] + 1;
}

static __u32 rnd_xapic_id(struct run *r)
{
	__u32 id = one_in(r, 4) ? pick(r, 256) : rnd_dest(r) & 0xff;

	return one_in(r, 8) ? (__u32)rnd(r) : id << 24;
}

static __u32 rnd_ldr(struct run *r)
{
	switch (pick(r, 4)) {
	case 0:
		return BIT(24 + pick(r, 8));		/* flat */
	case 1:
		return pick(r, 16) << 28 | BIT(24 + pick(r, 4));	/* cluster */
	case 2:
		return 0;
	default:
		return (__u32)rnd(r);
	}
}

/* A random change to one word of a KVM_SET_LAPIC page. */
static void mutate(struct run *r, struct kvm_lapic_state *st)
{
	static const __u32 lvts[] = {
		APIC_LVTT, APIC_LVTTHMR, APIC_LVTPC, APIC_LVT0, APIC_LVT1, APIC_LVTERR,
		APIC_LVTCMCI,
	};
	static const __u32 computed[] = { APIC_ARBPRI, APIC_PROCPRI, APIC_LVR, APIC_EOI };
	__u32 off;

	switch (pick(r, 16)) {
	case 0:
		lapic_set_reg(st, APIC_ID, rnd_xapic_id(r));
		break;
	case 1:
		lapic_set_reg(st, APIC_LDR, rnd_ldr(r));
		break;
	case 2:
		lapic_set_reg(st, APIC_DFR, one_in(r, 8) ? (__u32)rnd(r) :
			pick(r, 2) ? 0xffffffff : 0x0fffffff);
		break;
	case 3:
		lapic_set_reg(st, APIC_SPIV, rnd_spiv(r));
		break;
	case 4:
		lapic_set_reg(st, APIC_TASKPRI, one_in(r, 8) ? (__u32)rnd(r) : pick(r, 256));
		break;
	case 5:
	case 6:
		lapic_set_reg(st, lvts[pick(r, 7)], rnd_lvt(r));
		break;
	case 7:
		lapic_set_reg(st, APIC_ICR, (__u32)rnd(r));
		lapic_set_reg(st, APIC_ICR2, one_in(r, 2) ? pick(r, 4) << 24 :
			(__u32)rnd(r));
		break;
	case 8:
		lapic_set_reg(st, APIC_ESR, one_in(r, 2) ? 0 : (__u32)rnd(r));
		break;
	case 9:
	case 10:
	case 11:
		off = (pick(r, 3) == 0 ? APIC_ISR : pick(r, 2) ? APIC_IRR : APIC_TMR) +
		      0x10 * pick(r, 8);
		lapic_set_reg(st, off, rnd_vec_word(r));
		break;
	case 12:
		lapic_set_reg(st, APIC_TDCR, one_in(r, 8) ? (__u32)rnd(r) :
			pick(r, 16));
		lapic_set_reg(st, APIC_TMICT, rnd_tmict(r));
		break;
	case 13:
		/* Registers KVM recomputes or ignores: APR, PPR, LVR, EOI. */
		off = computed[pick(r, ARRAY_SIZE(computed))];
		lapic_set_reg(st, off, one_in(r, 2) ? pick(r, 256) : (__u32)rnd(r));
		break;
	case 14:
		lapic_set_reg(st, APIC_TMCCT, one_in(r, 2) ? 0 : (__u32)rnd(r));
		break;
	default:
		/* Any word, also reserved ones and the padding of a slot. */
		off = pick(r, 0x400 / 4) * 4;
		if (off == APIC_TMICT)
			break;
		lapic_set_reg(st, off, (__u32)rnd(r));
		break;
	}
}

static bool x2apic_mode(struct side *s, int vcpu)
{
	return (msr(s->vcpu[vcpu], MSR_IA32_APICBASE) & (APIC_BASE_EN | APIC_BASE_EXTD)) ==
	       (APIC_BASE_EN | APIC_BASE_EXTD);
}

static void draw_set_lapic(struct run *r, struct op *op)
{
	struct kvm_lapic_state *st = &op->st;
	__u32 id, spiv;
	int i, n;

	/* The current state, which is the same on both sides. */
	if (get_lapic(r->s[0].vcpu[op->vcpu], st))
		memset(st, 0, sizeof(*st));
	id = lapic_reg(st, APIC_ID);
	spiv = lapic_reg(st, APIC_SPIV);
	/* A few words, now and then a page far from the current one. */
	n = one_in(r, 32) ? 32 : 1 + pick(r, 4);
	for (i = 0; i < n; i++)
		mutate(r, st);
	/*
	 * In x2APIC mode with 32-bit IDs a changed ID fails with EINVAL, and
	 * KVM has applied the new SPIV before it refuses, lapicv has not (a
	 * documented difference, Documentation/api.rst): keep SPIV then, so
	 * that the refusal is still compared.
	 */
	if (lapic_reg(st, APIC_ID) != id && (r->x2api_flags & 1) &&
	    x2apic_mode(&r->s[0], op->vcpu))
		lapic_set_reg(st, APIC_SPIV, spiv);
	snprintf(op->desc, sizeof(op->desc),
		 "SET_LAPIC %d mutations (ID %#x LDR %#x SPIV %#x LVTT %#x TMICT %#x)",
		 n, lapic_reg(st, APIC_ID), lapic_reg(st, APIC_LDR), lapic_reg(st, APIC_SPIV),
		 lapic_reg(st, APIC_LVTT), lapic_reg(st, APIC_TMICT));
}

static __u64 rnd_base(struct run *r, int vcpu)
{
	static const __u64 modes[] = {
		APIC_BASE_EN | APIC_BASE_EXTD, APIC_BASE_EN | APIC_BASE_EXTD,
		APIC_BASE_EN | APIC_BASE_EXTD,
		APIC_BASE_EN, APIC_BASE_EN, 0, APIC_BASE_EXTD,
	};
	__u64 v = APIC_BASE_DEFAULT | modes[pick(r, 7)];

	if (vcpu == 0 ? !one_in(r, 8) : one_in(r, 8))
		v |= APIC_BASE_BSP;
	switch (pick(r, 24)) {
	case 0:
		v ^= APIC_BASE_DEFAULT ^ 0xfec00000ull;	/* moved */
		break;
	case 1:
		v |= BIT_ULL(pick(r, 8));		/* reserved 7:0 */
		break;
	case 2:
		v |= BIT_ULL(9);			/* reserved */
		break;
	case 3:
		v |= BIT_ULL(36 + pick(r, 28));		/* around MAXPHYADDR */
		break;
	}
	return v;
}

/* An x2APIC ICR value: every delivery mode, shorthand and destination. */
static __u64 rnd_icr(struct run *r)
{
	static const __u32 shorthand[] = { 0, 0, 0, 0x40000, 0x80000, 0xc0000 };
	__u64 dest, low;

	low = rnd_vector(r) | pick(r, 8) << 8;
	if (one_in(r, 3))
		low |= 0x800;			/* logical */
	if (!one_in(r, 4))
		low |= ICR_LEVEL_ASSERT;
	if (one_in(r, 4))
		low |= ICR_LEVEL_TRIG;
	if (one_in(r, 8))
		low |= BIT(12);			/* BUSY, dropped */
	low |= shorthand[pick(r, 6)];
	if (one_in(r, 20))
		low |= BIT(13 + pick(r, 19));	/* maybe reserved */
	if (low & 0x800) {
		/* Cluster 0..1, or broadcast, or anything. */
		dest = one_in(r, 8) ? 0xffffffffull :
		       one_in(r, 8) ? (__u32)rnd(r) :
		       (__u64)pick(r, 2) << 16 | pick(r, 16);
	} else {
		dest = one_in(r, 8) ? 0xffffffffull :
		       one_in(r, 10) ? (__u32)rnd(r) : rnd_dest(r);
	}
	return dest << 32 | low;
}

/* A write to an x2APIC register other than ICR. */
static void draw_x2_write(struct run *r, struct op *op)
{
	static const __u32 offs[] = {
		APIC_TASKPRI, APIC_TASKPRI, APIC_EOI, APIC_EOI, APIC_EOI, APIC_SPIV,
		APIC_SPIV, APIC_SELF_IPI, APIC_SELF_IPI, APIC_LVTT, APIC_LVTTHMR,
		APIC_LVTPC, APIC_LVT0, APIC_LVT1, APIC_LVTERR, APIC_TMICT, APIC_TDCR,
		APIC_ESR, APIC_ID, APIC_LDR, APIC_LVR, APIC_PROCPRI, APIC_ISR,
		APIC_IRR, APIC_TMR, APIC_DFR, APIC_ARBPRI, APIC_LVTCMCI, APIC_TMCCT,
		APIC_ICR2,
	};
	__u32 off = offs[pick(r, ARRAY_SIZE(offs))];
	__u64 v;

	if (one_in(r, 20))
		off = pick(r, 0x100) << 4;	/* any index in range */
	switch (off) {
	case APIC_TASKPRI:
		v = pick(r, 256);
		break;
	case APIC_EOI:
	case APIC_ESR:
		v = one_in(r, 4) ? pick(r, 256) : 0;
		break;
	case APIC_SPIV:
		v = rnd_spiv(r);
		break;
	case APIC_SELF_IPI:
		v = one_in(r, 8) ? pick(r, 0x1000) : rnd_vector(r);
		break;
	case APIC_LVTT ... APIC_LVTERR:
	case APIC_LVTCMCI:
		v = rnd_lvt(r);
		break;
	case APIC_TMICT:
		v = rnd_tmict(r);
		break;
	case APIC_TDCR:
		v = one_in(r, 8) ? (__u32)rnd(r) : pick(r, 16);
		break;
	default:
		v = (__u32)rnd(r);
		break;
	}
	if (one_in(r, 32))
		v |= BIT_ULL(32 + pick(r, 32));
	op->a = X2APIC_MSR(off);
	op->b = v;
	snprintf(op->desc, sizeof(op->desc), "SET_MSRS(%#llx = %#llx)",
		 (unsigned long long)op->a, (unsigned long long)op->b);
}

/* A vCPU in x2APIC mode, starting the search at @vcpu; else @vcpu. */
static int pick_x2apic_vcpu(struct run *r, int vcpu)
{
	int i;

	for (i = 0; i < NR_VCPUS; i++)
		if (x2apic_mode(&r->s[0], (vcpu + i) % NR_VCPUS))
			return (vcpu + i) % NR_VCPUS;
	return vcpu;
}

/*
 * A KVM_SET_MSRS of 2 to MAX_BATCH entries, which stops at the first that
 * fails: x2APIC registers, ICR, APIC base and TSC deadline.
 */
static void draw_msr_batch(struct run *r, struct op *op)
{
	struct op one;
	int i, n = 2 + pick(r, MAX_BATCH - 1), len;

	len = snprintf(op->desc, sizeof(op->desc), "SET_MSRS(");
	for (i = 0; i < n; i++) {
		one.vcpu = op->vcpu;
		switch (pick(r, 8)) {
		case 0:
			one.a = MSR_IA32_APICBASE;
			one.b = rnd_base(r, op->vcpu);
			break;
		case 1:
			one.a = MSR_IA32_TSC_DEADLINE;
			one.b = rnd(r) >> pick(r, 64);
			break;
		case 2:
		case 3:
			one.a = X2APIC_MSR(APIC_ICR);
			one.b = rnd_icr(r);
			break;
		default:
			draw_x2_write(r, &one);
			break;
		}
		op->batch[i].index = one.a;
		op->batch[i].data = one.b;
		if (len < (int)sizeof(op->desc))
			len += snprintf(op->desc + len, sizeof(op->desc) - len,
					"%s%#x=%#llx", i ? " " : "",
					op->batch[i].index,
					(unsigned long long)op->batch[i].data);
	}
	op->a = n;
	if (len < (int)sizeof(op->desc))
		snprintf(op->desc + len, sizeof(op->desc) - len, ")");
}

static void draw_msi(struct run *r, struct op *op)
{
	__u32 data, dest = one_in(r, 4) ? pick(r, 256) :
			   one_in(r, 4) ? 0xff : rnd_dest(r);
	__u64 lo, hi = 0;

	lo = 0xfee00000ull | (dest & 0xff) << 12;
	if (one_in(r, 3))
		lo |= 4;			/* logical */
	if (one_in(r, 4))
		lo |= 8;			/* redirection hint */
	if (one_in(r, 16))
		lo |= (__u32)rnd(r) & 0xff3;	/* other low bits */
	/* Destination bits 31:8 with KVM_X2APIC_API_USE_32BIT_IDS. */
	if (!one_in(r, 4))
		hi = one_in(r, 8) ? (__u32)rnd(r) : dest & ~0xffu;
	data = rnd_vector(r) | pick(r, 8) << 8;
	if (one_in(r, 4))
		data |= 0x8000;			/* level */
	if (one_in(r, 2))
		data |= 0x4000;			/* assert, ignored */
	if (one_in(r, 16))
		data |= (__u32)rnd(r) & 0xffff3800;
	op->a = hi << 32 | lo;
	op->b = data;
	snprintf(op->desc, sizeof(op->desc), "SIGNAL_MSI(addr %#llx data %#x)",
		 (unsigned long long)op->a, data);
}

/*
 * A routing table of up to MAX_ROUTES entries (op->a of them, op->b the
 * header's flags): mostly valid MSI routes of low GSIs, now and then a GSI
 * past KVM_MAX_IRQ_ROUTES, a GSI twice, flags, an IRQCHIP route (refused
 * with a split irqchip), an unknown type or address_hi[7:0] set.
 */
static void draw_gsi_routing(struct run *r, struct op *op)
{
	unsigned int i;
	int n;

	op->a = pick(r, MAX_ROUTES + 1);
	op->b = one_in(r, 30);
	for (i = 0; i < op->a; i++) {
		struct kvm_irq_routing_entry *e = &op->routes[i];

		e->gsi = one_in(r, 30) ? 4096 + pick(r, 4) : pick(r, 32);
		e->type = KVM_IRQ_ROUTING_MSI;
		if (one_in(r, 20))
			e->type = pick(r, 2) ? KVM_IRQ_ROUTING_IRQCHIP : 99;
		e->flags = one_in(r, 20) ? pick(r, 4) : 0;
		if (e->type == KVM_IRQ_ROUTING_IRQCHIP) {
			e->u.irqchip.irqchip = pick(r, 3);
			e->u.irqchip.pin = pick(r, 30);
			continue;
		}
		e->u.msi.address_lo = 0xfee00000 | (rnd_dest(r) & 0xff) << 12 |
				      (one_in(r, 4) ? 4 : 0);
		e->u.msi.address_hi = one_in(r, 10) ? pick(r, 256) : 0;
		e->u.msi.data = rnd_vector(r) | (one_in(r, 2) ? 1u << 15 : 0);
	}
	n = snprintf(op->desc, sizeof(op->desc), "SET_GSI_ROUTING(flags %llu:",
		     (unsigned long long)op->b);
	for (i = 0; i < op->a && n < (int)sizeof(op->desc); i++)
		n += snprintf(op->desc + n, sizeof(op->desc) - n,
			      " gsi %u type %u flags %u %#x/%#x/%#x",
			      op->routes[i].gsi, op->routes[i].type,
			      op->routes[i].flags, op->routes[i].u.msi.address_lo,
			      op->routes[i].u.msi.address_hi,
			      op->routes[i].u.msi.data);
	if (n < (int)sizeof(op->desc))
		snprintf(op->desc + n, sizeof(op->desc) - n, ")");
}

/*
 * KVM_SET_VCPU_EVENTS: the current events with a few fields changed, or
 * random bytes everywhere; the valid flags in any combination, now and
 * then one that fails (the payload flag, an unknown bit), never SMM entry
 * nor the triple-fault flag (see the top of the file).
 */
static void draw_set_events(struct run *r, struct op *op)
{
	struct kvm_vcpu_events *e = &op->ev;
	__u8 *b = (__u8 *)e;
	unsigned int i, n;

	/* The GET is repeated by the snapshot on both sides: no drift. */
	if (one_in(r, 2) ||
	    ioctl(r->s[0].vcpu[op->vcpu], KVM_GET_VCPU_EVENTS, e)) {
		for (i = 0; i < sizeof(*e); i++)
			b[i] = one_in(r, 2) ? 0 : (__u8)rnd(r);
	} else {
		n = 1 + pick(r, 3);
		for (i = 0; i < n; i++)
			b[pick(r, sizeof(*e))] = (__u8)rnd(r);
	}
	e->exception.injected = one_in(r, 3);
	e->exception.nr = one_in(r, 8) ? (__u8)rnd(r) :
			  one_in(r, 16) ? 2 : pick(r, 32);
	e->interrupt.injected = one_in(r, 3);
	e->nmi.injected = one_in(r, 4);
	e->nmi.pending = one_in(r, 4) ? (__u8)rnd(r) : pick(r, 3);
	e->nmi.masked = one_in(r, 2) ? 0 : (__u8)rnd(r);
	e->smi.smm = 0;
	e->smi.pending = one_in(r, 3);
	e->smi.latched_init = one_in(r, 6);
	e->flags = pick(r, 16);
	if (one_in(r, 20))
		e->flags |= KVM_VCPUEVENT_VALID_PAYLOAD;
	if (one_in(r, 20))
		e->flags |= BIT(6 + pick(r, 26));
	snprintf(op->desc, sizeof(op->desc),
		 "SET_VCPU_EVENTS(flags %#x exc %u/%u/%u/%#x intr %u/%u/%u/%u nmi %u/%u/%u sipi %#x smi %u/%u/%u)",
		 e->flags, e->exception.injected, e->exception.nr,
		 e->exception.has_error_code, e->exception.error_code,
		 e->interrupt.injected, e->interrupt.nr, e->interrupt.soft,
		 e->interrupt.shadow, e->nmi.injected, e->nmi.pending,
		 e->nmi.masked, e->sipi_vector, e->smi.pending,
		 e->smi.smm_inside_nmi, e->smi.latched_init);
}

static enum op_kind draw_kind(struct run *r)
{
	unsigned int total = 0, w, k;

	for (k = 0; k < NR_OPS; k++)
		total += ops[k].on ? ops[k].weight : 0;
	w = pick(r, total);
	for (k = 0; k < NR_OPS; k++) {
		if (!ops[k].on)
			continue;
		if (w < ops[k].weight)
			return k;
		w -= ops[k].weight;
	}
	return OP_NMI;
}

/* Draw the next operation and describe it in op->desc. */
static void draw(struct run *r, struct op *op)
{
	/* Mostly with x2APIC, or the x2APIC operations all fail. */
	static const __u32 cpuid_ecx[] = {
		CPUID1_ECX_X2APIC | CPUID1_ECX_TSC_DEADLINE,
		CPUID1_ECX_X2APIC | CPUID1_ECX_TSC_DEADLINE,
		CPUID1_ECX_X2APIC | CPUID1_ECX_TSC_DEADLINE, CPUID1_ECX_X2APIC,
		CPUID1_ECX_X2APIC, CPUID1_ECX_TSC_DEADLINE, 0,
	};
	/* 64 and up: no address bit reserved (KVM's rsvd_bits()). */
	static const unsigned int phys[] = { 48, 48, 40, 36, 0, 64, 255 };
	static const __u64 deadlines[] = { 0, 1, 1ull << 62, ~0ull };

	memset(op, 0, offsetof(struct op, ev));
	op->vcpu = pick(r, NR_VCPUS);
	/*
	 * X2APIC_API: a few times in the first tenth of the run, as a VMM
	 * does before its vCPUs run, and rarely later (the flags only ever
	 * get set, and the APIC map is not rebuilt for them).
	 */
	if (ops[OP_X2APIC_API].on &&
	    one_in(r, r->step <= r->steps / 10 + 1 ? 20 : 1000))
		op->kind = OP_X2APIC_API;
	else
		op->kind = draw_kind(r);

	/* x2APIC MSR writes fail in xAPIC mode: prefer x2APIC vCPUs. */
	if ((op->kind == OP_X2_WRITE || op->kind == OP_X2_ICR ||
	     op->kind == OP_MSR_BATCH) && !one_in(r, 4))
		op->vcpu = pick_x2apic_vcpu(r, op->vcpu);

	switch (op->kind) {
	case OP_SET_LAPIC:
		draw_set_lapic(r, op);
		return;
	case OP_APIC_BASE:
		op->a = rnd_base(r, op->vcpu);
		snprintf(op->desc, sizeof(op->desc), "SET_MSRS(APIC_BASE = %#llx)",
			 (unsigned long long)op->a);
		return;
	case OP_X2_WRITE:
		draw_x2_write(r, op);
		return;
	case OP_MSR_BATCH:
		draw_msr_batch(r, op);
		return;
	case OP_X2_ICR:
		op->a = X2APIC_MSR(APIC_ICR);
		op->b = rnd_icr(r);
		snprintf(op->desc, sizeof(op->desc), "SET_MSRS(ICR = %#llx)",
			 (unsigned long long)op->b);
		return;
	case OP_MSR_READ:
		op->a = one_in(r, 10) ? (pick(r, 2) ? MSR_IA32_APICBASE :
						      MSR_IA32_TSC_DEADLINE) :
			0x800 + pick(r, 0x100);
		/* What the VMM leaves in .data: a failed read leaves it. */
		op->b = one_in(r, 2) ? 0 : rnd(r);
		snprintf(op->desc, sizeof(op->desc), "GET_MSRS(%#llx, data in %#llx)",
			 (unsigned long long)op->a, (unsigned long long)op->b);
		return;
	case OP_TSC_DEADLINE:
		op->b = deadlines[pick(r, ARRAY_SIZE(deadlines))];
		snprintf(op->desc, sizeof(op->desc), "SET_MSRS(TSC_DEADLINE = %#llx)",
			 (unsigned long long)op->b);
		return;
	case OP_MSI:
		draw_msi(r, op);
		return;
	case OP_NMI:
		snprintf(op->desc, sizeof(op->desc), "KVM_NMI");
		return;
	case OP_INTERRUPT:
		op->a = one_in(r, 10) ? 256 + pick(r, 100) : pick(r, 256);
		snprintf(op->desc, sizeof(op->desc), "KVM_INTERRUPT(%llu)",
			 (unsigned long long)op->a);
		return;
	case OP_SET_MP:
		op->a = pick(r, 10);
		snprintf(op->desc, sizeof(op->desc), "SET_MP_STATE(%llu)",
			 (unsigned long long)op->a);
		return;
	case OP_GET_MP:
		snprintf(op->desc, sizeof(op->desc), "GET_MP_STATE");
		return;
	case OP_X2APIC_API:
		op->a = one_in(r, 8) ? BIT_ULL(pick(r, 64)) : pick(r, 4);
		snprintf(op->desc, sizeof(op->desc), "ENABLE_CAP(X2APIC_API, %#llx)",
			 (unsigned long long)op->a);
		return;
	case OP_SET_CPUID:
		op->a = cpuid_ecx[pick(r, ARRAY_SIZE(cpuid_ecx))];
		op->b = phys[pick(r, ARRAY_SIZE(phys))];
		snprintf(op->desc, sizeof(op->desc), "SET_CPUID2(ecx1 %#llx, phys %llu)",
			 (unsigned long long)op->a, (unsigned long long)op->b);
		return;
	case OP_GSI_ROUTING:
		draw_gsi_routing(r, op);
		return;
	case OP_GET_EVENTS:
		snprintf(op->desc, sizeof(op->desc), "GET_VCPU_EVENTS");
		return;
	case OP_SET_EVENTS:
		draw_set_events(r, op);
		return;
	case OP_SMI:
		snprintf(op->desc, sizeof(op->desc), "KVM_SMI");
		return;
	case NR_OPS:
		break;
	}
}

static struct answer apply(struct side *s, const struct op *op)
{
	struct answer ans = { 0, 0 };
	int fd = s->vcpu[op->vcpu];
	struct kvm_vcpu_events ev;
	struct kvm_enable_cap cap;
	struct kvm_interrupt irq;
	struct kvm_lapic_state st;
	struct kvm_mp_state mp;
	struct kvm_msi msi;
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[MAX_BATCH];
	} m;
	struct {
		struct kvm_irq_routing hdr;
		struct kvm_irq_routing_entry e[MAX_ROUTES];
	} rt;

	switch (op->kind) {
	case OP_SET_LAPIC:
		st = op->st;
		ans.ret = res(set_lapic(fd, &st));
		break;
	case OP_APIC_BASE:
		ans.ret = res(set_msr(fd, MSR_IA32_APICBASE, op->a));
		break;
	case OP_X2_WRITE:
	case OP_X2_ICR:
		ans.ret = res(set_msr(fd, op->a, op->b));
		break;
	case OP_MSR_READ:
		memset(&m, 0, sizeof(m));
		m.hdr.nmsrs = 1;
		m.e[0].index = op->a;
		m.e[0].data = op->b;
		ans.ret = res(ioctl(fd, KVM_GET_MSRS, &m));
		ans.val = op->a == X2_TMCCT ? 0 : m.e[0].data;
		break;
	case OP_MSR_BATCH:
		memset(&m, 0, sizeof(m));
		m.hdr.nmsrs = op->a;
		memcpy(m.e, op->batch, sizeof(m.e));
		ans.ret = res(ioctl(fd, KVM_SET_MSRS, &m));
		break;
	case OP_TSC_DEADLINE:
		ans.ret = res(set_msr(fd, MSR_IA32_TSC_DEADLINE, op->b));
		break;
	case OP_MSI:
		memset(&msi, 0, sizeof(msi));
		msi.address_lo = (__u32)op->a;
		msi.address_hi = op->a >> 32;
		msi.data = op->b;
		ans.ret = res(ioctl(s->vm, KVM_SIGNAL_MSI, &msi));
		break;
	case OP_NMI:
		ans.ret = res(ioctl(fd, KVM_NMI));
		break;
	case OP_INTERRUPT:
		irq.irq = op->a;
		ans.ret = res(ioctl(fd, KVM_INTERRUPT, &irq));
		break;
	case OP_SET_MP:
		ans.ret = res(set_mp_state(fd, op->a));
		break;
	case OP_GET_MP:
		mp.mp_state = ~0u;
		ans.ret = res(ioctl(fd, KVM_GET_MP_STATE, &mp));
		ans.val = mp.mp_state;
		break;
	case OP_X2APIC_API:
		memset(&cap, 0, sizeof(cap));
		cap.cap = KVM_CAP_X2APIC_API;
		cap.args[0] = op->a;
		ans.ret = res(ioctl(s->vm, KVM_ENABLE_CAP, &cap));
		break;
	case OP_SET_CPUID:
		ans.ret = res(set_cpuid(fd, op->a, op->b));
		break;
	case OP_GSI_ROUTING:
		memset(&rt, 0, sizeof(rt));
		rt.hdr.nr = op->a;
		rt.hdr.flags = op->b;
		memcpy(rt.e, op->routes, sizeof(rt.e));
		ans.ret = res(ioctl(s->vm, KVM_SET_GSI_ROUTING, &rt));
		break;
	case OP_GET_EVENTS:
		/* The struct itself is compared by the snapshot. */
		ans.ret = res(ioctl(fd, KVM_GET_VCPU_EVENTS, &ev));
		break;
	case OP_SET_EVENTS:
		ev = op->ev;
		ans.ret = res(ioctl(fd, KVM_SET_VCPU_EVENTS, &ev));
		break;
	case OP_SMI:
		ans.ret = res(ioctl(fd, KVM_SMI));
		break;
	case NR_OPS:
		break;
	}
	return ans;
}

static void take_snap(struct side *s, int vcpu, bool with_mp, struct snap *sn)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[NR_CHECK_MSRS];
	} m;
	struct {
		struct kvm_cpuid2 hdr;
		struct kvm_cpuid_entry2 e[MAX_CPUID];
	} c;
	struct kvm_mp_state mp = { .mp_state = ~0u };
	unsigned int i;
	int fd = s->vcpu[vcpu];

	memset(sn, 0, sizeof(*sn));
	sn->lapic_ret = res(get_lapic(fd, &sn->lapic));
	lapic_set_reg(&sn->lapic, APIC_TMCCT, 0);
	if (with_mp) {
		sn->mp_ret = res(ioctl(fd, KVM_GET_MP_STATE, &mp));
		sn->mp = mp.mp_state;
	}
	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = NR_CHECK_MSRS;
	m.e[0].index = MSR_IA32_APICBASE;
	m.e[1].index = MSR_IA32_TSC_DEADLINE;
	for (i = 0; i < NR_X2_READABLE; i++)
		m.e[2 + i].index = x2_readable[i];
	sn->msrs_ret = res(ioctl(fd, KVM_GET_MSRS, &m));
	for (i = 0; i < NR_CHECK_MSRS; i++) {
		sn->msrs[i] = m.e[i];
		if (m.e[i].index == X2_TMCCT)
			sn->msrs[i].data = 0;
	}
	/* CPUID.1:EDX.APIC follows the APIC base's EN bit. */
	memset(&c, 0, sizeof(c));
	c.hdr.nent = MAX_CPUID;
	sn->cpuid_ret = res(ioctl(fd, KVM_GET_CPUID2, &c));
	sn->nent = c.hdr.nent;
	memcpy(sn->cpuid, c.e, sizeof(sn->cpuid));
	/* Poisoned first: every byte must come from the device. */
	memset(&sn->ev, 0xa5, sizeof(sn->ev));
	sn->ev_ret = res(ioctl(fd, KVM_GET_VCPU_EVENTS, &sn->ev));
}

static void log_events(struct __test_metadata *_metadata, int vcpu,
		       const char *who, const struct kvm_vcpu_events *e)
{
	const __u8 *b = (const __u8 *)e;
	char hex[2 * sizeof(*e) + 1];
	unsigned int i;

	for (i = 0; i < sizeof(*e); i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	TH_LOG("vCPU %d %s: exc %u/%u/%u/%#x intr %u/%u/%u/%u nmi %u/%u/%u fl %#x smi %u/%u/%u/%u",
	       vcpu, who, e->exception.injected, e->exception.nr,
	       e->exception.has_error_code, e->exception.error_code,
	       e->interrupt.injected, e->interrupt.nr, e->interrupt.soft,
	       e->interrupt.shadow, e->nmi.injected, e->nmi.pending,
	       e->nmi.masked, e->flags, e->smi.smm, e->smi.pending,
	       e->smi.smm_inside_nmi, e->smi.latched_init);
	TH_LOG("  bytes %s", hex);
}

static void log_history(struct __test_metadata *_metadata, struct run *r)
{
	int i, first = r->step > HISTORY ? r->step - HISTORY + 1 : 1;

	TH_LOG("the last operations (LAPICV_DIFF_TRACE=1 prints all):");
	for (i = first; i <= r->step; i++)
		TH_LOG("  step %d: %s", i, r->history[i % HISTORY]);
}

/* Compare two snapshots; log a diff and return false if they differ. */
static bool same_snap(struct __test_metadata *_metadata, struct run *r,
		      int vcpu, const struct snap *a, const struct snap *b)
{
	bool same = true;
	unsigned int i;
	int off;

	if (a->lapic_ret != b->lapic_ret) {
		TH_LOG("vCPU %d GET_LAPIC: lapicv %ld kvm %ld", vcpu,
		       a->lapic_ret, b->lapic_ret);
		same = false;
	}
	for (off = 0; off < 0x400; off += 4) {
		if (lapic_reg(&a->lapic, off) == lapic_reg(&b->lapic, off))
			continue;
		TH_LOG("vCPU %d GET_LAPIC reg %#05x: lapicv 0x%08x kvm 0x%08x",
		       vcpu, off, lapic_reg(&a->lapic, off), lapic_reg(&b->lapic, off));
		same = false;
	}
	if (a->mp_ret != b->mp_ret || a->mp != b->mp) {
		TH_LOG("vCPU %d GET_MP_STATE: lapicv %ld/%u kvm %ld/%u", vcpu,
		       a->mp_ret, a->mp, b->mp_ret, b->mp);
		same = false;
	}
	if (a->msrs_ret != b->msrs_ret) {
		TH_LOG("vCPU %d GET_MSRS count: lapicv %ld kvm %ld", vcpu,
		       a->msrs_ret, b->msrs_ret);
		same = false;
	}
	for (i = 0; i < NR_CHECK_MSRS; i++) {
		if (a->msrs[i].data == b->msrs[i].data)
			continue;
		TH_LOG("vCPU %d MSR %#x: lapicv %#llx kvm %#llx", vcpu,
		       a->msrs[i].index, (unsigned long long)a->msrs[i].data,
		       (unsigned long long)b->msrs[i].data);
		same = false;
	}
	if (a->cpuid_ret != b->cpuid_ret || a->nent != b->nent) {
		TH_LOG("vCPU %d GET_CPUID2: lapicv %ld/%u entries kvm %ld/%u",
		       vcpu, a->cpuid_ret, a->nent, b->cpuid_ret, b->nent);
		same = false;
	}
	for (i = 0; i < MAX_CPUID; i++) {
		const struct kvm_cpuid_entry2 *x = &a->cpuid[i], *y = &b->cpuid[i];

		if (!memcmp(x, y, sizeof(*x)))
			continue;
		TH_LOG("vCPU %d CPUID entry %u lapicv: %#x.%u flags %#x %#x %#x %#x %#x",
		       vcpu, i, x->function, x->index, x->flags, x->eax,
		       x->ebx, x->ecx, x->edx);
		TH_LOG("vCPU %d CPUID entry %u kvm:    %#x.%u flags %#x %#x %#x %#x %#x",
		       vcpu, i, y->function, y->index, y->flags, y->eax,
		       y->ebx, y->ecx, y->edx);
		same = false;
	}
	if (a->ev_ret != b->ev_ret || memcmp(&a->ev, &b->ev, sizeof(a->ev))) {
		TH_LOG("vCPU %d GET_VCPU_EVENTS: lapicv %ld kvm %ld", vcpu,
		       a->ev_ret, b->ev_ret);
		log_events(_metadata, vcpu, "events lapicv", &a->ev);
		log_events(_metadata, vcpu, "events kvm   ", &b->ev);
		same = false;
	}
	(void)r;
	return same;
}

static bool same_state(struct __test_metadata *_metadata, struct run *r,
		       bool with_mp)
{
	struct snap a, b;
	bool same = true;
	int i;

	for (i = 0; i < NR_VCPUS; i++) {
		take_snap(&r->s[0], i, with_mp, &a);
		take_snap(&r->s[1], i, with_mp, &b);
		if (!same_snap(_metadata, r, i, &a, &b))
			same = false;
		r->x2apic_steps += a.msrs_ret > 2;
		r->sw_enabled_steps += !!(lapic_reg(&a.lapic, APIC_SPIV) & APIC_SPIV_ENABLE);
	}
	return same;
}

static __u64 env_u64(const char *name, __u64 dflt)
{
	const char *e = getenv(name);

	return e && *e ? strtoull(e, NULL, 0) : dflt;
}

/* One seed for the whole binary, taken before the harness forks a test. */
static __u64 diff_seed;

static void __attribute__((constructor)) pick_seed(void)
{
	diff_seed = env_u64("LAPICV_DIFF_SEED", (__u64)time(NULL));
}

static void run_diff(struct __test_metadata *_metadata, bool mp_every_step,
		     const __u32 *ids)
{
	static struct run run;
	struct run *r = &run;
	struct answer a, b;
	struct op op;
	int k;

	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no /dev/kvm to compare with (kvm_amd not loaded)");
	if (access("/dev/lapicv", R_OK | W_OK))
		SKIP(return, "no /dev/lapicv (lapicv not loaded)");

	memset(r, 0, sizeof(*r));
	r->seed = diff_seed;
	r->steps = env_u64("LAPICV_DIFF_STEPS", DEFAULT_STEPS);
	r->trace = env_u64("LAPICV_DIFF_TRACE", 0);
	r->mp_every_step = mp_every_step;
	memcpy(r->ids, ids, sizeof(r->ids));
	/* The runs draw different sequences from one seed. */
	r->rng = r->seed * 4 + mp_every_step + 2 * (ids[NR_VCPUS - 1] > 255);
	for (k = 0; k < NR_OPS; k++)
		if (!ops[k].on)
			TH_LOG("operation %s excluded: %s", ops[k].name,
			       ops[k].off_why);
	TH_LOG("seed %llu (LAPICV_DIFF_SEED=%llu), %d steps",
	       (unsigned long long)r->seed, (unsigned long long)r->seed,
	       r->steps);

	ASSERT_OK(side_open(&r->s[0], "/dev/lapicv", r->ids));
	ASSERT_OK(side_open(&r->s[1], "/dev/kvm", r->ids));
	ASSERT_TRUE(same_state(_metadata, r, true))
		TH_LOG("seed %llu: the two VMs differ before any operation",
		       (unsigned long long)r->seed);

	for (r->step = 1; r->step <= r->steps; r->step++) {
		draw(r, &op);
		snprintf(r->history[r->step % HISTORY], sizeof(r->history[0]),
			 "vCPU %d %s", op.vcpu, op.desc);
		if (r->trace)
			TH_LOG("step %d: vCPU %d %s", r->step, op.vcpu, op.desc);
		a = apply(&r->s[0], &op);
		b = apply(&r->s[1], &op);
		if (op.kind == OP_X2APIC_API && a.ret == 0)
			r->x2api_flags |= op.a;
		r->drawn[op.kind]++;
		/* SET_MSRS and GET_MSRS count, MSI counts the vCPUs. */
		if (a.ret > 0 || (a.ret == 0 && op.kind != OP_MSI &&
				  op.kind != OP_APIC_BASE &&
				  op.kind != OP_X2_WRITE && op.kind != OP_X2_ICR &&
				  op.kind != OP_MSR_READ &&
				  op.kind != OP_MSR_BATCH &&
				  op.kind != OP_TSC_DEADLINE))
			r->ok[op.kind]++;
		if (a.ret != b.ret || a.val != b.val) {
			log_history(_metadata, r);
			TH_LOG("seed %llu step %d vCPU %d %s: lapicv %ld (%#llx) kvm %ld (%#llx)",
			       (unsigned long long)r->seed, r->step, op.vcpu,
			       op.desc, a.ret, (unsigned long long)a.val,
			       b.ret, (unsigned long long)b.val);
			ASSERT_TRUE(false);
		}
		if (!same_state(_metadata, r, r->mp_every_step)) {
			log_history(_metadata, r);
			TH_LOG("seed %llu step %d: state differs after vCPU %d %s",
			       (unsigned long long)r->seed, r->step, op.vcpu,
			       op.desc);
			ASSERT_TRUE(false);
		}
	}
	TH_LOG("seed %llu: %d steps, no divergence",
	       (unsigned long long)r->seed, r->steps);
	TH_LOG("  vCPU-steps: %u, in x2APIC mode %u, software-enabled %u",
	       r->steps * NR_VCPUS, r->x2apic_steps, r->sw_enabled_steps);
	TH_LOG("  operation: drawn, succeeded (an MSI: delivered to a vCPU)");
	for (k = 0; k < NR_OPS; k++)
		TH_LOG("  %-24s %6u %6u",
		       ops[k].name, r->drawn[k], r->ok[k]);
	side_close(&r->s[0]);
	side_close(&r->s[1]);
}

FIXTURE(diff) {
};

FIXTURE_VARIANT(diff) {
	bool mp_every_step;
	__u32 ids[NR_VCPUS];
};

/* GET_MP_STATE after every step: a pending INIT or SIPI is accepted at once. */
FIXTURE_VARIANT_ADD(diff, mp_every_step) {
	.mp_every_step = true,
	.ids = { 0, 1, 2, 3 },
};

/* MP state only as a random operation: INIT and SIPI stay pending a while. */
FIXTURE_VARIANT_ADD(diff, mp_as_op) {
	.mp_every_step = false,
	.ids = { 0, 1, 2, 3 },
};

/*
 * vCPU ids around 255: 0xff is the xAPIC broadcast, 0x100's xAPIC ID
 * wraps to 0 and only 32-bit x2APIC ids reach it.
 */
FIXTURE_VARIANT_ADD(diff, wide_ids) {
	.mp_every_step = false,
	.ids = { 0, 1, 0xff, 0x100 },
};

FIXTURE_SETUP(diff)
{
}

FIXTURE_TEARDOWN(diff)
{
}

/* Long runs (LAPICV_DIFF_STEPS) may take minutes in a TCG guest. */
TEST_F_TIMEOUT(diff, random_ops, 900)
{
	run_diff(_metadata, variant->mp_every_step, variant->ids);
}

TEST_HARNESS_MAIN
