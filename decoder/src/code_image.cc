#include "code_image.h"

#include <intel-pt.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

namespace hwcov::decoder {
namespace {

int ReadSnapshot(uint8_t* buffer, size_t size, const pt_asid*, uint64_t ip, void* context) {
  const auto* image = static_cast<const CodeImage*>(context);
  auto bytes = image->CodeAt(ip, size);
  const Mapping* m = image->Find(ip);
  if (!m || !m->snapshot || bytes.empty()) return -pte_nomap;
  std::memcpy(buffer, bytes.data(), bytes.size());
  return static_cast<int>(bytes.size());
}

}  // namespace

std::span<const uint8_t> FileCache::Bytes(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& file = files_[path];
  if (!file) file = std::make_shared<MappedFile>(path);
  return file->bytes();
}

CodeImage::CodeImage(const trace::Trace& trace, const std::vector<const trace::MmapEvent*>& mmaps,
                     std::optional<uint32_t> pid, ModuleTable& modules,
                     pt_image_section_cache* iscache, FileCache& files,
                     std::vector<std::string>& warnings)
    : files_(files) {
  image_ = pt_image_alloc(nullptr);
  if (!image_) throw Error("cannot allocate a libipt image");

  std::map<std::string, BuildId> feature_ids;
  for (const auto& b : trace.build_ids) feature_ids[b.filename] = b.build_id;

  // The address space first: later mappings replace earlier overlapping
  // ones, as in the kernel, even when their binary is unusable (its code
  // must then decode as missing, not as what was mapped there before).
  for (const trace::MmapEvent* event : mmaps) {
    const trace::MmapEvent& m = *event;
    std::erase_if(mappings_, [&](const Mapping& old) {
      return old.start < m.start + m.len && m.start < old.end;
    });
    BuildId recorded = m.build_id.value_or(feature_ids[m.filename]);
    std::optional<uint32_t> module = modules.Intern(m, recorded, warnings);
    if (!module) continue;
    const std::string& file = modules.modules()[*module].path;
    Mapping mapping{m.start, m.start + m.len, m.pgoff, *module, file, nullptr};
    if (m.filename.empty() || m.filename[0] == '[') {
      const trace::CodeSnapshot* snapshot = nullptr;
      for (const auto& s : trace.snapshots)
        if (s.start == m.start && (!pid || s.pid == *pid)) snapshot = &s;
      if (!snapshot) continue;  // [vdso] not captured: decodes as a no-map gap
      mapping.snapshot = std::make_shared<const std::vector<uint8_t>>(snapshot->bytes);  // [vdso] not captured: decodes as a no-map gap
    } else {
      // Clip to the file: a mapping may extend past EOF into zero-filled pages.
      const uint64_t file_size = std::filesystem::file_size(file);
      if (m.pgoff >= file_size) continue;
      mapping.end = std::min(mapping.end, m.start + (file_size - m.pgoff));
    }
    mappings_.push_back(mapping);
  }
  std::sort(mappings_.begin(), mappings_.end(),
            [](const Mapping& a, const Mapping& b) { return a.start < b.start; });
  std::erase_if(mappings_, [&](const Mapping& m) {
    if (m.snapshot) return false;  // served by the read-memory callback
    int isid = pt_iscache_add_file(iscache, m.path.c_str(), m.pgoff, m.end - m.start, m.start);
    if (isid >= 0 && pt_image_add_cached(image_, iscache, isid, nullptr) >= 0) return false;
    warnings.push_back(m.path + ": libipt cannot map its code: " + pt_errstr(pt_errcode(isid)));
    return true;
  });
  pt_image_set_callback(image_, ReadSnapshot, this);
}

CodeImage::~CodeImage() { pt_image_free(image_); }

pt_image* CodeImage::NewDecoderImage() const {
  pt_image* copy = pt_image_alloc(nullptr);
  if (!copy) throw Error("cannot allocate a libipt image");
  pt_image_copy(copy, image_);
  pt_image_set_callback(copy, ReadSnapshot, const_cast<CodeImage*>(this));
  return copy;
}

const Mapping* CodeImage::Find(uint64_t ip) const {
  auto it = std::upper_bound(mappings_.begin(), mappings_.end(), ip,
                             [](uint64_t v, const Mapping& m) { return v < m.start; });
  if (it == mappings_.begin()) return nullptr;
  --it;
  return ip < it->end ? &*it : nullptr;
}

std::optional<CodeLocation> CodeImage::Locate(uint64_t ip) const {
  const Mapping* m = ip ? Find(ip) : nullptr;
  if (!m) return std::nullopt;
  return CodeLocation{m->module, ip - m->start + m->pgoff};
}

std::span<const uint8_t> CodeImage::CodeAt(uint64_t ip, size_t max) const {
  const Mapping* m = Find(ip);
  if (!m) return {};
  const size_t n = std::min<uint64_t>(max, m->end - ip);
  if (m->snapshot) {
    const uint64_t at = ip - m->start;
    if (at >= m->snapshot->size()) return {};
    return std::span<const uint8_t>(*m->snapshot).subspan(at,
                                                          std::min<size_t>(n, m->snapshot->size() - at));
  }
  auto bytes = const_cast<FileCache&>(files_).Bytes(m->path);
  const uint64_t at = ip - m->start + m->pgoff;
  if (at >= bytes.size()) return {};
  return bytes.subspan(at, std::min<size_t>(n, bytes.size() - at));
}

}  // namespace hwcov::decoder
