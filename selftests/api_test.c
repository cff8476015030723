// SPDX-License-Identifier: GPL-2.0-only
/*
 * The system fd (/dev/lapicv or /dev/kvm): KVM_GET_API_VERSION,
 * KVM_CHECK_EXTENSION on the system and VM fds, KVM_CREATE_VM, and the
 * errors for ioctls the system fd does not know.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lapicv_util.h"

FIXTURE(sys) {
	int dev;
};

FIXTURE_SETUP(sys)
{
	self->dev = open_dev();
	ASSERT_OK(self->dev);
}

FIXTURE_TEARDOWN(sys)
{
	close(self->dev);
}

TEST_F(sys, api_version)
{
	ASSERT_EQ(KVM_API_VERSION, ioctl(self->dev, KVM_GET_API_VERSION, 0UL));
}

/* KVM rejects a non-zero argument to KVM_GET_API_VERSION. */
TEST_F(sys, api_version_nonzero_arg)
{
	ASSERT_ERRNO(ioctl(self->dev, KVM_GET_API_VERSION, 1UL), EINVAL);
}

TEST_F(sys, ext_split_irqchip)
{
	ASSERT_EQ(1, check_ext(self->dev, KVM_CAP_SPLIT_IRQCHIP));
}

/*
 * The vCPU limits are whatever the device says (KVM: 4096 and 16384 on
 * Debian's kernels); the other tests read them back rather than assume.
 */
TEST_F(sys, ext_vcpu_limits)
{
	int nr = check_ext(self->dev, KVM_CAP_NR_VCPUS);
	int max = check_ext(self->dev, KVM_CAP_MAX_VCPUS);
	int max_id = check_ext(self->dev, KVM_CAP_MAX_VCPU_ID);

	TH_LOG("NR_VCPUS %d MAX_VCPUS %d MAX_VCPU_ID %d", nr, max, max_id);
	ASSERT_LT(0, nr);
	ASSERT_LE(nr, max);
	ASSERT_LE(max, max_id);
}

/* The device answers KVM_CHECK_EXTENSION and KVM_ENABLE_CAP on VM fds. */
TEST_F(sys, ext_vm_fd_caps)
{
	ASSERT_EQ(1, check_ext(self->dev, KVM_CAP_CHECK_EXTENSION_VM));
	ASSERT_EQ(1, check_ext(self->dev, KVM_CAP_ENABLE_CAP_VM));
}

TEST_F(sys, ext_unknown)
{
	ASSERT_EQ(0, check_ext(self->dev, 100000));
	ASSERT_EQ(0, check_ext(self->dev, -1));
}

/*
 * Every capability lapicv answers with a fixed value answers as kvm_amd
 * does: the table holds KVM 6.12's values, and both devices must match it.
 * (The vCPU limits differ on purpose and are checked above.)
 */
TEST_F(sys, ext_values_are_kvms)
{
	static const struct {
		long cap;
		int val;
	} caps[] = {
		{ KVM_CAP_SPLIT_IRQCHIP, 1 },
		{ KVM_CAP_CHECK_EXTENSION_VM, 1 },
		{ KVM_CAP_ENABLE_CAP_VM, 1 },
		{ KVM_CAP_SIGNAL_MSI, 1 },
		{ KVM_CAP_X2APIC_API, KVM_X2APIC_API_USE_32BIT_IDS |
				      KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK },
		{ KVM_CAP_TSC_DEADLINE_TIMER, 1 },
		{ KVM_CAP_EXT_CPUID, 1 },
		{ KVM_CAP_MP_STATE, 1 },
		{ KVM_CAP_USER_MEMORY, 1 },
		{ KVM_CAP_VAPIC, 1 },
		{ KVM_CAP_READONLY_MEM, 1 },
		{ KVM_CAP_NR_MEMSLOTS, 32764 },
		{ KVM_CAP_MULTI_ADDRESS_SPACE, 2 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(caps); i++)
		EXPECT_EQ(caps[i].val, check_ext(self->dev, caps[i].cap))
			TH_LOG("cap %ld", caps[i].cap);
}

/* A VM fd reports the same values as the system fd. */
TEST_F(sys, ext_on_vm_fd)
{
	static const long caps[] = {
		KVM_CAP_SPLIT_IRQCHIP, KVM_CAP_NR_VCPUS, KVM_CAP_MAX_VCPUS,
		KVM_CAP_MAX_VCPU_ID, 100000,
	};
	unsigned int i;
	int vm;

	vm = vm_create(self->dev);
	ASSERT_OK(vm);
	for (i = 0; i < ARRAY_SIZE(caps); i++)
		EXPECT_EQ(check_ext(self->dev, caps[i]), check_ext(vm, caps[i]))
			TH_LOG("cap %ld", caps[i]);
	close(vm);
}

TEST_F(sys, create_vm)
{
	int vm = vm_create(self->dev);

	ASSERT_OK(vm);
	/* KVM hands out its fds with O_CLOEXEC. */
	ASSERT_EQ(FD_CLOEXEC, fcntl(vm, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(0, close(vm));
}

TEST_F(sys, create_vm_bad_type)
{
	ASSERT_ERRNO(ioctl(self->dev, KVM_CREATE_VM, 0x100000UL), EINVAL);
	ASSERT_ERRNO(ioctl(self->dev, KVM_CREATE_VM, ~0UL), EINVAL);
}

/*
 * Unknown ioctls on the system fd: KVM passes them to
 * kvm_arch_dev_ioctl(), whose default on x86 is -EINVAL (not -ENOTTY).
 */
TEST_F(sys, unknown_ioctl)
{
	struct { __u64 pad[4]; } buf = {};

	EXPECT_ERRNO(ioctl(self->dev, _IO(KVMIO, 0xff)), EINVAL);
	EXPECT_ERRNO(ioctl(self->dev, _IOWR(KVMIO, 0xfe, buf), &buf), EINVAL);
	/* isatty() asks with TCGETS. */
	EXPECT_ERRNO(ioctl(self->dev, TCGETS, &buf), EINVAL);
}

#define MSR_IA32_TSC_DEADLINE	0x6e0

/*
 * KVM_GET_MSR_INDEX_LIST as KVM 6.12's: nmsrs is written back, then a
 * list longer than the buffer is -E2BIG; TSC-deadline is on both lists,
 * and lapicv's holds nothing else (KVM's other MSRs are not served).
 */
TEST_F(sys, msr_index_list)
{
	struct {
		struct kvm_msr_list hdr;
		__u32 idx[1024];
	} l;
	bool deadline = false;
	__u32 i, n;

	l.hdr.nmsrs = 0;
	ASSERT_ERRNO(ioctl(self->dev, KVM_GET_MSR_INDEX_LIST, &l), E2BIG);
	n = l.hdr.nmsrs;
	ASSERT_LT(0u, n);
	ASSERT_GE(1024u, n);
	ASSERT_ERRNO(ioctl(self->dev, KVM_GET_MSR_INDEX_LIST, NULL), EFAULT);
	l.hdr.nmsrs = 1024;
	ASSERT_OK(ioctl(self->dev, KVM_GET_MSR_INDEX_LIST, &l));
	ASSERT_EQ(n, l.hdr.nmsrs);
	for (i = 0; i < n; i++)
		deadline |= l.idx[i] == MSR_IA32_TSC_DEADLINE;
	EXPECT_TRUE(deadline);
	if (!dev_is_kvm())
		EXPECT_EQ(1u, n);
}

TEST_HARNESS_MAIN
