// Reading what hwcov's QEMU plugin recorded (emu_format.h): the program
// instances with their translated blocks, code mappings and signal handlers,
// and each thread's stream of events with the plugin's successor predictor
// replayed. Throws hwcov::Error naming the file for anything malformed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "emu_format.h"
#include "hwcov/support.h"

namespace hwcov::collector {

struct EmuTb {
  uint64_t vaddr = 0;
  uint32_t map = HWCOV_EMU_NONE;
  uint16_t n = 0;
  uint16_t flags = 0;
  std::vector<uint8_t> sizes;  // of each instruction
  std::vector<uint8_t> bytes;  // all instructions, in order
};

struct EmuMap {
  uint64_t time = 0, start = 0, end = 0, pgoff = 0;
  std::string path;
};

// A process between two execs.
struct EmuInstance {
  int pid = 0;
  unsigned seq = 0;
  int parent_pid = -1;  // fork parent, or -1
  unsigned parent_seq = 0;
  int parent_tid = -1;
  uint32_t inherited_tbs = 0, inherited_maps = 0;
  bool traced = false;
  uint64_t time = 0;
  std::string exe, comm;
  std::vector<EmuTb> tbs;    // ids inherited_tbs, inherited_tbs + 1, ...
  std::vector<EmuMap> maps;  // indexes inherited_maps, ...
  std::set<uint64_t> handlers;
  std::vector<std::filesystem::path> streams;
  uint64_t counter = 0;  // the instruction counter's final value
};

// Every instance recorded in |dir|, ordered by start time.
std::vector<EmuInstance> ReadEmuRecording(const std::filesystem::path& dir);

struct EmuEvent {
  enum Kind : uint32_t { kEnter, kLeftEarly, kSyscall, kSysret } kind = kEnter;
  uint32_t tb = 0;   // kEnter: the TB id entered
  uint64_t value = 0;  // kLeftEarly: instructions of the current TB that began;
                       // kSyscall, kSysret: the time
  int64_t nr = 0;      // kSyscall, kSysret
};

// One thread's events, in order.
class EmuStreamReader {
 public:
  explicit EmuStreamReader(const std::filesystem::path& path);
  bool Next(EmuEvent& event) {  // false after the last
    if (run_ > 0) {  // the common case: a predicted transition
      --run_;
      if (cur_ >= succ_.size() || succ_[cur_] == 0) BadPrediction();
      cur_ = succ_[cur_] - 1;
      event.kind = EmuEvent::kEnter;
      event.tb = cur_;
      return true;
    }
    return NextWord(event);
  }
  const hwcov_emu_stream_header& header() const { return header_; }
  uint64_t words() const { return words_.size(); }

 private:
  bool NextWord(EmuEvent& event);
  uint64_t Word();
  [[noreturn]] void BadPrediction() const;

  std::filesystem::path path_;
  std::unique_ptr<MappedFile> file_;
  hwcov_emu_stream_header header_{};
  std::span<const uint64_t> words_;
  size_t at_ = 0;
  uint64_t run_ = 0;             // predicted transitions still to replay
  bool tail_done_ = false;       // the header's pending run was taken
  uint32_t cur_ = HWCOV_EMU_NONE;
  std::vector<uint32_t> succ_;   // 1 + last successor of each TB id
  std::optional<EmuEvent> then_; // what follows the current run
};

}  // namespace hwcov::collector
