/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * shim/slab.h: kmalloc() and friends, pages (<linux/slab.h>,
 * <linux/gfp.h>, <linux/mm.h>) over the C library's allocator, so ASan
 * sees every overflow, use after free and leak.
 *
 * Allocations that may sleep (GFP_KERNEL, GFP_KERNEL_ACCOUNT) call
 * might_sleep() first.  Fault injection, vma-test style: after
 * shim_alloc_fail_after(n), the allocation n+1 from now returns NULL (and
 * every later one does too if shim_alloc_fail_sticky is set), so a test
 * reaches the -ENOMEM paths.  A page is PAGE_SIZE bytes aligned on
 * PAGE_SIZE; struct page exists only to carry its address.
 */
#ifndef _UNIT_SHIM_SLAB_H
#define _UNIT_SHIM_SLAB_H

#define __GFP_DIRECT_RECLAIM	0x1u
#define __GFP_ZERO		0x2u
#define __GFP_NOWARN		0x4u
#define __GFP_ACCOUNT		0x8u
#define __GFP_HIGH		0x10u
#define __GFP_RETRY_MAYFAIL	0x20u
#define GFP_KERNEL		__GFP_DIRECT_RECLAIM
#define GFP_KERNEL_ACCOUNT	(GFP_KERNEL | __GFP_ACCOUNT)
#define GFP_ATOMIC		__GFP_HIGH
#define GFP_NOWAIT		0u

#ifndef PAGE_SIZE
#define PAGE_SHIFT		12
#define PAGE_SIZE		(1UL << PAGE_SHIFT)
#define PAGE_MASK		(~(PAGE_SIZE - 1))
#endif

void *shim_kmalloc(size_t size, gfp_t gfp, const char *file, int line);
void *shim_kmalloc_aligned(size_t size, size_t align, gfp_t gfp,
			   const char *file, int line);
void kfree(const void *p);

#define kmalloc(s, g)		shim_kmalloc(s, g, __FILE__, __LINE__)
#define kzalloc(s, g)		kmalloc(s, (g) | __GFP_ZERO)
#define kvmalloc(s, g)		kmalloc(s, g)
#define kvzalloc(s, g)		kzalloc(s, g)
#define vmalloc(s)		kmalloc(s, GFP_KERNEL)
#define vzalloc(s)		kzalloc(s, GFP_KERNEL)
#define kmalloc_array(n, s, g) ({					\
	size_t __sz;							\
	__builtin_mul_overflow((size_t)(n), (size_t)(s), &__sz) ?	\
		NULL : kmalloc(__sz, g); })
#define kcalloc(n, s, g)	kmalloc_array(n, s, (g) | __GFP_ZERO)
#define kvmalloc_array(n, s, g)	kmalloc_array(n, s, g)
#define kvcalloc(n, s, g)	kcalloc(n, s, g)
#define kfree_sensitive(p)	kfree(p)
#define kvfree(p)		kfree(p)
#define vfree(p)		kfree(p)
#define kmemdup(src, len, g) ({						\
	size_t __l = (len);						\
	void *__p = kmalloc(__l, g);					\
	if (__p)							\
		memcpy(__p, src, __l);					\
	__p; })
#define kvmemdup(src, len, g)	kmemdup(src, len, g)
#define krealloc(p, s, g)	shim_krealloc(p, s, g)
void *shim_krealloc(const void *p, size_t size, gfp_t gfp);

/* Pages. */
struct page { void *addr; };
#define __get_free_page(g)						\
	((unsigned long)shim_kmalloc_aligned(PAGE_SIZE, PAGE_SIZE, g,	\
					     __FILE__, __LINE__))
#define get_zeroed_page(g)	__get_free_page((g) | __GFP_ZERO)
#define free_page(addr)		kfree((void *)(addr))
struct page *shim_alloc_page(gfp_t gfp, const char *file, int line);
#define alloc_page(g)		shim_alloc_page(g, __FILE__, __LINE__)
void __free_page(struct page *page);
#define page_address(pg)	((pg)->addr)
#define __pa(p)			((phys_addr_t)(unsigned long)(p))
#define __va(pa)		((void *)(unsigned long)(pa))
#define page_to_phys(pg)	__pa((pg)->addr)

#endif /* _UNIT_SHIM_SLAB_H */
