/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Assertions, the runner and the fake-VM helpers the
 * unit tests share.
 *
 * Tests are plain functions, static bool test_<behaviour>(void), that
 * return false through an ASSERT_*() (which prints file:line and both
 * values) or true at the end.  unit_run() runs a table of them, each from
 * a clean shim (shim_reset()), and also fails a test that returns with a
 * lock held, that triggered a WARN it did not announce with
 * shim_expect_warns(), or that announced one that never came.  It prints
 * one line per test and, last, "N passed, N failed"; its return value is
 * main()'s exit code.
 */
#ifndef _UNIT_TEST_H
#define _UNIT_TEST_H

#include "lapicv.h"

void unit_report(const char *file, int line, const char *expr,
		 const char *op, unsigned long long a, unsigned long long b);

/* Equality compares as unsigned, order as signed (so -1 < 0). */
#define __UNIT_CMP(a, op, b, text) do {					\
	unsigned long long __a = (unsigned long long)(a);		\
	unsigned long long __b = (unsigned long long)(b);		\
	if (!(__a op __b)) {						\
		unit_report(__FILE__, __LINE__, text, #op, __a, __b);	\
		return false;						\
	}								\
} while (0)
#define __UNIT_SCMP(a, op, b, text) do {				\
	long long __a = (long long)(a);					\
	long long __b = (long long)(b);					\
	if (!(__a op __b)) {						\
		unit_report(__FILE__, __LINE__, text, #op, __a, __b);	\
		return false;						\
	}								\
} while (0)

#define ASSERT_EQ(a, b)	__UNIT_CMP(a, ==, b, #a " == " #b)
#define ASSERT_NE(a, b)	__UNIT_CMP(a, !=, b, #a " != " #b)
#define ASSERT_LT(a, b)	__UNIT_SCMP(a, <, b, #a " < " #b)
#define ASSERT_LE(a, b)	__UNIT_SCMP(a, <=, b, #a " <= " #b)
#define ASSERT_GT(a, b)	__UNIT_SCMP(a, >, b, #a " > " #b)
#define ASSERT_GE(a, b)	__UNIT_SCMP(a, >=, b, #a " >= " #b)
#define ASSERT_TRUE(c)	__UNIT_CMP(!!(c), ==, 1, #c)
#define ASSERT_FALSE(c)	__UNIT_CMP(!!(c), ==, 0, "!(" #c ")")
#define ASSERT_NULL(p)	__UNIT_CMP((uintptr_t)(p), ==, 0, #p " == NULL")
#define ASSERT_NONNULL(p) __UNIT_CMP((uintptr_t)(p), !=, 0, #p " != NULL")
#define ASSERT_STREQ(a, b) do {						\
	const char *__sa = (a), *__sb = (b);				\
	if (!__sa || !__sb || strcmp(__sa, __sb)) {			\
		fprintf(stdout, "%s:%d: ASSERT_STREQ(%s, %s): \"%s\" != \"%s\"\n", \
			__FILE__, __LINE__, #a, #b,			\
			__sa ? __sa : "(null)", __sb ? __sb : "(null)"); \
		return false;						\
	}								\
} while (0)

struct unit_case {
	const char *name;
	bool (*fn)(void);
};

#define UNIT_CASE(fn)	{ #fn, fn }

/* Runs the cases whose name contains argv[1], if given. */
int unit_run(const char *suite, const struct unit_case *cases, size_t n,
	     int argc, char **argv);

/* ---- fake VMs: what vm.c does, minus the files ---- */

/*
 * A VM with nr_vcpus vCPUs (ids 0 .. nr_vcpus - 1, no LAPIC), inhibits
 * initialised as vm.c does for the given backend facts.
 */
struct lapicv_vm *unit_vm_create(unsigned int nr_vcpus, bool apicv_enabled,
				 unsigned long required,
				 enum lapicv_irqwin_policy policy);
/* Add one more vCPU with this id; published like vm.c publishes it. */
struct lapicv_vcpu *unit_vcpu_add(struct lapicv_vm *vm, u32 id);
/* Free the vCPUs (unit_vcpu_free_hook first, if set) and the VM. */
void unit_vm_destroy(struct lapicv_vm *vm);
extern void (*unit_vcpu_free_hook)(struct lapicv_vcpu *vcpu);

/* Every reason a backend could honour. */
#define UNIT_ALL_INHIBITS	(BIT(LAPICV_NR_INHIBITS) - 1)

#endif /* _UNIT_TEST_H */
