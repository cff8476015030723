/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The shims lapicv needs to build on Linux 6.1 .. 6.12.
 *
 * Every version test in the tree lives here and nowhere else.
 */
#ifndef _LAPICV_COMPAT_H
#define _LAPICV_COMPAT_H

#ifdef __ASSEMBLY__

/*
 * UNTRAIN_RET_VM (6.7): UNTRAIN_RET, then an IBPB when the host wants one
 * on every #VMEXIT (SRSO).  6.1 spells it out, as its KVM does.
 */
#ifndef UNTRAIN_RET_VM
.macro lapicv_untrain_ret_vm
	UNTRAIN_RET
	ALTERNATIVE "", "call entry_ibpb", X86_FEATURE_IBPB_ON_VMEXIT
.endm
#define UNTRAIN_RET_VM lapicv_untrain_ret_vm
#endif

#else /* !__ASSEMBLY__ */

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

/*
 * KVM_SET_USER_MEMORY_REGION2 and KVM_CAP_USER_MEMORY2 (6.8): the 6.12
 * layout and numbers.
 */
#ifndef KVM_SET_USER_MEMORY_REGION2
struct kvm_userspace_memory_region2 {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
	__u64 guest_memfd_offset;
	__u32 guest_memfd;
	__u32 pad1;
	__u64 pad2[14];
};

#define KVM_SET_USER_MEMORY_REGION2 _IOW(KVMIO, 0x49, \
					 struct kvm_userspace_memory_region2)
#endif
#ifndef KVM_CAP_USER_MEMORY2
#define KVM_CAP_USER_MEMORY2	231
#endif

/* 6.12 renames kvm_run.immediate_exit inside the kernel. */
#ifdef HINT_UNSAFE_IN_KVM
#define lapicv_run_immediate_exit(run) \
	READ_ONCE((run)->HINT_UNSAFE_IN_KVM(immediate_exit))
#else
#define lapicv_run_immediate_exit(run) READ_ONCE((run)->immediate_exit)
#endif

/*
 * KVM_CAP_X86_APIC_BUS_CYCLES_NS (6.10): the 6.12 number.
 */
#ifndef KVM_CAP_X86_APIC_BUS_CYCLES_NS
#define KVM_CAP_X86_APIC_BUS_CYCLES_NS	237
#endif

/*
 * 6.3 made smp_send_reschedule() a macro around a tracepoint modules do
 * not see declared; the x86 call under it is the same IPI on every kernel.
 */
#ifdef smp_send_reschedule
#define lapicv_send_reschedule(cpu)	arch_smp_send_reschedule(cpu)
#else
#define lapicv_send_reschedule(cpu)	smp_send_reschedule(cpu)
#endif

/*
 * Syscore callbacks (<linux/syscore_ops.h>): since 6.19, and in Debian's
 * 6.12.118 by a backport, they take a data pointer and are registered
 * through a struct syscore; before, the struct syscore_ops itself is
 * registered.  No macro tells them apart, so Kbuild looks at the header
 * and defines LAPICV_HAVE_STRUCT_SYSCORE.
 */
#ifdef LAPICV_HAVE_STRUCT_SYSCORE
#define LAPICV_SYSCORE_ARGS		void *data
#define LAPICV_DEFINE_SYSCORE(name, sops) \
	static struct syscore name = { .ops = &(sops) }
#define lapicv_register_syscore(name)	register_syscore(&(name))
#define lapicv_unregister_syscore(name)	unregister_syscore(&(name))
#else
#define LAPICV_SYSCORE_ARGS		void
#define LAPICV_DEFINE_SYSCORE(name, sops) \
	static struct syscore_ops *const name = &(sops)
#define lapicv_register_syscore(name)	register_syscore_ops(name)
#define lapicv_unregister_syscore(name)	unregister_syscore_ops(name)
#endif

#endif /* __ASSEMBLY__ */

#endif /* _LAPICV_COMPAT_H */
