// Reads the native JSON coverage file back (docs/json-format.md). Input may
// come from anywhere (CI artifacts), so every field is checked and the first
// problem becomes one hwcov::Error naming the file and the field. The mapper's
// invariants (sorted, unique, every branch and function line has a line count,
// function names unique, branch ids 0 or 1) are checked too: the lcov writer relies on them.
#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>
#include <tuple>

#include "hwcov/report.h"
#include "hwcov/support.h"
#include "json_value.h"

namespace hwcov::report {
namespace {

using json::Value;
using Kind = Value::Kind;

// Far above any real project (a 10M-line code base is ~300 MB of JSON), low
// enough that a corrupt or hostile file is refused before it is read.
constexpr uintmax_t kMaxJsonBytes = uintmax_t{1} << 30;

class Reader {
 public:
  explicit Reader(const std::filesystem::path& path) : path_(path) {}

  [[noreturn]] void Fail(const std::string& what) const { ThrowFileError(path_, what); }

  const Value& Field(const Value& object, const std::string& key, Kind kind,
                     const std::string& where) const {
    if (object.kind != Kind::kObject) Fail(where + " is not an object");
    auto it = object.object.find(key);
    if (it == object.object.end()) Fail(where + " has no \"" + key + "\"");
    if (it->second.kind != kind) Fail(where + "." + key + " has the wrong type");
    return it->second;
  }

  uint64_t Int(const Value& object, const std::string& key, const std::string& where) const {
    return Field(object, key, Kind::kInt, where).integer;
  }

  uint64_t Int(const Value& v, const std::string& where) const {
    if (v.kind != Kind::kInt) Fail(where + " is not a non-negative integer");
    return v.integer;
  }

  uint32_t Line(const Value& v, const std::string& where) const {
    const uint64_t n = Int(v, where);
    if (n == 0 || n > UINT32_MAX) Fail(where + " is not a line number");
    return static_cast<uint32_t>(n);
  }

  const std::vector<Value>& Tuple(const Value& v, size_t size, const std::string& where) const {
    if (v.kind != Kind::kArray || v.array.size() != size)
      Fail(where + " is not an array of " + std::to_string(size));
    return v.array;
  }

  mapper::TraceQuality Quality(const Value& q) const {
    mapper::TraceQuality out;
    out.trace_bytes = Int(q, "trace_bytes", "quality");
    out.decoded_bytes = Int(q, "decoded_bytes", "quality");
    out.instructions = Int(q, "instructions", "quality");
    out.unmapped_instructions = Int(q, "unmapped_instructions", "quality");
    for (const auto& [kind, n] : Field(q, "gaps_by_kind", Kind::kObject, "quality").object)
      out.gaps_by_kind[kind] = Int(n, "quality.gaps_by_kind." + json::Printable(kind));
    for (const Value& s : Field(q, "gap_details", Kind::kArray, "quality").array)
      out.gap_details.push_back(String(s, "quality.gap_details[]"));
    for (const Value& s : Field(q, "warnings", Kind::kArray, "quality").array)
      out.warnings.push_back(String(s, "quality.warnings[]"));
    return out;
  }

  std::string String(const Value& v, const std::string& where) const {
    if (v.kind != Kind::kString) Fail(where + " is not a string");
    return v.string;
  }

  // A count; in version 2 also null, for an unknown line or function
  // (count 0, in a trace gap). Returns whether it was null.
  bool CountOrUnknown(const Value& v, uint64_t& count, const std::string& where) const {
    count = 0;
    if (version_ >= 2 && v.kind == Kind::kNull) return true;
    count = Int(v, where);
    return false;
  }

  // Per-test counts of one item: [[test, count], ...], tests ascending, counts
  // above 0 that add up to the item's |count|.
  std::vector<std::pair<size_t, uint64_t>> TestCounts(const Value& v, uint64_t count,
                                                      const std::string& where) const {
    if (v.kind != Kind::kArray) Fail(where + " is not an array");
    std::vector<std::pair<size_t, uint64_t>> out;
    uint64_t sum = 0;
    for (const Value& pair : v.array) {
      const auto& t = Tuple(pair, 2, where + "[]");
      const uint64_t test = Int(t[0], where + ": test");
      const uint64_t n = Int(t[1], where + ": count");
      if (test >= tests_.size()) Fail(where + ": test " + std::to_string(test) + " does not exist");
      if (!out.empty() && test <= out.back().first) Fail(where + ": tests not ascending");
      if (n == 0 || n > count - sum) Fail(where + ": the test counts do not add up to the count");
      sum += n;
      out.emplace_back(static_cast<size_t>(test), n);
    }
    if (sum != count) Fail(where + ": the test counts do not add up to the count");
    return out;
  }

  mapper::FileCoverage File(const Value& f, size_t index,
                            std::vector<mapper::FileCoverage>* per_test) const {
    const bool tested = !tests_.empty();
    struct Pending {
      size_t item;
      std::vector<std::pair<size_t, uint64_t>> counts;
    };
    std::vector<Pending> line_tests, function_tests, branch_tests;
    mapper::FileCoverage out;
    const std::string at = "files[" + std::to_string(index) + "]";
    out.path = Field(f, "path", Kind::kString, at).string;
    if (out.path.empty()) Fail(at + ".path is empty");
    const std::string where = "file " + json::Printable(out.path);
    for (const Value& v : Field(f, "lines", Kind::kArray, at).array) {
      const auto& t = Tuple(v, tested ? 3 : 2, where + ": lines[]");
      mapper::LineCount line{Line(t[0], where + ": line"), 0, false};
      line.unknown = CountOrUnknown(t[1], line.count, where + ": line count");
      if (tested)
        line_tests.push_back(
            {out.lines.size(), TestCounts(t[2], line.count, where + ": line tests")});
      out.lines.push_back(line);
    }
    for (const Value& v : Field(f, "functions", Kind::kArray, at).array) {
      const std::string fw = where + ": functions[]";
      mapper::FunctionCount fn;
      fn.name = Field(v, "name", Kind::kString, fw).string;
      fn.demangled = Field(v, "demangled", Kind::kString, fw).string;
      // 0: unknown, for functions from ELF symbols of a binary without DWARF.
      const uint64_t line = Int(v, "line", fw);
      if (line > UINT32_MAX) Fail(fw + ".line is not a line number");
      fn.line = static_cast<uint32_t>(line);
      auto count = v.object.find("count");
      if (count == v.object.end()) Fail(fw + " has no \"count\"");
      fn.unknown = CountOrUnknown(count->second, fn.entry_count, fw + ".count");
      if (auto end = v.object.find("end_line"); end != v.object.end())
        fn.end_line = Line(end->second, fw + ".end_line");
      if (tested)
        function_tests.push_back(
            {out.functions.size(),
             TestCounts(Field(v, "tests", Kind::kArray, fw), fn.entry_count, fw + ".tests")});
      out.functions.push_back(std::move(fn));
    }
    for (const Value& v : Field(f, "branches", Kind::kArray, at).array) {
      const auto& t = Tuple(v, tested ? 5 : 4, where + ": branches[]");
      mapper::BranchOutcome b;
      b.line = Line(t[0], where + ": branch line");
      // Refused, not clamped: two blocks above 2^32 would become one.
      const uint64_t block = Int(t[1], where + ": branch block");
      if (block > UINT32_MAX)
        Fail(where + ": branch block " + std::to_string(block) + " is too large");
      b.block = static_cast<uint32_t>(block);
      const uint64_t branch = Int(t[2], where + ": branch id");
      if (branch > 1) Fail(where + ": branch id " + std::to_string(branch) + " is not 0 or 1");
      b.branch = static_cast<uint32_t>(branch);
      if (t[3].kind != Kind::kNull) b.count = Int(t[3], where + ": branch count");
      if (tested)
        branch_tests.push_back(
            {out.branches.size(), TestCounts(t[4], b.count.value_or(0), where + ": branch tests")});
      out.branches.push_back(b);
    }
    Check(out, where);
    if (tested) SplitByTest(out, line_tests, function_tests, branch_tests, *per_test);
    return out;
  }

  // Each test's copy of |total| with its own counts. A test ran a jump when
  // one of the jump's two outcomes has a count of that test (every run takes
  // one); its other outcome then counts 0, and both are "-" otherwise.
  template <typename Pending>
  void SplitByTest(const mapper::FileCoverage& total, const std::vector<Pending>& lines,
                   const std::vector<Pending>& functions, const std::vector<Pending>& branches,
                   std::vector<mapper::FileCoverage>& per_test) const {
    per_test.assign(tests_.size(), total);
    for (mapper::FileCoverage& f : per_test) {
      for (mapper::LineCount& l : f.lines) l.count = 0;
      for (mapper::FunctionCount& fn : f.functions) fn.entry_count = 0;
      for (mapper::BranchOutcome& b : f.branches) b.count.reset();
    }
    for (const Pending& p : lines)
      for (auto [t, n] : p.counts) per_test[t].lines[p.item].count = n;
    for (const Pending& p : functions)
      for (auto [t, n] : p.counts) per_test[t].functions[p.item].entry_count = n;
    for (const Pending& p : branches)
      for (auto [t, n] : p.counts) {
        // A jump's outcomes are neighbours (sorted by line, block, branch).
        std::vector<mapper::BranchOutcome>& b = per_test[t].branches;
        for (size_t k = p.item ? p.item - 1 : 0; k <= p.item + 1 && k < b.size(); ++k)
          if (b[k].line == b[p.item].line && b[k].block == b[p.item].block && !b[k].count)
            b[k].count = 0;
        b[p.item].count = n;
      }
  }

  // The order the mapper produces, so readers and writers need not re-sort.
  void Check(const mapper::FileCoverage& f, const std::string& where) const {
    for (size_t i = 1; i < f.lines.size(); ++i)
      if (f.lines[i - 1].line >= f.lines[i].line) Fail(where + ": lines not sorted and unique");
    auto key = [](const mapper::BranchOutcome& b) { return std::tuple(b.line, b.block, b.branch); };
    for (size_t i = 1; i < f.branches.size(); ++i)
      if (key(f.branches[i - 1]) >= key(f.branches[i]))
        Fail(where + ": branches not sorted and unique");
    auto has_line = [&](uint32_t line) {
      return std::binary_search(f.lines.begin(), f.lines.end(), mapper::LineCount{line, 0},
                                [](const auto& a, const auto& b) { return a.line < b.line; });
    };
    for (const auto& b : f.branches) {
      if (!has_line(b.line))
        Fail(where + ": branch on line " + std::to_string(b.line) + " has no line count");
      // What the mapper guarantees and the lcov writer relies on: nothing
      // that ran, and no function that is not unknown, is on an unknown line.
      if (b.count && IsUnknownLine(f, b.line))
        Fail(where + ": branch on unknown line " + std::to_string(b.line) + " has a count");
    }
    // Functions as CoverageBuilder::Build() leaves them (mapper::Merge would
    // otherwise reorder, join, rename or add lines): by (line, name), a name
    // once per file (lcov knows functions by name alone), and every function
    // with a line (not 0: from ELF symbols) has a line count (lcov 2.x refuses
    // an FN without a DA).
    std::set<std::string_view> names;
    for (size_t i = 0; i < f.functions.size(); ++i) {
      const mapper::FunctionCount& fn = f.functions[i];
      const std::string what = where + ": function " + json::Printable(fn.name);
      const mapper::FunctionCount* prev = i > 0 ? &f.functions[i - 1] : nullptr;
      if (prev && std::tie(prev->line, prev->name) >= std::tie(fn.line, fn.name))
        Fail(what + ": functions not sorted by line and name");
      if (!names.insert(fn.name).second) Fail(what + " appears twice");
      if (fn.line && !has_line(fn.line))
        Fail(what + " on line " + std::to_string(fn.line) + " has no line count");
    }
    for (const auto& fn : f.functions)
      if (!fn.unknown && fn.line && IsUnknownLine(f, fn.line))
        Fail(where + ": function " + json::Printable(fn.name) + " on unknown line " +
             std::to_string(fn.line) + " is not unknown");
  }

  mapper::Coverage Read() {
    std::error_code ec;
    const uintmax_t size = std::filesystem::file_size(path_, ec);
    if (ec) Fail("cannot read: " + ec.message());
    if (size > kMaxJsonBytes)
      Fail("is " + std::to_string(size) + " bytes, more than the 1 GiB a coverage file can be");
    std::ifstream in(path_, std::ios::binary);
    if (!in) Fail("cannot open");
    std::ostringstream text;
    text << in.rdbuf();
    Value doc;
    try {
      doc = json::Parse(text.str());
    } catch (const Error& e) {
      Fail(std::string("not valid JSON: ") + e.what());
    }
    if (doc.kind != Kind::kObject || !doc.object.count("format") ||
        doc.object.at("format").kind != Kind::kString ||
        doc.object.at("format").string != "hwcov-coverage")
      Fail("not an hwcov coverage file (no \"format\": \"hwcov-coverage\")");
    const uint64_t version = Int(doc, "version", "the document");
    if (version < kJsonOldestReadVersion || version > kJsonFormatVersion)
      Fail("schema version " + std::to_string(version) + " is not supported (this hwcov reads " +
           std::to_string(kJsonOldestReadVersion) + " to " + std::to_string(kJsonFormatVersion) +
           ")");
    version_ = version;
    mapper::Coverage out;
    out.quality = Quality(Field(doc, "quality", Kind::kObject, "the document"));
    if (out.quality.decoded_bytes > out.quality.trace_bytes)
      Fail("quality.decoded_bytes exceeds quality.trace_bytes");
    if (auto tests = doc.object.find("tests"); tests != doc.object.end()) {
      if (tests->second.kind != Kind::kArray) Fail("the document.tests has the wrong type");
      for (const Value& name : tests->second.array) {
        tests_.push_back(String(name, "tests[]"));
        if (tests_.size() > 1 && tests_[tests_.size() - 2] >= tests_.back())
          Fail("tests not sorted by name and unique (" + json::Printable(tests_.back()) + ")");
      }
      for (const std::string& name : tests_) out.tests.push_back({name, {}});
    }
    const auto& files = Field(doc, "files", Kind::kArray, "the document").array;
    for (size_t i = 0; i < files.size(); ++i) {
      std::vector<mapper::FileCoverage> per_test;
      out.files.push_back(File(files[i], i, &per_test));
      for (size_t t = 0; t < per_test.size(); ++t)
        out.tests[t].files.push_back(std::move(per_test[t]));
    }
    for (size_t i = 1; i < out.files.size(); ++i)
      if (out.files[i - 1].path >= out.files[i].path)
        Fail("files not sorted by path and unique (" + json::Printable(out.files[i].path) + ")");
    return out;
  }

 private:
  std::filesystem::path path_;
  uint64_t version_ = 0;            // of the document being read
  std::vector<std::string> tests_;  // its "tests", per-test coverage
};

}  // namespace

mapper::Coverage ReadCoverageJson(const std::filesystem::path& path) { return Reader(path).Read(); }

}  // namespace hwcov::report
