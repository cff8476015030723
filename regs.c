// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_GET/SET_REGS and KVM_GET/SET_SREGS on the SVM runner's vCPU state.
 *
 * The VMCB's save area is the architectural state: RAX, RSP, RIP, RFLAGS,
 * segments, descriptor tables, control registers and EFER live there; the
 * other GPRs in lapicv_svm_vcpu.gprs.  Segments are packed into the VMCB's
 * 12-bit attribute as KVM's svm_set_segment() packs them (type, S, DPL, P,
 * AVL, L, D/B, G; P clear for an unusable segment; CPL from SS.DPL) and
 * unpacked as svm_get_segment() does (G from the limit, accessed bits on
 * usable data segments, busy TR, SS.DPL from CPL).  EFER.SVME, which VMRUN
 * needs in the guest's EFER, is the runner's and never shows.  CR0 and CR4
 * are the guest's view (lapicv_svm_vcpu.cr0/cr4), which the VMCB's differ
 * from (CR0.CD/NW cleared, CR4.MCE set: svm/svm.c).  CR8 is the LAPIC's
 * TPR[7:4] (V_TPR without an in-kernel LAPIC).
 *
 * Guest writes of CR0, CR4 and CR8 (run.c's CR exits) come here to be
 * checked as KVM's kvm_set_cr0(), kvm_set_cr4() and kvm_set_cr8() check
 * them, PAE's PDPTEs included (KVM's load_pdptrs()): -EINVAL is a #GP for
 * the guest.  KVM_SET_SREGS loads PDPTEs without checking them on KVM
 * (it ignores load_pdptrs()'s answer), so it checks none here either.
 *
 * interrupt_bitmap is KVM's: an external interrupt being injected
 * (vcpu->events.interrupt, not soft) shows as its bit, and KVM_SET_SREGS
 * queues the lowest bit set as injected, delivered at the next entry.
 */
#include <asm/cpufeature.h>
#include <asm/fpu/types.h>
#include <asm/fpu/xcr.h>
#include <asm/fpu/xstate.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>

#include "cpuid.h"
#include "lapic.h"
#include "run.h"

/* CR4 bits KVM lets a guest set on an AMD host (the rest are reserved). */
#define REGS_CR4_VALID							\
	(X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE |		\
	 X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE |	\
	 X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT |		\
	 X86_CR4_UMIP | X86_CR4_LA57 | X86_CR4_FSGSBASE |		\
	 X86_CR4_PCIDE | X86_CR4_OSXSAVE | X86_CR4_SMEP | X86_CR4_SMAP |	\
	 X86_CR4_PKE)

/*
 * XCR0 bits kvm_amd lets a guest enable: KVM_SUPPORTED_XCR0 without MPX's
 * BNDREGS and BNDCSR, which svm_hardware_setup() takes out (AMD has no
 * MPX, though an emulated CPU may offer it in XCR0).
 */
#define REGS_XCR0_VALID							\
	(XFEATURE_MASK_FP | XFEATURE_MASK_SSE | XFEATURE_MASK_YMM |	\
	 XFEATURE_MASK_AVX512 | XFEATURE_MASK_PKRU | XFEATURE_MASK_XTILE)

/* CR0 bits that exist; writes of the others are ignored, as on KVM. */
#define REGS_CR0_KNOWN							\
	(X86_CR0_PE | X86_CR0_MP | X86_CR0_EM | X86_CR0_TS |		\
	 X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_AM |		\
	 X86_CR0_NW | X86_CR0_CD | X86_CR0_PG)

static struct lapicv_svm_vcpu *regs_svm(struct lapicv_vcpu *vcpu)
{
	return &vcpu->runner->svm;
}

void lapicv_get_regs(struct lapicv_vcpu *vcpu, struct kvm_regs *regs)
{
	struct lapicv_svm_vcpu *svm = regs_svm(vcpu);
	const unsigned long *g = svm->gprs;
	struct vmcb_save_area *s = &svm->vmcb->save;

	regs->rax = s->rax;
	regs->rbx = g[LAPICV_RBX];
	regs->rcx = g[LAPICV_RCX];
	regs->rdx = g[LAPICV_RDX];
	regs->rsi = g[LAPICV_RSI];
	regs->rdi = g[LAPICV_RDI];
	regs->rsp = s->rsp;
	regs->rbp = g[LAPICV_RBP];
	regs->r8 = g[LAPICV_R8];
	regs->r9 = g[LAPICV_R9];
	regs->r10 = g[LAPICV_R10];
	regs->r11 = g[LAPICV_R11];
	regs->r12 = g[LAPICV_R12];
	regs->r13 = g[LAPICV_R13];
	regs->r14 = g[LAPICV_R14];
	regs->r15 = g[LAPICV_R15];
	regs->rip = s->rip;
	regs->rflags = lapicv_runner_get_rflags(vcpu);
}

void lapicv_set_regs(struct lapicv_vcpu *vcpu, const struct kvm_regs *regs)
{
	struct lapicv_svm_vcpu *svm = regs_svm(vcpu);
	unsigned long *g = svm->gprs;
	struct vmcb_save_area *s = &svm->vmcb->save;

	s->rax = regs->rax;
	g[LAPICV_RBX] = regs->rbx;
	g[LAPICV_RCX] = regs->rcx;
	g[LAPICV_RDX] = regs->rdx;
	g[LAPICV_RSI] = regs->rsi;
	g[LAPICV_RDI] = regs->rdi;
	s->rsp = regs->rsp;
	g[LAPICV_RBP] = regs->rbp;
	g[LAPICV_R8] = regs->r8;
	g[LAPICV_R9] = regs->r9;
	g[LAPICV_R10] = regs->r10;
	g[LAPICV_R11] = regs->r11;
	g[LAPICV_R12] = regs->r12;
	g[LAPICV_R13] = regs->r13;
	g[LAPICV_R14] = regs->r14;
	g[LAPICV_R15] = regs->r15;
	s->rip = regs->rip;
	/* Bit 1 always reads 1, as kvm_set_rflags() makes it. */
	lapicv_runner_set_rflags(vcpu, regs->rflags | X86_EFLAGS_FIXED);
}

u64 lapicv_get_cr8(struct lapicv_vcpu *vcpu)
{
	if (vcpu->apic)
		return (lapicv_get_reg(vcpu->apic, APIC_TASKPRI) >> 4) & 0xf;
	return regs_svm(vcpu)->vmcb->control.int_ctl & V_TPR_MASK;
}

enum regs_seg { REGS_SEG_DATA, REGS_SEG_CS, REGS_SEG_SS, REGS_SEG_TR,
		REGS_SEG_LDT };

static void regs_get_seg(const struct vmcb_save_area *s,
			 const struct vmcb_seg *v, struct kvm_segment *k,
			 enum regs_seg kind)
{
	u16 a = v->attrib;

	memset(k, 0, sizeof(*k));
	k->base = v->base;
	k->limit = v->limit;
	k->selector = v->selector;
	k->type = a & SVM_SELECTOR_TYPE_MASK;
	k->s = !!(a & SVM_SELECTOR_S_MASK);
	k->dpl = (a & SVM_SELECTOR_DPL_MASK) >> SVM_SELECTOR_DPL_SHIFT;
	k->present = !!(a & SVM_SELECTOR_P_MASK);
	k->avl = !!(a & SVM_SELECTOR_AVL_MASK);
	k->l = !!(a & SVM_SELECTOR_L_MASK);
	k->db = !!(a & SVM_SELECTOR_DB_MASK);
	/* The VMCB keeps the expanded limit, not G. */
	k->g = v->limit > 0xfffff;
	k->unusable = !k->present;

	switch (kind) {
	case REGS_SEG_TR:
		k->type |= 0x2;		/* TR is always busy */
		break;
	case REGS_SEG_DATA:
		if (!k->unusable)
			k->type |= 0x1;	/* accessed */
		break;
	case REGS_SEG_SS:
		if (k->unusable)
			k->db = 0;
		k->dpl = s->cpl;
		break;
	default:
		break;
	}
}

static void regs_set_seg(struct vmcb_seg *v, const struct kvm_segment *k)
{
	v->base = k->base;
	v->limit = k->limit;
	v->selector = k->selector;
	v->attrib = (k->type & SVM_SELECTOR_TYPE_MASK) |
		    (k->s & 1) << SVM_SELECTOR_S_SHIFT |
		    (k->dpl & 3) << SVM_SELECTOR_DPL_SHIFT |
		    (k->present && !k->unusable) << SVM_SELECTOR_P_SHIFT |
		    (k->avl & 1) << SVM_SELECTOR_AVL_SHIFT |
		    (k->l & 1) << SVM_SELECTOR_L_SHIFT |
		    (k->db & 1) << SVM_SELECTOR_DB_SHIFT |
		    (k->g & 1) << SVM_SELECTOR_G_SHIFT;
}

void lapicv_get_sregs(struct lapicv_vcpu *vcpu, struct kvm_sregs *sregs)
{
	struct vmcb_save_area *s = &regs_svm(vcpu)->vmcb->save;

	memset(sregs, 0, sizeof(*sregs));
	regs_get_seg(s, &s->cs, &sregs->cs, REGS_SEG_CS);
	regs_get_seg(s, &s->ds, &sregs->ds, REGS_SEG_DATA);
	regs_get_seg(s, &s->es, &sregs->es, REGS_SEG_DATA);
	regs_get_seg(s, &s->fs, &sregs->fs, REGS_SEG_DATA);
	regs_get_seg(s, &s->gs, &sregs->gs, REGS_SEG_DATA);
	regs_get_seg(s, &s->ss, &sregs->ss, REGS_SEG_SS);
	regs_get_seg(s, &s->tr, &sregs->tr, REGS_SEG_TR);
	regs_get_seg(s, &s->ldtr, &sregs->ldt, REGS_SEG_LDT);
	sregs->idt.base = s->idtr.base;
	sregs->idt.limit = s->idtr.limit;
	sregs->gdt.base = s->gdtr.base;
	sregs->gdt.limit = s->gdtr.limit;
	sregs->cr0 = regs_svm(vcpu)->cr0;
	sregs->cr2 = s->cr2;
	sregs->cr3 = s->cr3;
	sregs->cr4 = regs_svm(vcpu)->cr4;
	sregs->cr8 = lapicv_get_cr8(vcpu);
	sregs->efer = s->efer & ~EFER_SVME;
	sregs->apic_base = vcpu->apic ? vcpu->apic->apic_base : 0;
	/* KVM's __get_sregs(): an external interrupt being injected. */
	if (vcpu->events.interrupt.injected && !vcpu->events.interrupt.soft)
		__set_bit(vcpu->events.interrupt.nr,
			  (unsigned long *)sregs->interrupt_bitmap);
}

/*
 * EFER bits a guest may set: KVM also takes FFXSR and AutoIBRS when the
 * guest's CPUID has them, and SVME for nested guests, which lapicv does
 * not run.
 */
#define REGS_EFER_VALID	(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX)

/*
 * The first entry for @function.@index, as KVM's cpuid_entry2_find():
 * its position in @e, or -1.
 */
static int regs_cpuid_find(const struct kvm_cpuid_entry2 *e, u32 nent,
			   u32 function, u32 index)
{
	u32 i;

	for (i = 0; i < nent; i++)
		if (e[i].function == function &&
		    (!(e[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     e[i].index == index))
			return i;
	return -1;
}

/* Is a CPUID feature bit (X86_FEATURE_*'s bit in @reg) set for the guest? */
static bool regs_guest_has(struct lapicv_vcpu *vcpu, u32 function, u32 index,
			   int reg, unsigned int feature)
{
	const struct kvm_cpuid_entry2 *e;
	u32 nent, val;
	int i;

	e = lapicv_get_cpuid(vcpu, &nent);
	i = regs_cpuid_find(e, nent, function, index);
	if (i < 0)
		return false;
	val = reg == CPUID_EBX ? e[i].ebx : reg == CPUID_ECX ? e[i].ecx :
	      e[i].edx;
	return val & BIT(feature & 31);
}

static void regs_cpuid_change(u32 *reg, unsigned int feature, bool set)
{
	if (set)
		*reg |= BIT(feature & 31);
	else
		*reg &= ~BIT(feature & 31);
}

void lapicv_cpuid_runtime(struct lapicv_vcpu *vcpu,
			  struct kvm_cpuid_entry2 *e, u32 nent)
{
	struct lapicv_svm_vcpu *svm = regs_svm(vcpu);
	int i;

	i = regs_cpuid_find(e, nent, 1, 0);
	if (i >= 0 && boot_cpu_has(X86_FEATURE_XSAVE))
		regs_cpuid_change(&e[i].ecx, X86_FEATURE_OSXSAVE,
				  svm->cr4 & X86_CR4_OSXSAVE);
	i = regs_cpuid_find(e, nent, 7, 0);
	if (i >= 0 && boot_cpu_has(X86_FEATURE_PKU))
		regs_cpuid_change(&e[i].ecx, X86_FEATURE_OSPKE,
				  svm->cr4 & X86_CR4_PKE);
	i = regs_cpuid_find(e, nent, 0xd, 0);
	if (i >= 0)
		e[i].ebx = lapicv_xstate_size(svm->xcr0, false);
	i = regs_cpuid_find(e, nent, 0xd, 1);
	if (i >= 0 && (e[i].eax & (BIT(X86_FEATURE_XSAVES & 31) |
				   BIT(X86_FEATURE_XSAVEC & 31))))
		e[i].ebx = lapicv_xstate_size(svm->xcr0, true);
}

/*
 * CR4 bits the guest's CPUID lacks (KVM's cr4_guest_rsvd_bits): none
 * before the VMM set a CPUID table, as on KVM.
 */
static u64 regs_cr4_guest_lacks(struct lapicv_vcpu *vcpu)
{
	static const struct {
		u32 function;
		int reg;
		unsigned int feature;
		u64 cr4;
	} map[] = {
		{ 1, CPUID_ECX, X86_FEATURE_XSAVE, X86_CR4_OSXSAVE },
		{ 1, CPUID_ECX, X86_FEATURE_PCID, X86_CR4_PCIDE },
		{ 7, CPUID_EBX, X86_FEATURE_SMEP, X86_CR4_SMEP },
		{ 7, CPUID_EBX, X86_FEATURE_SMAP, X86_CR4_SMAP },
		{ 7, CPUID_EBX, X86_FEATURE_FSGSBASE, X86_CR4_FSGSBASE },
		{ 7, CPUID_ECX, X86_FEATURE_PKU, X86_CR4_PKE },
		{ 7, CPUID_ECX, X86_FEATURE_LA57, X86_CR4_LA57 },
		{ 7, CPUID_ECX, X86_FEATURE_UMIP, X86_CR4_UMIP },
	};
	u64 bits = 0;
	u32 nent;
	int i;

	if (!vcpu->apic || !lapicv_get_cpuid(vcpu, &nent) || !nent)
		return 0;
	for (i = 0; i < ARRAY_SIZE(map); i++)
		if (!regs_guest_has(vcpu, map[i].function, 0, map[i].reg,
				    map[i].feature))
			bits |= map[i].cr4;
	return bits;
}

/*
 * KVM's kvm_is_valid_cr4(): KVM's reserved bits (features
 * KVM_GET_SUPPORTED_CPUID lacks) and the guest's.
 */
static bool regs_cr4_valid(struct lapicv_vcpu *vcpu, u64 cr4)
{
	return !(cr4 & (~(u64)REGS_CR4_VALID |
			lapicv_supported_cr4_reserved() |
			regs_cr4_guest_lacks(vcpu)));
}

/* KVM's kvm_is_valid_cr0(). */
static bool regs_cr0_valid(u64 cr0)
{
	return !(cr0 >> 32) &&
	       !((cr0 & X86_CR0_NW) && !(cr0 & X86_CR0_CD)) &&
	       !((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE));
}

/* KVM's kvm_is_valid_sregs() with its EFER, CR0 and CR4 checks. */
static bool regs_sregs_valid(struct lapicv_vcpu *vcpu,
			     const struct kvm_sregs *sregs)
{
	u64 cr0 = sregs->cr0;

	if (!regs_cr0_valid(cr0))
		return false;
	if (sregs->efer & ~(u64)REGS_EFER_VALID)
		return false;
	if (!regs_cr4_valid(vcpu, sregs->cr4))
		return false;
	if ((sregs->efer & EFER_LME) && (cr0 & X86_CR0_PG)) {
		if (!(sregs->cr4 & X86_CR4_PAE) || !(sregs->efer & EFER_LMA))
			return false;
		if (sregs->cr3 >> boot_cpu_data.x86_phys_bits)
			return false;
	} else if ((sregs->efer & EFER_LMA) || sregs->cs.l) {
		return false;
	}
	return true;
}

int lapicv_set_sregs(struct lapicv_vcpu *vcpu, const struct kvm_sregs *sregs)
{
	struct lapicv_svm_vcpu *svm = regs_svm(vcpu);
	struct vmcb_save_area *s = &svm->vmcb->save;
	unsigned int vec;

	if (!regs_sregs_valid(vcpu, sregs))
		return -EINVAL;
	if (vcpu->apic && lapicv_apic_set_base(vcpu, sregs->apic_base, true))
		return -EINVAL;

	s->idtr.base = sregs->idt.base;
	s->idtr.limit = sregs->idt.limit;
	s->gdtr.base = sregs->gdt.base;
	s->gdtr.limit = sregs->gdt.limit;
	s->cr2 = sregs->cr2;
	s->cr3 = sregs->cr3;
	if (vcpu->apic)
		lapicv_apic_reg_write(vcpu->apic, APIC_TASKPRI,
				      (sregs->cr8 & 0xf) << 4);
	else
		svm->vmcb->control.int_ctl =
			(svm->vmcb->control.int_ctl & ~V_TPR_MASK) |
			(sregs->cr8 & V_TPR_MASK);
	s->efer = sregs->efer | EFER_SVME;
	lapicv_svm_set_cr0(svm, sregs->cr0);
	lapicv_svm_set_cr4(svm, sregs->cr4);
	/* New CR3 or EFER: KVM's MMU reset flushes the guest's TLB. */
	lapicv_svm_flush_tlb(svm);
	regs_set_seg(&s->cs, &sregs->cs);
	regs_set_seg(&s->ds, &sregs->ds);
	regs_set_seg(&s->es, &sregs->es);
	regs_set_seg(&s->fs, &sregs->fs);
	regs_set_seg(&s->gs, &sregs->gs);
	regs_set_seg(&s->ss, &sregs->ss);
	regs_set_seg(&s->tr, &sregs->tr);
	regs_set_seg(&s->ldtr, &sregs->ldt);
	s->cpl = sregs->ss.dpl & 3;

	/* KVM's __set_sregs(): the first vector becomes injected. */
	vec = find_first_bit((const unsigned long *)sregs->interrupt_bitmap,
			     KVM_NR_INTERRUPTS);
	if (vec < KVM_NR_INTERRUPTS) {
		vcpu->events.interrupt.injected = true;
		vcpu->events.interrupt.soft = false;
		vcpu->events.interrupt.nr = vec;
		lapicv_make_request(vcpu, LAPICV_REQ_EVENT);
	}
	return 0;
}

/* 64-bit mode: EFER.LMA with CS.L. */
static bool regs_64bit_mode(const struct vmcb_save_area *s)
{
	return (s->efer & EFER_LMA) && (s->cs.attrib & SVM_SELECTOR_L_MASK);
}

/*
 * KVM's load_pdptrs() as a check: with nested paging the CPU reads the
 * PDPTEs itself, but KVM still refuses a CR0 or CR4 write that enters or
 * changes PAE paging when they are outside guest memory or have a
 * reserved bit.  Only on the guest's CR writes (KVM_RUN).
 */
static bool regs_pdptrs_valid(struct lapicv_vcpu *vcpu)
{
	struct lapicv_emu_ctx ctx;

	lapicv_runner_emu_ctx(vcpu, &ctx);
	return lapicv_emu_pdptrs_valid(&ctx, ctx.cr3);
}

/* CR0 and CR4 bits whose change makes KVM load the PDPTEs again. */
#define REGS_CR0_PDPTR_BITS	(X86_CR0_CD | X86_CR0_NW | X86_CR0_PG)
#define REGS_CR4_PDPTR_BITS	(X86_CR4_PGE | X86_CR4_PSE | X86_CR4_PAE | \
				 X86_CR4_SMEP)

int lapicv_set_cr0(struct lapicv_vcpu *vcpu, u64 cr0)
{
	struct lapicv_svm_vcpu *svm = regs_svm(vcpu);
	struct vmcb_save_area *s = &svm->vmcb->save;
	u64 old = svm->cr0;

	if (!regs_cr0_valid(cr0))
		return -EINVAL;
	cr0 = (cr0 | X86_CR0_ET) & REGS_CR0_KNOWN;
	/* Paging on with EFER.LME: long mode, which needs PAE, not CS.L. */
	if ((s->efer & EFER_LME) && !(old & X86_CR0_PG) &&
	    (cr0 & X86_CR0_PG) &&
	    (!(svm->cr4 & X86_CR4_PAE) || (s->cs.attrib & SVM_SELECTOR_L_MASK)))
		return -EINVAL;
	/* PAE paging outside long mode, entered or with CD/NW changed. */
	if (!(s->efer & EFER_LME) && (cr0 & X86_CR0_PG) &&
	    (svm->cr4 & X86_CR4_PAE) && ((cr0 ^ old) & REGS_CR0_PDPTR_BITS) &&
	    !regs_pdptrs_valid(vcpu))
		return -EINVAL;
	if (!(cr0 & X86_CR0_PG) &&
	    (regs_64bit_mode(s) || (svm->cr4 & X86_CR4_PCIDE)))
		return -EINVAL;

	/* What the CPU does to EFER.LMA when the guest's write is its own. */
	if (s->efer & EFER_LME) {
		if (!(old & X86_CR0_PG) && (cr0 & X86_CR0_PG))
			s->efer |= EFER_LMA;
		if ((old & X86_CR0_PG) && !(cr0 & X86_CR0_PG))
			s->efer &= ~EFER_LMA;
	}
	lapicv_svm_set_cr0(svm, cr0);
	return 0;
}

int lapicv_set_cr4(struct lapicv_vcpu *vcpu, u64 cr4)
{
	struct lapicv_svm_vcpu *svm = regs_svm(vcpu);
	struct vmcb_save_area *s = &svm->vmcb->save;
	u64 old = svm->cr4;

	if (!regs_cr4_valid(vcpu, cr4))
		return -EINVAL;
	if (s->efer & EFER_LMA) {
		if (!(cr4 & X86_CR4_PAE) || ((cr4 ^ old) & X86_CR4_LA57))
			return -EINVAL;
	} else if ((svm->cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PAE) &&
		   ((cr4 ^ old) & REGS_CR4_PDPTR_BITS) &&
		   !regs_pdptrs_valid(vcpu)) {
		return -EINVAL;
	}
	/* PCIDE 0 -> 1 only in long mode and with CR3[11:0] clear. */
	if ((cr4 & X86_CR4_PCIDE) && !(old & X86_CR4_PCIDE) &&
	    ((s->cr3 & 0xfff) || !(s->efer & EFER_LMA)))
		return -EINVAL;
	lapicv_svm_set_cr4(svm, cr4);
	return 0;
}

int lapicv_set_cr8(struct lapicv_vcpu *vcpu, u64 cr8)
{
	if (cr8 & ~0xfULL)
		return -EINVAL;
	/* KVM's kvm_lapic_set_tpr(): TPR[7:4], bits 3:0 clear. */
	lapicv_apic_reg_write(vcpu->apic, APIC_TASKPRI, cr8 << 4);
	return 0;
}

/*
 * XCR0 bits the guest may set (KVM's guest_supported_xcr0): CPUID leaf
 * 0xD as the VMM set it, within what the host enabled and what the
 * guest's FPU state holds (no dynamic feature such as AMX tile data
 * unless the state was sized for it).
 */
static u64 regs_guest_xcr0(struct lapicv_vcpu *vcpu)
{
	const struct kvm_cpuid_entry2 *e;
	u64 bits = 0;
	u32 nent;
	int i;

	/* No LAPIC, no CPUID table (KVM_SET_CPUID2 refused): x87 only. */
	if (!vcpu->apic)
		return 0;
	e = lapicv_get_cpuid(vcpu, &nent);
	i = regs_cpuid_find(e, nent, 0xd, 0);
	if (i >= 0)
		bits = e[i].eax | (u64)e[i].edx << 32;
	return bits & REGS_XCR0_VALID & lapicv_svm_host_xcr0() &
	       regs_svm(vcpu)->fpu.fpstate->user_xfeatures;
}

u64 lapicv_supported_xcr0(void)
{
	return REGS_XCR0_VALID & lapicv_svm_host_xcr0() &
	       ~(u64)XFEATURE_MASK_XTILE;
}

int lapicv_set_xcr(struct lapicv_vcpu *vcpu, u32 index, u64 xcr)
{
	if (index != XCR_XFEATURE_ENABLED_MASK || !(xcr & XFEATURE_MASK_FP))
		return -EINVAL;
	if ((xcr & XFEATURE_MASK_YMM) && !(xcr & XFEATURE_MASK_SSE))
		return -EINVAL;
	if (xcr & ~(regs_guest_xcr0(vcpu) | XFEATURE_MASK_FP))
		return -EINVAL;
	/* MPX's two components go together, AVX-512's three, AMX's two. */
	if (!(xcr & XFEATURE_MASK_BNDREGS) != !(xcr & XFEATURE_MASK_BNDCSR))
		return -EINVAL;
	if ((xcr & XFEATURE_MASK_AVX512) &&
	    (!(xcr & XFEATURE_MASK_YMM) ||
	     (xcr & XFEATURE_MASK_AVX512) != XFEATURE_MASK_AVX512))
		return -EINVAL;
	if ((xcr & XFEATURE_MASK_XTILE) &&
	    (xcr & XFEATURE_MASK_XTILE) != XFEATURE_MASK_XTILE)
		return -EINVAL;
	regs_svm(vcpu)->xcr0 = xcr;
	return 0;
}

void lapicv_get_xcrs(struct lapicv_vcpu *vcpu, struct kvm_xcrs *xcrs)
{
	memset(xcrs, 0, sizeof(*xcrs));
	/* KVM's answer without XSAVE: no XCR at all. */
	if (!boot_cpu_has(X86_FEATURE_XSAVE))
		return;
	xcrs->nr_xcrs = 1;
	xcrs->xcrs[0].xcr = XCR_XFEATURE_ENABLED_MASK;
	xcrs->xcrs[0].value = regs_svm(vcpu)->xcr0;
}

int lapicv_set_xcrs(struct lapicv_vcpu *vcpu, const struct kvm_xcrs *xcrs)
{
	u32 i;

	if (!boot_cpu_has(X86_FEATURE_XSAVE) ||
	    xcrs->nr_xcrs > KVM_MAX_XCRS || xcrs->flags)
		return -EINVAL;
	/* The first XCR0 entry counts; other XCRs are skipped, as on KVM. */
	for (i = 0; i < xcrs->nr_xcrs; i++)
		if (xcrs->xcrs[i].xcr == XCR_XFEATURE_ENABLED_MASK)
			return lapicv_set_xcr(vcpu, XCR_XFEATURE_ENABLED_MASK,
					      xcrs->xcrs[i].value);
	return 0;
}

u32 lapicv_xstate_size(u64 xcr0, bool compacted)
{
	u32 size = 576, eax, ebx, ecx, edx, offset;
	int i;

	/* Past the legacy area and the header: the extended components. */
	for (i = XFEATURE_YMM; i < 64; i++) {
		if (!(xcr0 & BIT_ULL(i)))
			continue;
		cpuid_count(0xd, i, &eax, &ebx, &ecx, &edx);
		if (compacted)
			offset = ecx & 2 ? ALIGN(size, 64) : size;
		else
			offset = ebx;
		size = max(size, offset + eax);
	}
	return size;
}
