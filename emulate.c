// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest page walk, instruction fetch, a length decoder for intercepted
 * instructions and a MOV decoder for MMIO, for runners on CPUs without
 * decode assists or next_rip (QEMU's TCG SVM has neither).  Real hardware
 * with NRIP save reports the next RIP itself; then only MMIO needs the
 * fetch and the MOV decoder.
 *
 * Everything here is a pure function of struct lapicv_emu_ctx, the bytes
 * the read callback returns and the registers passed in; no state, no
 * locks.  Every instruction decoded was just run by the CPU up to an
 * intercept or a nested page fault, so its bytes were fetchable and its
 * length at most 15.  Bytes that contradict that (another vCPU rewrote
 * them, or the page tables, in the meantime) give LAPICV_EMU_UNHANDLED or
 * the guest fault the refetch met, never a guess.
 */
#include "lapicv_internal.h"
#include "emulate.h"

#define EMU_CR0_WP		BIT_ULL(16)
#define EMU_CR0_PG		BIT_ULL(31)
#define EMU_CR4_PSE		BIT_ULL(4)
#define EMU_CR4_PAE		BIT_ULL(5)
#define EMU_CR4_LA57		BIT_ULL(12)
#define EMU_CR4_SMEP		BIT_ULL(20)
#define EMU_CR4_SMAP		BIT_ULL(21)
#define EMU_EFER_LMA		BIT_ULL(10)
#define EMU_EFER_NXE		BIT_ULL(11)
#define EMU_RFLAGS_AC		BIT_ULL(18)

#define EMU_PTE_P		BIT_ULL(0)
#define EMU_PTE_RW		BIT_ULL(1)
#define EMU_PTE_US		BIT_ULL(2)
#define EMU_PTE_PS		BIT_ULL(7)
#define EMU_PTE_NX		BIT_ULL(63)
/* The frame of a table or 4 KiB page in a 64-bit entry (PAE, long mode). */
#define EMU_PTE_FRAME		GENMASK_ULL(51, 12)

#define EMU_PAGE_SIZE		4096ULL
#define EMU_PAGE_MASK		(EMU_PAGE_SIZE - 1)

#define EMU_REX_B		BIT(0)
#define EMU_REX_X		BIT(1)
#define EMU_REX_R		BIT(2)
#define EMU_REX_W		BIT(3)

/* ------------------------------------------------------------------ */
/* The page walk                                                       */
/* ------------------------------------------------------------------ */

/* The shape of one paging mode. */
struct emu_mode {
	u8 levels;		/* 2 (32-bit), 3 (PAE), 4 or 5 (long mode) */
	u8 entry;		/* bytes per entry: 4 or 8 */
	u8 index_bits;		/* bits of the address per level: 10 or 9 */
};

static bool emu_long_mode(const struct lapicv_emu_ctx *ctx)
{
	return ctx->efer & EMU_EFER_LMA;
}

static bool emu_64bit(const struct lapicv_emu_ctx *ctx)
{
	return emu_long_mode(ctx) && ctx->cs_l;
}

/* Bits 51:MAXPHYADDR (62:MAXPHYADDR with PAE), and NX without EFER.NXE. */
static u64 emu_high_rsvd(const struct lapicv_emu_ctx *ctx, bool pae)
{
	u64 rsvd = GENMASK_ULL(pae ? 62 : 51, ctx->maxphyaddr);

	if (!(ctx->efer & EMU_EFER_NXE))
		rsvd |= EMU_PTE_NX;
	return rsvd;
}

/* Reserved bits of a present entry at level (1 = the 4 KiB level). */
static u64 emu_rsvd_bits(const struct lapicv_emu_ctx *ctx,
			 const struct emu_mode *mode, int level, u64 pte)
{
	bool large = pte & EMU_PTE_PS;
	u64 high;

	if (mode->levels == 2) {
		if (level == 1 || !large || !(ctx->cr4 & EMU_CR4_PSE))
			return 0;
		/*
		 * 4 MiB page: PSE-36 (which KVM always assumes) puts address
		 * bits 35:32 in 16:13.
		 */
		return GENMASK_ULL(21, 17);
	}

	/*
	 * A PAE PDPTE: KVM's walker looks at P alone, its reserved bits are
	 * checked where KVM loads it (a CR0 or CR4 write, regs.c).  QEMU's
	 * TCG sets bit 5 (accessed) in PDPTEs it walks.
	 */
	if (mode->levels == 3 && level == 3)
		return 0;
	high = emu_high_rsvd(ctx, mode->levels == 3);

	switch (level) {
	case 5:
	case 4:
		high |= EMU_PTE_PS;
		if (ctx->features & LAPICV_EMU_F_AMD)
			high |= BIT_ULL(8);
		return high;
	case 3:
		if (!large)
			return high;
		if (!(ctx->features & LAPICV_EMU_F_GBPAGES))
			return high | EMU_PTE_PS;
		return high | GENMASK_ULL(29, 13);
	case 2:
		return large ? high | GENMASK_ULL(20, 13) : high;
	default:
		return high;
	}
}

/* Does the walk stop at this (present, valid) entry? */
static bool emu_is_leaf(const struct lapicv_emu_ctx *ctx,
			const struct emu_mode *mode, int level, u64 pte)
{
	if (level == 1)
		return true;
	if (!(pte & EMU_PTE_PS))
		return false;
	if (mode->levels == 2)
		return ctx->cr4 & EMU_CR4_PSE;
	/* PS in a PML4E/PML5E or PAE PDPTE is a reserved bit, seen before. */
	return level <= 3;
}

/* The guest-physical address a leaf maps la to. */
static u64 emu_leaf_gpa(const struct lapicv_emu_ctx *ctx,
			const struct emu_mode *mode, int level, u64 pte, u64 la)
{
	u64 offset_mask;

	if (mode->levels == 2) {
		if (level == 1)
			return (pte & 0xfffff000ULL) | (la & EMU_PAGE_MASK);
		return (pte & 0xffc00000ULL) | ((pte >> 13) & 0xfULL) << 32 |
		       (la & GENMASK_ULL(21, 0));
	}
	offset_mask = GENMASK_ULL(12 + 9 * (level - 1) - 1, 0);
	return (pte & EMU_PTE_FRAME & ~offset_mask) | (la & offset_mask);
}

static void emu_set_fault(struct lapicv_emu_fault *fault, u8 vector,
			  u32 error_code, u64 address)
{
	fault->vector = vector;
	fault->error_code = error_code;
	fault->address = address;
}

/*
 * The #PF error code for an access: W, U and, for fetches, I/D when NX or
 * SMEP is on (KVM's walker reports I/D only then).
 */
static u32 emu_pf_error(const struct lapicv_emu_ctx *ctx, u32 access, u32 why)
{
	u32 error = why | (access & (LAPICV_EMU_PFERR_WRITE |
				     LAPICV_EMU_PFERR_USER));

	if ((access & LAPICV_EMU_PFERR_FETCH) &&
	    ((ctx->efer & EMU_EFER_NXE) || (ctx->cr4 & EMU_CR4_SMEP)))
		error |= LAPICV_EMU_PFERR_FETCH;
	return error;
}

/*
 * Permission check on the combined rights of all levels: W and U are the
 * AND of the R/W and U/S bits, X the AND of !NX.
 * Protection keys are not checked.
 */
static bool emu_permitted(const struct lapicv_emu_ctx *ctx, u32 access,
			  bool w, bool u, bool x)
{
	bool user = access & LAPICV_EMU_PFERR_USER;
	bool fetch = access & LAPICV_EMU_PFERR_FETCH;

	if (user && !u)
		return false;
	if ((access & LAPICV_EMU_PFERR_WRITE) && !w &&
	    (user || (ctx->cr0 & EMU_CR0_WP)))
		return false;
	if (fetch && !x)
		return false;
	if (!user && u && fetch && (ctx->cr4 & EMU_CR4_SMEP))
		return false;
	if (!user && u && !fetch && (ctx->cr4 & EMU_CR4_SMAP) &&
	    !(ctx->rflags & EMU_RFLAGS_AC))
		return false;
	return true;
}

static bool emu_read_entry(const struct lapicv_emu_ctx *ctx, u64 gpa,
			   unsigned int size, u64 *val)
{
	u8 b[8];
	unsigned int i;

	if (ctx->read(ctx->opaque, gpa, b, size))
		return false;
	*val = 0;
	for (i = 0; i < size; i++)
		*val |= (u64)b[i] << (8 * i);
	return true;
}

/* The paging mode, or false if the control registers contradict. */
static bool emu_paging_mode(const struct lapicv_emu_ctx *ctx,
			    struct emu_mode *mode)
{
	if (ctx->maxphyaddr < 32 || ctx->maxphyaddr > 52)
		return false;
	if (emu_long_mode(ctx)) {
		if (!(ctx->cr4 & EMU_CR4_PAE) || !(ctx->cr0 & EMU_CR0_PG))
			return false;
		mode->levels = ctx->cr4 & EMU_CR4_LA57 ? 5 : 4;
	} else {
		mode->levels = ctx->cr4 & EMU_CR4_PAE ? 3 : 2;
	}
	mode->entry = mode->levels == 2 ? 4 : 8;
	mode->index_bits = mode->levels == 2 ? 10 : 9;
	return true;
}

/* The first table: CR3's frame in the mode's format. */
static u64 emu_root(const struct lapicv_emu_ctx *ctx,
		    const struct emu_mode *mode)
{
	switch (mode->levels) {
	case 2:
		return ctx->cr3 & 0xfffff000ULL;
	case 3:
		return ctx->cr3 & 0xffffffe0ULL;
	default:
		return ctx->cr3 & EMU_PTE_FRAME;
	}
}

enum lapicv_emu_status lapicv_emu_translate(const struct lapicv_emu_ctx *ctx,
					    u64 la, u32 access, u64 *gpa,
					    struct lapicv_emu_fault *fault)
{
	bool w = true, u = true, x = true;
	struct emu_mode mode;
	u64 table, pte;
	int level;

	if (!emu_paging_mode(ctx, &mode))
		return LAPICV_EMU_UNHANDLED;
	if (!emu_long_mode(ctx))
		la &= 0xffffffffULL;
	if (!(ctx->cr0 & EMU_CR0_PG)) {
		*gpa = la;
		return LAPICV_EMU_OK;
	}
	if (emu_long_mode(ctx)) {
		int bits = mode.levels == 5 ? 57 : 48;
		s64 sext = (s64)(la << (64 - bits)) >> (64 - bits);

		if ((u64)sext != la) {
			emu_set_fault(fault, LAPICV_EMU_GP_VECTOR, 0, 0);
			return LAPICV_EMU_FAULT;
		}
	}

	table = emu_root(ctx, &mode);
	for (level = mode.levels; level >= 1; level--) {
		unsigned int shift = 12 + mode.index_bits * (level - 1);
		u64 index = (la >> shift) & (BIT_ULL(mode.index_bits) - 1);

		if (mode.levels == 3 && level == 3)
			index = (la >> 30) & 3;
		/* KVM: a table outside guest memory is a not-present fault. */
		if (!emu_read_entry(ctx, table + index * mode.entry,
				    mode.entry, &pte) || !(pte & EMU_PTE_P)) {
			emu_set_fault(fault, LAPICV_EMU_PF_VECTOR,
				      emu_pf_error(ctx, access, 0), la);
			return LAPICV_EMU_FAULT;
		}
		if (pte & emu_rsvd_bits(ctx, &mode, level, pte)) {
			emu_set_fault(fault, LAPICV_EMU_PF_VECTOR,
				      emu_pf_error(ctx, access,
						   LAPICV_EMU_PFERR_RSVD |
						   LAPICV_EMU_PFERR_PRESENT),
				      la);
			return LAPICV_EMU_FAULT;
		}
		/* A PAE PDPTE carries no rights. */
		if (!(mode.levels == 3 && level == 3)) {
			w &= !!(pte & EMU_PTE_RW);
			u &= !!(pte & EMU_PTE_US);
			/* NX is a reserved bit without EFER.NXE: seen above. */
			x &= !(pte & EMU_PTE_NX);
		}
		if (emu_is_leaf(ctx, &mode, level, pte))
			break;
		table = mode.levels == 2 ? pte & 0xfffff000ULL :
					   pte & EMU_PTE_FRAME;
	}

	if (!emu_permitted(ctx, access, w, u, x)) {
		emu_set_fault(fault, LAPICV_EMU_PF_VECTOR,
			      emu_pf_error(ctx, access,
					   LAPICV_EMU_PFERR_PRESENT), la);
		return LAPICV_EMU_FAULT;
	}
	*gpa = emu_leaf_gpa(ctx, &mode, level, pte, la);
	return LAPICV_EMU_OK;
}

/* ------------------------------------------------------------------ */
/* Instruction fetch                                                   */
/* ------------------------------------------------------------------ */

/* The bits of RIP the code segment's size uses. */
static u64 emu_ip_mask(const struct lapicv_emu_ctx *ctx)
{
	if (emu_64bit(ctx))
		return ~0ULL;
	return ctx->cs_db ? 0xffffffffULL : 0xffffULL;
}

u64 lapicv_emu_next_rip(const struct lapicv_emu_ctx *ctx, unsigned int len)
{
	return (ctx->rip + len) & emu_ip_mask(ctx);
}

/* Linear address of byte i of the instruction at CS:RIP. */
static u64 emu_fetch_la(const struct lapicv_emu_ctx *ctx, unsigned int i)
{
	u64 ip = (ctx->rip + i) & emu_ip_mask(ctx);

	if (emu_64bit(ctx))
		return ip;
	return (ctx->seg_base[LAPICV_EMU_CS] + ip) & 0xffffffffULL;
}

enum lapicv_emu_status lapicv_emu_fetch(const struct lapicv_emu_ctx *ctx,
					struct lapicv_emu_fetch *f)
{
	u32 access = LAPICV_EMU_PFERR_FETCH;
	u64 mask = emu_ip_mask(ctx);
	unsigned int i = 0;

	if (ctx->cpl == 3)
		access |= LAPICV_EMU_PFERR_USER;
	memset(f, 0, sizeof(*f));
	f->tail = LAPICV_EMU_OK;
	while (i < LAPICV_EMU_MAX_INSN) {
		u64 la = emu_fetch_la(ctx, i), ip = (ctx->rip + i) & mask;
		unsigned int n = LAPICV_EMU_MAX_INSN - i;
		u64 gpa;

		/* A run ends at a page boundary or where IP wraps. */
		n = min_t(u64, n, EMU_PAGE_SIZE - (la & EMU_PAGE_MASK));
		if (mask - ip < n - 1)
			n = mask - ip + 1;
		f->tail = lapicv_emu_translate(ctx, la, access, &gpa, &f->fault);
		if (f->tail != LAPICV_EMU_OK)
			break;
		if (ctx->read(ctx->opaque, gpa, f->bytes + i, n)) {
			f->tail = LAPICV_EMU_UNHANDLED;
			break;
		}
		i += n;
	}
	f->len = i;
	return i ? LAPICV_EMU_OK : f->tail;
}

/* ------------------------------------------------------------------ */
/* Decoding                                                            */
/* ------------------------------------------------------------------ */

/* Reads bytes of a fetch; the first byte it lacks sets err. */
struct emu_cursor {
	const struct lapicv_emu_fetch *f;
	unsigned int pos;
	enum lapicv_emu_status err;
};

static u8 emu_next(struct emu_cursor *c)
{
	unsigned int avail = min_t(unsigned int, c->f->len, LAPICV_EMU_MAX_INSN);

	if (c->err != LAPICV_EMU_OK)
		return 0;
	if (c->pos >= avail) {
		/*
		 * Past 15 bytes, or past what was fetched without a reason:
		 * not an instruction the CPU ran.
		 */
		if (avail < LAPICV_EMU_MAX_INSN && c->f->tail != LAPICV_EMU_OK)
			c->err = c->f->tail;
		else
			c->err = LAPICV_EMU_UNHANDLED;
		return 0;
	}
	return c->f->bytes[c->pos++];
}

/* Little-endian immediate or displacement of size bytes. */
static u64 emu_next_le(struct emu_cursor *c, unsigned int size)
{
	u64 v = 0;
	unsigned int i;

	for (i = 0; i < size; i++)
		v |= (u64)emu_next(c) << (8 * i);
	return v;
}

static u64 emu_sext(u64 v, unsigned int size)
{
	unsigned int shift = 64 - 8 * size;

	return (u64)((s64)(v << shift) >> shift);
}

static u64 emu_size_mask(unsigned int size)
{
	return size >= 8 ? ~0ULL : BIT_ULL(8 * size) - 1;
}

struct emu_prefixes {
	u8 rex;			/* 0 or the REX byte before the opcode */
	bool opsize;		/* 66 */
	bool adsize;		/* 67 */
	bool lock;		/* F0 */
	u8 rep;			/* 0, F2 or F3: the last one */
	int seg;		/* override, or -1 */
};

/* Legacy prefixes and, in 64-bit mode, REX; the cursor ends on the opcode. */
static void emu_prefixes(const struct lapicv_emu_ctx *ctx,
			 struct emu_cursor *c, struct emu_prefixes *p)
{
	memset(p, 0, sizeof(*p));
	p->seg = -1;
	for (;;) {
		unsigned int pos = c->pos;
		u8 b = emu_next(c);

		if (c->err != LAPICV_EMU_OK)
			return;
		switch (b) {
		case 0x66:
			p->opsize = true;
			break;
		case 0x67:
			p->adsize = true;
			break;
		case 0xf0:
			p->lock = true;
			break;
		case 0xf2:
		case 0xf3:
			p->rep = b;
			break;
		case 0x26:
		case 0x2e:
		case 0x36:
		case 0x3e:
			p->seg = (b >> 3) & 3;
			break;
		case 0x64:
			p->seg = LAPICV_EMU_FS;
			break;
		case 0x65:
			p->seg = LAPICV_EMU_GS;
			break;
		default:
			if (emu_64bit(ctx) && (b & 0xf0) == 0x40) {
				p->rex = b;
				continue;
			}
			c->pos = pos;
			return;
		}
		/* A REX not right before the opcode is ignored. */
		p->rex = 0;
	}
}

static unsigned int emu_operand_size(const struct lapicv_emu_ctx *ctx,
				     const struct emu_prefixes *p)
{
	if (p->rex & EMU_REX_W)
		return 8;
	if (emu_64bit(ctx) || ctx->cs_db)
		return p->opsize ? 2 : 4;
	return p->opsize ? 4 : 2;
}

static unsigned int emu_address_size(const struct lapicv_emu_ctx *ctx,
				     const struct emu_prefixes *p)
{
	if (emu_64bit(ctx))
		return p->adsize ? 4 : 8;
	if (ctx->cs_db)
		return p->adsize ? 2 : 4;
	return p->adsize ? 4 : 2;
}

enum lapicv_emu_status lapicv_emu_decode_skip(const struct lapicv_emu_ctx *ctx,
					      const struct lapicv_emu_fetch *f,
					      enum lapicv_emu_insn *insn,
					      unsigned int *len)
{
	struct emu_cursor c = { .f = f };
	enum lapicv_emu_insn id = LAPICV_EMU_INSN_UNKNOWN;
	struct emu_prefixes p;
	u8 op;

	emu_prefixes(ctx, &c, &p);
	op = emu_next(&c);
	switch (op) {
	case 0xf4:
		id = LAPICV_EMU_INSN_HLT;
		break;
	case 0x90:
		/* F3 90 is PAUSE; with REX.B it is XCHG with r8. */
		if (p.rep == 0xf3 && !(p.rex & EMU_REX_B))
			id = LAPICV_EMU_INSN_PAUSE;
		break;
	case 0xe4:
	case 0xe5:
	case 0xe6:
	case 0xe7:
		emu_next(&c);	/* imm8 port */
		id = op & 2 ? LAPICV_EMU_INSN_OUT : LAPICV_EMU_INSN_IN;
		break;
	case 0xec:
	case 0xed:
		id = LAPICV_EMU_INSN_IN;
		break;
	case 0xee:
	case 0xef:
		id = LAPICV_EMU_INSN_OUT;
		break;
	case 0x6c:
	case 0x6d:
		id = LAPICV_EMU_INSN_INS;
		break;
	case 0x6e:
	case 0x6f:
		id = LAPICV_EMU_INSN_OUTS;
		break;
	case 0x0f:
		op = emu_next(&c);
		/*
		 * F2/F3 select other instructions in the 0F map (F3 0F 09 is
		 * WBNOINVD); none of the others here is taken with one.
		 */
		if (p.rep == 0xf3 && op == 0x09) {
			id = LAPICV_EMU_INSN_WBNOINVD;
			break;
		}
		if (p.rep)
			break;
		switch (op) {
		case 0x08:
			id = LAPICV_EMU_INSN_INVD;
			break;
		case 0x09:
			id = LAPICV_EMU_INSN_WBINVD;
			break;
		case 0x30:
			id = LAPICV_EMU_INSN_WRMSR;
			break;
		case 0x31:
			id = LAPICV_EMU_INSN_RDTSC;
			break;
		case 0x32:
			id = LAPICV_EMU_INSN_RDMSR;
			break;
		case 0x33:
			id = LAPICV_EMU_INSN_RDPMC;
			break;
		case 0xa2:
			id = LAPICV_EMU_INSN_CPUID;
			break;
		case 0x01:
			switch (emu_next(&c)) {
			case 0xc8:
				id = LAPICV_EMU_INSN_MONITOR;
				break;
			case 0xc9:
				id = LAPICV_EMU_INSN_MWAIT;
				break;
			case 0xd1:
				id = LAPICV_EMU_INSN_XSETBV;
				break;
			case 0xd9:
				id = LAPICV_EMU_INSN_VMMCALL;
				break;
			case 0xf9:
				id = LAPICV_EMU_INSN_RDTSCP;
				break;
			case 0xfa:
				id = LAPICV_EMU_INSN_MONITORX;
				break;
			case 0xfb:
				id = LAPICV_EMU_INSN_MWAITX;
				break;
			}
			break;
		}
		break;
	}
	if (c.err != LAPICV_EMU_OK)
		return c.err;
	/* LOCK on any of these raises #UD before the intercept. */
	if (id == LAPICV_EMU_INSN_UNKNOWN || p.lock)
		return LAPICV_EMU_UNHANDLED;
	*insn = id;
	*len = c.pos;
	return LAPICV_EMU_OK;
}

enum lapicv_emu_status lapicv_emu_skip_len(const struct lapicv_emu_ctx *ctx,
					   enum lapicv_emu_insn expected,
					   unsigned int *len,
					   struct lapicv_emu_fault *fault)
{
	struct lapicv_emu_fetch f;
	enum lapicv_emu_status st;
	enum lapicv_emu_insn insn;

	lapicv_emu_fetch(ctx, &f);
	st = lapicv_emu_decode_skip(ctx, &f, &insn, len);
	if (st == LAPICV_EMU_FAULT)
		*fault = f.fault;
	if (st == LAPICV_EMU_OK && insn != expected)
		return LAPICV_EMU_UNHANDLED;
	return st;
}

/* A decoded memory operand: address without RIP, and its segment. */
struct emu_operand {
	u64 ea;
	bool rip_relative;
	int seg;
};

/* 16-bit addressing: ModRM.rm names a pair of BX, BP, SI, DI. */
static void emu_modrm16(struct emu_cursor *c, const u64 *regs, u8 mod, u8 rm,
			struct emu_operand *o)
{
	static const s8 base16[8] = { 3, 3, 5, 5, -1, -1, 5, 3 };
	static const s8 index16[8] = { 6, 7, 6, 7, 6, 7, -1, -1 };
	u64 ea = 0;

	if (mod == 0 && rm == 6) {
		o->ea = emu_next_le(c, 2);
		o->seg = LAPICV_EMU_DS;
		return;
	}
	if (base16[rm] >= 0)
		ea += regs[base16[rm]];
	if (index16[rm] >= 0)
		ea += regs[index16[rm]];
	if (mod == 1)
		ea += emu_sext(emu_next(c), 1);
	else if (mod == 2)
		ea += emu_next_le(c, 2);
	o->ea = ea;
	/* Through BP: the stack segment. */
	o->seg = base16[rm] == 5 ? LAPICV_EMU_SS : LAPICV_EMU_DS;
}

/* 32- and 64-bit addressing: base, index * scale, displacement, or RIP. */
static void emu_modrm32(const struct lapicv_emu_ctx *ctx, struct emu_cursor *c,
			const u64 *regs, const struct emu_prefixes *p, u8 mod,
			u8 rm, struct emu_operand *o)
{
	int base = -1, index = -1;
	unsigned int scale = 0;
	u64 ea = 0;

	o->seg = LAPICV_EMU_DS;
	if (rm == 4) {
		u8 sib = emu_next(c);

		scale = sib >> 6;
		index = ((sib >> 3) & 7) | (p->rex & EMU_REX_X ? 8 : 0);
		if (index == 4)
			index = -1;
		/* Base 101 with mod 00 is disp32, whatever REX.B says. */
		if ((sib & 7) != 5 || mod != 0)
			base = (sib & 7) | (p->rex & EMU_REX_B ? 8 : 0);
	} else if (rm == 5 && mod == 0) {
		/* disp32; in 64-bit mode relative to the next RIP. */
		o->rip_relative = emu_64bit(ctx);
	} else {
		base = rm | (p->rex & EMU_REX_B ? 8 : 0);
	}

	if (base >= 0)
		ea += regs[base];
	if (index >= 0)
		ea += regs[index] << scale;
	if (mod == 1)
		ea += emu_sext(emu_next(c), 1);
	else if (mod == 2 || base < 0)
		ea += emu_sext(emu_next_le(c, 4), 4);
	if (base == 4 || base == 5)
		o->seg = LAPICV_EMU_SS;
	o->ea = ea;
}

/* The linear address of an effective address in a segment. */
static u64 emu_linear(const struct lapicv_emu_ctx *ctx, int seg, u64 ea)
{
	if (emu_64bit(ctx))
		return seg == LAPICV_EMU_FS || seg == LAPICV_EMU_GS ?
		       ctx->seg_base[seg] + ea : ea;
	return (ctx->seg_base[seg] + ea) & 0xffffffffULL;
}

/*
 * The opcode of an instruction lapicv_emu_decode_mov() takes: its
 * operation and sizes in m, and the size of its immediate (0: none).
 * LAPICV_EMU_UNHANDLED for any other opcode.
 */
static enum lapicv_emu_status emu_mmio_opcode(const struct lapicv_emu_ctx *ctx,
					      struct emu_cursor *c,
					      const struct emu_prefixes *p,
					      struct lapicv_emu_mov *m,
					      bool *modrm, bool *byte_reg,
					      unsigned int *imm_size)
{
	unsigned int opsize = emu_operand_size(ctx, p);
	u8 op = emu_next(c);

	if (c->err != LAPICV_EMU_OK)
		return c->err;
	*modrm = true;
	*byte_reg = !(op & 1);
	m->size = op & 1 ? opsize : 1;
	switch (op) {
	case 0x88:
	case 0x89:
		m->op = LAPICV_EMU_MOV_STORE;
		break;
	case 0x8a:
	case 0x8b:
		m->op = LAPICV_EMU_MOV_LOAD;
		break;
	case 0xc6:
	case 0xc7:
		m->op = LAPICV_EMU_MOV_STORE_IMM;
		*byte_reg = false;
		*imm_size = min_t(u8, m->size, 4);
		break;
	case 0xa0:
	case 0xa1:
	case 0xa2:
	case 0xa3:
		m->op = op & 2 ? LAPICV_EMU_MOV_STORE : LAPICV_EMU_MOV_LOAD;
		*modrm = false;
		break;
	case 0x63:
		/* MOVSXD r64, r/m32; without REX.W it is rarely emitted. */
		if (!emu_64bit(ctx) || !(p->rex & EMU_REX_W))
			return LAPICV_EMU_UNHANDLED;
		m->op = LAPICV_EMU_MOV_LOAD;
		m->size = 4;
		m->reg_size = 8;
		m->sign_extend = true;
		break;
	case 0x86:
	case 0x87:
		m->op = LAPICV_EMU_MOV_XCHG;
		break;
	case 0x00: case 0x01: case 0x08: case 0x09:
	case 0x20: case 0x21: case 0x28: case 0x29:
	case 0x30: case 0x31: case 0x38: case 0x39:
		/* op r/m, reg: the operation in bits 5:3, as 80's ModRM.reg. */
		m->op = LAPICV_EMU_MOV_ALU;
		m->alu = op >> 3;
		break;
	case 0x84:
	case 0x85:
		m->op = LAPICV_EMU_MOV_ALU;
		m->alu = LAPICV_EMU_ALU_TEST;
		break;
	case 0x80:
	case 0x81:
	case 0x83:
		/* The operation is ModRM.reg: the caller checks it. */
		m->op = LAPICV_EMU_MOV_ALU;
		m->src_imm = true;
		m->size = op == 0x80 ? 1 : opsize;
		*byte_reg = false;
		*imm_size = op == 0x81 ? min_t(u8, m->size, 4) : 1;
		break;
	case 0xf6:
	case 0xf7:
		/* /0 is TEST r/m, imm: the caller checks it. */
		m->op = LAPICV_EMU_MOV_ALU;
		m->alu = LAPICV_EMU_ALU_TEST;
		m->src_imm = true;
		*byte_reg = false;
		*imm_size = min_t(u8, m->size, 4);
		break;
	case 0x0f:
		op = emu_next(c);
		if (op != 0xb6 && op != 0xb7 && op != 0xbe && op != 0xbf)
			return c->err != LAPICV_EMU_OK ? c->err :
							 LAPICV_EMU_UNHANDLED;
		/* F2/F3 0F Bx are other instructions (POPCNT, TZCNT, ...). */
		if (p->rep)
			return LAPICV_EMU_UNHANDLED;
		m->op = LAPICV_EMU_MOV_LOAD;
		m->size = op & 1 ? 2 : 1;
		m->reg_size = opsize;
		m->sign_extend = op & 8;
		*byte_reg = false;
		break;
	default:
		return LAPICV_EMU_UNHANDLED;
	}
	return LAPICV_EMU_OK;
}

/* Is ModRM.reg a register or, in 80-83 and F6/F7, the operation we take? */
static bool emu_mmio_reg_field(struct lapicv_emu_mov *m, u8 reg)
{
	if (m->op == LAPICV_EMU_MOV_STORE_IMM)
		/* C6 /0 and C7 /0 only (C6 F8 and C7 F8 are XABORT, XBEGIN). */
		return reg == 0;
	if (m->op != LAPICV_EMU_MOV_ALU || !m->src_imm)
		return true;
	if (m->alu == LAPICV_EMU_ALU_TEST)
		return reg == 0;
	/* ADC and SBB (/2, /3) read CF: not taken. */
	m->alu = reg;
	return reg != 2 && reg != 3;
}

/* Where LOCK is allowed: XCHG and ALU operations that store. */
static bool emu_mmio_lockable(const struct lapicv_emu_mov *m)
{
	return m->op == LAPICV_EMU_MOV_XCHG ||
	       (m->op == LAPICV_EMU_MOV_ALU && m->alu != LAPICV_EMU_ALU_CMP &&
		m->alu != LAPICV_EMU_ALU_TEST);
}

enum lapicv_emu_status lapicv_emu_decode_mov(const struct lapicv_emu_ctx *ctx,
					     const struct lapicv_emu_fetch *f,
					     const u64 *regs,
					     struct lapicv_emu_mov *m)
{
	struct emu_cursor c = { .f = f };
	struct emu_operand o = { .seg = LAPICV_EMU_DS };
	unsigned int adsize, imm_size = 0;
	enum lapicv_emu_status st;
	bool modrm, byte_reg;
	struct emu_prefixes p;

	memset(m, 0, sizeof(*m));
	emu_prefixes(ctx, &c, &p);
	adsize = emu_address_size(ctx, &p);
	st = emu_mmio_opcode(ctx, &c, &p, m, &modrm, &byte_reg, &imm_size);
	if (st != LAPICV_EMU_OK)
		return st;
	if (!m->reg_size)
		m->reg_size = m->size;

	if (modrm) {
		u8 mrm = emu_next(&c), mod = mrm >> 6, reg = (mrm >> 3) & 7;

		if (c.err != LAPICV_EMU_OK)
			return c.err;
		/* A register operand touches no memory. */
		if (mod == 3 || !emu_mmio_reg_field(m, reg))
			return LAPICV_EMU_UNHANDLED;
		m->reg = reg | (p.rex & EMU_REX_R ? 8 : 0);
		if (adsize == 2)
			emu_modrm16(&c, regs, mod, mrm & 7, &o);
		else
			emu_modrm32(ctx, &c, regs, &p, mod, mrm & 7, &o);
	} else {
		/* moffs: an address-size absolute offset, rAX. */
		o.ea = emu_next_le(&c, adsize);
		m->reg = 0;
	}
	if (imm_size)
		m->imm = emu_sext(emu_next_le(&c, imm_size), imm_size) &
			 emu_size_mask(m->size);
	if (c.err != LAPICV_EMU_OK)
		return c.err;
	/* LOCK elsewhere raises #UD: not what the CPU ran. */
	if (p.lock && !emu_mmio_lockable(m))
		return LAPICV_EMU_UNHANDLED;
	if (m->src_imm || m->op == LAPICV_EMU_MOV_STORE_IMM)
		m->reg = 0;

	/* Without REX, byte registers 4 .. 7 are AH, CH, DH, BH. */
	if (byte_reg && m->size == 1 && !p.rex && m->reg >= 4) {
		m->reg -= 4;
		m->high8 = true;
	}
	m->len = c.pos;
	if (o.rip_relative)
		o.ea += lapicv_emu_next_rip(ctx, m->len);
	o.ea &= emu_size_mask(adsize);
	m->seg = p.seg >= 0 ? p.seg : o.seg;
	m->gva = emu_linear(ctx, m->seg, o.ea);
	return LAPICV_EMU_OK;
}

enum lapicv_emu_status lapicv_emu_mov(const struct lapicv_emu_ctx *ctx,
				      const u64 *regs,
				      struct lapicv_emu_mov *m,
				      struct lapicv_emu_fault *fault)
{
	struct lapicv_emu_fetch f;
	enum lapicv_emu_status st;

	lapicv_emu_fetch(ctx, &f);
	st = lapicv_emu_decode_mov(ctx, &f, regs, m);
	if (st == LAPICV_EMU_FAULT)
		*fault = f.fault;
	return st;
}

/* The control registers MOV may name; the others are #UD. */
#define EMU_VALID_CRS	(BIT(0) | BIT(2) | BIT(3) | BIT(4) | BIT(8))

enum lapicv_emu_status lapicv_emu_decode_cr(const struct lapicv_emu_ctx *ctx,
					    const struct lapicv_emu_fetch *f,
					    const u64 *regs,
					    struct lapicv_emu_cr *cr)
{
	struct emu_cursor c = { .f = f };
	struct emu_operand o = { .seg = LAPICV_EMU_DS };
	struct emu_prefixes p;
	u8 op, mrm = 0, mod, reg, rm;
	bool lock_ok = false;

	memset(cr, 0, sizeof(*cr));
	emu_prefixes(ctx, &c, &p);
	if (emu_next(&c) != 0x0f)
		return c.err != LAPICV_EMU_OK ? c.err : LAPICV_EMU_UNHANDLED;
	op = emu_next(&c);
	if (op == 0x06) {
		cr->op = LAPICV_EMU_CR_CLTS;
		goto done;
	}
	if (op != 0x20 && op != 0x22 && op != 0x01)
		return c.err != LAPICV_EMU_OK ? c.err : LAPICV_EMU_UNHANDLED;
	mrm = emu_next(&c);
	if (c.err != LAPICV_EMU_OK)
		return c.err;
	mod = mrm >> 6;
	reg = (mrm >> 3) & 7;
	rm = (mrm & 7) | (p.rex & EMU_REX_B ? 8 : 0);

	if (op != 0x01) {
		/* MOV CRn: always a register operand, whatever mod says. */
		cr->op = op == 0x20 ? LAPICV_EMU_CR_READ : LAPICV_EMU_CR_WRITE;
		cr->cr = reg | (p.rex & EMU_REX_R ? 8 : 0);
		cr->reg = rm;
		cr->size = emu_64bit(ctx) ? 8 : 4;
		/* AMD's alias: LOCK MOV CR0 reaches CR8. */
		if (p.lock && cr->cr == 0 &&
		    (ctx->features & LAPICV_EMU_F_CR8_LEGACY)) {
			cr->cr = 8;
			lock_ok = true;
		}
		if (!(EMU_VALID_CRS & BIT(cr->cr)))
			return LAPICV_EMU_UNHANDLED;
		goto done;
	}

	/* 0F 01 /4 is SMSW, /6 LMSW; the rest of the group is not ours. */
	if (reg == 4) {
		cr->op = LAPICV_EMU_CR_SMSW;
		cr->size = mod == 3 ? emu_operand_size(ctx, &p) : 2;
	} else if (reg == 6) {
		cr->op = LAPICV_EMU_CR_LMSW;
		cr->size = 2;
	} else {
		return LAPICV_EMU_UNHANDLED;
	}
	if (mod == 3) {
		cr->reg = rm;
	} else {
		cr->mem = true;
		if (emu_address_size(ctx, &p) == 2)
			emu_modrm16(&c, regs, mod, mrm & 7, &o);
		else
			emu_modrm32(ctx, &c, regs, &p, mod, mrm & 7, &o);
	}

done:
	if (c.err != LAPICV_EMU_OK)
		return c.err;
	/* F2 and F3 are no part of these: KVM's emulator ignores them. */
	if (p.lock && !lock_ok)
		return LAPICV_EMU_UNHANDLED;
	cr->len = c.pos;
	if (cr->mem) {
		if (o.rip_relative)
			o.ea += lapicv_emu_next_rip(ctx, cr->len);
		o.ea &= emu_size_mask(emu_address_size(ctx, &p));
		cr->seg = p.seg >= 0 ? p.seg : o.seg;
		cr->gva = emu_linear(ctx, cr->seg, o.ea);
	}
	return LAPICV_EMU_OK;
}

/*
 * Translate the pages of an access of len bytes (at most 8) at la: gpa[0]
 * for the bytes up to the page's end, gpa[1] for the rest, *first the
 * bytes in the first page.
 */
static enum lapicv_emu_status emu_translate_data(const struct lapicv_emu_ctx *ctx,
						 u64 la, unsigned int len,
						 u32 access, u64 *gpa,
						 unsigned int *first,
						 struct lapicv_emu_fault *fault)
{
	enum lapicv_emu_status st;
	u64 next;

	if (ctx->cpl == 3)
		access |= LAPICV_EMU_PFERR_USER;
	if (!emu_64bit(ctx))
		la &= 0xffffffffULL;
	*first = min_t(u64, len, EMU_PAGE_SIZE - (la & EMU_PAGE_MASK));
	st = lapicv_emu_translate(ctx, la, access, &gpa[0], fault);
	if (st != LAPICV_EMU_OK || *first == len)
		return st;
	next = la + *first;
	if (!emu_64bit(ctx))
		next &= 0xffffffffULL;
	return lapicv_emu_translate(ctx, next, access, &gpa[1], fault);
}

enum lapicv_emu_status lapicv_emu_read_linear(const struct lapicv_emu_ctx *ctx,
					      u64 la, void *buf,
					      unsigned int len,
					      struct lapicv_emu_fault *fault)
{
	enum lapicv_emu_status st;
	unsigned int first;
	u64 gpa[2];

	if (len > 8)
		return LAPICV_EMU_UNHANDLED;
	st = emu_translate_data(ctx, la, len, 0, gpa, &first, fault);
	if (st != LAPICV_EMU_OK)
		return st;
	if (ctx->read(ctx->opaque, gpa[0], buf, first) ||
	    (first < len &&
	     ctx->read(ctx->opaque, gpa[1], (u8 *)buf + first, len - first)))
		return LAPICV_EMU_UNHANDLED;
	return LAPICV_EMU_OK;
}

enum lapicv_emu_status lapicv_emu_write_linear(const struct lapicv_emu_ctx *ctx,
					       u64 la, const void *buf,
					       unsigned int len,
					       struct lapicv_emu_fault *fault)
{
	enum lapicv_emu_status st;
	unsigned int first;
	u64 gpa[2];

	if (len > 8 || !ctx->write)
		return LAPICV_EMU_UNHANDLED;
	st = emu_translate_data(ctx, la, len, LAPICV_EMU_PFERR_WRITE, gpa,
				&first, fault);
	if (st != LAPICV_EMU_OK)
		return st;
	if (ctx->write(ctx->opaque, gpa[0], buf, first) ||
	    (first < len &&
	     ctx->write(ctx->opaque, gpa[1], (const u8 *)buf + first,
			len - first)))
		return LAPICV_EMU_UNHANDLED;
	return LAPICV_EMU_OK;
}

bool lapicv_emu_pdptrs_valid(const struct lapicv_emu_ctx *ctx, u64 cr3)
{
	u64 rsvd = GENMASK_ULL(63, clamp_t(u8, ctx->maxphyaddr, 32, 52)) |
		   GENMASK_ULL(8, 5) | GENMASK_ULL(2, 1);
	u64 table = cr3 & ~0x1fULL, pdpte;
	int i;

	for (i = 0; i < 4; i++) {
		if (!emu_read_entry(ctx, table + 8 * i, 8, &pdpte))
			return false;
		if ((pdpte & EMU_PTE_P) && (pdpte & rsvd))
			return false;
	}
	return true;
}

u64 lapicv_emu_mov_store_value(const struct lapicv_emu_mov *m,
			       const u64 *regs)
{
	if (m->op == LAPICV_EMU_MOV_STORE_IMM || m->src_imm)
		return m->imm & emu_size_mask(m->size);
	if (m->high8)
		return (regs[m->reg & 3] >> 8) & 0xff;
	return regs[m->reg & 15] & emu_size_mask(m->size);
}

void lapicv_emu_mov_load_result(const struct lapicv_emu_mov *m, u64 *regs,
				u64 data)
{
	u64 *r = &regs[m->reg & 15];
	u64 v = data & emu_size_mask(m->size);

	if (m->sign_extend)
		v = emu_sext(v, m->size);
	if (m->high8) {
		r = &regs[m->reg & 3];
		*r = (*r & ~0xff00ULL) | (v & 0xff) << 8;
		return;
	}
	switch (m->reg_size) {
	case 8:
		*r = v;
		break;
	case 4:
		/* 32-bit destinations clear bits 63:32. */
		*r = v & 0xffffffffULL;
		break;
	default:
		/* 8- and 16-bit destinations keep the other bits. */
		*r = (*r & ~emu_size_mask(m->reg_size)) |
		     (v & emu_size_mask(m->reg_size));
		break;
	}
}

bool lapicv_emu_mov_reads(const struct lapicv_emu_mov *m)
{
	return m->op == LAPICV_EMU_MOV_LOAD || m->op == LAPICV_EMU_MOV_XCHG ||
	       m->op == LAPICV_EMU_MOV_ALU;
}

bool lapicv_emu_mov_writes(const struct lapicv_emu_mov *m)
{
	if (m->op == LAPICV_EMU_MOV_ALU)
		return m->alu != LAPICV_EMU_ALU_CMP &&
		       m->alu != LAPICV_EMU_ALU_TEST;
	return m->op != LAPICV_EMU_MOV_LOAD;
}

#define EMU_FLAG_CF		BIT_ULL(0)
#define EMU_FLAG_PF		BIT_ULL(2)
#define EMU_FLAG_AF		BIT_ULL(4)
#define EMU_FLAG_ZF		BIT_ULL(6)
#define EMU_FLAG_SF		BIT_ULL(7)
#define EMU_FLAG_OF		BIT_ULL(11)
#define EMU_ARITH_FLAGS		(EMU_FLAG_CF | EMU_FLAG_PF | EMU_FLAG_AF | \
				 EMU_FLAG_ZF | EMU_FLAG_SF | EMU_FLAG_OF)

/* dst op src on size bytes; the arithmetic flags it leaves in *flags. */
static u64 emu_alu(u8 op, unsigned int size, u64 dst, u64 src, u64 *flags)
{
	u64 mask = emu_size_mask(size), sign = BIT_ULL(8 * size - 1);
	u64 res, f = 0;

	dst &= mask;
	src &= mask;
	switch (op) {
	case LAPICV_EMU_ALU_ADD:
		res = (dst + src) & mask;
		if (res < dst)
			f |= EMU_FLAG_CF;
		if ((dst ^ res) & (src ^ res) & sign)
			f |= EMU_FLAG_OF;
		break;
	case LAPICV_EMU_ALU_SUB:
	case LAPICV_EMU_ALU_CMP:
		res = (dst - src) & mask;
		if (dst < src)
			f |= EMU_FLAG_CF;
		if ((dst ^ src) & (dst ^ res) & sign)
			f |= EMU_FLAG_OF;
		break;
	case LAPICV_EMU_ALU_OR:
		res = dst | src;
		break;
	case LAPICV_EMU_ALU_XOR:
		res = dst ^ src;
		break;
	default:	/* AND, TEST */
		res = dst & src;
		break;
	}
	/* AF: the carry out of bit 3, for ADD and SUB only. */
	if (op == LAPICV_EMU_ALU_ADD || op == LAPICV_EMU_ALU_SUB ||
	    op == LAPICV_EMU_ALU_CMP)
		f |= (dst ^ src ^ res) & EMU_FLAG_AF;
	if (!res)
		f |= EMU_FLAG_ZF;
	if (res & sign)
		f |= EMU_FLAG_SF;
	/* PF: an even number of ones in the low byte. */
	if (!(hweight8(res & 0xff) & 1))
		f |= EMU_FLAG_PF;
	*flags = (*flags & ~EMU_ARITH_FLAGS) | f;
	return res;
}

u64 lapicv_emu_mov_execute(const struct lapicv_emu_mov *m, u64 *regs,
			   u64 *rflags, u64 data)
{
	u64 src;

	switch (m->op) {
	case LAPICV_EMU_MOV_LOAD:
		lapicv_emu_mov_load_result(m, regs, data);
		return 0;
	case LAPICV_EMU_MOV_XCHG:
		/* reg_size is size: the register's old bytes go to memory. */
		src = lapicv_emu_mov_store_value(m, regs);
		lapicv_emu_mov_load_result(m, regs, data);
		return src;
	case LAPICV_EMU_MOV_ALU:
		src = m->src_imm ? m->imm : lapicv_emu_mov_store_value(m, regs);
		return emu_alu(m->alu, m->size, data, src, rflags);
	default:
		return lapicv_emu_mov_store_value(m, regs);
	}
}
