// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VM-wide APICv inhibit ioctls: LAPICV_GET_INHIBITS, LAPICV_SET_INHIBIT
 * and LAPICV_GET_VM_STATS.  lapicv-only: KVM has no such ioctls.
 *
 * What a reason does depends on the loaded backend: the soft backend has
 * no APICv, so its VMs carry DISABLED for life and ignore every set or
 * clear, as KVM ignores inhibits with enable_apicv=0.  The tests read
 * apicv_enabled and check the behaviour that backend must have.
 */
#include <string.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "lapicv_util.h"
#include <linux/lapicv.h>

#define BITU(n)	(1ull << (n))

FIXTURE(inhibit) {
	int dev, vm, vcpu;
};

FIXTURE_SETUP(inhibit)
{
	REQUIRE_LAPICV();
	self->dev = open_dev();
	ASSERT_OK(self->dev);
	self->vm = vm_create(self->dev);
	ASSERT_OK(self->vm);
	self->vcpu = -1;
}

FIXTURE_TEARDOWN(inhibit)
{
	if (self->vcpu >= 0)
		close(self->vcpu);
	close(self->vm);
	close(self->dev);
}

static void get_state(struct __test_metadata *_metadata, int vm,
		      struct lapicv_inhibit_state *st)
{
	memset(st, 0xa5, sizeof(*st));
	ASSERT_OK(ioctl(vm, LAPICV_GET_INHIBITS, st));
}

static int set_inhibit(int vm, unsigned int reason, unsigned int set)
{
	struct lapicv_inhibit_op op = { .reason = reason, .set = set };

	return ioctl(vm, LAPICV_SET_INHIBIT, &op);
}

/* A new VM: ABSENT (or DISABLED without APICv), named, the rest zeroed. */
TEST_F(inhibit, initial_state_and_names)
{
	struct lapicv_inhibit_state st;
	size_t i, len;

	get_state(_metadata, self->vm, &st);
	if (st.apicv_enabled) {
		EXPECT_EQ(BITU(LAPICV_INHIBIT_ABSENT), st.reasons);
		EXPECT_STREQ("ABSENT", st.names);
	} else {
		EXPECT_EQ(BITU(LAPICV_INHIBIT_DISABLED), st.reasons);
		EXPECT_STREQ("DISABLED", st.names);
	}
	EXPECT_EQ(0, st.irq_window);
	len = strlen(st.names);
	/* No uninitialised bytes: everything past the NUL is zero. */
	for (i = len; i < sizeof(st.names); i++)
		ASSERT_EQ(0, st.names[i]) TH_LOG("names[%zu] not zeroed", i);
}

/* Enabling the split irqchip clears ABSENT, as KVM does. */
TEST_F(inhibit, split_irqchip_clears_absent)
{
	struct lapicv_inhibit_state st;

	ASSERT_OK(vm_enable_split_irqchip(self->vm, SPLIT_IRQCHIP_PINS));
	get_state(_metadata, self->vm, &st);
	EXPECT_FALSE(st.reasons & BITU(LAPICV_INHIBIT_ABSENT));
	EXPECT_EQ(st.apicv_enabled ? 0 : BITU(LAPICV_INHIBIT_DISABLED),
		  st.reasons);
}

/* Only the VMM's reasons may be set; bad input changes nothing. */
TEST_F(inhibit, bad_input)
{
	struct lapicv_inhibit_state before, after;

	get_state(_metadata, self->vm, &before);
	EXPECT_ERRNO(set_inhibit(self->vm, LAPICV_NR_INHIBITS, 1), EINVAL);
	EXPECT_ERRNO(set_inhibit(self->vm, ~0u, 1), EINVAL);
	EXPECT_ERRNO(set_inhibit(self->vm, LAPICV_INHIBIT_PIT_REINJ, 2), EINVAL);
	EXPECT_ERRNO(set_inhibit(self->vm, LAPICV_INHIBIT_IRQWIN, 1), EINVAL);
	EXPECT_ERRNO(set_inhibit(self->vm, LAPICV_INHIBIT_ABSENT, 0), EINVAL);
	EXPECT_ERRNO(set_inhibit(self->vm, LAPICV_INHIBIT_DISABLED, 0), EINVAL);
	EXPECT_ERRNO(set_inhibit(self->vm, LAPICV_INHIBIT_APIC_ID_MODIFIED, 1),
		     EINVAL);
	EXPECT_ERRNO(ioctl(self->vm, LAPICV_SET_INHIBIT, (void *)1), EFAULT);
	EXPECT_ERRNO(ioctl(self->vm, LAPICV_GET_INHIBITS, (void *)1), EFAULT);
	EXPECT_ERRNO(ioctl(self->vm, LAPICV_GET_VM_STATS, (void *)1), EFAULT);
	get_state(_metadata, self->vm, &after);
	EXPECT_EQ(before.reasons, after.reasons);
}

/*
 * A VMM reason shows up by name and in the stats when the backend honours
 * it; without APICv it is ignored and nothing is counted.
 */
TEST_F(inhibit, vmm_reason_set_and_clear)
{
	struct lapicv_inhibit_state st;
	struct lapicv_vm_stats stats;
	bool honoured;

	ASSERT_OK(vm_enable_split_irqchip(self->vm, SPLIT_IRQCHIP_PINS));
	self->vcpu = vcpu_create(self->vm, 0);
	ASSERT_OK(self->vcpu);
	get_state(_metadata, self->vm, &st);
	honoured = st.apicv_enabled &&
		   (st.required & BITU(LAPICV_INHIBIT_PIT_REINJ));

	ASSERT_OK(set_inhibit(self->vm, LAPICV_INHIBIT_PIT_REINJ, 1));
	get_state(_metadata, self->vm, &st);
	memset(&stats, 0xa5, sizeof(stats));
	ASSERT_OK(ioctl(self->vm, LAPICV_GET_VM_STATS, &stats));
	for (size_t i = 0; i < sizeof(stats.reserved) / 8; i++)
		EXPECT_EQ(0, stats.reserved[i]);
	if (honoured) {
		EXPECT_EQ(BITU(LAPICV_INHIBIT_PIT_REINJ), st.reasons);
		EXPECT_STREQ("PIT_REINJ", st.names);
		/* Clearing ABSENT, then setting PIT_REINJ: both toggle. */
		EXPECT_EQ(2, stats.inhibit_changes);
		EXPECT_EQ(2, stats.apicv_toggles);
		EXPECT_EQ(2, stats.update_lock_writes);
	} else {
		EXPECT_EQ(BITU(LAPICV_INHIBIT_DISABLED), st.reasons);
		EXPECT_STREQ("DISABLED", st.names);
		EXPECT_EQ(0, stats.update_lock_writes);
		EXPECT_EQ(0, stats.inhibit_changes);
	}

	ASSERT_OK(set_inhibit(self->vm, LAPICV_INHIBIT_PIT_REINJ, 0));
	get_state(_metadata, self->vm, &st);
	EXPECT_FALSE(st.reasons & BITU(LAPICV_INHIBIT_PIT_REINJ));
}

TEST_HARNESS_MAIN
