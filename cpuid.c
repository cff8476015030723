// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_GET_SUPPORTED_CPUID's table: the host's CPUID masked by what
 * lapicv's runner virtualizes, leaf by leaf as KVM 6.12's
 * __do_cpuid_func() builds its own (arch/x86/kvm): the basic
 * leaves up to min(max, 0x24), the extended ones up to min(max,
 * 0x80000022), subleaves where KVM gives them, and the feature words as
 * KVM's kvm_set_cpu_caps() computes them (the kernel's view of the CPU,
 * the raw CPUID and a mask), with lapicv's masks in place of KVM's.
 *
 * lapicv's masks are KVM's minus what the runner does not virtualize:
 * every MSR but the APIC's exits with #GP (svm/svm.c, run.c), so a feature
 * that lives in an MSR (SYSENTER, SYSCALL, MTRR, PAT, machine-check banks,
 * TSC_AUX for RDTSCP and RDPID, TSC_ADJUST, the speculation-control MSRs,
 * IA32_XSS for XSAVES, XFD, OSVW, the PMU) is not offered; nor EFER bits
 * KVM_SET_SREGS refuses (FFXSR, AutoIBRS), nested SVM, SGX, LAM, AMX
 * (the guest FPU state holds no dynamic component), KVM's paravirtual
 * leaves 0x40000000 and 0x40000001 (no kvmclock or other PV MSR) and
 * Centaur's 0xC0000000 leaves.  Documentation/api.rst lists each one;
 * selftests/cpuid_test.c compares the table with kvm_amd's.
 *
 * The caller holds no lock: everything here is the host's, read at the
 * call, on one CPU.
 */
#include <linux/bits.h>
#include <linux/minmax.h>
#include <linux/smp.h>
#include <linux/string.h>

#include <asm/cpufeature.h>
#include <asm/processor.h>

#include "cpuid.h"
#include "run.h"

/* One bit of a CPUID register, by its position. */
#define B(n)	BIT(n)

/* Leaf 1 ECX: SSE3 ... RDRAND, as KVM without PDCM (PERF_CAPABILITIES). */
#define CPUID_1_ECX_OK	(B(0) | B(1) | B(9) | B(12) | B(13) | B(17) |	\
			 B(19) | B(20) | B(21) | B(22) | B(23) | B(25) |	\
			 B(26) | B(28) | B(29) | B(30))
/* Leaf 1 EDX: KVM's without SEP (bit 11), MTRR (12), MCA (14), PAT (16). */
#define CPUID_1_EDX_OK	(GENMASK(9, 0) | B(13) | B(15) |	\
			 B(17) | B(19) | B(23) | B(24) | B(25) | B(26) | B(27))
/* Leaf 7.0 EBX: KVM's without TSC_ADJUST (bit 1) and SGX (2). */
#define CPUID_7_EBX_OK	(B(0) | GENMASK(11, 3) | B(13) | GENMASK(21, 16) | \
			 B(23) | B(24) | GENMASK(31, 26))
/*
 * Leaf 7.0 ECX: KVM's without RDPID (bit 22, TSC_AUX), BUS_LOCK_DETECT
 * (24, DEBUGCTL) and SGX_LC (30); LA57 (16) and PKU (3) see below.
 */
#define CPUID_7_ECX_OK	(B(1) | B(2) | B(6) | GENMASK(12, 8) | B(14) |	\
			 B(25) | B(27) | B(28))
/*
 * Leaf 7.0 EDX: KVM's without AMX (22, 24, 25) and the speculation
 * controls (26-29, 31: SPEC_CTRL, STIBP, FLUSH_L1D, ARCH_CAPABILITIES,
 * SSBD), which are MSRs.
 */
#define CPUID_7_EDX_OK	(B(2) | B(3) | B(4) | B(8) | B(10) | B(14) |	\
			 B(16) | B(23))
/* Leaf 7.1 EAX: KVM's without AMX_FP16 (21) and LAM (26). */
#define CPUID_7_1_EAX_OK (B(4) | B(5) | B(7) | B(10) | B(11) | B(12) | B(23))
/* Leaf 7.1 EDX: KVM's without AMX_COMPLEX (8) and AVX10 (19, leaf 0x24). */
#define CPUID_7_1_EDX_OK (B(4) | B(5) | B(14))
/* Leaf 0xD.1 EAX: XSAVEOPT, XSAVEC, XGETBV1; no XSAVES (IA32_XSS), XFD. */
#define CPUID_D_1_EAX_OK (B(0) | B(1) | B(2))
/* 0x80000001 ECX: KVM's without OSVW (9); no SVM (2): no nested guests. */
#define CPUID_X1_ECX_OK	(B(0) | B(1) | GENMASK(8, 4) | B(11) | B(16) |	\
			 B(21) | B(22))
/*
 * 0x80000001 EDX: KVM's without SYSCALL (11), MTRR (12), MCA (14), PAT
 * (16), FXSR_OPT (25, EFER.FFXSR) and RDTSCP (27).
 */
#define CPUID_X1_EDX_OK	(GENMASK(9, 0) | B(13) | B(15) | B(17) | B(20) | \
			 B(22) | B(23) | B(24) | B(26) | B(29) | B(30) | B(31))
/*
 * 0x80000008 EBX: CLZERO, XSAVEERPTR, WBNOINVD, SSB_NO; not the
 * IBPB/IBRS/STIBP/SSBD/PSFD controls (MSRs).
 */
#define CPUID_X8_EBX_OK	(B(0) | B(2) | B(9) | B(26))
/*
 * 0x80000021 EAX: KVM's without AutoIBRS (8, an EFER bit), SBPB and
 * IBPB_BRTYPE (27, 28: PRED_CMD).  NO_SMM_CTL_MSR (9) is always true.
 */
#define CPUID_X21_EAX_OK (B(0) | B(1) | B(2) | B(5) | B(6) | B(29) | B(30))
#define CPUID_X21_NO_SMM_CTL_MSR	B(9)
/* 0x80000021 ECX: TSA_SQ_NO, TSA_L1_NO, TSA_FILL_NO. */
#define CPUID_X21_ECX_OK (B(1) | B(2) | B(7))

#define CPUID_MAX_BASIC		0x24u
#define CPUID_MAX_EXT		0x80000022u

struct sup_table {
	struct kvm_cpuid_entry2 *e;
	u32 n, max;
};

/* KVM's kernel-view-and-raw word: what the kernel left on, and the CPU has. */
static u32 sup_word(enum cpuid_leafs word, u32 raw, u32 ok)
{
	return boot_cpu_data.x86_capability[word] & raw & ok;
}

/* Leaf 7.0 ECX: LA57 as the hardware has it; PKU with the host's OSPKE. */
static u32 sup_7_ecx(u32 raw)
{
	u32 ecx = sup_word(CPUID_7_ECX, raw, CPUID_7_ECX_OK);

	ecx |= raw & BIT(X86_FEATURE_LA57 & 31);
	if (boot_cpu_has(X86_FEATURE_OSPKE))
		ecx |= sup_word(CPUID_7_ECX, raw, BIT(X86_FEATURE_PKU & 31));
	return ecx;
}

static u32 sup_bit(unsigned int feature)
{
	return boot_cpu_has(feature) ? BIT(feature & 31) : 0;
}

/* Subleaves are significant for these functions (KVM's list). */
static bool sup_indexed(u32 fn)
{
	switch (fn) {
	case 4: case 7: case 0xb: case 0xd: case 0xf: case 0x10: case 0x12:
	case 0x14: case 0x17: case 0x18: case 0x1d: case 0x1e: case 0x1f:
	case 0x24: case 0x8000001d:
		return true;
	}
	return false;
}

/* The next entry, filled from the host's CPUID (zeros past its maximum). */
static struct kvm_cpuid_entry2 *sup_host(struct sup_table *t, u32 fn,
					 u32 idx)
{
	struct kvm_cpuid_entry2 *e;

	if (t->n >= t->max)
		return NULL;
	e = &t->e[t->n++];
	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	if ((fn & 0xc0000000) == 0x80000000 && fn > cpuid_eax(0x80000000))
		return e;
	cpuid_count(fn, idx, &e->eax, &e->ebx, &e->ecx, &e->edx);
	if (sup_indexed(fn))
		e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	return e;
}

static void sup_zero(struct kvm_cpuid_entry2 *e)
{
	e->eax = 0;
	e->ebx = 0;
	e->ecx = 0;
	e->edx = 0;
}

/* Leaf 0xD: the components the guest may enable, and their sizes. */
static int sup_xsave(struct sup_table *t, struct kvm_cpuid_entry2 *e)
{
	u64 xcr0 = lapicv_supported_xcr0();
	int i;

	e->eax &= xcr0;
	e->ebx = lapicv_xstate_size(xcr0, false);
	e->ecx = e->ebx;
	e->edx &= xcr0 >> 32;
	if (!xcr0)
		return 0;

	e = sup_host(t, 0xd, 1);
	if (!e)
		return -E2BIG;
	e->eax = sup_word(CPUID_D_1_EAX, e->eax, CPUID_D_1_EAX_OK);
	e->ebx = e->eax & BIT(X86_FEATURE_XSAVEC & 31) ?
		 lapicv_xstate_size(xcr0, true) : 0;
	/* No supervisor component: IA32_XSS is not virtualized. */
	e->ecx = 0;
	e->edx = 0;

	for (i = 2; i < 64; i++) {
		if (!(xcr0 & BIT_ULL(i)))
			continue;
		e = sup_host(t, 0xd, i);
		if (!e)
			return -E2BIG;
		/* A user component; no XFD. */
		if (!e->eax || (e->ecx & 1)) {
			t->n--;
			continue;
		}
		e->ecx &= ~BIT(2);
		e->edx = 0;
	}
	return 0;
}

static int sup_leaf(struct sup_table *t, u32 fn)
{
	struct kvm_cpuid_entry2 *e = sup_host(t, fn, 0);
	u32 max, i;

	if (!e)
		return -E2BIG;

	switch (fn) {
	case 0:
		e->eax = min(e->eax, CPUID_MAX_BASIC);
		break;
	case 1:
		e->ecx = sup_word(CPUID_1_ECX, e->ecx, CPUID_1_ECX_OK) |
			 BIT(X86_FEATURE_X2APIC & 31);
		e->edx = sup_word(CPUID_1_EDX, e->edx, CPUID_1_EDX_OK);
		break;
	case 2:
		break;
	case 4:
	case 0x8000001d:
		/* Until the cache type reads 0. */
		for (i = 1; e->eax & 0x1f; i++) {
			e = sup_host(t, fn, i);
			if (!e)
				return -E2BIG;
		}
		break;
	case 6:
		sup_zero(e);
		e->eax = BIT(2);	/* ARAT: the APIC timer runs in C-states */
		break;
	case 7:
		max = min(e->eax, 2u);
		e->eax = max;
		e->ebx = sup_word(CPUID_7_0_EBX, e->ebx, CPUID_7_EBX_OK);
		e->ecx = sup_7_ecx(e->ecx);
		e->edx = sup_word(CPUID_7_EDX, e->edx, CPUID_7_EDX_OK);
		if (max >= 1) {
			e = sup_host(t, 7, 1);
			if (!e)
				return -E2BIG;
			e->eax = sup_word(CPUID_7_1_EAX, e->eax,
					  CPUID_7_1_EAX_OK);
			e->edx &= CPUID_7_1_EDX_OK;
			e->ebx = 0;
			e->ecx = 0;
		}
		if (max >= 2) {
			/* Only speculation controls live in 7.2. */
			e = sup_host(t, 7, 2);
			if (!e)
				return -E2BIG;
			sup_zero(e);
		}
		break;
	case 0xb:
	case 0x1f:
		/* No topology: EDX (the x2APIC ID) only. */
		e->eax = 0;
		e->ebx = 0;
		e->ecx = 0;
		break;
	case 0xd:
		return sup_xsave(t, e);
	case 0x80000000:
		e->eax = min(e->eax, CPUID_MAX_EXT);
		if (e->eax >= 0x8000001d &&
		    (boot_cpu_has(X86_FEATURE_LFENCE_RDTSC) ||
		     !boot_cpu_has_bug(X86_BUG_NULL_SEG)))
			e->eax = max(e->eax, 0x80000021u);
		break;
	case 0x80000001:
		e->ebx &= ~GENMASK(27, 16);
		e->ecx = sup_word(CPUID_8000_0001_ECX, e->ecx,
				  CPUID_X1_ECX_OK);
		e->edx = sup_word(CPUID_8000_0001_EDX, e->edx,
				  CPUID_X1_EDX_OK);
		break;
	case 0x80000005:
		break;
	case 0x80000006:
		e->edx &= ~GENMASK(17, 16);
		break;
	case 0x80000007:
		/* Invariant TSC: the guest reads the host's TSC. */
		e->edx = sup_bit(X86_FEATURE_CONSTANT_TSC) &
			 boot_cpu_data.x86_power;
		e->eax = 0;
		e->ebx = 0;
		e->ecx = 0;
		break;
	case 0x80000008: {
		/*
		 * Nested paging: the CPU's MAXPHYADDR, and as the largest GPA
		 * the nested tables reach, 48 bits with 4 levels.
		 */
		u32 phys = e->eax & 0xff, virt = max((e->eax >> 8) & 0xff, 48u);
		u32 gphys = pgtable_l5_enabled() ? phys : min(phys, 48u);

		e->eax = phys | virt << 8 | gphys << 16;
		e->ebx = sup_word(CPUID_8000_0008_EBX, e->ebx,
				  CPUID_X8_EBX_OK);
		if (!boot_cpu_has_bug(X86_BUG_SPEC_STORE_BYPASS))
			e->ebx |= BIT(26);	/* SSB_NO */
		e->ecx &= ~(GENMASK(31, 16) | GENMASK(11, 8));
		e->edx = 0;
		break;
	}
	case 0x80000019:
		e->ecx = 0;
		e->edx = 0;
		break;
	case 0x8000001a:
		e->eax &= GENMASK(2, 0);
		e->ebx = 0;
		e->ecx = 0;
		e->edx = 0;
		break;
	case 0x80000021:
		e->eax = sup_word(CPUID_8000_0021_EAX, e->eax,
				  CPUID_X21_EAX_OK);
		e->eax |= sup_bit(X86_FEATURE_SRSO_NO) |
			  sup_bit(X86_FEATURE_VERW_CLEAR) |
			  CPUID_X21_NO_SMM_CTL_MSR;
		if (boot_cpu_has(X86_FEATURE_LFENCE_RDTSC))
			e->eax |= BIT(2);
		if (!boot_cpu_has_bug(X86_BUG_NULL_SEG))
			e->eax |= BIT(6);
		e->ecx &= CPUID_X21_ECX_OK;
		if (boot_cpu_has(X86_FEATURE_TSA_SQ_NO))
			e->ecx |= BIT(1);
		if (boot_cpu_has(X86_FEATURE_TSA_L1_NO))
			e->ecx |= BIT(2);
		e->ebx = 0;
		e->edx = 0;
		break;
	default:
		/*
		 * 3, 5, the PMU (0xa, 0x80000022), SGX, PT, AMX, AVX10, the
		 * SVM, SEV and topology leaves, the brand string: zeros.
		 */
		sup_zero(e);
		break;
	}
	return 0;
}

/* A range: its first leaf, then up to the maximum that leaf gives. */
static int sup_range(struct sup_table *t, u32 first)
{
	u32 fn, limit;
	int r;

	r = sup_leaf(t, first);
	if (r)
		return r;
	limit = t->e[t->n - 1].eax;
	for (fn = first + 1; fn <= limit; fn++) {
		r = sup_leaf(t, fn);
		if (r)
			return r;
	}
	return 0;
}

int lapicv_supported_cpuid(struct kvm_cpuid_entry2 *entries, u32 max,
			   u32 *nent)
{
	struct sup_table t = { .e = entries, .max = max };
	int r;

	/* Every CPUID on one CPU. */
	get_cpu();
	r = sup_range(&t, 0);
	if (!r)
		r = sup_range(&t, 0x80000000);
	put_cpu();
	*nent = t.n;
	return r;
}

u64 lapicv_supported_cr4_reserved(void)
{
	static const struct {
		bool leaf7;
		int reg;
		unsigned int feature;
		u64 cr4;
	} map[] = {
		{ false, CPUID_ECX, X86_FEATURE_XSAVE, X86_CR4_OSXSAVE },
		{ false, CPUID_ECX, X86_FEATURE_PCID, X86_CR4_PCIDE },
		{ true, CPUID_EBX, X86_FEATURE_SMEP, X86_CR4_SMEP },
		{ true, CPUID_EBX, X86_FEATURE_SMAP, X86_CR4_SMAP },
		{ true, CPUID_EBX, X86_FEATURE_FSGSBASE, X86_CR4_FSGSBASE },
		{ true, CPUID_ECX, X86_FEATURE_PKU, X86_CR4_PKE },
		{ true, CPUID_ECX, X86_FEATURE_LA57, X86_CR4_LA57 },
		{ true, CPUID_ECX, X86_FEATURE_UMIP, X86_CR4_UMIP },
	};
	u32 ecx1, ebx7 = 0, ecx7 = 0, eax, ebx, ecx, edx, reg;
	u64 rsvd = 0;
	int i;

	ecx1 = sup_word(CPUID_1_ECX, cpuid_ecx(1), CPUID_1_ECX_OK);
	if (cpuid_eax(0) >= 7) {
		cpuid_count(7, 0, &eax, &ebx, &ecx, &edx);
		ebx7 = sup_word(CPUID_7_0_EBX, ebx, CPUID_7_EBX_OK);
		ecx7 = sup_7_ecx(ecx);
	}
	for (i = 0; i < ARRAY_SIZE(map); i++) {
		reg = !map[i].leaf7 ? ecx1 : map[i].reg == CPUID_EBX ? ebx7 :
		      ecx7;
		if (!(reg & BIT(map[i].feature & 31)))
			rsvd |= map[i].cr4;
	}
	return rsvd;
}
