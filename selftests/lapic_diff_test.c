// SPDX-License-Identifier: GPL-2.0-only
/*
 * Differential test: the same seeded random sequence of operations that
 * need no guest execution (KVM_SET_LAPIC mutations, APIC base writes,
 * x2APIC MSR reads and writes including ICR IPIs, MSIs, NMIs, ExtINTs,
 * MP state and CPUID changes) is applied to a lapicv VM and to a KVM VM
 * side by side.  Every return value must match, and after each step every
 * vCPU's KVM_GET_LAPIC (TMCCT masked), MP state and APIC base must too.
 *
 * Needs both /dev/lapicv and /dev/kvm; skips otherwise.  LAPICV_DIFF_SEED
 * picks the seed (default: time), LAPICV_DIFF_STEPS the length (default
 * 2000).  The seed is printed first, and again with any divergence.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kselftest_harness.h"
#include "lapic_util.h"

#define NR		4
#define DEFAULT_STEPS	2000

struct side {
	int dev, vm, vcpu[NR];
};

static __u64 rng;

static __u64 rnd(void)
{
	/* xorshift64*: small, fast and the same on every libc. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

static __u32 pick(__u32 n)
{
	return rnd() % n;
}

static int side_open(struct side *s, const char *path, bool x2api)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X2APIC_API,
		.args[0] = KVM_X2APIC_API_USE_32BIT_IDS,
	};
	int i;

	s->dev = open(path, O_RDWR | O_CLOEXEC);
	if (s->dev < 0)
		return -1;
	s->vm = vm_create_split(s->dev);
	if (s->vm < 0)
		return -1;
	if (x2api && ioctl(s->vm, KVM_ENABLE_CAP, &cap))
		return -1;
	for (i = 0; i < NR; i++) {
		s->vcpu[i] = vcpu_create(s->vm, i);
		if (s->vcpu[i] < 0 || set_cpuid_x2apic(s->vcpu[i]))
			return -1;
	}
	return 0;
}

static void side_close(struct side *s)
{
	int i;

	for (i = 0; i < NR; i++)
		close(s->vcpu[i]);
	close(s->vm);
	close(s->dev);
}

/* A return value and errno, so that both can be compared at once. */
static long res(long r)
{
	return r < 0 ? -errno : r;
}

static const __u32 lvt_offs[] = {
	R_LVTT, R_LVTTHMR, R_LVTPC, R_LVT0, R_LVT1, R_LVTERR, R_CMCI,
};

static __u32 rnd_lvt(void)
{
	static const __u32 modes[] = { 0x000, 0x200, 0x400, 0x500, 0x700 };

	return (rnd() & 0x3f0ff) | modes[pick(5)] | (pick(2) ? LVT_MASKED : 0);
}

static __u32 rnd_tmict(void)
{
	/* Long or no counts: short periodic timers only burn CPU. */
	static const __u32 v[] = { 0, 0x1000000, 0xffffffff };

	return v[pick(3)];
}

/* A random write to one register of a KVM_SET_LAPIC page. */
static void mutate(struct kvm_lapic_state *st)
{
	__u32 off, v;

	switch (pick(12)) {
	case 0:
		set_reg(st, R_TPR, rnd() & 0xff);
		break;
	case 1:
		set_reg(st, R_SPIV, (rnd() & 0x12ff) | (pick(4) ? SPIV_ENABLE : 0));
		break;
	case 2:
		set_reg(st, lvt_offs[pick(7)], rnd_lvt());
		break;
	case 3:
		v = pick(2) ? pick(NR + 1) : rnd();
		set_reg(st, R_ID, pick(2) ? v << 24 : v);
		break;
	case 4:
		set_reg(st, R_LDR, pick(2) ? 1u << (24 + pick(8)) : rnd());
		break;
	case 5:
		set_reg(st, R_DFR, pick(2) ? 0xffffffff : 0x0fffffff);
		break;
	case 6:
		set_reg(st, R_ICR, rnd());
		set_reg(st, R_ICR2, rnd());
		break;
	case 7:
	case 8:
		off = (pick(3) == 0 ? R_ISR : pick(2) ? R_IRR : R_TMR) +
		      0x10 * pick(8);
		set_reg(st, off, pick(2) ? 1u << pick(32) : 0);
		break;
	case 9:
		set_reg(st, R_TDCR, rnd() & 0xb);
		set_reg(st, R_TMICT, rnd_tmict());
		break;
	case 10:
		set_reg(st, R_ESR, pick(4) ? 0 : rnd());
		set_reg(st, R_APR, pick(4) ? 0 : rnd());
		break;
	default:
		set_reg(st, R_PPR, rnd() & 0xff);
		break;
	}
}

static __u64 rnd_base(void)
{
	static const __u64 v[] = {
		BASE_DEFAULT | BASE_EN, BASE_DEFAULT | BASE_EN | BASE_EXTD,
		BASE_DEFAULT, BASE_DEFAULT | BASE_EXTD,
		0xfed00000 | BASE_EN, BASE_DEFAULT | BASE_EN | BIT_ULL(9),
		BASE_DEFAULT | BASE_EN | BIT_ULL(47),
		BASE_DEFAULT | BASE_EN | BIT_ULL(50),
	};

	return v[pick(8)] | (pick(4) ? 0 : BASE_BSP);
}

static __u64 rnd_icr(void)
{
	static const __u32 sh[] = { 0, ICR_SELF, 0x80000, ICR_ALLBUT };
	__u64 dest = pick(4) ? pick(NR + 1) : (pick(2) ? 0xffffffff : rnd());
	__u64 low = (rnd() & 0xff) | (__u64)pick(8) << 8 |
		    (pick(2) ? 0x800 : 0) | (pick(4) ? ICR_ASSERT : 0) |
		    (pick(4) ? 0 : ICR_LEVEL) | sh[pick(4)];

	if (!pick(16))
		low |= rnd() & 0xfff33000;	/* reserved bits, now and then */
	return dest << 32 | low;
}

static const __u32 wr_offs[] = {
	R_ID, R_TPR, R_EOI, R_LDR, R_SPIV, R_ESR, R_ICR, R_ICR, R_ICR, R_LVTT,
	R_LVTTHMR, R_LVTPC, R_LVT0, R_LVT1, R_LVTERR, R_CMCI, R_TMICT, R_TDCR,
	R_SELF_IPI, R_PPR, R_ISR, R_DFR,
};

/* A value and offset for an x2APIC MSR write. */
static void rnd_x2_write(__u32 *msr_idx, __u64 *val)
{
	__u32 off = wr_offs[pick(ARRAY_SIZE(wr_offs))];

	*msr_idx = X2MSR(off);
	switch (off) {
	case R_ICR:
		*val = rnd_icr();
		return;
	case R_SPIV:
		*val = (rnd() & 0x13ff) | (pick(4) ? SPIV_ENABLE : 0);
		break;
	case R_TMICT:
		*val = rnd_tmict();
		break;
	case R_SELF_IPI:
		*val = pick(8) ? rnd() & 0xff : rnd() & 0xfff;
		break;
	case R_EOI:
	case R_ESR:
		*val = pick(4) ? 0 : rnd() & 0xff;
		break;
	default:
		*val = off >= R_LVTT && off <= R_LVTERR ? rnd_lvt() :
							   rnd() & 0xffffffff;
		break;
	}
	if (!pick(32))
		*val |= BIT_ULL(32 + pick(32));
}

struct step {
	const char *what;
	int vcpu;
	__u64 a, b;
};

/* Apply one operation to @s; returns what the VMM would see. */
static long apply(struct side *s, const struct step *op,
		  struct kvm_lapic_state *st, __u64 *out)
{
	struct kvm_msi msi;
	struct kvm_interrupt irq;
	int fd = s->vcpu[op->vcpu];

	*out = 0;
	switch (op->what[0]) {
	case 'L':	/* SET_LAPIC of st */
		return res(set_lapic(fd, st));
	case 'B':	/* APIC base */
		return res(set_msr(fd, MSR_APICBASE, op->a));
	case 'W':	/* x2APIC write */
		return res(set_msr(fd, (__u32)op->a, op->b));
	case 'R':	/* x2APIC read; TMCCT's value is masked */
		return res(get_msr(fd, (__u32)op->a, out));
	case 'M':	/* MSI */
		memset(&msi, 0, sizeof(msi));
		msi.address_lo = (__u32)op->a;
		msi.address_hi = (__u32)(op->a >> 32);
		msi.data = (__u32)op->b;
		return res(ioctl(s->vm, KVM_SIGNAL_MSI, &msi));
	case 'N':
		return res(ioctl(fd, KVM_NMI));
	case 'P':	/* SET_MP_STATE */
		return res(set_mp_state(fd, (__u32)op->a));
	case 'C':	/* CPUID */
		return res(set_cpuid(fd, (__u32)op->a, (unsigned int)op->b));
	case 'I':	/* KVM_INTERRUPT */
		irq.irq = (__u32)op->a;
		return res(ioctl(fd, KVM_INTERRUPT, &irq));
	}
	return -1000;
}

/* Draw the next operation; the SET_LAPIC page comes from @ref's vCPU. */
static void draw(struct step *op, struct side *ref, struct kvm_lapic_state *st)
{
	static const __u32 cpuid_ecx[] = {
		CPUID1_ECX_X2APIC | CPUID1_ECX_TSCDL, CPUID1_ECX_X2APIC, 0,
	};
	static const unsigned int phys[] = { 48, 40, 36, 0 };
	__u32 id, spiv;
	int i, n;

	op->vcpu = pick(NR);
	op->a = 0;
	op->b = 0;
	switch (pick(20)) {
	case 0: case 1: case 2:
		op->what = "L SET_LAPIC";
		if (get_lapic(ref->vcpu[op->vcpu], st))
			memset(st, 0, sizeof(*st));
		id = reg(st, R_ID);
		spiv = reg(st, R_SPIV);
		n = 1 + pick(4);
		for (i = 0; i < n; i++)
			mutate(st);
		/*
		 * A new ID may be refused (x2APIC mode with 32-bit IDs), and
		 * KVM applies SPIV before it refuses while lapicv does not
		 * (a documented difference): keep SPIV then, so that the
		 * refusal itself is still compared.
		 */
		if (reg(st, R_ID) != id)
			set_reg(st, R_SPIV, spiv);
		break;
	case 3: case 4:
		op->what = "B APIC base";
		op->a = rnd_base();
		break;
	case 5: case 6: case 7: case 8: case 9: case 10:
		op->what = "W x2APIC write";
		rnd_x2_write((__u32 *)&op->a, &op->b);
		break;
	case 11: case 12:
		op->what = "R x2APIC read";
		op->a = X2MSR(pick(0x41) << 4);
		break;
	case 13: case 14:
		op->what = "M MSI";
		op->a = 0xfee00000ull | (pick(4) ? pick(NR + 1) : rnd() & 0xff) << 12 |
			(pick(4) ? 0 : 8) | (pick(2) ? 4 : 0);
		if (!pick(8))
			op->a |= (__u64)(rnd() & 0xffffff00) << 32;
		op->b = (rnd() & 0xff) | pick(8) << 8 | (pick(2) ? 0x4000 : 0) |
			(pick(4) ? 0 : 0x8000);
		break;
	case 15:
		op->what = "N NMI";
		break;
	case 16: case 17:
		op->what = "P SET_MP_STATE";
		op->a = pick(12);
		break;
	case 18:
		op->what = "C SET_CPUID2";
		op->a = cpuid_ecx[pick(3)];
		op->b = phys[pick(4)];
		break;
	default:
		op->what = "I KVM_INTERRUPT";
		op->a = pick(300);
		break;
	}
}

static bool same_state(struct __test_metadata *_metadata, struct side *s,
		       __u64 seed, int step)
{
	struct kvm_lapic_state a, b;
	int i, off;

	for (i = 0; i < NR; i++) {
		long ra = res(get_lapic(s[0].vcpu[i], &a));
		long rb = res(get_lapic(s[1].vcpu[i], &b));

		set_reg(&a, R_TMCCT, 0);
		set_reg(&b, R_TMCCT, 0);
		if (ra != rb) {
			TH_LOG("seed %llu step %d vCPU %d: GET_LAPIC %ld vs %ld",
			       (unsigned long long)seed, step, i, ra, rb);
			return false;
		}
		for (off = 0; off < 0x400; off += 0x10) {
			if (reg(&a, off) == reg(&b, off))
				continue;
			TH_LOG("seed %llu step %d vCPU %d: reg %#x lapicv %#x kvm %#x",
			       (unsigned long long)seed, step, i, off,
			       reg(&a, off), reg(&b, off));
			return false;
		}
		if (get_mp_state(s[0].vcpu[i]) != get_mp_state(s[1].vcpu[i]) ||
		    msr(s[0].vcpu[i], MSR_APICBASE) !=
		    msr(s[1].vcpu[i], MSR_APICBASE)) {
			TH_LOG("seed %llu step %d vCPU %d: MP state %d/%d base %#llx/%#llx",
			       (unsigned long long)seed, step, i,
			       get_mp_state(s[0].vcpu[i]),
			       get_mp_state(s[1].vcpu[i]),
			       (unsigned long long)msr(s[0].vcpu[i], MSR_APICBASE),
			       (unsigned long long)msr(s[1].vcpu[i], MSR_APICBASE));
			return false;
		}
	}
	return true;
}

static void run_diff(struct __test_metadata *_metadata, bool x2api)
{
	const char *e = getenv("LAPICV_DIFF_SEED");
	int steps = getenv("LAPICV_DIFF_STEPS") ?
		    atoi(getenv("LAPICV_DIFF_STEPS")) : DEFAULT_STEPS;
	__u64 seed = e ? strtoull(e, NULL, 0) : (__u64)time(NULL);
	struct kvm_lapic_state st;
	struct side s[2];
	struct step op;
	__u64 va, vb;
	long ra, rb;
	int i;

	if (access("/dev/lapicv", R_OK | W_OK) || access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "needs both /dev/lapicv and /dev/kvm");
	ASSERT_OK(side_open(&s[0], "/dev/lapicv", x2api));
	ASSERT_OK(side_open(&s[1], "/dev/kvm", x2api));
	rng = seed * 2 + x2api + 1;
	TH_LOG("seed %llu, %d steps", (unsigned long long)seed, steps);

	ASSERT_TRUE(same_state(_metadata, s, seed, 0));
	for (i = 1; i <= steps; i++) {
		draw(&op, &s[0], &st);
		ra = apply(&s[0], &op, &st, &va);
		rb = apply(&s[1], &op, &st, &vb);
		if (op.what[0] == 'R' && op.a == X2MSR(R_TMCCT)) {
			va = 0;
			vb = 0;
		}
		ASSERT_EQ(ra, rb)
			TH_LOG("seed %llu step %d vCPU %d %s(%#llx, %#llx): lapicv %ld kvm %ld",
			       (unsigned long long)seed, i, op.vcpu, op.what + 2,
			       (unsigned long long)op.a,
			       (unsigned long long)op.b, ra, rb);
		ASSERT_EQ(va, vb)
			TH_LOG("seed %llu step %d vCPU %d read %#llx: lapicv %#llx kvm %#llx",
			       (unsigned long long)seed, i, op.vcpu,
			       (unsigned long long)op.a,
			       (unsigned long long)va, (unsigned long long)vb);
		ASSERT_TRUE(same_state(_metadata, s, seed, i))
			TH_LOG("after %s(%#llx, %#llx) on vCPU %d", op.what + 2,
			       (unsigned long long)op.a,
			       (unsigned long long)op.b, op.vcpu);
	}
	side_close(&s[0]);
	side_close(&s[1]);
}

TEST(diff_8bit_ids)
{
	run_diff(_metadata, false);
}

TEST(diff_32bit_ids)
{
	run_diff(_metadata, true);
}

TEST_HARNESS_MAIN
