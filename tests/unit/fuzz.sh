#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# fuzz.sh SECONDS TARGET...: run each libFuzzer target for SECONDS from
# its seed corpus (corpus/<target>/), keeping what it finds in
# build/fuzz/corpus/<target>/ and crash inputs in build/fuzz/.  Ends with
# "N passed, N failed", one count per target; non-zero if any failed.

secs=$1
shift
passed=0
failed=0
for t in "$@"; do
	name=$(basename "$t")
	log=build/fuzz/$name.log
	mkdir -p "build/fuzz/corpus/$name"
	echo "== $name: $secs s"
	"$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix=build/fuzz/ -print_final_stats=1 \
		"build/fuzz/corpus/$name" "corpus/$name" >"$log" 2>&1
	rc=$?
	grep -E '^stat::number_of_executed_units|^#[0-9]+ +DONE' "$log"
	if [ "$rc" -eq 0 ]; then
		echo "ok $name"
		passed=$((passed + 1))
	else
		grep -v -E '^(#[0-9]+|INFO:|stat::)' "$log" | tail -n 40
		echo "FAIL $name (status $rc, log $log)"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
