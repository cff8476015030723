#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Stage one real-guest suite for scripts/mkinitramfs.sh -R:
#
#   realguest-stage.sh <out> <name> <dir> <test>...
#
# makes <out>/<name>/ with "list", the tests expected, in order; a link to
# each one <dir> has (the guest fails the ones that did not build);
# "notyet", selftests/realguest-notyet without comments (the tests not
# run on lapicv yet); and a copy of <dir>/args if there is one ("<test>
# <arguments>" lines, scripts/kvm-selftests.sh).  Used by make check and
# make check-debug.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -lt 3 ]; then
	echo "usage: $0 <out> <name> <dir> <test>..." >&2
	exit 2
fi
d=$1/$2 dir=$3
shift 3
mkdir -p "$d"
: >"$d/list"
# grep exits 1 when every line is a comment: an empty list is fine.
grep -v '^#' "$top/selftests/realguest-notyet" >"$d/notyet" || true
rm -f "$d/args"
[ ! -f "$dir/args" ] || cp "$dir/args" "$d/args"
for t in "$@"; do
	echo "$t" >>"$d/list"
	[ ! -x "$dir/$t" ] || ln -sf "$(realpath "$dir/$t")" "$d/$t"
done
