// hwcov's native JSON coverage file, schema version 2 (docs/json-format.md):
// everything mapper::Coverage holds, so `hwcov merge` and `hwcov report
// x.json` lose nothing, plus the Summarize() totals for scripts. One file or
// line per record keeps diffs of golden files readable.
#include <ostream>

#include "hwcov/report.h"
#include "hwcov/support.h"
#include "json_value.h"
#include "test_alignment.h"

namespace hwcov::report {
namespace {

using json::Quote;

void Totals(std::ostream& out, const FileSummary& s) {
  auto ratio = [&](const char* name, const Ratio& r) {
    out << "\"" << name << "\": {\"hit\": " << r.hit << ", \"found\": " << r.found
        << ", \"unknown\": " << r.unknown << "}";
  };
  out << "{";
  ratio("lines", s.lines);
  out << ", ";
  ratio("functions", s.functions);
  out << ", ";
  ratio("branches", s.branches);
  out << "}";
}

// A count, or null when unknown (version 2).
void Count(std::ostream& out, uint64_t count, bool unknown) {
  if (unknown)
    out << "null";
  else
    out << count;
}

template <typename T, typename F>
void List(std::ostream& out, const std::vector<T>& items, const char* indent, F each) {
  if (items.empty()) {
    out << "[]";
    return;
  }
  out << "[";
  for (size_t i = 0; i < items.size(); ++i) {
    out << (i ? ",\n" : "\n") << indent;
    each(items[i]);
  }
  out << "\n" << std::string(std::char_traits<char>::length(indent) - 2, ' ') << "]";
}

void Quality(std::ostream& out, const mapper::TraceQuality& q) {
  out << "  \"quality\": {\n    \"trace_bytes\": " << q.trace_bytes
      << ",\n    \"decoded_bytes\": " << q.decoded_bytes
      << ",\n    \"instructions\": " << q.instructions
      << ",\n    \"unmapped_instructions\": " << q.unmapped_instructions
      << ",\n    \"gaps_by_kind\": {";
  const char* sep = "";
  for (const auto& [kind, n] : q.gaps_by_kind) {
    out << sep << Quote(kind) << ": " << n;
    sep = ", ";
  }
  out << "},\n    \"gap_details\": ";
  List(out, q.gap_details, "      ", [&](const std::string& s) { out << Quote(s); });
  out << ",\n    \"warnings\": ";
  List(out, q.warnings, "      ", [&](const std::string& s) { out << Quote(s); });
  out << "\n  },\n";
}

// Per-test counts of one item (docs/json-format.md): [[test, count], ...] for
// the tests (indexes into "tests") with a count above 0.
template <typename Count>
void TestCounts(std::ostream& out, const mapper::Coverage& coverage, Count count) {
  out << "[";
  const char* sep = "";
  for (size_t t = 0; t < coverage.tests.size(); ++t)
    if (const uint64_t n = count(coverage.tests[t]); n > 0) {
      out << sep << "[" << t << ", " << n << "]";
      sep = ", ";
    }
  out << "]";
}

class JsonWriter : public ReportWriter {
 public:
  explicit JsonWriter(std::filesystem::path path) : path_(std::move(path)) {}

  void Write(const mapper::Coverage& coverage, const Summary& summary) const override {
    AtomicFile file(path_);
    std::ostream& out = file.stream();
    out << "{\n  \"format\": \"hwcov-coverage\",\n  \"version\": " << kJsonFormatVersion << ",\n";
    Quality(out, coverage.quality);
    out << "  \"totals\": ";
    Totals(out, summary.total);
    const bool per_test = !coverage.tests.empty();
    if (per_test) {
      CheckTestsAligned(coverage);
      out << ",\n  \"tests\": ";
      List(out, coverage.tests, "    ",
           [&](const mapper::TestCoverage& t) { out << Quote(t.name); });
    }
    out << ",\n  \"files\": [";
    for (size_t i = 0; i < coverage.files.size(); ++i) {
      const mapper::FileCoverage& f = coverage.files[i];
      out << (i ? ",\n" : "\n") << "    {\n      \"path\": " << Quote(f.path)
          << ",\n      \"totals\": ";
      Totals(out, summary.files[i]);
      out << ",\n      \"lines\": ";
      size_t j = 0;
      List(out, f.lines, "        ", [&](const mapper::LineCount& l) {
        out << "[" << l.line << ", ";
        Count(out, l.count, l.unknown);
        if (per_test) {
          out << ", ";
          TestCounts(out, coverage, [&](const auto& t) { return t.files[i].lines[j].count; });
        }
        ++j;
        out << "]";
      });
      out << ",\n      \"functions\": ";
      j = 0;
      List(out, f.functions, "        ", [&](const mapper::FunctionCount& fn) {
        out << "{\"name\": " << Quote(fn.name) << ", \"demangled\": " << Quote(fn.demangled)
            << ", \"line\": " << fn.line;
        if (fn.end_line) out << ", \"end_line\": " << fn.end_line;
        out << ", \"count\": ";
        Count(out, fn.entry_count, fn.unknown);
        if (per_test) {
          out << ", \"tests\": ";
          TestCounts(out, coverage,
                     [&](const auto& t) { return t.files[i].functions[j].entry_count; });
        }
        ++j;
        out << "}";
      });
      out << ",\n      \"branches\": ";
      j = 0;
      List(out, f.branches, "        ", [&](const mapper::BranchOutcome& b) {
        out << "[" << b.line << ", " << b.block << ", " << b.branch << ", ";
        if (b.count)
          out << *b.count;
        else
          out << "null";
        if (per_test) {
          out << ", ";
          TestCounts(out, coverage,
                     [&](const auto& t) { return t.files[i].branches[j].count.value_or(0); });
        }
        ++j;
        out << "]";
      });
      out << "\n    }";
    }
    out << (coverage.files.empty() ? "]\n}\n" : "\n  ]\n}\n");
    file.Commit();
  }

 private:
  std::filesystem::path path_;
};

}  // namespace

std::unique_ptr<ReportWriter> MakeJsonWriter(std::filesystem::path path) {
  return std::make_unique<JsonWriter>(std::move(path));
}

}  // namespace hwcov::report
