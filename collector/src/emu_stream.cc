#include "emu_stream.h"

#include <algorithm>
#include <cstring>
#include <map>

namespace hwcov::collector {
namespace {

namespace fs = std::filesystem;

template <typename T>
T Load(std::span<const uint8_t> bytes, size_t at, const fs::path& path) {
  if (at + sizeof(T) > bytes.size()) ThrowFileError(path, "truncated record at offset " + std::to_string(at));
  T value;
  std::memcpy(&value, bytes.data() + at, sizeof value);
  return value;
}

std::string String(std::span<const uint8_t> bytes, size_t at, size_t len, const fs::path& path) {
  if (len == 0 || at + len > bytes.size()) ThrowFileError(path, "bad string at offset " + std::to_string(at));
  return std::string(reinterpret_cast<const char*>(bytes.data() + at), len - 1);
}

void ReadTable(const fs::path& path, EmuInstance& inst) {
  MappedFile file(path);
  const std::span<const uint8_t> bytes = file.bytes();
  bool have_instance = false;
  size_t at = 0;
  while (at + sizeof(hwcov_emu_record) <= bytes.size()) {
    const auto rec = Load<hwcov_emu_record>(bytes, at, path);
    // A record cut short by the process's death is the end of the table.
    if (rec.size < sizeof rec || rec.size % 8 || at + rec.size > bytes.size()) break;
    switch (rec.type) {
      case HWCOV_EMU_REC_INSTANCE: {
        const auto r = Load<hwcov_emu_instance>(bytes, at, path);
        inst.pid = r.pid;
        inst.seq = r.seq;
        inst.parent_pid = r.parent_pid;
        inst.parent_seq = r.parent_seq;
        inst.parent_tid = r.parent_tid;
        inst.inherited_tbs = r.inherited_tbs;
        inst.inherited_maps = r.inherited_maps;
        inst.traced = r.traced != 0;
        inst.time = r.time;
        inst.exe = String(bytes, at + sizeof r, r.exe_len, path);
        inst.comm = String(bytes, at + sizeof r + r.exe_len, r.comm_len, path);
        have_instance = true;
        break;
      }
      case HWCOV_EMU_REC_TB: {
        const auto r = Load<hwcov_emu_tb>(bytes, at, path);
        if (r.id != inst.inherited_tbs + inst.tbs.size())
          ThrowFileError(path, "TB id " + std::to_string(r.id) + " out of order at offset " +
                                   std::to_string(at));
        if (sizeof r + r.n + r.bytes > rec.size) ThrowFileError(path, "bad TB record at offset " + std::to_string(at));
        EmuTb tb;
        tb.vaddr = r.vaddr;
        tb.map = r.map;
        tb.n = r.n;
        tb.flags = r.flags;
        const uint8_t* p = bytes.data() + at + sizeof r;
        tb.sizes.assign(p, p + r.n);
        tb.bytes.assign(p + r.n, p + r.n + r.bytes);
        inst.tbs.push_back(std::move(tb));
        break;
      }
      case HWCOV_EMU_REC_MAP: {
        const auto r = Load<hwcov_emu_map>(bytes, at, path);
        if (r.index != inst.inherited_maps + inst.maps.size())
          ThrowFileError(path, "mapping index out of order at offset " + std::to_string(at));
        inst.maps.push_back({r.time, r.start, r.end, r.pgoff, String(bytes, at + sizeof r, r.path_len, path)});
        break;
      }
      case HWCOV_EMU_REC_HANDLER:
        inst.handlers.insert(Load<hwcov_emu_handler>(bytes, at, path).address);
        break;
      default:
        ThrowFileError(path, "unknown record type " + std::to_string(rec.type) + " at offset " +
                                 std::to_string(at));
    }
    at += rec.size;
  }
  if (!have_instance) ThrowFileError(path, "no instance record");
}

}  // namespace

std::vector<EmuInstance> ReadEmuRecording(const fs::path& dir) {
  std::map<std::string, EmuInstance> by_name;  // "<pid>.<seq>"
  std::error_code ec;
  std::vector<fs::path> streams;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    const fs::path& path = entry.path();
    const std::string name = path.filename().string();
    const std::string ext = path.extension().string();
    if (ext == ".tbs") {
      ReadTable(path, by_name[path.stem().string()]);
    } else if (ext == ".str") {
      streams.push_back(path);
    }
  }
  if (ec) ThrowFileError(dir, ec.message());
  for (const fs::path& path : streams) {
    // <pid>.<seq>.<tid>.<n>.str
    const std::string name = path.filename().string();
    const size_t second_dot = name.find('.', name.find('.') + 1);
    auto it = by_name.find(name.substr(0, second_dot));
    if (it != by_name.end()) it->second.streams.push_back(path);
  }
  std::vector<EmuInstance> out;
  for (auto& [name, inst] : by_name) {
    const fs::path counter = dir / (name + ".ctr");
    if (fs::exists(counter)) {
      MappedFile file(counter);
      if (file.bytes().size() >= 8) std::memcpy(&inst.counter, file.bytes().data(), 8);
    }
    std::sort(inst.streams.begin(), inst.streams.end());
    out.push_back(std::move(inst));
  }
  std::sort(out.begin(), out.end(), [](const EmuInstance& a, const EmuInstance& b) {
    return std::tie(a.time, a.pid, a.seq) < std::tie(b.time, b.pid, b.seq);
  });
  return out;
}

EmuStreamReader::EmuStreamReader(const fs::path& path)
    : path_(path), file_(std::make_unique<MappedFile>(path)) {
  const std::span<const uint8_t> bytes = file_->bytes();
  if (bytes.size() < HWCOV_EMU_PAGE) ThrowFileError(path, "truncated stream header");
  std::memcpy(&header_, bytes.data(), sizeof header_);
  if (header_.magic != HWCOV_EMU_STREAM_MAGIC) ThrowFileError(path, "not an emu thread stream");
  const uint64_t available = (bytes.size() - HWCOV_EMU_PAGE) / 8;
  const uint64_t n = std::min<uint64_t>(header_.words, available);
  words_ = {reinterpret_cast<const uint64_t*>(bytes.data() + HWCOV_EMU_PAGE), n};
}

uint64_t EmuStreamReader::Word() {
  if (at_ >= words_.size())
    ThrowFileError(path_, "event cut short at word " + std::to_string(at_));
  return words_[at_++];
}

void EmuStreamReader::BadPrediction() const {
  ThrowFileError(path_, "predicted transition without a prediction at word " + std::to_string(at_));
}

bool EmuStreamReader::NextWord(EmuEvent& event) {
  if (then_) {
    event = *then_;
    then_.reset();
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
  if (at_ >= words_.size()) {
    if (tail_done_) return false;
    tail_done_ = true;  // transitions the thread made after its last word
    run_ = header_.run;
    return run_ > 0 && Next(event);
  }
  const uint64_t word = Word();
  run_ = word >> 32;
  EmuEvent next;
  if (!(word & HWCOV_EMU_CONTROL)) {
    next.kind = EmuEvent::kEnter;
    next.tb = static_cast<uint32_t>(word & 0x7fffffff);
  } else {
    const uint32_t type = (word >> 24) & 0x7f, payload = word & 0xffffff;
    uint64_t p[8] = {};
    if (payload > 8) ThrowFileError(path_, "bad event at word " + std::to_string(at_ - 1));
    for (uint32_t i = 0; i < payload; ++i) p[i] = Word();
    switch (type) {
      case HWCOV_EMU_EV_FLUSH:
        return Next(event);  // after its run, nothing
      case HWCOV_EMU_EV_LEFT_EARLY:
        next.kind = EmuEvent::kLeftEarly;
        next.value = p[0];
        break;
      case HWCOV_EMU_EV_SYSCALL:
        next.kind = EmuEvent::kSyscall;
        next.value = p[0];
        next.nr = static_cast<int64_t>(p[1]);
        break;
      case HWCOV_EMU_EV_SYSRET:
        next.kind = EmuEvent::kSysret;
        next.value = p[0];
        next.nr = static_cast<int64_t>(p[1]);
        break;
      default:
        ThrowFileError(path_, "unknown event type " + std::to_string(type) + " at word " +
                                  std::to_string(at_ - 1));
    }
  }
  then_ = next;
  return Next(event);
}

}  // namespace hwcov::collector
