#include "intel_pt_filter.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "hwcov/hex.h"
#include "hwcov/support.h"
#include "intel_pt_elf.h"

namespace hwcov::collector {
namespace {

constexpr char kFormat[] =
    "filter|start|stop|tracestop <symbol or address> [/ <end symbol or size>] @ <file>, "
    "several separated by commas";

class FilterParser {
 public:
  explicit FilterParser(const std::string& text) : s_(text) {}

  std::vector<AddrFilter> All() {
    std::vector<AddrFilter> out;
    Skip(" ,");
    while (pos_ < s_.size()) {
      const size_t begin = pos_;
      AddrFilter f = One();
      f.text = s_.substr(begin, pos_ - begin);
      while (!f.text.empty() && (f.text.back() == ' ' || f.text.back() == ',')) f.text.pop_back();
      out.push_back(std::move(f));
      Skip(" ,");
    }
    if (out.empty()) Fail();
    return out;
  }

 private:
  [[noreturn]] void Fail() const {
    throw Error("--filter '" + s_ + "': cannot parse; the format is " + kFormat);
  }
  void Skip(const char* chars) {
    while (pos_ < s_.size() && std::strchr(chars, s_[pos_])) ++pos_;
  }
  std::string Word(const char* delims) {
    Skip(" ");
    const size_t begin = pos_;
    while (pos_ < s_.size() && !std::strchr(delims, s_[pos_])) ++pos_;
    if (pos_ == begin) Fail();
    return s_.substr(begin, pos_ - begin);
  }
  // A number (perf: anything starting with a digit) or a symbol with an
  // optional "#n" / "#g" occurrence selector.
  void NumberOrSymbol(std::optional<uint64_t>& number, std::string& symbol, int& idx) {
    Skip(" ");
    if (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      const std::string word = Word(" /@,");
      size_t used = 0;
      try {
        number = std::stoull(word, &used, 0);
      } catch (const std::exception&) {
        Fail();
      }
      if (used != word.size()) Fail();
      return;
    }
    symbol = Word(" /@,");
    Skip(" ");
    if (pos_ < s_.size() && s_[pos_] == '#') {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == 'g' || s_[pos_] == 'G')) {
        ++pos_;
        idx = 0;
      } else {
        const std::string n = Word(" /@,");
        if (n.find_first_not_of("0123456789") != std::string::npos || std::stoul(n) == 0) Fail();
        idx = static_cast<int>(std::stoul(n));
      }
    }
  }
  AddrFilter One() {
    AddrFilter f;
    f.action = Word(" ");
    if (f.action == "filter" || f.action == "tracestop")
      f.range = true;
    else if (f.action != "start" && f.action != "stop")
      Fail();
    NumberOrSymbol(f.addr, f.sym_from, f.sym_from_idx);
    Skip(" ");
    if (pos_ < s_.size() && s_[pos_] == '/') {
      ++pos_;
      NumberOrSymbol(f.size, f.sym_to, f.sym_to_idx);
      f.range = true;
    }
    Skip(" ");
    if (pos_ < s_.size() && s_[pos_] == '@') {
      ++pos_;
      f.file = Word(" ,");
    }
    return f;
  }

  const std::string& s_;
  size_t pos_ = 0;
};

ElfFunction FindFunction(const ElfCode& elf, const std::string& file, const std::string& name,
                         int idx) {
  std::vector<ElfFunction> all = elf.Functions(name);
  if (idx == 0) std::erase_if(all, [](const ElfFunction& f) { return !f.global; });
  if (all.empty())
    throw Error("--filter: no " + std::string(idx == 0 ? "global " : "") + "function '" + name +
                "' in " + file);
  if (idx > 0) {
    if (static_cast<size_t>(idx) > all.size())
      throw Error("--filter: " + file + " has " + std::to_string(all.size()) +
                  " function(s) named '" + name + "', not " + std::to_string(idx));
    return all[static_cast<size_t>(idx) - 1];
  }
  if (all.size() > 1 && idx < 0)
    throw Error("--filter: " + file + " has " + std::to_string(all.size()) + " functions named '" +
                name + "'; pick one with '" + name +
                " #2' or the global "
                "one with '" +
                name + " #g'");
  return all.front();
}

std::string RealPath(const std::string& file, const std::string& what) {
  std::error_code ec;
  auto real = std::filesystem::canonical(file, ec);
  if (ec) throw Error(what + ": " + file + ": " + ec.message());
  return real.string();
}

// The part [start, end) of executable segment |i| that the kernel binds to
// its own mapping. The loader maps each PT_LOAD on whole pages
// (fs/binfmt_elf.c elf_map); the kernel matches a file filter against a
// mapping's file range with both ends inside (perf_addr_filter_match) and
// binds it to the first match in address order in a running process
// (perf_addr_filter_apply) or to the last mmap that matches in one started
// under the filter (__perf_addr_filters_adjust). So the range must keep
// clear of the pages of the segments before it (attach) or after it
// (launch).
std::pair<uint64_t, uint64_t> BindableRange(const std::vector<ElfCodeRange>& loads, size_t i,
                                            bool attach) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  uint64_t start = loads[i].offset, end = loads[i].offset + loads[i].size;
  for (size_t j = 0; j < loads.size(); ++j) {
    if (j == i || (attach ? j > i : j < i) || loads[j].size == 0) continue;
    const uint64_t first = loads[j].offset & ~(page - 1);
    const uint64_t last = (loads[j].offset + loads[j].size + page - 1) & ~(page - 1);
    if (start > last || end < first) continue;
    if (attach)
      start = std::max(start, last + 1);
    else
      end = std::min(end, first ? first - 1 : 0);
  }
  return {start, std::max(start, end)};
}

}  // namespace

std::string UnfilterablePath(const std::string& path) {
  if (path.find_first_of(" ,\n") == std::string::npos) return "";
  return path +
         " has a space, comma or newline in its path, which the kernel's address-filter "
         "parser splits at";
}

std::vector<AddrFilter> ParseAddrFilters(const std::string& text) {
  return FilterParser(text).All();
}

std::string KernelFilter::ToString() const {
  return action + " " + Hex(offset) + "/" + Hex(size) + "@" + file;
}

KernelFilter ResolveAddrFilter(const AddrFilter& f) {
  if (f.file.empty())
    throw Error("--filter '" + f.text +
                "': name the binary with '@ FILE' (hwcov traces user "
                "space; filters without a file are kernel addresses)");
  if (!f.range || f.action == "start")
    throw Error("--filter '" + f.text +
                "': Intel PT filters address ranges only; use 'filter' "
                "(trace inside a range) or 'tracestop' (stop tracing in a range), with a "
                "function or a '/ size'");
  KernelFilter k;
  k.action = f.action == "filter" ? "filter" : "stop";
  k.file = RealPath(f.file, "--filter '" + f.text + "'");
  if (std::string why = UnfilterablePath(k.file); !why.empty())
    throw Error("--filter '" + f.text + "': " + why +
                "; give a path without them (a symlink works: the kernel follows it) or "
                "use --all-code");
  if (f.addr) {
    k.offset = *f.addr;
    if (f.size) k.size = *f.size;
  }
  if (!f.sym_from.empty() || !f.sym_to.empty()) {
    const ElfCode elf(k.file);
    if (f.sym_from == "*") {  // the whole file, as perf's addr_filter__entire_dso
      k.offset = 0;
      k.size = elf.file_size();
    } else {
      if (!f.sym_from.empty()) {
        ElfFunction from = FindFunction(elf, f.file, f.sym_from, f.sym_from_idx);
        k.offset = from.offset;
        if (!f.size && f.sym_to.empty()) k.size = from.size;
      }
      if (!f.sym_to.empty()) {
        ElfFunction to = FindFunction(elf, f.file, f.sym_to, f.sym_to_idx);
        if (to.offset + to.size < k.offset)
          throw Error("--filter '" + f.text + "': '" + f.sym_to + "' comes before the start");
        k.size = to.offset + to.size - k.offset;
      }
    }
  }
  if (k.size == 0)
    throw Error("--filter '" + f.text + "': the range is empty (give '/ size' or an end symbol)");
  return k;
}

std::string BuildFilterString(const std::vector<std::string>& filters, uint32_t ranges_available) {
  std::vector<AddrFilter> parsed;
  for (const std::string& text : filters)
    for (AddrFilter& f : ParseAddrFilters(text)) parsed.push_back(std::move(f));
  if (parsed.empty()) return "";
  if (ranges_available == 0)
    throw Error(
        "--filter: this CPU's Intel PT cannot filter by address "
        "(caps/num_address_ranges is 0); record without --filter");
  if (parsed.size() > ranges_available)
    throw Error("--filter: " + std::to_string(parsed.size()) +
                " address ranges given but this "
                "CPU's Intel PT supports " +
                std::to_string(ranges_available) +
                " (caps/num_address_ranges); merge neighbouring ranges or drop some");
  std::string out;
  for (const AddrFilter& f : parsed)
    out += (out.empty() ? "" : ",") + ResolveAddrFilter(f).ToString();
  return out;
}

BinaryFilter BinaryFilterString(const std::vector<std::string>& files, uint32_t ranges_available,
                                bool attach) {
  std::vector<KernelFilter> ranges;
  for (const std::string& file : files) {
    const std::string real = RealPath(file, "cannot filter the trace to a binary");
    if (std::string why = UnfilterablePath(real); !why.empty()) return {"", why};
    const ElfCode elf(real);
    const auto& loads = elf.load_segments();
    for (size_t i = 0; i < loads.size(); ++i) {
      if (!loads[i].exec) continue;
      const auto [start, end] = BindableRange(loads, i, attach);
      // One byte goes where a page-aligned segment follows a mapping that
      // ends there (GNU ld's layout); losing more would lose code.
      if (loads[i].size - (end - start) > 1)
        return {"", real +
                        " has code in file pages it shares with another segment (lld's "
                        "layout), where the kernel binds the address filter to the other "
                        "mapping"};
      ranges.push_back({"filter", start, end - start, real});
    }
  }
  if (ranges.size() > ranges_available)
    throw Error("tracing only " + std::to_string(files.size()) + " binary(ies) needs " +
                std::to_string(ranges.size()) + " address ranges but this CPU's Intel PT has " +
                std::to_string(ranges_available) +
                " (caps/num_address_ranges); use --all-code or fewer --only paths");
  BinaryFilter out;
  for (const KernelFilter& k : ranges) out.filter += (out.filter.empty() ? "" : ",") + k.ToString();
  return out;
}

}  // namespace hwcov::collector
