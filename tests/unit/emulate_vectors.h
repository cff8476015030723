/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The layout of the vector table gen_emulate_vectors.c writes in
 * assembly (emulate_vectors.s), as test_emulate.c reads it.
 */
#ifndef _UNIT_EMULATE_VECTORS_H
#define _UNIT_EMULATE_VECTORS_H

/* kind: which decoder must accept the vector. */
#define K_MOV	0	/* the MOV decoder, not the length decoder */
#define K_SKIP	1	/* the length decoder, not the MOV decoder */
#define K_NONE	2	/* neither */
#define K_CR	3	/* the control-register decoder, and only it */
/* base: RIP-relative. */
#define V_RIP	16

struct emu_vector {
	const u8 *bytes;	/* what as assembled */
	const char *text;	/* "mode: the instruction" */
	s64 disp;		/* displacement or moffs */
	u64 imm;		/* STORE_IMM: the value, size bytes of it */
	u8 len;			/* bytes as assembled (16: one too many) */
	u8 mode;		/* 64, 32 or 16 */
	u8 kind;
	/*
	 * K_MOV: mov op; K_SKIP: enum lapicv_emu_insn; K_CR: enum
	 * lapicv_emu_cr_op
	 */
	u8 op;
	u8 size, reg_size, reg, high8, sign, seg;
	s8 base, index;		/* register number, -1 none, V_RIP */
	u8 scale;		/* index << scale */
	u8 adsize;		/* address size in bytes */
	u8 cr;			/* K_CR: the control register */
	u8 alu, src_imm;	/* K_MOV ALU: the operation, an imm source */
};

extern const struct emu_vector emu_vectors[];
extern const u32 emu_nr_vectors;

#endif /* _UNIT_EMULATE_VECTORS_H */
