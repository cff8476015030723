// SPDX-License-Identifier: GPL-2.0-only
/*
 * Backend behaviour behind LAPICV_RUN, seen through LAPICV_GET_VCPU_STATS:
 * posted-interrupt delivery with ON and SN (vmx-model), doorbells and
 * wake-ups (avic-model), and no interrupt lost while two threads send and the vCPU runs
 * (every backend).  lapicv-only: each test skips on /dev/kvm.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include <linux/lapicv.h>

#include "irq_util.h"
#include "lapicv_run.h"

#define BACKEND_PARAM		"/sys/module/lapicv/parameters/backend"

static bool backend_is(const char *b)
{
	char name[16] = "";
	FILE *f = fopen(BACKEND_PARAM, "r");

	if (f) {
		if (!fgets(name, sizeof(name), f))
			name[0] = '\0';
		fclose(f);
	}
	name[strcspn(name, "\n")] = '\0';
	return !strcmp(name, b);
}

static int vcpu_stats(int vcpu, struct lapicv_vcpu_stats *st)
{
	return ioctl(vcpu, LAPICV_GET_VCPU_STATS, st);
}

FIXTURE(backend) {
	struct irq_vm v;
};

FIXTURE_SETUP(backend)
{
	int i;

	REQUIRE_LAPICV();
	memset(&self->v, -1, sizeof(self->v));
	ASSERT_OK(irq_vm_create(&self->v, NULL));
	/* APs run once started: KVM keeps an UNINITIALIZED vCPU blocked. */
	for (i = 0; i < NR_VCPUS; i++) {
		ASSERT_OK(lapic_setup(self->v.vcpu[i], 0, APIC_DFR_FLAT));
		ASSERT_OK(set_mp_state(self->v.vcpu[i], KVM_MP_STATE_RUNNABLE));
	}
}

FIXTURE_TEARDOWN(backend)
{
	irq_vm_destroy(&self->v);
}

#define MSI_TO(d, data)	signal_msi(self->v.vm, MSI_ADDR(d), 0, (data))

struct sender {
	int vm;
	int dest;
	int first, step, rounds;
	unsigned int delay_ms;
};

static void *send_msis(void *arg)
{
	struct sender *s = arg;
	struct timespec ts = {
		.tv_nsec = (long)s->delay_ms * 1000000L,
	};
	int i, v;

	if (s->delay_ms)
		nanosleep(&ts, NULL);
	for (i = 0; i < s->rounds; i++)
		for (v = s->first; v < 256; v += s->step)
			signal_msi(s->vm, MSI_ADDR(s->dest), 0, v);
	return NULL;
}

/*
 * vmx-model: outside the run step SN is set, so posting notifies nobody: the
 * first MSI sets ON, the second finds ON set.  The next step syncs both
 * into IRR in one go.  A halted step clears SN: an MSI then notifies.
 */
TEST_F(backend, vmx_posted_on_sn)
{
	struct sender s = { self->v.vm, 1, 0x81, 256, 1, 200 };
	struct lapicv_vcpu_stats st;
	struct kvm_lapic_state l;
	struct lapicv_run r;
	pthread_t t;

	if (!backend_is("vmx-model"))
		SKIP(return, "needs backend=vmx-model");
	ASSERT_OK(lapicv_run_step(self->v.vcpu[0], false, false, &r));
	ASSERT_EQ(1, r.apicv_active);

	ASSERT_EQ(1, MSI_TO(0, 0x41));
	ASSERT_EQ(1, MSI_TO(0, 0x42));
	ASSERT_OK(vcpu_stats(self->v.vcpu[0], &st));
	ASSERT_EQ(0, st.pi_notifications);
	ASSERT_EQ(2, st.pi_suppressed);
	ASSERT_EQ(0, st.pir_syncs);

	ASSERT_OK(lapicv_run_step(self->v.vcpu[0], false, false, &r));
	ASSERT_OK(vcpu_stats(self->v.vcpu[0], &st));
	ASSERT_EQ(1, st.pir_syncs);
	ASSERT_OK(get_lapic(self->v.vcpu[0], &l));
	ASSERT_TRUE(lapic_test_vec(&l, APIC_IRR, 0x41));
	ASSERT_TRUE(lapic_test_vec(&l, APIC_IRR, 0x42));

	/* vCPU 1 halts in the step: SN clear, the MSI notifies. */
	ASSERT_EQ(0, pthread_create(&t, NULL, send_msis, &s));
	ASSERT_OK(lapicv_run_step(self->v.vcpu[1], true, true, &r));
	pthread_join(t, NULL);
	ASSERT_EQ(LAPICV_RUN_VIRTUAL_INTR, r.exit_reason);
	ASSERT_EQ(0x81, r.vector);
	ASSERT_OK(vcpu_stats(self->v.vcpu[1], &st));
	ASSERT_EQ(1, st.pi_notifications);
	ASSERT_EQ(1, st.halts);
	ASSERT_EQ(1, st.halt_wakeups);
	ASSERT_EQ(1, st.virtual_intr_deliveries);
}

/* vmx-model with APICv inhibited: delivery falls back to IRR, nothing posted. */
TEST_F(backend, vmx_inhibited_uses_irr)
{
	struct lapicv_inhibit_op op = { LAPICV_INHIBIT_BLOCKIRQ, 1 };
	struct lapicv_vcpu_stats st;
	struct lapicv_run r;

	if (!backend_is("vmx-model"))
		SKIP(return, "needs backend=vmx-model");
	ASSERT_OK(ioctl(self->v.vm, LAPICV_SET_INHIBIT, &op));
	ASSERT_OK(lapicv_run_step(self->v.vcpu[0], false, false, &r));
	ASSERT_EQ(0, r.apicv_active);
	ASSERT_EQ(1, MSI_TO(0, 0x41));
	ASSERT_OK(lapicv_run_step(self->v.vcpu[0], true, false, &r));
	ASSERT_EQ(LAPICV_RUN_INTR, r.exit_reason);
	ASSERT_OK(vcpu_stats(self->v.vcpu[0], &st));
	ASSERT_EQ(0, st.pi_notifications + st.pi_suppressed);
	ASSERT_EQ(1, st.intr_injections);
	ASSERT_EQ(1, st.apicv_deactivations);
}

/* avic-model: a target outside the run step is not running: a wake-up. */
TEST_F(backend, svm_wakeup_not_running)
{
	struct sender s = { self->v.vm, 1, 0x81, 256, 1, 200 };
	struct lapicv_vcpu_stats st;
	struct lapicv_run r;
	pthread_t t;

	if (!backend_is("avic-model"))
		SKIP(return, "needs backend=avic-model");
	ASSERT_OK(lapicv_run_step(self->v.vcpu[0], false, false, &r));
	ASSERT_EQ(1, r.apicv_active);
	ASSERT_EQ(1, MSI_TO(0, 0x41));
	ASSERT_OK(vcpu_stats(self->v.vcpu[0], &st));
	ASSERT_EQ(1, st.avic_wakeups);
	ASSERT_EQ(0, st.avic_doorbells);

	/* A blocked vCPU is not running either: woken, not doorbelled. */
	ASSERT_OK(lapicv_run_step(self->v.vcpu[1], false, false, &r));
	ASSERT_EQ(0, pthread_create(&t, NULL, send_msis, &s));
	ASSERT_OK(lapicv_run_step(self->v.vcpu[1], true, true, &r));
	pthread_join(t, NULL);
	ASSERT_EQ(LAPICV_RUN_VIRTUAL_INTR, r.exit_reason);
	ASSERT_OK(vcpu_stats(self->v.vcpu[1], &st));
	ASSERT_EQ(1, st.avic_wakeups);
	ASSERT_EQ(1, st.halt_wakeups);
}

/*
 * Two threads send every vector 0x20..0xff (even / odd) many times while
 * the vCPU runs steps with IF=0 (nothing acknowledged): afterwards every
 * vector must be in IRR.  With vmx-model this races posting against the
 * PIR sync; with avic-model, setting IRR against the doorbell.
 */
TEST_F(backend, no_lost_interrupt)
{
	struct sender a = { self->v.vm, 0, 0x20, 2, 50, 0 };
	struct sender b = { self->v.vm, 0, 0x21, 2, 50, 0 };
	struct kvm_lapic_state l;
	struct lapicv_run r;
	pthread_t ta, tb;
	int v, i, missing = 0;

	ASSERT_EQ(0, pthread_create(&ta, NULL, send_msis, &a));
	ASSERT_EQ(0, pthread_create(&tb, NULL, send_msis, &b));
	for (i = 0; i < 2000; i++)
		ASSERT_OK(lapicv_run_step(self->v.vcpu[0], false, false, &r));
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	ASSERT_OK(lapicv_run_step(self->v.vcpu[0], false, false, &r));
	ASSERT_OK(get_lapic(self->v.vcpu[0], &l));
	for (v = 0x20; v < 256; v++)
		if (!lapic_test_vec(&l, APIC_IRR, v)) {
			TH_LOG("vector 0x%x lost", v);
			missing++;
		}
	ASSERT_EQ(0, missing);
	for (v = 0x20; v < 256; v++)
		ASSERT_FALSE(lapic_test_vec(&l, APIC_ISR, v));
}

TEST_HARNESS_MAIN
