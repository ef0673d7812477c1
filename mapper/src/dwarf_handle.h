// libdwarf (20210528 API) behind a small RAII wrapper: one open Dwarf_Debug,
// DIE ownership, and the attribute reads the mapper needs, with libdwarf's
// DW_DLV_ERROR turned into hwcov::Error naming the file and DIE offset.
#pragma once

#include <dwarf.h>
#include <libdwarf.h>

#include <cstdint>
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
  std::string path_;
  Dwarf_Debug dbg_ = nullptr;
};

}  // namespace hwcov::mapper
