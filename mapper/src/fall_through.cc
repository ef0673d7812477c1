#include "fall_through.h"

#include <vector>

#include "hwcov/support.h"

namespace hwcov::mapper {
namespace {

// The NOP forms compilers pad with (0x90, 0x0f 0x1f /0, with 0x66 and 0x2e
// prefixes): code between a jump and the next jump target that never runs.
bool IsNop(std::span<const uint8_t> insn) {
  size_t i = 0;
  while (i < insn.size() && (insn[i] == 0x66 || insn[i] == 0x2e)) ++i;
  if (i < insn.size() && insn[i] == 0x90) return true;
  return i + 1 < insn.size() && insn[i] == 0x0f && insn[i + 1] == 0x1f;
}

bool FallsThrough(InsnKind kind) {
  return kind != InsnKind::kDirectJump && kind != InsnKind::kIndirectJump &&
         kind != InsnKind::kReturn;
}

}  // namespace

FallThrough::FallThrough(const ElfFile& elf, const DebugInfo& debug, const ExecutionDepth& depth,
                         const std::map<uint64_t, std::pair<uint64_t, uint64_t>>& branches)
    : elf_(elf), debug_(debug), depth_(depth), branches_(branches) {
  for (const CodeInstance& instance : debug.instances) {
    entries_.insert(instance.entry);
    if (instance.depth == 0)
      for (const AddressRange& r : instance.ranges) entries_.insert(r.begin);
  }
}

bool FallThrough::ViewsRan(uint64_t address) const {
  if (entries_.count(address)) return true;
  // The instructions before |address|, decoded from the start of the row
  // that owns the byte before it (rows begin at instruction boundaries).
  const LineRow* row = address ? debug_.RowAt(address - 1) : nullptr;
  if (!row) return true;  // nothing falls into it
  std::span<const uint8_t> code = elf_.CodeAt(row->begin);
  struct Insn {
    uint64_t address;
    InsnInfo info;
    bool nop;
  };
  std::vector<Insn> before;
  for (uint64_t at = row->begin; at < address;) {
    if (at - row->begin >= code.size()) return false;
    std::span<const uint8_t> bytes = code.subspan(at - row->begin);
    InsnInfo info = ClassifyInsn(bytes, at);
    if (info.length == 0) return false;  // undecodable: no evidence either way
    before.push_back({at, info, IsNop(bytes.first(std::min<size_t>(info.length, bytes.size())))});
    at += info.length;
    if (at > address) return false;  // an instruction across |address|: not a boundary
  }
  auto last = before.rbegin();
  while (last != before.rend() && last->nop) ++last;
  if (last == before.rend() || !FallsThrough(last->info.kind)) return true;  // only jumps reach it
  const Insn& prev = before.back();
  if (depth_.At(prev.address) == 0 || !FallsThrough(prev.info.kind)) return false;
  if (prev.info.kind != InsnKind::kCondJump) return true;
  auto it = branches_.find(prev.address);
  return it != branches_.end() && it->second.second > 0;
}

}  // namespace hwcov::mapper
