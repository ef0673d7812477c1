// MapProfile(): execution counts per address range, read against each
// module's line table and subprograms.
#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>

#include "dwarf_info.h"
#include "elf_file.h"
#include "hwcov/mapper.h"

namespace hwcov::mapper {
namespace {

std::string Demangle(const std::string& name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(
      abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status), std::free);
  return status == 0 && out ? std::string(out.get()) : name;
}

std::string Hex(uint64_t value) {
  std::ostringstream s;
  s << "0x" << std::hex << value;
  return s.str();
}

// How many times the most executed instruction in an address range ran:
// a step function over link-time addresses built from the block counts.
class ExecutionDepth {
 public:
  void Add(uint64_t begin, uint64_t last, uint64_t count) {
    events_.push_back({begin, static_cast<int64_t>(count)});
    events_.push_back({last + 1, -static_cast<int64_t>(count)});
  }

  void Build() {
    std::sort(events_.begin(), events_.end());
    int64_t depth = 0;
    for (size_t i = 0; i < events_.size();) {
      const uint64_t at = events_[i].first;
      for (; i < events_.size() && events_[i].first == at; ++i) depth += events_[i].second;
      steps_.push_back({at, static_cast<uint64_t>(depth)});
    }
  }

  // Max depth over [begin, end).
  uint64_t MaxIn(uint64_t begin, uint64_t end) const {
    auto it = std::upper_bound(steps_.begin(), steps_.end(), std::make_pair(begin, UINT64_MAX));
    uint64_t best = it == steps_.begin() ? 0 : std::prev(it)->second;
    for (; it != steps_.end() && it->first < end; ++it) best = std::max(best, it->second);
    return best;
  }

 private:
  std::vector<std::pair<uint64_t, int64_t>> events_;
  std::vector<std::pair<uint64_t, uint64_t>> steps_;  // (address, depth from here)
};

struct FileAccumulator {
  std::map<uint32_t, uint64_t> lines;
  std::map<std::pair<uint32_t, std::string>, FunctionCount> functions;
};

class Mapper {
 public:
  explicit Mapper(const decoder::ExecutionProfile& profile) : profile_(profile) {}

  Coverage Run() {
    for (uint32_t m = 0; m < profile_.modules.size(); ++m) MapModule(m);
    Coverage coverage;
    for (auto& [path, acc] : files_) {
      FileCoverage file{path, {}, {}};
      for (auto [line, count] : acc.lines) file.lines.push_back({line, count});
      for (auto& [key, function] : acc.functions) file.functions.push_back(function);
      coverage.files.push_back(std::move(file));
    }
    coverage.quality = Quality();
    return coverage;
  }

 private:
  void MapModule(uint32_t module) {
    const decoder::Module& m = profile_.modules[module];
    if (m.path.empty() || m.path[0] == '[') return;  // [vdso]: no source
    ElfFile elf = ReadElfFile(m.path);
    ExecutionDepth depth;
    for (const decoder::BlockCount& b : profile_.blocks) {
      if (b.module != module) continue;
      auto begin = elf.AddressOf(b.begin), last = elf.AddressOf(b.last);
      if (begin && last) depth.Add(*begin, *last, b.count);
    }
    depth.Build();

    DebugInfo debug = ReadDebugInfo(m.path);
    if (!debug.has_dwarf) {
      warnings_.push_back(m.path + ": no DWARF debug info; function coverage from ELF symbols only");
      MapSymbols(m.path, elf, depth);
      return;
    }
    std::map<std::pair<uint32_t, uint32_t>, uint64_t> line_counts;  // (file, line) -> max
    for (const LineRange& r : debug.ranges) {
      if (!elf.InExecutableSegment(r.begin)) continue;
      auto key = std::make_pair(r.file, r.line);
      uint64_t count = depth.MaxIn(r.begin, r.end);
      auto it = line_counts.find(key);
      if (it != line_counts.end())
        it->second = std::max(it->second, count);
      else if (r.is_stmt)
        line_counts.emplace(key, count);
    }
    for (const Subprogram& s : debug.subprograms) {
      if (!elf.InExecutableSegment(s.low)) continue;
      auto row = std::upper_bound(debug.ranges.begin(), debug.ranges.end(), s.low,
                                  [](uint64_t a, const LineRange& r) { return a < r.begin; });
      if (row == debug.ranges.begin() || std::prev(row)->end <= s.low) continue;
      const uint32_t file = std::prev(row)->file;
      const uint32_t line = s.decl_line ? s.decl_line : std::prev(row)->line;
      const std::string name = s.linkage.empty() ? s.name : s.linkage;
      const uint64_t entries = depth.MaxIn(s.low, s.low + 1);
      FunctionCount& f = files_[debug.files[file]].functions[{line, name}];
      f.name = name;
      f.demangled = Demangle(name);
      f.line = line;
      f.entry_count += entries;
      // gcov counts a function's signature line with its entry count; DWARF
      // often starts the function on the line of its opening brace instead.
      line_counts.emplace(std::make_pair(file, line), entries);
    }
    // Each module's count adds to the line (several processes or libraries
    // compiled from one header).
    for (auto [key, count] : line_counts) files_[debug.files[key.first]].lines[key.second] += count;
  }

  void MapSymbols(const std::string& path, const ElfFile& elf, const ExecutionDepth& depth) {
    std::map<uint64_t, const Symbol*> by_address;
    for (const Symbol& s : elf.functions) by_address.emplace(s.address, &s);
    for (auto [address, symbol] : by_address) {
      FunctionCount& f = files_[path].functions[{0, symbol->name}];
      f.name = symbol->name;
      f.demangled = Demangle(symbol->name);
      f.entry_count += depth.MaxIn(address, address + 1);
    }
  }

  TraceQuality Quality() const {
    TraceQuality q;
    q.trace_bytes = profile_.trace_bytes;
    q.decoded_bytes = profile_.decoded_bytes;
    q.instructions = profile_.instructions;
    q.unmapped_instructions = profile_.unmapped_instructions;
    for (const decoder::Gap& gap : profile_.gaps) {
      ++q.gaps_by_kind[decoder::GapKindName(gap.kind)];
      q.gap_details.push_back(decoder::GapKindName(gap.kind) + " in queue " +
                              std::to_string(gap.queue) + " at trace offset " +
                              Hex(gap.trace_offset) + (gap.ip ? ", ip " + Hex(gap.ip) : "") +
                              ": " + gap.detail + " (" + std::to_string(gap.skipped_bytes) +
                              " bytes skipped)");
    }
    q.warnings = profile_.warnings;
    q.warnings.insert(q.warnings.end(), warnings_.begin(), warnings_.end());
    return q;
  }

  const decoder::ExecutionProfile& profile_;
  std::map<std::string, FileAccumulator> files_;
  std::vector<std::string> warnings_;
};

}  // namespace

Coverage MapProfile(const decoder::ExecutionProfile& profile) { return Mapper(profile).Run(); }

}  // namespace hwcov::mapper
