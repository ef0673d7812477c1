// Writes perf.data in the layout `perf record -e intel_pt//u --per-thread`
// produces, so that Linux perf decodes hwcov's traces (see
// docs/trace-format.md for the choices and what perf requires).
#include <unistd.h>

#include <cstring>

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
  void PadTo8() { bytes_.resize((bytes_.size() + 7) & ~size_t{7}, 0); }
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
  std::map<std::string, std::string> strings;

  explicit Impl(const std::filesystem::path& p) : path(p), file(p) {}

  void Write(std::span<const uint8_t> bytes) {
    file.stream().write(reinterpret_cast<const char*>(bytes.data()),
                        static_cast<std::streamsize>(bytes.size()));
    written += bytes.size();
  }

  // Emits a kernel record: header, |body|, then the sample_id trailer.
  void WriteRecord(uint32_t type, uint16_t misc, Buffer& body, uint32_t pid, uint32_t tid,
                   uint64_t time) {
    body.PadTo8();
    body.Put(pid);
    body.Put(tid);
    body.Put(time);
    body.Put(kEventId);
    abi::RecordHeader h{type, misc, static_cast<uint16_t>(sizeof(abi::RecordHeader) + body.size())};
    Write({reinterpret_cast<const uint8_t*>(&h), sizeof h});
    Write(body.bytes());
  }
};

PerfDataWriter::PerfDataWriter(const std::filesystem::path& path, const PtEventParams& params)
    : impl_(std::make_unique<Impl>(path)) {
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

  Buffer info;
  info.Put(abi::kAuxtraceIntelPt);
  info.Put(uint32_t{0});
  for (uint64_t p : params.auxtrace_priv) info.Put(p);
  abi::RecordHeader h{abi::kAuxtraceInfo, 0,
                      static_cast<uint16_t>(sizeof(abi::RecordHeader) + info.size())};
  impl_->Write({reinterpret_cast<const uint8_t*>(&h), sizeof h});
  impl_->Write(info.bytes());
}

PerfDataWriter::~PerfDataWriter() = default;

void PerfDataWriter::AddComm(uint32_t pid, uint32_t tid, const std::string& name, bool exec,
                             uint64_t time) {
  Buffer b;
  b.Put(pid);
  b.Put(tid);
  b.PutString(name.substr(0, 15), 8);
  impl_->WriteRecord(abi::kComm, abi::kMiscUser | (exec ? abi::kMiscCommExec : 0), b, pid, tid,
                     time);
}

void PerfDataWriter::AddMmap(const MmapEvent& m, uint64_t time) {
  Buffer b;
  b.Put(m.pid);
  b.Put(m.tid);
  b.Put(m.start);
  b.Put(m.len);
  b.Put(m.pgoff);
  uint16_t misc = abi::kMiscUser;
  if (m.build_id && !m.build_id->empty()) {
    misc |= abi::kMiscMmapBuildId;
    uint8_t id[24] = {};
    id[0] = static_cast<uint8_t>(std::min<size_t>(m.build_id->bytes.size(), 20));
    std::memcpy(id + 4, m.build_id->bytes.data(), id[0]);
    b.PutBytes(id);
    impl_->build_ids.push_back(BuildIdEntry{-1, m.filename, *m.build_id});
  } else {
    uint8_t zeros[24] = {};
    b.PutBytes(zeros);
  }
  b.Put(m.prot);
  b.Put(m.flags);
  b.PutString(m.filename, 8);
  impl_->WriteRecord(abi::kMmap2, misc, b, m.pid, m.tid, time);
}

void PerfDataWriter::AddItraceStart(uint32_t pid, uint32_t tid, uint64_t time) {
  Buffer b;
  b.Put(pid);
  b.Put(tid);
  impl_->WriteRecord(abi::kItraceStart, 0, b, pid, tid, time);
}

void PerfDataWriter::AddFork(uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid,
                             uint64_t time) {
  Buffer b;
  for (uint32_t v : {pid, ppid, tid, ptid}) b.Put(v);
  b.Put(time);
  impl_->WriteRecord(abi::kFork, 0, b, pid, tid, time);
}

void PerfDataWriter::AddExit(uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid,
                             uint64_t time) {
  Buffer b;
  for (uint32_t v : {pid, ppid, tid, ptid}) b.Put(v);
  b.Put(time);
  impl_->WriteRecord(abi::kExit, 0, b, pid, tid, time);
}

void PerfDataWriter::AddAux(uint32_t idx, uint32_t tid, std::span<const uint8_t> bytes,
                            uint64_t time) {
  (void)time;  // AUXTRACE is a perf-tool record: no sample_id trailer
  if (bytes.empty()) return;
  const uint64_t padded = (bytes.size() + 7) & ~uint64_t{7};
  Buffer b;
  b.Put(padded);
  b.Put(impl_->aux_stream_offset[idx]);
  b.Put(uint64_t{0});  // reference: only used for timed decoding
  b.Put(idx);
  b.Put(tid);
  b.Put(uint32_t{UINT32_MAX});  // cpu: per-thread mode
  b.Put(uint32_t{0});
  abi::RecordHeader h{abi::kAuxtrace, 0,
                      static_cast<uint16_t>(sizeof(abi::RecordHeader) + b.size())};
  impl_->auxtrace_index.emplace_back(impl_->written, h.size);
  impl_->Write({reinterpret_cast<const uint8_t*>(&h), sizeof h});
  impl_->Write(b.bytes());
  impl_->Write(bytes);
  static const uint8_t kPad[8] = {};  // PT PAD packets
  impl_->Write({kPad, padded - bytes.size()});
  impl_->aux_stream_offset[idx] += padded;
  impl_->aux_bytes += bytes.size();
}

void PerfDataWriter::AddSnapshot(const CodeSnapshot& snapshot) {
  impl_->snapshots.push_back(snapshot);
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

  // Feature table {offset,size} per set bit in ascending order, then payloads.
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

  Buffer header;
  header.Put(abi::kMagic);
  header.Put(abi::kFileHeaderSize);
  header.Put(uint64_t{abi::kAttrSizeWritten + 16});
  header.Put(abi::kFileHeaderSize);  // attrs.offset
  header.Put(uint64_t{abi::kAttrSizeWritten + 16});
  header.Put(w.data_offset);
  header.Put(data_size);
  header.Put(uint64_t{0});
  header.Put(uint64_t{0});
  for (uint64_t word : feature_bits) header.Put(word);
  w.file.stream().seekp(0);
  w.file.stream().write(reinterpret_cast<const char*>(header.bytes().data()),
                        static_cast<std::streamsize>(header.size()));
  w.file.Commit();
}

}  // namespace hwcov::trace
