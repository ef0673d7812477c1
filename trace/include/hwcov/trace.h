// The trace: what a recording holds, as Linux perf writes it (perf.data,
// PERFILE2, file or pipe mode) for an intel_pt event. Collectors write it with
// PerfDataWriter; the decoder reads it with ReadPerfData. Plain value types.
//
//   PerfDataWriter w(path, ProcessAttr{...});
//   w.AddComm(...); w.AddMmap(...); w.AddAux(...); w.Finish();
//   Trace t = ReadPerfData(path);
//   for (const AuxQueue& q : t.queues) ... t.AuxBytes(buffer) ...
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "hwcov/support.h"

namespace hwcov::trace {

// perf_event_attr.sample_type bits used in sample_id trailers.
enum SampleType : uint64_t {
  kSampleIp = 1u << 0,
  kSampleTid = 1u << 1,
  kSampleTime = 1u << 2,
  kSampleAddr = 1u << 3,
  kSampleId = 1u << 6,
  kSampleCpu = 1u << 7,
  kSampleStreamId = 1u << 9,
  kSampleIdentifier = 1u << 16,
};

// The parts of a perf_event_attr hwcov needs, plus its sample ids.
struct EventAttr {
  uint32_t type = 0;
  uint32_t size = 0;  // attr.size as recorded (64..136+)
  uint64_t config = 0;
  uint64_t sample_type = 0;
  uint64_t flags = 0;  // the bitfield word at offset 40
  std::vector<uint64_t> ids;
};

// The sample_id trailer of a kernel record (fields absent in sample_type stay
// at their defaults).
struct SampleId {
  uint32_t pid = UINT32_MAX;
  uint32_t tid = UINT32_MAX;
  uint64_t time = 0;
  uint32_t cpu = UINT32_MAX;
};

struct MmapEvent {
  SampleId sample;
  uint32_t pid = 0, tid = 0;
  uint64_t start = 0, len = 0, pgoff = 0;
  uint32_t prot = 0, flags = 0;
  bool executable = true;  // PROT_EXEC (old MMAP records: !(misc & DATA))
  std::string filename;
  std::optional<BuildId> build_id;  // MMAP2 with PERF_RECORD_MISC_MMAP_BUILD_ID
};

struct CommEvent {
  SampleId sample;
  uint32_t pid = 0, tid = 0;
  bool exec = false;
  std::string name;
};

struct TaskEvent {  // FORK or EXIT
  SampleId sample;
  bool exit = false;
  uint32_t pid = 0, ppid = 0, tid = 0, ptid = 0;
  uint64_t time = 0;
};

struct ItraceStartEvent {
  SampleId sample;
  uint32_t pid = 0, tid = 0;
};

struct SwitchEvent {
  SampleId sample;
  bool out = false;       // switch-out (misc bit 13)
  bool cpu_wide = false;  // SWITCH_CPU_WIDE carries the other task
  uint32_t next_prev_pid = 0, next_prev_tid = 0;
};

// PERF_RECORD_AUX: the kernel's report of AUX data written, with loss flags.
struct AuxEvent {
  SampleId sample;
  uint64_t aux_offset = 0, aux_size = 0, flags = 0;
};
enum AuxFlags : uint64_t {
  kAuxTruncated = 0x1,
  kAuxOverwrite = 0x2,
  kAuxPartial = 0x4,
  kAuxCollision = 0x8,
};

struct LostEvent {
  SampleId sample;
  uint64_t id = 0, lost = 0;
};

// One kernel sideband record (PERF_RECORD_MMAP ... LOST, the types below
// 64) as the kernel writes it into a data ring and perf.data holds it: the
// header, the event of its kind (its |sample| is the trailer's), and the
// sample_id trailer. Types without an event here leave |event| empty.
struct KernelRecord {
  uint32_t type = 0;
  uint16_t misc = 0;  // decoding: as found; encoding: ORed with the event's own bits
  SampleId sample;    // the sample_id trailer
  uint64_t id = 0;    // its ID / IDENTIFIER
  std::variant<std::monostate, MmapEvent, CommEvent, TaskEvent, ItraceStartEvent, SwitchEvent,
               AuxEvent, LostEvent>
      event;
};

// The one codec of these records (the perf.data reader and writer and the
// Intel PT collector's ring reader use it). |sample_type| is the trailer's
// layout: the attr's sample_type with sample_id_all, 0 without. Decoding
// |record| (header.size bytes) throws hwcov::Error "too small for its
// sample_id trailer" or "... for its fields"; callers add where it was.
KernelRecord DecodeKernelRecord(std::span<const uint8_t> record, uint64_t sample_type);
// Encodes a record (COMM names cut to the kernel's 15 characters).
std::vector<uint8_t> EncodeKernelRecord(const KernelRecord& record, uint64_t sample_type);

// One PERF_RECORD_AUXTRACE: |size| bytes of PT stored at |file_offset|.
struct AuxBuffer {
  uint64_t file_offset = 0;    // where the PT bytes start in the file
  uint64_t record_offset = 0;  // where the AUXTRACE record starts
  uint64_t size = 0;
  uint64_t offset = 0;  // position within the AUX area stream
  uint64_t reference = 0;
  uint32_t idx = 0, tid = 0, cpu = 0;
};

// Buffers with the same idx form one continuous PT stream (perf's queues).
struct AuxQueue {
  uint32_t idx = 0;
  uint32_t tid = UINT32_MAX;  // per-thread mode
  uint32_t cpu = UINT32_MAX;  // per-CPU mode
  std::vector<AuxBuffer> buffers;
};

struct BuildIdEntry {
  int32_t pid = -1;
  std::string filename;
  BuildId build_id;
};

// Code that has no file to be read back from ([vdso], JIT): its bytes,
// captured at record time. Stored in hwcov's own feature section.
struct CodeSnapshot {
  uint32_t pid = 0;
  uint64_t start = 0;
  std::string name;
  std::vector<uint8_t> bytes;
};

// Intel PT parameters: attr.config plus PERF_RECORD_AUXTRACE_INFO's priv[].
struct PtInfo {
  uint32_t pmu_type = 0;
  uint64_t config = 0;
  std::vector<uint64_t> priv;
  bool per_cpu() const { return priv.size() > 9 && priv[9] != 0; }
  bool return_compression() const { return priv.size() <= 6 || !(config & priv[6]); }
};

struct Trace {
  std::filesystem::path path;
  bool pipe_mode = false;
  bool finished = true;  // false when the writer never completed the header
  std::vector<EventAttr> attrs;
  std::optional<PtInfo> pt;  // absent when the file has no AUXTRACE_INFO
  std::vector<MmapEvent> mmaps;
  std::vector<CommEvent> comms;
  std::vector<TaskEvent> tasks;
  std::vector<ItraceStartEvent> itrace_starts;
  std::vector<SwitchEvent> switches;
  std::vector<AuxEvent> aux_events;
  std::vector<LostEvent> lost;
  std::vector<AuxQueue> queues;
  std::vector<BuildIdEntry> build_ids;
  std::vector<CodeSnapshot> snapshots;
  // The test each traced program ran for, by pid, as the collector named it
  // (docs/user-guide.md, "Per-test coverage"). hwcov's own feature section.
  std::map<uint32_t, std::string> test_names;
  std::map<std::string, std::string> strings;  // hostname, osrelease, cpuid, cmdline...
  std::map<uint32_t, uint64_t> record_counts;  // by PERF_RECORD_* type
  std::vector<std::string> warnings;           // readable but imperfect input

  // The PT bytes of a buffer (a view into the mapped file).
  std::span<const uint8_t> AuxBytes(const AuxBuffer& buffer) const;

  std::shared_ptr<const MappedFile> file;
};

// Reads a perf.data file (file or pipe mode). Throws hwcov::Error naming the
// file and offset for anything it cannot parse.
Trace ReadPerfData(const std::filesystem::path& path);

// Files |record|'s event in |trace|'s sideband lists (mmaps, comms, tasks,
// aux_events...), as ReadPerfData does with each record it reads.
void AddToSideband(KernelRecord record, Trace& trace);

// --- writing -------------------------------------------------------------

// One event of a recording as the collector opened it: the perf_event_attr
// exactly as passed to perf_event_open (attr.size bytes), the ids the kernel
// gave its file descriptors (PERF_EVENT_IOC_ID), and perf's name for it (the
// EVENT_DESC feature: "intel_pt//u", "dummy:u").
struct RawAttr {
  std::vector<uint8_t> bytes;
  std::vector<uint64_t> ids;
  std::string name;
};

// Parameters of the intel_pt event a collector records with.
struct PtEventParams {
  uint32_t pmu_type = 0;
  uint64_t config = 0;
  std::vector<uint64_t> auxtrace_priv;  // AUXTRACE_INFO priv[]
  // A hardware recording's events as opened (the intel_pt event first, as
  // perf puts it), whose kernel records come through AddKernelRecord();
  // empty: the software backends' one event.
  std::vector<RawAttr> attrs;
  // The NRCPUS feature (perf sizes its per-CPU state from it); 0: none.
  uint32_t cpus_available = 0, cpus_online = 0;
};

// Where one read of an AUX area goes: perf's PERF_RECORD_AUXTRACE fields.
struct AuxtraceChunk {
  uint32_t idx = 0;           // mmap (queue) index
  uint32_t tid = UINT32_MAX;  // thread of the mmap, or -1
  uint32_t cpu = UINT32_MAX;  // CPU of the mmap, or -1 in per-thread mode
  uint64_t offset = 0;        // position of the first byte in the AUX stream
  uint64_t reference = 0;     // Intel PT: TSC when read (perf's intel_pt_reference)
};

// Where a software recording goes while it is produced: a perf.data file
// (PerfDataWriter), the decoder (decoder::StreamDecoder: decoding while
// recording, no file), or both (TraceTee). The collector writes to this
// interface only; the pipeline hands it the decoder's sink
// (docs/architecture.md, "Decoding while recording"). Begin() comes first,
// Finish() last; calls come from one thread at a time.
class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual void Begin(const PtEventParams& params) = 0;
  virtual void AddComm(uint32_t pid, uint32_t tid, const std::string& name, bool exec,
                       uint64_t time) = 0;
  virtual void AddMmap(const MmapEvent& mmap, uint64_t time) = 0;
  virtual void AddItraceStart(uint32_t pid, uint32_t tid, uint64_t time) = 0;
  virtual void AddFork(uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid, uint64_t time) = 0;
  virtual void AddExit(uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid, uint64_t time) = 0;
  // PT bytes of queue |idx| (thread |tid|), continuing what came before. A
  // sink that cannot keep up makes the caller wait (the software backends'
  // programs stop meanwhile), so nothing is dropped.
  virtual void AddAux(uint32_t idx, uint32_t tid, std::span<const uint8_t> bytes,
                      uint64_t time) = 0;
  virtual void AddSnapshot(const CodeSnapshot& snapshot) = 0;
  // The test process |pid| runs for (per-test coverage); the first name given
  // for a pid stays.
  virtual void AddTestName(uint32_t pid, const std::string& name) = 0;
  virtual void SetStrings(const std::map<std::string, std::string>& strings) = 0;
  // The build id of a binary the trace maps (perf's BUILD_ID table), no
  // later than the first PT that runs in it.
  virtual void AddBuildId(const BuildIdEntry& entry) = 0;

  // --- Hardware recordings (params.attrs): what the kernel's rings hold. ---

  // A kernel record as read from a data ring: |raw| (header.size bytes, its
  // sample_id trailer laid out as its attr says) and the same decoded
  // (DecodeKernelRecord). A file keeps |raw| verbatim.
  virtual void AddKernelRecord(const KernelRecord& record, std::span<const uint8_t> raw) = 0;
  // One read of an AUX area (perf's PERF_RECORD_AUXTRACE): |first| then
  // |second| (a read that wrapped around), at chunk.offset of queue
  // chunk.idx's AUX stream. Waits as AddAux() does.
  virtual void AddAuxtrace(const AuxtraceChunk& chunk, std::span<const uint8_t> first,
                           std::span<const uint8_t> second) = 0;
  // PERF_RECORD_FINISHED_ROUND: everything before it may be sorted and
  // processed (perf record marks each pass over the buffers so).
  virtual void AddFinishedRound() = 0;

  virtual void Finish() = 0;
};

// Every call to each of |sinks|, in order.
class TraceTee : public TraceSink {
 public:
  explicit TraceTee(std::vector<TraceSink*> sinks) : sinks_(std::move(sinks)) {}
  void Begin(const PtEventParams& params) override;
  void AddComm(uint32_t pid, uint32_t tid, const std::string& name, bool exec,
               uint64_t time) override;
  void AddMmap(const MmapEvent& mmap, uint64_t time) override;
  void AddItraceStart(uint32_t pid, uint32_t tid, uint64_t time) override;
  void AddFork(uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid, uint64_t time) override;
  void AddExit(uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid, uint64_t time) override;
  void AddAux(uint32_t idx, uint32_t tid, std::span<const uint8_t> bytes, uint64_t time) override;
  void AddSnapshot(const CodeSnapshot& snapshot) override;
  void AddTestName(uint32_t pid, const std::string& name) override;
  void SetStrings(const std::map<std::string, std::string>& strings) override;
  void AddBuildId(const BuildIdEntry& entry) override;
  void AddKernelRecord(const KernelRecord& record, std::span<const uint8_t> raw) override;
  void AddAuxtrace(const AuxtraceChunk& chunk, std::span<const uint8_t> first,
                   std::span<const uint8_t> second) override;
  void AddFinishedRound() override;
  void Finish() override;
  uint64_t aux_bytes() const { return aux_bytes_; }  // PT bytes passed on

 private:
  std::vector<TraceSink*> sinks_;
  uint64_t aux_bytes_ = 0;
};

// Streams a perf.data file in perf's layout for `perf record -e intel_pt//u`
// in per-thread mode: one intel_pt attr (sample_type IP|TID|TIME|IDENTIFIER,
// sample_id_all), AUXTRACE_INFO first, sideband and AUXTRACE records as they
// come, then the BUILD_ID and AUXTRACE-index features. Writes to a temporary
// and renames in Finish().
class PerfDataWriter : public TraceSink {
 public:
  PerfDataWriter(const std::filesystem::path& path, const PtEventParams& params);
  // The file is created now; its attr and header are written by Begin().
  explicit PerfDataWriter(const std::filesystem::path& path);
  ~PerfDataWriter() override;
  PerfDataWriter(const PerfDataWriter&) = delete;
  PerfDataWriter& operator=(const PerfDataWriter&) = delete;

  void Begin(const PtEventParams& params) override;
  void AddComm(uint32_t pid, uint32_t tid, const std::string& name, bool exec,
               uint64_t time) override;
  void AddMmap(const MmapEvent& mmap, uint64_t time) override;
  void AddItraceStart(uint32_t pid, uint32_t tid, uint64_t time) override;
  void AddFork(uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid, uint64_t time) override;
  void AddExit(uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid, uint64_t time) override;
  void AddAux(uint32_t idx, uint32_t tid, std::span<const uint8_t> bytes, uint64_t time) override;
  void AddSnapshot(const CodeSnapshot& snapshot) override;
  void AddTestName(uint32_t pid, const std::string& name) override;
  void SetStrings(const std::map<std::string, std::string>& strings) override;
  uint64_t aux_bytes() const;

  // Writes the feature sections and header, then renames into place.
  void Finish() override;

  void AddBuildId(const BuildIdEntry& entry) override;

  // --- Hardware recordings: the layout `perf record -e intel_pt//u` itself
  // writes, with the attrs as opened (Begin() with params.attrs: each with
  // its ids, AUXTRACE_INFO carries params.auxtrace_priv as given) and
  // kernel records copied verbatim. ---

  PerfDataWriter(const std::filesystem::path& path, const std::vector<RawAttr>& attrs,
                 const std::vector<uint64_t>& auxtrace_priv);
  // Writes |raw| as read (AddRawRecord).
  void AddKernelRecord(const KernelRecord& record, std::span<const uint8_t> raw) override;
  // A kernel record as read from a ring buffer (header, body and the
  // sample_id trailer the kernel appended); |record| is header.size bytes.
  void AddRawRecord(std::span<const uint8_t> record);
  // Padded to 8 bytes as perf pads it.
  void AddAuxtrace(const AuxtraceChunk& chunk, std::span<const uint8_t> first,
                   std::span<const uint8_t> second) override;
  void AddFinishedRound() override;
  // The NRCPUS feature (PtEventParams::cpus_online).
  void SetCpuCounts(uint32_t available, uint32_t online);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Feature bit of hwcov's code-snapshot section. perf iterates only the
// feature bits it knows and skips later ones, so a high bit is invisible to it.
inline constexpr int kFeatureHwcovSnapshots = 250;
// Feature bit of hwcov's test-name section (Trace::test_names).
inline constexpr int kFeatureHwcovTestNames = 251;

}  // namespace hwcov::trace
