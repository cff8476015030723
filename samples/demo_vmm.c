// SPDX-License-Identifier: GPL-2.0-only
/*
 * A small VMM that drives lapicv the way a VMM drives KVM: it opens the
 * device, creates a VM whose IOAPIC and PIC stay in this process (split
 * irqchip), adds a few vCPUs, and says in plain words what it did.
 *
 *   demo_vmm [nr_vcpus]      device: $LAPICV_DEV, default /dev/lapicv
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/lapicv.h>

#define MAX_DEMO_VCPUS	64
#define IOAPIC_PINS	24

static void die(const char *what)
{
	fprintf(stderr, "demo_vmm: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* What lapicv says about APICv in this VM, if this lapicv can say it. */
static void show_apicv(int vm, const char *when)
{
	struct lapicv_inhibit_state st;

	memset(&st, 0, sizeof(st));
	if (ioctl(vm, LAPICV_GET_INHIBITS, &st)) {
		printf("  (APICv state %s: not available, %s)\n", when,
		       strerror(errno));
		return;
	}
	if (!st.apicv_enabled)
		printf("  APICv %s: off, this backend does not accelerate (%s)\n",
		       when, st.names);
	else if (st.reasons)
		printf("  APICv %s: inhibited, because of: %s\n", when, st.names);
	else
		printf("  APICv %s: active\n", when);
}

int main(int argc, char **argv)
{
	const char *path = getenv("LAPICV_DEV") ?: "/dev/lapicv";
	int nr = argc > 1 ? atoi(argv[1]) : 4;
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_SPLIT_IRQCHIP,
		.args[0] = IOAPIC_PINS,
	};
	int dev, vm, vcpu[MAX_DEMO_VCPUS], i;

	if (nr < 1 || nr > MAX_DEMO_VCPUS) {
		fprintf(stderr, "demo_vmm: 1 to %d vCPUs\n", MAX_DEMO_VCPUS);
		return 2;
	}

	dev = open(path, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		die(path);
	printf("Opened %s: it speaks KVM API version %d.\n", path,
	       ioctl(dev, KVM_GET_API_VERSION, 0));
	printf("  It takes up to %d vCPUs (ids below %d) per VM; split irqchip: %s.\n",
	       ioctl(dev, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS),
	       ioctl(dev, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID),
	       ioctl(dev, KVM_CHECK_EXTENSION, KVM_CAP_SPLIT_IRQCHIP) > 0 ?
	       "yes" : "no");

	vm = ioctl(dev, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	printf("Created a VM (fd %d).\n", vm);
	show_apicv(vm, "before the irqchip");

	if (ioctl(vm, KVM_ENABLE_CAP, &cap))
		die("KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP)");
	printf("Enabled the split irqchip: the local APICs live in lapicv, the\n"
	       "  IOAPIC and PIC in this VMM, with %d IOAPIC pins reserved.\n",
	       IOAPIC_PINS);
	show_apicv(vm, "with the irqchip");

	for (i = 0; i < nr; i++) {
		vcpu[i] = ioctl(vm, KVM_CREATE_VCPU, i);
		if (vcpu[i] < 0)
			die("KVM_CREATE_VCPU");
	}
	printf("Created %d vCPUs with APIC ids 0 to %d.\n", nr, nr - 1);
	if (ioctl(vm, KVM_CREATE_VCPU, 0) < 0)
		printf("  A second vCPU 0 is refused, as KVM refuses it: %s.\n",
		       strerror(errno));

	close(dev);
	close(vm);
	printf("Closed the device and the VM fd: the vCPU fds keep the VM alive.\n");
	for (i = 0; i < nr; i++)
		close(vcpu[i]);
	printf("Closed the %d vCPU fds: the VM is gone, and lapicv can be unloaded.\n",
	       nr);
	return 0;
}
