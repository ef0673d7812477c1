// The whole intel-pt backend against a fake kernel: PMU and permission
// checks, the events it opens and how it wires them (ids, SET_OUTPUT,
// SET_FILTER, ENABLE after each AUX read), the reader thread draining both
// rings, and the perf.data it writes.
//
// The trace: a real soft-tracer recording of tests/programs/loops is
// replayed as the kernel would deliver it on CPU 0 -- COMM, MMAP2,
// ITRACE_START, the PT bytes in AUX-area chunks ending at packet boundaries
// (as the hardware's output pointer does), one of them wrapping around the
// AUX area, PERF_RECORD_AUX after each, EXIT. The file hwcov writes must
// decode to exactly the instructions of the original, with hwcov and with
// Linux perf's own decoder.
#include "fake_kernel.h"

#include <gtest/gtest.h>
#include <intel-pt.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "fake_machine.h"
#include "hwcov/decoder.h"
#include "hwcov/trace.h"
#include "intel_pt_filter.h"
#include "intel_pt_recorder.h"
#include "intel_pt_session.h"
#include "test_support.h"

namespace hwcov {
namespace {

using collector::RecordIntelPt;
using testing::RecordBuilder;

const fs::path kLoops = fs::path(HWCOV_TEST_PROGRAMS_DIR) / "loops";

// Offsets where packets start, by libipt's packet decoder.
std::vector<size_t> PacketStarts(const std::vector<uint8_t>& pt) {
  pt_config config;
  pt_config_init(&config);
  config.begin = const_cast<uint8_t*>(pt.data());
  config.end = const_cast<uint8_t*>(pt.data() + pt.size());
  pt_packet_decoder* d = pt_pkt_alloc_decoder(&config);
  std::vector<size_t> starts;
  if (pt_pkt_sync_set(d, 0) == 0) {
    for (;;) {
      uint64_t offset = 0;
      pt_pkt_get_offset(d, &offset);
      pt_packet packet;
      if (pt_pkt_next(d, &packet, sizeof packet) < 0) break;
      starts.push_back(offset);
    }
  }
  pt_pkt_free_decoder(d);
  return starts;
}

// The soft recording replayed as kernel writes.
class Replay {
 public:
  static const Replay& Get() {
    static Replay* replay = new Replay();
    return *replay;
  }
  trace::Trace soft;
  std::vector<uint8_t> pt;            // the PT stream, trailing padding dropped
  std::vector<size_t> packet_starts;  // where chunks may end

  // The kernel's writes for a recording of |pid| on ring 0.
  std::vector<FakeKernel::Step> Steps(const FakeKernel& k, uint64_t aux_flags_at_chunk2 = 0,
                                      uint64_t lost = 0, bool with_vdso = true) const {
    std::vector<FakeKernel::Step> steps;
    const auto events = k.events();
    const FakeKernel::Event *pt_ev = nullptr, *tracking = nullptr, *sw = nullptr;
    for (const auto& e : events) {
      if (e.attr.type == 8 && !pt_ev) pt_ev = &e;  // the first: ring 0's owner
    }
    if (!pt_ev) return steps;
    for (const auto& e : events) {
      if (e.cpu != pt_ev->cpu || e.attr.type != PERF_TYPE_SOFTWARE ||
          e.attr.config != PERF_COUNT_SW_DUMMY)
        continue;  // another CPU's, or perf's CPU-wide probe
      if (e.pid != -1 && !tracking) tracking = &e;
      if (e.pid == -1 && !sw) sw = &e;
    }
    if (!tracking) return steps;
    const uint32_t pid = static_cast<uint32_t>(pt_ev->pid);
    const uint32_t cpu = pt_ev->cpu < 0 ? 0 : static_cast<uint32_t>(pt_ev->cpu);
    const uint64_t st = pt_ev->attr.sample_type;
    uint64_t time = 5000;
    auto data = [&](std::vector<uint8_t> r) { steps.push_back({0, false, std::move(r)}); };
    auto by = [&](const FakeKernel::Event* e) {
      return RecordBuilder::Trailer{pid, pid, time++, cpu, e->id};
    };

    RecordBuilder comm(PERF_RECORD_COMM, PERF_RECORD_MISC_USER | PERF_RECORD_MISC_COMM_EXEC);
    comm.Put(pid).Put(pid).String(soft.comms.empty() ? "loops" : soft.comms[0].name);
    data(comm.Build(st, by(tracking)));
    for (const trace::MmapEvent& m : soft.mmaps) {
      if (!with_vdso && m.filename == "[vdso]") continue;
      uint16_t misc = PERF_RECORD_MISC_USER;
      uint8_t id[24] = {};
      if (m.build_id) {
        misc |= PERF_RECORD_MISC_MMAP_BUILD_ID;
        id[0] = static_cast<uint8_t>(m.build_id->bytes.size());
        std::memcpy(id + 4, m.build_id->bytes.data(), id[0]);
      }
      RecordBuilder b(PERF_RECORD_MMAP2, misc);
      b.Put(pid).Put(pid).Put(m.start).Put(m.len).Put(m.pgoff);
      for (uint8_t byte : id) b.Put(byte);
      b.Put(m.prot).Put(m.flags).String(m.filename);
      data(b.Build(st, by(tracking)));
    }
    if (sw)
      data(RecordBuilder(PERF_RECORD_SWITCH_CPU_WIDE, 0)
               .Put(uint32_t{0})
               .Put(uint32_t{0})
               .Build(st, by(sw)));
    else if (pt_ev->cpu >= 0)
      data(RecordBuilder(PERF_RECORD_SWITCH, 0).Build(st, by(tracking)));
    data(RecordBuilder(PERF_RECORD_ITRACE_START, 0).Put(pid).Put(pid).Build(st, by(pt_ev)));

    // PAD packets up to 100 bytes before the end of the AUX area, so that
    // the first real chunk wraps around it.
    uint64_t aux_pos = 0;
    auto aux = [&](std::vector<uint8_t> bytes, uint64_t flags) {
      const uint64_t n = bytes.size();
      steps.push_back({0, true, std::move(bytes)});
      data(RecordBuilder(PERF_RECORD_AUX, 0).Put(aux_pos).Put(n).Put(flags).Build(st, by(pt_ev)));
      aux_pos += n;
    };
    aux(std::vector<uint8_t>(kAuxSize - 100, 0), 0);
    size_t begin = 0, chunk = 0;
    while (begin < pt.size()) {
      // About 300 bytes, ending where a packet starts.
      auto end_it = std::upper_bound(packet_starts.begin(), packet_starts.end(), begin + 300);
      size_t end = end_it == packet_starts.end() ? pt.size() : *end_it;
      if (end <= begin) end = pt.size();
      aux(std::vector<uint8_t>(pt.begin() + begin, pt.begin() + end),
          ++chunk == 2 ? aux_flags_at_chunk2 : 0);
      begin = end;
    }
    if (lost)
      data(RecordBuilder(PERF_RECORD_LOST, 0).Put(tracking->id).Put(lost).Build(st, by(tracking)));
    if (!sw && pt_ev->cpu >= 0)
      data(RecordBuilder(PERF_RECORD_SWITCH, PERF_RECORD_MISC_SWITCH_OUT).Build(st, by(tracking)));
    RecordBuilder exit(PERF_RECORD_EXIT, 0);
    exit.Put(pid).Put(uint32_t{1}).Put(pid).Put(uint32_t{1}).Put(time);
    data(exit.Build(st, by(tracking)));
    return steps;
  }

 private:
  Replay() : dir_("pt-replay-soft") {
    const fs::path path = dir_.path() / "soft.data";
    auto r = testing::RunCommand(
        {HWCOV_BINARY, "record", "--backend", "soft", "-o", path.string(), "--", kLoops.string()});
    if (r.exit_code != 0) throw std::runtime_error("soft recording failed: " + r.err);
    soft = trace::ReadPerfData(path);
    for (const auto& q : soft.queues)
      for (const auto& b : q.buffers) {
        auto bytes = soft.AuxBytes(b);
        pt.insert(pt.end(), bytes.begin(), bytes.end());
      }
    while (!pt.empty() && pt.back() == 0) pt.pop_back();  // the writer's padding
    packet_starts = PacketStarts(pt);
  }
  testing::TempDir dir_;
};

std::vector<uint64_t> Instructions(const trace::Trace& t) {
  std::vector<uint64_t> ips;
  decoder::ListInstructions(
      t, [&](uint64_t ip) { ips.push_back(ip); }, [](const decoder::Gap&) {});
  return ips;
}

TEST(FakeKernel, ReplayedRecordingDecodesLikeTheOriginal) {
  const Replay& replay = Replay::Get();
  ASSERT_GT(replay.pt.size(), 200u);
  FakeMachine machine("pt-fake-replay");
  FakeKernel kernel;
  kernel.script = [&](FakeKernel& k) { return replay.Steps(k); };
  std::ostringstream log;
  const fs::path out = machine.dir.path() / "hw.data";
  collector::RecordOptions options = Options(out, &log);
  RunWhileKernelWrites(options, kernel, machine.dir.path());
  collector::RecordResult result = RecordIntelPt(options, machine.Host(&kernel));
  EXPECT_EQ(result.exit_status, 0);
  EXPECT_EQ(result.backend, collector::Backend::kIntelPt);
  EXPECT_TRUE(kernel.aux_wrapped()) << "no AUX read wrapped around";
  EXPECT_EQ(kernel.steps_written(), replay.Steps(kernel).size());

  // Events: per CPU an intel_pt and a tracking event on the child, the
  // latter writing into the former's buffers; no CPU-wide switch event for
  // an unprivileged user (the fake refuses pid -1 as the kernel would).
  const auto events = kernel.events();
  for (int cpu : {0, 1}) {
    const FakeKernel::Event* pt = Find(events, 8, cpu);
    const FakeKernel::Event* tracking = Find(events, PERF_TYPE_SOFTWARE, cpu);
    ASSERT_TRUE(pt && tracking) << "cpu " << cpu;
    EXPECT_EQ(pt->attr.config, 0x300e601u);
    EXPECT_EQ(pt->attr.inherit, 1u);
    EXPECT_EQ(pt->attr.enable_on_exec, 1u);
    EXPECT_EQ(pt->attr.aux_watermark, kAuxSize / 4);
    EXPECT_EQ(tracking->attr.context_switch, 1u);
    EXPECT_EQ(tracking->output, pt->fd);
    EXPECT_EQ(pt->output, -1);
    EXPECT_TRUE(pt->filter.empty());  // --all-code
    EXPECT_EQ(pt->disables, 1);
  }
  EXPECT_EQ(Find(events, PERF_TYPE_SOFTWARE, 0, true), nullptr);
  EXPECT_GT(Find(events, 8, 0)->enables, 0) << "AUX reads must re-enable the event";
  EXPECT_EQ(kernel.rings(), 2u);
  EXPECT_EQ(kernel.open_fds(), 0u);
  EXPECT_EQ(kernel.live_mappings(), 0u);

  // The file: perf's per-CPU layout.
  trace::Trace hw = trace::ReadPerfData(out);
  ASSERT_EQ(hw.attrs.size(), 2u);
  EXPECT_EQ(hw.attrs[0].type, 8u);
  EXPECT_EQ(hw.attrs[0].config, 0x300e601u);
  EXPECT_EQ(hw.attrs[0].ids,
            (std::vector<uint64_t>{Find(events, 8, 0)->id, Find(events, 8, 1)->id}));
  ASSERT_TRUE(hw.pt);
  EXPECT_EQ(hw.pt->priv[0], 8u);  // PMU type
  EXPECT_EQ(hw.pt->priv[7], 2u);  // HAVE_SCHED_SWITCH: PERF_RECORD_SWITCH
  EXPECT_EQ(hw.pt->priv[9], 1u);  // per-CPU mmaps
  EXPECT_EQ(hw.pt->priv[12], 200u);
  EXPECT_EQ(hw.pt->priv[13], 2u);
  EXPECT_EQ(hw.pt->priv[15], 12u);  // max_nonturbo_ratio from sysfs
  ASSERT_EQ(hw.queues.size(), 1u);
  EXPECT_EQ(hw.queues[0].cpu, 0u);
  EXPECT_GT(hw.queues[0].buffers.size(), 2u);
  EXPECT_EQ(hw.strings["cpuid"], "GenuineIntel,6,78,3");
  EXPECT_EQ(hw.itrace_starts.size(), 1u);
  EXPECT_EQ(hw.switches.size(), 2u);
  EXPECT_FALSE(hw.build_ids.empty());

  // The proof: the same instructions, address for address, and the same
  // profile.
  const auto expected = Instructions(replay.soft);
  ASSERT_GT(expected.size(), 1000u);
  EXPECT_EQ(Instructions(hw), expected);
  decoder::ExecutionProfile a = decoder::Decode(replay.soft), b = decoder::Decode(hw);
  EXPECT_EQ(a.instructions, b.instructions);
  ASSERT_EQ(a.blocks.size(), b.blocks.size());
  for (size_t i = 0; i < a.blocks.size(); ++i) {
    EXPECT_EQ(a.modules[a.blocks[i].module].path, b.modules[b.blocks[i].module].path);
    EXPECT_EQ(a.blocks[i].begin, b.blocks[i].begin);
    EXPECT_EQ(a.blocks[i].count, b.blocks[i].count);
  }
  EXPECT_TRUE(b.gaps.empty()) << b.gaps.front().detail;
}

// Linux perf reads the file as one of its own per-CPU recordings.
TEST(FakeKernel, PerfScriptDecodesTheHardwareLayout) {
  if (!testing::HaveTool("perf")) GTEST_SKIP() << "perf not installed";
  const Replay& replay = Replay::Get();
  FakeMachine machine("pt-fake-perf");
  FakeKernel kernel;
  kernel.script = [&](FakeKernel& k) { return replay.Steps(k); };
  const fs::path out = machine.dir.path() / "hw.data";
  collector::RecordOptions options = Options(out, nullptr);
  RunWhileKernelWrites(options, kernel, machine.dir.path());
  RecordIntelPt(options, machine.Host(&kernel));
  auto r =
      testing::RunCommand({"perf", "script", "-f", "--itrace=i1i", "-F", "ip", "-i", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<uint64_t> ips;
  for (const auto& line : testing::SplitLines(r.out)) {
    auto first = line.find_first_not_of(' ');
    if (first != std::string::npos) ips.push_back(std::stoull(line.substr(first), nullptr, 16));
  }
  EXPECT_EQ(ips, Instructions(replay.soft)) << r.err;
  auto evlist = testing::RunCommand({"perf", "evlist", "-f", "-i", out.string()});
  EXPECT_TRUE(Contains(evlist.out, "intel_pt//u")) << evlist.out << evlist.err;
  EXPECT_TRUE(Contains(evlist.out, "dummy:u")) << evlist.out;
}

// perf 6.1 rewrites the file with its own writer (`perf inject`), and hwcov
// reads what perf wrote. (The recording leaves out [vdso]: perf inject
// crashes on hwcov's code-snapshot feature section, bit 250.)
TEST(FakeKernel, HwcovReadsTheFileAsPerfRewritesIt) {
  if (!testing::HaveTool("perf")) GTEST_SKIP() << "perf not installed";
  const Replay& replay = Replay::Get();
  FakeMachine machine("pt-fake-inject");
  FakeKernel kernel;
  kernel.script = [&](FakeKernel& k) { return replay.Steps(k, 0, 0, /*with_vdso=*/false); };
  const fs::path out = machine.dir.path() / "hw.data";
  collector::RecordOptions options = Options(out, nullptr);
  RunWhileKernelWrites(options, kernel, machine.dir.path());
  RecordIntelPt(options, machine.Host(&kernel));
  const fs::path injected = machine.dir.path() / "injected.data";
  auto r =
      testing::RunCommand({"perf", "inject", "-f", "-i", out.string(), "-o", injected.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  trace::Trace t = trace::ReadPerfData(injected);
  EXPECT_EQ(t.attrs.size(), 2u);
  EXPECT_EQ(Instructions(t), Instructions(replay.soft));
}

TEST(FakeKernel, PrivilegedRecordingAddsCpuWideSwitchEvents) {
  const Replay& replay = Replay::Get();
  FakeMachine machine("pt-fake-priv", 2, uint64_t{1} << 38);  // CAP_PERFMON
  FakeKernel kernel;
  kernel.allow_cpu_wide = true;
  kernel.time = {31, 0x6aaaaaaa, 0xfffe0fa9d6b1c9b2ull, true};
  kernel.script = [&](FakeKernel& k) { return replay.Steps(k); };
  const fs::path out = machine.dir.path() / "hw.data";
  collector::RecordOptions options = Options(out, nullptr);
  options.buffer_size = 0;  // perf's privileged default
  RunWhileKernelWrites(options, kernel, machine.dir.path());
  RecordIntelPt(options, machine.Host(&kernel));
  const auto events = kernel.events();
  const FakeKernel::Event* sw = Find(events, PERF_TYPE_SOFTWARE, 0, true);
  ASSERT_NE(sw, nullptr);
  EXPECT_EQ(sw->attr.context_switch, 1u);
  EXPECT_EQ(sw->attr.disabled, 0u);
  EXPECT_EQ(sw->output, Find(events, 8, 0)->fd);
  EXPECT_EQ(Find(events, PERF_TYPE_SOFTWARE, 0)->attr.context_switch, 0u);
  trace::Trace hw = trace::ReadPerfData(out);
  ASSERT_EQ(hw.attrs.size(), 3u);  // intel_pt, switch dummy, tracking dummy: perf's order
  EXPECT_EQ(hw.pt->priv[7], 3u);
  // The time conversion of the user page, for timed decoding.
  EXPECT_EQ(hw.pt->priv[1], 31u);
  EXPECT_EQ(hw.pt->priv[2], 0x6aaaaaaau);
  EXPECT_EQ(hw.pt->priv[3], 0xfffe0fa9d6b1c9b2ull);
  EXPECT_EQ(hw.pt->priv[4], 1u);
  EXPECT_EQ(hw.switches.size(), 1u);
  EXPECT_TRUE(hw.switches[0].cpu_wide);
  EXPECT_GT(hw.queues.at(0).buffers.at(0).reference, 0u);
}

TEST(FakeKernel, PerThreadWithoutInherit) {
  const Replay& replay = Replay::Get();
  FakeMachine machine("pt-fake-thread");
  FakeKernel kernel;
  kernel.script = [&](FakeKernel& k) { return replay.Steps(k); };
  const fs::path out = machine.dir.path() / "hw.data";
  collector::RecordOptions options = Options(out, nullptr);
  options.inherit = false;
  RunWhileKernelWrites(options, kernel, machine.dir.path());
  RecordIntelPt(options, machine.Host(&kernel));
  const auto events = kernel.events();
  ASSERT_EQ(events.size(), 2u);
  const FakeKernel::Event* pt = Find(events, 8, -1);
  ASSERT_NE(pt, nullptr);
  EXPECT_EQ(pt->attr.inherit, 0u);
  EXPECT_EQ(pt->attr.sample_type & PERF_SAMPLE_CPU, 0u);
  trace::Trace hw = trace::ReadPerfData(out);
  EXPECT_EQ(hw.pt->priv[9], 0u);
  EXPECT_EQ(hw.pt->priv[7], 0u);
  ASSERT_EQ(hw.queues.size(), 1u);
  EXPECT_EQ(hw.queues[0].cpu, UINT32_MAX);
  EXPECT_EQ(hw.queues[0].tid, static_cast<uint32_t>(pt->pid));
  EXPECT_EQ(Instructions(hw), Instructions(replay.soft));
}

// Losses the kernel reports become per-CPU counts in the log and lost-data
// gaps that `hwcov report` shows.
TEST(FakeKernel, LossesAreCountedAndReported) {
  const Replay& replay = Replay::Get();
  FakeMachine machine("pt-fake-loss");
  FakeKernel kernel;
  kernel.script = [&](FakeKernel& k) {
    return replay.Steps(k, PERF_AUX_FLAG_TRUNCATED | PERF_AUX_FLAG_PARTIAL, 3);
  };
  std::ostringstream log;
  const fs::path out = machine.dir.path() / "hw.data";
  collector::RecordOptions options = Options(out, &log);
  RunWhileKernelWrites(options, kernel, machine.dir.path());
  RecordIntelPt(options, machine.Host(&kernel));
  EXPECT_TRUE(Contains(log.str(), "cpu 0: trace stopped 1 time(s) with the 8 KiB AUX buffer full"))
      << log.str();
  EXPECT_TRUE(Contains(log.str(), "1 AUX record(s) with gaps (PARTIAL")) << log.str();
  EXPECT_TRUE(Contains(log.str(), "3 sideband record(s) lost")) << log.str();

  trace::Trace hw = trace::ReadPerfData(out);
  decoder::ExecutionProfile p = decoder::Decode(hw);
  int truncated = 0, partial = 0, lost = 0;
  for (const auto& g : p.gaps) {
    if (g.kind != decoder::GapKind::kLostData) continue;
    EXPECT_EQ(g.queue, hw.queues[0].idx);
    truncated += Contains(g.detail, "TRUNCATED");
    partial += Contains(g.detail, "PARTIAL");
    lost += Contains(g.detail, "3 sideband records lost (cpu 0");
    if (Contains(g.detail, "TRUNCATED")) {
      EXPECT_GT(g.trace_offset, kAuxSize - 100);  // after the second chunk, in queue terms
      EXPECT_LT(g.trace_offset, kAuxSize + 1000);
    }
  }
  EXPECT_EQ(truncated, 1);
  EXPECT_EQ(partial, 1);
  EXPECT_EQ(lost, 1);

  auto r = testing::RunCommand({HWCOV_BINARY, "report", out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "3 lost-data")) << r.out;
  EXPECT_TRUE(Contains(r.out, "TRUNCATED")) << r.out;
}

TEST(FakeKernel, DefaultFilterIsTheCommandsExecutable) {
  FakeMachine machine("pt-fake-filter");
  FakeKernel kernel;
  std::ostringstream log;
  collector::RecordOptions options = Options(machine.dir.path() / "hw.data", &log);
  options.trace_everything = false;
  RecordIntelPt(options, machine.Host(&kernel));
  const std::string expected = collector::BinaryFilterString({"/bin/true"}, 2, false).filter;
  ASSERT_TRUE(Contains(expected, "filter 0x")) << expected;
  for (const auto& e : kernel.events()) {
    if (e.attr.type == 8) {
      EXPECT_EQ(e.filter, expected);
    } else {
      EXPECT_TRUE(e.filter.empty());
    }
  }
  EXPECT_TRUE(Contains(log.str(), "tracing only /bin/true")) << log.str();
  trace::Trace hw = trace::ReadPerfData(options.output);
  const uint64_t len = hw.pt->priv[16];
  EXPECT_EQ(len, expected.size());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&hw.pt->priv[17]), len), expected);
}

TEST(FakeKernel, ExplicitFiltersAndTheirLimit) {
  FakeMachine machine("pt-fake-filters");
  FakeKernel kernel;
  collector::RecordOptions options = Options(machine.dir.path() / "hw.data", nullptr);
  options.filters = {"filter main @ " + kLoops.string(), "filter nested @ " + kLoops.string()};
  // This CPU has one address range: refused before any event is opened.
  const std::string e =
      ErrorOf([&] { RecordIntelPt(options, machine.Host(&kernel, "few_filters")); });
  EXPECT_TRUE(Contains(e, "2 address ranges given")) << e;
  EXPECT_TRUE(Contains(e, "supports 1 (caps/num_address_ranges)")) << e;
  EXPECT_TRUE(kernel.events().empty());
  EXPECT_FALSE(fs::exists(options.output));

  FakeKernel ok;
  RecordIntelPt(options, machine.Host(&ok));  // Skylake: two ranges
  const std::string set = Find(ok.events(), 8, 0)->filter;
  EXPECT_EQ(set, collector::BuildFilterString(options.filters, 2));
}

TEST(FakeKernel, RefusalsBecomeOneLineErrorsWithTheRemedy) {
  FakeMachine machine("pt-fake-errors", 3);
  struct Case {
    std::function<void(FakeKernel&)> setup;
    std::vector<std::string> expect;
  };
  const std::vector<Case> cases = {
      {[](FakeKernel& k) {
         k.on_open = [](const perf_event_attr&, pid_t, int) { return -EACCES; };
       },
       {"kernel.perf_event_paranoid is 3", "CAP_PERFMON", "--backend soft"}},
      {[](FakeKernel& k) {
         k.on_open = [](const perf_event_attr& a, pid_t, int) { return a.type == 8 ? -EBUSY : 0; };
       },
       {"Intel PT is busy", "--backend soft"}},
      {[](FakeKernel& k) { k.aux_map_error = EPERM; },
       {"perf_event_mlock_kb", "ulimit -l", "--buffer-size"}},
      {[](FakeKernel& k) { k.data_map_error = ENOMEM; }, {"perf_event_mlock_kb", "ulimit -l"}},
      {[](FakeKernel& k) {
         k.on_open = [](const perf_event_attr& a, pid_t pid, int) {
           return a.type == 8 || pid != -1 ? 0 : -EACCES;
         };
       },
       {}},  // succeeds: the CPU-wide probe fails quietly, perf's fallback
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    FakeKernel kernel;
    cases[i].setup(kernel);
    const fs::path out = machine.dir.path() / ("e" + std::to_string(i) + ".data");
    const std::string e =
        ErrorOf([&] { RecordIntelPt(Options(out, nullptr), machine.Host(&kernel)); });
    if (cases[i].expect.empty()) {
      EXPECT_EQ(e, "(no error)");
      continue;
    }
    for (const std::string& part : cases[i].expect)
      EXPECT_TRUE(Contains(e, part)) << i << ": " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    EXPECT_FALSE(fs::exists(out)) << i;
    EXPECT_EQ(kernel.open_fds(), 0u) << i;
    EXPECT_EQ(kernel.live_mappings(), 0u) << i;
  }
  // An AUX size perf would refuse never reaches the kernel.
  FakeKernel kernel;
  collector::RecordOptions options = Options(machine.dir.path() / "x.data", nullptr);
  options.buffer_size = 100 << 10;
  EXPECT_TRUE(
      Contains(ErrorOf([&] { RecordIntelPt(options, machine.Host(&kernel)); }), "power of two"));
  EXPECT_TRUE(kernel.events().empty());
}

TEST(FakeKernel, MissingProgramIsReportedAndNothingIsWritten) {
  FakeMachine machine("pt-fake-noprog");
  FakeKernel kernel;
  collector::RecordOptions options = Options(machine.dir.path() / "x.data", nullptr);
  options.command = {"./no-such-program"};
  EXPECT_EQ(ErrorOf([&] { RecordIntelPt(options, machine.Host(&kernel)); }),
            "./no-such-program: cannot run: No such file or directory");
  EXPECT_FALSE(fs::exists(options.output));
  EXPECT_EQ(kernel.open_fds(), 0u);
}

TEST(FakeKernel, AttachToARunningProcess) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
    _exit(127);
  }
  usleep(100 * 1000);  // let it exec
  FakeMachine machine("pt-fake-attach");
  FakeKernel kernel;
  std::ostringstream log;
  collector::RecordOptions options = Options(machine.dir.path() / "hw.data", &log);
  options.command.clear();
  options.attach_pid = child;
  options.duration = 0.3;
  options.trace_everything = false;
  collector::RecordResult result = RecordIntelPt(options, machine.Host(&kernel));
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_GE(result.stats.seconds, 0.3);

  const auto events = kernel.events();
  ASSERT_EQ(events.size(), 4u);  // one thread x 2 CPUs x (intel_pt, tracking)
  for (const auto& e : events) {
    EXPECT_EQ(e.pid, child);
    EXPECT_EQ(e.attr.enable_on_exec, 0u);
    EXPECT_GE(e.enables, 1) << "attached events start with PERF_EVENT_IOC_ENABLE";
    if (e.attr.type == 8) {
      EXPECT_TRUE(Contains(e.filter, "sleep")) << e.filter;
    }
  }
  // perf's synthesized sideband of what already runs.
  trace::Trace hw = trace::ReadPerfData(options.output);
  ASSERT_FALSE(hw.comms.empty());
  EXPECT_EQ(hw.comms[0].name, "sleep");
  EXPECT_EQ(hw.comms[0].pid, static_cast<uint32_t>(child));
  bool saw_sleep = false;
  for (const auto& m : hw.mmaps) saw_sleep |= Contains(m.filename, "sleep") && m.executable;
  EXPECT_TRUE(saw_sleep);
  EXPECT_FALSE(hw.build_ids.empty());
}

// Attaching races with threads ending: one that is gone when its events
// are opened is skipped, as perf skips it; the process itself being gone is
// an error.
TEST(FakeKernel, ThreadsThatEndWhileAttachingAreSkipped) {
  const collector::PtPmu pmu = collector::PtPmu::Detect(kSysfs / "skylake");
  for (bool per_cpu : {true, false}) {
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
    FakeKernel kernel;
    kernel.on_open = [](const perf_event_attr&, pid_t pid, int) { return pid == 501 ? -ESRCH : 0; };
    {
      collector::PtSession session(kernel, plan, collector::PerfAccess{});
      EXPECT_EQ(session.traced_tids(), (std::vector<pid_t>{500, 502}));
      EXPECT_EQ(session.ring_count(), 2u);  // two CPUs, or the two live threads
    }
    EXPECT_EQ(kernel.open_fds(), 0u);

    FakeKernel gone;
    gone.on_open = [](const perf_event_attr&, pid_t, int) { return -ESRCH; };
    EXPECT_TRUE(
        Contains(ErrorOf([&] { collector::PtSession(gone, plan, collector::PerfAccess{}); }),
                 "process 500 ended before hwcov could attach"));
  }
}

TEST(FakeKernel, Availability) {
  FakeMachine machine("pt-fake-avail", 3);
  FakeKernel denied;
  denied.on_open = [](const perf_event_attr&, pid_t, int) { return -EACCES; };
  const std::string why = collector::IntelPtUnavailable(machine.Host(&denied));
  EXPECT_TRUE(Contains(why, "perf events are denied")) << why;
  EXPECT_TRUE(Contains(why, "perf_event_paranoid is 3")) << why;
  FakeKernel fine;
  EXPECT_EQ(collector::IntelPtUnavailable(machine.Host(&fine)), "");
  EXPECT_EQ(collector::IntelPtUnavailable(machine.Host(&fine, "no_intel_pt"))
                .rfind("no intel_pt PMU on this CPU (GenuineIntel)", 0),
            0u);
}

}  // namespace
}  // namespace hwcov
