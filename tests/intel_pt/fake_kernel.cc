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
      return 0;
    case PERF_EVENT_IOC_DISABLE:
      ++e.disables;
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
      *again = {fd, p, length, nullptr, 0};
    else
      rings_.push_back({fd, p, length, nullptr, 0});
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
  std::free(address);
  mappings_.erase(it);
  // perf_mmap_close / perf_aux_close hand the pages back.
  const Charge c = charges_[address];
  *user_locked_pages -= c.user;
  pinned_pages_ -= c.pinned;
  charges_.erase(address);
  for (Ring& r : rings_) {
    if (r.base == address) r.base = nullptr;
    if (r.aux == address) r.aux = nullptr;
  }
}

void FakeKernel::Close(int fd) {
  std::lock_guard lock(mu_);
  auto it = events_.find(fd);
  if (it != events_.end()) it->second.closed = true;
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

bool FakeKernel::WriteStep(const Step& step) {
  if (step.ring >= rings_.size() || !rings_[step.ring].base) return true;  // nowhere: drop
  Ring& r = rings_[step.ring];
  auto* pg = static_cast<perf_event_mmap_page*>(r.base);
  uint8_t* area;
  uint64_t size, head, tail;
  uint64_t* head_word;
  if (step.aux) {
    if (!r.aux) return true;
    area = static_cast<uint8_t*>(r.aux);
    size = r.aux_len;
    head_word = reinterpret_cast<uint64_t*>(&pg->aux_head);
    tail = __atomic_load_n(reinterpret_cast<uint64_t*>(&pg->aux_tail), __ATOMIC_ACQUIRE);
  } else {
    area = static_cast<uint8_t*>(r.base) + pg->data_offset;
    size = pg->data_size;
    head_word = reinterpret_cast<uint64_t*>(&pg->data_head);
    tail = __atomic_load_n(reinterpret_cast<uint64_t*>(&pg->data_tail), __ATOMIC_ACQUIRE);
  }
  head = *head_word;
  // perf_aux_output_begin sizes a write with CIRC_SPACE(head, tail, size),
  // which keeps one byte free so that a full ring differs from an empty
  // one; the data ring (perf_output_begin) may fill completely.
  const uint64_t keep_free = step.aux ? 1 : 0;
  if (size - keep_free - (head - tail) < step.bytes.size()) return false;
  const uint64_t at = head & (size - 1);
  const uint64_t first = std::min<uint64_t>(step.bytes.size(), size - at);
  std::memcpy(area + at, step.bytes.data(), first);
  std::memcpy(area, step.bytes.data() + first, step.bytes.size() - first);
  if (first < step.bytes.size()) (step.aux ? aux_wrapped_ : data_wrapped_) = true;
  __atomic_store_n(head_word, head + step.bytes.size(), __ATOMIC_RELEASE);
  return true;
}

void FakeKernel::Pump() {
  if (!script_loaded_) {
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
    if (step.aux && aux_written == aux_steps_per_poll) break;
    if (!WriteStep(step)) break;
    aux_written += step.aux;
    ++next_step_;
  }
}

void FakeKernel::Poll(std::span<const int>, int) {
  bool report = false;
  {
    std::lock_guard lock(mu_);
    Pump();
    report = next_step_ >= steps_.size() && !done_reported_;
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
  for (const auto& [fd, e] : events_) n += !e.closed;
  return n;
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
