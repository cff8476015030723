// SPDX-License-Identifier: GPL-2.0-only
/*
 * IPI figures.
 *
 * ipi_rt_xapic, ipi_rt_x2apic: vCPU 0 sends a fixed IPI to vCPU 1, which
 * waits in "sti; hlt"; its handler EOIs and answers with an IPI back,
 * which vCPU 0 also waits for halted.  Time per round trip, guest TSC,
 * both IPIs and both wake-ups included.  xAPIC: ICR2 then ICR through the
 * APIC page (two MMIO writes per IPI); x2APIC: one ICR MSR write.
 *
 * ipi_running: vCPU 1 spins with IF=1 (PAUSE loop) instead; vCPU 0 sends
 * and waits (PAUSE loop) until the handler counted it: time per IPI, the
 * inverse of the delivery throughput to a running vCPU.
 */
#include <pthread.h>

#include "rg.h"

#define PING_VECTOR	0x40
#define PONG_VECTOR	0x41

static bool x2;
static volatile uint32_t pings, pongs, stop, ready;
static struct rg_guest g;

static void eoi(void)
{
	if (x2)
		x2apic_write_reg(APIC_EOI, 0);
	else
		xapic_write_reg(APIC_EOI, 0);
}

static void send_ipi(uint32_t dest, uint8_t vec)
{
	if (x2) {
		x2apic_write_reg(APIC_ICR, (uint64_t)dest << 32 | vec);
	} else {
		xapic_write_reg(APIC_ICR2, SET_APIC_DEST_FIELD(dest));
		xapic_write_reg(APIC_ICR, vec);
	}
}

static void apic_on(void)
{
	if (x2)
		x2apic_enable();
	else
		xapic_enable();
}

static void ping_handler(struct ex_regs *regs)
{
	pings++;
	eoi();
	send_ipi(0, PONG_VECTOR);
}

static void pong_handler(struct ex_regs *regs)
{
	pongs++;
	eoi();
}

static void count_handler(struct ex_regs *regs)
{
	pings++;
	eoi();
}

static void receiver_halted(void)
{
	apic_on();
	ready = 1;
	while (!stop)
		rg_sti_hlt_cli();
	GUEST_DONE();
}

static void receiver_running(void)
{
	apic_on();
	ready = 1;
	asm volatile("sti" ::: "memory");
	while (!stop)
		cpu_relax();
	asm volatile("cli" ::: "memory");
	GUEST_DONE();
}

static void sender_halted(void)
{
	uint64_t end, t0;
	uint32_t p;

	apic_on();
	while (!ready)
		cpu_relax();
	end = rdtsc() + rg_budget;
	do {
		p = pongs;
		t0 = rdtsc();
		send_ipi(1, PING_VECTOR);
		while (pongs == p)
			rg_sti_hlt_cli();
		rg_sample(&g, rdtsc() - t0);
	} while (rdtsc() < end);
	stop = 1;
	/* Wake the receiver to see stop; its answer is taken below. */
	p = pongs;
	send_ipi(1, PING_VECTOR);
	while (pongs == p)
		rg_sti_hlt_cli();
	GUEST_DONE();
}

static void sender_running(void)
{
	uint64_t end, t0;
	uint32_t p;

	apic_on();
	while (!ready)
		cpu_relax();
	end = rdtsc() + rg_budget;
	do {
		p = pings;
		t0 = rdtsc();
		send_ipi(1, PING_VECTOR);
		while (pings == p)
			cpu_relax();
		rg_sample(&g, rdtsc() - t0);
	} while (rdtsc() < end);
	stop = 1;
	GUEST_DONE();
}

static void ipi_run(struct rg_res *r, bool halted, bool use_x2)
{
	struct kvm_vcpu *vcpus[2];
	struct kvm_vm *vm;
	pthread_t thr;

	vm = rg_vm_create(2, NULL, vcpus);
	vcpu_arch_set_entry_point(vcpus[0], halted ? sender_halted : sender_running);
	vcpu_arch_set_entry_point(vcpus[1], halted ? receiver_halted : receiver_running);
	x2 = use_x2;
	sync_global_to_guest(vm, x2);
	if (!x2)
		virt_pg_map(vm, APIC_DEFAULT_GPA, APIC_DEFAULT_GPA);
	vm_install_exception_handler(vm, PING_VECTOR,
				     halted ? ping_handler : count_handler);
	vm_install_exception_handler(vm, PONG_VECTOR, pong_handler);
	rg_vcpu_start(vcpus[1], 1, &thr);
	rg_pin(0);
	rg_vcpu_run_done(vcpus[0], NULL);
	rg_vcpu_join(thr);
	sync_global_from_guest(vm, g);
	rg_res_from_guest(r, &g);
	kvm_vm_free(vm);
}

void rg_ipi_halted(struct rg_res *r, unsigned long use_x2)
{
	ipi_run(r, true, use_x2);
}

void rg_ipi_running(struct rg_res *r, unsigned long unused)
{
	ipi_run(r, false, true);
}
