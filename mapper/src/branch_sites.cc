#include "branch_sites.h"

#include <algorithm>
#include <set>

#include "hwcov/support.h"

namespace hwcov::mapper {

bool IsCheckHandler(const std::string& name) {
  auto starts = [&](const char* prefix) { return name.rfind(prefix, 0) == 0; };
  return name == "__stack_chk_fail" || name == "__stack_chk_fail_local" || name == "__chk_fail" ||
         name == "__fortify_fail" || starts("__ubsan_handle_") || starts("__asan_report_");
}

namespace {

class Scanner {
 public:
  Scanner(const ElfFile& elf, const DebugInfo& debug) : elf_(elf), debug_(debug) {
    for (const auto& [address, name] : elf.names)
      if (IsCheckHandler(name)) handlers_.insert(address);
  }

  BranchScan Run() {
    // Each out-of-line body once (identical code folding can give two
    // functions one body); inlined copies lie inside their caller's ranges.
    std::set<std::pair<uint64_t, uint64_t>> walked;
    for (const CodeInstance& instance : debug_.instances) {
      if (instance.depth != 0) continue;
      for (const AddressRange& r : instance.ranges)
        if (elf_.InExecutableSegment(r.begin) && walked.insert({r.begin, r.end}).second) Walk(r);
    }
    std::sort(out_.sites.begin(), out_.sites.end(),
              [](const BranchSite& a, const BranchSite& b) { return a.address < b.address; });
    out_.sites.erase(std::unique(out_.sites.begin(), out_.sites.end(),
                                 [](const BranchSite& a, const BranchSite& b) {
                                   return a.address == b.address;
                                 }),
                     out_.sites.end());
    return std::move(out_);
  }

 private:
  void Walk(const AddressRange& range) {
    ForEachInsn(elf_, range.begin, range.end, OnUndecodable::kResync,
                [&](uint64_t address, const InsnInfo& insn) {
                  if (insn.kind == InsnKind::kCondJump) Add(address, insn);
                });
  }

  void Add(uint64_t address, const InsnInfo& insn) {
    if (CallsHandler(address + insn.length) || (insn.target && IsHandlerEntry(*insn.target))) {
      ++out_.check_jumps;
      return;
    }
    const LineRow* row = debug_.RowAt(address);
    if (!row || row->line == 0) {
      ++out_.unattributed;
      return;
    }
    out_.sites.push_back({address, row->file, row->line});
  }

  // The jump's target or fall-through: a handler itself, or a direct call to one.
  bool IsHandlerEntry(uint64_t address) const {
    return handlers_.count(address) || CallsHandler(address);
  }

  bool CallsHandler(uint64_t address) const {
    if (handlers_.empty()) return false;
    std::span<const uint8_t> code = elf_.CodeAt(address);
    if (code.empty()) return false;
    InsnInfo insn = ClassifyInsn(code, address);
    return insn.kind == InsnKind::kDirectCall && insn.target && handlers_.count(*insn.target);
  }

  const ElfFile& elf_;
  const DebugInfo& debug_;
  std::set<uint64_t> handlers_;
  BranchScan out_;
};

}  // namespace

BranchScan FindBranchSites(const ElfFile& elf, const DebugInfo& debug) {
  return Scanner(elf, debug).Run();
}

}  // namespace hwcov::mapper
