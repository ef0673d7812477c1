// A machine for the intel-pt backend's tests: sysfs CPU lists and /proc
// files in a temporary directory, with the fake kernel's defaults (2
// CPUs, perf_event_mlock_kb 516, ulimit -l 64 KiB), and the helpers the
// tests share.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "fake_kernel.h"
#include "hwcov/support.h"
#include "intel_pt_pmu.h"
#include "intel_pt_recorder.h"
#include "intel_pt_session.h"
#include "test_support.h"

namespace hwcov {

namespace fs = std::filesystem;
using collector::IntelPtHost;
using testing::FakeKernel;

inline const fs::path kSysfs = HWCOV_INTEL_PT_SYSFS;
inline constexpr uint64_t kAuxSize = 8192;  // the smallest buffer perf allows

inline bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// A machine: sysfs CPU lists and /proc files in a temporary directory.
struct FakeMachine {
  explicit FakeMachine(const std::string& name, int paranoid = 2, uint64_t cap_eff = 0)
      : dir(name) {
    fs::create_directories(dir.path() / "cpu");
    std::ofstream(dir.path() / "cpu/online") << "0-1\n";
    std::ofstream(dir.path() / "cpu/present") << "0-3\n";
    fs::create_directories(dir.path() / "proc/sys/kernel");
    fs::create_directories(dir.path() / "proc/self");
    std::ofstream(dir.path() / "proc/sys/kernel/perf_event_paranoid") << paranoid << "\n";
    std::ofstream(dir.path() / "proc/sys/kernel/perf_event_mlock_kb") << "516\n";
    char caps[32];
    std::snprintf(caps, sizeof caps, "%016llx", static_cast<unsigned long long>(cap_eff));
    std::ofstream(dir.path() / "proc/self/status") << "CapEff:\t" << caps << "\n";
    std::ofstream(dir.path() / "proc/self/limits")
        << "Limit                     Soft Limit           Hard Limit           Units\n"
           "Max locked memory         65536                65536                bytes\n";
    std::ofstream(dir.path() / "proc/cpuinfo")
        << "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 78\n"
           "model name\t: Intel(R) Core(TM) m7-6Y75 CPU @ 1.20GHz\nstepping\t: 3\n"
           "flags\t\t: fpu intel_pt\n";
  }
  IntelPtHost Host(collector::PerfEventSys* sys, const char* sysfs = "skylake") const {
    IntelPtHost h;
    h.sysfs_devices = kSysfs / sysfs;
    h.sysfs_cpu = dir.path() / "cpu";
    h.proc = dir.path() / "proc";
    h.sys = sys;
    h.tsc_ctc = {{200, 2}};
    auto counter = std::make_shared<uint64_t>(1000000);  // a TSC that moves
    h.reference = [counter] { return *counter += 1000; };
    return h;
  }
  testing::TempDir dir;
};

inline collector::RecordOptions Options(const fs::path& output, std::ostream* log) {
  collector::RecordOptions o;
  o.command = {"/bin/true"};
  o.output = output;
  o.backend = collector::Backend::kIntelPt;
  o.buffer_size = kAuxSize;
  o.trace_everything = true;
  o.log = log;
  return o;
}

// The traced program runs until the fake kernel has written its script,
// as a real program runs while the kernel writes its trace.
inline void RunWhileKernelWrites(collector::RecordOptions& o, FakeKernel& k, const fs::path& dir) {
  const fs::path flag = dir / "script-done";
  o.command = {"/bin/sh", "-c", "while [ ! -e '" + flag.string() + "' ]; do sleep 0.01; done"};
  k.on_script_done = [flag] { std::ofstream(flag) << "done\n"; };
}

inline const FakeKernel::Event* Find(const std::vector<FakeKernel::Event>& events, uint32_t type,
                                     int cpu, bool cpu_wide = false) {
  for (const auto& e : events)
    if (e.attr.type == type && e.cpu == cpu && (e.pid == -1) == cpu_wide &&
        (type != PERF_TYPE_SOFTWARE || e.attr.config == PERF_COUNT_SW_DUMMY))
      return &e;
  return nullptr;
}

// A session attaching to process 500 with threads 501 and 502, on CPUs 0
// and 1 (per_cpu) or per thread, with the smallest AUX buffer.
inline collector::SessionPlan AttachPlan(bool per_cpu) {
  const collector::PtPmu pmu = collector::PtPmu::Detect(kSysfs / "skylake");
  collector::SessionPlan plan;
  plan.events.per_cpu = per_cpu;
  plan.events.launch = false;
  plan.events.aux_bytes = kAuxSize;
  plan.pt = collector::PtAttr(pmu, 0x300e601, plan.events);
  plan.tracking = collector::TrackingAttr(plan.events);
  plan.cpus = {0, 1};
  plan.tids = {500, 501, 502};
  plan.attach_pid = 500;
  plan.page_size = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return plan;
}

inline std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace hwcov
