#include "intel_pt_recorder.h"

#include <cpuid.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <x86intrin.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <fstream>
#include <iomanip>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "hwcov/process.h"
#include "hwcov/trace.h"
#include "hwcov/version.h"
#include "intel_pt_attr.h"
#include "intel_pt_binaries.h"
#include "intel_pt_filter.h"
#include "intel_pt_live_queue.h"
#include "intel_pt_loss.h"
#include "intel_pt_mounts.h"
#include "intel_pt_pmu.h"
#include "intel_pt_session.h"
#include "intel_pt_sideband.h"
#include "intel_pt_workload.h"
#include "process_maps.h"
#include "stop_signals.h"
#include "trace_output.h"

namespace hwcov::collector {
namespace {

namespace fs = std::filesystem;

std::string ReadLine(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// PT (and sideband) queued for the live decoder before the ring reader
// waits: a range of the stream decoder (8 MiB) takes it ~0.1 s to decode,
// while the hardware writes up to a few hundred MB/s.
constexpr uint64_t kLiveQueueBytes = 64 << 20;

uint64_t PageSize() { return static_cast<uint64_t>(sysconf(_SC_PAGESIZE)); }

std::pair<uint32_t, uint32_t> CpuTscCtcRatio() {
  // perf's intel_pt_tsc_ctc_ratio: CPUID.15H ebx (numerator) / eax
  // (denominator); 0 when the leaf does not exist.
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  __get_cpuid(0x15, &eax, &ebx, &ecx, &edx);
  return {ebx, eax};
}

// perf's get_cpuid for x86 ("GenuineIntel,6,142,10"), which selects
// libipt's errata workarounds when decoding, and the model name.
std::map<std::string, std::string> HostStrings(const fs::path& cpuinfo) {
  std::map<std::string, std::string> s;
  std::ifstream in(cpuinfo);
  std::string line, vendor, family, model, stepping, name;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, line.find_first_of("\t:"));
    while (!key.empty() && key.back() == ' ') key.pop_back();
    std::string value = line.substr(std::min(line.size(), colon + 2));
    if (key == "vendor_id" && vendor.empty()) vendor = value;
    if (key == "cpu family" && family.empty()) family = value;
    if (key == "model" && model.empty()) model = value;
    if (key == "stepping" && stepping.empty()) stepping = value;
    if (key == "model name" && name.empty()) name = value;
  }
  if (!vendor.empty()) s["cpuid"] = vendor + "," + family + "," + model + "," + stepping;
  if (!name.empty()) s["cpudesc"] = name;
  utsname u{};
  if (uname(&u) == 0) {
    s["hostname"] = u.nodename;
    s["osrelease"] = u.release;
    s["arch"] = u.machine;
  }
  s["perf_version"] = kVersionString;
  return s;
}

bool IsElf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in && std::memcmp(magic, "\177ELF", 4) == 0;
}

bool HasGlob(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

// Opens and closes a user-only software event |config| on |pid| / |cpu|, as
// perf probes what it may do: 0, or the negative errno of the refusal.
int ProbeSoftwareEvent(PerfEventSys& sys, uint64_t config, bool exclude_hv, pid_t pid, int cpu) {
  perf_event_attr a;
  std::memset(&a, 0, sizeof a);
  a.size = PERF_ATTR_SIZE_VER7;
  a.type = PERF_TYPE_SOFTWARE;
  a.config = config;
  a.exclude_kernel = 1;
  a.exclude_hv = exclude_hv ? 1 : 0;
  const int fd = sys.Open(a, pid, cpu);
  if (fd < 0) return fd;
  sys.Close(fd);
  return 0;
}

// perf's perf_can_record_cpu_wide: may this user open an event on a whole
// CPU (CAP_PERFMON or perf_event_paranoid <= 0)?
bool CanRecordCpuWide(PerfEventSys& sys, int cpu) {
  return ProbeSoftwareEvent(sys, PERF_COUNT_SW_CPU_CLOCK, /*exclude_hv=*/false, -1, cpu) == 0;
}

// Passes what the rings deliver to the trace sink, the records decoded
// once by the shared codec, and keeps the accounts.
class TraceFeed : public RingSink {
 public:
  TraceFeed(trace::TraceSink& sink, uint64_t sample_type, bool per_cpu,
            std::function<uint64_t()> reference)
      : sink_(sink), sample_type_(sample_type), loss_(per_cpu), reference_(std::move(reference)) {}

  void OnRecord(const RingInfo&, std::span<const uint8_t> record) override {
    const trace::KernelRecord k = DecodeRingRecord(record, sample_type_);
    sink_.AddKernelRecord(k, record);
    const SidebandRecord r = SidebandOf(k);
    loss_.Add(r);
    switch (r.type) {
      case PERF_RECORD_COMM:
      case PERF_RECORD_FORK:
        pids_.insert(r.pid);
        tids_.insert(r.tid);
        break;
      case PERF_RECORD_MMAP2:
        if (r.prot & 4) binaries_.Add(r, sink_);  // PROT_EXEC: code the trace may run
        break;
      default:
        break;
    }
  }
  void OnAux(const RingInfo& ring, const AuxRead& read) override {
    trace::AuxtraceChunk chunk;
    chunk.idx = ring.idx;
    chunk.tid = static_cast<uint32_t>(ring.tid);
    chunk.cpu = static_cast<uint32_t>(ring.cpu);
    chunk.offset = read.offset;
    chunk.reference = reference_();
    sink_.AddAuxtrace(chunk, read.first, read.second);
  }

  const LossAccount& loss() const { return loss_; }
  size_t processes() const { return pids_.size(); }
  size_t threads() const { return tids_.size(); }

 private:
  trace::TraceSink& sink_;
  uint64_t sample_type_;
  LossAccount loss_;
  std::function<uint64_t()> reference_;
  std::set<uint32_t> pids_, tids_;
  MappedBinaries binaries_;
};

// Drains the rings while the traced program runs, so the kernel always has
// room; rethrows its failure to the thread that joins it.
class ReaderThread {
 public:
  ReaderThread(PtSession& session, trace::TraceSink& trace, RingSink& sink)
      : session_(session), trace_(trace), sink_(sink), thread_([this] { Run(); }) {}
  ~ReaderThread() { Join(); }  // never throws: Stop() reports the thread's failure

  void Stop() {
    Join();
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  void Join() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  void Run() {
    BlockStopSignalsInThisThread();  // they must interrupt the workload's waitpid
    try {
      while (!stop_) {
        session_.Wait(100);
        if (session_.Drain(sink_))
          trace_.AddFinishedRound();
        else  // woken without data (a traced task exited: POLLHUP): don't spin
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    } catch (...) {
      error_ = std::current_exception();
    }
  }

  PtSession& session_;
  trace::TraceSink& trace_;
  RingSink& sink_;
  std::atomic<bool> stop_{false};
  std::exception_ptr error_;
  std::thread thread_;
};

// Why the kernel will not match a filter on |files| in the traced process,
// or empty: it compares inodes (perf_addr_filter_match), and the inode
// behind the traced mapping is another one on overlayfs or in another
// mount namespace.
std::string WhyFilesCannotMatch(const std::vector<std::string>& files, pid_t attach_pid,
                                const IntelPtHost& host) {
  if (attach_pid && InOtherMountNamespace(host.proc, attach_pid))
    return "process " + std::to_string(attach_pid) +
           " runs in another mount namespace (a container?), where the binaries' paths may "
           "name other files";
  for (const std::string& file : files) {
    std::error_code ec;
    const std::string real = std::filesystem::canonical(file, ec).string();
    if (!ec && FilesystemTypeOf(host.proc / "self/mountinfo", real) == "overlay")
      return real +
             " is on overlayfs (a container), whose mappings the kernel's address filters "
             "never match before the fix 'perf/core: Fix address filter match with backing "
             "files' (late 2025)";
  }
  return "";
}

std::string Unfiltered(const std::string& why) {
  return "warning: " + why +
         "; tracing all user-space code instead, libraries included (a larger trace)";
}

// What the address filter is, and a sentence for the log about it.
std::pair<std::string, std::string> PlanFilter(const RecordOptions& options, const PtPmu& pmu,
                                               const std::string& executable,
                                               const IntelPtHost& host) {
  const uint32_t ranges = pmu.AddressRanges();
  if (!options.filters.empty()) {
    std::string filter = BuildFilterString(options.filters, ranges);
    std::vector<std::string> files;
    for (const std::string& text : options.filters)
      for (const AddrFilter& f : ParseAddrFilters(text)) files.push_back(f.file);
    std::string note = "address filter " + filter;
    if (std::string why = WhyFilesCannotMatch(files, options.attach_pid, host); !why.empty())
      note += "; warning: " + why + ", so this filter may trace nothing";
    return {filter, note};
  }
  if (options.trace_everything) return {"", "tracing all user-space code"};
  std::vector<std::string> files;
  for (const std::string& path : options.only_paths) {
    if (HasGlob(path))
      throw Error("--only '" + path +
                  "': the intel-pt backend filters by address ranges set "
                  "before the run, so it needs file paths, not patterns; name the binaries or "
                  "use --filter / --all-code");
    files.push_back(path);
  }
  if (files.empty()) {
    if (!IsElf(executable))
      return {"", executable + " is not an ELF executable (a script?): tracing all code"};
    files.push_back(executable);
  }
  if (ranges == 0)
    return {"",
            "this CPU's Intel PT cannot filter by address (caps/num_address_ranges is 0): "
            "tracing all code, libraries included"};
  if (std::string why = WhyFilesCannotMatch(files, options.attach_pid, host); !why.empty())
    return {"", Unfiltered(why)};
  BinaryFilter filter = BinaryFilterString(files, ranges, options.attach_pid != 0);
  if (!filter.why_unfiltered.empty()) return {"", Unfiltered(filter.why_unfiltered)};
  std::string names;
  for (const auto& f : files) names += (names.empty() ? "" : ", ") + f;
  return {filter.filter, "tracing only " + names +
                             " (address filter; --all-code traces libraries "
                             "too)"};
}

void Log(const RecordOptions& options, const std::string& line) {
  if (options.log) *options.log << "hwcov: intel-pt: " << line << "\n";
}

}  // namespace

std::vector<int> ParseCpuList(const std::string& text) {
  std::vector<int> cpus;
  std::stringstream s(text);
  std::string part;
  while (std::getline(s, part, ',')) {
    if (part.empty() || part.find_first_not_of("0123456789- \n") != std::string::npos) continue;
    const auto dash = part.find('-');
    const int lo = std::stoi(part.substr(0, dash));
    const int hi = dash == std::string::npos ? lo : std::stoi(part.substr(dash + 1));
    for (int c = lo; c <= hi; ++c) cpus.push_back(c);
  }
  return cpus;
}

uint64_t AuxBufferSize(uint64_t requested, const PerfAccess& access, uint64_t page_size) {
  if (requested == 0) return access.privileged() ? 4 << 20 : 128 << 10;
  if (requested < (8 << 10) || (requested & (requested - 1)) || requested % page_size)
    throw Error("--buffer-size " + std::to_string(requested) +
                ": the Intel PT buffer must be a "
                "power of two of at least 8 KiB (e.g. 128K, 4M)");
  return requested;
}

std::string IntelPtUnavailable(const IntelPtHost& host) {
  if (std::string why = PtPmuMissingReason(host.sysfs_devices, host.proc / "cpuinfo"); !why.empty())
    return why;
  // Probe as perf does: a user-only software event on ourselves.
  std::unique_ptr<PerfEventSys> kernel;
  PerfEventSys* sys = host.sys;
  if (!sys) sys = (kernel = MakeKernelPerfEventSys()).get();
  const int err = ProbeSoftwareEvent(*sys, PERF_COUNT_SW_DUMMY, /*exclude_hv=*/true, 0, -1);
  if (err == 0) return "";
  const PerfAccess access = host.access ? *host.access : ReadPerfAccess(host.proc);
  return "perf events are denied to this user (" + std::string(std::strerror(-err)) +
         ", kernel.perf_event_paranoid is " + std::to_string(access.paranoid) +
         "): " + PrivilegeAdvice(/*mention_soft=*/false);
}

namespace {

// perf synthesizes the sideband of a process that already runs from /proc:
// a COMM per thread and an MMAP2 per executable mapping.
void SynthesizeRunningProcess(pid_t pid, const std::vector<pid_t>& tids, uint64_t sample_type,
                              uint64_t tracking_id, TraceFeed& sink) {
  SyntheticSample s;
  s.pid = static_cast<uint32_t>(pid);
  s.id = tracking_id;
  const std::string comm = ReadLine("/proc/" + std::to_string(pid) + "/comm");
  for (pid_t tid : tids) {
    s.tid = static_cast<uint32_t>(tid);
    sink.OnRecord({}, EncodeComm(s.pid, s.tid, comm, sample_type, s));
  }
  s.tid = s.pid;
  for (const ExecMapping& m : ReadAllMappings(pid))
    if (m.executable) sink.OnRecord({}, EncodeMmap2(ToMmapEvent(pid, m), sample_type, s));
}

// Lets the traced program run while the reader thread drains; returns its
// wait status (0 for an attached process, which keeps running).
int TraceUntilDone(const RecordOptions& options, PtSession& session, ChildProcess* workload,
                   const StopRequest& stop, trace::TraceSink& trace, RingSink& sink) {
  ReaderThread reader(session, trace, sink);
  int wait_status = 0;
  try {
    if (workload) {
      workload->Start();  // exec: enable_on_exec starts the trace
      // A SIGTERM to hwcov alone (a CI runner's timeout) ends the program as
      // it would have without hwcov; the trace is then written as usual.
      StopSignalRelay relay(stop, options.log);
      wait_status = workload->Wait([&relay] { return relay.Poll(); });
    } else {
      session.Enable();
      const auto deadline =
          std::chrono::steady_clock::now() +
          std::chrono::duration<double>(options.duration > 0 ? options.duration : 1e9);
      while (!TerminalSignals::stop_requested() && ProcessExists(options.attach_pid) &&
             std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  } catch (...) {
    session.Disable();
    try {
      reader.Stop();
    } catch (...) {  // the first failure is the one to report
    }
    throw;
  }
  session.Disable();
  reader.Stop();
  // What the kernel wrote out when the events stopped.
  if (session.Drain(sink)) trace.AddFinishedRound();
  return wait_status;
}

// Shrinks perf's default buffer sizes until |rings| of them fit in
// |budget_pages| of locked memory (the AUX area first, then the data ring;
// 8 KiB each at least), so that perf_mmap does not refuse them.
void FitToLockBudget(uint64_t budget_pages, size_t rings, SessionPlan& sp) {
  constexpr uint64_t kSmallest = 8 << 10;
  auto pages = [&] { return rings * (1 + (sp.data_bytes + sp.events.aux_bytes) / sp.page_size); };
  while (pages() > budget_pages) {
    if (sp.events.aux_bytes >= sp.data_bytes && sp.events.aux_bytes > kSmallest)
      sp.events.aux_bytes /= 2;
    else if (sp.data_bytes > kSmallest)
      sp.data_bytes /= 2;
    else
      break;  // the mmap fails then, and says why
  }
}

std::string KibText(uint64_t bytes) {
  return bytes >= (1 << 20) ? std::to_string(bytes >> 20) + " MiB"
                            : std::to_string(bytes >> 10) + " KiB";
}

void LogBufferSizes(const RecordOptions& options, const PerfAccess& access, uint64_t default_aux,
                    uint64_t planned_data, const PtSession& session, size_t online) {
  if (session.shrinks())
    Log(options,
        "warning: the kernel refused the buffers for lack of locked memory (another "
        "recording of this user holds some?): halved them " +
            std::to_string(session.shrinks()) + " time(s)");
  if (session.aux_bytes() < default_aux || session.data_bytes() < planned_data)
    Log(options, "buffers " + KibText(session.aux_bytes()) + " AUX + " +
                     KibText(session.data_bytes()) +
                     " data per ring, sized to the locked memory this user may use "
                     "(kernel.perf_event_mlock_kb " +
                     std::to_string(access.mlock_kb) + " KiB x " + std::to_string(online) +
                     " CPUs, then ulimit -l; CAP_IPC_LOCK lifts it, CAP_PERFMON does not)");
}

}  // namespace

RecordResult RecordIntelPt(const RecordOptions& options, const IntelPtHost& host) {
  const auto started = std::chrono::steady_clock::now();
  const bool attach = options.attach_pid != 0;
  if (attach && !options.command.empty()) throw Error("give either a command or -p PID, not both");
  if (!options.only_exe.empty())
    throw Error(
        "--only-exe is not supported by the intel-pt backend (Intel PT cannot select "
        "processes by executable); use --filter with the binary, or --backend soft");

  const PtPmu pmu = PtPmu::Detect(host.sysfs_devices, host.proc / "cpuinfo");
  const PerfAccess access = host.access ? *host.access : ReadPerfAccess(host.proc);
  std::unique_ptr<PerfEventSys> kernel;
  PerfEventSys& sys = host.sys ? *host.sys : *(kernel = MakeKernelPerfEventSys());

  // Everything that can be refused is checked before anything starts.
  EventPlan plan;
  plan.per_cpu = options.inherit;
  plan.launch = !attach;
  plan.aux_bytes = AuxBufferSize(options.buffer_size, access, PageSize());
  const uint64_t config = DefaultPtConfig(pmu);
  ValidatePtConfig(pmu, config);
  SessionPlan sp;
  if (plan.per_cpu) {
    sp.cpus = ParseCpuList(ReadLine(host.sysfs_cpu / "online"));
    if (sp.cpus.empty())
      ThrowFileError(host.sysfs_cpu / "online", "cannot read the list of online CPUs");
    // perf adds switch events only when the trace has timing (tsc) to
    // place them; CPU-wide ones need the privilege perf probes for.
    plan.cpu_wide_switch =
        (config & pmu.FormatBits("tsc")) && CanRecordCpuWide(sys, sp.cpus.front());
  }
  const std::string executable =
      attach ? ExecutableOf(options.attach_pid)
             : FindInPath(options.command.at(0)).value_or(options.command.at(0)).string();
  const auto [filter, filter_note] = PlanFilter(options, pmu, executable, host);
  Log(options, filter_note);

  sp.events = plan;
  sp.pt = PtAttr(pmu, config, plan);
  sp.tracking = TrackingAttr(plan);
  if (plan.cpu_wide_switch) sp.cpu_wide_switch = SwitchAttr(plan);
  sp.filter = filter;
  sp.page_size = PageSize();
  sp.data_bytes = access.privileged() ? 512 << 10 : 256 << 10;
  sp.attach_pid = options.attach_pid;

  TerminalSignals signals(StopSignalMode::kRecord);
  std::optional<ChildProcess> workload;
  if (attach) {
    sp.tids = ThreadsOf(options.attach_pid);
  } else {
    workload.emplace(options.command, SpawnOptions{.hold = true});  // held before its exec
    sp.tids = {workload->pid()};
  }
  const size_t online = ParseCpuList(ReadLine(host.sysfs_cpu / "online")).size();
  const uint64_t default_data = sp.data_bytes;
  if (options.buffer_size == 0) {
    sp.fit_buffers = true;
    const size_t rings = plan.per_cpu ? sp.cpus.size() : sp.tids.size();
    FitToLockBudget(access.LockBudgetPages(online, sp.page_size), rings, sp);
  }
  PtSession session(sys, sp, access);
  LogBufferSizes(options, access, plan.aux_bytes, default_data, session, online);

  const auto [ctc_n, ctc_d] = host.tsc_ctc ? *host.tsc_ctc : CpuTscCtcRatio();
  trace::PtEventParams params;
  params.pmu_type = sp.pt.type;
  params.config = sp.pt.config;
  params.auxtrace_priv = AuxtraceInfoPriv(pmu, session.time_conversion(), ctc_n, ctc_d,
                                          HaveSchedSwitch(plan), plan.per_cpu, filter);
  params.attrs = session.Attrs();
  const std::vector<int> present = ParseCpuList(ReadLine(host.sysfs_cpu / "present"));
  params.cpus_available =
      present.empty() ? static_cast<uint32_t>(online) : static_cast<uint32_t>(present.back() + 1);
  params.cpus_online = static_cast<uint32_t>(online);
  // The decoder (RecordOptions::live) takes the trace on a thread of its
  // own: the hardware does not wait while it decodes.
  std::optional<LiveQueue> live;
  RecordOptions to = options;
  if (options.live) to.live = &live.emplace(*options.live, kLiveQueueBytes);
  TraceOutput output(to, params);
  output.sink().SetStrings(HostStrings(host.proc / "cpuinfo"));
  const uint64_t sample_type = PlanSampleType(plan);
  TraceFeed sink(
      output.sink(), sample_type, plan.per_cpu,
      host.reference ? host.reference : [] { return static_cast<uint64_t>(__rdtsc()); });
  if (attach)
    SynthesizeRunningProcess(options.attach_pid, session.traced_tids(), sample_type,
                             session.tracking_id(), sink);

  const int wait_status = TraceUntilDone(options, session, workload ? &*workload : nullptr,
                                         signals.request(), output.sink(), sink);
  output.sink().Finish();
  if (live)
    Log(options, "decoded while recording: at most " + KibText(live->peak_queued_bytes()) +
                     " waited for the decoder");
  for (const std::string& line : sink.loss().Summary(session.aux_bytes())) Log(options, line);
  // The "did it work" figure (docs/howto_capture.md): code being traced
  // writes MB/s; a filter that matched nothing leaves only sync packets.
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::ostringstream rate;
  rate << "recorded " << (output.aux_bytes() >> 10) << " KiB of Intel PT in " << std::fixed
       << std::setprecision(2) << seconds << " s ("
       << static_cast<uint64_t>(static_cast<double>(output.aux_bytes() >> 10) /
                                std::max(seconds, 1e-3))
       << " KiB/s)";
  Log(options, rate.str());

  RecordResult result;
  result.exit_status = ExitCode(wait_status);
  result.killed_by_signal = KillingSignal(wait_status);
  result.backend = Backend::kIntelPt;
  result.stats.processes = std::max<uint64_t>(sink.processes(), 1);
  result.stats.threads = std::max<uint64_t>(sink.threads(), session.traced_tids().size());
  result.stats.trace_bytes = output.aux_bytes();
  result.stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace hwcov::collector
