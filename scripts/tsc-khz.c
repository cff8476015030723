// SPDX-License-Identifier: GPL-2.0-only
/*
 * Print the host's TSC rate in kHz, measured against CLOCK_MONOTONIC_RAW.
 * Single-threaded TCG reads the host's TSC for the guest's RDTSC, so this
 * is the rate the guest kernel should calibrate to (qemu-run.sh passes it
 * as tsc_early_khz=).  Each end is bracketed by two clock reads; an end
 * whose bracket is wider than 20 us (a preemption) is taken again.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* One (ns, tsc) pair read within 20 us; 0 if none came in 1000 tries. */
static int sample(uint64_t *ns, uint64_t *tsc)
{
	for (int i = 0; i < 1000; i++) {
		uint64_t a = now_ns(), t = __rdtsc(), b = now_ns();

		if (b - a < 20000) {
			*ns = a + (b - a) / 2;
			*tsc = t;
			return 1;
		}
	}
	return 0;
}

int main(void)
{
	struct timespec pause = { 0, 200000000 };
	uint64_t ns0, tsc0, ns1, tsc1;

	if (!sample(&ns0, &tsc0))
		return 1;
	nanosleep(&pause, NULL);
	if (!sample(&ns1, &tsc1) || ns1 <= ns0)
		return 1;
	printf("%llu\n", (unsigned long long)((tsc1 - tsc0) * 1000000ull / (ns1 - ns0)));
	return 0;
}
