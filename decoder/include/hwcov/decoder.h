// Decoding: Intel PT packets of a trace to an execution profile, keyed by
// (module, file offset), never by absolute address.
//
//   trace::Trace trace = trace::ReadPerfData("perf.data");
//   ExecutionProfile profile = Decode(trace);
//   profile.blocks / profile.branches / profile.gaps / profile.decoded_share()
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hwcov/profile.h"
#include "hwcov/trace.h"

namespace hwcov::decoder {

// The profile types (hwcov/profile.h) are the decoder's output; the emu
// backend's in-plugin counting produces them too.
using profile::BlockCount;
using profile::BranchCount;
using profile::CodeLocation;
using profile::ExecutionProfile;
using profile::Gap;
using profile::GapKind;
using profile::GapKindName;
using profile::Module;
using profile::TestProfile;

inline constexpr size_t kStepCacheBytesPerEntry = 244;

struct DecodeOptions {
  // Recorded paths are looked up under this directory (like perf --symfs):
  // binaries copied from the recording machine, a container's root.
  std::string sysroot;
  // Build-id caches searched by build id before $PERF_BUILDID_DIR or
  // ~/.debug (perf's layout: .build-id/xx/yyyy and <path>/<build id>/elf).
  std::vector<std::string> buildid_dirs;
  // Worker threads (0: one per core). The profile does not depend on it.
  unsigned jobs = 0;
  // Smallest stretch of stream one decoder takes (0: chosen from the trace
  // size and jobs). Tests set 1 to cut at every sync point.
  uint64_t stretch_bytes = 0;
  // Decode every stretch with libipt's block decoder instead of hwcov's
  // fast path (the reference the fast path is tested against).
  bool libipt_only = false;
  // Multi-bit steps the fast path caches per worker thread (a power of two;
  // 0: walk every TNT bit on its own), kStepCacheBytesPerEntry each: the
  // default is 3.8 MiB per worker. Tests set a tiny cache to force evictions;
  // the profile does not depend on it.
  size_t step_cache_entries = size_t{1} << 14;
  // Called now and then from the calling thread: PT bytes decoded so far
  // and in all.
  std::function<void(uint64_t done, uint64_t total)> progress;
  // StreamDecoder: PT bytes held, over all queues, before the largest
  // queue's are decoded up to its last sync point (its memory bound, with
  // one PSB period per queue and the decoders' own).
  uint64_t stream_buffer_bytes = 16 << 20;
};

// Decodes every AUX queue of |trace|: each stream is cut at its PSB sync
// points into stretches decoded in parallel, each bounded exactly at the
// next stretch's start, and the counts are summed. A stretch goes through
// the fast path (packets parsed inline, steps cached) unless it holds what
// the fast path does not model; then, or with options.libipt_only,
// libipt's block decoder decodes it.
ExecutionProfile Decode(const trace::Trace& trace, const DecodeOptions& options = {});

// Decode() once per test: the queues of the processes that ran for one test
// decoded together, sorted by test name. A process's test is the name its
// collector recorded (Trace::test_names), else its fork parent's, else the
// name of the program it exec'd (COMM: hardware traces), else "pid N". A
// recorded loss goes to its queue's test; one of no queue (lost sideband,
// an unfinished file) to the first test. Throws hwcov::Error for a per-CPU
// trace (a queue holds every process).
std::vector<TestProfile> DecodeByTest(const trace::Trace& trace, const DecodeOptions& options = {});

// Decoding while recording: a trace sink (collector::RecordOptions::live)
// that decodes the PT as it arrives, a range of each queue's stream at a
// time, cut at a sync point, with the sideband received so far: no perf.data
// is needed, and memory is bounded by options.stream_buffer_bytes whatever
// the length of the run. Its profile is Decode() of the perf.data that the
// same calls make a PerfDataWriter write. The sideband must come no later
// than the PT it describes (true of every backend: the software ones write a
// mapping before the code in it runs; the intel-pt recorder reads the data
// rings before the PT written until then, and gives build ids and [vdso]
// bytes at the MMAP2). Decoding happens in AddAux()/AddAuxtrace(), on the
// caller's thread: a software recording that outpaces it waits; Intel PT
// hardware does not (the intel-pt recorder queues for it, and what its full
// buffer then loses is reported: TRUNCATED).
class StreamDecoder : public trace::TraceSink {
 public:
  explicit StreamDecoder(const DecodeOptions& options = {});
  ~StreamDecoder() override;
  StreamDecoder(const StreamDecoder&) = delete;
  StreamDecoder& operator=(const StreamDecoder&) = delete;

  void Begin(const trace::PtEventParams& params) override;
  void AddComm(uint32_t pid, uint32_t tid, const std::string& name, bool exec,
               uint64_t time) override;
  void AddMmap(const trace::MmapEvent& mmap, uint64_t time) override;
  void AddItraceStart(uint32_t pid, uint32_t tid, uint64_t time) override;
  void AddFork(uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid, uint64_t time) override;
  void AddExit(uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid, uint64_t time) override;
  void AddAux(uint32_t idx, uint32_t tid, std::span<const uint8_t> bytes, uint64_t time) override;
  void AddSnapshot(const trace::CodeSnapshot& snapshot) override;
  // Kept in the sideband (Trace::test_names) like the file's; the live
  // profile is the whole run's (per-test decoding reads a file: DecodeByTest).
  void AddTestName(uint32_t pid, const std::string& name) override;
  void SetStrings(const std::map<std::string, std::string>& strings) override;
  void AddBuildId(const trace::BuildIdEntry& entry) override;
  // A hardware recording's records, filed as the perf.data reader files them.
  void AddKernelRecord(const trace::KernelRecord& record, std::span<const uint8_t> raw) override;
  void AddAuxtrace(const trace::AuxtraceChunk& chunk, std::span<const uint8_t> first,
                   std::span<const uint8_t> second) override;
  void AddFinishedRound() override;
  // Decodes what is left of every queue.
  void Finish() override;

  // The profile, after Finish(). Throws hwcov::Error before.
  ExecutionProfile TakeProfile();
  // The most PT bytes held undecoded at once, and how many times decoding ran.
  uint64_t peak_buffered_bytes() const;
  uint64_t decode_runs() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Debug view: every executed instruction's address in trace order, decoded
// by libipt's instruction decoder (the reference for `perf script
// --itrace=i1i -F ip`). Decode errors are reported through |on_gap|.
void ListInstructions(const trace::Trace& trace, const std::function<void(uint64_t ip)>& on_insn,
                      const std::function<void(const Gap&)>& on_gap,
                      const DecodeOptions& options = {});

// Verification view (hwcov dump, tests): the PT packets of one AUX queue
// counted by kind, walked with libipt's packet decoder from the first PSB.
// Keys use the vocabulary of `perf script -D` ("PSB", "PSBEND", "TNT",
// "TIP", "TIP.PGE", "TIP.PGD", "FUP", "MODE.Exec", "MODE.TSX", "PIP", "TSC",
// "MTC", "CYC", "TMA", "CBR", "VMCS", "OVF", "PAD", "PTWRITE", "TraceSTOP",
// "MNT", "EXSTOP", "MWAIT", "PWRE", "PWRX"); TNT-8 and TNT-64 are both "TNT",
// and every PAD byte is one "PAD" (perf folds zero bytes into the line of the
// packet before them). Packets libipt cannot decode count under "error"
// (the walk then resyncs at the next PSB). Kinds that do not occur are absent.
std::map<std::string, uint64_t> CountPackets(const trace::Trace& trace,
                                             const trace::AuxQueue& queue);

}  // namespace hwcov::decoder
