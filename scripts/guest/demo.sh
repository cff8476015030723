#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The guest side of `make demo` (/run.sh in the initramfs):
#   1. load lapicv (backend soft) and run guest_vmm: a real 4-vCPU guest
#      under KVM_RUN (INIT/SIPI, timers, IPIs, an MSI, an inhibit flip);
#   2. reload lapicv with backend=vmx-model and backend=avic-model
#      (lapicv's own models of the CPU's side of APICv): guest_vmm must be
#      told plainly that KVM_RUN is refused there (exit status 4), then
#      demo_vmm tells acts 3-6 (interrupts, timer, inhibits, counters)
#      with the run step LAPICV_RUN instead of guest code;
#   3. unload lapicv and, if kvm_amd is packed, run guest_vmm on /dev/kvm
#      as the comparison;
#   4. say whether the kernel complained.
# "demo: ok" comes last, and only if every step did what it should.
status=ok

say() {
	echo "demo: $*"
}

# run_guest <name> [VAR=value]: guest_vmm (timeout 120 s), its output
# shown and kept in /tmp/<name>.out; returns its exit status.
run_guest() {
	name=$1
	shift
	{
		env "$@" timeout 120 guest_vmm 2>&1
		echo $? >/tmp/rc
	} | tee "/tmp/$name.out"
	return "$(cat /tmp/rc)"
}

# counts <name>: "T ticks, I IPIs, M MSI" per vCPU line of /tmp/<name>.out.
counts() {
	sed -n 's/^  vCPU \([0-9]\) saw \([0-9]*\) timer ticks, \([0-9]*\) IPIs .* and \([0-9]*\) \(MSIs*\)\.$/\1 \2 ticks, \3 IPIs, \4 \5/p' \
		"/tmp/$1.out"
}

# load <order file>: insmod each module it lists, in order.
load() {
	while read -r m; do
		insmod "/lib/modules/$m" || return 1
	done <"$1"
}

say "part 1: real guest code on lapicv, backend=soft"
echo
if load /lib/modules/lapicv.order; then
	say "loaded lapicv.ko: $(ls -l /dev/lapicv 2>&1)"
	echo
	run_guest soft || status=failed
else
	say "insmod lapicv.ko failed"
	status=failed
fi

for b in vmx-model avic-model; do
	echo
	if ! rmmod lapicv || ! insmod /lib/modules/lapicv.ko backend="$b"; then
		say "reloading lapicv.ko with backend=$b failed"
		status=failed
		continue
	fi
	say "part 2: lapicv reloaded with backend=$b"
	echo
	run_guest "$b"
	rc=$?
	echo
	if [ $rc -eq 4 ]; then
		say "so on $b the VMM plays the guest's part instead: it forwards"
		say "the guest's APIC accesses (LAPICV_GUEST_ACCESS) and takes lapicv's"
		say "run step (LAPICV_RUN) where KVM_RUN would enter the guest (acts 3-6):"
		echo
		demo_vmm 3456 || status=failed
	else
		say "guest_vmm should have been refused on $b (exit status 4), got $rc"
		status=failed
	fi
done

echo
if rmmod lapicv; then
	say "unloaded lapicv.ko"
else
	status=failed
fi

if [ -f /lib/modules/kvm.order ]; then
	echo
	if load /lib/modules/kvm.order; then
		say "part 3: the same guest on kvm_amd (/dev/kvm), for comparison"
		echo
		run_guest kvm LAPICV_DEV=/dev/kvm || status=failed
	else
		say "loading kvm_amd failed: no comparison"
		status=failed
	fi
fi

if [ -s /tmp/kvm.out ]; then
	echo
	say "side by side, what each vCPU's handlers counted:"
	say "      lapicv (backend=soft)          kvm_amd"
	counts soft >/tmp/soft.counts
	counts kvm >/tmp/kvm.counts
	for i in 0 1 2 3; do
		say "$(printf 'vCPU %s  %-30s %s' "$i" \
			"$(sed -n "s/^$i //p" /tmp/soft.counts)" \
			"$(sed -n "s/^$i //p" /tmp/kvm.counts)")"
	done
	say "(the guest waits for at least 25 ticks; the count past that varies.)"
fi

echo
if dmesg | grep -E 'WARNING:|BUG:|Oops|general protection|soft lockup|hard LOCKUP|hung task'; then
	say "the kernel log above has warnings"
	status=failed
else
	say "no warnings, BUGs or oopses in the kernel log"
fi
say "$status"
