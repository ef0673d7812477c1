#include "module_table.h"

#include <filesystem>

namespace hwcov::decoder {

std::optional<uint32_t> ModuleTable::Intern(const trace::MmapEvent& mmap, const BuildId& recorded,
                                            std::vector<std::string>& warnings) {
  auto key = std::make_pair(mmap.filename, recorded.Hex());
  auto it = index_.find(key);
  if (it != index_.end()) return it->second;
  std::optional<uint32_t> result;
  const bool file_backed = !mmap.filename.empty() && mmap.filename[0] != '[';
  if (file_backed && !std::filesystem::is_regular_file(mmap.filename)) {
    warnings.push_back(mmap.filename + ": binary not found; its code is not decoded");
  } else if (file_backed && !recorded.empty() &&
             ReadElfBuildId(mmap.filename).value_or(BuildId{}) != recorded) {
    warnings.push_back(mmap.filename + ": build id differs from the recorded " + recorded.Hex() +
                       " (rebuilt since?); its code is not decoded");
  } else {
    result = static_cast<uint32_t>(modules_.size());
    modules_.push_back(Module{mmap.filename, mmap.filename, recorded});
  }
  index_.emplace(key, result);
  return result;
}

}  // namespace hwcov::decoder
