#include "pt_stream.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace hwcov::decoder {

QueueStream::QueueStream(const trace::Trace& trace, const trace::AuxQueue& queue)
    : file_(trace.file.get()) {
  for (const auto& buffer : queue.buffers) {
    auto bytes = trace.AuxBytes(buffer);
    if (bytes.empty()) continue;
    segments_.push_back({size_, bytes});
    size_ += bytes.size();
  }
}

QueueStream::QueueStream(std::span<const uint8_t> bytes, uint64_t base)
    : segments_{{base, bytes}}, size_(base + bytes.size()) {}

std::span<const uint8_t> ReadableForLibipt(std::span<const uint8_t> bytes,
                                           std::vector<uint8_t>& scratch) {
  // The PSB payload as libipt's pt_sync_forward compares it: 02 82 or 82 02
  // four times, read as one aligned little-endian word.
  constexpr uint64_t kPsbWords[] = {0x0282028202820282ull, 0x8202820282028202ull};
  const uint8_t* end = bytes.data() + bytes.size();
  if (bytes.size() < 8 || reinterpret_cast<uintptr_t>(end) % 8 != 0) return bytes;
  uint64_t last = 0;
  std::memcpy(&last, end - 8, 8);
  if (last != kPsbWords[0] && last != kPsbWords[1]) return bytes;
  if (bytes.data() != scratch.data()) scratch.assign(bytes.begin(), bytes.end());
  scratch.resize(bytes.size() + 8);  // the slack: zeros, never part of the stream
  return {scratch.data(), bytes.size()};
}

std::span<const uint8_t> QueueStream::Range(uint64_t begin, uint64_t end,
                                            std::vector<uint8_t>& scratch) const {
  end = std::min(end, size_);
  if (begin >= end) return {};
  auto it = std::upper_bound(segments_.begin(), segments_.end(), begin,
                             [](uint64_t at, const Segment& s) { return at < s.begin; });
  --it;
  if (end <= it->begin + it->bytes.size())
    return ReadableForLibipt(it->bytes.subspan(begin - it->begin, end - begin), scratch);
  scratch.clear();
  scratch.reserve(end - begin);
  for (; it != segments_.end() && it->begin < end; ++it) {
    const uint64_t from = std::max(begin, it->begin) - it->begin;
    const uint64_t to = std::min<uint64_t>(end - it->begin, it->bytes.size());
    scratch.insert(scratch.end(), it->bytes.begin() + static_cast<long>(from),
                   it->bytes.begin() + static_cast<long>(to));
  }
  return ReadableForLibipt(scratch, scratch);
}

void QueueStream::Release(uint64_t begin, uint64_t end) const {
  if (!file_) return;
  // One span of the file from the first byte to the last: the pages that
  // straddle two buffers (and the record headers between them) go too.
  const uint8_t* first = nullptr;
  const uint8_t* last = nullptr;
  for (const Segment& s : segments_) {
    const uint64_t from = std::max(begin, s.begin);
    const uint64_t to = std::min<uint64_t>(end, s.begin + s.bytes.size());
    if (from >= to) continue;
    const uint8_t* a = s.bytes.data() + (from - s.begin);
    const uint8_t* b = s.bytes.data() + (to - s.begin);
    first = first ? std::min(first, a) : a;
    last = last ? std::max(last, b) : b;
  }
  if (first) file_->Release({first, static_cast<size_t>(last - first)});
}

pt_config MakeConfig(const trace::Trace& trace, std::span<const uint8_t> bytes) {
  pt_config config;
  pt_config_init(&config);
  config.begin = const_cast<uint8_t*>(bytes.data());
  config.end = const_cast<uint8_t*>(bytes.data() + bytes.size());
  // Blocks end at every call and jump, so that each block is one contiguous
  // address range (libipt otherwise follows direct branches within a block).
  config.flags.variant.block.end_on_call = 1;
  config.flags.variant.block.end_on_jump = 1;
  auto cpuid = trace.strings.find("cpuid");  // "GenuineIntel,6,78,3"
  unsigned family = 0, model = 0, stepping = 0;
  if (cpuid != trace.strings.end() && std::sscanf(cpuid->second.c_str(), "GenuineIntel,%u,%u,%u",
                                                  &family, &model, &stepping) == 3) {
    config.cpu.vendor = pcv_intel;
    config.cpu.family = static_cast<uint16_t>(family);
    config.cpu.model = static_cast<uint8_t>(model);
    config.cpu.stepping = static_cast<uint8_t>(stepping);
    pt_cpu_errata(&config.errata, &config.cpu);
  }
  return config;
}

Gap MakeGap(int error, uint32_t queue, uint64_t offset, uint64_t ip) {
  const pt_error_code code = pt_errcode(error);
  Gap gap;
  gap.kind = code == pte_nomap ? GapKind::kNoImage : GapKind::kDecodeError;
  gap.queue = queue;
  gap.trace_offset = offset;
  gap.ip = ip;
  gap.detail = pt_errstr(code);
  return gap;
}

DecodeContext::DecodeContext(const trace::Trace& t, const DecodeOptions& options)
    : trace(t), modules(options) {
  iscache = pt_iscache_alloc(nullptr);
  if (!iscache) throw Error("cannot allocate libipt's image section cache");
}

DecodeContext::~DecodeContext() { pt_iscache_free(iscache); }

std::unique_ptr<CodeImage> DecodeContext::ImageFor(
    const std::vector<const trace::MmapEvent*>& mmaps, std::optional<uint32_t> pid) {
  return std::make_unique<CodeImage>(trace, mmaps, pid, modules, iscache, files, warnings);
}

}  // namespace hwcov::decoder
