/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VMRUN for lapicv's SVM runner: guest GPRs in, VMRUN, guest GPRs out.
 *
 * int lapicv_svm_vmrun(unsigned long *gprs, u64 vmcb_pa, u64 host_state_pa)
 *
 * Called with GIF=0 and RFLAGS.IF=1 (svm.c).  gprs[] uses KVM's register
 * numbering (svm.h, enum lapicv_gpr); RAX and RSP are the VMCB's, so their
 * slots are not touched.  VMRUN takes the VMCB's address in RAX.
 *
 * Host state: VMRUN/#VMEXIT switch only part of it.  The rest (FS, GS and
 * their hidden bases, TR, LDTR, KERNEL_GS_BASE, STAR/LSTAR/CSTAR/SFMASK,
 * SYSENTER_*) is saved with VMSAVE to the per-CPU host_state page before
 * the guest's copy is loaded with VMLOAD, and restored with VMLOAD right
 * after #VMEXIT, before any per-CPU (GS-relative) access.  Its address is
 * kept on the stack across VMRUN, since every register then holds guest
 * values.
 *
 * Returns 0, or 1 if VMLOAD, VMRUN or VMSAVE faulted (SVM turned off under
 * the vCPU, e.g. for a reboot): each fault resumes after its instruction.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>

#include "compat.h"

/* Byte offsets into gprs[] (enum lapicv_gpr). */
#define G_RCX	(1 * 8)
#define G_RDX	(2 * 8)
#define G_RBX	(3 * 8)
#define G_RBP	(5 * 8)
#define G_RSI	(6 * 8)
#define G_RDI	(7 * 8)
#define G_R8	(8 * 8)
#define G_R9	(9 * 8)
#define G_R10	(10 * 8)
#define G_R11	(11 * 8)
#define G_R12	(12 * 8)
#define G_R13	(13 * 8)
#define G_R14	(14 * 8)
#define G_R15	(15 * 8)

	.text
SYM_FUNC_START(lapicv_svm_vmrun)
	/* Callee-saved registers: the guest overwrites them all. */
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx

	/*
	 * What is needed after VMRUN, when every register holds a guest
	 * value, in the order it is needed (top first): gprs, vmcb_pa,
	 * host_state_pa, and the result (0 until a fault fixup sets it).
	 */
	push	$0
	push	%rdx
	push	%rsi
	push	%rdi

	/* Host FS/GS/TR/LDTR and syscall MSRs out, the guest's in. */
	mov	%rdx, %rax
1:	vmsave	%rax
2:	mov	%rsi, %rax
3:	vmload	%rax
4:
	/* Guest GPRs; RDI last, it points at them.  RAX stays the VMCB. */
	mov	G_RCX(%rdi), %rcx
	mov	G_RDX(%rdi), %rdx
	mov	G_RBX(%rdi), %rbx
	mov	G_RBP(%rdi), %rbp
	mov	G_RSI(%rdi), %rsi
	mov	G_R8(%rdi), %r8
	mov	G_R9(%rdi), %r9
	mov	G_R10(%rdi), %r10
	mov	G_R11(%rdi), %r11
	mov	G_R12(%rdi), %r12
	mov	G_R13(%rdi), %r13
	mov	G_R14(%rdi), %r14
	mov	G_R15(%rdi), %r15
	mov	G_RDI(%rdi), %rdi

	/* CPU buffers cleared on the way in (VERW, TSA/MDS); clobbers ZF. */
	VM_CLEAR_CPU_BUFFERS

	/* The guest runs until #VMEXIT. */
5:	vmrun	%rax
6:
	/* RAX is free: the guest's RAX is in the VMCB.  Store the rest. */
	pop	%rax
	mov	%rcx, G_RCX(%rax)
	mov	%rdx, G_RDX(%rax)
	mov	%rbx, G_RBX(%rax)
	mov	%rbp, G_RBP(%rax)
	mov	%rsi, G_RSI(%rax)
	mov	%rdi, G_RDI(%rax)
	mov	%r8, G_R8(%rax)
	mov	%r9, G_R9(%rax)
	mov	%r10, G_R10(%rax)
	mov	%r11, G_R11(%rax)
	mov	%r12, G_R12(%rax)
	mov	%r13, G_R13(%rax)
	mov	%r14, G_R14(%rax)
	mov	%r15, G_R15(%rax)

	/* Guest FS/GS/TR/LDTR and MSRs back into the VMCB ... */
	pop	%rax
7:	vmsave	%rax
8:
	/* ... and the host's back into the CPU: GS base first of all. */
	pop	%rax
9:	vmload	%rax
10:
	/*
	 * No RET before the return stack is refilled and untrained, and the
	 * branch predictors flushed where the host asked for an IBPB on
	 * every #VMEXIT (SRSO's IBPB_ON_VMEXIT): UNTRAIN_RET_VM.
	 * SPEC_CTRL needs nothing: the guest cannot write it (every MSR is
	 * intercepted), so the host's value stays in force throughout.
	 */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT
	UNTRAIN_RET_VM

	/*
	 * No guest value may linger in a register, not even speculatively,
	 * not even in those the pops below reload.
	 */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%ebx, %ebx
	xor	%ebp, %ebp
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	xor	%r12d, %r12d
	xor	%r13d, %r13d
	xor	%r14d, %r14d
	xor	%r15d, %r15d

	pop	%rax
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET

	/*
	 * Fault fixups: note the failure in the result slot (its distance
	 * from RSP depends on how much was popped) and carry on after the
	 * faulting instruction, so that the host state is restored.
	 */
11:	movq	$1, 24(%rsp)
	jmp	2b
12:	movq	$1, 24(%rsp)
	jmp	4b
13:	movq	$1, 24(%rsp)
	jmp	6b
14:	movq	$1, 8(%rsp)
	jmp	8b
15:	movq	$1, (%rsp)
	jmp	10b

	_ASM_EXTABLE(1b, 11b)
	_ASM_EXTABLE(3b, 12b)
	_ASM_EXTABLE(5b, 13b)
	_ASM_EXTABLE(7b, 14b)
	_ASM_EXTABLE(9b, 15b)
SYM_FUNC_END(lapicv_svm_vmrun)
