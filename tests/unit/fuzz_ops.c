// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: random operation sequences on a four-vCPU VM, with
 * invariant checks after every step (ZFS ztest's idea, single-threaded so
 * that a failure replays exactly).
 *
 * Input: a config byte (bit 0: a backend with APICv, else soft; bit 1: the
 * legacy IRQ-window policy), then 4-byte operations: opcode, vCPU, two
 * argument bytes.  Operations: flip a VMM inhibit reason, open or close
 * an IRQ window (each vCPU with its own idempotence flag, as the caller
 * contract in inhibit.c requires), MSIs, IPIs through ICR, EOIs, TPR and
 * other register writes, guest MMIO and MSR accesses, run steps (never
 * halted; a pending signal is set so nothing can sleep), APIC timer
 * programming and clock advances, x2APIC switches and INIT/SIPI.
 *
 * After each operation: invariants.h on every LAPIC (caches, PPR, vector
 * ranges) and on the inhibits (count == open windows; IRQWIN follows the
 * count when no other reason is set); after a run step the vCPU's APICv
 * state matches the VM's; no WARN anywhere.
 */
#include "test.h"
#include "shim/fuzz.h"
#include "invariants.h"
#include "unit_vm.h"

#define NR_VCPUS	4

static const enum lapicv_inhibit_reason vmm_reasons[] = {
	LAPICV_INHIBIT_HYPERV, LAPICV_INHIBIT_BLOCKIRQ, LAPICV_INHIBIT_NESTED,
	LAPICV_INHIBIT_PIT_REINJ, LAPICV_INHIBIT_SEV,
};

static struct lapicv_backend fuzz_backend;
static bool window[NR_VCPUS];

static void check(bool ok)
{
	if (!ok || shim_take_warnings())
		abort();
}

static unsigned int open_windows(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < NR_VCPUS; i++)
		n += window[i];
	return n;
}

static bool check_vcpu(struct lapicv_vcpu *v, bool after_run)
{
	struct lapicv_lapic *apic = v->apic;
	bool want;

	if (!inv_lapic(apic))
		return false;
	if (!after_run || test_bit(LAPICV_REQ_APICV_UPDATE, &v->requests))
		return true;
	want = lapicv_backend.apicv && lapicv_apicv_activated(v->vm) &&
	       lapicv_apic_mode(apic->apic_base) != LAPICV_MODE_DISABLED;
	if (apic->apicv_active != want)
		return INV_FAIL("vCPU %u: apicv_active %d, want %d\n",
				v->vcpu_id, apic->apicv_active, want);
	return true;
}

static void run_step(struct lapicv_vcpu *v, u8 a)
{
	struct lapicv_run run = {
		.rflags_if = a & 1,
		.interrupt_shadow = !!(a & 2),
		.nmi_blocked = !!(a & 4),
	};

	lapicv_vcpu_run(v, &run);
}

static void guest_access(struct lapicv_vcpu *v, u8 a, u8 b)
{
	struct lapicv_guest_access ga = {
		.type = a & 3,
		.address = ((u32)b << 4) | (a >> 6) * 4,
		.data = (u32)a << 24 | b,
	};

	if (ga.type >= LAPICV_ACCESS_MSR_READ) {
		ga.address = APIC_BASE_MSR + b;
		ga.data = (u32)b << 24 | a;
	} else {
		ga.size = 1 << ((a >> 2) % 3);
		ga.address &= 0xfff;
	}
	lapicv_guest_access(v, &ga);
}

static void op(struct lapicv_vm *vm, const u8 *p)
{
	unsigned int idx = p[1] % NR_VCPUS;
	struct lapicv_vcpu *v = lapicv_get_vcpu(vm, idx);
	struct lapicv_lapic *apic = v->apic;
	u8 a = p[2], b = p[3];
	bool after_run = false;
	unsigned int i;

	switch (p[0] % 14) {
	case 0:		/* VMM inhibit flip */
		lapicv_set_or_clear_inhibit(vm, vmm_reasons[a % ARRAY_SIZE(vmm_reasons)],
					    b & 1);
		break;
	case 1:		/* IRQ window: svm_set_vintr / svm_clear_vintr */
		if (window[idx] != (a & 1)) {
			window[idx] = a & 1;
			lapicv_irq_window_inc_or_dec(vm, window[idx]);
		}
		break;
	case 2: {	/* MSI */
		struct kvm_msi msi = {
			.address_lo = 0xfee00000 | (u32)b << 12 | (a & 0xc),
			.data = (u32)(a & 0x7) << 8 | (a & 0x80 ? BIT(15) : 0) |
				BIT(14) | (b ^ 0x5a),
		};

		lapicv_signal_msi(vm, &msi);
		break;
	}
	case 3:		/* IPI through the register file */
		mutex_lock(&v->mutex);
		if (lapicv_x2apic_mode(apic)) {
			lapicv_x2apic_msr_write(apic, APIC_BASE_MSR + (APIC_ICR >> 4),
						(u64)(b % 6) << 32 |
						(u32)(a & 0xcf) << 8 | (a ^ b));
		} else {
			lapicv_apic_reg_write(apic, APIC_ICR2, (u32)(b % 6) << 24);
			lapicv_apic_reg_write(apic, APIC_ICR,
					      (u32)(a & 0xcf) << 8 | (a ^ b));
		}
		mutex_unlock(&v->mutex);
		break;
	case 4:		/* EOI */
		mutex_lock(&v->mutex);
		lapicv_apic_reg_write(apic, APIC_EOI, 0);
		mutex_unlock(&v->mutex);
		break;
	case 5:		/* TPR */
		mutex_lock(&v->mutex);
		lapicv_apic_reg_write(apic, APIC_TASKPRI, a);
		mutex_unlock(&v->mutex);
		break;
	case 6:		/* run step */
		mutex_lock(&v->mutex);
		run_step(v, a);
		mutex_unlock(&v->mutex);
		after_run = true;
		break;
	case 7:		/* any register */
		mutex_lock(&v->mutex);
		lapicv_apic_reg_write(apic, ((u32)a << 4) & 0x3f0,
				      (u32)b << 24 | (u32)a << 8 | b);
		mutex_unlock(&v->mutex);
		break;
	case 8:		/* guest MMIO / MSR access */
		mutex_lock(&v->mutex);
		guest_access(v, a, b);
		mutex_unlock(&v->mutex);
		break;
	case 9:		/* timer: mode, vector, count */
		mutex_lock(&v->mutex);
		lapicv_apic_reg_write(apic, APIC_LVTT,
				      (u32)(a & 3) << 17 | 0x20 | (b & 0xdf));
		lapicv_apic_reg_write(apic, APIC_TDCR, a >> 4);
		lapicv_apic_reg_write(apic, APIC_TMICT, (u32)b << (a & 15));
		lapicv_set_msr(v, MSR_IA32_TSC_DEADLINE, rdtsc() + ((u64)b << 10), false);
		mutex_unlock(&v->mutex);
		break;
	case 10:	/* time passes */
		shim_clock_advance((s64)((u32)a << 8 | b) << (b & 7));
		break;
	case 11:	/* APIC mode, host-initiated */
		mutex_lock(&v->mutex);
		lapicv_apic_set_base(v, APIC_DEFAULT_PHYS_BASE |
				     (a & 1 ? MSR_IA32_APICBASE_ENABLE : 0) |
				     (a & 2 ? X2APIC_ENABLE : 0) |
				     (idx ? 0 : MSR_IA32_APICBASE_BSP), true);
		mutex_unlock(&v->mutex);
		break;
	case 12:	/* INIT or SIPI, then accept_events */
		mutex_lock(&v->mutex);
		lapicv_apic_accept_irq(apic, &(struct lapicv_irq){
			.vector = b, .level = true,
			.delivery_mode = a & 1 ? APIC_DM_STARTUP : APIC_DM_INIT,
		});
		lapicv_apic_accept_events(v);
		mutex_unlock(&v->mutex);
		break;
	case 13:	/* software enable / disable */
		mutex_lock(&v->mutex);
		lapicv_apic_reg_write(apic, APIC_SPIV, (a & 1) << 8 | 0xff);
		mutex_unlock(&v->mutex);
		break;
	}

	for (i = 0; i < NR_VCPUS; i++) {
		struct lapicv_vcpu *w = lapicv_get_vcpu(vm, i);

		mutex_lock(&w->mutex);
		check(check_vcpu(w, after_run && w == v));
		mutex_unlock(&w->mutex);
	}
	check(inv_inhibits(vm, open_windows()));
}

int unit_fuzz_one_input(const u8 *data, size_t size)
{
	u8 cfg = size ? data[0] : 0;
	struct lapicv_vm *vm;
	unsigned int i;
	size_t off;

	shim_reset();
	/* Nothing may sleep here: a halted run step returns at once. */
	current->sigpending = true;
	memset(window, 0, sizeof(window));
	fuzz_backend = lapicv_soft_backend;
	fuzz_backend.apicv = cfg & 1;
	fuzz_backend.required_apicv_inhibits = UNIT_ALL_INHIBITS;
	vm = unit_apic_vm_create(NR_VCPUS, &fuzz_backend,
				 cfg & 2 ? LAPICV_IRQWIN_LEGACY :
					   LAPICV_IRQWIN_COUNTER);
	if (!vm)
		abort();
	for (i = 0; i < NR_VCPUS; i++) {
		struct lapicv_vcpu *v = lapicv_get_vcpu(vm, i);

		v->apic->cpuid_x2apic = true;
		lapicv_timer_set_cpuid(v->apic, true);
		mutex_lock(&v->mutex);
		lapicv_apic_reg_write(v->apic, APIC_SPIV, 0x1ff);
		mutex_unlock(&v->mutex);
	}

	for (off = 1; off + 4 <= size && off < 1 + 4 * 512; off += 4)
		op(vm, data + off);

	/* Close what is open before the VM goes, as the vCPUs would. */
	for (i = 0; i < NR_VCPUS; i++)
		if (window[i])
			lapicv_irq_window_inc_or_dec(vm, false);
	unit_apic_vm_destroy(vm);
	shim_rcu_flush();
	current->sigpending = false;
	check(true);
	return 0;
}
