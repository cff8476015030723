#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Count the TAP results in rig logs and print one line per suite, then the
# total as the last line: "N passed, N failed, N skipped".  Exit 1 if
# anything failed.
#
#   tap-summary.sh [-s REGEX] <log>...
#
# -s: under the line of each suite whose name ("<tag> <suite> <name>")
# matches the extended REGEX, name every skipped result with its reason
# (the real-guest suites, where one result is one test program).
#
# A suite is every line prefixed "[<tag> <suite> <name>] ", e.g.
# "[6.12 kvm vm_test] ok 3 vm.split_irqchip_max_pins".  "ok ... # SKIP"
# is skipped, other "ok" (and XFAIL) passed, "not ok" failed.  A suite
# with no "1..N" plan, or fewer results than planned (a crash, a guest
# that died), counts its missing results as failed; so does a test binary
# whose "# exit=<status>" line is missing or says it failed although
# every result it printed passed.
set -euo pipefail

itemize='^$'
if [ "${1:-}" = -s ]; then
	itemize=$2
	shift 2
fi

cat "$@" | tr -d '\r' | awk -v itemize="$itemize" '
match($0, /^\[[^] ]+ [^] ]+ [^] ]+\] ?/) {
	key = substr($0, 2, RLENGTH - 2)
	sub(/\] ?$/, "", key)
	line = substr($0, RLENGTH + 1)
	if (!(key in seen)) {
		seen[key] = 1
		order[++nkeys] = key
	}
	if (line ~ /^1\.\.[0-9]+/) {
		plan[key] = substr(line, 4) + 0
	} else if (line ~ /^ok [0-9]+/) {
		if (line ~ /# [Ss][Kk][Ii][Pp]/) {
			skip[key]++
			if (key ~ itemize) {
				sub(/^ok [0-9]+ */, "", line)
				sub(/ \([0-9.]+ s\)/, "", line)
				sub(/ *# [Ss][Kk][Ii][Pp] */, ": ", line)
				skipped[key] = skipped[key] "    skipped: " line "\n"
			}
		} else
			pass[key]++
	} else if (line ~ /^not ok [0-9]+/) {
		fail[key]++
	} else if (line ~ /^# exit=[0-9]+/) {
		status[key] = substr(line, 8) + 0
	}
}
END {
	for (i = 1; i <= nkeys; i++) {
		k = order[i]
		split(k, w, " ")
		got = pass[k] + fail[k] + skip[k]
		note = ""
		if (!(k in plan)) {
			fail[k]++
			note = " (no TAP plan)"
		} else if (got < plan[k]) {
			fail[k] += plan[k] - got
			note = sprintf(" (%d of %d results missing)",
				       plan[k] - got, plan[k])
		}
		if (w[2] != "rig" && !(k in status)) {
			if (!fail[k])
				fail[k]++
			note = note " (no exit status)"
		} else if (w[2] != "rig" && status[k] != 0 &&
			   status[k] != 4 && !fail[k]) {
			fail[k]++
			note = note sprintf(" (exit status %d)", status[k])
		}
		printf("%-36s %3d passed, %d failed, %d skipped%s\n", k,
		       pass[k], fail[k], skip[k], note)
		printf("%s", skipped[k])
		tp += pass[k]; tf += fail[k]; ts += skip[k]
	}
	if (!nkeys)
		tf = 1
	printf("%d passed, %d failed, %d skipped\n", tp, tf, ts)
	exit tf != 0
}'
