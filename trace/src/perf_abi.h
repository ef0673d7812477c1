// Constants and record layouts of the perf.data format, from the kernel's
// include/uapi/linux/perf_event.h and perf's util/header.h and
// tools/lib/perf/include/perf/event.h. Shared by the reader and the writer.
#pragma once

#include <cstdint>
#include <cstring>

namespace hwcov::trace::abi {

inline constexpr uint64_t kMagic = 0x32454c4946524550ull;  // "PERFILE2"
inline constexpr uint64_t kFileHeaderSize = 104;
inline constexpr uint64_t kPipeHeaderSize = 16;
inline constexpr uint32_t kAttrSizeVer0 = 64;
inline constexpr uint32_t kAttrSizeWritten = 128;  // VER7: what perf 6.1 reads

enum RecordType : uint32_t {
  kMmap = 1,
  kLost = 2,
  kComm = 3,
  kExit = 4,
  kFork = 7,
  kSample = 9,
  kMmap2 = 10,
  kAux = 11,
  kItraceStart = 12,
  kLostSamples = 13,
  kSwitch = 14,
  kSwitchCpuWide = 15,
  kHeaderAttr = 64,
  kHeaderTracingData = 66,
  kHeaderBuildId = 67,
  kHeaderFeature = 80,
  kFinishedRound = 68,
  kAuxtraceInfo = 70,
  kAuxtrace = 71,
  kCompressed = 81,
};

enum Feature : int {
  kFeatBuildId = 2,
  kFeatHostname = 3,
  kFeatOsRelease = 4,
  kFeatVersion = 5,
  kFeatArch = 6,
  kFeatNrCpus = 7,
  kFeatCpuDesc = 8,
  kFeatCpuId = 9,
  kFeatCmdline = 11,
  kFeatEventDesc = 12,
  kFeatAuxtrace = 18,
};

enum Misc : uint16_t {
  kMiscUser = 2,
  kMiscMmapData = 1 << 13,
  kMiscCommExec = 1 << 13,
  kMiscSwitchOut = 1 << 13,
  kMiscMmapBuildId = 1 << 14,
  kMiscBuildIdSize = 1 << 15,
};

// perf_event_attr flag bits (the bitfield at offset 40).
enum AttrFlag : uint64_t {
  kAttrDisabled = 1ull << 0,
  kAttrExcludeKernel = 1ull << 5,
  kAttrExcludeHv = 1ull << 6,
  kAttrMmap = 1ull << 8,
  kAttrComm = 1ull << 9,
  kAttrEnableOnExec = 1ull << 12,
  kAttrTask = 1ull << 13,
  kAttrSampleIdAll = 1ull << 18,
  kAttrExcludeGuest = 1ull << 20,
  kAttrMmap2 = 1ull << 23,
  kAttrCommExec = 1ull << 24,
};

inline constexpr uint32_t kAuxtraceIntelPt = 1;
inline constexpr uint64_t kAuxtraceRecordSize = 48;

struct RecordHeader {
  uint32_t type;
  uint16_t misc;
  uint16_t size;
};
static_assert(sizeof(RecordHeader) == 8);

}  // namespace hwcov::trace::abi
