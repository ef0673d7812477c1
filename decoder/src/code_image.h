// The code a PT queue executed: the address space of the traced process built
// from MMAP2 sideband, as a libipt image (for decoding) and as raw bytes (for
// hwcov's own instruction walk over decoded blocks).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hwcov/decoder.h"
#include "hwcov/trace.h"
#include "module_table.h"

struct pt_image;
struct pt_image_section_cache;

namespace hwcov::decoder {

struct Mapping {
  uint64_t start = 0, end = 0, pgoff = 0;
  uint32_t module = 0;
  std::string path;
  // Code captured at record time (no file holds it), copied: the trace's
  // list of snapshots may grow while the image is in use (StreamDecoder).
  std::shared_ptr<const std::vector<uint8_t>> snapshot;
};

// Memory-mapped binaries, shared by all images of one decode.
class FileCache {
 public:
  std::span<const uint8_t> Bytes(const std::string& path);

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const MappedFile>> files_;
};

class CodeImage {
 public:
  // The image made of |mmaps| (later ones replace earlier overlapping ones);
  // code snapshots of process |pid| (or of any process when nullopt) serve
  // mappings that have no file.
  CodeImage(const trace::Trace& trace, const std::vector<const trace::MmapEvent*>& mmaps,
            std::optional<uint32_t> pid, ModuleTable& modules, pt_image_section_cache* iscache,
            FileCache& files, std::vector<std::string>& warnings);
  ~CodeImage();
  CodeImage(const CodeImage&) = delete;
  CodeImage& operator=(const CodeImage&) = delete;

  pt_image* image() const { return image_; }
  // A copy of the libipt image for one more decoder: libipt's images are not
  // safe to share between threads, its section cache is. Caller frees it.
  pt_image* NewDecoderImage() const;
  const Mapping* Find(uint64_t ip) const;
  // |ip| as a place in a module; nullopt when no binary covers it.
  std::optional<CodeLocation> Locate(uint64_t ip) const;
  // Up to |max| code bytes at |ip| (fewer at the end of the mapping).
  std::span<const uint8_t> CodeAt(uint64_t ip, size_t max) const;

 private:
  std::vector<Mapping> mappings_;  // sorted by start, non-overlapping
  pt_image* image_ = nullptr;
  FileCache& files_;
};

}  // namespace hwcov::decoder
