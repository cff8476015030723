// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_GET_STATS_FD on VM and vCPU fds: lapicv's counters in KVM's binary
 * stats format (Documentation/virt/kvm/api.rst, "KVM_GET_STATS_FD").
 *
 * The file is read with pread(2) and never changes size:
 *
 *	struct kvm_stats_header		id_offset = sizeof(header)
 *	id string, name_size bytes	desc_offset = id_offset + name_size
 *	num_desc descriptors, each	data_offset = desc_offset +
 *	  sizeof(kvm_stats_desc) +	  num_desc * that size
 *	  name_size bytes of name
 *	num_desc u64 values
 *
 * Every counter is cumulative, unitless, base 10, one u64.  The header,
 * id and descriptors are built once, when the fd is made; each read takes
 * a fresh snapshot of the values (inhibit.c and apicv.c provide them).
 * The fd holds a reference on the VM, like a vCPU fd, so it stays readable
 * after every other fd of the VM is closed.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "apicv.h"
#include "lapicv.h"
#include "vm.h"

struct stats_name {
	const char *name;
	/* Where the value sits in struct lapicv_vm/vcpu_stats. */
	size_t offset;
};

#define VM_STAT(name, field) { name, offsetof(struct lapicv_vm_stats, field) }
#define LAPICV_VCPU_STAT(field) { #field, offsetof(struct lapicv_vcpu_stats, field) },

/* Every field of struct lapicv_vm_stats but reserved. */
static const struct stats_name vm_stats[] = {
	VM_STAT("inhibit_changes", inhibit_changes),
	VM_STAT("apicv_toggles", apicv_toggles),
	VM_STAT("apicv_update_lock_writes", update_lock_writes),
	VM_STAT("irqwin_transitions", irqwin_transitions),
};

/* Every field of struct lapicv_vcpu_stats but reserved. */
static const struct stats_name vcpu_stats[] = {
#include <uapi/linux/lapicv_vcpu_stats.h>
};

/* The larger table: what one read snapshots, at most. */
#define STATS_MAX	ARRAY_SIZE(vcpu_stats)
static_assert(ARRAY_SIZE(vm_stats) <= STATS_MAX);

/*
 * A descriptor and its name: 6.12's in-kernel struct kvm_stats_desc holds
 * the name (sizeof() counts it); userspace's and 6.1's end in a flexible
 * array.
 */
#define STATS_DESC_SIZE	(offsetof(struct kvm_stats_desc, name) + \
			 KVM_STATS_NAME_SIZE)

struct stats_file {
	struct lapicv_vm *vm;
	/* NULL for the VM's stats. */
	struct lapicv_vcpu *vcpu;
	const struct stats_name *names;
	unsigned int nr;
	/* Everything before the values: header, id and descriptors. */
	size_t data_offset;
	u8 image[] __aligned(8);
};

/* The values in descriptor order, as they are now. */
static void stats_snapshot(struct stats_file *sf, u64 *data)
{
	union {
		struct lapicv_vm_stats vm;
		struct lapicv_vcpu_stats vcpu;
	} st;
	unsigned int i;

	if (sf->vcpu)
		lapicv_vcpu_read_stats(sf->vcpu, &st.vcpu);
	else
		lapicv_inhibits_read(sf->vm, NULL, &st.vm);
	for (i = 0; i < sf->nr; i++)
		data[i] = *(u64 *)((u8 *)&st + sf->names[i].offset);
}

static ssize_t stats_read(struct file *file, char __user *buf, size_t size,
			  loff_t *ppos)
{
	struct stats_file *sf = file->private_data;
	size_t len = sf->data_offset + sf->nr * sizeof(u64);
	size_t head = 0, pos;
	u64 data[STATS_MAX];

	if (*ppos < 0)
		return -EINVAL;
	if (*ppos >= (loff_t)len || !size)
		return 0;
	pos = *ppos;
	size = min(size, len - pos);

	if (pos < sf->data_offset) {
		head = min(size, sf->data_offset - pos);
		if (copy_to_user(buf, sf->image + pos, head))
			return -EFAULT;
	}
	if (head < size) {
		stats_snapshot(sf, data);
		if (copy_to_user(buf + head,
				 (u8 *)data + pos + head - sf->data_offset,
				 size - head))
			return -EFAULT;
	}
	*ppos = pos + size;
	return size;
}

static int stats_release(struct inode *inode, struct file *file)
{
	struct stats_file *sf = file->private_data;

	lapicv_vm_put(sf->vm);
	kfree(sf);
	return 0;
}

static const struct file_operations lapicv_stats_fops = {
	.owner		= THIS_MODULE,
	.read		= stats_read,
	.release	= stats_release,
	.llseek		= noop_llseek,
};

static struct stats_file *stats_build(const struct stats_name *names,
				      unsigned int nr)
{
	size_t desc_offset = sizeof(struct kvm_stats_header) +
			     KVM_STATS_NAME_SIZE;
	size_t data_offset = desc_offset + nr * STATS_DESC_SIZE;
	struct kvm_stats_header *hdr;
	struct kvm_stats_desc *desc;
	struct stats_file *sf;
	unsigned int i;

	sf = kzalloc(struct_size(sf, image, data_offset), GFP_KERNEL_ACCOUNT);
	if (!sf)
		return NULL;
	sf->names = names;
	sf->nr = nr;
	sf->data_offset = data_offset;

	hdr = (struct kvm_stats_header *)sf->image;
	hdr->name_size = KVM_STATS_NAME_SIZE;
	hdr->num_desc = nr;
	hdr->id_offset = sizeof(*hdr);
	hdr->desc_offset = desc_offset;
	hdr->data_offset = data_offset;

	for (i = 0; i < nr; i++) {
		desc = (struct kvm_stats_desc *)(sf->image + desc_offset +
						 i * STATS_DESC_SIZE);
		desc->flags = KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_NONE |
			      KVM_STATS_BASE_POW10;
		desc->size = 1;
		desc->offset = i * sizeof(u64);
		strscpy(desc->name, names[i].name, KVM_STATS_NAME_SIZE);
	}
	return sf;
}

/*
 * The id is KVM's, "kvm-<pid>" (kvm_binary_stats_test and tools look for
 * the "kvm" prefix), with the process that asked (its tgid; KVM takes the
 * creator's pid): only the VM's creator may issue the ioctl, so it is the
 * same.
 */
static char *stats_id(struct stats_file *sf)
{
	return (char *)sf->image + sizeof(struct kvm_stats_header);
}

/* The fd: the caller's fd keeps vm alive until the new reference is taken. */
static int stats_install(struct stats_file *sf, const char *name)
{
	struct file *file;
	int fd;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		goto free;
	file = anon_inode_getfile(name, &lapicv_stats_fops, sf, O_RDONLY);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		fd = PTR_ERR(file);
		goto free;
	}
	refcount_inc(&sf->vm->users);
	file->f_mode |= FMODE_PREAD;
	fd_install(fd, file);
	return fd;
free:
	kfree(sf);
	return fd;
}

int lapicv_vm_stats_fd(struct lapicv_vm *vm)
{
	struct stats_file *sf = stats_build(vm_stats, ARRAY_SIZE(vm_stats));

	if (!sf)
		return -ENOMEM;
	sf->vm = vm;
	snprintf(stats_id(sf), KVM_STATS_NAME_SIZE, "kvm-%d",
		 task_tgid_nr(current));
	return stats_install(sf, "lapicv-vm-stats");
}

int lapicv_vcpu_stats_fd(struct lapicv_vcpu *vcpu)
{
	struct stats_file *sf = stats_build(vcpu_stats, ARRAY_SIZE(vcpu_stats));

	if (!sf)
		return -ENOMEM;
	sf->vm = vcpu->vm;
	sf->vcpu = vcpu;
	snprintf(stats_id(sf), KVM_STATS_NAME_SIZE, "kvm-%d/vcpu-%u",
		 task_tgid_nr(current), vcpu->vcpu_id);
	return stats_install(sf, "lapicv-vcpu-stats");
}
