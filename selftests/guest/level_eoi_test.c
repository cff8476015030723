// SPDX-License-Identifier: GPL-2.0-only
/*
 * EOIs through the x2APIC EOI MSR on a split irqchip (the IOAPIC is the
 * VMM's, KVM_CAP_SPLIT_IRQCHIP with 24 reserved pins), on whatever
 * /dev/kvm is (kvm_amd, or lapicv's runner), with the same expectations.
 *
 * The VMM's GSI routes: GSI 5, a level-triggered MSI to APIC ID 0 with
 * ROUTED_VECTOR (an IOAPIC pin), and GSI 30, a level-triggered MSI with
 * PINLESS_VECTOR beyond the reserved pins.  The guest takes one
 * KVM_SIGNAL_MSI per case with STI; HLT and EOIs it by WRMSR; the host
 * checks that the EOI reaches it as KVM_EXIT_IOAPIC_EOI exactly when the
 * vector is an IOAPIC pin's, whatever the message's trigger mode.  The
 * vectors are those the last route scan found, as in KVM: a pin routed to
 * this vCPU, or routed elsewhere while its vector is in IRR or ISR here.
 * The host sets the routes at a first ucall of each case, so the scan at
 * the next entry comes before the MSI:
 *
 *   level, routed vector      exit, TMR set, ISR clear at the exit
 *   edge, routed vector       exit, TMR clear
 *   level, pinless vector     no exit
 *   edge, unrouted vector     no exit
 *   level, GSI 5 routed to APIC ID 1: no exit
 *   level, GSI 5 moved to APIC ID 1 while the vector is in service (the
 *   handler makes a ucall before its EOI): the scan keeps it, exit
 *   level, routed vector, with directed EOI (SPIV bit 12, offered in LVR
 *   bit 24 to an x2APIC guest): still the exit, since on a split irqchip
 *   the VMM's IOAPIC owns the EOI either way.
 *
 * KVM's selftest library creates every VM with KVM_CREATE_IRQCHIP; this
 * test is linked with -Wl,--wrap=ioctl (selftests/guest/Makefile) and
 * turns that one ioctl into KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP).
 */
#include <stdarg.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "apic.h"

#include "guest_util.h"

#define APIC_LVR_DIRECTED_EOI	(1u << 24)
#define APIC_SPIV_DIRECTED_EOI	(1u << 12)
#define APIC_ISR		0x100
#define APIC_TMR		0x180

#define NR_PINS			24
#define ROUTED_GSI		5
#define PINLESS_GSI		30
#define ROUTED_VECTOR		0x50
#define PINLESS_VECTOR		0x52
#define EDGE_VECTOR		0x54

#define MSI_LEVEL		0x8000
#define MSI_ASSERT		0x4000

struct eoi_case {
	const char *name;
	uint8_t vector;
	bool level;
	uint8_t route_dest;	/* APIC ID of GSI 5's route */
	bool directed;		/* the guest sets SPIV bit 12 first */
	bool reroute;		/* GSI 5 moves to APIC ID 1 while in service */
	bool exit;		/* KVM_EXIT_IOAPIC_EOI expected */
};

static const struct eoi_case cases[] = {
	{ "level, routed",	 ROUTED_VECTOR,	 true,  0, false, false, true },
	{ "edge, routed",	 ROUTED_VECTOR,	 false, 0, false, false, true },
	{ "level, pinless",	 PINLESS_VECTOR, true,  0, false, false, false },
	{ "edge, unrouted",	 EDGE_VECTOR,	 false, 0, false, false, false },
	{ "level, routed to APIC 1", ROUTED_VECTOR, true, 1, false, false, false },
	{ "level, rerouted in service", ROUTED_VECTOR, true, 0, false, true, true },
	{ "level, directed EOI", ROUTED_VECTOR,	 true,  0, true,  false, true },
};

/* ---- the library's KVM_CREATE_IRQCHIP becomes a split irqchip ---- */

int __real_ioctl(int fd, unsigned long req, ...);

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_SPLIT_IRQCHIP,
		.args = { NR_PINS },
	};
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (req == KVM_CREATE_IRQCHIP)
		return __real_ioctl(fd, KVM_ENABLE_CAP, &cap);
	return __real_ioctl(fd, req, arg);
}

/* ---- guest ---- */

static uint32_t irqs;
static uint32_t cur_case;

static void irq_handler(struct ex_regs *regs)
{
	WRITE_ONCE(irqs, irqs + 1);
	if (cases[cur_case].reroute)
		GUEST_SYNC(cur_case);
	x2apic_write_reg(APIC_EOI, 0);
}

static void guest_code(void)
{
	uint32_t i;

	x2apic_enable();
	GUEST_ASSERT(x2apic_read_reg(APIC_LVR) & APIC_LVR_DIRECTED_EOI);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (cases[i].directed) {
			x2apic_write_reg(APIC_SPIV, x2apic_read_reg(APIC_SPIV) |
					 APIC_SPIV_DIRECTED_EOI);
			GUEST_ASSERT(x2apic_read_reg(APIC_SPIV) &
				     APIC_SPIV_DIRECTED_EOI);
		}
		cur_case = i;
		GUEST_SYNC(i);		/* the host sets the routes */
		GUEST_SYNC(i);		/* the host sends the MSI */
		while (READ_ONCE(irqs) <= i)
			asm volatile("sti; hlt; cli" ::: "memory");
		GUEST_ASSERT_EQ(READ_ONCE(irqs), i + 1);
	}
	GUEST_DONE();
}

/* ---- host ---- */

static void set_routes(struct kvm_vm *vm, uint8_t dest)
{
	struct {
		struct kvm_irq_routing r;
		struct kvm_irq_routing_entry e[2];
	} rt = {
		.r.nr = 2,
		.e = {
			{ .gsi = ROUTED_GSI, .type = KVM_IRQ_ROUTING_MSI,
			  .u.msi = { .address_lo = 0xfee00000 | dest << 12,
				     .data = MSI_LEVEL | ROUTED_VECTOR } },
			{ .gsi = PINLESS_GSI, .type = KVM_IRQ_ROUTING_MSI,
			  .u.msi = { .address_lo = 0xfee00000,
				     .data = MSI_LEVEL | PINLESS_VECTOR } },
		},
	};

	vm_ioctl(vm, KVM_SET_GSI_ROUTING, &rt.r);
}

static bool lapic_bit(struct kvm_lapic_state *l, uint32_t reg, uint8_t vec)
{
	uint32_t w = *(uint32_t *)&l->regs[reg + (vec / 32) * 0x10];

	return w & (1u << (vec % 32));
}

static void check_case(struct kvm_vcpu *vcpu, const struct eoi_case *c)
{
	struct kvm_msi msi = {
		.address_lo = 0xfee00000,	/* APIC ID 0, physical */
		.data = c->vector | (c->level ? MSI_LEVEL | MSI_ASSERT : 0),
	};
	struct kvm_lapic_state lapic;
	struct ucall uc;
	uint32_t i = c - cases;

	set_routes(vcpu->vm, c->route_dest);
	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_SYNC);
	TEST_ASSERT_EQ(uc.args[1], i);
	TEST_ASSERT_EQ(__vm_ioctl(vcpu->vm, KVM_SIGNAL_MSI, &msi), 1);
	if (c->reroute) {
		TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_SYNC);
		TEST_ASSERT_EQ(uc.args[1], i);
		vcpu_ioctl(vcpu, KVM_GET_LAPIC, &lapic);
		TEST_ASSERT(lapic_bit(&lapic, APIC_ISR, c->vector),
			    "%s: vector not in service in the handler", c->name);
		set_routes(vcpu->vm, 1);
	}
	if (c->exit) {
		vcpu_run(vcpu);
		TEST_ASSERT(vcpu->run->exit_reason == KVM_EXIT_IOAPIC_EOI,
			    "%s: exit %s, not KVM_EXIT_IOAPIC_EOI", c->name,
			    exit_reason_str(vcpu->run->exit_reason));
		TEST_ASSERT_EQ(vcpu->run->eoi.vector, c->vector);
		vcpu_ioctl(vcpu, KVM_GET_LAPIC, &lapic);
		TEST_ASSERT(!lapic_bit(&lapic, APIC_ISR, c->vector),
			    "%s: vector still in service at the exit", c->name);
		TEST_ASSERT_EQ(lapic_bit(&lapic, APIC_TMR, c->vector),
			       c->level);
	}
	/* Then the next SYNC, or DONE, without another exit. */
	if (c == &cases[ARRAY_SIZE(cases) - 1]) {
		TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_DONE);
	} else {
		TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_SYNC);
		TEST_ASSERT_EQ(uc.args[1], i + 1);
	}
	pr_info("%s: %s: ok\n", c->name,
		c->exit ? "KVM_EXIT_IOAPIC_EOI" : "no exit");
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	uint32_t i;

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	vm_install_exception_handler(vm, ROUTED_VECTOR, irq_handler);
	vm_install_exception_handler(vm, PINLESS_VECTOR, irq_handler);
	vm_install_exception_handler(vm, EDGE_VECTOR, irq_handler);

	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_SYNC);
	TEST_ASSERT_EQ(uc.args[1], 0);
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		check_case(vcpu, &cases[i]);
	kvm_vm_free(vm);
	return 0;
}
