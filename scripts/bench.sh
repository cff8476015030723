#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make bench: lapicv against kvm_amd in one 6.12 guest boot (single-
# threaded TCG, -smp 2).  Sets up what is missing (deps.sh,
# guest-kernels.sh), builds lapicv.ko and bench/lapicv_bench, boots the
# newest Debian kernel with bench/guest.sh as its run script, then prints
# the table and the "BENCH <name> <value> <unit>" lines (bench/report.awk).
# The guest's log stays in bench/build/bench.log.
#
# Environment: BENCH_SECONDS (one repetition, default 1), BENCH_REPS
# (default 3), BENCH_THREADS (irqwin, default 4), BENCH_SCALE_MAX (default
# 1024), BENCH_ITEMS (default ioctl,irqwin,run,scale,mem,realguest),
# BENCH_RG_SLICES (realguest: slices per device and repetition, default 2),
# BENCH_RG_MS (guest time of one slice, default 150), BENCH_RG_FIGS
# (realguest figures, comma-separated, default all), BENCH_TRACE and
# BENCH_TRACE_GRAPH (ftrace functions during realguest), LAPICV_QEMU_TIMEOUT
# (default 540 s).  See Documentation/testing.rst, "Benchmarks".
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/deps.sh
bash scripts/guest-kernels.sh
ver=$(bash scripts/kvers.sh | tail -n 1)
out=$top/bench/build
mkdir -p "$out"
# Build output only when a build fails.
# bench/realguest builds KVM's selftest library first if the cache lacks it.
for t in "KVER=$ver modules" "-C bench" "-C bench/realguest"; do
	# shellcheck disable=SC2086
	make --no-print-directory $t >"$out/make.log" 2>&1 || {
		cat "$out/make.log"
		exit 1
	}
done

log=$out/bench.log
args=()
[ -n "${BENCH_SECONDS:-}" ] && args+=("rig_bench_seconds=$BENCH_SECONDS")
[ -n "${BENCH_REPS:-}" ] && args+=("rig_bench_reps=$BENCH_REPS")
[ -n "${BENCH_THREADS:-}" ] && args+=("rig_bench_threads=$BENCH_THREADS")
[ -n "${BENCH_SCALE_MAX:-}" ] && args+=("rig_bench_scale_max=$BENCH_SCALE_MAX")
[ -n "${BENCH_ITEMS:-}" ] && args+=("rig_bench_items=$BENCH_ITEMS")
[ -n "${BENCH_RG_SLICES:-}" ] && args+=("rig_bench_rg_slices=$BENCH_RG_SLICES")
[ -n "${BENCH_RG_MS:-}" ] && args+=("rig_bench_rg_ms=$BENCH_RG_MS")
[ -n "${BENCH_RG_FIGS:-}" ] && args+=("rig_bench_rg_figs=$BENCH_RG_FIGS")
[ -n "${BENCH_TRACE:-}" ] && args+=("rig_bench_trace=$BENCH_TRACE")
[ -n "${BENCH_TRACE_GRAPH:-}" ] && args+=("rig_bench_trace_graph=$BENCH_TRACE_GRAPH")

bash scripts/mkinitramfs.sh -K "$ver" "$out/bench.cpio.gz" bench/guest.sh \
	"$out/lapicv_bench" "$out/realguest_bench"
echo "Benchmarking in Debian's $ver under QEMU (single-threaded TCG, -smp 2, about 4 minutes)"
echo "lapicv $(git describe --always --dirty 2>/dev/null || echo '?'), host load: $(cut -d' ' -f1-3 /proc/loadavg)"
# Progress as it comes; the figures once the guest is done.
set +e
LAPICV_QEMU_TIMEOUT=${LAPICV_QEMU_TIMEOUT:-540} \
	bash scripts/qemu-run.sh "$ver" "$out/bench.cpio.gz" "${args[@]}" |
	tee "$log" | grep --line-buffered -E '^# |^rig: guest'
st=${PIPESTATUS[0]}
set -e
awk -f bench/report.awk "$log"
if [ $st -ne 0 ] || ! grep -qx '# bench: done' "$log"; then
	echo "bench: the guest did not finish (qemu status $st); log in ${log#"$top"/}" >&2
	exit 1
fi
