/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KVM_GET_SUPPORTED_CPUID's table (cpuid.c): the host's CPUID masked by
 * what lapicv's runner virtualizes, built as KVM 6.12 builds its own.
 */
#ifndef _LAPICV_CPUID_H
#define _LAPICV_CPUID_H

#include <linux/kvm.h>
#include <linux/types.h>

/* KVM's KVM_MAX_CPUID_ENTRIES: a larger nent is clamped to it. */
#define LAPICV_MAX_CPUID_ENTRIES	256

/*
 * Fill @entries (room for @max) with the table; *@nent the entries
 * written.  0, or -E2BIG when the table does not fit.
 */
int lapicv_supported_cpuid(struct kvm_cpuid_entry2 *entries, u32 max,
			   u32 *nent);

/*
 * KVM's cr4_reserved_bits: the CR4 bits of features the table above
 * lacks (OSXSAVE, PCIDE, SMEP, SMAP, FSGSBASE, PKE, LA57, UMIP), which
 * neither KVM_SET_SREGS nor the guest may set whatever its CPUID says.
 */
u64 lapicv_supported_cr4_reserved(void);

#endif /* _LAPICV_CPUID_H */
