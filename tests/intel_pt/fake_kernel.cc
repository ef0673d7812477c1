#include "fake_kernel.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace hwcov::testing {
namespace {

size_t PageSize() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

bool IsPowerOfTwo(uint64_t v) { return v && !(v & (v - 1)); }

// Events that write into the AUX area (intel_pt), not the sideband dummies.
bool IsAuxEvent(const perf_event_attr& a) { return a.type != PERF_TYPE_SOFTWARE; }

}  // namespace

RecordBuilder& RecordBuilder::String(const std::string& s) {
  body_.insert(body_.end(), s.begin(), s.end());
  body_.resize((body_.size() + 1 + 7) & ~size_t{7}, 0);
  return *this;
}

std::vector<uint8_t> RecordBuilder::Build(uint64_t st, const Trailer& t) const {
  RecordBuilder r = *this;
  if (st & PERF_SAMPLE_TID) r.Put(t.pid).Put(t.tid);
  if (st & PERF_SAMPLE_TIME) r.Put(t.time);
  if (st & PERF_SAMPLE_ID) r.Put(t.id);
  if (st & PERF_SAMPLE_STREAM_ID) r.Put(t.id);
  if (st & PERF_SAMPLE_CPU) r.Put(t.cpu).Put(uint32_t{0});
  if (st & PERF_SAMPLE_IDENTIFIER) r.Put(t.id);
  perf_event_header h{type_, misc_,
                      static_cast<uint16_t>(sizeof(perf_event_header) + r.body_.size())};
  std::vector<uint8_t> out;
  out.reserve(h.size);
  const auto* hp = reinterpret_cast<const uint8_t*>(&h);
  out.insert(out.end(), hp, hp + sizeof h);
  out.insert(out.end(), r.body_.begin(), r.body_.end());
  return out;
}

FakeKernel::FakeKernel() = default;

FakeKernel::~FakeKernel() {
  for (auto& [p, len] : mappings_) std::free(p);
}

int FakeKernel::Open(const perf_event_attr& attr, pid_t pid, int cpu) {
  std::lock_guard lock(mu_);
  if (pid > 0 && exited.count(pid)) return -ESRCH;  // find_lively_task_by_vpid
  int verdict = 0;
  if (on_open)
    verdict = on_open(attr, pid, cpu);
  else if (pid == -1 && !allow_cpu_wide)
    verdict = -EACCES;
  if (verdict < 0) return verdict;
  if (open_fds_locked() >= nofile_cur) return -EMFILE;
  Event e;
  e.attr = attr;
  e.pid = pid;
  e.cpu = cpu;
  e.fd = next_fd_++;
  e.id = next_id_++;
  e.enabled = !attr.disabled;
  events_[e.fd] = e;
  return e.fd;
}

int FakeKernel::Ioctl(int fd, unsigned long request, uintptr_t arg) {
  std::lock_guard lock(mu_);
  auto it = events_.find(fd);
  if (it == events_.end() || it->second.closed) return -EBADF;
  Event& e = it->second;
  switch (request) {
    case PERF_EVENT_IOC_ID:
      *reinterpret_cast<uint64_t*>(arg) = e.id;
      return 0;
    case PERF_EVENT_IOC_SET_OUTPUT: {
      auto target = events_.find(static_cast<int>(arg));
      if (target == events_.end() || target->first == fd) return -EINVAL;
      // kernel/events/core.c perf_event_set_output: same CPU, and the
      // target's buffer must exist (be mapped) already.
      if (target->second.cpu != e.cpu) return -EINVAL;
      if (target->second.cpu == -1 && target->second.pid != e.pid) return -EINVAL;
      bool mapped = false;
      for (const Ring& r : rings_) mapped |= r.fd == target->first && r.base;
      if (!mapped) return -EINVAL;
      e.output = target->first;
      return 0;
    }
    case PERF_EVENT_IOC_SET_FILTER: {
      if (e.attr.type == PERF_TYPE_SOFTWARE) return -EINVAL;
      // perf_event_set_addr_filter: parse, then bind to the task's mm.
      std::vector<FakeFilter> parsed;
      const char* text = reinterpret_cast<const char*>(arg);
      if (int r = ParseKernelFilters(text, &parsed); r < 0) return r;
      e.filter = text;
      e.filters = std::move(parsed);
      return 0;
    }
    case PERF_EVENT_IOC_ENABLE:
      ++e.enables;
      SetEnabled(fd, true);
      return 0;
    case PERF_EVENT_IOC_DISABLE:
      ++e.disables;
      SetEnabled(fd, false);
      return 0;
    default:
      return -ENOTTY;
  }
}

void* FakeKernel::Map(size_t length, int prot, int fd, off_t offset, int* error) {
  std::lock_guard lock(mu_);
  auto it = events_.find(fd);
  if (it == events_.end()) {
    *error = EBADF;
    return nullptr;
  }
  const Event& e = it->second;
  const size_t page = PageSize();
  if (offset == 0) {
    // perf_mmap: 1 + 2^n pages; no buffer for inherited per-task events.
    if (length < 2 * page || length % page || !IsPowerOfTwo(length / page - 1) ||
        (e.attr.inherit && e.cpu == -1) || !(prot & PROT_WRITE)) {
      *error = EINVAL;
      return nullptr;
    }
    if (data_map_error) {
      *error = data_map_error;
      return nullptr;
    }
    Charge charge;
    if (int r = ChargeLocked(length / page, &charge); r < 0) {
      *error = -r;
      return nullptr;
    }
    void* p = std::aligned_alloc(page, length);
    std::memset(p, 0, length);
    mappings_[p] = length;
    charges_[p] = charge;
    auto* pg = static_cast<perf_event_mmap_page*>(p);
    pg->data_offset = page;
    pg->data_size = length - page;
    pg->time_shift = time.time_shift;
    pg->time_mult = time.time_mult;
    pg->time_zero = time.time_zero;
    pg->cap_user_time_zero = time.cap_user_time_zero;
    // A buffer mapped again after an munmap is the same ring.
    auto again = std::find_if(rings_.begin(), rings_.end(),
                              [&](const Ring& r) { return r.fd == fd && !r.base; });
    if (again != rings_.end())
      *again = Ring{fd, p, length, nullptr, 0, 0, 0, 0, AuxHandle{}};
    else
      rings_.push_back(Ring{fd, p, length, nullptr, 0, 0, 0, 0, AuxHandle{}});
    return p;
  }
  for (Ring& r : rings_) {
    if (r.fd != fd || !r.base) continue;
    auto* pg = static_cast<perf_event_mmap_page*>(r.base);
    if (pg->aux_offset != static_cast<uint64_t>(offset) || pg->aux_size != length ||
        offset < static_cast<off_t>(r.base_len) || !IsPowerOfTwo(length / page) || length % page) {
      *error = EINVAL;
      return nullptr;
    }
    if (aux_map_error) {
      *error = aux_map_error;
      return nullptr;
    }
    Charge charge;
    if (int refused = ChargeLocked(length / page, &charge); refused < 0) {
      *error = -refused;
      return nullptr;
    }
    void* p = std::aligned_alloc(page, length);
    std::memset(p, 0, length);
    mappings_[p] = length;
    charges_[p] = charge;
    r.aux = p;
    r.aux_len = length;
    return p;
  }
  *error = EINVAL;  // AUX before the data buffer
  return nullptr;
}

void FakeKernel::Unmap(void* address, size_t length) {
  std::lock_guard lock(mu_);
  auto it = mappings_.find(address);
  if (it == mappings_.end() || it->second != length) std::abort();  // a bad munmap is a bug
  for (size_t i = 0; i < rings_.size(); ++i) {
    Ring& r = rings_[i];
    // perf_mmap_close stops the AUX transaction before the pages go.
    if ((r.base == address || r.aux == address) && r.handle.event >= 0) AuxEnd(i);
    if (r.base == address) r.base = nullptr;
    if (r.aux == address) r.aux = nullptr;
  }
  std::free(address);
  mappings_.erase(it);
  // perf_mmap_close / perf_aux_close hand the pages back.
  const Charge c = charges_[address];
  *user_locked_pages -= c.user;
  pinned_pages_ -= c.pinned;
  charges_.erase(address);
}

void FakeKernel::Close(int fd) {
  std::lock_guard lock(mu_);
  if (!events_.count(fd)) return;
  // perf_release -> perf_event_release_kernel: the children go with it.
  for (auto& [key, e] : events_) {
    if (key != fd && e.parent != fd) continue;
    for (size_t i = 0; i < rings_.size(); ++i)
      if (rings_[i].handle.event == key) AuxEnd(i);
    e.closed = true;
  }
}

int FakeKernel::ChargeLocked(uint64_t pages, Charge* charge) {
  // perf_mmap (perf_mmap_calc_limits in 6.x): the data buffer counts its
  // 2^n pages plus the user page, the AUX area its pages.
  const uint64_t user_limit = (mlock_kb >> 2) * static_cast<uint64_t>(online_cpus);
  // Since 5.5 ("perf/core: Fix mlock accounting in perf_mmap()") only this
  // mapping's overflow counts once the user is past the limit.
  const uint64_t user_locked = std::min(*user_locked_pages, user_limit) + pages;
  const uint64_t extra = user_locked > user_limit ? user_locked - user_limit : 0;
  const uint64_t lock_limit = memlock_rlimit / PageSize();
  if (pinned_pages_ + extra > lock_limit && paranoid > -1 && !cap_ipc_lock) return -EPERM;
  charge->user = pages - extra;
  charge->pinned = extra;
  *user_locked_pages += charge->user;
  pinned_pages_ += charge->pinned;
  return 0;
}

int FakeKernel::RaiseFileLimit() {
  std::lock_guard lock(mu_);
  if (nofile_cur >= nofile_max) return -EPERM;
  nofile_cur = nofile_max;
  return 0;
}

std::vector<std::optional<FakeRange>> FakeKernel::HardwareRanges(int fd) const {
  std::lock_guard lock(mu_);
  std::vector<std::optional<FakeRange>> out;
  auto it = events_.find(fd);
  if (it == events_.end()) return out;
  const Event& e = it->second;
  auto space = mm.find(e.pid);
  if (space == mm.end()) space = mm.find(0);
  for (const FakeFilter& f : e.filters) {
    if (space == mm.end())
      out.push_back(std::nullopt);
    else if (e.attr.enable_on_exec)
      out.push_back(ApplyAfterExec(f, space->second));
    else
      out.push_back(ApplyToRunningTask(f, space->second));
  }
  return out;
}

std::optional<size_t> FakeKernel::RingOf(int key) const {
  auto it = events_.find(key);
  if (it == events_.end()) return std::nullopt;
  const Event* e = &it->second;
  // An inherited event writes into its parent's buffer: "if
  // (event->parent) event = event->parent" in perf_aux_output_begin and
  // __perf_output_begin; the parent's may be redirected (SET_OUTPUT).
  if (e->parent >= 0) e = &events_.at(e->parent);
  const int owner = e->output >= 0 ? e->output : e->fd;
  for (size_t i = 0; i < rings_.size(); ++i)
    if (rings_[i].fd == owner) return i;
  return std::nullopt;
}

int FakeKernel::PtEventOf(size_t ring, pid_t tid) const {
  for (const auto& [key, e] : events_)
    if (IsAuxEvent(e.attr) && e.pid == tid && !e.closed && !e.exited && RingOf(key) == ring)
      return key;
  return -1;
}

int FakeKernel::TrackingEventOf(size_t ring, pid_t tid) const {
  for (const auto& [key, e] : events_)
    if (!IsAuxEvent(e.attr) && e.attr.task && e.pid == tid && !e.closed && !e.exited &&
        RingOf(key) == ring)
      return key;
  return -1;
}

RecordBuilder::Trailer FakeKernel::TrailerOf(const Event& e, pid_t tid) const {
  auto process = process_of_.find(tid);
  const pid_t pid = process == process_of_.end() ? tid : process->second;
  // perf_event_header__init_id: PERF_SAMPLE_ID is primary_event_id(), the
  // parent's id for an inherited event.
  const uint64_t id = e.parent >= 0 ? events_.at(e.parent).id : e.id;
  return {static_cast<uint32_t>(pid), static_cast<uint32_t>(tid), now_,
          static_cast<uint32_t>(e.cpu < 0 ? 0 : e.cpu), id};
}

bool FakeKernel::WriteRecord(size_t ring, const std::vector<uint8_t>& bytes) {
  Ring& r = rings_[ring];
  if (!r.base) return true;  // nowhere: dropped
  auto* pg = static_cast<perf_event_mmap_page*>(r.base);
  uint8_t* area = static_cast<uint8_t*>(r.base) + pg->data_offset;
  const uint64_t size = pg->data_size;
  auto* head_word = reinterpret_cast<uint64_t*>(&pg->data_head);
  const uint64_t tail =
      __atomic_load_n(reinterpret_cast<uint64_t*>(&pg->data_tail), __ATOMIC_ACQUIRE);
  const uint64_t head = *head_word;
  // perf_output_begin: the data ring may fill completely.
  if (size - (head - tail) < bytes.size()) return false;
  const uint64_t at = head & (size - 1);
  const uint64_t first = std::min<uint64_t>(bytes.size(), size - at);
  std::memcpy(area + at, bytes.data(), first);
  std::memcpy(area, bytes.data() + first, bytes.size() - first);
  if (first < bytes.size()) data_wrapped_ = true;
  __atomic_store_n(head_word, head + bytes.size(), __ATOMIC_RELEASE);
  return true;
}

bool FakeKernel::AuxBegin(size_t ring, int key) {
  Ring& r = rings_[ring];
  Event& e = events_.at(key);
  if (!r.base || !r.aux) return false;  // rb_has_aux
  auto* pg = static_cast<perf_event_mmap_page*>(r.base);
  const uint64_t size = r.aux_len;
  const uint64_t page = PageSize();
  const uint64_t tail =
      __atomic_load_n(reinterpret_cast<uint64_t*>(&pg->aux_tail), __ATOMIC_ACQUIRE);
  // perf_aux_output_begin (non-overwrite: the AUX mmap is writable): the
  // room is CIRC_SPACE(aux_head, aux_tail), which keeps one byte free so
  // that a full ring differs from an empty one. No room: the event is
  // disabled (perf_event_disable_inatomic) and nothing is traced.
  const uint64_t used = r.aux_head - tail;
  const uint64_t room = used < size ? size - 1 - used : 0;
  if (room == 0) {
    e.enabled = false;
    ++e.truncations;
    return false;
  }
  r.handle = AuxHandle{key, r.aux_head, room, 0, 0, 0};
  // pt_buffer_reset_markers: "can't stop in the middle of an output
  // region" (a region is one page here): TRUNCATED, perf_aux_output_end(0).
  if ((r.aux_head & (page - 1)) + room + 1 < page) {
    r.handle.flags |= PERF_AUX_FLAG_TRUNCATED;
    AuxEnd(ring);
    return false;
  }
  // The ToPA STOP marker at the end of the room; the INT marker at the
  // wakeup watermark (handle->wakeup = aux_wakeup + aux_watermark), "in the
  // worst case, wake up the consumer one page before hard stop". Byte
  // positions stand in for the driver's page-granular markers.
  const Event& owner = events_.at(rings_[ring].fd);
  const uint64_t watermark = owner.attr.aux_watermark ? owner.attr.aux_watermark : size / 2;
  const uint64_t stop = r.aux_head + room;
  uint64_t pmi = stop;
  for (uint64_t candidate : {r.aux_wakeup + watermark, stop > page ? stop - page : 0})
    if (candidate > r.aux_head && candidate < pmi) pmi = candidate;
  r.handle.int_at = pmi;
  return true;
}

void FakeKernel::AuxEnd(size_t ring) {
  Ring& r = rings_[ring];
  const AuxHandle h = r.handle;
  r.handle = AuxHandle{};
  if (h.event < 0) return;
  Event& e = events_.at(h.event);
  // perf_aux_output_end: aux_head moves by what the hardware wrote, and a
  // PERF_RECORD_AUX says so when there is data or a flag to tell.
  const uint64_t offset = r.aux_head;
  r.aux_head += h.written;
  aux_committed_ += h.written;
  if (h.written || h.flags) {
    RecordBuilder aux(PERF_RECORD_AUX, 0);
    aux.Put(offset).Put(uint64_t{h.written}).Put(h.flags);
    // A full data ring drops it (the kernel would count a PERF_RECORD_LOST).
    WriteRecord(ring, aux.Build(e.attr.sample_type, TrailerOf(e, e.pid)));
  }
  if (r.base) {
    auto* pg = static_cast<perf_event_mmap_page*>(r.base);
    __atomic_store_n(reinterpret_cast<uint64_t*>(&pg->aux_head), r.aux_head, __ATOMIC_RELEASE);
  }
  const Event& owner = events_.at(r.fd);
  const uint64_t watermark = owner.attr.aux_watermark ? owner.attr.aux_watermark : r.aux_len / 2;
  if (r.aux_head - r.aux_wakeup >= watermark)  // rb_need_aux_wakeup
    r.aux_wakeup = r.aux_head - r.aux_head % watermark;
  // A TRUNCATED transaction disables the event until user space enables
  // it again.
  if (h.flags & PERF_AUX_FLAG_TRUNCATED) {
    e.enabled = false;
    ++e.truncations;
  }
}

void FakeKernel::WriteTrace(size_t ring, const Step& step) {
  Ring& r = rings_[ring];
  const pid_t tid = step.tid ? step.tid : events_.at(r.fd).pid;
  if (r.running != tid) SchedIn(ring, tid);
  if (r.handle.event >= 0) r.handle.flags |= step.aux_flags;  // intel_pt_handle_vmx
  const uint64_t size = r.aux_len;
  size_t pos = 0;
  while (pos < step.bytes.size()) {
    AuxHandle& h = r.handle;
    if (h.event < 0 || !r.aux) {  // not traced: the event is off
      aux_lost_ += step.bytes.size() - pos;
      return;
    }
    // The hardware writes up to the STOP marker at the end of the room.
    const uint64_t at = h.head + h.written;
    const uint64_t n = std::min<uint64_t>(step.bytes.size() - pos, h.size - h.written);
    auto* area = static_cast<uint8_t*>(r.aux);
    const uint64_t offset = at & (size - 1);
    const uint64_t first = std::min<uint64_t>(n, size - offset);
    std::memcpy(area + offset, step.bytes.data() + pos, first);
    std::memcpy(area, step.bytes.data() + pos + first, n - first);
    if (first < n) aux_wrapped_ = true;
    h.written += n;
    pos += n;
    const bool stopped = h.written == h.size;
    // intel_pt_interrupt, at the INT or STOP marker: pt_config_stop first,
    // so the output ends where the hardware finished its packets (the end
    // of this write) unless STOP cut it; pt_handle_status flags TRUNCATED
    // for STOP; perf_aux_output_end; then a new perf_aux_output_begin
    // unless the event is off.
    if (!stopped && h.head + h.written < h.int_at) continue;
    const int event = h.event;
    if (stopped) h.flags |= PERF_AUX_FLAG_TRUNCATED;
    AuxEnd(ring);
    if (events_.at(event).enabled) AuxBegin(ring, event);
  }
}

void FakeKernel::SchedIn(size_t ring, pid_t tid) {
  Ring& r = rings_[ring];
  if (r.running) SchedOut(ring);
  r.running = tid;
  // pmu::add -> pt_event_start -> perf_aux_output_begin.
  const int event = PtEventOf(ring, tid);
  if (event >= 0 && events_.at(event).enabled) AuxBegin(ring, event);
}

void FakeKernel::SchedOut(size_t ring) {
  // pmu::del -> pt_event_stop(PERF_EF_UPDATE) -> perf_aux_output_end.
  AuxEnd(ring);
  rings_[ring].running = 0;
}

void FakeKernel::SetEnabled(int key, bool on) {
  // _perf_ioctl applies ENABLE/DISABLE with perf_event_for_each_child: the
  // event and the events inherited from it.
  for (auto& [k, e] : events_) {
    if ((k != key && e.parent != key) || e.exited || e.enabled == on) continue;
    e.enabled = on;
    const std::optional<size_t> ring = RingOf(k);
    if (!ring || !IsAuxEvent(e.attr)) continue;
    Ring& r = rings_[*ring];
    if (on && r.running == e.pid && r.handle.event < 0)
      AuxBegin(*ring, k);  // event_sched_in -> pt_event_start
    else if (!on && r.handle.event == k)
      AuxEnd(*ring);  // event_sched_out -> pt_event_stop
  }
}

void FakeKernel::Fork(size_t ring, pid_t parent, pid_t child, uint64_t at) {
  // perf_event_init_task -> inherit_task_group -> inherit_event: each
  // inheritable event of the parent (on every CPU) gets a child event on
  // the same CPU, in the state of its parent, with its own id and the
  // parent's address filters (pt_addr_filters_init).
  std::vector<int> inherited;
  for (const auto& [key, e] : events_)
    if (e.pid == parent && e.attr.inherit && !e.closed && !e.exited) inherited.push_back(key);
  for (int key : inherited) {
    const Event& from = events_.at(key);
    Event c = from;
    c.parent = from.parent >= 0 ? from.parent : key;  // children of children hang off the original
    c.pid = child;
    c.fd = -1;
    c.id = next_id_++;
    c.output = -1;
    c.enables = c.disables = c.truncations = 0;
    events_[next_child_key_++] = c;
  }
  process_of_[child] = child;
  // perf_event_fork -> perf_event_task: PERF_RECORD_FORK to the parent's
  // sideband events on this CPU (the child's are not in the parent's context).
  const int tracking = TrackingEventOf(ring, parent);
  if (tracking < 0) return;
  const Event& e = events_.at(tracking);
  const auto pid_of = [&](pid_t tid) {
    auto it = process_of_.find(tid);
    return static_cast<uint32_t>(it == process_of_.end() ? tid : it->second);
  };
  RecordBuilder fork(PERF_RECORD_FORK, 0);
  fork.Put(pid_of(child)).Put(pid_of(parent)).Put(static_cast<uint32_t>(child));
  fork.Put(static_cast<uint32_t>(parent)).Put(at);
  WriteRecord(ring, fork.Build(e.attr.sample_type, TrailerOf(e, parent)));
  parent_of_[child] = pid_of(parent);
}

void FakeKernel::Exit(size_t ring, pid_t tid, uint64_t at) {
  // perf_event_exit_task -> perf_event_exit_task_context: the task's events
  // are scheduled out first (pt_event_stop flushes its AUX data), then
  // PERF_RECORD_EXIT, "so that we won't get any samples after
  // PERF_RECORD_EXIT"; then the events end (perf_event_exit_event).
  for (size_t i = 0; i < rings_.size(); ++i)
    if (rings_[i].running == tid) SchedOut(i);
  const int tracking = TrackingEventOf(ring, tid);
  if (tracking >= 0) {
    const Event& e = events_.at(tracking);
    auto process = process_of_.find(tid);
    const uint32_t pid =
        static_cast<uint32_t>(process == process_of_.end() ? tid : process->second);
    auto parent = parent_of_.find(tid);
    const uint32_t ppid =
        parent == parent_of_.end() ? static_cast<uint32_t>(getpid()) : parent->second;
    RecordBuilder exit(PERF_RECORD_EXIT, 0);
    exit.Put(pid).Put(ppid).Put(static_cast<uint32_t>(tid)).Put(ppid).Put(at);
    WriteRecord(ring, exit.Build(e.attr.sample_type, TrailerOf(e, tid)));
  }
  for (auto& [key, e] : events_)
    if (e.pid == tid) e.exited = true;
}

void FakeKernel::Pump() {
  if (!script_loaded_) {
    // The launched program's exec: perf_event_enable_on_exec.
    bool tracing = false;
    for (auto& [key, e] : events_) {
      if (e.attr.enable_on_exec && !e.closed) e.enabled = true;
      tracing |= e.enabled && IsAuxEvent(e.attr);
    }
    // The script is what runs while hwcov traces: it starts once tracing
    // is on (an attached process is enabled by ioctl after the first Poll
    // may have come).
    if (!tracing) return;
    script_loaded_ = true;
    if (script) {
      mu_.unlock();  // the script inspects events()
      std::vector<Step> steps = script(*this);
      mu_.lock();
      steps_ = std::move(steps);
    }
  }
  size_t aux_written = 0;
  while (next_step_ < steps_.size()) {
    const Step& step = steps_[next_step_];
    if (step.ring < rings_.size() && rings_[step.ring].base) {  // else nowhere: dropped
      if (step.time) now_ = step.time;
      const pid_t tid = step.tid ? step.tid : events_.at(rings_[step.ring].fd).pid;
      const bool record = step.kind == Step::kWrite && !step.aux;
      if (!record && aux_written == aux_steps_per_poll) return;
      aux_written += !record;
      switch (step.kind) {
        case Step::kWrite:
          if (step.aux)
            WriteTrace(step.ring, step);
          else if (!WriteRecord(step.ring, step.bytes))
            return;  // the reader frees room first
          break;
        case Step::kSchedOut:
          if (rings_[step.ring].running == tid) SchedOut(step.ring);
          break;
        case Step::kFork:
          Fork(step.ring, tid, step.child, now_);
          break;
        case Step::kExit:
          Exit(step.ring, tid, now_);
          break;
      }
    }
    ++next_step_;
  }
}

void FakeKernel::Poll(std::span<const int>, int) {
  bool report = false;
  {
    std::lock_guard lock(mu_);
    Pump();
    report = script_loaded_ && next_step_ >= steps_.size() && !done_reported_;
    done_reported_ |= report;
  }
  if (report && on_script_done) on_script_done();
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

std::vector<FakeKernel::Event> FakeKernel::events() const {
  std::lock_guard lock(mu_);
  std::vector<Event> out;
  for (const auto& [fd, e] : events_) out.push_back(e);
  return out;
}

const FakeKernel::Event* FakeKernel::EventByFd(int fd) const {
  std::lock_guard lock(mu_);
  auto it = events_.find(fd);
  return it == events_.end() ? nullptr : &it->second;
}

size_t FakeKernel::rings() const {
  std::lock_guard lock(mu_);
  return rings_.size();
}

size_t FakeKernel::open_fds() const {
  std::lock_guard lock(mu_);
  return open_fds_locked();
}

size_t FakeKernel::open_fds_locked() const {
  size_t n = 0;
  for (const auto& [fd, e] : events_) n += !e.closed && e.parent < 0;
  return n;
}

uint64_t FakeKernel::aux_lost_bytes() const {
  std::lock_guard lock(mu_);
  return aux_lost_;
}

uint64_t FakeKernel::aux_committed_bytes() const {
  std::lock_guard lock(mu_);
  return aux_committed_;
}

std::vector<size_t> FakeKernel::aux_sizes() const {
  std::lock_guard lock(mu_);
  std::vector<size_t> out;
  for (const Ring& r : rings_)
    if (r.aux) out.push_back(r.aux_len);
  return out;
}

size_t FakeKernel::live_mappings() const {
  std::lock_guard lock(mu_);
  return mappings_.size();
}

}  // namespace hwcov::testing
