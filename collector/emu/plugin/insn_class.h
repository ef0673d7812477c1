/* The plugin's view of hwcov's x86-64 control-flow classification
 * (hwcov/support.h: ClassifyInsn): the counting mode decides which
 * transitions are plain successors exactly as the trace converter
 * (emu_converter.cc) and the decoder do, because it is the same function. */
#ifndef HWCOV_INSN_CLASS_H
#define HWCOV_INSN_CLASS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* hwcov::InsnKind's values. */
enum hwcov_insn_kind {
  HWCOV_INSN_OTHER,
  HWCOV_INSN_COND_JUMP,
  HWCOV_INSN_DIRECT_JUMP,
  HWCOV_INSN_DIRECT_CALL,
  HWCOV_INSN_INDIRECT_JUMP,
  HWCOV_INSN_INDIRECT_CALL,
  HWCOV_INSN_RETURN,
  HWCOV_INSN_FAR_TRANSFER,
};

struct hwcov_insn_class {
  uint8_t length; /* 0: the bytes do not decode */
  uint8_t kind;   /* enum hwcov_insn_kind */
  uint8_t has_rep;
  uint8_t has_target;
  uint64_t target; /* of a relative branch */
};

void hwcov_classify_insn(const uint8_t *code, size_t size, uint64_t ip,
                         struct hwcov_insn_class *out);

#ifdef __cplusplus
}
#endif

#endif /* HWCOV_INSN_CLASS_H */
