#include "insn_class.h"

#include "hwcov/support.h"

static_assert(static_cast<int>(hwcov::InsnKind::kOther) == HWCOV_INSN_OTHER);
static_assert(static_cast<int>(hwcov::InsnKind::kCondJump) == HWCOV_INSN_COND_JUMP);
static_assert(static_cast<int>(hwcov::InsnKind::kDirectJump) == HWCOV_INSN_DIRECT_JUMP);
static_assert(static_cast<int>(hwcov::InsnKind::kDirectCall) == HWCOV_INSN_DIRECT_CALL);
static_assert(static_cast<int>(hwcov::InsnKind::kIndirectJump) == HWCOV_INSN_INDIRECT_JUMP);
static_assert(static_cast<int>(hwcov::InsnKind::kIndirectCall) == HWCOV_INSN_INDIRECT_CALL);
static_assert(static_cast<int>(hwcov::InsnKind::kReturn) == HWCOV_INSN_RETURN);
static_assert(static_cast<int>(hwcov::InsnKind::kFarTransfer) == HWCOV_INSN_FAR_TRANSFER);

extern "C" void hwcov_classify_insn(const uint8_t* code, size_t size, uint64_t ip,
                                    hwcov_insn_class* out) {
  const hwcov::InsnInfo info = hwcov::ClassifyInsn({code, size}, ip);
  out->length = info.length;
  out->kind = static_cast<uint8_t>(info.kind);
  out->has_rep = info.has_rep;
  out->has_target = info.target.has_value();
  out->target = info.target.value_or(0);
}
