#include "emu_stream.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <thread>

namespace hwcov::collector {
namespace {

namespace fs = std::filesystem;

// The reader maps this much of a stream file up front; the file grows into it.
constexpr size_t kStreamReserve = size_t{1} << 38;  // 32 G words
constexpr uint64_t kWindowWords = HWCOV_EMU_WINDOW_WORDS;
// The header of a stream whose thread died before writing one.
const hwcov_emu_stream_header kEmptyStream = [] {
  hwcov_emu_stream_header h{};
  h.magic = HWCOV_EMU_STREAM_MAGIC;
  h.exited = 1;
  return h;
}();

template <typename T>
T Load(std::span<const uint8_t> bytes, size_t at) {
  T value;
  std::memcpy(&value, bytes.data() + at, sizeof value);
  return value;
}

std::string String(std::span<const uint8_t> bytes, size_t at, size_t len, const fs::path& path) {
  if (len == 0 || at + len > bytes.size() || bytes[at + len - 1] != 0)
    ThrowFileError(path, "bad string at offset " + std::to_string(at));
  return std::string(reinterpret_cast<const char*>(bytes.data() + at), len - 1);
}

// Bytes of |path| from |offset| to its current end, at most |limit|.
std::vector<uint8_t> ReadFrom(const fs::path& path, uint64_t offset,
                              size_t limit = std::numeric_limits<size_t>::max()) {
  std::vector<uint8_t> out;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) ThrowFileError(path, std::strerror(errno));
  uint8_t buffer[1 << 16];
  while (out.size() < limit) {
    const size_t want = std::min(sizeof buffer, limit - out.size());
    const ssize_t n = pread(fd, buffer, want, static_cast<off_t>(offset + out.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.insert(out.end(), buffer, buffer + n);
  }
  close(fd);
  return out;
}

void ParseRecord(const fs::path& path, std::span<const uint8_t> bytes, size_t at,
                 uint64_t file_offset, EmuInstance& inst) {
  const auto rec = Load<hwcov_emu_record>(bytes, at);
  const std::span<const uint8_t> body = bytes.subspan(at, rec.size);
  const std::string where = " at offset " + std::to_string(file_offset);
  switch (rec.type) {
    case HWCOV_EMU_REC_INSTANCE: {
      if (rec.size < sizeof(hwcov_emu_instance))
        ThrowFileError(path, "bad instance record" + where);
      const auto r = Load<hwcov_emu_instance>(body, 0);
      inst.pid = r.pid;
      inst.seq = r.seq;
      inst.parent_pid = r.parent_pid;
      inst.parent_seq = r.parent_seq;
      inst.parent_tid = r.parent_tid;
      inst.inherited_tbs = r.inherited_tbs;
      inst.inherited_maps = r.inherited_maps;
      inst.traced = r.traced != 0;
      inst.time = r.time;
      inst.exe = String(body, sizeof r, r.exe_len, path);
      inst.comm = String(body, sizeof r + r.exe_len, r.comm_len, path);
      inst.test_name = String(body, sizeof r + r.exe_len + r.comm_len, r.test_len, path);
      inst.known = true;
      return;
    }
    case HWCOV_EMU_REC_TB: {
      if (rec.size < sizeof(hwcov_emu_tb)) ThrowFileError(path, "bad TB record" + where);
      const auto r = Load<hwcov_emu_tb>(body, 0);
      if (r.id != inst.inherited_tbs + inst.tbs.size())
        ThrowFileError(path, "TB id " + std::to_string(r.id) + " out of order" + where);
      if (sizeof r + r.n + r.bytes > rec.size) ThrowFileError(path, "bad TB record" + where);
      EmuTb& tb = inst.tbs.emplace_back();
      tb.vaddr = r.vaddr;
      tb.map = r.map;
      tb.n = r.n;
      tb.flags = r.flags;
      const uint8_t* p = body.data() + sizeof r;
      tb.sizes.assign(p, p + r.n);
      tb.bytes.assign(p + r.n, p + r.n + r.bytes);
      return;
    }
    case HWCOV_EMU_REC_MAP: {
      if (rec.size < sizeof(hwcov_emu_map)) ThrowFileError(path, "bad mapping record" + where);
      const auto r = Load<hwcov_emu_map>(body, 0);
      if (r.index != inst.inherited_maps + inst.maps.size())
        ThrowFileError(path, "mapping index out of order" + where);
      inst.maps.push_back(
          {r.time, r.start, r.end, r.pgoff, String(body, sizeof r, r.path_len, path)});
      return;
    }
    case HWCOV_EMU_REC_HANDLER:
      if (rec.size < sizeof(hwcov_emu_handler)) ThrowFileError(path, "bad handler record" + where);
      inst.handlers.insert(Load<hwcov_emu_handler>(body, 0).address);
      return;
    default:
      ThrowFileError(path, "unknown record type " + std::to_string(rec.type) + where);
  }
}

}  // namespace

void EmuRecording::RefreshTable(EmuInstance& inst) {
  const fs::path path = dir_ / (inst.name + ".tbs");
  const std::vector<uint8_t> bytes = ReadFrom(path, inst.table_offset);
  size_t at = 0;
  while (at + sizeof(hwcov_emu_record) <= bytes.size()) {
    const auto rec = Load<hwcov_emu_record>(bytes, at);
    if (rec.size < sizeof rec || rec.size % 8)
      ThrowFileError(path, "bad record size at offset " + std::to_string(inst.table_offset + at));
    if (at + rec.size > bytes.size()) break;  // still being written (or cut by a crash)
    ParseRecord(path, bytes, at, inst.table_offset + at, inst);
    at += rec.size;
  }
  inst.table_offset += at;
}

void EmuRecording::Refresh() {
  std::error_code ec;
  std::vector<fs::path> new_streams;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir_, ec)) {
    const fs::path& path = entry.path();
    const std::string ext = path.extension().string();
    if (ext == ".tbs") {
      const std::string name = path.stem().string();
      EmuInstance& inst = instances_[name];
      inst.name = name;
    } else if (ext == ".str" && !streams_.contains(path)) {
      new_streams.push_back(path);
    }
  }
  if (ec) ThrowFileError(dir_, ec.message());
  for (auto& [name, inst] : instances_) RefreshTable(inst);
  // <pid>.<seq>.<tid>.<n>.str, n counting the instance's streams
  auto number = [](const fs::path& p) {
    const std::string s = p.stem().string();
    return std::stoul(s.substr(s.rfind('.') + 1));
  };
  std::sort(new_streams.begin(), new_streams.end(),
            [&](const fs::path& a, const fs::path& b) { return number(a) < number(b); });
  for (const fs::path& path : new_streams) {
    const std::string name = path.filename().string();
    const size_t second_dot = name.find('.', name.find('.') + 1);
    auto it = instances_.find(name.substr(0, second_dot));
    if (it == instances_.end()) continue;  // its table appears in the next scan
    it->second.streams.push_back(path);
    streams_.insert(path);
  }
}

std::vector<EmuInstance*> EmuRecording::Instances() {
  std::vector<EmuInstance*> out;
  for (auto& [name, inst] : instances_)
    if (inst.known) out.push_back(&inst);
  std::sort(out.begin(), out.end(), [](const EmuInstance* a, const EmuInstance* b) {
    return std::tie(a->time, a->pid, a->seq) < std::tie(b->time, b->pid, b->seq);
  });
  return out;
}

EmuInstance* EmuRecording::Find(int pid, unsigned seq) {
  auto it = instances_.find(std::to_string(pid) + "." + std::to_string(seq));
  return it != instances_.end() && it->second.known ? &it->second : nullptr;
}

EmuInstance& EmuRecording::ForkParent(const EmuInstance& inst, int depth) {
  EmuInstance* parent = Find(inst.parent_pid, inst.parent_seq);
  if (depth > 10000)
    throw Error("emu recording: process " + std::to_string(inst.pid) +
                " has a fork parent chain with a loop");
  if (!parent)
    throw Error("emu recording: the fork parent of process " + std::to_string(inst.pid) +
                " is missing");
  return *parent;
}

EmuIds InheritedIds(const EmuIds& parent, const EmuInstance& child) {
  if (parent.tbs.size() < child.inherited_tbs || parent.maps.size() < child.inherited_maps)
    throw Error("emu recording: process " + std::to_string(child.pid) +
                " inherits more than its parent recorded");
  EmuIds ids;
  ids.tbs.assign(parent.tbs.begin(), parent.tbs.begin() + child.inherited_tbs);
  ids.maps.assign(parent.maps.begin(), parent.maps.begin() + child.inherited_maps);
  ids.map_in_filter.assign(parent.map_in_filter.begin(),
                           parent.map_in_filter.begin() + child.inherited_maps);
  return ids;
}

std::vector<hwcov_emu_count> EmuRecording::Counts(const EmuInstance& inst, size_t ids) const {
  // The file grows a chunk of TBs at a time: only the first |ids| are read.
  const fs::path path = dir_ / (inst.name + ".cnt");
  const std::vector<uint8_t> bytes = ReadFrom(path, 0, ids * sizeof(hwcov_emu_count));
  if (bytes.size() % sizeof(hwcov_emu_count))
    ThrowFileError(path,
                   "size " + std::to_string(bytes.size()) + " is not a whole number of counts");
  std::vector<hwcov_emu_count> counts(bytes.size() / sizeof(hwcov_emu_count));
  std::memcpy(counts.data(), bytes.data(), bytes.size());
  return counts;
}

EmuCounter EmuRecording::Counter(const EmuInstance& inst) const {
  const std::vector<uint8_t> bytes = ReadFrom(dir_ / (inst.name + ".ctr"), 0);
  uint64_t words[2] = {};
  std::memcpy(words, bytes.data(), std::min(bytes.size(), sizeof words));
  return {words[0], words[1] != 0};
}

EmuStreamReader::EmuStreamReader(const fs::path& path, std::function<bool()> finished)
    : path_(path), finished_(std::move(finished)) {
  // Writable to give back what was read (Release), else read-only.
  fd_ = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd_ < 0) fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) ThrowFileError(path, std::strerror(errno));
  // Pages past the end are never touched: only words the header counts,
  // which the plugin writes after growing the file.
  void* map = mmap(nullptr, kStreamReserve, PROT_READ, MAP_SHARED | MAP_NORESERVE, fd_, 0);
  if (map == MAP_FAILED) {
    close(fd_);
    ThrowFileError(path, std::string("cannot map: ") + std::strerror(errno));
  }
  map_ = static_cast<const uint8_t*>(map);
  // The plugin creates the file, grows it, then writes the magic last, once
  // the header is set up; touching the page before it exists is SIGBUS.
  const auto* header = reinterpret_cast<const hwcov_emu_stream_header*>(map_);
  auto magic = [&]() -> uint64_t {
    struct stat st;
    if (fstat(fd_, &st) != 0 || st.st_size < static_cast<off_t>(HWCOV_EMU_PAGE)) return 0;
    return __atomic_load_n(&header->magic, __ATOMIC_ACQUIRE);
  };
  for (int i = 0; magic() != HWCOV_EMU_STREAM_MAGIC; ++i) {
    const bool over = finished_();
    if (const uint64_t m = magic(); m != 0 && m != HWCOV_EMU_STREAM_MAGIC) {
      munmap(map, kStreamReserve);
      close(fd_);
      ThrowFileError(path, "not an emu thread stream");
    }
    if (over || i > 20000) {
      header = &kEmptyStream;  // its thread died before it began: nothing in it
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  header_ = header;
  words_ = reinterpret_cast<const uint64_t*>(map_ + HWCOV_EMU_PAGE);
  // Tells the plugin how far this reader is, so that it does not run ahead
  // by more than HWCOV_EMU_AHEAD_WINDOWS (a read-only file: no back-pressure).
  if (header != &kEmptyStream) {
    void* control = mmap(nullptr, HWCOV_EMU_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (control != MAP_FAILED) {
      control_ = static_cast<hwcov_emu_stream_header*>(control);
      __atomic_store_n(&control_->read_words, 0, __ATOMIC_RELEASE);
      __atomic_store_n(&control_->reading, 1u, __ATOMIC_RELEASE);
    }
  }
}

EmuStreamReader::~EmuStreamReader() {
  if (control_) {
    __atomic_store_n(&control_->reading, 0u, __ATOMIC_RELEASE);  // no longer waited for
    munmap(control_, HWCOV_EMU_PAGE);
  }
  munmap(const_cast<uint8_t*>(map_), kStreamReserve);
  close(fd_);
}

void EmuStreamReader::BadPrediction() const {
  ThrowFileError(path_, "predicted transition without a prediction at word " + std::to_string(at_));
}

void EmuStreamReader::Release() {
  // The plugin writes in windows of kWindowWords; the one holding the last
  // word written, and every later one, are still its own. Earlier windows
  // read in full are freed (the files live in memory, /dev/shm).
  const uint64_t window = at_ / kWindowWords * kWindowWords;
  if (window <= released_ + kWindowWords || std::getenv("HWCOV_KEEP_EMU_DIR")) return;
  const uint64_t end = window - kWindowWords;
  fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
            static_cast<off_t>(HWCOV_EMU_PAGE + released_ * 8),
            static_cast<off_t>((end - released_) * 8));
  released_ = end;
}

void EmuStreamReader::Publish() {
  Release();
  if (control_) __atomic_store_n(&control_->read_words, at_, __ATOMIC_RELEASE);
  publish_at_ = at_ + kWindowWords / 8;
}

bool EmuStreamReader::Available() {
  if (at_ < known_) {
    if (at_ >= publish_at_) Publish();
    return true;
  }
  Publish();
  for (unsigned wait_us = 20;; wait_us = std::min(wait_us * 2, 2000u)) {
    // The end is certain only if nothing came after the thread or the run
    // was seen to be over.
    const bool over = __atomic_load_n(&header_->exited, __ATOMIC_ACQUIRE) || finished_();
    known_ = __atomic_load_n(&header_->words, __ATOMIC_ACQUIRE);
    if (at_ < known_) return true;
    if (over) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(wait_us));
  }
}

bool EmuStreamReader::NextWord(EmuEvent& event) {
  if (new_predictor_) {  // its run is replayed: from here on, an empty table
    new_predictor_ = false;
    succ_.clear();
  }
  if (have_then_) {
    have_then_ = false;
    event = then_;
    if (event.kind == EmuEvent::kEnter) {
      // A mispredicted transition: it becomes the prediction (as in the plugin).
      if (cur_ != HWCOV_EMU_NONE) {
        if (cur_ >= succ_.size()) succ_.resize(std::max<size_t>(cur_ + 1, succ_.size() * 2), 0);
        succ_[cur_] = event.tb + 1;
      }
      cur_ = event.tb;
    }
    return true;
  }
  if (!Available()) {
    if (tail_done_) return false;
    tail_done_ = true;  // transitions the thread made after its last word
    run_ = header_->run;
    return run_ > 0 && Next(event);
  }
  const uint64_t word = words_[at_++];
  run_ = word >> 32;
  then_ = {};
  if (!(word & HWCOV_EMU_CONTROL)) {
    then_.kind = EmuEvent::kEnter;
    then_.tb = static_cast<uint32_t>(word & 0x7fffffff);
  } else {
    const uint32_t type = (word >> 24) & 0x7f, payload = word & 0xffffff;
    if (payload > 8) ThrowFileError(path_, "bad event at word " + std::to_string(at_ - 1));
    uint64_t p[8] = {};
    for (uint32_t i = 0; i < payload; ++i) {
      if (!Available()) {  // the process died while writing it
        run_ = 0;
        tail_done_ = true;
        return false;
      }
      p[i] = words_[at_++];
    }
    switch (type) {
      case HWCOV_EMU_EV_FLUSH:
        return Next(event);  // after its run, nothing
      case HWCOV_EMU_EV_NEW_PREDICTOR:
        new_predictor_ = true;  // after its run
        return Next(event);
      case HWCOV_EMU_EV_LEFT_EARLY:
        then_.kind = EmuEvent::kLeftEarly;
        then_.value = p[0];
        break;
      case HWCOV_EMU_EV_SYSCALL:
      case HWCOV_EMU_EV_SYSRET:
        then_.kind = type == HWCOV_EMU_EV_SYSCALL ? EmuEvent::kSyscall : EmuEvent::kSysret;
        then_.value = p[0];
        then_.nr = static_cast<int64_t>(p[1]);
        break;
      case HWCOV_EMU_EV_PARTIAL:
        then_.kind = EmuEvent::kPartial;
        then_.tb = static_cast<uint32_t>(p[0]);
        then_.value = p[1];
        break;
      case HWCOV_EMU_EV_TRANSITION:
        then_.kind = EmuEvent::kTransition;
        then_.tb = static_cast<uint32_t>(p[0]);
        then_.value = p[1];
        break;
      case HWCOV_EMU_EV_RESUMED:
        then_.kind = EmuEvent::kResumed;
        then_.tb = static_cast<uint32_t>(p[0]);
        break;
      default:
        ThrowFileError(path_, "unknown event type " + std::to_string(type) + " at word " +
                                  std::to_string(at_ - 1));
    }
  }
  have_then_ = true;
  return Next(event);
}

}  // namespace hwcov::collector
