// SPDX-License-Identifier: GPL-2.0-only
/*
 * tests/unit/shim/shim.c: the out-of-line half of the shim; the headers
 * beside it say what each part emulates and how it differs from the
 * kernel.  Shim-internal state is guarded by plain pthread mutexes, which
 * are invisible to the lock tracking the core's locks go through.
 */
#include <sched.h>
#include <unistd.h>

#include "../lapicv_internal.h"

/* The sanitizers' runtime prints a stack when it is linked in. */
extern void __sanitizer_print_stack_trace(void) __attribute__((__weak__));

static void shim_print_stack(void)
{
	if (__sanitizer_print_stack_trace)
		__sanitizer_print_stack_trace();
}

/* ---- chaos points (stress builds) ---- */

#ifdef SHIM_CHAOS
void shim_chaos_point(void)
{
	static __thread unsigned int seed;

	if (!seed)
		seed = (unsigned int)shim_thread_id() | 1;
	seed = seed * 1103515245 + 12345;
	if (!((seed >> 16) & 7))
		sched_yield();
}
#endif

/* ---- threads and held locks ---- */

__thread struct task_struct shim_current;
__thread int shim_atomic_depth;
__thread int shim_irqs_off;
__thread int shim_rcu_depth;

static __thread char shim_self_tag;

unsigned long shim_thread_id(void)
{
	return (unsigned long)&shim_self_tag;
}

#define SHIM_MAX_HELD	48

struct shim_held_lock {
	const void *lock;
	const char *name;
	enum shim_lock_mode mode;
	const char *file;
	int line;
};

static __thread struct shim_held_lock shim_held[SHIM_MAX_HELD];
static __thread int shim_nheld;

int shim_locks_held_count(void)
{
	return shim_nheld;
}

static int shim_find_held(const void *lock)
{
	int i;

	for (i = shim_nheld - 1; i >= 0; i--)
		if (shim_held[i].lock == lock)
			return i;
	return -1;
}

bool shim_lock_held(const void *lock, enum shim_lock_mode mode)
{
	int i = shim_find_held(lock);

	return i >= 0 && (mode == SHIM_HELD_ANY || shim_held[i].mode == mode);
}

void shim_lock_check_not_held(const void *lock, const char *name,
			      const char *file, int line)
{
	int i = shim_find_held(lock);
	char what[256];

	if (i < 0)
		return;
	snprintf(what, sizeof(what),
		 "recursive locking of %s (already taken at %s:%d): would deadlock",
		 name, shim_held[i].file, shim_held[i].line);
	shim_bug(file, line, what);
}

void shim_lock_acquired(const void *lock, const char *name,
			enum shim_lock_mode mode, const char *file, int line)
{
	if (shim_nheld == SHIM_MAX_HELD)
		shim_bug(file, line, "too many locks held (lock leak?)");
	shim_held[shim_nheld++] = (struct shim_held_lock){
		.lock = lock, .name = name, .mode = mode,
		.file = file, .line = line,
	};
}

void shim_lock_released(const void *lock, const char *name,
			enum shim_lock_mode mode, const char *file, int line)
{
	int i = shim_find_held(lock);
	char what[256];

	if (i < 0 || shim_held[i].mode != mode) {
		snprintf(what, sizeof(what), "release of %s, which this thread %s",
			 name, i < 0 ? "does not hold" : "holds in the other mode");
		shim_bug(file, line, what);
	}
	memmove(&shim_held[i], &shim_held[i + 1],
		(shim_nheld - i - 1) * sizeof(shim_held[0]));
	shim_nheld--;
}

void shim_might_sleep(const char *file, int line)
{
	char what[160];

	if (!shim_atomic_depth && !shim_irqs_off && !shim_rcu_depth)
		return;
	snprintf(what, sizeof(what),
		 "sleeping function called from invalid context (atomic %d, irqs off %d, rcu %d)",
		 shim_atomic_depth, shim_irqs_off, shim_rcu_depth);
	shim_warn(file, line, what);
}

/* ---- WARN / BUG ---- */

static unsigned long shim_warnings;
static unsigned long shim_expected_warns;

/* An expected warning is consumed silently; returns true for those. */
static bool shim_warn_expected(void)
{
	unsigned long exp = __atomic_load_n(&shim_expected_warns, __ATOMIC_RELAXED);

	while (exp) {
		if (__atomic_compare_exchange_n(&shim_expected_warns, &exp, exp - 1,
						false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return true;
	}
	return false;
}

static void shim_warn_report(const char *file, int line, const char *what,
			     const char *msg)
{
	fprintf(stderr, "%s:%d: WARNING: %s%s%s", file, line, what,
		msg ? ": " : "\n", msg ? msg : "");
	shim_print_stack();
	__atomic_add_fetch(&shim_warnings, 1, __ATOMIC_RELAXED);
}

void shim_warn(const char *file, int line, const char *what)
{
	if (!shim_warn_expected())
		shim_warn_report(file, line, what, NULL);
}

void shim_warnf(const char *file, int line, const char *what,
		const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (shim_warn_expected())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	shim_warn_report(file, line, what, msg);
}

void shim_bug(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: kernel BUG: %s\n", file, line, what);
	shim_print_stack();
	abort();
}

unsigned long shim_take_warnings(void)
{
	return __atomic_exchange_n(&shim_warnings, 0, __ATOMIC_RELAXED);
}

void shim_expect_warns(unsigned long n)
{
	__atomic_store_n(&shim_expected_warns, n, __ATOMIC_RELAXED);
}

unsigned long shim_missing_warns(void)
{
	return __atomic_exchange_n(&shim_expected_warns, 0, __ATOMIC_RELAXED);
}

/* ---- printk ---- */

static pthread_mutex_t shim_log_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long shim_nlog;
static char shim_last_log[512];
static int shim_loglevel = -1;

void shim_printk(int level, const char *fmt, ...)
{
	va_list ap;

	if (fmt[0] == '\001' && fmt[1]) {
		level = fmt[1] - '0';
		fmt += 2;
	}
	pthread_mutex_lock(&shim_log_lock);
	if (shim_loglevel < 0)
		shim_loglevel = getenv("LAPICV_UNIT_VERBOSE") ? 7 : 3;
	va_start(ap, fmt);
	vsnprintf(shim_last_log, sizeof(shim_last_log), fmt, ap);
	va_end(ap);
	shim_nlog++;
	if (level <= shim_loglevel)
		fprintf(stderr, "<%d>%s", level, shim_last_log);
	pthread_mutex_unlock(&shim_log_lock);
}

unsigned long shim_log_count(void)
{
	unsigned long n;

	pthread_mutex_lock(&shim_log_lock);
	n = shim_nlog;
	pthread_mutex_unlock(&shim_log_lock);
	return n;
}

const char *shim_log_last(void)
{
	return shim_last_log;
}

/* ---- strings ---- */

int vscnprintf(char *buf, size_t size, const char *fmt, va_list args)
{
	int i = vsnprintf(buf, size, fmt, args);

	if (i < 0)
		return 0;
	if ((size_t)i < size)
		return i;
	return size ? (int)size - 1 : 0;
}

int scnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int i;

	va_start(ap, fmt);
	i = vscnprintf(buf, size, fmt, ap);
	va_end(ap);
	return i;
}

ssize_t strscpy(char *dst, const char *src, size_t count)
{
	size_t len;

	if (!count)
		return -E2BIG;
	len = strnlen(src, count);
	if (len == count) {
		memcpy(dst, src, count - 1);
		dst[count - 1] = '\0';
		return -E2BIG;
	}
	memcpy(dst, src, len + 1);
	return len;
}

/* ---- bit searches ---- */

unsigned long find_next_bit(const unsigned long *addr, unsigned long size,
			    unsigned long offset)
{
	for (; offset < size; offset++)
		if (test_bit(offset, addr))
			return offset;
	return size;
}

unsigned long find_next_zero_bit(const unsigned long *addr, unsigned long size,
				 unsigned long offset)
{
	for (; offset < size; offset++)
		if (!test_bit(offset, addr))
			return offset;
	return size;
}

unsigned long find_last_bit(const unsigned long *addr, unsigned long size)
{
	unsigned long i = size;

	while (i--)
		if (test_bit(i, addr))
			return i;
	return size;
}

/* ---- mutex ---- */

static void shim_check_init(const char **name, const char *kind,
			    const char *file, int line)
{
	char what[96];

	if (*name)
		return;
	snprintf(what, sizeof(what), "%s used without its init function", kind);
	shim_warn(file, line, what);
	*name = "(uninitialised)";
}

void shim_mutex_init(struct mutex *m, const char *name)
{
	pthread_mutex_init(&m->m, NULL);
	m->owner = 0;
	m->name = name;
}

void shim_mutex_destroy(struct mutex *m)
{
	WARN(mutex_is_locked(m), "mutex_destroy(%s) while locked\n", m->name);
	pthread_mutex_destroy(&m->m);
}

void shim_mutex_lock(struct mutex *m, const char *file, int line)
{
	shim_might_sleep(file, line);
	shim_check_init(&m->name, "mutex", file, line);
	shim_lock_check_not_held(m, m->name, file, line);
	pthread_mutex_lock(&m->m);
	__atomic_store_n(&m->owner, shim_thread_id(), __ATOMIC_RELAXED);
	shim_lock_acquired(m, m->name, SHIM_HELD_EXCL, file, line);
}

int shim_mutex_trylock(struct mutex *m, const char *file, int line)
{
	shim_check_init(&m->name, "mutex", file, line);
	if (pthread_mutex_trylock(&m->m))
		return 0;
	__atomic_store_n(&m->owner, shim_thread_id(), __ATOMIC_RELAXED);
	shim_lock_acquired(m, m->name, SHIM_HELD_EXCL, file, line);
	return 1;
}

void shim_mutex_unlock(struct mutex *m, const char *file, int line)
{
	shim_lock_released(m, m->name, SHIM_HELD_EXCL, file, line);
	__atomic_store_n(&m->owner, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&m->m);
}

/* ---- rw_semaphore ---- */

void shim_init_rwsem(struct rw_semaphore *s, const char *name)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
				      PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&s->rw, &attr);
	pthread_rwlockattr_destroy(&attr);
	s->writer = 0;
	s->readers = 0;
	s->name = name;
}

static void shim_rwsem_got_read(struct rw_semaphore *s, const char *file, int line)
{
	__atomic_add_fetch(&s->readers, 1, __ATOMIC_RELAXED);
	shim_lock_acquired(s, s->name, SHIM_HELD_READ, file, line);
}

static void shim_rwsem_got_write(struct rw_semaphore *s, const char *file, int line)
{
	__atomic_store_n(&s->writer, shim_thread_id(), __ATOMIC_RELAXED);
	shim_lock_acquired(s, s->name, SHIM_HELD_EXCL, file, line);
}

void shim_down_read(struct rw_semaphore *s, const char *file, int line)
{
	shim_might_sleep(file, line);
	shim_check_init(&s->name, "rw_semaphore", file, line);
	shim_lock_check_not_held(s, s->name, file, line);
	pthread_rwlock_rdlock(&s->rw);
	shim_rwsem_got_read(s, file, line);
}

int shim_down_read_trylock(struct rw_semaphore *s, const char *file, int line)
{
	shim_check_init(&s->name, "rw_semaphore", file, line);
	if (pthread_rwlock_tryrdlock(&s->rw))
		return 0;
	shim_rwsem_got_read(s, file, line);
	return 1;
}

void shim_up_read(struct rw_semaphore *s, const char *file, int line)
{
	shim_lock_released(s, s->name, SHIM_HELD_READ, file, line);
	__atomic_sub_fetch(&s->readers, 1, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&s->rw);
}

void shim_down_write(struct rw_semaphore *s, const char *file, int line)
{
	shim_might_sleep(file, line);
	shim_check_init(&s->name, "rw_semaphore", file, line);
	shim_lock_check_not_held(s, s->name, file, line);
	pthread_rwlock_wrlock(&s->rw);
	shim_rwsem_got_write(s, file, line);
}

int shim_down_write_trylock(struct rw_semaphore *s, const char *file, int line)
{
	shim_check_init(&s->name, "rw_semaphore", file, line);
	if (pthread_rwlock_trywrlock(&s->rw))
		return 0;
	shim_rwsem_got_write(s, file, line);
	return 1;
}

void shim_up_write(struct rw_semaphore *s, const char *file, int line)
{
	shim_lock_released(s, s->name, SHIM_HELD_EXCL, file, line);
	__atomic_store_n(&s->writer, 0, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&s->rw);
}

/*
 * pthread rw-locks cannot downgrade atomically: a writer may slip in
 * between, which the kernel's downgrade_write() prevents.  Correct code
 * cannot tell, since it re-reads under the read lock anyway.
 */
void shim_downgrade_write(struct rw_semaphore *s, const char *file, int line)
{
	shim_up_write(s, file, line);
	shim_atomic_depth++;	/* no might_sleep() report for this one */
	pthread_rwlock_rdlock(&s->rw);
	shim_atomic_depth--;
	shim_rwsem_got_read(s, file, line);
}

/* ---- spinlocks ---- */

void shim_spin_lock_init(spinlock_t *l, const char *name)
{
	pthread_mutex_init(&l->m, NULL);
	l->owner = 0;
	l->name = name;
}

void shim_spin_lock(spinlock_t *l, const char *file, int line)
{
	shim_check_init(&l->name, "spinlock", file, line);
	shim_lock_check_not_held(l, l->name, file, line);
	pthread_mutex_lock(&l->m);
	__atomic_store_n(&l->owner, shim_thread_id(), __ATOMIC_RELAXED);
	shim_lock_acquired(l, l->name, SHIM_HELD_EXCL, file, line);
	shim_atomic_depth++;
}

int shim_spin_trylock(spinlock_t *l, const char *file, int line)
{
	shim_check_init(&l->name, "spinlock", file, line);
	if (pthread_mutex_trylock(&l->m))
		return 0;
	__atomic_store_n(&l->owner, shim_thread_id(), __ATOMIC_RELAXED);
	shim_lock_acquired(l, l->name, SHIM_HELD_EXCL, file, line);
	shim_atomic_depth++;
	return 1;
}

void shim_spin_unlock(spinlock_t *l, const char *file, int line)
{
	shim_lock_released(l, l->name, SHIM_HELD_EXCL, file, line);
	shim_atomic_depth--;
	__atomic_store_n(&l->owner, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&l->m);
}

/* ---- RCU ---- */

static int shim_rcu_readers;
static pthread_mutex_t shim_rcu_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rcu_head *shim_rcu_head, **shim_rcu_tail = &shim_rcu_head;
static unsigned int shim_rcu_queued;

void rcu_read_lock(void)
{
	shim_rcu_depth++;
	__atomic_add_fetch(&shim_rcu_readers, 1, __ATOMIC_SEQ_CST);
}

void rcu_read_unlock(void)
{
	if (WARN(shim_rcu_depth <= 0, "rcu_read_unlock() without rcu_read_lock()\n"))
		return;
	shim_rcu_depth--;
	__atomic_sub_fetch(&shim_rcu_readers, 1, __ATOMIC_SEQ_CST);
}

void shim_rcu_check_reader(const char *file, int line, const char *what)
{
	char msg[160];

	snprintf(msg, sizeof(msg),
		 "suspicious rcu_dereference(%s) outside an RCU read-side section",
		 what);
	shim_warn(file, line, msg);
}

void call_rcu(struct rcu_head *head, rcu_callback_t func)
{
	head->func = func;
	head->next = NULL;
	pthread_mutex_lock(&shim_rcu_lock);
	*shim_rcu_tail = head;
	shim_rcu_tail = &head->next;
	shim_rcu_queued++;
	pthread_mutex_unlock(&shim_rcu_lock);
}

struct shim_rcu_free {
	struct rcu_head head;
	void *ptr;
};

static void shim_rcu_free_cb(struct rcu_head *head)
{
	struct shim_rcu_free *f = container_of(head, struct shim_rcu_free, head);

	kfree(f->ptr);
	free(f);
}

void shim_kvfree_rcu(void *ptr)
{
	struct shim_rcu_free *f;

	if (!ptr)
		return;
	f = malloc(sizeof(*f));
	if (!f)
		abort();
	f->ptr = ptr;
	call_rcu(&f->head, shim_rcu_free_cb);
}

void synchronize_rcu(void)
{
	might_sleep();
	while (__atomic_load_n(&shim_rcu_readers, __ATOMIC_SEQ_CST))
		sched_yield();
}

unsigned int shim_rcu_flush(void)
{
	struct rcu_head *list, *next;
	unsigned int n = 0;

	for (;;) {
		synchronize_rcu();
		pthread_mutex_lock(&shim_rcu_lock);
		list = shim_rcu_head;
		shim_rcu_head = NULL;
		shim_rcu_tail = &shim_rcu_head;
		shim_rcu_queued = 0;
		pthread_mutex_unlock(&shim_rcu_lock);
		if (!list)
			return n;
		for (; list; list = next, n++) {
			next = list->next;
			list->func(list);
		}
	}
}

void rcu_barrier(void)
{
	shim_rcu_flush();
}

unsigned int shim_rcu_pending(void)
{
	unsigned int n;

	pthread_mutex_lock(&shim_rcu_lock);
	n = shim_rcu_queued;
	pthread_mutex_unlock(&shim_rcu_lock);
	return n;
}

/* ---- allocation ---- */

static long shim_fail_after = -1;
bool shim_alloc_fail_sticky;
static unsigned long shim_live;

void shim_alloc_fail_after(long n)
{
	__atomic_store_n(&shim_fail_after, n, __ATOMIC_SEQ_CST);
}

unsigned long shim_alloc_live(void)
{
	return __atomic_load_n(&shim_live, __ATOMIC_RELAXED);
}

static bool shim_alloc_should_fail(void)
{
	long n = __atomic_load_n(&shim_fail_after, __ATOMIC_SEQ_CST);

	while (n >= 0) {
		long next = n ? n - 1 : (shim_alloc_fail_sticky ? 0 : -1);

		if (__atomic_compare_exchange_n(&shim_fail_after, &n, next, false,
						__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return n == 0;
	}
	return false;
}

void *shim_kmalloc_aligned(size_t size, size_t align, gfp_t gfp,
			   const char *file, int line)
{
	void *p;

	if (gfp & __GFP_DIRECT_RECLAIM)
		shim_might_sleep(file, line);
	if (shim_alloc_should_fail())
		return NULL;
	if (posix_memalign(&p, align, size ? size : 1))
		return NULL;
	if (gfp & __GFP_ZERO)
		memset(p, 0, size);
	__atomic_add_fetch(&shim_live, 1, __ATOMIC_RELAXED);
	return p;
}

/*
 * Kernel kmalloc caches align objects of 64 bytes and more on the cache
 * line, so structures with ____cacheline_aligned members stay aligned.
 */
void *shim_kmalloc(size_t size, gfp_t gfp, const char *file, int line)
{
	size_t align = size >= PAGE_SIZE && !(size % PAGE_SIZE) ? PAGE_SIZE :
		       size >= 64 ? 64 : 16;

	return shim_kmalloc_aligned(size, align, gfp, file, line);
}

void kfree(const void *p)
{
	if (!p)
		return;
	__atomic_sub_fetch(&shim_live, 1, __ATOMIC_RELAXED);
	free((void *)p);
}

void *shim_krealloc(const void *p, size_t size, gfp_t gfp)
{
	void *n;

	if (!p)
		return kmalloc(size, gfp);
	if (shim_alloc_should_fail())
		return NULL;
	n = realloc((void *)p, size ? size : 1);
	return n;
}

struct page *shim_alloc_page(gfp_t gfp, const char *file, int line)
{
	struct page *pg = malloc(sizeof(*pg));

	if (!pg)
		return NULL;
	pg->addr = shim_kmalloc_aligned(PAGE_SIZE, PAGE_SIZE, gfp, file, line);
	if (!pg->addr) {
		free(pg);
		return NULL;
	}
	return pg;
}

void __free_page(struct page *page)
{
	if (!page)
		return;
	kfree(page->addr);
	free(page);
}

/* ---- fake clock, TSC, hrtimers ---- */

static ktime_t shim_now = SHIM_CLOCK_START_NS;
unsigned int tsc_khz = SHIM_TSC_KHZ;
u64 shim_tsc_offset;

static pthread_mutex_t shim_tb_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t shim_tb_cond = PTHREAD_COND_INITIALIZER;
static struct hrtimer *shim_tb_queue;

ktime_t shim_clock_now(void)
{
	return __atomic_load_n(&shim_now, __ATOMIC_SEQ_CST);
}

u64 rdtsc(void)
{
	return shim_tsc_offset +
	       mul_u64_u32_div(shim_clock_now(), tsc_khz, 1000000);
}

/* Under shim_tb_lock. */
static void shim_tb_unqueue(struct hrtimer *t)
{
	struct hrtimer **pp;

	if (!t->queued)
		return;
	for (pp = &shim_tb_queue; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->next = NULL;
	t->queued = false;
}

static void shim_tb_queue_timer(struct hrtimer *t)
{
	t->next = shim_tb_queue;
	shim_tb_queue = t;
	t->queued = true;
}

void hrtimer_init(struct hrtimer *t, clockid_t clock, enum hrtimer_mode mode)
{
	memset(t, 0, sizeof(*t));
	t->initialized = true;
}

void hrtimer_setup(struct hrtimer *t, enum hrtimer_restart (*fn)(struct hrtimer *),
		   clockid_t clock, enum hrtimer_mode mode)
{
	hrtimer_init(t, clock, mode);
	t->function = fn;
}

void hrtimer_start(struct hrtimer *t, ktime_t tim, enum hrtimer_mode mode)
{
	WARN(!t->initialized, "hrtimer_start() before hrtimer_init()\n");
	WARN(!t->function, "hrtimer_start() without a callback\n");
	pthread_mutex_lock(&shim_tb_lock);
	shim_tb_unqueue(t);
	t->expires = (mode & HRTIMER_MODE_REL) ? shim_clock_now() + tim : tim;
	shim_tb_queue_timer(t);
	pthread_mutex_unlock(&shim_tb_lock);
}

int hrtimer_try_to_cancel(struct hrtimer *t)
{
	int ret;

	pthread_mutex_lock(&shim_tb_lock);
	if (t->running && t->running != shim_thread_id()) {
		ret = -1;
	} else {
		ret = t->queued;
		shim_tb_unqueue(t);
	}
	pthread_mutex_unlock(&shim_tb_lock);
	return ret;
}

int hrtimer_cancel(struct hrtimer *t)
{
	int ret;

	pthread_mutex_lock(&shim_tb_lock);
	WARN(t->running == shim_thread_id(),
	     "hrtimer_cancel() from the timer's own callback deadlocks\n");
	while (t->running && t->running != shim_thread_id())
		pthread_cond_wait(&shim_tb_cond, &shim_tb_lock);
	ret = t->queued;
	shim_tb_unqueue(t);
	pthread_mutex_unlock(&shim_tb_lock);
	return ret;
}

bool hrtimer_active(const struct hrtimer *t)
{
	bool r;

	pthread_mutex_lock(&shim_tb_lock);
	r = t->queued || t->running;
	pthread_mutex_unlock(&shim_tb_lock);
	return r;
}

bool hrtimer_is_queued(const struct hrtimer *t)
{
	bool r;

	pthread_mutex_lock(&shim_tb_lock);
	r = t->queued;
	pthread_mutex_unlock(&shim_tb_lock);
	return r;
}

bool hrtimer_callback_running(const struct hrtimer *t)
{
	bool r;

	pthread_mutex_lock(&shim_tb_lock);
	r = t->running;
	pthread_mutex_unlock(&shim_tb_lock);
	return r;
}

u64 hrtimer_forward(struct hrtimer *t, ktime_t now, ktime_t interval)
{
	s64 delta = now - t->expires;
	u64 orun;

	if (delta < 0)
		return 0;
	if (interval < 1)
		interval = 1;
	orun = delta / interval + 1;
	t->expires += orun * interval;
	return orun;
}

#define SHIM_HRTIMER_STORM	10000000U

unsigned int shim_clock_advance(s64 ns)
{
	ktime_t target;
	unsigned int fired = 0;

	WARN(ns < 0, "the fake clock only moves forward\n");
	target = shim_clock_now() + (ns > 0 ? ns : 0);
	for (;;) {
		struct hrtimer *t, *due = NULL;
		enum hrtimer_restart ret;

		pthread_mutex_lock(&shim_tb_lock);
		for (t = shim_tb_queue; t; t = t->next)
			if (t->expires <= target &&
			    (!due || t->expires < due->expires))
				due = t;
		if (!due || fired >= SHIM_HRTIMER_STORM) {
			__atomic_store_n(&shim_now, target, __ATOMIC_SEQ_CST);
			pthread_mutex_unlock(&shim_tb_lock);
			WARN(due, "hrtimer storm: %u expiries in one advance\n", fired);
			return fired;
		}
		shim_tb_unqueue(due);
		if (due->expires > shim_clock_now())
			__atomic_store_n(&shim_now, due->expires, __ATOMIC_SEQ_CST);
		due->running = shim_thread_id();
		pthread_mutex_unlock(&shim_tb_lock);

		/* The callback runs in hard IRQ context. */
		shim_irqs_off++;
		shim_atomic_depth++;
		ret = due->function(due);
		shim_atomic_depth--;
		shim_irqs_off--;
		fired++;

		pthread_mutex_lock(&shim_tb_lock);
		due->running = 0;
		if (ret == HRTIMER_RESTART && !due->queued)
			shim_tb_queue_timer(due);
		pthread_cond_broadcast(&shim_tb_cond);
		pthread_mutex_unlock(&shim_tb_lock);
	}
}

unsigned int shim_hrtimers_queued(void)
{
	struct hrtimer *t;
	unsigned int n = 0;

	pthread_mutex_lock(&shim_tb_lock);
	for (t = shim_tb_queue; t; t = t->next)
		n++;
	pthread_mutex_unlock(&shim_tb_lock);
	return n;
}

void shim_clock_reset(void)
{
	pthread_mutex_lock(&shim_tb_lock);
	while (shim_tb_queue)
		shim_tb_unqueue(shim_tb_queue);
	__atomic_store_n(&shim_now, SHIM_CLOCK_START_NS, __ATOMIC_SEQ_CST);
	tsc_khz = SHIM_TSC_KHZ;
	shim_tsc_offset = 0;
	pthread_mutex_unlock(&shim_tb_lock);
}

/* ---- xarray ---- */

void xa_init_flags(struct xarray *xa, unsigned int flags)
{
	memset(xa, 0, sizeof(*xa));
	spin_lock_init(&xa->xa_lock);
	pthread_mutex_init(&xa->ilock, NULL);
	xa->flags = flags;
}

void xa_destroy(struct xarray *xa)
{
	pthread_mutex_lock(&xa->ilock);
	free(xa->idx);
	free(xa->ent);
	xa->idx = NULL;
	xa->ent = NULL;
	xa->nr = xa->cap = 0;
	pthread_mutex_unlock(&xa->ilock);
}

/* The position of index, or where it would go; under ilock. */
static unsigned int shim_xa_pos(struct xarray *xa, unsigned long index)
{
	unsigned int lo = 0, hi = xa->nr;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (xa->idx[mid] < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void *xa_load(struct xarray *xa, unsigned long index)
{
	unsigned int pos;
	void *e = NULL;

	pthread_mutex_lock(&xa->ilock);
	pos = shim_xa_pos(xa, index);
	if (pos < xa->nr && xa->idx[pos] == index)
		e = xa->ent[pos];
	pthread_mutex_unlock(&xa->ilock);
	return e;
}

/* Store or erase (entry NULL); returns the old entry or an error. */
static void *shim_xa_set(struct xarray *xa, unsigned long index, void *entry,
			 bool insert)
{
	unsigned int pos;
	void *old = NULL;

	pthread_mutex_lock(&xa->ilock);
	pos = shim_xa_pos(xa, index);
	if (pos < xa->nr && xa->idx[pos] == index) {
		old = xa->ent[pos];
		if (insert) {
			old = ERR_PTR(-EBUSY);
		} else if (entry) {
			xa->ent[pos] = entry;
		} else {
			memmove(&xa->idx[pos], &xa->idx[pos + 1],
				(xa->nr - pos - 1) * sizeof(*xa->idx));
			memmove(&xa->ent[pos], &xa->ent[pos + 1],
				(xa->nr - pos - 1) * sizeof(*xa->ent));
			xa->nr--;
		}
		goto out;
	}
	if (!entry)
		goto out;
	if (xa->nr == xa->cap) {
		unsigned int cap = xa->cap ? xa->cap * 2 : 8;
		unsigned long *idx = realloc(xa->idx, cap * sizeof(*idx));
		void **ent;

		if (idx)
			xa->idx = idx;
		ent = idx ? realloc(xa->ent, cap * sizeof(*ent)) : NULL;
		if (!ent) {
			old = ERR_PTR(-ENOMEM);
			goto out;
		}
		xa->ent = ent;
		xa->cap = cap;
	}
	memmove(&xa->idx[pos + 1], &xa->idx[pos], (xa->nr - pos) * sizeof(*xa->idx));
	memmove(&xa->ent[pos + 1], &xa->ent[pos], (xa->nr - pos) * sizeof(*xa->ent));
	xa->idx[pos] = index;
	xa->ent[pos] = entry;
	xa->nr++;
out:
	pthread_mutex_unlock(&xa->ilock);
	return old;
}

static void shim_xa_assert_locked(struct xarray *xa)
{
	WARN(!shim_lock_held(&xa->xa_lock, SHIM_HELD_EXCL),
	     "__xa_*() without xa_lock() held\n");
}

void *__xa_store(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp)
{
	shim_xa_assert_locked(xa);
	return shim_xa_set(xa, index, entry, false);
}

void *xa_store(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp)
{
	void *old;

	if (gfp & __GFP_DIRECT_RECLAIM)
		might_sleep();
	xa_lock(xa);
	old = __xa_store(xa, index, entry, gfp);
	xa_unlock(xa);
	return old;
}

int __xa_insert(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp)
{
	void *r;

	shim_xa_assert_locked(xa);
	if (WARN(!entry, "xa_insert() of NULL is not emulated\n"))
		return -EINVAL;
	r = shim_xa_set(xa, index, entry, true);
	return IS_ERR(r) ? (int)PTR_ERR(r) : 0;
}

int xa_insert(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp)
{
	int r;

	if (gfp & __GFP_DIRECT_RECLAIM)
		might_sleep();
	xa_lock(xa);
	r = __xa_insert(xa, index, entry, gfp);
	xa_unlock(xa);
	return r;
}

void *__xa_erase(struct xarray *xa, unsigned long index)
{
	shim_xa_assert_locked(xa);
	return shim_xa_set(xa, index, NULL, false);
}

void *xa_erase(struct xarray *xa, unsigned long index)
{
	void *old;

	xa_lock(xa);
	old = __xa_erase(xa, index);
	xa_unlock(xa);
	return old;
}

int xa_alloc(struct xarray *xa, u32 *id, void *entry, struct xa_limit limit,
	     gfp_t gfp)
{
	u64 i;
	int r = -EBUSY;

	xa_lock(xa);
	for (i = limit.min; i <= limit.max; i++) {
		if (xa_load(xa, i))
			continue;
		r = __xa_insert(xa, i, entry, gfp);
		if (!r)
			*id = i;
		break;
	}
	xa_unlock(xa);
	return r;
}

bool xa_empty(struct xarray *xa)
{
	bool e;

	pthread_mutex_lock(&xa->ilock);
	e = !xa->nr;
	pthread_mutex_unlock(&xa->ilock);
	return e;
}

void *xa_find(struct xarray *xa, unsigned long *index, unsigned long max,
	      unsigned int filter)
{
	unsigned int pos;
	void *e = NULL;

	pthread_mutex_lock(&xa->ilock);
	pos = shim_xa_pos(xa, *index);
	if (pos < xa->nr && xa->idx[pos] <= max) {
		*index = xa->idx[pos];
		e = xa->ent[pos];
	}
	pthread_mutex_unlock(&xa->ilock);
	return e;
}

void *xa_find_after(struct xarray *xa, unsigned long *index, unsigned long max,
		    unsigned int filter)
{
	unsigned long next = *index + 1;
	void *e;

	if (*index == ULONG_MAX)
		return NULL;
	e = xa_find(xa, &next, max, filter);
	if (e)
		*index = next;
	return e;
}

/* ---- wait queues ---- */

void init_waitqueue_head(wait_queue_head_t *wq)
{
	pthread_mutex_init(&wq->m, NULL);
	pthread_cond_init(&wq->c, NULL);
	wq->wakeups = 0;
	wq->idle_kicks = 0;
	wq->waiters = 0;
}

bool shim_wq_has_sleeper(wait_queue_head_t *wq)
{
	/* Sequentially consistent, as the kernel's smp_mb() makes it. */
	if (__atomic_load_n(&wq->waiters, __ATOMIC_SEQ_CST) > 0)
		return true;
	__atomic_fetch_add(&wq->idle_kicks, 1, __ATOMIC_RELAXED);
	return false;
}

void shim_wake_up(wait_queue_head_t *wq)
{
	pthread_mutex_lock(&wq->m);
	wq->wakeups++;
	pthread_cond_broadcast(&wq->c);
	pthread_mutex_unlock(&wq->m);
}

unsigned long shim_wq_wakeups(wait_queue_head_t *wq)
{
	unsigned long n;

	pthread_mutex_lock(&wq->m);
	n = wq->wakeups + __atomic_load_n(&wq->idle_kicks, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&wq->m);
	return n;
}

unsigned long shim_wq_enter(wait_queue_head_t *wq)
{
	unsigned long seq;

	pthread_mutex_lock(&wq->m);
	__atomic_add_fetch(&wq->waiters, 1, __ATOMIC_SEQ_CST);
	seq = wq->wakeups;
	pthread_mutex_unlock(&wq->m);
	return seq;
}

int shim_wq_sleep(wait_queue_head_t *wq, unsigned long seq, s64 deadline_ns)
{
	int ret = 0;

	pthread_mutex_lock(&wq->m);
	while (wq->wakeups == seq) {
		struct timespec ts;

		if (__atomic_load_n(&current->sigpending, __ATOMIC_RELAXED)) {
			ret = -ERESTARTSYS;
			break;
		}
		if (shim_clock_now() >= deadline_ns) {
			ret = 1;
			break;
		}
		/* Poll the fake clock and signals every millisecond. */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 1000000;
		if (ts.tv_nsec >= NSEC_PER_SEC) {
			ts.tv_sec++;
			ts.tv_nsec -= NSEC_PER_SEC;
		}
		pthread_cond_timedwait(&wq->c, &wq->m, &ts);
	}
	pthread_mutex_unlock(&wq->m);
	return ret;
}

void shim_wq_leave(wait_queue_head_t *wq)
{
	__atomic_sub_fetch(&wq->waiters, 1, __ATOMIC_SEQ_CST);
}

/* ---- static calls ---- */

long __static_call_return0(void)
{
	return 0;
}

void __static_call_nop(void)
{
}

/* ---- host CPU features ---- */

unsigned long shim_cpu_caps[BITS_TO_LONGS(SHIM_NCAPINTS * 32)];

void shim_reset_cpu_caps(void)
{
	memset(shim_cpu_caps, 0, sizeof(shim_cpu_caps));
	shim_set_cpu_cap(X86_FEATURE_MSR);
	shim_set_cpu_cap(X86_FEATURE_APIC);
	shim_set_cpu_cap(X86_FEATURE_X2APIC);
	shim_set_cpu_cap(X86_FEATURE_TSC_DEADLINE_TIMER);
	shim_set_cpu_cap(X86_FEATURE_XSAVE);
}

/* Programs that do not go through the runner start from the same host. */
__attribute__((__constructor__)) static void shim_init(void)
{
	shim_reset_cpu_caps();
}

/* ---- between tests ---- */

void shim_reset(void)
{
	shim_rcu_flush();
	shim_clock_reset();
	shim_alloc_fail_after(-1);
	shim_alloc_fail_sticky = false;
	shim_take_warnings();
	shim_expect_warns(0);
	current->sigpending = false;
	shim_reset_cpu_caps();
}

/* npt.c's hooks in vapic.c: the unit build has no nested page tables. */
struct lapicv_vm;
struct lapicv_memslot;
void lapicv_memslot_unmap_begin(struct lapicv_vm *vm,
				const struct lapicv_memslot *old);
void lapicv_memslot_unmap_end(struct lapicv_vm *vm,
			      const struct lapicv_memslot *old);

void lapicv_memslot_unmap_begin(struct lapicv_vm *vm,
				const struct lapicv_memslot *old)
{
}

void lapicv_memslot_unmap_end(struct lapicv_vm *vm,
			      const struct lapicv_memslot *old)
{
}
