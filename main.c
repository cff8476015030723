// SPDX-License-Identifier: GPL-2.0-only
/*
 * Module init/exit and /dev/lapicv, the system fd.
 *
 * /dev/lapicv answers KVM's system ioctls with KVM's numbers, structs and
 * errnos, so that a VMM written for KVM's split irqchip works by changing
 * the device path.  VM and vCPU fds are vm.c's business.
 */
#include <linux/fs.h>
#include <linux/kvm.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "lapicv.h"
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
		 "IRQ-window inhibit policy of new VMs: counter (default) or legacy");

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
	.mode	= 0666,
};

static int __init lapicv_init(void)
{
	return misc_register(&lapicv_misc);
}

static void __exit lapicv_exit(void)
{
	misc_deregister(&lapicv_misc);
}

module_init(lapicv_init);
module_exit(lapicv_exit);

MODULE_DESCRIPTION("KVM's local APIC and APICv machinery as a loadable backend");
MODULE_LICENSE("GPL");
