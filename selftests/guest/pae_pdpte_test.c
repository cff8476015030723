// SPDX-License-Identifier: GPL-2.0-only
/*
 * PAE paging outside long mode, on kvm_amd and on lapicv alike.  KVM
 * checks the four PDPTEs (its load_pdptrs()) when a guest's MOV to CR0
 * turns paging on with CR4.PAE set, or a MOV to CR4 changes PGE, PSE, PAE
 * or SMEP under PAE paging, nested paging or not: a present PDPTE with a
 * reserved bit makes the write a #GP.  The guest here runs 32-bit code
 * without an IDT, so that #GP ends in a triple fault (KVM_EXIT_SHUTDOWN);
 * with valid PDPTEs the write is done and the guest's OUT exits
 * (KVM_EXIT_IO).  KVM_SET_SREGS takes reserved bits in the PDPTEs without
 * a word: KVM loads them there without looking at the answer.
 *
 * The PDPTE with the reserved bit is PDPTE 2, which the guest's code
 * (identity-mapped through PDPTE 0) never walks through: the CPU alone
 * would not fault on it.  An emulated instruction's walk (the CR4 read)
 * looks at a PDPTE's P bit alone, as KVM's walker does.
 */
#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#include "guest_setup.h"

#define PAE_CR0_PE	(1u << 0)
#define PAE_CR0_ET	(1u << 4)
#define PAE_CR0_NE	(1u << 5)
#define PAE_CR0_PG	(1u << 31)
#define PAE_CR4_PAE	(1u << 5)
#define PAE_PTE_P	(1ull << 0)
#define PAE_PTE_RW	(1ull << 1)
#define PAE_PTE_PS	(1ull << 7)
#define PAE_PORT	0x80

/* The 32-bit guest code, copied to a page of guest memory. */
asm(".pushsection .rodata\n"
    ".code32\n"
    /* Paging on: CR0.PG with CR4.PAE already set. */
    "pae_cr0_code:\n"
    "	mov %cr0, %eax\n"
    "	or $0x80000000, %eax\n"
    "	mov %eax, %cr0\n"
    "	out %al, $0x80\n"
    "	hlt\n"
    "pae_cr0_end:\n"
    /*
     * Paging on with valid PDPTEs; CR4 read (emulated: a walk through
     * PDPTE 0, which the CPU has just marked accessed, bit 5); PDPTE 2 :=
     * EDI:EBX (at ESI) and PDPTE 0 := EDX (without that bit, which KVM
     * would refuse); then CR4.PGE on, no exit in between.
     */
    "pae_cr4_code:\n"
    "	mov %cr0, %eax\n"
    "	or $0x80000000, %eax\n"
    "	mov %eax, %cr0\n"
    "	mov %cr4, %eax\n"
    "	mov %ebx, (%esi)\n"
    "	mov %edi, 4(%esi)\n"
    "	mov %edx, -16(%esi)\n"
    "	or $0x80, %eax\n"
    "	mov %eax, %cr4\n"
    "	out %al, $0x80\n"
    "	hlt\n"
    "pae_cr4_end:\n"
    ".code64\n"
    ".popsection");

extern const uint8_t pae_cr0_code[], pae_cr0_end[];
extern const uint8_t pae_cr4_code[], pae_cr4_end[];

static void guest_unused(void)
{
}

/*
 * One guest: 32-bit protected mode with CR4.PAE and paging off, the first
 * GiB identity-mapped with 2 MiB pages through PDPTE 0, and PDPTE 2
 * present with bit 1 (reserved in a PDPTE): at once when bad_at_start,
 * else written by the guest itself (through ESI) when bad_later.  Runs
 * code and checks the exit.
 */
static void run_pae(const uint8_t *code, size_t len, bool bad_at_start,
		    bool bad_later, uint32_t want)
{
	vm_paddr_t pdpt, pd, text;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	uint64_t *e, bad;
	int i;

	vm = vm_create_with_one_vcpu(&vcpu, guest_unused);
	pdpt = vm_phy_page_alloc(vm, 0x100000, 0);
	pd = vm_phy_page_alloc(vm, 0x100000, 0);
	text = vm_phy_page_alloc(vm, 0x100000, 0);
	TEST_ASSERT(text < (1ull << 30), "guest memory above 1 GiB");

	e = addr_gpa2hva(vm, pd);
	for (i = 0; i < 512; i++)
		e[i] = ((uint64_t)i << 21) | PAE_PTE_P | PAE_PTE_RW | PAE_PTE_PS;
	bad = pd | PAE_PTE_P | PAE_PTE_RW;
	e = addr_gpa2hva(vm, pdpt);
	memset(e, 0, 4096);
	e[0] = pd | PAE_PTE_P;
	if (bad_at_start)
		e[2] = bad;
	memcpy(addr_gpa2hva(vm, text), code, len);

	vcpu_sregs_get(vcpu, &sregs);
	guest_flat_sregs(&sregs, false);
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.efer = 0;
	sregs.cr0 = PAE_CR0_PE | PAE_CR0_ET | PAE_CR0_NE;
	sregs.cr4 = PAE_CR4_PAE;
	sregs.cr3 = pdpt;
	vcpu_sregs_set(vcpu, &sregs);

	memset(&regs, 0, sizeof(regs));
	regs.rip = text;
	regs.rflags = 2;
	regs.rsi = pdpt + 16;
	regs.rbx = bad_later ? (uint32_t)bad : 0;
	regs.rdi = bad_later ? bad >> 32 : 0;
	regs.rdx = pd | PAE_PTE_P;
	vcpu_regs_set(vcpu, &regs);

	vcpu_run(vcpu);
	vcpu_regs_get(vcpu, &regs);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, want);
	if (want == KVM_EXIT_IO) {
		TEST_ASSERT_EQ(vcpu->run->io.port, PAE_PORT);
		vcpu_sregs_get(vcpu, &sregs);
		TEST_ASSERT_EQ(sregs.cr0 & PAE_CR0_PG, PAE_CR0_PG);
	}
	kvm_vm_free(vm);
}

/* KVM_SET_SREGS into PAE paging takes PDPTEs with reserved bits. */
static void set_sregs_bad_pdptes(void)
{
	struct kvm_sregs sregs;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	vm_paddr_t pdpt;
	uint64_t *e;

	vm = vm_create_with_one_vcpu(&vcpu, guest_unused);
	pdpt = vm_phy_page_alloc(vm, 0x100000, 0);
	e = addr_gpa2hva(vm, pdpt);
	memset(e, 0, 4096);
	e[1] = PAE_PTE_P | PAE_PTE_RW;
	vcpu_sregs_get(vcpu, &sregs);
	guest_flat_sregs(&sregs, false);
	sregs.efer = 0;
	sregs.cr0 = PAE_CR0_PE | PAE_CR0_ET | PAE_CR0_NE | PAE_CR0_PG;
	sregs.cr4 = PAE_CR4_PAE;
	sregs.cr3 = pdpt;
	TEST_ASSERT_EQ(_vcpu_sregs_set(vcpu, &sregs), 0);
	vcpu_sregs_get(vcpu, &sregs);
	TEST_ASSERT_EQ(sregs.cr3, pdpt);
	TEST_ASSERT_EQ(sregs.cr0 & PAE_CR0_PG, PAE_CR0_PG);
	kvm_vm_free(vm);
}

int main(void)
{
	size_t cr0_len = pae_cr0_end - pae_cr0_code;
	size_t cr4_len = pae_cr4_end - pae_cr4_code;

	run_pae(pae_cr0_code, cr0_len, false, false, KVM_EXIT_IO);
	run_pae(pae_cr0_code, cr0_len, true, false, KVM_EXIT_SHUTDOWN);
	run_pae(pae_cr4_code, cr4_len, false, false, KVM_EXIT_IO);
	run_pae(pae_cr4_code, cr4_len, false, true, KVM_EXIT_SHUTDOWN);
	set_sregs_bad_pdptes();
	return 0;
}
