// SPDX-License-Identifier: GPL-2.0-only
/*
 * An interrupt pending at "sti; hlt" wakes the HLT: the handler returns
 * past the HLT, never to it, even when an exit lands between the two
 * instructions, inside STI's interrupt shadow.
 *
 * The guest sends itself an IPI with IF=0 (so the VMM opens an IRQ
 * window), then runs "sti; hlt" with STI the last byte of a page and HLT
 * the first byte of the next one, which the guest has never touched: on
 * lapicv's runner (4 KiB nested mappings, made at the first access) the
 * fetch of the HLT exits with a nested page fault in the shadow.  A
 * runner that simply enters again with the shadow in the VMCB relies on
 * the CPU to keep it; QEMU's SVM (7.2) drops it, the window's VINTR exit
 * comes at once, the interrupt is injected before the HLT, and the
 * guest halts after its handler for good.  The handler checks where it
 * would return to; a LAPIC timer armed before ends such a HLT, so that a
 * failure is an assertion, not a hang.
 *
 * Runs on whatever /dev/kvm is, kvm_amd or lapicv, with the same
 * expectations, except that kvm_amd under QEMU's TCG is skipped: it
 * enters again with the shadow in the VMCB too, and fails the same way
 * (QEMU's bug, which lapicv's runner works around).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "apic.h"

#include "guest_util.h"

#define SHADOW_VECTOR	0x51
#define TIMER_VECTOR	0x52

/* STI ends one page, HLT starts the next, which holds nothing else. */
asm(".pushsection .text.hlt_shadow, \"ax\"\n"
    ".balign 4096\n"
    ".skip 4095, 0x90\n"
    "shadow_sti:\n"
    "	sti\n"
    "shadow_hlt:\n"
    "	hlt\n"
    "shadow_after_hlt:\n"
    "	cli\n"
    "	ret\n"
    ".balign 4096, 0xcc\n"
    ".popsection\n");

extern char shadow_sti[], shadow_hlt[], shadow_after_hlt[];

static uint64_t irq_rip;
static uint32_t irqs;

static void shadow_irq_handler(struct ex_regs *regs)
{
	irq_rip = regs->rip;
	irqs++;
	x2apic_write_reg(APIC_EOI, 0);
}

static void timer_handler(struct ex_regs *regs)
{
	x2apic_write_reg(APIC_EOI, 0);
}

static void guest_code(void)
{
	x2apic_enable();
	/* The way out of a HLT that the IPI did not end: about 0.1 s. */
	x2apic_write_reg(APIC_TDCR, 0xb);
	x2apic_write_reg(APIC_LVTT, TIMER_VECTOR);
	x2apic_write_reg(APIC_TMICT, 100000000);
	/* Pending with IF=0: the VMM opens an IRQ window for it. */
	x2apic_write_reg(APIC_ICR, APIC_DEST_SELF | APIC_DM_FIXED |
			 SHADOW_VECTOR);
	asm volatile("call shadow_sti" ::: "memory");
	x2apic_write_reg(APIC_TMICT, 0);
	GUEST_ASSERT_EQ(READ_ONCE(irqs), 1);
	GUEST_ASSERT_EQ(READ_ONCE(irq_rip), (uint64_t)shadow_after_hlt);
	GUEST_DONE();
}

/* /dev/kvm is lapicv's node (the rig makes it so for lapicv's turn). */
static bool dev_kvm_is_lapicv(void)
{
	unsigned int maj, min;
	struct stat st;
	FILE *f;
	int n;

	f = fopen("/sys/class/misc/lapicv/dev", "r");
	if (!f)
		return false;
	n = fscanf(f, "%u:%u", &maj, &min);
	fclose(f);
	return n == 2 && !stat("/dev/kvm", &st) &&
	       st.st_rdev == makedev(maj, min);
}

/* The CPU is QEMU's TCG (hypervisor leaf signature "TCGTCGTCGTCG"). */
static bool cpu_is_tcg(void)
{
	uint32_t eax, sig[3];

	if (!this_cpu_has(X86_FEATURE_HYPERVISOR))
		return false;
	cpuid(0x40000000, &eax, &sig[0], &sig[1], &sig[2]);
	return !memcmp(sig, "TCGTCGTCGTCG", sizeof(sig));
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;

	__TEST_REQUIRE(dev_kvm_is_lapicv() || !cpu_is_tcg(),
		       "kvm_amd on QEMU's TCG: its VMRUN drops the shadow");
	TEST_REQUIRE(kvm_cpu_has(X86_FEATURE_X2APIC));
	/* The section's alignment: HLT starts the second page. */
	TEST_ASSERT_EQ((uint64_t)shadow_hlt % 4096, 0);
	TEST_ASSERT_EQ(shadow_hlt - shadow_sti, 1);

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	vm_install_exception_handler(vm, SHADOW_VECTOR, shadow_irq_handler);
	vm_install_exception_handler(vm, TIMER_VECTOR, timer_handler);
	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_DONE);
	kvm_vm_free(vm);
	pr_info("sti; hlt, an exit in the shadow: the IPI returned past the HLT\n");
	return 0;
}
