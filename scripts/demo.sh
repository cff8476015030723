#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make demo: set up what is missing, build lapicv.ko for the newest Debian
# kernel and the demo VMMs (samples/), boot that kernel in QEMU with
# lapicv.ko and kvm_amd, and run the demo there (scripts/guest/demo.sh):
# a real guest on lapicv, the backends that cannot run one yet said so,
# and the same guest on kvm_amd for comparison.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/deps.sh
bash scripts/guest-kernels.sh
ver=$(bash scripts/kvers.sh | tail -n 1)
make --no-print-directory KVER="$ver" modules
make --no-print-directory -C samples

out=$top/samples/build
bash scripts/mkinitramfs.sh -K "$ver" "$out/demo.cpio.gz" scripts/guest/demo.sh \
	"$out/guest_vmm" "$out/demo_vmm"
echo "Booting Debian's $ver in QEMU (single-threaded TCG, about 20 s)..."
LAPICV_QEMU_TIMEOUT=${LAPICV_QEMU_TIMEOUT:-300} \
	bash scripts/qemu-run.sh "$ver" "$out/demo.cpio.gz" | tee "$out/demo.log"
grep -qx 'demo: ok' "$out/demo.log"
