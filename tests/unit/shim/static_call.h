/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * shim/static_call.h: static calls (<linux/static_call.h>) as plain
 * function pointers, the kernel's own generic fallback.
 *
 * static_call(name)(args) calls through the pointer; static_call_cond()
 * calls a NULL one as a no-op (through __static_call_nop, as the kernel's
 * generic version does); static_call_update() assigns.  A test may point
 * a call at a fake backend op with static_call_update() as the module's
 * init does.
 */
#ifndef _UNIT_SHIM_STATIC_CALL_H
#define _UNIT_SHIM_STATIC_CALL_H

#define STATIC_CALL_KEY(name)	__shim_sc_##name
#define STATIC_CALL_TRAMP(name)	__shim_sc_tramp_##name

#define DECLARE_STATIC_CALL(name, func)					\
	extern typeof(func) *STATIC_CALL_KEY(name)
#define DEFINE_STATIC_CALL(name, func)					\
	typeof(func) *STATIC_CALL_KEY(name) = (func)
#define DEFINE_STATIC_CALL_NULL(name, func)				\
	typeof(func) *STATIC_CALL_KEY(name)
#define DEFINE_STATIC_CALL_RET0(name, func)				\
	typeof(func) *STATIC_CALL_KEY(name) = (typeof(func) *)__static_call_return0
#define EXPORT_STATIC_CALL(name)
#define EXPORT_STATIC_CALL_GPL(name)

#define static_call(name)						\
	(*__atomic_load_n(&STATIC_CALL_KEY(name), __ATOMIC_RELAXED))
#define static_call_query(name)						\
	__atomic_load_n(&STATIC_CALL_KEY(name), __ATOMIC_RELAXED)
#define static_call_cond(name)						\
	(*(static_call_query(name) ? static_call_query(name) :		\
	   (typeof(STATIC_CALL_KEY(name)))__static_call_nop))
#define static_call_update(name, func)					\
	__atomic_store_n(&STATIC_CALL_KEY(name), (func), __ATOMIC_RELAXED)

long __static_call_return0(void);
void __static_call_nop(void);

#endif /* _UNIT_SHIM_STATIC_CALL_H */
