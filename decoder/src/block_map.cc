#include "block_map.h"

#include <algorithm>

namespace hwcov::decoder {

BlockMap::IpSlot& BlockMap::SlotFor(uint64_t ip) {
  const size_t mask = by_ip_.size() - 1;
  size_t i = static_cast<size_t>((ip * 0x9e3779b97f4a7c15ull) >> 32) & mask;
  while (by_ip_[i].ip != ip && by_ip_[i].ip != IpSlot::kEmpty) i = (i + 1) & mask;
  return by_ip_[i];
}

int32_t BlockMap::At(uint64_t ip) {
  IpSlot* slot = &SlotFor(ip);
  if (slot->ip == ip) return slot->id;
  if (2 * (addresses_ + 1) > by_ip_.size()) {
    std::vector<IpSlot> old(2 * by_ip_.size());
    old.swap(by_ip_);
    for (const IpSlot& s : old)
      if (s.ip != IpSlot::kEmpty) SlotFor(s.ip) = s;
    slot = &SlotFor(ip);
  }
  ++addresses_;
  slot->ip = ip;
  slot->id = Build(ip);  // -1 stays: no code there
  return slot->id;
}

// The block starting at |ip|, added; -1 when the code there is not in the
// image or does not decode.
int32_t BlockMap::Build(uint64_t ip) {
  FastBlock block;
  block.ip = ip;
  uint64_t at = ip;
  for (;;) {
    const InsnInfo insn = ClassifyInsn(image_.CodeAt(at, 15), at);
    if (insn.length == 0) return -1;  // no code here: stays -1 in by_ip_
    ++block.ninsn;
    if (insn.kind != InsnKind::kOther) {
      block.end_ip = at;
      block.next_ip = at + insn.length;
      block.kind = insn.kind;
      if (IsDirect(insn.kind) || insn.kind == InsnKind::kCondJump) {
        if (!insn.target) return -1;
        block.target = *insn.target;
      }
      break;
    }
    at += insn.length;
  }
  blocks_.push_back(block);
  stretch_.emplace_back();
  totals_.emplace_back();
  return static_cast<int32_t>(blocks_.size() - 1);
}

int32_t BlockMap::Successor(int32_t id, int which) {
  const int32_t known = blocks_[static_cast<size_t>(id)].successor[which];
  if (known >= 0) return known;
  const FastBlock& b = blocks_[static_cast<size_t>(id)];
  const int32_t next = At(which ? b.target : b.next_ip);  // may grow blocks_
  if (next >= 0) blocks_[static_cast<size_t>(id)].successor[which] = next;
  return next;
}

uint64_t BlockMap::CommitStretch() {
  uint64_t instructions = 0;
  for (size_t id = 0; id < blocks_.size(); ++id) {
    BlockCounters& c = stretch_[id];
    const uint64_t runs = c.runs();
    if (!runs) continue;
    instructions += runs * blocks_[id].ninsn;
    for (int k = 0; k < 3; ++k) totals_[id].n[k] += c.n[k];
    c = {};
  }
  return instructions;
}

void BlockMap::DropStretch() { std::fill(stretch_.begin(), stretch_.end(), BlockCounters{}); }

void BlockMap::MoveTotalsInto(RuntimeCounts& counts) {
  for (size_t id = 0; id < blocks_.size(); ++id) {
    BlockCounters& t = totals_[id];
    const uint64_t runs = t.runs();
    if (!runs) continue;
    const FastBlock& b = blocks_[id];
    RuntimeBlock& total = counts.blocks[{b.ip, b.end_ip}];
    total.count += runs;
    total.instructions = b.ninsn;
    if (t.n[BlockCounters::kFellThrough])
      counts.edges[{b.end_ip, b.next_ip}] += t.n[BlockCounters::kFellThrough];
    if (t.n[BlockCounters::kTaken])
      counts.edges[{b.end_ip, b.target}] += t.n[BlockCounters::kTaken];
    t = {};
  }
}

}  // namespace hwcov::decoder
