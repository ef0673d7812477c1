#include "dwarf_info.h"

#include <dwarf.h>
#include <libdwarf.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>

#include "hwcov/support.h"

namespace hwcov::mapper {
namespace {

// Owns a Dwarf_Debug and turns libdwarf's DW_DLV_ERROR into hwcov::Error.
class Dwarf {
 public:
  explicit Dwarf(const std::string& path) : path_(path) {}
  ~Dwarf() {
    if (dbg_) dwarf_finish(dbg_, nullptr);
  }
  Dwarf(const Dwarf&) = delete;
  Dwarf& operator=(const Dwarf&) = delete;

  bool Open() {
    Dwarf_Error err = nullptr;
    int rc = dwarf_init_path(path_.c_str(), nullptr, 0, DW_DLC_READ, DW_GROUPNUMBER_ANY, nullptr,
                             nullptr, &dbg_, nullptr, 0, nullptr, &err);
    if (rc == DW_DLV_NO_ENTRY) return false;
    Check(rc, err, "opening DWARF");
    return true;
  }

  void Check(int rc, Dwarf_Error err, const char* what) const {
    if (rc != DW_DLV_ERROR) return;
    std::string message = err ? dwarf_errmsg(err) : "unknown error";
    if (err) dwarf_dealloc_error(dbg_, err);
    ThrowFileError(path_, std::string("DWARF error ") + what + ": " + message);
  }

  Dwarf_Debug dbg() const { return dbg_; }

 private:
  std::string path_;
  Dwarf_Debug dbg_ = nullptr;
};

struct DieDeleter {
  Dwarf_Debug dbg;
  void operator()(Dwarf_Die die) const { dwarf_dealloc_die(die); }
};
using DiePtr = std::unique_ptr<std::remove_pointer_t<Dwarf_Die>, DieDeleter>;

class Reader {
 public:
  Reader(Dwarf& dwarf, DebugInfo& out) : dw_(dwarf), out_(out) {}

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
      DiePtr cu_die(cu, DieDeleter{dw_.dbg()});
      ReadLines(cu);
      WalkDies(cu);
    }
    std::sort(out_.ranges.begin(), out_.ranges.end(),
              [](const LineRange& a, const LineRange& b) { return a.begin < b.begin; });
  }

 private:
  uint32_t FileIndex(const char* name) {
    std::string path = std::filesystem::path(name).lexically_normal().string();
    auto [it, inserted] = file_index_.emplace(path, static_cast<uint32_t>(out_.files.size()));
    if (inserted) out_.files.push_back(path);
    return it->second;
  }

  void ReadLines(Dwarf_Die cu) {
    Dwarf_Unsigned version = 0;
    Dwarf_Small table_count = 0;
    Dwarf_Line_Context context = nullptr;
    Dwarf_Error err = nullptr;
    int rc = dwarf_srclines_b(cu, &version, &table_count, &context, &err);
    if (rc == DW_DLV_NO_ENTRY) return;
    dw_.Check(rc, err, "reading a line table");
    std::unique_ptr<std::remove_pointer_t<Dwarf_Line_Context>, void (*)(Dwarf_Line_Context)>
        owner(context, dwarf_srclines_dealloc_b);
    Dwarf_Line* lines = nullptr;
    Dwarf_Signed count = 0;
    rc = dwarf_srclines_from_linecontext(context, &lines, &count, &err);
    dw_.Check(rc, err, "reading line table rows");
    if (rc != DW_DLV_OK) return;

    struct Row {
      Dwarf_Addr addr;
      Dwarf_Unsigned line;
      Dwarf_Bool end_sequence, is_stmt;
      uint32_t file;
    };
    std::vector<Row> sequence;
    std::map<std::string, uint32_t> names;
    for (Dwarf_Signed i = 0; i < count; ++i) {
      Row row{};
      dw_.Check(dwarf_lineaddr(lines[i], &row.addr, &err), err, "reading a line address");
      dw_.Check(dwarf_lineno(lines[i], &row.line, &err), err, "reading a line number");
      dw_.Check(dwarf_lineendsequence(lines[i], &row.end_sequence, &err), err,
                "reading end_sequence");
      dw_.Check(dwarf_linebeginstatement(lines[i], &row.is_stmt, &err), err, "reading is_stmt");
      char* src = nullptr;
      if (dwarf_linesrc(lines[i], &src, &err) == DW_DLV_OK && src) {
        row.file = FileIndex(src);
        dwarf_dealloc(dw_.dbg(), src, DW_DLA_STRING);
      }
      sequence.push_back(row);
      if (row.end_sequence) {
        EmitSequence(sequence);
        sequence.clear();
      }
    }
  }

  template <typename Row>
  void EmitSequence(const std::vector<Row>& rows) {
    // A sequence at address 0 is code the linker discarded (COMDAT, gc-sections).
    if (rows.empty() || rows.front().addr == 0) return;
    for (size_t i = 0; i + 1 < rows.size(); ++i) {
      const Row& r = rows[i];
      if (r.line == 0 || rows[i + 1].addr <= r.addr) continue;
      out_.ranges.push_back(LineRange{r.addr, rows[i + 1].addr, r.file,
                                      static_cast<uint32_t>(r.line), r.is_stmt != 0});
    }
  }

  std::string StringAttr(Dwarf_Die die, Dwarf_Half name) {
    Dwarf_Attribute attr = nullptr;
    Dwarf_Error err = nullptr;
    if (dwarf_attr(die, name, &attr, &err) != DW_DLV_OK) return "";
    char* str = nullptr;
    std::string out;
    if (dwarf_formstring(attr, &str, &err) == DW_DLV_OK && str) out = str;
    dwarf_dealloc_attribute(attr);
    return out;
  }

  uint32_t UnsignedAttr(Dwarf_Die die, Dwarf_Half name) {
    Dwarf_Attribute attr = nullptr;
    Dwarf_Error err = nullptr;
    if (dwarf_attr(die, name, &attr, &err) != DW_DLV_OK) return 0;
    Dwarf_Unsigned value = 0;
    if (dwarf_formudata(attr, &value, &err) != DW_DLV_OK) value = 0;
    dwarf_dealloc_attribute(attr);
    return static_cast<uint32_t>(value);
  }

  // The DIE that DW_AT_specification / DW_AT_abstract_origin points to.
  DiePtr Origin(Dwarf_Die die) {
    for (Dwarf_Half name : {DW_AT_specification, DW_AT_abstract_origin}) {
      Dwarf_Attribute attr = nullptr;
      Dwarf_Error err = nullptr;
      if (dwarf_attr(die, name, &attr, &err) != DW_DLV_OK) continue;
      Dwarf_Off offset = 0;
      int rc = dwarf_global_formref(attr, &offset, &err);
      dwarf_dealloc_attribute(attr);
      Dwarf_Die target = nullptr;
      if (rc == DW_DLV_OK && dwarf_offdie_b(dw_.dbg(), offset, true, &target, &err) == DW_DLV_OK)
        return DiePtr(target, DieDeleter{dw_.dbg()});
    }
    return DiePtr(nullptr, DieDeleter{dw_.dbg()});
  }

  void AddSubprogram(Dwarf_Die die) {
    Dwarf_Addr low = 0, high = 0;
    Dwarf_Half form = 0;
    enum Dwarf_Form_Class form_class = DW_FORM_CLASS_UNKNOWN;
    Dwarf_Error err = nullptr;
    if (dwarf_lowpc(die, &low, &err) != DW_DLV_OK || low == 0) return;
    if (dwarf_highpc_b(die, &high, &form, &form_class, &err) != DW_DLV_OK) return;
    if (form_class == DW_FORM_CLASS_CONSTANT) high += low;
    Subprogram s{StringAttr(die, DW_AT_name), StringAttr(die, DW_AT_linkage_name), low, high,
                 UnsignedAttr(die, DW_AT_decl_line)};
    // Out-of-class definitions and concrete instances take names from their origin.
    for (DiePtr origin = Origin(die); origin && (s.name.empty() || s.decl_line == 0 ||
                                                 s.linkage.empty());) {
      if (s.name.empty()) s.name = StringAttr(origin.get(), DW_AT_name);
      if (s.linkage.empty()) s.linkage = StringAttr(origin.get(), DW_AT_linkage_name);
      if (s.decl_line == 0) s.decl_line = UnsignedAttr(origin.get(), DW_AT_decl_line);
      origin = Origin(origin.get());
    }
    if (!s.name.empty() || !s.linkage.empty()) out_.subprograms.push_back(std::move(s));
  }

  void WalkDies(Dwarf_Die parent) {
    Dwarf_Die child = nullptr;
    Dwarf_Error err = nullptr;
    if (dwarf_child(parent, &child, &err) != DW_DLV_OK) return;
    DiePtr current(child, DieDeleter{dw_.dbg()});
    while (current) {
      Dwarf_Half tag = 0;
      if (dwarf_tag(current.get(), &tag, &err) == DW_DLV_OK) {
        if (tag == DW_TAG_subprogram) AddSubprogram(current.get());
        if (tag == DW_TAG_namespace || tag == DW_TAG_class_type ||
            tag == DW_TAG_structure_type || tag == DW_TAG_union_type ||
            tag == DW_TAG_subprogram || tag == DW_TAG_lexical_block)
          WalkDies(current.get());
      }
      Dwarf_Die next = nullptr;
      if (dwarf_siblingof_b(dw_.dbg(), current.get(), true, &next, &err) != DW_DLV_OK) break;
      current.reset(next);
    }
  }

  Dwarf& dw_;
  DebugInfo& out_;
  std::map<std::string, uint32_t> file_index_;
};

}  // namespace

DebugInfo ReadDebugInfo(const std::string& path) {
  DebugInfo info;
  Dwarf dwarf(path);
  if (!dwarf.Open()) return info;
  info.has_dwarf = true;
  Reader(dwarf, info).ReadAllUnits();
  return info;
}

}  // namespace hwcov::mapper
