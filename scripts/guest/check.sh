#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The guest side of `make check` (/run.sh in the initramfs): load lapicv,
# run every selftest on /dev/lapicv and the demo VMM if packed; with
# rig_suites=lapicv,kvm also load KVM (kvm_amd) and run the selftests
# again on /dev/kvm; then unload lapicv and look for kernel splats.
#
# Every line meant for the host is prefixed "[<tag> <suite> <name>] ":
# the selftests' TAP plus "# exit=<status>", and the rig's own TAP under
# "[<tag> rig guest]".  scripts/tap-summary.sh counts them.
tag=${rig_tag:-$(uname -r)}
suites=${rig_suites:-lapicv}
mods=/lib/modules
n=0

rig() {
	echo "[$tag rig guest] $*"
}

# step <status> <description>: one TAP result of the rig.
step() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		rig "ok $n $2"
	else
		rig "not ok $n $2"
	fi
}

# load <order file>: insmod each module it lists, in order.
load() {
	while read -r m; do
		out=$(insmod "$mods/$m" 2>&1) || {
			rig "# insmod $m: $out"
			return 1
		}
	done <"$1"
}

# run_suite <suite> <device>: every selftest against <device>.
run_suite() {
	for t in /tests/*_test; do
		[ -x "$t" ] || continue
		{
			t0=$(date +%s)
			LAPICV_DEV=$2 timeout 600 "$t" 2>&1
			echo "# exit=$? after $(($(date +%s) - t0)) s"
		} | sed "s/^/[$tag $1 ${t##*/}] /"
	done
}

case ",$suites," in *,kvm,*) kvm=1 ;; *) kvm=0 ;; esac
demo=0
[ -x /bin/demo_vmm ] && demo=1
# rig_backends=vmx,svm: after the default backend, the lapicv suite again
# with lapicv reloaded as each of these (suite "lapicv-<backend>").
backends=$(echo "${rig_backends:-}" | tr ',' ' ')
nb=$(echo $backends | wc -w)
rig "1..$((4 + kvm + demo + 2 * nb))"

load $mods/lapicv.order
step $? "insmod lapicv"
# Root only without udev's rule (udev/60-lapicv.rules), as /dev/kvm.
mode=$(stat -c '%a %u' /dev/lapicv 2>&1)
[ "$mode" = "600 0" ]
step $? "/dev/lapicv is created 0600, uid 0 (got $mode)"
run_suite lapicv /dev/lapicv

for b in $backends; do
	rmmod lapicv && insmod $mods/lapicv.ko backend="$b"
	step $? "reload lapicv with backend=$b"
	run_suite "lapicv-$b" /dev/lapicv
	rmmod lapicv && load $mods/lapicv.order
	step $? "reload lapicv with the default backend"
done

if [ $demo = 1 ]; then
	out=$(demo_vmm 2>&1)
	step $? "demo_vmm"
	echo "$out" | while read -r l; do rig "# $l"; done
fi

if [ $kvm = 1 ]; then
	load $mods/kvm.order
	step $? "insmod $(tr '\n' ' ' <$mods/kvm.order)"
	run_suite kvm /dev/kvm
fi

rmmod lapicv
step $? "rmmod lapicv"

splats=$(dmesg | grep -E 'WARNING:|BUG:|Oops|general protection|soft lockup|hard LOCKUP|hung task')
if [ -n "$splats" ]; then
	dmesg | sed 's/^/# dmesg: /' | while read -r l; do rig "$l"; done
fi
[ -z "$splats" ]
step $? "no kernel warnings, BUGs, oopses or lockups in dmesg"
