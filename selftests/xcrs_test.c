// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_GET_XCRS / KVM_SET_XCRS and KVM_CAP_XCRS, with KVM 6.12's
 * expectations (arch/x86/kvm/x86.c: kvm_vcpu_ioctl_x86_get/set_xcrs(),
 * __kvm_set_xcr()): XCR0 alone, x87 at RESET, every byte but the one XCR
 * zero on GET; a SET refused with -EINVAL (flags, more than KVM_MAX_XCRS,
 * an XCR0 the guest's CPUID leaf 0xD does not allow or that breaks the
 * architectural rules) leaves XCR0 as it was; XCRs other than XCR0 are
 * skipped, and the first XCR0 entry is the one taken.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "lapicv_util.h"

#define XCR0_FP		0x1ull
#define XCR0_SSE	0x2ull
#define XCR0_YMM	0x4ull
#define XCR0_MPX	0x18ull		/* BNDREGS, BNDCSR */
#define CPUID1_ECX_XSAVE	(1u << 26)
#define CPUID1_ECX_OSXSAVE	(1u << 27)

static bool host_has_xsave(void)
{
	unsigned int a, b, c, d;

	__cpuid(1, a, b, c, d);
	return c & CPUID1_ECX_XSAVE;
}

/* The XCR0 this process runs with: what the host kernel enabled. */
static __u64 host_xcr0(void)
{
	unsigned int a, b, c, d, lo, hi;

	__cpuid(1, a, b, c, d);
	if (!(c & CPUID1_ECX_OSXSAVE))
		return 0;
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return lo | (__u64)hi << 32;
}

/*
 * A CPUID table giving the guest XSAVE and, in leaf 0xD, @xcr0.
 */
static int set_xsave_cpuid(int vcpu, __u64 xcr0)
{
	struct {
		struct kvm_cpuid2 hdr;
		struct kvm_cpuid_entry2 e[4];
	} c;

	memset(&c, 0, sizeof(c));
	c.hdr.nent = 4;
	c.e[0].function = 0;
	c.e[0].eax = 0xd;
	c.e[1].function = 1;
	c.e[1].ecx = CPUID1_ECX_XSAVE;
	c.e[2].function = 0xd;
	c.e[2].flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	c.e[2].eax = xcr0;
	c.e[2].ebx = 576;
	c.e[2].ecx = 576;
	c.e[3].function = 0xd;
	c.e[3].index = 1;
	c.e[3].flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	return ioctl(vcpu, KVM_SET_CPUID2, &c);
}

static int set_xcrs(int vcpu, __u32 nr, __u32 flags, const __u32 *xcr,
		    const __u64 *val)
{
	struct kvm_xcrs x;
	__u32 i;

	memset(&x, 0, sizeof(x));
	x.nr_xcrs = nr;
	x.flags = flags;
	for (i = 0; i < nr && i < KVM_MAX_XCRS; i++) {
		x.xcrs[i].xcr = xcr[i];
		x.xcrs[i].value = val[i];
	}
	return ioctl(vcpu, KVM_SET_XCRS, &x);
}

static int set_xcr0(int vcpu, __u64 v)
{
	__u32 xcr = 0;

	return set_xcrs(vcpu, 1, 0, &xcr, &v);
}

/*
 * XCR0 as KVM_GET_XCRS shows it, checking the rest of the struct: one
 * XCR (index 0, reserved 0), flags 0, every other byte zero even where
 * the buffer held garbage.
 */
static __u64 get_xcr0(struct __test_metadata *_metadata, int vcpu)
{
	struct kvm_xcrs x, zero;

	memset(&x, 0xa5, sizeof(x));
	ASSERT_OK(ioctl(vcpu, KVM_GET_XCRS, &x));
	EXPECT_EQ(1u, x.nr_xcrs);
	EXPECT_EQ(0u, x.flags);
	EXPECT_EQ(0u, x.xcrs[0].xcr);
	EXPECT_EQ(0u, x.xcrs[0].reserved);
	memset(&zero, 0, sizeof(zero));
	EXPECT_EQ(0, memcmp(&x.xcrs[1], &zero.xcrs[1],
			    sizeof(x) - offsetof(struct kvm_xcrs, xcrs[1])));
	return x.xcrs[0].value;
}

FIXTURE(xcrs) {
	int dev, vm, vcpu;
	__u64 offer;		/* what leaf 0xD offers: x87, SSE, YMM */
};

FIXTURE_SETUP(xcrs)
{
	if (!host_has_xsave())
		SKIP(return, "the host has no XSAVE: KVM_CAP_XCRS is 0");
	self->dev = open_dev();
	ASSERT_OK(self->dev);
	self->vm = vm_create_split(self->dev);
	ASSERT_OK(self->vm);
	self->vcpu = vcpu_create(self->vm, 0);
	ASSERT_OK(self->vcpu);
	self->offer = host_xcr0() & (XCR0_FP | XCR0_SSE | XCR0_YMM);
}

FIXTURE_TEARDOWN(xcrs)
{
	if (!host_has_xsave())
		return;
	close(self->vcpu);
	close(self->vm);
	close(self->dev);
}

/* KVM's answer: boot_cpu_has(X86_FEATURE_XSAVE), on both fds. */
TEST(cap)
{
	int dev = open_dev(), vm;

	ASSERT_OK(dev);
	vm = vm_create(dev);
	ASSERT_OK(vm);
	EXPECT_EQ(host_has_xsave(), check_ext(dev, KVM_CAP_XCRS));
	EXPECT_EQ(host_has_xsave(), check_ext(vm, KVM_CAP_XCRS));
	close(vm);
	close(dev);
}

TEST_F(xcrs, reset_is_x87)
{
	EXPECT_EQ(XCR0_FP, get_xcr0(_metadata, self->vcpu));
}

/* Without a leaf 0xD the guest may have x87 alone. */
TEST_F(xcrs, no_cpuid_only_x87)
{
	EXPECT_ERRNO(set_xcr0(self->vcpu, XCR0_FP | XCR0_SSE), EINVAL);
	EXPECT_EQ(XCR0_FP, get_xcr0(_metadata, self->vcpu));
	ASSERT_OK(set_xcr0(self->vcpu, XCR0_FP));
	EXPECT_EQ(XCR0_FP, get_xcr0(_metadata, self->vcpu));
}

TEST_F(xcrs, set_and_get)
{
	ASSERT_OK(set_xsave_cpuid(self->vcpu, self->offer));
	ASSERT_OK(set_xcr0(self->vcpu, XCR0_FP | XCR0_SSE));
	EXPECT_EQ(XCR0_FP | XCR0_SSE, get_xcr0(_metadata, self->vcpu));
	if (self->offer & XCR0_YMM) {
		ASSERT_OK(set_xcr0(self->vcpu, XCR0_FP | XCR0_SSE | XCR0_YMM));
		EXPECT_EQ(XCR0_FP | XCR0_SSE | XCR0_YMM,
			  get_xcr0(_metadata, self->vcpu));
	}
	ASSERT_OK(set_xcr0(self->vcpu, XCR0_FP));
	EXPECT_EQ(XCR0_FP, get_xcr0(_metadata, self->vcpu));
}

/* Every refusal is -EINVAL and leaves XCR0 at x87+SSE. */
TEST_F(xcrs, refused_changes_nothing)
{
	__u32 xcr[2] = { 0, 0 };
	__u64 val[2] = { XCR0_FP, XCR0_FP };

	ASSERT_OK(set_xsave_cpuid(self->vcpu, XCR0_FP | XCR0_SSE));
	ASSERT_OK(set_xcr0(self->vcpu, XCR0_FP | XCR0_SSE));

	EXPECT_ERRNO(set_xcrs(self->vcpu, 1, 1, xcr, val), EINVAL);
	EXPECT_ERRNO(set_xcrs(self->vcpu, 1, 0x80000000u, xcr, val), EINVAL);
	EXPECT_ERRNO(set_xcrs(self->vcpu, KVM_MAX_XCRS + 1, 0, xcr, val),
		     EINVAL);
	EXPECT_ERRNO(set_xcrs(self->vcpu, ~0u, 0, xcr, val), EINVAL);
	/* No x87; YMM without SSE; YMM not in leaf 0xD; a reserved bit. */
	EXPECT_ERRNO(set_xcr0(self->vcpu, 0), EINVAL);
	EXPECT_ERRNO(set_xcr0(self->vcpu, XCR0_SSE), EINVAL);
	EXPECT_ERRNO(set_xcr0(self->vcpu, XCR0_FP | XCR0_YMM), EINVAL);
	EXPECT_ERRNO(set_xcr0(self->vcpu, XCR0_FP | XCR0_SSE | XCR0_YMM),
		     EINVAL);
	EXPECT_ERRNO(set_xcr0(self->vcpu, XCR0_FP | (1ull << 63)), EINVAL);
	/* The first XCR0 entry decides, even when a later one is fine. */
	val[0] = 0;
	EXPECT_ERRNO(set_xcrs(self->vcpu, 2, 0, xcr, val), EINVAL);
	EXPECT_ERRNO(ioctl(self->vcpu, KVM_SET_XCRS, NULL), EFAULT);
	EXPECT_ERRNO(ioctl(self->vcpu, KVM_GET_XCRS, NULL), EFAULT);

	EXPECT_EQ(XCR0_FP | XCR0_SSE, get_xcr0(_metadata, self->vcpu));
}

/*
 * kvm_amd takes MPX out of the XCR0 it supports (AMD has no MPX), even
 * where the host's XCR0 has it (QEMU's -cpu max) and leaf 0xD offers it.
 */
TEST_F(xcrs, mpx_refused)
{
	if ((host_xcr0() & XCR0_MPX) != XCR0_MPX)
		SKIP(return, "the host's XCR0 has no MPX");
	ASSERT_OK(set_xsave_cpuid(self->vcpu, XCR0_FP | XCR0_SSE | XCR0_MPX));
	EXPECT_ERRNO(set_xcr0(self->vcpu, XCR0_FP | XCR0_SSE | XCR0_MPX),
		     EINVAL);
	EXPECT_EQ(XCR0_FP, get_xcr0(_metadata, self->vcpu));
}

/* XCRs other than XCR0 are skipped; the first XCR0 entry is taken. */
TEST_F(xcrs, entries)
{
	__u32 xcr[3] = { 1, 0, 0 };
	__u64 val[3] = { 0, XCR0_FP | XCR0_SSE, 0 };

	ASSERT_OK(set_xsave_cpuid(self->vcpu, XCR0_FP | XCR0_SSE));
	/* XCR1 with a value XCR0 could never hold, then XCR0, then junk. */
	ASSERT_OK(set_xcrs(self->vcpu, 3, 0, xcr, val));
	EXPECT_EQ(XCR0_FP | XCR0_SSE, get_xcr0(_metadata, self->vcpu));
	/* No XCR0 at all, or no entry: success, nothing changes. */
	val[0] = 12345;
	ASSERT_OK(set_xcrs(self->vcpu, 1, 0, xcr, val));
	ASSERT_OK(set_xcrs(self->vcpu, 0, 0, xcr, val));
	EXPECT_EQ(XCR0_FP | XCR0_SSE, get_xcr0(_metadata, self->vcpu));
	/* KVM_MAX_XCRS entries are accepted, the last one XCR0. */
	{
		__u32 many_xcr[KVM_MAX_XCRS];
		__u64 many_val[KVM_MAX_XCRS];
		int i;

		for (i = 0; i < KVM_MAX_XCRS; i++) {
			many_xcr[i] = 7;
			many_val[i] = 0;
		}
		many_xcr[KVM_MAX_XCRS - 1] = 0;
		many_val[KVM_MAX_XCRS - 1] = XCR0_FP;
		ASSERT_OK(set_xcrs(self->vcpu, KVM_MAX_XCRS, 0, many_xcr,
				   many_val));
		EXPECT_EQ(XCR0_FP, get_xcr0(_metadata, self->vcpu));
	}
}

/* KVM_GET_CPUID2's leaf @fn.@idx register @reg (0 eax .. 3 edx). */
static __u32 cpuid2_reg(struct __test_metadata *_metadata, int vcpu,
			__u32 fn, __u32 idx, int reg)
{
	struct {
		struct kvm_cpuid2 hdr;
		struct kvm_cpuid_entry2 e[8];
	} c;
	__u32 i;

	memset(&c, 0, sizeof(c));
	c.hdr.nent = 8;
	EXPECT_EQ(0, ioctl(vcpu, KVM_GET_CPUID2, &c));
	for (i = 0; i < c.hdr.nent; i++)
		if (c.e[i].function == fn && c.e[i].index == idx)
			return reg == 0 ? c.e[i].eax : reg == 1 ? c.e[i].ebx :
			       reg == 2 ? c.e[i].ecx : c.e[i].edx;
	EXPECT_TRUE(false) TH_LOG("no leaf %#x.%u", fn, idx);
	return 0;
}

/*
 * KVM_GET_CPUID2 follows the vCPU's XCR0 (leaf 0xD's XSAVE size) and CR4
 * (leaf 1's OSXSAVE), as KVM's kvm_update_cpuid_runtime() keeps them.
 */
TEST_F(xcrs, get_cpuid2_follows)
{
	unsigned int a, b, c, d, ymm_end;
	struct kvm_sregs sregs;

	ASSERT_OK(set_xsave_cpuid(self->vcpu, self->offer));
	EXPECT_EQ(576u, cpuid2_reg(_metadata, self->vcpu, 0xd, 0, 1));
	EXPECT_EQ(0u, cpuid2_reg(_metadata, self->vcpu, 1, 0, 2) &
		  CPUID1_ECX_OSXSAVE);
	if (self->offer & XCR0_YMM) {
		__cpuid_count(0xd, 2, a, b, c, d);
		ymm_end = a + b > 576 ? a + b : 576;
		ASSERT_OK(set_xcr0(self->vcpu, XCR0_FP | XCR0_SSE | XCR0_YMM));
		EXPECT_EQ(ymm_end, cpuid2_reg(_metadata, self->vcpu, 0xd, 0, 1));
	}
	ASSERT_OK(ioctl(self->vcpu, KVM_GET_SREGS, &sregs));
	sregs.cr4 |= 1ull << 18;		/* OSXSAVE */
	ASSERT_OK(ioctl(self->vcpu, KVM_SET_SREGS, &sregs));
	EXPECT_EQ(CPUID1_ECX_OSXSAVE, cpuid2_reg(_metadata, self->vcpu, 1, 0, 2) &
		  CPUID1_ECX_OSXSAVE);
}

/* A vCPU without an in-kernel LAPIC has XCR0 too (x87 only here). */
TEST(no_irqchip)
{
	int dev, vm, vcpu;

	if (!host_has_xsave())
		SKIP(return, "the host has no XSAVE");
	dev = open_dev();
	ASSERT_OK(dev);
	vm = vm_create(dev);
	ASSERT_OK(vm);
	vcpu = vcpu_create(vm, 0);
	ASSERT_OK(vcpu);
	EXPECT_EQ(XCR0_FP, get_xcr0(_metadata, vcpu));
	ASSERT_OK(set_xcr0(vcpu, XCR0_FP));
	EXPECT_ERRNO(set_xcr0(vcpu, XCR0_FP | XCR0_SSE), EINVAL);
	EXPECT_EQ(XCR0_FP, get_xcr0(_metadata, vcpu));
	close(vcpu);
	close(vm);
	close(dev);
}

TEST_HARNESS_MAIN
