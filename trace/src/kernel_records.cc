// The one codec of the kernel's sideband records (PERF_RECORD_MMAP ...
// LOST): one Fields() function per record kind lists its fields in order,
// and serves both directions: FieldReader fills the event from the bytes,
// FieldWriter appends the event's values. The perf.data reader and writer
// and the Intel PT collector's ring reader all go through it, so a layout
// is written down once. Layouts: include/uapi/linux/perf_event.h.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "hwcov/trace.h"
#include "perf_abi.h"

namespace hwcov::trace {
namespace {

constexpr size_t kHeaderSize = sizeof(abi::RecordHeader);
constexpr size_t kCommMax = 15;  // TASK_COMM_LEN - 1: the kernel truncates names there

class FieldReader {
 public:
  static constexpr bool kReading = true;
  FieldReader(std::span<const uint8_t> bytes, const abi::RecordHeader& h) : b_(bytes), h_(h) {}

  uint32_t type() const { return h_.type; }
  template <typename T>
  void Field(T& v) {
    std::memcpy(&v, Take(sizeof v).data(), sizeof v);
  }
  void Flag(uint16_t bit, bool& v) { v = h_.misc & bit; }
  // NUL-terminated, NUL-padded: the rest of the body.
  void String(std::string& s, size_t) {
    auto rest = Take(b_.size() - pos_);
    s.assign(reinterpret_cast<const char*>(rest.data()),
             std::find(rest.begin(), rest.end(), 0) - rest.begin());
  }
  // MMAP2's 24 bytes: a build id (size byte, 3 reserved, 20 bytes) when the
  // header says so, else maj/min/ino/ino_generation, which hwcov does not use.
  void BuildIdOrInode(std::optional<BuildId>& id) {
    auto raw = Take(24);
    if (h_.misc & abi::kMiscMmapBuildId)
      id = BuildId{
          std::string(reinterpret_cast<const char*>(raw.data() + 4), std::min<size_t>(raw[0], 20))};
  }

 private:
  std::span<const uint8_t> Take(size_t n) {
    if (b_.size() - pos_ < n) throw Error("too small for its fields");
    auto out = b_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  std::span<const uint8_t> b_;
  const abi::RecordHeader& h_;
  size_t pos_ = 0;
};

class FieldWriter {
 public:
  static constexpr bool kReading = false;
  FieldWriter(std::vector<uint8_t>& out, abi::RecordHeader& h) : out_(out), h_(h) {}

  uint32_t type() const { return h_.type; }
  template <typename T>
  void Field(T& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    out_.insert(out_.end(), p, p + sizeof v);
  }
  void Flag(uint16_t bit, bool& v) {
    if (v) h_.misc |= bit;
  }
  void String(std::string& s, size_t max) {
    const size_t n = std::min(s.size(), max);
    out_.insert(out_.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
    out_.push_back(0);
    PadTo8();
  }
  void BuildIdOrInode(std::optional<BuildId>& id) {
    uint8_t raw[24] = {};
    if (id && !id->empty()) {
      h_.misc |= abi::kMiscMmapBuildId;
      raw[0] = static_cast<uint8_t>(std::min<size_t>(id->bytes.size(), 20));
      std::memcpy(raw + 4, id->bytes.data(), raw[0]);
    }
    out_.insert(out_.end(), raw, raw + sizeof raw);
  }
  void PadTo8() { out_.resize((out_.size() + 7) & ~size_t{7}, 0); }

 private:
  std::vector<uint8_t>& out_;
  abi::RecordHeader& h_;
};

// --- one function per record kind ---------------------------------------

template <class Io>
void Fields(Io& io, MmapEvent& e) {  // MMAP and MMAP2
  const bool v2 = io.type() == abi::kMmap2;
  io.Field(e.pid);
  io.Field(e.tid);
  io.Field(e.start);
  io.Field(e.len);
  io.Field(e.pgoff);
  if (v2) {
    io.BuildIdOrInode(e.build_id);
    io.Field(e.prot);
    io.Field(e.flags);
    if constexpr (Io::kReading) e.executable = e.prot & 4;  // PROT_EXEC
  } else {
    bool data = !e.executable;
    io.Flag(abi::kMiscMmapData, data);
    if constexpr (Io::kReading) {
      e.executable = !data;
      e.prot = e.executable ? 5 : 1;
    }
  }
  io.String(e.filename, SIZE_MAX);
}

template <class Io>
void Fields(Io& io, CommEvent& e) {
  io.Flag(abi::kMiscCommExec, e.exec);
  io.Field(e.pid);
  io.Field(e.tid);
  io.String(e.name, kCommMax);
}

template <class Io>
void Fields(Io& io, TaskEvent& e) {  // FORK and EXIT
  if constexpr (Io::kReading) e.exit = io.type() == abi::kExit;
  io.Field(e.pid);
  io.Field(e.ppid);
  io.Field(e.tid);
  io.Field(e.ptid);
  io.Field(e.time);
}

template <class Io>
void Fields(Io& io, AuxEvent& e) {
  io.Field(e.aux_offset);
  io.Field(e.aux_size);
  io.Field(e.flags);
}

template <class Io>
void Fields(Io& io, ItraceStartEvent& e) {
  io.Field(e.pid);
  io.Field(e.tid);
}

template <class Io>
void Fields(Io& io, SwitchEvent& e) {  // SWITCH and SWITCH_CPU_WIDE
  if constexpr (Io::kReading) e.cpu_wide = io.type() == abi::kSwitchCpuWide;
  io.Flag(abi::kMiscSwitchOut, e.out);
  if (io.type() == abi::kSwitchCpuWide) {
    io.Field(e.next_prev_pid);
    io.Field(e.next_prev_tid);
  }
}

template <class Io>
void Fields(Io& io, LostEvent& e) {
  io.Field(e.id);
  io.Field(e.lost);
}

// The sample_id trailer, in perf_event.h's order for |sample_type|.
template <class Io>
void Trailer(Io& io, SampleId& s, uint64_t& id, uint64_t sample_type) {
  uint64_t stream_id = id;
  uint32_t reserved = 0;
  if (sample_type & kSampleTid) io.Field(s.pid), io.Field(s.tid);
  if (sample_type & kSampleTime) io.Field(s.time);
  if (sample_type & kSampleId) io.Field(id);
  if (sample_type & kSampleStreamId) io.Field(stream_id);
  if (sample_type & kSampleCpu) io.Field(s.cpu), io.Field(reserved);
  if (sample_type & kSampleIdentifier) io.Field(id);
}

uint64_t TrailerSize(uint64_t sample_type) {
  uint64_t n = 0;
  for (uint64_t bit :
       {kSampleTid, kSampleTime, kSampleId, kSampleStreamId, kSampleCpu, kSampleIdentifier})
    if (sample_type & bit) n += 8;
  return n;
}

// Sample records have no sample_id trailer; every other kernel record (types
// below 64; perf's own records start there) has one with sample_id_all.
bool HasTrailer(uint32_t type) { return type != abi::kSample && type < 64; }

template <class Event>
void Read(FieldReader& io, KernelRecord& r) {
  Event e;
  Fields(io, e);
  e.sample = r.sample;
  r.event = std::move(e);
}

}  // namespace

KernelRecord DecodeKernelRecord(std::span<const uint8_t> record, uint64_t sample_type) {
  abi::RecordHeader h{};
  if (record.size() < kHeaderSize) throw Error("too small for its header");
  std::memcpy(&h, record.data(), kHeaderSize);
  KernelRecord r;
  r.type = h.type;
  r.misc = h.misc;
  const uint64_t trailer = HasTrailer(h.type) ? TrailerSize(sample_type) : 0;
  if (record.size() < kHeaderSize + trailer) throw Error("too small for its sample_id trailer");
  FieldReader tail(record.subspan(record.size() - trailer), h);
  Trailer(tail, r.sample, r.id, sample_type);
  FieldReader io(record.subspan(kHeaderSize, record.size() - kHeaderSize - trailer), h);
  switch (h.type) {
    case abi::kMmap:
    case abi::kMmap2:
      Read<MmapEvent>(io, r);
      break;
    case abi::kComm:
      Read<CommEvent>(io, r);
      break;
    case abi::kFork:
    case abi::kExit:
      Read<TaskEvent>(io, r);
      break;
    case abi::kAux:
      Read<AuxEvent>(io, r);
      break;
    case abi::kItraceStart:
      Read<ItraceStartEvent>(io, r);
      break;
    case abi::kSwitch:
    case abi::kSwitchCpuWide:
      Read<SwitchEvent>(io, r);
      break;
    case abi::kLost:
      Read<LostEvent>(io, r);
      break;
    default:
      break;
  }
  return r;
}

std::vector<uint8_t> EncodeKernelRecord(const KernelRecord& record, uint64_t sample_type) {
  abi::RecordHeader h{record.type, record.misc, 0};
  std::vector<uint8_t> out(kHeaderSize);
  FieldWriter io(out, h);
  KernelRecord r = record;  // Fields() take the event by reference
  std::visit(
      [&](auto& e) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(e)>, std::monostate>) Fields(io, e);
      },
      r.event);
  io.PadTo8();
  if (HasTrailer(h.type)) Trailer(io, r.sample, r.id, sample_type);
  if (out.size() > UINT16_MAX)
    throw Error("perf record of type " + std::to_string(h.type) + " would be " +
                std::to_string(out.size()) + " bytes, more than a record holds");
  h.size = static_cast<uint16_t>(out.size());
  std::memcpy(out.data(), &h, kHeaderSize);
  return out;
}

}  // namespace hwcov::trace
