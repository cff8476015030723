/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lapicv tracepoints (events/lapicv/ in tracefs).
 *
 * apicv.c defines them (CREATE_TRACE_POINTS).  Outside the kernel (the
 * tests/unit build) every trace_*() call is an empty inline, so core files
 * call them unconditionally.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM lapicv

#if !defined(_LAPICV_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _LAPICV_TRACE_H

#ifdef __KERNEL__

#include <linux/tracepoint.h>

/* A run step ended: why, with which vector, and the APICv state. */
TRACE_EVENT(lapicv_run_exit,
	    TP_PROTO(u32 vcpu_id, u32 reason, u32 vector, bool apicv_active),
	    TP_ARGS(vcpu_id, reason, vector, apicv_active),
	    TP_STRUCT__entry(__field(u32, vcpu_id)
			     __field(u32, reason)
			     __field(u32, vector)
			     __field(bool, apicv_active)),
	    TP_fast_assign(__entry->vcpu_id = vcpu_id;
			   __entry->reason = reason;
			   __entry->vector = vector;
			   __entry->apicv_active = apicv_active;),
	    TP_printk("vcpu %u reason %u vector 0x%x apicv %d",
		      __entry->vcpu_id, __entry->reason, __entry->vector,
		      __entry->apicv_active)
);

/* An IRQ window opened (open = 1) or closed (open = 0). */
TRACE_EVENT(lapicv_irq_window,
	    TP_PROTO(u32 vcpu_id, bool open),
	    TP_ARGS(vcpu_id, open),
	    TP_STRUCT__entry(__field(u32, vcpu_id)
			     __field(bool, open)),
	    TP_fast_assign(__entry->vcpu_id = vcpu_id;
			   __entry->open = open;),
	    TP_printk("vcpu %u %s", __entry->vcpu_id,
		      __entry->open ? "open" : "close")
);

/* The vCPU's APICv state changed at a run step. */
TRACE_EVENT(lapicv_apicv_update,
	    TP_PROTO(u32 vcpu_id, bool active),
	    TP_ARGS(vcpu_id, active),
	    TP_STRUCT__entry(__field(u32, vcpu_id)
			     __field(bool, active)),
	    TP_fast_assign(__entry->vcpu_id = vcpu_id;
			   __entry->active = active;),
	    TP_printk("vcpu %u apicv %s", __entry->vcpu_id,
		      __entry->active ? "on" : "off")
);

/*
 * A fixed interrupt reached the backend; how is enum lapicv_deliver_how
 * (apicv.h): IRR, posted and notified, posted quietly, doorbell, wake-up.
 */
TRACE_EVENT(lapicv_deliver,
	    TP_PROTO(u32 vcpu_id, u32 vector, u32 how),
	    TP_ARGS(vcpu_id, vector, how),
	    TP_STRUCT__entry(__field(u32, vcpu_id)
			     __field(u32, vector)
			     __field(u32, how)),
	    TP_fast_assign(__entry->vcpu_id = vcpu_id;
			   __entry->vector = vector;
			   __entry->how = how;),
	    TP_printk("vcpu %u vector 0x%x how %u", __entry->vcpu_id,
		      __entry->vector, __entry->how)
);

/* An inhibit reason changed the VM's mask from old to new (inhibit.c). */
TRACE_EVENT(lapicv_inhibit,
	    TP_PROTO(unsigned long old, unsigned long new, u32 reason, bool set),
	    TP_ARGS(old, new, reason, set),
	    TP_STRUCT__entry(__field(unsigned long, old)
			     __field(unsigned long, new)
			     __field(u32, reason)
			     __field(bool, set)),
	    TP_fast_assign(__entry->old = old;
			   __entry->new = new;
			   __entry->reason = reason;
			   __entry->set = set;),
	    TP_printk("%s reason %u: 0x%lx -> 0x%lx",
		      __entry->set ? "set" : "clear", __entry->reason,
		      __entry->old, __entry->new)
);

/* The guest EOId a vector (lapic.c). */
TRACE_EVENT(lapicv_eoi,
	    TP_PROTO(u32 vcpu_id, u32 vector),
	    TP_ARGS(vcpu_id, vector),
	    TP_STRUCT__entry(__field(u32, vcpu_id)
			     __field(u32, vector)),
	    TP_fast_assign(__entry->vcpu_id = vcpu_id;
			   __entry->vector = vector;),
	    TP_printk("vcpu %u vector 0x%x", __entry->vcpu_id, __entry->vector)
);

#else /* !__KERNEL__ */

static inline void trace_lapicv_run_exit(u32 vcpu_id, u32 reason, u32 vector,
					 bool apicv_active) { }
static inline void trace_lapicv_irq_window(u32 vcpu_id, bool open) { }
static inline void trace_lapicv_apicv_update(u32 vcpu_id, bool active) { }
static inline void trace_lapicv_deliver(u32 vcpu_id, u32 vector, u32 how) { }
static inline void trace_lapicv_inhibit(unsigned long old, unsigned long new,
					u32 reason, bool set) { }
static inline void trace_lapicv_eoi(u32 vcpu_id, u32 vector) { }

#endif /* __KERNEL__ */

#endif /* _LAPICV_TRACE_H */

#ifdef __KERNEL__
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
#endif
