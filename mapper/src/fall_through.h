// Whether a statement view (an is_stmt row owning no instruction) at an
// executed address describes code that ran. The views at one address and
// the jump label there are ordered, and DWARF does not say where the label
// is: a jump may land on the views or after them. gcc and clang merge
// identical tails (two `return NULL;` paths become one instruction), and a
// jump from another statement then lands on the view of a statement that did
// not run. Precision first, a view counts only on evidence:
//   - its address is a function body's start or an inlined copy's entry, or
//     only jumps can reach it (the instruction before it, padding aside, is
//     a jump or a return): every arrival is one the views describe;
//   - otherwise execution fell into it: the instruction before it ran and
//     continued there (a call returned, a conditional jump was not taken).
// The cost (a loop exit jumping onto the view of the statement after the
// loop is not counted) is measured in docs/accuracy.md.
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
