// The events of a recording, built as `perf record -e intel_pt//u` builds
// them (tools/perf/arch/x86/util/intel-pt.c intel_pt_recording_options and
// intel_pt_default_config, util/evsel.c evsel__config), and the
// AUXTRACE_INFO parameters perf's intel_pt_info_fill writes.
#pragma once

#include <linux/perf_event.h>

#include <cstdint>
#include <string>
#include <vector>

#include "intel_pt_pmu.h"

namespace hwcov::collector {

// perf's default intel_pt config for this PMU: tsc, mtc with the mtc
// period nearest 3, psb_period nearest 3 (when caps allow), pt, branch.
// On a Skylake-like PMU this is 0x300e601.
uint64_t DefaultPtConfig(const PtPmu& pmu);

// perf's intel_pt_validate_config: mtc_period, psb_period and cyc_thresh
// must be values the caps list. Throws hwcov::Error naming the valid ones.
void ValidatePtConfig(const PtPmu& pmu, uint64_t config);

// How the events are laid out.
struct EventPlan {
  bool per_cpu = true;           // per-CPU buffers with inherit; else per-thread
  bool launch = true;            // a command hwcov starts: enable_on_exec
  bool cpu_wide_switch = false;  // privileged: a CPU-wide dummy records SWITCH_CPU_WIDE
  uint64_t aux_bytes = 4 << 20;  // AUX area size (aux_watermark is a quarter)
  bool mmap_build_id = true;     // MMAP2 carries build ids (kernel 5.12+; dropped on EINVAL)
};

// perf's have_sched_switch for the plan: 3 CPU-wide switch events, 2
// PERF_RECORD_SWITCH on the tracking event, 0 none (per-thread mode).
int HaveSchedSwitch(const EventPlan& plan);

// The sample_type every event of the plan shares (perf requires one id
// position for all): IP|TID|TIME|IDENTIFIER, plus CPU per-CPU.
uint64_t PlanSampleType(const EventPlan& plan);

perf_event_attr PtAttr(const PtPmu& pmu, uint64_t config, const EventPlan& plan);
// "dummy:u" carrying the sideband: mmap, mmap2, comm, comm_exec, task, and
// context_switch when no CPU-wide switch event does it.
perf_event_attr TrackingAttr(const EventPlan& plan);
// The CPU-wide "dummy:u" for SWITCH_CPU_WIDE (opened with pid -1), enabled
// at once as perf's "immediate" events are.
perf_event_attr SwitchAttr(const EventPlan& plan);

// The time conversion in a perf_event_mmap_page (perf_read_tsc_conversion).
struct TimeConversion {
  uint16_t time_shift = 0;
  uint32_t time_mult = 0;
  uint64_t time_zero = 0;
  bool cap_user_time_zero = false;
};

// AUXTRACE_INFO priv[] as intel_pt_info_fill writes it (perf 5.18+: 17
// words, the filter string padded to 8 including its NUL, Cap Event Trace).
std::vector<uint64_t> AuxtraceInfoPriv(const PtPmu& pmu, const TimeConversion& time,
                                       uint32_t tsc_ctc_n, uint32_t tsc_ctc_d,
                                       int have_sched_switch, bool per_cpu,
                                       const std::string& filter);

// An attr as perf.data stores it: the smallest size perf defines (VER5,
// VER6, VER7) that holds its set bytes and |at_least| bytes, with attr.size
// patched to match; older perf refuses larger ones.
std::vector<uint8_t> AttrBytes(const perf_event_attr& attr, size_t at_least = 0);

}  // namespace hwcov::collector
