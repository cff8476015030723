/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * shim/control.h: what only a test calls, to steer the emulation or look
 * at what the core did through it.  Nothing here exists in the kernel.
 */
#ifndef _UNIT_SHIM_CONTROL_H
#define _UNIT_SHIM_CONTROL_H

/* Warnings (WARN_ON & co.) seen since the last shim_take_warnings(). */
unsigned long shim_take_warnings(void);
/* The next n warnings are expected: they neither print nor fail. */
void shim_expect_warns(unsigned long n);
/* Expected warnings that did not come (the runner fails the test). */
unsigned long shim_missing_warns(void);

/* printk: count of messages, and the text of the last one. */
unsigned long shim_log_count(void);
const char *shim_log_last(void);

/* Allocation fault injection; see shim/slab.h.  -1 disables. */
void shim_alloc_fail_after(long n);
extern bool shim_alloc_fail_sticky;
unsigned long shim_alloc_live(void);

/* RCU: run the queued call_rcu()/kvfree_rcu() work; returns how much. */
unsigned int shim_rcu_flush(void);
unsigned int shim_rcu_pending(void);

/* Clock: see shim/ktime.h.  Reset puts the clock back and drops timers. */
void shim_clock_reset(void);
unsigned int shim_hrtimers_queued(void);

/* Everything above back to its initial state (between tests). */
void shim_reset(void);

#endif /* _UNIT_SHIM_CONTROL_H */
