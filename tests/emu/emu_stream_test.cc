// The reader of the plugin's thread streams (collector/emu/emu_stream.h) on
// hand-made streams: the successor predictor replayed as the plugin runs it,
// events after their runs, the pending run in the header, a new predictor
// when a process gets its second thread, and malformed input.
#include "emu_stream.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <vector>

#include "hwcov/support.h"
#include "test_support.h"

namespace hwcov::collector {
namespace {

namespace fs = std::filesystem;

uint64_t Tb(uint64_t run, uint32_t id) { return run << 32 | id; }

fs::path WriteStream(const fs::path& path, const std::vector<uint64_t>& words, uint64_t tail_run) {
  std::vector<uint8_t> file(HWCOV_EMU_PAGE + words.size() * 8, 0);
  hwcov_emu_stream_header h{};
  h.magic = HWCOV_EMU_STREAM_MAGIC;
  h.pid = h.tid = 42;
  h.words = words.size();
  h.run = tail_run;
  h.exited = 1;
  std::memcpy(file.data(), &h, sizeof h);
  std::memcpy(file.data() + HWCOV_EMU_PAGE, words.data(), words.size() * 8);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));
  return path;
}

std::vector<std::string> Events(const fs::path& path) {
  EmuStreamReader reader(path, [] { return true; });
  std::vector<std::string> out;
  EmuEvent e;
  while (reader.Next(e)) {
    switch (e.kind) {
      case EmuEvent::kEnter:
        out.push_back(std::to_string(e.tb));
        break;
      case EmuEvent::kLeftEarly:
        out.push_back("left@" + std::to_string(e.value));
        break;
      case EmuEvent::kSyscall:
        out.push_back("sys" + std::to_string(e.nr));
        break;
      case EmuEvent::kSysret:
        out.push_back("ret" + std::to_string(e.nr));
        break;
      case EmuEvent::kPartial:
        out.push_back("partial" + std::to_string(e.tb) + "@" + std::to_string(e.value));
        break;
      case EmuEvent::kTransition:
        out.push_back(std::to_string(e.tb) + "~>" + std::to_string(e.value));
        break;
      case EmuEvent::kResumed:
        out.push_back("resumed" + std::to_string(e.tb));
        break;
    }
  }
  return out;
}

// Counting mode's events (emu_format.h): the TB they are about and their
// value, with no predicted runs around them.
TEST(EmuStream, CountingModeEvents) {
  testing::TempDir dir("emu-stream-count");
  const std::vector<uint64_t> words = {
      hwcov_emu_control(0, HWCOV_EMU_EV_PARTIAL, 2),    12, 3,
      hwcov_emu_control(0, HWCOV_EMU_EV_TRANSITION, 2), 4,  9,
      hwcov_emu_control(0, HWCOV_EMU_EV_RESUMED, 1),    5,
  };
  EXPECT_EQ(Events(WriteStream(dir.path() / "c.str", words, 0)),
            (std::vector<std::string>{"partial12@3", "4~>9", "resumed5"}));
}

TEST(EmuStream, PredictedRunsEventsAndThePendingRun) {
  testing::TempDir dir("emu-stream");
  // 5 -> 7 -> 5 learns 5->7 and 7->5; a run of 3 then replays 7, 5, 7.
  const std::vector<uint64_t> words = {
      Tb(0, 5),
      Tb(0, 7),
      Tb(0, 5),
      hwcov_emu_control(3, HWCOV_EMU_EV_SYSCALL, 8),
      1000,
      39,
      0,
      0,
      0,
      0,
      0,
      0,
      hwcov_emu_control(0, HWCOV_EMU_EV_SYSRET, 3),
      1001,
      39,
      42,
      Tb(1, 9),  // 7 -> 5 predicted, then 9 (5 -> 9 now predicted)
      hwcov_emu_control(0, HWCOV_EMU_EV_LEFT_EARLY, 1),
      3,
      Tb(0, 5),
      hwcov_emu_control(0, HWCOV_EMU_EV_FLUSH, 0),
  };
  const auto events = Events(WriteStream(dir.path() / "a.str", words, 1));
  EXPECT_EQ(events, (std::vector<std::string>{"5", "7", "5", "7", "5", "7", "sys39", "ret39", "5",
                                              "9", "left@3", "5", "9"}));
}

TEST(EmuStream, NewPredictorForgetsWhatWasLearnt) {
  testing::TempDir dir("emu-stream-new");
  const std::vector<uint64_t> words = {
      Tb(0, 1),
      Tb(0, 2),
      Tb(0, 1),
      hwcov_emu_control(1, HWCOV_EMU_EV_NEW_PREDICTOR, 0),  // 1 -> 2 still predicted, then empty
      Tb(0, 1),
      Tb(0, 2),
      Tb(1, 3),  // 2 -> 1 and 1 -> 2 learnt anew; 2 -> 1 predicted
  };
  EXPECT_EQ(Events(WriteStream(dir.path() / "b.str", words, 0)),
            (std::vector<std::string>{"1", "2", "1", "2", "1", "2", "1", "3"}));
  // A prediction from before the event no longer exists.
  const fs::path stale = WriteStream(
      dir.path() / "c.str",
      {Tb(0, 1), Tb(0, 2), Tb(0, 1), hwcov_emu_control(0, HWCOV_EMU_EV_NEW_PREDICTOR, 0), Tb(1, 5)},
      0);
  EXPECT_THROW(Events(stale), Error);
}

TEST(EmuStream, PredictionWithoutHistoryIsAnError) {
  testing::TempDir dir("emu-stream-bad");
  const fs::path path = WriteStream(dir.path() / "c.str", {Tb(0, 1), Tb(2, 3)}, 0);
  EmuStreamReader reader(path, [] { return true; });
  EmuEvent e;
  ASSERT_TRUE(reader.Next(e));
  EXPECT_THROW(reader.Next(e), Error);
}

TEST(EmuStream, NotAStream) {
  testing::TempDir dir("emu-stream-not");
  const fs::path path = dir.path() / "d.str";
  std::ofstream(path) << std::string(HWCOV_EMU_PAGE, 'x');
  EXPECT_THROW(EmuStreamReader(path, [] { return true; }), Error);
}

}  // namespace
}  // namespace hwcov::collector
