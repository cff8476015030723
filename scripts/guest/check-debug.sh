#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The guest side of `make check-debug` (/run.sh in the initramfs of the
# debug kernel, scripts/debug-kernel.sh): run scripts/guest/check.sh
# (packed as /bin/check.sh: lapicv, every selftest, then the real-guest
# suites on lapicv with rig_suites=lapicv,realguest, or what
# scripts/check-debug.sh was told, rmmod), then a kmemleak scan, and look
# in dmesg for what the debug options report.  Its own TAP is "[<tag> rig debug]".
tag=${rig_tag:-$(uname -r)}

dbg() {
	echo "[$tag rig debug] $*"
}
n=0
step() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		dbg "ok $n $2"
	else
		dbg "not ok $n $2"
	fi
}

dbg "1..3"
mount -t debugfs debugfs /sys/kernel/debug
sh /bin/check.sh

# kmemleak only reports objects older than 5 s, found unreferenced by a
# scan; the second scan confirms the first.
# A kmemleak that turned itself off (e.g. out of its early pool) fails.
km=/sys/kernel/debug/kmemleak
sleep 6
kmemleak=0
{ echo scan >$km && sleep 1 && echo scan >$km && cat $km >/tmp/kmemleak; } ||
	kmemleak=1
[ $kmemleak = 0 ] || dbg "# kmemleak is not available: $(dmesg | grep -i kmemleak | tail -n 3)"
# lapicv is unloaded by now, so its frames show as bare module-area
# addresses ("] 0xffffffffa..."); kvm's stay symbolic as long as it is
# loaded.  A leak with either in its backtrace counts.
leaks=$(awk '
	/^unreferenced object/ { if (hit) print blk; blk = ""; hit = 0 }
	{ blk = blk "\n" $0 }
	/lapicv|\] 0xffffffff[a-f][0-9a-f]+$/ { hit = 1 }
	END { if (hit) print blk }
' /tmp/kmemleak)
total=$(grep -c '^unreferenced object' /tmp/kmemleak)
dbg "# kmemleak: $total unreferenced objects in all"
echo "$leaks" | while read -r l; do [ -z "$l" ] || dbg "# kmemleak: $l"; done
[ -z "$leaks" ] && [ $kmemleak = 0 ]
step $? "kmemleak: no leak from lapicv"

splats=$(dmesg | grep -E 'WARNING:|BUG:|UBSAN:|KASAN:|ODEBUG:|INFO: (possible|inconsistent|suspicious|trying)|DEBUG_LOCKS_WARN_ON|turning off the locking correctness validator|Oops|general protection')
if [ -n "$splats" ]; then
	dmesg | while read -r l; do dbg "# dmesg: $l"; done
fi
[ -z "$splats" ]
step $? "no lockdep, KASAN, UBSAN, debug-objects or other splats in dmesg"
lockdep=$(grep -c . /proc/lockdep_chains 2>/dev/null || echo 0)
grep -q 'debug_locks:[[:space:]]*1' /proc/lockdep_stats 2>/dev/null
step $? "lockdep still enabled at the end ($lockdep chain lines)"
