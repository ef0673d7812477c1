// The coverage-specialised decoder: PT packets walked over a map of basic
// blocks built once per image from the code, with successors cached per
// block (as libxdc caches its control-flow graph), counting blocks and
// conditional-branch outcomes in place. It produces exactly what libipt's
// block decoder produces for the same stretch (RuntimeCounts, LoopResult),
// or declines: anything outside the common flow (overflow, TSX, packets it
// does not model, inconsistent or undecodable trace, code with no image)
// makes it give the stretch back, untouched, to libipt's decoder, which
// then finds and reports the gap exactly as before.
#pragma once

#include <intel-pt.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "block_counts.h"
#include "code_image.h"
#include "decode_loop.h"

namespace hwcov::decoder {

// A basic block: instructions from |ip| up to and including the first
// control-flow instruction at |end_ip|.
struct FastBlock {
  uint64_t ip = 0;
  uint64_t end_ip = 0;
  uint64_t next_ip = 0;  // after end_ip: fall-through and return address
  uint64_t target = 0;   // of a direct branch at end_ip
  uint32_t ninsn = 0;
  InsnKind kind = InsnKind::kOther;
  // Successor block ids, resolved on first use: [0] at next_ip, [1] at target.
  int32_t successor[2] = {-1, -1};
  // Counts of the stretch being decoded, moved out when it ends: runs are
  // hits plus, for a conditional branch, its outcomes ([0] fell through,
  // [1] taken; runs whose outcome libipt would not know are hits).
  uint64_t hits = 0;
  uint64_t outcome[2] = {0, 0};
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

 private:
  const CodeImage& image_;
  std::vector<FastBlock> blocks_;
  std::unordered_map<uint64_t, int32_t> by_ip_;
};

// Decodes the stretch of |config| (bounded at |stop_offset|, relative to
// config.begin, like RunDecodeLoop) into |counts| and |result|. Returns false,
// with |counts| and |result| unchanged, when it declines the stretch.
bool FastDecodeStretch(const pt_config& config, BlockMap& blocks, uint64_t stop_offset,
                       RuntimeCounts& counts, LoopResult& result);

}  // namespace hwcov::decoder
