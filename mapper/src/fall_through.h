// Whether a statement view (an is_stmt row owning no instruction) at an
// executed address describes code that ran. Views at one address are
// ordered: those before the jump label at that address belong to the path
// falling into it from the instruction before, the others to the jumps that
// land there, and DWARF does not say where the label is. gcc and clang merge
// identical tails (two `return NULL;` paths become one instruction), and the
// view of the falling path's line then sits at the instruction the other
// path jumps to: the jump is no evidence that the falling path's statement
// ran. So:
//   - an address only jumps can reach (the instruction before it, padding
//     aside, is a jump or a return), a function body's start and an inlined
//     copy's entry: its views ran when its instruction ran;
//   - otherwise its views ran only if execution fell into it: the
//     instruction before it ran and continued there (a call returned, a
//     conditional jump was not taken).
#pragma once

#include <cstdint>
#include <map>
#include <unordered_set>
#include <utility>

#include "dwarf_info.h"
#include "elf_file.h"
#include "execution_depth.h"

namespace hwcov::mapper {

class FallThrough {
 public:
  // |branches|: conditional jump address -> (taken, not taken), as counted.
  FallThrough(const ElfFile& elf, const DebugInfo& debug, const ExecutionDepth& depth,
              const std::map<uint64_t, std::pair<uint64_t, uint64_t>>& branches);

  // Whether the views at |address|, an executed instruction, ran (above).
  bool ViewsRan(uint64_t address) const;

 private:
  const ElfFile& elf_;
  const DebugInfo& debug_;
  const ExecutionDepth& depth_;
  const std::map<uint64_t, std::pair<uint64_t, uint64_t>>& branches_;
  std::unordered_set<uint64_t> entries_;  // body range starts, inlined copies' entries
};

}  // namespace hwcov::mapper
