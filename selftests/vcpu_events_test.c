// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_GET/SET_VCPU_EVENTS and KVM_SMI, with the expectations of KVM 6.12
 * on kvm_amd without vNMI (x86.c kvm_vcpu_ioctl_x86_get/set_vcpu_events(),
 * process_nmi(), smm.c process_smi(), kvm_arch_vcpu_ioctl_set_mpstate(),
 * svm.c svm_get/set_interrupt_shadow(), svm_get/set_nmi_mask()), the same
 * on /dev/lapicv and /dev/kvm: NMIs latched two at a time (one while
 * masked or injected), what GET reports of what SET stored, the interrupt
 * shadow as kvm_amd reports it, an SMI requested then latched, the SMI
 * refusing INIT/SIPI MP states, latched INIT, what INIT resets, and every
 * errno of SET.  The lapicv-only differences (no SMM, the capabilities)
 * are the tests that start with REQUIRE_LAPICV().
 */
#include "kselftest_harness.h"
#include "lapic_util.h"

#define VALID_DEFAULT	(KVM_VCPUEVENT_VALID_NMI_PENDING |		\
			 KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM)
#define SHADOW_BOTH	(KVM_X86_SHADOW_INT_MOV_SS | KVM_X86_SHADOW_INT_STI)

FIXTURE(ev) {
	struct lt_vm v;
};

/* Two vCPUs in x2APIC mode, APICs software-enabled, the AP RUNNABLE. */
FIXTURE_SETUP(ev)
{
	struct kvm_lapic_state s;
	int i;

	ASSERT_OK(lt_vm_create(&self->v, 2));
	for (i = 0; i < 2; i++) {
		ASSERT_OK(set_cpuid_x2apic(self->v.vcpu[i]));
		ASSERT_EQ(1, enable_x2apic(self->v.vcpu[i]));
		ASSERT_OK(get_lapic(self->v.vcpu[i], &s));
		lapic_set_reg(&s, APIC_SPIV, 0x1ff);
		ASSERT_OK(set_lapic(self->v.vcpu[i], &s));
	}
	ASSERT_OK(set_mp_state(self->v.vcpu[1], KVM_MP_STATE_RUNNABLE));
}

FIXTURE_TEARDOWN(ev)
{
	lt_vm_destroy(&self->v);
}

#define BSP	(self->v.vcpu[0])
#define AP	(self->v.vcpu[1])

/* GET into a poisoned buffer: every byte must come from the device. */
static int get_events(int vcpu, struct kvm_vcpu_events *e)
{
	memset(e, 0xa5, sizeof(*e));
	return ioctl(vcpu, KVM_GET_VCPU_EVENTS, e);
}

static int set_events(int vcpu, const struct kvm_vcpu_events *e)
{
	struct kvm_vcpu_events copy = *e;

	return ioctl(vcpu, KVM_SET_VCPU_EVENTS, &copy);
}

static int send_ipi(int vcpu, __u32 dest, __u32 low)
{
	return set_msr(vcpu, X2APIC_MSR(APIC_ICR), (__u64)dest << 32 | low);
}

static __u8 nmi_pending(int vcpu)
{
	struct kvm_vcpu_events e;

	if (get_events(vcpu, &e))
		return 0xff;
	return e.nmi.pending;
}

TEST_F(ev, capability)
{
	EXPECT_EQ(1, check_ext(self->v.dev, KVM_CAP_VCPU_EVENTS));
	EXPECT_EQ(1, check_ext(self->v.vm, KVM_CAP_VCPU_EVENTS));
}

/* A new vCPU: nothing pending, and these three flags. */
TEST_F(ev, initial)
{
	struct kvm_vcpu_events e, want;

	memset(&want, 0, sizeof(want));
	want.flags = VALID_DEFAULT;
	ASSERT_OK(get_events(BSP, &e));
	EXPECT_EQ(0, memcmp(&e, &want, sizeof(e)));
	ASSERT_OK(get_events(AP, &e));
	EXPECT_EQ(0, memcmp(&e, &want, sizeof(e)));
}

/* KVM_NMI queues; GET latches two, or one while masked or injected. */
TEST_F(ev, nmi_latch)
{
	struct kvm_vcpu_events e = { .nmi.masked = 1 };
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_OK(ioctl(BSP, KVM_NMI));
	EXPECT_EQ(2, nmi_pending(BSP));
	/* Latched under the old mask, then clamped under the new one. */
	ASSERT_OK(set_events(BSP, &e));
	EXPECT_EQ(1, nmi_pending(BSP));
	e.nmi.masked = 0;
	ASSERT_OK(set_events(BSP, &e));
	ASSERT_OK(ioctl(BSP, KVM_NMI));
	EXPECT_EQ(2, nmi_pending(BSP));

	/* VALID_NMI_PENDING replaces the count, latched at the next GET. */
	e.flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
	e.nmi.pending = 200;
	ASSERT_OK(set_events(BSP, &e));
	EXPECT_EQ(2, nmi_pending(BSP));
	e.nmi.pending = 0;
	ASSERT_OK(set_events(BSP, &e));
	EXPECT_EQ(0, nmi_pending(BSP));
	e.nmi.pending = 2;
	e.nmi.injected = 1;
	ASSERT_OK(set_events(BSP, &e));
	ASSERT_OK(get_events(BSP, &e));
	EXPECT_EQ(1, e.nmi.pending);
	EXPECT_EQ(1, e.nmi.injected);
	/* An NMI IPI queues one too. */
	e.flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
	e.nmi.pending = 0;
	e.nmi.injected = 0;
	ASSERT_OK(set_events(AP, &e));
	ASSERT_EQ(1, send_ipi(BSP, 1, DM_NMI | ICR_LEVEL_ASSERT));
	EXPECT_EQ(1, nmi_pending(AP));
}

/* What SET stores, GET reports, as KVM's types keep it. */
TEST_F(ev, round_trip)
{
	struct kvm_vcpu_events e, got;

	memset(&e, 0, sizeof(e));
	e.exception.injected = 1;
	e.exception.nr = 14;
	e.exception.has_error_code = 7;		/* a bool: reads 1 */
	e.exception.error_code = 0x1234;
	e.exception.pending = 1;		/* ignored without the payload flag */
	e.exception_has_payload = 1;		/* likewise */
	e.exception_payload = 0xdeadbeefcafeull;	/* kept, as KVM does */
	e.interrupt.injected = 1;
	e.interrupt.nr = 0x31;
	e.nmi.injected = 3;
	e.nmi.masked = 9;
	e.sipi_vector = 0x12;			/* never reported */
	e.flags = KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	e.interrupt.shadow = KVM_X86_SHADOW_INT_STI;
	memset(e.reserved, 0x5a, sizeof(e.reserved));	/* ignored */
	e.nmi.pad = 0x77;
	ASSERT_OK(set_events(BSP, &e));
	ASSERT_OK(get_events(BSP, &got));
	EXPECT_EQ(1, got.exception.injected);
	EXPECT_EQ(14, got.exception.nr);
	EXPECT_EQ(1, got.exception.has_error_code);
	EXPECT_EQ(0x1234u, got.exception.error_code);
	EXPECT_EQ(0, got.exception.pending);
	EXPECT_EQ(0, got.exception_has_payload);
	EXPECT_EQ(0xdeadbeefcafeull, got.exception_payload);
	EXPECT_EQ(1, got.interrupt.injected);
	EXPECT_EQ(0x31, got.interrupt.nr);
	EXPECT_EQ(0, got.interrupt.soft);
	/* kvm_amd has one shadow bit and reports it as both kinds. */
	EXPECT_EQ(SHADOW_BOTH, got.interrupt.shadow);
	EXPECT_EQ(1, got.nmi.injected);
	EXPECT_EQ(1, got.nmi.masked);
	EXPECT_EQ(0, got.nmi.pad);
	EXPECT_EQ(0u, got.sipi_vector);
	EXPECT_EQ((__u32)VALID_DEFAULT, got.flags);
	for (unsigned int i = 0; i < sizeof(got.reserved); i++)
		EXPECT_EQ(0, got.reserved[i]);

	/* Without VALID_SHADOW the shadow stays; with it, 0 clears it. */
	e.flags = 0;
	e.interrupt.shadow = 0;
	ASSERT_OK(set_events(BSP, &e));
	ASSERT_OK(get_events(BSP, &got));
	EXPECT_EQ(SHADOW_BOTH, got.interrupt.shadow);
	e.flags = KVM_VCPUEVENT_VALID_SHADOW;
	ASSERT_OK(set_events(BSP, &e));
	ASSERT_OK(get_events(BSP, &got));
	EXPECT_EQ(0, got.interrupt.shadow);
}

/* Software exceptions and interrupts are stored but never reported injected. */
TEST_F(ev, soft_events_not_reported)
{
	struct kvm_vcpu_events e, got;

	memset(&e, 0, sizeof(e));
	e.exception.injected = 1;
	e.exception.nr = 3;			/* #BP */
	e.interrupt.injected = 1;
	e.interrupt.soft = 1;
	e.interrupt.nr = 0x80;
	ASSERT_OK(set_events(BSP, &e));
	ASSERT_OK(get_events(BSP, &got));
	EXPECT_EQ(0, got.exception.injected);
	EXPECT_EQ(3, got.exception.nr);
	EXPECT_EQ(0, got.interrupt.injected);
	EXPECT_EQ(0x80, got.interrupt.nr);
	EXPECT_EQ(0, got.interrupt.soft);
	e.exception.nr = 4;			/* #OF */
	ASSERT_OK(set_events(BSP, &e));
	ASSERT_OK(get_events(BSP, &got));
	EXPECT_EQ(0, got.exception.injected);
	/* A vector above 31 that is not injected is no error. */
	e.exception.injected = 0;
	e.exception.nr = 0xee;
	ASSERT_OK(set_events(BSP, &e));
	ASSERT_OK(get_events(BSP, &got));
	EXPECT_EQ(0xee, got.exception.nr);
}

/* KVM_SMI is a request, latched by GET; SET with VALID_SMM clears it. */
TEST_F(ev, smi)
{
	struct kvm_vcpu_events e;

	ASSERT_OK(ioctl(AP, KVM_SMI));
	/* Not latched yet: KVM checks only the latched SMI here. */
	ASSERT_OK(set_mp_state(AP, KVM_MP_STATE_HALTED));
	ASSERT_OK(get_events(AP, &e));
	EXPECT_EQ(1, e.smi.pending);
	EXPECT_EQ(0, e.smi.smm);
	EXPECT_ERRNO(set_mp_state(AP, KVM_MP_STATE_INIT_RECEIVED), EINVAL);
	EXPECT_ERRNO(set_mp_state(AP, KVM_MP_STATE_SIPI_RECEIVED), EINVAL);
	EXPECT_EQ(KVM_MP_STATE_HALTED, get_mp_state(AP));
	ASSERT_OK(set_mp_state(AP, KVM_MP_STATE_RUNNABLE));
	/* Without VALID_SMM the SMI stays. */
	memset(&e, 0, sizeof(e));
	ASSERT_OK(set_events(AP, &e));
	ASSERT_OK(get_events(AP, &e));
	EXPECT_EQ(1, e.smi.pending);
	memset(&e, 0, sizeof(e));
	e.flags = KVM_VCPUEVENT_VALID_SMM;
	e.smi.smm_inside_nmi = 1;		/* means nothing outside SMM */
	ASSERT_OK(set_events(AP, &e));
	ASSERT_OK(get_events(AP, &e));
	EXPECT_EQ(0, e.smi.pending);
	EXPECT_EQ(0, e.smi.smm_inside_nmi);
	ASSERT_OK(set_mp_state(AP, KVM_MP_STATE_INIT_RECEIVED));

	/* A requested SMI that was never latched does not refuse INIT. */
	ASSERT_OK(set_mp_state(AP, KVM_MP_STATE_RUNNABLE));
	ASSERT_OK(ioctl(AP, KVM_SMI));
	ASSERT_OK(set_mp_state(AP, KVM_MP_STATE_INIT_RECEIVED));
	/* In wait-for-SIPI an SMI cannot be restored... */
	memset(&e, 0, sizeof(e));
	e.flags = KVM_VCPUEVENT_VALID_SMM;
	e.smi.pending = 1;
	EXPECT_ERRNO(set_events(AP, &e), EINVAL);
	e.smi.pending = 0;
	ASSERT_OK(set_events(AP, &e));
	/* ... but the requested one is latched all the same. */
	ASSERT_OK(get_events(AP, &e));
	EXPECT_EQ(1, e.smi.pending);
}

/* An SMI IPI (ICR delivery mode SMI) is accepted and latched. */
TEST_F(ev, smi_ipi)
{
	struct kvm_vcpu_events e;

	ASSERT_EQ(1, send_ipi(BSP, 1, DM_SMI | ICR_LEVEL_ASSERT));
	ASSERT_OK(get_events(AP, &e));
	EXPECT_EQ(1, e.smi.pending);
	ASSERT_OK(get_events(BSP, &e));
	EXPECT_EQ(0, e.smi.pending);
}

/* An INIT not yet acted on is latched_init; SET may set or drop it. */
TEST_F(ev, latched_init)
{
	struct kvm_vcpu_events e;

	ASSERT_EQ(1, send_ipi(BSP, 1, DM_INIT | ICR_LEVEL_ASSERT));
	ASSERT_OK(get_events(AP, &e));
	EXPECT_EQ(1, e.smi.latched_init);
	/* Dropped: the AP stays RUNNABLE. */
	memset(&e, 0, sizeof(e));
	e.flags = KVM_VCPUEVENT_VALID_SMM;
	ASSERT_OK(set_events(AP, &e));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(AP));
	/* Restored: GET_MP_STATE acts on it. */
	e.smi.latched_init = 1;
	ASSERT_OK(set_events(AP, &e));
	ASSERT_OK(get_events(AP, &e));
	EXPECT_EQ(1, e.smi.latched_init);
	EXPECT_EQ(KVM_MP_STATE_INIT_RECEIVED, get_mp_state(AP));
	ASSERT_OK(get_events(AP, &e));
	EXPECT_EQ(0, e.smi.latched_init);
	/* Without VALID_SMM latched_init is ignored. */
	e.flags = 0;
	e.smi.latched_init = 1;
	ASSERT_OK(set_events(AP, &e));
	ASSERT_OK(get_events(AP, &e));
	EXPECT_EQ(0, e.smi.latched_init);
}

/*
 * INIT drops queued, latched and in-flight events; kvm_amd keeps the NMI
 * mask, the interrupt shadow and the vectors.
 */
TEST_F(ev, init_resets_events)
{
	struct kvm_vcpu_events e;

	memset(&e, 0, sizeof(e));
	e.exception.injected = 1;
	e.exception.nr = 13;
	e.exception.has_error_code = 1;
	e.exception.error_code = 8;
	e.interrupt.injected = 1;
	e.interrupt.nr = 0x44;
	e.nmi.injected = 1;
	e.nmi.masked = 1;
	e.interrupt.shadow = 1;
	e.flags = KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM |
		  KVM_VCPUEVENT_VALID_NMI_PENDING;
	e.nmi.pending = 1;
	e.smi.pending = 1;
	ASSERT_OK(set_events(AP, &e));
	ASSERT_OK(ioctl(AP, KVM_NMI));
	ASSERT_EQ(1, send_ipi(BSP, 1, DM_INIT | ICR_LEVEL_ASSERT));
	EXPECT_EQ(KVM_MP_STATE_INIT_RECEIVED, get_mp_state(AP));
	ASSERT_OK(get_events(AP, &e));
	EXPECT_EQ(0, e.exception.injected);
	EXPECT_EQ(13, e.exception.nr);
	EXPECT_EQ(1, e.exception.has_error_code);
	EXPECT_EQ(8u, e.exception.error_code);
	EXPECT_EQ(0, e.interrupt.injected);
	EXPECT_EQ(0x44, e.interrupt.nr);
	EXPECT_EQ(0, e.nmi.injected);
	EXPECT_EQ(0, e.nmi.pending);
	EXPECT_EQ(1, e.nmi.masked);
	EXPECT_EQ(SHADOW_BOTH, e.interrupt.shadow);
	EXPECT_EQ(0, e.smi.pending);
	EXPECT_EQ(0, e.smi.latched_init);
}

/* Every refusal of SET, in KVM's order; each changes nothing. */
TEST_F(ev, set_errnos)
{
	struct kvm_vcpu_events e, before, after;

	ASSERT_OK(get_events(BSP, &before));
	memset(&e, 0, sizeof(e));
	e.nmi.masked = 1;
	e.flags = 1u << 6;
	EXPECT_ERRNO(set_events(BSP, &e), EINVAL);
	e.flags = ~0u;
	EXPECT_ERRNO(set_events(BSP, &e), EINVAL);
	/* KVM_CAP_EXCEPTION_PAYLOAD was not enabled. */
	e.flags = KVM_VCPUEVENT_VALID_PAYLOAD;
	EXPECT_ERRNO(set_events(BSP, &e), EINVAL);
	e.flags = 0;
	e.exception.injected = 1;
	e.exception.nr = 32;
	EXPECT_ERRNO(set_events(BSP, &e), EINVAL);
	e.exception.nr = 2;			/* NMI is not an exception */
	EXPECT_ERRNO(set_events(BSP, &e), EINVAL);
	ASSERT_OK(get_events(BSP, &after));
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));
	/*
	 * KVM_CAP_X86_TRIPLE_FAULT_EVENT was not enabled.  KVM refuses it
	 * after applying the rest: pass the current state.
	 */
	e = before;
	e.flags = KVM_VCPUEVENT_VALID_TRIPLE_FAULT;
	EXPECT_ERRNO(set_events(BSP, &e), EINVAL);
	ASSERT_OK(get_events(BSP, &after));
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));
	/* An SMI in wait-for-SIPI (VALID_SMM). */
	ASSERT_OK(set_mp_state(AP, KVM_MP_STATE_INIT_RECEIVED));
	memset(&e, 0, sizeof(e));
	e.flags = KVM_VCPUEVENT_VALID_SMM;
	e.smi.pending = 1;
	EXPECT_ERRNO(set_events(AP, &e), EINVAL);
	/* The checks come before anything is applied. */
	e.nmi.masked = 1;
	EXPECT_ERRNO(set_events(AP, &e), EINVAL);
	ASSERT_OK(get_events(AP, &e));
	EXPECT_EQ(0, e.nmi.masked);
	EXPECT_ERRNO(ioctl(BSP, KVM_GET_VCPU_EVENTS, NULL), EFAULT);
	EXPECT_ERRNO(ioctl(BSP, KVM_SET_VCPU_EVENTS, NULL), EFAULT);
	/* Without the payload flag, exception.pending is ignored: no error. */
	memset(&e, 0, sizeof(e));
	e.exception.pending = 1;
	e.exception.nr = 2;
	ASSERT_OK(set_events(BSP, &e));
	ASSERT_OK(get_events(BSP, &after));
	EXPECT_EQ(0, after.exception.pending);
	EXPECT_EQ(0, after.exception.injected);
	EXPECT_EQ(2, after.exception.nr);
}

/* lapicv has no SMM (answers 0) and no payload or triple-fault capability. */
TEST_F(ev, lapicv_no_smm)
{
	struct kvm_vcpu_events e;

	REQUIRE_LAPICV();
	EXPECT_EQ(0, check_ext(self->v.dev, KVM_CAP_X86_SMM));
	EXPECT_EQ(0, check_ext(self->v.dev, KVM_CAP_EXCEPTION_PAYLOAD));
	EXPECT_EQ(0, check_ext(self->v.dev, KVM_CAP_X86_TRIPLE_FAULT_EVENT));
	memset(&e, 0, sizeof(e));
	e.flags = KVM_VCPUEVENT_VALID_SMM;
	e.smi.smm = 1;
	e.nmi.masked = 1;
	EXPECT_ERRNO(set_events(BSP, &e), EINVAL);
	ASSERT_OK(get_events(BSP, &e));
	EXPECT_EQ(0, e.smi.smm);
	EXPECT_EQ(0, e.nmi.masked);
	/* Nor does it refuse the triple-fault flag after applying anything. */
	memset(&e, 0, sizeof(e));
	e.nmi.masked = 1;
	e.flags = KVM_VCPUEVENT_VALID_TRIPLE_FAULT;
	EXPECT_ERRNO(set_events(BSP, &e), EINVAL);
	ASSERT_OK(get_events(BSP, &e));
	EXPECT_EQ(0, e.nmi.masked);
}

TEST_HARNESS_MAIN
