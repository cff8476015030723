// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ioctl fuzzer: threads issue random ioctls with random and boundary
 * arguments on system, VM and vCPU fds while others close and recreate
 * those fds and VMs, vCPUs sleep in halted LAPICV_RUN steps, signals
 * interrupt everything, and forked children try the parent's fds.
 *
 * Fds live in fixed slots (fd numbers SLOT_BASE + i): a new object is
 * dup3()ed over its slot, so a thread that picked a slot may find it
 * closed, or holding another VM, or another kind of fd, but never a file
 * that is not lapicv's.
 *
 * What fails the test:
 *  - an errno outside the set lapicv may return (ERESTARTSYS or
 *    ENOIOCTLCMD leaking out, say);
 *  - a thread that makes no progress for HANG_SECONDS (a lost wake-up, a
 *    deadlock): its kernel stack is printed;
 *  - the checker thread's private VM changed by an ioctl that failed;
 *  - a lapicv fd still open after the test closed all it knows of (the
 *    test's own leak, named, so that the refcnt check does not blame it
 *    on the module);
 *  - after everything is closed, /sys/module/lapicv/refcnt not back to
 *    its value before the run, or SUnreclaim grown by more than
 *    LEAK_TOLERANCE_KB (with the caches that grew most);
 *  - and, from the rig, any WARNING/BUG/Oops/lockup in dmesg and a failed
 *    rmmod afterwards.
 *
 * FUZZ_SECONDS (default 20) bounds the run; FUZZ_SEED picks the seed
 * (printed at start; the threads' interleaving still varies from run to
 * run).  lapicv-only: fuzzing KVM is not this project's job.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/lapicv.h>

#include "kselftest_harness.h"
#include "apic.h"
#include "lapicv_util.h"

#define PAGE			4096ul

/* Fd slots: system fds, VM fds, vCPU fds, at fd numbers SLOT_BASE + i. */
#define NR_SYS			2
#define NR_VM			6
#define NR_VCPU			24
#define NR_SLOTS		(NR_SYS + NR_VM + NR_VCPU)
#define SLOT_BASE		900
#define SLOT_VM0		NR_SYS
#define SLOT_VCPU0		(NR_SYS + NR_VM)

#define NR_FUZZERS		4
#define NR_RUNNERS		2
/* fuzzers, runners, the churn thread and the checker */
#define NR_THREADS		(NR_FUZZERS + NR_RUNNERS + 2)

#define DEFAULT_SECONDS		20
#define HANG_SECONDS		20
#define LEAK_TOLERANCE_KB	2048
#define REFCNT_PATH		"/sys/module/lapicv/refcnt"

/* The guest-memory region VMs map and the churn thread unmaps at will. */
#define MEM_PAGES		4

/*
 * Memslots point into one reservation, PROT_NONE but for guest_mem at its
 * start and ro_page after it, longer than any memslot lapicv accepts
 * (fewer than 2^31 pages): the vapic word the module writes through a
 * memslot lands in guest memory or faults, never in the test's own data
 * (the harness's shared _metadata page, three pages above an ro_page
 * mapped on its own: a stray "trigger" there makes the next passing
 * ASSERT abort without a message).
 */
#define SCRATCH_BYTES		((1ull << 31) * PAGE + 64 * PAGE)
#define RO_PAGE_OFFSET		((MEM_PAGES + 1) * PAGE)
#define NONE_PAGE_OFFSET	((MEM_PAGES + 3) * PAGE)

struct thread {
	pthread_t tid;
	pid_t ktid;
	int idx;
	uint64_t rng;
	atomic_ulong progress;
};

static struct thread threads[NR_THREADS];
static atomic_bool stop;
static uint64_t seed;

static uint8_t *scratch;	/* SCRATCH_BYTES reserved, PROT_NONE */
static uint8_t *ro_page;	/* read-only, with valid structs in it */
static uint8_t *guest_mem;	/* MEM_PAGES, mapped or not */

/* What went wrong, for the main thread to report. */
static atomic_int bad_errno;
static atomic_ulong bad_errno_cmd;
static atomic_int state_changed;
static char state_msg[512];
static pthread_mutex_t msg_lock = PTHREAD_MUTEX_INITIALIZER;

#define MAX_ERRNO_SEEN		600
static atomic_ulong errno_seen[MAX_ERRNO_SEEN];
static atomic_ulong ops_ok, ops_failed, vms_made, vcpus_made, forks;
static atomic_ulong stats_fds, stats_reads;

/* ---- randomness ---- */

static uint64_t rnd(struct thread *t)
{
	/* xorshift64* */
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * 0x2545f4914f6cdd1dull;
}

static uint64_t below(struct thread *t, uint64_t n)
{
	return n ? rnd(t) % n : 0;
}

static bool chance(struct thread *t, unsigned int percent)
{
	return below(t, 100) < percent;
}

static uint64_t pick(struct thread *t, const uint64_t *v, size_t n)
{
	return v[below(t, n)];
}

#define PICK(t, ...) ({							\
	const uint64_t __v[] = { __VA_ARGS__ };				\
	pick(t, __v, ARRAY_SIZE(__v));					\
})

/* Boundary values of a 32-bit count or index. */
static uint64_t boundary32(struct thread *t)
{
	if (chance(t, 30))
		return below(t, 300);
	return PICK(t, 0, 1, 2, 3, 4, 255, 256, 257, 1023, 1024, 4095, 4096,
		    32763, 32764, 0x7fffffff, 0x80000000, 0xfffffffe,
		    0xffffffff, rnd(t) & 0xffffffff);
}

static uint64_t boundary64(struct thread *t)
{
	if (chance(t, 50))
		return boundary32(t);
	return PICK(t, 1ull << 32, 1ull << 63, ~0ull, 0xfee00000, 0xfee00900,
		    0xfee00c00, 0xfee01000, 0x100000000ull, rnd(t));
}

/* ---- slots ---- */

static int slot_fd(int slot)
{
	return SLOT_BASE + slot;
}

/* Put @fd into @slot (closing what was there) and drop @fd itself. */
static void slot_install(int slot, int fd)
{
	if (fd < 0)
		return;
	dup3(fd, slot_fd(slot), O_CLOEXEC);
	close(fd);
}

static int any_slot(struct thread *t)
{
	return slot_fd(below(t, NR_SLOTS));
}

static int sys_slot(struct thread *t)
{
	return slot_fd(below(t, NR_SYS));
}

static int vm_slot(struct thread *t)
{
	return slot_fd(SLOT_VM0 + below(t, NR_VM));
}

static int vcpu_slot(struct thread *t)
{
	return slot_fd(SLOT_VCPU0 + below(t, NR_VCPU));
}

/* Mostly the right kind of fd for the ioctl, sometimes any, rarely none. */
static int target_fd(struct thread *t, int (*right)(struct thread *))
{
	if (chance(t, 2))
		return -1;
	return chance(t, 85) ? right(t) : any_slot(t);
}

/* ---- arguments ---- */

/*
 * Every thread's argument buffer: two read-write pages and a PROT_NONE
 * guard after them, so a struct can be placed to run into the guard.
 */
struct argbuf {
	uint8_t *base;
};

static void *bad_pointer(struct thread *t)
{
	switch (below(t, 6)) {
	case 0:
		return NULL;
	case 1:
		return (void *)1;
	case 2:
		return (void *)PAGE;		/* below mmap_min_addr */
	case 3:
		return (void *)0xffffffff81000000ul;	/* kernel */
	case 4:
		return (void *)0x8000000000000000ul;	/* non-canonical */
	default:
		return ro_page + below(t, 4) * 256;
	}
}

/*
 * Where the struct of @size goes: mostly the start of the buffer, else
 * straddling the guard page (truncated), else a bad pointer.
 */
static void *arg_place(struct thread *t, struct argbuf *ab, size_t size)
{
	unsigned int r = below(t, 100);

	if (r < 85 || !size)
		return ab->base;
	if (r < 93)
		return ab->base + 2 * PAGE - 1 - below(t, size < 2 * PAGE ?
							   size : 2 * PAGE);
	return bad_pointer(t);
}

static void fill_random(struct thread *t, void *p, size_t n)
{
	uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = rnd(t);
}

static uint32_t msr_index(struct thread *t)
{
	return PICK(t, 0x1b, 0x1b, 0x6e0, 0x800 + below(t, 0x100),
		    0x800 + below(t, 0x100), 0x802, 0x808, 0x80b, 0x830,
		    0x83f, 0x80f, 0x838, rnd(t) & 0xffffffff);
}

static uint64_t apic_base_value(struct thread *t)
{
	return PICK(t, 0xfee00900, 0xfee00800, 0xfee00c00, 0xfee00d00,
		    0xfee00000, 0xfee01800, 0xfef00800, boundary64(t));
}

static void gen_msrs(struct thread *t, void *p)
{
	struct kvm_msrs *m = p;
	uint32_t i, n;

	fill_random(t, p, 2 * PAGE);
	m->nmsrs = chance(t, 70) ? 1 + below(t, 8) : boundary32(t);
	m->pad = chance(t, 90) ? 0 : rnd(t);
	n = m->nmsrs < 200 ? m->nmsrs : 200;
	for (i = 0; i < n; i++) {
		m->entries[i].index = msr_index(t);
		m->entries[i].reserved = 0;
		m->entries[i].data = m->entries[i].index == 0x1b ?
				     apic_base_value(t) : boundary64(t);
	}
}

static void gen_cpuid(struct thread *t, void *p)
{
	struct kvm_cpuid2 *c = p;
	uint32_t i, n;

	fill_random(t, p, 2 * PAGE);
	c->nent = chance(t, 60) ? below(t, 6) : boundary32(t);
	c->padding = 0;
	n = c->nent < 150 ? c->nent : 150;
	for (i = 0; i < n; i++) {
		c->entries[i].function = PICK(t, 0, 1, 1, 0xb, 0x1f,
					      0x80000000, 0x80000008,
					      rnd(t) & 0xffffffff);
		c->entries[i].index = below(t, 3);
		c->entries[i].flags = chance(t, 80) ? 0 : rnd(t);
	}
}

/* A KVM_SET_LAPIC state: a vCPU's own, mutated, or noise. */
static void gen_lapic(struct thread *t, void *p)
{
	struct kvm_lapic_state *s = p;
	uint32_t *w = (uint32_t *)s->regs;
	int i, n;

	if (chance(t, 70) && ioctl(vcpu_slot(t), KVM_GET_LAPIC, s) == 0) {
		n = 1 + below(t, 6);
		for (i = 0; i < n; i++) {
			unsigned int off = below(t, sizeof(*s) / 4);

			if (chance(t, 50))
				w[off] ^= 1u << below(t, 32);
			else
				w[off] = boundary32(t);
		}
		/* Keep the timer quiet mostly: it fires into IRR on its own. */
		if (chance(t, 80))
			w[APIC_LVTT / 4] |= 1u << 16;
		return;
	}
	fill_random(t, s, sizeof(*s));
}

static void gen_msi(struct thread *t, void *p)
{
	struct kvm_msi *m = p;

	memset(m, 0, sizeof(*m));
	m->address_lo = chance(t, 80) ? 0xfee00000 | (rnd(t) & 0xff00c) :
					 boundary32(t);
	m->address_hi = chance(t, 80) ? 0 : boundary32(t);
	m->data = chance(t, 70) ? (below(t, 0x100) | (below(t, 8) << 8) |
				   (below(t, 4) << 14)) : boundary32(t);
	if (chance(t, 5))
		m->flags = boundary32(t);
	if (chance(t, 5))
		m->devid = rnd(t);
	if (chance(t, 3))
		m->pad[below(t, 12)] = 1;
}

/* A GSI routing table: mostly a few MSI routes of low GSIs. */
static void gen_routing(struct thread *t, void *p)
{
	struct kvm_irq_routing *rt = p;
	unsigned int i, n = below(t, 6);

	memset(rt, 0, sizeof(*rt) + n * sizeof(rt->entries[0]));
	rt->nr = chance(t, 90) ? n : boundary32(t);
	if (chance(t, 5))
		rt->flags = boundary32(t);
	for (i = 0; i < n; i++) {
		struct kvm_irq_routing_entry *e = &rt->entries[i];

		e->gsi = chance(t, 90) ? below(t, 40) : boundary32(t);
		e->type = chance(t, 85) ? KVM_IRQ_ROUTING_MSI : below(t, 6);
		if (chance(t, 5))
			e->flags = boundary32(t);
		gen_msi(t, &e->u.msi);
	}
}

static void gen_run(struct thread *t, void *p, bool may_halt)
{
	struct lapicv_run *r = p;

	memset(r, 0, sizeof(*r));
	r->rflags_if = chance(t, 70);
	r->interrupt_shadow = chance(t, 10);
	r->nmi_blocked = chance(t, 10);
	r->halted = may_halt && chance(t, 50);
	if (chance(t, 5)) {
		switch (below(t, 5)) {
		case 0:
			r->rflags_if = 2 + below(t, 254);
			break;
		case 1:
			r->flags = boundary32(t) | 1;
			break;
		case 2:
			r->pad = 1 + below(t, 255);
			break;
		case 3:
			r->reserved[below(t, 4)] = boundary64(t) | 1;
			break;
		default:
			r->halted = 2 + below(t, 254);
			break;
		}
	}
}

static void gen_access(struct thread *t, void *p)
{
	struct lapicv_guest_access *ga = p;

	memset(ga, 0, sizeof(*ga));
	ga->type = chance(t, 95) ? below(t, 4) : boundary32(t);
	if (ga->type < 2) {
		ga->size = chance(t, 80) ? 4 :
			   PICK(t, 0, 1, 2, 3, 8, boundary32(t));
		ga->address = chance(t, 85) ? below(t, 0x40) * 0x10 +
					      (chance(t, 90) ? 0 : below(t, 16)) :
					      boundary32(t);
	} else {
		ga->size = chance(t, 90) ? 0 : boundary32(t);
		ga->address = chance(t, 85) ? 0x800 + below(t, 0x100) :
					      boundary32(t);
	}
	ga->data = chance(t, 60) ? rnd(t) & 0xffffffff : boundary64(t);
	if (chance(t, 3))
		ga->reserved[below(t, 2)] = 1;
	if (chance(t, 3))
		ga->fault = 1;
}

static void gen_mem_region(struct thread *t, void *p)
{
	struct kvm_userspace_memory_region *m = p;

	m->slot = chance(t, 70) ? below(t, 4) | (chance(t, 10) ? 1 << 16 : 0) :
				  boundary32(t);
	m->flags = chance(t, 80) ? PICK(t, 0, 0, KVM_MEM_READONLY) :
				   boundary32(t);
	m->guest_phys_addr = chance(t, 80) ? PICK(t, 0, 0xfee00000, 0x100000,
						  below(t, 64) * PAGE) :
					     boundary64(t);
	m->memory_size = chance(t, 80) ? PICK(t, 0, PAGE, 2 * PAGE,
					      MEM_PAGES * PAGE) :
					 boundary64(t);
	/*
	 * Never a user address outside the scratch reservation (NULL or
	 * PAGE would reach the binary's data with a large slot): the module
	 * writes the vapic word there.
	 */
	m->userspace_addr = chance(t, 80) ? (uintptr_t)guest_mem +
					    PICK(t, 0, 0, PAGE, 1) :
			    PICK(t, (uintptr_t)ro_page,
				 (uintptr_t)scratch + NONE_PAGE_OFFSET,
				 (uintptr_t)scratch + NONE_PAGE_OFFSET + 1,
				 0xffffffff81000000ull, 0x8000000000000000ull);
}

static void gen_enable_cap(struct thread *t, void *p)
{
	struct kvm_enable_cap *c = p;

	memset(c, 0, sizeof(*c));
	c->cap = chance(t, 80) ? PICK(t, KVM_CAP_SPLIT_IRQCHIP,
				      KVM_CAP_X2APIC_API) : boundary32(t);
	c->flags = chance(t, 90) ? 0 : boundary32(t);
	c->args[0] = chance(t, 70) ? below(t, 32) : boundary64(t);
	if (chance(t, 10))
		c->args[below(t, 4)] = boundary64(t);
}

/* ---- the ioctls ---- */

struct cmd {
	unsigned long nr;
	int (*fd)(struct thread *t);
};

static const struct cmd cmds[] = {
	{ KVM_GET_API_VERSION,		sys_slot },
	{ KVM_CREATE_VM,		sys_slot },
	{ KVM_CHECK_EXTENSION,		sys_slot },
	{ KVM_GET_SUPPORTED_CPUID,	sys_slot },
	{ KVM_GET_VCPU_MMAP_SIZE,	sys_slot },
	{ KVM_CREATE_VCPU,		vm_slot },
	{ KVM_ENABLE_CAP,		vm_slot },
	{ KVM_CHECK_EXTENSION,		vm_slot },
	{ KVM_SET_USER_MEMORY_REGION,	vm_slot },
	{ KVM_SIGNAL_MSI,		vm_slot },
	{ KVM_SIGNAL_MSI,		vm_slot },
	{ KVM_CREATE_IRQCHIP,		vm_slot },
	{ KVM_IRQ_LINE,			vm_slot },
	{ LAPICV_SET_INHIBIT,		vm_slot },
	{ LAPICV_GET_INHIBITS,		vm_slot },
	{ LAPICV_GET_VM_STATS,		vm_slot },
	{ LAPICV_ENABLE_PROTECTED_APIC,	vm_slot },
	{ KVM_SET_GSI_ROUTING,		vm_slot },
	{ KVM_GET_STATS_FD,		vm_slot },
	{ KVM_GET_LAPIC,		vcpu_slot },
	{ KVM_SET_LAPIC,		vcpu_slot },
	{ KVM_SET_LAPIC,		vcpu_slot },
	{ KVM_GET_MSRS,			vcpu_slot },
	{ KVM_SET_MSRS,			vcpu_slot },
	{ KVM_SET_MSRS,			vcpu_slot },
	{ KVM_SET_CPUID2,		vcpu_slot },
	{ KVM_GET_CPUID2,		vcpu_slot },
	{ KVM_NMI,			vcpu_slot },
	{ KVM_INTERRUPT,		vcpu_slot },
	{ KVM_GET_MP_STATE,		vcpu_slot },
	{ KVM_SET_MP_STATE,		vcpu_slot },
	{ KVM_SET_VAPIC_ADDR,		vcpu_slot },
	{ KVM_SMI,			vcpu_slot },
	{ KVM_GET_VCPU_EVENTS,		vcpu_slot },
	{ KVM_SET_VCPU_EVENTS,		vcpu_slot },
	{ KVM_RUN,			vcpu_slot },
	{ LAPICV_RUN,			vcpu_slot },
	{ LAPICV_RUN,			vcpu_slot },
	{ LAPICV_GET_VCPU_STATS,	vcpu_slot },
	{ KVM_GET_STATS_FD,		vcpu_slot },
	{ LAPICV_GUEST_ACCESS,		vcpu_slot },
	{ LAPICV_GUEST_ACCESS,		vcpu_slot },
	{ LAPICV_GUEST_ACCESS,		vcpu_slot },
};

/* The ioctls whose argument is a value, not a pointer. */
static bool arg_is_value(unsigned long nr)
{
	return nr == KVM_CREATE_VM || nr == KVM_CHECK_EXTENSION ||
	       nr == KVM_CREATE_VCPU || nr == KVM_GET_API_VERSION ||
	       nr == KVM_GET_VCPU_MMAP_SIZE || nr == KVM_NMI ||
	       nr == KVM_RUN || nr == KVM_CREATE_IRQCHIP ||
	       nr == LAPICV_ENABLE_PROTECTED_APIC || nr == KVM_SMI ||
	       nr == KVM_GET_STATS_FD;
}

/*
 * The numbers that give back a new fd: CREATE_VM, CREATE_VCPU and
 * GET_STATS_FD, in whatever direction and size the kernel accepted.
 * Every such fd must be kept in a slot or closed: one left open holds a
 * module reference, and the refcnt check at the end would blame lapicv.
 */
static bool makes_fd(unsigned long nr)
{
	return _IOC_TYPE(nr) == KVMIO &&
	       (_IOC_NR(nr) == _IOC_NR(KVM_CREATE_VM) ||
		_IOC_NR(nr) == _IOC_NR(KVM_CREATE_VCPU) ||
		_IOC_NR(nr) == _IOC_NR(KVM_GET_STATS_FD));
}

static unsigned long value_arg(struct thread *t, unsigned long nr)
{
	if (chance(t, 10))
		return boundary64(t);
	switch (nr) {
	case KVM_CREATE_VCPU:
		return chance(t, 80) ? below(t, 8) : boundary32(t);
	case KVM_CHECK_EXTENSION:
		return below(t, 260);
	default:
		return 0;
	}
}

/* Build the argument of ioctl @nr in @ab; returns what to pass. */
static void *gen_arg(struct thread *t, struct argbuf *ab, unsigned long nr,
		     bool may_halt)
{
	void *p = ab->base;

	switch (nr) {
	case KVM_GET_MSRS:
	case KVM_SET_MSRS:
		gen_msrs(t, p);
		break;
	case KVM_SET_CPUID2:
	case KVM_GET_CPUID2:
	case KVM_GET_SUPPORTED_CPUID:
		gen_cpuid(t, p);
		break;
	case KVM_SET_LAPIC:
		gen_lapic(t, p);
		break;
	case KVM_SIGNAL_MSI:
		gen_msi(t, p);
		break;
	case KVM_SET_GSI_ROUTING:
		gen_routing(t, p);
		break;
	case LAPICV_RUN:
		gen_run(t, p, may_halt);
		break;
	case LAPICV_GUEST_ACCESS:
		gen_access(t, p);
		break;
	case KVM_SET_USER_MEMORY_REGION:
		gen_mem_region(t, p);
		break;
	case KVM_ENABLE_CAP:
		gen_enable_cap(t, p);
		break;
	case LAPICV_SET_INHIBIT:
		((uint32_t *)p)[0] = chance(t, 80) ? below(t, 13) :
						      boundary32(t);
		((uint32_t *)p)[1] = chance(t, 90) ? below(t, 2) :
						      boundary32(t);
		break;
	case KVM_INTERRUPT:
	case KVM_SET_MP_STATE:
		((uint32_t *)p)[0] = chance(t, 70) ? below(t, 10) :
						      boundary32(t);
		break;
	case KVM_SET_VAPIC_ADDR:
		((uint64_t *)p)[0] = chance(t, 70) ? below(t, 2 * MEM_PAGES *
							   PAGE) :
						      boundary64(t);
		break;
	default:
		fill_random(t, p, 64);
		break;
	}
	/* Move a well-formed struct to the guard or replace it. */
	if (chance(t, 15)) {
		size_t size = _IOC_SIZE(nr);
		void *q = arg_place(t, ab, size);

		size_t room = (uint8_t *)q - ab->base;

		/* Only the part before the guard moves along. */
		if (room < 2 * PAGE)
			memmove(q, p, 2 * PAGE - room < size ?
				2 * PAGE - room : size);
		p = q;
	}
	return p;
}

/* A random command number: a real one, a mangled one, or noise. */
static unsigned long gen_nr(struct thread *t, const struct cmd **c)
{
	unsigned int r = below(t, 100);
	unsigned long nr;

	*c = &cmds[below(t, ARRAY_SIZE(cmds))];
	if (r < 80)
		return (*c)->nr;
	nr = (*c)->nr;
	if (r < 88) {
		/* The right number, another size or direction. */
		if (chance(t, 50))
			return (nr & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
			       (below(t, 1 << 14) << _IOC_SIZESHIFT);
		return nr ^ (below(t, 3) + 1) << _IOC_DIRSHIFT;
	}
	if (r < 94)
		return _IOC(below(t, 4), KVMIO, below(t, 256), below(t, 2048));
	if (r < 99)
		return _IOC(below(t, 4), LAPICVIO, below(t, 256),
			    below(t, 2048));
	return rnd(t) & 0xffffffff;
}

/* The errnos lapicv may give back; anything else is a bug. */
static bool errno_allowed(int e)
{
	switch (e) {
	case EINVAL: case EFAULT: case E2BIG: case ENOTTY: case EEXIST:
	case ENOMEM: case EINTR: case EIO: case EBADF: case ENXIO:
	case EPERM: case ENOSPC: case EBUSY: case EAGAIN: case ENOENT:
	case EMFILE: case ENFILE: case EOPNOTSUPP: case ERANGE:
		return true;
	default:
		return false;
	}
}

static void account(unsigned long nr, long r, int e)
{
	if (r >= 0) {
		atomic_fetch_add(&ops_ok, 1);
		return;
	}
	/* A value that does not fit ioctl()'s int, or not -1/errno. */
	if (r != -1 && !atomic_load(&bad_errno)) {
		atomic_store(&bad_errno_cmd, nr);
		atomic_store(&bad_errno, (int)r);
	}
	atomic_fetch_add(&ops_failed, 1);
	atomic_fetch_add(&errno_seen[e < MAX_ERRNO_SEEN ? e : 0], 1);
	if (!errno_allowed(e) && !atomic_load(&bad_errno)) {
		atomic_store(&bad_errno_cmd, nr);
		atomic_store(&bad_errno, e);
	}
}

/* A stats fd: read a random piece of it, then close it. */
static void use_stats_fd(struct thread *t, int fd)
{
	char buf[256];

	if (pread(fd, buf, below(t, sizeof(buf) + 1), below(t, 1024)) >= 0)
		atomic_fetch_add(&stats_reads, 1);
	close(fd);
}

/*
 * A new fd from CREATE_VM or CREATE_VCPU goes into a slot of its kind; a
 * stats fd is read and closed, and so is any other new fd (a mangled
 * number the kernel accepted).
 */
static void keep_fd(struct thread *t, unsigned long nr, long r)
{
	if (r < 0)
		return;
	if (nr == KVM_CREATE_VM) {
		atomic_fetch_add(&vms_made, 1);
		slot_install(SLOT_VM0 + below(t, NR_VM), r);
	} else if (nr == KVM_CREATE_VCPU) {
		atomic_fetch_add(&vcpus_made, 1);
		slot_install(SLOT_VCPU0 + below(t, NR_VCPU), r);
	} else if (nr == KVM_GET_STATS_FD) {
		atomic_fetch_add(&stats_fds, 1);
		use_stats_fd(t, r);
	} else if (r > 2 && makes_fd(nr)) {
		close(r);
	}
}

static void one_ioctl(struct thread *t, struct argbuf *ab, bool may_halt)
{
	const struct cmd *c;
	unsigned long nr = gen_nr(t, &c), arg;
	int fd = target_fd(t, c->fd);
	long r;

	if (arg_is_value(nr))
		arg = value_arg(t, nr);
	else
		arg = (unsigned long)gen_arg(t, ab, nr, may_halt);
	r = ioctl(fd, nr, arg);
	account(nr, r, errno);
	keep_fd(t, nr, r);
}

/* ---- the threads ---- */

static void progress(struct thread *t)
{
	atomic_fetch_add(&t->progress, 1);
}

static void argbuf_init(struct argbuf *ab)
{
	ab->base = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ab->base == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	mprotect(ab->base + 2 * PAGE, PAGE, PROT_NONE);
}

static void *fuzzer(void *arg)
{
	struct thread *t = arg;
	struct argbuf ab;

	t->ktid = gettid();
	argbuf_init(&ab);
	while (!atomic_load(&stop)) {
		one_ioctl(t, &ab, chance(t, 5));
		progress(t);
	}
	munmap(ab.base, 3 * PAGE);
	return NULL;
}

/* vCPU threads: run steps, halted half of the time; signals end those. */
static void *runner(void *arg)
{
	struct thread *t = arg;
	struct lapicv_run run;
	long r;
	int fd;

	t->ktid = gettid();
	while (!atomic_load(&stop)) {
		fd = vcpu_slot(t);
		gen_run(t, &run, true);
		r = ioctl(fd, LAPICV_RUN, &run);
		account(LAPICV_RUN, r, errno);
		if (chance(t, 20)) {
			struct lapicv_guest_access ga = {
				.type = LAPICV_ACCESS_MMIO_WRITE,
				.size = 4,
				.address = APIC_EOI,
			};

			r = ioctl(fd, LAPICV_GUEST_ACCESS, &ga);
			account(LAPICV_GUEST_ACCESS, r, errno);
		}
		progress(t);
	}
	return NULL;
}

/* A VM with the split irqchip and a few vCPUs, all in slots. */
static void make_vm(struct thread *t)
{
	int vm, vslot = SLOT_VM0 + below(t, NR_VM), i, n;

	vm = ioctl(sys_slot(t), KVM_CREATE_VM, 0ul);
	if (vm < 0)
		return;
	atomic_fetch_add(&vms_made, 1);
	if (chance(t, 90))
		vm_enable_split_irqchip(vm, 24);
	n = below(t, 4);
	for (i = 0; i < n; i++) {
		uint64_t id = chance(t, 80) ? (uint64_t)i : boundary32(t);
		int vcpu = vcpu_create(vm, id);
		struct kvm_lapic_state s;

		if (vcpu < 0)
			continue;
		atomic_fetch_add(&vcpus_made, 1);
		/* Software-enable the APIC so MSIs and IPIs land. */
		if (ioctl(vcpu, KVM_GET_LAPIC, &s) == 0) {
			s.regs[APIC_SPIV] = 0xff;
			s.regs[APIC_SPIV + 1] = 1;
			ioctl(vcpu, KVM_SET_LAPIC, &s);
		}
		slot_install(SLOT_VCPU0 + below(t, NR_VCPU), vcpu);
	}
	slot_install(vslot, vm);
}

/* A child tries the parent's fds (EIO, except the system fd). */
static void fork_child(struct thread *t)
{
	struct argbuf ab;
	pid_t pid;
	int i;

	pid = fork();
	if (pid == 0) {
		argbuf_init(&ab);
		for (i = 0; i < 50; i++)
			one_ioctl(t, &ab, false);
		_exit(0);
	}
	if (pid > 0) {
		atomic_fetch_add(&forks, 1);
		/* The kicks interrupt waitpid() too. */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
}

/* Closes and recreates fds and VMs, remaps guest memory, forks. */
static void *churn(void *arg)
{
	struct thread *t = arg;

	t->ktid = gettid();
	while (!atomic_load(&stop)) {
		switch (below(t, 10)) {
		case 0:
			slot_install(below(t, NR_SYS), open_dev());
			break;
		case 1:
		case 2:
		case 3:
			make_vm(t);
			break;
		case 4:
		case 5:
		case 6:
			close(any_slot(t));
			break;
		case 7:
			/*
			 * Guest memory comes and goes under the memslots
			 * (PROT_NONE rather than munmap: nothing else may
			 * be mapped there meanwhile).
			 */
			if (chance(t, 50)) {
				madvise(guest_mem, MEM_PAGES * PAGE,
					MADV_DONTNEED);
				mprotect(guest_mem, MEM_PAGES * PAGE,
					 PROT_NONE);
			} else {
				mprotect(guest_mem, MEM_PAGES * PAGE,
					 PROT_READ | PROT_WRITE);
			}
			break;
		case 8:
			if (chance(t, 10))
				fork_child(t);
			break;
		default:
			usleep(1000);
			break;
		}
		progress(t);
	}
	return NULL;
}

/* ---- the checker: a failed ioctl changes nothing ---- */

struct snapshot {
	struct kvm_lapic_state lapic[2];
	struct kvm_mp_state mp[2];
	struct lapicv_vcpu_stats stats[2];
	uint64_t apic_base[2];
	uint64_t inhibits;
};

struct private_vm {
	int dev, vm, vcpu[2];
};

static int get_apic_base(int vcpu, uint64_t *v)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr.nmsrs = 1, .e.index = 0x1b };
	int r = ioctl(vcpu, KVM_GET_MSRS, &m);

	*v = m.e.data;
	return r == 1 ? 0 : -1;
}

static int snap(struct private_vm *p, struct snapshot *s)
{
	struct lapicv_inhibit_state st;
	int i;

	memset(s, 0, sizeof(*s));
	/*
	 * KVM_GET_MP_STATE first: as in KVM it accepts a pending INIT,
	 * which resets the APIC; what is read after it then stays put.
	 */
	for (i = 0; i < 2; i++)
		if (ioctl(p->vcpu[i], KVM_GET_MP_STATE, &s->mp[i]))
			return -1;
	for (i = 0; i < 2; i++) {
		if (ioctl(p->vcpu[i], KVM_GET_LAPIC, &s->lapic[i]) ||
		    ioctl(p->vcpu[i], LAPICV_GET_VCPU_STATS, &s->stats[i]) ||
		    get_apic_base(p->vcpu[i], &s->apic_base[i]))
			return -1;
		/* The timer's current count moves by itself. */
		memset(s->lapic[i].regs + APIC_TMCCT, 0, 4);
	}
	if (ioctl(p->vm, LAPICV_GET_INHIBITS, &st))
		return -1;
	/* IRQWIN follows the vCPUs' windows, not an ioctl's failure. */
	s->inhibits = st.reasons & ~(1ull << LAPICV_INHIBIT_IRQWIN);
	return 0;
}

/* What differs between two snapshots, in words. */
static void snap_diff(const struct snapshot *a, const struct snapshot *b,
		      char *buf, size_t n)
{
	size_t len = 0;
	int i, off;

	buf[0] = '\0';
	for (i = 0; i < 2; i++) {
		for (off = 0; off < (int)sizeof(a->lapic[i].regs); off += 4)
			if (memcmp(a->lapic[i].regs + off,
				   b->lapic[i].regs + off, 4))
				len += snprintf(buf + len, n - len,
						" vcpu%d reg 0x%x", i, off);
		if (a->mp[i].mp_state != b->mp[i].mp_state)
			len += snprintf(buf + len, n - len, " vcpu%d mp_state", i);
		if (memcmp(&a->stats[i], &b->stats[i], sizeof(a->stats[i])))
			len += snprintf(buf + len, n - len, " vcpu%d stats", i);
		if (a->apic_base[i] != b->apic_base[i])
			len += snprintf(buf + len, n - len, " vcpu%d base", i);
		if (len >= n)
			return;
	}
	if (a->inhibits != b->inhibits)
		snprintf(buf + len, n - len, " inhibits");
}

/* Mask the timers, so that nothing changes between two snapshots. */
static void quiet_timers(struct private_vm *p)
{
	struct kvm_lapic_state s;
	uint32_t v;
	int i;

	for (i = 0; i < 2; i++) {
		if (ioctl(p->vcpu[i], KVM_GET_LAPIC, &s))
			continue;
		memcpy(&v, s.regs + APIC_LVTT, 4);
		v |= 1u << 16;
		memcpy(s.regs + APIC_LVTT, &v, 4);
		memset(s.regs + APIC_TMICT, 0, 4);
		ioctl(p->vcpu[i], KVM_SET_LAPIC, &s);
	}
}

static int private_vm_create(struct private_vm *p)
{
	int i;

	p->dev = open_dev();
	if (p->dev < 0)
		return -1;
	/*
	 * The threads' signals can interrupt KVM_CREATE_VM's MMU-notifier
	 * registration (EINTR, as on KVM): ask again, as a VMM would.
	 */
	do
		p->vm = vm_create_split(p->dev);
	while (p->vm < 0 && errno == EINTR);
	if (p->vm < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		p->vcpu[i] = vcpu_create(p->vm, i);
		if (p->vcpu[i] < 0)
			return -1;
	}
	return 0;
}

static void private_vm_destroy(struct private_vm *p)
{
	close(p->vcpu[0]);
	close(p->vcpu[1]);
	close(p->vm);
	close(p->dev);
}

/*
 * One ioctl on the private VM, mostly one that should fail: a bad pointer,
 * a struct cut by the guard page, or noise.
 */
static long check_one(struct thread *t, struct private_vm *p,
		      struct argbuf *ab, unsigned long *nrp, void **argp)
{
	const struct cmd *c;
	unsigned long nr = gen_nr(t, &c);
	int fd;
	void *arg;

	if (c->fd == sys_slot)
		fd = p->dev;
	else if (c->fd == vm_slot)
		fd = p->vm;
	else
		fd = p->vcpu[below(t, 2)];
	if (chance(t, 20))
		fd = (int)PICK(t, p->dev, p->vm, p->vcpu[0], p->vcpu[1]);
	*nrp = nr;
	*argp = NULL;
	if (arg_is_value(nr))
		return ioctl(fd, nr, value_arg(t, nr));
	arg = gen_arg(t, ab, nr, false);
	if (chance(t, 30))
		arg = bad_pointer(t);
	*argp = arg;
	return ioctl(fd, nr, arg);
}

static void *checker(void *arg)
{
	struct thread *t = arg;
	struct snapshot before, after;
	struct private_vm p;
	struct argbuf ab;
	unsigned long nr;
	char diff[256];
	void *argp;
	long r;
	int e;

	t->ktid = gettid();
	argbuf_init(&ab);
	if (private_vm_create(&p)) {
		pthread_mutex_lock(&msg_lock);
		snprintf(state_msg, sizeof(state_msg),
			 "%s: no private VM: %s", __func__, errno_name(errno));
		pthread_mutex_unlock(&msg_lock);
		atomic_store(&state_changed, 1);
		return NULL;
	}
	while (!atomic_load(&stop)) {
		progress(t);
		quiet_timers(&p);
		if (snap(&p, &before))
			continue;
		r = check_one(t, &p, &ab, &nr, &argp);
		e = errno;
		account(nr, r, e);
		if (r >= 0) {
			/*
			 * A new vCPU of the private VM must stay private:
			 * in a slot, a fuzzer would send it INITs and IPIs.
			 */
			if (r > 2 && makes_fd(nr))
				close(r);
			continue;
		}
		/*
		 * A KVM_RUN that fails may have run guest code first (a HLT,
		 * then memory it cannot map), as in KVM: not bad input.
		 */
		if (e == EINTR || nr == KVM_RUN || snap(&p, &after) ||
		    !memcmp(&before, &after, sizeof(before)))
			continue;
		snap_diff(&before, &after, diff, sizeof(diff));
		pthread_mutex_lock(&msg_lock);
		if (!atomic_load(&state_changed))
			snprintf(state_msg, sizeof(state_msg),
				 "ioctl 0x%lx failed with %s but changed:%s",
				 nr, errno_name(e), diff);
		pthread_mutex_unlock(&msg_lock);
		atomic_store(&state_changed, 1);
	}
	private_vm_destroy(&p);
	munmap(ab.base, 3 * PAGE);
	return NULL;
}

/* ---- the main thread ---- */

static void on_kick(int sig)
{
	(void)sig;
}

static long read_long(const char *path)
{
	long v = -1;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static long meminfo_kb(const char *key)
{
	char line[128];
	long v = -1;
	size_t n = strlen(key);
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

/* /proc/slabinfo: objects in use per cache, to name what grew. */
#define MAX_CACHES		400

struct slab_use {
	char name[48];
	long objs, size;
};

static int slab_read(struct slab_use *u)
{
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return 0;
	while (n < MAX_CACHES && fgets(line, sizeof(line), f))
		if (sscanf(line, "%47s %ld %*d %ld", u[n].name, &u[n].objs,
			   &u[n].size) == 3 && line[0] != '#')
			n++;
	fclose(f);
	return n;
}

/* Log the caches that grew by more than @min_kb. */
static void slab_log_growth(struct __test_metadata *_metadata,
			    const struct slab_use *a, int na,
			    const struct slab_use *b, int nb, long min_kb)
{
	int i, j;

	for (j = 0; j < nb; j++) {
		long before = 0, grow;

		for (i = 0; i < na; i++)
			if (!strcmp(a[i].name, b[j].name))
				before = a[i].objs;
		grow = (b[j].objs - before) * b[j].size / 1024;
		if (grow > min_kb)
			TH_LOG("  %-24s %+ld objects (%+ld kB)", b[j].name,
			       b[j].objs - before, grow);
	}
}

/* Print a thread's kernel stack: where it hangs. */
static void dump_stack_of(struct thread *t)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stack", t->ktid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "#   thread %d: %s", t->idx, line);
	fclose(f);
}

static unsigned long fuzz_seconds(void)
{
	const char *s = getenv("FUZZ_SECONDS");

	return s && *s ? strtoul(s, NULL, 0) : DEFAULT_SECONDS;
}

static void *(*const thread_fn[NR_THREADS])(void *) = {
	fuzzer, fuzzer, fuzzer, fuzzer, runner, runner, churn, checker,
};

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);

	if (fd >= 0) {
		if (write(fd, s, strlen(s)) < 0)
			perror(path);
		close(fd);
	}
}

/*
 * Settle before a measurement: RCU-freed objects (tasks of the forked
 * children) gone, then every slab cache shrunk, which flushes the per-CPU
 * slabs whose free objects /proc/slabinfo would count as in use.
 */
static void settle(void)
{
	char path[300];
	struct dirent *d;
	DIR *dir;

	sleep(1);
	write_file("/proc/sys/vm/drop_caches", "3");
	dir = opendir("/sys/kernel/slab");
	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink",
			 d->d_name);
		write_file(path, "1");
	}
	if (dir)
		closedir(dir);
}

/*
 * Close, and count, every lapicv file this process still has open once
 * the test closed all it knows of.  Each one is a leak of the test, not
 * of the module: it would hold a module reference (and its VM) until the
 * process exits, and the refcnt check would report it as the module's.
 */
static int close_leftover_fds(struct __test_metadata *_metadata)
{
	char path[64], target[256];
	struct dirent *d;
	int n = 0, fd;
	ssize_t len;
	DIR *dir;

	dir = opendir("/proc/self/fd");
	if (!dir)
		return 0;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		fd = atoi(d->d_name);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		len = readlink(path, target, sizeof(target) - 1);
		if (fd == dirfd(dir) || len < 0)
			continue;
		target[len] = '\0';
		if (strncmp(target, "anon_inode:lapicv", 17) &&
		    strcmp(target, dev_path()))
			continue;
		TH_LOG("fd %d (%s) still open: the test lost track of it",
		       fd, target);
		close(fd);
		n++;
	}
	closedir(dir);
	return n;
}

/* One small VM created and closed, so the caches the module uses exist. */
static void warm_up(void)
{
	struct private_vm p;

	if (!private_vm_create(&p))
		private_vm_destroy(&p);
}

FIXTURE(fuzz) {
};

FIXTURE_SETUP(fuzz)
{
}

FIXTURE_TEARDOWN(fuzz)
{
}

/* The harness's timeout is only a backstop: the test has its own watchdog. */
TEST_F_TIMEOUT(fuzz, ioctls, 7200)
{
	unsigned long secs = fuzz_seconds(), last[NR_THREADS] = { 0 };
	struct sigaction sa = { .sa_handler = on_kick };
	time_t start, stalled[NR_THREADS], now;
	long refcnt0, refcnt1, slab0, slab1;
	const char *s = getenv("FUZZ_SEED");
	static struct slab_use slab0_use[MAX_CACHES], slab1_use[MAX_CACHES];
	int i, j, e, nslab0, nslab1;
	bool hang = false;

	REQUIRE_LAPICV();
	seed = s && *s ? strtoull(s, NULL, 0) :
			 (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	TH_LOG("seed %#llx (FUZZ_SEED=%#llx to replay), %lu s, %d threads",
	       (unsigned long long)seed, (unsigned long long)seed, secs,
	       NR_THREADS);
	ASSERT_OK(ensure_nofile(SLOT_BASE + NR_SLOTS + 64));
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));

	scratch = mmap(NULL, SCRATCH_BYTES, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, scratch);
	guest_mem = scratch;
	ASSERT_EQ(0, mprotect(guest_mem, MEM_PAGES * PAGE,
			      PROT_READ | PROT_WRITE));
	/* A read-only page holding well-formed structs at 0, 256, 512, 768. */
	ro_page = scratch + RO_PAGE_OFFSET;
	ASSERT_EQ(0, mprotect(ro_page, PAGE, PROT_READ | PROT_WRITE));
	((struct lapicv_run *)(ro_page + 256))->rflags_if = 1;
	*(struct lapicv_guest_access *)(ro_page + 512) =
		(struct lapicv_guest_access){ .type = LAPICV_ACCESS_MMIO_WRITE,
					      .size = 4, .address = APIC_EOI };
	((struct kvm_msrs *)(ro_page + 768))->nmsrs = 1;
	((struct kvm_msrs *)(ro_page + 768))->entries[0].index = 0x1b;
	ASSERT_EQ(0, mprotect(ro_page, PAGE, PROT_READ));

	warm_up();
	settle();
	refcnt0 = read_long(REFCNT_PATH);
	slab0 = meminfo_kb("SUnreclaim");
	nslab0 = slab_read(slab0_use);

	for (i = 0; i < NR_SYS; i++)
		slot_install(i, open_dev());
	start = time(NULL);
	for (i = 0; i < NR_THREADS; i++) {
		threads[i].idx = i;
		threads[i].rng = seed + 0x9e3779b97f4a7c15ull * (i + 1);
		stalled[i] = start;
		ASSERT_EQ(0, pthread_create(&threads[i].tid, NULL, thread_fn[i],
					    &threads[i]));
	}

	/*
	 * Kick every thread often (a halted step ends with EINTR), and
	 * watch that each one gets on.
	 */
	while ((now = time(NULL)) - start < (time_t)secs && !hang) {
		for (i = 0; i < NR_THREADS; i++) {
			unsigned long p = atomic_load(&threads[i].progress);

			pthread_kill(threads[i].tid, SIGUSR1);
			if (p != last[i]) {
				last[i] = p;
				stalled[i] = now;
			} else if (now - stalled[i] > HANG_SECONDS) {
				TH_LOG("thread %d stuck for %d s", i,
				       HANG_SECONDS);
				dump_stack_of(&threads[i]);
				hang = true;
			}
		}
		usleep(20000);
	}
	atomic_store(&stop, true);
	ASSERT_FALSE(hang);
	/* Stop and join, still kicking, with fds closed under them. */
	for (i = 0; i < NR_SLOTS; i++)
		close(slot_fd(i));
	for (i = 0; i < NR_THREADS; i++) {
		time_t t0 = time(NULL);

		while (pthread_tryjoin_np(threads[i].tid, NULL)) {
			/* A halted runner may hold the vCPU thread i waits on. */
			for (j = i; j < NR_THREADS; j++)
				pthread_kill(threads[j].tid, SIGUSR1);
			usleep(10000);
			if (time(NULL) - t0 > HANG_SECONDS) {
				dump_stack_of(&threads[i]);
				ASSERT_TRUE(0) TH_LOG("thread %d never ended", i);
			}
		}
	}
	for (i = 0; i < NR_SLOTS; i++)
		close(slot_fd(i));

	TH_LOG("%lu ioctls succeeded, %lu failed; %lu VMs, %lu vCPUs made, %lu forks",
	       atomic_load(&ops_ok), atomic_load(&ops_failed),
	       atomic_load(&vms_made), atomic_load(&vcpus_made),
	       atomic_load(&forks));
	TH_LOG("%lu stats fds, %lu read", atomic_load(&stats_fds),
	       atomic_load(&stats_reads));
	for (e = 0; e < MAX_ERRNO_SEEN; e++)
		if (atomic_load(&errno_seen[e]))
			TH_LOG("  %-10s %lu", e ? errno_name(e) : "(>=600)",
			       atomic_load(&errno_seen[e]));

	e = atomic_load(&bad_errno);
	EXPECT_EQ(0, e) TH_LOG("ioctl 0x%lx: errno %d (%s) or return value %d",
			       atomic_load(&bad_errno_cmd), e, errno_name(e),
			       e);
	EXPECT_EQ(0, atomic_load(&state_changed)) TH_LOG("%s", state_msg);

	/*
	 * Everything closed: the module's objects are gone.  Each close
	 * above released its file before returning (the last fput of a
	 * thread's or a child's file runs before the thread is joined or the
	 * child reaped), so nothing is in flight; an fd the test lost track
	 * of is its own bug, reported here rather than as a module leak.
	 */
	EXPECT_EQ(0, close_leftover_fds(_metadata));
	settle();
	refcnt1 = read_long(REFCNT_PATH);
	slab1 = meminfo_kb("SUnreclaim");
	TH_LOG("module refcnt %ld -> %ld, SUnreclaim %ld -> %ld kB",
	       refcnt0, refcnt1, slab0, slab1);
	EXPECT_EQ(refcnt0, refcnt1);
	nslab1 = slab_read(slab1_use);
	slab_log_growth(_metadata, slab0_use, nslab0, slab1_use, nslab1, 64);
	EXPECT_LE(slab1 - slab0, LEAK_TOLERANCE_KB);
}

TEST_HARNESS_MAIN
