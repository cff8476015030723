#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The guest side of `make bench` (/run.sh in the initramfs, packed by
# scripts/bench.sh): load kvm_amd and lapicv, run lapicv_bench for each
# item, reloading lapicv with backend=soft, vmx-model and avic-model for the run-step
# items, and say whether the kernel complained.  Kernel command line words
# rig_bench_<x>=<y> set BENCH_<X> (seconds, reps, threads, scale_max) and
# rig_bench_items picks items (default: ioctl,irqwin,run,scale,mem).
mods=/lib/modules
items=${rig_bench_items:-ioctl,irqwin,run,scale,mem}
[ -n "$rig_bench_seconds" ] && export BENCH_SECONDS=$rig_bench_seconds
[ -n "$rig_bench_reps" ] && export BENCH_REPS=$rig_bench_reps
[ -n "$rig_bench_threads" ] && export BENCH_THREADS=$rig_bench_threads
[ -n "$rig_bench_scale_max" ] && export BENCH_SCALE_MAX=$rig_bench_scale_max

say() {
	echo "# bench: $*"
}

want() {
	case ",$items," in *,$1,*) return 0 ;; esac
	return 1
}

# bench <item>: run one item, with its wall time.
bench() {
	t0=$(date +%s)
	lapicv_bench "$1" || say "lapicv_bench $1 failed (status $?)"
	say "$1 took $(($(date +%s) - t0)) s"
}

# lapicv_load [param=value...]: (re)load lapicv with these parameters.
lapicv_load() {
	[ -e /sys/module/lapicv ] && rmmod lapicv
	if ! out=$(insmod $mods/lapicv.ko "$@" 2>&1); then
		say "insmod lapicv.ko $*: $out"
		return 1
	fi
	say "lapicv loaded: backend=$(cat /sys/module/lapicv/parameters/backend) irqwin_policy=$(cat /sys/module/lapicv/parameters/irqwin_policy)"
}

while read -r m; do
	out=$(insmod "$mods/$m" 2>&1) || say "insmod $m: $out"
done <$mods/kvm.order
[ -e /dev/kvm ] || say "no /dev/kvm: the KVM side of each figure is missing"
say "memory: $(sed -n 's/^MemTotal: *//p' /proc/meminfo), nofile limit $(ulimit -n)"

if want ioctl || want scale || want mem; then
	lapicv_load
	want ioctl && bench ioctl
fi
if want irqwin && lapicv_load backend=avic-model; then
	bench irqwin
fi
if want run; then
	for b in soft vmx-model avic-model; do
		lapicv_load backend=$b && bench run
	done
fi
if want scale || want mem; then
	lapicv_load
	want scale && bench scale
	want mem && bench mem
fi
rmmod lapicv

if dmesg | grep -q -E 'WARNING:|BUG:|Oops|general protection|soft lockup|hard LOCKUP|hung task'; then
	say "the kernel log has warnings:"
	dmesg | sed 's/^/# dmesg: /'
fi
say "done"
