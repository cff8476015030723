#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Run each unit-test program given, show its output, and sum the
# "N passed, N failed" lines they end with.  A program that dies before
# its summary (a sanitizer report, an abort), or that exits non-zero after
# a clean summary (a leak report at exit), counts as one more failure.
# The last line is the total; the exit status is non-zero on any failure.

passed=0
failed=0
for t in "$@"; do
	log=$(mktemp)
	"$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	rm -f "$log"
	case "$last" in
	*" passed, "*" failed")
		p=${last%% passed*}
		f=${last#*passed, }
		f=${f%% failed}
		passed=$((passed + p))
		failed=$((failed + f))
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			echo "$t: exited with status $rc after its summary"
			failed=$((failed + 1))
		fi
		;;
	*)
		echo "$t: exited with status $rc before its summary"
		failed=$((failed + 1))
		;;
	esac
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
