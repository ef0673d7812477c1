#include "pt_stream.h"

#include <cstdio>

namespace hwcov::decoder {

QueueStream::QueueStream(const trace::Trace& trace, const trace::AuxQueue& queue) {
  if (queue.buffers.size() == 1) {
    bytes_ = trace.AuxBytes(queue.buffers.front());
    return;
  }
  for (const auto& buffer : queue.buffers) {
    auto b = trace.AuxBytes(buffer);
    joined_.insert(joined_.end(), b.begin(), b.end());
  }
  bytes_ = joined_;
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
  if (cpuid != trace.strings.end() &&
      std::sscanf(cpuid->second.c_str(), "GenuineIntel,%u,%u,%u", &family, &model, &stepping) ==
          3) {
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
