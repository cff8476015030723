#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make fuzz-guest: the guest-side fuzzer (selftests/guest_fuzz_test.c) alone
# in one boot of the newest Debian kernel (single-threaded TCG, -smp 2),
# for longer than make check runs it: FUZZ_GUEST_SEEDS seeds in a row, each
# with FUZZ_GUEST_RUNS random guests, on lapicv's SVM runner; with
# FUZZ_GUEST_KVM=1 the same seeds then run on kvm_amd.  After the lapicv
# part the module must unload; dmesg must stay free of WARNING/BUG/Oops/
# lockups.  The fuzzer itself checks every KVM_RUN's result, VmPin after
# each guest and the module's reference count.
#
# Environment: FUZZ_GUEST_SEED (the first seed, default: the time;
# printed), FUZZ_GUEST_SEEDS (default 10), FUZZ_GUEST_RUNS (guests per
# seed, default 300), FUZZ_GUEST_KVM (0), FUZZ_GUEST_LAPICV (1; 0 with
# FUZZ_GUEST_KVM=1: kvm_amd alone), FUZZ_GUEST_NO5LVL (1: boot with
# no5lvl, so 4-level nested paging), FUZZ_GUEST_RUN (only that
# guest of each seed), FUZZ_GUEST_TRACE (1 prints every snippet, its
# bytes, and every exit), FUZZ_KVER (default: the newest installed headers),
# LAPICV_QEMU_TIMEOUT (default 3600).  The log stays in
# selftests/build/fuzz-guest/guest.log.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
seed=${FUZZ_GUEST_SEED:-$(date +%s)}
seeds=${FUZZ_GUEST_SEEDS:-10}
runs=${FUZZ_GUEST_RUNS:-300}
for v in "$seed" "$seeds" "$runs"; do
	case $v in '' | *[!0-9]*) echo "FUZZ_GUEST_SEED, _SEEDS and _RUNS must be numbers" >&2; exit 2 ;; esac
done
bash scripts/deps.sh >/dev/null
bash scripts/guest-kernels.sh >/dev/null
ver=${FUZZ_KVER:-$(bash scripts/kvers.sh | tail -n 1)}
make --no-print-directory KVER="$ver" modules >/dev/null
out=$top/selftests/build/fuzz-guest
rm -rf "$out"
mkdir -p "$out/tests"
make --no-print-directory -C selftests "$top/selftests/build/guest_fuzz_test" >/dev/null
cp selftests/build/guest_fuzz_test "$out/tests/"
log=$out/guest.log

# The guest's /run.sh: every seed on lapicv, then (rig_kvm=1) on kvm_amd.
cat >"$out/run.sh" <<'EOF'
#!/bin/sh
say() { echo "[fuzz-guest] $*"; }
seeds() {
	i=0
	while [ $i -lt "$rig_seeds" ]; do
		s=$((rig_seed + i))
		LAPICV_DEV=$1 LAPICV_FUZZ_KVM=1 LAPICV_FUZZ_SEED=$s LAPICV_FUZZ_RUNS=$rig_runs \
			LAPICV_FUZZ_TRACE=${rig_trace:-0} LAPICV_FUZZ_RUN=${rig_run:-} /tests/guest_fuzz_test 2>&1 |
			while IFS= read -r l; do echo "[fuzz-guest] $2 seed $s: $l"; done
		i=$((i + 1))
	done
}
if ! insmod /lib/modules/lapicv.ko; then
	say "not ok insmod lapicv"
	exit 0
fi
[ "${rig_lapicv:-1}" = 0 ] || seeds /dev/lapicv lapicv
if rmmod lapicv; then say "ok rmmod lapicv"; else say "not ok rmmod lapicv"; fi
if [ "${rig_kvm:-0}" = 1 ]; then
	while read -r m; do insmod "/lib/modules/$m" || say "not ok insmod $m"; done </lib/modules/kvm.order
	seeds /dev/kvm kvm
fi
if dmesg | grep -q -E 'WARNING:|BUG:|Oops|general protection|soft lockup|hard LOCKUP|hung task|UBSAN|KASAN'; then
	dmesg | sed 's/^/[fuzz-guest] # dmesg: /'
	say "not ok dmesg has kernel reports"
else
	say "ok dmesg clean"
fi
say "done"
EOF

kflag=()
[ "${FUZZ_GUEST_KVM:-0}" = 1 ] && kflag=(-K)
args=("rig_seed=$seed" "rig_seeds=$seeds" "rig_runs=$runs" "rig_kvm=${FUZZ_GUEST_KVM:-0}"
      "rig_trace=${FUZZ_GUEST_TRACE:-0}")
[ -n "${FUZZ_GUEST_RUN:-}" ] && args+=("rig_run=$FUZZ_GUEST_RUN")
[ "${FUZZ_GUEST_LAPICV:-1}" = 0 ] && args+=("rig_lapicv=0")
[ "${FUZZ_GUEST_NO5LVL:-0}" = 1 ] && args+=(no5lvl)
bash scripts/mkinitramfs.sh "${kflag[@]}" -t "$out/tests" "$ver" "$out/fuzz.cpio.gz" "$out/run.sh"
echo "Fuzzing guests: seeds $seed..$((seed + seeds - 1)), $runs guests each, in Debian's $ver under QEMU"
set +e
LAPICV_QEMU_TIMEOUT=${LAPICV_QEMU_TIMEOUT:-3600} \
	stdbuf -oL bash scripts/qemu-run.sh "$ver" "$out/fuzz.cpio.gz" "${args[@]}" |
	tee "$log" | grep --line-buffered -E '^\[fuzz-guest\].*(ok |seed [0-9]+ \(|guests in|not ok|FAIL|# guest|dmesg|done)|^rig: guest'
st=${PIPESTATUS[0]}
set -e
if [ "$st" -ne 0 ] || ! grep -q '^\[fuzz-guest\] done' "$log"; then
	echo "fuzz-guest: the guest did not finish (qemu status $st); log in ${log#"$top"/}" >&2
	exit 1
fi
if grep -q -E '^\[fuzz-guest\] .*(not ok|# FAILED)' "$log"; then
	echo "fuzz-guest: FAILED; log in ${log#"$top"/}" >&2
	exit 1
fi
echo "fuzz-guest: passed ($(grep -c -E '^\[fuzz-guest\] .* ok 1 fuzz.guests' "$log") seed runs)"
