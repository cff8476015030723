// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interrupts into real guest code, on whatever /dev/kvm is (kvm_amd, or
 * lapicv's runner), with the same expectations.  Each part is its own VM:
 *
 *  timer     the LAPIC timer in one-shot, periodic and (when CPUID has
 *            it) TSC-deadline mode into a guest handler, x2APIC.
 *  nmi       KVM_NMI between two runs reaches the guest's NMI handler.
 *  nmi_iret  a KVM_NMI while the guest's NMI handler runs comes right
 *            after the handler's IRET, before the next instruction.
 *  msi       KVM_SIGNAL_MSI from another thread while the guest spins with
 *            IF=1 in guest mode: it must be kicked out and take the vector.
 *  tpr       an interrupt below the TPR (x2APIC TPR, then CR8) is held
 *            back while the guest is interruptible, and taken once the
 *            priority is lowered; a MOV to CR8 that lowers it is followed
 *            by the interrupt before the next instruction.
 *  init_sipi the BSP sends INIT and SIPI; the AP starts in real mode at
 *            the vector's page (CS = vector << 8) and reports over port I/O.
 *  sipi_regs a register the VMM sets while the AP waits for SIPI (INIT
 *            accepted by KVM_GET_MP_STATE, or by the AP's KVM_RUN) is
 *            still there when SIPI starts it.
 *  mmio      a store and a load outside guest memory end in KVM_EXIT_MMIO;
 *            the VMM's data reaches the loading register.
 *
 * The xAPIC page (timer, EOI by MMIO) is exercised by KVM's own
 * xapic_state_test and xapic_ipi_test, which the rig runs on both devices.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "apic.h"

#include "guest_util.h"

#ifndef MSR_IA32_TSC_DEADLINE
#define MSR_IA32_TSC_DEADLINE	0x6e0
#endif
#define APIC_ISR	0x100

#define TIMER_VECTOR	0xec
#define MSI_VECTOR	0x40
#define TPR_VECTOR	0x41
#define MMIO_GPA	0xc0000000ULL
#define AP_PORT		0x77

static uint32_t irqs;
static uint32_t nmis;

static void set_cr8(uint64_t val)
{
	asm volatile("mov %0, %%cr8" : : "r"(val) : "memory");
}

static void sti_hlt_cli(void)
{
	asm volatile("sti; hlt; cli" ::: "memory");
}

static void run_to_done(struct kvm_vcpu *vcpu)
{
	struct ucall uc;

	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_DONE);
}

/* ---- timer ---- */

static void x2apic_irq_handler(struct ex_regs *regs)
{
	irqs++;
	x2apic_write_reg(APIC_EOI, 0);
}

static void wait_irqs(uint32_t n)
{
	while (READ_ONCE(irqs) < n)
		sti_hlt_cli();
}

static void timer_guest(bool tsc_deadline)
{
	x2apic_enable();
	/* Divide by 1: TMICT counts bus cycles. */
	x2apic_write_reg(APIC_TDCR, 0xb);

	x2apic_write_reg(APIC_LVTT, TIMER_VECTOR);
	x2apic_write_reg(APIC_TMICT, 100000);
	wait_irqs(1);
	GUEST_ASSERT_EQ(x2apic_read_reg(APIC_TMCCT), 0);

	/* Periodic: three more; how many fire before it stops is timing. */
	x2apic_write_reg(APIC_LVTT, TIMER_VECTOR | APIC_LVT_TIMER_PERIODIC);
	x2apic_write_reg(APIC_TMICT, 200000);
	wait_irqs(4);
	x2apic_write_reg(APIC_TMICT, 0);
	GUEST_ASSERT_EQ(x2apic_read_reg(APIC_TMCCT), 0);

	if (tsc_deadline) {
		uint32_t n = READ_ONCE(irqs);

		x2apic_write_reg(APIC_LVTT,
				 TIMER_VECTOR | APIC_LVT_TIMER_TSCDEADLINE);
		wrmsr(MSR_IA32_TSC_DEADLINE, rdtsc() + 200000);
		wait_irqs(n + 1);
		/* A TSC-deadline timer that fired reads 0. */
		GUEST_ASSERT_EQ(rdmsr(MSR_IA32_TSC_DEADLINE), 0);
	}
	GUEST_DONE();
}

static void test_timer(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	bool tscd;

	vm = vm_create_with_one_vcpu(&vcpu, timer_guest);
	/* KVM leaves the CPUID bit to the VMM, which asks the capability. */
	tscd = kvm_has_cap(KVM_CAP_TSC_DEADLINE_TIMER);
	if (tscd)
		vcpu_set_cpuid_feature(vcpu, X86_FEATURE_TSC_DEADLINE_TIMER);
	vcpu_args_set(vcpu, 1, tscd);
	vm_install_exception_handler(vm, TIMER_VECTOR, x2apic_irq_handler);
	run_to_done(vcpu);
	kvm_vm_free(vm);
	pr_info("timer: one-shot, periodic%s: ok\n",
		tscd ? ", TSC deadline" : "");
}

/* ---- NMI ---- */

static void nmi_handler(struct ex_regs *regs)
{
	nmis++;
}

static void nmi_guest(void)
{
	GUEST_SYNC(0);
	/* IF stays 0: an NMI ignores it. */
	while (!READ_ONCE(nmis))
		cpu_relax();
	GUEST_DONE();
}

static void test_nmi(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;

	vm = vm_create_with_one_vcpu(&vcpu, nmi_guest);
	vm_install_exception_handler(vm, NMI_VECTOR, nmi_handler);
	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_SYNC);
	vcpu_ioctl(vcpu, KVM_NMI, NULL);
	run_to_done(vcpu);
	sync_global_from_guest(vm, nmis);
	TEST_ASSERT_EQ(nmis, 1);
	kvm_vm_free(vm);
	pr_info("nmi: ok\n");
}

/*
 * A second NMI that arrives while the first one's handler runs waits for
 * the handler's IRET and comes right after it: the interrupted code's
 * next load already sees the second handler's increment.
 */
static void nmi_iret_handler(struct ex_regs *regs)
{
	if (++nmis == 1)
		GUEST_SYNC(1);
}

static void nmi_iret_guest(void)
{
	uint32_t seen;

	GUEST_SYNC(0);
	/* The first NMI came at the end of that ucall, the second after it. */
	asm volatile("mov %[nmis], %[seen]"
		     : [seen] "=r"(seen) : [nmis] "m"(nmis) : "memory");
	GUEST_ASSERT_EQ(seen, 2);
	GUEST_DONE();
}

static void test_nmi_iret(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;

	nmis = 0;
	vm = vm_create_with_one_vcpu(&vcpu, nmi_iret_guest);
	vm_install_exception_handler(vm, NMI_VECTOR, nmi_iret_handler);
	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_SYNC);
	TEST_ASSERT_EQ(uc.args[1], 0);
	vcpu_ioctl(vcpu, KVM_NMI, NULL);
	/* In the first handler, NMIs blocked: the second one waits. */
	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_SYNC);
	TEST_ASSERT_EQ(uc.args[1], 1);
	vcpu_ioctl(vcpu, KVM_NMI, NULL);
	run_to_done(vcpu);
	kvm_vm_free(vm);
	pr_info("nmi_iret: an NMI held by the handler comes right after its IRET: ok\n");
}

/* ---- MSI to a running guest ---- */

static void msi_guest(void)
{
	x2apic_enable();
	asm volatile("sti" ::: "memory");
	while (!READ_ONCE(irqs))
		cpu_relax();
	asm volatile("cli" ::: "memory");
	GUEST_DONE();
}

static void signal_msi(struct kvm_vm *vm, uint8_t vector)
{
	struct kvm_msi msi = {
		.address_lo = 0xfee00000,	/* APIC ID 0, physical */
		.data = vector,			/* fixed, edge */
	};

	TEST_ASSERT_EQ(__vm_ioctl(vm, KVM_SIGNAL_MSI, &msi), 1);
}

static void *msi_sender(void *arg)
{
	struct timespec ms = { .tv_nsec = 100 * 1000 * 1000 };

	/* Long enough for the vCPU to be in guest mode, spinning. */
	nanosleep(&ms, NULL);
	signal_msi(arg, MSI_VECTOR);
	return NULL;
}

static void test_msi(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	pthread_t thr;

	vm = vm_create_with_one_vcpu(&vcpu, msi_guest);
	vm_install_exception_handler(vm, MSI_VECTOR, x2apic_irq_handler);
	TEST_ASSERT_EQ(pthread_create(&thr, NULL, msi_sender, vm), 0);
	run_to_done(vcpu);
	pthread_join(thr, NULL);
	sync_global_from_guest(vm, irqs);
	TEST_ASSERT_EQ(irqs, 1);
	kvm_vm_free(vm);
	pr_info("msi: ok\n");
}

/* ---- TPR and CR8 ---- */

static void tpr_guest(void)
{
	uint32_t seen;

	x2apic_enable();

	/* Priority class 4 is below a TPR of 0x50. */
	x2apic_write_reg(APIC_TASKPRI, 0x50);
	GUEST_SYNC(1);
	asm volatile("sti; nop; nop; cli" ::: "memory");
	GUEST_ASSERT_EQ(READ_ONCE(irqs), 0);
	x2apic_write_reg(APIC_TASKPRI, 0);
	wait_irqs(1);

	/* CR8 is TPR[7:4]. */
	set_cr8(5);
	GUEST_ASSERT_EQ(x2apic_read_reg(APIC_TASKPRI), 0x50);
	GUEST_SYNC(2);
	asm volatile("sti; nop; nop; cli" ::: "memory");
	GUEST_ASSERT_EQ(READ_ONCE(irqs), 1);
	set_cr8(0);
	wait_irqs(2);

	/*
	 * The MOV that lowers CR8 below the held vector is followed by the
	 * interrupt at once, before the next instruction: the load of irqs
	 * right after it already sees the handler's increment.
	 */
	set_cr8(5);
	GUEST_SYNC(3);
	asm volatile("sti\n\t"
		     "nop\n\t"
		     "mov %[zero], %%cr8\n\t"
		     "mov %[irqs], %[seen]\n\t"
		     "cli"
		     : [seen] "=r"(seen)
		     : [zero] "r"(0ul), [irqs] "m"(irqs)
		     : "memory");
	GUEST_ASSERT_EQ(seen, 3);
	GUEST_DONE();
}

static void test_tpr(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;

	vm = vm_create_with_one_vcpu(&vcpu, tpr_guest);
	vm_install_exception_handler(vm, TPR_VECTOR, x2apic_irq_handler);
	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_SYNC);
	signal_msi(vm, TPR_VECTOR);
	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_SYNC);
	signal_msi(vm, TPR_VECTOR);
	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_SYNC);
	signal_msi(vm, TPR_VECTOR);
	run_to_done(vcpu);
	kvm_vm_free(vm);
	pr_info("tpr: x2APIC TPR and CR8, CR8 lowered: ok\n");
}

/* ---- INIT and SIPI ---- */

static void init_sipi_guest(uint8_t vector)
{
	x2apic_enable();
	x2apic_write_reg(APIC_ICR, (1ULL << 32) | APIC_DM_INIT | APIC_INT_ASSERT);
	x2apic_write_reg(APIC_ICR, (1ULL << 32) | APIC_DM_STARTUP | vector);
	GUEST_DONE();
}

static void ap_unused(void)
{
	GUEST_FAIL("the AP ran its 64-bit entry point");
}

static void test_init_sipi(void)
{
	/* Real mode: mov $0x2a, %al; out %al, $AP_PORT; hlt */
	static const uint8_t tramp[] = { 0xb0, 0x2a, 0xe6, AP_PORT, 0xf4 };
	struct kvm_vcpu *bsp, *ap;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_vm *vm;
	vm_paddr_t pa;
	uint8_t vector;

	vm = vm_create_with_one_vcpu(&bsp, init_sipi_guest);
	ap = vm_vcpu_add(vm, 1, ap_unused);
	/*
	 * The SIPI vector's page must be below 1 MiB, where KVM's library
	 * has loaded the test's own image, except for its first two pages.
	 */
	pa = 0x1000;
	vector = pa >> 12;
	memcpy(addr_gpa2hva(vm, pa), tramp, sizeof(tramp));
	vcpu_args_set(bsp, 1, vector);
	run_to_done(bsp);

	vcpu_run(ap);
	TEST_ASSERT_KVM_EXIT_REASON(ap, KVM_EXIT_IO);
	TEST_ASSERT_EQ(ap->run->io.port, AP_PORT);
	TEST_ASSERT_EQ(ap->run->io.direction, KVM_EXIT_IO_OUT);
	TEST_ASSERT_EQ(*((uint8_t *)ap->run + ap->run->io.data_offset), 0x2a);
	vcpu_sregs_get(ap, &sregs);
	TEST_ASSERT_EQ(sregs.cs.selector, vector << 8);
	TEST_ASSERT_EQ(sregs.cs.base, (uint64_t)vector << 12);
	TEST_ASSERT_EQ(sregs.cr0 & X86_CR0_PE, 0);
	TEST_ASSERT_EQ(sregs.efer & EFER_LMA, 0);
	vcpu_regs_get(ap, &regs);
	/* RIP still at the OUT: 2 bytes into the page. */
	TEST_ASSERT_EQ(regs.rip, 2);
	kvm_vm_free(vm);
	pr_info("init_sipi: AP started in real mode at vector 0x%x: ok\n",
		vector);
}

/*
 * SIPI changes CS and RIP only (KVM's kvm_vcpu_deliver_sipi_vector()):
 * what the VMM sets while the AP waits for SIPI stays.  Twice: INIT
 * accepted by KVM_GET_MP_STATE, then by the AP's own KVM_RUN, which a
 * signal ends while the AP waits.
 */
static void sipi_regs_guest(uint8_t vector)
{
	int i;

	x2apic_enable();
	for (i = 0; i < 2; i++) {
		x2apic_write_reg(APIC_ICR, (1ULL << 32) | APIC_DM_INIT |
				 APIC_INT_ASSERT);
		GUEST_SYNC(0);
		x2apic_write_reg(APIC_ICR, (1ULL << 32) | APIC_DM_STARTUP |
				 vector);
		GUEST_SYNC(1);
	}
	GUEST_DONE();
}

static void on_alarm(int sig)
{
}

/* The AP in wait-for-SIPI gets @rbx from the VMM, then SIPI; it reports BX. */
static void sipi_with_rbx(struct kvm_vcpu *bsp, struct kvm_vcpu *ap,
			  uint64_t rbx)
{
	struct kvm_mp_state mp;
	struct kvm_regs regs;
	struct ucall uc;

	vcpu_mp_state_get(ap, &mp);
	TEST_ASSERT_EQ(mp.mp_state, KVM_MP_STATE_INIT_RECEIVED);
	vcpu_regs_get(ap, &regs);
	/* The INIT state is there already. */
	TEST_ASSERT_EQ(regs.rip, 0xfff0);
	TEST_ASSERT_EQ(regs.rbx, 0);
	regs.rbx = rbx;
	vcpu_regs_set(ap, &regs);
	TEST_ASSERT_EQ(run_to_ucall(bsp, &uc), UCALL_SYNC);
	TEST_ASSERT_EQ(uc.args[1], 1);
	vcpu_run(ap);
	TEST_ASSERT_KVM_EXIT_REASON(ap, KVM_EXIT_IO);
	TEST_ASSERT_EQ(ap->run->io.port, AP_PORT);
	TEST_ASSERT_EQ(ap->run->io.size, 2);
	TEST_ASSERT_EQ(*(uint16_t *)((uint8_t *)ap->run + ap->run->io.data_offset),
		       (uint16_t)rbx);
}

static void test_sipi_regs(void)
{
	/* Real mode: mov %bx, %ax; out %ax, $AP_PORT; hlt */
	static const uint8_t tramp[] = { 0x89, 0xd8, 0xe7, AP_PORT, 0xf4 };
	struct itimerval tick = { { 0, 10000 }, { 0, 10000 } }, off = {};
	struct sigaction sa = { .sa_handler = on_alarm };
	struct kvm_vcpu *bsp, *ap;
	struct ucall uc;
	struct kvm_vm *vm;
	int r;

	vm = vm_create_with_one_vcpu(&bsp, sipi_regs_guest);
	ap = vm_vcpu_add(vm, 1, ap_unused);
	memcpy(addr_gpa2hva(vm, 0x1000), tramp, sizeof(tramp));
	vcpu_args_set(bsp, 1, 1);

	/* INIT accepted by KVM_GET_MP_STATE. */
	TEST_ASSERT_EQ(run_to_ucall(bsp, &uc), UCALL_SYNC);
	sipi_with_rbx(bsp, ap, 0x1234);

	/* INIT accepted by the AP's KVM_RUN; a signal ends its wait. */
	TEST_ASSERT_EQ(run_to_ucall(bsp, &uc), UCALL_SYNC);
	TEST_ASSERT_EQ(sigaction(SIGALRM, &sa, NULL), 0);
	TEST_ASSERT_EQ(setitimer(ITIMER_REAL, &tick, NULL), 0);
	r = __vcpu_run(ap);
	TEST_ASSERT_EQ(setitimer(ITIMER_REAL, &off, NULL), 0);
	TEST_ASSERT(r == -1 && errno == EINTR, "KVM_RUN: %d, errno %d", r, errno);
	sipi_with_rbx(bsp, ap, 0x5678);

	run_to_done(bsp);
	kvm_vm_free(vm);
	pr_info("sipi_regs: the VMM's RBX kept through SIPI: ok\n");
}

/* ---- KVM_EXIT_MMIO ---- */

static void mmio_guest(void)
{
	volatile uint32_t *p = (volatile uint32_t *)MMIO_GPA;

	*p = 0x1234abcd;
	GUEST_SYNC(*p);
	GUEST_DONE();
}

static void test_mmio(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct kvm_run *run;
	struct ucall uc;
	uint32_t v;

	vm = vm_create_with_one_vcpu(&vcpu, mmio_guest);
	virt_pg_map(vm, MMIO_GPA, MMIO_GPA);
	run = vcpu->run;

	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_MMIO);
	TEST_ASSERT_EQ(run->mmio.phys_addr, MMIO_GPA);
	TEST_ASSERT_EQ(run->mmio.len, 4);
	TEST_ASSERT_EQ(run->mmio.is_write, 1);
	memcpy(&v, run->mmio.data, 4);
	TEST_ASSERT_EQ(v, 0x1234abcd);

	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_MMIO);
	TEST_ASSERT_EQ(run->mmio.phys_addr, MMIO_GPA);
	TEST_ASSERT_EQ(run->mmio.len, 4);
	TEST_ASSERT_EQ(run->mmio.is_write, 0);
	v = 0x55aa7788;
	memcpy(run->mmio.data, &v, 4);

	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_SYNC);
	TEST_ASSERT_EQ(uc.args[1], 0x55aa7788);
	run_to_done(vcpu);
	kvm_vm_free(vm);
	pr_info("mmio: ok\n");
}

int main(void)
{
	test_timer();
	test_nmi();
	test_nmi_iret();
	test_msi();
	test_tpr();
	test_init_sipi();
	test_sipi_regs();
	test_mmio();
	return 0;
}
