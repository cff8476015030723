/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * shim/xarray.h: the part of <linux/xarray.h> lapicv uses.
 *
 * A sorted array of (index, entry) pairs behind a private pthread mutex,
 * so every operation is atomic with respect to the others; xa_load() takes
 * that mutex where the kernel's walks the tree under RCU, which changes
 * nothing a caller can see.  xa_lock() is a separate shim spinlock, held
 * by callers of the __xa_*() forms as in the kernel (asserted here).
 * Values and marks (xa_mk_value(), XA_MARK_*) are not emulated.
 */
#ifndef _UNIT_SHIM_XARRAY_H
#define _UNIT_SHIM_XARRAY_H

struct xarray {
	spinlock_t xa_lock;
	pthread_mutex_t ilock;	/* the shim's own: guards the arrays below */
	unsigned int flags;
	unsigned int nr, cap;
	unsigned long *idx;
	void **ent;
	u32 next_alloc;
};

#define XA_FLAGS_ALLOC		1U
#define XA_FLAGS_ALLOC1		3U
#define XA_FLAGS_LOCK_IRQ	0U
#define XA_PRESENT		0U

struct xa_limit { u32 min, max; };
#define XA_LIMIT(lo, hi)	((struct xa_limit){ .min = (lo), .max = (hi) })
#define xa_limit_32b		XA_LIMIT(0, U32_MAX)
#define xa_limit_31b		XA_LIMIT(0, INT_MAX)

#define DEFINE_XARRAY(n)						\
	struct xarray n = { .xa_lock = __SPIN_LOCK_UNLOCKED(n.xa_lock), \
			    .ilock = PTHREAD_MUTEX_INITIALIZER }

void xa_init_flags(struct xarray *xa, unsigned int flags);
#define xa_init(xa)		xa_init_flags(xa, 0)
void xa_destroy(struct xarray *xa);
void *xa_load(struct xarray *xa, unsigned long index);
void *xa_store(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp);
void *__xa_store(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp);
int xa_insert(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp);
int __xa_insert(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp);
void *xa_erase(struct xarray *xa, unsigned long index);
void *__xa_erase(struct xarray *xa, unsigned long index);
int xa_alloc(struct xarray *xa, u32 *id, void *entry, struct xa_limit limit,
	     gfp_t gfp);
bool xa_empty(struct xarray *xa);
/* The first entry at an index in [*index, max]; *index is updated. */
void *xa_find(struct xarray *xa, unsigned long *index, unsigned long max,
	      unsigned int filter);
/* The same, strictly after *index. */
void *xa_find_after(struct xarray *xa, unsigned long *index,
		    unsigned long max, unsigned int filter);

#define xa_for_each_range(xa, index, entry, start, last)		\
	for ((index) = (start),						\
	     (entry) = xa_find(xa, &(index), last, XA_PRESENT);		\
	     (entry);							\
	     (entry) = xa_find_after(xa, &(index), last, XA_PRESENT))
#define xa_for_each_start(xa, index, entry, start)			\
	xa_for_each_range(xa, index, entry, start, ULONG_MAX)
#define xa_for_each(xa, index, entry)					\
	xa_for_each_start(xa, index, entry, 0)

#define xa_lock(xa)		spin_lock(&(xa)->xa_lock)
#define xa_unlock(xa)		spin_unlock(&(xa)->xa_lock)
#define xa_lock_irq(xa)		spin_lock_irq(&(xa)->xa_lock)
#define xa_unlock_irq(xa)	spin_unlock_irq(&(xa)->xa_lock)

static inline bool xa_is_err(const void *entry)
{
	return IS_ERR_VALUE((unsigned long)entry) && (long)entry >= -MAX_ERRNO;
}
static inline int xa_err(void *entry)
{
	return xa_is_err(entry) ? (int)(long)entry : 0;
}

#endif /* _UNIT_SHIM_XARRAY_H */
