#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make fuzz-ioctl: the ioctl fuzzer (selftests/fuzz_ioctl_test.c) alone in
# one guest boot of the newest Debian kernel (single-threaded TCG, -smp 2).
# The guest loads lapicv, runs the fuzzer for FUZZ_SECONDS, unloads the
# module and fails on any WARNING/BUG/Oops/lockup in dmesg; the fuzzer
# itself checks errnos, hangs, state changed by failed ioctls, the module
# reference count and slab usage.
#
# Environment: FUZZ_SECONDS (default 60), FUZZ_SEED (default: the time;
# printed), FUZZ_BACKEND (soft, vmx-model, avic-model; default: soft),
# FUZZ_TESTS (the selftests to run, default fuzz_ioctl_test; e.g.
# "torture_test" with TORTURE_SECONDS to torture one backend),
# FUZZ_KVER (default: the newest installed headers), LAPICV_QEMU_TIMEOUT
# (default FUZZ_SECONDS + 300).  The guest's log stays in
# selftests/build/fuzz-ioctl/guest.log.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${FUZZ_SECONDS:-60}
case $secs in '' | *[!0-9]*) echo "FUZZ_SECONDS must be a number" >&2; exit 2 ;; esac
bash scripts/deps.sh >/dev/null
bash scripts/guest-kernels.sh >/dev/null
ver=${FUZZ_KVER:-$(bash scripts/kvers.sh | tail -n 1)}
make --no-print-directory KVER="$ver" modules >/dev/null
tests=${FUZZ_TESTS:-fuzz_ioctl_test}
out=$top/selftests/build/fuzz-ioctl
rm -rf "$out"
mkdir -p "$out/tests"
for t in $tests; do
	make --no-print-directory -C selftests "$top/selftests/build/$t" >/dev/null
	cp "selftests/build/$t" "$out/tests/"
done
log=$out/guest.log

# The guest's /run.sh.
cat >"$out/run.sh" <<'EOF'
#!/bin/sh
say() { echo "[fuzz-ioctl] $*"; }
params=
[ -n "${rig_backend:-}" ] && params="backend=$rig_backend"
if ! insmod /lib/modules/lapicv.ko $params; then
	say "not ok insmod lapicv $params"
	exit 0
fi
say "backend $(cat /sys/module/lapicv/parameters/backend)"
for t in /tests/*; do
	{
		FUZZ_SECONDS=$rig_fuzz_seconds FUZZ_SEED=${rig_fuzz_seed:-} \
			TORTURE_SECONDS=${rig_torture_seconds:-} "$t" 2>&1
		echo "# exit=$?"
	} | sed "s/^/[fuzz-ioctl] /"
done
if rmmod lapicv; then say "ok rmmod lapicv"; else say "not ok rmmod lapicv"; fi
if dmesg | grep -q -E 'WARNING:|BUG:|Oops|general protection|soft lockup|hard LOCKUP|hung task|UBSAN|KASAN'; then
	dmesg | sed 's/^/[fuzz-ioctl] # dmesg: /'
	say "not ok dmesg has kernel reports"
else
	say "ok dmesg clean"
fi
say "done"
EOF

args=("rig_fuzz_seconds=$secs")
[ -n "${FUZZ_SEED:-}" ] && args+=("rig_fuzz_seed=$FUZZ_SEED")
[ -n "${FUZZ_BACKEND:-}" ] && args+=("rig_backend=$FUZZ_BACKEND")
[ -n "${TORTURE_SECONDS:-}" ] && args+=("rig_torture_seconds=$TORTURE_SECONDS")
bash scripts/mkinitramfs.sh -t "$out/tests" "$ver" "$out/fuzz.cpio.gz" "$out/run.sh"
echo "Fuzzing lapicv's ioctls for $secs s in Debian's $ver under QEMU (single-threaded TCG, -smp 2)"
set +e
LAPICV_QEMU_TIMEOUT=${LAPICV_QEMU_TIMEOUT:-$((secs + 300))} \
	bash scripts/qemu-run.sh "$ver" "$out/fuzz.cpio.gz" "${args[@]}" |
	tee "$log" | grep --line-buffered -E '^\[fuzz-ioctl\]|^rig: guest'
st=${PIPESTATUS[0]}
set -e
if [ "$st" -ne 0 ] || ! grep -q '^\[fuzz-ioctl\] done' "$log"; then
	echo "fuzz-ioctl: the guest did not finish (qemu status $st); log in ${log#"$top"/}" >&2
	exit 1
fi
# The harness's own summary line and the rig's steps.
if grep -q -E '^\[fuzz-ioctl\] (not ok|# FAILED|# exit=[^0])' "$log" ||
	[ "$(grep -c -E '^\[fuzz-ioctl\] # exit=0' "$log")" -ne "$(echo $tests | wc -w)" ]; then
	echo "fuzz-ioctl: FAILED; log in ${log#"$top"/}" >&2
	exit 1
fi
echo "fuzz-ioctl: passed"
