// Decoding while recording with Intel PT: the hardware does not wait for
// the decoder. The ring reader hands the trace to this sink, which queues
// each call (with a copy of its bytes) and passes it on to the decoder's
// sink on a thread of its own, so that the rings are drained while a range
// decodes. Only when |max_bytes| of PT are queued does the reader wait
// (the kernel's AUX area then fills, and says so: TRUNCATED).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

#include "hwcov/trace.h"

namespace hwcov::collector {

class LiveQueue : public trace::TraceSink {
 public:
  LiveQueue(trace::TraceSink& target, uint64_t max_bytes);
  // Stops the thread; calls not yet passed on are dropped (a recording that
  // failed). After Finish() there are none.
  ~LiveQueue() override;
  LiveQueue(const LiveQueue&) = delete;
  LiveQueue& operator=(const LiveQueue&) = delete;

  void Begin(const trace::PtEventParams& params) override;
  void AddComm(uint32_t pid, uint32_t tid, const std::string& name, bool exec,
               uint64_t time) override;
  void AddMmap(const trace::MmapEvent& mmap, uint64_t time) override;
  void AddItraceStart(uint32_t pid, uint32_t tid, uint64_t time) override;
  void AddFork(uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid, uint64_t time) override;
  void AddExit(uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid, uint64_t time) override;
  void AddAux(uint32_t idx, uint32_t tid, std::span<const uint8_t> bytes, uint64_t time) override;
  void AddSnapshot(const trace::CodeSnapshot& snapshot) override;
  void AddTestName(uint32_t pid, const std::string& name) override;
  void SetStrings(const std::map<std::string, std::string>& strings) override;
  void AddBuildId(const trace::BuildIdEntry& entry) override;
  void AddKernelRecord(const trace::KernelRecord& record, std::span<const uint8_t> raw) override;
  void AddAuxtrace(const trace::AuxtraceChunk& chunk, std::span<const uint8_t> first,
                   std::span<const uint8_t> second) override;
  void AddFinishedRound() override;
  // Passes Finish() on and waits until the target has taken every call.
  // The target's failure is thrown here, or from the call after it.
  void Finish() override;

  uint64_t peak_queued_bytes() const;

 private:
  void Post(std::function<void()> call, uint64_t bytes);
  void Run();
  void Stop();

  trace::TraceSink& target_;
  const uint64_t max_bytes_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::pair<std::function<void()>, uint64_t>> calls_;
  uint64_t queued_bytes_ = 0, peak_bytes_ = 0;
  bool stopping_ = false;
  bool busy_ = false;  // a call is being passed on
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace hwcov::collector
