// The perf_event_attrs and AUXTRACE_INFO a recording uses, compared with
// what perf writes: the flag bits of the notes (perf-data-format.md §1.2),
// the attrs of the real perf 4.14 recording in ../shared/fixtures, and
// intel_pt_info_fill's priv[] layout.
#include <gtest/gtest.h>

#include <cstring>

#include "hwcov/trace.h"
#include "intel_pt_attr.h"
#include "intel_pt_pmu.h"

namespace hwcov::collector {
namespace {

const std::filesystem::path kSysfs = HWCOV_INTEL_PT_SYSFS;

// The bitfield word at offset 40 of perf_event_attr.
uint64_t Flags(const perf_event_attr& a) {
  uint64_t w;
  std::memcpy(&w, reinterpret_cast<const uint8_t*>(&a) + 40, 8);
  return w;
}

uint64_t Bits(std::initializer_list<int> bits) {
  uint64_t w = 0;
  for (int b : bits) w |= uint64_t{1} << b;
  return w;
}

// Bit numbers from the notes: disabled 0, inherit 1, exclude_kernel 5,
// exclude_hv 6, mmap 8, comm 9, enable_on_exec 12, task 13,
// sample_id_all 18, exclude_guest 20, mmap2 23, comm_exec 24,
// context_switch 26, build_id 34.
constexpr int kDisabled = 0, kInherit = 1, kExclKernel = 5, kExclHv = 6, kMmap = 8, kComm = 9,
              kEnableOnExec = 12, kTask = 13, kSampleIdAll = 18, kExclGuest = 20, kMmap2 = 23,
              kCommExec = 24, kContextSwitch = 26, kBuildId = 34;

constexpr uint64_t kIpTidTimeCpuIdentifier = 0x10087;  // as in perf's files
constexpr uint64_t kIpTidTimeIdentifier = 0x10007;

class AttrTest : public ::testing::Test {
 protected:
  PtPmu pmu_ = PtPmu::Detect(kSysfs / "skylake");
};

TEST_F(AttrTest, IntelPtEventForALaunchedCommandPerCpu) {
  EventPlan plan;  // per-CPU, launched, 4 MiB
  perf_event_attr a = PtAttr(pmu_, DefaultPtConfig(pmu_), plan);
  EXPECT_EQ(a.type, 8u);
  EXPECT_EQ(a.size, 128u);
  EXPECT_EQ(a.config, 0x300e601u);
  EXPECT_EQ(a.sample_period, 1u);
  EXPECT_EQ(a.sample_type, kIpTidTimeCpuIdentifier);
  EXPECT_EQ(a.read_format, uint64_t{PERF_FORMAT_ID});
  EXPECT_EQ(Flags(a), Bits({kDisabled, kInherit, kExclKernel, kExclHv, kEnableOnExec, kSampleIdAll,
                            kExclGuest}));
  EXPECT_EQ(Flags(a), 0x141063u);        // the notes' intel_pt//u flags, spelled out
  EXPECT_EQ(a.aux_watermark, 1u << 20);  // a quarter of the AUX area
}

TEST_F(AttrTest, PerThreadAndAttachedVariants) {
  EventPlan per_thread;
  per_thread.per_cpu = false;
  perf_event_attr a = PtAttr(pmu_, 0x300e601, per_thread);
  EXPECT_EQ(a.sample_type, kIpTidTimeIdentifier);  // no CPU without per-CPU buffers
  EXPECT_EQ(a.inherit, 0u);                        // the kernel maps no inherited per-task buffer
  EXPECT_EQ(HaveSchedSwitch(per_thread), 0);

  EventPlan attach;
  attach.launch = false;
  perf_event_attr b = PtAttr(pmu_, 0x300e601, attach);
  EXPECT_EQ(b.enable_on_exec, 0u);
  EXPECT_EQ(b.disabled, 1u);  // enabled by ioctl once everything is set up
}

TEST_F(AttrTest, SidebandEventsUnprivileged) {
  EventPlan plan;  // no CPU-wide switch event: switches ride on the tracking event
  perf_event_attr t = TrackingAttr(plan);
  EXPECT_EQ(t.type, uint32_t{PERF_TYPE_SOFTWARE});
  EXPECT_EQ(t.config, uint64_t{PERF_COUNT_SW_DUMMY});
  EXPECT_EQ(t.sample_type, kIpTidTimeCpuIdentifier);
  // perf's "immediate" tracking event: enabled at once, context_switch on.
  EXPECT_EQ(Flags(t), Bits({kInherit, kExclKernel, kExclHv, kMmap, kComm, kTask, kSampleIdAll,
                            kExclGuest, kMmap2, kCommExec, kContextSwitch, kBuildId}));
  EXPECT_EQ(HaveSchedSwitch(plan), 2);
}

TEST_F(AttrTest, SidebandEventsPrivileged) {
  EventPlan plan;
  plan.cpu_wide_switch = true;
  perf_event_attr t = TrackingAttr(plan);
  EXPECT_EQ(Flags(t), Bits({kDisabled, kInherit, kExclKernel, kExclHv, kMmap, kComm, kEnableOnExec,
                            kTask, kSampleIdAll, kExclGuest, kMmap2, kCommExec, kBuildId}));
  perf_event_attr s = SwitchAttr(plan);
  EXPECT_EQ(Flags(s),
            Bits({kInherit, kExclKernel, kExclHv, kSampleIdAll, kExclGuest, kContextSwitch}));
  EXPECT_EQ(s.sample_type, kIpTidTimeCpuIdentifier);
  EXPECT_EQ(HaveSchedSwitch(plan), 3);
}

// The real `perf record -e cycles -e intel_pt//` of perf 4.14 (kernel and
// user, privileged): the same config, sample_type and read_format, and the
// same flags once the differences are accounted for -- //u's exclude bits,
// perf 6's exclude_guest on its aux dummies, hwcov's MMAP2 build ids.
TEST_F(AttrTest, MatchesPerf414sRecording) {
  const std::filesystem::path fixture =
      std::filesystem::path(HWCOV_SHARED_DIR) / "fixtures/perf.data.intel_pt-4.14";
  if (!std::filesystem::exists(fixture)) GTEST_SKIP() << fixture << " not present";
  trace::Trace t = trace::ReadPerfData(fixture);
  ASSERT_EQ(t.attrs.size(), 4u);  // intel_pt, cycles, switch dummy, tracking dummy
  const trace::EventAttr& pt = t.attrs[0];
  const trace::EventAttr& sw = t.attrs[2];
  const trace::EventAttr& tracking = t.attrs[3];

  EventPlan plan;
  plan.cpu_wide_switch = true;  // perf ran privileged: HAVE_SCHED_SWITCH 3
  ASSERT_EQ(t.pt->priv[7], 3u);
  const uint64_t user_only = Bits({kExclKernel, kExclHv});
  perf_event_attr a = PtAttr(pmu_, DefaultPtConfig(pmu_), plan);
  EXPECT_EQ(a.config, pt.config);
  EXPECT_EQ(a.sample_type, pt.sample_type);
  EXPECT_EQ(Flags(a) & ~user_only, pt.flags);

  perf_event_attr s = SwitchAttr(plan);
  EXPECT_EQ(s.sample_type, sw.sample_type);
  EXPECT_EQ(Flags(s) & ~Bits({kExclGuest}), sw.flags);

  perf_event_attr k = TrackingAttr(plan);
  EXPECT_EQ(k.sample_type, tracking.sample_type);
  EXPECT_EQ(Flags(k) & ~Bits({kExclGuest, kBuildId}), tracking.flags);
}

TEST_F(AttrTest, AuxtraceInfoAsIntelPtInfoFill) {
  TimeConversion time{31, 0x6aaaaaaa, 0xfffe0fa9d6b1c9b2ull, true};
  std::vector<uint64_t> priv = AuxtraceInfoPriv(pmu_, time, 200, 2, 3, true, "");
  ASSERT_EQ(priv.size(), 18u);  // 17 words and Cap Event Trace, as perf 6.1
  const std::vector<uint64_t> expected = {8,   31,    0x6aaaaaaa, 0xfffe0fa9d6b1c9b2ull,
                                          1,   0x400, 0x800,      3,
                                          0,   1,     0x200,      0x3c000,
                                          200, 2,     0x2,        12,
                                          0,   0};
  EXPECT_EQ(priv, expected);

  // The filter string follows word 16 (its length), NUL-terminated and
  // padded to 8, then Cap Event Trace.
  const std::string filter = "filter 0x1139/0x2e@/tmp/prog";  // 28 bytes
  priv = AuxtraceInfoPriv(pmu_, {}, 0, 0, 0, false, filter);
  ASSERT_EQ(priv.size(), 17u + 4u + 1u);
  EXPECT_EQ(priv[16], filter.size());
  EXPECT_EQ(priv[4], 0u);  // no TSC conversion: decoders run timeless
  EXPECT_EQ(priv[9], 0u);  // per-thread buffers
  std::string stored(reinterpret_cast<const char*>(&priv[17]), 32);
  EXPECT_EQ(stored, filter + std::string(4, '\0'));
}

TEST_F(AttrTest, AttrBytesAreWhatPerfStores) {
  perf_event_attr a = PtAttr(pmu_, 0x300e601, EventPlan{});
  std::vector<uint8_t> bytes = AttrBytes(a);
  ASSERT_EQ(bytes.size(),
            112u);  // PERF_ATTR_SIZE_VER5: nothing set past it, and perf 4.14 reads it
  uint32_t type, size;
  uint64_t config;
  std::memcpy(&type, bytes.data(), 4);
  std::memcpy(&size, bytes.data() + 4, 4);
  std::memcpy(&config, bytes.data() + 8, 8);
  EXPECT_EQ(type, 8u);
  EXPECT_EQ(size, 112u);
  EXPECT_EQ(config, 0x300e601u);
}

}  // namespace
}  // namespace hwcov::collector
