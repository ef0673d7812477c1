// A stand-in for a kernel with Intel PT, behind the collector's
// PerfEventSys seam: it hands out event fds and ids, checks the ioctls and
// mmaps the way the kernel does (SET_OUTPUT only into a mapped buffer on
// the same CPU, the AUX area where the user page says), and plays a script
// of what happens on the traced machine -- sideband records into the data
// ring, PT bytes the hardware writes, context switches, forks and exits.
//
// The AUX area is run as the kernel runs it (kernel/events/ring_buffer.c,
// arch/x86/events/intel/pt.c): the hardware writes into the room
// perf_aux_output_begin granted from aux_tail; aux_head and PERF_RECORD_AUX
// are published only by perf_aux_output_end, i.e. at a PMI (the aux
// watermark, or one page before the hard stop), when the event is
// scheduled out or disabled, and when its task exits; running out of room
// ends the transaction TRUNCATED and disables the event until user space
// enables it again. Inherited child events (attr.inherit) are created at a
// fork, write into their parent's buffers and flush at the child's exit.
//
// It also models what decides whether a recording works on a real machine:
// the tasks' address spaces and how address filters bind to them (by inode
// and file offset, fake_address_filters.h), perf_mmap's locked-memory
// accounting, RLIMIT_NOFILE and tasks that exit while hwcov attaches.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fake_address_filters.h"
#include "intel_pt_attr.h"
#include "intel_pt_sys.h"

namespace hwcov::testing {

// A kernel record built independently of the collector's encoders:
// header, body fields, then the sample_id trailer of |sample_type|.
class RecordBuilder {
 public:
  RecordBuilder(uint32_t type, uint16_t misc) : type_(type), misc_(misc) {}
  template <typename T>
  RecordBuilder& Put(const T& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    body_.insert(body_.end(), p, p + sizeof v);
    return *this;
  }
  RecordBuilder& String(const std::string& s);  // NUL, padded to 8
  struct Trailer {
    uint32_t pid = 0, tid = 0;
    uint64_t time = 0;
    uint32_t cpu = 0;
    uint64_t id = 0;
  };
  std::vector<uint8_t> Build(uint64_t sample_type, const Trailer& t) const;

 private:
  uint32_t type_;
  uint16_t misc_;
  std::vector<uint8_t> body_;
};

class FakeKernel : public collector::PerfEventSys {
 public:
  struct Event {
    perf_event_attr attr{};
    pid_t pid = 0;
    int cpu = -1;
    int fd = -1;
    uint64_t id = 0;
    int output = -1;  // SET_OUTPUT target
    std::string filter;
    std::vector<FakeFilter> filters;  // as the kernel parsed |filter|
    int enables = 0, disables = 0;
    bool closed = false;
    // The event's state: counting (ENABLE, enable_on_exec, attr.disabled 0)
    // or off (DISABLE, or perf_event_disable_inatomic after a TRUNCATED
    // AUX transaction).
    bool enabled = false;
    int truncations = 0;  // times the kernel disabled it for a full AUX area
    // An inherited child event (inherit_event): the key of the event the
    // user opened, or -1. Children have no fd; events() lists them with
    // keys from kChildKeys.
    int parent = -1;
    bool exited = false;  // its task exited (perf_event_exit_task)
  };
  static constexpr int kChildKeys = 1 << 20;
  // One thing that happens on the traced machine.
  struct Step {
    enum Kind {
      kWrite,     // |bytes|: a record into the data ring, or PT (|aux|)
      kSchedOut,  // |tid| leaves the ring's CPU (pt_event_stop)
      kFork,      // |tid| forks |child| (perf_event_init_task, perf_event_fork)
      kExit,      // |tid| exits (perf_event_exit_task)
    };
    size_t ring = 0;  // index in mapping order
    // PT bytes that the hardware produces while |tid| runs on the ring's
    // CPU (it writes what fits: see above), or else a data-ring record.
    bool aux = false;
    std::vector<uint8_t> bytes;
    Kind kind = kWrite;
    pid_t tid = 0;  // the task; 0: the pid the ring's owner event was opened on
    pid_t child = 0;
    uint64_t time = 0;       // perf time of the records the kernel writes for it
    uint64_t aux_flags = 0;  // perf_aux_output_flag while writing (PARTIAL: VMX)
  };

  FakeKernel();
  ~FakeKernel() override;

  // --- configuration, before the recording ---
  // Decides each open: 0 accepts, -errno refuses. Default: accept, except
  // CPU-wide events (pid -1) unless allow_cpu_wide.
  std::function<int(const perf_event_attr&, pid_t, int)> on_open;
  bool allow_cpu_wide = false;
  int aux_map_error = 0;           // errno for the AUX mmap, 0: succeed
  int data_map_error = 0;          // errno for the data mmap
  collector::TimeConversion time;  // what the user pages offer
  // Called once, at the first Poll with an intel_pt event enabled
  // (everything is open and mapped then): what happens, in order.
  std::function<std::vector<Step>(FakeKernel&)> script;
  // Steps other than data records (PT writes, switches, forks, exits)
  // per Poll: the machine runs between hwcov's reads.
  size_t aux_steps_per_poll = 1;

  // The file mappings of each task (by pid; 0: of any task not listed).
  // For an event opened with enable_on_exec (a launched program) they are
  // the mmaps its exec makes, in order; otherwise the mm of the running
  // task.
  std::map<pid_t, std::vector<FakeVma>> mm;

  // perf_mmap's locked-memory accounting (kernel/events/core.c): each
  // mapping charges its pages to the user (user->locked_vm), up to
  // perf_event_mlock_kb x online CPUs; beyond that to the mm's pinned_vm
  // against RLIMIT_MEMLOCK, which only CAP_IPC_LOCK or paranoid -1 lifts
  // (CAP_PERFMON does not). EPERM past it.
  uint64_t mlock_kb = 516;
  int online_cpus = 2;
  uint64_t memlock_rlimit = 64 << 10;  // bytes
  bool cap_ipc_lock = false;
  int paranoid = 2;
  // Shared by the fake kernels of recordings by one user.
  std::shared_ptr<uint64_t> user_locked_pages = std::make_shared<uint64_t>(0);

  // RLIMIT_NOFILE: an open beyond |nofile_cur| descriptors fails with
  // EMFILE (alloc_fd via get_unused_fd_flags); RaiseFileLimit moves the
  // soft limit up to the hard one.
  uint64_t nofile_cur = 1024, nofile_max = 4096;

  // Tasks that have exited: opening an event on one fails with ESRCH
  // (find_lively_task_by_vpid). on_open may add to it.
  std::set<pid_t> exited;

  // Called once the whole script is in the rings (tests end the traced
  // program then, so that it "ran" exactly while the kernel wrote).
  std::function<void()> on_script_done;

  // --- PerfEventSys ---
  int Open(const perf_event_attr& attr, pid_t pid, int cpu) override;
  int Ioctl(int fd, unsigned long request, uintptr_t arg) override;
  void* Map(size_t length, int prot, int fd, off_t offset, int* error) override;
  void Unmap(void* address, size_t length) override;
  void Close(int fd) override;
  void Poll(std::span<const int> fds, int timeout_ms) override;
  int RaiseFileLimit() override;

  // --- inspection, after the recording ---
  std::vector<Event> events() const;
  const Event* EventByFd(int fd) const;
  size_t rings() const;
  bool aux_wrapped() const { return aux_wrapped_; }
  bool data_wrapped() const { return data_wrapped_; }
  // PT bytes the hardware had no room for or produced while its event was
  // off, and bytes committed with PERF_RECORD_AUX (perf_aux_output_end).
  uint64_t aux_lost_bytes() const;
  uint64_t aux_committed_bytes() const;
  size_t steps_written() const { return next_step_; }
  size_t open_fds() const;
  size_t live_mappings() const;
  // Where the hardware filters the event |fd| traces, one entry per filter
  // (nullopt: it bound to no mapping, so nothing in it is traced).
  std::vector<std::optional<FakeRange>> HardwareRanges(int fd) const;
  uint64_t pinned_pages() const { return pinned_pages_; }
  std::vector<size_t> aux_sizes() const;  // of the AUX areas mapped now

 private:
  // The PT driver's output handle (struct perf_output_handle) of the event
  // running on a ring's CPU, between perf_aux_output_begin and _end.
  struct AuxHandle {
    int event = -1;        // -1: no transaction (nothing traced)
    uint64_t head = 0;     // rb->aux_head when it began
    uint64_t size = 0;     // room granted: CIRC_SPACE(head, aux_tail)
    uint64_t written = 0;  // by the hardware since
    uint64_t int_at = 0;   // stream position of the ToPA INT marker
    uint64_t flags = 0;    // perf_aux_output_flag
  };
  struct Ring {
    int fd = -1;
    void* base = nullptr;
    size_t base_len = 0;
    void* aux = nullptr;
    size_t aux_len = 0;
    uint64_t aux_head = 0;    // rb->aux_head: what perf_aux_output_end published
    uint64_t aux_wakeup = 0;  // rb->aux_wakeup
    pid_t running = 0;        // the task on this CPU (0: none yet)
    AuxHandle handle;
  };
  bool WriteRecord(size_t ring, const std::vector<uint8_t>& bytes);  // false: no room yet
  void WriteTrace(size_t ring, const Step& step);
  void SchedIn(size_t ring, pid_t tid);
  void SchedOut(size_t ring);
  void Fork(size_t ring, pid_t parent, pid_t child, uint64_t at);
  void Exit(size_t ring, pid_t tid, uint64_t at);
  bool AuxBegin(size_t ring, int event);
  void AuxEnd(size_t ring);
  void SetEnabled(int key, bool on);
  std::optional<size_t> RingOf(int key) const;
  int PtEventOf(size_t ring, pid_t tid) const;
  int TrackingEventOf(size_t ring, pid_t tid) const;
  RecordBuilder::Trailer TrailerOf(const Event& e, pid_t tid) const;
  size_t open_fds_locked() const;
  void Pump();

  mutable std::mutex mu_;
  bool done_reported_ = false;
  std::map<int, Event> events_;
  std::vector<Ring> rings_;
  std::vector<Step> steps_;
  bool script_loaded_ = false;
  size_t next_step_ = 0;
  bool aux_wrapped_ = false, data_wrapped_ = false;
  int next_fd_ = 100;
  int next_child_key_ = kChildKeys;
  uint64_t next_id_ = 1000;
  uint64_t now_ = 1;  // perf time of the step being run
  uint64_t aux_lost_ = 0, aux_committed_ = 0;
  std::map<pid_t, pid_t> process_of_;    // tid -> pid, for forked children
  std::map<pid_t, uint32_t> parent_of_;  // forked child -> the parent's pid
  std::map<void*, size_t> mappings_;
  struct Charge {
    uint64_t user = 0, pinned = 0;  // pages
  };
  std::map<void*, Charge> charges_;
  uint64_t pinned_pages_ = 0;  // mm->pinned_vm
  int ChargeLocked(uint64_t pages, Charge* charge);
};

}  // namespace hwcov::testing
