// SPDX-License-Identifier: GPL-2.0-only
/*
 * String port I/O (INS, OUTS) reaches the VMM as KVM_EXIT_IO, on kvm_amd
 * and on lapicv alike.  The VMM answers every INS exit with a running
 * count (element i of the whole string is i), and keeps every element an
 * OUTS exit gives; the guest checks what it read, the VMM what it got.
 *
 * How many elements one exit carries is checked as KVM 6.12's emulator
 * counts them (pio_in_emulated()): for INS the smallest of rCX (1 without
 * REP), 1024 bytes' worth, and the number of bytes (not elements) left in
 * rDI's page in DF's direction, at least one; so a string of words that
 * starts 3 bytes before a page's end exits with 3 words.  OUTS: one
 * element per exit.  Also checked: the port, direction and size of each
 * exit, the PIO page holding the data, and at each INS exit rCX and rDI
 * still those of the elements not done yet (the instruction runs again
 * until rCX is 0).
 * The strings cross pages, run forwards and backwards (DF), and in bytes,
 * words and doublewords; REP with rCX 0 and a single INS are checked too.
 */
#include <string.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#include "guest_util.h"

#define STR_PORT	0x80
#define BUF_SIZE	(3 * 4096)

enum { T_INSB, T_INSW, T_INSD_DF, T_INSB_ONE, T_OUTSB, T_OUTSW_DF, T_REP0 };

/* Unaligned on purpose: the strings straddle page boundaries. */
static uint8_t buf[BUF_SIZE + 64] __attribute__((aligned(4096)));
#define BUF	(buf + 13)

/* What the VMM expects next: the test, and the string's size and count. */
struct str_case {
	int test;
	bool in;
	uint8_t size;
	uint32_t count;
};

static const struct str_case cases[] = {
	{ T_INSB, true, 1, 9000 },
	{ T_INSW, true, 2, 3000 },
	{ T_INSD_DF, true, 4, 2000 },
	{ T_INSB_ONE, true, 1, 1 },
	{ T_OUTSB, false, 1, 5000 },
	{ T_OUTSW_DF, false, 2, 700 },
};

static uint32_t elem(uint32_t i, uint8_t size)
{
	return size == 1 ? (uint8_t)i : size == 2 ? (uint16_t)(i * 7) :
	       i * 0x01000193u;
}

static void guest_check_in(uint8_t *p, uint32_t n, uint8_t size, bool down)
{
	uint32_t i, v;

	for (i = 0; i < n; i++) {
		v = 0;
		memcpy(&v, down ? p - i * size : p + i * size, size);
		__GUEST_ASSERT(v == elem(i, size), "element %u: 0x%x", i, v);
	}
}

static void guest_code(void)
{
	uint8_t *di, *si;
	uint64_t cx;
	uint32_t i;

	/* REP INSB: 9000 bytes over three pages. */
	di = BUF;
	cx = 9000;
	asm volatile("cld; rep insb" : "+D"(di), "+c"(cx) : "d"(STR_PORT)
		     : "memory");
	GUEST_ASSERT_EQ(cx, 0);
	GUEST_ASSERT_EQ(di, BUF + 9000);
	guest_check_in(BUF, 9000, 1, false);
	GUEST_SYNC(T_INSB);

	di = BUF + 1;
	cx = 3000;
	asm volatile("cld; rep insw" : "+D"(di), "+c"(cx) : "d"(STR_PORT)
		     : "memory");
	GUEST_ASSERT_EQ(cx, 0);
	GUEST_ASSERT_EQ(di, BUF + 1 + 6000);
	guest_check_in(BUF + 1, 3000, 2, false);
	GUEST_SYNC(T_INSW);

	/* Backwards from near the end, 4 bytes at a time. */
	di = BUF + 8000;
	cx = 2000;
	asm volatile("std; rep insl; cld" : "+D"(di), "+c"(cx)
		     : "d"(STR_PORT) : "memory");
	GUEST_ASSERT_EQ(cx, 0);
	GUEST_ASSERT_EQ(di, BUF + 8000 - 8000);
	guest_check_in(BUF + 8000, 2000, 4, true);
	GUEST_SYNC(T_INSD_DF);

	/* INSB without REP: one byte, rCX left alone. */
	di = BUF + 4095;
	cx = 77;
	asm volatile("cld; insb" : "+D"(di), "+c"(cx) : "d"(STR_PORT)
		     : "memory");
	GUEST_ASSERT_EQ(cx, 77);
	GUEST_ASSERT_EQ(di, BUF + 4096);
	guest_check_in(BUF + 4095, 1, 1, false);
	GUEST_SYNC(T_INSB_ONE);

	for (i = 0; i < 5000; i++)
		BUF[i] = elem(i, 1);
	si = BUF;
	cx = 5000;
	asm volatile("cld; rep outsb" : "+S"(si), "+c"(cx) : "d"(STR_PORT)
		     : "memory");
	GUEST_ASSERT_EQ(cx, 0);
	GUEST_ASSERT_EQ(si, BUF + 5000);
	GUEST_SYNC(T_OUTSB);

	for (i = 0; i < 700; i++) {
		uint16_t v = elem(i, 2);

		memcpy(BUF + 4100 - 2 * i, &v, 2);
	}
	si = BUF + 4100;
	cx = 700;
	asm volatile("std; rep outsw; cld" : "+S"(si), "+c"(cx)
		     : "d"(STR_PORT) : "memory");
	GUEST_ASSERT_EQ(cx, 0);
	GUEST_ASSERT_EQ(si, BUF + 4100 - 1400);
	GUEST_SYNC(T_OUTSW_DF);

	/* REP with rCX 0: nothing, no exit. */
	di = BUF;
	cx = 0;
	asm volatile("cld; rep insb" : "+D"(di), "+c"(cx) : "d"(STR_PORT)
		     : "memory");
	GUEST_ASSERT_EQ(cx, 0);
	GUEST_ASSERT_EQ(di, BUF);
	GUEST_SYNC(T_REP0);
	GUEST_DONE();
}

/* The elements of one INS exit, as KVM's pio_in_emulated() takes them. */
static uint32_t ins_chunk(const struct kvm_regs *regs, const struct str_case *c)
{
	uint64_t off = regs->rdi & 4095;
	uint64_t left = c->test == T_INSB_ONE ? 1 : regs->rcx;
	uint64_t room = regs->rflags & 0x400 ? off : 4096 - off;
	uint64_t n = room;

	if (n > 1024 / c->size)
		n = 1024 / c->size;
	if (n > left)
		n = left;
	return n ? n : 1;
}

/* One string's exits until the guest's GUEST_SYNC(test) after it. */
static void run_case(struct kvm_vcpu *vcpu, const struct str_case *c)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint32_t done = 0, i, v;
	struct kvm_regs regs;
	struct ucall uc;

	for (;;) {
		vcpu_run(vcpu);
		TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
		data = (uint8_t *)run + run->io.data_offset;
		if (run->io.port != STR_PORT) {
			switch (get_ucall(vcpu, &uc)) {
			case UCALL_ABORT:
				REPORT_GUEST_ASSERT(uc);
			case UCALL_SYNC:
				TEST_ASSERT_EQ(uc.args[1], c->test);
				TEST_ASSERT_EQ(done, c->count);
				return;
			default:
				TEST_FAIL("unexpected ucall %lu", uc.cmd);
			}
		}
		TEST_ASSERT_EQ(run->io.direction,
			       c->in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT);
		TEST_ASSERT_EQ(run->io.size, c->size);
		TEST_ASSERT(run->io.count >= 1 &&
			    done + run->io.count <= c->count,
			    "test %d: count %u after %u of %u", c->test,
			    run->io.count, done, c->count);
		TEST_ASSERT(run->io.count * c->size <= 4096,
			    "count %u past the PIO page", run->io.count);
		if (c->in) {
			/* INS: the elements not done yet, as the guest has them. */
			vcpu_regs_get(vcpu, &regs);
			if (c->test != T_INSB_ONE)
				TEST_ASSERT_EQ(regs.rcx, c->count - done);
			TEST_ASSERT_EQ(run->io.count, ins_chunk(&regs, c));
			for (i = 0; i < run->io.count; i++) {
				v = elem(done + i, c->size);
				memcpy(data + i * c->size, &v, c->size);
			}
		} else {
			for (i = 0; i < run->io.count; i++) {
				v = 0;
				memcpy(&v, data + i * c->size, c->size);
				TEST_ASSERT(v == elem(done + i, c->size),
					    "test %d: element %u is 0x%x",
					    c->test, done + i, v);
			}
		}
		done += run->io.count;
	}
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	unsigned int i;

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(vcpu, &cases[i]);
	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_SYNC);
	TEST_ASSERT_EQ(uc.args[1], T_REP0);
	TEST_ASSERT_EQ(run_to_ucall(vcpu, &uc), UCALL_DONE);
	kvm_vm_free(vm);
	return 0;
}
