#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make demo: set up what is missing, build lapicv.ko for the newest Debian
# kernel and the demo VMM (samples/), boot that kernel in QEMU, load the
# module and run the demo there.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/deps.sh
bash scripts/guest-kernels.sh
ver=$(bash scripts/kvers.sh | tail -n 1)
make --no-print-directory KVER="$ver" modules
make --no-print-directory -C samples

out=$top/samples/build
bash scripts/mkinitramfs.sh "$ver" "$out/demo.cpio.gz" scripts/guest/demo.sh \
	"$out/demo_vmm"
echo "Booting Debian's $ver in QEMU (single-threaded TCG, about 10 s)..."
LAPICV_QEMU_TIMEOUT=${LAPICV_QEMU_TIMEOUT:-300} \
	bash scripts/qemu-run.sh "$ver" "$out/demo.cpio.gz" | tee "$out/demo.log"
grep -qx 'demo: ok' "$out/demo.log"
