// libdwarf (20210528 API) behind a small RAII wrapper: one open Dwarf_Debug,
// DIE ownership, and the attribute reads the mapper needs. libdwarf's
// DW_DLV_ERROR never reads as "absent":
//   - a DIE that cannot be read (its offset, tag, attribute list, children,
//     siblings) throws hwcov::Error naming the file and the DIE offset: the
//     tree below it is lost, so is every function there;
//   - an attribute value that cannot be decoded (a string offset past
//     .debug_str, a reference or number in a form that does not fit) is left
//     out and counted: Warnings() says how many, of which kind, where the
//     first was, and the mapper puts that in the report's warnings.
#pragma once

#include <dwarf.h>
#include <libdwarf.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace hwcov::mapper {

struct AddressRange {
  uint64_t begin = 0, end = 0;  // [begin, end)
  friend bool operator==(const AddressRange&, const AddressRange&) = default;
};

struct DieDeleter {
  void operator()(Dwarf_Die die) const { dwarf_dealloc_die(die); }
};
using DiePtr = std::unique_ptr<std::remove_pointer_t<Dwarf_Die>, DieDeleter>;

class Dwarf {
 public:
  explicit Dwarf(std::string path) : path_(std::move(path)) {}
  ~Dwarf();
  Dwarf(const Dwarf&) = delete;
  Dwarf& operator=(const Dwarf&) = delete;

  // False when the file has no DWARF at all.
  bool Open();
  Dwarf_Debug dbg() const { return dbg_; }
  const std::string& path() const { return path_; }

  // Throws hwcov::Error for DW_DLV_ERROR, naming the file and |what|.
  void Check(int rc, Dwarf_Error err, const std::string& what) const;
  // For DW_DLV_ERROR: counts an attribute value of |die| that could not be
  // read (|what|: which one) and frees |err|. Returns whether rc is DW_DLV_OK.
  bool Tolerate(int rc, Dwarf_Error err, const std::string& what, Dwarf_Die die) const;
  // One line per kind of unreadable value: "FILE: N unreadable DWARF WHAT
  // (first at DIE X: libdwarf's message); left out".
  std::vector<std::string> Warnings() const;

  DiePtr FirstChild(Dwarf_Die die) const;
  DiePtr NextSibling(Dwarf_Die die) const;
  DiePtr DieAt(Dwarf_Off offset) const;  // .debug_info offset
  Dwarf_Off Offset(Dwarf_Die die) const;
  Dwarf_Off CuOffset(Dwarf_Die die) const;  // offset of the DIE's compilation unit DIE
  Dwarf_Half Tag(Dwarf_Die die) const;

  std::string String(Dwarf_Die die, Dwarf_Half attr) const;  // "" if absent
  std::optional<uint64_t> Unsigned(Dwarf_Die die, Dwarf_Half attr) const;
  std::optional<Dwarf_Off> Reference(Dwarf_Die die, Dwarf_Half attr) const;  // global offset
  std::optional<Dwarf_Off> SectionOffset(Dwarf_Die die, Dwarf_Half attr) const;

  // The code addresses of a subprogram, inlined subroutine or lexical block:
  // DW_AT_low_pc/DW_AT_high_pc or DW_AT_ranges (DWARF 4 .debug_ranges relative
  // to |cu_base|, DWARF 5 .debug_rnglists), in the order listed.
  std::vector<AddressRange> Ranges(Dwarf_Die die, uint64_t cu_base) const;
  // DW_AT_entry_pc, if the DIE has one (|ranges| gives the base of a
  // DWARF 5 constant-class value).
  std::optional<uint64_t> EntryPc(Dwarf_Die die, const std::vector<AddressRange>& ranges) const;

 private:
  struct Unreadable {
    uint64_t count = 0;
    std::string first;  // "DIE X: message"
  };
  // The attribute |name| of |die|, nullptr when absent; throws on DW_DLV_ERROR.
  struct AttrDeleter {
    void operator()(Dwarf_Attribute attr) const { dwarf_dealloc_attribute(attr); }
  };
  using AttrPtr = std::unique_ptr<std::remove_pointer_t<Dwarf_Attribute>, AttrDeleter>;
  AttrPtr Attr(Dwarf_Die die, Dwarf_Half name) const;

  std::string path_;
  Dwarf_Debug dbg_ = nullptr;
  mutable std::map<std::string, Unreadable> unreadable_;  // by |what|
};

}  // namespace hwcov::mapper
