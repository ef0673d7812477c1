// Intel PT address filters: perf's --filter syntax
//   filter|start|stop|tracestop <symbol or address> [/ <end symbol or size>] [@ <file>]
// (several separated by commas), resolved against the binary into the
// kernel's form "filter 0xOFFSET/0xSIZE@/real/path" for
// PERF_EVENT_IOC_SET_FILTER (tools/perf/util/auxtrace.c parse_addr_filter,
// addr_filter__to_str), and checked against what the CPU can do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hwcov::collector {

struct AddrFilter {
  std::string text;    // as the user wrote it, for messages
  std::string action;  // filter | start | stop | tracestop
  bool range = false;  // filter, tracestop, or a "/ size" was given
  std::optional<uint64_t> addr;
  std::string sym_from;
  int sym_from_idx = -1;  // -1 any (must be unique), 0 global ("#g"), n the n-th ("#n")
  std::optional<uint64_t> size;
  std::string sym_to;
  int sym_to_idx = -1;
  std::string file;
};

// Parses one --filter argument (which may hold several filters). Throws
// hwcov::Error quoting it and the expected format.
std::vector<AddrFilter> ParseAddrFilters(const std::string& text);

// A filter in the kernel's terms: offsets into |file| (its real path).
struct KernelFilter {
  std::string action;  // "filter" or "stop"
  uint64_t offset = 0;
  uint64_t size = 0;
  std::string file;
  std::string ToString() const;  // "filter 0x1139/0x2e@/abs/prog"
};

// Resolves symbols through the file's ELF symbols. Throws hwcov::Error.
KernelFilter ResolveAddrFilter(const AddrFilter& filter);

// The whole --filter list checked against Intel PT (ranges only, no
// "start"), counted against |ranges_available| (caps/num_address_ranges)
// and resolved; the kernel string joins them with commas as perf does.
std::string BuildFilterString(const std::vector<std::string>& filters, uint32_t ranges_available);

// The default "trace only these binaries": each file's executable segment
// as one range, or no filter at all (|why_unfiltered| says why) where the
// kernel could not bind the range to the code: a path its filter parser
// splits, or code sharing its file pages with another segment (lld's
// layout). |attach|: the process already runs (the kernel binds to the
// first overlapping mapping), else it starts under the filter (the last
// overlapping mmap wins).
struct BinaryFilter {
  std::string filter;
  std::string why_unfiltered;
};
BinaryFilter BinaryFilterString(const std::vector<std::string>& files, uint32_t ranges_available,
                                bool attach);

// Why the kernel cannot take |path| in a filter string, or empty: its
// parser (perf_event_parse_addr_filter) splits at ' ', ',' and '\n' and
// has no escapes.
std::string UnfilterablePath(const std::string& path);

}  // namespace hwcov::collector
