// The fast path's multi-bit steps: for a (block, TNT payload) pair, what the
// walk over that payload from that block does — which blocks run, which
// branch outcomes, the return-stack pushes and pops, where it ends — worked
// out once and replayed afterwards with one lookup. Steps are counted, not
// their effects: the effects are added to the block counters, times the
// step's count, when the stretch ends or the step is evicted, so the counts
// are exact.
//
// The cache is a direct-mapped table of a fixed number of steps per worker
// thread (DecodeOptions::step_cache_entries, 256 bytes each; bytes() is
// its whole memory):
// a new step evicts the one in its slot, after adding that one's counts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "block_map.h"
#include "hwcov/decoder.h"

namespace hwcov::decoder {

// A counter of a block (FastBlock::counter) incremented |times| per step.
struct StepEffect {
  int32_t block = 0;
  uint16_t counter = 0;
  uint16_t times = 0;
};

// What a step does to the walk, looked up on every TNT packet: one cache
// line. Its counter increments (StepEffects) are read only when its count is
// added, so they are kept apart.
struct alignas(64) Step {
  static constexpr int kMaxEffects = 24;  // distinct counters
  static constexpr int kMaxDepth = 4;     // calls still open inside the step
  static constexpr int kMaxActions = 1024;

  // Key: the block the step starts at and the TNT bits it takes (first in
  // bit nbits-1). start < 0: the slot is empty.
  uint64_t bits = 0;
  int32_t start = -1;
  uint8_t nbits = 0;
  // Result.
  uint8_t consumed = 0;          // TNT bits the step used
  bool external_return = false;  // it ends at a compressed return whose call is older
  uint8_t depth = 0;             // deepest nesting of calls made inside the step
  uint8_t npush = 0;             // calls made inside and still open at its end
  uint8_t neffects = 0;
  uint8_t pending_taken = 0;
  bool listed = false;           // the slot is in the cache's list of counted slots
  int32_t end = -1;              // the block where the walk goes on
  int32_t first = -1;            // the first block it ran (neffects > 0)
  int32_t last = -1;             // the last block it ran
  int32_t pending = -1;          // a conditional branch whose next block has yet to run, or -1
  uint64_t count = 0;            // times it ran in this stretch, not yet added
  int32_t push[kMaxDepth] = {};  // return stack entries it leaves, oldest first
};
static_assert(sizeof(Step) == 64);

struct StepEffects {
  StepEffect effect[Step::kMaxEffects];
};
static_assert(sizeof(Step) + sizeof(StepEffects) == kStepCacheBytesPerEntry);

class StepCache {
 public:
  // |entries| is rounded down to a power of two (at least 2); 0 disables
  // the cache.
  explicit StepCache(size_t entries);

  bool enabled() const { return !slots_.empty(); }
  size_t bytes() const { return slots_.size() * (sizeof(Step) + sizeof(StepEffects)); }

  // The cache holds steps of one block map at a time: another one forgets
  // them all (between stretches, when nothing is counted).
  void Bind(const BlockMap* owner);

  Step* Find(int32_t start, uint64_t bits, int nbits) {
    ++lookups_;
    Step& s = slots_[Index(start, bits, nbits)];
    return s.start == start && s.nbits == nbits && s.bits == bits ? &s : nullptr;
  }

  // Stores |step| in its slot, adding the counts of the one it evicts.
  Step& Insert(const Step& step, const StepEffects& effects, BlockMap& blocks);

  void Count(Step& s) {
    if (s.count++ == 0 && !s.listed) {
      s.listed = true;
      counted_.push_back(static_cast<uint32_t>(&s - slots_.data()));
    }
  }

  uint64_t lookups() const { return lookups_; }
  uint64_t misses() const { return misses_; }

  // Adds the counts of every counted step to |blocks| (or drops them).
  void Expand(BlockMap& blocks);
  void Discard();

 private:
  size_t Index(int32_t start, uint64_t bits, int nbits) const {
    const uint64_t h = (static_cast<uint64_t>(start) * 0x9e3779b97f4a7c15ull) ^
                       ((bits << 6 | static_cast<uint64_t>(nbits)) * 0xc2b2ae3d27d4eb4full);
    return static_cast<size_t>(h >> shift_);
  }
  void ExpandOne(size_t slot, BlockMap& blocks);

  std::vector<Step> slots_;
  std::vector<StepEffects> effects_;  // of each slot
  int shift_ = 64;
  std::vector<uint32_t> counted_;  // slots whose count may be non-zero
  const BlockMap* owner_ = nullptr;
  uint64_t lookups_ = 0;
  uint64_t misses_ = 0;  // of which built anew (Insert)
};

}  // namespace hwcov::decoder
