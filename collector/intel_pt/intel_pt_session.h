// The perf events of one recording and their ring buffers, set up as
// perf record sets them up (util/evlist.c, util/mmap.c, util/auxtrace.c):
// per CPU, an intel_pt event per traced thread, the first one owning the
// buffers (data ring + AUX area) and every other event of that CPU
// redirected into them with PERF_EVENT_IOC_SET_OUTPUT; per thread (no
// inherit), the same per thread with cpu -1. Address filters go to each
// intel_pt event with PERF_EVENT_IOC_SET_FILTER.
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hwcov/trace.h"
#include "intel_pt_access.h"
#include "intel_pt_attr.h"
#include "intel_pt_ring.h"
#include "intel_pt_sys.h"

namespace hwcov::collector {

struct SessionPlan {
  EventPlan events;
  perf_event_attr pt{};
  perf_event_attr tracking{};
  std::optional<perf_event_attr> cpu_wide_switch;  // opened with pid -1 on each CPU
  std::vector<int> cpus;                           // per-CPU mode: the CPUs to trace on
  std::vector<pid_t> tids;                         // the threads to open events for
  std::string filter;                              // kernel address-filter string, or empty
  uint64_t data_bytes = 256 << 10;                 // data ring size (power of two pages)
  // Sizes hwcov chose (not --buffer-size): halve them while the kernel
  // refuses the mapping for lack of locked memory.
  bool fit_buffers = false;
  uint64_t page_size = 4096;
  pid_t attach_pid = 0;  // for messages when opening fails
};

// Which buffer a read came from: perf's mmap idx, tid and cpu.
struct RingInfo {
  uint32_t idx = 0;
  int cpu = -1;
  pid_t tid = -1;
};

class RingSink {
 public:
  virtual ~RingSink() = default;
  virtual void OnRecord(const RingInfo& ring, std::span<const uint8_t> record) = 0;
  virtual void OnAux(const RingInfo& ring, const AuxRead& read) = 0;
};

class PtSession {
 public:
  // Opens, redirects, filters and maps everything; throws hwcov::Error with
  // the cause and the remedy when the kernel refuses.
  PtSession(PerfEventSys& sys, SessionPlan plan, const PerfAccess& access);
  ~PtSession();
  PtSession(const PtSession&) = delete;
  PtSession& operator=(const PtSession&) = delete;

  // The attrs as opened (intel_pt first, then the sideband dummies), with
  // the ids the kernel assigned: what perf.data's attr section holds.
  std::vector<trace::RawAttr> Attrs() const;
  uint64_t tracking_id() const;
  // The threads events were opened for: plan.tids less those that ended
  // while hwcov attached (perf skips them too).
  const std::vector<pid_t>& traced_tids() const { return tids_; }
  // Whether MMAP2 records carry build ids (the kernel accepted attr.build_id).
  bool mmap_build_id() const { return plan_.tracking.build_id; }
  TimeConversion time_conversion() const;
  size_t ring_count() const { return rings_.size(); }
  // The buffer sizes mapped, and how often they were halved to fit.
  uint64_t aux_bytes() const { return plan_.events.aux_bytes; }
  uint64_t data_bytes() const { return plan_.data_bytes; }
  int shrinks() const { return shrinks_; }

  void Enable();  // attached processes: start tracing now
  // Stops tracing; the kernel then writes out the last AUX data. Later
  // drains no longer re-enable events.
  void Disable();
  // One pass over every ring; true if anything was read.
  bool Drain(RingSink& sink);
  void Wait(int timeout_ms);

 private:
  enum Kind { kPt, kTracking, kSwitch };
  struct Event {
    Kind kind;
    int fd;
    uint64_t id;
    int cpu;
    pid_t tid;
  };
  struct Ring {
    RingInfo info;
    int fd = -1;
    void* base = nullptr;
    size_t base_len = 0;
    void* aux = nullptr;
    size_t aux_len = 0;
    std::unique_ptr<DataRing> data;
    std::unique_ptr<AuxRing> aux_ring;
    std::vector<int> redirected;  // the other events writing into these buffers
    std::vector<int> pt_fds;      // re-enabled after each AUX read
  };

  void Release();
  int TryOpen(Kind kind, const perf_event_attr& attr, pid_t pid, int cpu);
  int OpenEvent(Kind kind, const perf_event_attr& attr, pid_t pid, int cpu);
  // The intel_pt and tracking events of |tid|, or nullopt for a thread
  // (not the process itself) that no longer exists.
  std::optional<std::pair<int, int>> OpenThread(pid_t tid, int cpu);
  bool ThreadEnded(int fd, pid_t tid);
  void AddToRing(size_t ring, const Event& event);
  void MapRings();
  int MapRing(Ring& ring);  // 0 or the errno of the refused mmap
  void UnmapRings();
  bool ShrinkBuffers();
  std::string Describe(int error, Kind kind, pid_t tid) const;

  PerfEventSys& sys_;
  SessionPlan plan_;
  PerfAccess access_;
  std::vector<Event> events_;
  std::vector<pid_t> tids_;
  std::vector<Ring> rings_;
  // Drain (reader thread) re-enables events, Disable (main thread) stops
  // them: never an ENABLE after the DISABLE.
  std::mutex enable_mu_;
  bool stopping_ = false;
  bool raised_file_limit_ = false;
  bool mapping_aux_ = false;  // which mmap MapRing last tried
  int shrinks_ = 0;
};

}  // namespace hwcov::collector
