// SPDX-License-Identifier: GPL-2.0-only
/*
 * A small VMM that runs real guest code under KVM_RUN on 4 vCPUs and says
 * in plain words what the guest did:
 *
 *   - vCPU 0 (the BSP) starts in 32-bit protected mode, enables its local
 *     APIC and wakes the APs with INIT and SIPI; each AP starts in real
 *     mode at the SIPI vector's page, loads a GDT and switches itself to
 *     protected mode;
 *   - every vCPU programs its LAPIC timer (periodic) and counts the ticks,
 *     and sends one IPI to every other vCPU;
 *   - the VMM sends each vCPU an MSI (KVM_SIGNAL_MSI), and on lapicv sets
 *     and clears an APICv inhibit (LAPICV_SET_INHIBIT) while they run;
 *   - each vCPU's handlers count what they took in guest memory, which
 *     the VMM reads at the end, with lapicv's counters.
 *
 *   guest_vmm           device: $LAPICV_DEV, default /dev/lapicv
 *
 * It runs unchanged on /dev/kvm (kvm_amd), without the lapicv-only parts.
 * Exit status: 0 when every vCPU saw what it should, 4 when the device
 * refuses to run guest code here (the reason is printed), 1 otherwise.
 * The guest touches its APIC through the xAPIC page only (MMIO at
 * 0xfee00000), as firmware does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/lapicv.h>

#include "guest_setup.h"
#include "guest_vmm.h"
#include "vmm_util.h"

#define STR(x)		#x
#define XSTR(x)		STR(x)

/* The guest's layout; the asm below hard-codes 4 vCPUs. */
#define NR_VCPUS	4
#define MEM_SIZE	0x100000	/* one memslot: the first MiB */
#define IDT_GPA		0x2000		/* 256 32-bit gates */
#define LOAD_GPA	0x8000		/* the code; the SIPI vector's page */
#define SIPI_VECTOR	0x08		/* LOAD_GPA >> 12 */
#define SHARED_GPA	0x1f000		/* online, armed: counts of vCPUs */
#define DATA_GPA	0x20000		/* per vCPU, DATA_STRIDE bytes */
#define DATA_STRIDE	0x40
#define STACK_GPA	0x30000		/* vCPU n: the page below + (n + 2) pages */
#define APIC_GPA	0xfee00000

/* Per-vCPU data, offsets in its DATA_STRIDE bytes. */
#define D_TICKS		0
#define D_IPIS		4
#define D_MSIS		8
#define D_APIC_ID	12
#define D_FROM		16		/* NR_VCPUS counts: IPIs from vCPU n */
/*
 * Deliveries into a running handler.  QEMU's SVM emulation (7.2) keeps
 * an EVENTINJ vector as its pending exception after delivering it, and
 * delivers it again if its CPU loop is interrupted before the guest's
 * next exit: the handler runs twice for one injection, the second time
 * inside the first.  It happens under kvm_amd as under lapicv (both
 * inject with EVENTINJ); no interrupt gate allows it on a CPU.
 */
#define D_AGAIN		32

#define TIMER_VECTOR	0x40
#define IPI_VECTOR	0x50		/* + the sender's APIC ID */
#define MSI_VECTOR	0x60
#define TIMER_COUNT	2000000		/* 2 ms at KVM's 1 GHz APIC bus */
#define MIN_TICKS	25		/* ticks each vCPU waits for at least */

/* OUT to REPORT_PORT: what the vCPU just did. */
#define REPORT_PORT	0xe0
#define EV_REAL		1	/* an AP runs its first instruction, real mode */
#define EV_PROTECTED	2	/* that AP reached its 32-bit code */
#define EV_READY	3	/* timer armed, IPIs sent: ready for the MSI */
#define EV_DONE		4	/* every tick, IPI and MSI it waited for */

/* A handler's first lines: to guest_again if it interrupted a handler. */
#define GUEST_ONCE							\
	"	cmpl $" XSTR(LOAD_GPA) " + guest_timer - guest_start, (%esp)\n" \
	"	jae guest_again\n"

/*
 * The guest, copied to LOAD_GPA.  Registers the whole 32-bit part keeps:
 * EDI the xAPIC page, EBX this vCPU's data, ESI its APIC ID; the
 * handlers use them and change no register.
 */
asm(".pushsection .rodata.guest, \"a\"\n"
	".code16\n"
	"guest_start:\n"
	/* An AP after SIPI: CS = 0x0800, IP = 0, real mode. */
	"	cli\n"
	"	mov $" XSTR(EV_REAL) ", %al\n"
	"	out %al, $" XSTR(REPORT_PORT) "\n"
	"	mov %cs, %ax\n"
	"	mov %ax, %ds\n"
	"	lgdtl guest_gdt_desc - guest_start\n"
	"	mov %cr0, %eax\n"
	"	and $0x9fffffff, %eax\n"	/* caches on: CD, NW off */
	"	or $1, %eax\n"			/* PE */
	"	mov %eax, %cr0\n"
	"	ljmpl $8, $" XSTR(LOAD_GPA) " + guest_ap32 - guest_start\n"
	".code32\n"
	"guest_ap32:\n"
	"	mov $0x10, %ax\n"
	"	mov %ax, %ds\n"
	"	mov %ax, %es\n"
	"	mov %ax, %ss\n"
	"	mov %ax, %fs\n"
	"	mov %ax, %gs\n"
	"	mov $" XSTR(EV_PROTECTED) ", %al\n"
	"	out %al, $" XSTR(REPORT_PORT) "\n"
	/* The BSP starts here, in protected mode. */
	"guest_bsp:\n"
	"	lidt " XSTR(LOAD_GPA) " + guest_idt_desc - guest_start\n"
	"	mov $" XSTR(APIC_GPA) ", %edi\n"
	"	mov 0x20(%edi), %esi\n"		/* APIC ID register */
	"	shr $24, %esi\n"
	"	imul $" XSTR(DATA_STRIDE) ", %esi, %ebx\n"
	"	add $" XSTR(DATA_GPA) ", %ebx\n"
	"	mov %esi, " XSTR(D_APIC_ID) "(%ebx)\n"
	"	lea 2(%esi), %esp\n"
	"	shl $12, %esp\n"
	"	add $" XSTR(STACK_GPA) ", %esp\n"
	"	movl $0x1ff, 0xf0(%edi)\n"	/* SPIV: enabled, spurious 0xff */
	"	test %esi, %esi\n"
	"	jnz 2f\n"
	/* The BSP: INIT, then SIPI, to all but itself; wait for the APs. */
	"	movl $0, 0x310(%edi)\n"
	"	movl $0xc4500, 0x300(%edi)\n"
	"	movl $0xc4600 + " XSTR(SIPI_VECTOR) ", 0x300(%edi)\n"
	"1:	cmpl $" XSTR(NR_VCPUS) " - 1, " XSTR(SHARED_GPA) "\n"
	"	je 3f\n"
	"	pause\n"
	"	jmp 1b\n"
	"2:	lock incl " XSTR(SHARED_GPA) "\n"
	/* The timer: divide by 1, periodic, TIMER_COUNT bus cycles. */
	"3:	movl $0xb, 0x3e0(%edi)\n"
	"	movl $0x20000 + " XSTR(TIMER_VECTOR) ", 0x320(%edi)\n"
	"	movl $" XSTR(TIMER_COUNT) ", 0x380(%edi)\n"
	"	sti\n"
	/* Until every vCPU is armed (an IPI to a disabled APIC is lost). */
	"	lock incl " XSTR(SHARED_GPA) " + 4\n"
	"4:	cmpl $" XSTR(NR_VCPUS) ", " XSTR(SHARED_GPA) " + 4\n"
	"	je 5f\n"
	"	hlt\n"
	"	jmp 4b\n"
	/* A fixed IPI to each other vCPU, vector IPI_VECTOR + own ID. */
	"5:	xor %ecx, %ecx\n"
	"6:	cmp %ecx, %esi\n"
	"	je 7f\n"
	"	mov %ecx, %eax\n"
	"	shl $24, %eax\n"
	"	mov %eax, 0x310(%edi)\n"
	"	lea " XSTR(IPI_VECTOR) "(%esi), %eax\n"
	"	mov %eax, 0x300(%edi)\n"
	"7:	inc %ecx\n"
	"	cmp $" XSTR(NR_VCPUS) ", %ecx\n"
	"	jne 6b\n"
	"	mov $" XSTR(EV_READY) ", %al\n"
	"	out %al, $" XSTR(REPORT_PORT) "\n"
	/* Halt until MIN_TICKS ticks, an IPI from each other vCPU, the MSI. */
	"8:	cli\n"
	"	cmpl $" XSTR(MIN_TICKS) ", " XSTR(D_TICKS) "(%ebx)\n"
	"	jb 9f\n"
	"	cmpl $" XSTR(NR_VCPUS) " - 1, " XSTR(D_IPIS) "(%ebx)\n"
	"	jb 9f\n"
	"	cmpl $0, " XSTR(D_MSIS) "(%ebx)\n"
	"	jne 10f\n"
	"9:	sti\n"
	"	hlt\n"
	"	jmp 8b\n"
	"10:	movl $0, 0x380(%edi)\n"		/* TMICT = 0: the timer stops */
	"	mov $" XSTR(EV_DONE) ", %al\n"
	"	out %al, $" XSTR(REPORT_PORT) "\n"
	"11:	hlt\n"
	"	jmp 11b\n"
	/*
	 * The handlers: count, EOI through the xAPIC page, return.  Each
	 * first looks where it interrupted: inside a handler (which runs
	 * with IF=0) no interrupt can arrive, so that is a second delivery
	 * of the same event, counted apart (QEMU's SVM emulation makes one
	 * now and then; see the comment at D_AGAIN).
	 */
	"guest_timer:\n"
	GUEST_ONCE
	"	incl " XSTR(D_TICKS) "(%ebx)\n"
	"	movl $0, 0xb0(%edi)\n"
	"	iret\n"
	"guest_msi:\n"
	GUEST_ONCE
	"	incl " XSTR(D_MSIS) "(%ebx)\n"
	"	movl $0, 0xb0(%edi)\n"
	"	iret\n"
	".irp n, 0, 1, 2, 3\n"
	"guest_ipi\\n:\n"
	GUEST_ONCE
	"	incl " XSTR(D_FROM) " + 4 * \\n(%ebx)\n"
	"	incl " XSTR(D_IPIS) "(%ebx)\n"
	"	movl $0, 0xb0(%edi)\n"
	"	iret\n"
	".endr\n"
	"guest_again:\n"
	"	incl " XSTR(D_AGAIN) "(%ebx)\n"
	"	iret\n"
	"guest_spurious:\n"
	"	iret\n"
	"	.balign 8\n"
	"guest_gdt:\n"
	"	.quad 0\n"
	"	.quad 0x00cf9a000000ffff\n"	/* 0x08: code, flat, 32-bit */
	"	.quad 0x00cf92000000ffff\n"	/* 0x10: data, flat */
	"guest_gdt_desc:\n"
	"	.word 23\n"
	"	.long " XSTR(LOAD_GPA) " + guest_gdt - guest_start\n"
	"guest_idt_desc:\n"
	"	.word 256 * 8 - 1\n"
	"	.long " XSTR(IDT_GPA) "\n"
	"guest_end:\n"
	".code64\n"
	".popsection\n");

static const char * const event_names[] = {
	[EV_REAL] = "started in real mode",
	[EV_PROTECTED] = "reached protected mode",
	[EV_READY] = "armed its timer and sent its IPIs",
	[EV_DONE] = "saw everything it waited for",
};

struct vcpu {
	int id;
	int fd;
	pthread_t thread;
	struct kvm_run *run;
	unsigned int last_event;	/* written by its thread */
	unsigned int io_exits;
	struct kvm_sregs real;		/* at EV_REAL */
	struct kvm_regs real_regs;	/* at EV_REAL */
	struct kvm_sregs prot;		/* at EV_PROTECTED */
};

static struct {
	const char *path;
	int dev, vm;
	int lapicv;			/* the device is lapicv */
	char backend[16];
	uint8_t *mem;
	struct vcpu vcpu[NR_VCPUS];
	sem_t ready, done;
	int stop;			/* __atomic: vCPU threads, return */
} g;

static uint32_t guest_addr(void (*sym)(void))
{
	return LOAD_GPA + ((uintptr_t)sym - (uintptr_t)guest_start);
}

static uint32_t guest_u32(uint32_t gpa)
{
	uint32_t v;

	memcpy(&v, g.mem + gpa, sizeof(v));
	return v;
}

static uint32_t vcpu_data(int id, unsigned int off)
{
	return guest_u32(DATA_GPA + id * DATA_STRIDE + off);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A 32-bit interrupt gate, selector 8, DPL 0. */
static void set_gate(int vec, void (*handler)(void))
{
	uint32_t off = guest_addr(handler);
	uint64_t gate = (off & 0xffff) | 8ULL << 16 | 0x8eULL << 40 |
			(uint64_t)(off >> 16) << 48;

	memcpy(g.mem + IDT_GPA + vec * 8, &gate, sizeof(gate));
}

static void read_backend(void)
{
	FILE *f = fopen("/sys/module/lapicv/parameters/backend", "r");

	snprintf(g.backend, sizeof(g.backend), "?");
	if (!f)
		return;
	if (fgets(g.backend, sizeof(g.backend), f))
		g.backend[strcspn(g.backend, "\n")] = '\0';
	fclose(f);
}

/*
 * CPUID leaves 0 and 1, leaf 1 with the APIC bit and the initial APIC ID.
 * Without a CPUID table KVM lets no LVT timer mode but one-shot be set
 * (its timer-mode mask comes from CPUID), and lapicv does the same.
 */
static void set_cpuid(int fd, int id)
{
	struct kvm_cpuid_entry2 e[2];

	memset(e, 0, sizeof(e));
	e[1].ebx = (uint32_t)id << 24;
	e[1].edx = 1u << 9;			/* APIC */
	if (guest_set_cpuid(fd, e, 2, 1))
		fail("KVM_SET_CPUID2: %s", strerror(errno));
}

/* The BSP: 32-bit protected mode, flat, at guest_bsp; the GDT the APs load. */
static void setup_bsp(int fd)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	xioctl(fd, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
	guest_flat_sregs(&sregs, false);
	sregs.gdt.base = guest_addr(guest_gdt);
	sregs.gdt.limit = 23;
	sregs.cr0 = 0x11;		/* PE | ET */
	xioctl(fd, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rip = guest_addr(guest_bsp);
	regs.rflags = 2;
	xioctl(fd, KVM_SET_REGS, &regs, "KVM_SET_REGS");
}

static void setup_vm(void)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_SPLIT_IRQCHIP,
		.args[0] = 24,
	};
	size_t sz;
	int i;

	g.dev = open(g.path, O_RDWR | O_CLOEXEC);
	if (g.dev < 0)
		fail("open %s: %s", g.path, strerror(errno));
	g.vm = xioctl(g.dev, KVM_CREATE_VM, 0, "KVM_CREATE_VM");
	xioctl(g.vm, KVM_ENABLE_CAP, &cap, "KVM_ENABLE_CAP(SPLIT_IRQCHIP)");
	g.mem = guest_mem_create(g.vm, MEM_SIZE);
	if (g.mem == MAP_FAILED)
		fail("guest memory (mmap, KVM_SET_USER_MEMORY_REGION): %s",
		     strerror(errno));

	memcpy(g.mem + LOAD_GPA, (void *)guest_start,
	       (uintptr_t)guest_end - (uintptr_t)guest_start);
	set_gate(TIMER_VECTOR, guest_timer);
	set_gate(MSI_VECTOR, guest_msi);
	set_gate(IPI_VECTOR + 0, guest_ipi0);
	set_gate(IPI_VECTOR + 1, guest_ipi1);
	set_gate(IPI_VECTOR + 2, guest_ipi2);
	set_gate(IPI_VECTOR + 3, guest_ipi3);
	set_gate(0xff, guest_spurious);

	for (i = 0; i < NR_VCPUS; i++) {
		struct vcpu *v = &g.vcpu[i];

		v->id = i;
		v->fd = ioctl(g.vm, KVM_CREATE_VCPU, i);
		if (v->fd < 0)
			fail("KVM_CREATE_VCPU %d: %s", i, strerror(errno));
		v->run = guest_run_map(g.dev, v->fd, &sz);
		if (v->run == MAP_FAILED)
			fail("mmap of vCPU %d: %s", i, strerror(errno));
		set_cpuid(v->fd, i);
	}
	setup_bsp(g.vcpu[0].fd);
}

/*
 * A KVM_RUN that returns at once (immediate_exit): does the device run
 * guest code here at all?  Returns 0, or says why not.
 */
static int probe_run(void)
{
	struct vcpu *v = &g.vcpu[0];
	int r;

	v->run->immediate_exit = 1;
	r = ioctl(v->fd, KVM_RUN, 0);
	v->run->immediate_exit = 0;
	if (r < 0 && errno == EINTR)
		return 0;
	if (r == 0)
		fail("KVM_RUN with immediate_exit returned 0");
	switch (errno) {
	case EOPNOTSUPP:
		printf("%s refuses KVM_RUN (EOPNOTSUPP) with backend=%s:\n"
		       "this backend's model of the CPU's side of APICv is not carried\n"
		       "out for real guests yet, so no guest code runs on it (only\n"
		       "backend=soft runs guests).  Nothing was run.\n",
		       g.path, g.backend);
		break;
	case ENODEV:
		printf("%s refuses KVM_RUN (ENODEV): this CPU lacks SVM with\n"
		       "nested paging, or memory encryption is on.  Nothing was run.\n",
		       g.path);
		break;
	case EBUSY:
		printf("%s refuses KVM_RUN (EBUSY): another hypervisor\n"
		       "(kvm_amd) holds SVM.  Nothing was run.\n", g.path);
		break;
	default:
		fail("KVM_RUN: %s", strerror(errno));
	}
	return -1;
}

static void on_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t ev;

	if (run->io.port != REPORT_PORT ||
	    run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 1)
		fail("vCPU %d: unexpected port I/O: port %#x, size %u, %s",
		     v->id, run->io.port, run->io.size,
		     run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in");
	ev = *((uint8_t *)run + run->io.data_offset);
	if (ev != v->last_event + 1 && !(ev == EV_READY && v->id == 0 &&
					 !v->last_event))
		fail("vCPU %d: report %u after %u", v->id, ev, v->last_event);
	if (ev == EV_REAL) {
		xioctl(v->fd, KVM_GET_SREGS, &v->real, "KVM_GET_SREGS");
		xioctl(v->fd, KVM_GET_REGS, &v->real_regs, "KVM_GET_REGS");
	} else if (ev == EV_PROTECTED) {
		xioctl(v->fd, KVM_GET_SREGS, &v->prot, "KVM_GET_SREGS");
	}
	v->last_event = ev;
	if (ev == EV_READY)
		sem_post(&g.ready);
	else if (ev == EV_DONE)
		sem_post(&g.done);
}

/* One vCPU's thread: KVM_RUN until its guest reports EV_DONE. */
static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct kvm_run *run = v->run;

	while (v->last_event != EV_DONE) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR && __atomic_load_n(&g.stop, __ATOMIC_ACQUIRE))
				return NULL;
			/* An AP waking from UNINITIALIZED on KVM: EAGAIN. */
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fail("vCPU %d: KVM_RUN: %s", v->id, strerror(errno));
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			v->io_exits++;
			on_io(v);
			break;
		case KVM_EXIT_SHUTDOWN:
			fail("vCPU %d: the guest shut down (triple fault)", v->id);
			break;
		case KVM_EXIT_MMIO:
			fail("vCPU %d: MMIO at %#llx outside guest memory", v->id,
			     (unsigned long long)run->mmio.phys_addr);
			break;
		default:
			fail("vCPU %d: exit reason %u", v->id, run->exit_reason);
		}
	}
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
}

/*
 * Stop the vCPU threads (a signal ends KVM_RUN with EINTR) and show each
 * vCPU's APIC: what it has in service and pending, and its timer.
 */
static void stop_and_show(void)
{
	struct kvm_lapic_state lapic;
	struct timespec ms = { 0, 10000000 };
	int i, j, tries;

	__atomic_store_n(&g.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NR_VCPUS; i++) {
		for (tries = 0; tries < 500; tries++) {
			if (pthread_tryjoin_np(g.vcpu[i].thread, NULL) != EBUSY)
				break;
			pthread_kill(g.vcpu[i].thread, SIGUSR1);
			nanosleep(&ms, NULL);
		}
		if (tries == 500 ||
		    ioctl(g.vcpu[i].fd, KVM_GET_LAPIC, &lapic) < 0)
			continue;
		fprintf(stderr, "guest_vmm: vCPU %d's APIC: LVTT %#x TMICT %u TMCCT %u ISR",
			i, *(uint32_t *)&lapic.regs[0x320],
			*(uint32_t *)&lapic.regs[0x380],
			*(uint32_t *)&lapic.regs[0x390]);
		for (j = 0; j < 256; j++)
			if (lapic.regs[0x100 + (j / 32) * 16 + (j % 32) / 8] &
			    (1 << (j % 8)))
				fprintf(stderr, " %#x", j);
		fprintf(stderr, " IRR");
		for (j = 0; j < 256; j++)
			if (lapic.regs[0x200 + (j / 32) * 16 + (j % 32) / 8] &
			    (1 << (j % 8)))
				fprintf(stderr, " %#x", j);
		fprintf(stderr, "\n");
	}
}

/* Wait for @n posts of @sem, at most @secs seconds; say who was missing. */
static void wait_for(sem_t *sem, int n, int secs, const char *what)
{
	struct timespec ts;
	int i;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += secs;
	while (n) {
		if (!sem_timedwait(sem, &ts)) {
			n--;
			continue;
		}
		if (errno == EINTR)
			continue;
		fflush(stdout);
		for (i = 0; i < NR_VCPUS; i++)
			fprintf(stderr,
				"guest_vmm: vCPU %d: last report: %s; %u ticks, %u IPIs, %u MSIs\n",
				i, g.vcpu[i].last_event ?
				event_names[g.vcpu[i].last_event] : "none",
				vcpu_data(i, D_TICKS), vcpu_data(i, D_IPIS),
				vcpu_data(i, D_MSIS));
		stop_and_show();
		fail("%s: not within %d s", what, secs);
	}
}

/* The VM's inhibit reasons after @what; returns the backend's APICv. */
static int show_inhibits(const char *what)
{
	struct lapicv_inhibit_state st;

	memset(&st, 0, sizeof(st));
	xioctl(g.vm, LAPICV_GET_INHIBITS, &st, "LAPICV_GET_INHIBITS");
	printf("  %s:\n    the inhibit reasons are now %s; APICv is %s.\n", what,
	       st.names[0] ? st.names : "none",
	       st.apicv_enabled && !(st.reasons & st.required) ? "active" :
	       "off");
	return st.apicv_enabled;
}

static void set_inhibit(unsigned int reason, int set)
{
	struct lapicv_inhibit_op op = { .reason = reason, .set = set };

	xioctl(g.vm, LAPICV_SET_INHIBIT, &op, "LAPICV_SET_INHIBIT");
}

/* Interrupts from outside: an inhibit flip around one MSI per vCPU. */
static void vmm_acts(void)
{
	int i, n, apicv = 0;

	if (g.lapicv) {
		set_inhibit(LAPICV_INHIBIT_PIT_REINJ, 1);
		show_inhibits("While they run, the VMM sets the APICv inhibit PIT_REINJ\n"
			      "  (LAPICV_SET_INHIBIT)");
	}
	for (i = 0; i < NR_VCPUS; i++) {
		struct kvm_msi msi = {
			.address_lo = APIC_GPA | i << 12,
			.data = MSI_VECTOR,
		};

		n = xioctl(g.vm, KVM_SIGNAL_MSI, &msi, "KVM_SIGNAL_MSI");
		if (n != 1)
			fail("KVM_SIGNAL_MSI to APIC ID %d delivered to %d vCPUs",
			     i, n);
	}
	printf("  The VMM sends an MSI (KVM_SIGNAL_MSI, vector %#x) to each vCPU,\n"
	       "  as a device would: each is accepted by 1 vCPU.\n", MSI_VECTOR);
	if (!g.lapicv)
		return;
	set_inhibit(LAPICV_INHIBIT_PIT_REINJ, 0);
	apicv = show_inhibits("The VMM clears PIT_REINJ again");
	if (!apicv)
		printf("  (Backend %s has no APICv to turn off: its VMs carry DISABLED\n"
		       "  for life, so the flip changes nothing and every interrupt is\n"
		       "  injected by software.  vmx-model and avic-model would turn\n"
		       "  APICv off and on, but they do not run guest code yet.)\n",
		       g.backend);
}

static void show_start(void)
{
	const struct kvm_sregs *r, *p;
	int i;

	printf("  vCPU 0 (the BSP) started in 32-bit protected mode at %#x, set by\n"
	       "  the VMM, enabled its APIC and sent INIT, then SIPI vector %#04x, to\n"
	       "  all but itself (writes to its ICR in the xAPIC page).\n",
	       guest_addr(guest_bsp), SIPI_VECTOR);
	for (i = 1; i < NR_VCPUS; i++) {
		r = &g.vcpu[i].real;
		p = &g.vcpu[i].prot;
		printf("  vCPU %d started in real mode: its first report came from\n"
		       "    %04x:%04llx (CS base %#llx, CR0.PE = %llu); it loaded a GDT, set\n"
		       "    CR0.PE and jumped to the 32-bit code (CR0.PE = %llu, CS.D = %u).\n",
		       i, r->cs.selector,
		       (unsigned long long)g.vcpu[i].real_regs.rip,
		       (unsigned long long)r->cs.base,
		       (unsigned long long)(r->cr0 & 1),
		       (unsigned long long)(p->cr0 & 1), p->cs.db);
		if ((r->cr0 & 1) || r->cs.base != LOAD_GPA || !(p->cr0 & 1) ||
		    !p->cs.db)
			fail("vCPU %d did not start as it should", i);
	}
}

/* What each vCPU's handlers counted; returns how many facts were wrong. */
static int show_guest_counts(void)
{
	int i, j, bad = 0;

	printf("What each vCPU saw (its handlers' counts in guest memory):\n");
	for (i = 0; i < NR_VCPUS; i++) {
		uint32_t ticks = vcpu_data(i, D_TICKS);
		uint32_t ipis = vcpu_data(i, D_IPIS);
		uint32_t msis = vcpu_data(i, D_MSIS);
		char from[64] = "";
		size_t len = 0;
		int ok = 1;

		for (j = 0; j < NR_VCPUS; j++) {
			uint32_t n = vcpu_data(i, D_FROM + 4 * j);

			if (j == i ? n != 0 : n != 1)
				ok = 0;
			if (n)
				len += snprintf(from + len, sizeof(from) - len,
						"%s%d", len ? ", " : "", j);
		}
		printf("  vCPU %d saw %u timer ticks, %u IPIs (from vCPUs %s) and %u MSI%s.\n",
		       i, ticks, ipis, len ? from : "none", msis,
		       msis == 1 ? "" : "s");
		if (vcpu_data(i, D_AGAIN))
			printf("    (Not counted: %u more deliver%s into a running handler, which\n"
			       "    no CPU makes; QEMU's SVM emulation delivers an injected vector\n"
			       "    twice now and then, under kvm_amd as under lapicv.)\n",
			       vcpu_data(i, D_AGAIN),
			       vcpu_data(i, D_AGAIN) == 1 ? "y" : "ies");
		if (vcpu_data(i, D_APIC_ID) != (uint32_t)i || ticks < MIN_TICKS ||
		    ipis != NR_VCPUS - 1 || msis != 1 || !ok) {
			printf("    (expected: APIC ID %d, at least %d ticks, one IPI from\n"
			       "    each other vCPU, 1 MSI)\n", i, MIN_TICKS);
			bad++;
		}
	}
	return bad;
}

static void show_counters(void)
{
	struct lapicv_vcpu_stats st;
	struct lapicv_vm_stats vs;
	int i;

	if (!g.lapicv) {
		printf("(%s is not lapicv: it has no lapicv counters.)\n", g.path);
		return;
	}
	printf("lapicv's counters (LAPICV_GET_VCPU_STATS, LAPICV_GET_VM_STATS):\n");
	for (i = 0; i < NR_VCPUS; i++) {
		xioctl(g.vcpu[i].fd, LAPICV_GET_VCPU_STATS, &st,
		       "LAPICV_GET_VCPU_STATS");
		printf("  vCPU %d: %llu run steps, %llu interrupts injected by software\n"
		       "    (its handlers counted %u), %llu delivered by APICv,\n"
		       "    %llu halts, %llu wake-ups from a halt.\n",
		       i, (unsigned long long)st.runs,
		       (unsigned long long)st.intr_injections,
		       vcpu_data(i, D_TICKS) + vcpu_data(i, D_IPIS) +
		       vcpu_data(i, D_MSIS),
		       (unsigned long long)st.virtual_intr_deliveries,
		       (unsigned long long)st.halts,
		       (unsigned long long)st.halt_wakeups);
	}
	xioctl(g.vm, LAPICV_GET_VM_STATS, &vs, "LAPICV_GET_VM_STATS");
	printf("  VM: %llu inhibit changes, %llu APICv on/off toggles.\n",
	       (unsigned long long)vs.inhibit_changes,
	       (unsigned long long)vs.apicv_toggles);
}

int main(void)
{
	struct lapicv_inhibit_state st;
	double t0;
	int i, bad;

	struct sigaction sa = { .sa_handler = on_signal };

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGUSR1, &sa, NULL);
	g.path = getenv("LAPICV_DEV") ?: "/dev/lapicv";
	sem_init(&g.ready, 0, 0);
	sem_init(&g.done, 0, 0);
	setup_vm();
	g.lapicv = !ioctl(g.vm, LAPICV_GET_INHIBITS, &st);
	if (g.lapicv)
		read_backend();
	printf("A real guest on %s%s%s:\n"
	       "%d vCPUs, split irqchip, one 1 MiB memslot with %u bytes of guest\n"
	       "code at %#x.\n", g.path,
	       g.lapicv ? ", backend " : " (not lapicv)",
	       g.lapicv ? g.backend : "", NR_VCPUS,
	       (unsigned int)((uintptr_t)guest_end - (uintptr_t)guest_start),
	       LOAD_GPA);
	if (probe_run())
		return 4;

	t0 = now_ms();
	for (i = 0; i < NR_VCPUS; i++)
		if (pthread_create(&g.vcpu[i].thread, NULL, vcpu_thread,
				   &g.vcpu[i]))
			fail("pthread_create");
	printf("Running: one thread per vCPU in KVM_RUN.\n");
	wait_for(&g.ready, NR_VCPUS, 60, "every vCPU armed and sent its IPIs");
	show_start();
	printf("  Every vCPU programmed its LAPIC timer (periodic, vector %#x, every\n"
	       "  %u bus cycles: %u ms) and sent a fixed IPI to each other vCPU\n"
	       "  (vector %#x + its APIC ID), then halted, waking for each interrupt.\n",
	       TIMER_VECTOR, TIMER_COUNT, TIMER_COUNT / 1000000, IPI_VECTOR);
	vmm_acts();
	wait_for(&g.done, NR_VCPUS, 60, "every vCPU done");
	for (i = 0; i < NR_VCPUS; i++)
		pthread_join(g.vcpu[i].thread, NULL);
	printf("  Each vCPU stopped its timer and reported done; %.0f ms in all.\n",
	       now_ms() - t0);
	bad = show_guest_counts();
	show_counters();
	if (bad)
		fail("%d vCPUs did not see what they should", bad);
	printf("guest_vmm: every vCPU saw what it should on %s%s%s.\n", g.path,
	       g.lapicv ? ", backend " : "", g.lapicv ? g.backend : "");
	return 0;
}
