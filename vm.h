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

/* KVM_CHECK_EXTENSION on the system fd (vm == NULL) or on a VM fd. */
long lapicv_check_extension(struct lapicv_vm *vm, unsigned long ext);

#endif /* _LAPICV_VM_H */
