/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The shims lapicv needs to build on Linux 6.1 .. 6.12.
 *
 * Every version test in the tree lives here and nowhere else.
 */
#ifndef _LAPICV_COMPAT_H
#define _LAPICV_COMPAT_H

#include <linux/kvm.h>
#include <linux/version.h>

/*
 * uAPI numbers newer than 6.1's <linux/kvm.h>: they are ABI, so the 6.12
 * values hold on every kernel.
 */
#ifndef KVM_X86_DEFAULT_VM
#define KVM_X86_DEFAULT_VM	0
#endif
#ifndef KVM_CAP_VM_TYPES
#define KVM_CAP_VM_TYPES	235
#endif
/* In 6.1's <linux/kvm_host.h>, not uAPI; the stats fd format fixes it. */
#ifndef KVM_STATS_NAME_SIZE
#define KVM_STATS_NAME_SIZE	48
#endif

#endif /* _LAPICV_COMPAT_H */
