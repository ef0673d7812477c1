#include "intel_pt_live_queue.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "stop_signals.h"

namespace hwcov::collector {
namespace {

std::vector<uint8_t> Copy(std::span<const uint8_t> first, std::span<const uint8_t> second = {}) {
  std::vector<uint8_t> out(first.begin(), first.end());
  out.insert(out.end(), second.begin(), second.end());
  return out;
}

}  // namespace

LiveQueue::LiveQueue(trace::TraceSink& target, uint64_t max_bytes)
    : target_(target), max_bytes_(max_bytes), thread_([this] { Run(); }) {}

LiveQueue::~LiveQueue() { Stop(); }

void LiveQueue::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LiveQueue::Post(std::function<void()> call, uint64_t bytes) {
  std::unique_lock lock(mu_);
  // A call larger than the bound waits for an empty queue, not forever.
  changed_.wait(lock,
                [&] { return error_ || calls_.empty() || queued_bytes_ + bytes <= max_bytes_; });
  if (error_) std::rethrow_exception(error_);
  calls_.emplace_back(std::move(call), bytes);
  queued_bytes_ += bytes;
  peak_bytes_ = std::max(peak_bytes_, queued_bytes_);
  lock.unlock();
  changed_.notify_all();
}

void LiveQueue::Run() {
  BlockStopSignalsInThisThread();  // they must interrupt the workload's waitpid
  std::unique_lock lock(mu_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !calls_.empty(); });
    if (stopping_) return;  // Finish() has emptied the queue; else a failed recording
    auto [call, bytes] = std::move(calls_.front());
    calls_.pop_front();
    busy_ = true;
    const bool failed_before = error_ != nullptr;
    lock.unlock();
    std::exception_ptr failed;
    if (!failed_before) {  // nothing after a failure: the trace is broken there
      try {
        call();
      } catch (...) {
        failed = std::current_exception();
      }
    }
    lock.lock();
    busy_ = false;
    queued_bytes_ -= bytes;
    if (failed) error_ = failed;
    changed_.notify_all();
  }
}

void LiveQueue::Finish() {
  Post([this] { target_.Finish(); }, 0);
  {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return calls_.empty() && !busy_; });
  }
  Stop();
  if (error_) std::rethrow_exception(error_);
}

uint64_t LiveQueue::peak_queued_bytes() const {
  std::lock_guard lock(mu_);
  return peak_bytes_;
}

void LiveQueue::Begin(const trace::PtEventParams& params) {
  Post([this, params] { target_.Begin(params); }, 0);
}
void LiveQueue::AddComm(uint32_t pid, uint32_t tid, const std::string& name, bool exec,
                        uint64_t time) {
  Post([=, this] { target_.AddComm(pid, tid, name, exec, time); }, 0);
}
void LiveQueue::AddMmap(const trace::MmapEvent& mmap, uint64_t time) {
  Post([=, this] { target_.AddMmap(mmap, time); }, 0);
}
void LiveQueue::AddItraceStart(uint32_t pid, uint32_t tid, uint64_t time) {
  Post([=, this] { target_.AddItraceStart(pid, tid, time); }, 0);
}
void LiveQueue::AddFork(uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid, uint64_t time) {
  Post([=, this] { target_.AddFork(pid, ppid, tid, ptid, time); }, 0);
}
void LiveQueue::AddExit(uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid, uint64_t time) {
  Post([=, this] { target_.AddExit(pid, ppid, tid, ptid, time); }, 0);
}
void LiveQueue::AddAux(uint32_t idx, uint32_t tid, std::span<const uint8_t> bytes, uint64_t time) {
  auto copy = std::make_shared<std::vector<uint8_t>>(Copy(bytes));
  Post([=, this] { target_.AddAux(idx, tid, *copy, time); }, copy->size());
}
void LiveQueue::AddSnapshot(const trace::CodeSnapshot& snapshot) {
  Post([=, this] { target_.AddSnapshot(snapshot); }, snapshot.bytes.size());
}
void LiveQueue::AddTestName(uint32_t pid, const std::string& name) {
  Post([=, this] { target_.AddTestName(pid, name); }, 0);
}
void LiveQueue::SetStrings(const std::map<std::string, std::string>& strings) {
  Post([=, this] { target_.SetStrings(strings); }, 0);
}
void LiveQueue::AddBuildId(const trace::BuildIdEntry& entry) {
  Post([=, this] { target_.AddBuildId(entry); }, 0);
}
void LiveQueue::AddKernelRecord(const trace::KernelRecord& record, std::span<const uint8_t> raw) {
  auto copy = std::make_shared<std::vector<uint8_t>>(Copy(raw));
  Post([=, this] { target_.AddKernelRecord(record, *copy); }, copy->size());
}
void LiveQueue::AddAuxtrace(const trace::AuxtraceChunk& chunk, std::span<const uint8_t> first,
                            std::span<const uint8_t> second) {
  auto copy = std::make_shared<std::vector<uint8_t>>(Copy(first, second));
  Post([=, this] { target_.AddAuxtrace(chunk, *copy, {}); }, copy->size());
}
void LiveQueue::AddFinishedRound() {
  Post([this] { target_.AddFinishedRound(); }, 0);
}

}  // namespace hwcov::collector
