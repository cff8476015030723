// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested page tables for the SVM runner.
 *
 * One table tree per VM, shared by its vCPUs, with as many levels as the
 * host's own paging (5 with LA57, else 4): the CPU walks nested tables in
 * the host's paging mode.  Leaves are 4 KiB and map memslot memory only;
 * they are built lazily: a nested page fault inside a memslot of address
 * space 0 pins the VMM's page (pin_user_pages_fast() with FOLL_LONGTERM,
 * FOLL_WRITE unless the slot is read-only, from the vCPU thread, whose mm
 * is the VMM's) and installs a leaf to it.  A present leaf is exactly a
 * pinned page: the pin is dropped (the page marked dirty if the leaf was
 * writable) when the leaf goes, on memslot delete or move
 * (lapicv_memslot_unmap(), from vapic.c) and on VM destruction.  Pins
 * are accounted to the VMM in mm->pinned_vm ("VmPin" in /proc/PID/status);
 * table pages are charged to its memory cgroup.
 *
 * Leaves: P | RW (unless read-only) | US (nested walks are user accesses)
 * | A | D, PAT index 0, i.e. write-back through the host's PAT.
 *
 * Unmapping waits for the vCPUs: a vCPU in guest mode may still hold a
 * translation in its TLB, and every VMRUN flushes the TLB (svm.c), so
 * once each vCPU that was in guest mode has left it the pages are
 * unreachable and can be unpinned.  vCPUs hold npt.srcu for reading
 * across each VMRUN; the unmap clears the leaves, then waits with
 * synchronize_srcu(), then unpins.
 *
 * Lock card:
 *
 * lapicv_npt.lock
 *	:Type:     mutex
 *	:Protects: the tables, seq and pinned.
 *	:Order:    inside lapicv_vm.memslots_lock (vapic.c); nothing is
 *	           taken inside it but npt.srcu's grace period.
 *
 * lapicv_npt.srcu
 *	:Type:     SRCU
 *	:Readers:  a vCPU from just before VMRUN to just after #VMEXIT.
 *	:Writers:  synchronize_srcu() in an unmap, under lapicv_npt.lock:
 *	           no reader ever waits for the lock inside its section.
 *
 * lapicv_npt.seq
 *	A fault reads it before it looks up the memslot and installs its
 *	leaf only if it is unchanged under lock; an unmap bumps it under
 *	lock after the memslot is gone, so no leaf to a dead slot survives.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include <asm/io.h>
#include <asm/pgtable.h>

#include "lapicv.h"
#include "npt.h"
#include "vapic.h"

#define NPT_P		BIT_ULL(0)
#define NPT_RW		BIT_ULL(1)
#define NPT_US		BIT_ULL(2)
#define NPT_A		BIT_ULL(5)
#define NPT_D		BIT_ULL(6)
#define NPT_ADDR	GENMASK_ULL(51, 12)
#define NPT_TABLE	(NPT_P | NPT_RW | NPT_US | NPT_A)
#define NPT_ENTRIES	512

/* Pins dropped per grace period when a big range is unmapped. */
#define NPT_BATCH	(PAGE_SIZE / sizeof(struct page *))

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

int lapicv_npt_create(struct lapicv_vm *vm)
{
	struct lapicv_npt *npt;
	int r;

	npt = kzalloc(sizeof(*npt), GFP_KERNEL_ACCOUNT);
	if (!npt)
		return -ENOMEM;
	npt->root = npt_alloc_table();
	if (!npt->root) {
		kfree(npt);
		return -ENOMEM;
	}
	r = init_srcu_struct(&npt->srcu);
	if (r) {
		free_page((unsigned long)npt->root);
		kfree(npt);
		return r;
	}
	mutex_init(&npt->lock);
	npt->levels = pgtable_l5_enabled() ? 5 : 4;
	vm->npt = npt;
	return 0;
}

u64 lapicv_npt_root(struct lapicv_vm *vm)
{
	return __pa(vm->npt->root);
}

/* The leaf slot for @gpa, allocating tables on the way when @alloc. */
static u64 *npt_walk(struct lapicv_npt *npt, u64 gpa, bool alloc)
{
	u64 *table = npt->root;
	int level;

	lockdep_assert_held(&npt->lock);
	for (level = npt->levels; level > 1; level--) {
		u64 *e = &table[npt_index(gpa, level)];

		if (!(*e & NPT_P)) {
			u64 *next;

			if (!alloc)
				return NULL;
			next = npt_alloc_table();
			if (!next)
				return ERR_PTR(-ENOMEM);
			/* The CPU may walk it as soon as it is linked. */
			WRITE_ONCE(*e, __pa(next) | NPT_TABLE);
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

int lapicv_npt_read(struct lapicv_vm *vm, struct lapicv_npt_window *w,
		    u64 gpa, void *buf, unsigned int len)
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
			return -EFAULT;
	}
	if (w->size - (gpa - w->gpa) < len)
		return -EFAULT;
	return copy_from_user(buf, (void __user *)(w->hva + (gpa - w->gpa)),
			      len) ? -EFAULT : 0;
}

int lapicv_npt_fault(struct lapicv_vm *vm, u64 gpa, bool write)
{
	struct lapicv_npt *npt = vm->npt;
	struct lapicv_memslot *s;
	unsigned long seq, hva;
	struct page *page;
	bool readonly;
	u64 *leaf;
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

	mutex_lock(&npt->lock);
	seq = npt->seq;
	mutex_unlock(&npt->lock);

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

	r = pin_user_pages_fast(hva, 1, FOLL_LONGTERM | (readonly ? 0 : FOLL_WRITE),
				&page);
	/* KVM's answer for memory it cannot map: -EFAULT from KVM_RUN. */
	if (r != 1)
		return r == -ENOMEM || r == -EINTR ? r : -EFAULT;

	mutex_lock(&npt->lock);
	/* The slot went away meanwhile, or another vCPU mapped it. */
	if (seq != npt->seq)
		goto drop;
	leaf = npt_walk(npt, gpa, true);
	if (IS_ERR(leaf)) {
		mutex_unlock(&npt->lock);
		unpin_user_page(page);
		return PTR_ERR(leaf);
	}
	if (*leaf & NPT_P)
		goto drop;
	WRITE_ONCE(*leaf, page_to_phys(page) | NPT_P | NPT_US | NPT_A | NPT_D |
			  (readonly ? 0 : NPT_RW));
	npt->pinned++;
	atomic64_inc(&vm->mm->pinned_vm);
	mutex_unlock(&npt->lock);
	return LAPICV_NPT_MAPPED;

drop:
	mutex_unlock(&npt->lock);
	unpin_user_page(page);
	return LAPICV_NPT_MAPPED;
}

/* Pages whose leaves are gone, waiting for the vCPUs to leave the guest. */
struct npt_unpin {
	struct lapicv_vm *vm;
	struct page **pages;
	unsigned int n, max;
	struct page *one;
	/* The batch's pages were writable: the guest may have dirtied them. */
	bool dirty;
	/* Unmap: wait for the vCPUs first; destroy: none can run. */
	bool sync;
};

static void npt_unpin_flush(struct npt_unpin *u)
{
	struct lapicv_npt *npt = u->vm->npt;

	if (!u->n)
		return;
	if (u->sync)
		synchronize_srcu(&npt->srcu);
	unpin_user_pages_dirty_lock(u->pages, u->n, u->dirty);
	npt->pinned -= u->n;
	atomic64_sub(u->n, &u->vm->mm->pinned_vm);
	u->n = 0;
}

static void npt_unpin_add(struct npt_unpin *u, u64 pte)
{
	bool dirty = pte & NPT_RW;

	if (u->n == u->max || (u->n && dirty != u->dirty))
		npt_unpin_flush(u);
	u->dirty = dirty;
	u->pages[u->n++] = pfn_to_page((pte & NPT_ADDR) >> PAGE_SHIFT);
}

/*
 * Clear the leaves for [start, end) below @table (a table of @level that
 * maps from @base); free the tables below when @free_tables (destroy).
 */
static void npt_zap(struct npt_unpin *u, u64 *table, int level, u64 base,
		    u64 start, u64 end, bool free_tables)
{
	u64 span = npt_span(level);
	unsigned int i;

	for (i = 0; i < NPT_ENTRIES; i++) {
		u64 lo = base + i * span, e = table[i];

		if (lo >= end || lo + span <= start || !(e & NPT_P))
			continue;
		if (level == 1) {
			WRITE_ONCE(table[i], 0);
			npt_unpin_add(u, e);
			continue;
		}
		npt_zap(u, __va(e & NPT_ADDR), level - 1, lo, start, end,
			free_tables);
		if (free_tables) {
			WRITE_ONCE(table[i], 0);
			free_page((unsigned long)__va(e & NPT_ADDR));
		}
	}
}

static void npt_unpin_init(struct npt_unpin *u, struct lapicv_vm *vm,
			   bool sync)
{
	u->vm = vm;
	u->n = 0;
	u->sync = sync;
	u->pages = kmalloc(PAGE_SIZE, GFP_KERNEL);
	u->max = NPT_BATCH;
	if (!u->pages) {
		u->pages = &u->one;
		u->max = 1;
	}
}

static void npt_unpin_done(struct npt_unpin *u)
{
	npt_unpin_flush(u);
	if (u->pages != &u->one)
		kfree(u->pages);
}

void lapicv_memslot_unmap(struct lapicv_vm *vm,
			  const struct lapicv_memslot *old)
{
	struct lapicv_npt *npt = vm->npt;
	struct npt_unpin u;

	if (!npt || (old->slot >> 16))
		return;
	npt_unpin_init(&u, vm, true);
	mutex_lock(&npt->lock);
	npt->seq++;
	npt_zap(&u, npt->root, npt->levels, 0, old->gpa, old->gpa + old->size,
		false);
	npt_unpin_done(&u);
	mutex_unlock(&npt->lock);
}

void lapicv_npt_destroy(struct lapicv_vm *vm)
{
	struct lapicv_npt *npt = vm->npt;
	struct npt_unpin u;

	if (!npt)
		return;
	npt_unpin_init(&u, vm, false);
	mutex_lock(&npt->lock);
	npt_zap(&u, npt->root, npt->levels, 0, 0,
		npt_span(npt->levels + 1), true);
	npt_unpin_done(&u);
	mutex_unlock(&npt->lock);
	WARN_ON_ONCE(npt->pinned);
	cleanup_srcu_struct(&npt->srcu);
	free_page((unsigned long)npt->root);
	kfree(npt);
	vm->npt = NULL;
}
