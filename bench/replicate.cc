// bench/replicate IN OUT N: a trace N times as long as IN, for decoder
// benchmarks: IN's sideband once, then each AUX queue's PT stream N times in
// a row. Every copy starts at IN's first PSB and IN's streams end with
// tracing disabled, so the result is a valid trace of the same execution
// repeated: the same instruction mix and code footprint as the real program,
// at the size hardware produces in seconds.
#include <cstdio>
#include <cstdlib>
#include <map>

#include "hwcov/trace.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s IN OUT N\n", argv[0]);
    return 2;
  }
  try {
    hwcov::trace::Trace in = hwcov::trace::ReadPerfData(argv[1]);
    if (!in.pt) throw hwcov::Error(std::string(argv[1]) + ": no Intel PT data");
    const long n = std::atol(argv[3]);
    hwcov::trace::PtEventParams event;
    event.pmu_type = in.pt->pmu_type;
    event.config = in.pt->config;
    event.auxtrace_priv = in.pt->priv;
    hwcov::trace::PerfDataWriter out(argv[2], event);
    for (const auto& c : in.comms) out.AddComm(c.pid, c.tid, c.name, c.exec, c.sample.time);
    for (const auto& m : in.mmaps) out.AddMmap(m, m.sample.time);
    for (const auto& s : in.itrace_starts) out.AddItraceStart(s.pid, s.tid, s.sample.time);
    for (const auto& t : in.tasks)
      if (!t.exit) out.AddFork(t.pid, t.ppid, t.tid, t.ptid, t.time);
    for (const auto& s : in.snapshots) out.AddSnapshot(s);
    for (long i = 0; i < n; ++i)
      for (const auto& q : in.queues)
        for (const auto& b : q.buffers) out.AddAux(q.idx, q.tid, in.AuxBytes(b), b.reference);
    for (const auto& t : in.tasks)
      if (t.exit) out.AddExit(t.pid, t.ppid, t.tid, t.ptid, t.time);
    out.Finish();
  } catch (const hwcov::Error& e) {
    std::fprintf(stderr, "replicate: %s\n", e.what());
    return 1;
  }
  return 0;
}
