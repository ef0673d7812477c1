#include "module_data.h"

#include <sys/stat.h>

#include <map>
#include <mutex>

#include "debug_locator.h"

namespace hwcov::mapper {
namespace {

std::string CacheKey(const std::string& path, const std::vector<std::string>& debug_dirs) {
  std::string key;
  if (auto id = ReadElfBuildId(path); id && !id->empty()) {
    key = "build-id:" + id->Hex();
  } else {
    struct stat st {};
    stat(path.c_str(), &st);
    key = "path:" + path + ":" + std::to_string(st.st_size) + ":" +
          std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
  }
  for (const std::string& dir : debug_dirs) key += '\0' + dir;
  return key;
}

// DWARF with line tables but no functions (split DWARF whose .dwo files
// are not at hand, hand-written assembly): functions, and the ranges the
// branch scan walks, come from the symbol table instead.
void AddSymbolFunctions(const ElfFile& elf, DebugInfo& debug) {
  for (const Symbol& s : elf.functions) {
    // "foo.cold" is the unlikely part of foo (gcc hot/cold splitting).
    if (!elf.InExecutableSegment(s.address) || s.name.find(".cold") != std::string::npos) continue;
    Function f;
    f.name = s.name;
    if (s.name.rfind("_Z", 0) == 0) f.linkage = s.name;
    CodeInstance instance;
    instance.function = static_cast<uint32_t>(debug.functions.size());
    instance.ranges = {{s.address, s.address + s.size}};
    instance.entry = s.address;
    debug.functions.push_back(std::move(f));
    debug.instances.push_back(std::move(instance));
  }
}

}  // namespace

std::shared_ptr<const ModuleData> LoadModuleUncached(const std::string& path,
                                                     const std::vector<std::string>& debug_dirs) {
  auto data = std::make_shared<ModuleData>();
  data->elf = ReadElfFile(path);
  if (auto where = LocateDebugInfo(data->elf, debug_dirs, data->warnings)) {
    data->debug = ReadDebugInfo(where->path);
    data->warnings.insert(data->warnings.end(), data->debug.warnings.begin(),
                          data->debug.warnings.end());
    if (data->debug.has_dwarf) {
      data->debug_path = where->path;
      data->debug_source = where->source;
      if (data->debug.instances.empty()) {
        AddSymbolFunctions(data->elf, data->debug);
        data->warnings.push_back(
            path + ": DWARF without functions (split DWARF?); functions from ELF symbols");
      }
    }
  }
  data->instances = InstanceMap(data->debug);
  data->branches = FindBranchSites(data->elf, data->debug);
  return data;
}

std::shared_ptr<const ModuleData> LoadModule(const std::string& path,
                                             const std::vector<std::string>& debug_dirs) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const ModuleData>> cache;
  const std::string key = CacheKey(path, debug_dirs);
  {
    std::lock_guard lock(mutex);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  std::shared_ptr<const ModuleData> data =
      LoadModuleUncached(path, debug_dirs);  // outside the lock: slow
  std::lock_guard lock(mutex);
  return cache.emplace(key, std::move(data)).first->second;
}

}  // namespace hwcov::mapper
