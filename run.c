// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_RUN on AMD SVM: struct kvm_run and its mmap, the run loop, and the
 * exits the module handles itself or hands to the VMM.
 *
 * KVM_RUN (KVM's kvm_arch_vcpu_ioctl_run(), vcpu_run()):
 *  1. -ENODEV on a host without SVM and nested paging or with memory
 *     encryption (svm/svm.c), -EOPNOTSUPP with
 *     the vmx-model or avic-model backend (their modelled CPU side is not carried out
 *     for real guests yet: load lapicv with backend=soft), -ENXIO for a
 *     vCPU without an in-kernel LAPIC (KVM_CREATE_IRQCHIP or a split
 *     irqchip).  The first KVM_RUN of a VM takes an SVM reference
 *     (svm/svm.c), kept until the VM is destroyed: -EBUSY while another
 *     hypervisor owns SVM.
 *  2. The guest FPU is swapped in for the whole ioctl.
 *  3. A port I/O exit left for the VMM is completed: an IN's data goes to
 *     RAX, RIP moves past the instruction (unless the VMM moved RIP).
 *  4. immediate_exit: -EINTR without entering the guest.
 *  5. The loop, in the kernel until an exit needs the VMM: a pending
 *     signal ends it with -EINTR and KVM_EXIT_INTR, need_resched yields;
 *     a halted vCPU sleeps in apicv.c's wait until the LAPIC has an event
 *     it would wake for (or a signal); otherwise VMRUN and the exit.
 *
 * Exits:
 *  IOIO      KVM_EXIT_IO (string I/O: KVM_EXIT_INTERNAL_ERROR); EXITINFO2
 *            is the next RIP; the OUT data, or the IN result, sits in the
 *            PIO page.  OUT to port 0x7e moves RIP at once (KVM's quirk).
 *  HLT       skip it, KVM_MP_STATE_HALTED, sleep.
 *  CPUID     the KVM_SET_CPUID2 table (0 for a missing leaf), with the
 *            APIC and OSXSAVE bits of leaf 1 and OSPKE of leaf 7 live.
 *  MSR       lapic.c's APIC base, x2APIC and TSC-deadline MSRs; a refused
 *            access or any other MSR: #GP (KVM with ignore_msrs=0).
 *  NPF       inside a memslot: map it (npt.c); elsewhere the access needs
 *            instruction decoding, which comes with emulate.c:
 *            KVM_EXIT_INTERNAL_ERROR (KVM_INTERNAL_ERROR_EMULATION).
 *  SHUTDOWN  KVM_EXIT_SHUTDOWN; the VMCB is undefined, so it is reset.
 *  ERR       (VMRUN refused the state) KVM_EXIT_FAIL_ENTRY.
 *  INTR, NMI, SMI, #MC, FERR_FREEZE: nothing more (the host took it).
 *  #AC, #DB  back into the guest (intercepted so that a guest cannot
 *            make their delivery loop in the CPU).
 *  INVD, WBINVD: skipped.  RDPMC: #GP.  SVM instructions, VMMCALL,
 *  MONITOR/MWAIT, XSETBV, RSM, RDPRU: #UD.  Anything else (DR accesses,
 *  task switches): KVM_EXIT_INTERNAL_ERROR, UNEXPECTED_EXIT_REASON.
 *
 * Instruction lengths: without NRIP save (QEMU's SVM has none) the
 * skipped instructions are assumed to be their unprefixed forms: RDMSR,
 * WRMSR, CPUID, INVD, WBINVD 2 bytes, HLT 1.  With NRIP, next_rip.
 *
 * Not yet (api.rst): injecting LAPIC interrupts, NMIs and ExtINTs into
 * the guest (a halt ends when one is pending, but the guest does not take
 * it), INIT/SIPI (KVM_EXIT_INTERNAL_ERROR), MMIO and the xAPIC page.
 */
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/smp.h>
#include <linux/srcu.h>

#include <asm/fpu/api.h>
#include <asm/processor-flags.h>

#include "apicv.h"
#include "lapic.h"
#include "npt.h"
#include "run.h"
#include "timer.h"

int lapicv_runner_supported(void)
{
	int r = lapicv_svm_supported();

	if (r)
		return r;
	/*
	 * The vmx-model and avic-model backends model the CPU side of posted
	 * interrupts and AVIC; the runner does not carry that side out yet.
	 */
	return lapicv_backend.apicv ? -EOPNOTSUPP : 0;
}

/* ---- the vCPU's pages ---- */

int lapicv_runner_vcpu_create(struct lapicv_vcpu *vcpu)
{
	struct lapicv_vcpu_runner *rn;
	int r = -ENOMEM;

	rn = kzalloc(sizeof(*rn), GFP_KERNEL_ACCOUNT);
	if (!rn)
		return -ENOMEM;
	rn->run = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	rn->pio_data = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!rn->run || !rn->pio_data)
		goto fail;
	r = lapicv_svm_vcpu_create(&rn->svm);
	if (r)
		goto fail;
	rn->last_cpu = -1;
	vcpu->runner = rn;
	return 0;

fail:
	free_page((unsigned long)rn->pio_data);
	free_page((unsigned long)rn->run);
	kfree(rn);
	return r;
}

void lapicv_runner_vcpu_free(struct lapicv_vcpu *vcpu)
{
	struct lapicv_vcpu_runner *rn = vcpu->runner;

	if (!rn)
		return;
	lapicv_svm_vcpu_free(&rn->svm);
	/* A VMM's mapping holds its own page references. */
	free_page((unsigned long)rn->pio_data);
	free_page((unsigned long)rn->run);
	kfree(rn);
	vcpu->runner = NULL;
}

static vm_fault_t runner_fault(struct vm_fault *vmf)
{
	struct lapicv_vcpu *vcpu = vmf->vma->vm_file->private_data;
	struct page *page;

	if (vmf->pgoff == 0)
		page = virt_to_page(vcpu->runner->run);
	else if (vmf->pgoff == KVM_PIO_PAGE_OFFSET)
		page = virt_to_page(vcpu->runner->pio_data);
	else
		return VM_FAULT_SIGBUS;
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct runner_vm_ops = {
	.fault = runner_fault,
};

int lapicv_vcpu_mmap(struct file *file, struct vm_area_struct *vma)
{
	vma->vm_ops = &runner_vm_ops;
	return 0;
}

/* ---- exits ---- */

static struct vmcb *runner_vmcb(struct lapicv_vcpu *vcpu)
{
	return vcpu->runner->svm.vmcb;
}

static void runner_internal_error(struct lapicv_vcpu *vcpu, u32 suberror,
				  u64 data0, u64 data1)
{
	struct kvm_run *run = vcpu->runner->run;

	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = suberror;
	run->internal.ndata = 2;
	run->internal.data[0] = data0;
	run->internal.data[1] = data1;
}

static int runner_io(struct lapicv_vcpu *vcpu)
{
	struct lapicv_vcpu_runner *rn = vcpu->runner;
	struct vmcb *vmcb = rn->svm.vmcb;
	u32 info = vmcb->control.exit_info_1;
	struct kvm_run *run = rn->run;
	bool in = info & SVM_IOIO_TYPE_MASK;
	/* One bit of SZ8/SZ16/SZ32 is set: the size in bytes. */
	u8 size = (info & SVM_IOIO_SIZE_MASK) >> SVM_IOIO_SIZE_SHIFT;
	u16 port = info >> 16;

	if (info & SVM_IOIO_STR_MASK) {
		runner_internal_error(vcpu, KVM_INTERNAL_ERROR_EMULATION,
				      SVM_EXIT_IOIO, info);
		return 0;
	}
	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run->io.size = size;
	run->io.port = port;
	run->io.count = 1;
	run->io.data_offset = KVM_PIO_PAGE_OFFSET * PAGE_SIZE;
	if (!in)
		memcpy(rn->pio_data, &vmcb->save.rax, size);

	if (!in && port == 0x7e) {
		/* KVM_X86_QUIRK_OUT_7E_INC_RIP: past the OUT already. */
		vmcb->save.rip = vmcb->control.exit_info_2;
		return 0;
	}
	rn->io.pending = true;
	rn->io.in = in;
	rn->io.size = size;
	rn->io.rip = vmcb->save.rip;
	rn->io.next_rip = vmcb->control.exit_info_2;
	return 0;
}

/* KVM's complete_fast_pio_in/out(), at the start of the next KVM_RUN. */
static void runner_complete_io(struct lapicv_vcpu *vcpu)
{
	struct lapicv_vcpu_runner *rn = vcpu->runner;
	struct vmcb_save_area *s = &rn->svm.vmcb->save;
	u64 val;

	rn->io.pending = false;
	/* The VMM moved RIP meanwhile: the I/O is forgotten. */
	if (s->rip != rn->io.rip)
		return;
	if (rn->io.in) {
		/* 1 and 2 bytes merge into RAX, 4 bytes zero-extend. */
		val = rn->io.size < 4 ? s->rax : 0;
		memcpy(&val, rn->pio_data, rn->io.size);
		s->rax = val;
	}
	s->rip = rn->io.next_rip;
	s->rflags &= ~X86_EFLAGS_RF;
	rn->svm.vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
}

static const struct kvm_cpuid_entry2 *runner_find_cpuid(struct lapicv_lapic *apic,
							u32 function, u32 index)
{
	int i;

	for (i = 0; i < apic->cpuid_nent; i++) {
		const struct kvm_cpuid_entry2 *e = &apic->cpuid_entries[i];

		if (e->function == function &&
		    (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     e->index == index))
			return e;
	}
	return NULL;
}

static void runner_cpuid(struct lapicv_vcpu *vcpu)
{
	struct lapicv_svm_vcpu *svm = &vcpu->runner->svm;
	struct vmcb_save_area *s = &svm->vmcb->save;
	u32 function = s->rax, index = svm->gprs[LAPICV_RCX];
	const struct kvm_cpuid_entry2 *e;
	u32 eax = 0, ebx = 0, ecx = 0, edx = 0;

	e = runner_find_cpuid(vcpu->apic, function, index);
	if (e) {
		eax = e->eax;
		ebx = e->ebx;
		ecx = e->ecx;
		edx = e->edx;
	}
	/* The bits KVM keeps in step with the vCPU's state. */
	if (e && function == 1) {
		edx &= ~BIT(X86_FEATURE_APIC & 31);
		if (lapicv_apic_hw_enabled(vcpu->apic))
			edx |= BIT(X86_FEATURE_APIC & 31);
		ecx &= ~BIT(X86_FEATURE_OSXSAVE & 31);
		if (s->cr4 & X86_CR4_OSXSAVE)
			ecx |= BIT(X86_FEATURE_OSXSAVE & 31);
	}
	if (e && function == 7 && index == 0) {
		ecx &= ~BIT(X86_FEATURE_OSPKE & 31);
		if (s->cr4 & X86_CR4_PKE)
			ecx |= BIT(X86_FEATURE_OSPKE & 31);
	}
	s->rax = eax;
	svm->gprs[LAPICV_RBX] = ebx;
	svm->gprs[LAPICV_RCX] = ecx;
	svm->gprs[LAPICV_RDX] = edx;
	lapicv_svm_skip(svm, 2);
}

static void runner_msr(struct lapicv_vcpu *vcpu)
{
	struct lapicv_svm_vcpu *svm = &vcpu->runner->svm;
	struct vmcb_save_area *s = &svm->vmcb->save;
	u32 index = svm->gprs[LAPICV_RCX];
	u64 data;

	if (svm->vmcb->control.exit_info_1) {
		data = (u32)s->rax | (u64)(u32)svm->gprs[LAPICV_RDX] << 32;
		if (lapicv_set_msr(vcpu, index, data, false))
			goto gp;
	} else {
		if (lapicv_get_msr(vcpu, index, &data))
			goto gp;
		s->rax = (u32)data;
		svm->gprs[LAPICV_RDX] = data >> 32;
	}
	lapicv_svm_skip(svm, 2);
	return;
gp:
	lapicv_svm_inject_exception(svm, GP_VECTOR, true, 0);
}

static int runner_npf(struct lapicv_vcpu *vcpu)
{
	struct vmcb_control_area *c = &runner_vmcb(vcpu)->control;
	/* EXITINFO1 is a #PF error code: bit 1 is a write. */
	int r = lapicv_npt_fault(vcpu->vm, c->exit_info_2,
				 c->exit_info_1 & BIT(1));

	if (r < 0)
		return r;
	if (r == LAPICV_NPT_MAPPED)
		return 1;
	/* MMIO: the faulting instruction must be decoded (emulate.c). */
	runner_internal_error(vcpu, KVM_INTERNAL_ERROR_EMULATION,
			      c->exit_info_2, c->exit_info_1);
	return 0;
}

/* 1: back into the guest; 0: to the VMM (kvm_run filled); <0: error. */
static int runner_handle_exit(struct lapicv_vcpu *vcpu)
{
	struct lapicv_vcpu_runner *rn = vcpu->runner;
	struct lapicv_svm_vcpu *svm = &rn->svm;
	struct kvm_run *run = rn->run;
	u32 code = svm->vmcb->control.exit_code;

	switch (code) {
	case SVM_EXIT_INTR:
	case SVM_EXIT_NMI:
	case SVM_EXIT_SMI:
	case SVM_EXIT_FERR_FREEZE:
	case SVM_EXIT_EXCP_BASE + MC_VECTOR:
		return 1;
	case SVM_EXIT_EXCP_BASE + AC_VECTOR:
	case SVM_EXIT_EXCP_BASE + DB_VECTOR:
		lapicv_svm_reflect_exception(svm);
		return 1;
	case SVM_EXIT_IOIO:
		return runner_io(vcpu);
	case SVM_EXIT_HLT:
		lapicv_svm_skip(svm, 1);
		vcpu->apic->mp_state = KVM_MP_STATE_HALTED;
		return 1;
	case SVM_EXIT_CPUID:
		runner_cpuid(vcpu);
		return 1;
	case SVM_EXIT_MSR:
		runner_msr(vcpu);
		return 1;
	case SVM_EXIT_NPF:
		return runner_npf(vcpu);
	case SVM_EXIT_INVD:
	case SVM_EXIT_WBINVD:
		lapicv_svm_skip(svm, 2);
		return 1;
	case SVM_EXIT_RDPMC:
		lapicv_svm_inject_exception(svm, GP_VECTOR, true, 0);
		return 1;
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMMCALL:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI:
	case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA:
	case SVM_EXIT_MONITOR:
	case SVM_EXIT_MWAIT:
	case SVM_EXIT_XSETBV:
	case SVM_EXIT_RSM:
	case SVM_EXIT_RDPRU:
		lapicv_svm_inject_exception(svm, UD_VECTOR, false, 0);
		return 1;
	case SVM_EXIT_SHUTDOWN:
		/* The VMCB is undefined after a shutdown: back to RESET. */
		lapicv_svm_vcpu_reset(svm);
		run->exit_reason = KVM_EXIT_SHUTDOWN;
		return 0;
	case (u32)SVM_EXIT_ERR:
		run->exit_reason = KVM_EXIT_FAIL_ENTRY;
		run->fail_entry.hardware_entry_failure_reason = code;
		run->fail_entry.cpu = rn->last_cpu;
		return 0;
	default:
		runner_internal_error(vcpu,
				      KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON,
				      code, rn->last_cpu);
		return 0;
	}
}

/* ---- the loop ---- */

static bool runner_interruptible(struct vmcb *vmcb)
{
	return (vmcb->save.rflags & X86_EFLAGS_IF) &&
	       !(vmcb->control.int_state & SVM_INTERRUPT_SHADOW_MASK);
}

/*
 * Requests raised for the vCPU (apicv.c's run step consumes them the same
 * way).  1: carry on; 0: exit to the VMM.
 */
static int runner_requests(struct lapicv_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->runner->run;
	unsigned int vec;

	if (lapicv_check_request(vcpu, LAPICV_REQ_APICV_UPDATE))
		lapicv_vcpu_update_apicv(vcpu);
	/* Nothing to inject yet: the halt check looks at IRR itself. */
	lapicv_check_request(vcpu, LAPICV_REQ_EVENT);
	if (!lapicv_check_request(vcpu, LAPICV_REQ_IOAPIC_EOI))
		return 1;
	vec = find_first_bit(vcpu->ioapic_eoi_pending, 256);
	if (vec >= 256)
		return 1;
	__clear_bit(vec, vcpu->ioapic_eoi_pending);
	if (find_next_bit(vcpu->ioapic_eoi_pending, 256, vec) < 256)
		lapicv_make_request(vcpu, LAPICV_REQ_IOAPIC_EOI);
	run->exit_reason = KVM_EXIT_IOAPIC_EOI;
	run->eoi.vector = vec;
	return 0;
}

/* TPR <-> V_TPR around VMRUN, as KVM's sync_lapic_to_cr8() and back. */
static void runner_tpr_to_vmcb(struct lapicv_vcpu *vcpu)
{
	struct vmcb_control_area *c = &runner_vmcb(vcpu)->control;

	c->int_ctl = (c->int_ctl & ~V_TPR_MASK) | lapicv_get_cr8(vcpu);
}

static void runner_tpr_from_vmcb(struct lapicv_vcpu *vcpu)
{
	u32 cr8 = runner_vmcb(vcpu)->control.int_ctl & V_TPR_MASK;
	u32 tpr = lapicv_get_reg(vcpu->apic, APIC_TASKPRI);

	if (((tpr >> 4) & 0xf) != cr8)
		lapicv_apic_reg_write(vcpu->apic, APIC_TASKPRI,
				      cr8 << 4 | (tpr & 4));
}

/*
 * A halted vCPU: sleep until an event it wakes for.  1: woken (RUNNABLE
 * again, unless INIT/SIPI is pending); 0: an exit to the VMM; -EINTR.
 */
static int runner_halt(struct lapicv_vcpu *vcpu)
{
	struct lapicv_lapic *apic = vcpu->apic;
	bool interruptible = runner_interruptible(runner_vmcb(vcpu));
	int r;

	for (;;) {
		if (lapicv_timer_pending(apic))
			lapicv_timer_inject_pending(apic);
		lapicv_call(sync_pir_to_irr)(vcpu);
		if (!runner_requests(vcpu))
			return 0;
		if (signal_pending(current))
			return -EINTR;
		if (lapicv_vcpu_has_events(vcpu, interruptible))
			break;
		r = lapicv_vcpu_block(vcpu, interruptible);
		if (r)
			return r;
	}
	if (READ_ONCE(apic->pending_events))
		return 1;
	apic->pv_unhalted = false;
	apic->mp_state = KVM_MP_STATE_RUNNABLE;
	return 1;
}

static int runner_enter(struct lapicv_vcpu *vcpu)
{
	struct lapicv_vcpu_runner *rn = vcpu->runner;
	struct lapicv_npt *npt = vcpu->vm->npt;
	int idx, r;

	runner_tpr_to_vmcb(vcpu);
	idx = srcu_read_lock(&npt->srcu);
	rn->last_cpu = raw_smp_processor_id();
	r = lapicv_svm_enter(&rn->svm, lapicv_npt_root(vcpu->vm));
	srcu_read_unlock(&npt->srcu, idx);
	/* A signal or need_resched came first: the loop sees to it. */
	if (r == -EAGAIN)
		return 1;
	if (r)
		return r;
	runner_tpr_from_vmcb(vcpu);
	return runner_handle_exit(vcpu);
}

static int runner_loop(struct lapicv_vcpu *vcpu)
{
	struct lapicv_lapic *apic = vcpu->apic;
	struct kvm_run *run = vcpu->runner->run;
	int r;

	run->exit_reason = KVM_EXIT_UNKNOWN;
	for (;;) {
		if (signal_pending(current)) {
			run->exit_reason = KVM_EXIT_INTR;
			return -EINTR;
		}
		/* A guest that never exits must not hold up Tasks RCU. */
		cond_resched_tasks_rcu_qs();

		r = runner_requests(vcpu);
		if (r <= 0)
			return r;
		/* INIT and SIPI into a running guest: a later stage. */
		if (READ_ONCE(apic->pending_events) ||
		    (apic->mp_state != KVM_MP_STATE_RUNNABLE &&
		     apic->mp_state != KVM_MP_STATE_HALTED)) {
			runner_internal_error(vcpu,
					      KVM_INTERNAL_ERROR_EMULATION,
					      apic->mp_state,
					      READ_ONCE(apic->pending_events));
			return 0;
		}
		if (apic->mp_state == KVM_MP_STATE_HALTED) {
			r = runner_halt(vcpu);
			/* A signal: KVM_EXIT_INTR at the top of the loop. */
			if (r <= 0 && r != -EINTR)
				return r;
			continue;
		}
		r = runner_enter(vcpu);
		if (r <= 0)
			return r;
	}
}

/* The first KVM_RUN of a VM takes the SVM reference the VM keeps. */
static int runner_vm_get_svm(struct lapicv_vm *vm)
{
	if (READ_ONCE(vm->svm_held))
		return 0;
	/* Under svm_lock, not vm->lock, which ranks above vcpu->mutex. */
	return lapicv_svm_get(&vm->svm_held);
}

/* KVM's post_kvm_run_save(). */
static void runner_post_run(struct lapicv_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->runner->run;
	struct vmcb *vmcb = runner_vmcb(vcpu);

	run->if_flag = !!(vmcb->save.rflags & X86_EFLAGS_IF);
	run->cr8 = lapicv_get_cr8(vcpu);
	run->apic_base = vcpu->apic->apic_base;
	/* A full irqchip takes interrupts itself, as KVM's PIC would. */
	run->ready_for_interrupt_injection =
		vcpu->vm->irqchip == LAPICV_IRQCHIP_KERNEL ||
		(runner_interruptible(vmcb) &&
		 vcpu->apic->pending_external_vector == -1);
}

int lapicv_vcpu_kvm_run(struct lapicv_vcpu *vcpu, unsigned long arg)
{
	struct lapicv_vcpu_runner *rn = vcpu->runner;
	int r;

	lockdep_assert_held(&vcpu->mutex);
	if (arg)
		return -EINVAL;
	r = lapicv_runner_supported();
	if (r)
		return r;
	if (!vcpu->apic)
		return -ENXIO;
	r = runner_vm_get_svm(vcpu->vm);
	if (r)
		return r;

	rn->run->flags = 0;
	fpu_swap_kvm_fpstate(&rn->svm.fpu, true);
	if (rn->io.pending)
		runner_complete_io(vcpu);
	if (lapicv_run_immediate_exit(rn->run))
		r = -EINTR;
	else
		r = runner_loop(vcpu);
	fpu_swap_kvm_fpstate(&rn->svm.fpu, false);
	runner_post_run(vcpu);
	return r;
}
