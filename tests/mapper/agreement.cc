#include "agreement.h"

#include <filesystem>
#include <iomanip>
#include <map>
#include <sstream>

namespace hwcov::testing {
namespace {

std::string Where(const std::string& path, uint32_t line) {
  return std::filesystem::path(path).filename().string() + ":" + std::to_string(line);
}

enum class BranchState { kNone, kAllTaken, kSomeNotTaken };

BranchState State(const std::vector<std::optional<uint64_t>>* outcomes) {
  if (!outcomes || outcomes->empty()) return BranchState::kNone;
  for (const auto& count : *outcomes)
    if (!count || *count == 0) return BranchState::kSomeNotTaken;
  return BranchState::kAllTaken;
}

std::string Describe(const std::vector<std::optional<uint64_t>>* outcomes) {
  if (!outcomes) return "[]";
  std::string s = "[";
  for (const auto& count : *outcomes)
    s += (s.size() > 1 ? "," : "") + (count ? std::to_string(*count) : "-");
  return s + "]";
}

}  // namespace

Agreement Compare(const CoverageRecords& reference, const CoverageRecords& hwcov,
                  const std::function<bool(const std::string&)>& wanted) {
  Agreement a;
  static const FileRecord kEmpty;
  for (const auto& [path, ref] : reference) {
    if (!wanted(path)) continue;
    auto found = hwcov.find(path);
    const FileRecord& hw = found == hwcov.end() ? kEmpty : found->second;
    for (const auto& [line, count] : ref.lines) {
      auto it = hw.lines.find(line);
      if (it == hw.lines.end()) {
        a.only_reference_lines.push_back(Where(path, line));
        continue;
      }
      ++a.lines.total;
      if ((count > 0) == (it->second > 0)) {
        ++a.lines.agree;
      } else {
        a.line_differences.push_back(Where(path, line) + " reference " + std::to_string(count) +
                                     " hwcov " + std::to_string(it->second));
        if (count == 0) a.ran_only_in_hwcov.push_back(Where(path, line));
      }
    }
    for (const auto& [line, count] : hw.lines)
      if (!ref.lines.count(line)) a.only_hwcov_lines.push_back(Where(path, line));

    for (const auto& [name, count] : ref.functions) {
      ++a.functions.total;
      auto it = hw.functions.find(name);
      if (it != hw.functions.end() && (count > 0) == (it->second > 0)) {
        ++a.functions.agree;
        continue;
      }
      a.function_differences.push_back(
          name + " reference " + std::to_string(count) + " hwcov " +
          (it == hw.functions.end() ? "missing" : std::to_string(it->second)));
    }
    for (const auto& [name, count] : hw.functions)
      if (!ref.functions.count(name)) a.only_hwcov_functions.push_back(name);

    std::map<uint32_t, bool> branch_lines;
    for (const auto& [line, outcomes] : ref.branches) branch_lines[line] = true;
    for (const auto& [line, outcomes] : hw.branches) branch_lines[line] = true;
    for (const auto& [line, unused] : branch_lines) {
      auto r = ref.branches.find(line);
      auto h = hw.branches.find(line);
      const auto* ro = r == ref.branches.end() ? nullptr : &r->second;
      const auto* ho = h == hw.branches.end() ? nullptr : &h->second;
      ++a.branch_lines.total;
      if (State(ro) == State(ho)) {
        ++a.branch_lines.agree;
      } else {
        a.branch_differences.push_back(Where(path, line) + " reference " + Describe(ro) +
                                       " hwcov " + Describe(ho));
      }
    }
  }
  return a;
}

void Print(std::ostream& out, const std::string& title, const Agreement& a) {
  auto percent = [](const Ratio& r) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(1) << 100.0 * r.Share() << "% (" << r.agree << "/"
      << r.total << ")";
    return s.str();
  };
  out << "[accuracy] " << title << ": lines " << percent(a.lines) << ", functions "
      << percent(a.functions) << ", branch lines " << percent(a.branch_lines)
      << "; ran only in hwcov " << a.ran_only_in_hwcov.size() << "; lines only in reference "
      << a.only_reference_lines.size() << ", only in hwcov " << a.only_hwcov_lines.size() << "\n";
  auto list = [&](const char* what, const std::vector<std::string>& items) {
    if (items.empty()) return;
    out << "    " << what << ":";
    for (const auto& item : items) out << " " << item << ";";
    out << "\n";
  };
  list("line differences", a.line_differences);
  list("function differences", a.function_differences);
  list("branch differences", a.branch_differences);
  list("lines only in reference", a.only_reference_lines);
  list("lines only in hwcov", a.only_hwcov_lines);
  list("functions only in hwcov", a.only_hwcov_functions);
}

}  // namespace hwcov::testing
