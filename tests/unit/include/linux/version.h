/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tests/unit: the kernel version the shim emulates, for compat.h.  The
 * shim follows the 6.12 API, whatever linux-libc-dev's version.h says.
 */
#ifndef _UNIT_LINUX_VERSION_H
#define _UNIT_LINUX_VERSION_H

#define KERNEL_VERSION(a, b, c)	(((a) << 16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))
#define LINUX_VERSION_CODE	KERNEL_VERSION(6, 12, 0)
#define LINUX_VERSION_MAJOR	6
#define LINUX_VERSION_PATCHLEVEL	12
#define LINUX_VERSION_SUBLEVEL	0

#endif /* _UNIT_LINUX_VERSION_H */
