// The intel_pt PMU as the kernel describes it in sysfs
// (/sys/bus/event_source/devices/intel_pt): its dynamic type, the bit
// positions of its config terms (format/*) and what this CPU's Intel PT can
// do (caps/*). Nothing here is hard-coded: format bits differ between
// kernels, caps between CPUs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace hwcov::collector {

// One format term, e.g. "config:14-17": which attr word it lives in
// (0 = config, 1 = config1, 2 = config2, 3 = config3) and its bits there.
struct PmuFormat {
  int word = 0;
  uint64_t mask = 0;
};

// Parses a format file's text ("config:10", "config:14-17", "config1:0-3,8").
// Throws hwcov::Error naming |where| when the text is not a format.
PmuFormat ParsePmuFormat(const std::string& text, const std::string& where);

class PtPmu {
 public:
  // Reads <devices_root>/intel_pt. Throws hwcov::Error (with the reason of
  // PtPmuMissingReason) when there is none, or naming the file that is
  // unreadable.
  static PtPmu Detect(const std::filesystem::path& devices_root,
                      const std::filesystem::path& cpuinfo = "/proc/cpuinfo");

  const std::filesystem::path& dir() const { return dir_; }
  uint32_t type() const { return type_; }

  bool HasFormat(const std::string& term) const { return formats_.count(term) != 0; }
  // The bits of |term| in attr.config, or 0 when the PMU has no such term or
  // it lives in another word (perf's perf_pmu__format_bits).
  uint64_t FormatBits(const std::string& term) const;
  // |value| placed into |term|'s bits of attr.config (perf's
  // pmu_format_value: the value's bits fill the mask's bits from the
  // lowest). Throws when the term is unknown or the value does not fit.
  uint64_t Encode(const std::string& term, uint64_t value) const;
  // The value of |term| inside |config| (perf's intel_pt_masked_bits).
  uint64_t Decode(const std::string& term, uint64_t config) const;

  // caps/<name> as a number: the kernel prints most caps in decimal and the
  // bitmaps (mtc_periods, psb_periods, cycle_thresholds) in hex.
  std::optional<uint64_t> Cap(const std::string& name) const;
  // How many address ranges IP filtering supports (caps/num_address_ranges,
  // else the generic nr_addr_filters; 0 when neither says).
  uint32_t AddressRanges() const;
  // max_nonturbo_ratio (for CBR packets to frequency), 0 when absent.
  uint64_t MaxNonTurboRatio() const { return max_nonturbo_ratio_; }

 private:
  std::filesystem::path dir_;
  uint32_t type_ = 0;
  std::map<std::string, PmuFormat> formats_;
  std::map<std::string, std::string> caps_;
  std::optional<uint32_t> nr_addr_filters_;
  uint64_t max_nonturbo_ratio_ = 0;
};

// Why there is no intel_pt PMU under |devices_root|, in one sentence that
// starts "no intel_pt PMU" and says what this machine is (AMD, a VM, ARM);
// empty when there is one.
std::string PtPmuMissingReason(const std::filesystem::path& devices_root,
                               const std::filesystem::path& cpuinfo = "/proc/cpuinfo");

}  // namespace hwcov::collector
