#include "debug_locator.h"

#include <zlib.h>

#include <filesystem>

#include "hwcov/support.h"

namespace hwcov::mapper {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSystemDebugDir = "/usr/lib/debug";

bool IsFile(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

// The CRC-32 .gnu_debuglink records: zlib's crc32 over the whole file.
uint32_t FileCrc(const fs::path& path) {
  MappedFile file(path);
  uLong crc = crc32(0L, Z_NULL, 0);
  std::span<const uint8_t> bytes = file.bytes();
  constexpr size_t kChunk = 1u << 30;  // crc32 takes a uInt length
  for (size_t at = 0; at < bytes.size(); at += kChunk) {
    const size_t n = std::min(kChunk, bytes.size() - at);
    crc = crc32(crc, bytes.data() + at, static_cast<uInt>(n));
  }
  return static_cast<uint32_t>(crc);
}

std::vector<std::string> SearchDirs(const std::vector<std::string>& debug_dirs) {
  std::vector<std::string> dirs = debug_dirs;
  dirs.push_back(kSystemDebugDir);
  return dirs;
}

std::optional<DebugLocation> ByBuildId(const ElfFile& binary, const std::vector<std::string>& dirs,
                                       std::vector<std::string>& warnings) {
  if (!binary.build_id || binary.build_id->bytes.size() < 2) return std::nullopt;
  const std::string hex = binary.build_id->Hex();
  for (const std::string& dir : dirs) {
    const fs::path candidate =
        fs::path(dir) / ".build-id" / hex.substr(0, 2) / (hex.substr(2) + ".debug");
    if (!IsFile(candidate)) continue;
    if (ReadElfBuildId(candidate) != binary.build_id) {
      warnings.push_back(candidate.string() + ": build id differs from " + binary.path +
                         "'s; not used");
      continue;
    }
    return DebugLocation{candidate.string(), "build-id directory " + dir};
  }
  return std::nullopt;
}

std::optional<DebugLocation> ByDebugLink(const ElfFile& binary,
                                         const std::vector<std::string>& dirs,
                                         std::vector<std::string>& warnings) {
  if (!binary.debuglink || binary.debuglink->name.empty()) return std::nullopt;
  const std::string& name = binary.debuglink->name;
  const fs::path bin_dir = fs::absolute(binary.path).parent_path();
  std::vector<fs::path> candidates = {bin_dir / name, bin_dir / ".debug" / name};
  for (const std::string& dir : dirs) {
    candidates.push_back(fs::path(dir) / bin_dir.relative_path() / name);
    if (dir != kSystemDebugDir) candidates.push_back(fs::path(dir) / name);
  }
  for (const fs::path& candidate : candidates) {
    // The binary's own name can be its debuglink name (objcopy keeps the
    // basename); a stripped binary is never its own debug file.
    if (!IsFile(candidate) || fs::equivalent(candidate, binary.path)) continue;
    if (FileCrc(candidate) != binary.debuglink->crc) {
      warnings.push_back(candidate.string() + ": CRC does not match " + binary.path +
                         "'s .gnu_debuglink; not used");
      continue;
    }
    return DebugLocation{candidate.string(), ".gnu_debuglink " + candidate.parent_path().string()};
  }
  return std::nullopt;
}

}  // namespace

std::optional<DebugLocation> LocateDebugInfo(const ElfFile& binary,
                                             const std::vector<std::string>& debug_dirs,
                                             std::vector<std::string>& warnings) {
  if (binary.has_debug_info) return DebugLocation{binary.path, "the binary"};
  const std::vector<std::string> dirs = SearchDirs(debug_dirs);
  if (auto found = ByBuildId(binary, dirs, warnings)) return found;
  return ByDebugLink(binary, dirs, warnings);
}

}  // namespace hwcov::mapper
