/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lapicv-only helpers: the LAPICV_RUN run step and LAPICV_GUEST_ACCESS,
 * the guest's xAPIC MMIO and x2APIC MSR accesses a VMM forwards.
 */
#ifndef SELFTEST_LAPICV_RUN_H
#define SELFTEST_LAPICV_RUN_H

#include <stdbool.h>
#include <linux/lapicv.h>

/* One LAPICV_RUN step with RFLAGS.IF @if_flag; @halted: sleep until work. */
int lapicv_run_step(int vcpu, bool if_flag, bool halted,
		    struct lapicv_run *r);

/* One LAPICV_GUEST_ACCESS; @ga gets the request and the result. */
int guest_access(int vcpu, __u32 type, __u32 addr, __u32 size, __u64 data,
		 struct lapicv_guest_access *ga);
/* A 4-byte guest xAPIC MMIO write of @val at offset @off. */
int guest_write(int vcpu, __u32 off, __u32 val);

/* Sleep @ms milliseconds (not restarted after a signal). */
void msleep(unsigned int ms);

#endif /* SELFTEST_LAPICV_RUN_H */
