// The live decoder's queue (collector/intel_pt/intel_pt_live_queue.h): every
// call reaches the target in order, the ring reader does not wait for a
// target that is busy until the bound is reached, and the target's failure
// is not lost.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "hwcov/support.h"
#include "hwcov/trace.h"
#include "intel_pt_live_queue.h"
#include "test_support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using collector::LiveQueue;

trace::PtEventParams Event() {
  trace::PtEventParams params;
  params.pmu_type = 8;
  params.config = 0x300e601;
  params.auxtrace_priv = std::vector<uint64_t>(17, 0);
  return params;
}

// Some of each call a hardware recording makes.
void WriteCalls(trace::TraceSink& sink) {
  sink.Begin(Event());
  sink.SetStrings({{"cpuid", "GenuineIntel,6,78,3"}});
  trace::KernelRecord comm;
  comm.type = 3;  // PERF_RECORD_COMM
  comm.event = trace::CommEvent{{}, 42, 42, true, "prog"};
  const std::vector<uint8_t> raw = trace::EncodeKernelRecord(comm, 0);
  sink.AddKernelRecord(comm, raw);
  sink.AddBuildId({-1, "/bin/prog", BuildId{"0123456789abcdef0123"}});
  sink.AddSnapshot({42, 0x7fff0000, "[vdso]", {0xc3}});
  const std::vector<uint8_t> pt(1000, 0);
  for (uint64_t i = 0; i < 5; ++i) {
    sink.AddAuxtrace({0, 42, 0, i * 1000, i}, std::span(pt).first(600), std::span(pt).subspan(600));
    sink.AddFinishedRound();
  }
  sink.Finish();
}

TEST(LiveQueue, PassesEveryCallOnInOrder) {
  testing::TempDir dir("live-queue-order");
  trace::PerfDataWriter direct(dir.path() / "direct.data");
  WriteCalls(direct);
  trace::PerfDataWriter queued(dir.path() / "queued.data");
  {
    LiveQueue queue(queued, 1 << 20);
    WriteCalls(queue);
  }
  EXPECT_EQ(testing::ReadFile(dir.path() / "queued.data"),
            testing::ReadFile(dir.path() / "direct.data"));
}

// A writer whose AUX calls wait until the test opens the gate.
class GatedWriter : public trace::PerfDataWriter {
 public:
  using PerfDataWriter::PerfDataWriter;
  void AddAuxtrace(const trace::AuxtraceChunk& chunk, std::span<const uint8_t> first,
                   std::span<const uint8_t> second) override {
    std::unique_lock lock(mu);
    opened.wait(lock, [&] { return open; });
    PerfDataWriter::AddAuxtrace(chunk, first, second);
  }
  void Open() {
    {
      std::lock_guard lock(mu);
      open = true;
    }
    opened.notify_all();
  }
  std::mutex mu;
  std::condition_variable opened;
  bool open = false;
};

TEST(LiveQueue, TheReaderWaitsOnlyWhenTheBoundIsQueued) {
  testing::TempDir dir("live-queue-bound");
  GatedWriter target(dir.path() / "t.data");
  LiveQueue queue(target, 2500);
  queue.Begin(Event());
  const std::vector<uint8_t> pt(1000, 0);
  // The target takes the first and waits in it (it counts until done); a
  // second fits the bound.
  for (uint64_t i = 0; i < 2; ++i) queue.AddAuxtrace({0, 42, 0, i * 1000, i}, pt, {});
  std::atomic<bool> third_queued{false};
  std::thread reader([&] {
    queue.AddAuxtrace({0, 42, 0, 2000, 2}, pt, {});  // 3000 > 2500: waits
    third_queued = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(third_queued) << "the bound did not hold the reader";
  target.Open();
  reader.join();
  EXPECT_TRUE(third_queued);
  queue.Finish();
  EXPECT_EQ(target.aux_bytes(), 3000u);
  EXPECT_EQ(queue.peak_queued_bytes(), 2000u);
}

TEST(LiveQueue, TheTargetsFailureIsThrownAtFinish) {
  testing::TempDir dir("live-queue-error");
  trace::PerfDataWriter target(dir.path() / "t.data");
  LiveQueue queue(target, 1 << 20);
  queue.Begin(Event());
  queue.Begin(Event());  // the writer refuses a second event, on the queue's thread
  try {
    queue.Finish();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("already written"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hwcov
