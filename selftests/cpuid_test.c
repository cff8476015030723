// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_GET_SUPPORTED_CPUID and KVM_GET_EMULATED_CPUID.
 *
 * On either device: KVM 6.12's size rules (nent 0 and a table too small
 * are -E2BIG, nent unchanged), and a table as KVM builds it (leaf 0 first
 * with a maximum of at most 0x24, every basic and extended leaf up to the
 * maximums, the subleaf flag exactly on KVM's indexed functions, padding
 * zero, x2APIC offered, TSC-deadline not: KVM offers that through
 * KVM_CAP_TSC_DEADLINE_TIMER).
 *
 * matches_kvm, when both devices are there (the rig's kvm suite, where
 * lapicv stays loaded next to kvm_amd): lapicv's table is kvm_amd's but
 * for the checked-in differences below, each with its reason (the runner
 * does not virtualize the feature; Documentation/api.rst lists them), and
 * lapicv offers nothing kvm_amd does not.  It prints every difference.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "kselftest_harness.h"
#include "lapicv_util.h"

#define MAX_ENTRIES	256
#define B(n)		(1u << (n))
#define ALL		0xffffffffu

enum reg { EAX, EBX, ECX, EDX, NREGS };

static const char * const reg_names[NREGS] = { "eax", "ebx", "ecx", "edx" };

/* Bits lapicv may leave out of kvm_amd's table; ALL in every reg: no leaf. */
static const struct cpuid_diff {
	__u32 function, index;
	__u32 mask[NREGS];
	const char *why;
} diffs[] = {
	{ 1, 0, { 0, 0, B(15), B(11) | B(12) | B(14) | B(16) },
	  "PDCM, SEP, MTRR, MCA, PAT: their MSRs are not virtualized" },
	{ 7, 0, { 0, B(1) | B(2), B(22) | B(24) | B(30),
		  B(22) | B(24) | B(25) | B(26) | B(27) | B(28) | B(29) | B(31) },
	  "TSC_ADJUST, RDPID (TSC_AUX), BUS_LOCK_DETECT, speculation-control MSRs; SGX, AMX" },
	{ 7, 1, { B(21) | B(26), 0, 0, B(8) | B(19) },
	  "AMX_FP16, AMX_COMPLEX: no dynamic XSAVE; LAM: CR4 bit; AVX10" },
	{ 7, 2, { 0, 0, 0, ALL }, "speculation-control MSR bits" },
	{ 0xd, 1, { B(3) | B(4), 0, 0, 0 }, "XSAVES (IA32_XSS), XFD: MSRs" },
	{ 0x80000001, 0, { 0, 0, B(2) | B(9) | B(23),
			   B(11) | B(12) | B(14) | B(16) | B(25) | B(27) },
	  "SVM: no nesting; FFXSR: EFER; OSVW, PMU, SYSCALL, MTRR, MCA, PAT, TSC_AUX" },
	{ 0x80000008, 0, { 0, B(12) | B(14) | B(15) | B(17) | B(24) | B(25) | B(28), 0, 0 },
	  "IBPB, IBRS, STIBP, SSBD, VIRT_SSBD, PSFD: speculation-control MSRs" },
	{ 0x8000000a, 0, { ALL, ALL, ALL, ALL }, "SVM features: no nested guests" },
	{ 0x80000021, 0, { B(8) | B(27) | B(28), 0, 0, 0 },
	  "AutoIBRS: EFER bit refused; SBPB, IBPB_BRTYPE: PRED_CMD MSR" },
	{ 0x80000022, 0, { ALL, ALL, 0, 0 }, "PerfMonV2: no PMU" },
	{ 0x40000000, 0, { ALL, ALL, ALL, ALL }, "KVM's PV signature: no PV MSRs" },
	{ 0x40000001, 0, { ALL, ALL, ALL, ALL }, "KVM's PV features: no PV MSRs" },
};

struct table {
	struct kvm_cpuid2 hdr;
	struct kvm_cpuid_entry2 e[MAX_ENTRIES];
};

static bool indexed(__u32 fn)
{
	switch (fn) {
	case 4: case 7: case 0xb: case 0xd: case 0xf: case 0x10: case 0x12:
	case 0x14: case 0x17: case 0x18: case 0x1d: case 0x1e: case 0x1f:
	case 0x24: case 0x8000001d:
		return true;
	}
	return false;
}

static __u32 reg_of(const struct kvm_cpuid_entry2 *e, int r)
{
	return r == EAX ? e->eax : r == EBX ? e->ebx : r == ECX ? e->ecx : e->edx;
}

static const struct kvm_cpuid_entry2 *find(const struct table *t, __u32 fn,
					   __u32 idx)
{
	__u32 i;

	for (i = 0; i < t->hdr.nent; i++)
		if (t->e[i].function == fn && t->e[i].index == idx)
			return &t->e[i];
	return NULL;
}

static int get_supported(int dev, struct table *t)
{
	memset(t, 0, sizeof(*t));
	t->hdr.nent = MAX_ENTRIES;
	return ioctl(dev, KVM_GET_SUPPORTED_CPUID, t);
}

static __u32 allowed(__u32 fn, __u32 idx, int r)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(diffs); i++)
		if (diffs[i].function == fn && diffs[i].index == idx)
			return diffs[i].mask[r];
	return 0;
}

TEST(sizes)
{
	struct table t;
	__u32 n;
	int dev = open_dev();

	ASSERT_OK(dev);
	memset(&t, 0, sizeof(t));
	ASSERT_ERRNO(ioctl(dev, KVM_GET_SUPPORTED_CPUID, &t), E2BIG);
	EXPECT_EQ(0u, t.hdr.nent);
	ASSERT_OK(get_supported(dev, &t));
	n = t.hdr.nent;
	ASSERT_LT(4u, n);
	t.hdr.nent = n - 1;
	EXPECT_ERRNO(ioctl(dev, KVM_GET_SUPPORTED_CPUID, &t), E2BIG);
	EXPECT_EQ(n - 1, t.hdr.nent);
	t.hdr.nent = n;
	ASSERT_OK(ioctl(dev, KVM_GET_SUPPORTED_CPUID, &t));
	EXPECT_EQ(n, t.hdr.nent);
	/* More than KVM_MAX_CPUID_ENTRIES is clamped, not refused. */
	t.hdr.nent = 100000;
	ASSERT_OK(ioctl(dev, KVM_GET_SUPPORTED_CPUID, &t));
	EXPECT_EQ(n, t.hdr.nent);
	close(dev);
}

TEST(shape)
{
	const struct kvm_cpuid_entry2 *e;
	__u32 i, fn, max_basic, max_ext;
	struct table t;
	int dev = open_dev();

	ASSERT_OK(dev);
	ASSERT_OK(get_supported(dev, &t));
	ASSERT_EQ(0u, t.e[0].function);
	max_basic = t.e[0].eax;
	EXPECT_GE(0x24u, max_basic);
	e = find(&t, 0x80000000, 0);
	ASSERT_NE(NULL, e);
	max_ext = e->eax;
	EXPECT_GE(0x80000022u, max_ext);
	for (fn = 0; fn <= max_basic; fn++)
		EXPECT_NE(NULL, find(&t, fn, 0)) TH_LOG("leaf %#x missing", fn);
	for (fn = 0x80000000; fn <= max_ext; fn++)
		EXPECT_NE(NULL, find(&t, fn, 0)) TH_LOG("leaf %#x missing", fn);
	for (i = 0; i < t.hdr.nent; i++) {
		e = &t.e[i];
		EXPECT_EQ(indexed(e->function) ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0,
			  e->flags) TH_LOG("leaf %#x.%u", e->function, e->index);
		EXPECT_EQ(0u, e->padding[0] | e->padding[1] | e->padding[2]);
	}
	e = find(&t, 1, 0);
	ASSERT_NE(NULL, e);
	EXPECT_TRUE(e->ecx & B(21));		/* x2APIC */
	EXPECT_FALSE(e->ecx & B(24));		/* TSC-deadline */
	EXPECT_FALSE(e->ecx & B(27));		/* OSXSAVE */
	EXPECT_FALSE(e->ecx & B(31));		/* hypervisor */
	close(dev);
}

/* KVM's padding check; lapicv emulates nothing, so its table is empty. */
TEST(emulated)
{
	struct table t;
	int dev = open_dev();

	ASSERT_OK(dev);
	memset(&t, 0, sizeof(t));
	ASSERT_ERRNO(ioctl(dev, KVM_GET_EMULATED_CPUID, &t), E2BIG);
	t.hdr.nent = MAX_ENTRIES;
	t.e[5].padding[1] = 1;
	EXPECT_ERRNO(ioctl(dev, KVM_GET_EMULATED_CPUID, &t), EINVAL);
	t.e[5].padding[1] = 0;
	ASSERT_OK(ioctl(dev, KVM_GET_EMULATED_CPUID, &t));
	if (!dev_is_kvm())
		EXPECT_EQ(0u, t.hdr.nent);
	close(dev);
}

/* The other device of the pair, or -1: /dev/lapicv and KVM's 10:232. */
static int open_other(void)
{
	struct stat st;

	if (!dev_is_kvm())
		return -1;
	if (stat(LAPICV_DEFAULT_DEV, &st) || !S_ISCHR(st.st_mode))
		return -1;
	/* /dev/kvm may be lapicv's own node (the rig's realguest suite). */
	if (major(st.st_rdev) == 10 && minor(st.st_rdev) == 232)
		return -1;
	return open(LAPICV_DEFAULT_DEV, O_RDWR | O_CLOEXEC);
}

TEST(matches_kvm)
{
	const struct kvm_cpuid_entry2 *k, *l;
	struct table *kt, *lt;
	__u32 i, diff, ok;
	int kvm, lapicv, r;

	lapicv = open_other();
	if (lapicv < 0)
		SKIP(return, "needs /dev/lapicv next to KVM's /dev/kvm (LAPICV_DEV=/dev/kvm)");
	kvm = open_dev();
	ASSERT_OK(kvm);
	kt = malloc(sizeof(*kt));
	lt = malloc(sizeof(*lt));
	ASSERT_NE(NULL, kt);
	ASSERT_NE(NULL, lt);
	ASSERT_OK(get_supported(kvm, kt));
	ASSERT_OK(get_supported(lapicv, lt));

	for (i = 0; i < kt->hdr.nent; i++) {
		k = &kt->e[i];
		l = find(lt, k->function, k->index);
		if (!l) {
			ok = allowed(k->function, k->index, EAX) == ALL;
			EXPECT_TRUE(ok) TH_LOG("leaf %#x.%u: kvm_amd's, missing on lapicv",
					       k->function, k->index);
			if (ok)
				printf("# leaf %#x.%u: not on lapicv (listed)\n",
				       k->function, k->index);
			continue;
		}
		EXPECT_EQ(k->flags, l->flags) TH_LOG("leaf %#x.%u flags",
						     k->function, k->index);
		for (r = 0; r < NREGS; r++) {
			diff = reg_of(k, r) ^ reg_of(l, r);
			if (!diff)
				continue;
			ok = allowed(k->function, k->index, r);
			printf("# leaf %#x.%u %s: kvm_amd %#010x lapicv %#010x%s\n",
			       k->function, k->index, reg_names[r], reg_of(k, r),
			       reg_of(l, r), diff & ~ok ? " NOT LISTED" : "");
			EXPECT_EQ(0u, diff & ~ok);
			/* A listed bit is one lapicv leaves out, never adds. */
			if (ok != ALL)
				EXPECT_EQ(0u, reg_of(l, r) & ~reg_of(k, r) & ok);
		}
	}
	for (i = 0; i < lt->hdr.nent; i++)
		EXPECT_NE(NULL, find(kt, lt->e[i].function, lt->e[i].index))
			TH_LOG("leaf %#x.%u: lapicv's, not kvm_amd's",
			       lt->e[i].function, lt->e[i].index);
	free(kt);
	free(lt);
	close(lapicv);
	close(kvm);
}

TEST_HARNESS_MAIN
