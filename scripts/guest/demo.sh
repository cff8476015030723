#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The guest side of `make demo` (/run.sh in the initramfs): load lapicv,
# run the demo VMM with the default backend (soft), then reload lapicv
# with backend=vmx-model and backend=avic-model (lapicv's own models of
# the CPU's side of APICv) and tell acts 3-6 again (interrupts, timer,
# inhibits, counters) on each; unload lapicv and say whether the kernel
# complained.  "demo: ok" comes last, and only if every step succeeded.
status=ok

say() {
	echo "demo: $*"
}

load_default() {
	while read -r m; do
		insmod "/lib/modules/$m" || return 1
	done </lib/modules/lapicv.order
}

if load_default; then
	say "loaded lapicv.ko: $(ls -l /dev/lapicv 2>&1)"
	echo
	demo_vmm || status=failed
else
	say "insmod lapicv.ko failed"
	status=failed
fi

for b in vmx-model avic-model; do
	echo
	if rmmod lapicv && insmod /lib/modules/lapicv.ko backend="$b"; then
		say "reloaded lapicv.ko with backend=$b: acts 3-6 again"
		echo
		demo_vmm 3456 || status=failed
	else
		say "reloading lapicv.ko with backend=$b failed"
		status=failed
	fi
done

echo
if rmmod lapicv; then
	say "unloaded lapicv.ko"
else
	status=failed
fi
if dmesg | grep -E 'WARNING:|BUG:|Oops|general protection|soft lockup|hard LOCKUP|hung task'; then
	say "the kernel log above has warnings"
	status=failed
fi
say "$status"
