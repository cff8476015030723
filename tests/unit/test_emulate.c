// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of emulate.c: the guest page walk in every paging mode, the
 * instruction fetch across pages and wraps, the length decoder and the
 * MOV decoder.
 *
 * The decoders are checked against emulate_vectors.s, which
 * gen_emulate_vectors.c writes and the host's GNU as assembles at build
 * time: thousands of instructions, every ModRM/SIB/REX/prefix form, each
 * with the fields it must decode to.  Every vector is also decoded cut
 * short (the missing bytes behind a fault must give that fault, never a
 * decode), and placed at every split across a page boundary in guest
 * memory behind real page tables, with and without the second page
 * mapped (of the thousands of SIB forms, one in five).  Page tables are
 * built in a small synthetic guest memory whose read callback also checks
 * the callback contract (no read across a page, at most 15 bytes).
 */
#include "../../emulate.c"

#include "test.h"

#include "emulate_vectors.h"

/* ---- synthetic guest memory ---- */

#define GMEM_PAGES	96

struct gmem {
	unsigned int nr;
	u64 gfn[GMEM_PAGES];
	u8 data[GMEM_PAGES][4096];
	u64 next_table;		/* bump allocator for page tables */
	unsigned int reads;
	bool contract_broken;	/* a read across a page or of > 15 bytes */
};

static struct gmem *gm;

static u8 *gmem_page(struct gmem *g, u64 gpa, bool create)
{
	u64 gfn = gpa >> 12;
	unsigned int i;

	for (i = 0; i < g->nr; i++)
		if (g->gfn[i] == gfn)
			return g->data[i];
	if (!create || g->nr == GMEM_PAGES)
		return NULL;
	g->gfn[g->nr] = gfn;
	memset(g->data[g->nr], 0, 4096);
	return g->data[g->nr++];
}

static void gmem_write(struct gmem *g, u64 gpa, const void *src, size_t n)
{
	const u8 *s = src;
	size_t i;

	for (i = 0; i < n; i++)
		gmem_page(g, gpa + i, true)[(gpa + i) & 0xfff] = s[i];
}

static void gmem_write_le(struct gmem *g, u64 gpa, u64 v, unsigned int n)
{
	u8 b[8];
	unsigned int i;

	for (i = 0; i < n; i++)
		b[i] = v >> (8 * i);
	gmem_write(g, gpa, b, n);
}

static u64 gmem_read_le(struct gmem *g, u64 gpa, unsigned int n)
{
	u8 *p = gmem_page(g, gpa, false);
	u64 v = 0;
	unsigned int i;

	for (i = 0; p && i < n; i++)
		v |= (u64)p[(gpa & 0xfff) + i] << (8 * i);
	return v;
}

static int gmem_read(void *opaque, u64 gpa, void *buf, unsigned int len)
{
	struct gmem *g = opaque;
	u8 *p = gmem_page(g, gpa, false);

	g->reads++;
	if (len == 0 || len > 15 || (gpa & 0xfff) + len > 4096)
		g->contract_broken = true;
	if (!p || (gpa & 0xfff) + len > 4096)
		return -EFAULT;
	memcpy(buf, p + (gpa & 0xfff), len);
	return 0;
}

static int gmem_write_cb(void *opaque, u64 gpa, const void *buf,
			 unsigned int len)
{
	struct gmem *g = opaque;
	u8 *p = gmem_page(g, gpa, false);

	if (len == 0 || len > 15 || (gpa & 0xfff) + len > 4096)
		g->contract_broken = true;
	if (!p || (gpa & 0xfff) + len > 4096)
		return -EFAULT;
	memcpy(p + (gpa & 0xfff), buf, len);
	return 0;
}

static struct gmem *gmem_new(void)
{
	struct gmem *g = calloc(1, sizeof(*g));

	if (!g)
		abort();
	g->next_table = 0x100000;
	return g;
}

/* ---- contexts and page tables ---- */

enum { M_REAL, M_PROT32, M_PAGED32, M_PAE, M_LONG4, M_LONG5, M_COMPAT };

#define CR0_PE	BIT_ULL(0)
#define CR0_WP	BIT_ULL(16)
#define CR0_PG	BIT_ULL(31)
#define CR4_PSE	BIT_ULL(4)
#define CR4_PAE	BIT_ULL(5)
#define CR4_LA57 BIT_ULL(12)
#define CR4_SMEP BIT_ULL(20)
#define CR4_SMAP BIT_ULL(21)
#define EFER_LME BIT_ULL(8)
#define EFER_LMA BIT_ULL(10)
#define EFER_NXE BIT_ULL(11)

#define P	BIT_ULL(0)
#define RW	BIT_ULL(1)
#define US	BIT_ULL(2)
#define PS	BIT_ULL(7)
#define NX	BIT_ULL(63)
#define PRW	(P | RW | US)

#define PF_P	LAPICV_EMU_PFERR_PRESENT
#define PF_W	LAPICV_EMU_PFERR_WRITE
#define PF_U	LAPICV_EMU_PFERR_USER
#define PF_R	LAPICV_EMU_PFERR_RSVD
#define PF_F	LAPICV_EMU_PFERR_FETCH

static unsigned int ctx_levels(const struct lapicv_emu_ctx *ctx)
{
	if (ctx->efer & EFER_LMA)
		return ctx->cr4 & CR4_LA57 ? 5 : 4;
	return ctx->cr4 & CR4_PAE ? 3 : 2;
}

static u64 table_alloc(struct gmem *g)
{
	u64 gpa = g->next_table;

	g->next_table += 4096;
	gmem_page(g, gpa, true);
	return gpa;
}

static void ctx_init(struct lapicv_emu_ctx *ctx, struct gmem *g, int mode)
{
	unsigned int s;

	memset(ctx, 0, sizeof(*ctx));
	ctx->read = gmem_read;
	ctx->write = gmem_write_cb;
	ctx->opaque = g;
	ctx->maxphyaddr = 46;
	ctx->features = LAPICV_EMU_F_GBPAGES | LAPICV_EMU_F_AMD |
			LAPICV_EMU_F_CR8_LEGACY;
	for (s = 0; s < LAPICV_EMU_NR_SEGS; s++)
		ctx->seg_base[s] = 0x10000ULL * (s + 1) + 0x100 * s;
	switch (mode) {
	case M_REAL:
		break;
	case M_PROT32:
		ctx->cr0 = CR0_PE;
		ctx->cs_db = true;
		break;
	case M_PAGED32:
		ctx->cr0 = CR0_PE | CR0_PG | CR0_WP;
		ctx->cr4 = CR4_PSE;
		ctx->cs_db = true;
		break;
	case M_PAE:
		ctx->cr0 = CR0_PE | CR0_PG | CR0_WP;
		ctx->cr4 = CR4_PAE;
		ctx->efer = EFER_NXE;
		ctx->cs_db = true;
		break;
	case M_LONG5:
		ctx->cr4 = CR4_LA57;
		fallthrough;
	case M_LONG4:
	case M_COMPAT:
		ctx->cr0 = CR0_PE | CR0_PG | CR0_WP;
		ctx->cr4 |= CR4_PAE;
		ctx->efer = EFER_LME | EFER_LMA | EFER_NXE;
		ctx->cs_l = mode != M_COMPAT;
		ctx->cs_db = mode == M_COMPAT;
		ctx->seg_base[LAPICV_EMU_FS] = 0xffff888000001000ULL;
		ctx->seg_base[LAPICV_EMU_GS] = 0x00007f0000002000ULL;
		break;
	}
	if (ctx->cr0 & CR0_PG)
		ctx->cr3 = table_alloc(g);
	if (mode == M_PAE)
		ctx->cr3 = table_alloc(g) + 0x20;	/* 32-byte aligned */
}

/* The guest-physical address of the entry for la at level; tables above
 * it are created (P, R/W, U/S; a PAE PDPTE gets P only).
 */
static u64 pt_slot(struct gmem *g, const struct lapicv_emu_ctx *ctx, u64 la,
		   unsigned int level)
{
	unsigned int levels = ctx_levels(ctx), l;
	unsigned int esize = levels == 2 ? 4 : 8;
	u64 table = levels == 2 ? ctx->cr3 & 0xfffff000 :
		    levels == 3 ? ctx->cr3 & 0xffffffe0 : ctx->cr3 & ~0xfffULL;

	for (l = levels; ; l--) {
		unsigned int bits = levels == 2 ? 10 : 9;
		u64 idx = (la >> (12 + bits * (l - 1))) & ((1ULL << bits) - 1);
		u64 slot, e;

		if (levels == 3 && l == 3)
			idx = (la >> 30) & 3;
		slot = table + idx * esize;
		if (l == level)
			return slot;
		e = gmem_read_le(g, slot, esize);
		if (!(e & P)) {
			e = table_alloc(g) | (levels == 3 && l == 3 ? P : PRW);
			gmem_write_le(g, slot, e, esize);
		}
		table = e & (levels == 2 ? 0xfffff000ULL : GENMASK_ULL(51, 12));
	}
}

static void pt_set(struct gmem *g, const struct lapicv_emu_ctx *ctx, u64 la,
		   unsigned int level, u64 entry)
{
	gmem_write_le(g, pt_slot(g, ctx, la, level), entry,
		      ctx_levels(ctx) == 2 ? 4 : 8);
}

/* Map la to gpa with a page of the given level (1: 4K, 2: 2M/4M, 3: 1G). */
static void pt_map(struct gmem *g, const struct lapicv_emu_ctx *ctx, u64 la,
		   u64 gpa, unsigned int level, u64 flags)
{
	pt_set(g, ctx, la, level, gpa | flags | (level > 1 ? PS : 0));
}

static enum lapicv_emu_status xlate(const struct lapicv_emu_ctx *ctx, u64 la,
				    u32 access, u64 *gpa,
				    struct lapicv_emu_fault *fault)
{
	*gpa = ~0ULL;
	memset(fault, 0xee, sizeof(*fault));
	return lapicv_emu_translate(ctx, la, access, gpa, fault);
}

#define ASSERT_XLATE(ctx, la, access, want) do {			\
	u64 __gpa;							\
	struct lapicv_emu_fault __f;					\
	ASSERT_EQ(xlate(ctx, la, access, &__gpa, &__f), LAPICV_EMU_OK);	\
	ASSERT_EQ(__gpa, want);						\
} while (0)

#define ASSERT_PF(ctx, la, access, code) do {				\
	u64 __gpa, __la = (la);						\
	struct lapicv_emu_fault __f;					\
	ASSERT_EQ(xlate(ctx, __la, access, &__gpa, &__f), LAPICV_EMU_FAULT); \
	ASSERT_EQ(__f.vector, LAPICV_EMU_PF_VECTOR);			\
	ASSERT_EQ(__f.error_code, code);				\
	ASSERT_EQ(__f.address, __la);					\
} while (0)

#define ASSERT_GP(ctx, la, access) do {					\
	u64 __gpa;							\
	struct lapicv_emu_fault __f;					\
	ASSERT_EQ(xlate(ctx, la, access, &__gpa, &__f), LAPICV_EMU_FAULT); \
	ASSERT_EQ(__f.vector, LAPICV_EMU_GP_VECTOR);			\
	ASSERT_EQ(__f.error_code, 0);					\
} while (0)

static struct gmem *fresh(struct lapicv_emu_ctx *ctx, int mode)
{
	free(gm);
	gm = gmem_new();
	ctx_init(ctx, gm, mode);
	return gm;
}

/* ---- page walk ---- */

static bool test_walk_long4_4k_2m_1g(void)
{
	struct lapicv_emu_ctx ctx;
	struct gmem *g = fresh(&ctx, M_LONG4);

	pt_map(g, &ctx, 0x00007f1234567000ULL, 0x3456000, 1, PRW);
	ASSERT_XLATE(&ctx, 0x00007f1234567abcULL, 0, 0x3456abc);
	pt_map(g, &ctx, 0xffffffff80200000ULL, 0x40000000, 2, PRW);
	ASSERT_XLATE(&ctx, 0xffffffff802abcdeULL, PF_W, 0x400abcde);
	pt_map(g, &ctx, 0xffff888000000000ULL, 0x2c0000000ULL, 3, PRW);
	ASSERT_XLATE(&ctx, 0xffff888012345678ULL, PF_W | PF_U, 0x2d2345678ULL);
	/* Neighbours of a mapping are not mapped. */
	ASSERT_PF(&ctx, 0x00007f1234568000ULL, 0, 0);
	ASSERT_PF(&ctx, 0xffffffff80400000ULL, PF_W, PF_W);
	ASSERT_FALSE(g->contract_broken);
	return true;
}

static bool test_walk_long5(void)
{
	struct lapicv_emu_ctx ctx;
	struct gmem *g = fresh(&ctx, M_LONG5);

	/* Bits 56:48 select the PML5E: an address only 5 levels reach. */
	pt_map(g, &ctx, 0x00ff800000001000ULL, 0xfee00000, 1, PRW);
	ASSERT_XLATE(&ctx, 0x00ff800000001020ULL, 0, 0xfee00020);
	pt_map(g, &ctx, 0xff00000000000000ULL, 0x5000, 1, PRW);
	ASSERT_XLATE(&ctx, 0xff00000000000008ULL, 0, 0x5008);
	/* Canonical is bit 56 copied up to 63 with LA57. */
	ASSERT_GP(&ctx, 0x0100000000000000ULL, 0);
	ASSERT_GP(&ctx, 0xfe00000000000000ULL, 0);
	/* The same address without LA57 is not canonical. */
	ctx.cr4 &= ~CR4_LA57;
	ASSERT_GP(&ctx, 0x00ff800000001020ULL, 0);
	ASSERT_GP(&ctx, 0x0000800000000000ULL, PF_F);
	return true;
}

static bool test_walk_not_present_error_codes(void)
{
	struct lapicv_emu_ctx ctx;
	unsigned int level;
	u64 la = 0x0000123456789000ULL;
	struct gmem *g = fresh(&ctx, M_LONG4);

	pt_map(g, &ctx, la, 0x7000, 1, PRW);
	ASSERT_XLATE(&ctx, la, PF_F, 0x7000);
	/* Clear P at each level in turn. */
	for (level = 1; level <= 4; level++) {
		u64 slot = pt_slot(g, &ctx, la, level);
		u64 e = gmem_read_le(g, slot, 8);

		gmem_write_le(g, slot, e & ~P, 8);
		ASSERT_PF(&ctx, la, 0, 0);
		ASSERT_PF(&ctx, la, PF_W, PF_W);
		ASSERT_PF(&ctx, la, PF_U, PF_U);
		ASSERT_PF(&ctx, la, PF_W | PF_U, PF_W | PF_U);
		/* I/D is reported with NX or SMEP only, as KVM does. */
		ASSERT_PF(&ctx, la, PF_F, PF_F);
		ASSERT_PF(&ctx, la, PF_F | PF_U, PF_F | PF_U);
		ctx.efer &= ~EFER_NXE;
		ASSERT_PF(&ctx, la, PF_F, 0);
		ctx.cr4 |= CR4_SMEP;
		ASSERT_PF(&ctx, la, PF_F | PF_U, PF_F | PF_U);
		ctx.cr4 &= ~CR4_SMEP;
		ctx.efer |= EFER_NXE;
		gmem_write_le(g, slot, e, 8);
		ASSERT_XLATE(&ctx, la, PF_F, 0x7000);
	}
	/* A table outside guest memory: not present, as in KVM. */
	pt_set(g, &ctx, la, 2, 0x7ff00000000ULL | PRW);
	ASSERT_PF(&ctx, la, PF_W, PF_W);
	ASSERT_FALSE(g->contract_broken);
	return true;
}

static bool test_walk_reserved_bits(void)
{
	struct lapicv_emu_fault fault;
	struct lapicv_emu_ctx ctx;
	u64 la = 0x0000400000000000ULL, slot4, slot3, slot2, slot1;
	struct gmem *g = fresh(&ctx, M_LONG4);
	u64 e4, e3, e2;

	pt_map(g, &ctx, la, 0x9000, 1, PRW);
	slot4 = pt_slot(g, &ctx, la, 4);
	slot3 = pt_slot(g, &ctx, la, 3);
	slot2 = pt_slot(g, &ctx, la, 2);
	slot1 = pt_slot(g, &ctx, la, 1);
	e4 = gmem_read_le(g, slot4, 8);
	e3 = gmem_read_le(g, slot3, 8);
	e2 = gmem_read_le(g, slot2, 8);
	ASSERT_XLATE(&ctx, la, 0, 0x9000);

	/* An address bit at MAXPHYADDR (46) in the leaf. */
	gmem_write_le(g, slot1, 0x9000 | PRW | BIT_ULL(46), 8);
	ASSERT_PF(&ctx, la, PF_W, PF_R | PF_P | PF_W);
	ctx.maxphyaddr = 47;
	ASSERT_XLATE(&ctx, la, 0, BIT_ULL(46) | 0x9000);
	ctx.maxphyaddr = 46;
	/* Bits 52..62 are ignored. */
	gmem_write_le(g, slot1, 0x9000 | PRW | GENMASK_ULL(62, 52), 8);
	ASSERT_XLATE(&ctx, la, 0, 0x9000);
	/* NX without EFER.NXE. */
	gmem_write_le(g, slot1, 0x9000 | PRW | NX, 8);
	ASSERT_PF(&ctx, la, PF_F, PF_P | PF_F);		/* NX page, NXE on */
	ctx.efer &= ~EFER_NXE;
	ASSERT_PF(&ctx, la, 0, PF_R | PF_P);
	ctx.efer |= EFER_NXE;
	gmem_write_le(g, slot1, 0x9000 | PRW, 8);

	/* PS in a PML4E; bit 8 of a PML4E on AMD only. */
	gmem_write_le(g, slot4, e4 | PS, 8);
	ASSERT_PF(&ctx, la, 0, PF_R | PF_P);
	gmem_write_le(g, slot4, e4 | BIT_ULL(8), 8);
	ASSERT_PF(&ctx, la, PF_U, PF_R | PF_P | PF_U);
	ctx.features &= ~LAPICV_EMU_F_AMD;
	ASSERT_XLATE(&ctx, la, 0, 0x9000);
	ctx.features |= LAPICV_EMU_F_AMD;
	gmem_write_le(g, slot4, e4, 8);

	/* 1 GiB pages: bit 29..13 reserved; without GBPAGES, PS is. */
	gmem_write_le(g, slot3, 0x40000000 | PRW | PS, 8);
	ASSERT_XLATE(&ctx, la + 0x1234567, 0, 0x41234567);
	gmem_write_le(g, slot3, 0x40000000 | PRW | PS | BIT_ULL(13), 8);
	ASSERT_PF(&ctx, la, 0, PF_R | PF_P);
	gmem_write_le(g, slot3, 0x40000000 | PRW | PS | BIT_ULL(29), 8);
	ASSERT_PF(&ctx, la, 0, PF_R | PF_P);
	gmem_write_le(g, slot3, 0x40000000 | PRW | PS | BIT_ULL(12), 8);
	ASSERT_XLATE(&ctx, la, 0, 0x40000000);		/* bit 12: PAT */
	gmem_write_le(g, slot3, 0x40000000 | PRW | PS, 8);
	ctx.features &= ~LAPICV_EMU_F_GBPAGES;
	ASSERT_PF(&ctx, la, 0, PF_R | PF_P);
	ctx.features |= LAPICV_EMU_F_GBPAGES;
	gmem_write_le(g, slot3, e3, 8);

	/* 2 MiB pages: bits 20..13 reserved. */
	gmem_write_le(g, slot2, 0x200000 | PRW | PS | BIT_ULL(20), 8);
	ASSERT_PF(&ctx, la, 0, PF_R | PF_P);
	gmem_write_le(g, slot2, 0x200000 | PRW | PS | BIT_ULL(12), 8);
	ASSERT_XLATE(&ctx, la + 0x12345, 0, 0x212345);
	gmem_write_le(g, slot2, e2, 8);

	/* Reserved bits win over a permission fault. */
	gmem_write_le(g, slot1, 0x9000 | P | BIT_ULL(50), 8);
	ASSERT_PF(&ctx, la, PF_W | PF_U, PF_R | PF_P | PF_W | PF_U);
	/* Bad MAXPHYADDR, long mode without PAE: contradictions. */
	ctx.maxphyaddr = 53;
	ASSERT_EQ(xlate(&ctx, la, 0, &e2, &fault), LAPICV_EMU_UNHANDLED);
	ctx.maxphyaddr = 31;
	ASSERT_EQ(xlate(&ctx, la, 0, &e2, &fault), LAPICV_EMU_UNHANDLED);
	ctx.maxphyaddr = 46;
	ctx.cr4 &= ~CR4_PAE;
	ASSERT_EQ(xlate(&ctx, la, 0, &e2, &fault), LAPICV_EMU_UNHANDLED);
	ctx.cr4 |= CR4_PAE;
	ctx.cr0 &= ~CR0_PG;
	ASSERT_EQ(xlate(&ctx, la, 0, &e2, &fault), LAPICV_EMU_UNHANDLED);
	return true;
}

static bool test_walk_permissions(void)
{
	struct lapicv_emu_ctx ctx;
	u64 la = 0x0000000040000000ULL, slot1, slot3;
	struct gmem *g = fresh(&ctx, M_LONG4);

	pt_map(g, &ctx, la, 0xa000, 1, PRW);
	slot1 = pt_slot(g, &ctx, la, 1);
	slot3 = pt_slot(g, &ctx, la, 3);

	/* Supervisor page. */
	gmem_write_le(g, slot1, 0xa000 | P | RW, 8);
	ASSERT_XLATE(&ctx, la, PF_W, 0xa000);
	ASSERT_PF(&ctx, la, PF_U, PF_P | PF_U);
	ASSERT_PF(&ctx, la, PF_U | PF_F, PF_P | PF_U | PF_F);
	/* Read-only page: user writes fault; supervisor ones with CR0.WP. */
	gmem_write_le(g, slot1, 0xa000 | P | US, 8);
	ASSERT_XLATE(&ctx, la, PF_U, 0xa000);
	ASSERT_PF(&ctx, la, PF_U | PF_W, PF_P | PF_U | PF_W);
	ASSERT_PF(&ctx, la, PF_W, PF_P | PF_W);
	ctx.cr0 &= ~CR0_WP;
	ASSERT_XLATE(&ctx, la, PF_W, 0xa000);
	ASSERT_PF(&ctx, la, PF_U | PF_W, PF_P | PF_U | PF_W);
	ctx.cr0 |= CR0_WP;
	/* Rights combine over levels: R/W clear in the PDPTE only. */
	gmem_write_le(g, slot1, 0xa000 | PRW, 8);
	gmem_write_le(g, slot3, gmem_read_le(g, slot3, 8) & ~RW, 8);
	ASSERT_PF(&ctx, la, PF_W, PF_P | PF_W);
	gmem_write_le(g, slot3, gmem_read_le(g, slot3, 8) | RW, 8);
	ASSERT_XLATE(&ctx, la, PF_W, 0xa000);
	/* NX in an upper level. */
	gmem_write_le(g, slot3, gmem_read_le(g, slot3, 8) | NX, 8);
	ASSERT_PF(&ctx, la, PF_F, PF_P | PF_F);
	ASSERT_XLATE(&ctx, la, PF_W, 0xa000);
	gmem_write_le(g, slot3, gmem_read_le(g, slot3, 8) & ~NX, 8);
	/* SMEP: supervisor fetch from a user page. */
	ctx.cr4 |= CR4_SMEP;
	ASSERT_PF(&ctx, la, PF_F, PF_P | PF_F);
	ASSERT_XLATE(&ctx, la, PF_F | PF_U, 0xa000);
	ASSERT_XLATE(&ctx, la, 0, 0xa000);
	ctx.cr4 &= ~CR4_SMEP;
	/* SMAP: supervisor data access to a user page, unless RFLAGS.AC. */
	ctx.cr4 |= CR4_SMAP;
	ASSERT_PF(&ctx, la, 0, PF_P);
	ASSERT_PF(&ctx, la, PF_W, PF_P | PF_W);
	ASSERT_XLATE(&ctx, la, PF_F, 0xa000);
	ASSERT_XLATE(&ctx, la, PF_U, 0xa000);
	ctx.rflags |= BIT_ULL(18);
	ASSERT_XLATE(&ctx, la, PF_W, 0xa000);
	return true;
}

static bool test_walk_pae(void)
{
	struct lapicv_emu_ctx ctx;
	struct gmem *g = fresh(&ctx, M_PAE);
	u64 slot3;

	pt_map(g, &ctx, 0xc0001000, 0x123456000ULL, 1, PRW);
	ASSERT_XLATE(&ctx, 0xc0001234, 0, 0x123456234ULL);
	/* Only bits 31:0 of the address count outside long mode. */
	ASSERT_XLATE(&ctx, 0xffffffffc0001234ULL, 0, 0x123456234ULL);
	pt_map(g, &ctx, 0x40200000, 0x7fe00000, 2, PRW | NX);
	ASSERT_XLATE(&ctx, 0x40212345, 0, 0x7fe12345);
	ASSERT_PF(&ctx, 0x40212345, PF_F, PF_P | PF_F);
	/* PDPTE index is bits 31:30; the other three are not present. */
	ASSERT_PF(&ctx, 0x00001000, 0, 0);
	ASSERT_PF(&ctx, 0x80001000, PF_W, PF_W);
	/*
	 * The walk looks at a PDPTE's P alone, as KVM's: its reserved bits
	 * (1, 2, 5..8, NX) are load_pdptrs()'s business (test_pdptrs), and
	 * QEMU's TCG sets bit 5 as it walks.  R/W and U/S carry no rights.
	 */
	slot3 = pt_slot(g, &ctx, 0xc0001000, 3);
	gmem_write_le(g, slot3, gmem_read_le(g, slot3, 8) | BIT_ULL(1) |
		      BIT_ULL(5) | NX, 8);
	ASSERT_XLATE(&ctx, 0xc0001234, PF_U | PF_W, 0x123456234ULL);
	ASSERT_XLATE(&ctx, 0xc0001234, PF_F, 0x123456234ULL);
	/* Large-page reserved bits, and bits 62:MAXPHYADDR in PAE. */
	pt_map(g, &ctx, 0x40400000, 0x200000 | BIT_ULL(13), 2, PRW);
	ASSERT_PF(&ctx, 0x40400000, 0, PF_R | PF_P);
	pt_map(g, &ctx, 0x40600000, 0x200000 | BIT_ULL(55), 2, PRW);
	ASSERT_PF(&ctx, 0x40600000, 0, PF_R | PF_P);
	return true;
}

static bool test_walk_32bit(void)
{
	struct lapicv_emu_ctx ctx;
	struct gmem *g = fresh(&ctx, M_PAGED32);
	u64 slot2;

	pt_map(g, &ctx, 0x08048000, 0x00345000, 1, PRW);
	ASSERT_XLATE(&ctx, 0x08048abc, 0, 0x00345abc);
	/* 4 MiB page with PSE; PSE-36 bits 16:13 are address bits 35:32. */
	pt_map(g, &ctx, 0xfec00000, 0xfec00000 | (0xdULL << 13), 2, PRW);
	ASSERT_XLATE(&ctx, 0xfee00020, 0, 0xdfee00020ULL);
	pt_map(g, &ctx, 0xfec00000, 0xfec00000 | BIT_ULL(21), 2, PRW);
	ASSERT_PF(&ctx, 0xfee00020, PF_W, PF_R | PF_P | PF_W);
	pt_map(g, &ctx, 0xfec00000, 0xfec00000 | BIT_ULL(17), 2, PRW);
	ASSERT_PF(&ctx, 0xfee00020, 0, PF_R | PF_P);
	/* No NX in 32-bit paging: fetches are never I/D faults without SMEP. */
	pt_map(g, &ctx, 0xfec00000, 0xfec00000, 2, P);
	ASSERT_PF(&ctx, 0xfee00020, PF_F | PF_U, PF_P | PF_U);
	/*
	 * PS on a PDE that points to the table at 0x101000: with CR4.PSE
	 * a 4 MiB page with bit 20 (reserved) set; without, PS is ignored.
	 */
	slot2 = pt_slot(g, &ctx, 0x08048000, 2);
	ASSERT_EQ(gmem_read_le(g, slot2, 4), 0x101000 | PRW);
	gmem_write_le(g, slot2, gmem_read_le(g, slot2, 4) | PS, 4);
	ASSERT_PF(&ctx, 0x08048abc, 0, PF_R | PF_P);
	ctx.cr4 &= ~CR4_PSE;
	ASSERT_XLATE(&ctx, 0x08048abc, 0, 0x00345abc);
	ASSERT_FALSE(g->contract_broken);
	return true;
}

static bool test_walk_paging_off(void)
{
	struct lapicv_emu_ctx ctx;

	fresh(&ctx, M_REAL);
	ASSERT_XLATE(&ctx, 0x9a000, PF_F, 0x9a000);
	ASSERT_XLATE(&ctx, 0x1fee00020ULL, PF_W, 0xfee00020);
	fresh(&ctx, M_PROT32);
	ASSERT_XLATE(&ctx, 0xfee00020, PF_W | PF_U, 0xfee00020);
	return true;
}

/* ---- fetch ---- */

static bool test_fetch_across_pages(void)
{
	static const u8 code[] = { 0x8b, 0x04, 0x25, 0x20, 0x00, 0xe0, 0xfe };
	struct lapicv_emu_fetch f;
	struct lapicv_emu_ctx ctx;
	struct gmem *g = fresh(&ctx, M_LONG4);
	unsigned int i;

	/* Two adjacent linear pages on unrelated physical pages. */
	pt_map(g, &ctx, 0x400000, 0x9000, 1, PRW);
	pt_map(g, &ctx, 0x401000, 0x3000, 1, PRW);
	gmem_write(g, 0x9ffd, code, 3);
	gmem_write(g, 0x3000, code + 3, 4);
	gmem_write(g, 0x3004, "\x90\x90\x90\x90\x90\x90\x90\x90\x90\x90", 10);
	ctx.rip = 0x400ffd;
	ASSERT_EQ(lapicv_emu_fetch(&ctx, &f), LAPICV_EMU_OK);
	ASSERT_EQ(f.len, 15);
	for (i = 0; i < sizeof(code); i++)
		ASSERT_EQ(f.bytes[i], code[i]);
	ASSERT_EQ(f.bytes[14], 0x90);

	/* Second page not present: 3 bytes and the #PF of the next. */
	pt_set(g, &ctx, 0x401000, 1, 0);
	ASSERT_EQ(lapicv_emu_fetch(&ctx, &f), LAPICV_EMU_OK);
	ASSERT_EQ(f.len, 3);
	ASSERT_EQ(f.tail, LAPICV_EMU_FAULT);
	ASSERT_EQ(f.fault.vector, LAPICV_EMU_PF_VECTOR);
	ASSERT_EQ(f.fault.address, 0x401000);
	ASSERT_EQ(f.fault.error_code, PF_F);
	ctx.cpl = 3;
	ASSERT_EQ(lapicv_emu_fetch(&ctx, &f), LAPICV_EMU_OK);
	ASSERT_EQ(f.fault.error_code, PF_F | PF_U);
	ctx.cpl = 0;
	/* First byte not present: the fault itself. */
	ctx.rip = 0x401000;
	ASSERT_EQ(lapicv_emu_fetch(&ctx, &f), LAPICV_EMU_FAULT);
	ASSERT_EQ(f.len, 0);
	/* Mapped but outside guest memory: cannot emulate. */
	pt_map(g, &ctx, 0x401000, 0x7700000, 1, PRW);
	ctx.rip = 0x400ffd;
	ASSERT_EQ(lapicv_emu_fetch(&ctx, &f), LAPICV_EMU_OK);
	ASSERT_EQ(f.len, 3);
	ASSERT_EQ(f.tail, LAPICV_EMU_UNHANDLED);
	/* Three reads per page at most: one run per page, not per byte. */
	g->reads = 0;
	ctx.rip = 0x400100;
	ASSERT_EQ(lapicv_emu_fetch(&ctx, &f), LAPICV_EMU_OK);
	ASSERT_EQ(f.len, 15);
	ASSERT_EQ(g->reads, 5);		/* four levels, then the bytes */
	ASSERT_FALSE(g->contract_broken);
	return true;
}

static bool test_fetch_real_mode_and_wraps(void)
{
	struct lapicv_emu_fetch f;
	struct lapicv_emu_ctx ctx;
	struct gmem *g = fresh(&ctx, M_REAL);

	/* After SIPI with vector 0x9a: CS base 0x9a000, IP 0. */
	gmem_write(g, 0x9a000, "\x0f\x32\xf4", 3);
	ctx.seg_base[LAPICV_EMU_CS] = 0x9a000;
	ctx.rip = 0;
	ASSERT_EQ(lapicv_emu_fetch(&ctx, &f), LAPICV_EMU_OK);
	ASSERT_EQ(f.bytes[0], 0x0f);
	ASSERT_EQ(f.bytes[1], 0x32);
	/*
	 * 16-bit IP wraps from 0xffff to 0 within the segment, in the
	 * middle of a page.
	 */
	ctx.seg_base[LAPICV_EMU_CS] = 0x10800;
	gmem_write(g, 0x207fe, "\xaa\xbb\xee", 3);
	gmem_write(g, 0x10800, "\xcc\xdd", 2);
	ctx.rip = 0xfffe;
	ASSERT_EQ(lapicv_emu_fetch(&ctx, &f), LAPICV_EMU_OK);
	ASSERT_EQ(f.len, 15);
	ASSERT_EQ(f.bytes[1], 0xbb);
	ASSERT_EQ(f.bytes[2], 0xcc);
	ASSERT_EQ(f.bytes[3], 0xdd);
	ASSERT_EQ(lapicv_emu_next_rip(&ctx, 3), 1);
	/* 32-bit: base + EIP wraps at 4 GiB. */
	ctx.cs_db = true;
	ctx.cr0 = CR0_PE;
	ctx.seg_base[LAPICV_EMU_CS] = 0xfffff000;
	gmem_write(g, 0xfffffffe, "\x11\x22", 2);
	gmem_write(g, 0x0, "\x33", 1);
	ctx.rip = 0xffe;
	ASSERT_EQ(lapicv_emu_fetch(&ctx, &f), LAPICV_EMU_OK);
	ASSERT_EQ(f.bytes[1], 0x22);
	ASSERT_EQ(f.bytes[2], 0x33);
	ctx.rip = 0xfffffffe;
	ASSERT_EQ(lapicv_emu_next_rip(&ctx, 5), 3);
	/* 64-bit RIP does not wrap at 32 bits. */
	fresh(&ctx, M_LONG4);
	ctx.rip = 0xfffffffe;
	ASSERT_EQ(lapicv_emu_next_rip(&ctx, 5), 0x100000003ULL);
	/* Outside guest memory from the first byte. */
	g = fresh(&ctx, M_REAL);
	ctx.rip = 0x5000;
	ASSERT_EQ(lapicv_emu_fetch(&ctx, &f), LAPICV_EMU_UNHANDLED);
	ASSERT_FALSE(g->contract_broken);
	return true;
}

static bool test_fetch_noncanonical_64(void)
{
	struct lapicv_emu_fetch f;
	struct lapicv_emu_ctx ctx;
	struct gmem *g = fresh(&ctx, M_LONG4);

	pt_map(g, &ctx, 0x00007ffffffff000ULL, 0x6000, 1, PRW);
	gmem_write(g, 0x6ffe, "\x0f\x01", 2);
	ctx.rip = 0x00007ffffffffffeULL;
	ASSERT_EQ(lapicv_emu_fetch(&ctx, &f), LAPICV_EMU_OK);
	ASSERT_EQ(f.len, 2);
	ASSERT_EQ(f.tail, LAPICV_EMU_FAULT);
	ASSERT_EQ(f.fault.vector, LAPICV_EMU_GP_VECTOR);
	return true;
}

/* ---- the decoders on the vectors ---- */

static u64 vregs[16];

/* Distinct values with bits set in every byte. */
static void init_vregs(void)
{
	unsigned int i;

	for (i = 0; i < 16; i++)
		vregs[i] = 0x9e3779b97f4a7c15ULL * (i + 1);
}

static void vector_ctx(struct lapicv_emu_ctx *ctx, const struct emu_vector *v)
{
	fresh(ctx, v->mode == 64 ? M_LONG4 : v->mode == 32 ? M_PROT32 : M_REAL);
	ctx->rip = v->mode == 16 ? 0xfff0 : 0x0000000012345000ULL;
	init_vregs();
}

static void vector_fetch(struct lapicv_emu_fetch *f, const struct emu_vector *v,
			 unsigned int len, enum lapicv_emu_status tail)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->bytes, v->bytes, min_t(unsigned int, len, 15));
	f->len = min_t(unsigned int, len, 15);
	f->tail = tail;
	f->fault.vector = LAPICV_EMU_PF_VECTOR;
	f->fault.address = 0x1234;
}

static u64 expect_gva(const struct lapicv_emu_ctx *ctx,
		      const struct emu_vector *v)
{
	u64 ea = v->disp, amask = v->adsize == 8 ? ~0ULL :
				  (1ULL << (8 * v->adsize)) - 1;

	if (v->base == V_RIP)
		ea += lapicv_emu_next_rip(ctx, v->len);
	else if (v->base >= 0)
		ea += vregs[v->base];
	if (v->index >= 0)
		ea += vregs[v->index] << v->scale;
	ea &= amask;
	if (v->mode != 64)
		return (ctx->seg_base[v->seg] + ea) & 0xffffffffULL;
	if (v->seg == LAPICV_EMU_FS || v->seg == LAPICV_EMU_GS)
		return ctx->seg_base[v->seg] + ea;
	return ea;
}

static bool check_vector(const struct emu_vector *v)
{
	enum lapicv_emu_status want_mov, want_skip, want_cr;
	struct lapicv_emu_ctx ctx;
	struct lapicv_emu_fetch f;
	enum lapicv_emu_insn insn;
	struct lapicv_emu_mov m;
	struct lapicv_emu_cr cr;
	unsigned int len, k;

	vector_ctx(&ctx, v);
	vector_fetch(&f, v, v->len, LAPICV_EMU_FAULT);
	want_mov = v->kind == K_MOV ? LAPICV_EMU_OK : LAPICV_EMU_UNHANDLED;
	want_skip = v->kind == K_SKIP ? LAPICV_EMU_OK : LAPICV_EMU_UNHANDLED;
	want_cr = v->kind == K_CR ? LAPICV_EMU_OK : LAPICV_EMU_UNHANDLED;

	/* Exactly the instruction's bytes, a fault behind them. */
	ASSERT_EQ(lapicv_emu_decode_mov(&ctx, &f, vregs, &m), want_mov);
	ASSERT_EQ(lapicv_emu_decode_skip(&ctx, &f, &insn, &len), want_skip);
	ASSERT_EQ(lapicv_emu_decode_cr(&ctx, &f, vregs, &cr), want_cr);
	if (v->kind == K_CR) {
		bool mem = v->base != -1 || v->index != -1 || v->disp;

		ASSERT_EQ(cr.len, v->len);
		ASSERT_EQ(cr.op, v->op);
		ASSERT_EQ(cr.cr, v->cr);
		ASSERT_EQ(cr.size, v->size);
		ASSERT_EQ(cr.mem, mem);
		if (mem) {
			ASSERT_EQ(cr.seg, v->seg);
			ASSERT_EQ(cr.gva, expect_gva(&ctx, v));
		} else if (v->op != LAPICV_EMU_CR_CLTS) {
			ASSERT_EQ(cr.reg, v->reg);
		}
	}
	if (v->kind == K_MOV) {
		ASSERT_EQ(m.len, v->len);
		ASSERT_EQ(m.op, v->op);
		ASSERT_EQ(m.size, v->size);
		ASSERT_EQ(m.reg_size, v->reg_size);
		ASSERT_EQ(m.reg, v->reg);
		ASSERT_EQ(m.high8, v->high8);
		ASSERT_EQ(m.sign_extend, v->sign);
		ASSERT_EQ(m.seg, v->seg);
		ASSERT_EQ(m.alu, v->alu);
		ASSERT_EQ(m.src_imm, v->src_imm);
		if (v->op == LAPICV_EMU_MOV_STORE_IMM || v->src_imm)
			ASSERT_EQ(m.imm, v->imm);
		ASSERT_EQ(m.gva, expect_gva(&ctx, v));
	}
	if (v->kind == K_SKIP) {
		ASSERT_EQ(insn, v->op);
		ASSERT_EQ(len, v->len);
	}
	/* Cut short: the fault behind the cut, never a decode. */
	for (k = 0; v->kind != K_NONE && k < v->len; k++) {
		vector_fetch(&f, v, k, LAPICV_EMU_FAULT);
		if (v->kind == K_MOV)
			ASSERT_EQ(lapicv_emu_decode_mov(&ctx, &f, vregs, &m),
				  LAPICV_EMU_FAULT);
		else if (v->kind == K_CR)
			ASSERT_EQ(lapicv_emu_decode_cr(&ctx, &f, vregs, &cr),
				  LAPICV_EMU_FAULT);
		else
			ASSERT_EQ(lapicv_emu_decode_skip(&ctx, &f, &insn, &len),
				  LAPICV_EMU_FAULT);
		vector_fetch(&f, v, k, LAPICV_EMU_UNHANDLED);
		ASSERT_EQ(lapicv_emu_decode_cr(&ctx, &f, vregs, &cr),
			  LAPICV_EMU_UNHANDLED);
		ASSERT_EQ(lapicv_emu_decode_mov(&ctx, &f, vregs, &m),
			  LAPICV_EMU_UNHANDLED);
		ASSERT_EQ(lapicv_emu_decode_skip(&ctx, &f, &insn, &len),
			  LAPICV_EMU_UNHANDLED);
	}
	return true;
}

static bool test_vectors_decode(void)
{
	unsigned int i, counts[4] = { 0 };

	ASSERT_GT(emu_nr_vectors, 6000);
	for (i = 0; i < emu_nr_vectors; i++) {
		const struct emu_vector *v = &emu_vectors[i];

		if (!check_vector(v)) {
			printf("vector %u: %s\n", i, v->text);
			return false;
		}
		counts[v->kind]++;
	}
	printf("# %u MOV, %u skip, %u CR, %u refused vectors\n",
	       counts[K_MOV], counts[K_SKIP], counts[K_CR], counts[K_NONE]);
	ASSERT_GT(counts[K_MOV], 5000);
	ASSERT_GT(counts[K_SKIP], 300);
	ASSERT_GT(counts[K_NONE], 60);
	ASSERT_GT(counts[K_CR], 300);
	return true;
}

/*
 * Every vector at every split across a page boundary, through the fetch:
 * with the second page mapped it decodes as from a flat buffer; without
 * it, the #PF on the second page if the instruction extends there.
 */
static bool check_vector_split(const struct emu_vector *v)
{
	unsigned int len = min_t(unsigned int, v->len, 15), k;
	struct lapicv_emu_fault fault;
	struct lapicv_emu_ctx ctx;
	struct lapicv_emu_fetch f;
	struct lapicv_emu_mov m, want;
	enum lapicv_emu_status st;
	unsigned int skip_len;
	struct gmem *g;
	u64 page2;

	for (k = 1; k <= len; k++) {
		bool mapped;

		for (mapped = false; ; mapped = true) {
			int mode = v->mode == 64 ? M_LONG4 :
				   v->mode == 32 ? M_PAGED32 : M_REAL;
			u64 gpa1 = 0x5000, gpa2 = 0x2000;

			g = fresh(&ctx, mode);
			if (mode == M_REAL) {
				/* Paging off: the second page is guest memory or not. */
				gpa1 = 0x2000;
				gpa2 = 0x3000;
				ctx.seg_base[LAPICV_EMU_CS] = 0x2000;
				ctx.rip = 0x1000 - k;
				if (mapped)
					gmem_page(g, gpa2, true);
			} else {
				ctx.rip = 0x7ff000 - k;
				pt_map(g, &ctx, 0x7fe000, gpa1, 1, PRW);
				if (mapped)
					pt_map(g, &ctx, 0x7ff000, gpa2, 1, PRW);
				if (mode == M_PAGED32)
					ctx.rip -= ctx.seg_base[LAPICV_EMU_CS];
			}
			page2 = mode == M_REAL ? 0x3000 : 0x7ff000;
			gmem_write(g, gpa1 + 0x1000 - k, v->bytes, k);
			gmem_page(g, gpa1, true);
			if (mapped)
				gmem_write(g, gpa2, v->bytes + k, len - k);
			init_vregs();
			st = lapicv_emu_mov(&ctx, vregs, &m, &fault);
			if (v->kind == K_MOV) {
				struct lapicv_emu_fetch flat;

				vector_fetch(&flat, v, v->len, LAPICV_EMU_FAULT);
				ASSERT_EQ(lapicv_emu_decode_mov(&ctx, &flat, vregs,
								&want),
					  LAPICV_EMU_OK);
				if (mapped || k == len) {
					ASSERT_EQ(st, LAPICV_EMU_OK);
					ASSERT_EQ(memcmp(&m, &want, sizeof(m)), 0);
				} else if (mode == M_REAL) {
					ASSERT_EQ(st, LAPICV_EMU_UNHANDLED);
				} else {
					ASSERT_EQ(st, LAPICV_EMU_FAULT);
					ASSERT_EQ(fault.vector, LAPICV_EMU_PF_VECTOR);
					ASSERT_EQ(fault.address, page2);
					ASSERT_EQ(fault.error_code,
						  mode == M_LONG4 ? PF_F : 0);
				}
			} else {
				ASSERT_NE(st, LAPICV_EMU_OK);
			}
			if (v->kind == K_CR) {
				struct lapicv_emu_fetch flat;
				struct lapicv_emu_cr cr, want_cr;

				vector_fetch(&flat, v, v->len, LAPICV_EMU_FAULT);
				ASSERT_EQ(lapicv_emu_decode_cr(&ctx, &flat, vregs,
							       &want_cr),
					  LAPICV_EMU_OK);
				lapicv_emu_fetch(&ctx, &f);
				st = lapicv_emu_decode_cr(&ctx, &f, vregs, &cr);
				if (mapped || k == len) {
					ASSERT_EQ(st, LAPICV_EMU_OK);
					ASSERT_EQ(memcmp(&cr, &want_cr, sizeof(cr)), 0);
				} else {
					ASSERT_EQ(st, mode == M_REAL ?
						  LAPICV_EMU_UNHANDLED :
						  LAPICV_EMU_FAULT);
				}
			}
			if (v->kind == K_SKIP) {
				st = lapicv_emu_skip_len(&ctx, v->op, &skip_len,
							 &fault);
				if (mapped || k == len) {
					ASSERT_EQ(st, LAPICV_EMU_OK);
					ASSERT_EQ(skip_len, v->len);
				} else {
					ASSERT_EQ(st, mode == M_REAL ?
						  LAPICV_EMU_UNHANDLED :
						  LAPICV_EMU_FAULT);
				}
			}
			lapicv_emu_fetch(&ctx, &f);
			ASSERT_FALSE(g->contract_broken);
			if (mapped)
				break;
		}
	}
	return true;
}

static bool test_vectors_across_pages(void)
{
	unsigned int i;

	for (i = 0; i < emu_nr_vectors; i++) {
		const struct emu_vector *v = &emu_vectors[i];

		/* Every fifth of the numerous addressing forms is enough. */
		if (v->kind == K_MOV && i % 5 && v->index >= 0)
			continue;
		if (!check_vector_split(v)) {
			printf("vector %u: %s\n", i, v->text);
			return false;
		}
	}
	return true;
}

/* ---- skip-length helper ---- */

static bool test_skip_len_wants_the_exit_instruction(void)
{
	struct lapicv_emu_fault fault;
	struct lapicv_emu_ctx ctx;
	struct gmem *g = fresh(&ctx, M_LONG4);
	unsigned int len = 99;

	pt_map(g, &ctx, 0x400000, 0x9000, 1, PRW);
	gmem_write(g, 0x9010, "\x0f\x32", 2);	/* rdmsr */
	ctx.rip = 0x400010;
	ASSERT_EQ(lapicv_emu_skip_len(&ctx, LAPICV_EMU_INSN_RDMSR, &len, &fault),
		  LAPICV_EMU_OK);
	ASSERT_EQ(len, 2);
	/* The exit said WRMSR: the bytes changed under us. */
	len = 99;
	ASSERT_EQ(lapicv_emu_skip_len(&ctx, LAPICV_EMU_INSN_WRMSR, &len, &fault),
		  LAPICV_EMU_UNHANDLED);
	/* RIP on an unmapped page. */
	ctx.rip = 0x500000;
	ASSERT_EQ(lapicv_emu_skip_len(&ctx, LAPICV_EMU_INSN_RDMSR, &len, &fault),
		  LAPICV_EMU_FAULT);
	ASSERT_EQ(fault.vector, LAPICV_EMU_PF_VECTOR);
	ASSERT_EQ(fault.address, 0x500000);
	return true;
}

/*
 * AltMovCr8 is the CPU's: without it LOCK MOV CR0 is #UD, not an
 * instruction to emulate.
 */
static bool test_cr8_alias_needs_the_feature(void)
{
	/* as: lock mov %ecx,%cr0 (f0 0f 22 c1) */
	static const u8 bytes[] = { 0xf0, 0x0f, 0x22, 0xc1 };
	struct lapicv_emu_fetch f = { .len = sizeof(bytes) };
	struct lapicv_emu_ctx ctx;
	struct lapicv_emu_cr cr;

	memcpy(f.bytes, bytes, sizeof(bytes));
	fresh(&ctx, M_PROT32);
	ASSERT_EQ(lapicv_emu_decode_cr(&ctx, &f, vregs, &cr), LAPICV_EMU_OK);
	ASSERT_EQ(cr.cr, 8);
	ctx.features &= ~LAPICV_EMU_F_CR8_LEGACY;
	ASSERT_EQ(lapicv_emu_decode_cr(&ctx, &f, vregs, &cr),
		  LAPICV_EMU_UNHANDLED);
	return true;
}

/* LMSW's memory operand, read across a page boundary. */
static bool test_read_linear_across_pages(void)
{
	struct lapicv_emu_fault fault;
	struct lapicv_emu_ctx ctx;
	struct gmem *g;
	u8 buf[2];

	g = fresh(&ctx, M_LONG4);
	pt_map(g, &ctx, 0x600000, 0xa000, 1, PRW);
	pt_map(g, &ctx, 0x601000, 0xb000, 1, PRW);
	gmem_write(g, 0xafff, "\x3b", 1);
	gmem_write(g, 0xb000, "\xc1", 1);
	ASSERT_EQ(lapicv_emu_read_linear(&ctx, 0x600fff, buf, 2, &fault),
		  LAPICV_EMU_OK);
	ASSERT_EQ(buf[0], 0x3b);
	ASSERT_EQ(buf[1], 0xc1);
	ASSERT_EQ(lapicv_emu_read_linear(&ctx, 0x601fff, buf, 2, &fault),
		  LAPICV_EMU_FAULT);
	ASSERT_EQ(fault.vector, LAPICV_EMU_PF_VECTOR);
	ASSERT_EQ(fault.address, 0x602000);
	return true;
}

/* SMSW's memory operand: both pages checked before either is written. */
static bool test_write_linear(void)
{
	struct lapicv_emu_fault fault;
	struct lapicv_emu_ctx ctx;
	struct gmem *g;

	g = fresh(&ctx, M_LONG4);
	pt_map(g, &ctx, 0x600000, 0xa000, 1, PRW);
	pt_map(g, &ctx, 0x601000, 0xb000, 1, PRW);
	pt_map(g, &ctx, 0x602000, 0xc000, 1, P | US);	/* read-only */
	gmem_page(g, 0xa000, true);
	gmem_page(g, 0xb000, true);
	gmem_page(g, 0xc000, true);
	ASSERT_EQ(lapicv_emu_write_linear(&ctx, 0x600fff, "\x11\x22", 2,
					  &fault), LAPICV_EMU_OK);
	ASSERT_EQ(gmem_read_le(g, 0xafff, 1), 0x11);
	ASSERT_EQ(gmem_read_le(g, 0xb000, 1), 0x22);
	/* CR0.WP: the read-only second page faults, the first is kept. */
	gmem_write_le(g, 0xbfff, 0x33, 1);
	ASSERT_EQ(lapicv_emu_write_linear(&ctx, 0x601fff, "\x44\x55", 2,
					  &fault), LAPICV_EMU_FAULT);
	ASSERT_EQ(fault.vector, LAPICV_EMU_PF_VECTOR);
	ASSERT_EQ(fault.address, 0x602000);
	ASSERT_EQ(fault.error_code, PF_P | PF_W);
	ASSERT_EQ(gmem_read_le(g, 0xbfff, 1), 0x33);
	/* User mode: a user page, the same bytes. */
	ctx.cpl = 3;
	ASSERT_EQ(lapicv_emu_write_linear(&ctx, 0x600ffe, "\x66\x77", 2,
					  &fault), LAPICV_EMU_OK);
	ASSERT_EQ(gmem_read_le(g, 0xaffe, 2), 0x7766);
	/* Outside guest memory, or nowhere to write: not emulated. */
	pt_map(g, &ctx, 0x603000, 0xfee00000, 1, PRW);
	ASSERT_EQ(lapicv_emu_write_linear(&ctx, 0x603000, "\x01\x02", 2,
					  &fault), LAPICV_EMU_UNHANDLED);
	ctx.write = NULL;
	ASSERT_EQ(lapicv_emu_write_linear(&ctx, 0x600000, "\x01\x02", 2,
					  &fault), LAPICV_EMU_UNHANDLED);
	ASSERT_FALSE(g->contract_broken);
	return true;
}

/* KVM's load_pdptrs(): the four PDPTEs at CR3[51:5] and their reserved bits. */
static bool test_pdptrs(void)
{
	static const u64 reserved[] = {
		BIT_ULL(1), BIT_ULL(2), BIT_ULL(5), BIT_ULL(8), BIT_ULL(46),
		BIT_ULL(51), BIT_ULL(62), BIT_ULL(63),
	};
	struct lapicv_emu_ctx ctx;
	struct gmem *g = fresh(&ctx, M_PAE);
	u64 pdpt = ctx.cr3 & ~0x1fULL;
	unsigned int i;

	/* ctx_init: a fresh, zeroed PDPT at offset 0x20 of its page. */
	ASSERT_EQ(ctx.cr3 & 0xfff, 0x20);
	ASSERT_TRUE(lapicv_emu_pdptrs_valid(&ctx, ctx.cr3));
	gmem_write_le(g, pdpt + 24, 0x5000 | P | BIT_ULL(9) | BIT_ULL(3) |
		      BIT_ULL(4) | BIT_ULL(45), 8);
	ASSERT_TRUE(lapicv_emu_pdptrs_valid(&ctx, ctx.cr3));
	for (i = 0; i < ARRAY_SIZE(reserved); i++) {
		gmem_write_le(g, pdpt + 8, 0x6000 | P | reserved[i], 8);
		ASSERT_FALSE(lapicv_emu_pdptrs_valid(&ctx, ctx.cr3));
		/* Not present: its other bits are not looked at. */
		gmem_write_le(g, pdpt + 8, 0x6000 | reserved[i], 8);
		ASSERT_TRUE(lapicv_emu_pdptrs_valid(&ctx, ctx.cr3));
	}
	/* CR3's low five bits are no part of the address. */
	gmem_write_le(g, pdpt + 8, P | BIT_ULL(1), 8);
	ASSERT_FALSE(lapicv_emu_pdptrs_valid(&ctx, ctx.cr3 | 0x18));
	/* Another 32 bytes of the page, and MAXPHYADDR from the context. */
	ASSERT_TRUE(lapicv_emu_pdptrs_valid(&ctx, pdpt + 0x40));
	gmem_write_le(g, pdpt + 0x40, P | BIT_ULL(40), 8);
	ASSERT_TRUE(lapicv_emu_pdptrs_valid(&ctx, pdpt + 0x40));
	ctx.maxphyaddr = 40;
	ASSERT_FALSE(lapicv_emu_pdptrs_valid(&ctx, pdpt + 0x40));
	/* A PDPT outside guest memory. */
	ASSERT_FALSE(lapicv_emu_pdptrs_valid(&ctx, 0x7fff000));
	ASSERT_FALSE(lapicv_emu_pdptrs_valid(&ctx, BIT_ULL(52) | pdpt));
	return true;
}

/* ---- applying results ---- */

static struct lapicv_emu_mov load(u8 size, u8 reg_size, u8 reg, bool high8,
				  bool sign)
{
	struct lapicv_emu_mov m = {
		.op = LAPICV_EMU_MOV_LOAD, .size = size, .reg_size = reg_size,
		.reg = reg, .high8 = high8, .sign_extend = sign,
	};
	return m;
}

/* Register reg, holding 0x1122334455667788, after m loads data. */
static u64 load_into(struct lapicv_emu_mov m, u64 data, u64 *regs)
{
	memset(regs, 0, 16 * sizeof(*regs));
	regs[m.reg] = 0x1122334455667788ULL;
	lapicv_emu_mov_load_result(&m, regs, data);
	return regs[m.reg];
}

static bool test_load_result_extension_rules(void)
{
	const u64 data = 0xdeadbeefcafe8081ULL;
	u64 regs[16];

	/* MOV: 8 writes all, 4 clears 63:32, 2 and 1 merge. */
	ASSERT_EQ(load_into(load(8, 8, 3, false, false), data, regs), data);
	ASSERT_EQ(load_into(load(4, 4, 3, false, false), data, regs), 0xcafe8081ULL);
	ASSERT_EQ(load_into(load(2, 2, 15, false, false), data, regs),
		  0x1122334455668081ULL);
	ASSERT_EQ(load_into(load(1, 1, 6, false, false), data, regs),
		  0x1122334455667781ULL);
	/* AH..BH: bits 15:8 of register 0..3; CH here, RBP untouched. */
	ASSERT_EQ(load_into(load(1, 1, 1, true, false), data, regs),
		  0x1122334455668188ULL);
	ASSERT_EQ(regs[5], 0);
	/* MOVZX. */
	ASSERT_EQ(load_into(load(1, 4, 2, false, false), data, regs), 0x81);
	ASSERT_EQ(load_into(load(2, 8, 2, false, false), data, regs), 0x8081);
	ASSERT_EQ(load_into(load(1, 2, 2, false, false), data, regs),
		  0x1122334455660081ULL);
	/* MOVSX, MOVSXD. */
	ASSERT_EQ(load_into(load(1, 4, 2, false, true), data, regs), 0xffffff81ULL);
	ASSERT_EQ(load_into(load(2, 8, 2, false, true), data, regs),
		  0xffffffffffff8081ULL);
	ASSERT_EQ(load_into(load(1, 2, 2, false, true), data, regs),
		  0x112233445566ff81ULL);
	ASSERT_EQ(load_into(load(4, 8, 2, false, true), data, regs),
		  0xffffffffcafe8081ULL);
	ASSERT_EQ(load_into(load(1, 8, 2, false, true), data, regs),
		  0xffffffffffffff81ULL);
	/* Positive values extend with zeros. */
	ASSERT_EQ(load_into(load(2, 8, 4, false, true), 0x7fff, regs), 0x7fff);
	return true;
}

static bool test_store_value(void)
{
	u64 regs[16] = { 0 };
	struct lapicv_emu_mov m = { .op = LAPICV_EMU_MOV_STORE };

	regs[3] = 0x1122334455667788ULL;
	regs[11] = 0xffffffff80000001ULL;
	m.reg = 3;
	m.size = 4;
	ASSERT_EQ(lapicv_emu_mov_store_value(&m, regs), 0x55667788);
	m.size = 2;
	ASSERT_EQ(lapicv_emu_mov_store_value(&m, regs), 0x7788);
	m.size = 1;
	ASSERT_EQ(lapicv_emu_mov_store_value(&m, regs), 0x88);
	m.high8 = true;		/* BH */
	ASSERT_EQ(lapicv_emu_mov_store_value(&m, regs), 0x77);
	m.high8 = false;
	m.reg = 11;
	m.size = 8;
	ASSERT_EQ(lapicv_emu_mov_store_value(&m, regs), 0xffffffff80000001ULL);
	m.op = LAPICV_EMU_MOV_STORE_IMM;
	m.size = 2;
	m.imm = 0xabcd;
	ASSERT_EQ(lapicv_emu_mov_store_value(&m, regs), 0xabcd);
	return true;
}

/* ---- the ALU against the host CPU's own instructions ---- */

#define HOST_FLAGS	0x8d5ULL	/* CF, PF, AF, ZF, SF, OF */

/*
 * host_<insn>(): the instruction on d with s, from the flags f0; returns
 * the destination after it, *f the flags.  ops: its operands, sized by
 * the operand modifiers.  The push and pop stay below the red zone.
 */
#define OPS_B	"%b[src], %b[dst]"
#define OPS_W	"%w[src], %w[dst]"
#define OPS_L	"%k[src], %k[dst]"
#define OPS_Q	"%q[src], %q[dst]"
#define HOST_FN(insn, ops)						\
static u64 host_##insn(u64 d, u64 s, u64 f0, u64 *f)			\
{									\
	asm volatile("sub $128, %%rsp\n\tpush %[fl]\n\tpopf\n\t"		\
		     #insn " " ops "\n\t"					\
		     "pushf\n\tpop %[fl]\n\tadd $128, %%rsp"			\
		     : [dst] "+r" (d), [fl] "=&r" (*f)			\
		     : [src] "r" (s), "[fl]" (f0) : "cc");		\
	return d;							\
}

HOST_FN(addb, OPS_B)
HOST_FN(addw, OPS_W)
HOST_FN(addl, OPS_L)
HOST_FN(addq, OPS_Q)
HOST_FN(orb, OPS_B)
HOST_FN(orw, OPS_W)
HOST_FN(orl, OPS_L)
HOST_FN(orq, OPS_Q)
HOST_FN(andb, OPS_B)
HOST_FN(andw, OPS_W)
HOST_FN(andl, OPS_L)
HOST_FN(andq, OPS_Q)
HOST_FN(subb, OPS_B)
HOST_FN(subw, OPS_W)
HOST_FN(subl, OPS_L)
HOST_FN(subq, OPS_Q)
HOST_FN(xorb, OPS_B)
HOST_FN(xorw, OPS_W)
HOST_FN(xorl, OPS_L)
HOST_FN(xorq, OPS_Q)
HOST_FN(cmpb, OPS_B)
HOST_FN(cmpw, OPS_W)
HOST_FN(cmpl, OPS_L)
HOST_FN(cmpq, OPS_Q)
HOST_FN(testb, OPS_B)
HOST_FN(testw, OPS_W)
HOST_FN(testl, OPS_L)
HOST_FN(testq, OPS_Q)

typedef u64 (*host_fn)(u64 d, u64 s, u64 f0, u64 *f);

/* By operation (as the test's alus[] lists them), then size 1, 2, 4, 8. */
static const host_fn host_fns[7][4] = {
	{ host_addb, host_addw, host_addl, host_addq },
	{ host_orb, host_orw, host_orl, host_orq },
	{ host_andb, host_andw, host_andl, host_andq },
	{ host_subb, host_subw, host_subl, host_subq },
	{ host_xorb, host_xorw, host_xorl, host_xorq },
	{ host_cmpb, host_cmpw, host_cmpl, host_cmpq },
	{ host_testb, host_testw, host_testl, host_testq },
};

static u64 rng_state = 0x853c49e6748fea9bULL;

static u64 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Operands that reach the edges: 0, all ones, the sign bit, nibbles. */
static u64 edgy(void)
{
	static const u64 edges[] = {
		0, ~0ULL, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
		0x7fffffff, 0x80000000, 0xffffffff, 0x7fffffffffffffffULL,
		0x8000000000000000ULL, 0xf, 0x10,
	};
	u64 r = rnd();

	return r & 1 ? edges[(r >> 1) % ARRAY_SIZE(edges)] : rnd();
}

/*
 * lapicv_emu_mov_execute() for every ALU operation and size, against the
 * host CPU running the same instruction: the bytes stored and the six
 * arithmetic flags (AF too: the CPU clears it for the logical ones),
 * the other RFLAGS bits kept; CMP and TEST store nothing.
 */
static bool test_execute_alu_matches_cpu(void)
{
	static const u8 alus[] = {
		LAPICV_EMU_ALU_ADD, LAPICV_EMU_ALU_OR, LAPICV_EMU_ALU_AND,
		LAPICV_EMU_ALU_SUB, LAPICV_EMU_ALU_XOR, LAPICV_EMU_ALU_CMP,
		LAPICV_EMU_ALU_TEST,
	};
	unsigned int i, k, size;

	for (i = 0; i < 20000; i++) {
		for (k = 0; k < ARRAY_SIZE(alus); k++) {
			struct lapicv_emu_mov m = {
				.op = LAPICV_EMU_MOV_ALU, .alu = alus[k],
				.reg = rnd() % 16,
			};
			u64 regs[16], dst = edgy(), src = edgy(), want, got;
			u64 f0 = 0x202 | (rnd() & HOST_FLAGS), hf, rflags;

			size = 1 << (rnd() % 4);
			m.size = size;
			m.reg_size = size;
			memset(regs, 0, sizeof(regs));
			regs[m.reg] = src;
			if (rnd() & 1) {
				m.src_imm = true;
				m.imm = src & emu_size_mask(size);
				regs[m.reg] = rnd();
			}
			want = host_fns[k][__builtin_ctz(size)](dst, src, f0,
								&hf) &
			       emu_size_mask(size);
			rflags = f0;
			got = lapicv_emu_mov_execute(&m, regs, &rflags, dst);
			ASSERT_EQ(lapicv_emu_mov_writes(&m),
				  alus[k] != LAPICV_EMU_ALU_CMP &&
				  alus[k] != LAPICV_EMU_ALU_TEST);
			if (lapicv_emu_mov_writes(&m))
				ASSERT_EQ(got, want);
			ASSERT_EQ(rflags & HOST_FLAGS, hf & HOST_FLAGS);
			ASSERT_EQ(rflags & ~HOST_FLAGS, f0 & ~HOST_FLAGS);
		}
	}
	return true;
}

/* XCHG: memory's bytes into the register (x86's size rules), its into memory. */
static bool test_execute_xchg(void)
{
	struct lapicv_emu_mov m = {
		.op = LAPICV_EMU_MOV_XCHG, .size = 4, .reg_size = 4, .reg = 5,
	};
	u64 regs[16] = { 0 }, rflags = 0x246;

	regs[5] = 0x1122334455667788ULL;
	ASSERT_TRUE(lapicv_emu_mov_reads(&m));
	ASSERT_TRUE(lapicv_emu_mov_writes(&m));
	ASSERT_EQ(lapicv_emu_mov_execute(&m, regs, &rflags, 0xcafef00d),
		  0x55667788);
	ASSERT_EQ(regs[5], 0xcafef00d);
	ASSERT_EQ(rflags, 0x246);
	/* A byte with BH: bits 15:8 of RBX, the rest kept. */
	m.size = 1;
	m.reg_size = 1;
	m.reg = 3;
	m.high8 = true;
	regs[3] = 0xaabbccddeeff1122ULL;
	ASSERT_EQ(lapicv_emu_mov_execute(&m, regs, &rflags, 0x99), 0x11);
	ASSERT_EQ(regs[3], 0xaabbccddeeff9922ULL);
	/* 2 bytes keep bits 63:16. */
	m.size = 2;
	m.reg_size = 2;
	m.high8 = false;
	ASSERT_EQ(lapicv_emu_mov_execute(&m, regs, &rflags, 0x1234), 0x9922);
	ASSERT_EQ(regs[3], 0xaabbccddeeff1234ULL);
	return true;
}

/*
 * The whole path a runner takes for "mov %eax,0xfee000b0" (EOI) in a
 * guest with 4-level paging: fetch, decode, the GVA, its translation.
 */
static bool test_mov_to_apic_page_end_to_end(void)
{
	/* as: movl %eax,0xb0(%rbx) */
	static const u8 eoi[] = { 0x89, 0x83, 0xb0, 0x00, 0x00, 0x00 };
	struct lapicv_emu_fault fault;
	struct lapicv_emu_ctx ctx;
	struct lapicv_emu_mov m;
	struct gmem *g = fresh(&ctx, M_LONG4);
	u64 regs[16] = { 0 }, gpa;

	pt_map(g, &ctx, 0x401000, 0x8000, 1, PRW);
	pt_map(g, &ctx, 0xffffffffff5fd000ULL, 0xfee00000, 1, P | RW);
	gmem_write(g, 0x8ffa, eoi, sizeof(eoi));
	ctx.rip = 0x401ffa;
	regs[3] = 0xffffffffff5fd000ULL;
	regs[0] = 0xffffffff00000000ULL;
	ASSERT_EQ(lapicv_emu_mov(&ctx, regs, &m, &fault), LAPICV_EMU_OK);
	ASSERT_EQ(m.op, LAPICV_EMU_MOV_STORE);
	ASSERT_EQ(m.size, 4);
	ASSERT_EQ(m.len, 6);
	ASSERT_EQ(m.gva, 0xffffffffff5fd0b0ULL);
	ASSERT_EQ(lapicv_emu_translate(&ctx, m.gva, PF_W, &gpa, &fault),
		  LAPICV_EMU_OK);
	ASSERT_EQ(gpa, 0xfee000b0);
	ASSERT_EQ(lapicv_emu_mov_store_value(&m, regs), 0);
	ASSERT_EQ(lapicv_emu_next_rip(&ctx, m.len), 0x402000);
	/* A user-mode store to the supervisor mapping faults. */
	ASSERT_EQ(lapicv_emu_translate(&ctx, m.gva, PF_W | PF_U, &gpa, &fault),
		  LAPICV_EMU_FAULT);
	ASSERT_EQ(fault.error_code, PF_P | PF_W | PF_U);
	return true;
}

static const struct unit_case cases[] = {
	UNIT_CASE(test_walk_long4_4k_2m_1g),
	UNIT_CASE(test_walk_long5),
	UNIT_CASE(test_walk_not_present_error_codes),
	UNIT_CASE(test_walk_reserved_bits),
	UNIT_CASE(test_walk_permissions),
	UNIT_CASE(test_walk_pae),
	UNIT_CASE(test_walk_32bit),
	UNIT_CASE(test_walk_paging_off),
	UNIT_CASE(test_fetch_across_pages),
	UNIT_CASE(test_fetch_real_mode_and_wraps),
	UNIT_CASE(test_fetch_noncanonical_64),
	UNIT_CASE(test_vectors_decode),
	UNIT_CASE(test_vectors_across_pages),
	UNIT_CASE(test_skip_len_wants_the_exit_instruction),
	UNIT_CASE(test_cr8_alias_needs_the_feature),
	UNIT_CASE(test_read_linear_across_pages),
	UNIT_CASE(test_write_linear),
	UNIT_CASE(test_pdptrs),
	UNIT_CASE(test_load_result_extension_rules),
	UNIT_CASE(test_store_value),
	UNIT_CASE(test_execute_alu_matches_cpu),
	UNIT_CASE(test_execute_xchg),
	UNIT_CASE(test_mov_to_apic_page_end_to_end),
};

int main(int argc, char **argv)
{
	int ret = unit_run("emulate", cases, ARRAY_SIZE(cases), argc, argv);

	free(gm);
	return ret;
}
