#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Print "tsc_early_khz=<host TSC rate>" for a guest's kernel command line,
# or nothing if the rate cannot be measured.  Single-threaded TCG gives the
# guest the host's TSC, and a guest kernel calibrating it against the PIT
# or HPET on a loaded host can be off by a factor of ten (seen: 195 MHz for
# 2596 MHz), which makes every APIC-timer-against-TSC test wrong on both
# devices alike.  The kernel still refines the value and keeps it only
# within 1 %.
set -uo pipefail

tmp=$(mktemp -d) || exit 0
trap 'rm -rf "$tmp"' EXIT
gcc -O2 -o "$tmp/tsc-khz" "$(dirname "$0")/tsc-khz.c" 2>/dev/null || exit 0
khz=$("$tmp/tsc-khz") || exit 0
[ "$khz" -gt 0 ] 2>/dev/null && echo "tsc_early_khz=$khz"
exit 0
