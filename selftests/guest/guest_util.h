/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by lapicv's real-guest selftests (KVM's selftest library).
 */
#ifndef _LAPICV_GUEST_UTIL_H
#define _LAPICV_GUEST_UTIL_H

#include "kvm_util.h"
#include "ucall_common.h"

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

#endif /* _LAPICV_GUEST_UTIL_H */
