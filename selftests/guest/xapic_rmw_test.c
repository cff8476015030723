// SPDX-License-Identifier: GPL-2.0-only
/*
 * Instructions other than MOV on the xAPIC page, on kvm_amd and on lapicv
 * alike: OR, AND, XOR, ADD and SUB with an immediate or a register (LOCK
 * OR too) read the register, change it and write it back; CMP and TEST
 * only read it and leave their flags; XCHG exchanges it with a register;
 * a 1-byte TEST reads the low byte.  The task priority register and the
 * spurious-interrupt vector register's enable bit (hand-written startup
 * code ORs it in) are the targets.  The host checks the
 * TPR's final value with KVM_GET_LAPIC.  The TPR keeps bits 7:4 only:
 * KVM copies V_TPR back into it after every exit.
 */
#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "apic.h"

#include "guest_util.h"

#define RMW_REG(off)	(*(volatile uint32_t *)(APIC_DEFAULT_GPA + (off)))
#define RMW_TPR		RMW_REG(APIC_TASKPRI)
#define RMW_SPIV	RMW_REG(APIC_SPIV)
#define RMW_CF		(1ul << 0)
#define RMW_ZF		(1ul << 6)
#define RMW_SF		(1ul << 7)
#define RMW_FINAL_TPR	0x50

/* The arithmetic flags an instruction on the TPR leaves. */
#define RMW_FLAGS(insn, ...)						\
	({								\
		uint64_t __f;						\
		asm volatile(insn "\n\tpushf\n\tpop %[f]"		\
			     : [f] "=r" (__f), [m] "+m" (RMW_TPR)	\
			     : __VA_ARGS__ : "cc", "memory");		\
		__f & (RMW_CF | RMW_ZF | RMW_SF);			\
	})

static void guest_code(void)
{
	uint32_t val;

	xapic_enable();

	/*
	 * Without a CR8 write intercept (no interrupt pending) the TPR
	 * follows V_TPR after every exit, bits 3:0 lost (KVM's
	 * sync_cr8_to_lapic()): the read back is itself an exit.
	 */
	xapic_write_reg(APIC_TASKPRI, 0x2f);
	GUEST_ASSERT_EQ(xapic_read_reg(APIC_TASKPRI), 0x20);

	/* Read-modify-write with an immediate, and with a register. */
	asm volatile("orl $0x10, %0" : "+m"(RMW_TPR) : : "memory");
	GUEST_ASSERT_EQ(xapic_read_reg(APIC_TASKPRI), 0x30);
	asm volatile("lock orl %1, %0" : "+m"(RMW_TPR) : "r"(0xc0u) : "memory");
	GUEST_ASSERT_EQ(xapic_read_reg(APIC_TASKPRI), 0xf0);
	asm volatile("andl $0x3c, %0" : "+m"(RMW_TPR) : : "memory");
	GUEST_ASSERT_EQ(xapic_read_reg(APIC_TASKPRI), 0x30);
	asm volatile("xorl %1, %0" : "+m"(RMW_TPR) : "r"(0x20u) : "memory");
	GUEST_ASSERT_EQ(xapic_read_reg(APIC_TASKPRI), 0x10);
	asm volatile("addl $0x80, %0" : "+m"(RMW_TPR) : : "memory");
	GUEST_ASSERT_EQ(xapic_read_reg(APIC_TASKPRI), 0x90);
	asm volatile("subl %1, %0" : "+m"(RMW_TPR) : "r"(0x40u) : "memory");
	GUEST_ASSERT_EQ(xapic_read_reg(APIC_TASKPRI), 0x50);

	/* Flags: ZF, CF (borrow) and SF from memory's value. */
	GUEST_ASSERT_EQ(RMW_FLAGS("cmpl $0x50, %[m]"), RMW_ZF);
	GUEST_ASSERT_EQ(RMW_FLAGS("cmpl %[r], %[m]", [r] "r"(0x60u)),
			RMW_CF | RMW_SF);
	GUEST_ASSERT_EQ(RMW_FLAGS("testl $0x20, %[m]"), RMW_ZF);
	GUEST_ASSERT_EQ(RMW_FLAGS("testb $0x40, %[m]"), 0);
	GUEST_ASSERT_EQ(RMW_FLAGS("subl $0x50, %[m]"), RMW_ZF);
	GUEST_ASSERT_EQ(xapic_read_reg(APIC_TASKPRI), 0);
	GUEST_ASSERT_EQ(RMW_FLAGS("addl $0xf0, %[m]"), 0);

	/* XCHG: the old value in the register, the new one in the TPR. */
	val = RMW_FINAL_TPR;
	asm volatile("xchgl %1, %0" : "+m"(RMW_TPR), "+r"(val) : : "memory");
	GUEST_ASSERT_EQ(val, 0xf0);
	GUEST_ASSERT_EQ(xapic_read_reg(APIC_TASKPRI), RMW_FINAL_TPR);

	/* The APIC's software enable, cleared and set again in place. */
	asm volatile("andl %1, %0" : "+m"(RMW_SPIV)
		     : "i"(~APIC_SPIV_APIC_ENABLED) : "memory");
	GUEST_ASSERT_EQ(xapic_read_reg(APIC_SPIV) & APIC_SPIV_APIC_ENABLED, 0);
	asm volatile("orl %1, %0" : "+m"(RMW_SPIV)
		     : "i"(APIC_SPIV_APIC_ENABLED) : "memory");
	GUEST_ASSERT(xapic_read_reg(APIC_SPIV) & APIC_SPIV_APIC_ENABLED);
	GUEST_DONE();
}

int main(void)
{
	struct kvm_lapic_state lapic;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	virt_pg_map(vm, APIC_DEFAULT_GPA, APIC_DEFAULT_GPA);
	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_DONE);
	vcpu_ioctl(vcpu, KVM_GET_LAPIC, &lapic);
	TEST_ASSERT_EQ(*(uint32_t *)&lapic.regs[APIC_TASKPRI], RMW_FINAL_TPR);
	kvm_vm_free(vm);
	return 0;
}
