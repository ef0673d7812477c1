#include "coverage_records.h"

#include <algorithm>
#include <sstream>

#include "test_support.h"

namespace hwcov::testing {

std::vector<std::string> Words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

bool IsNumber(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

namespace {

std::string Normal(const std::string& path) {
  return std::filesystem::path(path).lexically_normal().string();
}

// One .gcov file: "count:line:source" records, "function NAME called N ...",
// "branch K taken N [(fallthrough)|(throw)]" or "branch K never executed".
// Template instances appear twice: the merged line counts first, then a
// "------------------" section per instance with its own line records
// (skipped: the merged count is the one) and its branch records.
void ReadGcovFile(const std::filesystem::path& file, CoverageRecords& out) {
  FileRecord* record = nullptr;
  std::vector<std::optional<uint64_t>>* arcs = nullptr;  // the current line's branch list
  for (const std::string& text : SplitLines(ReadFile(file))) {
    const std::vector<std::string> w = Words(text);
    if (w.size() >= 4 && w[0] == "function" && w[2] == "called" && IsNumber(w[3])) {
      if (record) record->functions[w[1]] += std::stoull(w[3]);
      continue;
    }
    if (w.size() >= 3 && w[0] == "branch") {
      if (!arcs) continue;
      if (text.find("(throw)") != std::string::npos) {
        if (!arcs->empty()) arcs->pop_back();  // the call's normal-return arc
        continue;
      }
      const bool taken = w[2] == "taken" && w.size() >= 4 && IsNumber(w[3]);
      arcs->push_back(taken ? std::optional<uint64_t>(std::stoull(w[3])) : std::nullopt);
      continue;
    }
    const size_t first = text.find(':');
    const size_t second = first == std::string::npos ? first : text.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::vector<std::string> count_words = Words(text.substr(0, first));
    const std::vector<std::string> line_words = Words(text.substr(first + 1, second - first - 1));
    if (count_words.size() != 1 || line_words.size() != 1 || !IsNumber(line_words[0])) continue;
    const std::string& count = count_words[0];
    const uint32_t line = static_cast<uint32_t>(std::stoul(line_words[0]));
    const std::string rest = text.substr(second + 1);
    if (line == 0) {
      if (rest.rfind("Source:", 0) == 0) record = &out[Normal(rest.substr(7))];
      continue;
    }
    if (!record) continue;
    arcs = &record->branches[line];
    if (count == "-" || record->lines.count(line)) continue;
    const bool unexecuted =
        count[0] == '#' || count[0] == '=' || count[0] == '%' || count[0] == '$';
    record->lines[line] = unexecuted ? 0 : std::stoull(count);  // stoull stops at a '*'
  }
  if (record) std::erase_if(record->branches, [](const auto& kv) { return kv.second.empty(); });
}

}  // namespace

CoverageRecords ReadGcovDir(const std::filesystem::path& dir) {
  CoverageRecords out;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".gcov") ReadGcovFile(entry.path(), out);
  return out;
}

CoverageRecords ReadLcov(const std::filesystem::path& path) {
  CoverageRecords out;
  FileRecord* record = nullptr;
  for (const std::string& text : SplitLines(ReadFile(path))) {
    auto field = [&](size_t i) {  // the i-th comma-separated value after "KEY:"
      std::string rest = text.substr(text.find(':') + 1);
      for (; i > 0; --i) rest = rest.substr(rest.find(',') + 1);
      return rest.substr(0, rest.find(','));
    };
    if (text.rfind("SF:", 0) == 0) {
      record = &out[Normal(text.substr(3))];
    } else if (!record) {
      continue;
    } else if (text.rfind("DA:", 0) == 0) {
      record->lines[static_cast<uint32_t>(std::stoul(field(0)))] += std::stoull(field(1));
    } else if (text.rfind("FNDA:", 0) == 0) {
      record->functions[text.substr(text.find(',') + 1)] += std::stoull(field(0));
    } else if (text.rfind("BRDA:", 0) == 0) {
      const std::string taken = field(3);
      record->branches[static_cast<uint32_t>(std::stoul(field(0)))].push_back(
          taken == "-" ? std::nullopt : std::optional<uint64_t>(std::stoull(taken)));
    }
  }
  return out;
}

}  // namespace hwcov::testing
