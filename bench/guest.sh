#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The guest side of `make bench` (/run.sh in the initramfs, packed by
# scripts/bench.sh): load kvm_amd and lapicv, run lapicv_bench for each
# item, reloading lapicv with backend=soft, vmx-model and avic-model for the run-step
# items, and say whether the kernel complained.  The realguest item (real
# guest code under KVM_RUN, realguest_bench) reloads kvm.ko with
# enable_virt_at_load=0 first, so that kvm_amd takes SVM only while one of
# its VMs exists and lapicv can take it in between.  Kernel command line
# words rig_bench_<x>=<y> set BENCH_<X> (seconds, reps, threads, scale_max,
# rg_slices, rg_ms) and rig_bench_items picks items (default:
# ioctl,irqwin,run,scale,mem,realguest).
mods=/lib/modules
items=${rig_bench_items:-ioctl,irqwin,run,scale,mem,realguest}
[ -n "$rig_bench_seconds" ] && export BENCH_SECONDS=$rig_bench_seconds
[ -n "$rig_bench_reps" ] && export BENCH_REPS=$rig_bench_reps
[ -n "$rig_bench_threads" ] && export BENCH_THREADS=$rig_bench_threads
[ -n "$rig_bench_scale_max" ] && export BENCH_SCALE_MAX=$rig_bench_scale_max
[ -n "$rig_bench_rg_slices" ] && export BENCH_RG_SLICES=$rig_bench_rg_slices
[ -n "$rig_bench_rg_ms" ] && export BENCH_RG_MS=$rig_bench_rg_ms
[ -n "$rig_bench_rg_figs" ] && export BENCH_RG_FIGS=",$rig_bench_rg_figs,"

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

# trace_on <f1,f2,...>: the durations of these functions and only these
# (rig_bench_trace_graph=1: and of all they call), with the function_graph
# tracer (a profile of the realguest item:
# rig_bench_trace=, Documentation/testing.rst).
trace_on() {
	t=/sys/kernel/tracing
	[ -e $t/trace ] || mount -t tracefs nodev $t || return
	# rig_bench_trace_graph=1: these functions and all they call.
	[ "$rig_bench_trace_graph" = 1 ] && file=set_graph_function || file=set_ftrace_filter
	for f in $(echo "$1" | tr , ' '); do
		echo "$f" >>$t/$file || say "trace: cannot trace $f"
	done
	echo 16384 >$t/buffer_size_kb
	echo 1 >$t/options/funcgraph-tail
	echo function_graph >$t/current_tracer
	echo 1 >$t/tracing_on
}

# trace_dump: per function, the number of calls and the mean duration (us)
# over the trace (calls over 1 ms, preempted or interrupted, left out), then
# the first lines of the trace.
trace_dump() {
	t=/sys/kernel/tracing
	echo 0 >$t/tracing_on
	awk '/ us +\|/ {
		if (!match($0, /[0-9.]+ us/)) next
		d = substr($0, RSTART, RLENGTH - 3) + 0
		f = $0; sub(/.*\| */, "", f)
		if (f ~ /^} \/\* /) { sub(/^} \/\* /, "", f); sub(/ *\*\/$/, "", f) }
		else if (f ~ /\(\);$/) sub(/\(\);$/, "", f)
		else next
		if (d > 1000) { o[f]++; next }
		n[f]++; s[f] += d
	} END { for (f in n) printf "# trace: %-40s %7d calls %8.1f us mean (%d over 1 ms left out)\n",
				       f, n[f], s[f] / n[f], o[f] }' $t/trace | sort
	head -n ${rig_bench_trace_lines:-100} $t/trace | sed 's/^/# trace| /'
	echo nop >$t/current_tracer
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
	if want scale; then
		# With rig_bench_trace=, a profile of the scale item run alone.
		trace=
		[ "$items" = scale ] && trace=$rig_bench_trace
		[ -z "$trace" ] || trace_on "$trace"
		bench scale
		[ -z "$trace" ] || trace_dump
	fi
	want mem && bench mem
fi
if want realguest; then
	if rmmod kvm_amd kvm && insmod $mods/kvm.ko enable_virt_at_load=0 &&
		insmod $mods/kvm-amd.ko && lapicv_load; then
		say "kvm reloaded with enable_virt_at_load=$(cat /sys/module/kvm/parameters/enable_virt_at_load)"
		t0=$(date +%s)
		[ -n "$rig_bench_trace" ] && trace_on "$rig_bench_trace"
		# By its path: KVM's library loads the binary into the guest.
		/bin/realguest_bench || say "realguest_bench failed (status $?)"
		say "realguest took $(($(date +%s) - t0)) s"
		[ -n "$rig_bench_trace" ] && trace_dump
	else
		say "realguest: could not reload kvm with enable_virt_at_load=0"
	fi
fi
rmmod lapicv

if dmesg | grep -q -E 'WARNING:|BUG:|Oops|general protection|soft lockup|hard LOCKUP|hung task'; then
	say "the kernel log has warnings:"
	dmesg | sed 's/^/# dmesg: /'
fi
say "done"
