// The names functions are reported under. lcov wants linkage (mangled)
// names; DWARF does not always have one.
#pragma once

#include <string>
#include <vector>

#include "module_data.h"

namespace hwcov::mapper {

// The demangled form of |name|, or |name| when it is not a mangled C++ name.
std::string Demangle(const std::string& name);

struct FunctionNames {
  std::vector<std::string> names;      // by DebugInfo::functions index
  std::vector<std::string> demangled;  // the same, demangled
};

// In order of preference: DW_AT_linkage_name; the C++ symbol at an
// out-of-line copy's entry, minus a clone suffix ("_ZL7next_idv" for a
// static function, lambdas); DW_AT_name. gcc's C4/D4 constructor and
// destructor names become C2/D2.
FunctionNames NameFunctions(const ModuleData& module);

}  // namespace hwcov::mapper
