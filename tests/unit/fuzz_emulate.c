// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: emulate.c's page walk, fetch and decoders on random
 * control registers, random page tables and random instruction bytes.
 *
 * Input: a header (struct fuzz_hdr: paging-mode and permission bits,
 * MAXPHYADDR, RIP, CR3, segment bases, register seeds, one more linear
 * address and access), then up to 64 KiB of guest memory (zero-padded),
 * which page-table walks and fetches read through the callback.  With
 * F_WRAP, every guest-physical address is taken modulo the memory size,
 * so random entries point at random tables instead of at nothing.
 *
 * Checked, besides ASan/UBSan's findings: the callback contract (1 to 15
 * bytes, never across a page); faults with a #PF or #GP vector and an
 * error code that matches the access; a fetch of at most 15 bytes with a
 * reason when it stops short; decoded lengths from 1 to what was fetched;
 * a decode that does not depend on the bytes after its length and that,
 * cut one byte short, gives the fault behind the cut; sane MOV fields;
 * and a load result that changes only the register it names.
 */
#include "../../emulate.c"

#include "test.h"
#include "shim/fuzz.h"

#define MEM_SIZE	(64 * 1024)

/* fuzz_hdr.a */
#define F_LMA		BIT(0)
#define F_CS_L		BIT(1)
#define F_CS_DB		BIT(2)
#define F_PG		BIT(3)
#define F_PAE		BIT(4)
#define F_LA57		BIT(5)
#define F_PSE		BIT(6)
#define F_NXE		BIT(7)
/* fuzz_hdr.b */
#define F_WP		BIT(0)
#define F_SMEP		BIT(1)
#define F_SMAP		BIT(2)
#define F_AC		BIT(3)
#define F_GBPAGES	BIT(4)
#define F_AMD		BIT(5)
#define F_CPL3		BIT(6)
#define F_WRAP		BIT(7)

struct fuzz_hdr {
	u8 a, b, maxphyaddr, access;
	u8 rip[8];
	u8 cr3[4];
	u8 seg_base[LAPICV_EMU_NR_SEGS][4];
	u8 regs[16][2];
	u8 la[8];
	u8 expected;	/* for lapicv_emu_skip_len() */
} __packed;

static u8 *mem;
static bool wrap;

static u64 le(const u8 *p, unsigned int n)
{
	u64 v = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

static int fuzz_read(void *opaque, u64 gpa, void *buf, unsigned int len)
{
	if (len == 0 || len > LAPICV_EMU_MAX_INSN ||
	    (gpa & 0xfff) + len > 4096)
		abort();
	if (wrap)
		gpa %= MEM_SIZE;
	if (gpa >= MEM_SIZE || gpa + len > MEM_SIZE)
		return -EFAULT;
	memcpy(buf, mem + gpa, len);
	return 0;
}

static void check_fault(const struct lapicv_emu_fault *f, u32 access)
{
	u32 wu = LAPICV_EMU_PFERR_WRITE | LAPICV_EMU_PFERR_USER;

	if (f->vector == LAPICV_EMU_GP_VECTOR) {
		if (f->error_code)
			abort();
		return;
	}
	if (f->vector != LAPICV_EMU_PF_VECTOR || f->error_code > 0x1f ||
	    (f->error_code & wu) != (access & wu))
		abort();
	if ((f->error_code & LAPICV_EMU_PFERR_FETCH) &&
	    !(access & LAPICV_EMU_PFERR_FETCH))
		abort();
}

/* What a decoder gave: the MOV, or the skipped instruction and length. */
union decoded {
	struct lapicv_emu_mov m;
	struct skipped {
		enum lapicv_emu_insn insn;
		unsigned int len;
	} s;
};

static enum lapicv_emu_status decode(const struct lapicv_emu_ctx *ctx,
				     const struct lapicv_emu_fetch *f,
				     const u64 *regs, bool mov,
				     union decoded *d)
{
	memset(d, 0, sizeof(*d));
	if (mov)
		return lapicv_emu_decode_mov(ctx, f, regs, &d->m);
	return lapicv_emu_decode_skip(ctx, f, &d->s.insn, &d->s.len);
}

/* Bytes after the decoded length must not matter; one short must fault. */
static void check_prefix_property(const struct lapicv_emu_ctx *ctx,
				  const struct lapicv_emu_fetch *f,
				  unsigned int len, const u64 *regs, bool mov,
				  const union decoded *want)
{
	size_t size = mov ? sizeof(want->m) : sizeof(want->s);
	struct lapicv_emu_fetch g = *f;
	union decoded got;
	unsigned int l;

	/* Exactly len bytes, then a fault; then all 15 with prefixes after. */
	g.len = len;
	g.tail = LAPICV_EMU_FAULT;
	memset(g.bytes + len, 0x66, sizeof(g.bytes) - len);
	if (decode(ctx, &g, regs, mov, &got) != LAPICV_EMU_OK ||
	    memcmp(&got, want, size))
		abort();
	g.len = LAPICV_EMU_MAX_INSN;
	if (decode(ctx, &g, regs, mov, &got) != LAPICV_EMU_OK ||
	    memcmp(&got, want, size))
		abort();
	/* Cut short anywhere: the fault behind the cut. */
	for (l = 0; l < len; l++) {
		g.len = l;
		if (decode(ctx, &g, regs, mov, &got) != LAPICV_EMU_FAULT)
			abort();
	}
}

/*
 * The control-register decoder: sane fields, the fault behind any cut,
 * and never an instruction another decoder also takes.
 */
static void check_cr_decoder(const struct lapicv_emu_ctx *ctx,
			     const struct lapicv_emu_fetch *f, const u64 *regs)
{
	struct lapicv_emu_fetch g = *f;
	struct lapicv_emu_cr cr, got;
	union decoded d;
	unsigned int l;

	if (lapicv_emu_decode_cr(ctx, f, regs, &cr) != LAPICV_EMU_OK)
		return;
	if (!cr.len || cr.len > f->len || cr.reg > 15 ||
	    cr.op > LAPICV_EMU_CR_SMSW || !(BIT(cr.cr) & 0x11d) ||
	    cr.seg >= LAPICV_EMU_NR_SEGS ||
	    (cr.mem && cr.op != LAPICV_EMU_CR_LMSW &&
	     cr.op != LAPICV_EMU_CR_SMSW) ||
	    (!emu_64bit(ctx) && cr.gva > 0xffffffffULL))
		abort();
	if (decode(ctx, f, regs, false, &d) == LAPICV_EMU_OK ||
	    decode(ctx, f, regs, true, &d) == LAPICV_EMU_OK)
		abort();
	g.tail = LAPICV_EMU_FAULT;
	for (l = 0; l < cr.len; l++) {
		g.len = l;
		if (lapicv_emu_decode_cr(ctx, &g, regs, &got) !=
		    LAPICV_EMU_FAULT)
			abort();
	}
}

static void check_decoders(const struct lapicv_emu_ctx *ctx,
			   const struct lapicv_emu_fetch *f, const u64 *regs)
{
	struct lapicv_emu_mov *m;
	union decoded d;
	u64 r[16], v;
	unsigned int i;

	check_cr_decoder(ctx, f, regs);

	if (decode(ctx, f, regs, false, &d) == LAPICV_EMU_OK) {
		if (!d.s.len || d.s.len > f->len ||
		    d.s.len > LAPICV_EMU_MAX_INSN ||
		    d.s.insn == LAPICV_EMU_INSN_UNKNOWN)
			abort();
		check_prefix_property(ctx, f, d.s.len, regs, false, &d);
	}

	if (decode(ctx, f, regs, true, &d) != LAPICV_EMU_OK)
		return;
	m = &d.m;
	if (!m->len || m->len > f->len || m->len > LAPICV_EMU_MAX_INSN ||
	    m->op > LAPICV_EMU_MOV_ALU || !is_power_of_2(m->size) ||
	    m->size > 8 || !is_power_of_2(m->reg_size) || m->reg_size > 8 ||
	    m->reg_size < m->size || m->reg > 15 ||
	    m->seg >= LAPICV_EMU_NR_SEGS ||
	    (m->high8 && (m->reg > 3 || m->size != 1)) ||
	    (!emu_64bit(ctx) && m->gva > 0xffffffffULL) ||
	    (m->op != LAPICV_EMU_MOV_LOAD && m->reg_size != m->size) ||
	    ((m->op == LAPICV_EMU_MOV_STORE_IMM || m->src_imm) &&
	     m->imm > emu_size_mask(m->size)) ||
	    (m->src_imm && m->op != LAPICV_EMU_MOV_ALU) ||
	    (m->op == LAPICV_EMU_MOV_ALU &&
	     (m->alu == 2 || m->alu == 3 || m->alu > LAPICV_EMU_ALU_TEST)))
		abort();
	check_prefix_property(ctx, f, m->len, regs, true, &d);
	v = lapicv_emu_mov_store_value(m, regs);
	if (v > emu_size_mask(m->size))
		abort();
	if (lapicv_emu_mov_reads(m) || lapicv_emu_mov_writes(m)) {
		unsigned int target = m->high8 ? m->reg & 3 : m->reg;
		u64 flags = regs[1], stored;

		/* Only the loaded register and the arithmetic flags change. */
		memcpy(r, regs, sizeof(r));
		stored = lapicv_emu_mov_execute(m, r, &flags, v ^ regs[0]);
		for (i = 0; i < 16; i++)
			if ((i != target || m->op == LAPICV_EMU_MOV_ALU ||
			     !lapicv_emu_mov_reads(m)) && r[i] != regs[i])
				abort();
		if ((flags ^ regs[1]) & ~EMU_ARITH_FLAGS ||
		    (m->op != LAPICV_EMU_MOV_ALU && flags != regs[1]))
			abort();
		if (lapicv_emu_mov_writes(m) && stored > emu_size_mask(m->size))
			abort();
	}
}

int unit_fuzz_one_input(const u8 *data, size_t size)
{
	struct lapicv_emu_ctx ctx = { .read = fuzz_read };
	struct lapicv_emu_fault fault;
	struct lapicv_emu_fetch f;
	enum lapicv_emu_status st;
	struct lapicv_emu_mov m;
	struct fuzz_hdr h = { 0 };
	unsigned int i, len;
	u64 regs[16], gpa;
	u32 access;

	memcpy(&h, data, min_t(size_t, size, sizeof(h)));
	data += min_t(size_t, size, sizeof(h));
	size -= min_t(size_t, size, sizeof(h));
	if (!mem)
		mem = malloc(MEM_SIZE);
	if (!mem)
		abort();
	memset(mem, 0, MEM_SIZE);
	memcpy(mem, data, min_t(size_t, size, MEM_SIZE));
	wrap = h.b & F_WRAP;

	ctx.cr0 = (h.a & F_PG ? BIT_ULL(31) | 1 : 0) |
		  (h.b & F_WP ? BIT_ULL(16) : 0);
	ctx.cr4 = (h.a & F_PSE ? BIT_ULL(4) : 0) | (h.a & F_PAE ? BIT_ULL(5) : 0) |
		  (h.a & F_LA57 ? BIT_ULL(12) : 0) |
		  (h.b & F_SMEP ? BIT_ULL(20) : 0) |
		  (h.b & F_SMAP ? BIT_ULL(21) : 0);
	ctx.efer = (h.a & F_LMA ? BIT_ULL(10) | BIT_ULL(8) : 0) |
		   (h.a & F_NXE ? BIT_ULL(11) : 0);
	ctx.rflags = h.b & F_AC ? BIT_ULL(18) : 0;
	ctx.rip = le(h.rip, 8);
	ctx.cr3 = le(h.cr3, 4);
	for (i = 0; i < LAPICV_EMU_NR_SEGS; i++)
		ctx.seg_base[i] = le(h.seg_base[i], 4);
	ctx.seg_base[LAPICV_EMU_GS] |= 0xffff880000000000ULL;
	ctx.cs_l = h.a & F_CS_L;
	ctx.cs_db = h.a & F_CS_DB;
	ctx.cpl = h.b & F_CPL3 ? 3 : 0;
	ctx.maxphyaddr = h.maxphyaddr & 0x80 ? h.maxphyaddr & 0x3f :
			 32 + h.maxphyaddr % 21;
	ctx.features = (h.b & F_GBPAGES ? LAPICV_EMU_F_GBPAGES : 0) |
		       (h.b & F_AMD ? LAPICV_EMU_F_AMD : 0) |
		       (h.b & F_AMD ? LAPICV_EMU_F_CR8_LEGACY : 0);
	for (i = 0; i < 16; i++)
		regs[i] = le(h.regs[i], 2) * 0x9e3779b97f4a7c15ULL;

	/* The walk on its own. */
	access = h.access & (LAPICV_EMU_PFERR_WRITE | LAPICV_EMU_PFERR_USER |
			     LAPICV_EMU_PFERR_FETCH);
	st = lapicv_emu_translate(&ctx, le(h.la, 8), access, &gpa, &fault);
	if (st == LAPICV_EMU_FAULT)
		check_fault(&fault, access);
	else if (st == LAPICV_EMU_OK && !(ctx.cr0 & BIT_ULL(31)) &&
		 gpa != (le(h.la, 8) & 0xffffffffULL))
		abort();

	/* The fetch at CS:RIP and the decoders on what it got. */
	st = lapicv_emu_fetch(&ctx, &f);
	if (f.len > LAPICV_EMU_MAX_INSN ||
	    (f.len < LAPICV_EMU_MAX_INSN && f.tail == LAPICV_EMU_OK))
		abort();
	/* OK exactly when something was fetched. */
	if (st == LAPICV_EMU_OK ? !f.len : f.len)
		abort();
	if (f.len < LAPICV_EMU_MAX_INSN && f.tail == LAPICV_EMU_FAULT)
		check_fault(&f.fault, LAPICV_EMU_PFERR_FETCH |
			    (ctx.cpl == 3 ? LAPICV_EMU_PFERR_USER : 0));
	check_decoders(&ctx, &f, regs);

	/* The decoders on the memory image's first bytes, as fetched. */
	memset(&f, 0, sizeof(f));
	f.len = min_t(size_t, size, LAPICV_EMU_MAX_INSN);
	memcpy(f.bytes, mem, f.len);
	f.tail = LAPICV_EMU_FAULT;
	check_decoders(&ctx, &f, regs);

	/* The combined helpers. */
	st = lapicv_emu_skip_len(&ctx, h.expected % (LAPICV_EMU_INSN_MWAITX + 1),
				 &len, &fault);
	if (st == LAPICV_EMU_OK && (!len || len > LAPICV_EMU_MAX_INSN))
		abort();
	st = lapicv_emu_mov(&ctx, regs, &m, &fault);
	if (st == LAPICV_EMU_OK && (!m.len || m.len > LAPICV_EMU_MAX_INSN))
		abort();
	return 0;
}
