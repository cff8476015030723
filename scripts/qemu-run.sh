#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Boot the cached Debian kernel <ver> with <initramfs> in QEMU; the serial
# console goes to stdout, without carriage returns.  Extra arguments go to the kernel command line
# (rig_x=y words reach the guest's /init as variables).
#
#   qemu-run.sh <ver> <initramfs> [cmdline words...]
#
# Always single-threaded TCG: with QEMU 7.2's multi-threaded TCG, guests
# that create and destroy KVM VMs freeze now and then.  The guest's kernel
# log stays off the console (loglevel=1); run scripts read dmesg.  The
# guest kernel is told the TSC's rate (scripts/tsc-khz.sh).
# LAPICV_QEMU_TIMEOUT (seconds, default 900) bounds the whole run; on
# timeout the exit status is 124.
set -euo pipefail

if [ $# -lt 2 ]; then
	echo "usage: $0 <ver> <initramfs> [cmdline words...]" >&2
	exit 2
fi
ver=$1 initrd=$2
shift 2
cache=$(bash "$(dirname "$0")/cache.sh" dir)
kernel=$cache/kernels/$ver/boot/vmlinuz-$ver
[ -f "$kernel" ] || { echo "no $kernel: run scripts/guest-kernels.sh" >&2; exit 1; }

tsc=$(bash "$(dirname "$0")/tsc-khz.sh")

# qboot rather than SeaBIOS: a quiet console and a quicker start.
timeout -k 10 "${LAPICV_QEMU_TIMEOUT:-900}" \
	qemu-system-x86_64 -accel tcg,thread=single -cpu max -smp 2 -m 1024 \
	-bios qboot.rom -net none -nographic -no-reboot \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 loglevel=1 edd=off mitigations=off no_timer_check $tsc $*" \
	</dev/null | tr -d '\r'
