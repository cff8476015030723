// SPDX-License-Identifier: GPL-2.0-only
/*
 * A small VMM that drives lapicv the way a VMM drives KVM, and says in
 * plain words what it did.  It has no guest code: where a guest would
 * touch its APIC, the VMM forwards the access (LAPICV_GUEST_ACCESS), and
 * where KVM_RUN would enter the guest, it takes a run step (LAPICV_RUN).
 *
 *   demo_vmm [acts]     acts: the acts to tell, e.g. 56; default 123456
 *                       (the others still run, silently, as setup)
 *   device: $LAPICV_DEV, default /dev/lapicv
 *
 *   1. a VM with split irqchip and 4 vCPUs
 *   2. the APs brought up by INIT and SIPI from the BSP
 *   3. an MSI from a device and an IPI between vCPUs
 *   4. the APIC timer waking a halted vCPU
 *   5. an inhibit turning APICv off and on again
 *   6. the counters
 *
 * Any failed call ends the demo with exit status 1 and says what failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/lapicv.h>

#include "vmm_util.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define NR_VCPUS	4
#define IOAPIC_PINS	24
#define BACKEND_PARAM	"/sys/module/lapicv/parameters/backend"

/* xAPIC register offsets in the 4 KiB APIC page. */
#define APIC_EOI	0xb0
#define APIC_SPIV	0xf0
#define APIC_ISR	0x100
#define APIC_ICR	0x300
#define APIC_ICR2	0x310
#define APIC_LVTT	0x320
#define APIC_TMICT	0x380
#define APIC_TDCR	0x3e0
#define X2APIC_MSR(off)	(0x800 + ((off) >> 4))

#define SPIV_ENABLE	0x100
#define ICR_INIT	0x500
#define ICR_SIPI	0x600
#define ICR_ASSERT	0x4000
#define ICR_ALLBUT	0xc0000		/* shorthand: all excluding self */
#define TDCR_DIV1	0xb

#define MSR_APIC_BASE	0x1b
#define APIC_BASE_ADDR	0xfee00000ull
#define APIC_BASE_EN	(1ull << 11)
#define APIC_BASE_EXTD	(1ull << 10)
#define CPUID_X2APIC	(1u << 21)

#define SIPI_VECTOR	0x9f		/* AP startup code at 0x9f000 */
#define MSI_VECTOR	0x41
#define IPI_VECTOR	0x62
#define TIMER_VECTOR	0xec
#define TIMER_NS	100000000u	/* 100 ms at the 1 GHz APIC bus */

struct demo {
	int dev;
	int vm;
	int vcpu[NR_VCPUS];
	char backend[16];
};

static int quiet;

static void say(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

static const char * const exit_names[] = {
	[LAPICV_RUN_NONE]		= "NONE",
	[LAPICV_RUN_NMI]		= "NMI",
	[LAPICV_RUN_EXTINT]		= "EXTINT",
	[LAPICV_RUN_INTR]		= "INTR (software)",
	[LAPICV_RUN_VIRTUAL_INTR]	= "VIRTUAL_INTR (APICv)",
	[LAPICV_RUN_IRQ_WINDOW]		= "IRQ_WINDOW",
	[LAPICV_RUN_INIT]		= "INIT",
	[LAPICV_RUN_SIPI]		= "SIPI",
	[LAPICV_RUN_IOAPIC_EOI]		= "IOAPIC_EOI",
};

static const char *exit_name(unsigned int reason)
{
	if (reason < ARRAY_SIZE(exit_names))
		return exit_names[reason];
	return "unknown";
}

static const char *mp_name(unsigned int state)
{
	switch (state) {
	case KVM_MP_STATE_RUNNABLE:
		return "RUNNABLE";
	case KVM_MP_STATE_UNINITIALIZED:
		return "UNINITIALIZED";
	case KVM_MP_STATE_INIT_RECEIVED:
		return "INIT_RECEIVED";
	case KVM_MP_STATE_HALTED:
		return "HALTED";
	case KVM_MP_STATE_SIPI_RECEIVED:
		return "SIPI_RECEIVED";
	default:
		return "other";
	}
}

static const char *mp_state(int vcpu)
{
	struct kvm_mp_state mp;

	xioctl(vcpu, KVM_GET_MP_STATE, &mp, "KVM_GET_MP_STATE");
	return mp_name(mp.mp_state);
}

/* One guest access to its APIC, forwarded as the VMM's exit handler would. */
static __u64 guest_access(int vcpu, __u32 type, __u32 addr, __u64 data)
{
	struct lapicv_guest_access ga = {
		.type = type,
		.size = type <= LAPICV_ACCESS_MMIO_WRITE ? 4 : 0,
		.address = addr,
		.data = data,
	};

	xioctl(vcpu, LAPICV_GUEST_ACCESS, &ga, "LAPICV_GUEST_ACCESS");
	if (ga.fault)
		fail("LAPICV_GUEST_ACCESS: MSR %#x faulted (#GP)", addr);
	return ga.data;
}

static void mmio_write(int vcpu, __u32 off, __u32 val)
{
	guest_access(vcpu, LAPICV_ACCESS_MMIO_WRITE, off, val);
}

static __u32 mmio_read(int vcpu, __u32 off)
{
	return guest_access(vcpu, LAPICV_ACCESS_MMIO_READ, off, 0);
}

/* The guest's ICR write in xAPIC mode: high half first, the low one sends. */
static void send_icr(int vcpu, __u8 dest, __u32 icr)
{
	mmio_write(vcpu, APIC_ICR2, (__u32)dest << 24);
	mmio_write(vcpu, APIC_ICR, icr);
}

static int vector_in_service(int vcpu, unsigned int vec)
{
	return !!(mmio_read(vcpu, APIC_ISR + (vec >> 5) * 0x10) &
		  (1u << (vec & 31)));
}

/* A run step for a guest with interrupts enabled, halted or not. */
static void run_step(int vcpu, int halted, struct lapicv_run *r)
{
	memset(r, 0, sizeof(*r));
	r->rflags_if = 1;
	r->halted = halted;
	xioctl(vcpu, LAPICV_RUN, r, "LAPICV_RUN");
}

static int is_injection(const struct lapicv_run *r)
{
	return r->exit_reason == LAPICV_RUN_INTR ||
	       r->exit_reason == LAPICV_RUN_VIRTUAL_INTR;
}

static void expect_exit(const struct lapicv_run *r, unsigned int reason,
			unsigned int vector, const char *who)
{
	if (r->exit_reason != reason || r->vector != vector)
		fail("%s: run step said %s vector %#x, expected %s vector %#x",
		     who, exit_name(r->exit_reason), r->vector,
		     exit_name(reason), vector);
}

static void expect_injection(const struct lapicv_run *r, unsigned int vector,
			     const char *who)
{
	if (!is_injection(r) || r->vector != vector)
		fail("%s: run step said %s vector %#x, expected vector %#x injected",
		     who, exit_name(r->exit_reason), r->vector, vector);
}

static const char * const inhibit_names[LAPICV_NR_INHIBITS] = {
	[LAPICV_INHIBIT_DISABLED]		= "DISABLED",
	[LAPICV_INHIBIT_HYPERV]			= "HYPERV",
	[LAPICV_INHIBIT_ABSENT]			= "ABSENT",
	[LAPICV_INHIBIT_BLOCKIRQ]		= "BLOCKIRQ",
	[LAPICV_INHIBIT_PHYSICAL_ID_ALIASED]	= "PHYSICAL_ID_ALIASED",
	[LAPICV_INHIBIT_APIC_ID_MODIFIED]	= "APIC_ID_MODIFIED",
	[LAPICV_INHIBIT_APIC_BASE_MODIFIED]	= "APIC_BASE_MODIFIED",
	[LAPICV_INHIBIT_NESTED]			= "NESTED",
	[LAPICV_INHIBIT_IRQWIN]			= "IRQWIN",
	[LAPICV_INHIBIT_PIT_REINJ]		= "PIT_REINJ",
	[LAPICV_INHIBIT_SEV]			= "SEV",
	[LAPICV_INHIBIT_LOGICAL_ID_ALIASED]	= "LOGICAL_ID_ALIASED",
};

static void get_inhibits(int vm, struct lapicv_inhibit_state *st)
{
	memset(st, 0, sizeof(*st));
	xioctl(vm, LAPICV_GET_INHIBITS, st, "LAPICV_GET_INHIBITS");
}

static void set_inhibit(int vm, unsigned int reason, int set)
{
	struct lapicv_inhibit_op op = { .reason = reason, .set = set };

	xioctl(vm, LAPICV_SET_INHIBIT, &op, set ?
	       "LAPICV_SET_INHIBIT(set)" : "LAPICV_SET_INHIBIT(clear)");
}

static double now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		fail("clock_gettime: %s", strerror(errno));
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void read_backend(struct demo *d)
{
	FILE *f = fopen(BACKEND_PARAM, "r");

	if (!f)
		fail("%s: %s", BACKEND_PARAM, strerror(errno));
	if (!fgets(d->backend, sizeof(d->backend), f))
		fail("%s: empty", BACKEND_PARAM);
	fclose(f);
	d->backend[strcspn(d->backend, "\n")] = '\0';
}

/* CPUID leaf 1 with x2APIC (ECX bit 21): the guest may enter x2APIC. */
static void set_cpuid(int vcpu)
{
	struct {
		struct kvm_cpuid2 hdr;
		struct kvm_cpuid_entry2 e[2];
	} c = {
		.hdr.nent = 2,
		.e[0] = { .function = 0, .eax = 1 },
		.e[1] = { .function = 1, .ecx = CPUID_X2APIC },
	};

	xioctl(vcpu, KVM_SET_CPUID2, &c, "KVM_SET_CPUID2");
}

static void set_apic_base(int vcpu, __u64 base)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr.nmsrs = 1, .e.index = MSR_APIC_BASE, .e.data = base };

	if (xioctl(vcpu, KVM_SET_MSRS, &m, "KVM_SET_MSRS(APIC_BASE)") != 1)
		fail("KVM_SET_MSRS(APIC_BASE = %#llx) refused",
		     (unsigned long long)base);
}

static void act1_create(struct demo *d)
{
	const char *path = getenv("LAPICV_DEV") ?: "/dev/lapicv";
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_SPLIT_IRQCHIP,
		.args[0] = IOAPIC_PINS,
	};
	int i, v;

	say("1. A VM with split irqchip and %d vCPUs\n", NR_VCPUS);
	d->dev = open(path, O_RDWR | O_CLOEXEC);
	if (d->dev < 0)
		fail("open %s: %s", path, strerror(errno));
	v = xioctl(d->dev, KVM_GET_API_VERSION, NULL, "KVM_GET_API_VERSION");
	read_backend(d);
	if (ioctl(d->dev, KVM_CHECK_EXTENSION, KVM_CAP_SPLIT_IRQCHIP) <= 0)
		fail("%s does not offer KVM_CAP_SPLIT_IRQCHIP", path);
	d->vm = xioctl(d->dev, KVM_CREATE_VM, NULL, "KVM_CREATE_VM");
	xioctl(d->vm, KVM_ENABLE_CAP, &cap, "KVM_ENABLE_CAP(SPLIT_IRQCHIP)");
	for (i = 0; i < NR_VCPUS; i++) {
		d->vcpu[i] = ioctl(d->vm, KVM_CREATE_VCPU, i);
		if (d->vcpu[i] < 0)
			fail("KVM_CREATE_VCPU %d: %s", i, strerror(errno));
		set_cpuid(d->vcpu[i]);
	}
	say("   Opened %s (KVM API version %d), created a VM and enabled the\n"
	    "   split irqchip: the local APICs live in lapicv, the IOAPIC (%d pins)\n"
	    "   and PIC stay in this VMM.  Created vCPUs 0-%d (APIC ID = vCPU id)\n"
	    "   and gave each a CPUID table offering x2APIC, so a guest may use it.\n\n",
	    path, v, IOAPIC_PINS, NR_VCPUS - 1);
}

/* Each AP takes a run step and must report @reason (and @vector). */
static void aps_step(struct demo *d, unsigned int reason, unsigned int vector)
{
	struct lapicv_run r;
	char who[32];
	int i;

	for (i = 1; i < NR_VCPUS; i++) {
		snprintf(who, sizeof(who), "AP %d", i);
		run_step(d->vcpu[i], 0, &r);
		expect_exit(&r, reason, vector, who);
		if (reason == LAPICV_RUN_SIPI)
			say("   vCPU %d: run step says SIPI, vector %#x: start at %#x; now %s\n",
			    i, r.vector, r.vector << 12, mp_state(d->vcpu[i]));
		else
			say("   vCPU %d: run step says INIT; now %s\n", i,
			    mp_state(d->vcpu[i]));
	}
}

static void act2_bring_up(struct demo *d)
{
	int i;

	say("2. The BSP brings up the APs, as firmware does\n");
	say("   Before: vCPU 0 (BSP) %s, vCPUs 1-%d %s.\n",
	    mp_state(d->vcpu[0]), NR_VCPUS - 1, mp_state(d->vcpu[1]));
	mmio_write(d->vcpu[0], APIC_SPIV, SPIV_ENABLE | 0xff);
	send_icr(d->vcpu[0], 0, ICR_ALLBUT | ICR_ASSERT | ICR_INIT);
	say("   vCPU 0 enables its APIC (SPIV) and writes ICR = %#x: INIT to\n"
	    "   all but itself (xAPIC MMIO writes of ICR high, then low).\n",
	    ICR_ALLBUT | ICR_ASSERT | ICR_INIT);
	aps_step(d, LAPICV_RUN_INIT, 0);
	send_icr(d->vcpu[0], 0, ICR_ALLBUT | ICR_ASSERT | ICR_SIPI | SIPI_VECTOR);
	say("   vCPU 0 writes ICR = %#x: SIPI, vector %#x, to all but itself.\n",
	    ICR_ALLBUT | ICR_ASSERT | ICR_SIPI | SIPI_VECTOR, SIPI_VECTOR);
	aps_step(d, LAPICV_RUN_SIPI, SIPI_VECTOR);
	if (strcmp(mp_state(d->vcpu[0]), "RUNNABLE"))
		fail("the BSP left RUNNABLE: %s", mp_state(d->vcpu[0]));
	/* What each AP's startup code does first: enable its APIC. */
	for (i = 1; i < NR_VCPUS; i++)
		mmio_write(d->vcpu[i], APIC_SPIV, SPIV_ENABLE | 0xff);
	say("   Each AP's startup code enables its APIC; the BSP stayed RUNNABLE.\n\n");
}

/* @vcpu takes the vector its run step injects, then EOIs it. */
static void take_and_eoi(int vcpu, int id, unsigned int vector)
{
	struct lapicv_run r;
	char who[32];
	int isr;

	snprintf(who, sizeof(who), "vCPU %d", id);
	run_step(vcpu, 0, &r);
	expect_injection(&r, vector, who);
	isr = vector_in_service(vcpu, vector);
	say("   vCPU %d: run step injects: %s, vector %#x; in service: %s\n",
	    id, exit_name(r.exit_reason), r.vector, isr ? "yes" : "no");
	if (!isr)
		fail("%s: vector %#x injected but not in ISR", who, vector);
	mmio_write(vcpu, APIC_EOI, 0);
	isr = vector_in_service(vcpu, vector);
	run_step(vcpu, 0, &r);
	expect_exit(&r, LAPICV_RUN_NONE, 0, who);
	say("   vCPU %d: guest writes EOI; in service: %s; next step: %s\n",
	    id, isr ? "yes" : "no", exit_name(r.exit_reason));
	if (isr)
		fail("%s: vector %#x still in ISR after EOI", who, vector);
}

static void act3_msi_ipi(struct demo *d)
{
	struct kvm_msi msi = {
		.address_lo = APIC_BASE_ADDR | 2 << 12,	/* destination 2 */
		.data = MSI_VECTOR,			/* fixed, edge */
	};
	int n;

	say("3. An MSI from a device and an IPI between vCPUs\n");
	n = xioctl(d->vm, KVM_SIGNAL_MSI, &msi, "KVM_SIGNAL_MSI");
	say("   A device's MSI (address %#x, data %#x) to APIC ID 2:\n"
	    "   KVM_SIGNAL_MSI delivered it to %d vCPU.\n",
	    msi.address_lo, msi.data, n);
	if (n != 1)
		fail("KVM_SIGNAL_MSI returned %d, expected 1", n);
	take_and_eoi(d->vcpu[2], 2, MSI_VECTOR);

	/* The guest's WRMSR to IA32_APIC_BASE, which the VMM handles. */
	set_apic_base(d->vcpu[1], APIC_BASE_ADDR | APIC_BASE_EN);
	set_apic_base(d->vcpu[1], APIC_BASE_ADDR | APIC_BASE_EN |
			APIC_BASE_EXTD);
	guest_access(d->vcpu[1], LAPICV_ACCESS_MSR_WRITE, X2APIC_MSR(APIC_ICR),
		     3ull << 32 | IPI_VECTOR);
	say("   vCPU 1 enters x2APIC mode (its CPUID allows it) and writes its\n"
	    "   ICR, MSR %#x = %#llx: a fixed IPI, vector %#x, to APIC ID 3.\n",
	    X2APIC_MSR(APIC_ICR), 3ull << 32 | IPI_VECTOR, IPI_VECTOR);
	take_and_eoi(d->vcpu[3], 3, IPI_VECTOR);
	say("\n");
}

static void act4_timer(struct demo *d)
{
	int bsp = d->vcpu[0];
	struct lapicv_run r;
	double t0, ms;

	say("4. The APIC timer wakes a halted vCPU\n");
	t0 = now_ms();
	mmio_write(bsp, APIC_TDCR, TDCR_DIV1);
	mmio_write(bsp, APIC_LVTT, TIMER_VECTOR);	/* one-shot, unmasked */
	mmio_write(bsp, APIC_TMICT, TIMER_NS);
	say("   vCPU 0 programs its timer: divide by 1, LVT timer = %#x (one-shot,\n"
	    "   vector %#x), TMICT = %u: %u ms at the 1 GHz APIC bus.  Then it\n"
	    "   executes HLT: LAPICV_RUN with halted = 1.\n",
	    TIMER_VECTOR, TIMER_VECTOR, TIMER_NS, TIMER_NS / 1000000);
	run_step(bsp, 1, &r);
	ms = now_ms() - t0;
	expect_injection(&r, TIMER_VECTOR, "vCPU 0 (timer)");
	say("   The step slept %.1f ms and woke: %s, vector %#x;\n"
	    "   still halted: %s.\n", ms, exit_name(r.exit_reason), r.vector,
	    r.halted_out ? "yes" : "no");
	if (ms < TIMER_NS / 1e6)
		fail("the timer fired after %.1f ms, before its %u ms", ms,
		     TIMER_NS / 1000000);
	if (ms > 10 * TIMER_NS / 1e6)
		say("   (That is late: a busy host or an emulated CPU.)\n");
	mmio_write(bsp, APIC_EOI, 0);
	say("\n");
}

/* The inhibits and a run step's view of APICv, after @what. */
static int show_apicv(struct demo *d, const char *what)
{
	struct lapicv_inhibit_state st;
	struct lapicv_run r;

	get_inhibits(d->vm, &st);
	run_step(d->vcpu[0], 0, &r);
	if (r.exit_reason != LAPICV_RUN_NONE)
		fail("vCPU 0: run step said %s, expected NONE",
		     exit_name(r.exit_reason));
	say("   %-20s reasons: %-11s run step: apicv_active = %u\n", what,
	    st.names[0] ? st.names : "(none)", r.apicv_active);
	return r.apicv_active;
}

static void flip(struct demo *d, unsigned int reason, int honoured)
{
	char what[40];
	int active;

	set_inhibit(d->vm, reason, 1);
	snprintf(what, sizeof(what), "%s set:", inhibit_names[reason]);
	active = show_apicv(d, what);
	if (honoured && active)
		fail("APICv stayed active with %s set", inhibit_names[reason]);
	set_inhibit(d->vm, reason, 0);
	snprintf(what, sizeof(what), "%s cleared:", inhibit_names[reason]);
	active = show_apicv(d, what);
	if (honoured && !active)
		fail("APICv stayed off with %s cleared", inhibit_names[reason]);
}

static void act5_inhibit(struct demo *d)
{
	struct lapicv_inhibit_state st;
	unsigned int col;
	int honoured, i;

	say("5. An inhibit turns APICv off and on again\n");
	get_inhibits(d->vm, &st);
	say("   Backend in use (%s): %s.\n", BACKEND_PARAM, d->backend);
	if (strcmp(d->backend, "soft"))
		say("   (%s is lapicv's own software model of the CPU's side of\n"
		    "   APICv, chosen by name at load: it never uses the hardware.)\n",
		    d->backend);
	say("   The inhibit reasons it honours:");
	for (i = 0, col = 34; i < LAPICV_NR_INHIBITS; i++) {
		if (!(st.required & (1ull << i)))
			continue;
		if (col + 1 + strlen(inhibit_names[i]) > 76) {
			say("\n     ");
			col = 5;
		}
		say(" %s", inhibit_names[i]);
		col += 1 + strlen(inhibit_names[i]);
	}
	say("%s\n", st.required ? "." : " none.");
	if (show_apicv(d, "before:") != !!st.apicv_enabled)
		fail("apicv_active does not follow apicv_enabled = %u",
		     st.apicv_enabled);
	if (!st.apicv_enabled) {
		flip(d, LAPICV_INHIBIT_PIT_REINJ, 0);
		say("   The soft backend has no APICv to turn off: every VM carries\n"
		    "   DISABLED for life, and interrupts are always injected by software.\n\n");
		return;
	}
	honoured = !!(st.required & (1ull << LAPICV_INHIBIT_PIT_REINJ));
	flip(d, LAPICV_INHIBIT_PIT_REINJ, honoured);
	if (honoured) {
		say("   With the PIT re-injecting, APICv went off and came back.\n\n");
		return;
	}
	say("   %s ignores PIT_REINJ, as KVM's VMX does (its EOI-exit bitmap still\n"
	    "   catches the PIT's EOI), so APICv stays on.  BLOCKIRQ it honours:\n",
	    d->backend);
	flip(d, LAPICV_INHIBIT_BLOCKIRQ, 1);
	say("   With BLOCKIRQ set, APICv went off and came back.\n\n");
}

#define LAPICV_VCPU_STAT(f)	{ #f, offsetof(struct lapicv_vcpu_stats, f) },

static const struct {
	const char *name;
	size_t off;
} vcpu_stats[] = {
#include <linux/lapicv_vcpu_stats.h>
};

static __u64 vcpu_stat(const struct lapicv_vcpu_stats *st, unsigned int i)
{
	__u64 v;

	memcpy(&v, (const char *)st + vcpu_stats[i].off, sizeof(v));
	return v;
}

static void show_vm_stats(struct demo *d)
{
	struct lapicv_vm_stats vs;

	xioctl(d->vm, LAPICV_GET_VM_STATS, &vs, "LAPICV_GET_VM_STATS");
	say("   VM: %llu inhibit changes, %llu APICv toggles, %llu update-lock\n"
	    "   writes, %llu IRQ-window transitions.\n",
	    (unsigned long long)vs.inhibit_changes,
	    (unsigned long long)vs.apicv_toggles,
	    (unsigned long long)vs.update_lock_writes,
	    (unsigned long long)vs.irqwin_transitions);
	if (vs.inhibit_changes)
		say("   (One change and one toggle is the split irqchip clearing ABSENT.)\n");
}

static void act6_counters(struct demo *d)
{
	struct lapicv_vcpu_stats st[NR_VCPUS];
	unsigned int i, j, zero = 0;
	__u64 sum;

	say("6. The counters\n");
	show_vm_stats(d);
	for (j = 0; j < NR_VCPUS; j++)
		xioctl(d->vcpu[j], LAPICV_GET_VCPU_STATS, &st[j],
		       "LAPICV_GET_VCPU_STATS");
	say("   %-24s", "vCPU");
	for (j = 0; j < NR_VCPUS; j++)
		say("%6u", j);
	say("\n");
	for (i = 0; i < ARRAY_SIZE(vcpu_stats); i++) {
		for (j = 0, sum = 0; j < NR_VCPUS; j++)
			sum += vcpu_stat(&st[j], i);
		if (!sum) {
			zero++;
			continue;
		}
		say("   %-24s", vcpu_stats[i].name);
		for (j = 0; j < NR_VCPUS; j++)
			say("%6llu", (unsigned long long)vcpu_stat(&st[j], i));
		say("\n");
	}
	say("   (%u more counters are 0 on every vCPU.)\n", zero);
	if (st[0].halts < 1 || st[0].halt_wakeups < 1)
		fail("vCPU 0 counted %llu halts, %llu wakeups; expected 1 each",
		     (unsigned long long)st[0].halts,
		     (unsigned long long)st[0].halt_wakeups);
}

int main(int argc, char **argv)
{
	static void (* const acts[])(struct demo *) = {
		act1_create, act2_bring_up, act3_msi_ipi, act4_timer,
		act5_inhibit, act6_counters,
	};
	const char *tell = argc > 1 ? argv[1] : "123456";
	struct demo d;
	unsigned int i;

	if (argc > 2 || strspn(tell, "123456") != strlen(tell)) {
		fprintf(stderr, "usage: demo_vmm [acts, e.g. 56]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&d, 0, sizeof(d));
	for (i = 0; i < ARRAY_SIZE(acts); i++) {
		quiet = !strchr(tell, '1' + i);
		acts[i](&d);
	}
	quiet = 0;
	for (i = 0; i < NR_VCPUS; i++)
		close(d.vcpu[i]);
	close(d.vm);
	close(d.dev);
	say("demo_vmm: every call did what it should (backend %s).\n",
	    d.backend);
	return 0;
}
