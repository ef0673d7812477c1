// Which code and which processes the soft tracer traces: the glob matching of
// --only and --only-exe, and address ranges with a fast membership test.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hwcov::collector {

// fnmatch(3) on the whole path, or on the file name when the pattern has no '/'.
bool MatchesGlob(const std::string& pattern, const std::string& path);
bool MatchesAny(const std::vector<std::string>& patterns, const std::string& path);

struct AddressRange {
  uint64_t start = 0, end = 0;
};

class RangeSet {
 public:
  void Add(uint64_t start, uint64_t end) { ranges_.push_back({start, end}); }
  void Clear() { ranges_.clear(); }
  bool Contains(uint64_t ip) const {
    for (const AddressRange& r : ranges_)
      if (ip >= r.start && ip < r.end) return true;
    return false;
  }
  bool empty() const { return ranges_.empty(); }
  const std::vector<AddressRange>& ranges() const { return ranges_; }

 private:
  std::vector<AddressRange> ranges_;
};

}  // namespace hwcov::collector
