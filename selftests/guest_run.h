/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The labels of guest_run_test.c's guest half (its asm block), for the
 * host half: the code is copied to guest memory from guest_start to
 * guest_end, and the other labels are entry points and return addresses.
 */
#ifndef SELFTEST_GUEST_RUN_H
#define SELFTEST_GUEST_RUN_H

void guest_start(void);
void guest_gp(void);
void guest_db(void);
void guest_step(void);
void guest_pkru(void);
void guest_tsc_aux(void);
void guest_msi(void);
void guest_main(void);
void guest_after_out(void);
void guest_after_in(void);
void guest_eoi_handler(void);
void guest_eoi(void);
void guest_extint(void);
void guest_irqwin(void);
void guest_irqwin_halted(void);
void guest_irqwin_spin(void);
void guest_nmi_hlt(void);
void guest_nmi_wait(void);
void guest_pvu(void);
void guest_shutdown(void);
void guest_mem_read(void);
void guest_mem_spin(void);
void guest_rbx_rw(void);
void guest_big_fill(void);
void guest_big_count(void);
void guest_end(void);

#endif /* SELFTEST_GUEST_RUN_H */
