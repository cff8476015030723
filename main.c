// SPDX-License-Identifier: GPL-2.0-only
/*
 * Module init/exit and /dev/lapicv, the system fd.
 *
 * /dev/lapicv answers KVM's system ioctls with KVM's numbers, structs and
 * errnos, so that a VMM's use of KVM's split-irqchip ioctls works by
 * changing the device path (KVM_RUN runs guests on AMD SVM hosts, run.c;
 * elsewhere the run step is lapicv's own LAPICV_RUN).  VM and vCPU fds are vm.c's business.
 */
#include <linux/fs.h>
#include <linux/kvm.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include <asm/msr-index.h>
#include <asm/processor.h>

#include "apicv.h"
#include "cpuid.h"
#include "lapicv.h"
#include "run.h"
#include "svm/svm.h"
#include "vm.h"

int lapicv_irqwin_policy = LAPICV_IRQWIN_COUNTER;

static const char * const irqwin_policy_names[] = {
	[LAPICV_IRQWIN_COUNTER]	= "counter",
	[LAPICV_IRQWIN_LEGACY]	= "legacy",
};

static int irqwin_policy_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(irqwin_policy_names, val);

	if (i < 0)
		return -EINVAL;
	*(int *)kp->arg = i;
	return 0;
}

static int irqwin_policy_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", irqwin_policy_names[*(int *)kp->arg]);
}

static const struct kernel_param_ops irqwin_policy_ops = {
	.set = irqwin_policy_set,
	.get = irqwin_policy_get,
};
module_param_cb(irqwin_policy, &irqwin_policy_ops, &lapicv_irqwin_policy, 0644);
MODULE_PARM_DESC(irqwin_policy,
		 "IRQ-window inhibit policy of new VMs: counter (default) or legacy (KVM 6.12's write lock per window)");

/*
 * backend=soft|vmx-model|avic-model.  soft (the default) does what it
 * says; the two models are lapicv's own software models of the CPU's side
 * of VT-x posted interrupts and of AMD AVIC, chosen only by name: nothing
 * picks one from the host's CPU, and neither uses the hardware.  Read-only
 * once loaded: VMs keep static calls pointing at one backend.
 */
static char lapicv_backend_param[16] = "soft";
module_param_string(backend, lapicv_backend_param,
		    sizeof(lapicv_backend_param), 0444);
MODULE_PARM_DESC(backend,
		 "soft (default, no APICv), vmx-model or avic-model: lapicv's own software models of VT-x posted interrupts / AMD AVIC, never the hardware");

static int lapicv_backend_choose(void)
{
	static const struct lapicv_backend * const named[] = {
		&lapicv_soft_backend, &lapicv_vmx_backend, &lapicv_svm_backend,
	};
	const struct lapicv_backend *b = NULL;
	int i, r;

	for (i = 0; i < ARRAY_SIZE(named); i++)
		if (sysfs_streq(lapicv_backend_param, named[i]->name))
			b = named[i];
	if (!b) {
		pr_err("lapicv: unknown backend=%s: choose soft (the default), vmx-model or avic-model (auto, vmx and svm are gone: the models never use the hardware)\n",
		       lapicv_backend_param);
		return -EINVAL;
	}
	r = lapicv_backend_setup(b);
	if (r)
		return r;
	/* sysfs shows the canonical name, whatever spacing was given. */
	strscpy(lapicv_backend_param, b->name, sizeof(lapicv_backend_param));
	pr_info("lapicv: backend %s\n", b->name);
	return 0;
}

/*
 * KVM_GET_SUPPORTED_CPUID and KVM_GET_EMULATED_CPUID, with KVM's
 * kvm_dev_ioctl_get_cpuid() rules: nent 0 is -E2BIG, a larger one than
 * KVM_MAX_CPUID_ENTRIES is clamped to it, a table that does not fit is
 * -E2BIG (nent left as given), else nent becomes the entries written.
 * The supported table is cpuid.c's.  lapicv emulates no instruction the
 * CPU lacks, so its emulated table is empty, after KVM's check that the
 * entries' padding the VMM passed is zero (-EINVAL).
 */
static long lapicv_dev_get_cpuid(struct kvm_cpuid2 __user *ucpuid, bool emulated)
{
	struct kvm_cpuid_entry2 *e = NULL;
	struct kvm_cpuid2 hdr;
	u32 i, pad[3], n = 0;
	long r;

	if (copy_from_user(&hdr, ucpuid, sizeof(hdr)))
		return -EFAULT;
	if (hdr.nent < 1)
		return -E2BIG;
	hdr.nent = min_t(u32, hdr.nent, LAPICV_MAX_CPUID_ENTRIES);
	if (emulated) {
		for (i = 0; i < hdr.nent; i++) {
			if (copy_from_user(pad, ucpuid->entries[i].padding,
					   sizeof(pad)))
				return -EINVAL;
			if (pad[0] || pad[1] || pad[2])
				return -EINVAL;
		}
	} else {
		e = kvcalloc(hdr.nent, sizeof(*e), GFP_KERNEL);
		if (!e)
			return -ENOMEM;
		r = lapicv_supported_cpuid(e, hdr.nent, &n);
		if (r)
			goto out;
	}
	hdr.nent = n;
	r = -EFAULT;
	if (copy_to_user(ucpuid->entries, e, array_size(n, sizeof(*e))) ||
	    copy_to_user(ucpuid, &hdr, sizeof(hdr)))
		goto out;
	r = 0;
out:
	kvfree(e);
	return r;
}

/*
 * KVM_GET_MSR_INDEX_LIST: of the MSRs KVM lists (msrs_to_save and
 * emulated_msrs), the one lapicv's KVM_GET/SET_MSRS serve: TSC-deadline.
 * (The APIC base and the x2APIC MSRs are served but, as on KVM, not
 * listed: the VMM saves them with KVM_GET_SREGS and KVM_GET_LAPIC.)  As
 * KVM, nmsrs is written back first, then -E2BIG if the list is longer.
 */
static long lapicv_get_msr_index_list(struct kvm_msr_list __user *ulist)
{
	static const u32 msrs[] = { MSR_IA32_TSC_DEADLINE };
	struct kvm_msr_list list;
	u32 n;

	if (copy_from_user(&list, ulist, sizeof(list)))
		return -EFAULT;
	n = list.nmsrs;
	list.nmsrs = ARRAY_SIZE(msrs);
	if (copy_to_user(ulist, &list, sizeof(list)))
		return -EFAULT;
	if (n < ARRAY_SIZE(msrs))
		return -E2BIG;
	if (copy_to_user(ulist->indices, msrs, sizeof(msrs)))
		return -EFAULT;
	return 0;
}

static long lapicv_dev_ioctl(struct file *filp, unsigned int ioctl,
			     unsigned long arg)
{
	switch (ioctl) {
	case KVM_GET_API_VERSION:
		/* KVM rejects any argument, as it does for all no-arg ioctls. */
		return arg ? -EINVAL : KVM_API_VERSION;
	case KVM_CREATE_VM:
		return lapicv_vm_create(arg);
	case KVM_CHECK_EXTENSION:
		return lapicv_check_extension(NULL, arg);
	case KVM_GET_SUPPORTED_CPUID:
		return lapicv_dev_get_cpuid((void __user *)arg, false);
	case KVM_GET_EMULATED_CPUID:
		return lapicv_dev_get_cpuid((void __user *)arg, true);
	case KVM_GET_MSR_INDEX_LIST:
		return lapicv_get_msr_index_list((void __user *)arg);
	case KVM_GET_VCPU_MMAP_SIZE:
		return arg ? -EINVAL : LAPICV_VCPU_MMAP_SIZE;
	default:
		/* KVM's x86 answer for an unknown system ioctl. */
		return -EINVAL;
	}
}

static const struct file_operations lapicv_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= lapicv_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice lapicv_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "lapicv",
	.fops	= &lapicv_dev_fops,
	/*
	 * Root only, as the kernel leaves /dev/kvm: udev/60-lapicv.rules
	 * (make install, DKMS) makes it group kvm, 0660, as KVM's rule does.
	 */
	.mode	= 0600,
};

static int __init lapicv_init(void)
{
	int r;

	r = lapicv_backend_choose();
	if (r)
		return r;
	r = lapicv_svm_init();
	if (r)
		return r;
	r = misc_register(&lapicv_misc);
	if (r)
		lapicv_svm_exit();
	return r;
}

static void __exit lapicv_exit(void)
{
	misc_deregister(&lapicv_misc);
	lapicv_svm_exit();
}

module_init(lapicv_init);
module_exit(lapicv_exit);

MODULE_DESCRIPTION("KVM's local APIC and APICv machinery behind KVM's split-irqchip ioctls; APICv backends vmx-model and avic-model are software models, never the hardware");
MODULE_LICENSE("GPL");
