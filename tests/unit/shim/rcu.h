/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * shim/rcu.h: RCU (<linux/rcupdate.h>).
 *
 * rcu_read_lock() only counts: per thread (so rcu_dereference() outside a
 * read-side section, and sleeping inside one, warn as with PROVE_RCU and
 * DEBUG_ATOMIC_SLEEP) and globally (so synchronize_rcu() can wait until no
 * reader is left, which is at least a grace period).  call_rcu() and
 * kvfree_rcu() queue their work; it runs only when the test says so,
 * through shim_rcu_flush() or rcu_barrier() (the test runner flushes after
 * every test, so nothing leaks).  Freed memory thus outlives the grace
 * period, never the reverse: ASan still catches a reader that uses an
 * object after a flush.  Pointers are published with a release store and
 * read with an acquire load (the kernel relies on address dependencies).
 */
#ifndef _UNIT_SHIM_RCU_H
#define _UNIT_SHIM_RCU_H

struct rcu_head {
	struct rcu_head *next;
	void (*func)(struct rcu_head *head);
};
#define callback_head rcu_head
typedef void (*rcu_callback_t)(struct rcu_head *head);

void rcu_read_lock(void);
void rcu_read_unlock(void);
#define rcu_read_lock_bh()	rcu_read_lock()
#define rcu_read_unlock_bh()	rcu_read_unlock()
#define rcu_read_lock_sched()	rcu_read_lock()
#define rcu_read_unlock_sched()	rcu_read_unlock()
#define rcu_read_lock_held()	(shim_rcu_depth > 0)
#define rcu_read_lock_any_held() (shim_rcu_depth > 0 || in_atomic())

void call_rcu(struct rcu_head *head, rcu_callback_t func);
void shim_kvfree_rcu(void *ptr);
void synchronize_rcu(void);
void rcu_barrier(void);
#define synchronize_rcu_expedited()	synchronize_rcu()
/* kvfree_rcu(ptr, field) or kvfree_rcu(ptr): the field is not needed. */
#define kvfree_rcu(ptr, ...)	shim_kvfree_rcu(ptr)
#define kfree_rcu(ptr, ...)	shim_kvfree_rcu(ptr)
#define kvfree_rcu_mightsleep(ptr)	shim_kvfree_rcu(ptr)

void shim_rcu_check_reader(const char *file, int line, const char *what);

#define rcu_dereference_check(p, c) ({					\
	if (!(c) && !rcu_read_lock_any_held())				\
		shim_rcu_check_reader(__FILE__, __LINE__, #p);		\
	__atomic_load_n(&(p), __ATOMIC_ACQUIRE); })
#define rcu_dereference(p)		rcu_dereference_check(p, 0)
#define rcu_dereference_bh(p)		rcu_dereference_check(p, 0)
#define rcu_dereference_sched(p)	rcu_dereference_check(p, 0)
#define rcu_dereference_raw(p)		__atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define rcu_dereference_protected(p, c) ({				\
	WARN_ONCE(!(c), "rcu_dereference_protected(%s): condition false\n", #p); \
	__atomic_load_n(&(p), __ATOMIC_RELAXED); })
#define rcu_access_pointer(p)		__atomic_load_n(&(p), __ATOMIC_RELAXED)
#define rcu_assign_pointer(p, v)	__atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define RCU_INIT_POINTER(p, v)		__atomic_store_n(&(p), (v), __ATOMIC_RELAXED)
#define rcu_replace_pointer(p, v, c) ({					\
	typeof(p) __old = rcu_dereference_protected(p, c);		\
	rcu_assign_pointer(p, v);					\
	__old; })

#endif /* _UNIT_SHIM_RCU_H */
