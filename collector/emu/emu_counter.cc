#include "emu_counter.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "emu_resume.h"
#include "software_pt.h"

namespace hwcov::collector {
namespace {

namespace fs = std::filesystem;

// A TB's instruction addresses (n + 1: the last is its end) and its last
// instruction, classified as the converter does.
struct TbCode {
  std::vector<uint64_t> ip;
  InsnInfo last;
};

TbCode CodeOf(const EmuTb& tb, const fs::path& table) {
  if (tb.n == 0 || tb.sizes.size() != tb.n) ThrowFileError(table, "a TB without instructions");
  TbCode code;
  uint64_t ip = tb.vaddr;
  size_t offset = 0;
  for (uint16_t i = 0; i < tb.n; ++i) {
    code.ip.push_back(ip);
    if (i + 1 == tb.n) {
      if (offset + tb.sizes[i] > tb.bytes.size()) ThrowFileError(table, "TB bytes cut short");
      code.last = ClassifyInsn({tb.bytes.data() + offset, tb.sizes[i]}, ip);
      if (code.last.length == 0) code.last.length = tb.sizes[i];
    }
    ip += tb.sizes[i];
    offset += tb.sizes[i];
  }
  code.ip.push_back(ip);
  return code;
}

// How often each TB of one instance ran whole, how often only its first
// instructions did, and its branch's outcomes.
struct TbTally {
  int64_t whole = 0;
  std::map<size_t, uint64_t> prefixes;  // instructions that ran -> times
  uint64_t taken = 0, not_taken = 0;
};

// One profile being built: modules by path, blocks and branches as they
// come, sorted and summed at the end as the decoder's are.
class ProfileBuilder {
 public:
  void AddBlock(const std::string& path, uint64_t begin, uint64_t last, uint32_t instructions,
                uint64_t times) {
    profile_.blocks.push_back({ModuleOf(path), begin, last, instructions, times});
    profile_.instructions += uint64_t{instructions} * times;
  }
  void AddBranch(const std::string& path, uint64_t offset, uint64_t taken, uint64_t not_taken) {
    profile_.branches.push_back({ModuleOf(path), offset, taken, not_taken});
  }

  // Sorted, one entry per block and per branch.
  profile::ExecutionProfile Finish() {
    auto& blocks = profile_.blocks;
    std::sort(blocks.begin(), blocks.end(), [](const auto& a, const auto& b) {
      return std::tie(a.module, a.begin, a.last) < std::tie(b.module, b.begin, b.last);
    });
    size_t out = 0;
    for (size_t i = 0; i < blocks.size(); ++i) {
      if (out && blocks[out - 1].module == blocks[i].module &&
          blocks[out - 1].begin == blocks[i].begin && blocks[out - 1].last == blocks[i].last)
        blocks[out - 1].count += blocks[i].count;
      else
        blocks[out++] = blocks[i];
    }
    blocks.resize(out);
    auto& branches = profile_.branches;
    std::sort(branches.begin(), branches.end(), [](const auto& a, const auto& b) {
      return std::tie(a.module, a.offset) < std::tie(b.module, b.offset);
    });
    out = 0;
    for (size_t i = 0; i < branches.size(); ++i) {
      if (out && branches[out - 1].module == branches[i].module &&
          branches[out - 1].offset == branches[i].offset) {
        branches[out - 1].taken += branches[i].taken;
        branches[out - 1].not_taken += branches[i].not_taken;
      } else {
        branches[out++] = branches[i];
      }
    }
    branches.resize(out);
    return std::move(profile_);
  }

 private:
  uint32_t ModuleOf(const std::string& path) {
    auto [it, inserted] =
        modules_.try_emplace(path, static_cast<uint32_t>(profile_.modules.size()));
    if (inserted) {
      profile::Module m;
      m.path = m.recorded_path = path;
      if (auto id = ReadElfBuildId(path)) m.build_id = *id;
      profile_.modules.push_back(std::move(m));
    }
    return it->second;
  }

  profile::ExecutionProfile profile_;
  std::map<std::string, uint32_t> modules_;
};

class Counter {
 public:
  Counter(EmuRecording& recording, const RecordOptions& options, RecordStats& stats)
      : recording_(recording), options_(options), stats_(stats) {}

  EmuCounts Run() {
    recording_.Refresh();
    for (EmuInstance* inst : recording_.Instances())
      if (inst->traced) CountInstance(*inst);
    EmuCounts counts;
    counts.total = total_.Finish();
    stats_.instructions = counts.total.instructions;
    stats_.processes = pids_.size();
    for (auto& [name, builder] : tests_) counts.tests.push_back({name, builder.Finish()});
    return counts;
  }

 private:
  // An instance's TBs and mappings by id, its fork parents' included, and
  // whether each mapping's code is traced (InCodeFilter).
  using View = EmuIds;

  // Built once per instance: the children of one parent share its view.
  const View& ViewOf(EmuInstance& inst, int depth = 0) {
    const auto key = std::make_pair(inst.pid, inst.seq);
    if (auto it = views_.find(key); it != views_.end()) return it->second;
    View view;
    if (inst.parent_pid >= 0)
      view = InheritedIds(ViewOf(recording_.ForkParent(inst, depth), depth + 1), inst);
    recording_.RefreshTable(inst);
    for (const EmuTb& tb : inst.tbs) view.tbs.push_back(&tb);
    for (const EmuMap& m : inst.maps) {
      view.maps.push_back(&m);
      view.map_in_filter.push_back(InCodeFilter(options_, m.path));
    }
    return views_.emplace(key, std::move(view)).first->second;
  }

  void CountInstance(EmuInstance& inst) {
    const View& view = ViewOf(inst);
    const fs::path table = recording_.dir() / (inst.name + ".tbs");
    const fs::path counts_file = recording_.dir() / (inst.name + ".cnt");
    const std::vector<hwcov_emu_count> counts = recording_.Counts(inst, view.tbs.size());
    std::map<uint32_t, TbCode> codes;
    auto code_of = [&](uint32_t id) -> const TbCode& {
      if (id >= view.tbs.size()) ThrowFileError(table, "unknown TB id " + std::to_string(id));
      auto it = codes.find(id);
      if (it == codes.end()) it = codes.emplace(id, CodeOf(*view.tbs[id], table)).first;
      return it->second;
    };
    std::map<uint32_t, TbTally> tally;
    // A TB recorded but without a count slot never ran (the plugin takes the
    // slot before the TB can run; a process killed in between leaves one).
    const size_t known = std::min(counts.size(), view.tbs.size());
    for (uint32_t id = 0; id < known; ++id) {
      const hwcov_emu_count& c = counts[id];
      if (c.entries == 0) continue;
      TbTally& t = tally[id];
      const TbCode& code = code_of(id);
      t.whole = static_cast<int64_t>(c.entries - c.again);
      // A REP instruction's next iteration: it completes later, once.
      if (c.again) t.prefixes[code.ip.size() - 2] += c.again;
      if (code.last.kind == InsnKind::kCondJump) {
        t.taken = c.target;
        t.not_taken = c.fall;
      }
    }
    // One execution of |id| ran its first |ran| instructions, not all.
    auto cut = [&](uint32_t id, size_t ran) {
      TbTally& t = tally[id];
      --t.whole;
      if (ran) t.prefixes[ran]++;
    };
    // Of the TBs left early: how often, and the marks those executions added
    // (emu_format.h, hwcov_emu_count.marks).
    std::map<uint32_t, std::pair<uint64_t, uint64_t>> partial_marks;
    std::vector<hwcov_emu_stream_header> ends;
    for (const fs::path& path : inst.streams) {
      EmuStreamReader reader(path, [] { return true; });
      std::vector<EmuEvent> events;
      for (EmuEvent e; reader.Next(e);)
        if (e.kind == EmuEvent::kPartial || e.kind == EmuEvent::kTransition ||
            e.kind == EmuEvent::kResumed)
          events.push_back(e);
      for (size_t i = 0; i < events.size(); ++i) {
        const EmuEvent& e = events[i];
        if (e.kind == EmuEvent::kPartial) {
          const size_t n = code_of(e.tb).ip.size() - 1;
          const uint64_t started = std::min<uint64_t>(std::max<uint64_t>(e.value, 1), n);
          cut(e.tb, started - 1);
          auto& [times, marks] = partial_marks[e.tb];
          ++times;
          marks += started - 1;
        } else if (e.kind == EmuEvent::kTransition) {
          std::optional<uint64_t> resumed;
          for (size_t j = i + 1; j < events.size() && !resumed; ++j)
            if (events[j].kind == EmuEvent::kResumed) resumed = code_of(events[j].tb).ip[0];
          Signal(code_of(e.tb), resumed, tally[e.tb], cut, e.tb);
        }
      }
      ends.push_back(reader.header());
      ++stats_.threads;
      pids_.insert(inst.pid);
    }
    // Where each thread stopped, once every partial execution is known.
    for (const hwcov_emu_stream_header& h : ends) {
      if (!h.cur_tb) continue;
      const uint32_t id = h.cur_tb - 1;
      const TbCode& code = code_of(id);
      const size_t n = code.ip.size() - 1;
      uint64_t started = n;
      if (view.tbs[id]->flags & HWCOV_EMU_TB_POS) {
        started = h.cur_pos + 1;
      } else if (id < counts.size()) {
        // The marks of its other executions: the partial ones' and n - 1
        // for each of the rest.
        const hwcov_emu_count& c = counts[id];
        const auto [partial, partial_sum] = partial_marks[id];
        const uint64_t others = c.entries ? c.entries - 1 : 0;
        const uint64_t before = partial_sum + (n - 1) * (others - std::min(others, partial));
        if (c.marks < before)
          ThrowFileError(counts_file, "TB " + std::to_string(id) +
                                          " passed fewer markers than its "
                                          "completed executions need");
        started = c.marks - before + 1;
      }
      Last(code, started, id, cut);
    }
    // The process's test (test_name.h, applied in the plugin).
    ProfileBuilder& test =
        tests_[inst.test_name.empty() ? "pid " + std::to_string(inst.pid) : inst.test_name];
    for (const auto& [id, t] : tally) Emit(view, id, code_of(id), t, counts_file, test);
  }

  // A signal was delivered after |code| ran to its end (emu_converter.cc,
  // Signal), and |resumed| is the first TB entered after an rt_sigreturn
  // since: its last instruction counts when it is known to have completed.
  template <typename Cut>
  static void Signal(const TbCode& code, std::optional<uint64_t> resumed, TbTally& t, Cut& cut,
                     uint32_t id) {
    const uint64_t last_ip = code.ip[code.ip.size() - 2];
    const std::optional<uint64_t> resume = ResumeAfterSignal(last_ip, code.last, resumed);
    if (!resume || *resume == last_ip) return cut(id, code.ip.size() - 2);
    if (code.last.kind == InsnKind::kCondJump)
      ++(*resume != last_ip + code.last.length ? t.taken : t.not_taken);
  }

  // The thread's stream ended inside |id| after |started| of its
  // instructions began (emu_converter.cc, Last).
  template <typename Cut>
  static void Last(const TbCode& code, uint64_t started, uint32_t id, Cut& cut) {
    const size_t n = code.ip.size() - 1;
    if (started < n) return cut(id, std::max<uint64_t>(started, 1) - 1);
    if (code.last.kind == InsnKind::kFarTransfer) return;  // exit, exit_group, execve
    cut(id, n - 1);  // killed after it: where its last instruction went is unknown
  }

  void Emit(const View& view, uint32_t id, const TbCode& code, const TbTally& t,
            const fs::path& counts_file, ProfileBuilder& test) {
    const EmuTb& tb = *view.tbs[id];
    if (tb.map == HWCOV_EMU_NONE || tb.map >= view.maps.size()) return;
    if (!view.map_in_filter[tb.map]) return;
    const EmuMap& map = *view.maps[tb.map];
    if (t.whole < 0)
      ThrowFileError(counts_file, "TB " + std::to_string(id) + " ended more often than it began");
    auto offset = [&](uint64_t ip) { return ip - map.start + map.pgoff; };
    ProfileBuilder* builders[] = {&total_, &test};
    auto add = [&](size_t ran, uint64_t times) {
      if (ran == 0 || times == 0) return;
      for (ProfileBuilder* b : builders)
        b->AddBlock(map.path, offset(code.ip[0]), offset(code.ip[ran - 1]),
                    static_cast<uint32_t>(ran), times);
    };
    add(code.ip.size() - 1, static_cast<uint64_t>(t.whole));
    for (const auto& [ran, times] : t.prefixes) add(ran, times);
    if (code.last.kind == InsnKind::kCondJump && (t.taken || t.not_taken))
      for (ProfileBuilder* b : builders)
        b->AddBranch(map.path, offset(code.ip[code.ip.size() - 2]), t.taken, t.not_taken);
  }

  EmuRecording& recording_;
  const RecordOptions& options_;
  RecordStats& stats_;
  ProfileBuilder total_;
  std::map<std::string, ProfileBuilder> tests_;  // by name: sorted
  std::set<int> pids_;
  std::map<std::pair<int, unsigned>, View> views_;  // by (pid, seq)
};

}  // namespace

EmuCounts CountEmuRecording(EmuRecording& recording, const RecordOptions& options,
                            RecordStats& stats) {
  return Counter(recording, options, stats).Run();
}

}  // namespace hwcov::collector
