#include "intel_pt_sideband.h"

#include <linux/perf_event.h>

#include <cstring>

namespace hwcov::collector {
namespace {

trace::KernelRecord WithSample(uint32_t type, const SyntheticSample& s) {
  trace::KernelRecord r;
  r.type = type;
  r.misc = PERF_RECORD_MISC_USER;
  r.sample = {s.pid, s.tid, s.time, s.cpu};
  r.id = s.id;
  return r;
}

}  // namespace

trace::KernelRecord DecodeRingRecord(std::span<const uint8_t> record, uint64_t sample_type) {
  try {
    return trace::DecodeKernelRecord(record, sample_type);
  } catch (const Error& e) {
    uint32_t type = 0;
    if (record.size() >= sizeof type) std::memcpy(&type, record.data(), sizeof type);
    throw Error("perf record of type " + std::to_string(type) + " (" +
                std::to_string(record.size()) + " bytes) is " + e.what());
  }
}

SidebandRecord SidebandOf(const trace::KernelRecord& k) {
  SidebandRecord r;
  r.type = k.type;
  r.misc = k.misc;
  r.sample = k.sample;
  r.id = k.id;
  if (auto* m = std::get_if<trace::MmapEvent>(&k.event)) {
    r.pid = m->pid;
    r.tid = m->tid;
    r.start = m->start;
    r.len = m->len;
    r.pgoff = m->pgoff;
    r.prot = m->prot;
    r.filename = m->filename;
    r.build_id = m->build_id;
  } else if (auto* c = std::get_if<trace::CommEvent>(&k.event)) {
    r.pid = c->pid;
    r.tid = c->tid;
    r.comm = c->name;
  } else if (auto* t = std::get_if<trace::TaskEvent>(&k.event)) {
    r.pid = t->pid;
    r.tid = t->tid;
  } else if (auto* i = std::get_if<trace::ItraceStartEvent>(&k.event)) {
    r.pid = i->pid;
    r.tid = i->tid;
  } else if (auto* a = std::get_if<trace::AuxEvent>(&k.event)) {
    r.aux_offset = a->aux_offset;
    r.aux_size = a->aux_size;
    r.aux_flags = a->flags;
  } else if (auto* l = std::get_if<trace::LostEvent>(&k.event)) {
    r.lost = l->lost;
  }
  return r;
}

SidebandRecord ParseSideband(std::span<const uint8_t> record, uint64_t sample_type) {
  return SidebandOf(DecodeRingRecord(record, sample_type));
}

std::vector<uint8_t> EncodeComm(uint32_t pid, uint32_t tid, const std::string& name,
                                uint64_t sample_type, const SyntheticSample& sample) {
  trace::KernelRecord r = WithSample(PERF_RECORD_COMM, sample);
  trace::CommEvent comm;
  comm.pid = pid;
  comm.tid = tid;
  comm.name = name;
  r.event = std::move(comm);
  return trace::EncodeKernelRecord(r, sample_type);
}

std::vector<uint8_t> EncodeMmap2(const trace::MmapEvent& m, uint64_t sample_type,
                                 const SyntheticSample& sample) {
  trace::KernelRecord r = WithSample(PERF_RECORD_MMAP2, sample);
  r.event = m;
  return trace::EncodeKernelRecord(r, sample_type);
}

}  // namespace hwcov::collector
