// `hwcov dump`: what a trace holds, in text, for bug reports (ptdump's and
// `perf script -D`'s role): the header, the Intel PT configuration, each AUX
// queue with its packet counts, the sideband in time order, and the decoded
// profile.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ostream>
#include <tuple>

#include "hwcov/decoder.h"
#include "hwcov/hex.h"
#include "hwcov/pipeline.h"
#include "hwcov/trace.h"

namespace hwcov::pipeline {
namespace {

void Header(std::ostream& out, const trace::Trace& t) {
  out << "# trace " << t.path.string() << (t.pipe_mode ? " (pipe mode)" : " (file mode)")
      << (t.finished ? "" : ", unfinished: the writer never completed it") << "\n";
  for (const auto& [key, value] : t.strings) out << "# " << key << ": " << value << "\n";
  for (const trace::EventAttr& a : t.attrs)
    out << "attr type " << a.type << " size " << a.size << " config " << Hex(a.config)
        << " sample_type " << Hex(a.sample_type) << " flags " << Hex(a.flags) << " ids "
        << a.ids.size() << "\n";
  if (t.pt) {
    out << "intel_pt pmu " << t.pt->pmu_type << " config " << Hex(t.pt->config)
        << (t.pt->per_cpu() ? " per-cpu" : " per-thread")
        << (t.pt->return_compression() ? " return-compression" : " noretcomp") << "\n";
  } else {
    out << "intel_pt: none (no AUXTRACE_INFO record)\n";
  }
  for (const std::string& w : t.warnings) out << "warning: " << w << "\n";
}

void Queues(std::ostream& out, const trace::Trace& t) {
  for (const trace::AuxQueue& q : t.queues) {
    uint64_t bytes = 0;
    for (const trace::AuxBuffer& b : q.buffers) bytes += b.size;
    out << "queue " << q.idx;
    if (q.tid != UINT32_MAX) out << " tid " << q.tid;
    if (q.cpu != UINT32_MAX) out << " cpu " << q.cpu;
    out << ": " << q.buffers.size() << " AUXTRACE buffers, " << bytes << " bytes\n  packets:";
    for (const auto& [kind, n] : decoder::CountPackets(t, q)) out << " " << kind << "=" << n;
    out << "\n";
  }
}

// The sideband records in time order, one line each.
void Sideband(std::ostream& out, const trace::Trace& t) {
  std::vector<std::tuple<uint64_t, int, std::string>> lines;  // time, order, text
  auto add = [&](const trace::SampleId& s, std::string text) {
    lines.emplace_back(s.time, static_cast<int>(lines.size()), std::move(text));
  };
  for (const auto& m : t.mmaps)
    add(m.sample, "MMAP2 pid " + std::to_string(m.pid) + " " + Hex(m.start) + "-" +
                      Hex(m.start + m.len) + " pgoff " + Hex(m.pgoff) +
                      (m.executable ? " r-x " : " --- ") + m.filename +
                      (m.build_id ? " build-id " + m.build_id->Hex() : ""));
  for (const auto& c : t.comms)
    add(c.sample, std::string(c.exec ? "COMM exec" : "COMM") + " pid " + std::to_string(c.pid) +
                      " tid " + std::to_string(c.tid) + " " + c.name);
  for (const auto& k : t.tasks)
    add(k.sample, std::string(k.exit ? "EXIT" : "FORK") + " pid " + std::to_string(k.pid) +
                      " ppid " + std::to_string(k.ppid) + " tid " + std::to_string(k.tid));
  for (const auto& i : t.itrace_starts)
    add(i.sample, "ITRACE_START pid " + std::to_string(i.pid) + " tid " + std::to_string(i.tid));
  for (const auto& a : t.aux_events)
    add(a.sample, "AUX offset " + std::to_string(a.aux_offset) + " size " +
                      std::to_string(a.aux_size) + " flags " + Hex(a.flags) +
                      (a.flags & trace::kAuxTruncated ? " TRUNCATED" : "") +
                      (a.flags & trace::kAuxPartial ? " PARTIAL" : ""));
  for (const auto& l : t.lost) add(l.sample, "LOST " + std::to_string(l.lost) + " records");
  for (const auto& s : t.switches) add(s.sample, std::string("SWITCH") + (s.out ? " out" : " in"));
  std::sort(lines.begin(), lines.end());
  out << "sideband: " << lines.size() << " records\n";
  for (const auto& [time, order, text] : lines) out << "  " << time << " " << text << "\n";
}

void Profile(std::ostream& out, const decoder::ExecutionProfile& p) {
  out << "profile: " << p.instructions << " instructions, " << p.decoded_bytes << " of "
      << p.trace_bytes << " PT bytes decoded cleanly, " << p.unmapped_instructions
      << " in code with no binary, " << p.libipt_stretch_bytes
      << " bytes handed to libipt's block decoder\n";
  for (size_t i = 0; i < p.modules.size(); ++i)
    out << "module " << i << " " << p.modules[i].path
        << (p.modules[i].build_id.empty() ? "" : " build-id " + p.modules[i].build_id.Hex())
        << "\n";
  for (const decoder::BlockCount& b : p.blocks)
    out << "block module " << b.module << " " << Hex(b.begin) << ".." << Hex(b.last) << " "
        << b.instructions << " insns x " << b.count << "\n";
  for (const decoder::BranchCount& b : p.branches)
    out << "branch module " << b.module << " " << Hex(b.offset) << " taken " << b.taken
        << " not-taken " << b.not_taken << "\n";
  for (const decoder::Gap& g : p.gaps)
    out << "gap " << decoder::GapKindName(g.kind) << " queue " << g.queue << " offset "
        << g.trace_offset << " ip " << Hex(g.ip) << " skipped " << g.skipped_bytes << ": "
        << g.detail << "\n";
  for (const std::string& w : p.warnings) out << "warning: " << w << "\n";
}

}  // namespace

void DumpTrace(const std::filesystem::path& path, std::ostream& out, const DumpOptions& options) {
  const trace::Trace t = trace::ReadPerfData(path);
  Header(out, t);
  Queues(out, t);
  Sideband(out, t);
  if (!options.profile || !t.pt) return;
  decoder::DecodeOptions decode;
  decode.sysroot = options.sysroot;
  decode.libipt_only = options.libipt_only;
  Profile(out, decoder::Decode(t, decode));
}

}  // namespace hwcov::pipeline
