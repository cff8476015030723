// SPDX-License-Identifier: GPL-2.0-only
/*
 * lapicv-only run-step and guest-access helpers; see lapicv_run.h.
 */
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>

#include "lapicv_run.h"

int lapicv_run_step(int vcpu, bool if_flag, bool halted, struct lapicv_run *r)
{
	memset(r, 0, sizeof(*r));
	r->rflags_if = if_flag;
	r->halted = halted;
	return ioctl(vcpu, LAPICV_RUN, r);
}

int guest_access(int vcpu, __u32 type, __u32 addr, __u32 size, __u64 data,
		 struct lapicv_guest_access *ga)
{
	memset(ga, 0, sizeof(*ga));
	ga->type = type;
	ga->address = addr;
	ga->size = size;
	ga->data = data;
	return ioctl(vcpu, LAPICV_GUEST_ACCESS, ga);
}

int guest_write(int vcpu, __u32 off, __u32 val)
{
	struct lapicv_guest_access ga;

	return guest_access(vcpu, LAPICV_ACCESS_MMIO_WRITE, off, 4, val, &ga);
}

void msleep(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (ms % 1000) * 1000000L,
	};

	nanosleep(&ts, NULL);
}
