// The fast path's multi-bit steps: for a (block, TNT payload) pair, what the
// walk over that payload from that block does — which blocks run, which
// branch outcomes, the return-stack pushes and pops, where it ends — worked
// out once and replayed afterwards with one lookup. Steps are counted, not
// their effects: the effects are added to the block counters, times the
// step's count, when the stretch ends or the step is evicted, so the counts
// are exact.
//
// The cache is a two-way set-associative table of a fixed number of steps per
// worker thread (DecodeOptions::step_cache_entries, kStepCacheBytesPerEntry
// each; bytes() is its whole memory): both steps of a set share one cache
// line, so a lookup costs one load as in a direct-mapped table, and a new
// step evicts the one of its set used less recently, after adding that one's
// counts. (On the python trace of docs/benchmarks.md the second way cut the
// steps built anew from 7.7% to 5.0% of the lookups.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "block_map.h"
#include "hwcov/decoder.h"

namespace hwcov::decoder {

// A counter of a block (BlockCounters::n) incremented |times| per step.
struct StepEffect {
  int32_t block = 0;
  uint16_t counter = 0;
  uint16_t times = 0;
};

// What a step does to the walk, looked up on every TNT packet: half a cache
// line, so that the steps of a large program's hot paths stay in the CPU's
// caches. What is read only now and then (the counter increments, when the
// count is added; the calls it leaves open) is kept apart, in StepDetail.
struct alignas(32) Step {
  static constexpr int kMaxEffects = 24;  // distinct counters
  static constexpr int kMaxDepth = 4;     // calls still open inside the step
  static constexpr int kMaxActions = 1024;
  static constexpr uint64_t kEmpty = ~uint64_t{0};

  // The block the step starts at and the TNT bits it takes (first in bit
  // nbits-1), or kEmpty.
  static uint64_t Key(int32_t start, uint64_t bits, int nbits) {
    return static_cast<uint64_t>(static_cast<uint32_t>(start)) << 32 | bits << 8 |
           static_cast<uint64_t>(nbits);
  }

  uint64_t key = kEmpty;
  uint64_t count = 0;    // times it ran in this stretch, not yet added
  int32_t end = -1;      // the block where the walk goes on
  int32_t last = -1;     // the last block it ran (neffects > 0)
  uint8_t consumed = 0;  // TNT bits the step used
  uint8_t depth = 0;     // deepest nesting of calls made inside the step
  uint8_t npush = 0;     // calls made inside and still open at its end
  uint8_t neffects = 0;
  bool external_return = false;  // it ends at a compressed return whose call is older
  // Its last action was the conditional branch at |last|, whose next block
  // has yet to run (libipt learns the outcome only then).
  bool pending = false;
  uint8_t pending_taken = 0;
  bool listed = false;  // the slot is in the cache's list of counted slots
};
static_assert(sizeof(Step) == 32);

struct StepDetail {
  int32_t first = -1;  // the first block it ran (neffects > 0)
  StepEffect effect[Step::kMaxEffects];
};

// The return stack entries a step leaves (Step::npush), oldest first: read
// whenever the step runs, so kept apart from StepDetail, four steps to a
// cache line.
struct StepCalls {
  int32_t push[Step::kMaxDepth];
};
static_assert(sizeof(Step) + sizeof(StepDetail) + sizeof(StepCalls) == kStepCacheBytesPerEntry);

struct alignas(64) StepSet {
  Step way[2];
};
static_assert(sizeof(StepSet) == 2 * sizeof(Step));  // slots are numbered across sets

class StepCache {
 public:
  // |entries| is rounded down to a power of two (at least 2); 0 disables
  // the cache.
  explicit StepCache(size_t entries);

  bool enabled() const { return !sets_.empty(); }
  size_t bytes() const {
    return sets_.size() * sizeof(StepSet) + details_.size() * sizeof(StepDetail) +
           calls_.size() * sizeof(StepCalls) + mru_.size() + seen_.size() * sizeof(uint16_t);
  }

  // The cache holds steps of one block map at a time: another one forgets
  // them all (between stretches, when nothing is counted).
  void Bind(const BlockMap* owner);

  Step* Find(uint64_t key) {
    ++lookups_;
    const size_t set = SetOf(key);
    Step* way = sets_[set].way;
    for (uint8_t w = 0; w < 2; ++w)
      if (way[w].key == key) {
        mru_[set] = w;
        return &way[w];
      }
    ++misses_;
    return nullptr;
  }
  const StepDetail& Detail(const Step& s) const { return details_[SlotOf(s)]; }
  const StepCalls& Calls(const Step& s) const { return calls_[SlotOf(s)]; }

  // Whether a step missing from the cache was missed before, as far as a
  // table of 16-bit tags remembers (2^kSeenBits of them, 128 KiB): only a
  // step that recurs is worth building (python trace: 5.0% of the lookups
  // built a step without this, 3.4% with it).
  bool Admit(uint64_t key) {
    const uint64_t h = key * 0xff51afd7ed558ccdull;
    uint16_t& seen = seen_[h >> (64 - kSeenBits)];
    const uint16_t tag = static_cast<uint16_t>(h >> 16) | 1;  // 0: never seen
    if (seen == tag) return true;
    seen = tag;
    return false;
  }

  // Stores |step| in its set, adding the counts of the one it evicts.
  Step& Insert(const Step& step, const StepDetail& detail, const StepCalls& calls,
               BlockMap& blocks);

  void Count(Step& s) {
    if (s.count++ == 0 && !s.listed) {
      s.listed = true;
      counted_.push_back(static_cast<uint32_t>(SlotOf(s)));
    }
  }

  uint64_t lookups() const { return lookups_; }
  uint64_t misses() const { return misses_; }
  uint64_t built() const { return built_; }

  // Adds the counts of every counted step to |blocks| (or drops them).
  void Expand(BlockMap& blocks);
  void Discard();

 private:
  size_t SetOf(uint64_t key) const {
    const uint64_t h =
        (key >> 32) * 0x9e3779b97f4a7c15ull ^ (key & 0xffffffff) * 0xc2b2ae3d27d4eb4full;
    return static_cast<size_t>((h >> 1) >> (shift_ - 1));  // shift_ 64 (one set): 0
  }
  // Slots number the ways of all sets: 2 * set + way.
  Step& Slot(size_t slot) { return sets_[slot / 2].way[slot % 2]; }
  size_t SlotOf(const Step& s) const {
    return static_cast<size_t>(reinterpret_cast<const char*>(&s) -
                               reinterpret_cast<const char*>(sets_.data())) /
           sizeof(Step);
  }
  void ExpandOne(size_t slot, BlockMap& blocks);

  std::vector<StepSet> sets_;
  std::vector<StepDetail> details_;  // of each slot
  std::vector<StepCalls> calls_;     // of each slot
  std::vector<uint8_t> mru_;         // of each set: its way used last
  static constexpr int kSeenBits = 16;
  std::vector<uint16_t> seen_;  // Admit()'s tags
  int shift_ = 64;
  std::vector<uint32_t> counted_;  // slots whose count may be non-zero
  const BlockMap* owner_ = nullptr;
  uint64_t lookups_ = 0;
  uint64_t misses_ = 0;  // of which
  uint64_t built_ = 0;   // built anew (Insert)
};

}  // namespace hwcov::decoder
