// SPDX-License-Identifier: GPL-2.0-only
/*
 * AMD SVM for the vCPU runner: owning EFER.SVME, the VMCB, one VMRUN.
 *
 * Ownership.  EFER.SVME is a per-CPU switch that one hypervisor at a time
 * may own.  lapicv turns it on only while some VM of its own runs guests:
 * lapicv_svm_get() from a VM's first KVM_RUN, lapicv_svm_put() when that
 * VM is destroyed.  The first reference installs a dynamic CPU-hotplug
 * state whose callbacks turn SVM on (set SVME, point MSR_VM_HSAVE_PA at
 * the CPU's save area) on every online CPU and on each CPU that comes
 * online, and off on each CPU that goes offline; the last reference
 * removes the state, turning SVM off everywhere.  A CPU whose EFER.SVME
 * is already set belongs to someone else (kvm_amd with its default
 * enable_virt_at_load=1): the hotplug core rolls back the CPUs already
 * done and KVM_RUN returns -EBUSY.  lapicv never registers the kernel's
 * emergency-virtualization callback: it has one slot, and taking it
 * would make a later kvm_amd warn; a reboot notifier turns SVM off
 * instead, and syscore callbacks turn it off for suspend and back on at
 * resume.
 *
 * Entering the guest.  lapicv_svm_enter() follows the order KVM uses:
 * interrupts off, check that SVM is still on here, CLGI (GIF=0 holds off
 * interrupts and NMIs), interrupts on (so that a host interrupt in guest
 * mode exits the guest), VMRUN in vmenter.S, interrupts off, STGI (a
 * pending NMI is taken here), the host's #MC handler if a machine check
 * made the exit, interrupts on (pending IRQs are taken).
 * vmenter.S saves the host's FS/GS/TR/LDTR and syscall MSRs with VMSAVE
 * to a per-CPU page before VMRUN and reloads them with VMLOAD right after,
 * before anything touches per-CPU data through GS.
 *
 * On hosts with memory encryption (SME) the runner stays off (one log
 * line at load, KVM_RUN -ENODEV): it hands the CPU physical addresses
 * without the C-bit.
 *
 * The guest's TLB is flushed on demand, as KVM's pre_svm_run() and
 * new_asid() do it: each CPU hands out ASIDs 1..max in generations, and
 * a vCPU keeps its ASID while it runs on the same CPU in the same
 * generation.  A vCPU that moved to another CPU takes a new ASID there;
 * when a CPU runs out, its generation moves on and the next VMRUN
 * flushes every ASID (TLB_CONTROL_FLUSH_ALL_ASID), so a newly handed out
 * ASID never holds another vCPU's translations.  A CPU starts a new
 * generation whenever SVM is turned on there (another hypervisor may have
 * used the ASIDs meanwhile).  A flush of one vCPU's TLB
 * (lapicv_svm_flush_tlb(), and the VM's nested-table flush count in the
 * gate, see npt.c) is TLB_CONTROL_FLUSH_ASID with FlushByAsid, else a
 * new ASID.
 *
 * TSC_AUX: the guest's is 0 (it cannot write it: every MSR is
 * intercepted), the host's holds the CPU and node numbers for getcpu().
 * Where the host's is not 0, the first entry on a CPU writes 0 and
 * registers a user-return notifier that writes the host's back when
 * any task returns to user mode on that CPU, or when SVM is turned off
 * there (KVM's kvm_set_user_return_msr()): no MSR write for exits the
 * module handles.  The kernel itself never reads TSC_AUX (its paranoid
 * entry finds the CPU number without RDPID, for KVM's sake).
 *
 * Every I/O port and every MSR is intercepted (one shared all-ones map
 * each); RDTSC is not, so the guest reads the host's TSC (tsc_offset 0).
 *
 * Lock card:
 *
 * svm_lock
 *	:Type:     mutex
 *	:Protects: svm_users, svm_hp_state, the notifier and syscore
 *	           registrations, and the holder's flag lapicv_svm_get()
 *	           sets (lapicv_vm.svm_held).
 *	:Order:    a leaf among lapicv's locks (the CPU-hotplug lock and
 *	           the reboot-notifier lock are taken inside it); taken
 *	           inside lapicv_vcpu.mutex (a VM's first KVM_RUN) and by VM
 *	           destruction with no lock held.
 *
 * struct svm_cpu (per CPU)
 *	:Written:  on its own CPU only, by the hotplug callbacks, the
 *	           reboot notifier's IPIs and the syscore callbacks, with
 *	           interrupts off.
 *	           lapicv_svm_enter() reads it on its CPU with interrupts off,
 *	           and hands out ASIDs and loads the guest's TSC_AUX there
 *	           with interrupts off; the user-return notifier restores
 *	           TSC_AUX on its CPU with interrupts off.
 *	           current_vmcb: set by lapicv_svm_enter() on its CPU with
 *	           interrupts off; cleared with cmpxchg() from any CPU by
 *	           lapicv_svm_vcpu_free() (the VMCB no longer runs).
 */
#include <linux/cc_platform.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/reboot.h>
#include <linux/sched/signal.h>
#include <linux/smp.h>
#include <linux/syscore_ops.h>
#include <linux/user-return-notifier.h>

#include <asm/cpufeature.h>
#include <asm/debugreg.h>
#include <asm/io.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/fpu/xstate.h>
#include <asm/mce.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/pkru.h>
#include <asm/processor.h>
#include <asm/svm.h>
#include <asm/tlbflush.h>

#include "compat.h"
#include "svm.h"

/* 12 KiB of I/O permission map and 8 KiB of MSR permission map. */
#define SVM_IOPM_ORDER		2
#define SVM_MSRPM_ORDER		1

/* The guest's PAT at RESET, and its debug registers. */
#define SVM_RESET_PAT		0x0007040600070406ULL
#define SVM_RESET_DR6		0xffff0ff0ULL
#define SVM_RESET_DR7		0x400ULL
/* CR0 at RESET: CD | NW | ET. */
#define SVM_RESET_CR0		0x60000010ULL
/* System-segment types of LDTR and TR at RESET. */
#define SVM_SEG_TYPE_LDT	2
#define SVM_SEG_TYPE_BUSY_TSS16	3
/* ASID 0 belongs to the host; the guests' are 1..svm_max_asid. */
#define SVM_MIN_ASID		1

#if !IS_ENABLED(CONFIG_USER_RETURN_NOTIFIER)
#error "lapicv's runner needs CONFIG_USER_RETURN_NOTIFIER (as KVM does)"
#endif

struct svm_cpu {
	/* MSR_VM_HSAVE_PA: where VMRUN keeps host state. */
	struct page *hsave;
	/* VMSAVE/VMLOAD of the host's FS/GS/TR/LDTR and MSRs around VMRUN. */
	struct page *host_state;
	/* lapicv set EFER.SVME on this CPU and owns it. */
	bool enabled;
	/*
	 * The VMCB that last ran here: a different one gets an IBPB first,
	 * as KVM's svm_vcpu_load() gives it.  Cleared from every CPU when
	 * the VMCB is freed, so that a new VMCB at its address gets one.
	 */
	struct vmcb *current_vmcb;
	/*
	 * ASIDs: the current generation (never 0: a vCPU's 0 means none)
	 * and the next ASID to hand out in it (past svm_max_asid: none
	 * left, the next one starts a new generation).
	 */
	u64 asid_gen;
	unsigned int next_asid;
	/* The host's TSC_AUX, read when SVM was turned on here. */
	u64 host_tsc_aux;
	/* The guest's TSC_AUX is loaded and urn registered until restored. */
	bool tsc_aux_guest;
	struct user_return_notifier urn;
};

static DEFINE_PER_CPU(struct svm_cpu, svm_cpus);

static DEFINE_MUTEX(svm_lock);
static unsigned int svm_users;
static int svm_hp_state;
static bool svm_has_cpu;
static unsigned int svm_max_asid;
/* XCR0 as the kernel set it, read at load (KVM's kvm_host.xcr0). */
static u64 svm_host_xcr0;
static struct page *svm_iopm, *svm_msrpm;

u64 lapicv_svm_host_xcr0(void)
{
	return svm_host_xcr0;
}

int lapicv_svm_supported(void)
{
	return svm_has_cpu ? 0 : -ENODEV;
}

/* ---- per-CPU on and off ---- */

/* The host's TSC_AUX back, on the CPU that loaded the guest's. */
static void svm_restore_tsc_aux(struct svm_cpu *c)
{
	if (!c->tsc_aux_guest)
		return;
	c->tsc_aux_guest = false;
	user_return_notifier_unregister(&c->urn);
	wrmsrl(MSR_TSC_AUX, c->host_tsc_aux);
}

static void svm_on_user_return(struct user_return_notifier *urn)
{
	unsigned long flags;

	local_irq_save(flags);
	svm_restore_tsc_aux(container_of(urn, struct svm_cpu, urn));
	local_irq_restore(flags);
}

static int svm_cpu_enable(void)
{
	struct svm_cpu *c = this_cpu_ptr(&svm_cpus);
	u64 efer;

	lockdep_assert_irqs_disabled();
	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME)
		return -EBUSY;
	wrmsrl(MSR_EFER, efer | EFER_SVME);
	wrmsrl(MSR_VM_HSAVE_PA, page_to_phys(c->hsave));
	/* Whoever had SVM here may have left translations in any ASID. */
	c->asid_gen++;
	c->next_asid = svm_max_asid + 1;
	c->host_tsc_aux = 0;
	if (boot_cpu_has(X86_FEATURE_RDTSCP) || boot_cpu_has(X86_FEATURE_RDPID))
		rdmsrl(MSR_TSC_AUX, c->host_tsc_aux);
	c->urn.on_user_return = svm_on_user_return;
	c->enabled = true;
	return 0;
}

static void svm_cpu_disable(void)
{
	struct svm_cpu *c = this_cpu_ptr(&svm_cpus);
	u64 efer;

	lockdep_assert_irqs_disabled();
	if (!c->enabled)
		return;
	c->enabled = false;
	svm_restore_tsc_aux(c);
	wrmsrl(MSR_VM_HSAVE_PA, 0);
	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME) {
		/* GIF must be 1 when SVM goes, or nothing interrupts us. */
		asm volatile("stgi" ::: "memory");
		wrmsrl(MSR_EFER, efer & ~EFER_SVME);
	}
}

static int svm_cpu_online(unsigned int cpu)
{
	unsigned long flags;
	int r;

	local_irq_save(flags);
	r = svm_cpu_enable();
	local_irq_restore(flags);
	/* Each VM's first KVM_RUN tries again: no log flood from a VMM. */
	if (r)
		pr_warn_ratelimited("lapicv: SVM is in use by another hypervisor on CPU%u (kvm_amd loaded with enable_virt_at_load=1?): KVM_RUN refused\n",
				    cpu);
	return r;
}

static int svm_cpu_offline(unsigned int cpu)
{
	unsigned long flags;

	local_irq_save(flags);
	svm_cpu_disable();
	local_irq_restore(flags);
	return 0;
}

static void svm_cpu_disable_ipi(void *unused)
{
	svm_cpu_disable();
}

/* Reboot or power off: SVM off on every CPU before the machine goes. */
static int svm_reboot(struct notifier_block *nb, unsigned long action,
		      void *data)
{
	on_each_cpu(svm_cpu_disable_ipi, NULL, 1);
	return NOTIFY_OK;
}

static struct notifier_block svm_reboot_nb = {
	.notifier_call = svm_reboot,
};

/*
 * Suspend and hibernation, as KVM's kvm_suspend() and kvm_resume(): the
 * syscore callbacks run on the one CPU left online (the others went
 * through the hotplug callbacks) with interrupts off and every task
 * frozen, so no vCPU can enter a guest before SVM is back, with the save
 * area pointer that did not survive.  Registered only while lapicv owns
 * SVM.
 */
static int svm_suspend(LAPICV_SYSCORE_ARGS)
{
	svm_cpu_disable();
	return 0;
}

static void svm_resume(LAPICV_SYSCORE_ARGS)
{
	if (svm_cpu_enable())
		pr_warn("lapicv: SVM taken by another hypervisor during suspend: KVM_RUN will fail\n");
}

static struct syscore_ops svm_syscore_ops = {
	.suspend = svm_suspend,
	.resume = svm_resume,
};

LAPICV_DEFINE_SYSCORE(svm_syscore, svm_syscore_ops);

int lapicv_svm_get(bool *held)
{
	int r = 0;

	if (!svm_has_cpu)
		return -ENODEV;
	mutex_lock(&svm_lock);
	if (*held)
		goto out;
	if (svm_users) {
		svm_users++;
		WRITE_ONCE(*held, true);
		goto out;
	}
	r = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "lapicv/svm:online",
			      svm_cpu_online, svm_cpu_offline);
	if (r < 0)
		goto out;
	svm_hp_state = r;
	r = 0;
	register_reboot_notifier(&svm_reboot_nb);
	lapicv_register_syscore(svm_syscore);
	svm_users = 1;
	WRITE_ONCE(*held, true);
out:
	mutex_unlock(&svm_lock);
	return r;
}

void lapicv_svm_put(void)
{
	mutex_lock(&svm_lock);
	if (!--svm_users) {
		lapicv_unregister_syscore(svm_syscore);
		unregister_reboot_notifier(&svm_reboot_nb);
		cpuhp_remove_state(svm_hp_state);
	}
	mutex_unlock(&svm_lock);
}

/* ---- the VMCB ---- */

static void svm_set_intercept(struct vmcb_control_area *c, unsigned int bit)
{
	c->intercepts[bit / 32] |= BIT(bit % 32);
}

static void svm_clr_intercept(struct vmcb_control_area *c, unsigned int bit)
{
	c->intercepts[bit / 32] &= ~BIT(bit % 32);
}

static bool svm_is_intercept(const struct vmcb_control_area *c,
			     unsigned int bit)
{
	return c->intercepts[bit / 32] & BIT(bit % 32);
}

void lapicv_svm_set_cr0(struct lapicv_svm_vcpu *svm, u64 cr0)
{
	struct vmcb_control_area *c = &svm->vmcb->control;
	u64 hcr0 = cr0 & ~(X86_CR0_CD | X86_CR0_NW);

	/* Paging or write protection changed: KVM's MMU reset flushes. */
	if ((cr0 ^ svm->cr0) & (X86_CR0_PG | X86_CR0_WP))
		lapicv_svm_flush_tlb(svm);
	svm->cr0 = cr0;
	svm->vmcb->save.cr0 = hcr0;
	/*
	 * The guest must read its own CD and NW: intercepted while the
	 * CPU's differ.  The selective CR0 write intercept stays on.
	 */
	if (hcr0 == cr0) {
		svm_clr_intercept(c, INTERCEPT_CR0_READ);
		svm_clr_intercept(c, INTERCEPT_CR0_WRITE);
	} else {
		svm_set_intercept(c, INTERCEPT_CR0_READ);
		svm_set_intercept(c, INTERCEPT_CR0_WRITE);
	}
}

void lapicv_svm_set_cr4(struct lapicv_svm_vcpu *svm, u64 cr4)
{
	/*
	 * Every CR4 write is intercepted, so the CPU's own flush for PGE,
	 * PCIDE, PAE or SMEP never happens: any change flushes (a superset
	 * of KVM's kvm_post_set_cr4(); CR4 writes are rare).
	 */
	if (cr4 != svm->cr4)
		lapicv_svm_flush_tlb(svm);
	svm->cr4 = cr4;
	/*
	 * A machine check in guest mode is the host's (#MC is
	 * intercepted); with CR4.MCE clear it would shut the CPU down.
	 */
	svm->vmcb->save.cr4 = cr4 | (cr4_read_shadow() & X86_CR4_MCE);
}

void lapicv_svm_flush_tlb(struct lapicv_svm_vcpu *svm)
{
	if (boot_cpu_has(X86_FEATURE_FLUSHBYASID))
		svm->vmcb->control.tlb_ctl = TLB_CONTROL_FLUSH_ASID;
	else
		svm->asid_gen = 0;
}

void lapicv_svm_set_cr8_intercept(struct lapicv_svm_vcpu *svm, bool on)
{
	if (on)
		svm_set_intercept(&svm->vmcb->control, INTERCEPT_CR8_WRITE);
	else
		svm_clr_intercept(&svm->vmcb->control, INTERCEPT_CR8_WRITE);
}

bool lapicv_svm_cr8_intercepted(const struct lapicv_svm_vcpu *svm)
{
	return svm_is_intercept(&svm->vmcb->control, INTERCEPT_CR8_WRITE);
}

static void svm_init_seg(struct vmcb_seg *s, u16 attrib)
{
	s->selector = 0;
	s->attrib = attrib;
	s->limit = 0xffff;
	s->base = 0;
}

int lapicv_svm_vcpu_create(struct lapicv_svm_vcpu *svm)
{
	struct page *page;

	page = alloc_page(GFP_KERNEL_ACCOUNT);
	if (!page)
		return -ENOMEM;
	if (!fpu_alloc_guest_fpstate(&svm->fpu)) {
		__free_page(page);
		return -ENOMEM;
	}
	svm->vmcb = page_address(page);
	svm->vmcb_pa = page_to_phys(page);
	svm->cpu = -1;
	lapicv_svm_vcpu_reset(svm);
	return 0;
}

void lapicv_svm_vcpu_reset(struct lapicv_svm_vcpu *svm)
{
	static const unsigned int intercepts[] = {
		INTERCEPT_INTR, INTERCEPT_NMI, INTERCEPT_SMI, INTERCEPT_RDPMC,
		INTERCEPT_CPUID, INTERCEPT_RSM, INTERCEPT_INVD, INTERCEPT_HLT,
		INTERCEPT_INVLPGA, INTERCEPT_IOIO_PROT, INTERCEPT_MSR_PROT,
		INTERCEPT_TASK_SWITCH, INTERCEPT_FERR_FREEZE,
		INTERCEPT_SHUTDOWN, INTERCEPT_VMRUN, INTERCEPT_VMMCALL,
		INTERCEPT_VMLOAD, INTERCEPT_VMSAVE, INTERCEPT_STGI,
		INTERCEPT_CLGI, INTERCEPT_SKINIT, INTERCEPT_WBINVD,
		INTERCEPT_MONITOR, INTERCEPT_MWAIT, INTERCEPT_XSETBV,
		INTERCEPT_RDPRU, INTERCEPT_CR4_READ, INTERCEPT_CR4_WRITE,
		INTERCEPT_SELECTIVE_CR0,
	};
	struct vmcb_control_area *c;
	struct vmcb_save_area *s;
	int i;

	clear_page(svm->vmcb);
	memset(svm->gprs, 0, sizeof(svm->gprs));
	svm->pkru = 0;
	/* x87 only, as KVM's kvm_vcpu_reset() sets it at RESET. */
	svm->xcr0 = XFEATURE_MASK_FP;

	c = &svm->vmcb->control;
	for (i = 0; i < ARRAY_SIZE(intercepts); i++)
		svm_set_intercept(c, intercepts[i]);
	/* Every debug register: the guest's DR0-3 are never loaded. */
	c->intercepts[INTERCEPT_DR] = 0x00ff00ff;
	/*
	 * Machine checks belong to the host.  #AC and #DB are reflected
	 * to the guest (run.c's exit handler): an #AC or #DB
	 * raised while the CPU delivers the same exception would
	 * otherwise loop in microcode, never exiting (CVE-2015-5307,
	 * CVE-2015-8104); intercepted, each one is a #VMEXIT.
	 */
	c->intercepts[INTERCEPT_EXCEPTION] = BIT(MC_VECTOR) | BIT(AC_VECTOR) |
					     BIT(DB_VECTOR);
	c->iopm_base_pa = svm_iopm ? page_to_phys(svm_iopm) : 0;
	c->msrpm_base_pa = svm_msrpm ? page_to_phys(svm_msrpm) : 0;
	/* A new ASID at the next entry: nothing of the old guest is kept. */
	svm->asid_gen = 0;
	c->int_ctl = V_INTR_MASKING_MASK;
	c->nested_ctl = SVM_NESTED_CTL_NP_ENABLE;

	/* The architectural RESET state, as KVM's init_vmcb() sets it. */
	s = &svm->vmcb->save;
	svm_init_seg(&s->es, SVM_SELECTOR_P_MASK | SVM_SELECTOR_S_MASK |
			     SVM_SELECTOR_WRITE_MASK);
	s->ss = s->es;
	s->ds = s->es;
	s->fs = s->es;
	s->gs = s->es;
	svm_init_seg(&s->cs, SVM_SELECTOR_P_MASK | SVM_SELECTOR_S_MASK |
			     SVM_SELECTOR_CODE_MASK | SVM_SELECTOR_READ_MASK);
	s->cs.selector = 0xf000;
	s->cs.base = 0xffff0000;
	svm_init_seg(&s->gdtr, 0);
	svm_init_seg(&s->idtr, 0);
	svm_init_seg(&s->ldtr, SVM_SELECTOR_P_MASK | SVM_SEG_TYPE_LDT);
	svm_init_seg(&s->tr, SVM_SELECTOR_P_MASK | SVM_SEG_TYPE_BUSY_TSS16);
	s->efer = EFER_SVME;
	lapicv_svm_set_cr0(svm, SVM_RESET_CR0);
	lapicv_svm_set_cr4(svm, 0);
	s->dr6 = SVM_RESET_DR6;
	s->dr7 = SVM_RESET_DR7;
	s->rflags = X86_EFLAGS_FIXED;
	s->rip = 0xfff0;
	s->g_pat = SVM_RESET_PAT;
	/* RDX at RESET: the family/model/stepping KVM reports without CPUID. */
	svm->gprs[LAPICV_RDX] = 0x600;
}

void lapicv_svm_vcpu_free(struct lapicv_svm_vcpu *svm)
{
	int cpu;

	if (!svm->vmcb)
		return;
	for_each_possible_cpu(cpu)
		cmpxchg(&per_cpu_ptr(&svm_cpus, cpu)->current_vmcb, svm->vmcb,
			NULL);
	fpu_free_guest_fpstate(&svm->fpu);
	free_page((unsigned long)svm->vmcb);
	svm->vmcb = NULL;
}

void lapicv_svm_vcpu_init(struct lapicv_svm_vcpu *svm, unsigned long rdx)
{
	struct vmcb_save_area *s = &svm->vmcb->save;
	u64 cd_nw = svm->cr0 & (X86_CR0_CD | X86_CR0_NW);
	u64 pat = s->g_pat, xcr0 = svm->xcr0;

	/*
	 * INIT is RESET except for what KVM's kvm_vcpu_reset(init_event)
	 * keeps: CR0.CD/NW, the PAT and XCR0 (EFER goes, as on KVM).
	 */
	lapicv_svm_vcpu_reset(svm);
	svm->xcr0 = xcr0;
	lapicv_svm_set_cr0(svm, (svm->cr0 & ~(X86_CR0_CD | X86_CR0_NW)) |
			   cd_nw);
	s->g_pat = pat;
	svm->gprs[LAPICV_RDX] = rdx;
}

void lapicv_svm_sipi(struct lapicv_svm_vcpu *svm, u8 vector)
{
	struct vmcb_save_area *s = &svm->vmcb->save;

	s->cs.selector = vector << 8;
	s->cs.base = (u64)vector << 12;
	s->rip = 0;
}

void lapicv_svm_inject(struct lapicv_svm_vcpu *svm, u32 event_inj, u32 err)
{
	svm->vmcb->control.event_inj = event_inj;
	svm->vmcb->control.event_inj_err = err;
}

void lapicv_svm_set_irq_window(struct lapicv_svm_vcpu *svm, bool open)
{
	struct vmcb_control_area *c = &svm->vmcb->control;

	/*
	 * KVM's svm_set_vintr(): a dummy virtual interrupt of the highest
	 * priority, ignoring V_TPR, whose acceptance (RFLAGS.IF set, no
	 * shadow) exits with VINTR before any vector is taken.
	 */
	c->int_ctl &= ~(V_IRQ_MASK | V_INTR_PRIO_MASK | V_IGN_TPR_MASK);
	c->int_vector = 0;
	if (open) {
		c->int_ctl |= V_IRQ_MASK | V_IGN_TPR_MASK |
			      (0xf << V_INTR_PRIO_SHIFT);
		svm_set_intercept(c, INTERCEPT_VINTR);
	} else {
		svm_clr_intercept(c, INTERCEPT_VINTR);
	}
}

void lapicv_svm_set_iret_intercept(struct lapicv_svm_vcpu *svm, bool on)
{
	struct vmcb_control_area *c = &svm->vmcb->control;

	if (on)
		svm_set_intercept(c, INTERCEPT_IRET);
	else
		svm_clr_intercept(c, INTERCEPT_IRET);
}

void lapicv_svm_skip(struct lapicv_svm_vcpu *svm, unsigned int len)
{
	struct vmcb *vmcb = svm->vmcb;

	if (boot_cpu_has(X86_FEATURE_NRIPS) && vmcb->control.next_rip)
		vmcb->save.rip = vmcb->control.next_rip;
	else
		vmcb->save.rip += len;
	/* The instruction completed: no STI/MOV SS shadow is left. */
	vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
}

/*
 * A machine check the CPU took in guest mode is the host's: run its
 * handler here, still on the CPU that took it and with interrupts off,
 * as if it had interrupted user mode (KVM's kvm_machine_check()).
 */
static void svm_machine_check(void)
{
	struct pt_regs regs = {
		.cs = 3,
		.flags = X86_EFLAGS_IF,
	};

	if (IS_ENABLED(CONFIG_X86_MCE))
		do_machine_check(&regs);
}

/*
 * The vCPU's ASID and TLB control for this VMRUN (KVM's pre_svm_run()),
 * on @cpu with interrupts off, after the look at the VM's flush count
 * @tlb_gen (see the gate in svm.h).
 */
static void svm_prepare_tlb(struct lapicv_svm_vcpu *svm, struct svm_cpu *cpu,
			    unsigned long tlb_gen)
{
	struct vmcb_control_area *c = &svm->vmcb->control;
	int me = smp_processor_id();

	if (svm->tlb_gen != tlb_gen) {
		svm->tlb_gen = tlb_gen;
		lapicv_svm_flush_tlb(svm);
	}
	/* Its ASID on the CPU it last ran on may be another vCPU's here. */
	if (svm->cpu != me) {
		svm->cpu = me;
		svm->asid_gen = 0;
	}
	if (svm->asid_gen == cpu->asid_gen)
		return;
	if (cpu->next_asid > svm_max_asid) {
		cpu->asid_gen++;
		cpu->next_asid = SVM_MIN_ASID;
		c->tlb_ctl = TLB_CONTROL_FLUSH_ALL_ASID;
	}
	svm->asid_gen = cpu->asid_gen;
	c->asid = cpu->next_asid++;
}

int lapicv_svm_enter(struct lapicv_svm_vcpu *svm, u64 nested_cr3,
		     const struct lapicv_svm_gate *gate)
{
	bool pkru = cpu_feature_enabled(X86_FEATURE_OSPKE);
	bool guest_pkru = pkru && ((svm->cr4 & X86_CR4_PKE) ||
				   (svm->xcr0 & XFEATURE_MASK_PKRU));
	bool xcr0 = (svm->cr4 & X86_CR4_OSXSAVE) && svm->xcr0 != svm_host_xcr0;
	struct vmcb *vmcb = svm->vmcb;
	u32 host_pkru = 0;
	struct svm_cpu *cpu;
	int failed;

	vmcb->control.nested_cr3 = nested_cr3;
	/* Nothing is cached across VMRUNs: the CPU reloads every field. */
	vmcb->control.clean = 0;

	local_irq_disable();
	cpu = this_cpu_ptr(&svm_cpus);
	if (!cpu->enabled) {
		/* Turned off for a reboot since this VM took its reference. */
		local_irq_enable();
		return -EIO;
	}
	/* The guest's FPU registers, if a context switch put them away. */
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();
	/* Another guest's branch predictions must not steer this one. */
	if (cpu->current_vmcb != vmcb) {
		cpu->current_vmcb = vmcb;
		if (!cpu_feature_enabled(X86_FEATURE_IBPB_ON_VMEXIT))
			indirect_branch_prediction_barrier();
	}

	/*
	 * In guest mode from here: a sender that sets its reason and then
	 * sees this CPU sends a reschedule IPI, which makes the guest exit;
	 * one that set it before this store is seen by the check below.  The
	 * gate's check also covers a signal or a reschedule IPI that came
	 * since the run loop looked and left only its flag (KVM's
	 * kvm_vcpu_exit_request(), with interrupts off).
	 */
	smp_store_mb(*gate->guest_cpu, smp_processor_id());
	if (gate->has_work(gate->opaque)) {
		WRITE_ONCE(*gate->guest_cpu, -1);
		local_irq_enable();
		return -EAGAIN;
	}
	svm_prepare_tlb(svm, cpu, READ_ONCE(*gate->tlb_gen));
	/*
	 * Pending in the local APIC until the guest runs: the CPU delivers
	 * EVENTINJ first, then takes the interrupt as an INTR exit.
	 */
	if (gate->immediate_exit)
		lapicv_send_reschedule(smp_processor_id());

	asm volatile("clgi" ::: "memory");
	/*
	 * The guest's XCR0, for its XSAVE family and the features it
	 * enabled (KVM's kvm_load_guest_xsave_state()); the FPU swap
	 * restored its registers under the host's, a superset.
	 */
	if (xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, svm->xcr0);
	/*
	 * PKRU is not part of the state fpu_swap_kvm_fpstate() switches, and
	 * a guest with CR4.PKE writes it with WRPKRU: the guest's in, and
	 * the host's back after #VMEXIT (KVM's kvm_load_guest_xsave_state()
	 * and kvm_load_host_xsave_state()).  As on KVM, only for a guest
	 * that can use it (CR4.PKE or PKRU in its XCR0): WRPKRU is not free,
	 * and under QEMU's TCG it flushes the whole TLB.
	 */
	if (pkru) {
		host_pkru = rdpkru();
		if (guest_pkru && svm->pkru != host_pkru)
			wrpkru(svm->pkru);
	}
	/*
	 * The host's TSC_AUX (its CPU and node numbers, for getcpu()) is
	 * not the guest's business: RDTSCP and RDPID read 0 there, KVM's
	 * value for a guest that never wrote it.  Loaded once, restored at
	 * the return to user mode (see the top of the file).
	 */
	if (cpu->host_tsc_aux && !cpu->tsc_aux_guest) {
		wrmsrl(MSR_TSC_AUX, 0);
		user_return_notifier_register(&cpu->urn);
		cpu->tsc_aux_guest = true;
	}
	raw_local_irq_enable();
	/* No host division result may leak into the guest (AMD DIV0). */
	amd_clear_divider();
	failed = lapicv_svm_vmrun(svm->gprs, svm->vmcb_pa,
				  page_to_phys(cpu->host_state));
	raw_local_irq_disable();
	/*
	 * A VMRUN that faulted or refused the state may not have flushed:
	 * the flush is asked for again (a new ASID, and a new generation
	 * if it was the flush of every ASID).
	 */
	if (failed || vmcb->control.exit_code == (u32)SVM_EXIT_ERR) {
		if (vmcb->control.tlb_ctl == TLB_CONTROL_FLUSH_ALL_ASID)
			cpu->next_asid = svm_max_asid + 1;
		svm->asid_gen = 0;
	}
	vmcb->control.tlb_ctl = TLB_CONTROL_DO_NOTHING;
	if (pkru) {
		u32 cur = rdpkru();

		if (guest_pkru)
			svm->pkru = cur;
		/*
		 * Looked at even when the guest could not use it: a CPU that
		 * lets XSETBV through (QEMU's) lets it XRSTOR PKRU anyway.
		 */
		if (cur != host_pkru)
			wrpkru(host_pkru);
	}
	/*
	 * The host's XCR0 back.  Compared with the CPU's, not with the one
	 * the guest was given: a CPU that does not intercept XSETBV (QEMU's
	 * SVM) lets the guest change it unseen.
	 */
	if ((svm->cr4 & X86_CR4_OSXSAVE) &&
	    xgetbv(XCR_XFEATURE_ENABLED_MASK) != svm_host_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, svm_host_xcr0);
	/* Out of guest mode before any interrupt can run here. */
	WRITE_ONCE(*gate->guest_cpu, -1);
	asm volatile("stgi" ::: "memory");

	/* #VMEXIT left DR7 at its reset value: give the host its own back. */
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
	/*
	 * The VMM's userspace must not use branch predictions the guest
	 * trained (VMSCAPE): an IBPB before this CPU returns to user mode.
	 */
	if (cpu_feature_enabled(X86_FEATURE_IBPB_EXIT_TO_USER))
		this_cpu_write(x86_ibpb_exit_to_user, true);
	if (!failed && vmcb->control.exit_code == SVM_EXIT_EXCP_BASE + MC_VECTOR)
		svm_machine_check();
	local_irq_enable();

	if (failed)
		return -EIO;
	/* CR0 writes the CPU let through (KVM's svm_handle_exit()). */
	if (!svm_is_intercept(&vmcb->control, INTERCEPT_CR0_WRITE))
		svm->cr0 = vmcb->save.cr0;
	return 0;
}

/* ---- module load and unload ---- */

static void svm_free_cpu_pages(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct svm_cpu *c = per_cpu_ptr(&svm_cpus, cpu);

		if (c->hsave)
			__free_page(c->hsave);
		if (c->host_state)
			__free_page(c->host_state);
		c->hsave = NULL;
		c->host_state = NULL;
	}
}

int lapicv_svm_init(void)
{
	int cpu;

	if (!boot_cpu_has(X86_FEATURE_SVM) || !boot_cpu_has(X86_FEATURE_NPT)) {
		pr_info("lapicv: no SVM with nested paging: KVM_RUN unavailable\n");
		return 0;
	}
	/*
	 * With memory encryption (SME, mem_encrypt=on) every physical
	 * address given to the CPU (save areas, VMCB, permission maps,
	 * nested tables) would need the C-bit; the runner sets none.
	 */
	if (cc_platform_has(CC_ATTR_MEM_ENCRYPT)) {
		pr_info("lapicv: host memory encryption is active: KVM_RUN unavailable\n");
		return 0;
	}
	svm_iopm = alloc_pages(GFP_KERNEL, SVM_IOPM_ORDER);
	svm_msrpm = alloc_pages(GFP_KERNEL, SVM_MSRPM_ORDER);
	if (!svm_iopm || !svm_msrpm)
		goto nomem;
	/* All ones: every port and every MSR exits. */
	memset(page_address(svm_iopm), 0xff, PAGE_SIZE << SVM_IOPM_ORDER);
	memset(page_address(svm_msrpm), 0xff, PAGE_SIZE << SVM_MSRPM_ORDER);
	for_each_possible_cpu(cpu) {
		struct svm_cpu *c = per_cpu_ptr(&svm_cpus, cpu);

		c->hsave = alloc_pages_node(cpu_to_node(cpu),
					    GFP_KERNEL | __GFP_ZERO, 0);
		c->host_state = alloc_pages_node(cpu_to_node(cpu),
						 GFP_KERNEL | __GFP_ZERO, 0);
		if (!c->hsave || !c->host_state)
			goto nomem;
	}
	if (boot_cpu_has(X86_FEATURE_OSXSAVE))
		svm_host_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	/* CPUID Fn8000_000A EBX: the number of ASIDs, 0 included. */
	svm_max_asid = max_t(u32, cpuid_ebx(SVM_CPUID_FUNC), SVM_MIN_ASID + 1) - 1;
	svm_has_cpu = true;
	return 0;

nomem:
	svm_free_cpu_pages();
	if (svm_iopm)
		__free_pages(svm_iopm, SVM_IOPM_ORDER);
	if (svm_msrpm)
		__free_pages(svm_msrpm, SVM_MSRPM_ORDER);
	svm_iopm = NULL;
	svm_msrpm = NULL;
	return -ENOMEM;
}

void lapicv_svm_exit(void)
{
	/* Every VM is gone (each fd pins the module): SVM is off. */
	svm_free_cpu_pages();
	if (svm_iopm)
		__free_pages(svm_iopm, SVM_IOPM_ORDER);
	if (svm_msrpm)
		__free_pages(svm_msrpm, SVM_MSRPM_ORDER);
}
