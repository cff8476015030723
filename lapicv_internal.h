/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one list of kernel headers lapicv's core files use.
 *
 * The core files (lapic.c, irq.c, irq_route.c, timer.c, inhibit.c,
 * apicv.c, vmx_pi.c, svm_avic.c, vapic.c, emulate.c, events.c) include
 * this header and nothing else from the kernel, so that tests/unit/ can
 * build them as a userspace program: its own copy of this header takes
 * over the include guard and emulates what is listed here (locks that
 * record their owner, atomics, a fake clock).  Anything added here must
 * be emulated there too.
 */
#ifndef _LAPICV_INTERNAL_H
#define _LAPICV_INTERNAL_H

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/cache.h>
#include <linux/hrtimer.h>
#include <linux/kernel.h>
#include <linux/kvm.h>
#include <linux/lockdep.h>
#include <linux/math64.h>
#include <linux/mm_types.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/rwsem.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/static_call.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include <asm/apicdef.h>
#include <asm/cpufeature.h>
#include <asm/msr-index.h>
#include <asm/tsc.h>

#include "compat.h"

#endif /* _LAPICV_INTERNAL_H */
