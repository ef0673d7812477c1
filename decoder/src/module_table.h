// The binaries a decode uses: one Module per (recorded path, build id), each
// located and checked once.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hwcov/decoder.h"
#include "hwcov/trace.h"

namespace hwcov::decoder {

// Interns modules by (path, build id) and checks each binary once.
class ModuleTable {
 public:
  // Returns the module index, or nullopt when the binary is unusable (the
  // reason is added to |warnings| once).
  std::optional<uint32_t> Intern(const trace::MmapEvent& mmap, const BuildId& recorded,
                                 std::vector<std::string>& warnings);
  std::vector<Module>& modules() { return modules_; }

 private:
  std::map<std::pair<std::string, std::string>, std::optional<uint32_t>> index_;
  std::vector<Module> modules_;
};

}  // namespace hwcov::decoder
