// SPDX-License-Identifier: GPL-2.0-only
/*
 * Real guest code under KVM_RUN, on /dev/lapicv (its SVM runner) and on
 * /dev/kvm (kvm_amd) with the same expectations.
 *
 * The guest half is the assembly below, copied to guest-physical 0x10000
 * of one memslot and run in 64-bit mode with an identity map of the first
 * 2 MiB, a GDT, an IDT and a stack that the host half builds, as KVM's
 * selftests do before their library exists here.  The guest reports over
 * port I/O (KVM_EXIT_IO), one value per port:
 *
 *	0x10  OUT 1   0x11, then the host checks RIP still points at the OUT
 *	0x11  OUT 4   RDMSR(APIC base) low half
 *	0x12  OUT 4   CPUID(0).EBX
 *	0x13  OUT 4   CPUID(1).EDX
 *	0x14  IN 1    the host answers 0x5a (completed by an immediate_exit)
 *	0x15  OUT 1   the byte the IN read
 *	0x16  OUT 1   RDMSR of an unknown MSR raised #GP (the handler's count)
 *	0x17  OUT 1   after a HLT with IF=0, ended by KVM_SET_MP_STATE
 *	0x18  OUT 1   the MSI vector's handler ran
 *	0x19  OUT 1   after "sti; hlt", ended by an MSI from another thread
 *	0x1a  OUT 1   #DBs a single step raised (the handler's count)
 *	0x1b  OUT 1   after WRPKRU with CR4.PKE
 *	0x1c  OUT 4   RDPKRU after that exit
 *	0x1d  OUT 4   RDTSCP's ECX (TSC_AUX)
 *
 * The level_eoi test runs guest_eoi on a split irqchip: 0x23 with IF=0,
 * then "sti; hlt" until a level-triggered MSI routed through a VMM IOAPIC
 * pin arrives; its handler EOIs through the xAPIC page (mapped at
 * 0xfee00000 by a second page directory) and reports 0x24; then 0x25.
 *
 * The extint test runs guest_extint on a split irqchip: 0x20 with IF=0,
 * then "sti; hlt" with the KVM_INTERRUPT vector (handled by guest_msi,
 * port 0x18) taken once STI opens the window, then 0x22, and again.
 *
 * The irq_window tests run guest_irqwin on a split irqchip: 0x26 with
 * IF=0, "sti; hlt" (guest_irqwin_halted after it), then "cli" and 0x22,
 * then 0x27 from "sti; out" (the OUT in the STI shadow), then a loop with
 * IF=1 (guest_irqwin_spin).
 *
 * The halt_events test runs guest_nmi_wait (0x2a, then a loop), whose NMI
 * handler (guest_nmi_hlt) reports 0x28, halts with NMIs masked, then
 * reports 0x29; and guest_pvu: 0x2b, "sti; hlt", then "cli; hlt" and
 * 0x2c.
 *
 * The memory tests read the word at guest-physical 0x100000 (DATA_GPA):
 * guest_mem_read reports it over and over (0x26); guest_mem_spin reports
 * it (0x26), then spins in guest mode until it changes and reports the
 * new word (0x27), and again.
 *
 * guest_rbx_rw reads the word at RBX (0x26), writes its complement
 * and reports what it reads back (0x27), and again.  guest_big_fill
 * writes EDI to RCX words RSI bytes apart from RBX (0x2d), then
 * guest_big_count reports how many hold EDI (0x2e), over and over.
 *
 * Both devices inject the MSI's vector into the halted guest: its handler
 * reports (port 0x18), then the guest leaves the halt (0x19) with the
 * vector in service (no EOI).
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <asm/prctl.h>

#include "kselftest_harness.h"
#include "apic.h"
#include "lapicv_util.h"
#include "guest_run.h"
#include "guest_setup.h"

#ifndef KVM_SET_USER_MEMORY_REGION2
struct kvm_userspace_memory_region2 {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
	__u64 guest_memfd_offset;
	__u32 guest_memfd;
	__u32 pad1;
	__u64 pad2[14];
};

#define KVM_SET_USER_MEMORY_REGION2 _IOW(KVMIO, 0x49, \
					 struct kvm_userspace_memory_region2)
#endif
#ifndef KVM_CAP_USER_MEMORY2
#define KVM_CAP_USER_MEMORY2	231
#endif

/* guest_setup.h's 64-bit layout below CODE_GPA. */
#define MEM_SIZE	0x200000UL
#define CODE_GPA	0x10000
#define STACK_TOP	0x80000
/* The word the memory tests' guest reads (guest_mem_read, _spin). */
#define DATA_GPA	0x100000
#define MSI_VECTOR	0x40
#define EXTINT_VECTOR	0x30
#define EOI_VECTOR	0x31

asm(".pushsection .rodata.guest, \"a\"\n"
	"guest_start:\n"
	/* #GP: count it in R15, skip the 2-byte RDMSR, return. */
	"guest_gp:\n"
	"	inc %r15\n"
	"	addq $2, 8(%rsp)\n"
	"	add $8, %rsp\n"
	"	iretq\n"
	/* The MSI vector: report it; no EOI, the test ends soon after. */
	"guest_msi:\n"
	"	push %rax\n"
	"	push %rdx\n"
	"	mov $0x18, %dx\n"
	"	mov $1, %al\n"
	"	out %al, %dx\n"
	"	pop %rdx\n"
	"	pop %rax\n"
	"	iretq\n"
	/* #DB: count it in R14, clear TF in the interrupted RFLAGS. */
	"guest_db:\n"
	"	inc %r14\n"
	"	andq $~0x100, 16(%rsp)\n"
	"	iretq\n"
	/* A single step: TF set by POPFQ traps after the NOP. */
	"guest_step:\n"
	"	xor %r14, %r14\n"
	"	pushfq\n"
	"	orq $0x100, (%rsp)\n"
	"	popfq\n"
	"	nop\n"
	"	mov %r14, %rax\n"
	"	mov $0x1a, %dx\n"
	"	out %al, %dx\n"
	"	jmp .\n"
	/* PKRU: CR4.PKE on, WRPKRU, an exit, RDPKRU. */
	"guest_pkru:\n"
	"	mov %cr4, %rax\n"
	"	bts $22, %rax\n"
	"	mov %rax, %cr4\n"
	"	mov $0xc, %eax\n"
	"	xor %ecx, %ecx\n"
	"	xor %edx, %edx\n"
	"	wrpkru\n"
	"	mov $0x1b, %dx\n"
	"	out %al, %dx\n"
	"	rdpkru\n"
	"	mov $0x1c, %dx\n"
	"	out %eax, %dx\n"
	"	jmp .\n"
	/*
	 * TSC_AUX as RDTSCP reads it, after an exit the kernel handles
	 * (CPUID), again after every OUT.
	 */
	"guest_tsc_aux:\n"
	"	xor %eax, %eax\n"
	"	cpuid\n"
	"	rdtscp\n"
	"	mov %ecx, %eax\n"
	"	mov $0x1d, %dx\n"
	"	out %eax, %dx\n"
	"	jmp guest_tsc_aux\n"
	"guest_main:\n"
	"	cli\n"
	"	xor %r15, %r15\n"
	"	mov $0x10, %dx\n"
	"	mov $0x11, %al\n"
	"	out %al, %dx\n"
	"guest_after_out:\n"
	"	mov $0x1b, %ecx\n"
	"	rdmsr\n"
	"	mov $0x11, %dx\n"
	"	out %eax, %dx\n"
	"	xor %eax, %eax\n"
	"	xor %ecx, %ecx\n"
	"	cpuid\n"
	"	mov %ebx, %eax\n"
	"	mov $0x12, %dx\n"
	"	out %eax, %dx\n"
	"	mov $1, %eax\n"
	"	xor %ecx, %ecx\n"
	"	cpuid\n"
	"	mov %edx, %eax\n"
	"	mov $0x13, %dx\n"
	"	out %eax, %dx\n"
	"	mov $0x14, %dx\n"
	"	mov $0xff, %eax\n"
	"	in %dx, %al\n"
	"guest_after_in:\n"
	"	mov $0x15, %dx\n"
	"	out %al, %dx\n"
	"	mov $0xc0011234, %ecx\n"
	"	rdmsr\n"
	"	mov %r15, %rax\n"
	"	mov $0x16, %dx\n"
	"	out %al, %dx\n"
	"	hlt\n"
	"	mov $0x17, %dx\n"
	"	out %al, %dx\n"
	"	sti\n"
	"	hlt\n"
	"	cli\n"
	"	mov $0x19, %dx\n"
	"	out %al, %dx\n"
	"	jmp .\n"
	/* EOI through the xAPIC page, then report. */
	"guest_eoi_handler:\n"
	"	push %rax\n"
	"	push %rdx\n"
	"	mov $0xfee000b0, %eax\n"
	"	movl $0, (%rax)\n"
	"	mov $0x24, %dx\n"
	"	out %al, %dx\n"
	"	pop %rdx\n"
	"	pop %rax\n"
	"	iretq\n"
	"guest_eoi:\n"
	"	mov $0x23, %dx\n"
	"	out %al, %dx\n"
	"	sti\n"
	"	hlt\n"
	"	cli\n"
	"	mov $0x25, %dx\n"
	"	out %al, %dx\n"
	"	jmp .\n"
	"guest_extint:\n"
	"	mov $0x20, %dx\n"
	"	out %al, %dx\n"
	"	sti\n"
	"	hlt\n"
	"	cli\n"
	"	mov $0x22, %dx\n"
	"	out %al, %dx\n"
	"	jmp guest_extint\n"
	"guest_irqwin:\n"
	"	mov $0x26, %dx\n"
	"	out %al, %dx\n"
	"	sti\n"
	"	hlt\n"
	"guest_irqwin_halted:\n"
	"	cli\n"
	"	mov $0x22, %dx\n"
	"	out %al, %dx\n"
	"	mov $0x27, %dx\n"
	"	sti\n"
	"	out %al, %dx\n"
	"guest_irqwin_spin:\n"
	"	jmp guest_irqwin_spin\n"
	/* NMI: report, HLT with NMIs masked, report again. */
	"guest_nmi_hlt:\n"
	"	push %rax\n"
	"	push %rdx\n"
	"	mov $0x28, %dx\n"
	"	out %al, %dx\n"
	"	hlt\n"
	"	mov $0x29, %dx\n"
	"	out %al, %dx\n"
	"	pop %rdx\n"
	"	pop %rax\n"
	"	iretq\n"
	"guest_nmi_wait:\n"
	"	mov $0x2a, %dx\n"
	"	out %al, %dx\n"
	"	jmp .\n"
	"guest_pvu:\n"
	"	mov $0x2b, %dx\n"
	"	out %al, %dx\n"
	"	sti\n"
	"	hlt\n"
	"	cli\n"
	"	hlt\n"
	"	mov $0x2c, %dx\n"
	"	out %al, %dx\n"
	"	jmp .\n"
	"guest_mem_read:\n"
	"	mov 0x100000, %eax\n"
	"	mov $0x26, %dx\n"
	"	out %eax, %dx\n"
	"	jmp guest_mem_read\n"
	"guest_mem_spin:\n"
	"	mov 0x100000, %eax\n"
	"	mov $0x26, %dx\n"
	"	out %eax, %dx\n"
	"1:	pause\n"
	"	cmp 0x100000, %eax\n"
	"	je 1b\n"
	"	mov 0x100000, %eax\n"
	"	mov $0x27, %dx\n"
	"	out %eax, %dx\n"
	"	jmp guest_mem_spin\n"
	/* Read (%rbx), write its complement, read it back; again. */
	"guest_rbx_rw:\n"
	"	mov (%rbx), %eax\n"
	"	mov $0x26, %dx\n"
	"	out %eax, %dx\n"
	"	not %eax\n"
	"	mov %eax, (%rbx)\n"
	"	mov (%rbx), %eax\n"
	"	mov $0x27, %dx\n"
	"	out %eax, %dx\n"
	"	jmp guest_rbx_rw\n"
	/* EDI at RCX words from RBX on, RSI apart; then count them. */
	"guest_big_fill:\n"
	"	mov %rbx, %r8\n"
	"	mov %rcx, %r9\n"
	"1:	mov %edi, (%r8)\n"
	"	add %rsi, %r8\n"
	"	dec %r9\n"
	"	jnz 1b\n"
	"	mov $0x2d, %dx\n"
	"	out %al, %dx\n"
	"guest_big_count:\n"
	"	mov %rbx, %r8\n"
	"	mov %rcx, %r9\n"
	"	xor %eax, %eax\n"
	"2:	mov (%r8), %r10d\n"
	"	cmp %edi, %r10d\n"
	"	jne 3f\n"
	"	inc %eax\n"
	"3:	add %rsi, %r8\n"
	"	dec %r9\n"
	"	jnz 2b\n"
	"	mov $0x2e, %dx\n"
	"	out %eax, %dx\n"
	"	jmp guest_big_count\n"
	/* No IDT: the first exception is a triple fault. */
	"guest_shutdown:\n"
	"	ud2\n"
	"guest_end:\n"
	".popsection\n");

struct guest {
	int dev, vm, vcpu;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *mem;
};

static uint64_t code_gpa(void (*sym)(void))
{
	return CODE_GPA + ((uintptr_t)sym - (uintptr_t)guest_start);
}

/* Pages pinned for the process ("VmPin" in /proc/self/status, kB). */
static long vm_pinned_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int set_region(int vm, uint32_t slot, uint64_t gpa, uint64_t size,
		      void *hva)
{
	struct kvm_userspace_memory_region2 r = {
		.slot = slot, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	return ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &r);
}

/* guest_create()'s failures: the line and errno, -1. */
static int fail(int line)
{
	fprintf(stderr, "# guest_create: line %d: %s\n", line, strerror(errno));
	return -1;
}

/* A VM with an in-kernel LAPIC (split irqchip if @split) and one vCPU. */
static int guest_create_chip(struct guest *g, uint64_t entry, bool with_idt,
			     bool split)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	memset(g, 0, sizeof(*g));
	g->dev = open_dev();
	if (g->dev < 0)
		return fail(__LINE__);
	g->vm = vm_create(g->dev);
	if (g->vm < 0)
		return fail(__LINE__);
	if (split ? vm_enable_split_irqchip(g->vm, SPLIT_IRQCHIP_PINS) :
	    ioctl(g->vm, KVM_CREATE_IRQCHIP, 0))
		return fail(__LINE__);
	g->mem = guest_mem_create(g->vm, MEM_SIZE);
	if (g->mem == MAP_FAILED)
		return fail(__LINE__);
	g->vcpu = vcpu_create(g->vm, 0);
	if (g->vcpu < 0)
		return fail(__LINE__);
	g->run = guest_run_map(g->dev, g->vcpu, &g->run_size);
	if (g->run == MAP_FAILED || guest64_set_cpuid(g->vcpu, 0))
		return fail(__LINE__);

	memcpy(g->mem + CODE_GPA, (void *)guest_start,
	       (uintptr_t)guest_end - (uintptr_t)guest_start);
	guest64_build_tables(g->mem);
	if (with_idt) {
		guest64_set_gate(g->mem, 1, code_gpa(guest_db));
		guest64_set_gate(g->mem, 2, code_gpa(guest_nmi_hlt));
		guest64_set_gate(g->mem, 13, code_gpa(guest_gp));
		guest64_set_gate(g->mem, MSI_VECTOR, code_gpa(guest_msi));
		guest64_set_gate(g->mem, EXTINT_VECTOR, code_gpa(guest_msi));
		guest64_set_gate(g->mem, EOI_VECTOR,
				 code_gpa(guest_eoi_handler));
	}

	if (ioctl(g->vcpu, KVM_GET_SREGS, &sregs))
		return fail(__LINE__);
	guest64_sregs(&sregs, with_idt ? 0xfff : 0);
	if (ioctl(g->vcpu, KVM_SET_SREGS, &sregs))
		return fail(__LINE__);
	memset(&regs, 0, sizeof(regs));
	regs.rip = entry;
	regs.rsp = STACK_TOP;
	regs.rflags = 2;
	return ioctl(g->vcpu, KVM_SET_REGS, &regs);
}

static int guest_create(struct guest *g, uint64_t entry, bool with_idt)
{
	return guest_create_chip(g, entry, with_idt, false);
}

static void guest_destroy(struct guest *g)
{
	if (g->run && g->run != MAP_FAILED)
		munmap(g->run, g->run_size);
	if (g->mem && g->mem != MAP_FAILED)
		munmap(g->mem, MEM_SIZE);
	close(g->vcpu);
	close(g->vm);
	close(g->dev);
}

static uint64_t pio_value(struct guest *g)
{
	uint64_t v = 0;

	memcpy(&v, (uint8_t *)g->run + g->run->io.data_offset, g->run->io.size);
	return v;
}

/* KVM_RUN until the next port I/O exit; its port, or -1. */
/*
 * The vCPU counter @name of KVM_GET_STATS_FD (KVM's binary format), or
 * -1 if the fd or the counter is not there.
 */
static int64_t vcpu_stat(int vcpu, const char *name)
{
	struct kvm_stats_header h;
	struct kvm_stats_desc *d;
	int64_t v = -1;
	uint64_t val;
	size_t dsz;
	char *descs;
	uint32_t i;
	int fd;

	fd = ioctl(vcpu, KVM_GET_STATS_FD, NULL);
	if (fd < 0)
		return -1;
	if (pread(fd, &h, sizeof(h), 0) != sizeof(h))
		goto out;
	dsz = sizeof(*d) + h.name_size;
	descs = calloc(h.num_desc, dsz);
	if (!descs)
		goto out;
	if (pread(fd, descs, h.num_desc * dsz, h.desc_offset) ==
	    (ssize_t)(h.num_desc * dsz)) {
		for (i = 0; i < h.num_desc; i++) {
			d = (struct kvm_stats_desc *)(descs + i * dsz);
			if (strcmp(d->name, name) || d->size != 1)
				continue;
			if (pread(fd, &val, sizeof(val),
				  h.data_offset + d->offset) == sizeof(val))
				v = (int64_t)val;
			break;
		}
	}
	free(descs);
out:
	close(fd);
	return v;
}

static int run_to_io(struct guest *g)
{
	if (ioctl(g->vcpu, KVM_RUN, 0))
		return -1;
	if (g->run->exit_reason != KVM_EXIT_IO)
		return -1;
	return g->run->io.port;
}

static void on_signal(int sig)
{
	(void)sig;
}

struct kicker {
	pthread_t target;
	int vm;
	int stop;		/* __atomic */
	bool msi;
};

/*
 * Poke the vCPU thread every 10 ms until told to stop: seldom enough that
 * a KVM_RUN gets to the halt between two signals even in TCG.
 */
static void *kicker_thread(void *arg)
{
	struct kicker *k = arg;
	struct timespec ms = { 0, 10000000 };
	struct kvm_msi msi = {
		.address_lo = 0xfee00000,	/* APIC ID 0, physical */
		.data = MSI_VECTOR,		/* fixed, edge */
	};

	while (!__atomic_load_n(&k->stop, __ATOMIC_ACQUIRE)) {
		if (k->msi)
			ioctl(k->vm, KVM_SIGNAL_MSI, &msi);
		else
			pthread_kill(k->target, SIGUSR1);
		nanosleep(&ms, NULL);
	}
	return NULL;
}

TEST(caps)
{
	int dev = open_dev();

	ASSERT_OK(dev);
	if (!check_ext(dev, KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	EXPECT_LT(0, check_ext(dev, KVM_CAP_USER_MEMORY2));
	EXPECT_LT(0, check_ext(dev, KVM_CAP_GET_TSC_KHZ));
	EXPECT_LT(0, check_ext(dev, KVM_CAP_SET_BOOT_CPU_ID));
	EXPECT_LT(0, check_ext(dev, KVM_CAP_IRQCHIP));
	/* The kvm_run page and the PIO page at least. */
	EXPECT_LE(2 * 4096, ioctl(dev, KVM_GET_VCPU_MMAP_SIZE, 0));
	EXPECT_ERRNO(ioctl(dev, KVM_GET_VCPU_MMAP_SIZE, 1), EINVAL);
	close(dev);
}

TEST(boot_cpu_id)
{
	struct kvm_msrs *m;
	int dev = open_dev(), vm, v0, v1;
	long max_id;
	char buf[sizeof(*m) + sizeof(m->entries[0])];

	ASSERT_OK(dev);
	vm = vm_create(dev);
	ASSERT_OK(vm);
	ASSERT_OK(ioctl(vm, KVM_CREATE_IRQCHIP, 0));
	ASSERT_ERRNO(ioctl(vm, KVM_CREATE_IRQCHIP, 0), EEXIST);
	max_id = check_ext(vm, KVM_CAP_MAX_VCPU_ID);
	/* KVM's bound is one past the last id. */
	EXPECT_ERRNO(ioctl(vm, KVM_SET_BOOT_CPU_ID, max_id + 1), EINVAL);
	ASSERT_OK(ioctl(vm, KVM_SET_BOOT_CPU_ID, 1));
	v0 = vcpu_create(vm, 0);
	v1 = vcpu_create(vm, 1);
	ASSERT_OK(v0);
	ASSERT_OK(v1);
	EXPECT_ERRNO(ioctl(vm, KVM_SET_BOOT_CPU_ID, 0), EBUSY);
	m = (struct kvm_msrs *)buf;
	memset(buf, 0, sizeof(buf));
	m->nmsrs = 1;
	m->entries[0].index = 0x1b;
	ASSERT_EQ(1, ioctl(v0, KVM_GET_MSRS, m));
	EXPECT_EQ(0xfee00800ULL, m->entries[0].data);
	ASSERT_EQ(1, ioctl(v1, KVM_GET_MSRS, m));
	EXPECT_EQ(0xfee00900ULL, m->entries[0].data);
	/* No IOAPIC or PIC state behind KVM_CREATE_IRQCHIP on lapicv. */
	close(v1);
	close(v0);
	close(vm);
	close(dev);
}

TEST(guest_exits)
{
	struct kicker k = { .stop = 0 };
	struct kvm_mp_state mp;
	struct kvm_lapic_state lapic;
	struct kvm_regs regs;
	struct sigaction sa;
	pthread_t thr;
	struct guest g;
	int64_t exits;
	uint32_t v;
	int r;

	if (!check_ext(open_dev(), KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	ASSERT_OK(guest_create(&g, code_gpa(guest_main), true));

	/* OUT: the data in the PIO page, RIP still at the OUT. */
	exits = vcpu_stat(g.vcpu, "exits");
	ASSERT_LE(0, exits);
	ASSERT_EQ(0x10, run_to_io(&g));
	/* The guest exit counted under KVM's name for it. */
	EXPECT_LT(exits, vcpu_stat(g.vcpu, "exits"));
	EXPECT_EQ(KVM_EXIT_IO_OUT, g.run->io.direction);
	EXPECT_EQ(1, g.run->io.size);
	EXPECT_EQ(1, g.run->io.count);
	EXPECT_EQ(0x11, pio_value(&g));
	ASSERT_OK(ioctl(g.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(code_gpa(guest_after_out) - 1, regs.rip);

	/* RDMSR(APIC base): enabled BSP at the default address. */
	ASSERT_EQ(0x11, run_to_io(&g));
	EXPECT_EQ(4, g.run->io.size);
	EXPECT_EQ(0xfee00900, pio_value(&g));
	/* CPUID from the KVM_SET_CPUID2 table, APIC bit live. */
	ASSERT_EQ(0x12, run_to_io(&g));
	memcpy(&v, "Auth", 4);
	EXPECT_EQ(v, pio_value(&g));
	ASSERT_EQ(0x13, run_to_io(&g));
	EXPECT_EQ(GUEST64_LEAF1_EDX, pio_value(&g));

	/* IN: completed by an immediate_exit KVM_RUN, as KVM's ucalls do. */
	ASSERT_EQ(0x14, run_to_io(&g));
	EXPECT_EQ(KVM_EXIT_IO_IN, g.run->io.direction);
	*((uint8_t *)g.run + g.run->io.data_offset) = 0x5a;
	g.run->immediate_exit = 1;
	ASSERT_ERRNO(ioctl(g.vcpu, KVM_RUN, 0), EINTR);
	g.run->immediate_exit = 0;
	/* immediate_exit leaves the last exit reason alone. */
	EXPECT_EQ(KVM_EXIT_IO, g.run->exit_reason);
	ASSERT_OK(ioctl(g.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(code_gpa(guest_after_in), regs.rip);
	EXPECT_EQ(0x5a, regs.rax & 0xffffffff);
	ASSERT_EQ(0x15, run_to_io(&g));
	EXPECT_EQ(0x5a, pio_value(&g));

	/* An unknown MSR: #GP into the guest's handler, once. */
	ASSERT_EQ(0x16, run_to_io(&g));
	EXPECT_EQ(1, pio_value(&g));

	/*
	 * HLT with IF=0: only a signal ends KVM_RUN (EINTR, KVM_EXIT_INTR);
	 * the vCPU stays halted until the VMM makes it runnable.  The
	 * kicker signals until a KVM_RUN returns with the vCPU halted.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	ASSERT_OK(sigaction(SIGUSR1, &sa, NULL));
	k.target = pthread_self();
	ASSERT_OK(-pthread_create(&thr, NULL, kicker_thread, &k));
	for (;;) {
		r = ioctl(g.vcpu, KVM_RUN, 0);
		if (r == -1 && errno == EINTR) {
			EXPECT_EQ(KVM_EXIT_INTR, g.run->exit_reason);
			ASSERT_OK(ioctl(g.vcpu, KVM_GET_MP_STATE, &mp));
			if (mp.mp_state == KVM_MP_STATE_HALTED)
				break;
			continue;
		}
		ASSERT_OK(r);
		ASSERT_TRUE(false) TH_LOG("exit %u before the halt",
					  g.run->exit_reason);
	}
	__atomic_store_n(&k.stop, 1, __ATOMIC_RELEASE);
	pthread_join(thr, NULL);
	mp.mp_state = KVM_MP_STATE_RUNNABLE;
	ASSERT_OK(ioctl(g.vcpu, KVM_SET_MP_STATE, &mp));
	ASSERT_EQ(0x17, run_to_io(&g));

	/*
	 * "sti; hlt": an MSI from another thread ends the halt.  The APIC
	 * must be software-enabled, or fixed interrupts are dropped.
	 */
	ASSERT_OK(ioctl(g.vcpu, KVM_GET_LAPIC, &lapic));
	*(uint32_t *)&lapic.regs[0xf0] = 0x1ff;
	ASSERT_OK(ioctl(g.vcpu, KVM_SET_LAPIC, &lapic));
	k.stop = 0;
	k.msi = true;
	k.vm = g.vm;
	ASSERT_OK(-pthread_create(&thr, NULL, kicker_thread, &k));
	r = run_to_io(&g);
	if (r == 0x18)
		r = run_to_io(&g);
	else
		EXPECT_EQ(0x18, r) TH_LOG("the MSI's handler did not run");
	__atomic_store_n(&k.stop, 1, __ATOMIC_RELEASE);
	pthread_join(thr, NULL);
	ASSERT_EQ(0x19, r);
	ASSERT_OK(ioctl(g.vcpu, KVM_GET_LAPIC, &lapic));
	/* Taken: in service (ISR, at 0x100). */
	v = *(uint32_t *)&lapic.regs[0x100 + (MSI_VECTOR / 32) * 16];
	EXPECT_TRUE(v & (1u << (MSI_VECTOR % 32)));
	guest_destroy(&g);
}

TEST(shutdown)
{
	struct guest g;

	if (!check_ext(open_dev(), KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	ASSERT_OK(guest_create(&g, code_gpa(guest_shutdown), false));
	ASSERT_OK(ioctl(g.vcpu, KVM_RUN, 0));
	EXPECT_EQ(KVM_EXIT_SHUTDOWN, g.run->exit_reason);
	guest_destroy(&g);
}

/*
 * A single step's #DB reaches the guest's handler once: lapicv intercepts
 * #DB (so that its delivery cannot loop in the CPU, CVE-2015-8104) and
 * reflects it, as KVM does.  #AC is intercepted and reflected the same
 * way, but QEMU's TCG never raises it, so it is not tested here.
 */
TEST(single_step)
{
	struct guest g;

	if (!check_ext(open_dev(), KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	ASSERT_OK(guest_create(&g, code_gpa(guest_step), true));
	ASSERT_EQ(0x1a, run_to_io(&g));
	EXPECT_EQ(1, pio_value(&g));
	guest_destroy(&g);
}

/* The VMM thread's PKRU, where the host has enabled PKU (OSPKE). */
static bool host_pkru(uint32_t *pkru)
{
	uint32_t eax, ebx, ecx, edx;

	__cpuid_count(7, 0, eax, ebx, ecx, edx);
	if (!(ecx & (1u << 4)))
		return false;
	asm volatile("rdpkru" : "=a"(*pkru), "=d"(edx) : "c"(0));
	return true;
}

/*
 * A guest's WRPKRU stays in the guest: the VMM thread's PKRU is the same
 * after the exit, and the guest's is there again on the next entry.
 */
TEST(pkru)
{
	uint32_t before, after;
	struct guest g;

	if (!check_ext(open_dev(), KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	if (!host_pkru(&before))
		SKIP(return, "no PKU enabled on this host");
	ASSERT_OK(guest_create(&g, code_gpa(guest_pkru), true));
	ASSERT_EQ(0x1b, run_to_io(&g));
	ASSERT_TRUE(host_pkru(&after));
	EXPECT_EQ(before, after);
	ASSERT_EQ(0x1c, run_to_io(&g));
	EXPECT_EQ(0xc, pio_value(&g));
	guest_destroy(&g);
}

static uint32_t host_tsc_aux(void)
{
	uint32_t lo, hi, aux;

	asm volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	return aux;
}

/*
 * The guest's TSC_AUX is its own (0, never written), not the host CPU's
 * number: run on CPU 1, whose TSC_AUX is not 0.  The VMM's thread reads
 * its CPU's own again once KVM_RUN has returned.
 */
TEST(tsc_aux)
{
	uint32_t eax, ebx, ecx, edx, host;
	struct guest g;
	cpu_set_t cpus;
	int i;

	if (!check_ext(open_dev(), KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	__cpuid(0x80000001, eax, ebx, ecx, edx);
	if (!(edx & (1u << 27)))
		SKIP(return, "no RDTSCP on this host");
	CPU_ZERO(&cpus);
	CPU_SET(1, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		SKIP(return, "no CPU 1 to run on");
	ASSERT_OK(guest_create(&g, code_gpa(guest_tsc_aux), true));
	host = host_tsc_aux();
	EXPECT_NE(0, host);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0x1d, run_to_io(&g));
		EXPECT_EQ(0, pio_value(&g));
		EXPECT_EQ(host, host_tsc_aux());
	}
	guest_destroy(&g);
}

static unsigned long read_gs_base(void)
{
	unsigned long base = 0;

	syscall(SYS_arch_prctl, ARCH_GET_GS, &base);
	return base;
}

/*
 * The VMM's thread keeps the GS base it set in user mode between two
 * KVM_RUNs (the host state the CPU reloads after #VMEXIT is its own,
 * saved again for each KVM_RUN), through exits the kernel handles.
 */
TEST(host_gs_base)
{
	static const unsigned long bases[] = { 0x1000, 0x7f0000002000, 0 };
	uint32_t eax, ebx, ecx, edx;
	struct guest g;
	unsigned int i;

	if (!check_ext(open_dev(), KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	__cpuid(0x80000001, eax, ebx, ecx, edx);
	if (!(edx & (1u << 27)))
		SKIP(return, "no RDTSCP on this host (the guest's loop uses it)");
	ASSERT_OK(guest_create(&g, code_gpa(guest_tsc_aux), true));
	for (i = 0; i < ARRAY_SIZE(bases); i++) {
		ASSERT_OK(syscall(SYS_arch_prctl, ARCH_SET_GS, bases[i]));
		ASSERT_EQ(0x1d, run_to_io(&g));
		EXPECT_EQ(bases[i], read_gs_base());
	}
	guest_destroy(&g);
}

/* KVM_GET/SET_REGS and _SREGS: the RESET state and round trips. */
TEST(regs)
{
	struct kvm_sregs sregs, back;
	struct kvm_regs regs, rback;
	struct guest g;

	if (!check_ext(open_dev(), KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	memset(&g, 0, sizeof(g));
	g.dev = open_dev();
	g.vm = vm_create(g.dev);
	ASSERT_OK(g.vm);
	ASSERT_OK(ioctl(g.vm, KVM_CREATE_IRQCHIP, 0));
	g.vcpu = vcpu_create(g.vm, 0);
	ASSERT_OK(g.vcpu);

	/* RESET: the architectural state at the reset vector. */
	ASSERT_OK(ioctl(g.vcpu, KVM_GET_SREGS, &sregs));
	EXPECT_EQ(0xf000, sregs.cs.selector);
	EXPECT_EQ(0xffff0000ULL, sregs.cs.base);
	EXPECT_EQ(0xffff, sregs.cs.limit);
	EXPECT_EQ(10, sregs.cs.type);
	EXPECT_EQ(1, sregs.cs.present);
	EXPECT_EQ(1, sregs.cs.s);
	EXPECT_EQ(3, sregs.ds.type);
	EXPECT_EQ(0, sregs.ds.selector);
	EXPECT_EQ(2, sregs.ss.type);
	EXPECT_EQ(3, sregs.tr.type);	/* busy 16-bit TSS */
	EXPECT_EQ(2, sregs.ldt.type);
	EXPECT_EQ(0xffff, sregs.gdt.limit);
	EXPECT_EQ(0xffff, sregs.idt.limit);
	EXPECT_EQ(0x60000010ULL, sregs.cr0);
	EXPECT_EQ(0, sregs.cr3);
	EXPECT_EQ(0, sregs.cr4);
	EXPECT_EQ(0, sregs.efer);
	EXPECT_EQ(0xfee00900ULL, sregs.apic_base);
	ASSERT_OK(ioctl(g.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(0xfff0, regs.rip);
	EXPECT_EQ(2, regs.rflags);
	EXPECT_EQ(0x600, regs.rdx);

	/* Long mode without PAE is refused, and changes nothing. */
	back = sregs;
	back.cr0 = 0x80000011;
	back.efer = 0x500;
	EXPECT_ERRNO(ioctl(g.vcpu, KVM_SET_SREGS, &back), EINVAL);
	ASSERT_OK(ioctl(g.vcpu, KVM_GET_SREGS, &back));
	EXPECT_EQ(0, memcmp(&sregs, &back, sizeof(sregs)));
	/* So is a reserved EFER bit (bit 1). */
	back = sregs;
	back.efer = 2;
	EXPECT_ERRNO(ioctl(g.vcpu, KVM_SET_SREGS, &back), EINVAL);
	ASSERT_OK(ioctl(g.vcpu, KVM_GET_SREGS, &back));
	EXPECT_EQ(0, memcmp(&sregs, &back, sizeof(sregs)));

	/* A 64-bit state reads back as set (G follows the limit). */
	ASSERT_OK(guest64_set_cpuid(g.vcpu, 0));
	guest64_sregs(&sregs, 0);
	sregs.cr8 = 5;
	ASSERT_OK(ioctl(g.vcpu, KVM_SET_SREGS, &sregs));
	ASSERT_OK(ioctl(g.vcpu, KVM_GET_SREGS, &back));
	EXPECT_EQ(0, memcmp(&sregs.cs, &back.cs, sizeof(sregs.cs)));
	EXPECT_EQ(0, memcmp(&sregs.ds, &back.ds, sizeof(sregs.ds)));
	EXPECT_EQ(0, memcmp(&sregs.ss, &back.ss, sizeof(sregs.ss)));
	EXPECT_EQ(sregs.gdt.base, back.gdt.base);
	EXPECT_EQ(sregs.cr0, back.cr0);
	EXPECT_EQ(sregs.cr3, back.cr3);
	EXPECT_EQ(sregs.cr4, back.cr4);
	EXPECT_EQ(sregs.efer, back.efer);
	EXPECT_EQ(5, back.cr8);

	memset(&regs, 0x5a, sizeof(regs));
	regs.rflags = 0x200;
	ASSERT_OK(ioctl(g.vcpu, KVM_SET_REGS, &regs));
	ASSERT_OK(ioctl(g.vcpu, KVM_GET_REGS, &rback));
	regs.rflags |= 2;	/* the fixed bit */
	EXPECT_EQ(0, memcmp(&regs, &rback, sizeof(regs)));
	close(g.vcpu);
	close(g.vm);
	close(g.dev);
}

/*
 * No page of guest memory is pinned, while the guest runs or after its
 * memslot is deleted or the VM destroyed: KVM follows the VMM's mappings
 * with an MMU notifier and holds no long-term pin (VmPin stays put).
 */
TEST(unpin)
{
	long before = vm_pinned_kb();
	struct guest g;

	if (!check_ext(open_dev(), KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	ASSERT_LE(0, before);
	ASSERT_OK(guest_create(&g, code_gpa(guest_main), true));
	ASSERT_EQ(0x10, run_to_io(&g));
	EXPECT_EQ(before, vm_pinned_kb());
	/* A slot nobody uses comes and goes. */
	ASSERT_OK(set_region(g.vm, 1, 0x40000000, 0x10000, g.mem));
	ASSERT_OK(set_region(g.vm, 1, 0x40000000, 0, NULL));
	EXPECT_ERRNO(set_region(g.vm, 1, 0x40000000, 0, NULL), EINVAL);
	/* The guest's own slot, while its vCPU is out of KVM_RUN. */
	ASSERT_OK(set_region(g.vm, 0, 0, 0, NULL));
	EXPECT_EQ(before, vm_pinned_kb());
	ASSERT_OK(set_region(g.vm, 0, 0, MEM_SIZE, g.mem));
	ASSERT_EQ(0x11, run_to_io(&g));
	EXPECT_EQ(before, vm_pinned_kb());
	guest_destroy(&g);
	EXPECT_EQ(before, vm_pinned_kb());
}

/* A page of @val mapped MAP_FIXED over @addr (a memfd's, filled first). */
static int map_word_at(void *addr, uint32_t val)
{
	int fd = memfd_create("guest_run_test", 0);
	void *p;

	if (fd < 0 || ftruncate(fd, getpagesize()) ||
	    pwrite(fd, &val, sizeof(val), 0) != sizeof(val))
		return -1;
	p = mmap(addr, getpagesize(), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, fd, 0);
	close(fd);
	return p == addr ? 0 : -1;
}

static uint32_t *data_word(struct guest *g)
{
	return (uint32_t *)(g->mem + DATA_GPA);
}

#define WORD_A	0xaaaa0001u

/* A guest at @entry that has read WORD_A from its memslot and said so. */
static int mem_guest_start(struct guest *g, void (*entry)(void))
{
	if (guest_create(g, code_gpa(entry), false))
		return -1;
	*data_word(g) = WORD_A;
	if (run_to_io(g) != 0x26 || pio_value(g) != WORD_A)
		return -1;
	return 0;
}

/*
 * The guest reads page A of its memslot; the VMM maps page B over the
 * same address (mmap MAP_FIXED); the guest's next read sees B.
 */
TEST(remap)
{
	struct guest g;

	if (!check_ext(open_dev(), KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	ASSERT_OK(mem_guest_start(&g, guest_mem_read));

	ASSERT_OK(map_word_at(data_word(&g), 0xbbbb0002));
	ASSERT_EQ(0x26, run_to_io(&g));
	EXPECT_EQ(0xbbbb0002, pio_value(&g));
	/* The new mapping is the guest's memory, both ways. */
	*data_word(&g) = 0xbbbb0003;
	ASSERT_EQ(0x26, run_to_io(&g));
	EXPECT_EQ(0xbbbb0003, pio_value(&g));
	guest_destroy(&g);
}

struct remapper {
	pthread_t target;
	uint32_t *word;
	int mapped;		/* __atomic: 1 once done, -1 on failure */
	int stop;		/* __atomic */
};

/*
 * Give the vCPU a moment to enter its spin, map the new page over the
 * word, then send the vCPU thread a signal every 10 ms until told to
 * stop, so that a KVM_RUN that never sees the new page ends (EINTR).
 */
static void *remapper_thread(void *arg)
{
	struct remapper *r = arg;
	struct timespec ms = { 0, 10000000 };

	nanosleep(&ms, NULL);
	__atomic_store_n(&r->mapped, map_word_at(r->word, 0xcccc0004) ? -1 : 1,
			 __ATOMIC_RELEASE);
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		pthread_kill(r->target, SIGUSR1);
		nanosleep(&ms, NULL);
	}
	return NULL;
}

/*
 * The same while the vCPU spins in guest mode on the word: the VMM's
 * mmap from another thread reaches the running guest (the vCPU is made
 * to leave guest mode and its TLB flushed), without any exit of its own.
 */
TEST(remap_running)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct remapper r = { .target = pthread_self() };
	pthread_t t;
	struct guest g;
	int i, ret = -1;

	if (!check_ext(open_dev(), KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	ASSERT_OK(sigaction(SIGUSR1, &sa, NULL));
	ASSERT_OK(mem_guest_start(&g, guest_mem_spin));

	r.word = data_word(&g);
	ASSERT_OK(pthread_create(&t, NULL, remapper_thread, &r));
	/* Signals end KVM_RUN with EINTR; bounded by their number. */
	for (i = 0; i < 1000; i++) {
		ret = ioctl(g.vcpu, KVM_RUN, 0);
		if (ret == 0 || errno != EINTR)
			break;
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	ASSERT_EQ(1, __atomic_load_n(&r.mapped, __ATOMIC_ACQUIRE));
	ASSERT_OK(ret);
	ASSERT_EQ(KVM_EXIT_IO, g.run->exit_reason);
	EXPECT_EQ(0x27, g.run->io.port);
	EXPECT_EQ(0xcccc0004, pio_value(&g));
	guest_destroy(&g);
}

#define STORM_ROUNDS	64
#define STORM_BASE	0x5e000000u

struct storm {
	pthread_t target;
	int vm;
	uint8_t *mem;
	int published;		/* __atomic: the round being mapped */
	int seen;		/* __atomic: the last round the guest saw */
	int stop;		/* __atomic */
	int failed;		/* __atomic: the line that failed */
};

/* Signal the vCPU thread every 10 ms until it has seen @round or stops. */
static void storm_wait(struct storm *st, int round)
{
	struct timespec ms = { 0, 10000000 };

	while (!__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE) &&
	       __atomic_load_n(&st->seen, __ATOMIC_ACQUIRE) < round) {
		pthread_kill(st->target, SIGUSR1);
		nanosleep(&ms, NULL);
	}
}

/*
 * Each round flip the memslot's LOG_DIRTY_PAGES (a memslot change that
 * keeps the guest's memory where it is), then map a new page of
 * STORM_BASE + round over the guest's word.  Once the guest has seen the
 * last round, one more page with no memslot change after it: only the
 * MMU notifier can take the guest there.  Signals keep KVM_RUN bounded.
 */
static void *storm_thread(void *arg)
{
	struct storm *st = arg;
	struct kvm_userspace_memory_region2 r = {
		.memory_size = MEM_SIZE, .userspace_addr = (uintptr_t)st->mem,
	};
	int i;

	for (i = 1; i <= STORM_ROUNDS; i++) {
		r.flags = i & 1 ? KVM_MEM_LOG_DIRTY_PAGES : 0;
		if (ioctl(st->vm, KVM_SET_USER_MEMORY_REGION2, &r)) {
			__atomic_store_n(&st->failed, __LINE__, __ATOMIC_RELEASE);
			break;
		}
		__atomic_store_n(&st->published, i, __ATOMIC_RELEASE);
		if (map_word_at(st->mem + DATA_GPA, STORM_BASE + i)) {
			__atomic_store_n(&st->failed, __LINE__, __ATOMIC_RELEASE);
			break;
		}
		sched_yield();
	}
	storm_wait(st, STORM_ROUNDS);
	__atomic_store_n(&st->published, STORM_ROUNDS + 1, __ATOMIC_RELEASE);
	if (!__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE) &&
	    map_word_at(st->mem + DATA_GPA, STORM_BASE + STORM_ROUNDS + 1))
		__atomic_store_n(&st->failed, __LINE__, __ATOMIC_RELEASE);
	/* No round beyond: signals until told to stop. */
	storm_wait(st, STORM_ROUNDS + 2);
	return NULL;
}

/*
 * Many remaps and memslot changes while the vCPU spins in guest mode on
 * the word: the guest reports no value before its round began, values
 * never go back (no stale translation survives a remap), and the guest
 * ends up on the last page.
 */
TEST(remap_storm)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct storm st = { .target = pthread_self() };
	uint32_t v, last = 0;
	struct guest g;
	pthread_t t;
	int i;

	if (!check_ext(open_dev(), KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	ASSERT_OK(sigaction(SIGUSR1, &sa, NULL));
	ASSERT_OK(guest_create(&g, code_gpa(guest_mem_spin), false));
	*data_word(&g) = STORM_BASE;
	st.vm = g.vm;
	st.mem = g.mem;
	ASSERT_OK(pthread_create(&t, NULL, storm_thread, &st));
	/* Each exit reports a value; signals end KVM_RUN with EINTR. */
	for (i = 0; i < 1000 && last <= STORM_ROUNDS; i++) {
		if (__atomic_load_n(&st.failed, __ATOMIC_ACQUIRE))
			break;
		if (ioctl(g.vcpu, KVM_RUN, 0)) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (g.run->exit_reason != KVM_EXIT_IO)
			break;
		v = pio_value(&g) - STORM_BASE;
		EXPECT_LE(last, v);
		EXPECT_GE(__atomic_load_n(&st.published, __ATOMIC_ACQUIRE), v);
		last = v;
		__atomic_store_n(&st.seen, v, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&st.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	EXPECT_EQ(0, __atomic_load_n(&st.failed, __ATOMIC_ACQUIRE));
	EXPECT_EQ(STORM_ROUNDS + 1, last);
	guest_destroy(&g);
}

/*
 * Memory the VMM unmaps inside a live memslot: the guest's access ends
 * KVM_RUN with EFAULT (KVM 6.12's kvm_handle_error_pfn(), no exit
 * reason of its own), and once the VMM maps a page there again the
 * access is retried and reads it.
 */
TEST(unmapped)
{
	struct guest g;

	if (!check_ext(open_dev(), KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	ASSERT_OK(mem_guest_start(&g, guest_mem_read));

	ASSERT_OK(munmap(data_word(&g), getpagesize()));
	EXPECT_ERRNO(ioctl(g.vcpu, KVM_RUN, 0), EFAULT);
	EXPECT_ERRNO(ioctl(g.vcpu, KVM_RUN, 0), EFAULT);

	ASSERT_OK(map_word_at(data_word(&g), 0xdddd0005));
	ASSERT_EQ(0x26, run_to_io(&g));
	EXPECT_EQ(0xdddd0005, pio_value(&g));
	guest_destroy(&g);
}

/* KVM_GET_REGS, set RBX (and RCX, RSI, RDI if @more), KVM_SET_REGS. */
static int set_args(struct guest *g, uint64_t rbx, const uint64_t *more)
{
	struct kvm_regs regs;

	if (ioctl(g->vcpu, KVM_GET_REGS, &regs))
		return -1;
	regs.rbx = rbx;
	if (more) {
		regs.rcx = more[0];
		regs.rsi = more[1];
		regs.rdi = more[2];
	}
	return ioctl(g->vcpu, KVM_SET_REGS, &regs);
}

/*
 * Part of a writable memslot that the VMM maps read-only (mprotect
 * PROT_READ): the guest reads it, as KVM maps the page read-only for
 * reads (hva_to_pfn() without FOLL_WRITE for a read fault); a write ends
 * KVM_RUN with EFAULT (KVM 6.12's kvm_handle_error_pfn(): the host page
 * cannot be had for writing), retried once the VMM makes it writable.
 */
TEST(readonly_hva)
{
	int pg = getpagesize();
	struct guest g;

	if (!check_ext(open_dev(), KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	ASSERT_OK(guest_create(&g, code_gpa(guest_rbx_rw), false));
	*data_word(&g) = WORD_A;
	ASSERT_OK(set_args(&g, DATA_GPA, NULL));
	ASSERT_EQ(0x26, run_to_io(&g));
	EXPECT_EQ(WORD_A, pio_value(&g));
	ASSERT_EQ(0x27, run_to_io(&g));
	EXPECT_EQ(~WORD_A, pio_value(&g));

	ASSERT_OK(mprotect(data_word(&g), pg, PROT_READ));
	ASSERT_EQ(0x26, run_to_io(&g));
	EXPECT_EQ(~WORD_A, pio_value(&g));
	EXPECT_ERRNO(ioctl(g.vcpu, KVM_RUN, 0), EFAULT);
	EXPECT_ERRNO(ioctl(g.vcpu, KVM_RUN, 0), EFAULT);
	EXPECT_EQ(~WORD_A, *data_word(&g));

	ASSERT_OK(mprotect(data_word(&g), pg, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0x27, run_to_io(&g));
	EXPECT_EQ(WORD_A, pio_value(&g));
	EXPECT_EQ(WORD_A, *data_word(&g));
	guest_destroy(&g);
}

#define KPF_ZERO_PAGE	24

/*
 * Whether the VMM's page at @p is the shared zero page: its PFN from
 * /proc/self/pagemap (root sees PFNs), its flags from /proc/kpageflags.
 * 1, 0, or -1 if it is not mapped or the files cannot be read.
 */
static int is_zero_page(const void *p)
{
	uint64_t ent, flags;
	int fd, r = -1;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return -1;
	if (pread(fd, &ent, sizeof(ent),
		  (uintptr_t)p / getpagesize() * sizeof(ent)) != sizeof(ent))
		ent = 0;
	close(fd);
	/* Present, with a PFN. */
	if (!(ent >> 63) || !(ent & ((1ULL << 55) - 1)))
		return -1;
	fd = open("/proc/kpageflags", O_RDONLY);
	if (fd < 0)
		return -1;
	if (pread(fd, &flags, sizeof(flags),
		  (ent & ((1ULL << 55) - 1)) * sizeof(flags)) == sizeof(flags))
		r = !!(flags & (1ULL << KPF_ZERO_PAGE));
	close(fd);
	return r;
}

#define SPARE_GPA	0x200000UL

/*
 * Memory the guest only reads is not allocated: the read maps the zero
 * page, in the VMM's page table and for the guest (KVM's read fault takes
 * the page without FOLL_WRITE, and a writable one only if the VMM has
 * one already).  The guest's write then gets a page of its own, which
 * the guest and the VMM both see.
 */
TEST(read_zero_page)
{
	int pg = getpagesize();
	uint32_t *spare;
	struct guest g;

	if (!check_ext(open_dev(), KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	ASSERT_OK(guest_create(&g, code_gpa(guest_rbx_rw), false));
	/* The guest's second 2 MiB: a memslot of two untouched pages. */
	*(uint64_t *)(g.mem + GUEST64_PD_GPA + 8) = SPARE_GPA | 0x83;
	spare = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, spare);
	ASSERT_OK(set_region(g.vm, 1, SPARE_GPA, 2 * pg, spare));
	ASSERT_OK(set_args(&g, SPARE_GPA, NULL));
	EXPECT_EQ(-1, is_zero_page(spare));

	ASSERT_EQ(0x26, run_to_io(&g));
	EXPECT_EQ(0, pio_value(&g));
	EXPECT_EQ(1, is_zero_page(spare));

	ASSERT_EQ(0x27, run_to_io(&g));
	EXPECT_EQ(0xffffffffu, pio_value(&g));
	EXPECT_EQ(0xffffffffu, *spare);
	EXPECT_EQ(0, is_zero_page(spare));
	/* And the VMM's write reaches the guest. */
	*spare = WORD_A;
	ASSERT_EQ(0x26, run_to_io(&g));
	EXPECT_EQ(WORD_A, pio_value(&g));
	guest_destroy(&g);
	munmap(spare, 2 * pg);
}

#define LRU_GEN		"/sys/kernel/debug/lru_gen"
#define AGE_PAGES	1024
#define AGE_MARK	0x5a5a0008u

/*
 * The first memcg's first node in LRU_GEN: the newest generation and the
 * anonymous pages of the one before it, where an aging puts the pages it
 * finds young (the newest is the one it adds, empty).
 */
struct lru_gen {
	int memcg, nid;
	unsigned long max_seq, young_anon;
};

static int lru_gen_read(struct lru_gen *l)
{
	unsigned long seq, age, anon, last = 0;
	char line[256];
	int nodes = 0, memcgs = 0, v;
	FILE *f = fopen(LRU_GEN, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "memcg %d", &v) == 1) {
			if (memcgs++)
				break;
			l->memcg = v;
		} else if (sscanf(line, " node %d", &v) == 1) {
			if (nodes++)
				break;
			l->nid = v;
		} else if (nodes &&
			   sscanf(line, "%lu %lu %lu", &seq, &age, &anon) == 3) {
			l->max_seq = seq;
			l->young_anon = last;
			last = anon;
		}
	}
	fclose(f);
	return nodes ? 0 : -1;
}

/*
 * MGLRU aging ("+ memcg node max_seq swappiness force_scan"): every page
 * found young moves to the newest generation, then a new one is added;
 * the walk of the VMM's page tables asks the MMU notifier
 * (ptep_clear_young_notify()).
 */
static int lru_gen_age(struct lru_gen *l)
{
	char cmd[96];
	int fd, n, r;

	if (lru_gen_read(l))
		return -1;
	n = snprintf(cmd, sizeof(cmd), "+ %d %d %lu 200 1\n", l->memcg, l->nid,
		     l->max_seq);
	fd = open(LRU_GEN, O_WRONLY);
	if (fd < 0)
		return -1;
	r = write(fd, cmd, n) == n ? 0 : -1;
	close(fd);
	return r ? r : lru_gen_read(l);
}

/*
 * The host's page aging sees the guest's accesses: the MMU notifier's
 * clear_young/test_young report and clear the accessed bits of the
 * nested page tables (KVM's kvm_age_gfn()).  The guest writes 1024
 * pages of a memslot the VMM never touches; two MGLRU agings leave them
 * in an older generation; the guest reads them; the next aging finds
 * them young through the notifier alone and moves them to the newest
 * generation.  Counts are the whole node's, so with a margin for other
 * pages (the harness's, a few dozen).  MGLRU's walk asks the notifier
 * from 6.12's source on (older kernels: not checked, skipped); idle page
 * tracking, the other user, is off in the test kernels.
 */
TEST(guest_access_ages)
{
	uint64_t args[3] = { AGE_PAGES, 4096, AGE_MARK };
	size_t size = AGE_PAGES * 4096UL;
	struct lru_gen l;
	unsigned int maj, min;
	struct utsname u;
	struct guest g;
	uint8_t *mem;

	if (!check_ext(open_dev(), KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	ASSERT_OK(uname(&u));
	if (sscanf(u.release, "%u.%u", &maj, &min) != 2 ||
	    maj * 100 + min < 612)
		SKIP(return, "MGLRU of %s may not ask secondary MMUs", u.release);
	if (access(LRU_GEN, F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	if (lru_gen_read(&l))
		SKIP(return, "no %s (MGLRU, debugfs)", LRU_GEN);

	ASSERT_OK(guest_create(&g, code_gpa(guest_big_fill), false));
	/* The guest's second and third 2 MiB. */
	*(uint64_t *)(g.mem + GUEST64_PD_GPA + 8) = SPARE_GPA | 0x83;
	*(uint64_t *)(g.mem + GUEST64_PD_GPA + 16) = (2 * SPARE_GPA) | 0x83;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_TRUE(!madvise(mem, size, MADV_NOHUGEPAGE) || errno == EINVAL);
	ASSERT_OK(set_region(g.vm, 1, SPARE_GPA, size, mem));
	ASSERT_OK(set_args(&g, SPARE_GPA, args));
	ASSERT_EQ(0x2d, run_to_io(&g));

	/* Young once (the VMM's entries are young when made), then not. */
	ASSERT_OK(lru_gen_age(&l));
	ASSERT_OK(lru_gen_age(&l));
	EXPECT_GT(AGE_PAGES / 4, l.young_anon);
	/* Only the guest reads them. */
	ASSERT_EQ(0x2e, run_to_io(&g));
	EXPECT_EQ(AGE_PAGES, pio_value(&g));
	ASSERT_OK(lru_gen_age(&l));
	EXPECT_LE(AGE_PAGES * 3 / 4, l.young_anon);
	guest_destroy(&g);
	munmap(mem, size);
}

#define BIG_GPA		0x40000000UL
#define BIG_SIZE	0x40000000UL
#define BIG_PD_GPA	0x7000
#define BIG_WORDS	2048
#define BIG_MARK	0x5a5a0007u

struct big_runner {
	struct guest *g;
	int stop;		/* __atomic */
	int phase;		/* __atomic: bumped by the VMM after each change */
	int seen_phase;		/* __atomic: the phase of the last count, or -1 */
	int last_count;		/* __atomic */
	int result;		/* __atomic: 0 running, 1 MMIO exit, -1 else */
	int err;		/* a KVM_RUN that failed otherwise */
	int exit_reason;	/* an exit that was not expected */
};

/*
 * KVM_RUN the counting guest until told to stop or until an exit other
 * than its count: KVM_EXIT_MMIO inside the big memslot's range ends it
 * well (the memslot is gone).  Each count is filed under the phase that
 * began before it.
 */
static void *big_runner_thread(void *arg)
{
	struct big_runner *b = arg;
	struct guest *g = b->g;
	/* A pass of the guest's count begins after the last count's exit. */
	int phase = __atomic_load_n(&b->phase, __ATOMIC_ACQUIRE);

	while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) {
		if (ioctl(g->vcpu, KVM_RUN, 0)) {
			if (errno == EINTR)
				continue;
			b->err = errno;
			break;
		}
		if (g->run->exit_reason == KVM_EXIT_MMIO &&
		    g->run->mmio.phys_addr - BIG_GPA < BIG_SIZE) {
			__atomic_store_n(&b->result, 1, __ATOMIC_RELEASE);
			return NULL;
		}
		if (g->run->exit_reason != KVM_EXIT_IO ||
		    g->run->io.port != 0x2e) {
			b->exit_reason = g->run->exit_reason;
			break;
		}
		__atomic_store_n(&b->last_count, (int)pio_value(g),
				 __ATOMIC_RELAXED);
		__atomic_store_n(&b->seen_phase, phase, __ATOMIC_RELEASE);
		phase = __atomic_load_n(&b->phase, __ATOMIC_ACQUIRE);
	}
	__atomic_store_n(&b->result, -1, __ATOMIC_RELEASE);
	return NULL;
}

/* Wait (bounded, with signals to end long runs) for a count of @phase. */
static int big_wait(struct big_runner *b, pthread_t t, int phase)
{
	struct timespec ms = { 0, 10000000 };
	int i;

	for (i = 0; i < 3000; i++) {
		if (__atomic_load_n(&b->result, __ATOMIC_ACQUIRE))
			return -1;
		if (__atomic_load_n(&b->seen_phase, __ATOMIC_ACQUIRE) >= phase)
			return __atomic_load_n(&b->last_count, __ATOMIC_RELAXED);
		pthread_kill(t, SIGUSR1);
		nanosleep(&ms, NULL);
	}
	return -1;
}

/*
 * A 1 GiB memslot, sparse (NORESERVE, no huge pages), touched by the
 * guest every 512 KiB; while the vCPU runs in another thread the VMM maps
 * fresh memory over all of it at once (one invalidation of the whole
 * range) and then deletes the memslot.  The guest sees the fresh memory
 * (no word left), then the memory gone (KVM_EXIT_MMIO).  On lapicv the
 * zap of the range may let its lock and the CPU go half-way (KVM's
 * tdp_mmu_iter_cond_resched()); the debug kernel of make check-debug
 * reports a sleep in atomic context, a lockdep splat or a soft lockup
 * there if that goes wrong.
 */
TEST(big_slot_zap)
{
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t args[3] = { BIG_WORDS, BIG_SIZE / BIG_WORDS, BIG_MARK };
	struct big_runner b = { .seen_phase = -1 };
	uint64_t *pd;
	struct guest g;
	uint8_t *big;
	pthread_t t;
	int i;

	if (!check_ext(open_dev(), KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	ASSERT_OK(sigaction(SIGUSR1, &sa, NULL));
	ASSERT_OK(guest_create(&g, code_gpa(guest_big_fill), false));
	/* The guest's second GiB in 2 MiB pages. */
	*(uint64_t *)(g.mem + GUEST64_PDPT_GPA + 8) = BIG_PD_GPA | 3;
	pd = (uint64_t *)(g.mem + BIG_PD_GPA);
	for (i = 0; i < 512; i++)
		pd[i] = (BIG_GPA + ((uint64_t)i << 21)) | 0x83;
	big = mmap(NULL, BIG_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, big);
	/* EINVAL from a kernel without THP, which needs no such advice. */
	ASSERT_TRUE(!madvise(big, BIG_SIZE, MADV_NOHUGEPAGE) || errno == EINVAL);
	ASSERT_OK(set_region(g.vm, 1, BIG_GPA, BIG_SIZE, big));
	ASSERT_OK(set_args(&g, BIG_GPA, args));
	ASSERT_EQ(0x2d, run_to_io(&g));
	EXPECT_EQ(BIG_MARK, *(uint32_t *)(big + BIG_SIZE / 2));

	b.g = &g;
	ASSERT_OK(pthread_create(&t, NULL, big_runner_thread, &b));
	EXPECT_EQ(BIG_WORDS, big_wait(&b, t, 0));
	/* Fresh memory over the whole slot, in one go. */
	__atomic_store_n(&b.phase, 1, __ATOMIC_RELEASE);
	EXPECT_EQ(big, mmap(big, BIG_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
			    MAP_FIXED, -1, 0));
	__atomic_store_n(&b.phase, 2, __ATOMIC_RELEASE);
	EXPECT_EQ(0, big_wait(&b, t, 2));
	/* The memslot deleted under the running guest. */
	EXPECT_EQ(0, set_region(g.vm, 1, BIG_GPA, 0, NULL));
	for (i = 0; i < 3000 && !__atomic_load_n(&b.result, __ATOMIC_ACQUIRE);
	     i++) {
		struct timespec ms = { 0, 10000000 };

		pthread_kill(t, SIGUSR1);
		nanosleep(&ms, NULL);
	}
	__atomic_store_n(&b.stop, 1, __ATOMIC_RELEASE);
	pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
	EXPECT_EQ(1, b.result);
	EXPECT_EQ(0, b.err);
	EXPECT_EQ(0, b.exit_reason);
	guest_destroy(&g);
	munmap(big, BIG_SIZE);
}

#define ZAP_ROUNDS	2000
#define ZAP_SECONDS	3

struct vcpu_failer {
	int vm;
	int stop;		/* __atomic */
	long tries;		/* __atomic: KVM_CREATE_VCPUs that failed */
	int bad_errno;		/* __atomic: the first errno not EMFILE */
	int created;		/* __atomic: KVM_CREATE_VCPUs that succeeded */
};

/* KVM_CREATE_VCPU of id 1 until told to stop, at least once: EMFILE each. */
static void *vcpu_failer_thread(void *arg)
{
	struct vcpu_failer *f = arg;
	int fd;

	do {
		fd = ioctl(f->vm, KVM_CREATE_VCPU, 1);
		if (fd >= 0) {
			__atomic_add_fetch(&f->created, 1, __ATOMIC_RELAXED);
			close(fd);
			break;
		}
		if (errno != EMFILE) {
			__atomic_store_n(&f->bad_errno, errno, __ATOMIC_RELAXED);
			break;
		}
		__atomic_add_fetch(&f->tries, 1, __ATOMIC_RELAXED);
	} while (!__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE));
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A KVM_CREATE_VCPU that fails for want of an fd (EMFILE, RLIMIT_NOFILE
 * lowered to the lowest free fd) races with MMU-notifier invalidations
 * (madvise(MADV_DONTNEED) of a page the guest has faulted in, which the
 * guest faults in again at once).  On lapicv the invalidation's flush
 * walks every vCPU entry, also one that is being installed: the failed
 * vCPU must stay readable until that walk is done.  Bounded by rounds
 * and seconds, not timed; what it checks is that both go on working and
 * that each failure says EMFILE (and, on a KASAN kernel, no report).
 */
TEST(create_vcpu_emfile_vs_zap)
{
	struct vcpu_failer f = { 0 };
	struct rlimit old, low;
	double end;
	struct guest g;
	pthread_t t;
	int i, fd;

	if (!check_ext(open_dev(), KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	ASSERT_OK(mem_guest_start(&g, guest_mem_read));

	/* No fd can be made from here on. */
	ASSERT_OK(getrlimit(RLIMIT_NOFILE, &old));
	fd = fcntl(g.vm, F_DUPFD, 0);
	ASSERT_LE(0, fd);
	close(fd);
	low = old;
	low.rlim_cur = fd;
	ASSERT_OK(setrlimit(RLIMIT_NOFILE, &low));
	EXPECT_ERRNO(fcntl(g.vm, F_DUPFD, 0), EMFILE);
	EXPECT_ERRNO(ioctl(g.vm, KVM_CREATE_VCPU, 1), EMFILE);

	f.vm = g.vm;
	ASSERT_OK(-pthread_create(&t, NULL, vcpu_failer_thread, &f));
	end = now_s() + ZAP_SECONDS;
	for (i = 0; i < ZAP_ROUNDS && now_s() < end; i++) {
		if (run_to_io(&g) != 0x26)
			break;
		if (madvise(data_word(&g), getpagesize(), MADV_DONTNEED))
			break;
	}
	__atomic_store_n(&f.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	ASSERT_OK(setrlimit(RLIMIT_NOFILE, &old));
	TH_LOG("%d rounds of KVM_RUN and MADV_DONTNEED, %ld EMFILEs", i,
	       f.tries);

	EXPECT_EQ(0, f.bad_errno);
	EXPECT_EQ(0, f.created);
	EXPECT_LT(0, f.tries);
	EXPECT_LT(0, i);
	/* The guest goes on, reading the zero page the last madvise left. */
	ASSERT_EQ(0x26, run_to_io(&g));
	EXPECT_EQ(0, pio_value(&g));
	/* And with an fd to be had, vCPU 1 is made. */
	fd = ioctl(g.vm, KVM_CREATE_VCPU, 1);
	EXPECT_LE(0, fd);
	close(fd);
	guest_destroy(&g);
}

/*
 * Who owns SVM: with KVM loaded (the kvm suite), lapicv's KVM_RUN is
 * refused with EBUSY while kvm_amd holds SVM from load
 * (enable_virt_at_load=1), and works when it does not.
 */
TEST(svm_owner)
{
	char c = 0;
	struct guest g;
	int fd;

	if (!dev_is_kvm() || access("/dev/lapicv", F_OK))
		SKIP(return, "needs /dev/kvm under test and /dev/lapicv");
	fd = open("/sys/module/kvm/parameters/enable_virt_at_load", O_RDONLY);
	if (fd < 0 || read(fd, &c, 1) != 1)
		SKIP(return, "no kvm.enable_virt_at_load");
	close(fd);
	ASSERT_EQ(0, setenv("LAPICV_DEV", "/dev/lapicv", 1));
	ASSERT_OK(guest_create(&g, code_gpa(guest_main), true));
	if (c == 'Y')
		EXPECT_ERRNO(ioctl(g.vcpu, KVM_RUN, 0), EBUSY);
	else
		ASSERT_EQ(0x10, run_to_io(&g));
	guest_destroy(&g);
}

/*
 * A level-triggered interrupt from a VMM IOAPIC pin (its MSI route below
 * the reserved pins), EOId by the guest through the xAPIC page: the EOI
 * reaches the VMM as KVM_EXIT_IOAPIC_EOI before the guest goes on.
 */
TEST(level_eoi)
{
	const struct msi_route route = {
		.gsi = 5, .address_lo = 0xfee00000,
		.data = 0x8000 | EOI_VECTOR,		/* level */
	};
	struct kvm_lapic_state lapic;
	struct guest g;

	if (!check_ext(open_dev(), KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	ASSERT_OK(guest_create_chip(&g, code_gpa(guest_eoi), true, true));
	ASSERT_EQ(0, set_msi_routes(g.vm, &route, 1));
	ASSERT_OK(ioctl(g.vcpu, KVM_GET_LAPIC, &lapic));
	*(uint32_t *)&lapic.regs[0xf0] = 0x1ff;
	ASSERT_OK(ioctl(g.vcpu, KVM_SET_LAPIC, &lapic));

	ASSERT_EQ(0x23, run_to_io(&g));
	/* Level, asserted, to APIC ID 0, as the VMM's IOAPIC sends it. */
	ASSERT_EQ(1, signal_msi(g.vm, 0xfee00000, 0, 0xc000 | EOI_VECTOR));
	ASSERT_OK(ioctl(g.vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_IOAPIC_EOI, g.run->exit_reason);
	EXPECT_EQ(EOI_VECTOR, g.run->eoi.vector);
	ASSERT_EQ(0x24, run_to_io(&g));
	ASSERT_EQ(0x25, run_to_io(&g));
	guest_destroy(&g);
}

/*
 * ExtINT through KVM_INTERRUPT on a split irqchip (the BSP's LINT0 is in
 * ExtINT mode after RESET): held while IF=0, injected once the guest's
 * STI opens the IRQ window.  Then an interrupt restored through
 * KVM_SET_SREGS's interrupt_bitmap: injected at the next entry whatever
 * IF says, as an event being injected is.
 */
TEST(extint)
{
	struct kvm_interrupt irq = { .irq = EXTINT_VECTOR };
	struct kvm_vcpu_events ev;
	struct kvm_sregs sregs;
	struct guest g;

	if (!check_ext(open_dev(), KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	ASSERT_OK(guest_create_chip(&g, code_gpa(guest_extint), true, true));

	ASSERT_EQ(0x20, run_to_io(&g));
	EXPECT_EQ(0, g.run->ready_for_interrupt_injection);
	ASSERT_OK(ioctl(g.vcpu, KVM_INTERRUPT, &irq));
	EXPECT_ERRNO(ioctl(g.vcpu, KVM_INTERRUPT, &irq), EEXIST);
	ASSERT_EQ(0x18, run_to_io(&g));
	ASSERT_EQ(0x22, run_to_io(&g));

	ASSERT_EQ(0x20, run_to_io(&g));
	ASSERT_OK(ioctl(g.vcpu, KVM_GET_SREGS, &sregs));
	sregs.interrupt_bitmap[EXTINT_VECTOR / 64] |= 1ull << (EXTINT_VECTOR % 64);
	ASSERT_OK(ioctl(g.vcpu, KVM_SET_SREGS, &sregs));
	memset(&sregs, 0, sizeof(sregs));
	ASSERT_OK(ioctl(g.vcpu, KVM_GET_SREGS, &sregs));
	EXPECT_EQ(1ull << (EXTINT_VECTOR % 64),
		  sregs.interrupt_bitmap[EXTINT_VECTOR / 64]);
	ASSERT_OK(ioctl(g.vcpu, KVM_GET_VCPU_EVENTS, &ev));
	EXPECT_EQ(1, ev.interrupt.injected);
	EXPECT_EQ(EXTINT_VECTOR, ev.interrupt.nr);
	ASSERT_EQ(0x18, run_to_io(&g));
	guest_destroy(&g);
}

static uint64_t guest_rip(struct guest *g)
{
	struct kvm_regs regs;

	if (ioctl(g->vcpu, KVM_GET_REGS, &regs))
		return 0;
	return regs.rip;
}

static uint32_t guest_mp_state(struct guest *g)
{
	struct kvm_mp_state mp = { .mp_state = ~0u };

	ioctl(g->vcpu, KVM_GET_MP_STATE, &mp);
	return mp.mp_state;
}

/* KVM_RUN with request_interrupt_window; its exit reason, or -1. */
static int run_window(struct guest *g)
{
	g->run->request_interrupt_window = 1;
	if (ioctl(g->vcpu, KVM_RUN, 0))
		return -1;
	return g->run->exit_reason;
}

static void start_kicker(struct kicker *k, pthread_t *thr)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	k->stop = 0;
	k->target = pthread_self();
	pthread_create(thr, NULL, kicker_thread, k);
}

static void stop_kicker(struct kicker *k, pthread_t thr)
{
	__atomic_store_n(&k->stop, 1, __ATOMIC_RELEASE);
	pthread_join(thr, NULL);
}

/*
 * request_interrupt_window on a split irqchip, as KVM's vcpu_run(): the
 * guest runs until it could take an ExtINT (RFLAGS.IF, no interrupt
 * shadow, LINT0 in ExtINT mode, none pending), then KVM_EXIT_IRQ_WINDOW_OPEN;
 * the HLT that follows STI exits so, halted.  ready_for_interrupt_injection
 * says the same after every run.
 */
TEST(irq_window)
{
	struct kvm_interrupt irq = { .irq = EXTINT_VECTOR };
	struct kvm_lapic_state lapic;
	struct kicker k = { .stop = 0 };
	pthread_t thr;
	struct guest g;
	int r;

	if (!check_ext(open_dev(), KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	ASSERT_OK(guest_create_chip(&g, code_gpa(guest_irqwin), true, true));

	ASSERT_EQ(0x26, run_to_io(&g));
	EXPECT_EQ(0, g.run->if_flag);
	EXPECT_EQ(0, g.run->ready_for_interrupt_injection);
	/* STI opens it; the HLT in the STI shadow exits first. */
	ASSERT_EQ(KVM_EXIT_IRQ_WINDOW_OPEN, run_window(&g));
	EXPECT_EQ(1, g.run->if_flag);
	EXPECT_EQ(1, g.run->ready_for_interrupt_injection);
	EXPECT_EQ(0xfee00900ULL, g.run->apic_base);
	EXPECT_EQ(code_gpa(guest_irqwin_halted), guest_rip(&g));
	EXPECT_EQ(KVM_MP_STATE_HALTED, guest_mp_state(&g));
	/* The ExtINT wakes the halted vCPU; its handler runs. */
	g.run->request_interrupt_window = 0;
	ASSERT_OK(ioctl(g.vcpu, KVM_INTERRUPT, &irq));
	ASSERT_EQ(0x18, run_to_io(&g));
	ASSERT_EQ(0x22, run_to_io(&g));

	/* An exit in the STI shadow: IF set, not ready. */
	ASSERT_EQ(0x27, run_to_io(&g));
	EXPECT_EQ(1, g.run->if_flag);
	EXPECT_EQ(0, g.run->ready_for_interrupt_injection);
	/* Completing the OUT ends the shadow: open at once. */
	ASSERT_EQ(KVM_EXIT_IRQ_WINDOW_OPEN, run_window(&g));
	EXPECT_EQ(code_gpa(guest_irqwin_spin), guest_rip(&g));
	EXPECT_EQ(1, g.run->ready_for_interrupt_injection);

	/* An ExtINT pending: no window exit, it goes in... */
	ASSERT_OK(ioctl(g.vcpu, KVM_INTERRUPT, &irq));
	ASSERT_EQ(KVM_EXIT_IO, run_window(&g));
	EXPECT_EQ(0x18, g.run->io.port);
	/* ...and the window opens again once its handler's IRET is done. */
	ASSERT_EQ(KVM_EXIT_IRQ_WINDOW_OPEN, run_window(&g));
	EXPECT_EQ(code_gpa(guest_irqwin_spin), guest_rip(&g));

	/* LINT0 masked takes no ExtINT: no window, not ready. */
	ASSERT_OK(ioctl(g.vcpu, KVM_GET_LAPIC, &lapic));
	*(uint32_t *)&lapic.regs[0x350] |= 1u << 16;
	ASSERT_OK(ioctl(g.vcpu, KVM_SET_LAPIC, &lapic));
	start_kicker(&k, &thr);
	r = run_window(&g);
	stop_kicker(&k, thr);
	ASSERT_EQ(-1, r);
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(KVM_EXIT_INTR, g.run->exit_reason);
	EXPECT_EQ(1, g.run->if_flag);
	EXPECT_EQ(0, g.run->ready_for_interrupt_injection);
	guest_destroy(&g);
}

/*
 * A halted vCPU and request_interrupt_window, as KVM's vcpu_block()
 * returning to vcpu_run(): a signal that ends the sleep, or a wake-up
 * event, reports the open window before anything is injected.
 */
TEST(irq_window_halted)
{
	struct kvm_lapic_state lapic;
	struct kicker k = { .stop = 0 };
	pthread_t thr;
	struct guest g;
	uint32_t v;
	int r;

	if (!check_ext(open_dev(), KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	ASSERT_OK(guest_create_chip(&g, code_gpa(guest_irqwin), true, true));
	ASSERT_OK(ioctl(g.vcpu, KVM_GET_LAPIC, &lapic));
	*(uint32_t *)&lapic.regs[0xf0] = 0x1ff;
	ASSERT_OK(ioctl(g.vcpu, KVM_SET_LAPIC, &lapic));

	ASSERT_EQ(0x26, run_to_io(&g));
	ASSERT_EQ(KVM_EXIT_IRQ_WINDOW_OPEN, run_window(&g));
	EXPECT_EQ(KVM_MP_STATE_HALTED, guest_mp_state(&g));

	/* Asleep again: a signal ends KVM_RUN with the window, not EINTR. */
	start_kicker(&k, &thr);
	r = run_window(&g);
	stop_kicker(&k, thr);
	ASSERT_EQ(KVM_EXIT_IRQ_WINDOW_OPEN, r);
	EXPECT_EQ(KVM_MP_STATE_HALTED, guest_mp_state(&g));

	/* An MSI ends the halt; the window is reported, the vector waits. */
	ASSERT_EQ(1, signal_msi(g.vm, 0xfee00000, 0, MSI_VECTOR));
	ASSERT_EQ(KVM_EXIT_IRQ_WINDOW_OPEN, run_window(&g));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, guest_mp_state(&g));
	EXPECT_EQ(code_gpa(guest_irqwin_halted), guest_rip(&g));
	ASSERT_OK(ioctl(g.vcpu, KVM_GET_LAPIC, &lapic));
	v = *(uint32_t *)&lapic.regs[0x200 + (MSI_VECTOR / 32) * 16];
	EXPECT_TRUE(v & (1u << (MSI_VECTOR % 32)));
	g.run->request_interrupt_window = 0;
	ASSERT_EQ(0x18, run_to_io(&g));
	ASSERT_EQ(0x22, run_to_io(&g));
	guest_destroy(&g);

	/*
	 * The MSI already there at the HLT: the vCPU does not halt (KVM's
	 * __kvm_emulate_halt()); the window first, then the vector.
	 */
	ASSERT_OK(guest_create_chip(&g, code_gpa(guest_irqwin), true, true));
	ASSERT_OK(ioctl(g.vcpu, KVM_GET_LAPIC, &lapic));
	*(uint32_t *)&lapic.regs[0xf0] = 0x1ff;
	ASSERT_OK(ioctl(g.vcpu, KVM_SET_LAPIC, &lapic));
	ASSERT_EQ(0x26, run_to_io(&g));
	ASSERT_EQ(1, signal_msi(g.vm, 0xfee00000, 0, MSI_VECTOR));
	ASSERT_EQ(KVM_EXIT_IRQ_WINDOW_OPEN, run_window(&g));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, guest_mp_state(&g));
	EXPECT_EQ(code_gpa(guest_irqwin_halted), guest_rip(&g));
	ASSERT_EQ(KVM_EXIT_IO, run_window(&g));
	EXPECT_EQ(0x18, g.run->io.port);
	guest_destroy(&g);
}

/* KVM_RUN with signals until it returns with the vCPU halted; 0, or -1. */
static int run_until_halted(struct guest *g)
{
	struct kicker k = { .stop = 0 };
	pthread_t thr;
	int r, ret = -1;

	start_kicker(&k, &thr);
	for (;;) {
		r = ioctl(g->vcpu, KVM_RUN, 0);
		if (r == -1 && errno == EINTR) {
			if (guest_mp_state(g) != KVM_MP_STATE_HALTED)
				continue;
			ret = 0;
		} else {
			fprintf(stderr, "# exit %u (port 0x%x) before the halt\n",
				g->run->exit_reason, g->run->io.port);
		}
		break;
	}
	stop_kicker(&k, thr);
	return ret;
}

/*
 * What ends a halt, as KVM's kvm_vcpu_has_events() and vcpu_block(): an
 * NMI queued while NMIs are masked (the guest goes on past its HLT, the
 * NMI waits for the IRET); and whatever ends a halt ends a PV unhalt
 * (REMRD) with it, so the next HLT halts.
 */
TEST(halt_events)
{
	struct kvm_lapic_state lapic;
	struct guest g;

	if (!check_ext(open_dev(), KVM_CAP_IMMEDIATE_EXIT))
		SKIP(return, "%s runs no guests here", dev_path());
	ASSERT_OK(guest_create(&g, code_gpa(guest_nmi_wait), true));
	ASSERT_EQ(0x2a, run_to_io(&g));
	ASSERT_OK(ioctl(g.vcpu, KVM_NMI));
	ASSERT_EQ(0x28, run_to_io(&g));
	ASSERT_OK(run_until_halted(&g));
	ASSERT_OK(ioctl(g.vcpu, KVM_NMI));
	ASSERT_EQ(0x29, run_to_io(&g));
	guest_destroy(&g);

	ASSERT_OK(guest_create(&g, code_gpa(guest_pvu), true));
	ASSERT_OK(ioctl(g.vcpu, KVM_GET_LAPIC, &lapic));
	*(uint32_t *)&lapic.regs[0xf0] = 0x1ff;
	ASSERT_OK(ioctl(g.vcpu, KVM_SET_LAPIC, &lapic));
	ASSERT_EQ(0x2b, run_to_io(&g));
	ASSERT_OK(run_until_halted(&g));
	/* A fixed MSI and a REMRD one (KVM's PV unhalt). */
	ASSERT_EQ(1, signal_msi(g.vm, 0xfee00000, 0, MSI_VECTOR));
	ASSERT_EQ(1, signal_msi(g.vm, 0xfee00000, 0, 0x300));
	ASSERT_EQ(0x18, run_to_io(&g));
	/* "cli; hlt": nothing may end this halt. */
	ASSERT_OK(run_until_halted(&g));
	guest_destroy(&g);
}

TEST_HARNESS_MAIN
