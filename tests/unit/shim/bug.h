/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * shim/bug.h: WARN_ON() and friends fail the running test, BUG_ON()
 * aborts the program (<asm/bug.h>, <linux/once.h>).
 *
 * A warning prints file:line and the condition, is counted, and makes the
 * test in progress fail when it returns (test.h's runner checks the count),
 * whatever the test itself asserted.  A test that provokes a warning on
 * purpose says so first with shim_expect_warns(n).  WARN_ON_ONCE() fires
 * once per call site per test program, as in the kernel.  BUG_ON() is
 * fatal in the kernel, so it aborts here: a fuzzer records it as a crash.
 */
#ifndef _UNIT_SHIM_BUG_H
#define _UNIT_SHIM_BUG_H

void shim_warn(const char *file, int line, const char *what);
__attribute__((__format__(printf, 4, 5)))
void shim_warnf(const char *file, int line, const char *what,
		const char *fmt, ...);
__attribute__((__noreturn__))
void shim_bug(const char *file, int line, const char *what);

#define WARN_ON(cond) ({						\
	bool __w = !!(cond);						\
	if (unlikely(__w))						\
		shim_warn(__FILE__, __LINE__, "WARN_ON(" #cond ")");	\
	unlikely(__w);							\
})

#define WARN(cond, fmt, ...) ({						\
	bool __w = !!(cond);						\
	if (unlikely(__w))						\
		shim_warnf(__FILE__, __LINE__, "WARN(" #cond ")",	\
			   fmt, ##__VA_ARGS__);				\
	unlikely(__w);							\
})

#define WARN_ON_ONCE(cond) ({						\
	static bool __warned;						\
	bool __w = !!(cond);						\
	if (unlikely(__w) &&						\
	    !__atomic_exchange_n(&__warned, true, __ATOMIC_RELAXED))	\
		shim_warn(__FILE__, __LINE__, "WARN_ON_ONCE(" #cond ")"); \
	unlikely(__w);							\
})

#define WARN_ONCE(cond, fmt, ...) ({					\
	static bool __warned;						\
	bool __w = !!(cond);						\
	if (unlikely(__w) &&						\
	    !__atomic_exchange_n(&__warned, true, __ATOMIC_RELAXED))	\
		shim_warnf(__FILE__, __LINE__, "WARN_ONCE(" #cond ")",	\
			   fmt, ##__VA_ARGS__);				\
	unlikely(__w);							\
})

#define BUG()		shim_bug(__FILE__, __LINE__, "BUG()")
#define BUG_ON(cond) do {						\
	if (unlikely(cond))						\
		shim_bug(__FILE__, __LINE__, "BUG_ON(" #cond ")");	\
} while (0)

#define KVM_BUG_ON(cond, kvm)	WARN_ON_ONCE(cond)

#endif /* _UNIT_SHIM_BUG_H */
