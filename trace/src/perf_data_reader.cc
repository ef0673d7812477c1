// Reads perf.data as perf 4.x-6.x writes it (util/header.c, util/session.c):
// file mode (104/72-byte header, attr section, data, feature sections) and
// pipe mode (16-byte header, attrs and features as records).
#include <algorithm>
#include <map>
#include <type_traits>
#include <unordered_map>
#include <variant>

#include "byte_cursor.h"
#include "hwcov/trace.h"
#include "perf_abi.h"

namespace hwcov::trace {
namespace {

constexpr uint64_t kMaxAttrs = 4096;
constexpr uint64_t kMaxIdsPerAttr = 1 << 20;

uint64_t Align8(uint64_t n) { return (n + 7) & ~uint64_t{7}; }

class Reader {
 public:
  Reader(const std::filesystem::path& path, Trace& trace) : path_(path), trace_(trace) {}

  void Read() {
    auto bytes = trace_.file->bytes();
    if (bytes.empty()) ThrowFileError(path_, "empty file, not a perf.data trace");
    ByteCursor header(bytes, 0, path_);
    if (bytes.size() < abi::kPipeHeaderSize)
      ThrowFileError(path_,
                     "not a perf.data file (only " + std::to_string(bytes.size()) + " bytes)");
    const uint64_t magic = header.Get<uint64_t>();
    if (magic == __builtin_bswap64(abi::kMagic))
      ThrowFileError(path_, "perf.data written on a big-endian machine is not supported");
    if (magic != abi::kMagic)
      ThrowFileError(path_, "not a perf.data file (bad magic; PERFILE2 expected)");
    const uint64_t header_size = header.Get<uint64_t>();
    if (header_size == abi::kPipeHeaderSize) {
      trace_.pipe_mode = true;
      ReadRecords(abi::kPipeHeaderSize, bytes.size() - abi::kPipeHeaderSize, true);
    } else if (header_size == abi::kFileHeaderSize || header_size == 72) {
      ReadFileMode(header, header_size);
    } else {
      ThrowFileError(path_, "unsupported perf.data header size " + std::to_string(header_size));
    }
    BuildQueues();
    if (trace_.pt)  // the intel_pt event is the attr whose type AUXTRACE_INFO names
      for (const EventAttr& attr : trace_.attrs)
        if (attr.type == trace_.pt->pmu_type) trace_.pt->config = attr.config;
  }

 private:
  struct Section {
    uint64_t offset = 0, size = 0;
  };

  Section GetSection(ByteCursor& c, const char* what) {
    Section s{c.Get<uint64_t>(), c.Get<uint64_t>()};
    const uint64_t file_size = trace_.file->bytes().size();
    if (s.offset > file_size || s.size > file_size - s.offset)
      ThrowFileError(path_, std::string(what) + " section [" + std::to_string(s.offset) + ", +" +
                                std::to_string(s.size) + ") lies beyond the end of the file (" +
                                std::to_string(file_size) + " bytes): truncated or corrupt");
    return s;
  }

  ByteCursor CursorAt(uint64_t offset, uint64_t size) const {
    return ByteCursor(trace_.file->bytes().subspan(offset, size), offset, path_);
  }

  void ReadFileMode(ByteCursor& header, uint64_t header_size) {
    const uint64_t attr_size = header.Get<uint64_t>();
    Section attrs = GetSection(header, "attr");
    uint64_t file_size = trace_.file->bytes().size();
    // An interrupted `perf record` leaves data.size 0; read what is there.
    Section data{header.Get<uint64_t>(), header.Get<uint64_t>()};
    header.Skip(16);  // event_types, unused since perf 2.6
    uint64_t features[4] = {0, 0, 0, 0};
    if (header_size == abi::kFileHeaderSize)
      for (auto& word : features) word = header.Get<uint64_t>();

    if (attr_size < abi::kAttrSizeVer0 + 16 || attr_size > 4096)
      ThrowFileError(path_, "invalid attr entry size " + std::to_string(attr_size));
    if (attrs.size % attr_size || attrs.size / attr_size > kMaxAttrs)
      ThrowFileError(path_, "attr section size " + std::to_string(attrs.size) +
                                " is not a multiple of the attr entry size " +
                                std::to_string(attr_size));
    // Each attr's ids section lies in the file, but nothing stops them all
    // naming the same bytes: without a bound on their sum, 4096 attrs over
    // one 8 MiB section would make 32 GiB of ids. perf writes them disjoint.
    uint64_t total_ids = 0;
    for (uint64_t off = attrs.offset; off < attrs.offset + attrs.size; off += attr_size) {
      ByteCursor entry = CursorAt(off, attr_size);
      EventAttr attr = ParseAttr(entry, attr_size - 16);
      ByteCursor ids_cursor = CursorAt(off + attr_size - 16, 16);
      Section ids = GetSection(ids_cursor, "attr ids");
      if (ids.size % 8 || ids.size / 8 > kMaxIdsPerAttr)
        ThrowFileError(path_, "invalid attr id section size " + std::to_string(ids.size) +
                                  " at offset " + std::to_string(off + attr_size - 8));
      total_ids += ids.size / 8;
      if (total_ids > file_size / 8)
        ThrowFileError(path_, "attr id sections name more ids than the file holds (" +
                                  std::to_string(total_ids) + " ids in " +
                                  std::to_string(file_size) + " bytes): corrupt attr at offset " +
                                  std::to_string(off));
      ByteCursor id_cursor = CursorAt(ids.offset, ids.size);
      for (uint64_t i = 0; i < ids.size / 8; ++i) attr.ids.push_back(id_cursor.Get<uint64_t>());
      AddAttr(std::move(attr));
    }

    if (data.offset > file_size) ThrowFileError(path_, "data section starts beyond end of file");
    if (data.size == 0) {
      trace_.finished = false;
      trace_.warnings.push_back(
          "perf.data not properly terminated (data size 0 in the header: the recording was "
          "interrupted); read up to its last complete record");
      data.size = file_size - data.offset;
    } else if (data.size > file_size - data.offset) {
      ThrowFileError(path_, "data section [" + std::to_string(data.offset) + ", +" +
                                std::to_string(data.size) + ") lies beyond the end of the file (" +
                                std::to_string(file_size) + " bytes): truncated");
    }
    ReadRecords(data.offset, data.size, !trace_.finished);
    if (trace_.finished) ReadFeatures(data.offset + data.size, features);
  }

  EventAttr ParseAttr(ByteCursor& c, uint64_t room) {
    EventAttr attr;
    attr.type = c.Get<uint32_t>();
    attr.size = c.Get<uint32_t>();
    if (attr.size < abi::kAttrSizeVer0 || attr.size > room)
      c.Fail("invalid perf_event_attr size " + std::to_string(attr.size));
    attr.config = c.Get<uint64_t>();
    c.Skip(8);  // sample_period
    attr.sample_type = c.Get<uint64_t>();
    c.Skip(8);  // read_format
    attr.flags = c.Get<uint64_t>();
    return attr;
  }

  void AddAttr(EventAttr attr) {
    for (uint64_t id : attr.ids) attr_by_id_[id] = trace_.attrs.size();
    trace_.attrs.push_back(std::move(attr));
  }

  void ReadFeatures(uint64_t table_offset, const uint64_t (&bits)[4]) {
    std::vector<int> present;
    for (int bit = 0; bit < 256; ++bit)
      if (bits[bit / 64] >> (bit % 64) & 1) present.push_back(bit);
    uint64_t file_size = trace_.file->bytes().size();
    if (present.size() * 16 > file_size - std::min(file_size, table_offset)) {
      // A copy cut after its data: the records are intact, but the file is
      // incomplete (build ids, strings and snapshots are lost).
      trace_.finished = false;
      trace_.warnings.push_back("feature table truncated; features ignored");
      return;
    }
    ByteCursor table = CursorAt(table_offset, present.size() * 16);
    for (int bit : present) {
      Section s = GetSection(table, "feature");
      ByteCursor payload = CursorAt(s.offset, s.size);
      ParseFeature(bit, payload);
    }
  }

  static std::string FeatureString(ByteCursor& c) {
    uint32_t len = c.Get<uint32_t>();
    return c.FixedString(len);
  }

  void ParseFeature(uint64_t feature, ByteCursor& c) {
    switch (feature) {
      case abi::kFeatBuildId:
        while (c.remaining() >= 8) ParseBuildIdRecord(c);
        break;
      case abi::kFeatHostname:
        trace_.strings["hostname"] = FeatureString(c);
        break;
      case abi::kFeatOsRelease:
        trace_.strings["osrelease"] = FeatureString(c);
        break;
      case abi::kFeatVersion:
        trace_.strings["perf_version"] = FeatureString(c);
        break;
      case abi::kFeatArch:
        trace_.strings["arch"] = FeatureString(c);
        break;
      case abi::kFeatCpuDesc:
        trace_.strings["cpudesc"] = FeatureString(c);
        break;
      case abi::kFeatCpuId:
        trace_.strings["cpuid"] = FeatureString(c);
        break;
      case abi::kFeatCmdline: {
        uint32_t n = c.Get<uint32_t>();
        std::string cmdline;
        for (uint32_t i = 0; i < n && c.remaining() >= 4; ++i)
          cmdline += (i ? " " : "") + FeatureString(c);
        trace_.strings["cmdline"] = cmdline;
        break;
      }
      case kFeatureHwcovSnapshots:
        ParseSnapshots(c);
        break;
      case kFeatureHwcovTestNames:
        ParseTestNames(c);
        break;
      default:
        break;
    }
  }

  void ParseBuildIdRecord(ByteCursor& c) {
    const uint64_t start = c.offset();
    abi::RecordHeader h = c.Get<abi::RecordHeader>();
    if (h.size < 8 + 4 + 24) c.Fail("invalid build id record size " + std::to_string(h.size));
    ByteCursor body = CursorAt(start + 8, h.size - 8);
    c.Skip(h.size - 8);
    BuildIdEntry entry;
    entry.pid = body.Get<int32_t>();
    auto raw = body.Take(24);
    size_t size = (h.misc & abi::kMiscBuildIdSize) ? std::min<size_t>(raw[20], 20) : 20;
    entry.build_id.bytes.assign(reinterpret_cast<const char*>(raw.data()), size);
    entry.filename = body.FixedString(body.remaining());
    trace_.build_ids.push_back(std::move(entry));
  }

  void ParseSnapshots(ByteCursor& c) {
    uint32_t n = c.Get<uint32_t>();
    for (uint32_t i = 0; i < n; ++i) {
      CodeSnapshot s;
      s.pid = c.Get<uint32_t>();
      s.start = c.Get<uint64_t>();
      uint32_t name_len = c.Get<uint32_t>();
      s.name = c.FixedString(name_len);
      uint64_t size = c.Get<uint64_t>();
      auto bytes = c.Take(size);
      s.bytes.assign(bytes.begin(), bytes.end());
      trace_.snapshots.push_back(std::move(s));
    }
  }

  void ParseTestNames(ByteCursor& c) {
    const uint32_t n = c.Get<uint32_t>();
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t pid = c.Get<uint32_t>();
      const uint32_t size = c.Get<uint32_t>();
      trace_.test_names.emplace(pid, c.FixedString(size));
    }
  }

  // The sample_type that governs a record's trailer: with IDENTIFIER, the
  // trailer's last u64 names the attr; otherwise all attrs share one layout.
  const EventAttr* AttrForTrailer(std::span<const uint8_t> record) const {
    if (trace_.attrs.empty()) return nullptr;
    const EventAttr& first = trace_.attrs.front();
    if (first.sample_type & kSampleIdentifier && record.size() >= 16) {
      uint64_t id;
      std::memcpy(&id, record.data() + record.size() - 8, 8);
      auto it = attr_by_id_.find(id);
      if (it != attr_by_id_.end()) return &trace_.attrs[it->second];
    }
    return &first;
  }

  void ReadRecords(uint64_t begin, uint64_t size, bool tolerate_tail) {
    const uint64_t end = begin + size;
    uint64_t off = begin;
    // Reading the record headers touches a page per AUX buffer: let them go
    // now and then, so that reading a long trace needs bounded memory.
    constexpr uint64_t kReleaseEvery = 8 << 20;
    uint64_t released = begin;
    while (off < end) {
      if (off - released >= kReleaseEvery) {
        trace_.file->Release(trace_.file->bytes().subspan(released, off - released));
        released = off;
      }
      if (end - off < sizeof(abi::RecordHeader)) {
        if (tolerate_tail) return Truncated(off);
        ThrowFileError(path_, "truncated record header at offset " + std::to_string(off));
      }
      abi::RecordHeader h;
      std::memcpy(&h, trace_.file->bytes().data() + off, sizeof h);
      if (h.size < sizeof(abi::RecordHeader) || h.size > end - off) {
        // Only a record cut by the end of the data is what an interrupted
        // recording leaves; a size no writer produces is corruption.
        if (tolerate_tail && h.size >= sizeof(abi::RecordHeader)) return Truncated(off);
        ThrowFileError(path_, "corrupt record at offset " + std::to_string(off) + ": type " +
                                  std::to_string(h.type) + ", size " + std::to_string(h.size) +
                                  (h.size > end - off ? " runs past the end of the data" : ""));
      }
      // A whole record that does not parse is corrupt, interrupted or not.
      const uint64_t extra = ParseRecord(h, off);
      ++trace_.record_counts[h.type];
      if (extra > end - off - h.size) {
        if (tolerate_tail && h.type == abi::kAuxtrace) return CutAuxtrace(off, h.size, end);
        if (tolerate_tail) return Truncated(off);
        ThrowFileError(path_, "record at offset " + std::to_string(off) + " (type " +
                                  std::to_string(h.type) + ") carries " + std::to_string(extra) +
                                  " bytes of payload beyond the end of the data: truncated");
      }
      off += h.size + extra;
    }
  }

  // The last AUXTRACE of an interrupted recording: its header made it to
  // the disk, part of its PT did. That part is trace like any other (the
  // decoder stops at the cut), so it is kept rather than thrown away.
  void CutAuxtrace(uint64_t off, uint64_t header_size, uint64_t end) {
    AuxBuffer& b = aux_buffers_.back();
    const uint64_t kept = end - off - header_size;
    trace_.finished = false;
    trace_.warnings.push_back("trace ends inside the AUXTRACE record at offset " +
                              std::to_string(off) + ": " + std::to_string(kept) + " of its " +
                              std::to_string(b.size) +
                              " PT bytes are in the file (recording interrupted?)");
    b.size = kept;
    if (kept == 0) aux_buffers_.pop_back();
  }

  void Truncated(uint64_t off) {
    trace_.finished = false;
    trace_.warnings.push_back("trace ends in an incomplete record at offset " +
                              std::to_string(off) + " (recording interrupted?)");
  }

  // Returns the number of payload bytes that follow the record (AUXTRACE).
  uint64_t ParseRecord(const abi::RecordHeader& h, uint64_t off) {
    auto record = trace_.file->bytes().subspan(off, h.size);
    ByteCursor c(record, off, path_);
    c.Skip(sizeof h);
    switch (h.type) {
      case abi::kMmap:
      case abi::kMmap2:
      case abi::kComm:
      case abi::kExit:
      case abi::kFork:
      case abi::kAux:
      case abi::kItraceStart:
      case abi::kSwitch:
      case abi::kSwitchCpuWide:
      case abi::kLost:
        AddKernelRecord(record, off);
        return 0;
      case abi::kHeaderAttr: {
        EventAttr attr = ParseAttr(c, h.size - sizeof h);
        c = ByteCursor(record.subspan(sizeof h + attr.size), off + sizeof h + attr.size, path_);
        while (c.remaining() >= 8) attr.ids.push_back(c.Get<uint64_t>());
        AddAttr(std::move(attr));
        return 0;
      }
      case abi::kHeaderFeature: {
        uint64_t feature = c.Get<uint64_t>();
        ParseFeature(feature, c);
        return 0;
      }
      case abi::kHeaderBuildId: {
        ByteCursor whole(record, off, path_);
        ParseBuildIdRecord(whole);
        return 0;
      }
      case abi::kHeaderTracingData:
        return Align8(c.Get<uint32_t>());
      case abi::kAuxtraceInfo: {
        PtInfo info;
        uint32_t type = c.Get<uint32_t>();
        c.Skip(4);
        while (c.remaining() >= 8) info.priv.push_back(c.Get<uint64_t>());
        if (type != abi::kAuxtraceIntelPt) {
          trace_.warnings.push_back("AUXTRACE_INFO of type " + std::to_string(type) +
                                    " is not Intel PT; its data is ignored");
          return 0;
        }
        if (info.priv.size() < 10)
          ThrowFileError(path_, "AUXTRACE_INFO at offset " + std::to_string(off) + " has " +
                                    std::to_string(info.priv.size()) +
                                    " parameters; Intel PT needs at least 10");
        info.pmu_type = static_cast<uint32_t>(info.priv[0]);
        trace_.pt = std::move(info);
        return 0;
      }
      case abi::kAuxtrace: {
        if (h.size < abi::kAuxtraceRecordSize)
          ThrowFileError(path_, "AUXTRACE record at offset " + std::to_string(off) +
                                    " is too small (" + std::to_string(h.size) + " bytes)");
        AuxBuffer b;
        b.size = c.Get<uint64_t>();
        b.offset = c.Get<uint64_t>();
        b.reference = c.Get<uint64_t>();
        b.idx = c.Get<uint32_t>();
        b.tid = c.Get<uint32_t>();
        b.cpu = c.Get<uint32_t>();
        b.record_offset = off;
        b.file_offset = off + h.size;
        aux_buffers_.push_back(b);
        return b.size;
      }
      case abi::kCompressed:
        if (!warned_compressed_) {
          trace_.warnings.push_back(
              "the trace has zstd-compressed records (perf record -z); their sideband is not "
              "read, so some code may not map");
          warned_compressed_ = true;
        }
        return 0;
      default:
        return 0;  // sample and perf-internal records carry nothing hwcov uses
    }
  }

  void AddKernelRecord(std::span<const uint8_t> record, uint64_t off) {
    const EventAttr* attr = AttrForTrailer(record);
    const uint64_t trailer_type =
        attr && attr->flags & abi::kAttrSampleIdAll ? attr->sample_type : 0;
    KernelRecord r;
    try {
      r = DecodeKernelRecord(record, trailer_type);
    } catch (const Error& e) {
      ThrowFileError(path_, "record at offset " + std::to_string(off) + " " + e.what());
    }
    AddToSideband(std::move(r), trace_);
  }

  // Queues by idx, through a map: a search of the queue list per buffer is
  // quadratic, and a hostile file can hold 200,000 buffers of distinct idx.
  void BuildQueues() {
    std::map<uint32_t, AuxQueue> by_idx;
    for (const AuxBuffer& b : aux_buffers_) {
      auto it = by_idx.try_emplace(b.idx, AuxQueue{b.idx, b.tid, b.cpu, {}}).first;
      it->second.buffers.push_back(b);
    }
    for (auto& [idx, queue] : by_idx) trace_.queues.push_back(std::move(queue));
  }

  const std::filesystem::path& path_;
  Trace& trace_;
  std::unordered_map<uint64_t, size_t> attr_by_id_;
  std::vector<AuxBuffer> aux_buffers_;
  bool warned_compressed_ = false;
};

}  // namespace

void AddToSideband(KernelRecord record, Trace& trace) {
  std::visit(
      [&](auto& e) {
        using Event = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<Event, MmapEvent>) trace.mmaps.push_back(std::move(e));
        if constexpr (std::is_same_v<Event, CommEvent>) trace.comms.push_back(std::move(e));
        if constexpr (std::is_same_v<Event, TaskEvent>) trace.tasks.push_back(e);
        if constexpr (std::is_same_v<Event, AuxEvent>) trace.aux_events.push_back(e);
        if constexpr (std::is_same_v<Event, ItraceStartEvent>) trace.itrace_starts.push_back(e);
        if constexpr (std::is_same_v<Event, SwitchEvent>) trace.switches.push_back(e);
        if constexpr (std::is_same_v<Event, LostEvent>) trace.lost.push_back(e);
      },
      record.event);
}

std::span<const uint8_t> Trace::AuxBytes(const AuxBuffer& buffer) const {
  return file->bytes().subspan(buffer.file_offset, buffer.size);
}

Trace ReadPerfData(const std::filesystem::path& path) {
  Trace trace;
  trace.path = path;
  trace.file = std::make_shared<MappedFile>(path);
  Reader(path, trace).Read();
  return trace;
}

}  // namespace hwcov::trace
