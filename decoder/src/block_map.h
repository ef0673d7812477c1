// The fast path's map of basic blocks, built on demand from the code of one
// image, with each block's successors cached as block ids once used (as
// libxdc caches its control-flow graph), the block's counts of the stretch
// being decoded and their totals over the stretches decoded.
#pragma once

#include <cstdint>
#include <vector>

#include "block_counts.h"
#include "code_image.h"

namespace hwcov::decoder {

inline bool IsDirect(InsnKind kind) {
  return kind == InsnKind::kDirectJump || kind == InsnKind::kDirectCall;
}

// A basic block: instructions from |ip| up to and including the first
// control-flow instruction at |end_ip|.
struct FastBlock {
  uint64_t ip = 0;
  uint64_t end_ip = 0;
  uint64_t next_ip = 0;  // after end_ip: fall-through and return address
  uint64_t target = 0;   // of a direct branch at end_ip
  uint32_t ninsn = 0;
  InsnKind kind = InsnKind::kOther;
  // Successor block ids, resolved on first use: [0] at next_ip, [1] at target
  // or, for an indirect branch, at indirect_target, where it went last.
  int32_t successor[2] = {-1, -1};
  uint64_t indirect_target = 0;
};

// How often a block ran: runs are hits plus, for a conditional branch, its
// outcomes (fell_through, taken; runs whose outcome libipt would not know are
// hits). Unsigned arithmetic: an outcome taken back before the step cache
// has added it wraps and comes right when it does.
struct BlockCounters {
  enum Counter { kHits = 0, kFellThrough = 1, kTaken = 2 };
  uint64_t n[3] = {0, 0, 0};
  uint64_t runs() const { return n[kHits] + n[kFellThrough] + n[kTaken]; }
};

// The blocks of one image, built on demand. One per worker thread and image:
// it is not shared, so it needs no lock.
class BlockMap {
 public:
  explicit BlockMap(const CodeImage& image) : image_(image) {}
  // The id of the block starting at |ip|, building it first; -1 when the
  // code there is not in the image or does not decode.
  int32_t At(uint64_t ip);
  FastBlock& operator[](int32_t id) { return blocks_[static_cast<size_t>(id)]; }
  size_t size() const { return blocks_.size(); }
  const CodeImage& image() const { return image_; }
  // The successor |which| (0: next_ip, 1: target) of block |id|, resolved
  // and cached; -1 when there is no code there.
  int32_t Successor(int32_t id, int which);

  // The counters of the stretch being decoded, apart from the blocks so that
  // the walk's reads and the step cache's additions touch fewer cache lines.
  BlockCounters& counters(int32_t id) { return stretch_[static_cast<size_t>(id)]; }
  // The stretch decoded: its counts join the map's totals (returned: the
  // instructions it ran) or are dropped (it goes to libipt instead).
  uint64_t CommitStretch();
  void DropStretch();
  // Adds the totals of every stretch committed so far to |counts| (blocks and
  // conditional-branch edges; not |counts.instructions|, which each stretch
  // reported), clearing them. Summing per worker and image, not per stretch,
  // keeps hash tables and locks off the per-stretch path.
  void MoveTotalsInto(RuntimeCounts& counts);

 private:
  // An open-addressing table of block ids by start address (-1: no code
  // there), with linear probing, at most half full: the lookup of every
  // indirect branch's target that the block's last target was not. One
  // probe costs one cache line, where std::unordered_map's node costs two.
  struct IpSlot {
    static constexpr uint64_t kEmpty = ~uint64_t{0};  // no code is at the top of memory
    uint64_t ip = kEmpty;
    int32_t id = -1;
  };
  IpSlot& SlotFor(uint64_t ip);
  int32_t Build(uint64_t ip);

  const CodeImage& image_;
  std::vector<FastBlock> blocks_;
  std::vector<BlockCounters> stretch_;  // by block id
  std::vector<BlockCounters> totals_;   // by block id
  std::vector<IpSlot> by_ip_ = std::vector<IpSlot>(1024);
  size_t addresses_ = 0;  // slots in use
};

}  // namespace hwcov::decoder
