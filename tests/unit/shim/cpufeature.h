/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * shim/cpufeature.h: the host CPU's features (<asm/cpufeature.h>).
 *
 * The host is whatever a test says it is: boot_cpu_has() tests a bitmap,
 * shim_cpu_caps, that starts with the features of a plain modern x86-64
 * host (APIC, x2APIC, TSC-deadline, XSAVE; no PKU, VMX or SVM) and that a
 * test may change with shim_set_cpu_cap()/shim_clear_cpu_cap().  Feature
 * numbers are the kernel's word * 32 + bit encoding of cpufeatures.h,
 * from the CPUID bit each reports (SDM vol. 2A, CPUID; APM vol. 3, E.4).
 */
#ifndef _UNIT_SHIM_CPUFEATURE_H
#define _UNIT_SHIM_CPUFEATURE_H

#define X86_FEATURE_APIC		(0 * 32 + 9)	/* CPUID 1 EDX[9] */
#define X86_FEATURE_MSR			(0 * 32 + 5)	/* CPUID 1 EDX[5] */
#define X86_FEATURE_VMX			(4 * 32 + 5)	/* CPUID 1 ECX[5] */
#define X86_FEATURE_X2APIC		(4 * 32 + 21)	/* CPUID 1 ECX[21] */
#define X86_FEATURE_TSC_DEADLINE_TIMER	(4 * 32 + 24)	/* CPUID 1 ECX[24] */
#define X86_FEATURE_XSAVE		(4 * 32 + 26)	/* CPUID 1 ECX[26] */
#define X86_FEATURE_SVM			(6 * 32 + 2)	/* CPUID 8000_0001 ECX[2] */
#define X86_FEATURE_AVIC		(15 * 32 + 13)	/* CPUID 8000_000A EDX[13] */
#define X86_FEATURE_X2AVIC		(15 * 32 + 18)	/* CPUID 8000_000A EDX[18] */
#define X86_FEATURE_PKU			(16 * 32 + 3)	/* CPUID 7 ECX[3] */
#define SHIM_NCAPINTS			21

extern unsigned long shim_cpu_caps[BITS_TO_LONGS(SHIM_NCAPINTS * 32)];
#define boot_cpu_has(bit)		test_bit(bit, shim_cpu_caps)
#define static_cpu_has(bit)		boot_cpu_has(bit)
#define cpu_feature_enabled(bit)	boot_cpu_has(bit)
#define shim_set_cpu_cap(bit)		set_bit(bit, shim_cpu_caps)
#define shim_clear_cpu_cap(bit)		clear_bit(bit, shim_cpu_caps)
void shim_reset_cpu_caps(void);

#endif /* _UNIT_SHIM_CPUFEATURE_H */
