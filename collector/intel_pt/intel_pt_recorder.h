// A hardware Intel PT recording from start to end: checks the PMU and
// permissions, plans the events as perf record would, launches or attaches
// to the process, drains the buffers on a reader thread into the trace sink
// (RecordOptions::output: a file in perf's layout, per-CPU AUXTRACE queues,
// kernel sideband verbatim, BUILD_ID, AUXTRACE index; RecordOptions::live:
// the decoder, decoding while recording; or both).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>

#include "hwcov/collector.h"
#include "intel_pt_access.h"
#include "intel_pt_sys.h"

namespace hwcov::collector {

// Everything a recording reads from the machine. The defaults are the real
// machine; tests point them at fake sysfs/proc trees and a fake kernel.
struct IntelPtHost {
  std::filesystem::path sysfs_devices = "/sys/bus/event_source/devices";
  std::filesystem::path sysfs_cpu = "/sys/devices/system/cpu";
  std::filesystem::path proc = "/proc";
  PerfEventSys* sys = nullptr;       // nullptr: the kernel
  std::optional<PerfAccess> access;  // nullopt: read from |proc|
  // TSC:CTC ratio (CPUID leaf 0x15 ebx:eax); nullopt: ask the CPU.
  std::optional<std::pair<uint32_t, uint32_t>> tsc_ctc;
  std::function<uint64_t()> reference;  // AUXTRACE.reference; empty: rdtsc
};

RecordResult RecordIntelPt(const RecordOptions& options, const IntelPtHost& host);

// Why the intel-pt backend cannot work here (no PMU, or perf events denied),
// or empty.
std::string IntelPtUnavailable(const IntelPtHost& host);

// perf's rule for AUX buffer sizes in full-trace mode: a power of two of at
// least 8 KiB (and so whole pages). 0 picks perf's default: 4 MiB when
// privileged, else 128 KiB. Throws hwcov::Error for anything else.
uint64_t AuxBufferSize(uint64_t requested, const PerfAccess& access, uint64_t page_size);

// CPUs listed in a sysfs cpulist file ("0-3,5").
std::vector<int> ParseCpuList(const std::string& text);

}  // namespace hwcov::collector
