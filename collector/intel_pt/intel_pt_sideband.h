// Kernel sideband records as they come out of the data ring: the fields
// the collector acts on (losses, binaries mapped, processes seen), and
// records perf synthesizes for a process that was already running
// (COMM and MMAP2 from /proc, as perf's synthetic-events.c does). The
// layouts are trace/'s one record codec (trace::DecodeKernelRecord).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hwcov/trace.h"

namespace hwcov::collector {

struct SidebandRecord {
  uint32_t type = 0;
  uint16_t misc = 0;
  trace::SampleId sample;     // from the sample_id trailer
  uint64_t id = 0;            // the trailer's IDENTIFIER
  uint32_t pid = 0, tid = 0;  // COMM, MMAP2, ITRACE_START, FORK, EXIT
  // MMAP2
  uint64_t start = 0, len = 0, pgoff = 0;
  uint32_t prot = 0;
  std::string filename;
  std::optional<BuildId> build_id;
  std::string comm;  // COMM
  // AUX
  uint64_t aux_offset = 0, aux_size = 0, aux_flags = 0;
  uint64_t lost = 0;  // LOST: records dropped
};

// Decodes |record| (header.size bytes) with the trailer layout of
// |sample_type| (all events of a recording share it). Unknown types yield
// just type, misc and the trailer. Throws hwcov::Error naming the record's
// type and size when it is too short for its type.
trace::KernelRecord DecodeRingRecord(std::span<const uint8_t> record, uint64_t sample_type);
// The fields of |record| the collector acts on.
SidebandRecord SidebandOf(const trace::KernelRecord& record);
// SidebandOf(DecodeRingRecord(...)).
SidebandRecord ParseSideband(std::span<const uint8_t> record, uint64_t sample_type);

// The values a synthesized record's sample_id trailer carries.
struct SyntheticSample {
  uint32_t pid = 0, tid = 0;
  uint64_t time = 0;
  uint32_t cpu = 0;
  uint64_t id = 0;  // an id of the tracking event, so perf finds its attr
};

std::vector<uint8_t> EncodeComm(uint32_t pid, uint32_t tid, const std::string& name,
                                uint64_t sample_type, const SyntheticSample& sample);
std::vector<uint8_t> EncodeMmap2(const trace::MmapEvent& mmap, uint64_t sample_type,
                                 const SyntheticSample& sample);

}  // namespace hwcov::collector
