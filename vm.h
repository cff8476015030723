/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The VM and vCPU file glue, as main.c sees it.
 */
#ifndef _LAPICV_VM_H
#define _LAPICV_VM_H

struct lapicv_vm;

/* KVM_CREATE_VM: returns a new VM fd, or -errno. */
int lapicv_vm_create(unsigned long type);

/* Module parameter (main.c): the IRQ-window policy of new VMs. */
extern int lapicv_irqwin_policy;

/* Drop one reference (an fd's) on a VM; the last one destroys it. */
void lapicv_vm_put(struct lapicv_vm *vm);

/* KVM_GET_STATS_FD (stats.c): a new stats fd, or -errno. */
struct lapicv_vcpu;
int lapicv_vm_stats_fd(struct lapicv_vm *vm);
int lapicv_vcpu_stats_fd(struct lapicv_vcpu *vcpu);

/* KVM_CHECK_EXTENSION on the system fd (vm == NULL) or on a VM fd. */
long lapicv_check_extension(struct lapicv_vm *vm, unsigned long ext);

#endif /* _LAPICV_VM_H */
