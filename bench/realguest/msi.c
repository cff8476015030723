// SPDX-License-Identifier: GPL-2.0-only
/*
 * msi_running, msi_halted: a VMM thread (pinned to the other CPU) reads
 * the TSC and calls KVM_SIGNAL_MSI for the vCPU, which spins with IF=1
 * (PAUSE loop) or waits in "sti; hlt"; the guest's handler reads the TSC
 * first thing.  Latency = handler TSC - (VMM TSC + the guest's TSC
 * offset).  The offset is KVM_GET_MSRS(IA32_TSC) against the host's TSC
 * around it; lapicv runs the guest with offset 0 (RDTSC unintercepted,
 * Documentation/design.rst) and has no IA32_TSC MSR, which reads as 0
 * here.  Halted: the VMM waits until the guest says it is about to halt
 * and then 100 us more before each MSI.
 */
#include <pthread.h>
#include <sys/ioctl.h>
#include <time.h>

#include "rg.h"

#define MSI_VECTOR	0x42

static volatile uint64_t got, irq_tsc, halting, stop, ready;
static bool halted;

static void msi_handler(struct ex_regs *regs)
{
	irq_tsc = rdtsc();
	halting = 0;
	got++;
	x2apic_write_reg(APIC_EOI, 0);
}

static void msi_guest(void)
{
	x2apic_enable();
	if (halted) {
		while (!stop) {
			halting = 1;
			rg_sti_hlt_cli();
		}
	} else {
		asm volatile("sti" ::: "memory");
		ready = 1;
		while (!stop)
			cpu_relax();
		asm volatile("cli" ::: "memory");
	}
	GUEST_DONE();
}

static int64_t tsc_offset(struct kvm_vcpu *vcpu)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr.nmsrs = 1, .e.index = MSR_IA32_TSC };
	uint64_t h0, h1;

	h0 = rdtsc();
	if (ioctl(vcpu->fd, KVM_GET_MSRS, &m) != 1)
		return 0;
	h1 = rdtsc();
	return (int64_t)(m.e.data - (h0 + (h1 - h0) / 2));
}

#define HVA(vm, var) ((volatile typeof(var) *)addr_gva2hva(vm, (vm_vaddr_t)&(var)))

void rg_msi(struct rg_res *r, unsigned long is_halted)
{
	struct timespec pause_ns = { .tv_nsec = 100000 };
	struct kvm_msi msi = { .address_lo = 0xfee00000, .data = MSI_VECTOR };
	volatile uint64_t *hgot, *htsc, *hhalting, *hstop, *hready;
	uint64_t end, t, g0;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	static struct rg_guest g;
	int64_t off;
	pthread_t thr;

	vm = rg_vm_create(1, msi_guest, &vcpu);
	halted = is_halted;
	sync_global_to_guest(vm, halted);
	vm_install_exception_handler(vm, MSI_VECTOR, msi_handler);
	hgot = HVA(vm, got);
	htsc = HVA(vm, irq_tsc);
	hhalting = HVA(vm, halting);
	hstop = HVA(vm, stop);
	hready = HVA(vm, ready);
	rg_pin(0);
	off = tsc_offset(vcpu);
	rg_vcpu_start(vcpu, 1, &thr);
	/* Not before the guest enabled its APIC, which drops MSIs before. */
	while (!(halted ? *hhalting : *hready))
		cpu_relax();
	end = rdtsc() + rg_budget;
	do {
		g0 = *hgot;
		if (halted) {
			while (!*hhalting)
				cpu_relax();
			nanosleep(&pause_ns, NULL);
		}
		t = rdtsc();
		TEST_ASSERT_EQ(__vm_ioctl(vm, KVM_SIGNAL_MSI, &msi), 1);
		while (*hgot == g0)
			cpu_relax();
		rg_sample(&g, (int64_t)(*htsc - (t + off)));
	} while (rdtsc() < end);
	*hstop = 1;
	if (halted)
		TEST_ASSERT_EQ(__vm_ioctl(vm, KVM_SIGNAL_MSI, &msi), 1);
	rg_vcpu_join(thr);
	rg_res_from_guest(r, &g);
	kvm_vm_free(vm);
}
