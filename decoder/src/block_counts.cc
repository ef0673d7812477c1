#include "block_counts.h"

#include <cstdio>

#include "hwcov/hex.h"

namespace hwcov::decoder {

BranchCount& ProfileBuilder::Branch(uint32_t module, uint64_t offset) {
  BranchCount& b = branches_[{module, offset}];
  b.module = module;
  b.offset = offset;
  return b;
}

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
      Instruction& counted = instructions_[{m->module, at - m->start + m->pgoff}];
      counted.length = insn.length;
      counted.count += block.count;
      if (at == end_ip) break;
      if (insn.kind == InsnKind::kCondJump)
        Branch(m->module, at - m->start + m->pgoff).not_taken += block.count;
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
    BranchCount& b = Branch(m->module, from - m->start + m->pgoff);
    (to == from + insn.length ? b.not_taken : b.taken) += count;
  }
}

void ProfileBuilder::MoveInto(ExecutionProfile& profile) {
  BlockCount* run = nullptr;
  uint64_t run_end = 0;
  for (const auto& [key, insn] : instructions_) {
    const auto [module, offset] = key;
    if (!run || run->module != module || run_end != offset || run->count != insn.count) {
      run = &profile.blocks.emplace_back();
      run->module = module;
      run->begin = offset;
      run->count = insn.count;
      run->instructions = 0;
    }
    run->last = offset;
    ++run->instructions;
    run_end = offset + insn.length;
  }
  for (auto& [key, branch] : branches_) profile.branches.push_back(branch);
  instructions_.clear();
  branches_.clear();
}

}  // namespace hwcov::decoder
