/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * shim/msr-index.h: the MSR numbers and bits of the kernel's
 * <asm/msr-index.h> that lapicv's core uses, from the Intel SDM vol. 4
 * ("Model-Specific Registers") and the AMD APM vol. 2 appendix A.
 */
#ifndef _UNIT_SHIM_MSR_INDEX_H
#define _UNIT_SHIM_MSR_INDEX_H

#define MSR_IA32_TSC			0x00000010
#define MSR_IA32_APICBASE		0x0000001b
#define MSR_IA32_APICBASE_BSP		(1 << 8)
#define MSR_IA32_APICBASE_ENABLE	(1 << 11)
#define MSR_IA32_APICBASE_BASE		(0xfffffUL << 12)
#define MSR_IA32_FEAT_CTL		0x0000003a
#define MSR_IA32_TSC_ADJUST		0x0000003b
#define MSR_IA32_MISC_ENABLE		0x000001a0
#define MSR_IA32_CR_PAT			0x00000277
#define MSR_IA32_TSC_DEADLINE		0x000006e0
/* The x2APIC range: APIC_BASE_MSR + (xAPIC offset >> 4). */
#define MSR_IA32_X2APIC_ID		0x00000802
#define MSR_IA32_X2APIC_TPR		0x00000808
#define MSR_IA32_X2APIC_EOI		0x0000080b
#define MSR_IA32_X2APIC_ICR		0x00000830
#define MSR_IA32_X2APIC_SELF_IPI	0x0000083f
/* AMD. */
#define MSR_AMD64_SEV			0xc0010131
#define MSR_AMD64_SVM_AVIC_DOORBELL	0xc001011b
#define MSR_VM_HSAVE_PA			0xc0010117

#endif /* _UNIT_SHIM_MSR_INDEX_H */
