// The code a PT queue executed: the address space of the traced process built
// from MMAP2 sideband, as a libipt image (for decoding) and as raw bytes (for
// hwcov's own instruction walk over decoded blocks).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hwcov/decoder.h"
#include "hwcov/trace.h"

struct pt_image;
struct pt_image_section_cache;

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

struct Mapping {
  uint64_t start = 0, end = 0, pgoff = 0;
  uint32_t module = 0;
  std::string path;
  const trace::CodeSnapshot* snapshot = nullptr;
};

// Memory-mapped binaries, shared by all images of one decode.
class FileCache {
 public:
  std::span<const uint8_t> Bytes(const std::string& path);

 private:
  std::map<std::string, std::shared_ptr<const MappedFile>> files_;
};

class CodeImage {
 public:
  // The image of the process that |queue| traced.
  CodeImage(const trace::Trace& trace, const trace::AuxQueue& queue, ModuleTable& modules,
            pt_image_section_cache* iscache, FileCache& files, std::vector<std::string>& warnings);
  ~CodeImage();
  CodeImage(const CodeImage&) = delete;
  CodeImage& operator=(const CodeImage&) = delete;

  pt_image* image() const { return image_; }
  const Mapping* Find(uint64_t ip) const;
  // Up to |max| code bytes at |ip| (fewer at the end of the mapping).
  std::span<const uint8_t> CodeAt(uint64_t ip, size_t max) const;

 private:
  std::vector<Mapping> mappings_;  // sorted by start, non-overlapping
  pt_image* image_ = nullptr;
  FileCache& files_;
};

}  // namespace hwcov::decoder
