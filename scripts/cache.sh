#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Print the cache directory of the test rig, creating it if needed.
#
#   bash scripts/cache.sh [dir]
#
# The cache holds what the rig downloads or extracts and never commits:
# guest kernels (kernels/<ver>/), kselftest headers (kselftest/), checkpatch
# (checkpatch/).  LAPICV_CACHE overrides the default /var/cache/lapicv.
set -euo pipefail

case "${1:-dir}" in
dir)
	dir=${LAPICV_CACHE:-/var/cache/lapicv}
	mkdir -p "$dir"
	cd "$dir" && pwd
	;;
*)
	echo "usage: $0 [dir]" >&2
	exit 2
	;;
esac
