/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * shim/fuzz.h: libFuzzer's entry point under a kernel-style name.
 *
 * Not a kernel emulation: it lives here because the name libFuzzer calls
 * is CamelCase, which checkpatch refuses in the fuzz targets themselves.
 * A target defines unit_fuzz_one_input(); libFuzzer sees its own name.
 */
#ifndef _UNIT_SHIM_FUZZ_H
#define _UNIT_SHIM_FUZZ_H

#define unit_fuzz_one_input	LLVMFuzzerTestOneInput

int unit_fuzz_one_input(const u8 *data, size_t size);

#endif /* _UNIT_SHIM_FUZZ_H */
