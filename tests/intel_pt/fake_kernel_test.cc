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
#include "replay.h"
#include "test_support.h"

namespace hwcov {
namespace {

using collector::RecordIntelPt;
using testing::RecordBuilder;

std::vector<uint64_t> Instructions(const trace::Trace& t) {
  std::vector<uint64_t> ips;
  decoder::ListInstructions(
      t, [&](uint64_t ip) { ips.push_back(ip); }, [](const decoder::Gap&) {});
  return ips;
}

// The queue's AUX-area stream as the file holds it, by position: perf pads
// each AUXTRACE buffer to 8 bytes (PAD packets), and the next buffer starts
// where the data ended, inside that padding.
std::vector<uint8_t> QueueBytes(const trace::Trace& t, size_t queue) {
  std::vector<uint8_t> out;
  for (const auto& b : t.queues.at(queue).buffers) {
    auto bytes = t.AuxBytes(b);
    out.resize(b.offset);
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
  return out;
}

// |got| is |expected| and at most the last buffer's padding.
void ExpectStream(const std::vector<uint8_t>& got, const std::vector<uint8_t>& expected) {
  ASSERT_GE(got.size(), expected.size());
  EXPECT_LT(got.size() - expected.size(), 8u);
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), got.begin()))
      << "every committed byte once, in order";
  EXPECT_TRUE(std::all_of(got.begin() + static_cast<ptrdiff_t>(expected.size()), got.end(),
                          [](uint8_t b) { return b == 0; }));
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
  const auto expected = Instructions(replay.soft);
  EXPECT_EQ(ips.size(), expected.size()) << r.err;
  EXPECT_TRUE(ips == expected);
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
  kernel.script = [&](FakeKernel& k) { return replay.Steps(k, {.with_vdso = false}); };
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
// gaps that `hwcov report` shows: TRUNCATED from an AUX area the hardware
// filled faster than hwcov drained it, PARTIAL from a VMX transition during
// a transaction, PERF_RECORD_LOST.
TEST(FakeKernel, LossesAreCountedAndReported) {
  const Replay& replay = Replay::Get();
  FakeMachine machine("pt-fake-loss");
  FakeKernel kernel;
  kernel.script = [&](FakeKernel& k) {
    return replay.Steps(k, {.flags_at_chunk2 = PERF_AUX_FLAG_PARTIAL, .lost = 3});
  };
  kernel.aux_steps_per_poll = kPadWrites + 1;  // the hardware outruns the reader
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
  }
  EXPECT_EQ(truncated, 1);
  EXPECT_EQ(partial, 1);
  EXPECT_EQ(lost, 1);

  auto r = testing::RunCommand({HWCOV_BINARY, "report", out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "3 lost-data")) << r.out;
  EXPECT_TRUE(Contains(r.out, "TRUNCATED")) << r.out;
}

// perf_aux_output_begin / pt_handle_status / perf_aux_output_end: the
// padding and the first chunk come in one burst, before hwcov reads, so
// the room the kernel granted at the last interrupt ends inside chunk 1. The
// hardware stops there, the kernel ends the transaction TRUNCATED and
// disables the event; hwcov must drain and enable it again, or nothing
// after that point is traced, and the loss must be a gap at that place.
TEST(FakeKernel, AFullAuxAreaStopsTheTraceUntilHwcovEnablesItAgain) {
  const Replay& replay = Replay::Get();
  FakeMachine machine("pt-fake-full");
  FakeKernel kernel;
  kernel.script = [&](FakeKernel& k) { return replay.Steps(k); };
  kernel.aux_steps_per_poll = kPadWrites + 1;
  std::ostringstream log;
  const fs::path out = machine.dir.path() / "hw.data";
  collector::RecordOptions options = Options(out, &log);
  RunWhileKernelWrites(options, kernel, machine.dir.path());
  RecordIntelPt(options, machine.Host(&kernel));

  // One byte stays free: the hardware stopped at kAuxSize - 1, losing the
  // rest of chunk 1, and traced again from chunk 2 on.
  const auto chunks = replay.Chunks();
  ASSERT_GE(chunks.size(), 2u);
  const size_t pad = kPadBytes, stop = kAuxSize - 1, kept = stop - pad;
  ASSERT_LT(kept, chunks[0].second);
  const auto events = kernel.events();
  const FakeKernel::Event* pt = Find(events, 8, 0);
  EXPECT_EQ(pt->truncations, 1);
  EXPECT_EQ(kernel.aux_lost_bytes(), chunks[0].second - kept);
  std::vector<uint8_t> expected(pad, 0);
  expected.insert(expected.end(), replay.pt.begin(), replay.pt.begin() + kept);
  expected.insert(expected.end(), replay.pt.begin() + static_cast<ptrdiff_t>(chunks[1].first),
                  replay.pt.end());
  trace::Trace hw = trace::ReadPerfData(out);
  ASSERT_EQ(hw.queues.size(), 1u);
  ExpectStream(QueueBytes(hw, 0), expected);
  EXPECT_EQ(kernel.aux_committed_bytes(), expected.size());

  // The kernel's records: contiguous, one TRUNCATED ending at the stop.
  uint64_t next = 0;
  int truncated = 0;
  for (const auto& a : hw.aux_events) {
    EXPECT_EQ(a.aux_offset, next);
    next = a.aux_offset + a.aux_size;
    if (a.flags & trace::kAuxTruncated) {
      ++truncated;
      EXPECT_EQ(next, stop);
    }
  }
  EXPECT_EQ(next, expected.size());
  EXPECT_EQ(truncated, 1);
  EXPECT_TRUE(Contains(log.str(), "cpu 0: trace stopped 1 time(s)")) << log.str();

  // The loss is a gap where the stream jumps.
  decoder::ExecutionProfile p = decoder::Decode(hw);
  int at_stop = 0;
  for (const auto& g : p.gaps)
    at_stop += g.kind == decoder::GapKind::kLostData && Contains(g.detail, "TRUNCATED") &&
               g.trace_offset == stop;
  EXPECT_EQ(at_stop, 1);
}

// A RingSink that keeps what it is given.
struct CollectingSink : collector::RingSink {
  struct Aux {
    uint64_t offset, size, flags;
    uint32_t tid;
  };
  std::vector<Aux> records;  // PERF_RECORD_AUX
  std::vector<uint8_t> bytes;
  uint64_t bytes_read = 0;
  void OnRecord(const collector::RingInfo&, std::span<const uint8_t> r) override {
    perf_event_header h;
    std::memcpy(&h, r.data(), sizeof h);
    if (h.type != PERF_RECORD_AUX) return;
    Aux a;
    std::memcpy(&a.offset, r.data() + 8, 8);
    std::memcpy(&a.size, r.data() + 16, 8);
    std::memcpy(&a.flags, r.data() + 24, 8);
    std::memcpy(&a.tid, r.data() + 36, 4);  // sample_id: pid, tid first
    records.push_back(a);
  }
  void OnAux(const collector::RingInfo&, const collector::AuxRead& read) override {
    bytes.insert(bytes.end(), read.first.begin(), read.first.end());
    bytes.insert(bytes.end(), read.second.begin(), read.second.end());
    bytes_read += read.size();
  }
};

// perf_aux_output_end runs only from the PMI handler (at the watermark) and
// from pt_event_stop (schedule-out, disable, exit): what the hardware wrote
// since is invisible until then. hwcov gets it all, once, by draining after
// it disables the events.
TEST(FakeKernel, AuxHeadMovesOnlyAtInterruptsSchedulingAndDisable) {
  collector::SessionPlan plan = AttachPlan(true);
  FakeKernel kernel;
  auto trace = [](pid_t tid, size_t n, uint8_t fill) {
    FakeKernel::Step s{0, true, std::vector<uint8_t>(n, fill)};
    s.tid = tid;
    return s;
  };
  FakeKernel::Step out;
  out.kind = FakeKernel::Step::kSchedOut;
  out.tid = 500;
  kernel.script = [&](FakeKernel&) {
    return std::vector<FakeKernel::Step>{trace(500, 1000, 1), trace(500, 1500, 2),
                                         trace(500, 300, 4), out, trace(501, 700, 3)};
  };
  collector::PtSession session(kernel, plan, collector::PerfAccess{});
  CollectingSink sink;
  session.Enable();
  session.Wait(0);  // 1000 bytes: below the watermark
  session.Drain(sink);
  EXPECT_EQ(sink.bytes_read, 0u) << "aux_head moved without an interrupt";
  session.Wait(0);  // 1500 more: past attr.aux_watermark, a PMI
  session.Drain(sink);
  EXPECT_EQ(sink.bytes_read, 2500u);
  session.Wait(0);  // 300 more
  session.Drain(sink);
  EXPECT_EQ(sink.bytes_read, 2500u);
  session.Wait(0);  // 500 is scheduled out: the rest of its transaction
  session.Drain(sink);
  EXPECT_EQ(sink.bytes_read, 2800u);
  session.Wait(0);  // thread 501 on the same CPU, into the same buffer
  session.Drain(sink);
  EXPECT_EQ(sink.bytes_read, 2800u);
  session.Disable();  // pt_event_stop
  session.Drain(sink);
  session.Drain(sink);
  EXPECT_EQ(sink.bytes_read, 3500u);
  std::vector<uint8_t> expected(1000, 1);
  expected.insert(expected.end(), 1500, 2);
  expected.insert(expected.end(), 300, 4);
  expected.insert(expected.end(), 700, 3);
  EXPECT_EQ(sink.bytes, expected);
  ASSERT_EQ(sink.records.size(), 3u);
  const uint64_t sizes[] = {2500, 300, 700};
  const uint32_t tids[] = {500, 500, 501};
  uint64_t at = 0;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(sink.records[i].offset, at);
    EXPECT_EQ(sink.records[i].size, sizes[i]);
    EXPECT_EQ(sink.records[i].flags, 0u);
    EXPECT_EQ(sink.records[i].tid, tids[i]);
    at += sizes[i];
  }
  EXPECT_EQ(kernel.aux_committed_bytes(), 3500u);
  EXPECT_EQ(kernel.aux_lost_bytes(), 0u);
}

// attr.inherit: the launched program forks; the child gets its own events
// (inherit_event), which write into the parent's per-CPU buffer; the kernel
// writes PERF_RECORD_FORK, flushes the child's AUX data when it exits
// (perf_event_exit_task) and writes its EXIT. The child's trace reaches the
// file in place, its PERF_RECORD_AUX records carry its pid and tid (and the
// parent event's id), and the whole decodes like the original.
TEST(FakeKernel, AForkedChildIsTracedIntoItsParentsBufferUnderItsPid) {
  const Replay& replay = Replay::Get();
  const auto chunks = replay.Chunks(64);
  ASSERT_GT(chunks.size(), 5u);
  constexpr pid_t kChild = 77777;
  FakeMachine machine("pt-fake-fork");
  FakeKernel kernel;
  kernel.script = [&](FakeKernel& k) {
    return replay.Steps(k, {.child = kChild, .chunk_bytes = 64});
  };
  const fs::path out = machine.dir.path() / "hw.data";
  collector::RecordOptions options = Options(out, nullptr);
  RunWhileKernelWrites(options, kernel, machine.dir.path());
  collector::RecordResult result = RecordIntelPt(options, machine.Host(&kernel));

  const auto events = kernel.events();
  const FakeKernel::Event* parent_pt = Find(events, 8, 0);
  ASSERT_NE(parent_pt, nullptr);
  int children = 0;
  for (const auto& e : events) {
    if (e.parent < 0) continue;
    ++children;
    EXPECT_EQ(e.pid, kChild);
    EXPECT_TRUE(e.exited);
    const FakeKernel::Event* from = kernel.EventByFd(e.parent);
    ASSERT_NE(from, nullptr);
    EXPECT_EQ(from->pid, parent_pt->pid);
    EXPECT_EQ(from->cpu, e.cpu);
    EXPECT_NE(from->id, e.id);
  }
  EXPECT_EQ(children, 4);  // intel_pt and tracking, on each CPU

  trace::Trace hw = trace::ReadPerfData(out);
  ASSERT_EQ(hw.queues.size(), 1u);
  const uint32_t parent = static_cast<uint32_t>(parent_pt->pid);
  int forks = 0, exits = 0;
  for (const auto& t : hw.tasks) {
    if (!t.exit && t.pid == static_cast<uint32_t>(kChild)) forks += t.ppid == parent;
    if (t.exit) exits += t.pid == static_cast<uint32_t>(kChild) || t.pid == parent;
  }
  EXPECT_EQ(forks, 1);
  EXPECT_EQ(exits, 2);
  // The child's bytes: chunks 2 to 4, after the padding.
  const uint64_t pad = kPadBytes;
  uint64_t child_begin = UINT64_MAX, child_end = 0, child_bytes = 0;
  for (const auto& a : hw.aux_events) {
    if (a.sample.tid != static_cast<uint32_t>(kChild)) {
      EXPECT_EQ(a.sample.tid, parent);
      continue;
    }
    EXPECT_EQ(a.sample.pid, static_cast<uint32_t>(kChild));
    child_begin = std::min(child_begin, a.aux_offset);
    child_end = std::max(child_end, a.aux_offset + a.aux_size);
    child_bytes += a.aux_size;
  }
  EXPECT_EQ(child_begin, pad + chunks[1].first);
  EXPECT_EQ(child_end, pad + chunks[3].second) << "flushed when the child exited";
  EXPECT_EQ(child_bytes, chunks[3].second - chunks[1].first);
  EXPECT_EQ(result.stats.processes, 2u);
  std::vector<uint8_t> stream(kPadBytes, 0);
  stream.insert(stream.end(), replay.pt.begin(), replay.pt.end());
  ExpectStream(QueueBytes(hw, 0), stream);
  const auto ips = Instructions(hw), expected = Instructions(replay.soft);
  EXPECT_EQ(ips.size(), expected.size());
  EXPECT_TRUE(ips == expected);
  for (const auto& g : decoder::Decode(hw).gaps) ADD_FAILURE() << g.detail;
  EXPECT_EQ(kernel.aux_lost_bytes(), 0u);
}

// A full AUX area while the forked child runs: the kernel disables the
// child's inherited event (perf_event_disable_inatomic(handle->event)), and
// hwcov's ENABLE on the parent's fd enables it again (_perf_ioctl applies
// it with perf_event_for_each_child), so the child's later trace arrives.
TEST(FakeKernel, AChildStoppedByAFullBufferIsEnabledThroughItsParent) {
  const Replay& replay = Replay::Get();
  const auto chunks = replay.Chunks(64);
  ASSERT_GT(chunks.size(), 5u);
  constexpr pid_t kChild = 77778;
  FakeMachine machine("pt-fake-fork-full");
  FakeKernel kernel;
  kernel.script = [&](FakeKernel& k) {
    return replay.Steps(k, {.child = kChild, .chunk_bytes = 64});
  };
  // The padding, chunk 1, the fork and switch, chunk 2 (the child's): all
  // before hwcov reads, so the hardware stops inside chunk 2.
  kernel.aux_steps_per_poll = kPadWrites + 4;
  const fs::path out = machine.dir.path() / "hw.data";
  collector::RecordOptions options = Options(out, nullptr);
  RunWhileKernelWrites(options, kernel, machine.dir.path());
  RecordIntelPt(options, machine.Host(&kernel));

  const uint64_t stop = kAuxSize - 1;
  ASSERT_GT(kPadBytes + chunks[1].second, stop);
  ASSERT_LT(kPadBytes + chunks[1].first, stop);
  int child_truncations = 0;
  for (const auto& e : kernel.events())
    if (e.parent >= 0 && e.attr.type == 8) child_truncations += e.truncations;
  EXPECT_EQ(child_truncations, 1);
  EXPECT_EQ(kernel.aux_lost_bytes(), kPadBytes + chunks[1].second - stop);
  trace::Trace hw = trace::ReadPerfData(out);
  bool truncated = false, child_after = false;
  for (const auto& a : hw.aux_events) {
    if (a.flags & trace::kAuxTruncated) {
      EXPECT_EQ(a.sample.tid, static_cast<uint32_t>(kChild));
      EXPECT_EQ(a.aux_offset + a.aux_size, stop);
      truncated = true;
    } else if (truncated && !child_after && a.sample.tid == static_cast<uint32_t>(kChild)) {
      child_after = true;
      EXPECT_EQ(a.aux_offset, stop);  // traced again from the stop on
    }
  }
  EXPECT_TRUE(truncated);
  EXPECT_TRUE(child_after) << "the child's event was not enabled again";
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
  // Less PT than the watermark: no PMI, so the kernel publishes it only
  // when hwcov disables the events at the end (pt_event_stop).
  kernel.script = [](FakeKernel&) {
    return std::vector<FakeKernel::Step>{{0, true, std::vector<uint8_t>(1000, 0)}};
  };
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
  ASSERT_EQ(hw.queues.size(), 1u);
  EXPECT_EQ(QueueBytes(hw, 0), std::vector<uint8_t>(1000, 0)) << "drained after the disable";
  ASSERT_EQ(hw.aux_events.size(), 1u);
  EXPECT_EQ(hw.aux_events[0].aux_size, 1000u);
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
  for (bool per_cpu : {true, false}) {
    const collector::SessionPlan plan = AttachPlan(per_cpu);
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
