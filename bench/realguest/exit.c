// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exit figures, one vCPU; the guest times a loop of one instruction that
 * exits, guest TSC per instruction.
 *
 * exit_pio:        OUT to a port the VMM handles: KVM_RUN returns and is
 *                  called again (a round trip through the VMM).
 * exit_eoi_msr:    WRMSR to the x2APIC EOI register (nothing in service),
 *                  handled in the kernel.
 * exit_xapic_mmio: a store to the xAPIC EOI register through the APIC
 *                  page, decoded and handled in the kernel.
 *
 * extint, extint_other_inhibit: ExtINTs through KVM_INTERRUPT into a guest
 * that really opens windows.  The guest, IF=0, asks for one with an OUT;
 * the VMM passes vector 0x30 with KVM_INTERRUPT and runs again; the
 * guest toggles IF ("sti; nop; cli") until its handler counted the
 * interrupt, so that each ExtINT waits for an IRQ window the kernel opens.
 * Time per delivered interrupt (OUT round trip included), and per
 * interrupt: KVM_RUN returns (vmm_exits), the devices' own counters from
 * their stats files (kvm: exits, irq_window_exits, irq_injections;
 * lapicv: exits, irq_windows, extint_injections, and the VM's
 * apicv_update_lock_writes and irqwin_transitions; a counter the device
 * lacks is NAN and not printed).  extint_other_inhibit:
 * lapicv only, with LAPICV_SET_INHIBIT PIT_REINJ set on the VM first.
 */
#include <math.h>

#include <linux/lapicv.h>

#include "rg.h"

#define EXTINT_VECTOR	0x30
#define BATCH		16

static struct rg_guest g;
static volatile uint64_t extints;

static void exit_guest(int kind)
{
	uint64_t end, t0, t;
	int i;

	if (kind == RG_EXIT_EOI_MSR)
		x2apic_enable();
	else if (kind == RG_EXIT_XAPIC_MMIO)
		xapic_enable();
	end = rdtsc() + rg_budget;
	do {
		t0 = rdtsc();
		for (i = 0; i < BATCH; i++) {
			switch (kind) {
			case RG_EXIT_PIO:
				rg_outb(RG_PORT, 0);
				break;
			case RG_EXIT_EOI_MSR:
				wrmsr(APIC_BASE_MSR + (APIC_EOI >> 4), 0);
				break;
			case RG_EXIT_XAPIC_MMIO:
				xapic_write_reg(APIC_EOI, 0);
				break;
			}
		}
		t = rdtsc();
		/* One sample per batch: its mean. */
		rg_sample(&g, (t - t0) / BATCH);
	} while (t < end);
	GUEST_DONE();
}

void rg_exit(struct rg_res *r, unsigned long kind)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	vm = rg_vm_create(1, exit_guest, &vcpu);
	vcpu_args_set(vcpu, 1, kind);
	if (kind == RG_EXIT_XAPIC_MMIO)
		virt_pg_map(vm, APIC_DEFAULT_GPA, APIC_DEFAULT_GPA);
	rg_pin(1);
	rg_vcpu_run_done(vcpu, NULL);
	sync_global_from_guest(vm, g);
	rg_res_from_guest(r, &g);
	/* Batches, not instructions, were sampled. */
	r->n *= BATCH;
	r->ns *= BATCH;
	kvm_vm_free(vm);
}

static void extint_handler(struct ex_regs *regs)
{
	extints++;
}

static void extint_guest(void)
{
	uint64_t end, t0, c;

	end = rdtsc() + rg_budget;
	do {
		t0 = rdtsc();
		c = extints;
		rg_outb(RG_PORT, 0);
		while (extints == c)
			asm volatile("sti; nop; cli" ::: "memory");
		rg_sample(&g, rdtsc() - t0);
	} while (rdtsc() < end);
	GUEST_DONE();
}

static void pass_extint(struct kvm_vcpu *vcpu)
{
	struct kvm_interrupt irq = { .irq = EXTINT_VECTOR };

	vcpu_ioctl(vcpu, KVM_INTERRUPT, &irq);
}

void rg_extint(struct rg_res *r, unsigned long other_inhibit)
{
	struct lapicv_inhibit_op op = { LAPICV_INHIBIT_PIT_REINJ, 1 };
	static const char *const names[2][RG_AUX] = {
		{ NULL, "exits", "irq_windows", NULL, NULL, "extint_injections" },
		{ NULL, "exits", "irq_window_exits", NULL, NULL, "irq_injections" },
	};
	static const char *const vm_names[2][RG_AUX] = {
		{ NULL, NULL, NULL, "apicv_update_lock_writes", "irqwin_transitions" },
		{ NULL },
	};
	uint64_t v0[RG_AUX] = { 0 }, exits;
	int vfd, mfd, a, d = rg_on_lapicv ? 0 : 1;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	vm = rg_vm_create(1, extint_guest, &vcpu);
	vm_install_exception_handler(vm, EXTINT_VECTOR, extint_handler);
	if (other_inhibit)
		vm_ioctl(vm, LAPICV_SET_INHIBIT, &op);
	vfd = vcpu_get_stats_fd(vcpu);
	mfd = vm_get_stats_fd(vm);
	for (a = 0; a < RG_AUX; a++) {
		if (names[d][a])
			v0[a] = rg_stat(vfd, names[d][a]);
		else if (vm_names[d][a])
			v0[a] = rg_stat(mfd, vm_names[d][a]);
	}
	rg_pin(1);
	exits = rg_vcpu_run_done(vcpu, pass_extint);
	sync_global_from_guest(vm, g);
	rg_res_from_guest(r, &g);
	r->aux[0] = exits;
	for (a = 1; a < RG_AUX; a++) {
		if (names[d][a])
			r->aux[a] = rg_stat(vfd, names[d][a]) - v0[a];
		else if (vm_names[d][a])
			r->aux[a] = rg_stat(mfd, vm_names[d][a]) - v0[a];
		else
			r->aux[a] = NAN;	/* no such counter: not printed */
	}
	close(vfd);
	close(mfd);
	kvm_vm_free(vm);
}
