/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The backend hook list: one line per hook of struct lapicv_backend
 * (apicv.h).  This file has no include guard on purpose: it is expanded
 * several times, each includer defining what a line becomes.
 *
 *  LAPICV_OP(func)               mandatory: a backend without it fails the
 *                                module load.
 *  LAPICV_OP_OPTIONAL(func)      may be NULL: call through
 *                                lapicv_call_cond(func), which does nothing.
 *  LAPICV_OP_OPTIONAL_RET0(func) may be NULL: a missing hook returns 0.
 *
 * Expansions: apicv.h declares one static call per hook, apicv.c defines
 * them (NULL until a backend is chosen) and lapicv_backend_setup() points
 * them at the chosen backend's functions.  tests/unit maps the same list
 * onto plain function pointers.
 */
#if !defined(LAPICV_OP) || !defined(LAPICV_OP_OPTIONAL) || \
	!defined(LAPICV_OP_OPTIONAL_RET0)
#error "the hook list needs LAPICV_OP, LAPICV_OP_OPTIONAL and LAPICV_OP_OPTIONAL_RET0"
#endif

LAPICV_OP_OPTIONAL_RET0(vcpu_create);
LAPICV_OP_OPTIONAL(vcpu_free);
LAPICV_OP_OPTIONAL(vcpu_load);
LAPICV_OP_OPTIONAL(vcpu_put);
LAPICV_OP_OPTIONAL(vcpu_blocking);
LAPICV_OP_OPTIONAL(vcpu_unblocking);
LAPICV_OP(deliver_interrupt);
LAPICV_OP(sync_pir_to_irr);
LAPICV_OP_OPTIONAL_RET0(has_posted_interrupt);
LAPICV_OP_OPTIONAL(apicv_pre_state_restore);
LAPICV_OP_OPTIONAL(enable_irq_window);
LAPICV_OP_OPTIONAL(disable_irq_window);
LAPICV_OP_OPTIONAL_RET0(protected_apic_has_interrupt);
LAPICV_OP_OPTIONAL(vcpu_stats);

#undef LAPICV_OP
#undef LAPICV_OP_OPTIONAL
#undef LAPICV_OP_OPTIONAL_RET0
