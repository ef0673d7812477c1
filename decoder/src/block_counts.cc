#include "block_counts.h"

#include <algorithm>
#include <cstdio>

#include "hwcov/hex.h"

namespace hwcov::decoder {

void ProfileBuilder::Add(const RuntimeCounts& counts, const CodeImage& image,
                         ExecutionProfile& profile) {
  for (const auto& [range, block] : counts.blocks) {
    const auto [ip, end_ip] = range;
    const Mapping* m = image.Find(ip);
    if (!m || end_ip >= m->end) {
      profile.unmapped_instructions += block.count * block.instructions;
      continue;
    }
    uint64_t at = ip;
    for (;;) {
      InsnInfo insn = ClassifyInsn(image.CodeAt(at, 15), at);
      if (insn.length == 0) break;
      const uint64_t offset = at - m->start + m->pgoff;
      instructions_.push_back({m->module, insn.length, offset, block.count});
      if (at == end_ip) break;
      if (insn.kind == InsnKind::kCondJump)
        branches_.push_back({m->module, offset, 0, block.count});
      at += insn.length;
    }
    if (at != end_ip)
      profile.warnings.push_back("block " + Hex(ip) + "-" + Hex(end_ip) + " in " + m->path +
                                 " does not decode as one instruction sequence");
  }
  for (const auto& [edge, count] : counts.edges) {
    const auto [from, to] = edge;
    const Mapping* m = image.Find(from);
    if (!m) continue;
    InsnInfo insn = ClassifyInsn(image.CodeAt(from, 15), from);
    if (insn.kind != InsnKind::kCondJump) continue;
    const bool fell_through = to == from + insn.length;
    branches_.push_back({m->module, from - m->start + m->pgoff, fell_through ? 0 : count,
                         fell_through ? count : 0});
  }
}

namespace {

// Sorts |records| by (module, offset) and sums those at one place into the
// first of them, with |add|(into, from); returns the records left.
template <typename Record, typename Add>
void SortAndSum(std::vector<Record>& records, Add add) {
  auto key = [](const Record& r) { return std::pair(r.module, r.offset); };
  std::sort(records.begin(), records.end(),
            [&](const Record& a, const Record& b) { return key(a) < key(b); });
  size_t out = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    if (out > 0 && key(records[out - 1]) == key(records[i]))
      add(records[out - 1], records[i]);
    else
      records[out++] = records[i];
  }
  records.resize(out);
}

}  // namespace

void ProfileBuilder::MoveInto(ExecutionProfile& profile) {
  SortAndSum(instructions_,
             [](Instruction& into, const Instruction& from) { into.count += from.count; });
  SortAndSum(branches_, [](BranchCount& into, const BranchCount& from) {
    into.taken += from.taken;
    into.not_taken += from.not_taken;
  });
  BlockCount* run = nullptr;
  uint64_t run_end = 0;
  for (const Instruction& insn : instructions_) {
    if (!run || run->module != insn.module || run_end != insn.offset || run->count != insn.count) {
      run = &profile.blocks.emplace_back();
      run->module = insn.module;
      run->begin = insn.offset;
      run->count = insn.count;
      run->instructions = 0;
    }
    run->last = insn.offset;
    ++run->instructions;
    run_end = insn.offset + insn.length;
  }
  profile.branches.insert(profile.branches.end(), branches_.begin(), branches_.end());
  instructions_ = {};
  branches_ = {};
}

}  // namespace hwcov::decoder
