#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make check: the test command.  As root on a fresh Debian 12 machine:
#   1. install what is missing (deps.sh), fetch the guest kernels and the
#      kselftest/checkpatch files into the cache (guest-kernels.sh);
#   2. build lapicv.ko for every installed kernel, again with W=1 C=1 in a
#      scratch directory (any warning fails), run checkpatch, build the
#      selftests and the demo VMM;
#   3. boot each Debian kernel in QEMU: the newest (6.12) runs the
#      selftests on /dev/lapicv and on /dev/kvm (kvm_amd), the others on
#      /dev/lapicv only;
#   4. print one line per suite and, last, "N passed, N failed, N skipped".
# Exit status 0 only if nothing failed.  Logs stay in selftests/build/check/.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=$top/selftests/build/check
rm -rf "$out"
mkdir -p "$out"
host=$out/host.log
logs=("$host")
n=0
jobs=$(nproc)

# step <status> <description>: one TAP result of the host side, with the
# seconds since the previous one.
last=$SECONDS
step() {
	local t=$((SECONDS - last))

	n=$((n + 1))
	last=$SECONDS
	if [ "$1" -eq 0 ]; then
		echo "[host rig check] ok $n $2 (${t} s)" | tee -a "$host"
	else
		echo "[host rig check] not ok $n $2 (${t} s)" | tee -a "$host"
	fi
}

finish() {
	echo "[host rig check] 1..$n" >>"$host"
	echo
	echo "== summary after $SECONDS s (logs in ${out#"$top"/}/)"
	bash scripts/tap-summary.sh "${logs[@]}"
	exit $?
}

# run <log> <command...>: run, keep the output in <log>, show it on failure.
run() {
	local log=$1

	shift
	if "$@" >"$log" 2>&1; then
		return 0
	fi
	sed 's/^/    /' "$log"
	return 1
}

echo "== setup"
st=0; bash scripts/deps.sh || st=$?
step $st "deps.sh: Debian packages installed"
[ $st -eq 0 ] || finish
st=0; bash scripts/guest-kernels.sh || st=$?
step $st "guest-kernels.sh: guest kernels, kselftest and checkpatch cached"
[ $st -eq 0 ] || finish
mapfile -t kvers < <(bash scripts/kvers.sh)

echo "== build"
st=0; run "$out/modules.log" make -j"$jobs" modules-all || st=$?
step $st "make modules-all (${kvers[*]})"
built=$st
lint=$(mktemp -d)
trap 'rm -rf "$lint"' EXIT
for v in "${kvers[@]}"; do
	log=$out/lint-$v.log
	st=0; run "$log" make -j"$jobs" KVER="$v" BUILD="$lint/$v" W=1 C=1 modules || st=$?
	if [ $st -eq 0 ] && grep -q -E 'warning:|error:' "$log"; then
		grep -E 'warning:|error:' "$log" | sed 's/^/    /'
		st=1
	fi
	step $st "W=1 C=1 build for $v has no warnings"
done
st=0; run "$out/checkpatch.log" make checkpatch || st=$?
step $st "make checkpatch"
st=0; run "$out/selftests.log" make -j"$jobs" -C selftests || st=$?
step $st "selftests build"
[ $st -eq 0 ] || built=1
st=0; run "$out/samples.log" make -C samples || st=$?
step $st "samples build"
[ $st -eq 0 ] || built=1

newest=${kvers[-1]}
for v in $(printf '%s\n' "${kvers[@]}" | sort -rV); do
	tag=$(echo "$v" | cut -d. -f1,2)
	suites=lapicv
	[ "$v" = "$newest" ] && suites=lapicv,kvm
	if [ "$built" -ne 0 ]; then
		step 1 "guest $v not booted: the build failed"
		continue
	fi
	echo "== guest $v: suites $suites"
	img=$out/guest-$tag.cpio.gz
	log=$out/guest-$tag.log
	logs+=("$log")
	K=()
	[ "$suites" = lapicv ] || K=(-K)
	bash scripts/mkinitramfs.sh "${K[@]}" -t selftests/build "$v" "$img" \
		scripts/guest/check.sh samples/build/demo_vmm
	st=0
	bash scripts/qemu-run.sh "$v" "$img" rig_tag="$tag" rig_suites="$suites" |
		tee "$log" || st=$?
	end=0
	grep -qx 'rig: end' "$log" || end=1
	step $((st || end)) "guest $v ran to the end (qemu status $st)"
done
finish
