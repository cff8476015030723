#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make check-debug: lapicv and its selftests on a debug kernel (KASAN,
# lockdep, DEBUG_ATOMIC_SLEEP, debug objects, kmemleak, UBSAN) built from
# Debian's linux-source-6.12 by scripts/debug-kernel.sh; too slow for
# make check, so kept apart from it.
#   1. build the debug kernel if needed (its build time is printed);
#   2. build lapicv.ko against it (build/<release>/), the selftests
#      (guest_run_test among them), KVM's own selftests and libkvm.a
#      (scripts/kvm-selftests.sh, cached) and lapicv's real-guest
#      selftests (selftests/guest) against that library;
#   3. pack the selftests, the real-guest suites (mkinitramfs.sh -R, as
#      make check does), lapicv.ko and the kernel's kvm/kvm_amd modules
#      (scripts/mkinitramfs.sh, pointed at the debug kernel by a cache of
#      its own); boot with 2 CPUs, 2 GiB, single-threaded TCG;
#   4. in the guest, scripts/guest/check-debug.sh: scripts/guest/check.sh
#      (suites lapicv and realguest: the selftests on /dev/lapicv, the
#      real-guest suites on lapicv with kvm.ko reloaded with
#      enable_virt_at_load=0), a kmemleak scan, a dmesg check.
# LAPICV_DEBUG_SUITES (default lapicv,realguest) picks check.sh's suites:
# "kvm" adds the selftests on the debug kernel's kvm_amd.
# LAPICV_DEBUG_REF=1 runs the real-guest suites on kvm_amd first too.
# Both only add the reference, which make check runs, and KVM on this
# kernel is 10-50 times slower than on Debian's (Documentation/testing.rst).
# Exit status 0 only if nothing failed.  Logs in selftests/build/check-debug/.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
cache=$(bash scripts/cache.sh dir)
kdir=$cache/debug-kernel/build
out=$top/selftests/build/check-debug
mkdir -p "$out"

echo "== debug kernel"
t0=$SECONDS
rel=$(bash scripts/debug-kernel.sh | tail -n 1)
echo "debug kernel $rel ready after $((SECONDS - t0)) s"

echo "== build"
# The top-level Makefile copies each build to ./lapicv.ko: keep the one
# that was there.
keep=
if [ -f lapicv.ko ]; then
	keep=$(mktemp)
	cp lapicv.ko "$keep"
fi
st=0
make KVER="$rel" KDIR="$kdir" modules >"$out/modules.log" 2>&1 || st=$?
if [ -n "$keep" ]; then
	cp "$keep" lapicv.ko
	rm -f "$keep"
else
	rm -f lapicv.ko
fi
if [ $st -ne 0 ]; then
	cat "$out/modules.log"
	exit 1
fi
if grep -E 'warning:|error:' "$out/modules.log"; then
	echo "check-debug: lapicv.ko warns against the debug kernel" >&2
	exit 1
fi
make -j"$(nproc)" -C selftests >"$out/selftests.log" 2>&1 || {
	cat "$out/selftests.log"
	exit 1
}
# The real-guest suites, staged as make check stages them.
ksft=$(bash scripts/kvm-selftests.sh 2>"$out/kvm-selftests.log") || {
	cat "$out/kvm-selftests.log"
	exit 1
}
make -C selftests/guest KVM_SELFTESTS="$ksft" >"$out/guest-selftests.log" 2>&1 || {
	cat "$out/guest-selftests.log"
	exit 1
}
rm -rf "$out/realguest"
bash scripts/realguest-stage.sh "$out/realguest" kvm-selftests "$ksft/bin" \
	$(bash scripts/kvm-selftests.sh list)
bash scripts/realguest-stage.sh "$out/realguest" guest-selftests selftests/build/guest \
	$(basename -s .c selftests/guest/*_test.c)

# mkinitramfs.sh takes the kernel's modules from <cache>/kernels/<ver>/:
# give it a cache whose only kernel is the debug one.
fake=$cache/debug-kernel/rig-cache
rm -rf "$fake"
mkdir -p "$fake/kernels/$rel/lib/modules" "$fake/kernels/$rel/boot"
ln -s "$cache/debug-kernel/staging/lib/modules/$rel" \
	"$fake/kernels/$rel/lib/modules/$rel"
ln -s "$kdir/arch/x86/boot/bzImage" "$fake/kernels/$rel/boot/vmlinuz-$rel"
img=$out/guest.cpio.gz
LAPICV_CACHE=$fake bash scripts/mkinitramfs.sh -K -t selftests/build \
	-R kvm-selftests="$out/realguest/kvm-selftests" \
	-R guest-selftests="$out/realguest/guest-selftests" "$rel" \
	"$img" scripts/guest/check-debug.sh scripts/guest/check.sh

suites=${LAPICV_DEBUG_SUITES:-lapicv,realguest}
ref=rig_realguest_ref=${LAPICV_DEBUG_REF:-0}
echo "== guest $rel: suites $suites, $ref"
backends=${LAPICV_DEBUG_BACKENDS:+rig_backends=$LAPICV_DEBUG_BACKENDS}
log=$out/guest.log
t0=$SECONDS
st=0
# As scripts/qemu-run.sh, but with the debug kernel, 2 GiB for KASAN and
# loglevel=5: lockdep, KASAN and UBSAN reports reach the console even if
# the guest then hangs.  This kernel cannot power off (it halts), so QEMU
# is stopped once the guest has said "rig: end" and halted.
: >"$log"
tsc=$(bash "$(dirname "$0")/tsc-khz.sh")
timeout -k 10 "${LAPICV_QEMU_TIMEOUT:-2400}" \
	qemu-system-x86_64 -accel tcg,thread=single -cpu max -smp 2 -m 2048 \
	-bios qboot.rom -net none -nographic -no-reboot \
	-kernel "$fake/kernels/$rel/boot/vmlinuz-$rel" -initrd "$img" \
	-append "console=ttyS0 panic=-1 loglevel=5 edd=off mitigations=off no_timer_check $tsc log_buf_len=16M rig_tag=debug rig_suites=$suites $ref $backends" \
	</dev/null > >(stdbuf -oL tr -d '\r' >>"$log") &
qemu=$!
tail -n +1 -f --pid=$qemu "$log" &
stopped=0
while kill -0 $qemu 2>/dev/null; do
	if grep -q -e 'reboot: System halted' -e 'Power off not available' "$log" &&
	   grep -qx 'rig: end' "$log"; then
		sleep 2
		kill $qemu 2>/dev/null || true
		stopped=1
		break
	fi
	sleep 2
done
wait $qemu || st=$?
[ $stopped = 0 ] || st=0
sleep 1
echo "guest ran $((SECONDS - t0)) s"
end=0
grep -qx 'rig: end' "$log" || { echo "check-debug: the guest did not finish" >&2; end=1; }
echo
echo "== summary"
sum=0
bash scripts/tap-summary.sh "$log" || sum=$?
exit $((st || end || sum))
