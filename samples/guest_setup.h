/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hand-built guests: what the sample VMM (guest_vmm.c) and the selftests
 * that build their guests without a library (guest_run_test.c,
 * guest_fuzz_test.c) share.  Only libc and <linux/kvm.h>; every helper
 * returns what failed (-1 or MAP_FAILED, errno set) and leaves the
 * message to its caller.
 *
 * Any mode: guest memory as memslot 0, a vCPU's kvm_run, flat segments,
 * a CPUID table with an AMD CPU's first two leaves.
 *
 * 64-bit mode, the selftests' layout: a GDT (64-bit code at selector 8,
 * data at 0x10), page tables that identity-map the first 2 MiB and map
 * the 2 MiB around the xAPIC page (0xfee00000) uncached, an IDT of
 * 64-bit gates, and the control registers of long mode.
 */
#ifndef SAMPLES_GUEST_SETUP_H
#define SAMPLES_GUEST_SETUP_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>

/* ---- any mode ---- */

/*
 * @size bytes of anonymous memory as memslot 0 at guest-physical 0, or
 * MAP_FAILED (the memory unmapped again if the VM refused it).
 */
static inline uint8_t *guest_mem_create(int vm, size_t size)
{
	struct kvm_userspace_memory_region r = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = size,
	};
	void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (mem == MAP_FAILED)
		return MAP_FAILED;
	r.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r)) {
		munmap(mem, size);
		return MAP_FAILED;
	}
	return mem;
}

/* A vCPU's struct kvm_run (KVM_GET_VCPU_MMAP_SIZE bytes), or MAP_FAILED. */
static inline struct kvm_run *guest_run_map(int dev, int vcpu, size_t *size)
{
	int sz = ioctl(dev, KVM_GET_VCPU_MMAP_SIZE, 0);

	if (sz < (int)sizeof(struct kvm_run))
		return MAP_FAILED;
	*size = sz;
	return mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
}

/*
 * A flat, present segment: base 0, 4 GiB (G), DPL 0.  @l: 64-bit code
 * (D/B clear); else D/B set (32-bit code, or data).
 */
static inline void guest_flat_seg(struct kvm_segment *s, uint16_t sel,
				  uint8_t type, bool l)
{
	memset(s, 0, sizeof(*s));
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->l = l;
	s->db = !l;
	s->g = 1;
}

/*
 * The flat segments of a GDT with code at selector 8 and data at 0x10: CS
 * (64-bit code when @l, else 32-bit), DS, ES, FS, GS and SS.
 */
static inline void guest_flat_sregs(struct kvm_sregs *s, bool l)
{
	guest_flat_seg(&s->cs, 8, 11, l);
	guest_flat_seg(&s->ds, 0x10, 3, false);
	s->es = s->ds;
	s->fs = s->ds;
	s->gs = s->ds;
	s->ss = s->ds;
}

/* The most CPUID entries guest_set_cpuid() takes. */
#define GUEST_CPUID_MAX		8

/*
 * KVM_SET_CPUID2 with the @n entries at @e, leaves 0 (AuthenticAMD,
 * @max_leaf) and 1 (family 0x19) put into e[0] and e[1] first, the rest
 * of those two as the caller left them.
 */
static inline int guest_set_cpuid(int vcpu, struct kvm_cpuid_entry2 *e,
				  unsigned int n, uint32_t max_leaf)
{
	struct {
		struct kvm_cpuid2 hdr;
		struct kvm_cpuid_entry2 e[GUEST_CPUID_MAX];
	} c;

	if (n < 2 || n > GUEST_CPUID_MAX) {
		errno = EINVAL;
		return -1;
	}
	e[0].function = 0;
	e[0].eax = max_leaf;
	memcpy(&e[0].ebx, "Auth", 4);
	memcpy(&e[0].edx, "enti", 4);
	memcpy(&e[0].ecx, "cAMD", 4);
	e[1].function = 1;
	e[1].eax = 0x00a00f11;
	memset(&c, 0, sizeof(c));
	c.hdr.nent = n;
	memcpy(c.e, e, n * sizeof(*e));
	return ioctl(vcpu, KVM_SET_CPUID2, &c);
}

/* ---- 64-bit mode: the selftests' layout ---- */

#define GUEST64_GDT_GPA		0x1000
#define GUEST64_PML4_GPA	0x2000
#define GUEST64_PDPT_GPA	0x3000
#define GUEST64_PD_GPA		0x4000
#define GUEST64_IDT_GPA		0x5000
/* The page directory of the 4th GiB, with the xAPIC page's 2 MiB. */
#define GUEST64_PD_APIC_GPA	0x6000
/* FPU, PSE, PAE, APIC, FXSR, SSE, SSE2, ...: what KVM checks CR4 against. */
#define GUEST64_LEAF1_EDX	0x078bfbffu

/* The GDT and page tables, in guest memory from 0x1000 to 0x7000. */
static inline void guest64_build_tables(uint8_t *mem)
{
	uint64_t *gdt = (uint64_t *)(mem + GUEST64_GDT_GPA);

	gdt[1] = 0x00af9b000000ffffULL;		/* 64-bit code, selector 8 */
	gdt[2] = 0x00cf93000000ffffULL;		/* data, selector 0x10 */
	*(uint64_t *)(mem + GUEST64_PML4_GPA) = GUEST64_PDPT_GPA | 3;
	*(uint64_t *)(mem + GUEST64_PDPT_GPA) = GUEST64_PD_GPA | 3;
	*(uint64_t *)(mem + GUEST64_PD_GPA) = 0x83;	/* 2 MiB at 0, RW */
	/* 2 MiB at 0xfee00000 (the xAPIC page), RW, uncached. */
	*(uint64_t *)(mem + GUEST64_PDPT_GPA + 3 * 8) = GUEST64_PD_APIC_GPA | 3;
	*(uint64_t *)(mem + GUEST64_PD_APIC_GPA + 0x1f7 * 8) = 0xfee00000 | 0x93;
}

/* IDT entry @vec: a 64-bit interrupt gate to @addr, selector 8. */
static inline void guest64_set_gate(uint8_t *mem, int vec, uint64_t addr)
{
	uint64_t *g = (uint64_t *)(mem + GUEST64_IDT_GPA + vec * 16);

	g[0] = (addr & 0xffff) | 8ULL << 16 | 0x8eULL << 40 |
	       ((addr >> 16) & 0xffff) << 48;
	g[1] = addr >> 32;
}

/*
 * Long mode on the tables above: flat segments, a TR, the GDT, the IDT
 * with @idt_limit (0: none, the first exception a triple fault), paging
 * with PAE, SSE enabled.  The rest of @s is left as it is.
 */
static inline void guest64_sregs(struct kvm_sregs *s, uint16_t idt_limit)
{
	guest_flat_sregs(s, true);
	s->tr.limit = 0x67;
	s->tr.type = 11;
	s->tr.present = 1;
	s->gdt.base = GUEST64_GDT_GPA;
	s->gdt.limit = 0x17;
	s->idt.base = GUEST64_IDT_GPA;
	s->idt.limit = idt_limit;
	s->cr0 = 0x80000033;		/* PG | NE | ET | MP | PE */
	s->cr3 = GUEST64_PML4_GPA;
	s->cr4 = 0x620;			/* OSXMMEXCPT | OSFXSR | PAE */
	s->efer = 0x500;		/* LMA | LME */
}

/*
 * The CPUID table of a 64-bit guest: leaves 0, 1 (@leaf1_ecx, and EDX
 * as above), 0x80000000, 0x80000001 with long mode, NX, SYSCALL (KVM
 * checks EFER against them) and RDTSCP (#UD on KVM without it), and 7
 * with PKU (KVM checks CR4.PKE against it).
 */
static inline int guest64_set_cpuid(int vcpu, uint32_t leaf1_ecx)
{
	struct kvm_cpuid_entry2 e[5];

	memset(e, 0, sizeof(e));
	e[1].ecx = leaf1_ecx;
	e[1].edx = GUEST64_LEAF1_EDX;
	e[2].function = 0x80000000;
	e[2].eax = 0x80000001;
	e[3].function = 0x80000001;
	e[3].edx = 1u << 29 | 1u << 27 | 1u << 20 | 1u << 11;
	e[4].function = 7;
	e[4].flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	e[4].ecx = 1u << 3;
	return guest_set_cpuid(vcpu, e, 5, 7);
}

#endif /* SAMPLES_GUEST_SETUP_H */
