/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * shim/atomic.h: atomic_t, atomic64_t, refcount_t and the bit operations
 * (<linux/atomic.h>, <linux/refcount.h>, <linux/bitops.h>, <linux/find.h>,
 * <linux/bitmap.h>).
 *
 * Built on the compiler's __atomic builtins, which implement the C11
 * memory model (<stdatomic.h> itself cannot be used: its atomic_fetch_add()
 * and friends collide with the kernel's names).  Orderings follow
 * Documentation/atomic_t.txt: operations that return a value are fully
 * ordered, the others relaxed.  refcount_t saturates and warns like the
 * kernel's.  Reads and value-returning updates are chaos points (see
 * shim/compiler.h).  Differences: the non-atomic __set_bit() family and test_bit()
 * use relaxed atomic accesses rather than plain ones, so ThreadSanitizer
 * does not flag the kernel's benign races on them.
 */
#ifndef _UNIT_SHIM_ATOMIC_H
#define _UNIT_SHIM_ATOMIC_H

typedef struct { int counter; } atomic_t;
typedef struct { s64 counter; } atomic64_t;
typedef struct { long counter; } atomic_long_t;

#define ATOMIC_INIT(i)		{ (i) }
#define ATOMIC64_INIT(i)	{ (i) }

#define __SHIM_ATOMIC_OPS(pfx, t, T)					\
static inline T pfx##_read(const t *v)					\
{ T r = __atomic_load_n(&v->counter, __ATOMIC_RELAXED); SHIM_CHAOS_POINT(); return r; } \
static inline T pfx##_read_acquire(const t *v)				\
{ return __atomic_load_n(&v->counter, __ATOMIC_ACQUIRE); }		\
static inline void pfx##_set(t *v, T i)					\
{ __atomic_store_n(&v->counter, i, __ATOMIC_RELAXED); }			\
static inline void pfx##_set_release(t *v, T i)				\
{ __atomic_store_n(&v->counter, i, __ATOMIC_RELEASE); }			\
static inline void pfx##_add(T i, t *v)					\
{ __atomic_fetch_add(&v->counter, i, __ATOMIC_RELAXED); }		\
static inline void pfx##_sub(T i, t *v)					\
{ __atomic_fetch_sub(&v->counter, i, __ATOMIC_RELAXED); }		\
static inline void pfx##_inc(t *v) { pfx##_add(1, v); }			\
static inline void pfx##_dec(t *v) { pfx##_sub(1, v); }			\
static inline void pfx##_or(T i, t *v)					\
{ __atomic_fetch_or(&v->counter, i, __ATOMIC_RELAXED); }		\
static inline void pfx##_and(T i, t *v)					\
{ __atomic_fetch_and(&v->counter, i, __ATOMIC_RELAXED); }		\
static inline T pfx##_add_return(T i, t *v)				\
{ T r = __atomic_add_fetch(&v->counter, i, __ATOMIC_SEQ_CST); SHIM_CHAOS_POINT(); return r; }	\
static inline T pfx##_sub_return(T i, t *v)				\
{ T r = __atomic_sub_fetch(&v->counter, i, __ATOMIC_SEQ_CST); SHIM_CHAOS_POINT(); return r; }	\
static inline T pfx##_inc_return(t *v) { return pfx##_add_return(1, v); } \
static inline T pfx##_dec_return(t *v) { return pfx##_sub_return(1, v); } \
static inline T pfx##_fetch_add(T i, t *v)				\
{ return __atomic_fetch_add(&v->counter, i, __ATOMIC_SEQ_CST); }	\
static inline T pfx##_fetch_sub(T i, t *v)				\
{ return __atomic_fetch_sub(&v->counter, i, __ATOMIC_SEQ_CST); }	\
static inline T pfx##_fetch_inc(t *v) { return pfx##_fetch_add(1, v); }	\
static inline T pfx##_fetch_dec(t *v) { return pfx##_fetch_sub(1, v); }	\
static inline T pfx##_fetch_or(T i, t *v)				\
{ return __atomic_fetch_or(&v->counter, i, __ATOMIC_SEQ_CST); }		\
static inline T pfx##_fetch_and(T i, t *v)				\
{ return __atomic_fetch_and(&v->counter, i, __ATOMIC_SEQ_CST); }	\
static inline bool pfx##_dec_and_test(t *v) { return pfx##_dec_return(v) == 0; } \
static inline bool pfx##_inc_and_test(t *v) { return pfx##_inc_return(v) == 0; } \
static inline bool pfx##_sub_and_test(T i, t *v) { return pfx##_sub_return(i, v) == 0; } \
static inline T pfx##_xchg(t *v, T i)					\
{ return __atomic_exchange_n(&v->counter, i, __ATOMIC_SEQ_CST); }	\
static inline T pfx##_cmpxchg(t *v, T old, T new)			\
{									\
	__atomic_compare_exchange_n(&v->counter, &old, new, false,	\
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
	return old;							\
}									\
static inline T pfx##_cmpxchg_relaxed(t *v, T old, T new)		\
{									\
	__atomic_compare_exchange_n(&v->counter, &old, new, false,	\
				    __ATOMIC_RELAXED, __ATOMIC_RELAXED); \
	SHIM_CHAOS_POINT();						\
	return old;							\
}									\
static inline T pfx##_cmpxchg_acquire(t *v, T old, T new)		\
{									\
	__atomic_compare_exchange_n(&v->counter, &old, new, false,	\
				    __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE); \
	SHIM_CHAOS_POINT();						\
	return old;							\
}									\
static inline T pfx##_cmpxchg_release(t *v, T old, T new)		\
{									\
	__atomic_compare_exchange_n(&v->counter, &old, new, false,	\
				    __ATOMIC_RELEASE, __ATOMIC_RELAXED); \
	SHIM_CHAOS_POINT();						\
	return old;							\
}									\
static inline T pfx##_xchg_relaxed(t *v, T i)				\
{ return __atomic_exchange_n(&v->counter, i, __ATOMIC_RELAXED); }	\
static inline T pfx##_inc_return_relaxed(t *v)				\
{ return __atomic_add_fetch(&v->counter, 1, __ATOMIC_RELAXED); }	\
static inline T pfx##_dec_return_relaxed(t *v)				\
{ return __atomic_sub_fetch(&v->counter, 1, __ATOMIC_RELAXED); }	\
static inline bool pfx##_try_cmpxchg(t *v, T *old, T new)		\
{									\
	return __atomic_compare_exchange_n(&v->counter, old, new, false, \
					   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
}									\
static inline bool pfx##_add_unless(t *v, T a, T u)			\
{									\
	T c = pfx##_read(v);						\
	do {								\
		if (c == u)						\
			return false;					\
	} while (!pfx##_try_cmpxchg(v, &c, c + a));			\
	return true;							\
}									\
static inline bool pfx##_inc_not_zero(t *v) { return pfx##_add_unless(v, 1, 0); }

__SHIM_ATOMIC_OPS(atomic, atomic_t, int)
__SHIM_ATOMIC_OPS(atomic64, atomic64_t, s64)
__SHIM_ATOMIC_OPS(atomic_long, atomic_long_t, long)

/* Generic cmpxchg()/xchg() on a plain lvalue. */
#define cmpxchg(ptr, o, n) ({						\
	typeof(*(ptr)) __o = (o);					\
	__atomic_compare_exchange_n(ptr, &__o, n, false,		\
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
	__o; })
#define try_cmpxchg(ptr, po, n)						\
	__atomic_compare_exchange_n(ptr, po, n, false,			\
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)
#define xchg(ptr, v)	__atomic_exchange_n(ptr, v, __ATOMIC_SEQ_CST)

/* refcount_t: saturates at REFCOUNT_SATURATED and warns, as the kernel's. */
typedef struct { atomic_t refs; } refcount_t;
#define REFCOUNT_INIT(n)	{ .refs = ATOMIC_INIT(n) }
#define REFCOUNT_SATURATED	(INT_MIN / 2)
static inline void refcount_set(refcount_t *r, int n) { atomic_set(&r->refs, n); }
static inline unsigned int refcount_read(const refcount_t *r) { return atomic_read(&r->refs); }
static inline void refcount_inc(refcount_t *r)
{
	int old = atomic_fetch_add(1, &r->refs);

	if (WARN(old <= 0, "refcount_t: %s\n", old ? "saturated" : "increment on 0"))
		atomic_set(&r->refs, REFCOUNT_SATURATED);
}
static inline bool refcount_inc_not_zero(refcount_t *r)
{
	return atomic_inc_not_zero(&r->refs);
}
static inline bool refcount_dec_and_test(refcount_t *r)
{
	int new = atomic_dec_return(&r->refs);

	if (WARN(new < 0, "refcount_t: underflow\n")) {
		atomic_set(&r->refs, REFCOUNT_SATURATED);
		return false;
	}
	return new == 0;
}
static inline void refcount_dec(refcount_t *r)
{
	WARN(refcount_dec_and_test(r), "refcount_t: decrement hit 0\n");
}

/* Atomic bit operations on unsigned long bitmaps. */
#define __SHIM_BITW(nr, addr)	((unsigned long *)(addr) + BIT_WORD(nr))

static inline void set_bit(long nr, volatile unsigned long *addr)
{ __atomic_fetch_or(__SHIM_BITW(nr, addr), BIT_MASK(nr), __ATOMIC_RELAXED); }
static inline void clear_bit(long nr, volatile unsigned long *addr)
{ __atomic_fetch_and(__SHIM_BITW(nr, addr), ~BIT_MASK(nr), __ATOMIC_RELAXED); }
static inline void change_bit(long nr, volatile unsigned long *addr)
{ __atomic_fetch_xor(__SHIM_BITW(nr, addr), BIT_MASK(nr), __ATOMIC_RELAXED); }
static inline bool test_and_set_bit(long nr, volatile unsigned long *addr)
{ return __atomic_fetch_or(__SHIM_BITW(nr, addr), BIT_MASK(nr), __ATOMIC_SEQ_CST) & BIT_MASK(nr); }
static inline bool test_and_clear_bit(long nr, volatile unsigned long *addr)
{ return __atomic_fetch_and(__SHIM_BITW(nr, addr), ~BIT_MASK(nr), __ATOMIC_SEQ_CST) & BIT_MASK(nr); }
static inline bool test_and_change_bit(long nr, volatile unsigned long *addr)
{ return __atomic_fetch_xor(__SHIM_BITW(nr, addr), BIT_MASK(nr), __ATOMIC_SEQ_CST) & BIT_MASK(nr); }
static inline bool test_bit(long nr, const volatile unsigned long *addr)
{ return __atomic_load_n((const unsigned long *)addr + BIT_WORD(nr), __ATOMIC_RELAXED) & BIT_MASK(nr); }
static inline bool test_bit_acquire(long nr, const volatile unsigned long *addr)
{ return __atomic_load_n((const unsigned long *)addr + BIT_WORD(nr), __ATOMIC_ACQUIRE) & BIT_MASK(nr); }
static inline void clear_bit_unlock(long nr, volatile unsigned long *addr)
{ __atomic_fetch_and(__SHIM_BITW(nr, addr), ~BIT_MASK(nr), __ATOMIC_RELEASE); }
static inline bool test_and_set_bit_lock(long nr, volatile unsigned long *addr)
{ return __atomic_fetch_or(__SHIM_BITW(nr, addr), BIT_MASK(nr), __ATOMIC_ACQUIRE) & BIT_MASK(nr); }

/* The non-atomic forms: callers guarantee exclusion (relaxed here, see top). */
static inline void __shim_bit_store(long nr, volatile unsigned long *addr,
				    unsigned long val)
{ __atomic_store_n(__SHIM_BITW(nr, addr), val, __ATOMIC_RELAXED); }
static inline unsigned long __shim_bit_load(long nr, const volatile unsigned long *addr)
{ return __atomic_load_n((const unsigned long *)addr + BIT_WORD(nr), __ATOMIC_RELAXED); }
static inline void __set_bit(long nr, volatile unsigned long *addr)
{ __shim_bit_store(nr, addr, __shim_bit_load(nr, addr) | BIT_MASK(nr)); }
static inline void __clear_bit(long nr, volatile unsigned long *addr)
{ __shim_bit_store(nr, addr, __shim_bit_load(nr, addr) & ~BIT_MASK(nr)); }
static inline void __change_bit(long nr, volatile unsigned long *addr)
{ __shim_bit_store(nr, addr, __shim_bit_load(nr, addr) ^ BIT_MASK(nr)); }
static inline bool __test_and_set_bit(long nr, volatile unsigned long *addr)
{ bool o = test_bit(nr, addr); __set_bit(nr, addr); return o; }
static inline bool __test_and_clear_bit(long nr, volatile unsigned long *addr)
{ bool o = test_bit(nr, addr); __clear_bit(nr, addr); return o; }
static inline void __assign_bit(long nr, volatile unsigned long *addr, bool v)
{ if (v) __set_bit(nr, addr); else __clear_bit(nr, addr); }
static inline void assign_bit(long nr, volatile unsigned long *addr, bool v)
{ if (v) set_bit(nr, addr); else clear_bit(nr, addr); }

/* <linux/find.h>: sizes in bits; "not found" returns size. */
unsigned long find_next_bit(const unsigned long *addr, unsigned long size,
			    unsigned long offset);
unsigned long find_next_zero_bit(const unsigned long *addr, unsigned long size,
				 unsigned long offset);
unsigned long find_last_bit(const unsigned long *addr, unsigned long size);
#define find_first_bit(addr, size)	find_next_bit(addr, size, 0)
#define find_first_zero_bit(addr, size)	find_next_zero_bit(addr, size, 0)

#define for_each_set_bit(bit, addr, size)				\
	for ((bit) = find_next_bit((addr), (size), 0);			\
	     (bit) < (size);						\
	     (bit) = find_next_bit((addr), (size), (bit) + 1))
#define for_each_clear_bit(bit, addr, size)				\
	for ((bit) = find_next_zero_bit((addr), (size), 0);		\
	     (bit) < (size);						\
	     (bit) = find_next_zero_bit((addr), (size), (bit) + 1))

/* <linux/bitmap.h>, the few used. */
static inline void bitmap_zero(unsigned long *dst, unsigned int nbits)
{ memset(dst, 0, BITS_TO_LONGS(nbits) * sizeof(long)); }
static inline void bitmap_fill(unsigned long *dst, unsigned int nbits)
{
	memset(dst, 0xff, BITS_TO_LONGS(nbits) * sizeof(long));
	if (nbits % BITS_PER_LONG)
		dst[nbits / BITS_PER_LONG] &= BIT(nbits % BITS_PER_LONG) - 1;
}
static inline void bitmap_copy(unsigned long *dst, const unsigned long *src, unsigned int nbits)
{ memcpy(dst, src, BITS_TO_LONGS(nbits) * sizeof(long)); }
static inline bool bitmap_empty(const unsigned long *src, unsigned int nbits)
{ return find_first_bit(src, nbits) >= nbits; }
static inline unsigned int bitmap_weight(const unsigned long *src, unsigned int nbits)
{
	unsigned int i, w = 0;

	for (i = 0; i < nbits; i++)
		w += test_bit(i, src);
	return w;
}
static inline void bitmap_or(unsigned long *dst, const unsigned long *a,
			     const unsigned long *b, unsigned int nbits)
{
	unsigned int i;

	for (i = 0; i < BITS_TO_LONGS(nbits); i++)
		dst[i] = a[i] | b[i];
}
static inline bool bitmap_and(unsigned long *dst, const unsigned long *a,
			      const unsigned long *b, unsigned int nbits)
{
	unsigned long r = 0;
	unsigned int i;

	for (i = 0; i < BITS_TO_LONGS(nbits); i++)
		r |= dst[i] = a[i] & b[i];
	return r != 0;
}

#endif /* _UNIT_SHIM_ATOMIC_H */
