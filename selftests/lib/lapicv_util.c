// SPDX-License-Identifier: GPL-2.0-only
/*
 * Helpers shared by the lapicv selftests; see lapicv_util.h.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lapicv_util.h"

/* include/linux/miscdevice.h */
#define MISC_MAJOR	10
#define KVM_MINOR	232

const char *dev_path(void)
{
	const char *p = getenv("LAPICV_DEV");

	return p && *p ? p : LAPICV_DEFAULT_DEV;
}

bool dev_is_kvm(void)
{
	struct stat st;

	if (stat(dev_path(), &st) == 0 && S_ISCHR(st.st_mode))
		return major(st.st_rdev) == MISC_MAJOR &&
		       minor(st.st_rdev) == KVM_MINOR;
	return strcmp(dev_path(), "/dev/kvm") == 0;
}

int open_dev(void)
{
	return open(dev_path(), O_RDWR | O_CLOEXEC);
}

int vm_create(int devfd)
{
	return ioctl(devfd, KVM_CREATE_VM, 0UL);
}

int vm_enable_split_irqchip(int vmfd, unsigned long pins)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_SPLIT_IRQCHIP,
		.args[0] = pins,
	};

	return ioctl(vmfd, KVM_ENABLE_CAP, &cap);
}

int vm_create_split(int devfd)
{
	int vmfd = vm_create(devfd);
	int err;

	if (vmfd < 0)
		return vmfd;
	if (vm_enable_split_irqchip(vmfd, SPLIT_IRQCHIP_PINS) < 0) {
		err = errno;
		close(vmfd);
		errno = err;
		return -1;
	}
	return vmfd;
}

int vcpu_create(int vmfd, unsigned long id)
{
	return ioctl(vmfd, KVM_CREATE_VCPU, id);
}

int check_ext(int fd, long cap)
{
	return ioctl(fd, KVM_CHECK_EXTENSION, cap);
}

int ensure_nofile(unsigned long n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	if (rl.rlim_cur >= n + 64)
		return 0;
	rl.rlim_cur = n + 64;
	if (rl.rlim_max < rl.rlim_cur)
		rl.rlim_max = rl.rlim_cur;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

const char *errno_name(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "E?";
}
