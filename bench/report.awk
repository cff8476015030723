# SPDX-License-Identifier: GPL-2.0-only
#
# The table of `make bench`, from the "BENCH <name> <value> <unit>" lines
# of the guest's log (scripts/bench.sh); then the headline BENCH lines and
# every other one.  Missing figures print as "-".

/^BENCH / {
	if (!($2 in v))
		names[++n] = $2
	v[$2] = $3
	u[$2] = $4
}

function f(name, fmt) {
	return (name in v) ? sprintf(fmt, v[name]) : "-"
}

function ns(name) {
	return f(name, "%.0f")
}

function row4(a, b, c, d) {
	printf "  %-34s %14s %14s %10s\n", a, b, c, d
}

END {
	print ""
	print "== 1. ioctl cost, ns per call (median), same code on both devices"
	row4("", "lapicv", "kvm", "lapicv/kvm")
	split("signal_msi get_lapic set_lapic set_lapic_id set_msrs_tpr get_mp_state check_extension", ops)
	for (i = 1; i in ops; i++)
		row4(ops[i], ns(ops[i] "_ns_lapicv"), ns(ops[i] "_ns_kvm"),
		     f(ops[i] "_ratio_lapicv_over_kvm", "%.2f"))

	print ""
	print "== 2. run step round trip per backend, ns (lapicv only)"
	printf "  %-10s %14s %14s %14s %14s\n", "backend", "MSI+run+EOI",
	       "..EOI by MSRS", "MSI alone", "wake-up"
	split("soft vmx-model avic-model", bes)
	for (i = 1; i in bes; i++)
		printf "  %-10s %14s %14s %14s %14s\n", bes[i],
		       ns("roundtrip_ns_" bes[i]),
		       ns("roundtrip_setmsrs_eoi_ns_" bes[i]),
		       ns("signal_msi_ns_" bes[i]), ns("wakeup_ns_" bes[i])

	print ""
	print "== 3. IRQ-window contention, backend=avic-model"
	printf "  %-9s %-8s %7s %10s %11s %12s %10s %12s\n", "other", "policy",
	       "threads", "windows/s", "writes/win", "transit/win", "writes/tr",
	       "toggles/win"
	split("alone pitreinj", others)
	split("legacy counter", pols)
	for (o = 1; o in others; o++)
		for (p = 1; p in pols; p++)
			for (t = 1; t <= 64; t *= 2) {
				s = pols[p] "_" others[o] "_t" t
				if (!(("irqwin_windows_per_s_" s) in v))
					continue
				printf "  %-9s %-8s %7d %10s %11s %12s %10s %12s\n",
				       others[o] == "alone" ? "none" : "PIT_REINJ",
				       pols[p], t,
				       f("irqwin_windows_per_s_" s, "%.0f"),
				       f("irqwin_writes_per_window_" s, "%.3f"),
				       f("irqwin_transitions_per_window_" s, "%.3f"),
				       f("irqwin_writes_per_transition_" s, "%.3f"),
				       f("irqwin_toggles_per_window_" s, "%.3f")
			}
	printf "  counter/legacy windows/s at 2 threads: %s (no other inhibit), %s (PIT_REINJ)\n",
	       f("irqwin_counter_over_legacy", "%.2f"),
	       f("irqwin_counter_over_legacy_other_inhibit", "%.2f")

	print ""
	print "== 4. scale: ns per operation, lapicv / kvm (ratio)"
	printf "  %-14s", "vCPUs"
	split("1 64 256 1024", sizes)
	for (s = 1; s in sizes; s++)
		printf " %26s", sizes[s]
	printf "\n"
	split("create_vcpu set_lapic_id bcast_ipi mcast_ipi", sops)
	for (i = 1; i in sops; i++) {
		printf "  %-14s", sops[i]
		for (s = 1; s in sizes; s++) {
			k = "scale_" sops[i]
			cell = sprintf("%s/%s (%s)", ns(k "_ns_lapicv_n" sizes[s]),
				       ns(k "_ns_kvm_n" sizes[s]),
				       f(k "_ratio_lapicv_over_kvm_n" sizes[s], "%.2f"))
			printf " %26s", cell
		}
		printf "\n"
	}

	print ""
	print "== 5. memory, bytes (memory cgroup: kernel = all kmem, slab = objects)"
	row4("", "lapicv", "kvm", "")
	split("kernel_per_vm slab_per_vm kernel_per_vcpu slab_per_vcpu", ms)
	for (i = 1; i in ms; i++)
		row4(ms[i], f("mem_" ms[i] "_lapicv", "%.0f"),
		     f("mem_" ms[i] "_kvm", "%.0f"), "")

	print ""
	print "== 6. real guest code under KVM_RUN (realguest_bench), median ns per event"
	printf "  %-24s %12s %12s %8s %12s %12s\n", "", "lapicv", "kvm", "ratio",
	       "mean lapicv", "mean kvm"
	split("ipi_rt_xapic ipi_rt_x2apic ipi_running timer_tscdl_latency " \
	      "timer_oneshot_latency msi_running msi_halted exit_pio " \
	      "exit_eoi_msr exit_xapic_mmio extint", rgs)
	for (i = 1; i in rgs; i++) {
		k = "rg_" rgs[i]
		printf "  %-24s %12s %12s %8s %12s %12s\n", rgs[i],
		       ns(k "_ns_lapicv"), ns(k "_ns_kvm"),
		       f(k "_ratio_lapicv_over_kvm", "%.2f"),
		       ns(k "_mean_ns_lapicv"), ns(k "_mean_ns_kvm")
	}
	k = "rg_timer_periodic_drift"
	printf "  %-24s %12s %12s %8s  (ppm, |lapicv|/|kvm|)\n", "timer_periodic_drift",
	       f(k "_ppm_lapicv", "%.0f"), f(k "_ppm_kvm", "%.0f"),
	       f(k "_abs_ratio_lapicv_over_kvm", "%.2f")
	printf "  per ExtINT %-13s %12s %12s %12s\n", "", "lapicv", "kvm",
	       "lapicv+PIT"
	split("vmm_exits kvm_exits irq_windows extint_injections lock_writes irqwin_transitions", xs)
	for (i = 1; i in xs; i++)
		printf "  %-24s %12s %12s %12s\n", xs[i],
		       f("rg_extint_" xs[i] "_per_irq_lapicv", "%.3f"),
		       f("rg_extint_" xs[i] "_per_irq_kvm", "%.3f"),
		       f("rg_extint_other_inhibit_" xs[i] "_per_irq_lapicv", "%.3f")

	print ""
	print "== headline figures"
	split("signal_msi_ratio_lapicv_over_kvm get_lapic_ratio_lapicv_over_kvm " \
	      "set_lapic_ratio_lapicv_over_kvm set_msrs_tpr_ratio_lapicv_over_kvm " \
	      "get_mp_state_ratio_lapicv_over_kvm irqwin_counter_over_legacy " \
	      "irqwin_write_locks_per_window_other_inhibit", heads)
	for (i = 1; i in heads; i++) {
		hv[heads[i]] = 1
		if (heads[i] in v)
			printf "BENCH %s %s %s\n", heads[i], v[heads[i]], u[heads[i]]
		else
			printf "# missing: BENCH %s\n", heads[i]
	}
	print ""
	print "== all figures"
	for (i = 1; i <= n; i++)
		if (!(names[i] in hv))
			printf "BENCH %s %s %s\n", names[i], v[names[i]], u[names[i]]
}
