// Where code interrupted by a signal right after the instruction at |ip|
// resumes, given |resumed|, the first TB entered after the handler's
// rt_sigreturn (if it returned): that address when |insn| can go there (or
// it is |ip| itself: the instruction did not complete), else, as when the
// handler never returned (longjmp, exit, a nested signal's return), the
// static successor of non-branches and direct branches, and nothing for the
// others. One rule for the trace converter and the counting mode, so that
// both modes give the same coverage.
#pragma once

#include <cstdint>
#include <optional>

#include "hwcov/support.h"

namespace hwcov::collector {

inline std::optional<uint64_t> ResumeAfterSignal(uint64_t ip, const InsnInfo& insn,
                                                 std::optional<uint64_t> resumed) {
  const uint64_t fall = ip + insn.length;
  if (resumed) {
    const uint64_t resume = *resumed;
    if (resume == ip) return resume;
    switch (insn.kind) {
      case InsnKind::kOther:
        if (resume == fall) return resume;
        break;
      case InsnKind::kCondJump:
        if (resume == fall || resume == insn.target) return resume;
        break;
      case InsnKind::kDirectJump:
      case InsnKind::kDirectCall:
        if (resume == insn.target) return resume;
        break;
      default:
        return resume;
    }
  }
  if (insn.kind == InsnKind::kOther && !insn.has_rep) return fall;
  if ((insn.kind == InsnKind::kDirectJump || insn.kind == InsnKind::kDirectCall) && insn.target)
    return insn.target;
  return std::nullopt;
}

}  // namespace hwcov::collector
