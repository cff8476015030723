/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The shims lapicv needs to build on Linux 6.1 .. 6.12.
 *
 * Every version test in the tree lives here and nowhere else.
 */
#ifndef _LAPICV_COMPAT_H
#define _LAPICV_COMPAT_H

#include <linux/version.h>

#endif /* _LAPICV_COMPAT_H */
