/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The SVM vCPU runner's hardware side (svm/svm.c, svm/vmenter.S): who owns
 * EFER.SVME, the per-vCPU VMCB, and one trip into the guest.
 *
 * Nothing here knows about struct kvm_run or the LAPIC: run.c drives it and
 * handles the exits, regs.c maps KVM's register structs onto the VMCB.
 */
#ifndef _LAPICV_SVM_H
#define _LAPICV_SVM_H

#include <linux/types.h>
#include <asm/fpu/api.h>
#include <asm/svm.h>

struct lapicv_vm;

/* Guest GPRs that VMRUN does not switch, by KVM's register numbering. */
enum lapicv_gpr {
	LAPICV_RAX, LAPICV_RCX, LAPICV_RDX, LAPICV_RBX,
	LAPICV_RSP, LAPICV_RBP, LAPICV_RSI, LAPICV_RDI,
	LAPICV_R8, LAPICV_R9, LAPICV_R10, LAPICV_R11,
	LAPICV_R12, LAPICV_R13, LAPICV_R14, LAPICV_R15,
	LAPICV_NR_GPRS,
};

/*
 * One vCPU's SVM state.  RAX, RSP, RIP and RFLAGS live in the VMCB's save
 * area; gprs[LAPICV_RAX] and gprs[LAPICV_RSP] are unused.  Owned by the
 * vCPU (vcpu->mutex); vmenter.S reads and writes gprs.
 */
struct lapicv_svm_vcpu {
	unsigned long gprs[LAPICV_NR_GPRS];
	struct vmcb *vmcb;
	u64 vmcb_pa;
	/*
	 * CR0 and CR4 as the guest sees them (KVM_GET_SREGS, MOV from
	 * CRn); the VMCB holds what the CPU runs with (see
	 * lapicv_svm_set_cr0() and lapicv_svm_set_cr4()).
	 */
	u64 cr0;
	u64 cr4;
	/* The guest's FPU/SSE/AVX registers while the VMM thread runs. */
	struct fpu_guest fpu;
	/*
	 * The guest's XCR0 (KVM's vcpu->arch.xcr0): in the CPU from CLGI
	 * to STGI while the guest has CR4.OSXSAVE.  Within what fpu's
	 * state holds (regs.c checks).
	 */
	u64 xcr0;
	/*
	 * The guest's PKRU while the host's is loaded (the FPU swap leaves
	 * PKRU alone); used where the host has OSPKE.
	 */
	u32 pkru;
	/*
	 * The guest's TLB (svm.c): the CPU of the last VMRUN (-1 before
	 * the first), the ASID generation of that CPU the VMCB's ASID
	 * belongs to (0: a new ASID at the next entry, which is how a
	 * flush is asked for without FlushByAsid), and the count of the
	 * VM's nested-table flushes this vCPU has served.
	 */
	int cpu;
	u64 asid_gen;
	unsigned long tlb_gen;
};

/* Module load/unload: the CPU's features, the shared permission maps. */
int lapicv_svm_init(void);
void lapicv_svm_exit(void);

/*
 * 0 when this host can run guests (SVM and NPT, no host memory
 * encryption), else -ENODEV: the errno
 * KVM_RUN returns, and why the runner's capabilities read 0.
 */
int lapicv_svm_supported(void);

/*
 * Take / drop one reference on SVM.  lapicv_svm_get() takes one only if
 * *held is false, and sets it (under svm_lock): one reference per holder
 * however many vCPUs ask at once. the first turns EFER.SVME on and sets
 * a host save area on every online CPU (and on CPUs that come online
 * later), the last turns it off again.  -EBUSY when another hypervisor
 * already has SVME set on some CPU, with one line in the kernel log.
 */
int lapicv_svm_get(bool *held);
void lapicv_svm_put(void);

/* The vCPU's VMCB, set to the architectural RESET state; free it. */
int lapicv_svm_vcpu_create(struct lapicv_svm_vcpu *svm);
/* Back to RESET: the VMCB's controls and state, the GPRs. */
void lapicv_svm_vcpu_reset(struct lapicv_svm_vcpu *svm);
void lapicv_svm_vcpu_free(struct lapicv_svm_vcpu *svm);

/*
 * Guest mode, for kicks: *guest_cpu is the CPU the vCPU runs the guest on
 * (set with interrupts off, then a full barrier), -1 outside guest mode;
 * has_work(opaque), asked after the store, cancels the entry.  *tlb_gen,
 * read after the store too, counts the VM's nested-table flushes
 * (npt.c): a count the vCPU has not served flushes its TLB at this
 * entry.
 * immediate_exit: the guest exits right after the entry has delivered
 * EVENTINJ (a self-IPI with interrupts off, KVM's force_immediate_exit).
 */
struct lapicv_svm_gate {
	int *guest_cpu;
	bool (*has_work)(void *opaque);
	void *opaque;
	bool immediate_exit;
	const unsigned long *tlb_gen;
};

/*
 * Enter the guest once and return on #VMEXIT with the exit in
 * svm->vmcb->control.  The caller holds an SVM reference, has swapped in
 * the guest FPU and has preemption enabled; interrupts are enabled on
 * return.  -EIO if SVM was turned off under the vCPU (reboot); -EAGAIN,
 * without entering, if the gate found work before the entry (a signal,
 * need_resched, a request or a kick).
 */
int lapicv_svm_enter(struct lapicv_svm_vcpu *svm, u64 nested_cr3,
		     const struct lapicv_svm_gate *gate);

/* vmenter.S: VMRUN with the guest GPRs; 0, or 1 if an SVM insn faulted. */
int lapicv_svm_vmrun(unsigned long *gprs, u64 vmcb_pa, u64 host_state_pa);

/* INIT: KVM's INIT state (RESET keeping CR0.CD/NW and PAT), RDX = @rdx. */
void lapicv_svm_vcpu_init(struct lapicv_svm_vcpu *svm, unsigned long rdx);
/* SIPI: real mode at @vector's page (CS = vector << 8, RIP 0). */
void lapicv_svm_sipi(struct lapicv_svm_vcpu *svm, u8 vector);
/* EVENTINJ (SVM_EVTINJ_* format) and its error code. */
void lapicv_svm_inject(struct lapicv_svm_vcpu *svm, u32 event_inj, u32 err);
/* The IRQ window: V_IRQ with the VINTR intercept, or neither. */
void lapicv_svm_set_irq_window(struct lapicv_svm_vcpu *svm, bool open);
/* IRET intercepted: NMIs stay masked until the guest's IRET (no vNMI). */
void lapicv_svm_set_iret_intercept(struct lapicv_svm_vcpu *svm, bool on);

/*
 * The guest's CR0 and CR4 into the VMCB, as KVM's svm_set_cr0() and
 * svm_set_cr4() with nested paging: the CPU runs with CR0.CD and NW
 * clear (KVM_X86_QUIRK_CD_NW_CLEARED) and with CR4.MCE as the host has
 * it; CR0 reads and writes are intercepted while the two differ, CR4's
 * always.  No checks: the caller's (regs.c).
 */
void lapicv_svm_set_cr0(struct lapicv_svm_vcpu *svm, u64 cr0);
void lapicv_svm_set_cr4(struct lapicv_svm_vcpu *svm, u64 cr4);

/*
 * The guest's TLB flushed at the next entry (KVM's
 * svm_flush_tlb_current()): for state the VMM or an intercepted write
 * changed under the guest (CR0.PG/WP, CR4, KVM_SET_SREGS, INIT).
 */
void lapicv_svm_flush_tlb(struct lapicv_svm_vcpu *svm);

/* CR8 writes intercepted, or not (KVM's svm_update_cr8_intercept()). */
void lapicv_svm_set_cr8_intercept(struct lapicv_svm_vcpu *svm, bool on);
bool lapicv_svm_cr8_intercepted(const struct lapicv_svm_vcpu *svm);

/* The host's XCR0 (0 without OSXSAVE), which the guest's must stay in. */
u64 lapicv_svm_host_xcr0(void);

/* Skip the instruction that exited: @len bytes unless NRIP says. */
void lapicv_svm_skip(struct lapicv_svm_vcpu *svm, unsigned int len);

#endif /* _LAPICV_SVM_H */
