#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Print the installed Debian amd64 kernel header sets, oldest first, one
# version a line (e.g. 6.1.0-56-amd64, 6.12.117+deb12-amd64): the kernels
# lapicv is built for and whose Debian images the guests boot.
set -euo pipefail

for d in /usr/src/linux-headers-*-amd64; do
	if [ -f "$d/Makefile" ]; then
		echo "${d#/usr/src/linux-headers-}"
	fi
done | sort -V
