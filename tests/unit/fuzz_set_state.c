// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: KVM_SET_LAPIC with arbitrary state, then register and
 * MSR accesses and interrupt messages, on vCPU 1 of a two-vCPU VM.
 *
 * Input: one flags byte, then a struct kvm_lapic_state (zero-padded if the
 * input is short), then 6-byte operations (kind, register, 32-bit value).
 * After the state is accepted, and after every operation, invariants.h's
 * LAPIC invariants must hold; KVM_GET_LAPIC followed by KVM_SET_LAPIC of
 * what it returned must give the same state back (TMCCT aside: with time
 * standing still a timer restarted from a full count has exactly one
 * period left, which KVM's arithmetic, "time left modulo the period",
 * reads as 0; real time never stands still); nothing may WARN.
 */
#include "test.h"
#include "shim/fuzz.h"
#include "invariants.h"
#include "unit_vm.h"

#define F_X2APIC	BIT(0)	/* switch vCPU 1 to x2APIC first */
#define F_32BIT_IDS	BIT(1)	/* KVM_X2APIC_API_USE_32BIT_IDS */
#define F_TSC_DEADLINE	BIT(2)	/* CPUID: TSC-deadline timer */
#define F_APICV		BIT(3)	/* a backend with APICv (soft delivery) */

static struct lapicv_backend fuzz_backend;

static void check(bool ok)
{
	if (!ok || shim_take_warnings())
		abort();
}

static bool roundtrip(struct lapicv_vcpu *v)
{
	static struct kvm_lapic_state a, b;

	if (lapicv_apic_get_state(v, &a))
		return INV_FAIL("get_state failed\n");
	memcpy(&b, &a, sizeof(b));
	if (lapicv_apic_set_state(v, &b))
		return INV_FAIL("set_state refused get_state's own output\n");
	if (lapicv_apic_get_state(v, &b))
		return INV_FAIL("get_state failed\n");
	__lapicv_set_reg(a.regs, APIC_TMCCT, 0);
	__lapicv_set_reg(b.regs, APIC_TMCCT, 0);
	if (memcmp(&a, &b, sizeof(a))) {
		int i;

		fprintf(stderr, "LVTT 0x%x TMICT 0x%x TDCR 0x%x SPIV 0x%x base 0x%llx\n",
			__lapicv_get_reg(a.regs, APIC_LVTT),
			__lapicv_get_reg(a.regs, APIC_TMICT),
			__lapicv_get_reg(a.regs, APIC_TDCR),
			__lapicv_get_reg(a.regs, APIC_SPIV),
			(unsigned long long)v->apic->apic_base);
		for (i = 0; i < (int)sizeof(a.regs); i += 4)
			if (memcmp(a.regs + i, b.regs + i, 4))
				return INV_FAIL("get, set, get changed 0x%x: 0x%x -> 0x%x\n",
						i, __lapicv_get_reg(a.regs, i),
						__lapicv_get_reg(b.regs, i));
	}
	return true;
}

static void op(struct lapicv_vcpu *v, const u8 *p)
{
	struct lapicv_lapic *apic = v->apic;
	u32 off = (p[1] << 4) & 0x3f0;
	u32 val = p[2] | p[3] << 8 | p[4] << 16 | (u32)p[5] << 24;
	struct lapicv_irq irq = {
		.vector = val & 0xff,
		.delivery_mode = val & APIC_MODE_MASK,
		.level = !!(val & APIC_INT_ASSERT),
		.trig_mode = !!(val & APIC_INT_LEVELTRIG),
	};
	u64 data;
	u32 r;

	switch (p[0] % 6) {
	case 0:
		lapicv_apic_reg_write(apic, off, val);
		break;
	case 1:
		lapicv_apic_reg_read(apic, off, &r);
		break;
	case 2:
		lapicv_set_msr(v, APIC_BASE_MSR + (off >> 4),
			       val | (u64)p[1] << 32 * (p[0] & 1), false);
		lapicv_get_msr(v, APIC_BASE_MSR + (off >> 4), &data);
		break;
	case 3:
		lapicv_apic_accept_irq(apic, &irq);
		break;
	case 4:
		lapicv_apic_reg_write(apic, APIC_EOI, 0);
		break;
	case 5:
		shim_clock_advance(val & 0xfffff);
		lapicv_timer_inject_pending(apic);
		break;
	}
}

int unit_fuzz_one_input(const u8 *data, size_t size)
{
	static struct kvm_lapic_state s;
	struct lapicv_vcpu *v;
	struct lapicv_vm *vm;
	u8 flags = size ? data[0] : 0;
	size_t n, i;

	shim_reset();
	fuzz_backend = lapicv_soft_backend;
	fuzz_backend.apicv = flags & F_APICV;
	fuzz_backend.required_apicv_inhibits = UNIT_ALL_INHIBITS;
	vm = unit_apic_vm_create(2, &fuzz_backend, LAPICV_IRQWIN_COUNTER);
	if (!vm)
		abort();
	vm->x2apic_format = flags & F_32BIT_IDS;
	v = lapicv_get_vcpu(vm, 1);
	mutex_lock(&v->mutex);
	v->apic->cpuid_x2apic = true;
	lapicv_timer_set_cpuid(v->apic, flags & F_TSC_DEADLINE);
	if (flags & F_X2APIC)
		lapicv_apic_set_base(v, APIC_DEFAULT_PHYS_BASE | X2APIC_ENABLE |
				     MSR_IA32_APICBASE_ENABLE, true);
	/* The vCPU's run step would have refreshed APICv by now. */
	if (lapicv_check_request(v, LAPICV_REQ_APICV_UPDATE))
		lapicv_vcpu_update_apicv(v);

	memset(&s, 0, sizeof(s));
	n = size > 1 ? min(size - 1, sizeof(s)) : 0;
	memcpy(&s, data + 1, n);
	if (!lapicv_apic_set_state(v, &s)) {
		check(inv_lapic(v->apic));
		check(roundtrip(v));
		for (i = 1 + sizeof(s); i + 6 <= size; i += 6) {
			op(v, data + i);
			check(inv_lapic(v->apic));
		}
		check(roundtrip(v));
	}
	mutex_unlock(&v->mutex);

	unit_apic_vm_destroy(vm);
	shim_rcu_flush();
	check(true);
	return 0;
}
