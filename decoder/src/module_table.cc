#include "module_table.h"

#include <cstdlib>
#include <filesystem>

namespace hwcov::decoder {
namespace {

namespace fs = std::filesystem;

bool IsFile(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);  // follows the cache's symlinks
}

// |path| re-rooted under |root|: "/usr/bin/ls" under "/mnt/x" is
// "/mnt/x/usr/bin/ls" (fs::path's operator/ would drop the root).
fs::path Under(const fs::path& root, const std::string& path) {
  return root / fs::path(path).relative_path();
}

// perf's build-id cache entries for |id| under |dir|, newest layout first:
// .build-id/xx/yyyy is a symlink to ../../<path>/<id> (a directory holding
// "elf" since perf 4.x, the file itself before).
std::vector<fs::path> CacheCandidates(const fs::path& dir, const std::string& recorded_path,
                                      const std::string& hex) {
  const fs::path link = dir / ".build-id" / hex.substr(0, 2) / hex.substr(2);
  std::vector<fs::path> out = {link / "elf", link};
  if (!recorded_path.empty()) {
    const fs::path by_path = Under(dir, recorded_path) / hex;
    out.push_back(by_path / "elf");
    out.push_back(by_path);
  }
  return out;
}

}  // namespace

std::vector<fs::path> BuildIdDirs(const DecodeOptions& options) {
  std::vector<fs::path> dirs(options.buildid_dirs.begin(), options.buildid_dirs.end());
  if (const char* env = std::getenv("PERF_BUILDID_DIR"); env && *env)
    dirs.emplace_back(env);
  else if (const char* home = std::getenv("HOME"); home && *home)
    dirs.push_back(fs::path(home) / ".debug");
  return dirs;
}

std::optional<fs::path> LocateBinary(const std::string& recorded_path, const BuildId& id,
                                     const DecodeOptions& options, std::string& why) {
  const fs::path at_path =
      options.sysroot.empty() ? fs::path(recorded_path) : Under(options.sysroot, recorded_path);
  bool mismatch = false;
  if (IsFile(at_path)) {
    if (id.empty() || ReadElfBuildId(at_path).value_or(BuildId{}) == id) return at_path;
    mismatch = true;
  }
  std::string caches;
  if (!id.empty()) {
    const std::string hex = id.Hex();
    for (const fs::path& dir : BuildIdDirs(options)) {
      caches += (caches.empty() ? "" : ", ") + dir.string();
      if (hex.size() < 3) continue;
      for (const fs::path& candidate : CacheCandidates(dir, recorded_path, hex))
        if (IsFile(candidate) && ReadElfBuildId(candidate).value_or(BuildId{}) == id)
          return candidate;
    }
  }
  const std::string cache_note =
      id.empty()
          ? ""
          : (caches.empty()
                 ? " and no build-id cache to look in"
                 : " and build id " + id.Hex() + " is in no build-id cache (" + caches + ")");
  if (mismatch)
    why = at_path.string() + ": build id differs from the recorded " + id.Hex() +
          " (rebuilt since?)" + (caches.empty() ? "" : " and no build-id cache has the original") +
          "; its code is not decoded";
  else
    why = at_path.string() + ": binary not found" + cache_note + "; its code is not decoded";
  return std::nullopt;
}

std::optional<uint32_t> ModuleTable::Intern(const trace::MmapEvent& mmap, const BuildId& recorded,
                                            std::vector<std::string>& warnings) {
  auto key = std::make_pair(mmap.filename, recorded.Hex());
  auto it = index_.find(key);
  if (it != index_.end()) return it->second;
  std::string file = mmap.filename;  // [vdso] and other code without a file keep their name
  if (!mmap.filename.empty() && mmap.filename[0] != '[') {
    std::string why;
    std::optional<fs::path> found = LocateBinary(mmap.filename, recorded, options_, why);
    if (!found) {
      warnings.push_back(why);
      index_.emplace(key, std::nullopt);
      return std::nullopt;
    }
    file = found->string();
  }
  const auto index = static_cast<uint32_t>(modules_.size());
  modules_.push_back(Module{file, mmap.filename, recorded});
  index_.emplace(key, index);
  return index;
}

}  // namespace hwcov::decoder
