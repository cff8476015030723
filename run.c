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
 *     then apicv.c's run step decides what to inject (the same decision
 *     as LAPICV_RUN, on the VMCB's RFLAGS.IF, shadow and NMI mask), and a
 *     halted or waiting-for-SIPI vCPU sleeps inside it; the decision is
 *     carried out (EVENTINJ, V_IRQ window, IRET intercept, INIT/SIPI
 *     state: SIPI sets CS and RIP only), and an NMI it could not inject
 *     gets its window (the IRET intercept, a single-step over an IRET or
 *     an interrupt shadow, or an exit right after a reinjected event's
 *     delivery, as KVM without vNMI); then VMRUN, unless a kick's
 *     reason arrived meanwhile, and the exit: EXITINTINFO requeued, the
 *     exit handled, the shadow copied into vcpu->events.
 *  6. request_interrupt_window (split irqchip): the step opens the window
 *     for the VMM's ExtINT, and after every exit handled here, or a
 *     halted vCPU's sleep ended, KVM_EXIT_IRQ_WINDOW_OPEN once the guest
 *     could take one (KVM's vcpu_run()).
 *
 * Exits:
 *  IOIO      KVM_EXIT_IO; EXITINFO2 is the next RIP; the OUT data, or
 *            the IN result, sits in the PIO page.  OUT to port 0x7e moves
 *            RIP at once (KVM's quirk).  INS/OUTS as KVM's emulator: INS
 *            exits with a chunk of count elements (at most 1024 bytes,
 *            within rDI's page) that the next KVM_RUN stores, moving rDI
 *            and rCX; OUTS exits with one element, rSI and rCX moved
 *            before the exit; RIP moves past only with the last element.
 *  HLT       skip it, KVM_MP_STATE_HALTED unless a wake-up event is
 *            there already; the next step sleeps.
 *            A HLT that any exit left in an STI/MOV SS shadow is
 *            carried out at that exit (runner_hlt_in_shadow()).
 *  CPUID     the KVM_SET_CPUID2 table (0 for a missing leaf), with the
 *            APIC and OSXSAVE bits of leaf 1, OSPKE of leaf 7 and the
 *            XSAVE sizes of leaf 0xD live.
 *  XSETBV    the guest's XCR0 (regs.c's checks), #GP if refused.
 *  MSR       lapic.c's APIC base, x2APIC and TSC-deadline MSRs; a refused
 *            access or any other MSR: #GP (KVM with ignore_msrs=0).
 *  CRn       CR4 always, CR0 while the guest has CD or NW, CR0 writes
 *            past TS/MP (selective), CR8 writes while the TPR holds back
 *            the highest pending interrupt: decode the MOV/CLTS/LMSW/SMSW
 *            (emulate.c), checks and the guest's view in regs.c; a
 *            refused write is a #GP.
 *  NPF       inside a memslot: map it (npt.c); elsewhere decode the MOV
 *            (emulate.c): the xAPIC page in apicv.c, else KVM_EXIT_MMIO;
 *            undecodable: KVM's emulation failure.
 *  VINTR     the IRQ window opened: it closes, the next step injects.
 *  IRET      the NMI handler returns: NMIs unmasked once it has run; an
 *            NMI waiting for that single-steps the IRET (TF), and the
 *            #DB after it lets the NMI in at once (KVM's nmi_singlestep).
 *  SHUTDOWN  KVM_EXIT_SHUTDOWN; the VMCB is undefined, so it is reset.
 *  ERR       (VMRUN refused the state) KVM_EXIT_FAIL_ENTRY.
 *  INTR, NMI, SMI, #MC, FERR_FREEZE: nothing more (the host took it).
 *  #AC, #DB  back into the guest (intercepted so that a guest cannot
 *            make their delivery loop in the CPU), except the #DB that
 *            ends the runner's own single-step (over an IRET or an
 *            interrupt shadow, for a waiting NMI).
 *  INVD, WBINVD: skipped.  RDPMC: #GP.  SVM instructions, VMMCALL,
 *  MONITOR/MWAIT, RSM, RDPRU: #UD.  Anything else (DR accesses,
 *  task switches): KVM_EXIT_INTERNAL_ERROR, UNEXPECTED_EXIT_REASON.
 *
 * Instruction lengths: next_rip with NRIP save; without it (QEMU's SVM)
 * emulate.c's skip-length decoder, which checks that the bytes at CS:RIP
 * are the instruction the exit named.
 *
 */
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/smp.h>

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

/* INIT, SIPI and SHUTDOWN: what the runner kept about the old guest. */
static void runner_forget(struct lapicv_vcpu *vcpu)
{
	struct lapicv_vcpu_runner *rn = vcpu->runner;

	rn->io.pending = false;
	rn->mmio.pending = false;
	rn->awaiting_iret = false;
	rn->nmi_singlestep = false;
	rn->immediate_exit = false;
}

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

/* ---- instructions: emulate.c on the VMCB's view of the vCPU ---- */

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

static int runner_read_gpa(void *opaque, u64 gpa, void *buf, unsigned int len)
{
	struct lapicv_vcpu *vcpu = opaque;

	return lapicv_npt_read(vcpu->vm, &vcpu->runner->window, gpa, buf, len);
}

static int runner_write_gpa(void *opaque, u64 gpa, const void *buf,
			    unsigned int len)
{
	struct lapicv_vcpu *vcpu = opaque;

	return lapicv_npt_write(vcpu->vm, &vcpu->runner->window, gpa, buf, len);
}

void lapicv_runner_emu_ctx(struct lapicv_vcpu *vcpu, struct lapicv_emu_ctx *ctx)
{
	struct vmcb_save_area *s = &runner_vmcb(vcpu)->save;
	const struct kvm_cpuid_entry2 *e;

	memset(ctx, 0, sizeof(*ctx));
	ctx->cr0 = s->cr0;
	ctx->cr3 = s->cr3;
	ctx->cr4 = s->cr4;
	ctx->efer = s->efer;
	ctx->rflags = s->rflags;
	ctx->rip = s->rip;
	ctx->seg_base[LAPICV_EMU_ES] = s->es.base;
	ctx->seg_base[LAPICV_EMU_CS] = s->cs.base;
	ctx->seg_base[LAPICV_EMU_SS] = s->ss.base;
	ctx->seg_base[LAPICV_EMU_DS] = s->ds.base;
	ctx->seg_base[LAPICV_EMU_FS] = s->fs.base;
	ctx->seg_base[LAPICV_EMU_GS] = s->gs.base;
	ctx->cs_l = s->cs.attrib & SVM_SELECTOR_L_MASK;
	ctx->cs_db = s->cs.attrib & SVM_SELECTOR_DB_MASK;
	ctx->cpl = s->cpl;
	ctx->maxphyaddr = clamp_t(u8, vcpu->apic->maxphyaddr, 32, 52);
	ctx->features = LAPICV_EMU_F_AMD;
	if (boot_cpu_has(X86_FEATURE_CR8_LEGACY))
		ctx->features |= LAPICV_EMU_F_CR8_LEGACY;
	e = runner_find_cpuid(vcpu->apic, 0x80000001, 0);
	if (e && (e->edx & BIT(X86_FEATURE_GBPAGES & 31)))
		ctx->features |= LAPICV_EMU_F_GBPAGES;
	ctx->read = runner_read_gpa;
	ctx->write = runner_write_gpa;
	ctx->opaque = vcpu;
	/* Each emulation looks the slot up afresh. */
	vcpu->runner->window.size = 0;
}

/* The GPRs in encoding order, for the decoders, and back. */
static void runner_regs_get(struct lapicv_vcpu *vcpu, u64 *regs)
{
	struct lapicv_svm_vcpu *svm = &vcpu->runner->svm;
	int i;

	for (i = 0; i < LAPICV_NR_GPRS; i++)
		regs[i] = svm->gprs[i];
	regs[LAPICV_RAX] = svm->vmcb->save.rax;
	regs[LAPICV_RSP] = svm->vmcb->save.rsp;
}

static void runner_regs_put(struct lapicv_vcpu *vcpu, const u64 *regs)
{
	struct lapicv_svm_vcpu *svm = &vcpu->runner->svm;
	int i;

	for (i = 0; i < LAPICV_NR_GPRS; i++)
		svm->gprs[i] = regs[i];
	svm->vmcb->save.rax = regs[LAPICV_RAX];
	svm->vmcb->save.rsp = regs[LAPICV_RSP];
}

/* An exception for the guest, delivered at the next entry. */
static void runner_queue_exception(struct lapicv_vcpu *vcpu, u8 vector,
				   bool has_error, u32 error)
{
	struct lapicv_events *ev = &vcpu->events;

	ev->exception.injected = true;
	ev->exception.nr = vector;
	ev->exception.has_error_code = has_error;
	ev->exception.error_code = error;
	ev->exception.payload = 0;
}

static void runner_queue_fault(struct lapicv_vcpu *vcpu,
			       const struct lapicv_emu_fault *f)
{
	if (f->vector == LAPICV_EMU_PF_VECTOR)
		runner_vmcb(vcpu)->save.cr2 = f->address;
	runner_queue_exception(vcpu, f->vector, true, f->error_code);
}

/*
 * KVM's handle_emulation_failure() without exit_on_emulation_error: #UD
 * for the guest, and at CPL 0 KVM_EXIT_INTERNAL_ERROR (EMULATION) laid out
 * as prepare_emulation_failure_exit(): flags, the instruction bytes when
 * fetched, then the exit code, EXITINFO1/2, EXITINTINFO and its error
 * code.  1: back into the guest; 0: to the VMM.
 */
static int runner_emulation_failure(struct lapicv_vcpu *vcpu,
				    const struct lapicv_emu_fetch *f)
{
	struct vmcb_control_area *c = &runner_vmcb(vcpu)->control;
	struct kvm_run *run = vcpu->runner->run;
	u64 info[5];
	int n = 1;

	runner_queue_exception(vcpu, UD_VECTOR, false, 0);
	if (runner_vmcb(vcpu)->save.cpl)
		return 1;
	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->emulation_failure.suberror = KVM_INTERNAL_ERROR_EMULATION;
	run->emulation_failure.flags = 0;
	if (f && f->len) {
		run->emulation_failure.flags =
			KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
		run->emulation_failure.insn_size = f->len;
		memset(run->emulation_failure.insn_bytes, 0x90,
		       sizeof(run->emulation_failure.insn_bytes));
		memcpy(run->emulation_failure.insn_bytes, f->bytes, f->len);
		n = 3;
	}
	info[0] = c->exit_code;
	info[1] = c->exit_info_1;
	info[2] = c->exit_info_2;
	info[3] = c->exit_int_info;
	info[4] = c->exit_int_info_err;
	memcpy(&run->internal.data[n], info, sizeof(info));
	run->emulation_failure.ndata = n + ARRAY_SIZE(info);
	return 0;
}

/*
 * Move RIP past the instruction an intercept named: next_rip with NRIP
 * save, else its length decoded from guest memory, checking that the
 * bytes at CS:RIP are that instruction.  1: done; 0: not done, and the
 * exit goes to the VMM (emulation failure); -1: not done, an exception
 * is queued for the guest.
 */
static int runner_skip(struct lapicv_vcpu *vcpu, enum lapicv_emu_insn insn)
{
	struct lapicv_svm_vcpu *svm = &vcpu->runner->svm;
	struct vmcb *vmcb = svm->vmcb;
	struct lapicv_emu_fault fault;
	struct lapicv_emu_ctx ctx;
	struct lapicv_emu_fetch f;
	enum lapicv_emu_status st;
	unsigned int len;

	if (boot_cpu_has(X86_FEATURE_NRIPS) && vmcb->control.next_rip) {
		lapicv_svm_skip(svm, 0);
		return 1;
	}
	lapicv_runner_emu_ctx(vcpu, &ctx);
	st = lapicv_emu_skip_len(&ctx, insn, &len, &fault);
	if (st == LAPICV_EMU_FAULT) {
		runner_queue_fault(vcpu, &fault);
		return -1;
	}
	if (st != LAPICV_EMU_OK) {
		/* The bytes, for the exit: a second fetch of the same. */
		if (lapicv_emu_fetch(&ctx, &f) != LAPICV_EMU_OK)
			f.len = 0;
		return runner_emulation_failure(vcpu, &f) ? -1 : 0;
	}
	vmcb->save.rip = lapicv_emu_next_rip(&ctx, len);
	vmcb->save.rflags &= ~X86_EFLAGS_RF;
	vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	return 1;
}

/* The address-size mask of an INS/OUTS (EXITINFO1's A16/A32/A64). */
static u64 runner_io_amask(u32 info)
{
	if (info & BIT(SVM_IOIO_ASIZE_SHIFT))
		return 0xffff;
	if (info & BIT(SVM_IOIO_ASIZE_SHIFT + 1))
		return 0xffffffff;
	return ~0ULL;
}

/* reg += delta within the address size, the bits above kept. */
static void runner_io_add(unsigned long *reg, u64 amask, s64 delta)
{
	*reg = (*reg & ~amask) | ((*reg + delta) & amask);
}

/*
 * The chunk of an INS/OUTS as KVM's emulator takes it (pio_in_emulated()):
 * rCX elements (1 without REP), at most 1024 bytes' worth, and no more
 * than the number of BYTES left in rDI's (rSI's) page in the direction
 * DF moves, the register's own page offset, as KVM counts them (so a
 * chunk of words or doublewords can run into the next page); at least
 * one.  *base: the segment's base (0 where long mode ignores it);
 * *ea: the first element's offset in it.  0: the REP count is 0.
 */
static u32 runner_io_chunk(struct lapicv_vcpu *vcpu,
			   const struct lapicv_emu_ctx *ctx, u32 info,
			   u8 size, u64 *base, u64 *ea)
{
	unsigned long *gprs = vcpu->runner->svm.gprs;
	u64 amask = runner_io_amask(info);
	bool in = info & SVM_IOIO_TYPE_MASK;
	unsigned int seg = in ? LAPICV_EMU_ES : (info >> 10) & 7;
	bool lm = (ctx->efer & EFER_LMA) && ctx->cs_l;
	unsigned long reg = gprs[in ? LAPICV_RDI : LAPICV_RSI];
	u64 count = 1, off, room;

	if (info & SVM_IOIO_REP_MASK)
		count = gprs[LAPICV_RCX] & amask;
	if (!count)
		return 0;
	*ea = reg & amask;
	*base = 0;
	if (seg < LAPICV_EMU_NR_SEGS && (!lm || seg >= LAPICV_EMU_FS))
		*base = ctx->seg_base[seg];
	off = reg & ~PAGE_MASK;
	room = ctx->rflags & X86_EFLAGS_DF ? off : PAGE_SIZE - off;
	return clamp_t(u64, min3(count, room, 1024ULL / size), 1, 1024);
}

/*
 * Copy @n elements between the PIO page and guest memory from @ea on
 * (in DF's direction, wrapping within the address size as the register
 * does; @base added to each): INS stores, OUTS loads.  1 if the guest
 * got a fault instead, -1 if the memory is not guest memory.
 */
static int runner_io_copy(struct lapicv_vcpu *vcpu,
			  const struct lapicv_emu_ctx *ctx, u32 info, u8 size,
			  u64 base, u64 ea, u32 n)
{
	u8 *data = vcpu->runner->pio_data;
	s64 step = ctx->rflags & X86_EFLAGS_DF ? -(s64)size : size;
	u64 amask = runner_io_amask(info);
	bool in = info & SVM_IOIO_TYPE_MASK;
	struct lapicv_emu_fault fault;
	enum lapicv_emu_status st;
	u64 la;
	u32 i;

	for (i = 0; i < n; i++, ea += step) {
		la = base + (ea & amask);
		if (in)
			st = lapicv_emu_write_linear(ctx, la, data + i * size,
						     size, &fault);
		else
			st = lapicv_emu_read_linear(ctx, la, data + i * size,
						    size, &fault);
		if (st == LAPICV_EMU_FAULT) {
			runner_queue_fault(vcpu, &fault);
			return 1;
		}
		if (st != LAPICV_EMU_OK)
			return -1;
	}
	return 0;
}

/*
 * n elements of an INS/OUTS done: rDI/rSI and, with REP, rCX moved; RIP
 * past the instruction once it is complete, else the guest runs it again
 * for the rest (KVM's writeback of a string instruction).
 */
static void runner_io_advance(struct lapicv_vcpu *vcpu, u32 info, u8 size,
			      u32 n, u64 next_rip)
{
	struct vmcb *vmcb = vcpu->runner->svm.vmcb;
	unsigned long *gprs = vcpu->runner->svm.gprs;
	u64 amask = runner_io_amask(info);
	bool in = info & SVM_IOIO_TYPE_MASK;
	s64 delta = (s64)n * size;

	if (vmcb->save.rflags & X86_EFLAGS_DF)
		delta = -delta;
	runner_io_add(&gprs[in ? LAPICV_RDI : LAPICV_RSI], amask, delta);
	if (info & SVM_IOIO_REP_MASK) {
		runner_io_add(&gprs[LAPICV_RCX], amask, -(s64)n);
		if (gprs[LAPICV_RCX] & amask)
			return;
	}
	vmcb->save.rip = next_rip;
	vmcb->save.rflags &= ~X86_EFLAGS_RF;
	vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	vcpu->events.shadow = 0;
}

/*
 * An INS/OUTS exit, as KVM's emulator takes it: 1 to go on with the guest
 * (REP with rCX 0 skipped, or a fault queued), 0 to exit with *count
 * elements, -1 after an internal error.  INS: a chunk, stored by the next
 * KVM_RUN.  OUTS: one element (KVM's em_out()), in the PIO page, and the
 * registers moved past it already.
 */
static int runner_io_string(struct lapicv_vcpu *vcpu, u32 info, u8 size,
			    u32 *count)
{
	struct vmcb *vmcb = vcpu->runner->svm.vmcb;
	struct lapicv_emu_ctx ctx;
	u64 base, ea;
	int r;

	lapicv_runner_emu_ctx(vcpu, &ctx);
	*count = runner_io_chunk(vcpu, &ctx, info, size, &base, &ea);
	if (!*count) {
		runner_io_advance(vcpu, info, size, 0,
				  vmcb->control.exit_info_2);
		return 1;
	}
	if (info & SVM_IOIO_TYPE_MASK)
		return 0;
	*count = 1;
	r = runner_io_copy(vcpu, &ctx, info, size, base, ea, 1);
	if (r < 0)
		runner_internal_error(vcpu, KVM_INTERNAL_ERROR_EMULATION,
				      SVM_EXIT_IOIO, info);
	else if (!r)
		runner_io_advance(vcpu, info, size, 1,
				  vmcb->control.exit_info_2);
	return r;
}

/*
 * KVM's complete_emulated_pio() for INS: the chunk again from the
 * registers as they are now (the VMM may have changed rCX: never more
 * elements than the exit had), its data stored and the registers moved.
 * false after an internal error.
 */
static bool runner_complete_ins(struct lapicv_vcpu *vcpu)
{
	struct lapicv_vcpu_runner *rn = vcpu->runner;
	struct lapicv_emu_ctx ctx;
	u64 base, ea;
	u32 n;
	int r;

	lapicv_runner_emu_ctx(vcpu, &ctx);
	n = min(runner_io_chunk(vcpu, &ctx, rn->io.info, rn->io.size, &base,
				&ea), rn->io.count);
	r = runner_io_copy(vcpu, &ctx, rn->io.info, rn->io.size, base, ea, n);
	if (r < 0) {
		runner_internal_error(vcpu, KVM_INTERNAL_ERROR_EMULATION,
				      SVM_EXIT_IOIO, rn->io.info);
		return false;
	}
	if (!r)
		runner_io_advance(vcpu, rn->io.info, rn->io.size, n,
				  rn->io.next_rip);
	return true;
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
	bool str = info & SVM_IOIO_STR_MASK;
	u32 count = 1;
	int r;

	if (str) {
		r = runner_io_string(vcpu, info, size, &count);
		if (r)
			return r > 0;
	}
	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run->io.size = size;
	run->io.port = port;
	run->io.count = count;
	run->io.data_offset = KVM_PIO_PAGE_OFFSET * PAGE_SIZE;
	/* OUTS: its element and its registers' moves are done already. */
	if (!in && str)
		return 0;
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
	rn->io.info = info;
	rn->io.count = count;
	return 0;
}

/*
 * KVM's complete_fast_pio_in/out(), at the start of the next KVM_RUN;
 * false after an internal error (KVM_EXIT_INTERNAL_ERROR).
 */
static bool runner_complete_io(struct lapicv_vcpu *vcpu)
{
	struct lapicv_vcpu_runner *rn = vcpu->runner;
	struct vmcb_save_area *s = &rn->svm.vmcb->save;
	u64 val;

	rn->io.pending = false;
	/* The VMM moved RIP meanwhile: the I/O is forgotten. */
	if (s->rip != rn->io.rip)
		return true;
	if (rn->io.info & SVM_IOIO_STR_MASK)
		return runner_complete_ins(vcpu);
	if (rn->io.in) {
		/* 1 and 2 bytes merge into RAX, 4 bytes zero-extend. */
		val = rn->io.size < 4 ? s->rax : 0;
		memcpy(&val, rn->pio_data, rn->io.size);
		s->rax = val;
	}
	s->rip = rn->io.next_rip;
	s->rflags &= ~X86_EFLAGS_RF;
	rn->svm.vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	vcpu->events.shadow = 0;
	return true;
}

static int runner_cpuid(struct lapicv_vcpu *vcpu)
{
	struct lapicv_svm_vcpu *svm = &vcpu->runner->svm;
	struct vmcb_save_area *s = &svm->vmcb->save;
	u32 function = s->rax, index = svm->gprs[LAPICV_RCX];
	struct kvm_cpuid_entry2 c = {};
	const struct kvm_cpuid_entry2 *e;
	int r = runner_skip(vcpu, LAPICV_EMU_INSN_CPUID);

	if (r <= 0)
		return r < 0;

	e = runner_find_cpuid(vcpu->apic, function, index);
	if (e) {
		/*
		 * The bits KVM keeps in step with the vCPU's state: the APIC
		 * bit in the table itself (lapic.c), the rest here.
		 */
		c = *e;
		lapicv_cpuid_runtime(vcpu, &c, 1);
	}
	s->rax = c.eax;
	svm->gprs[LAPICV_RBX] = c.ebx;
	svm->gprs[LAPICV_RCX] = c.ecx;
	svm->gprs[LAPICV_RDX] = c.edx;
	return 1;
}

static int runner_msr(struct lapicv_vcpu *vcpu)
{
	struct lapicv_svm_vcpu *svm = &vcpu->runner->svm;
	struct vmcb_save_area *s = &svm->vmcb->save;
	bool write = svm->vmcb->control.exit_info_1;
	u32 index = svm->gprs[LAPICV_RCX];
	u64 rip = s->rip, data;
	int r;

	/* The length first: a failed decode leaves the MSR untouched. */
	r = runner_skip(vcpu, write ? LAPICV_EMU_INSN_WRMSR :
			LAPICV_EMU_INSN_RDMSR);
	if (r <= 0)
		return r < 0;
	if (write) {
		data = (u32)s->rax | (u64)(u32)svm->gprs[LAPICV_RDX] << 32;
		if (lapicv_set_msr(vcpu, index, data, false))
			goto gp;
	} else {
		if (lapicv_get_msr(vcpu, index, &data))
			goto gp;
		s->rax = (u32)data;
		svm->gprs[LAPICV_RDX] = data >> 32;
	}
	return 1;
gp:
	/* A fault: the instruction did not complete. */
	s->rip = rip;
	runner_queue_exception(vcpu, GP_VECTOR, true, 0);
	return 1;
}

/* ---- control registers ---- */

/* MOV from CRn: the guest's view. */
static u64 runner_read_cr(struct lapicv_vcpu *vcpu, u8 cr)
{
	struct lapicv_svm_vcpu *svm = &vcpu->runner->svm;

	switch (cr) {
	case 0:
		return svm->cr0;
	case 2:
		return svm->vmcb->save.cr2;
	case 3:
		return svm->vmcb->save.cr3;
	case 4:
		return svm->cr4;
	default:
		return lapicv_get_cr8(vcpu);
	}
}

/*
 * The start of every exit that decodes the instruction at CS:RIP: the
 * GPRs and the fetched bytes.  A failed fetch leaves f->len 0, so an
 * emulation-failure exit carries no bytes.
 */
static enum lapicv_emu_status runner_fetch(struct lapicv_vcpu *vcpu,
					   struct lapicv_emu_ctx *ctx,
					   struct lapicv_emu_fetch *f, u64 *regs)
{
	enum lapicv_emu_status st;

	lapicv_runner_emu_ctx(vcpu, ctx);
	runner_regs_get(vcpu, regs);
	st = lapicv_emu_fetch(ctx, f);
	if (st != LAPICV_EMU_OK)
		f->len = 0;
	return st;
}

/*
 * A fetch or decode that did not succeed: a fault of the guest's page
 * walk goes to the guest (1), anything else is KVM's emulation failure.
 */
static int runner_decode_failed(struct lapicv_vcpu *vcpu,
				struct lapicv_emu_fetch *f,
				enum lapicv_emu_status st)
{
	if (st == LAPICV_EMU_FAULT) {
		runner_queue_fault(vcpu, &f->fault);
		return 1;
	}
	return runner_emulation_failure(vcpu, f);
}

/*
 * A CR intercept, without decode assists: decode the instruction at
 * CS:RIP (MOV to or from CRn, CLTS, LMSW, SMSW), check that it is the
 * access the exit names, and carry it out as KVM's cr_interception() and
 * emulator do: a write regs.c refuses is a #GP, RIP unmoved.  SMSW to
 * memory (CR0 reads are intercepted only while the guest has CR0.CD or
 * NW) stores CR0's low 16 bits in guest memory; a store outside it is an
 * emulation failure.  1: back into the guest; 0: to the VMM.
 */
static int runner_cr(struct lapicv_vcpu *vcpu, u32 code)
{
	struct lapicv_svm_vcpu *svm = &vcpu->runner->svm;
	struct vmcb_save_area *s = &svm->vmcb->save;
	bool exit_write = code >= SVM_EXIT_WRITE_CR0;
	u8 exit_cr = code == SVM_EXIT_CR0_SEL_WRITE ? 0 : code & 0xf;
	u64 regs[LAPICV_NR_GPRS], val, *reg;
	struct lapicv_emu_fault fault;
	struct lapicv_emu_ctx ctx;
	struct lapicv_emu_fetch f;
	enum lapicv_emu_status st;
	struct lapicv_emu_cr cr;
	bool write;
	u16 msw;
	int err = 0;

	st = runner_fetch(vcpu, &ctx, &f, regs);
	if (st == LAPICV_EMU_OK)
		st = lapicv_emu_decode_cr(&ctx, &f, regs, &cr);
	if (st != LAPICV_EMU_OK)
		return runner_decode_failed(vcpu, &f, st);
	write = cr.op != LAPICV_EMU_CR_READ && cr.op != LAPICV_EMU_CR_SMSW;
	if (write != exit_write || cr.cr != exit_cr)
		return runner_emulation_failure(vcpu, &f);

	reg = &regs[cr.reg];
	switch (cr.op) {
	case LAPICV_EMU_CR_READ:
		val = runner_read_cr(vcpu, cr.cr);
		*reg = cr.size == 8 ? val : (u32)val;
		break;
	case LAPICV_EMU_CR_SMSW:
		/* KVM's em_smsw(): UMIP keeps it from CPL > 0. */
		if ((svm->cr4 & X86_CR4_UMIP) && s->cpl) {
			err = -EPERM;
			break;
		}
		val = svm->cr0;
		if (!cr.mem) {
			if (cr.size == 2)
				*reg = (*reg & ~0xffffULL) | (val & 0xffff);
			else
				*reg = cr.size == 8 ? val : (u32)val;
			break;
		}
		/* To memory: always the low 16 bits. */
		msw = val;
		st = lapicv_emu_write_linear(&ctx, cr.gva, &msw, 2, &fault);
		if (st == LAPICV_EMU_FAULT) {
			runner_queue_fault(vcpu, &fault);
			return 1;
		}
		if (st != LAPICV_EMU_OK)
			return runner_emulation_failure(vcpu, &f);
		break;
	case LAPICV_EMU_CR_WRITE:
		val = cr.size == 8 ? *reg : (u32)*reg;
		if (cr.cr == 0)
			err = lapicv_set_cr0(vcpu, val);
		else if (cr.cr == 4)
			err = lapicv_set_cr4(vcpu, val);
		else
			err = lapicv_set_cr8(vcpu, val);
		break;
	case LAPICV_EMU_CR_CLTS:
		err = lapicv_set_cr0(vcpu, svm->cr0 & ~X86_CR0_TS);
		break;
	case LAPICV_EMU_CR_LMSW:
		msw = *reg;
		if (cr.mem) {
			st = lapicv_emu_read_linear(&ctx, cr.gva, &msw, 2,
						    &fault);
			if (st == LAPICV_EMU_FAULT) {
				runner_queue_fault(vcpu, &fault);
				return 1;
			}
			if (st != LAPICV_EMU_OK)
				return runner_emulation_failure(vcpu, &f);
		}
		/* KVM's kvm_lmsw(): PE can be set, not cleared; no #GP. */
		lapicv_set_cr0(vcpu, (svm->cr0 & ~0x0eULL) | (msw & 0x0f));
		break;
	}
	if (err) {
		runner_queue_exception(vcpu, GP_VECTOR, true, 0);
		return 1;
	}
	runner_regs_put(vcpu, regs);
	s->rip = lapicv_emu_next_rip(&ctx, cr.len);
	s->rflags &= ~X86_EFLAGS_RF;
	svm->vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	return 1;
}

/* KVM's kvm_emulate_xsetbv(): #GP outside CPL 0 or for a refused XCR0. */
static int runner_xsetbv(struct lapicv_vcpu *vcpu)
{
	struct lapicv_svm_vcpu *svm = &vcpu->runner->svm;
	struct vmcb_save_area *s = &svm->vmcb->save;
	u64 rip = s->rip, val;
	u32 index = svm->gprs[LAPICV_RCX];
	int r;

	val = (u32)s->rax | (u64)(u32)svm->gprs[LAPICV_RDX] << 32;
	/* The length first: a failed decode leaves XCR0 untouched. */
	r = runner_skip(vcpu, LAPICV_EMU_INSN_XSETBV);
	if (r <= 0)
		return r < 0;
	if (s->cpl || lapicv_set_xcr(vcpu, index, val)) {
		s->rip = rip;
		runner_queue_exception(vcpu, GP_VECTOR, true, 0);
	}
	return 1;
}

/* ---- MMIO: the APIC page, and KVM_EXIT_MMIO ---- */

/*
 * An instruction at CS:RIP touched @gpa, outside guest memory: decode it,
 * check that its address is the one that faulted, and carry it out on
 * the xAPIC page (any form emulate.c decodes: MOV, XCHG, ALU operations
 * with their flags) or hand a MOV to the VMM.  1: back into the guest;
 * 0: to the VMM.
 */
static int runner_mmio(struct lapicv_vcpu *vcpu, u64 gpa)
{
	struct lapicv_vcpu_runner *rn = vcpu->runner;
	struct vmcb_save_area *s = &rn->svm.vmcb->save;
	struct lapicv_lapic *apic = vcpu->apic;
	struct kvm_run *run = rn->run;
	struct lapicv_emu_fault fault;
	struct lapicv_emu_ctx ctx;
	struct lapicv_emu_fetch f;
	struct lapicv_emu_mov m;
	enum lapicv_emu_status st;
	u64 regs[LAPICV_NR_GPRS], addr, data = 0, rflags;
	u32 access = 0;

	st = runner_fetch(vcpu, &ctx, &f, regs);
	if (st == LAPICV_EMU_OK)
		st = lapicv_emu_decode_mov(&ctx, &f, regs, &m);
	if (st != LAPICV_EMU_OK)
		return runner_decode_failed(vcpu, &f, st);

	if (lapicv_emu_mov_writes(&m))
		access |= LAPICV_EMU_PFERR_WRITE;
	if (ctx.cpl == 3)
		access |= LAPICV_EMU_PFERR_USER;
	st = lapicv_emu_translate(&ctx, m.gva, access, &addr, &fault);
	if (st == LAPICV_EMU_FAULT) {
		runner_queue_fault(vcpu, &fault);
		return 1;
	}
	/*
	 * Not the access that faulted (the guest changed its page tables
	 * meanwhile, or one that crosses into the next page): not emulated.
	 */
	if (st != LAPICV_EMU_OK || addr != gpa ||
	    (gpa & ~PAGE_MASK) + m.size > PAGE_SIZE)
		return runner_emulation_failure(vcpu, &f);

	if ((gpa & PAGE_MASK) == apic->base_address) {
		if (lapicv_emu_mov_reads(&m))
			data = lapicv_apic_mmio_read(apic, gpa & ~PAGE_MASK,
						     m.size);
		rflags = s->rflags;
		data = lapicv_emu_mov_execute(&m, regs, &rflags, data);
		if (lapicv_emu_mov_writes(&m))
			lapicv_apic_mmio_write(apic, gpa & ~PAGE_MASK, m.size,
					       data);
		runner_regs_put(vcpu, regs);
		s->rflags = rflags;
		goto done;
	}

	/*
	 * KVM_EXIT_MMIO: a store completes now, a load on the next KVM_RUN.
	 * An access that both reads and writes would take two exits: not
	 * emulated.
	 */
	if (m.op != LAPICV_EMU_MOV_LOAD && m.op != LAPICV_EMU_MOV_STORE &&
	    m.op != LAPICV_EMU_MOV_STORE_IMM)
		return runner_emulation_failure(vcpu, &f);
	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = m.size;
	run->mmio.is_write = m.op != LAPICV_EMU_MOV_LOAD;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (!run->mmio.is_write) {
		rn->mmio.pending = true;
		rn->mmio.mov = m;
		rn->mmio.rip = s->rip;
		rn->mmio.next_rip = lapicv_emu_next_rip(&ctx, m.len);
		return 0;
	}
	data = lapicv_emu_mov_store_value(&m, regs);
	memcpy(run->mmio.data, &data, m.size);
	s->rip = lapicv_emu_next_rip(&ctx, m.len);
	s->rflags &= ~X86_EFLAGS_RF;
	rn->svm.vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	return 0;

done:
	s->rip = lapicv_emu_next_rip(&ctx, m.len);
	s->rflags &= ~X86_EFLAGS_RF;
	rn->svm.vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	return 1;
}

/* KVM's complete_emulated_mmio() for a load, at the next KVM_RUN. */
static void runner_complete_mmio(struct lapicv_vcpu *vcpu)
{
	struct lapicv_vcpu_runner *rn = vcpu->runner;
	struct vmcb_save_area *s = &rn->svm.vmcb->save;
	u64 regs[LAPICV_NR_GPRS], data = 0;

	rn->mmio.pending = false;
	/* The VMM moved RIP meanwhile: the load is forgotten. */
	if (s->rip != rn->mmio.rip)
		return;
	memcpy(&data, rn->run->mmio.data, rn->mmio.mov.size);
	runner_regs_get(vcpu, regs);
	lapicv_emu_mov_load_result(&rn->mmio.mov, regs, data);
	runner_regs_put(vcpu, regs);
	s->rip = rn->mmio.next_rip;
	s->rflags &= ~X86_EFLAGS_RF;
	rn->svm.vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	vcpu->events.shadow = 0;
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
	return runner_mmio(vcpu, c->exit_info_2);
}

/*
 * An event whose delivery did not complete (EXITINTINFO, or an EVENTINJ
 * never entered) goes back into the vCPU's event state, injected first
 * at the next entry.  Software interrupts are not: re-executing INTn
 * raises them again.
 */
static void runner_requeue(struct lapicv_vcpu *vcpu, u32 info, u32 err)
{
	struct lapicv_events *ev = &vcpu->events;
	u8 vec = info & SVM_EXITINTINFO_VEC_MASK;

	if (!(info & SVM_EXITINTINFO_VALID))
		return;
	switch (info & SVM_EXITINTINFO_TYPE_MASK) {
	case SVM_EXITINTINFO_TYPE_NMI:
		ev->nmi_injected = true;
		vcpu->runner->awaiting_iret = false;
		break;
	case SVM_EXITINTINFO_TYPE_EXEPT:
		runner_queue_exception(vcpu, vec,
				       info & SVM_EXITINTINFO_VALID_ERR, err);
		break;
	case SVM_EXITINTINFO_TYPE_INTR:
		ev->interrupt.injected = true;
		ev->interrupt.soft = false;
		ev->interrupt.nr = vec;
		break;
	default:
		break;
	}
}

/*
 * KVM's svm_complete_interrupts(): the NMI mask after an intercepted
 * IRET, then the event the exit interrupted.
 */
static void runner_complete_interrupts(struct lapicv_vcpu *vcpu)
{
	struct lapicv_vcpu_runner *rn = vcpu->runner;
	struct vmcb_control_area *c = &rn->svm.vmcb->control;

	c->event_inj = 0;
	if (rn->awaiting_iret && rn->svm.vmcb->save.rip != rn->iret_rip) {
		rn->awaiting_iret = false;
		vcpu->events.nmi_masked = false;
		lapicv_make_request(vcpu, LAPICV_REQ_EVENT);
	}
	runner_requeue(vcpu, c->exit_int_info, c->exit_int_info_err);
}

#define RUNNER_STEP_FLAGS	(X86_EFLAGS_TF | X86_EFLAGS_RF)

u64 lapicv_runner_get_rflags(struct lapicv_vcpu *vcpu)
{
	struct lapicv_vcpu_runner *rn = vcpu->runner;
	u64 rflags = rn->svm.vmcb->save.rflags;

	if (rn->nmi_singlestep)
		rflags = (rflags & ~RUNNER_STEP_FLAGS) | rn->nmi_singlestep_flags;
	return rflags;
}

void lapicv_runner_set_rflags(struct lapicv_vcpu *vcpu, u64 rflags)
{
	struct lapicv_vcpu_runner *rn = vcpu->runner;

	if (rn->nmi_singlestep) {
		rn->nmi_singlestep_flags = rflags & RUNNER_STEP_FLAGS;
		rflags |= RUNNER_STEP_FLAGS;
	}
	rn->svm.vmcb->save.rflags = rflags;
}

/*
 * Single-step the guest (KVM's nmi_singlestep): the #DB after its next
 * instruction exits, and the waiting NMI goes in before the one after.
 */
static void runner_nmi_singlestep(struct lapicv_vcpu *vcpu)
{
	struct lapicv_vcpu_runner *rn = vcpu->runner;
	struct vmcb_save_area *s = &rn->svm.vmcb->save;

	if (rn->nmi_singlestep)
		return;
	rn->nmi_singlestep = true;
	rn->nmi_singlestep_flags = s->rflags & RUNNER_STEP_FLAGS;
	s->rflags |= RUNNER_STEP_FLAGS;
}

/* KVM's disable_nmi_singlestep(): the guest's own TF and RF back. */
static void runner_nmi_singlestep_off(struct lapicv_vcpu *vcpu)
{
	struct lapicv_vcpu_runner *rn = vcpu->runner;
	u64 rflags = lapicv_runner_get_rflags(vcpu);

	rn->nmi_singlestep = false;
	rn->svm.vmcb->save.rflags = rflags;
}

/*
 * An NMI is pending that this entry does not inject: make the guest exit
 * as soon as it can take it, as KVM's kvm_check_and_inject_events() and
 * svm_enable_nmi_window() do without vNMI.  Behind an event being
 * reinjected (@reinjecting), the guest exits right after that event is
 * delivered.  While NMIs are masked and the handler's IRET has not been
 * seen, the IRET intercept does it.  Otherwise the IRET is on its way, or
 * an interrupt shadow holds the NMI back: single-step the guest over it.
 * GIF needs nothing: the guest cannot clear it.
 */
static void runner_nmi_window(struct lapicv_vcpu *vcpu, bool reinjecting)
{
	struct lapicv_vcpu_runner *rn = vcpu->runner;

	if (reinjecting)
		rn->immediate_exit = true;
	else if (!vcpu->events.nmi_masked || rn->awaiting_iret)
		runner_nmi_singlestep(vcpu);
}

/* 1: back into the guest; 0: to the VMM (kvm_run filled); <0: error. */
static int runner_handle_exit(struct lapicv_vcpu *vcpu)
{
	struct lapicv_vcpu_runner *rn = vcpu->runner;
	struct lapicv_svm_vcpu *svm = &rn->svm;
	struct kvm_run *run = rn->run;
	u32 code = svm->vmcb->control.exit_code;
	int r;

	switch (code) {
	case SVM_EXIT_INTR:
	case SVM_EXIT_NMI:
	case SVM_EXIT_SMI:
	case SVM_EXIT_FERR_FREEZE:
	case SVM_EXIT_EXCP_BASE + MC_VECTOR:
		return 1;
	case SVM_EXIT_EXCP_BASE + DB_VECTOR:
		/* The NMI single-step's #DB is the runner's, as on KVM. */
		if (rn->nmi_singlestep) {
			runner_nmi_singlestep_off(vcpu);
			lapicv_make_request(vcpu, LAPICV_REQ_EVENT);
			return 1;
		}
		fallthrough;
	case SVM_EXIT_EXCP_BASE + AC_VECTOR:
		/*
		 * Intercepted only so that their delivery cannot loop in the
		 * CPU (CVE-2015-5307, CVE-2015-8104): give them back.  #AC's
		 * error code is 0; a #DB left its cause in the VMCB's DR6.
		 */
		runner_queue_exception(vcpu, svm->vmcb->control.exit_code -
				       SVM_EXIT_EXCP_BASE,
				       svm->vmcb->control.exit_code ==
				       SVM_EXIT_EXCP_BASE + AC_VECTOR, 0);
		return 1;
	case SVM_EXIT_VINTR:
		/* The window opened and closes: the next step injects. */
		lapicv_vcpu_irq_window_exit(vcpu);
		return 1;
	case SVM_EXIT_IRET:
		/* The NMI handler's IRET: unmasked once it has run. */
		lapicv_svm_set_iret_intercept(svm, false);
		rn->awaiting_iret = true;
		rn->iret_rip = svm->vmcb->save.rip;
		return 1;
	case SVM_EXIT_IOIO:
		return runner_io(vcpu);
	case SVM_EXIT_HLT:
		r = runner_skip(vcpu, LAPICV_EMU_INSN_HLT);
		if (r <= 0)
			return r < 0;
		/* Past the HLT: no shadow, whatever the entry had. */
		vcpu->events.shadow = 0;
		lapicv_vcpu_halt(vcpu, svm->vmcb->save.rflags & X86_EFLAGS_IF);
		return 1;
	case SVM_EXIT_CPUID:
		return runner_cpuid(vcpu);
	case SVM_EXIT_MSR:
		return runner_msr(vcpu);
	case SVM_EXIT_NPF:
		return runner_npf(vcpu);
	case SVM_EXIT_XSETBV:
		return runner_xsetbv(vcpu);
	case SVM_EXIT_READ_CR0:
	case SVM_EXIT_READ_CR4:
	case SVM_EXIT_WRITE_CR0:
	case SVM_EXIT_WRITE_CR4:
	case SVM_EXIT_WRITE_CR8:
	case SVM_EXIT_CR0_SEL_WRITE:
		return runner_cr(vcpu, code);
	case SVM_EXIT_INVD:
	case SVM_EXIT_WBINVD:
		r = runner_skip(vcpu, code == SVM_EXIT_INVD ?
				LAPICV_EMU_INSN_INVD : LAPICV_EMU_INSN_WBINVD);
		return r != 0;
	case SVM_EXIT_RDPMC:
		runner_queue_exception(vcpu, GP_VECTOR, true, 0);
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
	case SVM_EXIT_RSM:
	case SVM_EXIT_RDPRU:
		runner_queue_exception(vcpu, UD_VECTOR, false, 0);
		return 1;
	case SVM_EXIT_SHUTDOWN:
		/* The VMCB is undefined after a shutdown: back to RESET. */
		lapicv_svm_vcpu_reset(svm);
		runner_forget(vcpu);
		run->exit_reason = KVM_EXIT_SHUTDOWN;
		return 0;
	case (u32)SVM_EXIT_ERR:
		run->exit_reason = KVM_EXIT_FAIL_ENTRY;
		run->fail_entry.hardware_entry_failure_reason = code;
		run->fail_entry.cpu = rn->svm.cpu;
		return 0;
	default:
		runner_internal_error(vcpu,
				      KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON,
				      code, rn->svm.cpu);
		return 0;
	}
}

/* ---- the loop ---- */

/* RFLAGS.IF and no interrupt shadow (vcpu->events holds the shadow). */
static bool runner_interruptible(struct lapicv_vcpu *vcpu)
{
	return (runner_vmcb(vcpu)->save.rflags & X86_EFLAGS_IF) &&
	       !vcpu->events.shadow;
}

/* KVM's dm_request_for_irq_injection(): a split irqchip's VMM asks. */
static bool runner_vmm_window(struct lapicv_vcpu *vcpu)
{
	return vcpu->runner->run->request_interrupt_window &&
	       vcpu->vm->irqchip != LAPICV_IRQCHIP_KERNEL;
}

/*
 * KVM's check in vcpu_run() after every pass that stays in the kernel:
 * the VMM asked for the window and the guest could take its ExtINT now.
 */
static bool runner_irq_window_open(struct lapicv_vcpu *vcpu)
{
	if (!runner_vmm_window(vcpu) ||
	    !lapicv_vcpu_ready_for_extint(vcpu, runner_interruptible(vcpu)))
		return false;
	vcpu->runner->run->exit_reason = KVM_EXIT_IRQ_WINDOW_OPEN;
	return true;
}

/* INIT: KVM's INIT state, RDX the family/model/stepping of CPUID 1. */
static void runner_init(struct lapicv_vcpu *vcpu)
{
	const struct kvm_cpuid_entry2 *e = runner_find_cpuid(vcpu->apic, 1, 0);

	lapicv_svm_vcpu_init(&vcpu->runner->svm, e ? e->eax : 0x600);
	runner_forget(vcpu);
}

void lapicv_runner_take_init_sipi(struct lapicv_vcpu *vcpu,
				  unsigned long accepted)
{
	u8 vector = vcpu->apic->accepted_sipi_vector;

	lockdep_assert_held(&vcpu->mutex);
	if (!vcpu->runner)
		return;
	/*
	 * Once the VM runs guests the report is the runner's, and taken
	 * here; before, a VMM of LAPICV_RUN hears of them from its next
	 * step, and the next KVM_RUN drops them (lapicv_vcpu_kvm_run()).
	 */
	if (READ_ONCE(vcpu->vm->svm_held))
		lapicv_vcpu_take_init_sipi(vcpu, &vector);
	if (accepted & BIT(LAPICV_APIC_INIT))
		runner_init(vcpu);
	if (accepted & BIT(LAPICV_APIC_SIPI))
		lapicv_svm_sipi(&vcpu->runner->svm, vector);
}

/*
 * apicv.c's decision (the run step shared with LAPICV_RUN) on the
 * VMCB's interruptibility, carried out with EVENTINJ, the V_IRQ window,
 * the IRET intercept, INIT and SIPI.  1: enter the guest; 0: to the VMM
 * (kvm_run filled); -EINTR.
 */
static int runner_events(struct lapicv_vcpu *vcpu)
{
	struct lapicv_vcpu_runner *rn = vcpu->runner;
	struct lapicv_svm_vcpu *svm = &rn->svm;
	struct vmcb *vmcb = svm->vmcb;
	struct lapicv_events *ev = &vcpu->events;
	struct lapicv_run step = {
		.rflags_if = !!(vmcb->save.rflags & X86_EFLAGS_IF),
		.interrupt_shadow = !!ev->shadow,
		.nmi_blocked = ev->nmi_masked,
	};
	u32 inj = 0, err = 0;
	int r;

	r = lapicv_vcpu_step(vcpu, &step, runner_vmm_window(vcpu));
	if (r)
		return r;
	switch (step.exit_reason) {
	case LAPICV_RUN_INTR:
	case LAPICV_RUN_EXTINT:
		inj = step.vector | SVM_EVTINJ_VALID |
		      (step.event_flags & LAPICV_RUN_EVENT_SOFT ?
		       SVM_EVTINJ_TYPE_SOFT : SVM_EVTINJ_TYPE_INTR);
		break;
	case LAPICV_RUN_NMI:
		inj = 2 | SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_NMI;
		rn->awaiting_iret = false;
		break;
	case LAPICV_RUN_EXCEPTION:
		inj = step.vector | SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_EXEPT;
		if (step.event_flags & LAPICV_RUN_EVENT_ERROR_CODE) {
			inj |= SVM_EVTINJ_VALID_ERR;
			err = step.error_code;
		}
		break;
	case LAPICV_RUN_INIT:
		runner_init(vcpu);
		break;
	case LAPICV_RUN_SIPI:
		/*
		 * KVM's kvm_vcpu_deliver_sipi_vector(): CS and RIP only, so
		 * what the VMM set while the vCPU waited for SIPI stays.
		 */
		if (step.event_flags & LAPICV_RUN_EVENT_INIT)
			runner_init(vcpu);
		lapicv_svm_sipi(svm, step.vector);
		break;
	case LAPICV_RUN_IOAPIC_EOI:
		rn->run->exit_reason = KVM_EXIT_IOAPIC_EOI;
		rn->run->eoi.vector = step.vector;
		return 0;
	default:
		/* NONE, IRQ_WINDOW; VIRTUAL_INTR needs an APICv backend. */
		break;
	}
	lapicv_svm_inject(svm, inj, err);
	lapicv_svm_set_irq_window(svm, vcpu->irq_window);
	lapicv_svm_set_iret_intercept(svm, ev->nmi_masked && !rn->awaiting_iret);
	rn->immediate_exit = false;
	if ((step.pending & LAPICV_RUN_PENDING_NMI) &&
	    vcpu->apic->mp_state == KVM_MP_STATE_RUNNABLE)
		runner_nmi_window(vcpu, step.event_flags &
				  LAPICV_RUN_EVENT_REINJECTED);
	if (ev->shadow)
		vmcb->control.int_state |= SVM_INTERRUPT_SHADOW_MASK;
	else
		vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	return 1;
}

/* TPR <-> V_TPR around VMRUN, as KVM's sync_lapic_to_cr8() and back. */
static void runner_tpr_to_vmcb(struct lapicv_vcpu *vcpu)
{
	struct vmcb_control_area *c = &runner_vmcb(vcpu)->control;

	c->int_ctl = (c->int_ctl & ~V_TPR_MASK) | lapicv_get_cr8(vcpu);
}

/*
 * KVM's sync_cr8_to_lapic(): unless CR8 writes exit, the TPR is V_TPR's
 * four bits after every exit, its bits 3:0 clear (kvm_lapic_set_tpr()).
 */
static void runner_tpr_from_vmcb(struct lapicv_vcpu *vcpu)
{
	u32 tpr = (runner_vmcb(vcpu)->control.int_ctl & V_TPR_MASK) << 4;

	if (lapicv_svm_cr8_intercepted(&vcpu->runner->svm))
		return;
	if (lapicv_get_reg(vcpu->apic, APIC_TASKPRI) != tpr)
		lapicv_apic_reg_write(vcpu->apic, APIC_TASKPRI, tpr);
}

/*
 * KVM's update_cr8_intercept(): CR8 writes exit while the TPR holds back
 * the highest pending interrupt, so that the write lowering it is
 * followed by the interrupt before the guest's next instruction (V_TPR
 * alone would let the guest run on until some other exit).  Not with a
 * VAPIC page, as on KVM.
 */
static void runner_update_cr8_intercept(struct lapicv_vcpu *vcpu)
{
	int irr = vcpu->vapic_addr ? -1 :
		  lapicv_apic_find_highest_irr(vcpu->apic);

	lapicv_svm_set_cr8_intercept(&vcpu->runner->svm,
				     irr != -1 &&
				     lapicv_get_cr8(vcpu) >= (irr >> 4));
}

/*
 * Asked in guest mode, interrupts off, just before VMRUN: work that
 * arrived since the decision (a kick would find the vCPU here) cancels
 * the entry.
 */
static bool runner_has_work(void *opaque)
{
	struct lapicv_vcpu *vcpu = opaque;

	return (READ_ONCE(vcpu->requests) & ~LAPICV_REQ_NO_WAKEUP) ||
	       READ_ONCE(vcpu->apic->pending_events) ||
	       lapicv_timer_pending(vcpu->apic) ||
	       signal_pending(current) || need_resched();
}

/*
 * An exit left the guest in an STI or MOV SS shadow right before a HLT
 * (sti; hlt, the idle loop's pattern): carry the HLT out now, as its
 * intercept would on the next entry.  The guest cannot tell: nothing is
 * taken inside the shadow, and its HLT exit would be handled the same.
 * Entering again with the shadow in int_state is not enough: QEMU's SVM
 * (7.2) drops int_state at VMRUN, so a pending interrupt's V_IRQ window
 * opened then exits at once (VINTR), the interrupt is injected before
 * the HLT, and the guest halts after its handler with nothing left to
 * wake it (KVM's xapic_ipi_test: 1 run in 6 to 24 hung so).  Not with a
 * single-step trap or an event still to be delivered: they come first.
 */
static void runner_hlt_in_shadow(struct lapicv_vcpu *vcpu)
{
	struct vmcb *vmcb = runner_vmcb(vcpu);
	struct lapicv_emu_fault fault;
	struct lapicv_emu_ctx ctx;
	unsigned int len;

	if (!(vmcb->control.int_state & SVM_INTERRUPT_SHADOW_MASK) ||
	    (vmcb->save.rflags & X86_EFLAGS_TF) ||
	    lapicv_events_need_reinjection(&vcpu->events) ||
	    vcpu->apic->mp_state != KVM_MP_STATE_RUNNABLE)
		return;
	lapicv_runner_emu_ctx(vcpu, &ctx);
	/* Anything but a readable HLT at CS:RIP: the guest goes on. */
	if (lapicv_emu_skip_len(&ctx, LAPICV_EMU_INSN_HLT, &len,
				&fault) != LAPICV_EMU_OK)
		return;
	vmcb->save.rip = lapicv_emu_next_rip(&ctx, len);
	vmcb->save.rflags &= ~X86_EFLAGS_RF;
	vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	vcpu->events.shadow = 0;
	lapicv_vcpu_halt(vcpu, vmcb->save.rflags & X86_EFLAGS_IF);
}

static int runner_enter(struct lapicv_vcpu *vcpu)
{
	struct lapicv_vcpu_runner *rn = vcpu->runner;
	struct vmcb *vmcb = rn->svm.vmcb;
	struct lapicv_svm_gate gate = {
		.guest_cpu = &vcpu->guest_cpu,
		.has_work = runner_has_work,
		.opaque = vcpu,
		.immediate_exit = rn->immediate_exit,
		.tlb_gen = lapicv_npt_tlb_gen(vcpu->vm),
	};
	int r;

	/*
	 * An event goes in with the runner's single-step on: the CPU would
	 * push the runner's TF with it.  Step no more and exit right after
	 * the delivery instead, as KVM's svm_vcpu_run() does.
	 */
	if (rn->nmi_singlestep && (vmcb->control.event_inj & SVM_EVTINJ_VALID)) {
		runner_nmi_singlestep_off(vcpu);
		gate.immediate_exit = true;
	}
	runner_tpr_to_vmcb(vcpu);
	runner_update_cr8_intercept(vcpu);
	/* npt.c's flush finds the vCPU in guest mode through guest_cpu. */
	r = lapicv_svm_enter(&rn->svm, lapicv_npt_root(vcpu->vm), &gate);
	if (r == -EAGAIN) {
		/* Not entered: what was being injected goes first next time. */
		runner_requeue(vcpu, vmcb->control.event_inj,
			       vmcb->control.event_inj_err);
		lapicv_svm_inject(&rn->svm, 0, 0);
		return 1;
	}
	if (r)
		return r;
	vcpu->stats.exits++;
	runner_tpr_from_vmcb(vcpu);
	runner_complete_interrupts(vcpu);
	r = runner_handle_exit(vcpu);
	if (r == 1)
		runner_hlt_in_shadow(vcpu);
	/* KVM_GET_VCPU_EVENTS sees the guest as the exit left it. */
	vcpu->events.shadow = vmcb->control.int_state & SVM_INTERRUPT_SHADOW_MASK ?
			      LAPICV_SHADOW_ANY : 0;
	return r;
}

/*
 * After the step of a vCPU that was not RUNNABLE: KVM's vcpu_block()
 * returned to vcpu_run() (a signal ended the sleep, or a wake-up ended
 * the halt with nothing injected yet), where the open window is looked
 * at before anything else.
 */
static bool runner_block_returned(struct lapicv_vcpu *vcpu, int r)
{
	if (r == -EINTR)
		return true;
	return r == 1 && vcpu->apic->mp_state == KVM_MP_STATE_RUNNABLE &&
	       !(runner_vmcb(vcpu)->control.event_inj & SVM_EVTINJ_VALID);
}

static int runner_loop(struct lapicv_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->runner->run;
	bool blocked;
	int r;

	run->exit_reason = KVM_EXIT_UNKNOWN;
	for (;;) {
		if (signal_pending(current)) {
			run->exit_reason = KVM_EXIT_INTR;
			return -EINTR;
		}
		/* A guest that never exits must not hold up Tasks RCU. */
		cond_resched_tasks_rcu_qs();

		/* Halted and waiting-for-SIPI vCPUs sleep in here. */
		blocked = vcpu->apic->mp_state != KVM_MP_STATE_RUNNABLE;
		r = runner_events(vcpu);
		if (blocked && runner_block_returned(vcpu, r) &&
		    runner_irq_window_open(vcpu))
			return 0;
		if (r == -EINTR)
			continue;
		if (r <= 0)
			return r;
		if (vcpu->apic->mp_state != KVM_MP_STATE_RUNNABLE)
			continue;
		r = runner_enter(vcpu);
		if (r <= 0)
			return r;
		if (runner_irq_window_open(vcpu))
			return 0;
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
		lapicv_vcpu_ready_for_extint(vcpu, runner_interruptible(vcpu));
}

int lapicv_vcpu_kvm_run(struct lapicv_vcpu *vcpu, unsigned long arg)
{
	struct lapicv_vcpu_runner *rn = vcpu->runner;
	int r;
	u8 vector;

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
	/*
	 * INIT and SIPI that KVM_GET_MP_STATE accepted before the VM ran a
	 * guest: carried out then, still there for a LAPICV_RUN step to
	 * report; the run step must not carry them out again.
	 */
	lapicv_vcpu_take_init_sipi(vcpu, &vector);

	rn->run->flags = 0;
	fpu_swap_kvm_fpstate(&rn->svm.fpu, true);
	if (rn->mmio.pending)
		runner_complete_mmio(vcpu);
	if (rn->io.pending && !runner_complete_io(vcpu))
		r = 0;	/* INS into no guest memory: KVM_EXIT_INTERNAL_ERROR */
	else if (lapicv_run_immediate_exit(rn->run))
		r = -EINTR;
	else
		r = runner_loop(vcpu);
	fpu_swap_kvm_fpstate(&rn->svm.fpu, false);
	runner_post_run(vcpu);
	return r;
}
