// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_GET_STATS_FD on VM and vCPU fds: KVM's binary stats format.
 *
 * The format tests run on /dev/lapicv and /dev/kvm alike: they read only
 * what the header and descriptors promise, as a tool such as kvm_stat
 * would.  The "meaning" tests are lapicv's: its stats fds carry the
 * counters of LAPICV_GET_VM_STATS and LAPICV_GET_VCPU_STATS under fixed
 * names, stay readable after the VM's other fds are closed, and answer
 * while a halted LAPICV_RUN sleeps.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "kselftest_harness.h"
#include "lapicv_util.h"
#include "irq_util.h"
#include <linux/lapicv.h>

/* A stats file as a tool reads it: the header, the id, descriptors. */
struct stats {
	struct kvm_stats_header h;
	char *id;
	char *desc;		/* num_desc entries of desc_size bytes */
	size_t desc_size;
	size_t data_size;	/* bytes of values the descriptors cover */
	int fd;
};

static struct kvm_stats_desc *stats_desc(struct stats *s, unsigned int i)
{
	return (struct kvm_stats_desc *)(s->desc + i * s->desc_size);
}

static void stats_free(struct stats *s)
{
	free(s->id);
	free(s->desc);
	if (s->fd >= 0)
		close(s->fd);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

/* Read and check everything but the values. */
static void stats_open(struct __test_metadata *_metadata, int fd,
		       struct stats *s)
{
	struct kvm_stats_desc *d;
	size_t end, n;
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->fd = ioctl(fd, KVM_GET_STATS_FD, NULL);
	ASSERT_OK(s->fd);
	ASSERT_EQ(sizeof(s->h), pread(s->fd, &s->h, sizeof(s->h), 0));
	ASSERT_LT(0, s->h.name_size);
	ASSERT_LT(0, s->h.num_desc);
	ASSERT_LE(sizeof(s->h), s->h.id_offset);
	ASSERT_LE(s->h.id_offset + s->h.name_size, s->h.desc_offset);
	s->desc_size = sizeof(struct kvm_stats_desc) + s->h.name_size;
	n = s->h.num_desc * s->desc_size;
	ASSERT_LE(s->h.desc_offset + n, s->h.data_offset);

	s->id = calloc(1, s->h.name_size);
	s->desc = calloc(1, n);
	ASSERT_TRUE(s->id && s->desc);
	ASSERT_EQ(s->h.name_size,
		  pread(s->fd, s->id, s->h.name_size, s->h.id_offset));
	ASSERT_NE(NULL, memchr(s->id, '\0', s->h.name_size));
	ASSERT_LT(0, strlen(s->id));
	ASSERT_EQ(n, pread(s->fd, s->desc, n, s->h.desc_offset));

	for (i = 0; i < s->h.num_desc; i++) {
		d = stats_desc(s, i);
		ASSERT_NE(NULL, memchr(d->name, '\0', s->h.name_size))
			TH_LOG("descriptor %u: name not terminated", i);
		ASSERT_LT(0, strlen(d->name));
		ASSERT_LE(d->flags & KVM_STATS_TYPE_MASK, KVM_STATS_TYPE_MAX)
			TH_LOG("%s: type %#x", d->name, d->flags);
		ASSERT_LE(d->flags & KVM_STATS_UNIT_MASK, KVM_STATS_UNIT_MAX)
			TH_LOG("%s: unit %#x", d->name, d->flags);
		ASSERT_LE(d->flags & KVM_STATS_BASE_MASK, KVM_STATS_BASE_MAX)
			TH_LOG("%s: base %#x", d->name, d->flags);
		ASSERT_LE(1, d->size) TH_LOG("%s: size 0", d->name);
		ASSERT_EQ(0, d->offset % sizeof(__u64));
		end = d->offset + d->size * sizeof(__u64);
		if (end > s->data_size)
			s->data_size = end;
	}
}

/* The values, all at once, as one pread from data_offset. */
static void stats_data(struct __test_metadata *_metadata, struct stats *s,
		       __u64 *data)
{
	ASSERT_EQ(s->data_size,
		  pread(s->fd, data, s->data_size, s->h.data_offset));
}

/* The one-u64 counter called name; fails the test if there is none. */
static __u64 stats_value(struct __test_metadata *_metadata, struct stats *s,
			 const char *name)
{
	struct kvm_stats_desc *d;
	unsigned int i;
	__u64 v = 0;

	for (i = 0; i < s->h.num_desc; i++) {
		d = stats_desc(s, i);
		if (strcmp(d->name, name))
			continue;
		EXPECT_EQ(1, d->size);
		EXPECT_EQ(sizeof(v), pread(s->fd, &v, sizeof(v),
					   s->h.data_offset + d->offset));
		return v;
	}
	TH_LOG("no counter \"%s\" in %s", name, s->id);
	_metadata->exit_code = KSFT_FAIL;
	return 0;
}

/* Generic checks of one fd's stats file, on either device. */
static void check_format(struct __test_metadata *_metadata, int fd)
{
	__u64 *data, byte;
	struct stats s;
	size_t end;

	stats_open(_metadata, fd, &s);
	data = calloc(1, s.data_size);
	ASSERT_NE(NULL, data);
	stats_data(_metadata, &s, data);
	free(data);

	/* Reading past the end gives 0 bytes, not an error. */
	end = s.h.data_offset + s.data_size;
	ASSERT_EQ(0, pread(s.fd, &byte, sizeof(byte), end + 4096));
	ASSERT_EQ(0, pread(s.fd, &byte, sizeof(byte), 1 << 30));
	/* A read across the end stops there. */
	ASSERT_GE(sizeof(byte), pread(s.fd, &byte, sizeof(byte),
				      end - sizeof(byte) / 2));
	TH_LOG("%s: %u counters", s.id, s.h.num_desc);
	stats_free(&s);
}

FIXTURE(stats) {
	int dev, vm, vcpu;
};

FIXTURE_SETUP(stats)
{
	self->dev = open_dev();
	ASSERT_OK(self->dev);
	self->vm = vm_create(self->dev);
	ASSERT_OK(self->vm);
	self->vcpu = vcpu_create(self->vm, 0);
	ASSERT_OK(self->vcpu);
}

FIXTURE_TEARDOWN(stats)
{
	close(self->vcpu);
	close(self->vm);
	close(self->dev);
}

TEST_F(stats, check_extension)
{
	ASSERT_EQ(1, check_ext(self->dev, KVM_CAP_BINARY_STATS_FD));
	ASSERT_EQ(1, check_ext(self->vm, KVM_CAP_BINARY_STATS_FD));
}

TEST_F(stats, vm_format)
{
	check_format(_metadata, self->vm);
}

TEST_F(stats, vcpu_format)
{
	check_format(_metadata, self->vcpu);
}

/* Each KVM_GET_STATS_FD gives a new fd; closing one leaves the other. */
TEST_F(stats, independent_fds)
{
	struct stats a, b;

	stats_open(_metadata, self->vm, &a);
	stats_open(_metadata, self->vm, &b);
	ASSERT_NE(a.fd, b.fd);
	stats_free(&a);
	check_format(_metadata, self->vm);
	stats_free(&b);
}

/* ---- lapicv: what the counters mean ---- */

#define VM_FIELD(n, f)	{ n, offsetof(struct lapicv_vm_stats, f) }
#define VCPU_FIELD(f)	{ #f, offsetof(struct lapicv_vcpu_stats, f) }

struct field {
	const char *name;
	size_t offset;
};

static const struct field vm_fields[] = {
	VM_FIELD("inhibit_changes", inhibit_changes),
	VM_FIELD("apicv_toggles", apicv_toggles),
	VM_FIELD("apicv_update_lock_writes", update_lock_writes),
	VM_FIELD("irqwin_transitions", irqwin_transitions),
};

static const struct field vcpu_fields[] = {
	VCPU_FIELD(runs), VCPU_FIELD(nmi_injections),
	VCPU_FIELD(extint_injections), VCPU_FIELD(intr_injections),
	VCPU_FIELD(virtual_intr_deliveries), VCPU_FIELD(irq_windows),
	VCPU_FIELD(halts), VCPU_FIELD(halt_wakeups),
	VCPU_FIELD(apicv_activations), VCPU_FIELD(apicv_deactivations),
	VCPU_FIELD(pi_notifications), VCPU_FIELD(pi_suppressed),
	VCPU_FIELD(pir_syncs), VCPU_FIELD(avic_doorbells),
	VCPU_FIELD(avic_wakeups), VCPU_FIELD(exits),
};

/* Every field has its counter, with the ioctl's value, and nothing else. */
static void check_fields(struct __test_metadata *_metadata, struct stats *s,
			 const void *st, const struct field *f, unsigned int n)
{
	unsigned int i;

	ASSERT_EQ(n, s->h.num_desc);
	for (i = 0; i < n; i++) {
		struct kvm_stats_desc *d = stats_desc(s, i);

		EXPECT_EQ(KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_NONE |
			  KVM_STATS_BASE_POW10, d->flags);
		EXPECT_EQ(0, d->exponent);
		EXPECT_EQ(*(const __u64 *)((const char *)st + f[i].offset),
			  stats_value(_metadata, s, f[i].name))
			TH_LOG("counter %s", f[i].name);
	}
}

static bool apicv_enabled(int vm)
{
	struct lapicv_inhibit_state st;

	return !ioctl(vm, LAPICV_GET_INHIBITS, &st) && st.apicv_enabled;
}

static int set_inhibit(int vm, unsigned int reason, unsigned int set)
{
	struct lapicv_inhibit_op op = { .reason = reason, .set = set };

	return ioctl(vm, LAPICV_SET_INHIBIT, &op);
}

/*
 * The ids KVM gives (kvm-<pid>, kvm-<pid>/vcpu-<id>), which tools and KVM's
 * kvm_binary_stats_test check: the VM and vCPU here come from this thread.
 */
TEST_F(stats, ids)
{
	char want[64];
	struct stats s;

	stats_open(_metadata, self->vm, &s);
	snprintf(want, sizeof(want), "kvm-%d", getpid());
	ASSERT_STREQ(want, s.id);
	stats_free(&s);
	stats_open(_metadata, self->vcpu, &s);
	snprintf(want, sizeof(want), "kvm-%d/vcpu-0", getpid());
	ASSERT_STREQ(want, s.id);
	stats_free(&s);
}

TEST_F(stats, lapicv_names)
{
	struct stats s;

	REQUIRE_LAPICV();
	stats_open(_metadata, self->vcpu, &s);
	ASSERT_EQ(ARRAY_SIZE(vcpu_fields), s.h.num_desc);
	stats_free(&s);
}

/* PIT_REINJ set and clear: the fd shows LAPICV_GET_VM_STATS's counts. */
TEST_F(stats, lapicv_vm_counts)
{
	struct lapicv_vm_stats before, after;
	struct stats s;
	int vm;

	REQUIRE_LAPICV();
	vm = vm_create_split(self->dev);
	ASSERT_OK(vm);
	if (!apicv_enabled(vm)) {
		close(vm);
		SKIP(return, "the backend has no APICv");
	}
	ASSERT_OK(ioctl(vm, LAPICV_GET_VM_STATS, &before));
	stats_open(_metadata, vm, &s);
	check_fields(_metadata, &s, &before, vm_fields,
		     ARRAY_SIZE(vm_fields));
	ASSERT_OK(set_inhibit(vm, LAPICV_INHIBIT_PIT_REINJ, 1));
	ASSERT_OK(set_inhibit(vm, LAPICV_INHIBIT_PIT_REINJ, 0));
	ASSERT_OK(ioctl(vm, LAPICV_GET_VM_STATS, &after));
	TH_LOG("inhibit_changes %llu -> %llu",
	       (unsigned long long)before.inhibit_changes,
	       (unsigned long long)after.inhibit_changes);
	/* The same fd: every read is a new snapshot. */
	check_fields(_metadata, &s, &after, vm_fields,
		     ARRAY_SIZE(vm_fields));
	stats_free(&s);
	close(vm);
}

/* An MSI injected by a run step: "runs" and the injections match. */
TEST(lapicv_vcpu_counts)
{
	struct lapicv_vcpu_stats st;
	struct lapicv_run r = { .rflags_if = 1 };
	struct irq_vm v;
	struct stats s;

	REQUIRE_LAPICV();
	memset(&v, -1, sizeof(v));
	ASSERT_OK(irq_vm_create(&v, NULL));
	ASSERT_OK(lapic_setup(v.vcpu[0], 0, APIC_DFR_FLAT));
	ASSERT_EQ(1, signal_msi(v.vm, MSI_ADDR(0), 0, 0x41));
	ASSERT_OK(ioctl(v.vcpu[0], LAPICV_RUN, &r));
	ASSERT_EQ(0x41, r.vector);
	ASSERT_OK(ioctl(v.vcpu[0], LAPICV_GET_VCPU_STATS, &st));
	ASSERT_EQ(1, st.runs);
	ASSERT_EQ(1, st.intr_injections + st.virtual_intr_deliveries);

	stats_open(_metadata, v.vcpu[0], &s);
	check_fields(_metadata, &s, &st, vcpu_fields,
		     ARRAY_SIZE(vcpu_fields));
	ASSERT_EQ(1, stats_value(_metadata, &s, "runs"));
	stats_free(&s);
	irq_vm_destroy(&v);
}

/* The stats fds hold the VM: readable after every other fd is closed. */
TEST_F(stats, lapicv_outlives_vm_fd)
{
	struct lapicv_vm_stats st;
	struct stats vs, cs;
	int vm;

	REQUIRE_LAPICV();
	vm = vm_create_split(self->dev);
	ASSERT_OK(vm);
	ASSERT_OK(ioctl(vm, LAPICV_GET_VM_STATS, &st));
	stats_open(_metadata, vm, &vs);
	stats_open(_metadata, self->vcpu, &cs);
	close(vm);
	close(self->vcpu);
	self->vcpu = -1;
	check_fields(_metadata, &vs, &st, vm_fields,
		     ARRAY_SIZE(vm_fields));
	ASSERT_EQ(0, stats_value(_metadata, &cs, "runs"));
	stats_free(&vs);
	stats_free(&cs);
}

struct halted_run {
	int vcpu;
	int r;
	struct lapicv_run run;
};

static void *halted_run_thread(void *arg)
{
	struct halted_run *h = arg;

	h->run.rflags_if = 1;
	h->run.halted = 1;
	h->r = ioctl(h->vcpu, LAPICV_RUN, &h->run);
	return NULL;
}

/*
 * A halted run step sleeps holding the vCPU: KVM_GET_STATS_FD and reads
 * must still answer, and see the halt.
 */
TEST(lapicv_read_while_halted)
{
	struct halted_run h = { 0 };
	struct irq_vm v;
	struct stats s;
	pthread_t t;
	int i;

	REQUIRE_LAPICV();
	memset(&v, -1, sizeof(v));
	ASSERT_OK(irq_vm_create(&v, NULL));
	ASSERT_OK(lapic_setup(v.vcpu[0], 0, APIC_DFR_FLAT));
	h.vcpu = v.vcpu[0];
	ASSERT_EQ(0, pthread_create(&t, NULL, halted_run_thread, &h));
	for (i = 0; i < 1000; i++) {
		stats_open(_metadata, v.vcpu[0], &s);
		if (stats_value(_metadata, &s, "halts"))
			break;
		stats_free(&s);
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	ASSERT_GT(1000, i) TH_LOG("the run step never halted");
	ASSERT_EQ(0, stats_value(_metadata, &s, "halt_wakeups"));
	ASSERT_EQ(1, stats_value(_metadata, &s, "runs"));

	ASSERT_EQ(1, signal_msi(v.vm, MSI_ADDR(0), 0, 0x41));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_OK(h.r);
	ASSERT_EQ(0x41, h.run.vector);
	ASSERT_EQ(1, stats_value(_metadata, &s, "halt_wakeups"));
	stats_free(&s);
	irq_vm_destroy(&v);
}

TEST_HARNESS_MAIN
