// What decoding one stretch of trace produces (blocks and edges in runtime
// addresses), and their translation into the profile's (module, offset) keys.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "code_image.h"
#include "hwcov/decoder.h"

namespace hwcov::decoder {

struct PairHash {
  size_t operator()(const std::pair<uint64_t, uint64_t>& p) const {
    return std::hash<uint64_t>()(p.first * 0x9e3779b97f4a7c15ull ^ p.second);
  }
};

struct RuntimeBlock {
  uint64_t count = 0;
  uint32_t instructions = 0;
};

// Block and edge counts of one stretch of one queue, in runtime addresses.
struct RuntimeCounts {
  std::unordered_map<std::pair<uint64_t, uint64_t>, RuntimeBlock, PairHash> blocks;
  // (end of a block, start of the next one): how conditional branches went.
  std::unordered_map<std::pair<uint64_t, uint64_t>, uint64_t, PairHash> edges;
  std::optional<uint64_t> pending_end;  // last block's end, while flow continues
  std::optional<uint64_t> first_ip;     // first block's start
  uint64_t instructions = 0;

  void AddBlock(uint64_t ip, uint64_t end_ip, uint32_t ninsn) {
    if (pending_end) ++edges[{*pending_end, ip}];
    if (!first_ip) first_ip = ip;
    RuntimeBlock& b = blocks[{ip, end_ip}];
    ++b.count;
    b.instructions = ninsn;
    instructions += ninsn;
    pending_end = end_ip;
  }
};

// Accumulates translated counts per instruction; the merge is a sum, so the
// order in which stretches are added does not change the result, and the
// blocks it emits are canonical: maximal runs of consecutive instructions
// with one count, whatever the decoder's block boundaries were (a stretch
// boundary splits a libipt block in two). Records are appended and summed
// once, sorted, in MoveInto(): a tree insertion per instruction made this the
// slowest serial part of a decode.
// A part of one set of counts, so that several threads can translate it.
struct TranslationShare {
  size_t part = 0, of = 1;
};

class ProfileBuilder {
 public:
  // Translates |counts| through |image| (the address space they ran in):
  // each distinct block is walked once to find the conditional branches
  // inside it (they fell through) and edges tell where the last one went.
  // |share|: only every |of|-th block and edge from |part| on.
  void Add(const RuntimeCounts& counts, const CodeImage& image, TranslationShare share = {});
  // Sorts and sums what was added: on the thread that added it, so that the
  // builders of several threads join in linear time.
  void Sum();
  // Adds |other|'s records to these.
  void Join(ProfileBuilder&& other);
  void MoveInto(ExecutionProfile& profile);

 private:
  struct Instruction {
    uint32_t module = 0;
    uint8_t length = 0;
    uint64_t offset = 0;
    uint64_t count = 0;
  };
  std::vector<Instruction> instructions_;
  std::vector<BranchCount> branches_;
  bool summed_ = false;  // sorted by place, one record per place
  uint64_t unmapped_instructions_ = 0;
  std::vector<std::string> warnings_;
};

}  // namespace hwcov::decoder
