// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VM fd: KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP) and its errno rules,
 * KVM_ENABLE_CAP(KVM_CAP_MAX_VCPU_ID), KVM_SET_NR_MMU_PAGES, KVM_CREATE_VCPU
 * id rules and the vCPU limit, bad pointers and unknown ioctls on VM and
 * vCPU fds.  The expectations are KVM 6.12's
 * (virt/kvm/kvm_main.c, arch/x86/kvm/x86.c).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lapicv_util.h"

FIXTURE(vm) {
	int dev;
	int vm;
};

FIXTURE_SETUP(vm)
{
	self->dev = open_dev();
	ASSERT_OK(self->dev);
	self->vm = vm_create(self->dev);
	ASSERT_OK(self->vm);
}

FIXTURE_TEARDOWN(vm)
{
	close(self->vm);
	close(self->dev);
}

static int enable_cap(int vmfd, __u32 cap, __u32 flags, __u64 arg0)
{
	struct kvm_enable_cap ec = {
		.cap = cap,
		.flags = flags,
		.args[0] = arg0,
	};

	return ioctl(vmfd, KVM_ENABLE_CAP, &ec);
}

TEST_F(vm, split_irqchip)
{
	ASSERT_OK(vm_enable_split_irqchip(self->vm, SPLIT_IRQCHIP_PINS));
}

TEST_F(vm, split_irqchip_no_pins)
{
	ASSERT_OK(vm_enable_split_irqchip(self->vm, 0));
}

TEST_F(vm, split_irqchip_max_pins)
{
	ASSERT_OK(vm_enable_split_irqchip(self->vm, SPLIT_IRQCHIP_MAX_PINS));
}

/* More reserved pins than KVM allows; the refusal leaves no state. */
TEST_F(vm, split_irqchip_too_many_pins)
{
	ASSERT_ERRNO(vm_enable_split_irqchip(self->vm,
					     SPLIT_IRQCHIP_MAX_PINS + 1), EINVAL);
	ASSERT_ERRNO(vm_enable_split_irqchip(self->vm, 1UL << 32), EINVAL);
	ASSERT_ERRNO(vm_enable_split_irqchip(self->vm, ~0UL), EINVAL);
	ASSERT_OK(vm_enable_split_irqchip(self->vm, SPLIT_IRQCHIP_PINS));
}

TEST_F(vm, split_irqchip_twice)
{
	ASSERT_OK(vm_enable_split_irqchip(self->vm, SPLIT_IRQCHIP_PINS));
	ASSERT_ERRNO(vm_enable_split_irqchip(self->vm, SPLIT_IRQCHIP_PINS),
		     EEXIST);
	ASSERT_ERRNO(vm_enable_split_irqchip(self->vm, 0), EEXIST);
}

/* KVM refuses the irqchip once a vCPU exists, with EEXIST. */
TEST_F(vm, split_irqchip_after_vcpu)
{
	int vcpu = vcpu_create(self->vm, 0);

	ASSERT_OK(vcpu);
	ASSERT_ERRNO(vm_enable_split_irqchip(self->vm, SPLIT_IRQCHIP_PINS),
		     EEXIST);
	close(vcpu);
}

/* x86's kvm_vm_ioctl_enable_cap() rejects any flag before looking. */
TEST_F(vm, split_irqchip_flags)
{
	ASSERT_ERRNO(enable_cap(self->vm, KVM_CAP_SPLIT_IRQCHIP, 1,
				SPLIT_IRQCHIP_PINS), EINVAL);
	ASSERT_ERRNO(enable_cap(self->vm, KVM_CAP_SPLIT_IRQCHIP, 1u << 31,
				SPLIT_IRQCHIP_PINS), EINVAL);
	ASSERT_OK(vm_enable_split_irqchip(self->vm, SPLIT_IRQCHIP_PINS));
}

TEST_F(vm, enable_cap_unknown)
{
	ASSERT_ERRNO(enable_cap(self->vm, 100000, 0, 0), EINVAL);
}

TEST_F(vm, enable_cap_bad_pointer)
{
	void *none = mmap(NULL, 4096, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, none);
	ASSERT_ERRNO(ioctl(self->vm, KVM_ENABLE_CAP, (void *)1), EFAULT);
	ASSERT_ERRNO(ioctl(self->vm, KVM_ENABLE_CAP, none), EFAULT);
	ASSERT_ERRNO(ioctl(self->vm, KVM_ENABLE_CAP, NULL), EFAULT);
	munmap(none, 4096);
	/* Nothing was enabled by the failed calls. */
	ASSERT_OK(vm_enable_split_irqchip(self->vm, SPLIT_IRQCHIP_PINS));
}

/*
 * KVM_SET_NR_MMU_PAGES: fewer than KVM's floor of 64 pages is -EINVAL; any
 * other count is accepted, before and after vCPUs (KVM's
 * set_memory_region_test sets 64 on a VM without memory).
 */
TEST_F(vm, set_nr_mmu_pages)
{
	int vcpu;

	ASSERT_ERRNO(ioctl(self->vm, KVM_SET_NR_MMU_PAGES, 0UL), EINVAL);
	ASSERT_ERRNO(ioctl(self->vm, KVM_SET_NR_MMU_PAGES, 63UL), EINVAL);
	ASSERT_OK(ioctl(self->vm, KVM_SET_NR_MMU_PAGES, 64UL));
	ASSERT_OK(ioctl(self->vm, KVM_SET_NR_MMU_PAGES, 1UL << 20));
	ASSERT_OK(vm_enable_split_irqchip(self->vm, SPLIT_IRQCHIP_PINS));
	vcpu = vcpu_create(self->vm, 0);
	ASSERT_OK(vcpu);
	ASSERT_OK(ioctl(self->vm, KVM_SET_NR_MMU_PAGES, 64UL));
	close(vcpu);
}

/* Unknown VM ioctls end in kvm_arch_vm_ioctl(): -ENOTTY. */
TEST_F(vm, unknown_vm_ioctl)
{
	struct { __u64 pad[4]; } buf = {};

	EXPECT_ERRNO(ioctl(self->vm, _IO(KVMIO, 0xff)), ENOTTY);
	EXPECT_ERRNO(ioctl(self->vm, _IOWR(KVMIO, 0xfe, buf), &buf), ENOTTY);
	EXPECT_ERRNO(ioctl(self->vm, TCGETS, &buf), ENOTTY);
}

/*
 * Unknown vCPU ioctls: KVM answers -EINVAL, both for other ioctl types
 * (kvm_vcpu_ioctl()) and for unknown KVMIO numbers (kvm_arch_vcpu_ioctl()).
 */
TEST_F(vm, unknown_vcpu_ioctl)
{
	struct { __u64 pad[4]; } buf = {};
	int vcpu;

	ASSERT_OK(vm_enable_split_irqchip(self->vm, SPLIT_IRQCHIP_PINS));
	vcpu = vcpu_create(self->vm, 0);
	ASSERT_OK(vcpu);
	EXPECT_ERRNO(ioctl(vcpu, _IO(KVMIO, 0xff)), EINVAL);
	EXPECT_ERRNO(ioctl(vcpu, _IOWR(KVMIO, 0xfe, buf), &buf), EINVAL);
	EXPECT_ERRNO(ioctl(vcpu, TCGETS, &buf), EINVAL);
	close(vcpu);
}

TEST_F(vm, create_vcpu)
{
	int vcpu;

	ASSERT_OK(vm_enable_split_irqchip(self->vm, SPLIT_IRQCHIP_PINS));
	vcpu = vcpu_create(self->vm, 0);
	ASSERT_OK(vcpu);
	ASSERT_EQ(FD_CLOEXEC, fcntl(vcpu, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(0, close(vcpu));
}

/* Ids run from 0 to MAX_VCPU_ID - 1 and are never truncated. */
TEST_F(vm, vcpu_id_range)
{
	int max_id = check_ext(self->dev, KVM_CAP_MAX_VCPU_ID);
	int vcpu;

	ASSERT_LT(0, max_id);
	ASSERT_OK(vm_enable_split_irqchip(self->vm, SPLIT_IRQCHIP_PINS));
	ASSERT_ERRNO(vcpu_create(self->vm, max_id), EINVAL);
	ASSERT_ERRNO(vcpu_create(self->vm, 1UL << 32), EINVAL);
	ASSERT_ERRNO(vcpu_create(self->vm, ~0UL), EINVAL);
	vcpu = vcpu_create(self->vm, max_id - 1);
	ASSERT_OK(vcpu);
	close(vcpu);
}

/*
 * KVM_CAP_MAX_VCPU_ID enabled: ids stay below it; it is set once (the
 * same value again is fine), never above the maximum the capability
 * reports, and KVM_SET_BOOT_CPU_ID may name the limit itself, not more.
 */
TEST_F(vm, max_vcpu_id_cap)
{
	int max_id = check_ext(self->dev, KVM_CAP_MAX_VCPU_ID);
	int vcpu;

	ASSERT_LT(16, max_id);
	ASSERT_ERRNO(enable_cap(self->vm, KVM_CAP_MAX_VCPU_ID, 0, max_id + 1),
		     EINVAL);
	ASSERT_OK(enable_cap(self->vm, KVM_CAP_MAX_VCPU_ID, 0, 8));
	ASSERT_OK(enable_cap(self->vm, KVM_CAP_MAX_VCPU_ID, 0, 8));
	ASSERT_ERRNO(enable_cap(self->vm, KVM_CAP_MAX_VCPU_ID, 0, 9), EINVAL);
	ASSERT_ERRNO(enable_cap(self->vm, KVM_CAP_MAX_VCPU_ID, 0, 7), EINVAL);
	/* Still what the system answers: 6.12 does not report the limit. */
	ASSERT_EQ(max_id, check_ext(self->vm, KVM_CAP_MAX_VCPU_ID));
	ASSERT_ERRNO(ioctl(self->vm, KVM_SET_BOOT_CPU_ID, 9), EINVAL);
	ASSERT_OK(ioctl(self->vm, KVM_SET_BOOT_CPU_ID, 8));
	ASSERT_OK(ioctl(self->vm, KVM_SET_BOOT_CPU_ID, 0));

	ASSERT_OK(vm_enable_split_irqchip(self->vm, SPLIT_IRQCHIP_PINS));
	ASSERT_ERRNO(vcpu_create(self->vm, 8), EINVAL);
	ASSERT_ERRNO(vcpu_create(self->vm, 1UL << 32), EINVAL);
	vcpu = vcpu_create(self->vm, 7);
	ASSERT_OK(vcpu);
	close(vcpu);
}

/* Not below the boot CPU's id; after a vCPU only the maximum is left. */
TEST_F(vm, max_vcpu_id_cap_order)
{
	int max_id = check_ext(self->dev, KVM_CAP_MAX_VCPU_ID);
	int vcpu;

	ASSERT_OK(ioctl(self->vm, KVM_SET_BOOT_CPU_ID, 5));
	ASSERT_ERRNO(enable_cap(self->vm, KVM_CAP_MAX_VCPU_ID, 0, 4), EINVAL);
	ASSERT_OK(vm_enable_split_irqchip(self->vm, SPLIT_IRQCHIP_PINS));
	vcpu = vcpu_create(self->vm, 5);
	ASSERT_OK(vcpu);
	ASSERT_ERRNO(enable_cap(self->vm, KVM_CAP_MAX_VCPU_ID, 0, 16), EINVAL);
	ASSERT_OK(enable_cap(self->vm, KVM_CAP_MAX_VCPU_ID, 0, max_id));
	close(vcpu);
}

TEST_F(vm, vcpu_id_duplicate)
{
	int a, b;

	ASSERT_OK(vm_enable_split_irqchip(self->vm, SPLIT_IRQCHIP_PINS));
	a = vcpu_create(self->vm, 3);
	ASSERT_OK(a);
	ASSERT_ERRNO(vcpu_create(self->vm, 3), EEXIST);
	/* Closing the fd does not free the id: the vCPU lives with the VM. */
	close(a);
	ASSERT_ERRNO(vcpu_create(self->vm, 3), EEXIST);
	/* The refusals leave the count alone: another id still works. */
	b = vcpu_create(self->vm, 4);
	ASSERT_OK(b);
	close(b);
}

/*
 * MAX_VCPUS vCPUs fit, one more is -EINVAL.  On KVM that is 4096 vCPUs:
 * about 11 s with kvm_amd in the rig's TCG guest, hence the timeout.
 */
TEST_F_TIMEOUT(vm, vcpu_limit, 300)
{
	int max = check_ext(self->dev, KVM_CAP_MAX_VCPUS);
	int max_id = check_ext(self->dev, KVM_CAP_MAX_VCPU_ID);
	struct timespec t0, t1;
	int *fds, i;

	ASSERT_LT(0, max);
	ASSERT_LE(max, max_id);
	ASSERT_OK(ensure_nofile(max + 1));
	ASSERT_OK(vm_enable_split_irqchip(self->vm, SPLIT_IRQCHIP_PINS));
	fds = calloc(max, sizeof(*fds));
	ASSERT_NE(NULL, fds);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < max; i++) {
		fds[i] = vcpu_create(self->vm, i);
		ASSERT_OK(fds[i], "vCPU %d of %d", i, max);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	TH_LOG("%d vCPUs in %ld ms", max, (t1.tv_sec - t0.tv_sec) * 1000 +
	       (t1.tv_nsec - t0.tv_nsec) / 1000000);

	/* A fresh id if there is one; else a used one (the count comes first). */
	ASSERT_ERRNO(vcpu_create(self->vm, max < max_id ? max : 0), EINVAL);

	for (i = 0; i < max; i++)
		close(fds[i]);
	free(fds);
}

TEST_HARNESS_MAIN
