// Static enumeration of the conditional branches gcov-style branch coverage
// is made of: every conditional jump (Jcc, JrCXZ, LOOPcc) in the code of
// every function, found by walking each function's address ranges
// instruction by instruction with the shared x86 classifier.
//
// Jumps the compiler adds for checks gcov never instruments are left out:
// a jump with a successor that immediately calls a no-return check handler
// (__stack_chk_fail for -fstack-protector, __chk_fail and __fortify_fail for
// _FORTIFY_SOURCE, __ubsan_handle_* and __asan_report_* for sanitizers).
// __assert_fail stays: an assert is source the programmer wrote, and gcov
// counts its branches.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dwarf_info.h"
#include "elf_file.h"

namespace hwcov::mapper {

struct BranchSite {
  uint64_t address = 0;  // link-time address of the jump
  uint32_t file = 0;     // DebugInfo::files index of the row owning the jump
  uint32_t line = 0;     // never 0: jumps in line-0 code are left out
};

struct BranchScan {
  std::vector<BranchSite> sites;  // sorted by address
  uint64_t check_jumps = 0;       // left out: compiler-inserted checks
  uint64_t unattributed = 0;      // left out: no line (line 0 or no row)
};

bool IsCheckHandler(const std::string& function_name);

BranchScan FindBranchSites(const ElfFile& elf, const DebugInfo& debug);

}  // namespace hwcov::mapper
