// A real soft-tracer recording replayed as the kernel would deliver it on
// CPU 0 (a FakeKernel script): COMM, MMAP2, ITRACE_START, the PT bytes in
// AUX-area chunks ending at packet boundaries (as the hardware's output
// pointer does), one of them wrapping around the AUX area, PERF_RECORD_AUX
// after each, EXIT; with options for losses, a fork and the [vdso].
#pragma once

#include <intel-pt.h>
#include <linux/perf_event.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "fake_kernel.h"
#include "fake_machine.h"
#include "hwcov/trace.h"
#include "test_support.h"

namespace hwcov {

inline const fs::path kLoops = fs::path(HWCOV_TEST_PROGRAMS_DIR) / "loops";

// Offsets where packets start, by libipt's packet decoder.
inline std::vector<size_t> PacketStarts(const std::vector<uint8_t>& pt) {
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

// The replay's padding before the trace: PAD packets, 256 bytes a write.
inline constexpr size_t kPadBytes = kAuxSize - 100, kPadWrite = 256;
inline constexpr size_t kPadWrites = (kPadBytes + kPadWrite - 1) / kPadWrite;

struct ReplayOptions {
  uint64_t flags_at_chunk2 = 0;  // perf_aux_output_flag while the hardware writes it
  uint64_t lost = 0;             // a PERF_RECORD_LOST of this many records
  bool with_vdso = true;
  // The program forks |child| after chunk 1; the child runs chunks 2..4
  // on the same CPU (inherited events) and exits, then the parent runs
  // the rest.
  pid_t child = 0;
  size_t chunk_bytes = 300;  // the hardware's writes: about this many bytes
};

// The soft recording replayed as kernel writes.
class Replay {
 public:
  // A soft recording of |command| (the loops test program by default),
  // with |options| for hwcov record; made once per test binary.
  static const Replay& Get(const std::vector<std::string>& command = {kLoops.string()},
                           const std::vector<std::string>& options = {}) {
    static auto* replays = new std::map<std::vector<std::string>, std::unique_ptr<Replay>>();
    std::vector<std::string> key = options;
    key.push_back("--");
    key.insert(key.end(), command.begin(), command.end());
    std::unique_ptr<Replay>& replay = (*replays)[key];
    if (!replay) replay.reset(new Replay(key));
    return *replay;
  }
  trace::Trace soft;
  std::vector<uint8_t> pt;            // the PT stream, trailing padding dropped
  std::vector<size_t> packet_starts;  // where chunks may end

  // The PT stream cut as the hardware's output pointer moves: about
  // |about| bytes at a time, ending where a packet starts. [begin, end) offsets.
  std::vector<std::pair<size_t, size_t>> Chunks(size_t about = 300) const {
    std::vector<std::pair<size_t, size_t>> chunks;
    for (size_t begin = 0; begin < pt.size();) {
      auto end_it = std::upper_bound(packet_starts.begin(), packet_starts.end(), begin + about);
      size_t end = end_it == packet_starts.end() ? pt.size() : *end_it;
      if (end <= begin) end = pt.size();
      chunks.emplace_back(begin, end);
      begin = end;
    }
    return chunks;
  }

  // What happens on ring 0's CPU during a recording of its event's pid.
  std::vector<FakeKernel::Step> Steps(const FakeKernel& k, const ReplayOptions& o = {}) const {
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
    auto by = [&](const FakeKernel::Event* e, uint32_t tid) {
      return testing::RecordBuilder::Trailer{tid, tid, time++, cpu, e->id};
    };
    auto other = [&](FakeKernel::Step::Kind kind, uint32_t tid, pid_t child = 0) {
      FakeKernel::Step step;
      step.kind = kind;
      step.tid = static_cast<pid_t>(tid);
      step.child = child;
      step.time = time++;
      steps.push_back(step);
    };
    auto switch_record = [&](uint32_t tid, uint16_t misc) {
      if (sw)
        data(testing::RecordBuilder(PERF_RECORD_SWITCH_CPU_WIDE, misc)
                 .Put(uint32_t{0})
                 .Put(uint32_t{0})
                 .Build(st, by(sw, tid)));
      else if (pt_ev->cpu >= 0)
        data(testing::RecordBuilder(PERF_RECORD_SWITCH, misc).Build(st, by(tracking, tid)));
    };

    testing::RecordBuilder comm(PERF_RECORD_COMM,
                                PERF_RECORD_MISC_USER | PERF_RECORD_MISC_COMM_EXEC);
    comm.Put(pid).Put(pid).String(soft.comms.empty() ? "loops" : soft.comms[0].name);
    data(comm.Build(st, by(tracking, pid)));
    for (const trace::MmapEvent& m : soft.mmaps) {
      if (!o.with_vdso && m.filename == "[vdso]") continue;
      uint16_t misc = PERF_RECORD_MISC_USER;
      uint8_t id[24] = {};
      if (m.build_id) {
        misc |= PERF_RECORD_MISC_MMAP_BUILD_ID;
        id[0] = static_cast<uint8_t>(m.build_id->bytes.size());
        std::memcpy(id + 4, m.build_id->bytes.data(), id[0]);
      }
      testing::RecordBuilder b(PERF_RECORD_MMAP2, misc);
      b.Put(pid).Put(pid).Put(m.start).Put(m.len).Put(m.pgoff);
      for (uint8_t byte : id) b.Put(byte);
      b.Put(m.prot).Put(m.flags).String(m.filename);
      data(b.Build(st, by(tracking, pid)));
    }
    switch_record(pid, 0);
    data(testing::RecordBuilder(PERF_RECORD_ITRACE_START, 0)
             .Put(pid)
             .Put(pid)
             .Build(st, by(pt_ev, pid)));

    // The hardware's output; the kernel writes the PERF_RECORD_AUX records.
    auto aux = [&](std::vector<uint8_t> bytes, uint32_t tid, uint64_t flags = 0) {
      FakeKernel::Step step{0, true, std::move(bytes)};
      step.tid = static_cast<pid_t>(tid);
      step.time = time++;
      step.aux_flags = flags;
      steps.push_back(std::move(step));
    };
    // PAD packets up to 100 bytes before the end of the AUX area, so that
    // the first real chunk wraps around it.
    for (size_t done = 0; done < kPadBytes; done += kPadWrite)
      aux(std::vector<uint8_t>(std::min(kPadWrite, kPadBytes - done), 0), pid);
    size_t chunk = 0;
    uint32_t runs = pid;
    for (const auto& [begin, end] : Chunks(o.chunk_bytes)) {
      ++chunk;
      if (o.child && chunk == 2) {  // fork, and the child takes the CPU
        other(FakeKernel::Step::kFork, pid, o.child);
        switch_record(pid, PERF_RECORD_MISC_SWITCH_OUT);
        other(FakeKernel::Step::kSchedOut, pid);
        runs = static_cast<uint32_t>(o.child);
        switch_record(runs, 0);
      }
      if (o.child && chunk == 5) {  // the child exits, the parent runs again
        other(FakeKernel::Step::kExit, runs);
        runs = pid;
        switch_record(pid, 0);
      }
      aux(std::vector<uint8_t>(pt.begin() + static_cast<ptrdiff_t>(begin),
                               pt.begin() + static_cast<ptrdiff_t>(end)),
          runs, chunk == 2 ? o.flags_at_chunk2 : 0);
    }
    if (o.lost)
      data(testing::RecordBuilder(PERF_RECORD_LOST, 0)
               .Put(tracking->id)
               .Put(o.lost)
               .Build(st, by(tracking, pid)));
    if (!sw) switch_record(runs, PERF_RECORD_MISC_SWITCH_OUT);
    other(FakeKernel::Step::kExit, runs);  // flushes the last AUX data, writes EXIT
    return steps;
  }

 private:
  explicit Replay(const std::vector<std::string>& options_and_command) : dir_("pt-replay-soft") {
    const fs::path path = dir_.path() / "soft.data";
    std::vector<std::string> argv = {HWCOV_BINARY, "record", "--backend",
                                     "soft",       "-o",     path.string()};
    argv.insert(argv.end(), options_and_command.begin(), options_and_command.end());
    auto r = testing::RunCommand(argv);
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

}  // namespace hwcov
