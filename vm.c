// SPDX-License-Identifier: GPL-2.0-only
/*
 * VM and vCPU fds: lifetimes, KVM-compatible ioctl dispatch, and all
 * copying to and from userspace.
 *
 * Lifetimes follow KVM: the VM fd and every vCPU fd hold a reference on the
 * VM; vCPUs are destroyed with the VM when the last reference goes.  Each
 * fd's file_operations carry THIS_MODULE, so the module cannot be unloaded
 * while any fd is open.
 *
 * Errnos follow KVM 6.12 on x86, including its choices for unknown ioctls:
 * -EINVAL on the system and vCPU fds, -ENOTTY on the VM fd, and -EIO for any
 * ioctl from a process other than the VM's creator.
 */
#include <linux/anon_inodes.h>
#include <linux/cpumask.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/sched/mm.h>
#include <linux/uaccess.h>

#include <asm/cpufeature.h>

#include "apicv.h"
#include "lapic.h"
#include "irq.h"
#include "irq_route.h"
#include "lapicv.h"
#include "npt.h"
#include "run.h"
#include "timer.h"
#include "vapic.h"
#include "vm.h"

long lapicv_check_extension(struct lapicv_vm *vm, unsigned long ext)
{
	switch (ext) {
	case KVM_CAP_SPLIT_IRQCHIP:
	case KVM_CAP_CHECK_EXTENSION_VM:
	case KVM_CAP_ENABLE_CAP_VM:
	case KVM_CAP_TSC_DEADLINE_TIMER:	/* timer.c */
	case KVM_CAP_EXT_CPUID:			/* lapic.c, main.c */
	case KVM_CAP_MP_STATE:			/* lapic.c */
	case KVM_CAP_VCPU_EVENTS:		/* events.c */
	case KVM_CAP_USER_MEMORY:		/* vapic.c */
	case KVM_CAP_VAPIC:			/* vapic.c */
	case KVM_CAP_READONLY_MEM:		/* vapic.c */
		return 1;
	case KVM_CAP_NR_MEMSLOTS:		/* vapic.c */
		return LAPICV_USER_MEM_SLOTS;
	case KVM_CAP_MULTI_ADDRESS_SPACE:	/* vapic.c */
		return LAPICV_MEM_ADDRESS_SPACES;
	case KVM_CAP_NR_VCPUS:
		return min_t(unsigned int, num_online_cpus(), LAPICV_MAX_VCPUS);
	case KVM_CAP_MAX_VCPUS:
		return LAPICV_MAX_VCPUS;
	case KVM_CAP_MAX_VCPU_ID:
		return LAPICV_MAX_VCPU_IDS;
	case KVM_CAP_SIGNAL_MSI:		/* irq.c */
		return 1;
	case KVM_CAP_IRQ_ROUTING:		/* irq_route.c */
		return LAPICV_MAX_IRQ_ROUTES;
	case KVM_CAP_X2APIC_API:		/* irq.c */
		return LAPICV_X2APIC_API_VALID_FLAGS;
	case KVM_CAP_VM_TYPES:
		/*
		 * Only the default type, as kvm_amd without SEV answers: a
		 * protected APIC is lapicv's own request, never a VM type
		 * another hypervisor gives a meaning (5 is KVM's TDX).
		 */
		return BIT_ULL(KVM_X86_DEFAULT_VM);
	case KVM_CAP_BINARY_STATS_FD:		/* stats.c */
	case KVM_CAP_USER_MEMORY2:		/* vapic.c */
	case KVM_CAP_IRQCHIP:			/* LAPIC only: api.rst */
	case KVM_CAP_SET_BOOT_CPU_ID:		/* lapic.c */
		return 1;
	case KVM_CAP_IMMEDIATE_EXIT:		/* run.c */
	case KVM_CAP_GET_TSC_KHZ:		/* run.c: RDTSC unintercepted */
		return !lapicv_runner_supported();
	case KVM_CAP_X86_APIC_BUS_CYCLES_NS:	/* timer.c: the default period */
		return LAPICV_APIC_BUS_CYCLE_NS;
	case KVM_CAP_XCRS:			/* regs.c */
		return boot_cpu_has(X86_FEATURE_XSAVE);
	default:
		return 0;
	}
}

struct lapicv_vcpu *lapicv_get_vcpu_by_id(struct lapicv_vm *vm, u32 id)
{
	struct lapicv_vcpu *vcpu;
	unsigned int i;

	for (i = 0; (vcpu = lapicv_get_vcpu(vm, i)); i++)
		if (vcpu->vcpu_id == id)
			return vcpu;
	return NULL;
}

static void lapicv_vcpu_free(struct lapicv_vcpu *vcpu)
{
	lapicv_runner_vcpu_free(vcpu);
	lapicv_apicv_vcpu_free(vcpu);
	lapicv_lapic_free(vcpu);
	kfree(vcpu->lapic_buf);
	kfree(vcpu);
}

static void lapicv_vm_destroy(struct lapicv_vm *vm)
{
	struct lapicv_vcpu *vcpu;
	unsigned long idx;

	/* First: the MMU notifier's flush looks at the vCPUs. */
	lapicv_npt_destroy(vm);
	xa_for_each(&vm->vcpus, idx, vcpu)
		lapicv_vcpu_free(vcpu);
	xa_destroy(&vm->vcpus);
	lapicv_apic_map_free(vm);
	lapicv_irq_routing_free(vm);
	lapicv_memslots_destroy(vm);
	if (vm->svm_held)
		lapicv_svm_put();
	mmdrop(vm->mm);
	kfree(vm);
}

void lapicv_vm_put(struct lapicv_vm *vm)
{
	if (refcount_dec_and_test(&vm->users))
		lapicv_vm_destroy(vm);
}

/* ---- vCPU fd ---- */

/* The LAPIC ioctls: copy in and out here, the logic in lapic.c. */

/* KVM's MAX_IO_MSRS: KVM_GET/SET_MSRS take fewer entries than this. */
#define LAPICV_MAX_IO_MSRS	256

static long lapicv_vcpu_get_lapic(struct lapicv_vcpu *vcpu, void __user *argp)
{
	struct kvm_lapic_state *s = vcpu->lapic_buf;
	long r;

	lockdep_assert_held(&vcpu->mutex);
	/* get_state writes every byte of regs, the whole struct. */
	r = lapicv_apic_get_state(vcpu, s);
	if (!r && copy_to_user(argp, s, sizeof(*s)))
		r = -EFAULT;
	return r;
}

static long lapicv_vcpu_set_lapic(struct lapicv_vcpu *vcpu, void __user *argp)
{
	struct kvm_lapic_state *s = vcpu->lapic_buf;

	lockdep_assert_held(&vcpu->mutex);
	if (copy_from_user(s, argp, sizeof(*s)))
		return -EFAULT;
	return lapicv_apic_set_state(vcpu, s);
}

/* Returns how many entries succeeded: the first failure stops the walk. */
static long lapicv_vcpu_msr_io(struct lapicv_vcpu *vcpu,
			       struct kvm_msrs __user *umsrs, bool set)
{
	struct kvm_msr_entry *e;
	struct kvm_msrs msrs;
	size_t size;
	long r;
	u32 i;

	if (copy_from_user(&msrs, umsrs, sizeof(msrs)))
		return -EFAULT;
	if (msrs.nmsrs >= LAPICV_MAX_IO_MSRS)
		return -E2BIG;
	size = sizeof(*e) * msrs.nmsrs;
	e = memdup_user(umsrs->entries, size);
	if (IS_ERR(e))
		return PTR_ERR(e);
	for (i = 0; i < msrs.nmsrs; i++) {
		if (set ? lapicv_set_msr(vcpu, e[i].index, e[i].data, true) :
			  lapicv_get_msr(vcpu, e[i].index, &e[i].data))
			break;
	}
	r = i;
	/* KVM writes every entry back, processed or not. */
	if (!set && copy_to_user(umsrs->entries, e, size))
		r = -EFAULT;
	kfree(e);
	return r;
}

static long lapicv_vcpu_set_cpuid2(struct lapicv_vcpu *vcpu,
				   struct kvm_cpuid2 __user *ucpuid)
{
	struct kvm_cpuid_entry2 *e = NULL;
	struct kvm_cpuid2 cpuid;
	long r;

	if (copy_from_user(&cpuid, ucpuid, sizeof(cpuid)))
		return -EFAULT;
	if (cpuid.nent > LAPICV_MAX_CPUID_ENTRIES)
		return -E2BIG;
	if (cpuid.nent) {
		e = vmemdup_user(ucpuid->entries, sizeof(*e) * cpuid.nent);
		if (IS_ERR(e))
			return PTR_ERR(e);
	}
	r = lapicv_set_cpuid(vcpu, e, cpuid.nent);
	if (r)
		kvfree(e);
	return r;
}

static long lapicv_vcpu_get_cpuid2(struct lapicv_vcpu *vcpu,
				   struct kvm_cpuid2 __user *ucpuid)
{
	const struct kvm_cpuid_entry2 *e;
	struct kvm_cpuid_entry2 *copy;
	struct kvm_cpuid2 cpuid;
	long r = 0;
	u32 nent;

	if (copy_from_user(&cpuid, ucpuid, sizeof(cpuid)))
		return -EFAULT;
	e = lapicv_get_cpuid(vcpu, &nent);
	if (cpuid.nent < nent)
		return -E2BIG;
	/* The table with the bits that follow CR4 and XCR0, as KVM's. */
	copy = kmemdup(e, array_size(nent, sizeof(*e)), GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	lapicv_cpuid_runtime(vcpu, copy, nent);
	cpuid.nent = nent;
	if (copy_to_user(ucpuid->entries, copy, array_size(nent, sizeof(*e))) ||
	    copy_to_user(ucpuid, &cpuid, sizeof(cpuid)))
		r = -EFAULT;
	kfree(copy);
	return r;
}

/* KVM_GET/SET_VCPU_EVENTS: copy in and out here, the logic in events.c. */
static long lapicv_vcpu_events_ioctl(struct lapicv_vcpu *vcpu,
				     unsigned int ioctl, void __user *argp)
{
	struct kvm_vcpu_events e;

	if (ioctl == KVM_GET_VCPU_EVENTS) {
		/* Every byte of e is written, padding and reserved included. */
		lapicv_get_vcpu_events(vcpu, &e);
		return copy_to_user(argp, &e, sizeof(e)) ? -EFAULT : 0;
	}
	if (copy_from_user(&e, argp, sizeof(e)))
		return -EFAULT;
	return lapicv_set_vcpu_events(vcpu, &e);
}

static long __lapicv_vcpu_lapic_ioctl(struct lapicv_vcpu *vcpu,
				      unsigned int ioctl, void __user *argp)
{
	struct kvm_interrupt irq;
	struct kvm_mp_state mp;
	struct kvm_vapic_addr va;
	unsigned long accepted;
	long r;

	switch (ioctl) {
	case KVM_GET_LAPIC:
		return lapicv_vcpu_get_lapic(vcpu, argp);
	case KVM_SET_LAPIC:
		return lapicv_vcpu_set_lapic(vcpu, argp);
	case KVM_GET_MSRS:
		return lapicv_vcpu_msr_io(vcpu, argp, false);
	case KVM_SET_MSRS:
		return lapicv_vcpu_msr_io(vcpu, argp, true);
	case KVM_SET_CPUID2:
		return lapicv_vcpu_set_cpuid2(vcpu, argp);
	case KVM_GET_CPUID2:
		return lapicv_vcpu_get_cpuid2(vcpu, argp);
	case KVM_NMI:
		return lapicv_inject_nmi(vcpu);
	case KVM_INTERRUPT:
		if (copy_from_user(&irq, argp, sizeof(irq)))
			return -EFAULT;
		return lapicv_inject_extint(vcpu, irq.irq);
	case KVM_GET_MP_STATE:
		r = lapicv_get_mp_state(vcpu, &mp, &accepted);
		if (!r)
			lapicv_runner_take_init_sipi(vcpu, accepted);
		if (!r && copy_to_user(argp, &mp, sizeof(mp)))
			r = -EFAULT;
		return r;
	case KVM_SET_MP_STATE:
		if (copy_from_user(&mp, argp, sizeof(mp)))
			return -EFAULT;
		return lapicv_set_mp_state(vcpu, &mp);
	case KVM_SET_VAPIC_ADDR:
		if (copy_from_user(&va, argp, sizeof(va)))
			return -EFAULT;
		return lapicv_vapic_set_addr(vcpu, va.vapic_addr);
	case KVM_SMI:
		return lapicv_inject_smi(vcpu);
	case KVM_GET_VCPU_EVENTS:
	case KVM_SET_VCPU_EVENTS:
		return lapicv_vcpu_events_ioctl(vcpu, ioctl, argp);
	default:
		return -ENOIOCTLCMD;
	}
}

/*
 * The vapic word: read at a step's start, written at its end and after a
 * host-side change of the TPR (the rule is vapic.c's).  As in KVM, a
 * faulting guest address is silently skipped.
 */
static void lapicv_vcpu_vapic_from_guest(struct lapicv_vcpu *vcpu)
{
	u64 hva;
	u32 data;

	if (lapicv_vapic_hva(vcpu, &hva) &&
	    !get_user(data, (u32 __user *)(unsigned long)hva))
		lapicv_vapic_sync_from(vcpu, data);
}

static void lapicv_vcpu_vapic_to_guest(struct lapicv_vcpu *vcpu)
{
	u64 hva;

	if (lapicv_vapic_hva(vcpu, &hva))
		(void)put_user(lapicv_vapic_data(vcpu),
			       (u32 __user *)(unsigned long)hva);
}

/* A host-side ioctl that changed the TPR writes the word at once. */
static long lapicv_vcpu_lapic_ioctl(struct lapicv_vcpu *vcpu,
				    unsigned int ioctl, void __user *argp)
{
	u32 tpr = lapicv_vapic_tpr(vcpu);
	long r;

	r = __lapicv_vcpu_lapic_ioctl(vcpu, ioctl, argp);
	if (lapicv_vapic_tpr(vcpu) != tpr ||
	    (ioctl == KVM_SET_VAPIC_ADDR && !r))
		lapicv_vcpu_vapic_to_guest(vcpu);
	return r;
}

/* LAPICV_RUN: the run step (apicv.c); "in" is left as the VMM gave it. */
static long lapicv_vcpu_ioctl_run(struct lapicv_vcpu *vcpu,
				  struct lapicv_run __user *urun)
{
	struct lapicv_run run;
	long r;

	if (copy_from_user(&run, urun, sizeof(run)))
		return -EFAULT;
	/*
	 * Refuse before acting, and make sure the report can be written: a
	 * step that acknowledged a vector the VMM never hears of would lose
	 * it.  (The vapic sync below is the step's first action.)
	 */
	if (!lapicv_run_valid(&run))
		return -EINVAL;
	if (copy_to_user(urun, &run, sizeof(run)))
		return -EFAULT;
	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;
	lapicv_vcpu_vapic_from_guest(vcpu);
	r = lapicv_vcpu_run(vcpu, &run);
	/* Also after -EINTR: the step may have changed the APIC. */
	if (!r || r == -EINTR)
		lapicv_vcpu_vapic_to_guest(vcpu);
	mutex_unlock(&vcpu->mutex);
	/* -EINTR (a signal) still reports the state the step left. */
	if ((!r || r == -EINTR) && copy_to_user(urun, &run, sizeof(run)))
		r = -EFAULT;
	return r;
}

/* LAPICV_GUEST_ACCESS: the semantics are apicv.c's. */
static long lapicv_vcpu_ioctl_access(struct lapicv_vcpu *vcpu,
				     struct lapicv_guest_access __user *uga)
{
	struct lapicv_guest_access ga;
	u32 tpr;
	long r;

	if (copy_from_user(&ga, uga, sizeof(ga)))
		return -EFAULT;
	/* A write (an EOI, an IPI) must not happen unreported. */
	if (copy_to_user(uga, &ga, sizeof(ga)))
		return -EFAULT;
	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;
	tpr = lapicv_vapic_tpr(vcpu);
	r = lapicv_guest_access(vcpu, &ga);
	if (lapicv_vapic_tpr(vcpu) != tpr)
		lapicv_vcpu_vapic_to_guest(vcpu);
	mutex_unlock(&vcpu->mutex);
	if (!r && copy_to_user(uga, &ga, sizeof(ga)))
		r = -EFAULT;
	return r;
}

/* LAPICV_GET_VCPU_STATS (apicv.c fills it in). */
static long lapicv_vcpu_ioctl_stats(struct lapicv_vcpu *vcpu,
				    void __user *argp)
{
	struct lapicv_vcpu_stats st;

	/* Like the other lapicv vCPU ioctls: no LAPIC, nothing to count. */
	if (!vcpu->apic)
		return -ENXIO;
	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;
	lapicv_vcpu_get_stats(vcpu, &st);
	mutex_unlock(&vcpu->mutex);
	return copy_to_user(argp, &st, sizeof(st)) ? -EFAULT : 0;
}

/*
 * KVM_GET/SET_REGS, KVM_GET/SET_SREGS and KVM_GET/SET_XCRS: copies here,
 * regs.c maps them.
 */
static long lapicv_vcpu_regs_ioctl(struct lapicv_vcpu *vcpu,
				   unsigned int ioctl, void __user *argp)
{
	union {
		struct kvm_sregs sregs;
		struct kvm_regs regs;
		struct kvm_xcrs xcrs;
	} u;

	switch (ioctl) {
	case KVM_GET_REGS:
		lapicv_get_regs(vcpu, &u.regs);
		return copy_to_user(argp, &u.regs, sizeof(u.regs)) ? -EFAULT : 0;
	case KVM_SET_REGS:
		if (copy_from_user(&u.regs, argp, sizeof(u.regs)))
			return -EFAULT;
		lapicv_set_regs(vcpu, &u.regs);
		return 0;
	case KVM_GET_SREGS:
		lapicv_get_sregs(vcpu, &u.sregs);
		return copy_to_user(argp, &u.sregs, sizeof(u.sregs)) ?
		       -EFAULT : 0;
	case KVM_SET_SREGS:
		if (copy_from_user(&u.sregs, argp, sizeof(u.sregs)))
			return -EFAULT;
		return lapicv_set_sregs(vcpu, &u.sregs);
	case KVM_GET_XCRS:
		lapicv_get_xcrs(vcpu, &u.xcrs);
		return copy_to_user(argp, &u.xcrs, sizeof(u.xcrs)) ? -EFAULT : 0;
	default:
		if (copy_from_user(&u.xcrs, argp, sizeof(u.xcrs)))
			return -EFAULT;
		return lapicv_set_xcrs(vcpu, &u.xcrs);
	}
}

static long lapicv_vcpu_ioctl(struct file *filp, unsigned int ioctl,
			      unsigned long arg)
{
	struct lapicv_vcpu *vcpu = filp->private_data;
	long r;

	if (vcpu->vm->mm != current->mm)
		return -EIO;
	if (ioctl == LAPICV_RUN)
		return lapicv_vcpu_ioctl_run(vcpu, (void __user *)arg);
	if (ioctl == LAPICV_GET_VCPU_STATS)
		return lapicv_vcpu_ioctl_stats(vcpu, (void __user *)arg);
	if (ioctl == LAPICV_GUEST_ACCESS)
		return lapicv_vcpu_ioctl_access(vcpu, (void __user *)arg);
	/* Not behind vcpu->mutex, which a halted LAPICV_RUN sleeps holding. */
	if (ioctl == KVM_GET_STATS_FD)
		return lapicv_vcpu_stats_fd(vcpu);
	if (_IOC_TYPE(ioctl) != KVMIO)
		return -EINVAL;
	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;

	switch (ioctl) {
	case KVM_GET_LAPIC:
	case KVM_SET_LAPIC:
	case KVM_GET_MSRS:
	case KVM_SET_MSRS:
	case KVM_SET_CPUID2:
	case KVM_GET_CPUID2:
	case KVM_NMI:
	case KVM_GET_MP_STATE:
	case KVM_SET_MP_STATE:
	case KVM_SET_VAPIC_ADDR:
	case KVM_SMI:
	case KVM_GET_VCPU_EVENTS:
	case KVM_SET_VCPU_EVENTS:
		/* Without a LAPIC, KVM_GET_LAPIC's answer for them all. */
		r = vcpu->apic ? lapicv_vcpu_lapic_ioctl(vcpu, ioctl,
							 (void __user *)arg) :
				 -EINVAL;
		break;
	case KVM_INTERRUPT:
		/* KVM's answer with its PIC in the kernel (KVM_CREATE_IRQCHIP). */
		if (vcpu->vm->irqchip == LAPICV_IRQCHIP_KERNEL)
			r = -ENXIO;
		else
			r = vcpu->apic ? lapicv_vcpu_lapic_ioctl(vcpu, ioctl,
								 (void __user *)arg) :
					 -EINVAL;
		break;
	case KVM_RUN:
		r = lapicv_vcpu_kvm_run(vcpu, arg);
		break;
	case KVM_GET_REGS:
	case KVM_SET_REGS:
	case KVM_GET_SREGS:
	case KVM_SET_SREGS:
	case KVM_GET_XCRS:
	case KVM_SET_XCRS:
		r = lapicv_vcpu_regs_ioctl(vcpu, ioctl, (void __user *)arg);
		break;
	case KVM_GET_TSC_KHZ:
		r = tsc_khz;
		break;
	case KVM_ENABLE_CAP: {
		struct kvm_enable_cap cap;

		/* No vCPU capability exists here; KVM reads the struct first. */
		r = copy_from_user(&cap, (void __user *)arg, sizeof(cap)) ?
		    -EFAULT : -EINVAL;
		break;
	}
	default:
		/* KVM's x86 answer for an unknown vCPU ioctl. */
		r = -EINVAL;
		break;
	}

	mutex_unlock(&vcpu->mutex);
	return r;
}

static int lapicv_vcpu_release(struct inode *inode, struct file *filp)
{
	struct lapicv_vcpu *vcpu = filp->private_data;

	lapicv_vm_put(vcpu->vm);
	return 0;
}

static const struct file_operations lapicv_vcpu_fops = {
	.owner		= THIS_MODULE,
	.release	= lapicv_vcpu_release,
	.unlocked_ioctl	= lapicv_vcpu_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= lapicv_vcpu_mmap,
	.llseek		= noop_llseek,
};

static struct lapicv_vcpu *lapicv_vcpu_alloc(struct lapicv_vm *vm, u32 id)
{
	struct lapicv_vcpu *vcpu;

	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return NULL;
	vcpu->vm = vm;
	vcpu->vcpu_id = id;
	mutex_init(&vcpu->mutex);
	init_waitqueue_head(&vcpu->wq);
	vcpu->guest_cpu = -1;
	if (lapicv_runner_vcpu_create(vcpu)) {
		kfree(vcpu);
		return NULL;
	}
	/*
	 * A LAPIC with an in-kernel (full or split) irqchip only, as in KVM;
	 * stable here, since the irqchip cannot change once a vCPU exists.
	 */
	if (lapicv_irqchip_in_kernel(vm)) {
		vcpu->lapic_buf = kmalloc(sizeof(*vcpu->lapic_buf),
					  GFP_KERNEL_ACCOUNT);
		if (!vcpu->lapic_buf || lapicv_lapic_create(vcpu)) {
			kfree(vcpu->lapic_buf);
			lapicv_runner_vcpu_free(vcpu);
			kfree(vcpu);
			return NULL;
		}
		/* Nobody else sees the vCPU yet; the lock is the contract's. */
		mutex_lock(&vcpu->mutex);
		lapicv_lapic_reset(vcpu, false);
		mutex_unlock(&vcpu->mutex);
	}
	if (lapicv_apicv_vcpu_create(vcpu)) {
		lapicv_lapic_free(vcpu);
		kfree(vcpu->lapic_buf);
		lapicv_runner_vcpu_free(vcpu);
		kfree(vcpu);
		return NULL;
	}
	return vcpu;
}

/*
 * Install a fully built vCPU and return its fd.  Called with vm->lock held
 * and a slot already reserved in created_vcpus.  KVM checks the id for a
 * duplicate only here, after the vCPU is built, so a duplicate id at the
 * vCPU limit reports -EINVAL, not -EEXIST; lapicv keeps that order.
 */
static int __lapicv_vcpu_install(struct lapicv_vm *vm,
				 struct lapicv_vcpu *vcpu)
{
	char name[24];
	u32 idx;
	int fd, r;

	lockdep_assert_held(&vm->lock);

	if (lapicv_get_vcpu_by_id(vm, vcpu->vcpu_id))
		return -EEXIST;

	idx = atomic_read(&vm->online_vcpus);
	r = xa_insert(&vm->vcpus, idx, vcpu, GFP_KERNEL_ACCOUNT);
	if (r)
		return r;

	/* The fd's reference; the caller's VM fd keeps vm alive meanwhile. */
	refcount_inc(&vm->users);
	snprintf(name, sizeof(name), "lapicv-vcpu:%u", vcpu->vcpu_id);
	fd = anon_inode_getfd(name, &lapicv_vcpu_fops, vcpu, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		refcount_dec(&vm->users);
		xa_erase(&vm->vcpus, idx);
		/* npt.c's flush reads every entry under RCU; the caller frees. */
		synchronize_rcu();
		return fd;
	}

	/* Publish the entry only once it is complete; pairs with readers. */
	atomic_set_release(&vm->online_vcpus, idx + 1);
	/*
	 * A protected APIC was set up (x2APIC, enabled) before the vCPU was
	 * online, and nothing outside the guest will touch it again: map it
	 * now, as KVM does when TDX initializes a vCPU.
	 */
	if (vm->protected_apic) {
		lapicv_apic_map_mark_dirty(vm);
		lapicv_recalculate_apic_map(vm);
	}
	return fd;
}

static int lapicv_vm_create_vcpu(struct lapicv_vm *vm, unsigned long id)
{
	struct lapicv_vcpu *vcpu;
	int r;

	if (id >= LAPICV_MAX_VCPU_IDS)
		return -EINVAL;

	mutex_lock(&vm->lock);
	if (!vm->max_vcpu_ids)
		vm->max_vcpu_ids = LAPICV_MAX_VCPU_IDS;
	if (vm->created_vcpus >= LAPICV_MAX_VCPUS ||
	    id >= vm->max_vcpu_ids) {
		mutex_unlock(&vm->lock);
		return -EINVAL;
	}
	vm->created_vcpus++;
	mutex_unlock(&vm->lock);

	vcpu = lapicv_vcpu_alloc(vm, id);
	if (!vcpu) {
		r = -ENOMEM;
		goto unreserve;
	}

	mutex_lock(&vm->lock);
	r = __lapicv_vcpu_install(vm, vcpu);
	mutex_unlock(&vm->lock);
	if (r >= 0)
		return r;

	lapicv_vcpu_free(vcpu);
unreserve:
	mutex_lock(&vm->lock);
	vm->created_vcpus--;
	mutex_unlock(&vm->lock);
	return r;
}

/* ---- VM fd ---- */

static int lapicv_vm_enable_split_irqchip(struct lapicv_vm *vm, u64 pins)
{
	int r;

	if (pins > LAPICV_MAX_RESERVED_IOAPIC_PINS)
		return -EINVAL;

	mutex_lock(&vm->lock);
	r = -EEXIST;
	if (vm->irqchip == LAPICV_IRQCHIP_NONE && !vm->created_vcpus) {
		WRITE_ONCE(vm->irqchip, LAPICV_IRQCHIP_SPLIT);
		vm->nr_reserved_ioapic_pins = pins;
		lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_ABSENT, false);
		r = 0;
	}
	mutex_unlock(&vm->lock);
	return r;
}

/*
 * KVM_CAP_X86_APIC_BUS_CYCLES_NS, with KVM's errnos: -EINVAL for 0 or a
 * period whose longest timer (TMICT * 128 * period) overflows 64 bits or
 * once a vCPU exists, -ENXIO without an in-kernel LAPIC.
 */
static int lapicv_vm_set_apic_bus_cycles(struct lapicv_vm *vm, u64 ns)
{
	u64 unused;
	int r = 0;

	if (!ns || check_mul_overflow((u64)U32_MAX * 128, ns, &unused))
		return -EINVAL;
	mutex_lock(&vm->lock);
	if (!lapicv_irqchip_in_kernel(vm))
		r = -ENXIO;
	else if (vm->created_vcpus)
		r = -EINVAL;
	else
		vm->apic_bus_cycle_ns = ns;
	mutex_unlock(&vm->lock);
	return r;
}

/*
 * KVM_CAP_MAX_VCPU_ID, with KVM's rules: set once (again with the same
 * value is fine), not below the boot CPU id nor above LAPICV_MAX_VCPU_IDS;
 * the first vCPU fixes it at that maximum if the VMM has not set it.
 */
static int lapicv_vm_set_max_vcpu_ids(struct lapicv_vm *vm, u64 ids)
{
	int r = -EINVAL;

	if (ids > LAPICV_MAX_VCPU_IDS)
		return -EINVAL;
	mutex_lock(&vm->lock);
	if (ids == vm->max_vcpu_ids) {
		r = 0;
	} else if (!vm->max_vcpu_ids && ids >= vm->bsp_vcpu_id) {
		vm->max_vcpu_ids = ids;
		r = 0;
	}
	mutex_unlock(&vm->lock);
	return r;
}

static int lapicv_vm_enable_cap(struct lapicv_vm *vm,
				struct kvm_enable_cap *cap)
{
	if (cap->flags)
		return -EINVAL;

	switch (cap->cap) {
	case KVM_CAP_SPLIT_IRQCHIP:
		return lapicv_vm_enable_split_irqchip(vm, cap->args[0]);
	case KVM_CAP_X2APIC_API:
		return lapicv_enable_x2apic_api(vm, cap->args[0]);
	case KVM_CAP_X86_APIC_BUS_CYCLES_NS:
		return lapicv_vm_set_apic_bus_cycles(vm, cap->args[0]);
	case KVM_CAP_MAX_VCPU_ID:
		return lapicv_vm_set_max_vcpu_ids(vm, cap->args[0]);
	default:
		return -EINVAL;
	}
}

/*
 * KVM_CREATE_IRQCHIP: an in-kernel LAPIC per vCPU, without the IOAPIC and
 * PIC KVM would add (api.rst).  KVM's errnos: -EEXIST with an irqchip,
 * -EINVAL once a vCPU exists.
 */
static int lapicv_vm_create_irqchip(struct lapicv_vm *vm)
{
	int r = 0;

	mutex_lock(&vm->lock);
	if (vm->irqchip != LAPICV_IRQCHIP_NONE) {
		r = -EEXIST;
	} else if (vm->created_vcpus) {
		r = -EINVAL;
	} else {
		WRITE_ONCE(vm->irqchip, LAPICV_IRQCHIP_KERNEL);
		lapicv_set_or_clear_inhibit(vm, LAPICV_INHIBIT_ABSENT, false);
	}
	mutex_unlock(&vm->lock);
	return r;
}

/* KVM_SET_BOOT_CPU_ID, with KVM's bound (one past the last id) and errnos. */
static int lapicv_vm_set_boot_cpu_id(struct lapicv_vm *vm, unsigned long id)
{
	int r = 0;

	mutex_lock(&vm->lock);
	if (vm->created_vcpus)
		r = -EBUSY;
	else if (id > LAPICV_MAX_VCPU_IDS ||
		 (vm->max_vcpu_ids && id > vm->max_vcpu_ids))
		r = -EINVAL;
	else
		vm->bsp_vcpu_id = id;
	mutex_unlock(&vm->lock);
	return r;
}

/*
 * LAPICV_ENABLE_PROTECTED_APIC: only a backend that can answer for an APIC
 * nobody may read (protected_apic_has_interrupt) offers it, and only
 * before the first vCPU, whose LAPIC is created protected or not.
 */
static int lapicv_vm_enable_protected_apic(struct lapicv_vm *vm,
					   unsigned long arg)
{
	int r = 0;

	if (arg || !lapicv_backend.protected_apic_has_interrupt)
		return -EINVAL;
	mutex_lock(&vm->lock);
	if (vm->created_vcpus)
		r = -EBUSY;
	else
		vm->protected_apic = true;
	mutex_unlock(&vm->lock);
	return r;
}

/* KVM_SET_USER_MEMORY_REGION(2): one memslot implementation (vapic.c). */
static int lapicv_vm_set_memory_region(struct lapicv_vm *vm,
				       unsigned int ioctl, void __user *argp)
{
	struct kvm_userspace_memory_region2 mem2;
	struct kvm_userspace_memory_region mem;

	if (ioctl == KVM_SET_USER_MEMORY_REGION2) {
		if (copy_from_user(&mem2, argp, sizeof(mem2)))
			return -EFAULT;
		/* The fields v1 has; guest_memfd is unused without its flag. */
		mem.slot = mem2.slot;
		mem.flags = mem2.flags;
		mem.guest_phys_addr = mem2.guest_phys_addr;
		mem.memory_size = mem2.memory_size;
		mem.userspace_addr = mem2.userspace_addr;
	} else if (copy_from_user(&mem, argp, sizeof(mem))) {
		return -EFAULT;
	}
	if (!access_ok((void __user *)(unsigned long)mem.userspace_addr,
		       mem.memory_size))
		return -EINVAL;
	return lapicv_set_memory_region(vm, &mem);
}

/* KVM_SET_GSI_ROUTING: the header, then the entries; irq_route.c decides. */
static int lapicv_vm_set_gsi_routing(struct lapicv_vm *vm,
				     struct kvm_irq_routing __user *urouting)
{
	struct kvm_irq_routing_entry *e = NULL;
	struct kvm_irq_routing routing;
	int r;

	if (copy_from_user(&routing, urouting, sizeof(routing)))
		return -EFAULT;
	r = lapicv_irq_routing_check(vm, &routing);
	if (r)
		return r;
	if (routing.nr) {
		e = vmemdup_user(urouting->entries,
				 array_size(routing.nr, sizeof(*e)));
		if (IS_ERR(e))
			return PTR_ERR(e);
	}
	r = lapicv_set_irq_routing(vm, e, routing.nr);
	kvfree(e);
	return r;
}

static int lapicv_vm_set_inhibit(struct lapicv_vm *vm, void __user *argp)
{
	struct lapicv_inhibit_op op;

	if (copy_from_user(&op, argp, sizeof(op)))
		return -EFAULT;
	if (op.reason >= LAPICV_NR_INHIBITS || op.set > 1 ||
	    !(LAPICV_INHIBITS_VMM_SETTABLE & BIT(op.reason)))
		return -EINVAL;
	lapicv_set_or_clear_inhibit(vm, op.reason, op.set);
	return 0;
}

static int lapicv_vm_get_inhibits(struct lapicv_vm *vm, void __user *argp)
{
	struct lapicv_inhibit_state st;

	lapicv_inhibits_read(vm, &st, NULL);
	return copy_to_user(argp, &st, sizeof(st)) ? -EFAULT : 0;
}

static int lapicv_vm_get_stats(struct lapicv_vm *vm, void __user *argp)
{
	struct lapicv_vm_stats stats;

	lapicv_inhibits_read(vm, NULL, &stats);
	return copy_to_user(argp, &stats, sizeof(stats)) ? -EFAULT : 0;
}

static long lapicv_vm_ioctl(struct file *filp, unsigned int ioctl,
			    unsigned long arg)
{
	struct lapicv_vm *vm = filp->private_data;
	void __user *argp = (void __user *)arg;

	if (vm->mm != current->mm)
		return -EIO;

	switch (ioctl) {
	case KVM_CREATE_VCPU:
		return lapicv_vm_create_vcpu(vm, arg);
	case KVM_ENABLE_CAP: {
		struct kvm_enable_cap cap;

		if (copy_from_user(&cap, argp, sizeof(cap)))
			return -EFAULT;
		return lapicv_vm_enable_cap(vm, &cap);
	}
	case KVM_CHECK_EXTENSION:
		return lapicv_check_extension(vm, arg);
	case KVM_SET_USER_MEMORY_REGION:
	case KVM_SET_USER_MEMORY_REGION2:
		return lapicv_vm_set_memory_region(vm, ioctl, argp);
	case KVM_CREATE_IRQCHIP:
		return lapicv_vm_create_irqchip(vm);
	case KVM_GET_IRQCHIP:
	case KVM_SET_IRQCHIP:
	case KVM_IRQ_LINE:
	case KVM_IRQ_LINE_STATUS:
		/* No IOAPIC or PIC in the kernel: KVM's split-irqchip answer. */
		return -ENXIO;
	case KVM_SET_BOOT_CPU_ID:
		return lapicv_vm_set_boot_cpu_id(vm, arg);
	case KVM_SET_NR_MMU_PAGES:
		/*
		 * KVM's floor (KVM_MIN_ALLOC_MMU_PAGES); above it, no effect:
		 * nested paging has no shadow pages to cap (api.rst).
		 */
		return arg < 64 ? -EINVAL : 0;
	case KVM_GET_TSC_KHZ:
		return tsc_khz;
	case KVM_SIGNAL_MSI: {
		struct kvm_msi msi;

		if (copy_from_user(&msi, argp, sizeof(msi)))
			return -EFAULT;
		return lapicv_signal_msi(vm, &msi);
	}
	case KVM_SET_GSI_ROUTING:
		return lapicv_vm_set_gsi_routing(vm, argp);
	case LAPICV_SET_INHIBIT:
		return lapicv_vm_set_inhibit(vm, argp);
	case LAPICV_GET_INHIBITS:
		return lapicv_vm_get_inhibits(vm, argp);
	case LAPICV_GET_VM_STATS:
		return lapicv_vm_get_stats(vm, argp);
	case LAPICV_ENABLE_PROTECTED_APIC:
		return lapicv_vm_enable_protected_apic(vm, arg);
	case KVM_GET_STATS_FD:
		return lapicv_vm_stats_fd(vm);
	default:
		/* KVM's answer for an unknown VM ioctl. */
		return -ENOTTY;
	}
}

static int lapicv_vm_release(struct inode *inode, struct file *filp)
{
	lapicv_vm_put(filp->private_data);
	return 0;
}

static const struct file_operations lapicv_vm_fops = {
	.owner		= THIS_MODULE,
	.release	= lapicv_vm_release,
	.unlocked_ioctl	= lapicv_vm_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

int lapicv_vm_create(unsigned long type)
{
	struct lapicv_vm *vm;
	int fd, r;

	if (type != KVM_X86_DEFAULT_VM)
		return -EINVAL;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return -ENOMEM;
	refcount_set(&vm->users, 1);
	mmgrab(current->mm);
	vm->mm = current->mm;
	vm->apic_bus_cycle_ns = LAPICV_APIC_BUS_CYCLE_NS;
	mutex_init(&vm->lock);
	mutex_init(&vm->apic_map_lock);
	xa_init(&vm->vcpus);
	lapicv_memslots_init(vm);
	lapicv_irq_routing_init(vm);
	r = lapicv_npt_create(vm);
	if (r) {
		mmdrop(vm->mm);
		kfree(vm);
		return r;
	}
	lapicv_inhibits_init(&vm->inhibits, lapicv_backend.apicv,
			     lapicv_backend.required_apicv_inhibits,
			     lapicv_irqwin_policy);

	fd = anon_inode_getfd("lapicv-vm", &lapicv_vm_fops, vm,
			      O_RDWR | O_CLOEXEC);
	if (fd < 0)
		lapicv_vm_destroy(vm);
	return fd;
}
