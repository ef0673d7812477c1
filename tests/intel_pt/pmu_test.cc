// PMU detection against sysfs trees checked in under tests/intel_pt/sysfs:
// a Skylake (the kernel's real format strings and hex caps), a CPU with one
// address range, a Broadwell (no MTC/PSB control, no IP filtering) and an
// AMD machine without intel_pt. Format bits are read, never assumed.
#include <gtest/gtest.h>

#include <fstream>

#include "hwcov/support.h"
#include "intel_pt_attr.h"
#include "intel_pt_pmu.h"
#include "test_support.h"

namespace hwcov::collector {
namespace {

namespace fs = std::filesystem;

const fs::path kSysfs = HWCOV_INTEL_PT_SYSFS;

fs::path WriteCpuInfo(const testing::TempDir& dir, const std::string& vendor, bool vm) {
  fs::path p = dir.path() / "cpuinfo";
  std::ofstream(p) << "processor\t: 0\nvendor_id\t: " << vendor
                   << "\ncpu family\t: 6\nmodel\t\t: 78\nflags\t\t: fpu vme pse"
                   << (vm ? " hypervisor" : "") << " intel_pt\n";
  return p;
}

TEST(PmuFormat, ParsesTheKernelsFormatStrings) {
  EXPECT_EQ(ParsePmuFormat("config:10", "x").mask, 0x400u);
  EXPECT_EQ(ParsePmuFormat("config:10", "x").word, 0);
  EXPECT_EQ(ParsePmuFormat("config:14-17", "x").mask, 0x3c000u);
  EXPECT_EQ(ParsePmuFormat("config:55", "x").mask, uint64_t{1} << 55);
  PmuFormat split = ParsePmuFormat("config1:0-3,8", "x");
  EXPECT_EQ(split.word, 1);
  EXPECT_EQ(split.mask, 0x10fu);
  for (const char* bad :
       {"", "config", "config:", "cfg:1", "config:17-14", "config:64", "config:a"})
    EXPECT_THROW(ParsePmuFormat(bad, "format/x"), Error) << bad;
  try {
    ParsePmuFormat("config:x", "/sys/x/format/tsc");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/sys/x/format/tsc"), std::string::npos) << e.what();
  }
}

TEST(Pmu, DetectsSkylake) {
  PtPmu pmu = PtPmu::Detect(kSysfs / "skylake");
  EXPECT_EQ(pmu.type(), 8u);
  EXPECT_EQ(pmu.FormatBits("pt"), 0x1u);
  EXPECT_EQ(pmu.FormatBits("tsc"), 0x400u);
  EXPECT_EQ(pmu.FormatBits("noretcomp"), 0x800u);
  EXPECT_EQ(pmu.FormatBits("mtc"), 0x200u);
  EXPECT_EQ(pmu.FormatBits("mtc_period"), 0x3c000u);
  EXPECT_EQ(pmu.FormatBits("psb_period"), 0xf000000u);
  EXPECT_EQ(pmu.FormatBits("cyc"), 0x2u);
  EXPECT_EQ(pmu.FormatBits("notnt"), uint64_t{1} << 55);
  EXPECT_EQ(pmu.FormatBits("no_such_term"), 0u);
  // Caps are printed in hex by the kernel: 249 is 0x249 (periods 0, 3, 6, 9).
  EXPECT_EQ(pmu.Cap("mtc_periods"), 0x249u);
  EXPECT_EQ(pmu.Cap("cycle_thresholds"), 0x3fffu);
  EXPECT_EQ(pmu.Cap("psb_periods"), 0x3fu);
  EXPECT_EQ(pmu.Cap("nonexistent"), std::nullopt);
  EXPECT_EQ(pmu.AddressRanges(), 2u);
  EXPECT_EQ(pmu.MaxNonTurboRatio(), 12u);
}

TEST(Pmu, EncodesAndDecodesThroughTheFormatBits) {
  PtPmu pmu = PtPmu::Detect(kSysfs / "skylake");
  EXPECT_EQ(pmu.Encode("mtc_period", 3), 0xc000u);
  EXPECT_EQ(pmu.Encode("psb_period", 3), 0x3000000u);
  EXPECT_EQ(pmu.Decode("mtc_period", 0x300e601), 3u);
  EXPECT_EQ(pmu.Decode("psb_period", 0x300e601), 3u);
  EXPECT_THROW(pmu.Encode("mtc_period", 16), Error);  // four bits
  EXPECT_THROW(pmu.Encode("bogus", 1), Error);
}

// What the notes measured perf writing for intel_pt// on Skylake.
TEST(Pmu, DefaultConfigIsPerfsOnSkylake) {
  EXPECT_EQ(DefaultPtConfig(PtPmu::Detect(kSysfs / "skylake")), 0x300e601u);
  EXPECT_EQ(DefaultPtConfig(PtPmu::Detect(kSysfs / "few_filters")), 0x300e601u);
}

// No MTC and no PSB period control: perf's default is tsc, pt, branch.
TEST(Pmu, DefaultConfigFollowsTheCaps) {
  PtPmu bdw = PtPmu::Detect(kSysfs / "broadwell");
  EXPECT_EQ(DefaultPtConfig(bdw), 0x2401u);
  EXPECT_EQ(bdw.AddressRanges(), 0u);
}

// Move every format bit and the default config moves with it: nothing is
// hard-coded.
TEST(Pmu, FormatBitsComeFromSysfs) {
  testing::TempDir dir("pt-moved-bits");
  fs::copy(kSysfs / "skylake", dir.path(), fs::copy_options::recursive);
  auto set = [&](const char* term, const char* text) {
    std::ofstream(dir.path() / "intel_pt/format" / term) << text << "\n";
  };
  set("tsc", "config:40");
  set("mtc", "config:41");
  set("mtc_period", "config:44-47");
  set("psb_period", "config:48-51");
  set("branch", "config:42");
  std::ofstream(dir.path() / "intel_pt/caps/mtc_periods") << "2\n";  // only period 1
  const uint64_t expected = (uint64_t{1} << 40) | (uint64_t{1} << 41) | (uint64_t{1} << 44) |
                            (uint64_t{3} << 48) | (uint64_t{1} << 42) | 1;
  EXPECT_EQ(DefaultPtConfig(PtPmu::Detect(dir.path())), expected);
}

TEST(Pmu, ValidatesPeriodsAgainstTheCaps) {
  PtPmu pmu = PtPmu::Detect(kSysfs / "skylake");
  EXPECT_NO_THROW(ValidatePtConfig(pmu, 0x300e601));
  try {
    ValidatePtConfig(pmu, (0x300e601 & ~0x3c000ull) | pmu.Encode("mtc_period", 2));
    FAIL() << "mtc_period=2 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mtc_period=2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("0,3,6,9"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ValidatePtConfig(pmu, pmu.Encode("psb_period", 7)), Error);  // 0x3f: 0-5
}

TEST(Pmu, NoIntelPtOnAnAmdMachine) {
  testing::TempDir dir("pt-amd");
  const fs::path cpuinfo = WriteCpuInfo(dir, "AuthenticAMD", true);
  const std::string why = PtPmuMissingReason(kSysfs / "no_intel_pt", cpuinfo);
  EXPECT_EQ(why.rfind("no intel_pt PMU on this CPU (AuthenticAMD)", 0), 0u) << why;
  EXPECT_NE(why.find("only on Intel CPUs"), std::string::npos) << why;
  EXPECT_EQ(why.find('\n'), std::string::npos);
  try {
    PtPmu::Detect(kSysfs / "no_intel_pt", cpuinfo);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), why);
  }
  EXPECT_EQ(PtPmuMissingReason(kSysfs / "skylake", cpuinfo), "");
}

TEST(Pmu, NoIntelPtInAVirtualMachine) {
  testing::TempDir dir("pt-vm");
  const std::string why =
      PtPmuMissingReason(kSysfs / "no_intel_pt", WriteCpuInfo(dir, "GenuineIntel", true));
  EXPECT_NE(why.find("virtual machine"), std::string::npos) << why;
  const std::string metal =
      PtPmuMissingReason(kSysfs / "no_intel_pt", WriteCpuInfo(dir, "GenuineIntel", false));
  EXPECT_NE(metal.find("CONFIG_PERF_EVENTS_INTEL_PT"), std::string::npos) << metal;
}

TEST(Pmu, NoIntelPtOnArm) {
  testing::TempDir dir("pt-arm");
  fs::path cpuinfo = dir.path() / "cpuinfo";
  std::ofstream(cpuinfo) << "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n";
  const std::string why = PtPmuMissingReason(kSysfs / "no_intel_pt", cpuinfo);
  EXPECT_EQ(why.rfind("no intel_pt PMU on this CPU:", 0), 0u) << why;
}

}  // namespace
}  // namespace hwcov::collector
