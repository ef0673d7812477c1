// Per-instruction execution counts of one binary as a step function over
// link-time addresses, built from the profile's blocks: every instruction of
// a block executed |count| more times.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace hwcov::mapper {

class ExecutionDepth {
 public:
  // Instructions from |begin| to |last| (address of the last one) ran |count| times.
  void Add(uint64_t begin, uint64_t last, uint64_t count);
  void Build();  // call once, after every Add

  // Executions of the most executed instruction starting in [begin, end).
  uint64_t MaxIn(uint64_t begin, uint64_t end) const;
  // Executions of the instruction at |address|.
  uint64_t At(uint64_t address) const { return MaxIn(address, address + 1); }

 private:
  std::vector<std::pair<uint64_t, int64_t>> events_;
  std::vector<std::pair<uint64_t, uint64_t>> steps_;  // (address, count from here on)
};

}  // namespace hwcov::mapper
