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
	/* The CPU of the last VMRUN, for KVM_EXIT_FAIL_ENTRY. */
	int last_cpu;
	/* The memslot of the current emulation's reads (runner_emu_ctx()). */
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

/* KVM_GET_VCPU_MMAP_SIZE: the kvm_run page and the PIO data page. */
#define LAPICV_VCPU_MMAP_SIZE	(2 * PAGE_SIZE)

/* mmap() of a vCPU fd (the file's private_data is the vCPU). */
int lapicv_vcpu_mmap(struct file *file, struct vm_area_struct *vma);

/* KVM_RUN, vcpu->mutex held; @arg must be 0. */
int lapicv_vcpu_kvm_run(struct lapicv_vcpu *vcpu, unsigned long arg);

/* KVM_GET/SET_REGS and KVM_GET/SET_SREGS (regs.c), vcpu->mutex held. */
void lapicv_get_regs(struct lapicv_vcpu *vcpu, struct kvm_regs *regs);
void lapicv_set_regs(struct lapicv_vcpu *vcpu, const struct kvm_regs *regs);
void lapicv_get_sregs(struct lapicv_vcpu *vcpu, struct kvm_sregs *sregs);
int lapicv_set_sregs(struct lapicv_vcpu *vcpu, const struct kvm_sregs *sregs);

/* CR8 as the guest sees it (the LAPIC's TPR[7:4], else V_TPR). */
u64 lapicv_get_cr8(struct lapicv_vcpu *vcpu);

#endif /* _LAPICV_RUN_H */
