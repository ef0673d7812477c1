// x86-64 control-flow classification with Zydis, in libipt's instruction
// classes (pt_ild.c): the tracer encodes with it and the decoder and mapper
// interpret blocks with it, so all three agree by construction.
#include <Zydis/Zydis.h>

#include "hwcov/support.h"

namespace hwcov {
namespace {

const ZydisDecoder& Decoder64() {
  static const ZydisDecoder decoder = [] {
    ZydisDecoder d;
    ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    return d;
  }();
  return decoder;
}

// A branch whose target is an immediate displacement (not RIP-relative memory,
// which Zydis also flags as relative).
bool IsRelative(const ZydisDecodedInstruction& insn, const ZydisDecodedOperand* operands) {
  return insn.operand_count_visible > 0 && operands[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
         operands[0].imm.is_relative;
}

InsnKind KindOf(const ZydisDecodedInstruction& insn, const ZydisDecodedOperand* operands) {
  const bool far = insn.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR;
  switch (insn.meta.category) {
    case ZYDIS_CATEGORY_COND_BR:
      return InsnKind::kCondJump;
    case ZYDIS_CATEGORY_UNCOND_BR:
      if (far) return InsnKind::kFarTransfer;
      return IsRelative(insn, operands) ? InsnKind::kDirectJump : InsnKind::kIndirectJump;
    case ZYDIS_CATEGORY_CALL:
      if (far) return InsnKind::kFarTransfer;
      return IsRelative(insn, operands) ? InsnKind::kDirectCall : InsnKind::kIndirectCall;
    case ZYDIS_CATEGORY_RET:
      return insn.mnemonic == ZYDIS_MNEMONIC_RET && !far ? InsnKind::kReturn
                                                         : InsnKind::kFarTransfer;
    case ZYDIS_CATEGORY_SYSCALL:
    case ZYDIS_CATEGORY_SYSRET:
    case ZYDIS_CATEGORY_INTERRUPT:
      return InsnKind::kFarTransfer;
    default:
      break;
  }
  switch (insn.mnemonic) {
    case ZYDIS_MNEMONIC_IRET:
    case ZYDIS_MNEMONIC_IRETD:
    case ZYDIS_MNEMONIC_IRETQ:
    case ZYDIS_MNEMONIC_SYSENTER:
    case ZYDIS_MNEMONIC_SYSEXIT:
      return InsnKind::kFarTransfer;
    default:
      return InsnKind::kOther;
  }
}

// Operands are decoded only for branches (they tell direct from indirect and
// give the target): most instructions are not, and decoding their operands
// would double the cost of building blocks and profiles.
bool NeedsOperands(const ZydisDecodedInstruction& insn) {
  switch (insn.meta.category) {
    case ZYDIS_CATEGORY_UNCOND_BR:
    case ZYDIS_CATEGORY_CALL:
    case ZYDIS_CATEGORY_COND_BR:
      return true;
    default:
      return false;
  }
}

}  // namespace

InsnInfo ClassifyInsn(std::span<const uint8_t> code, uint64_t ip) {
  ZydisDecoderContext context;
  ZydisDecodedInstruction insn;
  ZydisDecodedOperand operands[ZYDIS_MAX_OPERAND_COUNT];
  InsnInfo info;
  if (!ZYAN_SUCCESS(
          ZydisDecoderDecodeInstruction(&Decoder64(), &context, code.data(), code.size(), &insn)))
    return info;
  const bool branch = NeedsOperands(insn);
  if (branch && !ZYAN_SUCCESS(ZydisDecoderDecodeOperands(&Decoder64(), &context, &insn, operands,
                                                         ZYDIS_MAX_OPERAND_COUNT)))
    return info;
  info.length = insn.length;
  info.kind = KindOf(insn, branch ? operands : nullptr);
  info.has_rep = (insn.attributes &
                  (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE)) != 0;
  if (branch && IsRelative(insn, operands)) {
    ZyanU64 target = 0;
    if (ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&insn, &operands[0], ip, &target)))
      info.target = target;
  }
  return info;
}

std::optional<bool> IsSuccessor(uint64_t ip, const InsnInfo& insn, uint64_t next,
                                AfterFarTransfer far) {
  const uint64_t fall = ip + insn.length;
  switch (insn.kind) {
    case InsnKind::kOther:
      return next == fall || (insn.has_rep && next == ip);
    case InsnKind::kCondJump:
      return next == fall || next == insn.target;
    case InsnKind::kDirectJump:
    case InsnKind::kDirectCall:
      return next == insn.target;
    case InsnKind::kFarTransfer:
      return far == AfterFarTransfer::kAnywhere || next == fall;
    default:
      return std::nullopt;
  }
}

}  // namespace hwcov
