// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested page tables for the SVM runner, kept in step with the VMM's own
 * mappings by an MMU notifier.
 *
 * One table tree per VM, shared by its vCPUs, with as many levels as the
 * host's own paging (5 with LA57, else 4): the CPU walks nested tables in
 * the host's paging mode.  Leaves are 4 KiB and map memslot memory only;
 * they are built lazily: a nested page fault inside a memslot of address
 * space 0 looks the VMM's page up (from the vCPU thread, whose mm is the
 * VMM's) as KVM's hva_to_pfn() does, installs a leaf to it and drops the
 * page reference again.  A write fault asks for write access; a read
 * fault does not, and maps the page writable only if the VMM's mapping
 * already is (the fast-only GUP with FOLL_WRITE succeeds), so a read of
 * untouched memory maps the zero page and a PROT_READ page of a writable
 * slot can be read.  A later write fault to the same page makes the leaf
 * writable; one to another page (after a COW) finds the leaf zapped by
 * the notifier first.
 *
 * No page is pinned and none is accounted in mm->pinned_vm, as in KVM: a
 * leaf is a secondary mapping of a page the VMM maps at the memslot's
 * address, and it lives no longer than that mapping.  The VM registers an
 * MMU notifier on the VMM's mm at KVM_CREATE_VM; before the kernel
 * changes or drops any page table entry of the VMM (munmap, mmap
 * MAP_FIXED, mremap, madvise, mprotect, fork's COW, reclaim, migration,
 * compaction, KSM, NUMA balancing) invalidate_range_start() clears the
 * leaves of every memslot whose addresses overlap the range and flushes
 * the guests' TLBs before it returns.  A deleted or moved memslot does
 * the same for its guest-physical range (lapicv_memslot_unmap_begin()
 * and _end() around vapic.c's xarray change).  A zap that may sleep
 * (blockable notifier calls, memslot changes, release) lets the lock and
 * the CPU go when asked, as KVM's tdp_mmu_iter_cond_resched(): it
 * flushes what it cleared before it drops the lock, since another zap
 * finding those leaves cleared would not flush and its pages could be
 * freed, and looks the memslots up again afterwards.
 *
 * Aging: clear_flush_young, clear_young and test_young test (and clear)
 * the A bits of the leaves, as KVM's kvm_age_gfn() and
 * kvm_test_age_gfn() on NPT; only clear_flush_young flushes (KVM 6.12).
 * Without a flush a vCPU may keep using a cached translation, and not
 * set A again, until its next TLB flush or ASID change: ageing then sees
 * fewer accesses, as with KVM; reclaim's unmap still zaps and flushes.
 *
 * The flush (KVM's kvm_flush_remote_tlbs(): a request to every vCPU, and
 * a kick of those in guest mode): npt_flush() bumps the VM's flush count
 * tlb_gen after clearing the leaves, and every vCPU's entry compares the
 * count with the last one it served and flushes its TLB if it moved
 * (svm/svm.c), so no VMRUN after the bump uses a translation of the
 * cleared leaves.  Then it reads every vCPU's guest_cpu (full barrier,
 * paired with the smp_store_mb() svm.c does before it reads the count:
 * either the vCPU's entry sees the new count or this sees its CPU) and
 * sends those CPUs a function-call IPI with wait: the IPI makes the
 * guest exit, and its handler runs there only with interrupts on, i.e.
 * after #VMEXIT, so the wait ends when no vCPU that was in guest mode is
 * still there.  It spins, never sleeps: it serves the notifier's
 * non-blockable calls too.
 *
 * Faults race with invalidations as KVM's do (mmu_invalidate_seq,
 * mmu_invalidate_in_progress): a fault reads seq before it looks the
 * memslot and the page up, and under lock installs its leaf only if seq
 * is unchanged and no invalidation in progress covers its address;
 * otherwise it drops the page and the guest faults again.  An
 * invalidation counts itself in (invalidating, with the union of the
 * ranges in progress) at start and bumps seq as it leaves at end; a
 * memslot change counts as an invalidation of every address while the
 * xarray changes.  The check is on the VMM's address, not the guest's,
 * so a notifier call racing with a memslot change holds: it finds the
 * leaves through the memslots it sees, and a memslot it cannot see any
 * more has none.
 *
 * Dirty and accessed: a writable leaf exists only while the VMM's entry
 * is writable; the page is marked dirty (and accessed) when a writable
 * leaf is installed or a leaf made writable, and again when it is
 * cleared, so reclaim, MADV_FREE and writeback never drop what the
 * guest wrote (KVM's kvm_release_page_dirty() and kvm_set_pfn_dirty()).
 * The VMM's page-table entry is still there at both points, so the page
 * is.
 *
 * Leaves: P | US (nested walks are user accesses) | A, and RW | D when
 * writable, PAT index 0, i.e. write-back through the host's PAT.  Tables
 * are freed only with the VM, after the notifier is gone.
 *
 * Lock card:
 *
 * lapicv_npt.lock
 *	:Type:     spinlock (KVM's mmu_lock), taken with interrupts on.
 *	:Protects: the tables, seq, invalidating and its range, kick;
 *	           tlb_gen's writes (vCPU entries read it without it).
 *	:Order:    inside lapicv_vm.memslots_lock (vapic.c), never across
 *	           its xarray change, and inside the mm's notifier calls
 *	           (mmap_lock, i_mmap_rwsem, page locks, the page-table lock
 *	           of the aging calls, reclaim); nothing is taken inside it.
 *	           Held across the flush's IPIs and their wait, which is
 *	           safe because no CPU ever waits for it (or a page-table
 *	           lock) with interrupts off.  A zap that may sleep drops it
 *	           to reschedule, after flushing.  Nothing allocates
 *	           under it (a fault allocates a missing table before it
 *	           takes the lock, and looks the page up before it too),
 *	           so reclaim or a COW break, which call the notifier,
 *	           never wait on it from inside its holder.  vm.c
 *	           destroys the tables and the notifier before the vCPUs,
 *	           which the flush reads.
 *
 * lapicv_npt.seq, lapicv_npt.invalidating
 *	:Written:  under lock, by the notifier and memslot changes.
 *	:Read:     seq once without the lock at the start of a fault, both
 *	           under it before a leaf is installed.
 */
#include <linux/cpumask.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/swap.h>
#include <linux/xarray.h>

#include <asm/io.h>
#include <asm/pgtable.h>

#include "lapicv.h"
#include "npt.h"
#include "vapic.h"

#if !IS_ENABLED(CONFIG_MMU_NOTIFIER)
#error "lapicv's runner needs CONFIG_MMU_NOTIFIER (as KVM does)"
#endif

#define NPT_P		BIT_ULL(0)
#define NPT_RW		BIT_ULL(1)
#define NPT_US		BIT_ULL(2)
#define NPT_A_BIT	5
#define NPT_A		BIT_ULL(NPT_A_BIT)
#define NPT_D		BIT_ULL(6)
#define NPT_ADDR	GENMASK_ULL(51, 12)
#define NPT_TABLE	(NPT_P | NPT_RW | NPT_US | NPT_A)
#define NPT_ENTRIES	512

static unsigned int npt_index(u64 gpa, int level)
{
	return (gpa >> (PAGE_SHIFT + 9 * (level - 1))) & (NPT_ENTRIES - 1);
}

static u64 npt_span(int level)
{
	return 1ULL << (PAGE_SHIFT + 9 * (level - 1));
}

static u64 *npt_alloc_table(void)
{
	return (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
}

/* KVM's kvm_set_page_dirty(): reserved pages belong to their owner. */
static void npt_page_dirty(struct page *page)
{
	if (!PageReserved(page))
		SetPageDirty(page);
}

/* ---- the flush ---- */

static void npt_flush_ack(void *unused)
{
}

/*
 * Make every vCPU of the VM that is in guest mode leave it, and wait
 * until it has; see the comment at the top.  Never sleeps.
 */
static void npt_flush(struct lapicv_npt *npt)
{
	struct lapicv_vcpu *vcpu;
	unsigned long idx;
	int cpu;

	lockdep_assert_held(&npt->lock);
	cpumask_clear(npt->kick);
	WRITE_ONCE(npt->tlb_gen, npt->tlb_gen + 1);
	/* The cleared leaves and the count before the look at guest_cpu. */
	smp_mb();
	/*
	 * Every entry, not only the online ones: a vCPU's fd exists, and
	 * KVM_RUN can enter it, before online_vcpus counts it.  An entry
	 * whose fd could not be made is freed only after a grace period
	 * (vm.c), so RCU keeps it readable here.
	 */
	rcu_read_lock();
	xa_for_each(&npt->vm->vcpus, idx, vcpu) {
		cpu = READ_ONCE(vcpu->guest_cpu);
		if (cpu >= 0)
			__cpumask_set_cpu(cpu, npt->kick);
	}
	rcu_read_unlock();
	/*
	 * Interrupts are on, so the call may wait; preemption off for it
	 * (a spinlock_t does not turn it off on PREEMPT_RT).
	 */
	preempt_disable();
	smp_call_function_many(npt->kick, npt_flush_ack, NULL, true);
	preempt_enable();
}

/* ---- zapping ---- */

/*
 * One zap, possibly over several ranges and with breaks: [start, end) is
 * the range being cleared, from where the current pass began.  pending
 * counts the leaves cleared since the last flush; a zap that may yield
 * flushes them before it drops the lock (KVM's
 * tdp_mmu_iter_cond_resched()): another zap of the same leaves finds them
 * cleared and does not flush, and the pages of those leaves may be freed
 * as soon as that one returns.
 */
struct npt_zap {
	u64 start, end, from;
	unsigned long pending;
	bool may_yield;
};

/*
 * Clear the leaves of [z->start, z->end) below @table (a table of
 * @level that maps from @base).  True if it stopped to let the lock go:
 * z->start is then where to go on.  It stops only past z->from, so each
 * pass clears at least one entry's worth.
 */
static bool npt_zap_table(struct lapicv_npt *npt, u64 *table, int level,
			  u64 base, struct npt_zap *z)
{
	u64 span = npt_span(level);
	unsigned int i;

	for (i = 0; i < NPT_ENTRIES; i++) {
		u64 lo = base + i * span, e = table[i];

		if (lo >= z->end || lo + span <= z->start)
			continue;
		if (z->may_yield && lo > z->from &&
		    (need_resched() || spin_needbreak(&npt->lock))) {
			z->start = lo;
			return true;
		}
		if (!(e & NPT_P))
			continue;
		if (level > 1) {
			if (npt_zap_table(npt, __va(e & NPT_ADDR), level - 1,
					  lo, z))
				return true;
			continue;
		}
		WRITE_ONCE(table[i], 0);
		if (e & NPT_RW)
			npt_page_dirty(pfn_to_page((e & NPT_ADDR) >> PAGE_SHIFT));
		z->pending++;
	}
	return false;
}

/*
 * Clear the leaves for guest-physical [start, end); with z->may_yield,
 * let the lock and the CPU go when someone waits for them, flushing
 * first.  The caller flushes what is left pending.
 */
static void npt_zap_gpa(struct lapicv_npt *npt, struct npt_zap *z, u64 start,
			u64 end)
{
	lockdep_assert_held(&npt->lock);
	z->start = start;
	z->end = end;
	for (;;) {
		z->from = z->start;
		if (!npt_zap_table(npt, npt->root, npt->levels, 0, z))
			return;
		if (z->pending) {
			npt_flush(npt);
			z->pending = 0;
		}
		spin_unlock(&npt->lock);
		cond_resched();
		spin_lock(&npt->lock);
	}
}

/*
 * The guest-physical range of slot @*idx or the next one of address
 * space 0 that maps VMM addresses in [start, end): false when there is
 * none.  Copied out under RCU, so that the zap may yield in between: a
 * slot deleted meanwhile has been zapped by its own change, and one added
 * has no leaf in [start, end) while the caller's invalidation is counted.
 */
static bool npt_next_slot(struct lapicv_npt *npt, unsigned long *idx,
			  unsigned long start, unsigned long end,
			  u64 *gstart, u64 *gend)
{
	struct lapicv_memslot *s;
	bool found = false;

	rcu_read_lock();
	xa_for_each_range(&npt->vm->memslots, *idx, s, *idx, 0xffff) {
		u64 lo = max_t(u64, start, s->hva);
		u64 hi = min_t(u64, end, s->hva + s->size);

		if (lo < hi) {
			*gstart = s->gpa + (lo - s->hva);
			*gend = s->gpa + (hi - s->hva);
			found = true;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/* The leaves of every memslot mapping VMM addresses in [start, end). */
static void npt_zap_hva(struct lapicv_npt *npt, struct npt_zap *z,
			unsigned long start, unsigned long end)
{
	unsigned long idx = 0;
	u64 lo, hi;

	while (idx <= 0xffff && npt_next_slot(npt, &idx, start, end, &lo, &hi)) {
		npt_zap_gpa(npt, z, lo, hi);
		idx++;
	}
}

/* ---- invalidations: the MMU notifier's and memslot changes ---- */

/* Faults for VMM addresses in [start, end) retry until npt_inval_end(). */
static void npt_inval_begin(struct lapicv_npt *npt, unsigned long start,
			    unsigned long end)
{
	lockdep_assert_held(&npt->lock);
	if (!npt->invalidating++) {
		npt->inv_start = start;
		npt->inv_end = end;
	} else {
		npt->inv_start = min(npt->inv_start, start);
		npt->inv_end = max(npt->inv_end, end);
	}
}

/* A fault that began before this retries (seq moved). */
static void npt_inval_end(struct lapicv_npt *npt)
{
	lockdep_assert_held(&npt->lock);
	npt->seq++;
	npt->invalidating--;
}

static struct lapicv_npt *mn_to_npt(struct mmu_notifier *mn)
{
	return container_of(mn, struct lapicv_npt, mn);
}

/*
 * A spinlock, a walk and a flush that spins; a blockable call also lets
 * the lock and the CPU go in a large zap, as KVM's does.  Never fails:
 * KVM's does not either.
 */
static int npt_invalidate_range_start(struct mmu_notifier *mn,
				      const struct mmu_notifier_range *range)
{
	struct lapicv_npt *npt = mn_to_npt(mn);
	struct npt_zap z = {
		.may_yield = mmu_notifier_range_blockable(range),
	};

	spin_lock(&npt->lock);
	npt_inval_begin(npt, range->start, range->end);
	npt_zap_hva(npt, &z, range->start, range->end);
	if (z.pending)
		npt_flush(npt);
	spin_unlock(&npt->lock);
	return 0;
}

static void npt_invalidate_range_end(struct mmu_notifier *mn,
				     const struct mmu_notifier_range *range)
{
	struct lapicv_npt *npt = mn_to_npt(mn);

	spin_lock(&npt->lock);
	npt_inval_end(npt);
	spin_unlock(&npt->lock);
}

/*
 * The mm is going away (exit_mmap) or the VM is: no leaf may stay.  An
 * invalidation of every address, so that the zap may yield.
 */
static void npt_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct lapicv_npt *npt = mn_to_npt(mn);
	struct npt_zap z = { .may_yield = true };

	spin_lock(&npt->lock);
	npt_inval_begin(npt, 0, ULONG_MAX);
	npt_zap_gpa(npt, &z, 0, npt_span(npt->levels + 1));
	if (z.pending)
		npt_flush(npt);
	npt_inval_end(npt);
	spin_unlock(&npt->lock);
}

/* ---- aging: the accessed bits of the leaves ---- */

/*
 * Test, or test and clear, the A bits of the leaves for guest-physical
 * [start, end) below @table (a table of @level that maps from @base); the
 * number found set.  The CPU sets A and D with locked operations, so the
 * clear is one too (KVM's tdp_mmu_clear_spte_bits()).
 */
static unsigned long npt_age_table(u64 *table, int level, u64 base,
				   u64 start, u64 end, bool clear)
{
	u64 span = npt_span(level);
	unsigned long n = 0;
	unsigned int i;

	for (i = 0; i < NPT_ENTRIES; i++) {
		u64 lo = base + i * span, e = READ_ONCE(table[i]);

		if (lo >= end || lo + span <= start || !(e & NPT_P))
			continue;
		if (level > 1)
			n += npt_age_table(__va(e & NPT_ADDR), level - 1, lo,
					   start, end, clear);
		else if (e & NPT_A)
			n += clear ? test_and_clear_bit(NPT_A_BIT,
							(unsigned long *)&table[i]) :
				     1;
	}
	return n;
}

/*
 * KVM's kvm_age_gfn() and kvm_test_age_gfn() over the memslots that map
 * VMM addresses in [start, end), under the lock as KVM's (mmu_lock):
 * whether the guest accessed any of their pages since the last clear.
 * Called with the VMM's page-table lock held (rmap walks): spins only.
 */
static int npt_age_hva(struct lapicv_npt *npt, unsigned long start,
		       unsigned long end, bool clear, bool flush)
{
	unsigned long idx = 0, n = 0;
	u64 lo, hi;

	spin_lock(&npt->lock);
	while (idx <= 0xffff && npt_next_slot(npt, &idx, start, end, &lo, &hi)) {
		n += npt_age_table(npt->root, npt->levels, 0, lo, hi, clear);
		idx++;
	}
	/* A guest in guest mode may hold the translation with A set. */
	if (n && flush)
		npt_flush(npt);
	spin_unlock(&npt->lock);
	return !!n;
}

/* Reclaim's rmap walk (folio_referenced()): clear, and flush as KVM 6.12. */
static int npt_clear_flush_young(struct mmu_notifier *mn,
				 struct mm_struct *mm, unsigned long start,
				 unsigned long end)
{
	return npt_age_hva(mn_to_npt(mn), start, end, true, true);
}

/*
 * Idle tracking and MGLRU: clear without a flush, as KVM; a vCPU may
 * still use a cached translation until its next TLB flush or ASID change.
 */
static int npt_clear_young(struct mmu_notifier *mn, struct mm_struct *mm,
			   unsigned long start, unsigned long end)
{
	return npt_age_hva(mn_to_npt(mn), start, end, true, false);
}

static int npt_test_young(struct mmu_notifier *mn, struct mm_struct *mm,
			  unsigned long address)
{
	return npt_age_hva(mn_to_npt(mn), address, address + 1, false, false);
}

static const struct mmu_notifier_ops npt_mn_ops = {
	.invalidate_range_start	= npt_invalidate_range_start,
	.invalidate_range_end	= npt_invalidate_range_end,
	.clear_flush_young	= npt_clear_flush_young,
	.clear_young		= npt_clear_young,
	.test_young		= npt_test_young,
	.release		= npt_release,
};

/* ---- the VM's tables ---- */

int lapicv_npt_create(struct lapicv_vm *vm)
{
	struct lapicv_npt *npt;
	int r = -ENOMEM;

	npt = kzalloc(sizeof(*npt), GFP_KERNEL_ACCOUNT);
	if (!npt)
		return -ENOMEM;
	npt->root = npt_alloc_table();
	if (!npt->root || !zalloc_cpumask_var(&npt->kick, GFP_KERNEL_ACCOUNT))
		goto fail;
	spin_lock_init(&npt->lock);
	npt->levels = pgtable_l5_enabled() ? 5 : 4;
	npt->vm = vm;
	npt->mn.ops = &npt_mn_ops;
	/* The VMM's mm: vm.c creates the VM from its thread. */
	r = mmu_notifier_register(&npt->mn, vm->mm);
	if (r) {
		free_cpumask_var(npt->kick);
		goto fail;
	}
	vm->npt = npt;
	return 0;

fail:
	free_page((unsigned long)npt->root);
	kfree(npt);
	return r;
}

u64 lapicv_npt_root(struct lapicv_vm *vm)
{
	return __pa(vm->npt->root);
}

const unsigned long *lapicv_npt_tlb_gen(struct lapicv_vm *vm)
{
	return &vm->npt->tlb_gen;
}

static void npt_free_tables(u64 *table, int level)
{
	unsigned int i;

	for (i = 0; level > 2 && i < NPT_ENTRIES; i++)
		if (table[i] & NPT_P)
			npt_free_tables(__va(table[i] & NPT_ADDR), level - 1);
	for (i = 0; level > 1 && i < NPT_ENTRIES; i++)
		if (table[i] & NPT_P)
			free_page((unsigned long)__va(table[i] & NPT_ADDR));
}

void lapicv_npt_destroy(struct lapicv_vm *vm)
{
	struct lapicv_npt *npt = vm->npt;

	if (!npt)
		return;
	/*
	 * Calls npt_release() if the mm still has users, and waits for
	 * every notifier call in flight; vm.c still holds the mm (mmgrab).
	 */
	mmu_notifier_unregister(&npt->mn, vm->mm);
	npt_free_tables(npt->root, npt->levels);
	free_page((unsigned long)npt->root);
	free_cpumask_var(npt->kick);
	kfree(npt);
	vm->npt = NULL;
}

/*
 * The leaf slot for @gpa; NULL if a table is missing and @spare (a
 * zeroed page, consumed) is NULL.
 */
static u64 *npt_walk(struct lapicv_npt *npt, u64 gpa, u64 **spare)
{
	u64 *table = npt->root;
	int level;

	lockdep_assert_held(&npt->lock);
	for (level = npt->levels; level > 1; level--) {
		u64 *e = &table[npt_index(gpa, level)];

		if (!(*e & NPT_P)) {
			if (!*spare)
				return NULL;
			/* The CPU may walk it as soon as it is linked. */
			WRITE_ONCE(*e, __pa(*spare) | NPT_TABLE);
			*spare = NULL;
		}
		table = __va(*e & NPT_ADDR);
	}
	return &table[npt_index(gpa, 1)];
}

/* The memslot of address space 0 holding @gpa, or NULL; under RCU. */
static struct lapicv_memslot *npt_find_slot(struct lapicv_vm *vm, u64 gpa)
{
	struct lapicv_memslot *s;
	unsigned long idx;

	xa_for_each_range(&vm->memslots, idx, s, 0, 0xffff)
		if (gpa >= s->gpa && gpa - s->gpa < s->size)
			return s;
	return NULL;
}

/* The VMM's address of @len bytes at @gpa in @w's slot, or 0. */
static unsigned long npt_window_hva(struct lapicv_vm *vm,
				    struct lapicv_npt_window *w, u64 gpa,
				    unsigned int len)
{
	struct lapicv_memslot *s;

	if (!w->size || gpa < w->gpa || gpa - w->gpa >= w->size) {
		rcu_read_lock();
		s = npt_find_slot(vm, gpa);
		if (s) {
			w->gpa = s->gpa;
			w->size = s->size;
			w->hva = s->hva;
		}
		rcu_read_unlock();
		if (!s)
			return 0;
	}
	if (w->size - (gpa - w->gpa) < len)
		return 0;
	return w->hva + (gpa - w->gpa);
}

int lapicv_npt_read(struct lapicv_vm *vm, struct lapicv_npt_window *w,
		    u64 gpa, void *buf, unsigned int len)
{
	unsigned long hva = npt_window_hva(vm, w, gpa, len);

	if (!hva)
		return -EFAULT;
	return copy_from_user(buf, (void __user *)hva, len) ? -EFAULT : 0;
}

int lapicv_npt_write(struct lapicv_vm *vm, struct lapicv_npt_window *w,
		     u64 gpa, const void *buf, unsigned int len)
{
	unsigned long hva = npt_window_hva(vm, w, gpa, len);

	if (!hva)
		return -EFAULT;
	return copy_to_user((void __user *)hva, buf, len) ? -EFAULT : 0;
}

/* KVM's mmu_invalidate_retry_gfn(), on the VMM's address. */
static bool npt_stale(struct lapicv_npt *npt, unsigned long hva,
		      unsigned long seq)
{
	lockdep_assert_held(&npt->lock);
	if (npt->invalidating && hva >= npt->inv_start && hva < npt->inv_end)
		return true;
	return npt->seq != seq;
}

/*
 * KVM's hva_to_pfn(): the VMM's page at @hva, for writing if @write, and
 * else writable (*@writable) only if it is so already (no COW break, no
 * allocation, no fault for writing): a read of untouched anonymous memory
 * maps the zero page, and memory the VMM maps read-only in a writable
 * memslot can still be read.  0 with a page reference, or -errno.
 */
static int npt_get_page(unsigned long hva, bool write, bool may_write,
			struct page **page, bool *writable)
{
	struct page *wpage;
	int r;

	*writable = write;
	if ((write || may_write) &&
	    get_user_page_fast_only(hva, FOLL_WRITE, page)) {
		*writable = true;
		return 0;
	}
	r = get_user_pages_fast(hva, 1, write ? FOLL_WRITE : 0, page);
	/* KVM's answer for memory it cannot map: -EFAULT from KVM_RUN. */
	if (r != 1)
		return r == -ENOMEM || r == -EINTR ? r : -EFAULT;
	if (!write && may_write &&
	    get_user_page_fast_only(hva, FOLL_WRITE, &wpage)) {
		put_page(*page);
		*page = wpage;
		*writable = true;
	}
	return 0;
}

/*
 * The leaf @old gives way to @new: when it is empty, or when it maps the
 * same page read-only and @new writable (a write fault after a read
 * fault: KVM replaces the SPTE).  Removing a permission or changing the
 * page is the notifier's job, which zaps first.
 */
static bool npt_leaf_replaces(u64 old, u64 new)
{
	if (!(old & NPT_P))
		return true;
	return (new & NPT_RW) && !(old & NPT_RW) &&
	       (old & NPT_ADDR) == (new & NPT_ADDR);
}

int lapicv_npt_fault(struct lapicv_vm *vm, u64 gpa, bool write)
{
	struct lapicv_npt *npt = vm->npt;
	struct lapicv_memslot *s;
	unsigned long seq, hva;
	struct page *page;
	u64 *spare = NULL;
	bool readonly, writable, mapped = false;
	u64 *leaf, new;
	int r;

	/* Beyond what the tables can map: no memslot can be there. */
	if (gpa >> (PAGE_SHIFT + 9 * npt->levels))
		return LAPICV_NPT_NO_SLOT;
	/*
	 * No slot (MMIO, the APIC page): said without the lock, which only
	 * orders a mapping against a change of the slots.
	 */
	rcu_read_lock();
	s = npt_find_slot(vm, gpa);
	rcu_read_unlock();
	if (!s)
		return LAPICV_NPT_NO_SLOT;

	seq = READ_ONCE(npt->seq);
	/*
	 * seq before the memslot and the VMM's page table: a change that
	 * this lookup misses bumps seq (under lock) after it, and the check
	 * under lock below sees that.
	 */
	smp_rmb();

	rcu_read_lock();
	s = npt_find_slot(vm, gpa);
	if (!s) {
		rcu_read_unlock();
		return LAPICV_NPT_NO_SLOT;
	}
	readonly = s->flags & KVM_MEM_READONLY;
	hva = s->hva + ((gpa & PAGE_MASK) - s->gpa);
	rcu_read_unlock();
	if (readonly && write)
		return LAPICV_NPT_READONLY;

	r = npt_get_page(hva, write, !readonly, &page, &writable);
	if (r)
		return r;
	new = page_to_phys(page) | NPT_P | NPT_US | NPT_A |
	      (writable ? NPT_RW | NPT_D : 0);

	for (;;) {
		spin_lock(&npt->lock);
		/* Invalidated meanwhile: the guest faults again. */
		if (npt_stale(npt, hva, seq))
			break;
		leaf = npt_walk(npt, gpa, &spare);
		if (leaf) {
			/* Another vCPU may have mapped it first. */
			if (npt_leaf_replaces(*leaf, new)) {
				WRITE_ONCE(*leaf, new);
				mapped = true;
			}
			break;
		}
		/* A table is missing: allocate it outside the lock. */
		spin_unlock(&npt->lock);
		spare = npt_alloc_table();
		if (!spare) {
			put_page(page);
			return -ENOMEM;
		}
	}
	spin_unlock(&npt->lock);

	if (spare)
		free_page((unsigned long)spare);
	/* KVM's kvm_release_page_dirty(): reserved pages are their owner's. */
	if (mapped && !PageReserved(page)) {
		if (writable)
			SetPageDirty(page);
		mark_page_accessed(page);
	}
	put_page(page);
	return LAPICV_NPT_MAPPED;
}

/*
 * A memslot change is an invalidation of every VMM address for faults:
 * from begin, which zaps @old's range while the notifier can still find
 * @old, to end, after the memslot xarray no longer has it, no leaf is
 * installed, so no leaf of @old's range exists that the notifier could
 * miss once @old is gone from the xarray.
 */
void lapicv_memslot_unmap_begin(struct lapicv_vm *vm,
				const struct lapicv_memslot *old)
{
	struct lapicv_npt *npt = vm->npt;
	/* From the ioctl, under memslots_lock (a mutex): may yield. */
	struct npt_zap z = { .may_yield = true };

	if (!npt || (old->slot >> 16))
		return;
	spin_lock(&npt->lock);
	npt_inval_begin(npt, 0, ULONG_MAX);
	npt_zap_gpa(npt, &z, old->gpa, old->gpa + old->size);
	if (z.pending)
		npt_flush(npt);
	spin_unlock(&npt->lock);
}

void lapicv_memslot_unmap_end(struct lapicv_vm *vm,
			      const struct lapicv_memslot *old)
{
	struct lapicv_npt *npt = vm->npt;

	if (!npt || (old->slot >> 16))
		return;
	spin_lock(&npt->lock);
	npt_inval_end(npt);
	spin_unlock(&npt->lock);
}
