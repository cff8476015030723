/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KVM_RUN on SVM (run.c) and the vCPU's architectural registers (regs.c),
 * as vm.c's ioctl dispatch sees them.
 */
#ifndef _LAPICV_RUN_H
#define _LAPICV_RUN_H

#include <linux/fs.h>
#include <linux/kvm.h>

#include "emulate.h"
#include "npt.h"
#include "lapicv.h"
#include "svm/svm.h"

/* A port I/O exit the VMM completes by calling KVM_RUN again. */
struct lapicv_pending_io {
	bool pending;
	bool in;
	u8 size;
	/* RIP of the IN/OUT and of the instruction after it (EXITINFO2). */
	u64 rip;
	u64 next_rip;
	/*
	 * INS/OUTS: the SVM_EXIT_IOIO EXITINFO1 (REP, address size,
	 * segment) and how many elements the exit's count was.
	 */
	u32 info;
	u32 count;
};

/*
 * An MMIO read left for the VMM (KVM_EXIT_MMIO): the next KVM_RUN puts
 * run->mmio.data into the register the MOV loads and moves RIP past it.
 */
struct lapicv_pending_mmio {
	bool pending;
	struct lapicv_emu_mov mov;
	u64 rip;
	u64 next_rip;
};

/* One vCPU's KVM_RUN state; owned by the vCPU (vcpu->mutex). */
struct lapicv_vcpu_runner {
	struct lapicv_svm_vcpu svm;
	/* mmap page 0 of the vCPU fd, and page KVM_PIO_PAGE_OFFSET. */
	struct kvm_run *run;
	void *pio_data;
	struct lapicv_pending_io io;
	struct lapicv_pending_mmio mmio;
	/*
	 * KVM's awaiting_iret_completion without vNMI: the IRET at
	 * iret_rip that ends an NMI handler was intercepted; NMIs stay
	 * masked until an exit finds RIP elsewhere (the IRET done).
	 */
	bool awaiting_iret;
	u64 iret_rip;
	/*
	 * KVM's nmi_singlestep: an NMI waits for that IRET, so the runner
	 * set RFLAGS.TF and RF to single-step it; the #DB after it ends
	 * the step.  nmi_singlestep_flags: the guest's own TF and RF then,
	 * put back at the #DB and shown meanwhile (KVM_GET/SET_REGS).
	 */
	bool nmi_singlestep;
	u64 nmi_singlestep_flags;
	/*
	 * KVM's req_immediate_exit: an NMI waits behind the event this entry
	 * reinjects, so the guest exits as soon as that event is delivered
	 * and the next step injects the NMI.  Set by each step for the entry
	 * after it.
	 */
	bool immediate_exit;
	/*
	 * The memslot of the current emulation's reads and writes
	 * (lapicv_runner_emu_ctx()).
	 */
	struct lapicv_npt_window window;
};

/*
 * 0 when KVM_RUN can run guests here (SVM with nested paging, the soft
 * backend), else its errno; the runner's capabilities follow it.
 */
int lapicv_runner_supported(void);

/* With the vCPU (vm.c): the kvm_run pages and the VMCB. */
int lapicv_runner_vcpu_create(struct lapicv_vcpu *vcpu);
void lapicv_runner_vcpu_free(struct lapicv_vcpu *vcpu);

/*
 * emulate.c's view of the vCPU, from its VMCB: control registers,
 * segments, the guest's CPUID facts and guest memory through the
 * memslots.  For the runner's exits and regs.c's CR checks.
 */
void lapicv_runner_emu_ctx(struct lapicv_vcpu *vcpu,
			   struct lapicv_emu_ctx *ctx);

/* KVM_GET_VCPU_MMAP_SIZE: the kvm_run page and the PIO data page. */
#define LAPICV_VCPU_MMAP_SIZE	(2 * PAGE_SIZE)

/* mmap() of a vCPU fd (the file's private_data is the vCPU). */
int lapicv_vcpu_mmap(struct file *file, struct vm_area_struct *vma);

/*
 * KVM_GET_MP_STATE accepted INIT or SIPI (@accepted: what its accept
 * acted on): the registers change at once, as KVM's
 * kvm_apic_accept_events() changes them (INIT: the INIT state; SIPI: CS
 * and RIP only), so that what the VMM reads or writes next is what stays,
 * also before the VM's first KVM_RUN.  vcpu->mutex held.
 */
void lapicv_runner_take_init_sipi(struct lapicv_vcpu *vcpu,
				  unsigned long accepted);

/* KVM_RUN, vcpu->mutex held; @arg must be 0. */
int lapicv_vcpu_kvm_run(struct lapicv_vcpu *vcpu, unsigned long arg);

/* KVM_GET/SET_REGS and KVM_GET/SET_SREGS (regs.c), vcpu->mutex held. */
void lapicv_get_regs(struct lapicv_vcpu *vcpu, struct kvm_regs *regs);
void lapicv_set_regs(struct lapicv_vcpu *vcpu, const struct kvm_regs *regs);
void lapicv_get_sregs(struct lapicv_vcpu *vcpu, struct kvm_sregs *sregs);
int lapicv_set_sregs(struct lapicv_vcpu *vcpu, const struct kvm_sregs *sregs);

/* RFLAGS as the guest has it, and back (the NMI single-step hidden). */
u64 lapicv_runner_get_rflags(struct lapicv_vcpu *vcpu);
void lapicv_runner_set_rflags(struct lapicv_vcpu *vcpu, u64 rflags);

/* CR8 as the guest sees it (the LAPIC's TPR[7:4], else V_TPR). */
u64 lapicv_get_cr8(struct lapicv_vcpu *vcpu);

/*
 * A guest's MOV to CR0, CR4 or CR8 (the runner's CR exits, vcpu->mutex
 * held), checked as KVM checks it: 0, or -EINVAL when the guest gets
 * #GP and nothing changed.  lapicv_set_cr8() needs an in-kernel LAPIC.
 */
int lapicv_set_cr0(struct lapicv_vcpu *vcpu, u64 cr0);
int lapicv_set_cr4(struct lapicv_vcpu *vcpu, u64 cr4);
int lapicv_set_cr8(struct lapicv_vcpu *vcpu, u64 cr8);

/*
 * XSETBV (CPL 0 checked by the caller): KVM's __kvm_set_xcr() checks
 * against the guest's CPUID leaf 0xD; 0, or -EINVAL for a #GP.
 */
int lapicv_set_xcr(struct lapicv_vcpu *vcpu, u32 index, u64 xcr);

/*
 * KVM_GET/SET_XCRS (vcpu->mutex held): XCR0 alone, as KVM has it; the
 * set is lapicv_set_xcr()'s checks, -EINVAL for any refusal (XCR0 then
 * unchanged).  Without XSAVE on the host: no XCR, and every set refused.
 */
void lapicv_get_xcrs(struct lapicv_vcpu *vcpu, struct kvm_xcrs *xcrs);
int lapicv_set_xcrs(struct lapicv_vcpu *vcpu, const struct kvm_xcrs *xcrs);

/*
 * KVM's __kvm_update_cpuid_runtime() on a copy of CPUID entries, for the
 * bits that follow the vCPU's CR4 and XCR0: leaf 1's OSXSAVE, leaf 7's
 * OSPKE, leaf 0xD's XSAVE sizes.  KVM_GET_CPUID2 and the CPUID exit.
 */
void lapicv_cpuid_runtime(struct lapicv_vcpu *vcpu,
			  struct kvm_cpuid_entry2 *e, u32 nent);

/*
 * The XCR0 components KVM_GET_SUPPORTED_CPUID offers in leaf 0xD (KVM's
 * kvm_get_filtered_xcr0()): those XSETBV can take, the host's, without
 * AMX, whose tile data is a dynamic component no guest FPU state here
 * has room for (and tile config is useless without it).
 */
u64 lapicv_supported_xcr0(void);

/*
 * Bytes of an XSAVE area for @xcr0, standard or compacted form, from the
 * host's CPUID (KVM's xstate_required_size()): CPUID 0xD's EBX.
 */
u32 lapicv_xstate_size(u64 xcr0, bool compacted);

#endif /* _LAPICV_RUN_H */
