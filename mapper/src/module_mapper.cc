// Line counts: a line's count is the sum, over the copies of code it appears
// in (function bodies, template instances, inlined copies: InstanceMap), of
// its most executed instruction in that copy. A line is instrumentable when
// an is_stmt row (or a function declaration) puts it in code.
//
// gcov counts a function's entry on its declaration line and never counts
// the line of its opening brace, where compilers put the prologue; so the
// rows at a body's entry that carry the brace's line are counted for the
// declaration line instead (FindPrologues).
//
// Optimised code (docs/accuracy.md, "Rules for optimised code"): a line
// also ran when an is_stmt row owning no instruction (a view) sits at an
// executed address (CountViews), the line of a call that was inlined ran
// when an instruction of the inlined copy ran (CountCallSites), in clang
// units a function's closing brace ran when one of its inlined copies was
// left for its caller's code (CountInlinedBraces) and a function's first
// statement each time one of its inlined copies was entered
// (CountFirstStatements).
#include "module_mapper.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <tuple>
#include <unordered_map>

#include "fall_through.h"
#include "function_names.h"
#include "hwcov/support.h"
#include "line_tally.h"

namespace hwcov::mapper {
namespace {

class ModuleMapper {
 public:
  ModuleMapper(const ModuleData& module, const ModuleCounts& counts, CoverageBuilder& out)
      : m_(module), debug_(module.debug), counts_(counts), out_(out) {}

  void Run() {
    names_ = NameFunctions(m_);
    FindGapCode();
    FindPrologues();
    CountRows();
    CountViews();
    CountCallSites();
    CountInlinedBraces();
    CountFirstStatements();
    CountFunctions();
    CountBranches();
    lines_.Reduce([&](uint32_t file, uint32_t line, uint64_t count, bool unknown) {
      out_.AddLine(debug_.files[file], line, count, unknown);
    });
  }

 private:
  struct Prologue {
    uint32_t line;      // the function's declaration line
    uint32_t instance;  // the body it starts
  };

  bool Executable(uint64_t address) const { return m_.elf.InExecutableSegment(address); }

  // The code of the functions around the trace gaps: for each gap, every
  // range of each out-of-line body (depth-0 copy) containing it, which
  // includes what was inlined into that body and a gcc ".cold" part; where
  // no DWARF body does, the ELF function symbol. Sorted and merged.
  void FindGapCode() {
    if (counts_.gaps.empty()) return;
    struct Body {
      uint64_t begin, end;
      uint32_t instance;
    };
    std::vector<Body> bodies;
    for (uint32_t i = 0; i < debug_.instances.size(); ++i)
      if (debug_.instances[i].depth == 0)
        for (const AddressRange& r : debug_.instances[i].ranges)
          bodies.push_back({r.begin, r.end, i});
    std::sort(bodies.begin(), bodies.end(),
              [](const Body& a, const Body& b) { return a.begin < b.begin; });
    // The greatest end of bodies[0..i]: where a backward scan can stop.
    std::vector<uint64_t> max_end(bodies.size());
    for (size_t i = 0; i < bodies.size(); ++i)
      max_end[i] = std::max(i ? max_end[i - 1] : 0, bodies[i].end);
    for (uint64_t gap : counts_.gaps) {
      bool found = false;
      auto it = std::upper_bound(bodies.begin(), bodies.end(), gap,
                                 [](uint64_t a, const Body& b) { return a < b.begin; });
      for (size_t i = static_cast<size_t>(it - bodies.begin()); i-- > 0 && max_end[i] > gap;) {
        if (gap >= bodies[i].end) continue;
        for (const AddressRange& r : debug_.instances[bodies[i].instance].ranges)
          gap_code_.push_back(r);
        found = true;
      }
      if (found) continue;
      for (const Symbol& sym : m_.elf.functions)
        if (gap >= sym.address && gap < sym.address + sym.size)
          gap_code_.push_back({sym.address, sym.address + sym.size});
    }
    std::sort(gap_code_.begin(), gap_code_.end(),
              [](const AddressRange& a, const AddressRange& b) { return a.begin < b.begin; });
    std::vector<AddressRange> merged;
    for (const AddressRange& r : gap_code_) {
      if (!merged.empty() && r.begin <= merged.back().end)
        merged.back().end = std::max(merged.back().end, r.end);
      else
        merged.push_back(r);
    }
    gap_code_ = std::move(merged);
  }

  // Whether [begin, end) (one address when begin == end) meets the gap code.
  bool InGap(uint64_t begin, uint64_t end) const {
    if (gap_code_.empty()) return false;
    auto it = std::upper_bound(gap_code_.begin(), gap_code_.end(), begin,
                               [](uint64_t a, const AddressRange& r) { return a < r.begin; });
    if (it != gap_code_.begin() && begin < std::prev(it)->end) return true;
    return it != gap_code_.end() && it->begin < end;
  }
  bool InGap(uint64_t address) const { return InGap(address, address); }
  // Whether any of |copy|'s code meets the gap code.
  bool InGap(const CodeInstance& copy) const {
    return std::any_of(copy.ranges.begin(), copy.ranges.end(),
                       [&](const AddressRange& r) { return InGap(r.begin, r.end); });
  }

  // The rows of |rows| (sorted by begin) that start in |range|.
  static std::span<const LineRow> RowsIn(const std::vector<LineRow>& rows,
                                         const AddressRange& range) {
    const auto starts_before = [](const LineRow& row, uint64_t address) {
      return row.begin < address;
    };
    const auto begin = std::lower_bound(rows.begin(), rows.end(), range.begin, starts_before);
    return {begin, std::lower_bound(begin, rows.end(), range.end, starts_before)};
  }

  void FindPrologues() {
    for (uint32_t i = 0; i < debug_.instances.size(); ++i) {
      const CodeInstance& instance = debug_.instances[i];
      const Function& f = debug_.functions[instance.function];
      const uint64_t entry = instance.entry;
      if (instance.depth != 0 || f.decl_line == 0 || !Executable(entry)) continue;
      // The first row at the entry in line-table order: a view or the row
      // owning the entry instruction.
      std::vector<const LineRow*> at_entry;
      auto views =
          std::equal_range(debug_.views.begin(), debug_.views.end(), LineRow{entry, entry},
                           [](const LineRow& a, const LineRow& b) { return a.begin < b.begin; });
      for (auto it = views.first; it != views.second; ++it) at_entry.push_back(&*it);
      const LineRow* owner = debug_.RowAt(entry);
      if (owner && owner->begin == entry) at_entry.push_back(owner);
      auto first = std::find_if(at_entry.begin(), at_entry.end(),
                                [](const LineRow* r) { return r->first_at_address; });
      if (first == at_entry.end()) continue;
      const LineRow& head = **first;
      // prologue_end on the entry row (clang): no prologue, the first row is
      // a statement. A line before the declaration is not a brace.
      if (head.prologue_end || head.line <= f.decl_line) continue;
      if (f.decl_file != kNoFile && head.file != f.decl_file) continue;
      const Prologue p{f.decl_line, i};
      for (const LineRow* r : at_entry)
        if (r->line == head.line && r->file == head.file) prologue_[r] = p;
      // The prologue can span consecutive rows of the brace's line.
      if (!owner || owner->begin != entry || owner->line != head.line) continue;
      for (const LineRow* r = owner + 1; r < debug_.rows.data() + debug_.rows.size(); ++r) {
        if (r->begin != (r - 1)->end || r->line != head.line || r->file != head.file) break;
        prologue_[r] = p;
      }
    }
  }

  void CountRows() {
    for (const LineRow& r : debug_.rows) {
      if (r.line == 0 || !Executable(r.begin)) continue;
      const uint64_t count = counts_.depth.MaxIn(r.begin, r.end);
      const bool in_gap = InGap(r.begin, r.end);
      if (auto it = prologue_.find(&r); it != prologue_.end()) {
        lines_.Observe(r.file, it->second.line, it->second.instance, count, true,
                       LineTally::Source::kRow, in_gap);
        continue;
      }
      lines_.Observe(r.file, r.line, m_.instances.At(r.begin), count, r.is_stmt,
                     LineTally::Source::kRow, in_gap);
    }
  }

  // A view owns no instruction; an is_stmt one makes its line instrumentable
  // and says the line's statement starts at the instruction the view is at
  // (gcc emits several such rows at one address, each a statement whose code
  // was merged with its neighbours' or optimised away). The line ran when
  // that instruction ran, reached the way the view describes (FallThrough);
  // LineTally uses the count only for lines whose own instructions did not run.
  void CountViews() {
    const FallThrough fall_through(m_.elf, debug_, counts_.depth, counts_.branches);
    for (const LineRow& v : debug_.views) {
      if (v.line == 0 || !v.is_stmt || !Executable(v.begin)) continue;
      uint32_t line = v.line, instance = m_.instances.At(v.begin);
      if (auto it = prologue_.find(&v); it != prologue_.end()) {
        line = it->second.line;
        instance = it->second.instance;
      }
      uint64_t count = counts_.depth.At(v.begin);
      if (count && !fall_through.ViewsRan(v.begin)) count = 0;
      lines_.Observe(v.file, line, instance, count, true, LineTally::Source::kView, InGap(v.begin));
    }
  }

  // An inlined copy has the callee's lines only; the call's line is the
  // copy's DW_AT_call_line, and it ran when the copy did: the copy's entries,
  // or (entry not exact and never run) its most executed instruction. An
  // observation in the calling copy, like the rows of the call line there.
  void CountCallSites() {
    for (const CodeInstance& instance : debug_.instances) {
      if (instance.call_line == 0 || instance.call_file == kNoFile) continue;
      if (!Executable(instance.entry)) continue;
      uint64_t n = Entries(instance);
      if (n == 0) n = MostExecuted(instance);
      lines_.Observe(instance.call_file, instance.call_line, instance.caller, n, true,
                     LineTally::Source::kCallSite, InGap(instance));
    }
  }

  // `llvm-cov gcov` counts a function's closing brace each time one of its
  // copies completes, inlined ones too; the brace's only instructions are the
  // out-of-line body's epilogue (clang gives its `ret` the brace's line), so
  // a function that ran only inlined shows `}` as unrun. For clang units,
  // the brace line of each inlined copy counts the executions that left the
  // copy's code for its caller's, each shown by an executed instruction: a
  // jump out of the copy's ranges (a conditional one's taken count), the
  // last instruction of a range falling through into the caller's code (a
  // call there only as often as the instruction after it ran: exit() does
  // not return), a `ret` inside the copy (the caller returned with it).
  // gcc's gcov does not count these braces, so gcc units are left alone.
  void CountInlinedBraces() {
    std::map<uint32_t, std::pair<uint32_t, uint32_t>> brace;        // function -> (file, line)
    std::set<std::tuple<uint32_t, uint32_t, uint32_t>> not_braces;  // (function, file, line)
    for (uint32_t i = 0; i < debug_.instances.size(); ++i) {
      const CodeInstance& body = debug_.instances[i];
      if (body.depth != 0 || !body.clang || !Executable(body.entry)) continue;
      std::set<std::pair<uint32_t, uint32_t>> lines;
      for (const AddressRange& r : body.ranges)
        ForEachInsn(
            m_.elf, r.begin, r.end, OnUndecodable::kStop, [&](uint64_t at, const InsnInfo& insn) {
              const LineRow* row = debug_.RowAt(at);
              if (insn.kind == InsnKind::kReturn && row && row->line && m_.instances.At(at) == i)
                lines.insert({row->file, row->line});
            });
      // Several lines on the returns: one of them is a statement.
      if (lines.size() == 1) brace[body.function] = *lines.begin();
    }
    if (brace.empty()) return;
    // A line with code in an inlined copy is a statement, not the brace.
    for (const LineRow& r : debug_.rows) {
      if (r.line == 0 || !Executable(r.begin)) continue;
      const CodeInstance& copy = debug_.instances[m_.instances.At(r.begin)];
      if (copy.depth != 0) not_braces.insert({copy.function, r.file, r.line});
    }
    for (uint32_t i = 0; i < debug_.instances.size(); ++i) {
      const CodeInstance& copy = debug_.instances[i];
      if (copy.depth == 0 || !copy.clang || !Executable(copy.entry)) continue;
      auto it = brace.find(copy.function);
      if (it == brace.end()) continue;
      const auto [file, line] = it->second;
      if (not_braces.count({copy.function, file, line})) continue;
      uint64_t exits = 0;
      for (const AddressRange& r : copy.ranges)
        ForEachInsn(m_.elf, r.begin, r.end, OnUndecodable::kStop,
                    [&](uint64_t at, const InsnInfo& insn) {
                      exits += Exits(copy, at, insn, at + insn.length == r.end);
                    });
      lines_.Observe(file, line, i, exits, true, LineTally::Source::kRow, InGap(copy));
    }
  }

  // A function's first statement runs on every call. An inlined copy whose
  // arguments let the compiler fold it (`if (hooks == NULL)` with a constant
  // argument) has no instruction of it, while gcov and `llvm-cov gcov` count
  // it on every call. Which line is the first statement is read from the
  // out-of-line body (FirstStatement); each inlined copy's entries count for
  // it, an observation of that copy. Clang units only: gcc's views keep such
  // statements (CountViews), and gcc's gcov, which inlines small functions
  // before it instruments, folds the same statement and does not count it.
  void CountFirstStatements() {
    std::map<uint32_t, std::pair<uint32_t, uint32_t>> first;  // function -> (file, line)
    std::set<uint32_t> ambiguous;
    for (uint32_t i = 0; i < debug_.instances.size(); ++i) {
      const CodeInstance& body = debug_.instances[i];
      if (body.depth != 0 || !body.clang || !Executable(body.entry)) continue;
      const auto line = FirstStatement(i);
      if (!line) continue;
      const auto [it, added] = first.emplace(body.function, *line);
      if (!added && it->second != *line) ambiguous.insert(body.function);
    }
    for (uint32_t function : ambiguous) first.erase(function);
    if (first.empty()) return;
    for (uint32_t i = 0; i < debug_.instances.size(); ++i) {
      const CodeInstance& copy = debug_.instances[i];
      if (copy.depth == 0 || !copy.clang || !Executable(copy.entry)) continue;
      const auto it = first.find(copy.function);
      if (it == first.end()) continue;
      const auto [file, line] = it->second;
      lines_.Observe(file, line, i, Entries(copy), true, LineTally::Source::kFirstStatement,
                     InGap(copy));
    }
  }

  // The (file, line) of the first statement of out-of-line body |i|: the
  // is_stmt row of the first instruction after its prologue, reached from
  // the entry without a branch, and lexically first: no other line of the
  // body's own code (rows and views, what was inlined into it aside) lies
  // between the declaration and it. gcc's clones (foo.part.N, .constprop.N,
  // .isra.N) are left out: a clone is not the whole function as called.
  std::optional<std::pair<uint32_t, uint32_t>> FirstStatement(uint32_t i) const {
    const CodeInstance& body = debug_.instances[i];
    const Function& f = debug_.functions[body.function];
    if (f.decl_line == 0 || f.decl_file == kNoFile) return std::nullopt;
    if (m_.elf.NameAt(body.entry).find('.') != std::string::npos) return std::nullopt;
    const auto own = [&](const LineRow& r) {
      return r.line > f.decl_line && r.file == f.decl_file && !prologue_.count(&r) &&
             m_.instances.At(r.begin) == i;
    };
    const LineRow* first = nullptr;
    uint32_t lowest = UINT32_MAX;
    for (const AddressRange& range : body.ranges) {
      for (const LineRow& view : RowsIn(debug_.views, range))
        if (own(view)) lowest = std::min(lowest, view.line);
      for (const LineRow& row : RowsIn(debug_.rows, range)) {
        if (!own(row)) continue;
        lowest = std::min(lowest, row.line);
        if (row.begin >= body.entry && range.begin <= body.entry &&
            (!first || row.begin < first->begin))
          first = &row;
      }
    }
    if (!first || !first->is_stmt || first->line != lowest) return std::nullopt;
    bool straight = true;
    ForEachInsn(m_.elf, body.entry, first->begin, OnUndecodable::kStop,
                [&](uint64_t, const InsnInfo& insn) { straight &= insn.kind == InsnKind::kOther; });
    if (!straight) return std::nullopt;
    return std::pair{first->file, first->line};
  }

  static bool InCopy(const CodeInstance& copy, uint64_t address) {
    return std::any_of(copy.ranges.begin(), copy.ranges.end(), [&](const AddressRange& r) {
      return address >= r.begin && address < r.end;
    });
  }

  // Executions that went from the instruction at |at| of |copy| to code
  // outside it; |last|: the last instruction of one of its ranges. A `ret`
  // inside the copy left it too (the caller returned with it).
  uint64_t Exits(const CodeInstance& copy, uint64_t at, const InsnInfo& insn, bool last) const {
    if (insn.kind == InsnKind::kReturn) return counts_.depth.At(at);
    const uint64_t next = at + insn.length;
    return TransfersTo(at, insn,
                       [&](uint64_t to) { return !InCopy(copy, to) && (to != next || last); });
  }

  // Executions that went from the instruction at |at| to an address |to|
  // with |into|(to), each shown by an executed instruction: a direct jump, a
  // conditional one (taken or not), the fall-through of an instruction (of
  // a call, only as often as the instruction after it ran: exit() does not
  // return). Returns, indirect jumps and far transfers: where they go is not
  // known.
  template <typename Into>
  uint64_t TransfersTo(uint64_t at, const InsnInfo& insn, Into into) const {
    const uint64_t next = at + insn.length;
    const bool falls = into(next);
    const auto jumps = [&] { return insn.target && into(*insn.target); };
    switch (insn.kind) {
      case InsnKind::kDirectJump:
        return jumps() ? counts_.depth.At(at) : 0;
      case InsnKind::kCondJump: {
        auto b = counts_.branches.find(at);
        if (b == counts_.branches.end()) return 0;
        return (jumps() ? b->second.first : 0) + (falls ? b->second.second : 0);
      }
      case InsnKind::kDirectCall:
      case InsnKind::kIndirectCall:
        return falls ? std::min(counts_.depth.At(at), counts_.depth.At(next)) : 0;
      case InsnKind::kOther:
        return falls ? counts_.depth.At(at) : 0;
      default:
        return 0;
    }
  }

  // The executions that went into inlined |copy| from the code of the body
  // it lies in, each shown by an executed instruction outside the copy (a
  // jump into it, an instruction falling through into it). For a copy whose
  // entry never ran although its code did: clang puts the entry of a copy
  // whose loop is aligned at the padding that a jump into the loop passes
  // over.
  uint64_t EntriesFromItsBody(const CodeInstance& copy) const {
    const CodeInstance* body = &copy;
    for (int hops = 0; body->depth != 0 && body->caller < debug_.instances.size() && hops < 64;
         ++hops)
      body = &debug_.instances[body->caller];
    if (body->depth != 0) return 0;
    uint64_t entries = 0;
    for (const AddressRange& r : body->ranges)
      ForEachInsn(m_.elf, r.begin, r.end, OnUndecodable::kStop,
                  [&](uint64_t at, const InsnInfo& insn) {
                    if (InCopy(copy, at)) return;
                    entries += TransfersTo(at, insn, [&](uint64_t to) { return InCopy(copy, to); });
                  });
    return entries;
  }

  // A function's entries are the sum over its copies (out-of-line body and
  // inlined copies), added up here first: a large C++ binary has far more
  // copies than functions.
  void CountFunctions() {
    struct Count {
      uint64_t entries = 0;
      uint32_t end_line = 0;
    };
    std::map<std::tuple<uint32_t, uint32_t, uint32_t>, Count> counts;  // (function, file, line)
    for (uint32_t i = 0; i < debug_.instances.size(); ++i) {
      const CodeInstance& instance = debug_.instances[i];
      if (!Executable(instance.entry)) continue;
      const Function& f = debug_.functions[instance.function];
      const LineRow* entry_row = debug_.RowAt(instance.entry);
      // A row of line 0 has no file either (its file index is a placeholder).
      if (entry_row && entry_row->line == 0) entry_row = nullptr;
      const uint32_t file = f.decl_file != kNoFile ? f.decl_file
                            : entry_row            ? entry_row->file
                                                   : kNoFile;
      const uint32_t line = f.decl_line ? f.decl_line : entry_row ? entry_row->line : 0;
      if (file == kNoFile || line == 0 || names_.names[instance.function].empty()) continue;
      uint64_t n = Entries(instance);
      // gcc's partial inlining splits a function into an inlined head and an
      // out-of-line "foo.part.N" tail; entering the tail is not a call of foo.
      if (instance.depth == 0 && m_.elf.NameAt(instance.entry).find(".part.") != std::string::npos)
        n = 0;
      Count& c = counts[{instance.function, file, line}];
      c.entries += n;
      c.end_line = std::max({c.end_line, line, LastLine(instance, file)});
      lines_.Observe(file, line, i, n, true, LineTally::Source::kFunction, InGap(instance.entry));
    }
    for (const auto& [key, c] : counts) {
      auto [function, file, line] = key;
      out_.AddFunction(debug_.files[file],
                       FunctionCount{names_.names[function], names_.demangled[function], line,
                                     c.entries, false, c.end_line});
    }
  }

  // The greatest line of |file| among the rows of a copy's code. (What was
  // inlined into it from later in the same file counts too: at -O0 nothing is.)
  uint32_t LastLine(const CodeInstance& instance, uint32_t file) const {
    uint32_t last = 0;
    for (const AddressRange& range : instance.ranges)
      for (const LineRow& row : RowsIn(debug_.rows, range))
        if (row.file == file) last = std::max(last, row.line);
    return last;
  }

  // The count of the most executed instruction of |copy|.
  uint64_t MostExecuted(const CodeInstance& copy) const {
    uint64_t most = 0;
    for (const AddressRange& r : copy.ranges)
      most = std::max(most, counts_.depth.MaxIn(r.begin, r.end));
    return most;
  }

  // Executions of a copy's entry; of an inlined copy whose entry never ran
  // although its code did, the transfers into it (EntriesFromItsBody).
  // Without a known entry (several ranges, no DW_AT_entry_pc), the most
  // executed start of a range: every range of an inlined copy is entered
  // from its caller's code or another range.
  uint64_t Entries(const CodeInstance& instance) const {
    if (instance.entry_exact) {
      const uint64_t n = counts_.depth.At(instance.entry);
      if (n || instance.depth == 0) return n;
      return MostExecuted(instance) > 0 ? EntriesFromItsBody(instance) : 0;
    }
    uint64_t best = 0;
    for (const AddressRange& r : instance.ranges) best = std::max(best, counts_.depth.At(r.begin));
    return best;
  }

  // Block k of a line is its k-th conditional jump in address order, all
  // copies of the line's code together (template instances and inlined
  // copies each bring their own jumps, as gcov lists each instance's
  // branches): the numbering depends on the binary only, so it is stable
  // across runs, as lcov's merging by block needs.
  void CountBranches() {
    std::map<std::pair<uint32_t, uint32_t>, uint32_t> blocks;  // (file, line) -> next block
    for (const BranchSite& s : m_.branches.sites) {            // sorted by address
      const uint32_t block = blocks[{s.file, s.line}]++;
      auto it = counts_.branches.find(s.address);
      const bool ran = it != counts_.branches.end();
      const std::string& file = debug_.files[s.file];
      if (InGap(s.address)) out_.MarkUnknown(file, s.line);
      out_.AddBranch(file, BranchOutcome{s.line, block, 0,
                                         ran ? std::optional(it->second.second) : std::nullopt});
      out_.AddBranch(file, BranchOutcome{s.line, block, 1,
                                         ran ? std::optional(it->second.first) : std::nullopt});
    }
  }

  const ModuleData& m_;
  const DebugInfo& debug_;
  const ModuleCounts& counts_;
  CoverageBuilder& out_;
  FunctionNames names_;
  std::unordered_map<const LineRow*, Prologue> prologue_;
  std::vector<AddressRange> gap_code_;  // sorted, disjoint (FindGapCode)
  LineTally lines_;
};

}  // namespace

ModuleCounts CollectCounts(const ElfFile& elf, const profile::ExecutionProfile& profile,
                           const std::vector<uint32_t>& modules) {
  ModuleCounts counts;
  auto ours = [&](uint32_t module) {
    return std::find(modules.begin(), modules.end(), module) != modules.end();
  };
  for (const profile::BlockCount& b : profile.blocks) {
    if (!ours(b.module)) continue;
    auto begin = elf.AddressOf(b.begin), last = elf.AddressOf(b.last);
    if (begin && last) counts.depth.Add(*begin, *last, b.count);
  }
  counts.depth.Build();
  for (const profile::Gap& gap : profile.gaps)
    if (gap.location && ours(gap.location->module))
      if (auto address = elf.AddressOf(gap.location->offset)) counts.gaps.push_back(*address);
  for (const profile::BranchCount& b : profile.branches) {
    if (!ours(b.module)) continue;
    if (auto address = elf.AddressOf(b.offset)) {
      auto& [taken, not_taken] = counts.branches[*address];
      taken += b.taken;
      not_taken += b.not_taken;
    }
  }
  return counts;
}

void MapModule(const ModuleData& module, const ModuleCounts& counts, CoverageBuilder& out) {
  ModuleMapper(module, counts, out).Run();
}

void MapSymbols(const ModuleData& module, const ModuleCounts& counts, CoverageBuilder& out) {
  std::map<uint64_t, const Symbol*> by_address;
  for (const Symbol& s : module.elf.functions)
    // "foo.cold" is the unlikely part of foo (gcc hot/cold splitting), not a function.
    if (s.name.find(".cold") == std::string::npos) by_address.emplace(s.address, &s);
  for (auto [address, symbol] : by_address) {
    const uint64_t entries = counts.depth.At(address);
    const uint64_t begin = address,
                   end = address + symbol->size;  // (clang 14: no captured bindings)
    const bool in_gap = std::any_of(counts.gaps.begin(), counts.gaps.end(),
                                    [&](uint64_t gap) { return gap >= begin && gap < end; });
    out.AddFunction(module.elf.path, FunctionCount{symbol->name, Demangle(symbol->name), 0, entries,
                                                   entries == 0 && in_gap});
  }
}

}  // namespace hwcov::mapper
