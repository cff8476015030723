/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by lapicv's real-guest selftests (KVM's selftest library).
 */
#ifndef _LAPICV_GUEST_UTIL_H
#define _LAPICV_GUEST_UTIL_H

#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"

#define GUEST_RFLAGS_IF		(1ul << 9)

/* Run the vCPU to its next ucall, reporting a failed guest assertion. */
static inline uint64_t run_to_ucall(struct kvm_vcpu *vcpu, struct ucall *uc)
{
	uint64_t cmd;

	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	cmd = get_ucall(vcpu, uc);
	if (cmd == UCALL_ABORT)
		REPORT_GUEST_ASSERT(*uc);
	return cmd;
}

/*
 * QEMU 7.2's SVM emulation (the rig's TCG) now and then delivers an
 * interrupt that the hypervisor injected through EVENTINJ twice, on
 * kvm_amd as on lapicv: the second delivery of the same vector
 * interrupts the first one's IDT stub (its first instruction) or its
 * handler, where IF is 0 (the library's gates are interrupt gates), as if
 * an exit right after the delivery had reported the event in EXITINTINFO
 * as not delivered, so that the hypervisor injected it again.  No
 * external interrupt can interrupt code running with IF=0, so a handler
 * of a maskable interrupt that sees IF=0 in its frame is looking at such
 * a second delivery: it neither counts it nor EOIs it (the first
 * delivery's handler EOIs the one acknowledge).  Documentation/testing.rst
 * has the numbers.  A hypervisor that injected a new interrupt into a
 * guest with IF=0 would leave it in ISR, uncounted, and fail the test.
 */
static inline bool redelivery(struct ex_regs *regs)
{
	return !(regs->rflags & GUEST_RFLAGS_IF);
}

#endif /* _LAPICV_GUEST_UTIL_H */
