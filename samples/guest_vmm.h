/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The labels of guest_vmm.c's guest (its asm block), for the VMM half:
 * the code is copied to guest memory from guest_start to guest_end; the
 * others are entry points, handlers and the GDT.
 */
#ifndef SAMPLES_GUEST_VMM_H
#define SAMPLES_GUEST_VMM_H

void guest_start(void);
void guest_bsp(void);
void guest_timer(void);
void guest_msi(void);
void guest_ipi0(void);
void guest_ipi1(void);
void guest_ipi2(void);
void guest_ipi3(void);
void guest_spurious(void);
void guest_gdt(void);
void guest_end(void);

#endif /* SAMPLES_GUEST_VMM_H */
