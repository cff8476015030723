/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * shim/compiler.h: the kernel's basic types, compiler attributes and
 * small helper macros (<linux/types.h>, <linux/compiler.h>,
 * <linux/kernel.h>, <linux/minmax.h>, <linux/err.h>, module macros).
 *
 * Differences from the kernel: min()/max() do not type-check their
 * operands; READ_ONCE()/WRITE_ONCE() are relaxed __atomic loads and stores
 * (the kernel's are volatile accesses) so that ThreadSanitizer sees them as
 * the marked, intentionally racy accesses they are; module_param() and
 * friends declare nothing.
 */
#ifndef _UNIT_SHIM_COMPILER_H
#define _UNIT_SHIM_COMPILER_H

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;
typedef u64 phys_addr_t;
typedef u64 gpa_t;
typedef u64 gfn_t;
typedef u64 hpa_t;
typedef unsigned int gfp_t;

/* Kernel-only errnos (include/linux/errno.h). */
#ifndef ERESTARTSYS
#define ERESTARTSYS	512
#endif
#ifndef ENOIOCTLCMD
#define ENOIOCTLCMD	515
#endif
#ifndef ENOTSUPP
#define ENOTSUPP	524
#endif

/* Annotations that only sparse or the kernel's linker script read. */
#define __user
#define __kernel
#define __iomem
#define __rcu
#define __percpu
#define __force
#define __must_hold(x)
#define __acquires(x)
#define __releases(x)
#define __init
#define __exit
#define __initdata
#define __read_mostly
#define __ro_after_init
#undef __always_inline
#define __always_inline		inline __attribute__((__always_inline__))
#define noinline		__attribute__((__noinline__))
#define __noreturn		__attribute__((__noreturn__))
#define __maybe_unused		__attribute__((__unused__))
#define __used			__attribute__((__used__))
#define __must_check		__attribute__((__warn_unused_result__))
#define __cold			__attribute__((__cold__))
#define __packed		__attribute__((__packed__))
#define __aligned(x)		__attribute__((__aligned__(x)))
#define __printf(a, b)		__attribute__((__format__(printf, a, b)))
#define __section(s)		__attribute__((__section__(s)))
#define noinstr
#define notrace
#define fallthrough		__attribute__((__fallthrough__))
#define unreachable()		__builtin_unreachable()

#define L1_CACHE_BYTES		64
#define SMP_CACHE_BYTES		L1_CACHE_BYTES
#define ____cacheline_aligned	__aligned(SMP_CACHE_BYTES)
#define ____cacheline_aligned_in_smp	____cacheline_aligned
#define __cacheline_aligned	____cacheline_aligned

#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)

#ifndef typeof
#define typeof(x)		__typeof__(x)
#endif

/* IS_ENABLED(CONFIG_FOO): 1 when the test build defines CONFIG_FOO=1. */
#define __UNIT_ARG_PLACEHOLDER_1	0,
#define __unit_take_second(ignored, val, ...)	val
#define __unit_is_defined(x)		___unit_is_defined(x)
#define ___unit_is_defined(val)		____unit_is_defined(__UNIT_ARG_PLACEHOLDER_##val)
#define ____unit_is_defined(arg)	__unit_take_second(arg 1, 0, 0)
#define IS_ENABLED(option)		__unit_is_defined(option)
#define IS_BUILTIN(option)		__unit_is_defined(option)

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member)					\
	((type *)((char *)(ptr) - offsetof(type, member)))
#define sizeof_field(t, m)	sizeof(((t *)0)->m)
#define struct_size(p, member, n)					\
	(sizeof(*(p)) + sizeof(*(p)->member) * (size_t)(n))
#define array_size(a, b)	((size_t)(a) * (size_t)(b))
#define check_add_overflow(a, b, d)	__builtin_add_overflow(a, b, d)
#define check_sub_overflow(a, b, d)	__builtin_sub_overflow(a, b, d)
#define check_mul_overflow(a, b, d)	__builtin_mul_overflow(a, b, d)

/* A compile-time assertion usable as a statement, as the kernel's is. */
#define BUILD_BUG_ON(cond)	((void)sizeof(char[1 - 2 * !!(cond)]))
#define BUILD_BUG_ON_MSG(cond, msg)	BUILD_BUG_ON(cond)
#define BUILD_BUG()		BUILD_BUG_ON(1)
#define static_assert(e, ...)	_Static_assert(e, #e)

#define BITS_PER_LONG		64
#define BITS_PER_BYTE		8
#define BIT(n)			(1UL << (n))
#define BIT_ULL(n)		(1ULL << (n))
#define BIT_MASK(n)		(1UL << ((n) % BITS_PER_LONG))
#define BIT_WORD(n)		((n) / BITS_PER_LONG)
#define GENMASK(h, l)		(((~0UL) << (l)) & (~0UL >> (BITS_PER_LONG - 1 - (h))))
#define GENMASK_ULL(h, l)	(((~0ULL) << (l)) & (~0ULL >> (63 - (h))))
#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))
#define BITS_TO_LONGS(n)	DIV_ROUND_UP(n, BITS_PER_LONG)
#define DECLARE_BITMAP(name, bits)	unsigned long name[BITS_TO_LONGS(bits)]
#define ALIGN(x, a)		(((x) + ((a) - 1)) & ~((typeof(x))(a) - 1))
#define IS_ALIGNED(x, a)	(((x) & ((typeof(x))(a) - 1)) == 0)
#define round_up(x, y)		((((x) - 1) | ((typeof(x))((y) - 1))) + 1)
#define round_down(x, y)	((x) & ~((typeof(x))((y) - 1)))
#define roundup(x, y)		((((x) + ((y) - 1)) / (y)) * (y))
#define rounddown(x, y)		((x) - ((x) % (y)))
#define lower_32_bits(n)	((u32)((n) & 0xffffffff))
#define upper_32_bits(n)	((u32)(((n) >> 16) >> 16))
#define U8_MAX			((u8)~0U)
#define U16_MAX			((u16)~0U)
#define U32_MAX			((u32)~0U)
#define U64_MAX			((u64)~0ULL)
#define S64_MAX			((s64)(U64_MAX >> 1))
#define S64_MIN			((s64)(-S64_MAX - 1))

/* Not type-checked, unlike the kernel's. */
#define min(a, b)	({ typeof(a) __a = (a); typeof(b) __b = (b); __a < __b ? __a : __b; })
#define max(a, b)	({ typeof(a) __a = (a); typeof(b) __b = (b); __a > __b ? __a : __b; })
#define min_t(t, a, b)	({ t __a = (a); t __b = (b); __a < __b ? __a : __b; })
#define max_t(t, a, b)	({ t __a = (a); t __b = (b); __a > __b ? __a : __b; })
#define umin(a, b)	min_t(unsigned long long, a, b)
#define umax(a, b)	max_t(unsigned long long, a, b)
#define min3(a, b, c)	min(min(a, b), c)
#define max3(a, b, c)	max(max(a, b), c)
#define clamp(v, lo, hi)	min(max(v, lo), hi)
#define clamp_t(t, v, lo, hi)	min_t(t, max_t(t, v, lo), hi)
#define clamp_val(v, lo, hi)	clamp_t(typeof(v), v, lo, hi)
#define swap(a, b)	do { typeof(a) __t = (a); (a) = (b); (b) = __t; } while (0)
#undef abs
#define abs(x)		({ typeof(x) __x = (x); __x < 0 ? -__x : __x; })

/* Speculation barrier: only the bounds behaviour matters here. */
#define array_index_nospec(idx, size)					\
	({ typeof(idx) __i = (idx); __i < (typeof(idx))(size) ? __i : 0; })

/*
 * The type of x without qualifiers, for scalars (the kernel's
 * __unqual_scalar_typeof).
 */
#define __unqual_scalar_typeof(x) typeof(_Generic((x),			\
	char: (char)0, signed char: (signed char)0,			\
	unsigned char: (unsigned char)0, short: (short)0,		\
	unsigned short: (unsigned short)0, int: (int)0,			\
	unsigned int: (unsigned int)0, long: (long)0,			\
	unsigned long: (unsigned long)0, long long: (long long)0,	\
	unsigned long long: (unsigned long long)0, _Bool: (_Bool)0,	\
	default: (x)))

/*
 * Chaos points (the stress build defines SHIM_CHAOS): after marked shared
 * accesses and value-returning atomics, a thread sometimes yields, so the
 * windows between two such accesses, where races live, are hit far more
 * often than on two idle CPUs.  Semantics are unchanged.
 */
#ifdef SHIM_CHAOS
void shim_chaos_point(void);
#define SHIM_CHAOS_POINT()	shim_chaos_point()
#else
#define SHIM_CHAOS_POINT()	do { } while (0)
#endif

#define READ_ONCE(x) ({							\
	__unqual_scalar_typeof(x) __ro;					\
	__atomic_load(&(x), &__ro, __ATOMIC_RELAXED);			\
	SHIM_CHAOS_POINT();						\
	__ro; })
#define WRITE_ONCE(x, val) do {						\
	__unqual_scalar_typeof(x) __wo = (val);				\
	__atomic_store(&(x), &__wo, __ATOMIC_RELAXED);			\
} while (0)

#define barrier()		__asm__ __volatile__("" ::: "memory")
#define smp_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define smp_wmb()		__atomic_thread_fence(__ATOMIC_RELEASE)
#define mb()			smp_mb()
#define rmb()			smp_rmb()
#define wmb()			smp_wmb()
#define smp_mb__before_atomic()	smp_mb()
#define smp_mb__after_atomic()	smp_mb()
#define smp_store_release(p, v)	__atomic_store_n(p, v, __ATOMIC_RELEASE)
#define smp_load_acquire(p)	__atomic_load_n(p, __ATOMIC_ACQUIRE)
#define smp_store_mb(x, v)	do { WRITE_ONCE(x, v); smp_mb(); } while (0)
#define cpu_relax()		__asm__ __volatile__("pause" ::: "memory")

/* <linux/err.h> */
#define MAX_ERRNO		4095
#define IS_ERR_VALUE(x)		unlikely((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
static inline void *ERR_PTR(long error) { return (void *)error; }
static inline long PTR_ERR(const void *ptr) { return (long)ptr; }
static inline bool IS_ERR(const void *ptr) { return IS_ERR_VALUE((unsigned long)ptr); }
static inline bool IS_ERR_OR_NULL(const void *ptr) { return !ptr || IS_ERR(ptr); }
static inline void *ERR_CAST(const void *ptr) { return (void *)ptr; }
static inline int PTR_ERR_OR_ZERO(const void *ptr) { return IS_ERR(ptr) ? (int)PTR_ERR(ptr) : 0; }

/* Module metadata: nothing to register in a test program. */
#define THIS_MODULE		((void *)0)
#define MODULE_LICENSE(x)
#define MODULE_AUTHOR(x)
#define MODULE_DESCRIPTION(x)
#define MODULE_PARM_DESC(name, desc)
#define EXPORT_SYMBOL(sym)
#define EXPORT_SYMBOL_GPL(sym)
#define module_param(name, type, perm)
#define module_param_named(name, var, type, perm)
#define module_param_cb(name, ops, arg, perm)

/* <linux/printk.h>: see shim.c for where the output goes. */
#define KERN_SOH	"\001"
#define KERN_EMERG	KERN_SOH "0"
#define KERN_ALERT	KERN_SOH "1"
#define KERN_CRIT	KERN_SOH "2"
#define KERN_ERR	KERN_SOH "3"
#define KERN_WARNING	KERN_SOH "4"
#define KERN_NOTICE	KERN_SOH "5"
#define KERN_INFO	KERN_SOH "6"
#define KERN_DEBUG	KERN_SOH "7"
#ifndef pr_fmt
#define pr_fmt(fmt)	fmt
#endif
__printf(2, 3) void shim_printk(int level, const char *fmt, ...);
#define printk(fmt, ...)	shim_printk(6, fmt, ##__VA_ARGS__)
#define pr_emerg(fmt, ...)	shim_printk(0, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_err(fmt, ...)	shim_printk(3, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...)	shim_printk(4, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_notice(fmt, ...)	shim_printk(5, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_info(fmt, ...)	shim_printk(6, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_debug(fmt, ...)	shim_printk(7, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_cont(fmt, ...)	shim_printk(6, fmt, ##__VA_ARGS__)
/* Not rate limited: every message is counted (shim_log_count()). */
#define pr_err_ratelimited	pr_err
#define pr_warn_ratelimited	pr_warn
#define pr_info_ratelimited	pr_info
#define pr_debug_ratelimited	pr_debug
#define printk_ratelimited	printk
#define __shim_once(call) ({						\
	static bool __done;						\
	if (!__atomic_exchange_n(&__done, true, __ATOMIC_RELAXED))	\
		call;							\
})
#define pr_err_once(fmt, ...)	__shim_once(pr_err(fmt, ##__VA_ARGS__))
#define pr_warn_once(fmt, ...)	__shim_once(pr_warn(fmt, ##__VA_ARGS__))
#define pr_info_once(fmt, ...)	__shim_once(pr_info(fmt, ##__VA_ARGS__))
#define printk_once(fmt, ...)	__shim_once(printk(fmt, ##__VA_ARGS__))

/* <linux/string.h>, <linux/sprintf.h> */
__printf(3, 4) int scnprintf(char *buf, size_t size, const char *fmt, ...);
int vscnprintf(char *buf, size_t size, const char *fmt, va_list args);
ssize_t strscpy(char *dst, const char *src, size_t count);

/* <linux/bitops.h>-style bit scans on plain integers. */
static inline int fls(unsigned int x) { return x ? 32 - __builtin_clz(x) : 0; }
static inline int fls64(u64 x) { return x ? 64 - __builtin_clzll(x) : 0; }
static inline unsigned long __ffs(unsigned long x) { return __builtin_ctzl(x); }
static inline unsigned long __fls(unsigned long x) { return 63 - __builtin_clzl(x); }
static inline unsigned int hweight8(unsigned int w) { return __builtin_popcount(w & 0xff); }
static inline unsigned int hweight16(unsigned int w) { return __builtin_popcount(w & 0xffff); }
static inline unsigned int hweight32(unsigned int w) { return __builtin_popcount(w); }
static inline unsigned long hweight64(u64 w) { return __builtin_popcountll(w); }
static inline unsigned long hweight_long(unsigned long w) { return __builtin_popcountl(w); }
static inline bool is_power_of_2(unsigned long n) { return n && !(n & (n - 1)); }
#define ilog2(n)		((n) ? fls64(n) - 1 : -1)

/* The caller of a kernel function: a user thread of the test. */
struct mm_struct;
struct task_struct {
	struct mm_struct *mm;
	int pid;
	/* Set by a test to make signal_pending(current) true. */
	bool sigpending;
};
extern __thread struct task_struct shim_current;
#define current			(&shim_current)
static inline bool signal_pending(struct task_struct *t) { return t->sigpending; }
static inline bool fatal_signal_pending(struct task_struct *t) { return false; }
#define smp_processor_id()	0
#define raw_smp_processor_id()	0
/* No guest mode in userspace: nobody is ever kicked out of a guest. */
#define smp_send_reschedule(cpu)	((void)(cpu))
#define arch_smp_send_reschedule(cpu)	((void)(cpu))
#define get_cpu()		({ preempt_disable(); 0; })
#define put_cpu()		preempt_enable()
#define num_online_cpus()	1U
#define nr_cpu_ids		1U

#endif /* _UNIT_SHIM_COMPILER_H */
