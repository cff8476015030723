/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the sample VMMs share: ending the program on a failed call with a
 * sentence that says what failed.
 */
#ifndef SAMPLES_VMM_UTIL_H
#define SAMPLES_VMM_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

/* "<program>: FAILED: <what>" on stderr, after stdout; exit status 1. */
static inline void fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: FAILED: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

/* An ioctl that must not fail; returns its (non-negative) result. */
static inline int xioctl(int fd, unsigned long req, void *arg,
			 const char *what)
{
	int r = ioctl(fd, req, arg);

	if (r < 0)
		fail("%s: %s", what, strerror(errno));
	return r;
}

#endif /* SAMPLES_VMM_UTIL_H */
