// Writes perf.data in the layout `perf record -e intel_pt//u --per-thread`
// produces, so that Linux perf decodes hwcov's traces (see
// docs/trace-format.md for the choices and what perf requires).
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "hwcov/trace.h"
#include "perf_abi.h"

namespace hwcov::trace {
namespace {

constexpr uint64_t kSampleTypeWritten = kSampleIp | kSampleTid | kSampleTime | kSampleIdentifier;
constexpr uint64_t kEventId = 1;

class Buffer {
 public:
  template <typename T>
  void Put(const T& value) {
    const auto* p = reinterpret_cast<const uint8_t*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void PutBytes(std::span<const uint8_t> b) { bytes_.insert(bytes_.end(), b.begin(), b.end()); }
  // A NUL-terminated string padded with NULs to a multiple of |align|.
  void PutString(const std::string& s, size_t align) {
    size_t padded = (s.size() + 1 + align - 1) / align * align;
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    bytes_.insert(bytes_.end(), padded - s.size(), 0);
  }
  size_t size() const { return bytes_.size(); }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace

struct PerfDataWriter::Impl {
  std::filesystem::path path;
  AtomicFile file;
  PtEventParams params;
  uint64_t data_offset = 0;
  uint64_t written = 0;
  uint64_t aux_bytes = 0;
  std::map<uint32_t, uint64_t> aux_stream_offset;  // per queue
  std::vector<std::pair<uint64_t, uint64_t>> auxtrace_index;
  std::vector<BuildIdEntry> build_ids;
  std::vector<CodeSnapshot> snapshots;
  std::map<uint32_t, std::string> test_names;
  std::map<std::string, std::string> strings;
  // The attr section's shape: one intel_pt attr of 128 bytes unless the
  // hardware-recording constructor set others.
  uint64_t attr_entry_size = abi::kAttrSizeWritten + 16;
  uint64_t attrs_size = abi::kAttrSizeWritten + 16;
  std::vector<RawAttr> event_desc;  // EVENT_DESC feature (hardware layout only)
  std::optional<std::pair<uint32_t, uint32_t>> nr_cpus;

  explicit Impl(const std::filesystem::path& p) : path(p), file(p) {}

  void Write(std::span<const uint8_t> bytes) {
    file.stream().write(reinterpret_cast<const char*>(bytes.data()),
                        static_cast<std::streamsize>(bytes.size()));
    written += bytes.size();
  }

  // Emits a kernel record of this writer's one event: the sample_id
  // trailer carries |pid|, |tid| and |time|.
  template <typename Event>
  void WriteRecord(uint32_t type, uint16_t misc, Event event, uint32_t pid, uint32_t tid,
                   uint64_t time) {
    KernelRecord r{type, misc, {pid, tid, time, UINT32_MAX}, kEventId, std::move(event)};
    Write(EncodeKernelRecord(r, kSampleTypeWritten));
  }

  // The file header. The constructors write it with data size 0 as soon as
  // the attrs are in place, which is how perf marks a recording that never
  // finished: a killed recording leaves a temporary that perf and hwcov read
  // up to its last complete record. Finish() rewrites it with the sizes.
  void WriteHeader(uint64_t data_size, const uint64_t (&feature_bits)[4]) {
    Buffer header;
    header.Put(abi::kMagic);
    header.Put(abi::kFileHeaderSize);
    header.Put(attr_entry_size);
    header.Put(abi::kFileHeaderSize);  // attrs.offset
    header.Put(attrs_size);
    header.Put(data_offset);
    header.Put(data_size);
    header.Put(uint64_t{0});
    header.Put(uint64_t{0});
    for (uint64_t word : feature_bits) header.Put(word);
    const auto end = file.stream().tellp();
    file.stream().seekp(0);
    file.stream().write(reinterpret_cast<const char*>(header.bytes().data()),
                        static_cast<std::streamsize>(header.size()));
    file.stream().seekp(end);
    file.stream().flush();
  }

  // The attr section of a hardware recording, then the header placeholder
  // and AUXTRACE_INFO.
  void BeginHardware(const std::vector<RawAttr>& attrs,
                     const std::vector<uint64_t>& auxtrace_priv) {
    // perf reads each attr entry as attr.size bytes followed directly by its
    // ids section, and steps through the section by the header's attr_size:
    // every attr must therefore have the same size, matching its size field.
    if (attrs.empty()) ThrowFileError(path, "a recording needs at least one event attr");
    const uint64_t attr_size = attrs.front().bytes.size();
    for (const RawAttr& a : attrs) {
      uint32_t declared = 0;
      if (a.bytes.size() >= 8) std::memcpy(&declared, a.bytes.data() + 4, 4);
      if (a.bytes.size() != attr_size || attr_size < abi::kAttrSizeVer0 || declared != attr_size)
        ThrowFileError(path, "event attr '" + a.name + "' has size " +
                                 std::to_string(a.bytes.size()) + " (attr.size " +
                                 std::to_string(declared) + "); all attrs must share one size");
    }
    std::memcpy(&params.pmu_type, attrs.front().bytes.data(), 4);
    std::memcpy(&params.config, attrs.front().bytes.data() + 8, 8);
    params.auxtrace_priv = auxtrace_priv;
    attr_entry_size = attr_size + 16;
    attrs_size = attr_entry_size * attrs.size();
    event_desc = attrs;

    std::vector<uint8_t> zeros(abi::kFileHeaderSize, 0);
    Write(zeros);
    uint64_t ids_offset = abi::kFileHeaderSize + attrs_size;
    Buffer section;
    for (const RawAttr& a : attrs) {
      section.PutBytes(a.bytes);
      section.Put(ids_offset);
      section.Put(static_cast<uint64_t>(a.ids.size() * 8));
      ids_offset += a.ids.size() * 8;
    }
    for (const RawAttr& a : attrs)
      for (uint64_t id : a.ids) section.Put(id);
    Write(section.bytes());
    data_offset = written;
    WriteHeader(0, {0, 0, 0, 0});
    WriteAuxtraceInfo(auxtrace_priv);
  }

  // PERF_RECORD_AUXTRACE_INFO for Intel PT: a perf-tool record, no trailer.
  void WriteAuxtraceInfo(const std::vector<uint64_t>& priv) {
    Buffer info;
    info.Put(abi::kAuxtraceIntelPt);
    info.Put(uint32_t{0});
    for (uint64_t p : priv) info.Put(p);
    abi::RecordHeader h{abi::kAuxtraceInfo, 0,
                        static_cast<uint16_t>(sizeof(abi::RecordHeader) + info.size())};
    Write({reinterpret_cast<const uint8_t*>(&h), sizeof h});
    Write(info.bytes());
  }
};

PerfDataWriter::PerfDataWriter(const std::filesystem::path& path, const PtEventParams& params)
    : PerfDataWriter(path) {
  Begin(params);
}

PerfDataWriter::PerfDataWriter(const std::filesystem::path& path)
    : impl_(std::make_unique<Impl>(path)) {}

void PerfDataWriter::Begin(const PtEventParams& params) {
  if (impl_->written) ThrowFileError(impl_->path, "the trace's event was already written");
  if (params.cpus_online) SetCpuCounts(params.cpus_available, params.cpus_online);
  if (!params.attrs.empty()) return impl_->BeginHardware(params.attrs, params.auxtrace_priv);
  impl_->params = params;
  // Header placeholder, rewritten by Finish().
  std::vector<uint8_t> zeros(abi::kFileHeaderSize, 0);
  impl_->Write(zeros);

  // One intel_pt attr, configured as `perf record -e intel_pt//u` (see
  // perf-data-format notes): user only, sample_id_all, IDENTIFIER.
  Buffer attr;
  attr.Put(params.pmu_type);
  attr.Put(abi::kAttrSizeWritten);
  attr.Put(params.config);
  attr.Put(uint64_t{1});  // sample_period
  attr.Put(kSampleTypeWritten);
  attr.Put(uint64_t{4});  // read_format = PERF_FORMAT_ID
  attr.Put(abi::kAttrDisabled | abi::kAttrExcludeKernel | abi::kAttrExcludeHv | abi::kAttrMmap |
           abi::kAttrComm | abi::kAttrEnableOnExec | abi::kAttrTask | abi::kAttrSampleIdAll |
           abi::kAttrExcludeGuest | abi::kAttrMmap2 | abi::kAttrCommExec);
  attr.bytes().resize(abi::kAttrSizeWritten, 0);
  const uint64_t attr_offset = impl_->written;
  const uint64_t ids_offset = attr_offset + abi::kAttrSizeWritten + 16;
  attr.Put(ids_offset);
  attr.Put(uint64_t{8});
  attr.Put(kEventId);
  impl_->Write(attr.bytes());
  impl_->data_offset = impl_->written;
  impl_->WriteHeader(0, {0, 0, 0, 0});
  impl_->WriteAuxtraceInfo(params.auxtrace_priv);
}

PerfDataWriter::PerfDataWriter(const std::filesystem::path& path, const std::vector<RawAttr>& attrs,
                               const std::vector<uint64_t>& auxtrace_priv)
    : PerfDataWriter(path) {
  impl_->BeginHardware(attrs, auxtrace_priv);
}

void PerfDataWriter::AddKernelRecord(const KernelRecord&, std::span<const uint8_t> raw) {
  AddRawRecord(raw);
}

void PerfDataWriter::AddRawRecord(std::span<const uint8_t> record) {
  abi::RecordHeader h{};
  if (record.size() >= sizeof h) std::memcpy(&h, record.data(), sizeof h);
  if (record.size() < sizeof h || h.size != record.size() || record.size() % 8)
    ThrowFileError(impl_->path, "kernel record of type " + std::to_string(h.type) + " has size " +
                                    std::to_string(h.size) + " but " +
                                    std::to_string(record.size()) + " bytes were read");
  impl_->Write(record);
}

void PerfDataWriter::AddAuxtrace(const AuxtraceChunk& chunk, std::span<const uint8_t> first,
                                 std::span<const uint8_t> second) {
  const uint64_t size = first.size() + second.size();
  if (size == 0) return;
  const uint64_t padded = (size + 7) & ~uint64_t{7};
  Buffer b;
  b.Put(padded);
  b.Put(chunk.offset);
  b.Put(chunk.reference);
  b.Put(chunk.idx);
  b.Put(chunk.tid);
  b.Put(chunk.cpu);
  b.Put(uint32_t{0});
  abi::RecordHeader h{abi::kAuxtrace, 0,
                      static_cast<uint16_t>(sizeof(abi::RecordHeader) + b.size())};
  impl_->auxtrace_index.emplace_back(impl_->written, h.size);
  impl_->Write({reinterpret_cast<const uint8_t*>(&h), sizeof h});
  impl_->Write(b.bytes());
  impl_->Write(first);
  impl_->Write(second);
  static const uint8_t kPad[8] = {};  // zero bytes are PT PAD packets
  impl_->Write({kPad, padded - size});
  impl_->aux_bytes += size;
}

void PerfDataWriter::AddFinishedRound() {
  abi::RecordHeader h{abi::kFinishedRound, 0, sizeof(abi::RecordHeader)};
  impl_->Write({reinterpret_cast<const uint8_t*>(&h), sizeof h});
}

void PerfDataWriter::AddBuildId(const BuildIdEntry& entry) { impl_->build_ids.push_back(entry); }

void PerfDataWriter::SetCpuCounts(uint32_t available, uint32_t online) {
  impl_->nr_cpus = std::make_pair(available, online);
}

PerfDataWriter::~PerfDataWriter() = default;

void TraceTee::Begin(const PtEventParams& params) {
  for (TraceSink* s : sinks_) s->Begin(params);
}
void TraceTee::AddComm(uint32_t pid, uint32_t tid, const std::string& name, bool exec,
                       uint64_t time) {
  for (TraceSink* s : sinks_) s->AddComm(pid, tid, name, exec, time);
}
void TraceTee::AddMmap(const MmapEvent& mmap, uint64_t time) {
  for (TraceSink* s : sinks_) s->AddMmap(mmap, time);
}
void TraceTee::AddItraceStart(uint32_t pid, uint32_t tid, uint64_t time) {
  for (TraceSink* s : sinks_) s->AddItraceStart(pid, tid, time);
}
void TraceTee::AddFork(uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid, uint64_t time) {
  for (TraceSink* s : sinks_) s->AddFork(pid, ppid, tid, ptid, time);
}
void TraceTee::AddExit(uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid, uint64_t time) {
  for (TraceSink* s : sinks_) s->AddExit(pid, ppid, tid, ptid, time);
}
void TraceTee::AddAux(uint32_t idx, uint32_t tid, std::span<const uint8_t> bytes, uint64_t time) {
  for (TraceSink* s : sinks_) s->AddAux(idx, tid, bytes, time);
  aux_bytes_ += bytes.size();
}
void TraceTee::AddSnapshot(const CodeSnapshot& snapshot) {
  for (TraceSink* s : sinks_) s->AddSnapshot(snapshot);
}
void TraceTee::AddTestName(uint32_t pid, const std::string& name) {
  for (TraceSink* s : sinks_) s->AddTestName(pid, name);
}
void TraceTee::SetStrings(const std::map<std::string, std::string>& strings) {
  for (TraceSink* s : sinks_) s->SetStrings(strings);
}
void TraceTee::AddBuildId(const BuildIdEntry& entry) {
  for (TraceSink* s : sinks_) s->AddBuildId(entry);
}
void TraceTee::AddKernelRecord(const KernelRecord& record, std::span<const uint8_t> raw) {
  for (TraceSink* s : sinks_) s->AddKernelRecord(record, raw);
}
void TraceTee::AddAuxtrace(const AuxtraceChunk& chunk, std::span<const uint8_t> first,
                           std::span<const uint8_t> second) {
  for (TraceSink* s : sinks_) s->AddAuxtrace(chunk, first, second);
  aux_bytes_ += first.size() + second.size();
}
void TraceTee::AddFinishedRound() {
  for (TraceSink* s : sinks_) s->AddFinishedRound();
}
void TraceTee::Finish() {
  for (TraceSink* s : sinks_) s->Finish();
}

void PerfDataWriter::AddComm(uint32_t pid, uint32_t tid, const std::string& name, bool exec,
                             uint64_t time) {
  CommEvent e;
  e.pid = pid;
  e.tid = tid;
  e.exec = exec;
  e.name = name;
  impl_->WriteRecord(abi::kComm, abi::kMiscUser, std::move(e), pid, tid, time);
}

void PerfDataWriter::AddMmap(const MmapEvent& m, uint64_t time) {
  if (m.build_id && !m.build_id->empty())
    impl_->build_ids.push_back(BuildIdEntry{-1, m.filename, *m.build_id});
  impl_->WriteRecord(abi::kMmap2, abi::kMiscUser, m, m.pid, m.tid, time);
}

void PerfDataWriter::AddItraceStart(uint32_t pid, uint32_t tid, uint64_t time) {
  impl_->WriteRecord(abi::kItraceStart, 0, ItraceStartEvent{{}, pid, tid}, pid, tid, time);
}

void PerfDataWriter::AddFork(uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid,
                             uint64_t time) {
  impl_->WriteRecord(abi::kFork, 0, TaskEvent{{}, false, pid, ppid, tid, ptid, time}, pid, tid,
                     time);
}

void PerfDataWriter::AddExit(uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid,
                             uint64_t time) {
  impl_->WriteRecord(abi::kExit, 0, TaskEvent{{}, true, pid, ppid, tid, ptid, time}, pid, tid,
                     time);
}

void PerfDataWriter::AddAux(uint32_t idx, uint32_t tid, std::span<const uint8_t> bytes,
                            uint64_t time) {
  // reference: perf's timed decoder takes the upper bits of 7-byte TSC
  // packets from it (intel_pt_calc_tsc_timestamp), so it must be a time.
  AuxtraceChunk chunk{idx, tid, UINT32_MAX, impl_->aux_stream_offset[idx], time};
  AddAuxtrace(chunk, bytes, {});
  impl_->aux_stream_offset[idx] += (bytes.size() + 7) & ~uint64_t{7};
  // Out of the stream's buffer into the file, so that a killed recording
  // keeps it (the soft tracer hands PT over about once a second).
  impl_->file.stream().flush();
}

void PerfDataWriter::AddSnapshot(const CodeSnapshot& snapshot) {
  impl_->snapshots.push_back(snapshot);
}

void PerfDataWriter::AddTestName(uint32_t pid, const std::string& name) {
  impl_->test_names.emplace(pid, name);
}

void PerfDataWriter::SetStrings(const std::map<std::string, std::string>& strings) {
  impl_->strings = strings;
}

uint64_t PerfDataWriter::aux_bytes() const { return impl_->aux_bytes; }

void PerfDataWriter::Finish() {
  Impl& w = *impl_;
  const uint64_t data_size = w.written - w.data_offset;

  std::vector<std::pair<int, Buffer>> features;
  auto add_string = [&](int feature, const char* key) {
    auto it = w.strings.find(key);
    if (it == w.strings.end()) return;
    Buffer b;
    uint32_t len = static_cast<uint32_t>((it->second.size() + 1 + 63) / 64 * 64);
    b.Put(len);
    b.PutString(it->second, 64);
    features.emplace_back(feature, std::move(b));
  };
  {
    Buffer b;
    for (const BuildIdEntry& e : w.build_ids) {
      Buffer body;
      body.Put(e.pid);
      uint8_t id[24] = {};
      id[20] = static_cast<uint8_t>(std::min<size_t>(e.build_id.bytes.size(), 20));
      std::memcpy(id, e.build_id.bytes.data(), id[20]);
      body.PutBytes(id);
      body.PutString(e.filename, 64);
      abi::RecordHeader h{0, static_cast<uint16_t>(abi::kMiscUser | abi::kMiscBuildIdSize),
                          static_cast<uint16_t>(sizeof(abi::RecordHeader) + body.size())};
      b.Put(h);
      b.PutBytes(body.bytes());
    }
    features.emplace_back(abi::kFeatBuildId, std::move(b));
  }
  add_string(abi::kFeatHostname, "hostname");
  add_string(abi::kFeatOsRelease, "osrelease");
  add_string(abi::kFeatVersion, "perf_version");
  add_string(abi::kFeatArch, "arch");
  // Features only hardware recordings set (absent from soft traces).
  if (w.nr_cpus) {
    Buffer b;
    b.Put(w.nr_cpus->first);
    b.Put(w.nr_cpus->second);
    features.emplace_back(abi::kFeatNrCpus, std::move(b));
  }
  add_string(abi::kFeatCpuDesc, "cpudesc");
  add_string(abi::kFeatCpuId, "cpuid");
  if (!w.event_desc.empty()) {
    Buffer b;
    b.Put(static_cast<uint32_t>(w.event_desc.size()));
    b.Put(static_cast<uint32_t>(w.event_desc.front().bytes.size()));
    for (const RawAttr& a : w.event_desc) {
      b.PutBytes(a.bytes);
      b.Put(static_cast<uint32_t>(a.ids.size()));
      b.Put(static_cast<uint32_t>((a.name.size() + 1 + 63) / 64 * 64));
      b.PutString(a.name, 64);
      for (uint64_t id : a.ids) b.Put(id);
    }
    features.emplace_back(abi::kFeatEventDesc, std::move(b));
  }
  {
    Buffer b;
    b.Put(static_cast<uint64_t>(w.auxtrace_index.size()));
    for (auto [offset, size] : w.auxtrace_index) {
      b.Put(offset);
      b.Put(size);
    }
    features.emplace_back(abi::kFeatAuxtrace, std::move(b));
  }
  if (!w.snapshots.empty()) {
    Buffer b;
    b.Put(static_cast<uint32_t>(w.snapshots.size()));
    for (const CodeSnapshot& s : w.snapshots) {
      b.Put(s.pid);
      b.Put(s.start);
      b.Put(static_cast<uint32_t>(s.name.size()));
      b.PutBytes({reinterpret_cast<const uint8_t*>(s.name.data()), s.name.size()});
      b.Put(static_cast<uint64_t>(s.bytes.size()));
      b.PutBytes(s.bytes);
    }
    features.emplace_back(kFeatureHwcovSnapshots, std::move(b));
  }
  if (!w.test_names.empty()) {
    Buffer b;
    b.Put(static_cast<uint32_t>(w.test_names.size()));
    for (const auto& [pid, name] : w.test_names) {
      b.Put(pid);
      b.Put(static_cast<uint32_t>(name.size()));
      b.PutBytes({reinterpret_cast<const uint8_t*>(name.data()), name.size()});
    }
    features.emplace_back(kFeatureHwcovTestNames, std::move(b));
  }

  // Feature table {offset,size} per set bit in ascending order, then payloads.
  std::stable_sort(features.begin(), features.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  uint64_t feature_bits[4] = {0, 0, 0, 0};
  uint64_t payload_offset = w.written + features.size() * 16;
  Buffer table;
  for (auto& [bit, payload] : features) {
    feature_bits[bit / 64] |= uint64_t{1} << (bit % 64);
    table.Put(payload_offset);
    table.Put(static_cast<uint64_t>(payload.size()));
    payload_offset += payload.size();
  }
  w.Write(table.bytes());
  for (auto& [bit, payload] : features) w.Write(payload.bytes());

  w.WriteHeader(data_size, feature_bits);
  w.file.Commit();
}

}  // namespace hwcov::trace
