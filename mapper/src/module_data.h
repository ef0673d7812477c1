// Everything the mapper derives from one binary alone, independent of any
// trace: its ELF facts, its DWARF (from wherever it lives), which function
// copy each address belongs to, and its conditional branches. Loaded once
// per build id and process (LoadModule caches it), because it costs far more
// than mapping a profile onto it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "branch_sites.h"
#include "dwarf_info.h"
#include "elf_file.h"
#include "instance_map.h"

namespace hwcov::mapper {

struct ModuleData {
  ElfFile elf;               // the binary: segments, code bytes, symbols
  std::string debug_path;    // where the DWARF was read from; "" without DWARF
  std::string debug_source;  // how it was found ("the binary", "build-id directory D", ...)
  DebugInfo debug;
  InstanceMap instances;
  BranchScan branches;
  std::vector<std::string> warnings;  // about this binary's debug info
};

// The module data of the binary at |path|, from the process-wide cache when
// a binary with the same build id (or, without one, the same path, size and
// modification time) was loaded before with the same |debug_dirs|.
// Thread-safe. Throws hwcov::Error when the binary cannot be read.
std::shared_ptr<const ModuleData> LoadModule(const std::string& path,
                                             const std::vector<std::string>& debug_dirs);

// The same without the cache, for the fuzz target (tests/fuzz/mapper_fuzz.cc):
// the cache keeps every binary it met, one per input there.
std::shared_ptr<const ModuleData> LoadModuleUncached(const std::string& path,
                                                     const std::vector<std::string>& debug_dirs);

}  // namespace hwcov::mapper
