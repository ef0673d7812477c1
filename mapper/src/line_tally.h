// Line counts from observations "this copy of a line's code ran N times":
// the most executed instruction within one copy (function body, template
// instance, inlined copy) counts, and copies add up. Collected in a flat
// vector and reduced once, because a large binary has millions of rows.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace hwcov::mapper {

class LineTally {
 public:
  enum class Source : uint8_t {
    kRow,             // instructions the line table attributes to the line
    kView,            // a row that owns no instruction: counts when no other source ran
    kFunction,        // a function's entries, on its declaration line
    kCallSite,        // the executions of an inlined copy, on the line of its call
    kFirstStatement,  // the entries of an inlined copy, on its function's first statement
  };

  // |in_gap|: this code is in a function around a trace gap.
  void Observe(uint32_t file, uint32_t line, uint32_t copy, uint64_t count, bool instrumentable,
               Source source, bool in_gap = false) {
    observations_.push_back({file, line, copy, count, instrumentable, in_gap, source});
  }

  // Calls |emit| once per instrumentable line, ordered by (file, line).
  // |unknown|: some of the line's code is in a gap and its count is 0.
  void Reduce(
      const std::function<void(uint32_t file, uint32_t line, uint64_t count, bool unknown)>& emit);

 private:
  struct Observation {
    uint32_t file, line, copy;
    uint64_t count;
    bool instrumentable;
    bool in_gap;
    Source source;
  };
  std::vector<Observation> observations_;
};

}  // namespace hwcov::mapper
