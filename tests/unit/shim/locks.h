/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * shim/locks.h: mutexes, rw-semaphores, spinlocks, IRQ and preemption
 * state, and lockdep's assertions (<linux/mutex.h>, <linux/rwsem.h>,
 * <linux/spinlock.h>, <linux/lockdep.h>, <linux/irqflags.h>,
 * <linux/preempt.h>, might_sleep()).
 *
 * Every lock is a pthread lock that also records who holds it: each thread
 * keeps a stack of the locks it holds (lock address, mode, where taken),
 * as lockdep's held_locks does.  So the assertions check for real:
 * lockdep_assert_held(l) fails the test unless this thread holds l,
 * lockdep_assert_held_write() unless it holds it for write,
 * mutex_is_locked() tells whether any thread holds the mutex.  Taking a
 * lock this thread already holds, or releasing one it does not hold,
 * warns (the first would deadlock; it aborts instead of hanging).
 *
 * Context tracking: holding a spinlock, disabling IRQs or preemption, an
 * RCU read-side section and an hrtimer callback make the thread "atomic";
 * might_sleep() (and so mutex_lock(), down_read(), GFP_KERNEL allocations,
 * synchronize_rcu()) warns there, like CONFIG_DEBUG_ATOMIC_SLEEP.
 *
 * Differences from the kernel: no lock-order (dependency graph) checking;
 * rw-semaphores prefer writers (glibc's writer-preferring kind), close to
 * the kernel's hand-off; spinlocks block rather than spin; IRQs are not
 * real, "disabled" is only a per-thread flag.
 */
#ifndef _UNIT_SHIM_LOCKS_H
#define _UNIT_SHIM_LOCKS_H

#include <pthread.h>

enum shim_lock_mode {
	SHIM_HELD_ANY,		/* for queries only */
	SHIM_HELD_EXCL,		/* mutex, spinlock, rwsem for write */
	SHIM_HELD_READ,		/* rwsem for read */
};

void shim_lock_acquired(const void *lock, const char *name,
			enum shim_lock_mode mode, const char *file, int line);
void shim_lock_released(const void *lock, const char *name,
			enum shim_lock_mode mode, const char *file, int line);
bool shim_lock_held(const void *lock, enum shim_lock_mode mode);
void shim_lock_check_not_held(const void *lock, const char *name,
			      const char *file, int line);
/* Number of locks this thread holds (the test runner expects 0). */
int shim_locks_held_count(void);
unsigned long shim_thread_id(void);

/* Atomic-context tracking; see the top of this file. */
extern __thread int shim_atomic_depth;
extern __thread int shim_irqs_off;
extern __thread int shim_rcu_depth;
void shim_might_sleep(const char *file, int line);
#define might_sleep()		shim_might_sleep(__FILE__, __LINE__)
#define might_sleep_if(c)	do { if (c) might_sleep(); } while (0)
#define cond_resched()		({ might_sleep(); 0; })
#define in_atomic()		(shim_atomic_depth || shim_irqs_off)
#define in_task()		(!in_atomic())
#define in_interrupt()		0
#define preemptible()		(!in_atomic() && !shim_rcu_depth)

#define preempt_disable()	do { shim_atomic_depth++; } while (0)
#define preempt_enable()	do { WARN_ON(--shim_atomic_depth < 0); } while (0)
#define preempt_enable_no_resched()	preempt_enable()

static inline unsigned long shim_irq_save(void) { return shim_irqs_off++; }
#define local_irq_save(flags)	do { (flags) = shim_irq_save(); } while (0)
#define local_irq_restore(flags) do {					\
	WARN_ON(shim_irqs_off <= 0);					\
	shim_irqs_off--;						\
	WARN_ON((unsigned long)shim_irqs_off != (flags));		\
} while (0)
#define local_irq_disable()	do { shim_irqs_off++; } while (0)
#define local_irq_enable()	do { WARN_ON(--shim_irqs_off < 0); } while (0)
#define irqs_disabled()		(shim_irqs_off > 0)

/* ---- lockdep ---- */
#define lockdep_is_held(l)	shim_lock_held(l, SHIM_HELD_ANY)
#define lockdep_assert_held(l)						\
	WARN(!shim_lock_held(l, SHIM_HELD_ANY),				\
	     "lockdep_assert_held(%s): not held by this thread\n", #l)
#define lockdep_assert_held_write(l)					\
	WARN(!shim_lock_held(l, SHIM_HELD_EXCL),			\
	     "lockdep_assert_held_write(%s): not held for write\n", #l)
#define lockdep_assert_held_read(l)					\
	WARN(!shim_lock_held(l, SHIM_HELD_READ),			\
	     "lockdep_assert_held_read(%s): not held for read\n", #l)
#define lockdep_assert_held_once(l)	lockdep_assert_held(l)
#define lockdep_assert_not_held(l)					\
	WARN(shim_lock_held(l, SHIM_HELD_ANY),				\
	     "lockdep_assert_not_held(%s): held by this thread\n", #l)
#define lockdep_assert_none_held_once()					\
	WARN_ON_ONCE(shim_locks_held_count())
#define lockdep_assert_irqs_disabled()	WARN_ON(!irqs_disabled())
#define lockdep_assert_irqs_enabled()	WARN_ON(irqs_disabled())
#define lockdep_assert_preemption_disabled()	WARN_ON(!in_atomic())
#define lockdep_set_class(l, k)		do { } while (0)
#define lockdep_off()			do { } while (0)
#define lockdep_on()			do { } while (0)
struct lock_class_key { char unused; };

/* ---- mutex ---- */
struct mutex {
	pthread_mutex_t m;
	unsigned long owner;	/* shim_thread_id() of the holder, or 0 */
	const char *name;
};
#define __MUTEX_INITIALIZER(n)	{ .m = PTHREAD_MUTEX_INITIALIZER, .name = #n }
#define DEFINE_MUTEX(n)		struct mutex n = __MUTEX_INITIALIZER(n)

void shim_mutex_init(struct mutex *m, const char *name);
void shim_mutex_destroy(struct mutex *m);
void shim_mutex_lock(struct mutex *m, const char *file, int line);
int shim_mutex_trylock(struct mutex *m, const char *file, int line);
void shim_mutex_unlock(struct mutex *m, const char *file, int line);

#define mutex_init(m)		shim_mutex_init(m, #m)
#define mutex_destroy(m)	shim_mutex_destroy(m)
#define mutex_lock(m)		shim_mutex_lock(m, __FILE__, __LINE__)
#define mutex_lock_nested(m, s)	mutex_lock(m)
#define mutex_lock_interruptible(m) ({ mutex_lock(m); 0; })
#define mutex_lock_killable(m)	({ mutex_lock(m); 0; })
#define mutex_trylock(m)	shim_mutex_trylock(m, __FILE__, __LINE__)
#define mutex_unlock(m)		shim_mutex_unlock(m, __FILE__, __LINE__)
#define mutex_is_locked(m)	(__atomic_load_n(&(m)->owner, __ATOMIC_RELAXED) != 0)

/* ---- rw_semaphore ---- */
struct rw_semaphore {
	pthread_rwlock_t rw;
	unsigned long writer;	/* shim_thread_id() of the writer, or 0 */
	int readers;		/* threads holding it for read */
	const char *name;
};

void shim_init_rwsem(struct rw_semaphore *s, const char *name);
void shim_down_read(struct rw_semaphore *s, const char *file, int line);
int shim_down_read_trylock(struct rw_semaphore *s, const char *file, int line);
void shim_up_read(struct rw_semaphore *s, const char *file, int line);
void shim_down_write(struct rw_semaphore *s, const char *file, int line);
int shim_down_write_trylock(struct rw_semaphore *s, const char *file, int line);
void shim_up_write(struct rw_semaphore *s, const char *file, int line);
void shim_downgrade_write(struct rw_semaphore *s, const char *file, int line);

#define init_rwsem(s)		shim_init_rwsem(s, #s)
#define down_read(s)		shim_down_read(s, __FILE__, __LINE__)
#define down_read_trylock(s)	shim_down_read_trylock(s, __FILE__, __LINE__)
#define down_read_killable(s)	({ down_read(s); 0; })
#define up_read(s)		shim_up_read(s, __FILE__, __LINE__)
#define down_write(s)		shim_down_write(s, __FILE__, __LINE__)
#define down_write_trylock(s)	shim_down_write_trylock(s, __FILE__, __LINE__)
#define down_write_killable(s)	({ down_write(s); 0; })
#define up_write(s)		shim_up_write(s, __FILE__, __LINE__)
#define downgrade_write(s)	shim_downgrade_write(s, __FILE__, __LINE__)
#define rwsem_is_locked(s)						\
	(__atomic_load_n(&(s)->writer, __ATOMIC_RELAXED) ||		\
	 __atomic_load_n(&(s)->readers, __ATOMIC_RELAXED))

/* ---- spinlocks (raw and not: the same here) ---- */
typedef struct spinlock {
	pthread_mutex_t m;
	unsigned long owner;
	const char *name;
} spinlock_t;
typedef spinlock_t raw_spinlock_t;
#define __SPIN_LOCK_UNLOCKED(n)	{ .m = PTHREAD_MUTEX_INITIALIZER, .name = #n }
#define DEFINE_SPINLOCK(n)	spinlock_t n = __SPIN_LOCK_UNLOCKED(n)
#define DEFINE_RAW_SPINLOCK(n)	DEFINE_SPINLOCK(n)

void shim_spin_lock_init(spinlock_t *l, const char *name);
void shim_spin_lock(spinlock_t *l, const char *file, int line);
int shim_spin_trylock(spinlock_t *l, const char *file, int line);
void shim_spin_unlock(spinlock_t *l, const char *file, int line);

#define spin_lock_init(l)	shim_spin_lock_init(l, #l)
#define spin_lock(l)		shim_spin_lock(l, __FILE__, __LINE__)
#define spin_trylock(l)		shim_spin_trylock(l, __FILE__, __LINE__)
#define spin_unlock(l)		shim_spin_unlock(l, __FILE__, __LINE__)
#define spin_lock_irq(l)	do { local_irq_disable(); spin_lock(l); } while (0)
#define spin_unlock_irq(l)	do { spin_unlock(l); local_irq_enable(); } while (0)
#define spin_lock_irqsave(l, f)	do { local_irq_save(f); spin_lock(l); } while (0)
#define spin_unlock_irqrestore(l, f) do { spin_unlock(l); local_irq_restore(f); } while (0)
#define spin_lock_bh(l)		spin_lock(l)
#define spin_unlock_bh(l)	spin_unlock(l)
#define assert_spin_locked(l)	WARN_ON(!__atomic_load_n(&(l)->owner, __ATOMIC_RELAXED))
#define spin_is_locked(l)	(__atomic_load_n(&(l)->owner, __ATOMIC_RELAXED) != 0)
#define raw_spin_lock_init	spin_lock_init
#define raw_spin_lock		spin_lock
#define raw_spin_trylock	spin_trylock
#define raw_spin_unlock		spin_unlock
#define raw_spin_lock_irq	spin_lock_irq
#define raw_spin_unlock_irq	spin_unlock_irq
#define raw_spin_lock_irqsave	spin_lock_irqsave
#define raw_spin_unlock_irqrestore	spin_unlock_irqrestore

#endif /* _UNIT_SHIM_LOCKS_H */
