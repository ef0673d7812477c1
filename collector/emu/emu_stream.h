// Reading what hwcov's QEMU plugin records (emu_format.h), while it records:
// the program instances with their translated blocks, code mappings and
// signal handlers, and each thread's stream of events with the plugin's
// successor predictor replayed. Files grow as the programs run; readers see
// what is written so far and wait for more until told the run is over.
// Throws hwcov::Error naming the file for anything malformed.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
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

// A process between two execs. Elements of |tbs| and |maps| never move.
struct EmuInstance {
  std::string name;    // "<pid>.<seq>"
  bool known = false;  // its instance record has been read
  int pid = 0;
  unsigned seq = 0;
  int parent_pid = -1;  // fork parent, or -1
  unsigned parent_seq = 0;
  int parent_tid = -1;
  uint32_t inherited_tbs = 0, inherited_maps = 0;
  bool traced = false;
  uint64_t time = 0;
  std::string exe, comm;
  std::string test_name;    // test_name.h's rule, applied in the plugin
  std::deque<EmuTb> tbs;    // ids inherited_tbs, inherited_tbs + 1, ...
  std::deque<EmuMap> maps;  // indexes inherited_maps, ...
  std::set<uint64_t> handlers;
  std::vector<std::filesystem::path> streams;  // in the order they appeared
  uint64_t table_offset = 0;                   // bytes of the table read so far
};

struct EmuCounter {
  uint64_t value = 0;  // instructions counted (single-threaded exactness)
  bool multi = false;  // the process had several threads: the value is unreliable
};

// What a process's TB and mapping ids refer to: its fork parents' TBs and
// mappings as they were at the fork, then its own; and whether each
// mapping's code is traced.
struct EmuIds {
  std::vector<const EmuTb*> tbs;
  std::vector<const EmuMap*> maps;
  std::vector<bool> map_in_filter;
};

// The ids |child| inherits from its fork parent's |parent| (throws when the
// parent recorded fewer than the child says it inherits).
EmuIds InheritedIds(const EmuIds& parent, const EmuInstance& child);

// The recording directory as it is now.
class EmuRecording {
 public:
  explicit EmuRecording(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // Reads new instances, new table records and new thread streams.
  void Refresh();
  // Reads what |inst|'s table gained since.
  void RefreshTable(EmuInstance& inst);
  // Instances whose instance record is known, by start time.
  std::vector<EmuInstance*> Instances();
  EmuInstance* Find(int pid, unsigned seq);
  // |inst|'s fork parent, |depth| forks below the instance the walk began
  // at (throws when it is not in the recording, or the chain loops).
  EmuInstance& ForkParent(const EmuInstance& inst, int depth);
  // |inst|'s instruction counter page as it is now.
  EmuCounter Counter(const EmuInstance& inst) const;
  // Counting mode: |inst|'s per-TB counts of TB ids below |ids|, as they
  // are now (fewer if the file has fewer).
  std::vector<hwcov_emu_count> Counts(const EmuInstance& inst, size_t ids) const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::map<std::string, EmuInstance> instances_;
  std::set<std::filesystem::path> streams_;
};

struct EmuEvent {
  enum Kind : uint32_t {
    kEnter,
    kLeftEarly,
    kSyscall,
    kSysret,
    kPartial,     // counting mode (emu_format.h, HWCOV_EMU_EV_PARTIAL)
    kTransition,  // ... HWCOV_EMU_EV_TRANSITION
    kResumed,     // ... HWCOV_EMU_EV_RESUMED
  } kind = kEnter;
  uint32_t tb = 0;     // kEnter: the TB id entered; kPartial, kTransition: the TB that
                       // ended; kResumed: the TB entered
  uint64_t value = 0;  // kLeftEarly, kPartial: instructions of the TB that began;
                       // kTransition: the TB id entered; kSyscall, kSysret: the time
  int64_t nr = 0;      // kSyscall, kSysret
};

// One thread's events, in order, as they are written: at the end of what is
// written it waits until more comes, the thread has ended, or |finished|
// says the whole run has.
class EmuStreamReader {
 public:
  EmuStreamReader(const std::filesystem::path& path, std::function<bool()> finished);
  ~EmuStreamReader();
  EmuStreamReader(const EmuStreamReader&) = delete;
  EmuStreamReader& operator=(const EmuStreamReader&) = delete;

  bool Next(EmuEvent& event) {  // false after the last
    if (run_ > 0) {             // the common case: a predicted transition
      --run_;
      if (cur_ >= succ_.size() || succ_[cur_] == 0) BadPrediction();
      cur_ = succ_[cur_] - 1;
      event.kind = EmuEvent::kEnter;
      event.tb = cur_;
      return true;
    }
    return NextWord(event);
  }
  // The header as it is now (final once Next returned false).
  const hwcov_emu_stream_header& header() const { return *header_; }
  uint64_t words() const { return at_; }

 private:
  bool NextWord(EmuEvent& event);
  bool Available();  // waits for a word at at_; false at the end
  void Release();    // frees the file's windows read in full
  void Publish();    // Release(), and tells the plugin how far this reader is
  [[noreturn]] void BadPrediction() const;

  std::filesystem::path path_;
  std::function<bool()> finished_;
  int fd_ = -1;
  const uint8_t* map_ = nullptr;
  const hwcov_emu_stream_header* header_ = nullptr;
  const uint64_t* words_ = nullptr;
  uint64_t known_ = 0;     // words known to be written
  uint64_t released_ = 0;  // words freed from the file
  uint64_t at_ = 0;
  uint64_t publish_at_ = 0;                     // at_ where Publish() runs next
  hwcov_emu_stream_header* control_ = nullptr;  // the header page, writable
  uint64_t run_ = 0;                            // predicted transitions still to replay
  bool tail_done_ = false;
  uint32_t cur_ = HWCOV_EMU_NONE;
  std::vector<uint32_t> succ_;  // 1 + last successor of each TB id
  bool new_predictor_ = false;  // an empty table once the current run is replayed
  bool have_then_ = false;
  EmuEvent then_;  // what follows the current run
};

}  // namespace hwcov::collector
