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
 * it; otherwise it is ignored and nothing is counted.  Setting or clearing
 * a reason that is already so takes no lock and counts nothing.
 */
TEST_F(inhibit, vmm_reason_set_and_clear)
{
	struct lapicv_vm_stats s0, s1, s2;
	struct lapicv_inhibit_state st0, st;
	bool honoured;
	size_t i;

	ASSERT_OK(vm_enable_split_irqchip(self->vm, SPLIT_IRQCHIP_PINS));
	self->vcpu = vcpu_create(self->vm, 0);
	ASSERT_OK(self->vcpu);
	get_state(_metadata, self->vm, &st0);
	honoured = st0.apicv_enabled &&
		   (st0.required & BITU(LAPICV_INHIBIT_PIT_REINJ));
	memset(&s0, 0xa5, sizeof(s0));
	ASSERT_OK(ioctl(self->vm, LAPICV_GET_VM_STATS, &s0));
	for (i = 0; i < sizeof(s0.reserved) / 8; i++)
		EXPECT_EQ(0, s0.reserved[i]);

	ASSERT_OK(set_inhibit(self->vm, LAPICV_INHIBIT_PIT_REINJ, 1));
	get_state(_metadata, self->vm, &st);
	ASSERT_OK(ioctl(self->vm, LAPICV_GET_VM_STATS, &s1));
	if (honoured) {
		EXPECT_EQ(st0.reasons | BITU(LAPICV_INHIBIT_PIT_REINJ),
			  st.reasons);
		EXPECT_NE(NULL, strstr(st.names, "PIT_REINJ"));
		EXPECT_EQ(s0.inhibit_changes + 1, s1.inhibit_changes);
		EXPECT_EQ(s0.update_lock_writes + 1, s1.update_lock_writes);
		EXPECT_EQ(s0.apicv_toggles + !st0.reasons, s1.apicv_toggles);
	} else {
		EXPECT_EQ(st0.reasons, st.reasons);
		EXPECT_STREQ(st0.names, st.names);
		EXPECT_EQ(s0.update_lock_writes, s1.update_lock_writes);
		EXPECT_EQ(s0.inhibit_changes, s1.inhibit_changes);
	}

	/* Again: no change, no lock. */
	ASSERT_OK(set_inhibit(self->vm, LAPICV_INHIBIT_PIT_REINJ, 1));
	ASSERT_OK(ioctl(self->vm, LAPICV_GET_VM_STATS, &s2));
	EXPECT_EQ(s1.update_lock_writes, s2.update_lock_writes);
	EXPECT_EQ(s1.inhibit_changes, s2.inhibit_changes);

	ASSERT_OK(set_inhibit(self->vm, LAPICV_INHIBIT_PIT_REINJ, 0));
	get_state(_metadata, self->vm, &st);
	EXPECT_EQ(st0.reasons, st.reasons);
}

TEST_HARNESS_MAIN
