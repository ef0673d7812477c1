// ReadDebugInfo(): one pass over the compilation units. Each CU's line
// program is decoded by line_program.cc; its DIE tree gives the functions
// and the address ranges of each copy of their code.
#include "dwarf_info.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <unordered_map>

#include "dwarf_list_headers.h"
#include "elf_sections.h"
#include "hwcov/support.h"
#include "line_program.h"

namespace hwcov::mapper {

const LineRow* DebugInfo::RowAt(uint64_t address) const {
  auto it = std::upper_bound(rows.begin(), rows.end(), address,
                             [](uint64_t a, const LineRow& r) { return a < r.begin; });
  if (it == rows.begin()) return nullptr;
  --it;
  return address < it->end ? &*it : nullptr;
}

namespace {

// A DW_AT_decl_file value waits until every CU's file table is known: the
// DIE holding it may sit in another CU (DW_FORM_ref_addr, e.g. after LTO).
struct PendingDeclFile {
  uint32_t function;
  Dwarf_Off cu;
  uint64_t file;
};

// A DW_AT_call_file value, resolved once its CU's file table is known.
struct PendingCallFile {
  uint32_t instance;
  Dwarf_Off cu;
  uint64_t file;
};

// A function's names and declaration, gathered along DW_AT_abstract_origin
// and DW_AT_specification links.
struct Declaration {
  std::string name, linkage;
  uint32_t line = 0;
  std::optional<std::pair<Dwarf_Off, uint64_t>> file;  // (CU, DW_AT_decl_file)
};

class Reader {
 public:
  Reader(Dwarf& dwarf, const ElfSections& sections, DebugInfo& out) : dw_(dwarf), out_(out) {
    debug_line_ = sections.Data(".debug_line").value_or(std::span<const uint8_t>());
    strings_.line_str = sections.Data(".debug_line_str").value_or(std::span<const uint8_t>());
    strings_.str = sections.Data(".debug_str").value_or(std::span<const uint8_t>());
  }

  void ReadAllUnits() {
    for (;;) {
      Dwarf_Unsigned header_length = 0, abbrev_offset = 0, typeoffset = 0, next_offset = 0;
      Dwarf_Half version = 0, address_size = 0, length_size = 0, extension_size = 0, type = 0;
      Dwarf_Sig8 signature;
      Dwarf_Error err = nullptr;
      int rc = dwarf_next_cu_header_d(dw_.dbg(), true, &header_length, &version, &abbrev_offset,
                                      &address_size, &length_size, &extension_size, &signature,
                                      &typeoffset, &next_offset, &type, &err);
      if (rc == DW_DLV_NO_ENTRY) break;
      dw_.Check(rc, err, "reading a compilation unit header");
      Dwarf_Die cu = nullptr;
      rc = dwarf_siblingof_b(dw_.dbg(), nullptr, true, &cu, &err);
      dw_.Check(rc, err, "reading a compilation unit");
      if (rc != DW_DLV_OK) continue;
      DiePtr cu_die(cu);
      ReadUnit(cu);
    }
    Finish();
  }

 private:
  void ReadUnit(Dwarf_Die cu) {
    const Dwarf_Off cu_offset = dw_.Offset(cu);
    std::vector<uint32_t>& files = cu_files_[cu_offset];
    if (auto stmt_list = dw_.SectionOffset(cu, DW_AT_stmt_list);
        stmt_list && !debug_line_.empty()) {
      // Units can share a line program (type units, partial units): its rows once.
      if (auto read = programs_.find(*stmt_list); read != programs_.end()) {
        files = read->second;
      } else {
        LineProgram program = ReadLineProgram(debug_line_, *stmt_list, strings_,
                                              dw_.String(cu, DW_AT_comp_dir), dw_.path());
        for (const std::string& name : program.files)
          files.push_back(name.empty() ? kNoFile : FileIndex(name));
        AddRows(program, files);
        programs_.emplace(*stmt_list, files);
      }
    }
    Dwarf_Addr base = 0;
    Dwarf_Error err = nullptr;
    if (!dw_.Tolerate(dwarf_lowpc(cu, &base, &err), err, "DW_AT_low_pc", cu)) base = 0;
    cu_base_ = base;
    cu_offset_ = cu_offset;
    cu_clang_ = dw_.String(cu, DW_AT_producer).find("clang") != std::string::npos;
    Walk(cu, std::nullopt);
  }

  uint32_t FileIndex(const std::string& name) {
    std::string path = std::filesystem::path(name).lexically_normal().string();
    auto [it, inserted] = file_index_.emplace(path, static_cast<uint32_t>(out_.files.size()));
    if (inserted) out_.files.push_back(path);
    return it->second;
  }

  void AddRows(const LineProgram& program, const std::vector<uint32_t>& files) {
    const auto& rows = program.rows;
    size_t start = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (!rows[i].end_sequence) continue;
      // A sequence starting at address 0 is code the linker discarded
      // (COMDAT duplicates, --gc-sections).
      if (rows[start].address != 0) {
        for (size_t j = start; j < i; ++j) {
          const LineProgramRow& r = rows[j];
          const uint64_t next = rows[j + 1].address;
          if (next < r.address) continue;  // malformed: addresses go backwards
          LineRow row;
          row.begin = r.address;
          row.end = next;
          const bool known_file = r.file < files.size() && files[r.file] != kNoFile;
          row.file = known_file ? files[r.file] : 0;
          row.line = known_file ? r.line : 0;
          row.is_stmt = r.is_stmt;
          row.prologue_end = r.prologue_end;
          row.first_at_address = j == start || rows[j - 1].address != r.address;
          (next > r.address ? out_.rows : out_.views).push_back(row);
        }
      }
      start = i + 1;
    }
  }

  // |enclosing|: the copy of code (index into instances) whose DIE subtree
  // |parent| is in; none outside functions.
  void Walk(Dwarf_Die parent, std::optional<uint32_t> enclosing) {
    // One level of recursion per level of DIEs. Real code nests them a few
    // dozen deep; a program of 30,000 nested blocks overflowed the stack.
    constexpr int kMaxNesting = 2000;
    if (nesting_ == kMaxNesting)
      ThrowFileError(dw_.path(), "DWARF DIEs nested more than " + std::to_string(kMaxNesting) +
                                     " deep at DIE " + std::to_string(dw_.Offset(parent)));
    ++nesting_;
    struct Leave {
      int& nesting;
      ~Leave() { --nesting; }
    } leave{nesting_};
    for (DiePtr child = dw_.FirstChild(parent); child; child = dw_.NextSibling(child.get())) {
      switch (dw_.Tag(child.get())) {
        case DW_TAG_subprogram: {
          // Declarations and abstract instances have no code; nested
          // functions (GNU C) are bodies of their own.
          std::vector<AddressRange> ranges = Code(child.get());
          if (ranges.empty()) break;
          Walk(child.get(), AddInstance(child.get(), std::move(ranges), std::nullopt));
          break;
        }
        case DW_TAG_inlined_subroutine: {
          if (!enclosing) break;
          std::vector<AddressRange> ranges = Code(child.get());
          if (ranges.empty()) break;
          Walk(child.get(), AddInstance(child.get(), std::move(ranges), enclosing));
          break;
        }
        case DW_TAG_lexical_block:
        case DW_TAG_namespace:
          Walk(child.get(), enclosing);
          break;
        case DW_TAG_class_type:
        case DW_TAG_structure_type:
        case DW_TAG_union_type:
          // A lambda's operator() and a local class's methods are defined
          // inside their class, inside a function. Other classes only declare
          // their methods (definitions are at namespace level), and walking
          // every member of every type would double the time of a C++ binary.
          if (enclosing) Walk(child.get(), enclosing);
          break;
        default:  // variables, parameters, other types: no code below them
          break;
      }
    }
  }

  std::vector<AddressRange> Code(Dwarf_Die die) {
    std::vector<AddressRange> ranges = dw_.Ranges(die, cu_base_);
    // Address 0 marks code the linker discarded.
    std::erase_if(ranges, [](const AddressRange& r) { return r.begin == 0; });
    return ranges;
  }

  // An out-of-line body (no |caller|) or a copy inlined into |caller|;
  // returns its index.
  uint32_t AddInstance(Dwarf_Die die, std::vector<AddressRange> ranges,
                       std::optional<uint32_t> caller) {
    const bool inlined = caller.has_value();
    const Dwarf_Off self = dw_.Offset(die);
    const Dwarf_Off origin = dw_.Reference(die, DW_AT_abstract_origin).value_or(self);
    // gcc emits one body per constructor/destructor variant (C1/C2, D0/D1/D2)
    // when they differ, all with one abstract origin: the linkage name on the
    // concrete DIE tells them apart.
    std::string own_linkage = inlined ? "" : LinkageName(die);
    if (!own_linkage.empty()) concrete_linkage_.emplace(origin, own_linkage);
    auto [it, inserted] = function_index_.emplace(std::make_pair(origin, own_linkage),
                                                  static_cast<uint32_t>(out_.functions.size()));
    if (inserted) AddFunction(origin, own_linkage);
    CodeInstance instance;
    instance.function = it->second;
    const std::optional<uint64_t> entry_pc = dw_.EntryPc(die, ranges);
    instance.entry = entry_pc.value_or(ranges.front().begin);
    // An out-of-line body's first range is where its symbol is (gcc lists a
    // function's hot part before its .cold part).
    instance.entry_exact = entry_pc || ranges.size() == 1 || !inlined;
    instance.ranges = std::move(ranges);
    instance.clang = cu_clang_;
    const uint32_t index = static_cast<uint32_t>(out_.instances.size());
    if (caller) {
      instance.depth = out_.instances[*caller].depth + 1;
      instance.caller = *caller;
      instance.call_line = static_cast<uint32_t>(dw_.Unsigned(die, DW_AT_call_line).value_or(0));
      if (auto file = dw_.Unsigned(die, DW_AT_call_file))
        pending_calls_.push_back({index, cu_offset_, *file});
    }
    out_.instances.push_back(std::move(instance));
    return index;
  }

  std::string LinkageName(Dwarf_Die die) {
    std::string name = dw_.String(die, DW_AT_linkage_name);
    return name.empty() ? dw_.String(die, DW_AT_MIPS_linkage_name) : name;
  }

  void AddFunction(Dwarf_Off origin, const std::string& own_linkage) {
    Declaration d = Declare(origin);
    Function f;
    f.name = d.name;
    f.linkage = own_linkage.empty() ? d.linkage : own_linkage;
    f.decl_line = d.line;
    const uint32_t index = static_cast<uint32_t>(out_.functions.size());
    if (d.file) pending_files_.push_back({index, d.file->first, d.file->second});
    out_.functions.push_back(std::move(f));
  }

  Declaration Declare(Dwarf_Off offset) {
    if (auto it = declarations_.find(offset); it != declarations_.end()) return it->second;
    Declaration d;
    std::optional<Dwarf_Off> next = offset;
    for (int hops = 0; next && hops < 8; ++hops) {
      DiePtr die = dw_.DieAt(*next);
      if (!die) break;
      if (d.name.empty()) d.name = dw_.String(die.get(), DW_AT_name);
      if (d.linkage.empty()) d.linkage = LinkageName(die.get());
      if (!d.line)
        d.line = static_cast<uint32_t>(dw_.Unsigned(die.get(), DW_AT_decl_line).value_or(0));
      if (!d.file)
        if (auto file = dw_.Unsigned(die.get(), DW_AT_decl_file))
          d.file = std::make_pair(dw_.CuOffset(die.get()), *file);
      next = dw_.Reference(die.get(), DW_AT_abstract_origin);
      if (!next) next = dw_.Reference(die.get(), DW_AT_specification);
    }
    declarations_.emplace(offset, d);
    return d;
  }

  // The global index of file |file| of CU |cu|'s table, or kNoFile.
  uint32_t CuFile(Dwarf_Off cu, uint64_t file) const {
    auto it = cu_files_.find(cu);
    return it != cu_files_.end() && file < it->second.size() ? it->second[file] : kNoFile;
  }

  void Finish() {
    for (const PendingDeclFile& p : pending_files_)
      if (uint32_t file = CuFile(p.cu, p.file); file != kNoFile)
        out_.functions[p.function].decl_file = file;
    for (const PendingCallFile& p : pending_calls_)
      out_.instances[p.instance].call_file = CuFile(p.cu, p.file);
    // An inlined copy's abstract origin has no linkage name when the
    // function is a constructor or destructor; name it as its body is.
    for (auto& [key, index] : function_index_)
      if (key.second.empty() && out_.functions[index].linkage.empty())
        if (auto it = concrete_linkage_.find(key.first); it != concrete_linkage_.end())
          out_.functions[index].linkage = it->second;
    auto by_begin = [](const LineRow& a, const LineRow& b) { return a.begin < b.begin; };
    std::stable_sort(out_.rows.begin(), out_.rows.end(), by_begin);
    std::stable_sort(out_.views.begin(), out_.views.end(), by_begin);
  }

  Dwarf& dw_;
  DebugInfo& out_;
  std::span<const uint8_t> debug_line_;
  LineStrings strings_;
  uint64_t cu_base_ = 0;
  Dwarf_Off cu_offset_ = 0;  // of the unit being walked
  bool cu_clang_ = false;    // the unit being walked was compiled by clang
  std::map<std::string, uint32_t> file_index_;
  std::unordered_map<Dwarf_Off, std::vector<uint32_t>> cu_files_;  // by CU DIE offset
  std::unordered_map<Dwarf_Off, std::vector<uint32_t>> programs_;  // by .debug_line offset
  std::map<std::pair<Dwarf_Off, std::string>, uint32_t> function_index_;
  std::unordered_map<Dwarf_Off, std::string> concrete_linkage_;
  std::unordered_map<Dwarf_Off, Declaration> declarations_;
  std::vector<PendingDeclFile> pending_files_;
  std::vector<PendingCallFile> pending_calls_;
  int nesting_ = 0;  // of Walk
};

}  // namespace

DebugInfo ReadDebugInfo(const std::string& path) {
  DebugInfo info;
  Dwarf dwarf(path);
  if (!dwarf.Open()) return info;
  info.has_dwarf = true;
  ElfSections sections(path);
  CheckDwarfListHeaders(sections);  // before libdwarf reads them: dwarf_list_headers.h
  Reader(dwarf, sections, info).ReadAllUnits();
  info.warnings = dwarf.Warnings();
  return info;
}

}  // namespace hwcov::mapper
