/* What the plugin asks of single instructions when it translates a TB. */
#ifndef HWCOV_EMU_INSN_H
#define HWCOV_EMU_INSN_H

#include <stddef.h>
#include <stdint.h>

#include "qemu_plugin_api.h"

void hwcov_emu_insn_init(void);

/* Whether an instruction can stop its TB with a synchronous fault (SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL, SIGTRAP): only these (and a TB's last instruction)
 * need the instructions-started marker. */
int hwcov_emu_may_fault(const uint8_t* bytes, size_t size);

/* QEMU 7.2 lists an instruction that crosses a page end in the middle of a
 * TB although the translator rolled it back (it starts the next TB). */
int hwcov_emu_is_phantom(const struct qemu_plugin_insn* insn);

#endif /* HWCOV_EMU_INSN_H */
