// SPDX-License-Identifier: GPL-2.0-only
/*
 * The APIC map under concurrent change: one thread resets vCPU 0 with
 * KVM_SET_LAPIC (a map rebuild every time), the main thread toggles the
 * vCPU with the highest id (1023) between disabled and x2APIC, so that
 * the map must grow and shrink under rebuilds already in progress, and a
 * third thread sends MSIs through whatever map is current.  Afterwards the
 * map must be exact again.  In the spirit of KVM's recalc_apic_map_test;
 * a kernel with lockdep/KASAN turns a race into a splat here.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <time.h>

#include "irq_util.h"

#define NR_MAP_VCPUS	64
#define LAST_ID		1023
#define RACE_SECONDS	2

#define APIC_BASE_X2APIC (APIC_BASE_DEFAULT | APIC_BASE_EN | APIC_BASE_EXTD)

struct race {
	int vm;
	int vcpu0;
	int stop;		/* __atomic accesses */
	long rebuilds;
	long msis;
};

static void *reset_vcpu0(void *arg)
{
	struct race *r = arg;
	struct kvm_lapic_state s;

	if (get_lapic(r->vcpu0, &s))
		return NULL;
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		if (set_lapic(r->vcpu0, &s))
			break;
		r->rebuilds++;
	}
	return NULL;
}

static void *send_msis(void *arg)
{
	struct race *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		/* NMIs: accepted whether or not the APIC is software-enabled. */
		signal_msi(r->vm, MSI_ADDR(LAST_ID & 0xff),
			   LAST_ID & ~0xffu, DM_NMI);
		signal_msi(r->vm, MSI_ADDR(0xff), 0, DM_NMI);
		r->msis++;
	}
	return NULL;
}

TEST(recalc_race)
{
	int dev, vm, fd[NR_MAP_VCPUS];
	struct race r = { 0 };
	pthread_t t1, t2;
	unsigned long id;
	time_t end;
	int i;

	ASSERT_OK(ensure_nofile(NR_MAP_VCPUS));
	dev = open_dev();
	ASSERT_OK(dev);
	vm = vm_create_split(dev);
	ASSERT_OK(vm);
	ASSERT_OK(enable_x2apic_api(vm, KVM_X2APIC_API_USE_32BIT_IDS));
	for (i = 0; i < NR_MAP_VCPUS; i++) {
		id = i == NR_MAP_VCPUS - 1 ? LAST_ID : (unsigned long)i;
		fd[i] = vcpu_create(vm, id);
		ASSERT_OK(fd[i]);
		ASSERT_OK(set_cpuid_x2apic(fd[i]));
		ASSERT_EQ(1, set_msr(fd[i], MSR_IA32_APICBASE, APIC_BASE_X2APIC |
				     (i ? 0 : APIC_BASE_BSP)));
	}

	r.vm = vm;
	r.vcpu0 = fd[0];
	ASSERT_EQ(0, pthread_create(&t1, NULL, reset_vcpu0, &r));
	ASSERT_EQ(0, pthread_create(&t2, NULL, send_msis, &r));
	for (end = time(NULL) + RACE_SECONDS; time(NULL) < end;) {
		ASSERT_EQ(1, set_msr(fd[NR_MAP_VCPUS - 1], MSR_IA32_APICBASE, 0));
		ASSERT_EQ(1, set_msr(fd[NR_MAP_VCPUS - 1], MSR_IA32_APICBASE,
				     APIC_BASE_X2APIC));
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	ASSERT_EQ(0, pthread_join(t1, NULL));
	ASSERT_EQ(0, pthread_join(t2, NULL));
	TH_LOG("%ld rebuilds by KVM_SET_LAPIC, %ld MSI pairs", r.rebuilds,
	       r.msis);
	ASSERT_LT(0, r.rebuilds);

	/* Every vCPU is in x2APIC mode again: the map must say so. */
	ASSERT_EQ(1, signal_msi(vm, MSI_ADDR(LAST_ID & 0xff), LAST_ID & ~0xffu,
				DM_NMI));
	ASSERT_EQ(1, signal_msi(vm, MSI_ADDR(5), 0, DM_NMI));
	ASSERT_EQ(NR_MAP_VCPUS, signal_msi(vm, MSI_ADDR(0xff), 0, DM_NMI));
	/* And the IPI path too: vCPU 0 to 1023, which takes fixed IRQs. */
	ASSERT_EQ(1, set_msr(fd[NR_MAP_VCPUS - 1], X2APIC_MSR(APIC_SPIV),
			     APIC_SPIV_ENABLE | 0xff));
	ASSERT_EQ(1, set_msr(fd[0], X2APIC_MSR(APIC_ICR),
			     (uint64_t)LAST_ID << 32 | 0x40));
	{
		struct kvm_lapic_state s;

		ASSERT_OK(get_lapic(fd[NR_MAP_VCPUS - 1], &s));
		ASSERT_TRUE(lapic_test_vec(&s, APIC_IRR, 0x40));
	}

	for (i = 0; i < NR_MAP_VCPUS; i++)
		close(fd[i]);
	close(vm);
	close(dev);
}

TEST_HARNESS_MAIN
