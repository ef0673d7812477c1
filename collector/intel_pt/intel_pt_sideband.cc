#include "intel_pt_sideband.h"

#include <linux/perf_event.h>

#include <cstring>

namespace hwcov::collector {
namespace {

class Reader {
 public:
  Reader(std::span<const uint8_t> bytes, uint32_t type) : b_(bytes), type_(type) {}
  template <typename T>
  T Get() {
    Need(sizeof(T));
    T v;
    std::memcpy(&v, b_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }
  std::span<const uint8_t> Take(size_t n) {
    Need(n);
    auto s = b_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  size_t pos() const { return pos_; }

 private:
  void Need(size_t n) const {
    if (b_.size() - pos_ < n)
      throw Error("perf record of type " + std::to_string(type_) + " is too short (" +
                  std::to_string(b_.size()) + " bytes)");
  }
  std::span<const uint8_t> b_;
  uint32_t type_;
  size_t pos_ = 0;
};

uint64_t TrailerSize(uint64_t st) {
  uint64_t n = 0;
  for (uint64_t bit : {PERF_SAMPLE_TID, PERF_SAMPLE_TIME, PERF_SAMPLE_ID, PERF_SAMPLE_STREAM_ID,
                       PERF_SAMPLE_CPU, PERF_SAMPLE_IDENTIFIER})
    if (st & bit) n += 8;
  return n;
}

// Sample records (type 9) have no sample_id trailer; every other kernel
// record has one when sample_id_all is set.
bool HasTrailer(uint32_t type) { return type != PERF_RECORD_SAMPLE && type < 64; }

std::string CString(std::span<const uint8_t> bytes) {
  const char* p = reinterpret_cast<const char*>(bytes.data());
  return std::string(p, strnlen(p, bytes.size()));
}

class Writer {
 public:
  template <typename T>
  void Put(const T& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    out_.insert(out_.end(), p, p + sizeof v);
  }
  void PutString(const std::string& s) {  // NUL-terminated, padded to 8
    out_.insert(out_.end(), s.begin(), s.end());
    out_.resize((out_.size() + 1 + 7) & ~size_t{7}, 0);
  }
  void Trailer(uint64_t st, const SyntheticSample& s) {
    if (st & PERF_SAMPLE_TID) Put(s.pid), Put(s.tid);
    if (st & PERF_SAMPLE_TIME) Put(s.time);
    if (st & PERF_SAMPLE_ID) Put(s.id);
    if (st & PERF_SAMPLE_STREAM_ID) Put(s.id);
    if (st & PERF_SAMPLE_CPU) Put(s.cpu), Put(uint32_t{0});
    if (st & PERF_SAMPLE_IDENTIFIER) Put(s.id);
  }
  std::vector<uint8_t> Finish(uint32_t type, uint16_t misc) {
    perf_event_header h{type, misc, static_cast<uint16_t>(out_.size() + sizeof h)};
    std::vector<uint8_t> record(sizeof h);
    std::memcpy(record.data(), &h, sizeof h);
    record.insert(record.end(), out_.begin(), out_.end());
    return record;
  }

 private:
  std::vector<uint8_t> out_;
};

}  // namespace

SidebandRecord ParseSideband(std::span<const uint8_t> record, uint64_t sample_type) {
  SidebandRecord r;
  Reader head(record, 0);
  const auto h = head.Get<perf_event_header>();
  r.type = h.type;
  r.misc = h.misc;
  uint64_t trailer = 0;
  if (HasTrailer(h.type)) {
    trailer = TrailerSize(sample_type);
    if (record.size() < sizeof h + trailer)
      throw Error("perf record of type " + std::to_string(h.type) +
                  " is too short for its "
                  "sample_id trailer");
    Reader t(record.subspan(record.size() - trailer), h.type);
    if (sample_type & PERF_SAMPLE_TID) {
      r.sample.pid = t.Get<uint32_t>();
      r.sample.tid = t.Get<uint32_t>();
    }
    if (sample_type & PERF_SAMPLE_TIME) r.sample.time = t.Get<uint64_t>();
    if (sample_type & PERF_SAMPLE_ID) r.id = t.Get<uint64_t>();
    if (sample_type & PERF_SAMPLE_STREAM_ID) t.Get<uint64_t>();
    if (sample_type & PERF_SAMPLE_CPU) {
      r.sample.cpu = t.Get<uint32_t>();
      t.Get<uint32_t>();
    }
    if (sample_type & PERF_SAMPLE_IDENTIFIER) r.id = t.Get<uint64_t>();
  }
  // The body ends where the trailer begins.
  Reader c(record.first(record.size() - trailer), h.type);
  c.Take(sizeof h);
  const auto body = [&]() { return record.subspan(c.pos(), record.size() - trailer - c.pos()); };
  switch (h.type) {
    case PERF_RECORD_COMM:
      r.pid = c.Get<uint32_t>();
      r.tid = c.Get<uint32_t>();
      r.comm = CString(body());
      break;
    case PERF_RECORD_MMAP2: {
      r.pid = c.Get<uint32_t>();
      r.tid = c.Get<uint32_t>();
      r.start = c.Get<uint64_t>();
      r.len = c.Get<uint64_t>();
      r.pgoff = c.Get<uint64_t>();
      auto id = c.Take(24);
      if (h.misc & PERF_RECORD_MISC_MMAP_BUILD_ID)
        r.build_id = BuildId{
            std::string(reinterpret_cast<const char*>(id.data() + 4), std::min<size_t>(id[0], 20))};
      r.prot = c.Get<uint32_t>();
      c.Get<uint32_t>();  // flags
      r.filename = CString(body());
      break;
    }
    case PERF_RECORD_FORK:
    case PERF_RECORD_EXIT:
    case PERF_RECORD_ITRACE_START:
      r.pid = c.Get<uint32_t>();
      r.tid = c.Get<uint32_t>();
      break;
    case PERF_RECORD_AUX:
      r.aux_offset = c.Get<uint64_t>();
      r.aux_size = c.Get<uint64_t>();
      r.aux_flags = c.Get<uint64_t>();
      break;
    case PERF_RECORD_LOST:
      c.Get<uint64_t>();  // id
      r.lost = c.Get<uint64_t>();
      break;
    default:
      break;
  }
  return r;
}

std::vector<uint8_t> EncodeComm(uint32_t pid, uint32_t tid, const std::string& name,
                                uint64_t sample_type, const SyntheticSample& sample) {
  Writer w;
  w.Put(pid);
  w.Put(tid);
  w.PutString(name.substr(0, 15));  // TASK_COMM_LEN - 1, as the kernel truncates
  w.Trailer(sample_type, sample);
  return w.Finish(PERF_RECORD_COMM, PERF_RECORD_MISC_USER);
}

std::vector<uint8_t> EncodeMmap2(const trace::MmapEvent& m, uint64_t sample_type,
                                 const SyntheticSample& sample) {
  Writer w;
  uint16_t misc = PERF_RECORD_MISC_USER;
  w.Put(m.pid);
  w.Put(m.tid);
  w.Put(m.start);
  w.Put(m.len);
  w.Put(m.pgoff);
  uint8_t id[24] = {};
  if (m.build_id && !m.build_id->empty()) {
    misc |= PERF_RECORD_MISC_MMAP_BUILD_ID;
    id[0] = static_cast<uint8_t>(std::min<size_t>(m.build_id->bytes.size(), 20));
    std::memcpy(id + 4, m.build_id->bytes.data(), id[0]);
  }
  for (uint8_t b : id) w.Put(b);
  w.Put(m.prot);
  w.Put(m.flags);
  w.PutString(m.filename);
  w.Trailer(sample_type, sample);
  return w.Finish(PERF_RECORD_MMAP2, misc);
}

}  // namespace hwcov::collector
