#include "step_cache.h"

#include <algorithm>
#include <bit>

namespace hwcov::decoder {

StepCache::StepCache(size_t entries) {
  if (entries == 0) return;
  const size_t n = std::max<size_t>(2, std::bit_floor(entries));
  sets_.resize(n / 2);
  details_.resize(n);
  calls_.resize(n);
  mru_.resize(n / 2);
  seen_.resize(size_t{1} << kSeenBits);
  shift_ = 64 - std::countr_zero(n / 2);
  counted_.reserve(n);
}

void StepCache::Bind(const BlockMap* owner) {
  if (owner == owner_) return;
  Discard();
  for (StepSet& set : sets_)
    for (Step& s : set.way) s.key = Step::kEmpty;
  std::fill(seen_.begin(), seen_.end(), 0);
  owner_ = owner;
}

Step& StepCache::Insert(const Step& step, const StepDetail& detail, const StepCalls& calls,
                        BlockMap& blocks) {
  const size_t set = SetOf(step.key);
  ++built_;
  const Step* way = sets_[set].way;
  const uint8_t w = way[0].key == Step::kEmpty ? 0 : way[1].key == Step::kEmpty ? 1 : !mru_[set];
  mru_[set] = w;
  const size_t i = 2 * set + w;
  ExpandOne(i, blocks);
  Step& slot = Slot(i);
  const bool listed = slot.listed;
  slot = step;
  slot.count = 0;
  slot.listed = listed;
  StepDetail& to = details_[i];
  to.first = detail.first;
  std::copy_n(calls.push, step.npush, calls_[i].push);
  std::copy_n(detail.effect, step.neffects, to.effect);
  return slot;
}

void StepCache::ExpandOne(size_t slot, BlockMap& blocks) {
  Step& s = Slot(slot);
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
    Slot(i).listed = false;
  }
  counted_.clear();
}

void StepCache::Discard() {
  for (uint32_t i : counted_) {
    Slot(i).count = 0;
    Slot(i).listed = false;
  }
  counted_.clear();
}

}  // namespace hwcov::decoder
