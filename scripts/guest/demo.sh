#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The guest side of `make demo` (/run.sh in the initramfs): load lapicv,
# run the demo VMM, unload lapicv, and say whether the kernel complained.
status=ok

say() {
	echo "demo: $*"
}

while read -r m; do
	insmod "/lib/modules/$m" || status=failed
done </lib/modules/lapicv.order
say "loaded lapicv.ko: $(ls -l /dev/lapicv 2>&1)"
echo
demo_vmm 4 || status=failed
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
