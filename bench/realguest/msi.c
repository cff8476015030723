// SPDX-License-Identifier: GPL-2.0-only
/*
 * msi_running, msi_halted: a VMM thread (pinned to the other CPU) reads
 * the TSC and calls KVM_SIGNAL_MSI for the vCPU, which spins with IF=1
 * (PAUSE loop) or waits in "sti; hlt"; the guest's handler reads the TSC
 * first thing.  Latency = handler TSC - (VMM TSC + the guest's TSC
 * offset).  KVM gives the offset exactly (KVM_GET_DEVICE_ATTR,
 * KVM_VCPU_TSC_CTRL); lapicv runs the guest with offset 0 (RDTSC
 * unintercepted, svm/svm.c) and has no such attribute.  Halted: the VMM waits until the guest says it is about to halt
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

/* KVM's exact offset (KVM_VCPU_TSC_CTRL); lapicv has none: offset 0. */
static int64_t tsc_offset(struct kvm_vcpu *vcpu)
{
	uint64_t off = 0;
	struct kvm_device_attr attr = {
		.group = KVM_VCPU_TSC_CTRL,
		.attr = KVM_VCPU_TSC_OFFSET,
		.addr = (uint64_t)&off,
	};

	if (ioctl(vcpu->fd, KVM_GET_DEVICE_ATTR, &attr))
		TEST_ASSERT(rg_on_lapicv, "KVM_GET_DEVICE_ATTR TSC offset");
	return (int64_t)off;
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
