// SPDX-License-Identifier: GPL-2.0-only
/*
 * Bad inputs to every ioctl lapicv answers: bad pointers, sizes,
 * out-of-range vectors and ids, the wrong fd kind, a forked child and the
 * wrong order.  One table, one row per (fd, ioctl, bad input) with the
 * errno; Documentation/api.rst, "Bad input", lists the same rows.
 *
 * Each row gets a fresh set of fds (a split-irqchip VM with vCPUs 0 and 1,
 * a VM without split irqchip with vCPU 0, a split VM without vCPUs), a
 * snapshot of everything a VMM can read back (KVM_GET_LAPIC, MP state,
 * APIC base, KVM_GET_CPUID2, KVM_GET_VCPU_EVENTS of every vCPU;
 * LAPICV_GET_INHIBITS of every
 * VM and LAPICV_GET_VCPU_STATS on lapicv), the failing ioctl, and a second
 * snapshot that must equal the first: a refused ioctl changes nothing.
 *
 * KVM-compatible rows run on /dev/lapicv and /dev/kvm with the same
 * expectation, which proves the errno is KVM's.  Rows marked ON_LAPICV are
 * lapicv's own ioctls or a difference api.rst lists as deliberate; rows
 * marked ON_KVM are divergences lapicv does not intend (see the comment at
 * each).  BAD_INPUT_ALL=1 runs every row on either device, to see where
 * the two differ.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/lapicv.h>

#include "kselftest_harness.h"
#include "lapic_util.h"

#ifndef KVM_MEM_GUEST_MEMFD
#define KVM_MEM_GUEST_MEMFD	(1u << 2)
#endif

/* Rows spell a bad input as a valid one with a field overridden. */
#pragma GCC diagnostic ignored "-Woverride-init"

#define PAGE		4096ul
/* Guest memory: slot 0 (2 pages, gpa 0x100000), slot 1 (read-only). */
#define GUEST_HVA	0x100000000000ul
#define GUEST_PAGES	4
#define SLOT0_GPA	0x100000ul
#define SLOT1_GPA	0x200000ul
#define NO_SLOT_GPA	0x300000ul
/* The vector the baseline MSI leaves in vCPU 0's IRR. */
#define PENDING_VECTOR	0x40

/* Which fd a row uses. */
enum {
	F_SYS,		/* the device */
	F_VM,		/* split irqchip, vCPUs 0 and 1 */
	F_VCPU,		/* vCPU 0 of F_VM */
	F_VCPU1,	/* vCPU 1 of F_VM */
	F_VM_NS,	/* no split irqchip, vCPU 0 */
	F_VCPU_NS,	/* its vCPU: no LAPIC on lapicv */
	F_VM_EMPTY,	/* split irqchip, no vCPU */
	NR_FDS,
};

static const char * const fd_names[NR_FDS] = {
	"system", "VM", "vCPU", "vCPU 1", "VM (no split irqchip)",
	"vCPU (no split irqchip)", "VM (no vCPU)",
};

/* How the argument is passed. */
enum {
	A_VAL,		/* .val itself */
	A_BUF,		/* .in, in a writable page */
	A_RO,		/* .in, in a read-only page */
	A_NONE,		/* a PROT_NONE page */
	A_EDGE,		/* .in's first .cut bytes, then a PROT_NONE page */
};

/* Set up before the first snapshot. */
enum {
	P_NONE,
	P_EXTINT,	/* KVM_INTERRUPT 0x20 on vCPU 0 */
	P_LAPIC,	/* .in = vCPU 0's KVM_GET_LAPIC with a new TPR/LVTT */
	P_X2APIC_ID,	/* 32-bit IDs, vCPU 0 in x2APIC; .in: ID 5, SPIV 0 */
	P_32BIT_IDS,	/* KVM_X2APIC_API_USE_32BIT_IDS on F_VM */
	P_ADJ_SLOT,	/* F_VM: slot 2 (1 page) right after slot 0 */
	P_WFS,		/* vCPU 1 in wait-for-SIPI (INIT_RECEIVED) */
	P_SMI,		/* vCPU 1 with an SMI latched (SET_VCPU_EVENTS) */
	P_EVENTS,	/* .in = vCPU 0's KVM_GET_VCPU_EVENTS, plus .in's flags */
};

enum { ON_BOTH, ON_LAPICV, ON_KVM };

enum { G_SYS, G_VM, G_VCPU, G_FD_KIND, G_CHILD, G_ORDER };

union input {
	struct kvm_enable_cap cap;
	struct kvm_msi msi;
	struct kvm_userspace_memory_region mem;
	struct kvm_interrupt irq;
	struct kvm_mp_state mp;
	struct kvm_vapic_addr va;
	struct kvm_lapic_state lapic;
	struct lapicv_run run;
	struct lapicv_guest_access ga;
	struct lapicv_inhibit_op inh;
	struct kvm_vcpu_events ev;
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[2];
	} msrs;
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[4];
	} cpuid;
	struct {
		struct kvm_irq_routing h;
		struct kvm_irq_routing_entry e[2];
	} routing;
};

struct row {
	int group;
	int fd;
	unsigned long ioctl;
	const char *name;	/* the ioctl's name */
	const char *what;	/* the bad input */
	int arg;
	unsigned long val;
	bool max_vcpu_id;	/* A_VAL: .val + KVM_CAP_MAX_VCPU_ID */
	size_t cut;
	union input in;
	int prep;
	int err;		/* expected errno; 0: returns .ret */
	long ret;
	int on;
	bool child;		/* issued from a forked child */
	bool kvm_changes;	/* KVM changes state: api.rst's difference */
};

#define R(g, f, ioc, w, ...) \
	{ .group = g, .fd = f, .ioctl = ioc, .name = #ioc, .what = w, __VA_ARGS__ }
#define VAL(v)		.arg = A_VAL, .val = (v)
#define NONE		.arg = A_NONE
#define IN_(a, m, ...)	.arg = a, .in = { .m = { __VA_ARGS__ } }
#define IN(m, ...)	IN_(A_BUF, m, __VA_ARGS__)
#define RO(m, ...)	IN_(A_RO, m, __VA_ARGS__)
#define EDGE(c, m, ...)	IN_(A_EDGE, m, __VA_ARGS__), .cut = (c)
#define E(e)		.err = (e)
#define RET(r)		.err = 0, .ret = (r)

#define MSR1(i, d)	.h = { .nmsrs = 1 }, .e = { { .index = (i), .data = (d) } }
#define BASE_BSP_EN	(APIC_BASE_DEFAULT | APIC_BASE_EN | APIC_BASE_BSP)
/* A fixed MSI to vCPU 1 (physical destination 1), vector 0x41. */
#define MSI_TO_1	.address_lo = 0xfee01000, .data = 0x41
#define SLOT(s, g, n, h) \
	.slot = (s), .guest_phys_addr = (g), .memory_size = (n) * PAGE, \
	.userspace_addr = GUEST_HVA + (h) * PAGE
#define CPUID_LEAF1(c) \
	.h = { .nent = 2 }, .e = { { .function = 0, .eax = 1 }, \
	{ .function = 1, .ecx = (c), .edx = CPUID1_EDX_APIC } }
/* Two MSI routes (GSIs 0 and 1, level, to vCPU 1) and a variant of one. */
#define ROUTE(g, ...)	{ .gsi = (g), .type = KVM_IRQ_ROUTING_MSI, \
			  .u.msi = { .address_lo = 0xfee01000, .data = 0x8041 }, \
			  __VA_ARGS__ }
#define ROUTES(...)	.h = { .nr = 2 }, .e = { ROUTE(0), ROUTE(1, __VA_ARGS__) }
#define RUN_OK		.rflags_if = 1
#define TPR_WRITE	.type = LAPICV_ACCESS_MMIO_WRITE, .size = 4, \
			.address = APIC_TASKPRI, .data = 0x20

static const struct row rows[] = {
	/* ---- system fd ---- */
	R(G_SYS, F_SYS, KVM_GET_API_VERSION, "argument 1", VAL(1), E(EINVAL)),
	R(G_SYS, F_SYS, KVM_CREATE_VM, "type 5 (upstream's TDX)", VAL(5),
	  E(EINVAL)),
	R(G_SYS, F_SYS, KVM_CREATE_VM, "type 64", VAL(64), E(EINVAL)),
	R(G_SYS, F_SYS, KVM_CREATE_VM, "type 0x100000", VAL(0x100000),
	  E(EINVAL)),
	R(G_SYS, F_SYS, KVM_CREATE_VM, "type ~0", VAL(~0ul), E(EINVAL)),
	R(G_SYS, F_SYS, KVM_CHECK_EXTENSION, "unknown capability (answers 0)",
	  VAL(100000), RET(0)),
	R(G_SYS, F_SYS, KVM_CHECK_EXTENSION, "capability -1 (answers 0)",
	  VAL(-1ul), RET(0)),
	R(G_SYS, F_SYS, KVM_GET_SUPPORTED_CPUID, "bad pointer", NONE,
	  E(EFAULT)),
	R(G_SYS, F_SYS, KVM_GET_SUPPORTED_CPUID, "nent 0", IN(cpuid, .h.nent = 0),
	  E(E2BIG)),
	R(G_SYS, F_SYS, KVM_GET_SUPPORTED_CPUID, "nent 3", IN(cpuid, .h.nent = 3),
	  E(E2BIG)),
	R(G_SYS, F_SYS, KVM_GET_SUPPORTED_CPUID, "entries not writable (header only)",
	  EDGE(sizeof(struct kvm_cpuid2), cpuid, .h.nent = 256), E(EFAULT)),
	R(G_SYS, F_SYS, KVM_GET_SUPPORTED_CPUID, "read-only buffer",
	  RO(cpuid, .h.nent = 256), E(EFAULT)),

	/* ---- VM fd ---- */
	R(G_VM, F_VM, KVM_CREATE_VCPU, "id KVM_CAP_MAX_VCPU_ID",
	  VAL(0), .max_vcpu_id = true, E(EINVAL)),
	R(G_VM, F_VM, KVM_CREATE_VCPU, "id 1 << 32 (not truncated)",
	  VAL(1ul << 32), E(EINVAL)),
	R(G_VM, F_VM, KVM_CREATE_VCPU, "id ~0", VAL(~0ul), E(EINVAL)),
	R(G_VM, F_VM, KVM_CREATE_VCPU, "id in use", VAL(1), E(EEXIST)),
	R(G_VM, F_VM, KVM_ENABLE_CAP, "bad pointer", NONE, E(EFAULT)),
	R(G_VM, F_VM, KVM_ENABLE_CAP, "struct cut short",
	  EDGE(8, cap, .cap = KVM_CAP_X2APIC_API, .args = { 1 }), E(EFAULT)),
	R(G_VM, F_VM, KVM_ENABLE_CAP, "flags 1",
	  IN(cap, .cap = KVM_CAP_X2APIC_API, .flags = 1, .args = { 1 }),
	  E(EINVAL)),
	R(G_VM, F_VM, KVM_ENABLE_CAP, "unknown capability",
	  IN(cap, .cap = 100000), E(EINVAL)),
	R(G_VM, F_VM, KVM_ENABLE_CAP, "SPLIT_IRQCHIP, 4097 pins",
	  IN(cap, .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 4097 }), E(EINVAL)),
	R(G_VM, F_VM, KVM_ENABLE_CAP, "X2APIC_API, flag bit 2",
	  IN(cap, .cap = KVM_CAP_X2APIC_API, .args = { 4 }), E(EINVAL)),
	R(G_VM, F_VM, KVM_ENABLE_CAP, "X2APIC_API, flags ~0",
	  IN(cap, .cap = KVM_CAP_X2APIC_API, .args = { ~0ull }), E(EINVAL)),
	R(G_VM, F_VM, KVM_SIGNAL_MSI, "bad pointer", NONE, E(EFAULT)),
	R(G_VM, F_VM, KVM_SIGNAL_MSI, "struct cut short",
	  EDGE(16, msi, MSI_TO_1), E(EFAULT)),
	R(G_VM, F_VM, KVM_SIGNAL_MSI, "flags 2",
	  IN(msi, MSI_TO_1, .flags = 2), E(EINVAL)),
	R(G_VM, F_VM, KVM_SIGNAL_MSI, "flags bit 31",
	  IN(msi, MSI_TO_1, .flags = 1u << 31), E(EINVAL)),
	R(G_VM, F_VM, KVM_SIGNAL_MSI, "32-bit IDs, address_hi[7:0] not 0",
	  IN(msi, MSI_TO_1, .address_hi = 1), .prep = P_32BIT_IDS, E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_USER_MEMORY_REGION, "bad pointer", NONE,
	  E(EFAULT)),
	R(G_VM, F_VM, KVM_SET_USER_MEMORY_REGION, "struct cut short",
	  EDGE(16, mem, SLOT(2, NO_SLOT_GPA, 1, 3)), E(EFAULT)),
	R(G_VM, F_VM, KVM_SET_USER_MEMORY_REGION, "slot 32764",
	  IN(mem, SLOT(32764, NO_SLOT_GPA, 1, 3)), E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_USER_MEMORY_REGION, "address space 2",
	  IN(mem, SLOT(2 << 16, NO_SLOT_GPA, 1, 3)), E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_USER_MEMORY_REGION, "flags KVM_MEM_GUEST_MEMFD",
	  IN(mem, SLOT(2, NO_SLOT_GPA, 1, 3), .flags = KVM_MEM_GUEST_MEMFD),
	  E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_USER_MEMORY_REGION, "flags bit 7",
	  IN(mem, SLOT(2, NO_SLOT_GPA, 1, 3), .flags = 0x80), E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_USER_MEMORY_REGION, "size not page-aligned",
	  IN(mem, SLOT(2, NO_SLOT_GPA, 1, 3), .memory_size = 0x800), E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_USER_MEMORY_REGION, "gpa not page-aligned",
	  IN(mem, SLOT(2, NO_SLOT_GPA + 0x800, 1, 3)), E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_USER_MEMORY_REGION, "userspace_addr not page-aligned",
	  IN(mem, SLOT(2, NO_SLOT_GPA, 1, 3), .userspace_addr = GUEST_HVA + 0x800),
	  E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_USER_MEMORY_REGION, "userspace_addr a kernel address",
	  IN(mem, SLOT(2, NO_SLOT_GPA, 1, 3),
	     .userspace_addr = 0xffff888000000000ul),
	  E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_USER_MEMORY_REGION, "gpa + size wraps",
	  IN(mem, SLOT(2, 0xfffffffffffff000ul, 2, 3)), E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_USER_MEMORY_REGION, "2^31 pages",
	  IN(mem, SLOT(2, NO_SLOT_GPA, 1ul << 31, 0)), E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_USER_MEMORY_REGION, "overlaps slot 0",
	  IN(mem, SLOT(2, SLOT0_GPA + PAGE, 1, 3)), E(EEXIST)),
	R(G_VM, F_VM, KVM_SET_USER_MEMORY_REGION, "slot 0 resized",
	  IN(mem, SLOT(0, SLOT0_GPA, 1, 0)), E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_USER_MEMORY_REGION, "slot 0 new userspace_addr",
	  IN(mem, SLOT(0, SLOT0_GPA, 2, 1)), E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_USER_MEMORY_REGION, "slot 0 made read-only",
	  IN(mem, SLOT(0, SLOT0_GPA, 2, 0), .flags = KVM_MEM_READONLY),
	  E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_USER_MEMORY_REGION, "delete an empty slot",
	  IN(mem, .slot = 5), E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_GSI_ROUTING, "bad pointer", NONE, E(EFAULT)),
	R(G_VM, F_VM, KVM_SET_GSI_ROUTING, "header cut short",
	  EDGE(4, routing, ROUTES()), E(EFAULT)),
	R(G_VM, F_VM, KVM_SET_GSI_ROUTING, "nr 4097",
	  IN(routing, ROUTES(), .h.nr = 4097), E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_GSI_ROUTING, "flags 1",
	  IN(routing, ROUTES(), .h.flags = 1), E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_GSI_ROUTING, "second entry unreadable",
	  EDGE(sizeof(struct kvm_irq_routing) +
	       sizeof(struct kvm_irq_routing_entry) + 8, routing, ROUTES()),
	  E(EFAULT)),
	R(G_VM, F_VM, KVM_SET_GSI_ROUTING, "gsi 4096",
	  IN(routing, ROUTES(.gsi = 4096)), E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_GSI_ROUTING, "two routes for one GSI",
	  IN(routing, ROUTES(.gsi = 0)), E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_GSI_ROUTING, "MSI flags 2",
	  IN(routing, ROUTES(.flags = 2)), E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_GSI_ROUTING, "IRQCHIP route, split irqchip",
	  IN(routing, ROUTES(.type = KVM_IRQ_ROUTING_IRQCHIP,
			     .u.irqchip = { KVM_IRQCHIP_IOAPIC, 1 })), E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_GSI_ROUTING, "IRQCHIP route with flags 1",
	  IN(routing, ROUTES(.type = KVM_IRQ_ROUTING_IRQCHIP, .flags = 1,
			     .u.irqchip = { KVM_IRQCHIP_IOAPIC, 1 })), E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_GSI_ROUTING, "type 99",
	  IN(routing, ROUTES(.type = 99)), E(EINVAL)),
	R(G_VM, F_VM, KVM_SET_GSI_ROUTING, "32-bit IDs, address_hi[7:0] not 0",
	  IN(routing, ROUTES(.u.msi = { 0xfee01000, 1, 0x41 })),
	  .prep = P_32BIT_IDS, E(EINVAL)),
	/* api.rst: lapicv has no Hyper-V SynIC; KVM takes the route. */
	R(G_VM, F_VM, KVM_SET_GSI_ROUTING, "HV_SINT route",
	  IN(routing, ROUTES(.type = KVM_IRQ_ROUTING_HV_SINT)), E(EINVAL),
	  .on = ON_LAPICV),
	R(G_VM, F_VM, LAPICV_SET_INHIBIT, "bad pointer", NONE, E(EFAULT),
	  .on = ON_LAPICV),
	R(G_VM, F_VM, LAPICV_SET_INHIBIT, "struct cut short",
	  EDGE(4, inh, .reason = LAPICV_INHIBIT_HYPERV, .set = 1), E(EFAULT),
	  .on = ON_LAPICV),
	R(G_VM, F_VM, LAPICV_SET_INHIBIT, "reason LAPICV_NR_INHIBITS",
	  IN(inh, .reason = LAPICV_NR_INHIBITS, .set = 1), E(EINVAL),
	  .on = ON_LAPICV),
	R(G_VM, F_VM, LAPICV_SET_INHIBIT, "reason ~0",
	  IN(inh, .reason = ~0u, .set = 1), E(EINVAL), .on = ON_LAPICV),
	R(G_VM, F_VM, LAPICV_SET_INHIBIT, "a reason lapicv owns (ABSENT)",
	  IN(inh, .reason = LAPICV_INHIBIT_ABSENT, .set = 1), E(EINVAL),
	  .on = ON_LAPICV),
	R(G_VM, F_VM, LAPICV_SET_INHIBIT, "set 2",
	  IN(inh, .reason = LAPICV_INHIBIT_HYPERV, .set = 2), E(EINVAL),
	  .on = ON_LAPICV),
	R(G_VM, F_VM_EMPTY, LAPICV_ENABLE_PROTECTED_APIC, "argument 1", VAL(1),
	  E(EINVAL), .on = ON_LAPICV),
	R(G_VM, F_VM, LAPICV_GET_INHIBITS, "bad pointer", NONE, E(EFAULT),
	  .on = ON_LAPICV),
	R(G_VM, F_VM, LAPICV_GET_INHIBITS, "read-only buffer",
	  RO(inh, .reason = 0), E(EFAULT), .on = ON_LAPICV),
	R(G_VM, F_VM, LAPICV_GET_VM_STATS, "bad pointer", NONE, E(EFAULT),
	  .on = ON_LAPICV),
	R(G_VM, F_VM, LAPICV_GET_VM_STATS, "read-only buffer",
	  RO(inh, .reason = 0), E(EFAULT), .on = ON_LAPICV),

	/* ---- vCPU fd ---- */
	R(G_VCPU, F_VCPU, KVM_GET_LAPIC, "bad pointer", NONE, E(EFAULT)),
	R(G_VCPU, F_VCPU, KVM_GET_LAPIC, "read-only buffer",
	  RO(lapic, .regs = { 0 }), E(EFAULT)),
	R(G_VCPU, F_VCPU, KVM_SET_LAPIC, "bad pointer", NONE, E(EFAULT)),
	R(G_VCPU, F_VCPU, KVM_SET_LAPIC, "last byte unreadable",
	  EDGE(sizeof(struct kvm_lapic_state) - 1, lapic, .regs = { 0 }),
	  .prep = P_LAPIC, E(EFAULT)),
	/* api.rst: KVM has applied the new SPIV when it refuses. */
	R(G_VCPU, F_VCPU, KVM_SET_LAPIC, "x2APIC ID changed with 32-bit IDs",
	  IN(lapic, .regs = { 0 }), .prep = P_X2APIC_ID, E(EINVAL),
	  .kvm_changes = true),
	R(G_VCPU, F_VCPU, KVM_GET_MSRS, "bad pointer", NONE, E(EFAULT)),
	R(G_VCPU, F_VCPU, KVM_GET_MSRS, "nmsrs 256",
	  IN(msrs, .h = { .nmsrs = 256 }), E(E2BIG)),
	R(G_VCPU, F_VCPU, KVM_GET_MSRS, "entries unreadable",
	  EDGE(sizeof(struct kvm_msrs), msrs, MSR1(MSR_IA32_APICBASE, 0)),
	  E(EFAULT)),
	R(G_VCPU, F_VCPU, KVM_GET_MSRS, "read-only buffer",
	  RO(msrs, MSR1(MSR_IA32_APICBASE, 0)), E(EFAULT)),
	R(G_VCPU, F_VCPU, KVM_SET_MSRS, "bad pointer", NONE, E(EFAULT)),
	R(G_VCPU, F_VCPU, KVM_SET_MSRS, "nmsrs 256",
	  IN(msrs, .h = { .nmsrs = 256 },
	     .e = { { .index = MSR_IA32_APICBASE, .data = BASE_BSP_EN | APIC_BASE_EXTD } }),
	  E(E2BIG)),
	R(G_VCPU, F_VCPU, KVM_SET_MSRS, "nmsrs ~0",
	  IN(msrs, .h = { .nmsrs = ~0u },
	     .e = { { .index = MSR_IA32_APICBASE, .data = BASE_BSP_EN | APIC_BASE_EXTD } }),
	  E(E2BIG)),
	R(G_VCPU, F_VCPU, KVM_SET_MSRS, "second entry unreadable",
	  EDGE(sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry) + 8, msrs,
	       .h = { .nmsrs = 2 },
	       .e = { { .index = MSR_IA32_APICBASE, .data = BASE_BSP_EN | APIC_BASE_EXTD },
		      { .index = X2APIC_MSR(APIC_TASKPRI), .data = 0x50 } }),
	  E(EFAULT)),
	R(G_VCPU, F_VCPU, KVM_SET_MSRS, "APIC base bit 0 (0 entries set)",
	  IN(msrs, MSR1(MSR_IA32_APICBASE, BASE_BSP_EN | 1)), RET(0)),
	R(G_VCPU, F_VCPU, KVM_SET_MSRS, "APIC base EXTD without EN (0 entries set)",
	  IN(msrs, MSR1(MSR_IA32_APICBASE, APIC_BASE_DEFAULT | APIC_BASE_BSP | APIC_BASE_EXTD)),
	  RET(0)),
	R(G_VCPU, F_VCPU, KVM_SET_MSRS, "x2APIC TPR in xAPIC mode (0 entries set)",
	  IN(msrs, MSR1(X2APIC_MSR(APIC_TASKPRI), 0x50)), RET(0)),
	R(G_VCPU, F_VCPU, KVM_SET_CPUID2, "bad pointer", NONE, E(EFAULT)),
	R(G_VCPU, F_VCPU, KVM_SET_CPUID2, "nent 257",
	  IN(cpuid, .h = { .nent = 257 }), E(E2BIG)),
	R(G_VCPU, F_VCPU, KVM_SET_CPUID2, "nent ~0",
	  IN(cpuid, .h = { .nent = ~0u }), E(E2BIG)),
	R(G_VCPU, F_VCPU, KVM_SET_CPUID2, "last entry unreadable",
	  EDGE(sizeof(struct kvm_cpuid2) + 2 * sizeof(struct kvm_cpuid_entry2) - 4,
	       cpuid, CPUID_LEAF1(0)), E(EFAULT)),
	R(G_VCPU, F_VCPU, KVM_SET_CPUID2, "0x80000008 virtual width 40",
	  IN(cpuid, .h = { .nent = 2 },
	     .e = { { .function = 0x80000000, .eax = 0x80000008 },
		    { .function = 0x80000008, .eax = 40 << 8 | 40 } }),
	  E(EINVAL)),
	/*
	 * Deliberate (api.rst): KVM's kvm_check_cpuid() asks the FPU for
	 * dynamic xfeatures (AMX tile data, leaf 0xD EAX bit 18) and fails
	 * with -EPERM without ARCH_REQ_XCOMP_GUEST_PERM; lapicv, which has no
	 * FPU state, accepts the table.
	 */
	R(G_VCPU, F_VCPU, KVM_SET_CPUID2, "0xD.0 EAX bit 18 (AMX) not permitted",
	  IN(cpuid, .h = { .nent = 1 },
	     .e = { { .function = 0xd, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
		      .eax = 0x3 | 1u << 18 } }),
	  E(EPERM), .on = ON_KVM),
	R(G_VCPU, F_VCPU, KVM_GET_CPUID2, "bad pointer", NONE, E(EFAULT)),
	R(G_VCPU, F_VCPU, KVM_GET_CPUID2, "nent 0 (table has 4)",
	  IN(cpuid, .h = { .nent = 0 }), E(E2BIG)),
	R(G_VCPU, F_VCPU, KVM_GET_CPUID2, "nent 3 (table has 4)",
	  IN(cpuid, .h = { .nent = 3 }), E(E2BIG)),
	R(G_VCPU, F_VCPU, KVM_GET_CPUID2, "entries not writable (header only)",
	  EDGE(sizeof(struct kvm_cpuid2), cpuid, .h = { .nent = 4 }),
	  E(EFAULT)),
	R(G_VCPU, F_VCPU, KVM_GET_CPUID2, "read-only buffer",
	  RO(cpuid, .h = { .nent = 4 }), E(EFAULT)),
	R(G_VCPU, F_VCPU, KVM_INTERRUPT, "bad pointer", NONE, E(EFAULT)),
	R(G_VCPU, F_VCPU, KVM_INTERRUPT, "irq 256", IN(irq, .irq = 256),
	  E(EINVAL)),
	R(G_VCPU, F_VCPU, KVM_INTERRUPT, "irq ~0", IN(irq, .irq = ~0u),
	  E(EINVAL)),
	R(G_VCPU, F_VCPU, KVM_GET_MP_STATE, "bad pointer", NONE, E(EFAULT)),
	R(G_VCPU, F_VCPU, KVM_GET_MP_STATE, "read-only buffer",
	  RO(mp, .mp_state = 0), E(EFAULT)),
	R(G_VCPU, F_VCPU, KVM_SET_MP_STATE, "bad pointer", NONE, E(EFAULT)),
	R(G_VCPU, F_VCPU1, KVM_SET_MP_STATE, "KVM_MP_STATE_STOPPED (5)",
	  IN(mp, .mp_state = KVM_MP_STATE_STOPPED), E(EINVAL)),
	R(G_VCPU, F_VCPU1, KVM_SET_MP_STATE, "KVM_MP_STATE_SUSPENDED (9)",
	  IN(mp, .mp_state = KVM_MP_STATE_SUSPENDED), E(EINVAL)),
	R(G_VCPU, F_VCPU1, KVM_SET_MP_STATE, "state ~0",
	  IN(mp, .mp_state = ~0u), E(EINVAL)),
	R(G_VCPU, F_VCPU, KVM_GET_VCPU_EVENTS, "bad pointer", NONE, E(EFAULT)),
	R(G_VCPU, F_VCPU, KVM_GET_VCPU_EVENTS, "read-only buffer",
	  RO(ev, .flags = 0), E(EFAULT)),
	R(G_VCPU, F_VCPU, KVM_SET_VCPU_EVENTS, "bad pointer", NONE, E(EFAULT)),
	R(G_VCPU, F_VCPU, KVM_SET_VCPU_EVENTS, "struct cut short",
	  EDGE(32, ev, .nmi.masked = 1), E(EFAULT)),
	R(G_VCPU, F_VCPU, KVM_SET_VCPU_EVENTS, "flags bit 6",
	  IN(ev, .flags = 1u << 6, .nmi.masked = 1), E(EINVAL)),
	R(G_VCPU, F_VCPU, KVM_SET_VCPU_EVENTS, "flags ~0",
	  IN(ev, .flags = ~0u, .nmi.masked = 1), E(EINVAL)),
	R(G_VCPU, F_VCPU, KVM_SET_VCPU_EVENTS, "VALID_PAYLOAD (cap not enabled)",
	  IN(ev, .flags = KVM_VCPUEVENT_VALID_PAYLOAD, .nmi.masked = 1),
	  E(EINVAL)),
	R(G_VCPU, F_VCPU, KVM_SET_VCPU_EVENTS, "exception 32 injected",
	  IN(ev, .exception = { .injected = 1, .nr = 32 }, .nmi.masked = 1),
	  E(EINVAL)),
	R(G_VCPU, F_VCPU, KVM_SET_VCPU_EVENTS, "exception 2 (NMI) injected",
	  IN(ev, .exception = { .injected = 1, .nr = 2 }, .nmi.masked = 1),
	  E(EINVAL)),
	/* KVM applies the rest first: the row passes the current state. */
	R(G_VCPU, F_VCPU, KVM_SET_VCPU_EVENTS, "VALID_TRIPLE_FAULT (cap not enabled)",
	  IN(ev, .flags = KVM_VCPUEVENT_VALID_TRIPLE_FAULT), .prep = P_EVENTS,
	  E(EINVAL)),
	/* api.rst: lapicv has no SMM; KVM enters it. */
	R(G_VCPU, F_VCPU, KVM_SET_VCPU_EVENTS, "smi.smm 1",
	  IN(ev, .flags = KVM_VCPUEVENT_VALID_SMM, .smi.smm = 1), E(EINVAL),
	  .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, KVM_SET_VAPIC_ADDR, "bad pointer", NONE, E(EFAULT)),
	R(G_VCPU, F_VCPU, KVM_SET_VAPIC_ADDR, "gpa in no slot",
	  IN(va, .vapic_addr = NO_SLOT_GPA), E(EINVAL)),
	R(G_VCPU, F_VCPU, KVM_SET_VAPIC_ADDR, "gpa in a read-only slot",
	  IN(va, .vapic_addr = SLOT1_GPA), E(EINVAL)),
	R(G_VCPU, F_VCPU, KVM_SET_VAPIC_ADDR, "word crosses the slot's end",
	  IN(va, .vapic_addr = SLOT0_GPA + 2 * PAGE - 2), E(EINVAL)),
	/*
	 * Deliberate (api.rst): with a slot right after slot 0, KVM's
	 * __kvm_gfn_to_hva_cache_init() accepts a word spanning both slots
	 * (its slow path); lapicv's memslot_gpa_to_hva() wants the word
	 * inside one slot: -EINVAL.
	 */
	R(G_VCPU, F_VCPU, KVM_SET_VAPIC_ADDR, "word spans two adjacent slots",
	  IN(va, .vapic_addr = SLOT0_GPA + 2 * PAGE - 2), .prep = P_ADJ_SLOT,
	  RET(0), .on = ON_KVM),
	R(G_VCPU, F_VCPU, KVM_SET_VAPIC_ADDR, "word spans two slots (lapicv)",
	  IN(va, .vapic_addr = SLOT0_GPA + 2 * PAGE - 2), .prep = P_ADJ_SLOT,
	  E(EINVAL), .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_RUN, "bad pointer", NONE, E(EFAULT),
	  .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_RUN, "read-only buffer (nothing injected)",
	  RO(run, RUN_OK), E(EFAULT), .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_RUN, "struct cut short",
	  EDGE(8, run, RUN_OK), E(EFAULT), .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_RUN, "flags 1", IN(run, RUN_OK, .flags = 1),
	  E(EINVAL), .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_RUN, "pad 1", IN(run, RUN_OK, .pad = 1),
	  E(EINVAL), .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_RUN, "reserved[2] 1",
	  IN(run, RUN_OK, .reserved = { 0, 0, 1 }), E(EINVAL),
	  .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_RUN, "rflags_if 2", IN(run, .rflags_if = 2),
	  E(EINVAL), .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_RUN, "interrupt_shadow 2",
	  IN(run, RUN_OK, .interrupt_shadow = 2), E(EINVAL), .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_RUN, "nmi_blocked 255",
	  IN(run, RUN_OK, .nmi_blocked = 255), E(EINVAL), .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_RUN, "halted 2", IN(run, RUN_OK, .halted = 2),
	  E(EINVAL), .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_GUEST_ACCESS, "bad pointer", NONE, E(EFAULT),
	  .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_GUEST_ACCESS, "read-only buffer (TPR not written)",
	  RO(ga, TPR_WRITE), E(EFAULT), .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_GUEST_ACCESS, "type 4",
	  IN(ga, TPR_WRITE, .type = 4), E(EINVAL), .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_GUEST_ACCESS, "MMIO size 3",
	  IN(ga, TPR_WRITE, .size = 3), E(EINVAL), .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_GUEST_ACCESS, "MMIO size 8",
	  IN(ga, TPR_WRITE, .size = 8), E(EINVAL), .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_GUEST_ACCESS, "MMIO offset 0x1000",
	  IN(ga, TPR_WRITE, .address = 0x1000), E(EINVAL), .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_GUEST_ACCESS, "MMIO write data above 32 bits",
	  IN(ga, TPR_WRITE, .data = 1ull << 32), E(EINVAL), .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_GUEST_ACCESS, "MSR size 4",
	  IN(ga, .type = LAPICV_ACCESS_MSR_READ, .size = 4,
	     .address = X2APIC_MSR(APIC_TASKPRI)), E(EINVAL), .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_GUEST_ACCESS, "MSR 0x7ff",
	  IN(ga, .type = LAPICV_ACCESS_MSR_READ, .address = 0x7ff), E(EINVAL),
	  .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_GUEST_ACCESS, "MSR 0x900",
	  IN(ga, .type = LAPICV_ACCESS_MSR_WRITE, .address = 0x900), E(EINVAL),
	  .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_GUEST_ACCESS, "reserved[1] 1",
	  IN(ga, TPR_WRITE, .reserved = { 0, 1 }), E(EINVAL), .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_GUEST_ACCESS, "fault 1 on input",
	  IN(ga, TPR_WRITE, .fault = 1), E(EINVAL), .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_GET_VCPU_STATS, "bad pointer", NONE, E(EFAULT),
	  .on = ON_LAPICV),
	R(G_VCPU, F_VCPU, LAPICV_GET_VCPU_STATS, "read-only buffer",
	  RO(run, .flags = 0), E(EFAULT), .on = ON_LAPICV),

	/* ---- wrong fd kind ---- */
	R(G_FD_KIND, F_SYS, KVM_CREATE_VCPU, "VM ioctl on the system fd",
	  VAL(2), E(EINVAL)),
	R(G_FD_KIND, F_SYS, KVM_SIGNAL_MSI, "VM ioctl on the system fd",
	  IN(msi, MSI_TO_1), E(EINVAL)),
	R(G_FD_KIND, F_SYS, KVM_GET_STATS_FD, "VM/vCPU ioctl on the system fd",
	  VAL(0), E(EINVAL)),
	R(G_FD_KIND, F_SYS, KVM_GET_LAPIC, "vCPU ioctl on the system fd",
	  IN(lapic, .regs = { 0 }), E(EINVAL)),
	R(G_FD_KIND, F_SYS, KVM_NMI, "vCPU ioctl on the system fd", VAL(0),
	  E(EINVAL)),
	R(G_FD_KIND, F_SYS, LAPICV_RUN, "vCPU ioctl on the system fd",
	  IN(run, RUN_OK), E(EINVAL), .on = ON_LAPICV),
	R(G_FD_KIND, F_VM, KVM_GET_API_VERSION, "system ioctl on a VM fd",
	  VAL(0), E(ENOTTY)),
	R(G_FD_KIND, F_VM, KVM_CREATE_VM, "system ioctl on a VM fd", VAL(0),
	  E(ENOTTY)),
	R(G_FD_KIND, F_VM, KVM_GET_LAPIC, "vCPU ioctl on a VM fd",
	  IN(lapic, .regs = { 0 }), E(ENOTTY)),
	R(G_FD_KIND, F_VM, KVM_SET_LAPIC, "vCPU ioctl on a VM fd",
	  IN(lapic, .regs = { 0 }), .prep = P_LAPIC, E(ENOTTY)),
	R(G_FD_KIND, F_VM, KVM_SET_MSRS, "vCPU ioctl on a VM fd",
	  IN(msrs, MSR1(MSR_IA32_APICBASE, BASE_BSP_EN | APIC_BASE_EXTD)), E(ENOTTY)),
	R(G_FD_KIND, F_VM, KVM_NMI, "vCPU ioctl on a VM fd", VAL(0),
	  E(ENOTTY)),
	R(G_FD_KIND, F_VM, KVM_INTERRUPT, "vCPU ioctl on a VM fd",
	  IN(irq, .irq = 0x20), E(ENOTTY)),
	R(G_FD_KIND, F_VM, KVM_SMI, "vCPU ioctl on a VM fd", VAL(0),
	  E(ENOTTY)),
	R(G_FD_KIND, F_VM, KVM_GET_VCPU_EVENTS, "vCPU ioctl on a VM fd",
	  IN(ev, .flags = 0), E(ENOTTY)),
	R(G_FD_KIND, F_VM, LAPICV_RUN, "vCPU ioctl on a VM fd",
	  IN(run, RUN_OK), E(ENOTTY), .on = ON_LAPICV),
	R(G_FD_KIND, F_VCPU, KVM_GET_API_VERSION, "system ioctl on a vCPU fd",
	  VAL(0), E(EINVAL)),
	R(G_FD_KIND, F_VCPU, KVM_CREATE_VCPU, "VM ioctl on a vCPU fd", VAL(2),
	  E(EINVAL)),
	R(G_FD_KIND, F_VCPU, KVM_CHECK_EXTENSION, "VM ioctl on a vCPU fd",
	  VAL(KVM_CAP_SPLIT_IRQCHIP), E(EINVAL)),
	R(G_FD_KIND, F_VCPU, KVM_ENABLE_CAP, "VM ioctl on a vCPU fd",
	  IN(cap, .cap = KVM_CAP_X2APIC_API, .args = { 1 }), E(EINVAL)),
	/* The vCPU KVM_ENABLE_CAP reads its struct first, as KVM's does. */
	R(G_FD_KIND, F_VCPU, KVM_ENABLE_CAP, "on a vCPU fd, bad pointer", NONE,
	  E(EFAULT)),
	R(G_FD_KIND, F_VCPU, KVM_SIGNAL_MSI, "VM ioctl on a vCPU fd",
	  IN(msi, MSI_TO_1), E(EINVAL)),
	R(G_FD_KIND, F_VCPU, KVM_SET_USER_MEMORY_REGION, "VM ioctl on a vCPU fd",
	  IN(mem, SLOT(2, NO_SLOT_GPA, 1, 3)), E(EINVAL)),
	R(G_FD_KIND, F_VCPU, LAPICV_SET_INHIBIT, "VM ioctl on a vCPU fd",
	  IN(inh, .reason = LAPICV_INHIBIT_HYPERV, .set = 1), E(EINVAL),
	  .on = ON_LAPICV),

	/* ---- a forked child: -EIO on VM and vCPU fds ---- */
	R(G_CHILD, F_SYS, KVM_CHECK_EXTENSION, "system fd: not refused (answers 1)",
	  VAL(KVM_CAP_SPLIT_IRQCHIP), RET(1), .child = true),
	R(G_CHILD, F_VM, KVM_CHECK_EXTENSION, "VM fd",
	  VAL(KVM_CAP_SPLIT_IRQCHIP), E(EIO), .child = true),
	R(G_CHILD, F_VM, KVM_CREATE_VCPU, "VM fd", VAL(2),
	  E(EIO), .child = true),
	R(G_CHILD, F_VM, KVM_ENABLE_CAP, "VM fd",
	  IN(cap, .cap = KVM_CAP_X2APIC_API, .args = { 1 }), E(EIO),
	  .child = true),
	R(G_CHILD, F_VM, KVM_SIGNAL_MSI, "VM fd",
	  IN(msi, MSI_TO_1), E(EIO), .child = true),
	R(G_CHILD, F_VM, KVM_SET_USER_MEMORY_REGION, "VM fd",
	  IN(mem, SLOT(2, NO_SLOT_GPA, 1, 3)), E(EIO), .child = true),
	R(G_CHILD, F_VM, KVM_GET_STATS_FD, "VM fd", VAL(0),
	  E(EIO), .child = true),
	R(G_CHILD, F_VM, LAPICV_SET_INHIBIT, "VM fd",
	  IN(inh, .reason = LAPICV_INHIBIT_HYPERV, .set = 1), E(EIO),
	  .child = true, .on = ON_LAPICV),
	R(G_CHILD, F_VCPU, KVM_GET_LAPIC, "vCPU fd",
	  IN(lapic, .regs = { 0 }), E(EIO), .child = true),
	R(G_CHILD, F_VCPU, KVM_SET_LAPIC, "vCPU fd",
	  IN(lapic, .regs = { 0 }), .prep = P_LAPIC, E(EIO), .child = true),
	R(G_CHILD, F_VCPU, KVM_SET_MSRS, "vCPU fd",
	  IN(msrs, MSR1(MSR_IA32_APICBASE, BASE_BSP_EN | APIC_BASE_EXTD)), E(EIO),
	  .child = true),
	R(G_CHILD, F_VCPU, KVM_SET_CPUID2, "vCPU fd",
	  IN(cpuid, CPUID_LEAF1(0)), E(EIO), .child = true),
	R(G_CHILD, F_VCPU, KVM_NMI, "vCPU fd", VAL(0), E(EIO),
	  .child = true),
	R(G_CHILD, F_VCPU, KVM_INTERRUPT, "vCPU fd",
	  IN(irq, .irq = 0x20), E(EIO), .child = true),
	R(G_CHILD, F_VCPU1, KVM_SET_MP_STATE, "vCPU fd",
	  IN(mp, .mp_state = KVM_MP_STATE_RUNNABLE), E(EIO), .child = true),
	R(G_CHILD, F_VCPU, KVM_SMI, "vCPU fd", VAL(0), E(EIO), .child = true),
	R(G_CHILD, F_VCPU, KVM_GET_VCPU_EVENTS, "vCPU fd", IN(ev, .flags = 0),
	  E(EIO), .child = true),
	R(G_CHILD, F_VCPU, KVM_SET_VCPU_EVENTS, "vCPU fd",
	  IN(ev, .nmi.masked = 1), E(EIO), .child = true),
	R(G_CHILD, F_VCPU, KVM_GET_STATS_FD, "vCPU fd", VAL(0),
	  E(EIO), .child = true),
	R(G_CHILD, F_VCPU, LAPICV_RUN, "vCPU fd", IN(run, RUN_OK),
	  E(EIO), .child = true, .on = ON_LAPICV),
	R(G_CHILD, F_VCPU, LAPICV_GUEST_ACCESS, "vCPU fd",
	  IN(ga, TPR_WRITE), E(EIO), .child = true, .on = ON_LAPICV),

	/* ---- wrong order ---- */
	R(G_ORDER, F_VM, KVM_ENABLE_CAP, "SPLIT_IRQCHIP after vCPUs",
	  IN(cap, .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 24 }), E(EEXIST)),
	R(G_ORDER, F_VM_NS, KVM_ENABLE_CAP, "SPLIT_IRQCHIP after a vCPU",
	  IN(cap, .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 24 }), E(EEXIST)),
	R(G_ORDER, F_VM_NS, KVM_ENABLE_CAP, "SPLIT_IRQCHIP after a vCPU, 4097 pins",
	  IN(cap, .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 4097 }), E(EINVAL)),
	R(G_ORDER, F_VM_EMPTY, KVM_ENABLE_CAP, "SPLIT_IRQCHIP twice",
	  IN(cap, .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 24 }), E(EEXIST)),
	R(G_ORDER, F_VCPU, KVM_INTERRUPT, "an ExtINT already pending",
	  IN(irq, .irq = 0x21), .prep = P_EXTINT, E(EEXIST)),
	/* KVM takes an SMI before INIT: no INIT/SIPI state while one waits. */
	R(G_ORDER, F_VCPU1, KVM_SET_MP_STATE, "INIT_RECEIVED with an SMI pending",
	  IN(mp, .mp_state = KVM_MP_STATE_INIT_RECEIVED), .prep = P_SMI,
	  E(EINVAL)),
	R(G_ORDER, F_VCPU1, KVM_SET_MP_STATE, "SIPI_RECEIVED with an SMI pending",
	  IN(mp, .mp_state = KVM_MP_STATE_SIPI_RECEIVED), .prep = P_SMI,
	  E(EINVAL)),
	R(G_ORDER, F_VCPU1, KVM_SET_VCPU_EVENTS, "SMI pending in INIT_RECEIVED",
	  IN(ev, .flags = KVM_VCPUEVENT_VALID_SMM, .smi.pending = 1),
	  .prep = P_WFS, E(EINVAL)),
	R(G_ORDER, F_VM_NS, KVM_SIGNAL_MSI, "no split irqchip",
	  IN(msi, MSI_TO_1), E(EINVAL)),
	R(G_ORDER, F_VM_NS, KVM_SET_GSI_ROUTING, "no split irqchip",
	  IN(routing, ROUTES()), E(EINVAL)),
	R(G_ORDER, F_VCPU_NS, KVM_GET_LAPIC, "no split irqchip",
	  IN(lapic, .regs = { 0 }), E(EINVAL)),
	R(G_ORDER, F_VCPU_NS, KVM_GET_LAPIC, "no split irqchip, bad pointer",
	  NONE, E(EINVAL)),
	R(G_ORDER, F_VCPU_NS, KVM_SET_LAPIC, "no split irqchip",
	  IN(lapic, .regs = { 0 }), .prep = P_LAPIC, E(EINVAL)),
	R(G_ORDER, F_VCPU_NS, KVM_SET_LAPIC, "no split irqchip, bad pointer",
	  NONE, E(EINVAL)),
	R(G_ORDER, F_VCPU_NS, KVM_SET_VAPIC_ADDR, "no split irqchip",
	  IN(va, .vapic_addr = SLOT0_GPA), E(EINVAL)),
	R(G_ORDER, F_VCPU_NS, KVM_SET_MP_STATE, "no split irqchip, HALTED",
	  IN(mp, .mp_state = KVM_MP_STATE_HALTED), E(EINVAL)),
	/* api.rst: KVM serves these for its userspace-APIC model. */
	R(G_ORDER, F_VCPU_NS, KVM_SET_MP_STATE, "no split irqchip, RUNNABLE",
	  IN(mp, .mp_state = KVM_MP_STATE_RUNNABLE), E(EINVAL),
	  .on = ON_LAPICV),
	R(G_ORDER, F_VCPU_NS, KVM_GET_MP_STATE, "no split irqchip",
	  IN(mp, .mp_state = 0), E(EINVAL), .on = ON_LAPICV),
	R(G_ORDER, F_VCPU_NS, KVM_GET_MSRS, "no split irqchip",
	  IN(msrs, MSR1(MSR_IA32_APICBASE, 0)), E(EINVAL), .on = ON_LAPICV),
	R(G_ORDER, F_VCPU_NS, KVM_SET_MSRS, "no split irqchip",
	  IN(msrs, MSR1(MSR_IA32_APICBASE, BASE_BSP_EN | APIC_BASE_EXTD)), E(EINVAL),
	  .on = ON_LAPICV),
	R(G_ORDER, F_VCPU_NS, KVM_SET_CPUID2, "no split irqchip",
	  IN(cpuid, CPUID_LEAF1(0)), E(EINVAL), .on = ON_LAPICV),
	R(G_ORDER, F_VCPU_NS, KVM_GET_CPUID2, "no split irqchip",
	  IN(cpuid, .h = { .nent = 4 }), E(EINVAL), .on = ON_LAPICV),
	R(G_ORDER, F_VCPU_NS, KVM_NMI, "no split irqchip", VAL(0), E(EINVAL),
	  .on = ON_LAPICV),
	R(G_ORDER, F_VCPU_NS, KVM_INTERRUPT, "no split irqchip",
	  IN(irq, .irq = 0x20), E(EINVAL), .on = ON_LAPICV),
	R(G_ORDER, F_VCPU_NS, KVM_SMI, "no split irqchip", VAL(0), E(EINVAL),
	  .on = ON_LAPICV),
	R(G_ORDER, F_VCPU_NS, KVM_GET_VCPU_EVENTS, "no split irqchip",
	  IN(ev, .flags = 0), E(EINVAL), .on = ON_LAPICV),
	R(G_ORDER, F_VCPU_NS, KVM_SET_VCPU_EVENTS, "no split irqchip",
	  IN(ev, .flags = 0), E(EINVAL), .on = ON_LAPICV),
	R(G_ORDER, F_VCPU_NS, LAPICV_RUN, "no split irqchip", IN(run, RUN_OK),
	  E(ENXIO), .on = ON_LAPICV),
	R(G_ORDER, F_VCPU_NS, LAPICV_GUEST_ACCESS, "no split irqchip",
	  IN(ga, TPR_WRITE), E(ENXIO), .on = ON_LAPICV),
	R(G_ORDER, F_VCPU_NS, LAPICV_GET_VCPU_STATS, "no split irqchip",
	  IN(run, .flags = 0), E(ENXIO), .on = ON_LAPICV),
};

struct env {
	int fd[NR_FDS];
	char *mem;	/* page 0 rw, page 1 rw or ro, page 2 PROT_NONE */
};

/* Everything a VMM can read back, with each getter's result. */
struct vcpu_snap {
	long lapic_r, mp_r, base_r, cpuid_r, stats_r, ev_r;
	struct kvm_lapic_state lapic;
	struct kvm_mp_state mp;
	__u64 base;
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[8];
	} cpuid;
	struct lapicv_vcpu_stats stats;
	struct kvm_vcpu_events ev;
};

struct vm_snap {
	long r;
	struct lapicv_inhibit_state st;
};

static const int snap_vcpus[] = { F_VCPU, F_VCPU1, F_VCPU_NS };
static const int snap_vms[] = { F_VM, F_VM_NS, F_VM_EMPTY };

struct snap {
	struct vcpu_snap v[ARRAY_SIZE(snap_vcpus)];
	struct vm_snap vm[ARRAY_SIZE(snap_vms)];
};

static long res(long r)
{
	return r < 0 ? -errno : r;
}

static void snapshot(struct env *e, struct snap *s)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < ARRAY_SIZE(snap_vcpus); i++) {
		struct vcpu_snap *v = &s->v[i];
		int fd = e->fd[snap_vcpus[i]];

		v->lapic_r = res(ioctl(fd, KVM_GET_LAPIC, &v->lapic));
		v->mp_r = res(ioctl(fd, KVM_GET_MP_STATE, &v->mp));
		v->base_r = res(get_msr(fd, MSR_IA32_APICBASE, &v->base));
		v->cpuid.h.nent = ARRAY_SIZE(v->cpuid.e);
		v->cpuid_r = res(ioctl(fd, KVM_GET_CPUID2, &v->cpuid));
		v->ev_r = res(ioctl(fd, KVM_GET_VCPU_EVENTS, &v->ev));
		if (!dev_is_kvm())
			v->stats_r = res(ioctl(fd, LAPICV_GET_VCPU_STATS,
					       &v->stats));
	}
	if (dev_is_kvm())
		return;
	for (i = 0; i < ARRAY_SIZE(snap_vms); i++)
		s->vm[i].r = res(ioctl(e->fd[snap_vms[i]], LAPICV_GET_INHIBITS,
				       &s->vm[i].st));
}

/* The first part of two snapshots that differs, or NULL. */
static const char *snap_diff(const struct snap *a, const struct snap *b)
{
	static char buf[96];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(snap_vcpus); i++) {
		const struct vcpu_snap *x = &a->v[i], *y = &b->v[i];
		const char *what = NULL;

		if (x->lapic_r != y->lapic_r ||
		    memcmp(&x->lapic, &y->lapic, sizeof(x->lapic)))
			what = "KVM_GET_LAPIC";
		else if (x->mp_r != y->mp_r || x->mp.mp_state != y->mp.mp_state)
			what = "KVM_GET_MP_STATE";
		else if (x->base_r != y->base_r || x->base != y->base)
			what = "APIC base";
		else if (x->cpuid_r != y->cpuid_r ||
			 memcmp(&x->cpuid, &y->cpuid, sizeof(x->cpuid)))
			what = "KVM_GET_CPUID2";
		else if (x->ev_r != y->ev_r ||
			 memcmp(&x->ev, &y->ev, sizeof(x->ev)))
			what = "KVM_GET_VCPU_EVENTS";
		else if (x->stats_r != y->stats_r ||
			 memcmp(&x->stats, &y->stats, sizeof(x->stats)))
			what = "LAPICV_GET_VCPU_STATS";
		if (what) {
			snprintf(buf, sizeof(buf), "%s of %s", what,
				 fd_names[snap_vcpus[i]]);
			return buf;
		}
	}
	for (i = 0; i < ARRAY_SIZE(snap_vms); i++) {
		if (a->vm[i].r != b->vm[i].r ||
		    memcmp(&a->vm[i].st, &b->vm[i].st, sizeof(a->vm[i].st))) {
			snprintf(buf, sizeof(buf), "LAPICV_GET_INHIBITS of %s",
				 fd_names[snap_vms[i]]);
			return buf;
		}
	}
	return NULL;
}

static int add_slot(int vm, __u32 slot, __u64 gpa, int pages, int hva_page,
		    __u32 flags)
{
	struct kvm_userspace_memory_region m = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = pages * PAGE,
		.userspace_addr = GUEST_HVA + hva_page * PAGE,
	};

	return ioctl(vm, KVM_SET_USER_MEMORY_REGION, &m);
}

static int add_slots(int vm)
{
	if (add_slot(vm, 0, SLOT0_GPA, 2, 0, 0))
		return -1;
	return add_slot(vm, 1, SLOT1_GPA, 1, 2, KVM_MEM_READONLY);
}

/*
 * The baseline: CPUID with x2APIC on vCPUs 0 and 1, both APICs
 * software-enabled, PENDING_VECTOR in vCPU 0's IRR.
 */
static int env_create(struct env *e)
{
	struct kvm_msi msi = { .address_lo = 0xfee00000,
			       .data = PENDING_VECTOR };
	struct kvm_lapic_state s;
	int i;

	for (i = 0; i < NR_FDS; i++)
		e->fd[i] = -1;
	e->fd[F_SYS] = open_dev();
	if (e->fd[F_SYS] < 0)
		return -1;
	e->fd[F_VM] = vm_create_split(e->fd[F_SYS]);
	e->fd[F_VM_NS] = vm_create(e->fd[F_SYS]);
	e->fd[F_VM_EMPTY] = vm_create_split(e->fd[F_SYS]);
	if (e->fd[F_VM] < 0 || e->fd[F_VM_NS] < 0 || e->fd[F_VM_EMPTY] < 0 ||
	    add_slots(e->fd[F_VM]) || add_slots(e->fd[F_VM_NS]))
		return -1;
	e->fd[F_VCPU] = vcpu_create(e->fd[F_VM], 0);
	e->fd[F_VCPU1] = vcpu_create(e->fd[F_VM], 1);
	e->fd[F_VCPU_NS] = vcpu_create(e->fd[F_VM_NS], 0);
	if (e->fd[F_VCPU] < 0 || e->fd[F_VCPU1] < 0 || e->fd[F_VCPU_NS] < 0)
		return -1;
	for (i = F_VCPU; i <= F_VCPU1; i++) {
		if (set_cpuid_x2apic(e->fd[i]) || get_lapic(e->fd[i], &s))
			return -1;
		lapic_set_reg(&s, APIC_SPIV, 0x1ff);
		if (set_lapic(e->fd[i], &s))
			return -1;
	}
	if (ioctl(e->fd[F_VM], KVM_SIGNAL_MSI, &msi) != 1)
		return -1;
	if (get_lapic(e->fd[F_VCPU], &s) ||
	    !(lapic_reg(&s, APIC_IRR + (PENDING_VECTOR / 32) * 16) &
	      BIT(PENDING_VECTOR % 32)))
		return -1;
	return 0;
}

static void env_destroy(struct env *e)
{
	int i;

	for (i = NR_FDS - 1; i >= 0; i--)
		if (e->fd[i] >= 0)
			close(e->fd[i]);
}

/* The row's preparation; fills @in where the row says so. */
static int prep(struct env *e, const struct row *r, union input *in)
{
	struct kvm_interrupt irq = { .irq = 0x20 };
	struct kvm_vcpu_events ev = { 0 };
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X2APIC_API,
		.args[0] = KVM_X2APIC_API_USE_32BIT_IDS,
	};
	int vcpu = e->fd[F_VCPU];

	switch (r->prep) {
	case P_EXTINT:
		return ioctl(vcpu, KVM_INTERRUPT, &irq);
	case P_LAPIC:
		if (get_lapic(vcpu, &in->lapic))
			return -1;
		lapic_set_reg(&in->lapic, APIC_TASKPRI, 0x50);
		lapic_set_reg(&in->lapic, APIC_LVTT, 0x30);
		return 0;
	case P_X2APIC_ID:
		if (ioctl(e->fd[F_VM], KVM_ENABLE_CAP, &cap) ||
		    enable_x2apic(vcpu) != 1 || get_lapic(vcpu, &in->lapic))
			return -1;
		lapic_set_reg(&in->lapic, APIC_ID, 5);
		lapic_set_reg(&in->lapic, APIC_SPIV, 0xff);
		return 0;
	case P_32BIT_IDS:
		return ioctl(e->fd[F_VM], KVM_ENABLE_CAP, &cap);
	case P_ADJ_SLOT:
		return add_slot(e->fd[F_VM], 2, SLOT0_GPA + 2 * PAGE, 1, 3, 0);
	case P_WFS:
		return set_mp_state(e->fd[F_VCPU1], KVM_MP_STATE_INIT_RECEIVED);
	case P_SMI:
		ev.flags = KVM_VCPUEVENT_VALID_SMM;
		ev.smi.pending = 1;
		return ioctl(e->fd[F_VCPU1], KVM_SET_VCPU_EVENTS, &ev);
	case P_EVENTS:
		if (ioctl(vcpu, KVM_GET_VCPU_EVENTS, &in->ev))
			return -1;
		in->ev.flags = r->in.ev.flags;
		return 0;
	default:
		return 0;
	}
}

/* Lay the argument out in e->mem as the row says. */
static unsigned long place(struct env *e, const struct row *r,
			   const union input *in, unsigned long val)
{
	char *p0 = e->mem, *p1 = e->mem + PAGE, *p2 = e->mem + 2 * PAGE;

	mprotect(e->mem, 3 * PAGE, PROT_READ | PROT_WRITE);
	memset(e->mem, 0, 3 * PAGE);
	mprotect(p2, PAGE, PROT_NONE);
	switch (r->arg) {
	case A_BUF:
		memcpy(p0, in, sizeof(*in));
		return (unsigned long)p0;
	case A_RO:
		memcpy(p1, in, sizeof(*in));
		mprotect(p1, PAGE, PROT_READ);
		return (unsigned long)p1;
	case A_NONE:
		return (unsigned long)p2;
	case A_EDGE:
		memcpy(p2 - r->cut, in, r->cut);
		return (unsigned long)(p2 - r->cut);
	default:
		return val;
	}
}

/* The ioctl from a forked child: its result as -errno or the value. */
static long child_ioctl(int fd, unsigned long ioctl_nr, unsigned long arg)
{
	int status;
	pid_t pid;
	long r;

	pid = fork();
	if (pid < 0)
		return -ENOMEM;
	if (!pid) {
		r = ioctl(fd, ioctl_nr, arg);
		_exit(r < 0 ? errno : 200 + (r > 50 ? 50 : r));
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -ECHILD;
	status = WEXITSTATUS(status);
	return status >= 200 ? status - 200 : -status;
}

static bool returns_fd(unsigned long ioctl_nr)
{
	return ioctl_nr == KVM_CREATE_VM || ioctl_nr == KVM_CREATE_VCPU ||
	       ioctl_nr == KVM_GET_STATS_FD;
}

static void run_group(struct __test_metadata *_metadata, int group)
{
	bool all = getenv("BAD_INPUT_ALL") && *getenv("BAD_INPUT_ALL") == '1';
	bool kvm = dev_is_kvm();
	unsigned int i, ran = 0, skipped = 0;
	struct snap *before, *after;
	struct env e;

	before = malloc(sizeof(*before));
	after = malloc(sizeof(*after));
	ASSERT_NE(NULL, before);
	ASSERT_NE(NULL, after);
	e.mem = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, e.mem);
	ASSERT_NE(MAP_FAILED, mmap((void *)GUEST_HVA, GUEST_PAGES * PAGE,
				   PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS |
				   MAP_FIXED_NOREPLACE, -1, 0));
	ASSERT_OK(ensure_nofile(64));

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		const struct row *r = &rows[i];
		union input in = r->in;
		unsigned long val = r->val, arg;
		const char *diff;
		long ret;

		if (r->group != group)
			continue;
		if (!all && ((r->on == ON_LAPICV && kvm) ||
			     (r->on == ON_KVM && !kvm))) {
			TH_LOG("skip %s on %s fd: %s (%s only)", r->name,
			       fd_names[r->fd], r->what,
			       r->on == ON_KVM ? "KVM" : "lapicv");
			skipped++;
			continue;
		}
		ASSERT_OK(env_create(&e), "row %u: setting up", i);
		ASSERT_OK(prep(&e, r, &in), "row %u: %s: preparing %s", i,
			  r->name, r->what);
		if (r->max_vcpu_id)
			val += check_ext(e.fd[F_SYS], KVM_CAP_MAX_VCPU_ID);
		snapshot(&e, before);
		arg = place(&e, r, &in, val);
		if (r->child) {
			ret = child_ioctl(e.fd[r->fd], r->ioctl, arg);
		} else {
			ret = res(ioctl(e.fd[r->fd], r->ioctl, arg));
			if (ret > 2 && returns_fd(r->ioctl))
				close(ret);
		}
		snapshot(&e, after);
		ran++;

		if (r->err) {
			EXPECT_EQ(-r->err, ret)
				TH_LOG("row %u: %s on %s fd: %s: expected %s, got %ld (%s)",
				       i, r->name, fd_names[r->fd], r->what,
				       errno_name(r->err), ret,
				       ret < 0 ? errno_name(-ret) : "success");
		} else {
			EXPECT_EQ(r->ret, ret)
				TH_LOG("row %u: %s on %s fd: %s: expected %ld, got %ld (%s)",
				       i, r->name, fd_names[r->fd], r->what,
				       r->ret, ret,
				       ret < 0 ? errno_name(-ret) : "success");
		}
		diff = snap_diff(before, after);
		if (diff && r->kvm_changes && kvm) {
			TH_LOG("row %u: %s: %s: KVM changed %s (api.rst: deliberate)",
			       i, r->name, r->what, diff);
		} else {
			EXPECT_FALSE(diff)
				TH_LOG("row %u: %s on %s fd: %s: changed %s",
				       i, r->name, fd_names[r->fd], r->what,
				       diff);
		}
		env_destroy(&e);
	}
	TH_LOG("%u rows run, %u skipped on %s", ran, skipped, dev_path());
	free(before);
	free(after);
}

TEST(system_fd) { run_group(_metadata, G_SYS); }
TEST(vm_fd) { run_group(_metadata, G_VM); }
TEST(vcpu_fd) { run_group(_metadata, G_VCPU); }
TEST(wrong_fd_kind) { run_group(_metadata, G_FD_KIND); }
TEST(forked_child) { run_group(_metadata, G_CHILD); }
TEST(wrong_order) { run_group(_metadata, G_ORDER); }

TEST_HARNESS_MAIN
