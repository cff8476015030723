/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * shim/apicdef.h: local APIC register offsets and bits (the kernel's
 * <asm/apicdef.h>), written from the Intel SDM vol. 3A ch. 11 ("Advanced
 * Programmable Interrupt Controller") and the AMD APM vol. 2 ch. 16.
 * Offsets are bytes into the 4 KiB xAPIC page; the x2APIC MSR of a
 * register is APIC_BASE_MSR + (offset >> 4).
 */
#ifndef _UNIT_SHIM_APICDEF_H
#define _UNIT_SHIM_APICDEF_H

#define APIC_DEFAULT_PHYS_BASE	0xfee00000UL
#define APIC_BASE_MSR		0x800
#define X2APIC_ENABLE		(1UL << 10)	/* IA32_APIC_BASE.EXTD */
#define XAPIC_ENABLE		(1UL << 11)	/* IA32_APIC_BASE.EN */

/* Register offsets (SDM table 11-1). */
#define APIC_ID		0x020
#define APIC_LVR	0x030
#define APIC_TASKPRI	0x080
#define APIC_ARBPRI	0x090
#define APIC_PROCPRI	0x0a0
#define APIC_EOI	0x0b0
#define APIC_RRR	0x0c0
#define APIC_LDR	0x0d0
#define APIC_DFR	0x0e0
#define APIC_SPIV	0x0f0
#define APIC_ISR	0x100
#define APIC_TMR	0x180
#define APIC_IRR	0x200
#define APIC_ESR	0x280
#define APIC_LVTCMCI	0x2f0
#define APIC_ICR	0x300
#define APIC_ICR2	0x310
#define APIC_LVTT	0x320
#define APIC_LVTTHMR	0x330
#define APIC_LVTPC	0x340
#define APIC_LVT0	0x350
#define APIC_LVT1	0x360
#define APIC_LVTERR	0x370
#define APIC_TMICT	0x380
#define APIC_TMCCT	0x390
#define APIC_TDCR	0x3e0
#define APIC_SELF_IPI	0x3f0	/* x2APIC only */
/* AMD extended APIC space (APM 16.3.5). */
#define APIC_EFEAT	0x400
#define APIC_ECTRL	0x410
#define APIC_EILVTn(n)	(0x500 + 0x10 * (n))
#define APIC_EILVT_NR_AMD_K8	1
#define APIC_EILVT_NR_AMD_10H	4
#define APIC_EILVT_NR_MAX	APIC_EILVT_NR_AMD_10H

/* ID and version. */
#define GET_XAPIC_ID(x)		(((x) >> 24) & 0xff)
#define SET_XAPIC_ID(x)		((x) << 24)
#define APIC_LVR_MASK		0xff00ff
#define APIC_LVR_DIRECTED_EOI	(1 << 24)
#define GET_APIC_VERSION(x)	((x) & 0xff)
#define GET_APIC_MAXLVT(x)	(((x) >> 16) & 0xff)
#define APIC_INTEGRATED(x)	((x) & 0xf0)
#define APIC_XAPIC(x)		((x) >= 0x14)
#define APIC_EXT_SPACE(x)	((x) & 0x80000000)

/* TPR, APR, PPR, EOI. */
#define APIC_TPRI_MASK		0xff
#define APIC_ARBPRI_MASK	0xff
#define APIC_EOI_ACK		0x0

/* Logical destination. */
#define APIC_LDR_MASK		(0xffu << 24)
#define GET_APIC_LOGICAL_ID(x)	(((x) >> 24) & 0xff)
#define SET_APIC_LOGICAL_ID(x)	((x) << 24)
#define APIC_ALL_CPUS		0xff
#define APIC_DFR_CLUSTER	0x0fffffffUL
#define APIC_DFR_FLAT		0xffffffffUL

/* Spurious-interrupt vector register. */
#define APIC_SPIV_APIC_ENABLED		(1 << 8)
#define APIC_SPIV_FOCUS_DISABLED	(1 << 9)
#define APIC_SPIV_DIRECTED_EOI		(1 << 12)

/* Error status register. */
#define APIC_ESR_SEND_CS	0x00001
#define APIC_ESR_RECV_CS	0x00002
#define APIC_ESR_SEND_ACC	0x00004
#define APIC_ESR_RECV_ACC	0x00008
#define APIC_ESR_SENDILL	0x00020
#define APIC_ESR_RECVILL	0x00040
#define APIC_ESR_ILLREGA	0x00080

/* Interrupt command register, low half (and the LVT fields it shares). */
#define APIC_VECTOR_MASK	0x000ff
#define APIC_DM_FIXED_MASK	0x00700
#define APIC_DM_FIXED		0x00000
#define APIC_DM_LOWEST		0x00100
#define APIC_DM_SMI		0x00200
#define APIC_DM_REMRD		0x00300
#define APIC_DM_NMI		0x00400
#define APIC_DM_INIT		0x00500
#define APIC_DM_STARTUP		0x00600
#define APIC_DM_EXTINT		0x00700
#define APIC_DEST_MASK		0x00800
#define APIC_DEST_PHYSICAL	0x00000
#define APIC_DEST_LOGICAL	0x00800
#define APIC_ICR_BUSY		0x01000
#define APIC_INT_ASSERT		0x04000
#define APIC_INT_LEVELTRIG	0x08000
#define APIC_ICR_RR_MASK	0x30000
#define APIC_ICR_RR_INVALID	0x00000
#define APIC_ICR_RR_INPROG	0x10000
#define APIC_ICR_RR_VALID	0x20000
#define APIC_SHORT_MASK		0xc0000
#define APIC_DEST_SELF		0x40000
#define APIC_DEST_ALLINC	0x80000
#define APIC_DEST_ALLBUT	0xc0000
/* ICR high half (xAPIC): destination in bits 31:24. */
#define GET_XAPIC_DEST_FIELD(x)	(((x) >> 24) & 0xff)
#define SET_XAPIC_DEST_FIELD(x)	((x) << 24)

/* Local vector table entries. */
#define APIC_SEND_PENDING	(1 << 12)
#define APIC_INPUT_POLARITY	(1 << 13)
#define APIC_LVT_REMOTE_IRR	(1 << 14)
#define APIC_LVT_LEVEL_TRIGGER	(1 << 15)
#define APIC_LVT_MASKED		(1 << 16)
#define APIC_LVT_TIMER_ONESHOT	(0 << 17)
#define APIC_LVT_TIMER_PERIODIC	(1 << 17)
#define APIC_LVT_TIMER_TSCDEADLINE	(2 << 17)
#define APIC_LVT_TIMER_MASK	(3 << 17)
#define APIC_MODE_MASK		0x700
#define GET_APIC_DELIVERY_MODE(x)	(((x) >> 8) & 0x7)
#define SET_APIC_DELIVERY_MODE(x, y)	(((x) & ~0x700) | ((y) << 8))
#define APIC_MODE_FIXED		0x0
#define APIC_MODE_NMI		0x4
#define APIC_MODE_EXTINT	0x7
#define APIC_LVT_NR_MAX		7

/* Timer divide configuration (bits 0, 1 and 3). */
#define APIC_TDR_DIV_TMBASE	(1 << 2)
#define APIC_TDR_DIV_1		0xb
#define APIC_TDR_DIV_2		0x0
#define APIC_TDR_DIV_4		0x1
#define APIC_TDR_DIV_8		0x2
#define APIC_TDR_DIV_16		0x3
#define APIC_TDR_DIV_32		0x8
#define APIC_TDR_DIV_64		0x9
#define APIC_TDR_DIV_128	0xa

#endif /* _UNIT_SHIM_APICDEF_H */
