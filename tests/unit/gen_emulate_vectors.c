// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writes emulate_vectors.s, the test vectors of test_emulate.c, to stdout.
 *
 * Each vector is an instruction in GNU as syntax, assembled by the host's
 * own assembler when the test is built, next to what the decoders must
 * make of it: the MOV decoder's operation, sizes, register, addressing
 * (base, index, scale, displacement, segment) and immediate, or the
 * instruction the length decoder must name.  The bytes come from as, the
 * expectations from the loops below: the two never come from one source.
 * A few encodings as does not produce (a prefix it would not put there)
 * are written as .byte with the instruction they spell in the text.
 *
 * Each row of the table (struct emu_vector in test_emulate.c):
 *   .quad bytes, text, disp, imm
 *   .byte len, mode, kind, op, size, reg_size, reg, high8, sign, seg,
 *         base, index, scale, adsize, cr, alu, src_imm
 *   .balign 8
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* kind: what the decoders must say. */
#define K_MOV	0	/* the MOV decoder decodes it, the length decoder not */
#define K_SKIP	1	/* the length decoder names it, the MOV decoder not */
#define K_NONE	2	/* neither */
#define K_CR	3	/* the control-register decoder, and only it */

/* Control-register operations, as enum lapicv_emu_cr_op. */
#define CR_READ	0
#define CR_WRITE 1
#define CR_CLTS	2
#define CR_LMSW	3
#define CR_SMSW	4

/* MOV operations, as enum lapicv_emu_mov_op. */
#define LOAD	0
#define STORE	1
#define STORE_IMM 2
#define XCHG	3
#define ALU	4

/* ALU operations, as enum lapicv_emu_alu. */
#define A_ADD	0
#define A_OR	1
#define A_AND	4
#define A_SUB	5
#define A_XOR	6
#define A_CMP	7
#define A_TEST	8

/* Segments, as enum lapicv_emu_seg. */
#define ES 0
#define CS 1
#define SS 2
#define DS 3
#define FS 4
#define GS 5

#define NO_REG	(-1)
#define RIP	16

/* As enum lapicv_emu_insn. */
enum {
	I_UNKNOWN, I_RDMSR, I_WRMSR, I_CPUID, I_HLT, I_RDTSC, I_RDTSCP,
	I_RDPMC, I_VMMCALL, I_XSETBV, I_WBINVD, I_WBNOINVD, I_INVD, I_PAUSE,
	I_IN, I_OUT, I_INS, I_OUTS, I_MONITOR, I_MWAIT, I_MONITORX, I_MWAITX,
};

struct expect {
	int kind, op, size, reg_size, reg, high8, sign, seg;
	int base, index, scale, adsize;
	int cr;			/* K_CR: the control register */
	int alu, src_imm;	/* ALU: the operation, an immediate source */
	long long disp;
	unsigned long long imm;
};

static const char * const r64[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

static const char * const r32[16] = {
	"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
	"r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d",
};

static const char * const r16[16] = {
	"ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
	"r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w",
};

/* Byte registers with a REX prefix (4 .. 7 are SPL .. DIL). */
static const char * const r8[16] = {
	"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
	"r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b",
};

/* Byte registers 4 .. 7 without REX. */
static const char * const r8high[4] = { "ah", "ch", "dh", "bh" };

static const char * const segname[6] = { "es", "cs", "ss", "ds", "fs", "gs" };

static int nr;

static void emit(int mode, const char *text, const char *code,
		 const struct expect *e)
{
	printf("\t.section .rodata.emu_insn,\"a\"\n");
	printf("\t.code%d\n.Lb%d:\n\t%s\n.Le%d:\n", mode, nr, code, nr);
	printf("\t.section .rodata.emu_text,\"a\"\n");
	printf(".Lt%d:\t.asciz \"%d: %s\"\n", nr, mode, text);
	printf("\t.section .data.rel.ro.emu_vectors,\"aw\"\n");
	printf("\t.quad .Lb%d, .Lt%d, %lld, 0x%llx\n", nr, nr, e->disp, e->imm);
	printf("\t.byte .Le%d - .Lb%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, ",
	       nr, nr, mode, e->kind, e->op, e->size, e->reg_size, e->reg,
	       e->high8, e->sign, e->seg);
	printf("%d, %d, %d, %d, %d, %d, %d\n", e->base, e->index, e->scale,
	       e->adsize, e->cr, e->alu, e->src_imm);
	printf("\t.balign 8\n");
	nr++;
}

/* An instruction whose text is also what as assembles. */
static void insn(int mode, const struct expect *e, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	emit(mode, buf, buf, e);
}

/* Raw bytes, and the instruction they spell. */
static void raw(int mode, const struct expect *e, const char *text,
		const char *bytes)
{
	char code[256];

	snprintf(code, sizeof(code), ".byte %s", bytes);
	emit(mode, text, code, e);
}

/* n copies of a prefix byte, then tail: for raw(). */
static const char *prefixed(int n, int prefix, const char *tail)
{
	static char buf[256];
	int off = 0;

	while (n--)
		off += snprintf(buf + off, sizeof(buf) - off, "0x%02x, ", prefix);
	snprintf(buf + off, sizeof(buf) - off, "%s", tail);
	return buf;
}

static const char *suffix(int size)
{
	return size == 1 ? "b" : size == 2 ? "w" : size == 4 ? "l" : "q";
}

static const char *regname(int size, int reg, bool high)
{
	if (high)
		return r8high[reg];
	switch (size) {
	case 1:
		return r8[reg];
	case 2:
		return r16[reg];
	case 4:
		return r32[reg];
	default:
		return r64[reg];
	}
}

/* "disp(base,index,scale)" in AT&T syntax. */
static void mem(char *buf, size_t n, const char * const *names, long long disp,
		bool has_disp, int base, int index, int scale)
{
	int off = 0;

	if (has_disp)
		off += snprintf(buf + off, n - off, "%s0x%llx",
				disp < 0 ? "-" : "", disp < 0 ? -disp : disp);
	if (base == NO_REG && index == NO_REG)
		return;
	off += snprintf(buf + off, n - off, "(");
	if (base == RIP)
		off += snprintf(buf + off, n - off, "%%%s",
				names == r64 ? "rip" : "eip");
	else if (base != NO_REG)
		off += snprintf(buf + off, n - off, "%%%s", names[base]);
	if (index != NO_REG)
		off += snprintf(buf + off, n - off, ",%%%s,%d", names[index],
				1 << scale);
	snprintf(buf + off, n - off, ")");
}

static struct expect mov(int op, int size, int reg, int adsize)
{
	struct expect e = {
		.kind = K_MOV, .op = op, .size = size, .reg_size = size,
		.reg = reg, .seg = DS, .base = NO_REG, .index = NO_REG,
		.adsize = adsize,
	};
	return e;
}

/* One 88/89/8A/8B through 0x10(%rbx), (%ebx) or (%bx). */
static void one_register(int mode, int size, int dir, int reg, bool high)
{
	const char *m = mode == 64 ? "0x10(%rbx)" : mode == 32 ? "0x10(%ebx)" :
				     "0x10(%bx)";
	const char *r = regname(size, reg, high);
	struct expect e = mov(dir, size, reg, mode == 16 ? 2 : mode / 8);

	e.high8 = high;
	e.base = 3;
	e.disp = 0x10;
	if (dir == LOAD)
		insn(mode, &e, "mov%s %s,%%%s", suffix(size), m, r);
	else
		insn(mode, &e, "mov%s %%%s,%s", suffix(size), r, m);
}

/* Every register, size and direction of 88/89/8A/8B. */
static void gen_registers(int mode)
{
	int nregs = mode == 64 ? 16 : 8, size, reg, dir;

	for (size = 1; size <= (mode == 64 ? 8 : 4); size *= 2) {
		for (dir = LOAD; dir <= STORE; dir++) {
			for (reg = 0; reg < nregs; reg++) {
				/* Byte registers 4..7: SPL..DIL need REX. */
				if (size == 1 && reg >= 4 && reg < 8 && mode != 64)
					continue;
				one_register(mode, size, dir, reg, false);
			}
			/* AH, CH, DH, BH. */
			for (reg = 0; size == 1 && reg < 4; reg++)
				one_register(mode, size, dir, reg, true);
		}
	}
}

static const long long disps[] = {
	0x7f, -0x80, 0x80, -0x81, 0x12345678, -0x12345678,
};

/* Every base, index, scale and displacement form of ModRM/SIB. */
static void gen_addressing(int mode)
{
	const char * const *names = mode == 64 ? r64 : r32;
	int nregs = mode == 64 ? 16 : 8, adsize = mode == 64 ? 8 : 4;
	int base, index, scale, d;
	char buf[128];
	struct expect e;

	/* Base only, without and with each displacement. */
	for (base = 0; base < nregs; base++) {
		for (d = -1; d < (int)ARRAY_SIZE(disps); d++) {
			e = mov(LOAD, 4, 1, adsize);
			e.base = base;
			e.disp = d < 0 ? 0 : disps[d];
			e.seg = (base == 4 || base == 5) ? SS : DS;
			mem(buf, sizeof(buf), names, e.disp, d >= 0, base,
			    NO_REG, 0);
			insn(mode, &e, "movl %s,%%ecx", buf);
		}
	}
	/* Base + index * scale (+ displacement); no base. */
	for (base = -1; base < nregs; base++) {
		for (index = 0; index < nregs; index++) {
			if (index == 4)
				continue;
			for (scale = 0; scale < 4; scale++) {
				for (d = -1; d < 3; d++) {
					long long disp = d < 0 ? 0 :
						d == 0 ? 0x40 : d == 1 ? -0x1000 :
						0x7ffffff0;

					e = mov(STORE, 4, 2, adsize);
					e.base = base;
					e.index = index;
					e.scale = scale;
					e.disp = disp;
					e.seg = (base == 4 || base == 5) ? SS : DS;
					mem(buf, sizeof(buf), names, disp,
					    d >= 0 || base < 0, base, index,
					    scale);
					insn(mode, &e, "movl %%edx,%s", buf);
				}
			}
		}
	}
	/* SIB index field 100: no index, whatever the scale (%riz). */
	for (scale = 0; scale < 4; scale++) {
		char text[64], bytes[64];

		e = mov(LOAD, 4, 1, adsize);
		e.base = 0;
		e.disp = 0x20;
		snprintf(text, sizeof(text), "movl 0x20(%%%s,%%%s,%d),%%ecx",
			 names[0], mode == 64 ? "riz" : "eiz", 1 << scale);
		snprintf(bytes, sizeof(bytes), "0x8b, 0x4c, 0x%02x, 0x20",
			 scale << 6 | 4 << 3);
		raw(mode, &e, text, bytes);
	}
	/* Absolute disp32 (SIB form in 64-bit mode, ModRM 05 in 32-bit). */
	e = mov(LOAD, 4, 1, adsize);
	e.disp = 0x12345678;
	insn(mode, &e, "movl 0x12345678,%%ecx");
	e.disp = mode == 64 ? -0x200000LL : 0xffe00000LL;
	insn(mode, &e, "movl %s,%%ecx", mode == 64 ? "-0x200000" : "0xffe00000");
}

/* Segment overrides, and the stack segment through (E/R)BP and (E/R)SP. */
static void gen_segments(int mode)
{
	const char *b = mode == 64 ? "rax" : "eax";
	struct expect e;
	int s;

	for (s = ES; s <= GS; s++) {
		e = mov(LOAD, 4, 1, mode == 64 ? 8 : 4);
		e.base = 0;
		e.disp = 0x10;
		e.seg = s;
		insn(mode, &e, "movl %%%s:0x10(%%%s),%%ecx", segname[s], b);
		e.op = STORE;
		e.base = 5;
		insn(mode, &e, "movl %%ecx,%%%s:0x10(%%%s)", segname[s],
		     mode == 64 ? "rbp" : "ebp");
	}
	/* Two overrides: the last one counts. */
	e = mov(STORE, 4, 0, mode == 64 ? 8 : 4);
	e.base = 3;
	e.seg = FS;
	raw(mode, &e, "cs ds fs movl %eax,(%ebx)", "0x2e, 0x3e, 0x64, 0x89, 0x03");
}

/* MOV r/m, imm (C6 /0, C7 /0). */
static void gen_immediates(int mode)
{
	static const struct {
		int size;
		const char *imm;
		unsigned long long val;
	} imms[] = {
		{ 1, "0x80", 0x80 }, { 1, "0x7f", 0x7f },
		{ 2, "0x8001", 0x8001 }, { 2, "0x1234", 0x1234 },
		{ 4, "0x80000001", 0x80000001 }, { 4, "0x12345678", 0x12345678 },
		{ 8, "-2", 0xfffffffffffffffeULL },
		{ 8, "0x7fffffff", 0x7fffffff },
		{ 8, "-0x80000000", 0xffffffff80000000ULL },
	};
	const char *b = mode == 64 ? "rax" : mode == 32 ? "eax" : "bx";
	struct expect e;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(imms); i++) {
		if (imms[i].size == 8 && mode != 64)
			continue;
		e = mov(STORE_IMM, imms[i].size, 0,
			mode == 64 ? 8 : mode == 32 ? 4 : 2);
		e.base = mode == 16 ? 3 : 0;
		e.imm = imms[i].val;
		insn(mode, &e, "mov%s $%s,(%%%s)", suffix(imms[i].size),
		     imms[i].imm, b);
		if (mode == 16)
			continue;
		/* With SIB and displacement between ModRM and imm. */
		e.base = 0;
		e.index = 3;
		e.scale = 3;
		e.disp = 0x10;
		insn(mode, &e, "mov%s $%s,0x10(%%%s,%%%s,8)",
		     suffix(imms[i].size), imms[i].imm, b,
		     mode == 64 ? "rbx" : "ebx");
	}
}

/* A0-A3: moffs of the address size, rAX. */
static void gen_moffs(int mode)
{
	int size, adsize = mode == 64 ? 8 : mode == 32 ? 4 : 2;
	const char *mn = mode == 64 ? "movabs" : "mov";
	unsigned long long addr = mode == 16 ? 0x1234 : 0xfee00020;
	struct expect e;

	for (size = 1; size <= (mode == 64 ? 8 : 4); size *= 2) {
		const char *r = regname(size, 0, false);

		e = mov(LOAD, size, 0, adsize);
		e.disp = addr;
		insn(mode, &e, "%s 0x%llx,%%%s", mn, addr, r);
		e.op = STORE;
		e.disp = addr + 0x90;
		insn(mode, &e, "%s %%%s,0x%llx", mn, r, addr + 0x90);
	}
	e = mov(LOAD, 4, 0, adsize);
	e.disp = addr;
	e.seg = GS;
	insn(mode, &e, "%s %%gs:0x%llx,%%eax", mn, addr);
	/* The other address size: moffs32 in 64-bit mode, moffs16 in 32. */
	if (mode == 64) {
		e = mov(LOAD, 4, 0, 4);
		e.disp = 0xfee00020;
		raw(mode, &e, "addr32 movabs 0xfee00020,%eax",
		    "0x67, 0xa1, 0x20, 0x00, 0xe0, 0xfe");
	} else if (mode == 32) {
		e = mov(STORE, 4, 0, 2);
		e.disp = 0x0020;
		raw(mode, &e, "addr16 mov %eax,0x20", "0x67, 0xa3, 0x20, 0x00");
	}
}

/* MOVZX, MOVSX, MOVSXD. */
static void gen_extend(int mode)
{
	static const struct {
		const char *mn;
		int size, reg_size, sign;
	} ext[] = {
		{ "movzbw", 1, 2, 0 }, { "movzbl", 1, 4, 0 }, { "movzwl", 2, 4, 0 },
		{ "movsbw", 1, 2, 1 }, { "movsbl", 1, 4, 1 }, { "movswl", 2, 4, 1 },
		{ "movzbq", 1, 8, 0 }, { "movzwq", 2, 8, 0 }, { "movsbq", 1, 8, 1 },
		{ "movswq", 2, 8, 1 }, { "movslq", 4, 8, 1 },
	};
	const char *b = mode == 64 ? "rsi" : mode == 32 ? "esi" : "si";
	int reg = mode == 64 ? 9 : 2;
	struct expect e;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ext); i++) {
		if (ext[i].reg_size == 8 && mode != 64)
			continue;
		e = mov(LOAD, ext[i].size, reg, mode == 64 ? 8 : mode == 32 ? 4 : 2);
		e.reg_size = ext[i].reg_size;
		e.sign = ext[i].sign;
		e.base = 6;
		e.disp = 0x30;
		insn(mode, &e, "%s 0x30(%%%s),%%%s", ext[i].mn, b,
		     regname(ext[i].reg_size, reg, false));
	}
}

/* XCHG, and ALU operations with memory as destination or first operand. */
static void gen_rmw(int mode)
{
	static const struct {
		const char *mn;
		int alu;
	} ops[] = {
		{ "add", A_ADD }, { "or", A_OR }, { "and", A_AND },
		{ "sub", A_SUB }, { "xor", A_XOR }, { "cmp", A_CMP },
		{ "test", A_TEST },
	};
	static const struct {
		int size;
		const char *imm;
		unsigned long long val;
	} imms[] = {
		{ 1, "0x81", 0x81 }, { 2, "0x7f", 0x7f }, { 2, "-2", 0xfffe },
		{ 2, "0x1234", 0x1234 }, { 4, "-0x80", 0xffffff80 },
		{ 4, "0x12345678", 0x12345678 }, { 8, "-1", ~0ULL },
		{ 8, "0x7fffffff", 0x7fffffff },
	};
	const char *b = mode == 64 ? "rbx" : mode == 32 ? "ebx" : "bx";
	int adsize = mode == 64 ? 8 : mode == 32 ? 4 : 2;
	int size, reg, nregs = mode == 64 ? 16 : 8;
	unsigned int i, k;
	struct expect e;

	for (size = 1; size <= (mode == 64 ? 8 : 4); size *= 2) {
		for (reg = 0; reg < nregs; reg++) {
			if (size == 1 && reg >= 4 && reg < 8 && mode != 64)
				continue;
			e = mov(XCHG, size, reg, adsize);
			e.base = 3;
			e.disp = 0x20;
			insn(mode, &e, "xchg%s %%%s,0x20(%%%s)", suffix(size),
			     regname(size, reg, false), b);
			e = mov(ALU, size, reg, adsize);
			e.base = 3;
			e.alu = ops[reg % ARRAY_SIZE(ops)].alu;
			insn(mode, &e, "%s%s %%%s,(%%%s)",
			     ops[reg % ARRAY_SIZE(ops)].mn, suffix(size),
			     regname(size, reg, false), b);
		}
		for (k = 0; k < ARRAY_SIZE(ops); k++) {
			e = mov(ALU, size, 1, adsize);
			e.base = 3;
			e.disp = -0x10;
			e.alu = ops[k].alu;
			insn(mode, &e, "%s%s %%%s,-0x10(%%%s)", ops[k].mn,
			     suffix(size), regname(size, 1, false), b);
		}
	}
	/* AH..BH as the source. */
	e = mov(ALU, 1, 0, adsize);
	e.base = 3;
	e.high8 = 1;
	e.alu = A_OR;
	insn(mode, &e, "orb %%ah,(%%%s)", b);
	e = mov(XCHG, 1, 3, adsize);
	e.base = 3;
	e.high8 = 1;
	insn(mode, &e, "xchgb %%bh,(%%%s)", b);
	/* Immediates: 80, 81 and 83 (as picks the short form), F6/F7. */
	for (i = 0; i < ARRAY_SIZE(imms); i++) {
		if (imms[i].size == 8 && mode != 64)
			continue;
		for (k = 0; k < ARRAY_SIZE(ops); k++) {
			e = mov(ALU, imms[i].size, 0, adsize);
			e.base = 3;
			e.disp = 0x300;
			e.alu = ops[k].alu;
			e.src_imm = 1;
			e.imm = imms[i].val;
			insn(mode, &e, "%s%s $%s,0x300(%%%s)", ops[k].mn,
			     suffix(imms[i].size), imms[i].imm, b);
		}
	}
	/* LOCK where the CPU takes it; XACQUIRE/XRELEASE (F2/F3) too. */
	e = mov(ALU, 4, 0, adsize);
	e.base = 3;
	e.alu = A_OR;
	e.src_imm = 1;
	e.imm = 0x100;
	insn(mode, &e, "lock orl $0x100,(%%%s)", b);
	e = mov(XCHG, 4, 2, adsize);
	e.base = 3;
	insn(mode, &e, "lock xchgl %%edx,(%%%s)", b);
	e = mov(ALU, 4, 2, adsize);
	e.base = 3;
	e.alu = A_XOR;
	raw(mode, &e, "xacquire lock xorl %edx,(%ebx)",
	    mode == 16 ? "0xf2, 0xf0, 0x66, 0x31, 0x17" :
	    mode == 32 ? "0xf2, 0xf0, 0x31, 0x13" :
	    "0xf2, 0xf0, 0x31, 0x13");
}

static void gen_mov64(void)
{
	struct expect e;

	gen_registers(64);
	gen_addressing(64);
	gen_segments(64);
	gen_immediates(64);
	gen_moffs(64);
	gen_extend(64);
	gen_rmw(64);

	/* RIP-relative, with and without an immediate after the disp. */
	e = mov(LOAD, 4, 1, 8);
	e.base = RIP;
	e.disp = 0x100;
	insn(64, &e, "movl 0x100(%%rip),%%ecx");
	e.disp = -0x100;
	insn(64, &e, "movl -0x100(%%rip),%%ecx");
	e = mov(STORE, 1, 0, 8);
	e.base = RIP;
	e.disp = 0x10;
	insn(64, &e, "movb %%al,0x10(%%rip)");
	e = mov(STORE_IMM, 4, 0, 8);
	e.base = RIP;
	e.disp = 0x20;
	e.imm = 0x11223344;
	insn(64, &e, "movl $0x11223344,0x20(%%rip)");
	e = mov(STORE_IMM, 2, 0, 8);
	e.base = RIP;
	e.disp = -8;
	e.imm = 0x1234;
	insn(64, &e, "movw $0x1234,-8(%%rip)");
	e = mov(STORE_IMM, 8, 0, 8);
	e.base = RIP;
	e.disp = 0;
	e.imm = 0xffffffffffffff80ULL;
	insn(64, &e, "movq $-0x80,0(%%rip)");
	e = mov(LOAD, 4, 1, 4);
	e.base = RIP;
	e.disp = 0x10;
	insn(64, &e, "movl 0x10(%%eip),%%ecx");
	/* r13 as SIB base with mod 00 is still "no base" + disp32. */
	e = mov(LOAD, 4, 1, 8);
	e.index = 1;
	e.scale = 2;
	e.disp = 0x40;
	raw(64, &e, "rex.B movl 0x40(,%rcx,4),%ecx",
	    "0x41, 0x8b, 0x0c, 0x8d, 0x40, 0x00, 0x00, 0x00");
	/* REX.B with ModRM 05: still RIP-relative. */
	e = mov(LOAD, 4, 1, 8);
	e.base = RIP;
	e.disp = 0x40;
	raw(64, &e, "rex.B movl 0x40(%rip),%ecx",
	    "0x41, 0x8b, 0x0d, 0x40, 0x00, 0x00, 0x00");

	/* 32-bit addressing (67). */
	e = mov(LOAD, 4, 1, 4);
	e.base = 0;
	e.disp = 0x10;
	insn(64, &e, "movl 0x10(%%eax),%%ecx");
	e.base = 8;
	e.index = 9;
	e.scale = 2;
	e.disp = 0;
	insn(64, &e, "movl (%%r8d,%%r9d,4),%%ecx");
	e.base = 4;
	e.index = NO_REG;
	e.scale = 0;
	e.seg = SS;
	insn(64, &e, "movl (%%esp),%%ecx");
	e.base = 5;
	e.disp = 0x7f;
	insn(64, &e, "movl 0x7f(%%ebp),%%ecx");

	/* Prefix order: REX counts only right before the opcode. */
	e = mov(STORE, 2, 0, 8);
	e.base = 3;
	raw(64, &e, "rex.W data16 movw %ax,(%rbx) (REX ignored)",
	    "0x48, 0x66, 0x89, 0x03");
	e = mov(STORE, 8, 0, 8);
	e.base = 3;
	raw(64, &e, "data16 rex.W movq %rax,(%rbx)", "0x66, 0x48, 0x89, 0x03");
	e = mov(STORE, 4, 0, 8);
	e.base = 11;
	raw(64, &e, "rex.W rex.B movl %eax,(%r11) (first REX ignored)",
	    "0x48, 0x41, 0x89, 0x03");
	e = mov(STORE, 1, 0, 8);
	e.base = 3;
	e.high8 = 1;
	raw(64, &e, "rex repz movb %ah,(%rbx) (REX ignored)",
	    "0x40, 0xf3, 0x88, 0x23");
	e.high8 = 0;
	e.reg = 4;
	raw(64, &e, "repz rex movb %spl,(%rbx)", "0xf3, 0x40, 0x88, 0x23");
	e = mov(STORE, 4, 0, 8);
	e.base = 3;
	raw(64, &e, "xrelease movl %eax,(%rbx)", "0xf3, 0x89, 0x03");
	e.op = LOAD;
	raw(64, &e, "repnz movl (%rbx),%eax", "0xf2, 0x8b, 0x03");
	/* 14 prefixes: 15 bytes, the limit. */
	e = mov(LOAD, 1, 0, 8);
	e.base = 3;
	raw(64, &e, "13 x ds movb (%rbx),%al (15 bytes)",
	    prefixed(13, 0x3e, "0x8a, 0x03"));
	/* A register operand as high as r15 through REX.R. */
	e = mov(LOAD, 8, 15, 8);
	e.base = 12;
	e.index = 13;
	e.scale = 3;
	e.disp = -1;
	insn(64, &e, "movq -1(%%r12,%%r13,8),%%r15");
}

static void gen_mov32(void)
{
	static const struct {
		const char *m;
		int base, index, mod;
		long long disp;
	} a16[] = {
		{ "(%bx,%si)", 3, 6, 0, 0 }, { "(%bx,%di)", 3, 7, 0, 0 },
		{ "(%bp,%si)", 5, 6, 1, 0 }, { "(%bp,%di)", 5, 7, 1, 0 },
		{ "(%si)", -1, 6, 0, 0 }, { "(%di)", -1, 7, 0, 0 },
		{ "(%bp)", 5, -1, 1, 0 }, { "(%bx)", 3, -1, 0, 0 },
		{ "0x10(%bx,%si)", 3, 6, 1, 0x10 },
		{ "-0x10(%bp,%di)", 5, 7, 1, -0x10 },
		{ "0x1234(%bp,%si)", 5, 6, 2, 0x1234 },
		{ "0x1234(%si)", -1, 6, 2, 0x1234 },
		{ "0x7f(%bp)", 5, -1, 1, 0x7f },
		{ "0x8000(%bx)", 3, -1, 2, 0x8000 },
	};
	int mode, i;
	struct expect e;

	gen_registers(32);
	gen_addressing(32);
	gen_segments(32);
	gen_immediates(32);
	gen_moffs(32);
	gen_extend(32);
	gen_rmw(32);

	/* 16-bit addressing: in 32-bit code through 67, in 16-bit natively. */
	for (mode = 16; mode <= 32; mode += 16) {
		for (i = 0; i < (int)ARRAY_SIZE(a16); i++) {
			e = mov(LOAD, 4, 1, 2);
			e.base = a16[i].base;
			e.index = a16[i].index;
			e.disp = a16[i].disp;
			e.seg = a16[i].base == 5 ? SS : DS;
			insn(mode, &e, "movl %s,%%ecx", a16[i].m);
			e.op = STORE;
			e.size = 2;
			e.reg_size = 2;
			insn(mode, &e, "movw %%cx,%s", a16[i].m);
		}
	}
	e = mov(LOAD, 4, 1, 2);
	e.disp = 0x1234;
	raw(32, &e, "addr16 movl 0x1234,%ecx", "0x67, 0x8b, 0x0e, 0x34, 0x12");
}

static void gen_mov16(void)
{
	struct expect e;

	gen_registers(16);
	gen_immediates(16);
	gen_moffs(16);
	gen_extend(16);
	gen_rmw(16);
	/* 32-bit addressing in 16-bit code (67). */
	e = mov(LOAD, 2, 1, 4);
	e.base = 0;
	e.index = 3;
	e.scale = 1;
	insn(16, &e, "movw (%%eax,%%ebx,2),%%cx");
	e.base = 4;
	e.index = NO_REG;
	e.scale = 0;
	e.disp = 0x10;
	e.seg = SS;
	insn(16, &e, "movw 0x10(%%esp),%%cx");
	e = mov(STORE, 4, 0, 2);
	e.base = 3;
	e.index = 6;
	e.seg = ES;
	insn(16, &e, "movl %%eax,%%es:(%%bx,%%si)");
}

/* Forms the MOV decoder must refuse. */
static void gen_refused(void)
{
	static const char * const asm64[] = {
		"movl %eax,%ebx", "movl %ebx,%eax", "movsl", "stosl",
		"cmpxchg %ecx,(%rbx)", "xaddl %ecx,(%rbx)",
		"movnti %eax,(%rbx)", "movd %xmm0,(%rbx)", "vmovd %xmm0,(%rbx)",
		"pushq (%rbx)", "incl (%rbx)", "notl (%rbx)", "negl (%rbx)",
		"popcntl (%rbx),%eax",
		"tzcntl (%rbx),%eax", "lzcntl (%rbx),%eax", "mov (%rbx),%es",
		"bswap %eax", "movslq %eax,%rcx",
		"movzbl %al,%ecx", "movsbq %cl,%rax", "movb $1,%al",
		"movl $1,%eax", "movabs $0x1122334455667788,%rax", "lea (%rbx),%eax",
		"addl (%rbx),%eax", "cmpl (%rbx),%eax", "andb (%rbx),%cl",
		"adcl $1,(%rbx)", "sbbl %eax,(%rbx)", "adcb %al,(%rbx)",
		"addl %eax,%ebx", "xchg %eax,%ebx", "orl $1,%eax", "testl $1,%eax",
		"btl $1,(%rbx)", "btsl %eax,(%rbx)", "xabort $1", "nop",
		"sfence", "clflush (%rbx)",
	};
	struct expect e = { .kind = K_NONE, .base = NO_REG, .index = NO_REG };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(asm64); i++)
		insn(64, &e, "%s", asm64[i]);
	raw(64, &e, "lock movl %eax,(%rbx)", "0xf0, 0x89, 0x03");
	raw(64, &e, "lock cmpl %eax,(%rbx)", "0xf0, 0x39, 0x03");
	raw(64, &e, "lock testl $1,(%rbx)", "0xf0, 0xf7, 0x03, 0x01, 0x00, 0x00, 0x00");
	raw(64, &e, "F7 /1 (TEST's alias, not taken)", "0xf7, 0x0b, 0x01, 0x00, 0x00, 0x00");
	raw(64, &e, "lock movb $1,(%rbx)", "0xf0, 0xc6, 0x03, 0x01");
	raw(64, &e, "C7 /1 (not a MOV)", "0xc7, 0x08, 0x01, 0x00, 0x00, 0x00");
	raw(64, &e, "C6 /7 (not a MOV)", "0xc6, 0x38, 0x01");
	raw(64, &e, "xbegin .+6 (C7 F8)", "0xc7, 0xf8, 0x00, 0x00, 0x00, 0x00");
	raw(64, &e, "movsxd without REX.W", "0x63, 0x03");
	raw(64, &e, "repz movzbl (%rbx),%eax", "0xf3, 0x0f, 0xb6, 0x03");
	raw(64, &e, "14 x data16 movl %eax,(%rbx): 16 bytes",
	    prefixed(14, 0x66, "0x89, 0x03"));
	raw(64, &e, "15 prefixes", prefixed(14, 0x2e, "0x2e"));
	raw(64, &e, "vex prefix", "0xc5, 0xf9, 0x7e, 0x03");
	raw(32, &e, "dec %eax; movl (%ebx),%eax (no REX in 32-bit code)",
	    "0x48, 0x8b, 0x03");
	raw(32, &e, "arpl %ax,(%ebx)", "0x63, 0x03");
	insn(32, &e, "movl %%eax,%%ebx");
	insn(16, &e, "movw %%ax,%%bx");
}

/* The length decoder's instructions, with prefixes that keep them. */
static void gen_skip(int mode)
{
	static const struct {
		const char *code;
		int id;
	} ins[] = {
		{ "rdmsr", I_RDMSR }, { "wrmsr", I_WRMSR }, { "cpuid", I_CPUID },
		{ "hlt", I_HLT }, { "rdtsc", I_RDTSC }, { "rdtscp", I_RDTSCP },
		{ "rdpmc", I_RDPMC }, { "vmmcall", I_VMMCALL },
		{ "xsetbv", I_XSETBV }, { "wbinvd", I_WBINVD },
		{ "wbnoinvd", I_WBNOINVD }, { "invd", I_INVD },
		{ "pause", I_PAUSE }, { "in $0x80,%al", I_IN },
		{ "in $0x80,%eax", I_IN }, { "in $0x80,%ax", I_IN },
		{ "out %al,$0x80", I_OUT }, { "out %eax,$0x80", I_OUT },
		{ "in (%dx),%al", I_IN }, { "in (%dx),%ax", I_IN },
		{ "in (%dx),%eax", I_IN }, { "out %al,(%dx)", I_OUT },
		{ "out %eax,(%dx)", I_OUT }, { "insb", I_INS }, { "insl", I_INS },
		{ "rep insw", I_INS }, { "outsb", I_OUTS }, { "rep outsl", I_OUTS },
		{ "monitor", I_MONITOR }, { "mwait", I_MWAIT },
		{ "monitorx", I_MONITORX }, { "mwaitx", I_MWAITX },
	};
	static const char * const pfx[] = {
		"", ".byte 0x2e;", ".byte 0x66;", ".byte 0x67;",
		".byte 0x3e, 0x26, 0x64, 0x65, 0x36;", ".byte 0x48;",
		".byte 0x66, 0x41;",
	};
	struct expect e = { .kind = K_SKIP, .base = NO_REG, .index = NO_REG };
	unsigned int i, p;
	char code[128];

	for (i = 0; i < ARRAY_SIZE(ins); i++) {
		for (p = 0; p < ARRAY_SIZE(pfx); p++) {
			/* REX only in 64-bit mode; PAUSE keeps no prefix. */
			if (p >= 5 && mode != 64)
				continue;
			if (ins[i].id == I_PAUSE && p > 1)
				continue;
			e.op = ins[i].id;
			snprintf(code, sizeof(code), "%s %s", pfx[p],
				 ins[i].code);
			emit(mode, code, code, &e);
		}
	}
	e.op = I_HLT;
	raw(mode, &e, "14 x cs hlt (15 bytes)",
	    prefixed(14, 0x2e, "0xf4"));

	e.kind = K_NONE;
	e.op = 0;
	raw(mode, &e, "15 x cs hlt (16 bytes)",
	    prefixed(15, 0x2e, "0xf4"));
	raw(mode, &e, "lock hlt", "0xf0, 0xf4");
	raw(mode, &e, "lock rdmsr", "0xf0, 0x0f, 0x32");
	raw(mode, &e, "repnz rdmsr", "0xf2, 0x0f, 0x32");
	raw(mode, &e, "repz vmmcall", "0xf3, 0x0f, 0x01, 0xd9");
	raw(mode, &e, "vmrun", "0x0f, 0x01, 0xd8");
	raw(mode, &e, "xgetbv", "0x0f, 0x01, 0xd0");
	raw(mode, &e, "repnz nop", "0xf2, 0x90");
	insn(mode, &e, "nop");
	insn(mode, &e, "int3");
	insn(mode, &e, "ud2");
	if (mode == 64)
		raw(mode, &e, "repz xchg %eax,%r8d (not PAUSE)", "0xf3, 0x41, 0x90");
}

/* ---- control registers ---- */

static struct expect cr_expect(int op, int cr, int reg, int size)
{
	struct expect e = {
		.kind = K_CR, .op = op, .cr = cr, .reg = reg, .size = size,
		.seg = DS, .base = NO_REG, .index = NO_REG,
	};
	return e;
}

/*
 * MOV to and from CR0, CR2, CR3, CR4 and CR8 with every register, CLTS,
 * LMSW and SMSW with register and memory operands, in one mode; and what
 * must be refused.
 */
static void gen_cr(int mode)
{
	static const int crs[] = { 0, 2, 3, 4, 8 };
	const char * const *names = mode == 64 ? r64 : r32;
	int nregs = mode == 64 ? 16 : 8, size = mode == 64 ? 8 : 4;
	int adsize = mode == 16 ? 2 : mode / 8;
	struct expect e;
	char m[64];
	unsigned int i;
	int reg;

	for (i = 0; i < ARRAY_SIZE(crs); i++) {
		/* CR8 outside 64-bit mode is the LOCK alias, below. */
		if (crs[i] == 8 && mode != 64)
			continue;
		for (reg = 0; reg < nregs; reg++) {
			e = cr_expect(CR_READ, crs[i], reg, size);
			insn(mode, &e, "mov %%cr%d,%%%s", crs[i], names[reg]);
			e.op = CR_WRITE;
			insn(mode, &e, "mov %%%s,%%cr%d", names[reg], crs[i]);
		}
	}
	/* AMD's alias (AltMovCr8): LOCK MOV CR0 is MOV CR8. */
	e = cr_expect(CR_WRITE, 8, 1, size);
	raw(mode, &e, "lock mov %ecx,%cr0", "0xf0, 0x0f, 0x22, 0xc1");
	e = cr_expect(CR_READ, 8, 6, size);
	raw(mode, &e, "lock mov %cr0,%esi", "0xf0, 0x0f, 0x20, 0xc6");
	/* ModRM.mod is ignored, and so are 66 and REX.W. */
	e = cr_expect(CR_WRITE, 4, 0, size);
	raw(mode, &e, "mov %eax,%cr4 with mod 00", "0x0f, 0x22, 0x20");
	e = cr_expect(CR_READ, 0, 3, size);
	raw(mode, &e, "o16 mov %cr0,%ebx", "0x66, 0x0f, 0x20, 0xc3");
	if (mode == 64)
		raw(mode, &e, "o16 rex.w mov %cr0,%rbx",
		    "0x66, 0x48, 0x0f, 0x20, 0xc3");
	/* F2 and F3 too: KVM's emulator ignores them here. */
	e = cr_expect(CR_WRITE, 0, 0, size);
	raw(mode, &e, "repz mov %eax,%cr0", "0xf3, 0x0f, 0x22, 0xc0");
	e = cr_expect(CR_READ, 4, 0, size);
	raw(mode, &e, "repnz mov %cr4,%eax", "0xf2, 0x0f, 0x20, 0xe0");
	e = cr_expect(CR_WRITE, 4, 2, size);
	raw(mode, &e, "repnz repz mov %edx,%cr4", "0xf2, 0xf3, 0x0f, 0x22, 0xe2");
	e = cr_expect(CR_SMSW, 0, 0, mode == 16 ? 2 : 4);
	raw(mode, &e, "repz smsw %eax (%ax in 16-bit code)",
	    "0xf3, 0x0f, 0x01, 0xe0");
	e = cr_expect(CR_CLTS, 0, 0, 0);
	raw(mode, &e, "repnz clts", "0xf2, 0x0f, 0x06");
	e = cr_expect(CR_LMSW, 0, 1, 2);
	raw(mode, &e, "repz lmsw %cx", "0xf3, 0x0f, 0x01, 0xf1");

	e = cr_expect(CR_CLTS, 0, 0, 0);
	insn(mode, &e, "clts");
	for (reg = 0; reg < nregs; reg++) {
		e = cr_expect(CR_LMSW, 0, reg, 2);
		insn(mode, &e, "lmsw %%%s", r16[reg]);
		e = cr_expect(CR_SMSW, 0, reg, 2);
		insn(mode, &e, "smsw %%%s", r16[reg]);
		e.size = 4;
		insn(mode, &e, "smsw %%%s", r32[reg]);
		if (mode == 64) {
			e.size = 8;
			insn(mode, &e, "smsw %%%s", r64[reg]);
		}
	}
	/* Memory operands: base + disp, SIB, RIP-relative, 16-bit pairs. */
	for (i = 0; i < 2; i++) {
		e = cr_expect(i ? CR_SMSW : CR_LMSW, 0, 0, 2);
		e.adsize = adsize;
		if (mode == 16) {
			e.base = 5;
			e.index = 6;
			e.seg = SS;
			insn(mode, &e, "%s (%%bp,%%si)", i ? "smsw" : "lmsw");
			e.base = 3;
			e.index = NO_REG;
			e.seg = DS;
			e.disp = 0x7f;
			insn(mode, &e, "%s 0x7f(%%bx)", i ? "smsw" : "lmsw");
			continue;
		}
		e.base = 3;
		e.disp = 0x10;
		mem(m, sizeof(m), names, 0x10, true, 3, NO_REG, 0);
		insn(mode, &e, "%s %s", i ? "smsw" : "lmsw", m);
		e.base = 4;
		e.index = 7;
		e.scale = 3;
		e.disp = -0x80;
		e.seg = SS;
		mem(m, sizeof(m), names, -0x80, true, 4, 7, 3);
		insn(mode, &e, "%s %s", i ? "smsw" : "lmsw", m);
		e.seg = FS;
		insn(mode, &e, "%s %%fs:%s", i ? "smsw" : "lmsw", m);
		if (mode == 64) {
			e = cr_expect(i ? CR_SMSW : CR_LMSW, 0, 0, 2);
			e.adsize = 8;
			e.base = RIP;
			e.disp = 0x1234;
			insn(mode, &e, "%s 0x1234(%%rip)", i ? "smsw" : "lmsw");
		}
	}

	memset(&e, 0, sizeof(e));
	e.kind = K_NONE;
	e.base = NO_REG;
	e.index = NO_REG;
	/* CR1, CR5-CR7, CR9 and up are #UD, never an intercept. */
	raw(mode, &e, "mov %cr1,%eax", "0x0f, 0x20, 0xc8");
	raw(mode, &e, "mov %eax,%cr5", "0x0f, 0x22, 0xe8");
	raw(mode, &e, "mov %eax,%cr7", "0x0f, 0x22, 0xf8");
	if (mode == 64) {
		raw(mode, &e, "mov %rax,%cr9", "0x44, 0x0f, 0x22, 0xc8");
		raw(mode, &e, "mov %cr15,%rax", "0x44, 0x0f, 0x20, 0xf8");
	}
	raw(mode, &e, "lock mov %eax,%cr4", "0xf0, 0x0f, 0x22, 0xe0");
	raw(mode, &e, "lock mov %eax,%cr3", "0xf0, 0x0f, 0x22, 0xd8");
	raw(mode, &e, "lock clts", "0xf0, 0x0f, 0x06");
	raw(mode, &e, "lock lmsw %ax", "0xf0, 0x0f, 0x01, 0xf0");
	raw(mode, &e, "lock repz mov %eax,%cr4", "0xf0, 0xf3, 0x0f, 0x22, 0xe0");
	insn(mode, &e, "sgdt (%%%s)", names[0]);
	insn(mode, &e, "sidt (%%%s)", names[0]);
	insn(mode, &e, "lgdt (%%%s)", names[0]);
	insn(mode, &e, "lidt (%%%s)", names[0]);
	insn(mode, &e, "invlpg (%%%s)", names[0]);
	insn(mode, &e, "mov %%%s,%%dr0", names[0]);
	insn(mode, &e, "mov %%dr7,%%%s", names[0]);
}

int main(void)
{
	printf("/* Generated by gen_emulate_vectors.c: do not edit. */\n");
	printf("\t.section .data.rel.ro.emu_vectors,\"aw\"\n");
	printf("\t.globl emu_vectors\n\t.balign 8\nemu_vectors:\n");
	gen_mov64();
	gen_mov32();
	gen_mov16();
	gen_refused();
	gen_skip(64);
	gen_skip(32);
	gen_skip(16);
	gen_cr(64);
	gen_cr(32);
	gen_cr(16);
	printf("\t.section .data.rel.ro.emu_vectors,\"aw\"\n");
	printf("\t.globl emu_nr_vectors\n\t.balign 4\nemu_nr_vectors:\n\t.long %d\n", nr);
	printf("\t.section .note.GNU-stack,\"\",@progbits\n");
	return 0;
}
