// SPDX-License-Identifier: GPL-2.0-only
/*
 * Timer figures, x2APIC, the guest waiting in "sti; hlt" for each tick.
 *
 * timer_tscdl_latency: TSC-deadline mode, deadline 500 us ahead; time from
 * the deadline to the first instruction of the guest's handler (guest TSC).
 * timer_oneshot_latency: one-shot mode, divide by 1, 1 ns bus cycles
 * (KVM_CAP_X86_APIC_BUS_CYCLES_NS = 1 on both devices), TMICT for 500 us;
 * the deadline is counted from the TSC read just before the TMICT write,
 * so the figure includes the part of that write's exit before the timer
 * starts.
 * timer_periodic_drift: periodic mode, 5 ms (above the latency of a tick
 * under TCG, about 2 ms), for twice the slice's budget; the guest counts
 * its ticks and compares the time from the first tick to the last with the count
 * of periods: the relative error in ppm (ticks the guest did not see,
 * coalesced ones included, show as a longer period).
 */
#include "rg.h"

#ifndef MSR_IA32_TSC_DEADLINE
#define MSR_IA32_TSC_DEADLINE	0x6e0
#endif

#define TIMER_VECTOR	0xec
#define DELAY_NS	500000
#define PERIOD_NS	5000000

static volatile uint64_t fired_tsc;
static volatile uint64_t ticks;
static uint64_t first_tsc;
static struct rg_guest g;

static void timer_handler(struct ex_regs *regs)
{
	uint64_t t = rdtsc();

	if (!ticks++)
		first_tsc = t;
	fired_tsc = t;
	x2apic_write_reg(APIC_EOI, 0);
}

static uint64_t ns_to_cycles(uint64_t ns)
{
	return ns * guest_tsc_khz / 1000000;
}

static void wait_tick(uint64_t n)
{
	while (ticks < n)
		rg_sti_hlt_cli();
}

/* One latency: summed, and the smallest and largest (aux 0, 1). */
static void lat(int64_t c)
{
	if (!g.n || c < (int64_t)g.aux[0])
		g.aux[0] = c;
	if (!g.n || c > (int64_t)g.aux[1])
		g.aux[1] = c;
	rg_sample(&g, c);
}

static void timer_guest(int mode)
{
	uint64_t end, deadline, delay = ns_to_cycles(DELAY_NS);

	x2apic_enable();
	x2apic_write_reg(APIC_TDCR, 0xb);
	end = rdtsc() + rg_budget;
	switch (mode) {
	case RG_TIMER_TSCDL:
		x2apic_write_reg(APIC_LVTT, TIMER_VECTOR | APIC_LVT_TIMER_TSCDEADLINE);
		do {
			deadline = rdtsc() + delay;
			wrmsr(MSR_IA32_TSC_DEADLINE, deadline);
			wait_tick(g.n + 1);
			lat(fired_tsc - deadline);
		} while (rdtsc() < end);
		break;
	case RG_TIMER_ONESHOT:
		x2apic_write_reg(APIC_LVTT, TIMER_VECTOR);
		do {
			deadline = rdtsc() + delay;
			x2apic_write_reg(APIC_TMICT, DELAY_NS);
			wait_tick(g.n + 1);
			lat(fired_tsc - deadline);
		} while (rdtsc() < end);
		break;
	case RG_TIMER_PERIODIC:
		x2apic_write_reg(APIC_LVTT, TIMER_VECTOR | APIC_LVT_TIMER_PERIODIC);
		x2apic_write_reg(APIC_TMICT, PERIOD_NS);
		end += rg_budget;
		while (rdtsc() < end)
			rg_sti_hlt_cli();
		x2apic_write_reg(APIC_TMICT, 0);
		g.n = ticks;
		/* Signed: measured minus expected time, ticks 1..n. */
		g.sum = (int64_t)(fired_tsc - first_tsc) -
			(int64_t)((ticks - 1) * ns_to_cycles(PERIOD_NS));
		g.cycles = (ticks - 1) * ns_to_cycles(PERIOD_NS);
		break;
	}
	GUEST_DONE();
}

void rg_timer(struct rg_res *r, unsigned long mode)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	vm = rg_vm_create(1, timer_guest, &vcpu);
	if (mode == RG_TIMER_TSCDL) {
		TEST_ASSERT(kvm_has_cap(KVM_CAP_TSC_DEADLINE_TIMER),
			    "no TSC-deadline timer");
		vcpu_set_cpuid_feature(vcpu, X86_FEATURE_TSC_DEADLINE_TIMER);
	}
	vcpu_args_set(vcpu, 1, mode);
	vm_install_exception_handler(vm, TIMER_VECTOR, timer_handler);
	rg_pin(1);
	rg_vcpu_run_done(vcpu, NULL);
	sync_global_from_guest(vm, g);
	if (mode == RG_TIMER_PERIODIC) {
		/* One value per slice: the drift in ppm. */
		TEST_ASSERT(g.n > 2 && g.cycles, "%lu periodic ticks", g.n);
		r->n = 1;
		r->ns = (double)g.sum * 1e6 / g.cycles;
	} else {
		rg_res_from_guest(r, &g);
		printf("# realguest: %s %s: %lu ticks, latency min %.0f max %.0f ns\n",
		       mode == RG_TIMER_TSCDL ? "tscdl" : "oneshot",
		       rg_on_lapicv ? "lapicv" : "kvm", g.n,
		       rg_cycles_to_ns((int64_t)g.aux[0]),
		       rg_cycles_to_ns((int64_t)g.aux[1]));
	}
	kvm_vm_free(vm);
}
