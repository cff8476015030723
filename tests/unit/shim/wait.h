/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * shim/wait.h: wait queues (<linux/wait.h>) on a pthread condition
 * variable.
 *
 * Every wake_up*(), and every wq_has_sleeper() that found nobody to wake,
 * is counted in the queue (shim_wq_wakeups()), so a test can check that a
 * vCPU was kicked, and how often, whether or not it slept.  wait_event*() follows
 * the kernel's contract (the waker makes the condition true, then wakes):
 * the condition is evaluated without the queue's lock, with a wake-up
 * sequence number sampled first, so no wake-up is lost.  Timeouts are in
 * jiffies of the fake clock (shim/ktime.h): a timed wait ends when a test
 * advances the clock past it.
 */
#ifndef _UNIT_SHIM_WAIT_H
#define _UNIT_SHIM_WAIT_H

typedef struct wait_queue_head {
	pthread_mutex_t m;
	pthread_cond_t c;
	unsigned long wakeups;	/* every wake_up*() */
	unsigned long idle_kicks; /* wq_has_sleeper() that found none */
	int waiters;		/* threads inside wait_event*() */
} wait_queue_head_t;

#define __WAIT_QUEUE_HEAD_INITIALIZER(n)				\
	{ .m = PTHREAD_MUTEX_INITIALIZER, .c = PTHREAD_COND_INITIALIZER }
#define DECLARE_WAIT_QUEUE_HEAD(n)	wait_queue_head_t n = __WAIT_QUEUE_HEAD_INITIALIZER(n)

void init_waitqueue_head(wait_queue_head_t *wq);
void shim_wake_up(wait_queue_head_t *wq);
#define wake_up(wq)			shim_wake_up(wq)
#define wake_up_all(wq)			shim_wake_up(wq)
#define wake_up_interruptible(wq)	shim_wake_up(wq)
#define wake_up_interruptible_all(wq)	shim_wake_up(wq)
#define wake_up_interruptible_poll(wq, m)	shim_wake_up(wq)
#define waitqueue_active(wq)	(__atomic_load_n(&(wq)->waiters, __ATOMIC_SEQ_CST) > 0)
bool shim_wq_has_sleeper(wait_queue_head_t *wq);
#define wq_has_sleeper(wq)	shim_wq_has_sleeper(wq)
unsigned long shim_wq_wakeups(wait_queue_head_t *wq);

/* For wait_event*(): enter, sample, sleep until the sequence moves, leave. */
unsigned long shim_wq_enter(wait_queue_head_t *wq);
/* 0 woken, -ERESTARTSYS signal pending, 1 timed out (deadline in ns). */
int shim_wq_sleep(wait_queue_head_t *wq, unsigned long seq, s64 deadline_ns);
void shim_wq_leave(wait_queue_head_t *wq);

#define __shim_wait_event(wq, cond, interruptible, deadline_ns) ({	\
	long __ret = 0;							\
	might_sleep();							\
	for (;;) {							\
		unsigned long __seq = shim_wq_enter(wq);		\
		int __r;						\
									\
		if (cond) {						\
			shim_wq_leave(wq);				\
			__ret = 1;					\
			break;						\
		}							\
		__r = shim_wq_sleep(wq, __seq, deadline_ns);		\
		shim_wq_leave(wq);					\
		if (__r < 0 && (interruptible)) {			\
			__ret = -ERESTARTSYS;				\
			break;						\
		}							\
		if (__r > 0) {						\
			__ret = (cond) ? 1 : 0;				\
			break;						\
		}							\
	}								\
	__ret; })

#define wait_event(wq, cond)	((void)__shim_wait_event(&(wq), cond, 0, S64_MAX))
#define wait_event_interruptible(wq, cond) ({				\
	long __we = __shim_wait_event(&(wq), cond, 1, S64_MAX);		\
	__we < 0 ? (int)__we : 0; })
#define wait_event_killable(wq, cond)	wait_event_interruptible(wq, cond)
/* Returns 0 on timeout, else >= 1 (remaining jiffies are not tracked). */
#define wait_event_interruptible_timeout(wq, cond, timeout)		\
	__shim_wait_event(&(wq), cond, 1,				\
			  ktime_get() + jiffies_to_nsecs(timeout))
#define wait_event_timeout(wq, cond, timeout)				\
	__shim_wait_event(&(wq), cond, 0,				\
			  ktime_get() + jiffies_to_nsecs(timeout))

#endif /* _UNIT_SHIM_WAIT_H */
