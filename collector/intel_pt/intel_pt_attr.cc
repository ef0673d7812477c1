#include "intel_pt_attr.h"

#include <climits>
#include <cstddef>
#include <cstring>

#include "hwcov/support.h"

namespace hwcov::collector {
namespace {

// perf's intel_pt_pick_bit: the set bit of |bits| nearest |target|, the
// lower one on a tie, the lowest when none is at or below it.
int PickBit(uint64_t bits, int target) {
  int pick = -1;
  for (int pos = 0; bits; bits >>= 1, ++pos) {
    if (bits & 1) {
      if (pos <= target || pick < 0) pick = pos;
      if (pos >= target) break;
    }
  }
  return pick;
}

// "1-3,5" for a bitmap of valid values (perf's intel_pt_valid_str).
std::string ValidList(uint64_t valid) {
  std::string out;
  for (int v = 0; v < 64; ++v) {
    if (!(valid >> v & 1)) continue;
    int end = v;
    while (end + 1 < 64 && (valid >> (end + 1) & 1)) ++end;
    if (!out.empty()) out += ",";
    out += std::to_string(v);
    if (end > v) out += (end == v + 1 ? "," : "-") + std::to_string(end);
    v = end;
  }
  return out;
}

void CheckTerm(const PtPmu& pmu, uint64_t config, const std::string& term, const std::string& caps,
               const std::string& supported) {
  if (!pmu.FormatBits(term)) return;
  uint64_t valid = pmu.Cap(caps).value_or(0);
  if (auto ok = pmu.Cap(supported); ok && !*ok) valid = 0;
  valid |= 1;  // 0 is always allowed
  const uint64_t value = pmu.Decode(term, config);
  if (value <= 63 && (valid >> value & 1)) return;
  throw Error("invalid intel_pt " + term + "=" + std::to_string(value) +
              " for this CPU; valid values are " + ValidList(valid) + " (" +
              (pmu.dir() / "caps" / caps).string() + ")");
}

perf_event_attr BaseAttr(const EventPlan& plan) {
  perf_event_attr a;
  std::memset(&a, 0, sizeof a);
  // VER7 (128 bytes), what perf 6.1 writes and reads; newer kernels accept it.
  a.size = PERF_ATTR_SIZE_VER7;
  a.sample_period = 1;
  a.sample_type = PlanSampleType(plan);
  a.read_format = PERF_FORMAT_ID;
  a.exclude_kernel = 1;  // the "u" of intel_pt//u and dummy:u
  a.exclude_hv = 1;
  a.exclude_guest = 1;
  a.sample_id_all = 1;
  // A launched command is traced from its exec (the child sits in hwcov's
  // code until then); an attached process from the ENABLE ioctl.
  a.disabled = 1;
  a.enable_on_exec = plan.launch ? 1 : 0;
  a.inherit = plan.per_cpu ? 1 : 0;  // the kernel refuses inherit on per-thread mmaps
  return a;
}

// A dummy:u event (sideband, no samples of its own). With |switch_records|
// it records context switches and is enabled from the start, so that they
// cover the whole run.
perf_event_attr DummyAttr(const EventPlan& plan, bool switch_records) {
  perf_event_attr a = BaseAttr(plan);
  a.type = PERF_TYPE_SOFTWARE;
  a.config = PERF_COUNT_SW_DUMMY;
  if (switch_records) {
    a.context_switch = 1;
    a.disabled = 0;
    a.enable_on_exec = 0;
  }
  return a;
}

}  // namespace

uint64_t DefaultPtConfig(const PtPmu& pmu) {
  uint64_t config = pmu.Encode("tsc", 1);
  const bool mtc = pmu.Cap("mtc").value_or(1) != 0;
  const uint64_t mtc_periods = mtc ? pmu.Cap("mtc_periods").value_or(0) : 0;
  if (mtc_periods)
    config |= pmu.Encode("mtc", 1) |
              pmu.Encode("mtc_period", static_cast<uint64_t>(PickBit(mtc_periods, 3)));
  const bool psb_cyc = pmu.Cap("psb_cyc").value_or(1) != 0;
  if (psb_cyc && mtc_periods) {
    if (uint64_t psb_periods = pmu.Cap("psb_periods").value_or(0))
      config |= pmu.Encode("psb_period", static_cast<uint64_t>(PickBit(psb_periods, 3)));
  }
  if (pmu.HasFormat("pt") && pmu.HasFormat("branch"))
    config |= pmu.Encode("pt", 1) | pmu.Encode("branch", 1);
  return config;
}

void ValidatePtConfig(const PtPmu& pmu, uint64_t config) {
  CheckTerm(pmu, config, "cyc_thresh", "cycle_thresholds", "psb_cyc");
  CheckTerm(pmu, config, "mtc_period", "mtc_periods", "mtc");
  CheckTerm(pmu, config, "psb_period", "psb_periods", "psb_cyc");
}

int HaveSchedSwitch(const EventPlan& plan) {
  if (!plan.per_cpu) return 0;
  return plan.cpu_wide_switch ? 3 : 2;
}

uint64_t PlanSampleType(const EventPlan& plan) {
  uint64_t st = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_IDENTIFIER;
  if (plan.per_cpu) st |= PERF_SAMPLE_CPU;  // AUXTRACE.cpu needs the CPU of ITRACE_START
  return st;
}

perf_event_attr PtAttr(const PtPmu& pmu, uint64_t config, const EventPlan& plan) {
  perf_event_attr a = BaseAttr(plan);
  a.type = pmu.type();
  a.config = config;
  // Wake the reader when a quarter of the AUX area is full (perf 5.13+).
  a.aux_watermark = static_cast<uint32_t>(std::min<uint64_t>(plan.aux_bytes / 4, UINT_MAX));
  return a;
}

perf_event_attr TrackingAttr(const EventPlan& plan) {
  // perf's "need_immediate": switch records must cover the whole run.
  perf_event_attr a = DummyAttr(plan, /*switch_records=*/plan.per_cpu && !plan.cpu_wide_switch);
  a.mmap = 1;
  a.mmap2 = 1;
  a.comm = 1;
  a.comm_exec = 1;
  a.task = 1;
  a.build_id = plan.mmap_build_id ? 1 : 0;
  return a;
}

perf_event_attr SwitchAttr(const EventPlan& plan) {
  // inherit stays as evsel__config sets it for every event (the kernel
  // ignores it on a CPU-wide event); perf 4.14's file shows it set.
  return DummyAttr(plan, /*switch_records=*/true);
}

std::vector<uint64_t> AuxtraceInfoPriv(const PtPmu& pmu, const TimeConversion& time,
                                       uint32_t tsc_ctc_n, uint32_t tsc_ctc_d,
                                       int have_sched_switch, bool per_cpu,
                                       const std::string& filter) {
  auto bits = [&](const char* term) { return pmu.HasFormat(term) ? pmu.FormatBits(term) : 0; };
  std::vector<uint64_t> priv = {
      pmu.type(),
      time.time_shift,
      time.time_mult,
      time.time_zero,
      time.cap_user_time_zero ? 1u : 0u,
      bits("tsc"),
      bits("noretcomp"),
      static_cast<uint64_t>(have_sched_switch),
      0,  // snapshot mode
      per_cpu ? 1u : 0u,
      bits("mtc"),
      bits("mtc_period"),
      tsc_ctc_n,
      tsc_ctc_d,
      bits("cyc"),
      pmu.MaxNonTurboRatio(),
      filter.size(),
  };
  if (!filter.empty()) {
    // The string's bytes in file order, NUL-terminated, zero-padded to 8.
    std::vector<uint64_t> words((filter.size() + 1 + 7) / 8, 0);
    for (size_t i = 0; i < filter.size(); ++i)
      words[i / 8] |= uint64_t{static_cast<uint8_t>(filter[i])} << (8 * (i % 8));
    priv.insert(priv.end(), words.begin(), words.end());
  }
  priv.push_back(pmu.Cap("event_trace").value_or(0));
  return priv;
}

std::vector<uint8_t> AttrBytes(const perf_event_attr& attr, size_t at_least) {
  const auto* p = reinterpret_cast<const uint8_t*>(&attr);
  std::vector<uint8_t> bytes(p, p + sizeof attr);
  bytes.resize(attr.size, 0);  // attr.size may be below or (zero-padded) above ours
  // perf refuses an attr larger than its own struct (tools/perf/util/
  // header.c read_attr, "sz > our_sz"): store the smallest size perf
  // defines that holds every set byte, VER5 (perf 4.1-5.4) at least.
  size_t used = bytes.size();
  while (used > 0 && bytes[used - 1] == 0) --used;
  size_t size = bytes.size();
  for (size_t known : {PERF_ATTR_SIZE_VER5, PERF_ATTR_SIZE_VER6, PERF_ATTR_SIZE_VER7}) {
    if (known >= used && known >= at_least && known < size) {
      size = known;
      break;
    }
  }
  if (size >= bytes.size() || size < PERF_ATTR_SIZE_VER5) return bytes;
  bytes.resize(size);
  const auto size32 = static_cast<uint32_t>(size);
  std::memcpy(bytes.data() + offsetof(perf_event_attr, size), &size32, sizeof size32);
  return bytes;
}

}  // namespace hwcov::collector
