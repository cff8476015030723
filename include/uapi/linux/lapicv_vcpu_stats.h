/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * The counters of struct lapicv_vcpu_stats (<linux/lapicv.h>), reserved
 * aside, in order: one LAPICV_VCPU_STAT(field) line each, for tools that
 * name them.  No include guard on purpose: the includer defines
 * LAPICV_VCPU_STAT, includes this file, and it is undefined again here.
 */
#ifndef LAPICV_VCPU_STAT
#error "define LAPICV_VCPU_STAT(field) before including this list"
#endif

LAPICV_VCPU_STAT(runs)
LAPICV_VCPU_STAT(nmi_injections)
LAPICV_VCPU_STAT(extint_injections)
LAPICV_VCPU_STAT(intr_injections)
LAPICV_VCPU_STAT(virtual_intr_deliveries)
LAPICV_VCPU_STAT(irq_windows)
LAPICV_VCPU_STAT(halts)
LAPICV_VCPU_STAT(halt_wakeups)
LAPICV_VCPU_STAT(apicv_activations)
LAPICV_VCPU_STAT(apicv_deactivations)
LAPICV_VCPU_STAT(pi_notifications)
LAPICV_VCPU_STAT(pi_suppressed)
LAPICV_VCPU_STAT(pir_syncs)
LAPICV_VCPU_STAT(avic_doorbells)
LAPICV_VCPU_STAT(avic_wakeups)
LAPICV_VCPU_STAT(exits)

#undef LAPICV_VCPU_STAT
