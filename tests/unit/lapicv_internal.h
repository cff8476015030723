/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tests/unit: the userspace stand-in for lapicv's lapicv_internal.h.
 *
 * It carries the same include guard as the kernel list.  The unit build
 * force-includes this file first in every translation unit (-include), so
 * when a core file later includes "lapicv_internal.h" the kernel headers
 * are skipped and the emulations below take their place: the core .c and
 * .h files build unchanged, without #ifdefs (tools/testing/vma's trick).
 *
 * The emulation is real where a bug could hide (ZFS libzpool's approach):
 * locks record their owner so lockdep assertions check, atomics are
 * atomic, RCU and sleeping contexts are tracked, WARN_ON fails the test,
 * time only moves when the test moves it.  Each shim/ header says what it
 * emulates and where it differs from the kernel; Documentation/testing.rst
 * ("Unit build") has the overview.  Anything added to the kernel list must
 * be emulated here too.
 */
#ifndef _LAPICV_INTERNAL_H
#define _LAPICV_INTERNAL_H

#include "shim/compiler.h"
#include "shim/bug.h"
#include "shim/atomic.h"
#include "shim/locks.h"
#include "shim/rcu.h"
#include "shim/slab.h"
#include "shim/ktime.h"
#include "shim/xarray.h"
#include "shim/wait.h"
#include "shim/static_call.h"
#include "shim/apicdef.h"
#include "shim/cpufeature.h"
#include "shim/msr-index.h"
#include "shim/control.h"

/* KVM's uAPI structures (struct kvm_lapic_state, ...): linux-libc-dev. */
#include <linux/kvm.h>

#include "../../compat.h"

#endif /* _LAPICV_INTERNAL_H */
