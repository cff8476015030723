/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest page walk, instruction fetch and the small decoders a runner
 * needs on a CPU without decode assists and without next_rip (NRIP save):
 * emulate.c.
 *
 * Vendor-neutral: the caller fills struct lapicv_emu_ctx from its own
 * view of the vCPU (VMCB, VMCS, saved registers) and supplies a callback
 * that reads guest-physical memory.  Nothing here touches userspace
 * memory or a control block, keeps state or takes a lock; whether it may
 * sleep is the callbacks' business.  The functions only read the context
 * and guest memory, except lapicv_emu_write_linear() (guest memory,
 * through the write callback), lapicv_emu_mov_load_result() and
 * lapicv_emu_mov_execute() (the register array and RFLAGS they are
 * given).
 */
#ifndef _LAPICV_EMULATE_H
#define _LAPICV_EMULATE_H

#include "lapicv_internal.h"

/* The architectural limit on an x86 instruction's length. */
#define LAPICV_EMU_MAX_INSN	15

/* Segment registers, numbered as x86 encodes them. */
enum lapicv_emu_seg {
	LAPICV_EMU_ES,
	LAPICV_EMU_CS,
	LAPICV_EMU_SS,
	LAPICV_EMU_DS,
	LAPICV_EMU_FS,
	LAPICV_EMU_GS,
	LAPICV_EMU_NR_SEGS,
};

/* Guest CPUID facts the page walk depends on (lapicv_emu_ctx.features). */
#define LAPICV_EMU_F_GBPAGES	BIT(0)	/* 1 GiB pages (CPUID 0x80000001 EDX.26) */
#define LAPICV_EMU_F_AMD	BIT(1)	/* AMD: bit 8 of PML4Es/PML5Es reserved */
/* LOCK MOV CR0 is MOV CR8 (CPUID 0x80000001 ECX.4, AltMovCr8) */
#define LAPICV_EMU_F_CR8_LEGACY	BIT(2)

/*
 * #PF error code bits.  The access passed to lapicv_emu_translate() uses
 * WRITE, USER and FETCH; a fault reports the error code KVM's walker
 * would give (PRESENT for a protection fault, RSVD for a reserved bit).
 */
#define LAPICV_EMU_PFERR_PRESENT	BIT(0)
#define LAPICV_EMU_PFERR_WRITE		BIT(1)
#define LAPICV_EMU_PFERR_USER		BIT(2)
#define LAPICV_EMU_PFERR_RSVD		BIT(3)
#define LAPICV_EMU_PFERR_FETCH		BIT(4)

#define LAPICV_EMU_GP_VECTOR	13
#define LAPICV_EMU_PF_VECTOR	14

/* The vCPU as the walk and the decoders see it. */
struct lapicv_emu_ctx {
	u64 cr0;
	u64 cr3;
	u64 cr4;
	u64 efer;		/* LMA and NXE are read */
	u64 rflags;		/* AC is read (SMAP) */
	u64 rip;
	u64 seg_base[LAPICV_EMU_NR_SEGS];
	bool cs_l;		/* CS.L: 64-bit code when EFER.LMA */
	bool cs_db;		/* CS.D: 32-bit default operand and address size */
	u8 cpl;
	u8 maxphyaddr;		/* the guest's MAXPHYADDR, 32 .. 52 */
	u32 features;		/* LAPICV_EMU_F_* */
	/*
	 * Read len bytes of guest-physical memory at gpa into buf; 0 or a
	 * negative errno.  Never asked for more than 15 bytes nor across a
	 * 4 KiB page boundary.
	 */
	int (*read)(void *opaque, u64 gpa, void *buf, unsigned int len);
	/* The same for a write; may be NULL where nothing writes. */
	int (*write)(void *opaque, u64 gpa, const void *buf, unsigned int len);
	void *opaque;
};

enum lapicv_emu_status {
	LAPICV_EMU_OK,
	/* The guest gets an exception (struct lapicv_emu_fault) instead. */
	LAPICV_EMU_FAULT,
	/*
	 * Cannot decode or emulate: an instruction outside the supported
	 * forms, bytes that cannot be what the CPU ran, or instruction bytes
	 * outside guest memory.  KVM ends such exits in
	 * KVM_EXIT_INTERNAL_ERROR (KVM_INTERNAL_ERROR_EMULATION).
	 */
	LAPICV_EMU_UNHANDLED,
};

struct lapicv_emu_fault {
	u8 vector;		/* LAPICV_EMU_PF_VECTOR or LAPICV_EMU_GP_VECTOR */
	u32 error_code;
	u64 address;		/* #PF: the linear address (CR2) */
};

/*
 * Translate a linear address for an access (LAPICV_EMU_PFERR_WRITE, _USER,
 * _FETCH) in the guest's current paging mode.  No accessed or dirty bit
 * is set: the walk is for instructions the CPU has just fetched and
 * translated itself.
 */
enum lapicv_emu_status lapicv_emu_translate(const struct lapicv_emu_ctx *ctx,
					    u64 la, u32 access, u64 *gpa,
					    struct lapicv_emu_fault *fault);

/*
 * Up to 15 bytes at CS:RIP.  len bytes were fetched; when len < 15, tail
 * says why the next one was not (LAPICV_EMU_FAULT with fault filled, or
 * LAPICV_EMU_UNHANDLED when it is outside guest memory).  A decoder that
 * needs a byte at len or beyond returns tail, so a fault on the second
 * page is reported only for an instruction that really extends there.
 */
struct lapicv_emu_fetch {
	u8 bytes[LAPICV_EMU_MAX_INSN];
	u8 len;
	enum lapicv_emu_status tail;
	struct lapicv_emu_fault fault;
};

/* LAPICV_EMU_OK if at least one byte was fetched, else f->tail. */
enum lapicv_emu_status lapicv_emu_fetch(const struct lapicv_emu_ctx *ctx,
					struct lapicv_emu_fetch *f);

/* The instructions lapicv_emu_decode_skip() knows. */
enum lapicv_emu_insn {
	LAPICV_EMU_INSN_UNKNOWN,
	LAPICV_EMU_INSN_RDMSR,
	LAPICV_EMU_INSN_WRMSR,
	LAPICV_EMU_INSN_CPUID,
	LAPICV_EMU_INSN_HLT,
	LAPICV_EMU_INSN_RDTSC,
	LAPICV_EMU_INSN_RDTSCP,
	LAPICV_EMU_INSN_RDPMC,
	LAPICV_EMU_INSN_VMMCALL,
	LAPICV_EMU_INSN_XSETBV,
	LAPICV_EMU_INSN_WBINVD,
	LAPICV_EMU_INSN_WBNOINVD,
	LAPICV_EMU_INSN_INVD,
	LAPICV_EMU_INSN_PAUSE,
	LAPICV_EMU_INSN_IN,		/* IN AL/eAX, imm8 or DX */
	LAPICV_EMU_INSN_OUT,		/* OUT imm8 or DX, AL/eAX */
	LAPICV_EMU_INSN_INS,
	LAPICV_EMU_INSN_OUTS,
	LAPICV_EMU_INSN_MONITOR,
	LAPICV_EMU_INSN_MWAIT,
	LAPICV_EMU_INSN_MONITORX,
	LAPICV_EMU_INSN_MWAITX,
};

/*
 * The length of an instruction a runner skips after an intercept.  Any
 * other instruction, a LOCK prefix (#UD before any intercept) or more
 * than 15 bytes is LAPICV_EMU_UNHANDLED.
 */
enum lapicv_emu_status lapicv_emu_decode_skip(const struct lapicv_emu_ctx *ctx,
					      const struct lapicv_emu_fetch *f,
					      enum lapicv_emu_insn *insn,
					      unsigned int *len);

/*
 * Fetch at CS:RIP and decode; LAPICV_EMU_UNHANDLED unless the instruction
 * is the expected one (the exit says which).  On LAPICV_EMU_OK, *len is
 * its length; on LAPICV_EMU_FAULT, *fault is for the guest.
 */
enum lapicv_emu_status lapicv_emu_skip_len(const struct lapicv_emu_ctx *ctx,
					   enum lapicv_emu_insn expected,
					   unsigned int *len,
					   struct lapicv_emu_fault *fault);

/* RIP after an instruction of len bytes, wrapped as the CPU wraps it. */
u64 lapicv_emu_next_rip(const struct lapicv_emu_ctx *ctx, unsigned int len);

enum lapicv_emu_mov_op {
	LAPICV_EMU_MOV_LOAD,		/* memory -> reg */
	LAPICV_EMU_MOV_STORE,		/* reg -> memory */
	LAPICV_EMU_MOV_STORE_IMM,	/* imm -> memory */
	LAPICV_EMU_MOV_XCHG,		/* memory <-> reg: a load and a store */
	/* memory op= reg or imm, RFLAGS; CMP and TEST do not store */
	LAPICV_EMU_MOV_ALU,
};

/* The ALU operations, numbered as ModRM.reg names them in 80-83. */
enum lapicv_emu_alu {
	LAPICV_EMU_ALU_ADD = 0,
	LAPICV_EMU_ALU_OR = 1,
	LAPICV_EMU_ALU_AND = 4,
	LAPICV_EMU_ALU_SUB = 5,
	LAPICV_EMU_ALU_XOR = 6,
	LAPICV_EMU_ALU_CMP = 7,
	LAPICV_EMU_ALU_TEST = 8,
};

/*
 * A decoded instruction with one memory operand, for MMIO: MOV (88, 89,
 * 8A, 8B, A0-A3 (moffs), C6 /0, C7 /0), MOVZX (0F B6/B7), MOVSX (0F
 * BE/BF), MOVSXD (REX.W 63); XCHG r/m, r (86, 87); and with memory as
 * the destination or first operand ADD, OR, AND, SUB, XOR, CMP with a
 * register (00/01, 08/09, 20/21, 28/29, 30/31, 38/39) or an immediate
 * (80, 81, 83), and TEST (84/85, F6/F7 /0).
 */
struct lapicv_emu_mov {
	enum lapicv_emu_mov_op op;
	u8 len;			/* instruction length */
	u8 size;		/* bytes accessed in memory: 1, 2, 4 or 8 */
	/*
	 * The register loaded, stored or exchanged, or the ALU's source,
	 * 0 (RAX) .. 15 (R15)
	 */
	u8 reg;
	/*
	 * reg is AH, CH, DH or BH: bits 15:8 of register reg (0 .. 3).
	 * Only for 1-byte accesses without REX.
	 */
	bool high8;
	/*
	 * A load writes reg_size bytes of reg (x86's rules: 4 clears bits
	 * 63:32, 1 and 2 keep the rest), extending the size bytes loaded,
	 * with their sign when sign_extend (MOVSX, MOVSXD).
	 */
	u8 reg_size;
	bool sign_extend;
	u8 alu;			/* ALU: enum lapicv_emu_alu */
	bool src_imm;		/* ALU: the source is imm, not reg */
	u8 seg;			/* enum lapicv_emu_seg of the access */
	/* STORE_IMM, ALU with src_imm: the value, size bytes of it */
	u64 imm;
	u64 gva;		/* linear address of the access */
};

/*
 * Decode one of the instructions above with a memory operand.  regs are
 * the guest's general-purpose registers in encoding order (RAX, RCX,
 * RDX, RBX, RSP, RBP, RSI, RDI, R8 .. R15), for the address.  Anything
 * else, including a register operand, ADC, SBB, or a LOCK prefix other
 * than on XCHG and the storing ALU operations (#UD on the CPU), is
 * LAPICV_EMU_UNHANDLED.
 */
enum lapicv_emu_status lapicv_emu_decode_mov(const struct lapicv_emu_ctx *ctx,
					     const struct lapicv_emu_fetch *f,
					     const u64 *regs,
					     struct lapicv_emu_mov *m);

/* lapicv_emu_fetch() then lapicv_emu_decode_mov(); *fault on a fault. */
enum lapicv_emu_status lapicv_emu_mov(const struct lapicv_emu_ctx *ctx,
				      const u64 *regs,
				      struct lapicv_emu_mov *m,
				      struct lapicv_emu_fault *fault);

/* The control-register instructions a CR intercept can name. */
enum lapicv_emu_cr_op {
	LAPICV_EMU_CR_READ,		/* MOV r, CRn (0F 20) */
	LAPICV_EMU_CR_WRITE,		/* MOV CRn, r (0F 22) */
	LAPICV_EMU_CR_CLTS,		/* CLTS (0F 06) */
	LAPICV_EMU_CR_LMSW,		/* LMSW r/m16 (0F 01 /6) */
	LAPICV_EMU_CR_SMSW,		/* SMSW r/m (0F 01 /4) */
};

/*
 * A decoded control-register access.  MOV to or from CRn names a
 * register whatever ModRM.mod says; LMSW and SMSW take a register or,
 * with mem, a 2-byte memory operand at gva.
 */
struct lapicv_emu_cr {
	enum lapicv_emu_cr_op op;
	u8 len;			/* instruction length */
	u8 cr;			/* READ, WRITE: 0, 2, 3, 4 or 8; else 0 (CR0) */
	u8 reg;			/* the general-purpose register, 0 .. 15 */
	/*
	 * Bytes of reg: 8 for MOV in 64-bit mode, else 4; LMSW 2; SMSW
	 * the operand size (a 4-byte SMSW writes all of a 64-bit reg's
	 * low half and clears the rest, as a 4-byte load does).
	 */
	u8 size;
	bool mem;
	u8 seg;			/* mem: enum lapicv_emu_seg */
	u64 gva;		/* mem: linear address */
};

/*
 * Decode MOV to or from CR0, CR2, CR3, CR4 or CR8 (with F_CR8_LEGACY,
 * LOCK MOV CR0 as CR8), CLTS, LMSW or SMSW.  F2 and F3 are ignored, as
 * KVM's emulator ignores them on these.  Anything else, another control
 * register (#UD on the CPU) or a LOCK prefix elsewhere is
 * LAPICV_EMU_UNHANDLED.
 */
enum lapicv_emu_status lapicv_emu_decode_cr(const struct lapicv_emu_ctx *ctx,
					    const struct lapicv_emu_fetch *f,
					    const u64 *regs,
					    struct lapicv_emu_cr *cr);

/*
 * Read len bytes (at most 8) at a linear address, as a data read at the
 * context's CPL, across a page boundary if need be; *fault on a fault.
 * LAPICV_EMU_UNHANDLED if the memory is not guest memory.
 */
enum lapicv_emu_status lapicv_emu_read_linear(const struct lapicv_emu_ctx *ctx,
					      u64 la, void *buf,
					      unsigned int len,
					      struct lapicv_emu_fault *fault);

/*
 * Write len bytes (at most 8) at a linear address, as a data write at the
 * context's CPL, across a page boundary if need be (both pages translated
 * before anything is written); *fault on a fault.  LAPICV_EMU_UNHANDLED
 * if the memory is not guest memory or the context has no write callback.
 */
enum lapicv_emu_status lapicv_emu_write_linear(const struct lapicv_emu_ctx *ctx,
					       u64 la, const void *buf,
					       unsigned int len,
					       struct lapicv_emu_fault *fault);

/*
 * KVM's load_pdptrs() check, for PAE paging outside long mode: the four
 * PDPTEs at CR3[51:5] are guest memory, and none that is present has a
 * reserved bit (bits 2:1, 8:5, and MAXPHYADDR and up).  Only
 * ctx->maxphyaddr, ->read and ->opaque are used.
 */
bool lapicv_emu_pdptrs_valid(const struct lapicv_emu_ctx *ctx, u64 cr3);

/* The size bytes a store writes to memory. */
u64 lapicv_emu_mov_store_value(const struct lapicv_emu_mov *m,
			       const u64 *regs);

/* Put the size bytes a load read (data) into the register file. */
void lapicv_emu_mov_load_result(const struct lapicv_emu_mov *m, u64 *regs,
				u64 data);

/* Does the instruction read memory, does it write it? */
bool lapicv_emu_mov_reads(const struct lapicv_emu_mov *m);
bool lapicv_emu_mov_writes(const struct lapicv_emu_mov *m);

/*
 * Carry an access out on the register file and RFLAGS, given the size
 * bytes memory held (data; anything for an access that does not read):
 * a load's or XCHG's register, an ALU operation's CF, PF, AF, ZF, SF and
 * OF (AF cleared by the logical ones, as the CPU does).  Returns the size
 * bytes to store when lapicv_emu_mov_writes().
 */
u64 lapicv_emu_mov_execute(const struct lapicv_emu_mov *m, u64 *regs,
			   u64 *rflags, u64 data);

#endif /* _LAPICV_EMULATE_H */
