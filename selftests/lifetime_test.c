// SPDX-License-Identifier: GPL-2.0-only
/*
 * Lifetimes: fds closed in any order, vCPU fds keeping their VM alive,
 * concurrent vCPU creation, many create/close cycles, VMs owned by their
 * process, and (lapicv only) the module reference count returning to its
 * baseline.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lapicv_util.h"

#define NR_CYCLES	200
#define NR_VCPUS	4

FIXTURE(life) {
	int dev;
};

FIXTURE_SETUP(life)
{
	self->dev = open_dev();
	ASSERT_OK(self->dev);
}

FIXTURE_TEARDOWN(life)
{
	if (self->dev >= 0)
		close(self->dev);
}

/* The errno of an ioctl no vCPU knows, to compare before and after. */
static int vcpu_unknown_errno(int vcpu)
{
	return ioctl(vcpu, _IO(KVMIO, 0xff)) == -1 ? errno : 0;
}

/* The vCPU fds keep the VM alive after its own fd is gone. */
TEST_F(life, close_vm_fd_first)
{
	int vm, vcpu[2], before, after, i;

	vm = vm_create_split(self->dev);
	ASSERT_OK(vm);
	for (i = 0; i < 2; i++) {
		vcpu[i] = vcpu_create(vm, i);
		ASSERT_OK(vcpu[i]);
	}
	before = vcpu_unknown_errno(vcpu[0]);
	ASSERT_EQ(0, close(vm));
	for (i = 0; i < 2; i++) {
		after = vcpu_unknown_errno(vcpu[i]);
		ASSERT_EQ(before, after)
			TH_LOG("vCPU %d: %s after the VM fd closed, %s before",
			       i, errno_name(after), errno_name(before));
	}
	ASSERT_EQ(0, close(vcpu[1]));
	ASSERT_EQ(0, close(vcpu[0]));
}

TEST_F(life, close_vcpu_fds_first)
{
	int vm, vcpu, extra;

	vm = vm_create_split(self->dev);
	ASSERT_OK(vm);
	vcpu = vcpu_create(vm, 0);
	ASSERT_OK(vcpu);
	ASSERT_EQ(0, close(vcpu));
	extra = vcpu_create(vm, 1);
	ASSERT_OK(extra);
	ASSERT_EQ(0, close(extra));
	ASSERT_EQ(0, close(vm));
}

/* The device fd is only needed to create the VM. */
TEST_F(life, close_dev_fd_first)
{
	int vm, vcpu;

	vm = vm_create_split(self->dev);
	ASSERT_OK(vm);
	ASSERT_EQ(0, close(self->dev));
	self->dev = -1;
	vcpu = vcpu_create(vm, 0);
	ASSERT_OK(vcpu);
	ASSERT_EQ(1, check_ext(vm, KVM_CAP_SPLIT_IRQCHIP));
	ASSERT_EQ(0, close(vm));
	ASSERT_EQ(0, close(vcpu));
}

/* VMs with vCPUs, created and closed in alternating orders. */
TEST_F_TIMEOUT(life, create_close_cycles, 120)
{
	int vm, vcpu[NR_VCPUS], n, i;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (n = 0; n < NR_CYCLES; n++) {
		vm = vm_create_split(self->dev);
		ASSERT_OK(vm, "cycle %d", n);
		for (i = 0; i < NR_VCPUS; i++) {
			vcpu[i] = vcpu_create(vm, i);
			ASSERT_OK(vcpu[i], "cycle %d vCPU %d", n, i);
		}
		if (n & 1)
			close(vm);
		for (i = 0; i < NR_VCPUS; i++)
			close(vcpu[(i + n) % NR_VCPUS]);
		if (!(n & 1))
			close(vm);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	TH_LOG("%d cycles in %ld ms", NR_CYCLES,
	       (t1.tv_sec - t0.tv_sec) * 1000 +
	       (t1.tv_nsec - t0.tv_nsec) / 1000000);
}

struct racer {
	int vm;
	int created;
	int exists;
	int other;
	int fds[NR_VCPUS * 4];
};

static void *race_create(void *arg)
{
	struct racer *r = arg;
	unsigned long id;
	int fd;

	for (id = 0; id < ARRAY_SIZE(r->fds); id++) {
		fd = vcpu_create(r->vm, id);
		if (fd >= 0)
			r->fds[r->created++] = fd;
		else if (errno == EEXIST)
			r->exists++;
		else
			r->other++;
	}
	return NULL;
}

/* Two threads create the same ids: each id is won exactly once. */
TEST_F(life, concurrent_vcpu_create)
{
	struct racer r[2] = {};
	pthread_t t[2];
	int vm, i, j;

	vm = vm_create_split(self->dev);
	ASSERT_OK(vm);
	for (i = 0; i < 2; i++) {
		r[i].vm = vm;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, race_create, &r[i]));
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	EXPECT_EQ(0, r[0].other + r[1].other);
	EXPECT_EQ(ARRAY_SIZE(r[0].fds), r[0].created + r[1].created);
	EXPECT_EQ(ARRAY_SIZE(r[0].fds), r[0].exists + r[1].exists);
	for (i = 0; i < 2; i++)
		for (j = 0; j < r[i].created; j++)
			close(r[i].fds[j]);
	close(vm);
}

/*
 * A VM belongs to the process that created it: KVM answers every VM and
 * vCPU ioctl from another process (here a forked child) with -EIO.
 */
TEST_F(life, other_process_eio)
{
	int vm, vcpu, status;
	pid_t pid;

	vm = vm_create_split(self->dev);
	ASSERT_OK(vm);
	vcpu = vcpu_create(vm, 0);
	ASSERT_OK(vcpu);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* exit status: 1 + the index of the first unexpected answer */
		if (!(vcpu_create(vm, 1) == -1 && errno == EIO))
			_exit(1);
		if (!(check_ext(vm, KVM_CAP_SPLIT_IRQCHIP) == -1 && errno == EIO))
			_exit(2);
		if (vcpu_unknown_errno(vcpu) != EIO)
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("check %d in the child did not get EIO",
		       WEXITSTATUS(status));
	/* The owner still can. */
	ASSERT_EQ(1, check_ext(vm, KVM_CAP_SPLIT_IRQCHIP));
	close(vcpu);
	close(vm);
}

static long read_refcnt(void)
{
	FILE *f = fopen("/sys/module/lapicv/refcnt", "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/*
 * Every fd pins the module (so rmmod fails while one is open), and the
 * count returns to its baseline once they are closed: nothing leaks a
 * reference.  Freeing may be deferred, so allow it a second.
 */
TEST(refcnt_back_to_baseline)
{
	long base, now;
	int dev, vm, vcpu, i;

	REQUIRE_LAPICV();
	base = read_refcnt();
	ASSERT_LE(0, base) TH_LOG("no /sys/module/lapicv/refcnt");

	dev = open_dev();
	ASSERT_OK(dev);
	ASSERT_LT(base, read_refcnt());
	vm = vm_create_split(dev);
	ASSERT_OK(vm);
	vcpu = vcpu_create(vm, 0);
	ASSERT_OK(vcpu);
	close(dev);
	ASSERT_LT(base, read_refcnt()) TH_LOG("VM fd open, module unpinned");
	close(vm);
	ASSERT_LT(base, read_refcnt()) TH_LOG("vCPU fd open, module unpinned");
	close(vcpu);

	for (i = 0; i < 100; i++) {
		now = read_refcnt();
		if (now == base)
			break;
		usleep(10000);
	}
	ASSERT_EQ(base, now);
}

TEST_HARNESS_MAIN
