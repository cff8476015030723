/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * shim/ktime.h: a fake clock, hrtimers on it, the TSC and 64-bit maths
 * (<linux/ktime.h>, <linux/hrtimer.h>, <linux/jiffies.h>, <asm/tsc.h>,
 * <linux/math64.h>).
 *
 * Time stands still until a test moves it: ktime_get() returns the fake
 * CLOCK_MONOTONIC (starting at SHIM_CLOCK_START_NS, not 0, so "0 means
 * unset" bugs show), and shim_clock_advance(ns) moves it forward, firing
 * every hrtimer that falls due, in expiry order, with the clock set to
 * each timer's expiry while its callback runs.  Callbacks run in the
 * advancing thread in "hard IRQ" context (atomic, IRQs off: sleeping in
 * one warns); HRTIMER_RESTART re-queues at the expiry the callback set.
 * A timer started in the past fires at the next advance (shim_clock_run()
 * advances by 0), never inside hrtimer_start(), which differs from the
 * kernel only in when the callback runs.  hrtimer_cancel() waits for a
 * callback running in another thread.
 *
 * The TSC runs at tsc_khz (default SHIM_TSC_KHZ, deliberately not 1 GHz so
 * unit mix-ups show) from the fake clock: rdtsc() = shim_tsc_offset +
 * ns * tsc_khz / 10^6.
 */
#ifndef _UNIT_SHIM_KTIME_H
#define _UNIT_SHIM_KTIME_H

#include <time.h>

typedef s64 ktime_t;

#define NSEC_PER_USEC	1000L
#define NSEC_PER_MSEC	1000000L
#define NSEC_PER_SEC	1000000000L
#define USEC_PER_MSEC	1000L
#define USEC_PER_SEC	1000000L
#define MSEC_PER_SEC	1000L
#define KTIME_MAX	((s64)~((u64)1 << 63))

#define SHIM_CLOCK_START_NS	1000000000LL
#define SHIM_TSC_KHZ		2500000U

ktime_t shim_clock_now(void);
/* Move the clock forward by ns, firing due hrtimers; returns how many fired. */
unsigned int shim_clock_advance(s64 ns);
#define shim_clock_run()	shim_clock_advance(0)

static inline ktime_t ktime_get(void) { return shim_clock_now(); }
static inline u64 ktime_get_ns(void) { return shim_clock_now(); }
static inline ktime_t ktime_get_boottime(void) { return shim_clock_now(); }
static inline ktime_t ktime_get_raw(void) { return shim_clock_now(); }
static inline ktime_t ktime_set(s64 secs, unsigned long nsecs)
{ return secs * NSEC_PER_SEC + (s64)nsecs; }
#define ktime_add(a, b)		((a) + (b))
#define ktime_sub(a, b)		((a) - (b))
#define ktime_add_ns(kt, ns)	((kt) + (s64)(ns))
#define ktime_sub_ns(kt, ns)	((kt) - (s64)(ns))
#define ktime_add_us(kt, us)	((kt) + (s64)(us) * NSEC_PER_USEC)
#define ktime_to_ns(kt)		((s64)(kt))
#define ktime_to_us(kt)		((s64)(kt) / NSEC_PER_USEC)
#define ktime_to_ms(kt)		((s64)(kt) / NSEC_PER_MSEC)
#define ns_to_ktime(ns)		((ktime_t)(ns))
#define ms_to_ktime(ms)		((ktime_t)(ms) * NSEC_PER_MSEC)
#define us_to_ktime(us)		((ktime_t)(us) * NSEC_PER_USEC)
#define ktime_compare(a, b)	((a) < (b) ? -1 : (a) > (b) ? 1 : 0)
#define ktime_after(a, b)	((a) > (b))
#define ktime_before(a, b)	((a) < (b))

/* Jiffies of the fake clock (HZ 250, as Debian's kernels). */
#define HZ			250
#define jiffies			((unsigned long)(shim_clock_now() / (NSEC_PER_SEC / HZ)))
#define jiffies_to_nsecs(j)	((s64)(j) * (NSEC_PER_SEC / HZ))
#define msecs_to_jiffies(ms)	((unsigned long)DIV_ROUND_UP((u64)(ms) * HZ, MSEC_PER_SEC))
#define usecs_to_jiffies(us)	((unsigned long)DIV_ROUND_UP((u64)(us) * HZ, USEC_PER_SEC))
#define nsecs_to_jiffies(ns)	((unsigned long)((u64)(ns) / (NSEC_PER_SEC / HZ)))
#define time_after(a, b)	((long)((b) - (a)) < 0)
#define time_before(a, b)	time_after(b, a)
#define time_after_eq(a, b)	((long)((a) - (b)) >= 0)
#define time_before_eq(a, b)	time_after_eq(b, a)

/* <linux/math64.h> */
static inline u64 div_u64_rem(u64 d, u32 div, u32 *rem) { *rem = d % div; return d / div; }
static inline u64 div_u64(u64 d, u32 div) { return d / div; }
static inline s64 div_s64(s64 d, s32 div) { return d / div; }
static inline u64 div64_u64(u64 d, u64 div) { return d / div; }
static inline s64 div64_s64(s64 d, s64 div) { return d / div; }
static inline u64 div64_u64_rem(u64 d, u64 div, u64 *rem) { *rem = d % div; return d / div; }
static inline u64 mul_u32_u32(u32 a, u32 b) { return (u64)a * b; }
static inline u64 mul_u64_u32_div(u64 a, u32 mul, u32 div)
{ return (u64)((unsigned __int128)a * mul / div); }
static inline u64 mul_u64_u64_div_u64(u64 a, u64 mul, u64 div)
{ return (u64)((unsigned __int128)a * mul / div); }
static inline u64 mul_u64_u32_shr(u64 a, u32 mul, unsigned int shift)
{ return (u64)(((unsigned __int128)a * mul) >> shift); }
static inline u64 mul_u64_u64_shr(u64 a, u64 mul, unsigned int shift)
{ return (u64)(((unsigned __int128)a * mul) >> shift); }
/* do_div(n, base): n becomes the quotient; evaluates to the remainder. */
#define do_div(n, base) ({						\
	u32 __base = (base);						\
	u32 __rem = (u32)((u64)(n) % __base);				\
	(n) = (u64)(n) / __base;					\
	__rem; })

/* <asm/tsc.h> */
extern unsigned int tsc_khz;
extern u64 shim_tsc_offset;
u64 rdtsc(void);
#define rdtsc_ordered()		rdtsc()

/* <linux/hrtimer.h> */
enum hrtimer_restart { HRTIMER_NORESTART, HRTIMER_RESTART };
enum hrtimer_mode {
	HRTIMER_MODE_ABS	= 0x00,
	HRTIMER_MODE_REL	= 0x01,
	HRTIMER_MODE_PINNED	= 0x02,
	HRTIMER_MODE_SOFT	= 0x04,
	HRTIMER_MODE_HARD	= 0x08,
	HRTIMER_MODE_ABS_PINNED	= HRTIMER_MODE_ABS | HRTIMER_MODE_PINNED,
	HRTIMER_MODE_REL_PINNED	= HRTIMER_MODE_REL | HRTIMER_MODE_PINNED,
	HRTIMER_MODE_ABS_SOFT	= HRTIMER_MODE_ABS | HRTIMER_MODE_SOFT,
	HRTIMER_MODE_REL_SOFT	= HRTIMER_MODE_REL | HRTIMER_MODE_SOFT,
	HRTIMER_MODE_ABS_HARD	= HRTIMER_MODE_ABS | HRTIMER_MODE_HARD,
	HRTIMER_MODE_REL_HARD	= HRTIMER_MODE_REL | HRTIMER_MODE_HARD,
	HRTIMER_MODE_ABS_PINNED_HARD = HRTIMER_MODE_ABS_PINNED | HRTIMER_MODE_HARD,
	HRTIMER_MODE_REL_PINNED_HARD = HRTIMER_MODE_REL_PINNED | HRTIMER_MODE_HARD,
};

struct hrtimer {
	ktime_t expires;
	enum hrtimer_restart (*function)(struct hrtimer *timer);
	/* Shim state, under the timer base's lock. */
	struct hrtimer *next;		/* in the queue of pending timers */
	bool queued;
	bool initialized;
	unsigned long running;		/* shim_thread_id() of the callback */
};

void hrtimer_init(struct hrtimer *t, clockid_t clock, enum hrtimer_mode mode);
void hrtimer_setup(struct hrtimer *t,
		   enum hrtimer_restart (*fn)(struct hrtimer *),
		   clockid_t clock, enum hrtimer_mode mode);
void hrtimer_start(struct hrtimer *t, ktime_t tim, enum hrtimer_mode mode);
#define hrtimer_start_range_ns(t, tim, slack, mode)	hrtimer_start(t, tim, mode)
int hrtimer_cancel(struct hrtimer *t);
int hrtimer_try_to_cancel(struct hrtimer *t);
bool hrtimer_active(const struct hrtimer *t);
bool hrtimer_is_queued(const struct hrtimer *t);
bool hrtimer_callback_running(const struct hrtimer *t);
u64 hrtimer_forward(struct hrtimer *t, ktime_t now, ktime_t interval);
#define hrtimer_forward_now(t, iv)	hrtimer_forward(t, ktime_get(), iv)
#define hrtimer_cb_get_time(t)		ktime_get()
static inline void hrtimer_set_expires(struct hrtimer *t, ktime_t time)
{ t->expires = time; }
static inline void hrtimer_add_expires_ns(struct hrtimer *t, u64 ns)
{ t->expires += ns; }
static inline ktime_t hrtimer_get_expires(const struct hrtimer *t)
{ return t->expires; }
static inline ktime_t hrtimer_get_remaining(const struct hrtimer *t)
{ return t->expires - ktime_get(); }
#define hrtimer_expires_remaining(t)	hrtimer_get_remaining(t)

#endif /* _UNIT_SHIM_KTIME_H */
