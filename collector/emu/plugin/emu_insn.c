#define _GNU_SOURCE
#include "emu_insn.h"

#include <Zydis/Zydis.h>
#include <stdlib.h>
#include <string.h>

#include "emu_format.h"

static ZydisDecoder g_decoder;

void hwcov_emu_insn_init(void) {
  ZydisDecoderInit(&g_decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
}

/* Whether an instruction can stop its TB with a synchronous fault (SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL, SIGTRAP): anything but integer arithmetic, moves
 * and branches on registers. Memory operands fault; divisions trap;
 * floating-point and vector instructions may raise unmasked exceptions or be
 * missing from QEMU's CPU. Only these (and a TB's last instruction) need the
 * instructions-started marker: the rest cannot be where a TB stops early. */
int hwcov_emu_may_fault(const uint8_t* bytes, size_t size) {
  ZydisDecodedInstruction insn;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&g_decoder, bytes, size, &insn, ops))) return 1;
  if (insn.meta.category == ZYDIS_CATEGORY_NOP || insn.meta.category == ZYDIS_CATEGORY_WIDENOP)
    return 0; /* "nopl 0(%rax)" names memory without touching it */
  if (insn.encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY) return 1;
  for (unsigned i = 0; i < insn.operand_count; ++i) {
    const ZydisDecodedOperand* op = &ops[i];
    if (op->type == ZYDIS_OPERAND_TYPE_MEMORY && op->mem.type != ZYDIS_MEMOP_TYPE_AGEN) return 1;
    if (op->type == ZYDIS_OPERAND_TYPE_REGISTER &&
        ZydisRegisterGetClass(op->reg.value) == ZYDIS_REGCLASS_SEGMENT)
      return 1;
  }
  switch (insn.mnemonic) {
    case ZYDIS_MNEMONIC_DIV:
    case ZYDIS_MNEMONIC_IDIV:
      return 1;
    case ZYDIS_MNEMONIC_LEA:
      return 0;
    default:
      break;
  }
  switch (insn.meta.category) {
    case ZYDIS_CATEGORY_BINARY:
    case ZYDIS_CATEGORY_LOGICAL:
    case ZYDIS_CATEGORY_SHIFT:
    case ZYDIS_CATEGORY_ROTATE:
    case ZYDIS_CATEGORY_BITBYTE:
    case ZYDIS_CATEGORY_CMOV:
    case ZYDIS_CATEGORY_SETCC:
    case ZYDIS_CATEGORY_CONVERT:
    case ZYDIS_CATEGORY_DATAXFER:
    case ZYDIS_CATEGORY_FLAGOP:
    case ZYDIS_CATEGORY_COND_BR:
    case ZYDIS_CATEGORY_UNCOND_BR:
    case ZYDIS_CATEGORY_CET: /* endbr64 */
      return 0;
    default:
      return 1;
  }
}

/* QEMU 7.2 lists an instruction that crosses a page end in the middle of a
 * TB although the translator rolled it back (it starts the next TB): its
 * size is truncated and it has no valid disassembly. */
int hwcov_emu_is_phantom(const struct qemu_plugin_insn* insn) {
  const uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
  if (HWCOV_EMU_PAGE - (vaddr & (HWCOV_EMU_PAGE - 1)) >= 16) return 0;
  char* text = qemu_plugin_insn_disas(insn);
  const int phantom = text && strncmp(text, ".byte", 5) == 0;
  free(text);
  return phantom;
}
