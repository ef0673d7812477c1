#include "intel_pt_pmu.h"

#include <cctype>
#include <fstream>
#include <sstream>

#include "hwcov/support.h"

namespace hwcov::collector {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> ReadTrimmed(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  size_t first = 0;
  while (first < text.size() && std::isspace(static_cast<unsigned char>(text[first]))) ++first;
  return text.substr(first);
}

std::optional<uint64_t> ParseNumber(const std::string& text, int base) {
  if (text.empty()) return std::nullopt;
  size_t used = 0;
  try {
    uint64_t v = std::stoull(text, &used, base);
    if (used != text.size()) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

struct CpuInfo {
  std::string vendor;
  bool hypervisor = false;
};

CpuInfo ReadCpuInfo(const fs::path& cpuinfo) {
  CpuInfo info;
  std::ifstream in(cpuinfo);
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, line.find_first_of(" \t:"));
    std::string value = line.substr(std::min(line.size(), colon + 2));
    if (key == "vendor_id" && info.vendor.empty()) info.vendor = value;
    if (key == "flags" && (" " + value + " ").find(" hypervisor ") != std::string::npos)
      info.hypervisor = true;
    if (key == "flags") break;  // the first CPU says everything needed
  }
  return info;
}

}  // namespace

PmuFormat ParsePmuFormat(const std::string& text, const std::string& where) {
  auto fail = [&]() -> PmuFormat {
    throw Error(where + ": unrecognised PMU format '" + text +
                "' (expected e.g. 'config:10' or 'config:14-17')");
  };
  PmuFormat f;
  const auto colon = text.find(':');
  if (colon == std::string::npos) return fail();
  const std::string word = text.substr(0, colon);
  if (word == "config")
    f.word = 0;
  else if (word == "config1")
    f.word = 1;
  else if (word == "config2")
    f.word = 2;
  else if (word == "config3")
    f.word = 3;
  else
    return fail();
  std::stringstream ranges(text.substr(colon + 1));
  std::string range;
  while (std::getline(ranges, range, ',')) {
    const auto dash = range.find('-');
    auto lo = ParseNumber(range.substr(0, dash), 10);
    auto hi = dash == std::string::npos ? lo : ParseNumber(range.substr(dash + 1), 10);
    if (!lo || !hi || *lo > *hi || *hi > 63) return fail();
    for (uint64_t bit = *lo; bit <= *hi; ++bit) f.mask |= uint64_t{1} << bit;
  }
  if (!f.mask) return fail();
  return f;
}

PtPmu PtPmu::Detect(const fs::path& devices_root, const fs::path& cpuinfo) {
  if (std::string why = PtPmuMissingReason(devices_root, cpuinfo); !why.empty()) throw Error(why);
  PtPmu pmu;
  pmu.dir_ = devices_root / "intel_pt";
  auto type_text = ReadTrimmed(pmu.dir_ / "type");
  auto type = type_text ? ParseNumber(*type_text, 10) : std::nullopt;
  if (!type) ThrowFileError(pmu.dir_ / "type", "cannot read the intel_pt PMU type");
  pmu.type_ = static_cast<uint32_t>(*type);

  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(pmu.dir_ / "format", ec)) {
    auto text = ReadTrimmed(entry.path());
    if (!text) ThrowFileError(entry.path(), "cannot read");
    pmu.formats_[entry.path().filename().string()] = ParsePmuFormat(*text, entry.path().string());
  }
  if (pmu.formats_.empty())
    ThrowFileError(pmu.dir_ / "format",
                   "no format terms: not an intel_pt PMU this kernel describes");
  for (const auto& entry : fs::directory_iterator(pmu.dir_ / "caps", ec))
    if (auto text = ReadTrimmed(entry.path())) pmu.caps_[entry.path().filename().string()] = *text;
  if (auto text = ReadTrimmed(pmu.dir_ / "nr_addr_filters"))
    if (auto n = ParseNumber(*text, 10)) pmu.nr_addr_filters_ = static_cast<uint32_t>(*n);
  if (auto text = ReadTrimmed(pmu.dir_ / "max_nonturbo_ratio"))
    pmu.max_nonturbo_ratio_ = ParseNumber(*text, 10).value_or(0);
  return pmu;
}

uint64_t PtPmu::FormatBits(const std::string& term) const {
  auto it = formats_.find(term);
  return it == formats_.end() || it->second.word != 0 ? 0 : it->second.mask;
}

uint64_t PtPmu::Encode(const std::string& term, uint64_t value) const {
  auto it = formats_.find(term);
  if (it == formats_.end() || it->second.word != 0)
    throw Error("the intel_pt PMU of this kernel has no config term '" + term + "' (" +
                (dir_ / "format").string() + ")");
  uint64_t out = 0, remaining = value;
  for (int bit = 0; bit < 64; ++bit) {
    if (!(it->second.mask >> bit & 1)) continue;
    if (remaining & 1) out |= uint64_t{1} << bit;
    remaining >>= 1;
  }
  if (remaining)
    throw Error("intel_pt term " + term + "=" + std::to_string(value) + " does not fit its " +
                "format bits");
  return out;
}

uint64_t PtPmu::Decode(const std::string& term, uint64_t config) const {
  const uint64_t mask = FormatBits(term);
  uint64_t out = 0;
  int pos = 0;
  for (int bit = 0; bit < 64; ++bit)
    if (mask >> bit & 1) out |= (config >> bit & 1) << pos++;
  return out;
}

std::optional<uint64_t> PtPmu::Cap(const std::string& name) const {
  auto it = caps_.find(name);
  if (it == caps_.end()) return std::nullopt;
  // arch/x86/events/intel/pt.c pt_cap_show prints every cap with "%x".
  return ParseNumber(it->second, 16);
}

uint32_t PtPmu::AddressRanges() const {
  if (auto n = Cap("num_address_ranges")) return static_cast<uint32_t>(*n);
  return nr_addr_filters_.value_or(0);
}

std::string PtPmuMissingReason(const fs::path& devices_root, const fs::path& cpuinfo) {
  const fs::path dir = devices_root / "intel_pt";
  std::error_code ec;
  if (fs::exists(dir / "type", ec)) return "";
  const CpuInfo cpu = ReadCpuInfo(cpuinfo);
  std::string what = cpu.vendor.empty() ? "this CPU" : "this CPU (" + cpu.vendor + ")";
  std::string why;
  if (cpu.vendor == "GenuineIntel")
    why = cpu.hypervisor
              ? "this is a virtual machine whose hypervisor does not pass Intel PT through"
              : "the CPU predates Broadwell or the kernel lacks CONFIG_PERF_EVENTS_INTEL_PT";
  else if (!cpu.vendor.empty())
    why = "Intel PT exists only on Intel CPUs";
  else
    why = "Intel PT exists only on Intel x86 CPUs";
  return "no intel_pt PMU on " + what + ": " + dir.string() + " does not exist (" + why + ")";
}

}  // namespace hwcov::collector
