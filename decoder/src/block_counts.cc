#include "block_counts.h"

#include <algorithm>
#include <cstdio>

#include "hwcov/hex.h"

namespace hwcov::decoder {

void ProfileBuilder::Add(const RuntimeCounts& counts, const CodeImage& image,
                         TranslationShare share) {
  summed_ = false;
  size_t index = 0;
  for (const auto& [range, block] : counts.blocks) {
    if (index++ % share.of != share.part) continue;
    const auto [ip, end_ip] = range;
    const Mapping* m = image.Find(ip);
    if (!m || end_ip >= m->end) {
      unmapped_instructions_ += block.count * block.instructions;
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
      warnings_.push_back("block " + Hex(ip) + "-" + Hex(end_ip) + " in " + m->path +
                          " does not decode as one instruction sequence");
  }
  for (const auto& [edge, count] : counts.edges) {
    if (index++ % share.of != share.part) continue;
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

auto KeyOf(const auto& record) { return std::pair(record.module, record.offset); }

// Sums records at one place, adjacent in |records| (sorted), into the first
// of them with |add|(into, from).
template <typename Record, typename Add>
void SumAdjacent(std::vector<Record>& records, Add add) {
  size_t out = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    if (out > 0 && KeyOf(records[out - 1]) == KeyOf(records[i]))
      add(records[out - 1], records[i]);
    else
      records[out++] = records[i];
  }
  records.resize(out);
}

template <typename Record, typename Add>
void SortAndSum(std::vector<Record>& records, Add add) {
  std::sort(records.begin(), records.end(),
            [](const Record& a, const Record& b) { return KeyOf(a) < KeyOf(b); });
  SumAdjacent(records, add);
}

// |into| and |from| each sorted and summed: |into| becomes their sum, sorted
// and summed too.
template <typename Record, typename Add>
void MergeAndSum(std::vector<Record>& into, std::vector<Record>&& from, Add add) {
  std::vector<Record> merged;
  merged.reserve(into.size() + from.size());
  std::merge(into.begin(), into.end(), from.begin(), from.end(), std::back_inserter(merged),
             [](const Record& a, const Record& b) { return KeyOf(a) < KeyOf(b); });
  SumAdjacent(merged, add);
  into = std::move(merged);
  from = {};
}

constexpr auto kAddCount = [](auto& into, const auto& from) { into.count += from.count; };

void AddBranch(BranchCount& into, const BranchCount& from) {
  into.taken += from.taken;
  into.not_taken += from.not_taken;
}

}  // namespace

void ProfileBuilder::Sum() {
  if (summed_) return;
  SortAndSum(instructions_, kAddCount);
  SortAndSum(branches_, AddBranch);
  summed_ = true;
}

void ProfileBuilder::Join(ProfileBuilder&& other) {
  Sum();
  other.Sum();
  MergeAndSum(instructions_, std::move(other.instructions_), kAddCount);
  MergeAndSum(branches_, std::move(other.branches_), AddBranch);
  unmapped_instructions_ += other.unmapped_instructions_;
  warnings_.insert(warnings_.end(), other.warnings_.begin(), other.warnings_.end());
  other = {};
}

void ProfileBuilder::MoveInto(ExecutionProfile& profile) {
  Sum();
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
  profile.unmapped_instructions += unmapped_instructions_;
  profile.warnings.insert(profile.warnings.end(), warnings_.begin(), warnings_.end());
  *this = {};
}

}  // namespace hwcov::decoder
