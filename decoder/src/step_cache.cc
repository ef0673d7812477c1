#include "step_cache.h"

#include <algorithm>
#include <bit>

namespace hwcov::decoder {

StepCache::StepCache(size_t entries) {
  if (entries == 0) return;
  const size_t n = std::max<size_t>(2, std::bit_floor(entries));
  slots_.resize(n);
  details_.resize(n);
  shift_ = 64 - std::countr_zero(n);
  counted_.reserve(n);
}

void StepCache::Bind(const BlockMap* owner) {
  if (owner == owner_) return;
  Discard();
  for (Step& s : slots_) s.key = Step::kEmpty;
  owner_ = owner;
}

Step& StepCache::Insert(const Step& step, const StepDetail& detail, BlockMap& blocks) {
  const size_t i = Index(step.key);
  ++misses_;
  ExpandOne(i, blocks);
  Step& slot = slots_[i];
  const bool listed = slot.listed;
  slot = step;
  slot.count = 0;
  slot.listed = listed;
  StepDetail& to = details_[i];
  to.first = detail.first;
  std::copy_n(detail.push, step.npush, to.push);
  std::copy_n(detail.effect, step.neffects, to.effect);
  return slot;
}

void StepCache::ExpandOne(size_t slot, BlockMap& blocks) {
  Step& s = slots_[slot];
  if (s.count == 0) return;
  for (int i = 0; i < s.neffects; ++i) {
    const StepEffect& e = details_[slot].effect[i];
    blocks.counters(e.block).n[e.counter] += s.count * e.times;
  }
  s.count = 0;
}

void StepCache::Expand(BlockMap& blocks) {
  for (uint32_t i : counted_) {
    ExpandOne(i, blocks);
    slots_[i].listed = false;
  }
  counted_.clear();
}

void StepCache::Discard() {
  for (uint32_t i : counted_) {
    slots_[i].count = 0;
    slots_[i].listed = false;
  }
  counted_.clear();
}

}  // namespace hwcov::decoder
