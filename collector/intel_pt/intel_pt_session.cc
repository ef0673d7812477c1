#include "intel_pt_session.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include "hwcov/hex.h"
#include "hwcov/support.h"

namespace hwcov::collector {
namespace {

const char* KindName(int kind) { return kind == 0 ? "intel_pt//u" : "dummy:u"; }

}  // namespace

PtSession::PtSession(PerfEventSys& sys, SessionPlan plan, const PerfAccess& access)
    : sys_(sys), plan_(std::move(plan)), access_(access) {
  try {
    tids_ = plan_.tids;
    if (plan_.events.per_cpu) {
      for (int cpu : plan_.cpus) {
        const size_t ring = rings_.size();
        rings_.push_back({});
        rings_[ring].info = {static_cast<uint32_t>(ring), cpu,
                             plan_.tids.empty() ? -1 : plan_.tids.front()};
        for (pid_t tid : std::vector<pid_t>(tids_)) {
          const auto fds = OpenThread(tid, cpu);
          if (!fds) continue;
          AddToRing(ring, events_.emplace_back(Event{kPt, fds->first, 0, cpu, tid}));
          AddToRing(ring, events_.emplace_back(Event{kTracking, fds->second, 0, cpu, tid}));
        }
        if (plan_.cpu_wide_switch)
          AddToRing(ring,
                    events_.emplace_back(Event{
                        kSwitch, OpenEvent(kSwitch, *plan_.cpu_wide_switch, -1, cpu), 0, cpu, -1}));
      }
    } else {
      for (pid_t tid : std::vector<pid_t>(tids_)) {
        const auto fds = OpenThread(tid, -1);
        if (!fds) continue;
        const size_t ring = rings_.size();
        rings_.push_back({});
        rings_[ring].info = {static_cast<uint32_t>(ring), -1, tid};
        AddToRing(ring, events_.emplace_back(Event{kPt, fds->first, 0, -1, tid}));
        AddToRing(ring, events_.emplace_back(Event{kTracking, fds->second, 0, -1, tid}));
      }
    }
    for (Event& e : events_) {
      int r = sys_.Ioctl(e.fd, PERF_EVENT_IOC_ID, reinterpret_cast<uintptr_t>(&e.id));
      if (r < 0)
        throw Error(std::string("PERF_EVENT_IOC_ID failed (") + std::strerror(-r) +
                    "): this kernel is older than 3.12, which hwcov does not support");
    }
    // The kernel redirects only into a mapped buffer: map, then SET_OUTPUT.
    MapRings();
    for (Ring& ring : rings_) {
      for (int fd : ring.redirected) {
        int rc = sys_.Ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, static_cast<uintptr_t>(ring.fd));
        if (rc < 0)
          throw Error(std::string("cannot direct an event into its CPU's trace buffer "
                                  "(PERF_EVENT_IOC_SET_OUTPUT: ") +
                      std::strerror(-rc) + ")");
      }
    }
    for (const Event& e : events_) {
      if (e.kind != kPt || plan_.filter.empty()) continue;
      int r = sys_.Ioctl(e.fd, PERF_EVENT_IOC_SET_FILTER,
                         reinterpret_cast<uintptr_t>(plan_.filter.c_str()));
      if (r < 0)
        throw Error("the kernel rejected the Intel PT address filter '" + plan_.filter + "' (" +
                    std::strerror(-r) +
                    "): check the ranges lie in the named binaries' code and "
                    "that this CPU has enough address ranges (caps/num_address_ranges)");
    }
  } catch (...) {
    Release();  // the destructor does not run for a constructor that throws
    throw;
  }
}

PtSession::~PtSession() { Release(); }

void PtSession::Release() {
  UnmapRings();
  for (Event& e : events_)
    if (e.fd >= 0) sys_.Close(e.fd);
  events_.clear();
  rings_.clear();
}

int PtSession::TryOpen(Kind kind, const perf_event_attr& attr, pid_t pid, int cpu) {
  int fd = sys_.Open(attr, pid, cpu);
  if (fd == -EINVAL && kind == kTracking && plan_.tracking.build_id) {
    // Kernels before 5.12 have no attr.build_id: fall back to MMAP2 with
    // inode numbers, as perf does for its "missing features".
    plan_.tracking.build_id = 0;
    return TryOpen(kind, plan_.tracking, pid, cpu);
  }
  if (fd == -EMFILE && !raised_file_limit_) {
    // 2 descriptors per CPU and thread: perf raises the soft limit to the
    // hard one and retries (tools/perf/util/evsel.c evsel__open_cpu).
    raised_file_limit_ = true;
    if (sys_.RaiseFileLimit() == 0) return TryOpen(kind, attr, pid, cpu);
  }
  return fd;
}

int PtSession::OpenEvent(Kind kind, const perf_event_attr& attr, pid_t pid, int cpu) {
  const int fd = TryOpen(kind, attr, pid, cpu);
  if (fd < 0) throw Error(Describe(-fd, kind, pid));
  return fd;
}

bool PtSession::ThreadEnded(int fd, pid_t tid) {
  // A thread (not the process itself) that exits between listing and
  // opening: perf drops it from its thread map and goes on
  // (evsel__open_cpu, ESRCH with ignore_missing_thread). Any of its events
  // can be the first to see it gone.
  if (fd != -ESRCH || plan_.tids.empty() || tid == plan_.tids.front()) return false;
  std::erase(tids_, tid);
  return true;
}

std::optional<std::pair<int, int>> PtSession::OpenThread(pid_t tid, int cpu) {
  const int pt = TryOpen(kPt, plan_.pt, tid, cpu);
  if (ThreadEnded(pt, tid)) return std::nullopt;
  if (pt < 0) throw Error(Describe(-pt, kPt, tid));
  const int tracking = TryOpen(kTracking, plan_.tracking, tid, cpu);
  if (tracking < 0) sys_.Close(pt);
  if (ThreadEnded(tracking, tid)) return std::nullopt;
  if (tracking < 0) throw Error(Describe(-tracking, kTracking, tid));
  return std::pair{pt, tracking};
}

void PtSession::AddToRing(size_t ring, const Event& event) {
  Ring& r = rings_[ring];
  if (event.kind == kPt) r.pt_fds.push_back(event.fd);
  if (r.fd < 0)
    r.fd = event.fd;  // the first event owns the buffers
  else
    r.redirected.push_back(event.fd);
}

void PtSession::MapRings() {
  for (;;) {
    int error = 0;
    for (Ring& ring : rings_)
      if ((error = MapRing(ring)) != 0) break;
    if (!error) return;
    // perf_mmap refuses with EPERM past the locked-memory budget, which
    // other recordings of this user share; sizes hwcov chose shrink until
    // they fit.
    if (error == EPERM && plan_.fit_buffers && ShrinkBuffers()) {
      UnmapRings();
      continue;
    }
    if (error == EINVAL && mapping_aux_)
      throw Error("the kernel refused a " + std::to_string(plan_.events.aux_bytes >> 10) +
                  " KiB Intel PT buffer (EINVAL): --buffer-size must be a power of two pages");
    const uint64_t per_ring = plan_.page_size + plan_.data_bytes + plan_.events.aux_bytes;
    throw Error(
        DescribeMmapFailure(access_, error, per_ring, rings_.size(), plan_.events.aux_bytes));
  }
}

bool PtSession::ShrinkBuffers() {
  constexpr uint64_t kSmallest = 8 << 10;
  uint64_t& aux = plan_.events.aux_bytes;
  if (aux >= plan_.data_bytes && aux > kSmallest)
    aux /= 2;
  else if (plan_.data_bytes > kSmallest)
    plan_.data_bytes /= 2;
  else
    return false;
  ++shrinks_;
  return true;
}

void PtSession::UnmapRings() {
  for (Ring& r : rings_) {
    if (r.aux) sys_.Unmap(r.aux, r.aux_len);
    if (r.base) sys_.Unmap(r.base, r.base_len);
    r.aux = r.base = nullptr;
    r.data.reset();
    r.aux_ring.reset();
  }
}

int PtSession::MapRing(Ring& ring) {
  const uint64_t aux_bytes = plan_.events.aux_bytes;
  ring.base_len = plan_.page_size + plan_.data_bytes;
  int error = 0;
  mapping_aux_ = false;
  ring.base = sys_.Map(ring.base_len, PROT_READ | PROT_WRITE, ring.fd, 0, &error);
  if (!ring.base) return error;
  auto* page = static_cast<perf_event_mmap_page*>(ring.base);
  // The AUX area follows the data area; the kernel reads where from here.
  page->aux_offset = ring.base_len;
  page->aux_size = aux_bytes;
  ring.aux_len = aux_bytes;
  // Writable: the kernel stops (TRUNCATED) rather than overwrite unread trace.
  mapping_aux_ = true;
  ring.aux = sys_.Map(aux_bytes, PROT_READ | PROT_WRITE, ring.fd, static_cast<off_t>(ring.base_len),
                      &error);
  if (!ring.aux) return error;
  // The kernel says where the data area is (4.1+); older ones put it after
  // the first page, which is where data_offset 0 leads us too.
  const uint64_t data_offset = page->data_offset ? page->data_offset : plan_.page_size;
  const uint64_t data_size = page->data_size ? page->data_size : plan_.data_bytes;
  ring.data = std::make_unique<DataRing>(
      page, std::span<uint8_t>(static_cast<uint8_t*>(ring.base) + data_offset, data_size));
  ring.aux_ring = std::make_unique<AuxRing>(
      page, std::span<uint8_t>(static_cast<uint8_t*>(ring.aux), aux_bytes));
  return 0;
}

std::string PtSession::Describe(int error, Kind kind, pid_t tid) const {
  const std::string err = std::strerror(error);
  switch (error) {
    case EACCES:
    case EPERM:
      return DescribeOpenDenied(access_, error, plan_.attach_pid);
    case ESRCH:
      if (plan_.attach_pid)
        return "process " + std::to_string(tid) + " ended before hwcov could attach (" + err + ")";
      return "the program hwcov started (pid " + std::to_string(tid) +
             ") ended before its trace could start (" + err + ")";
    case EBUSY:
      // x86_add_exclusive (arch/x86/events/core.c): PT, LBR and BTS users
      // exclude each other; PT the firmware left on means no intel_pt PMU.
      return "Intel PT is busy (" + err +
             "): another tracer uses it or LBR/BTS (perf record -e intel_pt, perf record -b / "
             "--call-graph lbr, a debugger's branch tracing); stop that tracer or use "
             "--backend soft";
    case EMFILE:
    case ENFILE:
      return "too many open files (" + err +
             ") even with the soft limit raised to the hard one: tracing needs 2 descriptors "
             "per CPU and thread; raise the hard limit ('ulimit -Hn', systemd LimitNOFILE=) "
             "or use --no-inherit";
    case EINVAL:
      if (kind == kPt)
        return "the kernel rejected the intel_pt event (" + err + "): config " +
               Hex(plan_.pt.config) + " is not valid for this CPU or kernel";
      return std::string("the kernel rejected the sideband event ") + KindName(kind) + " (" + err +
             "): the kernel is too old for Intel PT recording (4.3+ needed)";
    default:
      return std::string("perf_event_open(") + KindName(kind) + ") failed: " + err;
  }
}

std::vector<trace::RawAttr> PtSession::Attrs() const {
  std::vector<trace::RawAttr> out;
  // One entry size for all of them (perf.data has one attr_size).
  size_t size = AttrBytes(plan_.pt).size();
  size = std::max(size, AttrBytes(plan_.tracking).size());
  if (plan_.cpu_wide_switch) size = std::max(size, AttrBytes(*plan_.cpu_wide_switch).size());
  auto add = [&](Kind kind, const perf_event_attr& attr, const char* name) {
    trace::RawAttr a{AttrBytes(attr, size), {}, name};
    for (const Event& e : events_)
      if (e.kind == kind) a.ids.push_back(e.id);
    if (!a.ids.empty()) out.push_back(std::move(a));
  };
  // perf's evlist order: intel_pt first, the switch dummy, then tracking.
  add(kPt, plan_.pt, "intel_pt//u");
  if (plan_.cpu_wide_switch) add(kSwitch, *plan_.cpu_wide_switch, "dummy:u");
  add(kTracking, plan_.tracking, "dummy:u");
  return out;
}

uint64_t PtSession::tracking_id() const {
  for (const Event& e : events_)
    if (e.kind == kTracking) return e.id;
  return 0;
}

TimeConversion PtSession::time_conversion() const {
  if (rings_.empty() || !rings_.front().base) return {};
  return ReadTimeConversion(static_cast<const perf_event_mmap_page*>(rings_.front().base));
}

void PtSession::Enable() {
  for (const Event& e : events_) {
    int r = sys_.Ioctl(e.fd, PERF_EVENT_IOC_ENABLE, 0);
    if (r < 0)
      throw Error(std::string("cannot start tracing (PERF_EVENT_IOC_ENABLE: ") + std::strerror(-r) +
                  ")");
  }
}

void PtSession::Disable() {
  std::lock_guard lock(enable_mu_);
  stopping_ = true;
  for (const Event& e : events_)
    if (e.kind == kPt) sys_.Ioctl(e.fd, PERF_EVENT_IOC_DISABLE, 0);
}

bool PtSession::Drain(RingSink& sink) {
  // The AUX heads first, then every data ring, then the PT up to those
  // heads: the kernel writes a mapping's MMAP2 before the code in it runs,
  // so the records read cover every mapping the PT read runs in (a decoder
  // reading the trace as it comes needs them first), and the PERF_RECORD_AUX
  // announcing the data precedes it.
  std::vector<uint64_t> heads;
  for (Ring& ring : rings_) heads.push_back(ring.aux_ring->Head());
  bool any = false;
  for (Ring& ring : rings_)
    any |= ring.data->Drain([&](std::span<const uint8_t> r) { sink.OnRecord(ring.info, r); }) != 0;
  for (size_t i = 0; i < rings_.size(); ++i) {
    Ring& ring = rings_[i];
    const uint64_t read =
        ring.aux_ring->Drain([&](const AuxRead& aux) { sink.OnAux(ring.info, aux); }, heads[i]);
    if (read) {
      // A full AUX area makes the kernel disable the event
      // (perf_aux_output_begin); perf's read_finish enables it again once
      // space is free. Enabling an enabled event changes nothing.
      std::lock_guard lock(enable_mu_);
      if (!stopping_)
        for (int fd : ring.pt_fds) sys_.Ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
    }
    any |= read != 0;
  }
  return any;
}

void PtSession::Wait(int timeout_ms) {
  std::vector<int> fds;
  for (const Ring& r : rings_) fds.push_back(r.fd);
  sys_.Poll(fds, timeout_ms);
}

}  // namespace hwcov::collector
