#include "step_cache.h"

#include <algorithm>
#include <bit>

namespace hwcov::decoder {

StepCache::StepCache(size_t entries) {
  if (entries == 0) return;
  const size_t n = std::max<size_t>(2, std::bit_floor(entries));
  slots_.resize(n);
  effects_.resize(n);
  shift_ = 64 - std::countr_zero(n);
  counted_.reserve(n);
}

void StepCache::Bind(const BlockMap* owner) {
  if (owner == owner_) return;
  Discard();
  for (Step& s : slots_) s.start = -1;
  owner_ = owner;
}

Step& StepCache::Insert(const Step& step, const StepEffects& effects, BlockMap& blocks) {
  const size_t i = Index(step.start, step.bits, step.nbits);
  ++misses_;
  ExpandOne(i, blocks);
  Step& slot = slots_[i];
  const bool listed = slot.listed;
  slot = step;
  slot.count = 0;
  slot.listed = listed;
  std::copy_n(effects.effect, step.neffects, effects_[i].effect);
  return slot;
}

void StepCache::ExpandOne(size_t slot, BlockMap& blocks) {
  Step& s = slots_[slot];
  if (s.count == 0) return;
  for (int i = 0; i < s.neffects; ++i) {
    const StepEffect& e = effects_[slot].effect[i];
    blocks[e.block].counter[e.counter] += s.count * e.times;
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
