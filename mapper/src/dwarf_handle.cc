#include "dwarf_handle.h"

#include "hwcov/support.h"

namespace hwcov::mapper {
namespace {

std::string AttributeName(Dwarf_Half attr) {
  const char* name = nullptr;
  if (dwarf_get_AT_name(attr, &name) == DW_DLV_OK && name) return name;
  return "attribute " + std::to_string(attr);
}

}  // namespace

Dwarf::AttrPtr Dwarf::Attr(Dwarf_Die die, Dwarf_Half name) const {
  Dwarf_Attribute attr = nullptr;
  Dwarf_Error err = nullptr;
  const int rc = dwarf_attr(die, name, &attr, &err);
  if (rc == DW_DLV_ERROR)  // the message is built only then: this runs for every attribute read
    Check(rc, err, "reading " + AttributeName(name) + " of DIE " + std::to_string(Offset(die)));
  return AttrPtr(rc == DW_DLV_OK ? attr : nullptr);
}

Dwarf::~Dwarf() {
  if (dbg_) dwarf_finish(dbg_, nullptr);
}

bool Dwarf::Open() {
  Dwarf_Error err = nullptr;
  // No true-path buffer: libdwarf must not follow .gnu_debuglink on its own;
  // debug_locator.cc decides where debug info comes from.
  int rc = dwarf_init_path(path_.c_str(), nullptr, 0, DW_DLC_READ, DW_GROUPNUMBER_ANY, nullptr,
                           nullptr, &dbg_, nullptr, 0, nullptr, &err);
  if (rc == DW_DLV_NO_ENTRY) return false;
  Check(rc, err, "opening DWARF");
  return true;
}

void Dwarf::Check(int rc, Dwarf_Error err, const std::string& what) const {
  if (rc != DW_DLV_ERROR) return;
  std::string message = err ? dwarf_errmsg(err) : "unknown error";
  if (err) dwarf_dealloc_error(dbg_, err);
  ThrowFileError(path_, "DWARF error " + what + ": " + message);
}

bool Dwarf::Tolerate(int rc, Dwarf_Error err, const std::string& what, Dwarf_Die die) const {
  if (rc != DW_DLV_ERROR) return rc == DW_DLV_OK;
  std::string message = err ? dwarf_errmsg(err) : "unknown error";
  if (err) dwarf_dealloc_error(dbg_, err);
  Unreadable& u = unreadable_[what];
  if (u.count++ == 0) u.first = "DIE " + std::to_string(Offset(die)) + ": " + message;
  return false;
}

std::vector<std::string> Dwarf::Warnings() const {
  std::vector<std::string> out;
  for (const auto& [what, u] : unreadable_)
    out.push_back(path_ + ": " + std::to_string(u.count) + " unreadable DWARF " + what +
                  " (first at " + u.first + "); left out");
  return out;
}

DiePtr Dwarf::FirstChild(Dwarf_Die die) const {
  Dwarf_Die child = nullptr;
  Dwarf_Error err = nullptr;
  int rc = dwarf_child(die, &child, &err);
  Check(rc, err, "reading the children of DIE " + std::to_string(Offset(die)));
  return DiePtr(rc == DW_DLV_OK ? child : nullptr);
}

DiePtr Dwarf::NextSibling(Dwarf_Die die) const {
  Dwarf_Die next = nullptr;
  Dwarf_Error err = nullptr;
  int rc = dwarf_siblingof_b(dbg_, die, true, &next, &err);
  Check(rc, err, "reading the sibling of DIE " + std::to_string(Offset(die)));
  DiePtr sibling(rc == DW_DLV_OK ? next : nullptr);
  // libdwarf follows DW_AT_sibling as written: one pointing back would make
  // a walk over the siblings endless (found by tests/fuzz/mapper_fuzz.cc).
  if (sibling && Offset(sibling.get()) <= Offset(die))
    ThrowFileError(path_, "corrupt DWARF: the sibling of DIE " + std::to_string(Offset(die)) +
                              " is DIE " + std::to_string(Offset(sibling.get())) +
                              ", not after it");
  return sibling;
}

DiePtr Dwarf::DieAt(Dwarf_Off offset) const {
  Dwarf_Die die = nullptr;
  Dwarf_Error err = nullptr;
  int rc = dwarf_offdie_b(dbg_, offset, true, &die, &err);
  Check(rc, err, "reading DIE " + std::to_string(offset));
  return DiePtr(rc == DW_DLV_OK ? die : nullptr);
}

Dwarf_Off Dwarf::Offset(Dwarf_Die die) const {
  Dwarf_Off offset = 0;
  Dwarf_Error err = nullptr;
  Check(dwarf_dieoffset(die, &offset, &err), err, "reading a DIE's offset");
  return offset;
}

Dwarf_Off Dwarf::CuOffset(Dwarf_Die die) const {
  Dwarf_Off offset = 0;
  Dwarf_Error err = nullptr;
  const int rc = dwarf_CU_dieoffset_given_die(die, &offset, &err);
  if (rc == DW_DLV_ERROR)
    Check(rc, err, "finding the compilation unit of DIE " + std::to_string(Offset(die)));
  return offset;
}

Dwarf_Half Dwarf::Tag(Dwarf_Die die) const {
  Dwarf_Half tag = 0;
  Dwarf_Error err = nullptr;
  const int rc = dwarf_tag(die, &tag, &err);
  if (rc == DW_DLV_ERROR) Check(rc, err, "reading the tag of DIE " + std::to_string(Offset(die)));
  return tag;
}

std::string Dwarf::String(Dwarf_Die die, Dwarf_Half name) const {
  AttrPtr attr = Attr(die, name);
  if (!attr) return "";
  char* str = nullptr;
  Dwarf_Error err = nullptr;
  const int rc = dwarf_formstring(attr.get(), &str, &err);
  if (rc == DW_DLV_ERROR) Tolerate(rc, err, "string " + AttributeName(name), die);
  return rc == DW_DLV_OK && str ? str : "";
}

std::optional<uint64_t> Dwarf::Unsigned(Dwarf_Die die, Dwarf_Half name) const {
  AttrPtr attr = Attr(die, name);
  if (!attr) return std::nullopt;
  Dwarf_Unsigned value = 0;
  Dwarf_Error err = nullptr;
  if (dwarf_formudata(attr.get(), &value, &err) == DW_DLV_OK) return value;
  if (err) dwarf_dealloc_error(dbg_, err);
  // libdwarf 20210528's dwarf_formudata refuses DW_FORM_implicit_const (the
  // value kept in the abbreviation, which gcc uses for DW_AT_decl_line and
  // DW_AT_decl_file of DIEs that share an abbreviation); dwarf_formsdata reads it.
  Dwarf_Signed signed_value = 0;
  err = nullptr;
  const int rc = dwarf_formsdata(attr.get(), &signed_value, &err);
  if (rc == DW_DLV_OK && signed_value >= 0) return static_cast<uint64_t>(signed_value);
  // Negative: not a line, a file or an offset either.
  Tolerate(DW_DLV_ERROR, err, "number " + AttributeName(name), die);
  return std::nullopt;
}

std::optional<Dwarf_Off> Dwarf::Reference(Dwarf_Die die, Dwarf_Half name) const {
  AttrPtr attr = Attr(die, name);
  if (!attr) return std::nullopt;
  Dwarf_Off offset = 0;
  Dwarf_Error err = nullptr;
  const int rc = dwarf_global_formref(attr.get(), &offset, &err);
  if (rc == DW_DLV_OK) return offset;
  Tolerate(rc, err, "reference " + AttributeName(name), die);
  return std::nullopt;
}

std::optional<Dwarf_Off> Dwarf::SectionOffset(Dwarf_Die die, Dwarf_Half name) const {
  // libdwarf reads DW_FORM_sec_offset through dwarf_global_formref;
  // dwarf_formudata refuses it, and reads DWARF 2/3 data4 offsets.
  AttrPtr attr = Attr(die, name);
  if (!attr) return std::nullopt;
  Dwarf_Half form = 0;
  Dwarf_Error err = nullptr;
  const int rc = dwarf_whatform(attr.get(), &form, &err);
  if (rc != DW_DLV_OK) {
    Tolerate(rc, err, "form of " + AttributeName(name), die);
    return std::nullopt;
  }
  if (form == DW_FORM_sec_offset) return Reference(die, name);
  return Unsigned(die, name);
}

std::vector<AddressRange> Dwarf::Ranges(Dwarf_Die die, uint64_t cu_base) const {
  std::vector<AddressRange> out;
  Dwarf_Error err = nullptr;
  Dwarf_Addr low = 0, high = 0;
  if (Tolerate(dwarf_lowpc(die, &low, &err), err, "DW_AT_low_pc", die)) {
    Dwarf_Half form = 0;
    enum Dwarf_Form_Class form_class = DW_FORM_CLASS_UNKNOWN;
    err = nullptr;
    if (Tolerate(dwarf_highpc_b(die, &high, &form, &form_class, &err), err, "DW_AT_high_pc", die)) {
      if (form_class == DW_FORM_CLASS_CONSTANT) high += low;
      if (high > low) out.push_back({low, high});
    }
    return out;
  }
  err = nullptr;
  AttrPtr attr = Attr(die, DW_AT_ranges);
  if (!attr) return out;
  Dwarf_Half form = 0;
  Check(dwarf_whatform(attr.get(), &form, &err), err, "reading DW_AT_ranges");
  Dwarf_Half version = 0, offset_size = 0;
  Check(dwarf_get_version_of_die(die, &version, &offset_size), nullptr,
        "reading the DWARF version of DIE " + std::to_string(Offset(die)));
  const std::string where = "reading the ranges of DIE " + std::to_string(Offset(die));

  if (form == DW_FORM_rnglistx || version >= 5) {
    // DWARF 5 .debug_rnglists: libdwarf's "cooked" values are final addresses.
    Dwarf_Unsigned value = 0;
    if (form == DW_FORM_rnglistx) {
      Check(dwarf_formudata(attr.get(), &value, &err), err, where);
    } else {
      Dwarf_Off offset = 0;
      Check(dwarf_global_formref(attr.get(), &offset, &err), err, where);
      value = offset;
    }
    Dwarf_Rnglists_Head head = nullptr;
    Dwarf_Unsigned count = 0, global_offset = 0;
    int rc =
        dwarf_rnglists_get_rle_head(attr.get(), form, value, &head, &count, &global_offset, &err);
    Check(rc, err, where);
    if (rc != DW_DLV_OK) return out;
    std::unique_ptr<std::remove_pointer_t<Dwarf_Rnglists_Head>, int (*)(Dwarf_Rnglists_Head)> owner(
        head, dwarf_dealloc_rnglists_head);
    for (Dwarf_Unsigned i = 0; i < count; ++i) {
      unsigned length = 0, code = 0;
      Dwarf_Unsigned raw1 = 0, raw2 = 0, begin = 0, end = 0;
      Dwarf_Bool unavailable = false;
      Check(dwarf_get_rnglists_entry_fields_a(head, i, &length, &code, &raw1, &raw2, &unavailable,
                                              &begin, &end, &err),
            err, where);
      if (code == DW_RLE_end_of_list) break;
      if (code == DW_RLE_base_address || code == DW_RLE_base_addressx || unavailable) continue;
      if (end > begin) out.push_back({begin, end});
    }
    return out;
  }

  // DWARF 2-4 .debug_ranges: pairs relative to a base address, which starts
  // as the CU's DW_AT_low_pc and changes at base-address-selection entries.
  Dwarf_Off offset = 0, real_offset = 0;
  Check(dwarf_global_formref(attr.get(), &offset, &err), err, where);
  Dwarf_Ranges* ranges = nullptr;
  Dwarf_Signed count = 0;
  Dwarf_Unsigned bytes = 0;
  int rc = dwarf_get_ranges_b(dbg_, offset, die, &real_offset, &ranges, &count, &bytes, &err);
  Check(rc, err, where);
  if (rc != DW_DLV_OK) return out;
  uint64_t base = cu_base;
  for (Dwarf_Signed i = 0; i < count; ++i) {
    const Dwarf_Ranges& r = ranges[i];
    if (r.dwr_type == DW_RANGES_END) break;
    if (r.dwr_type == DW_RANGES_ADDRESS_SELECTION) {
      base = r.dwr_addr2;
      continue;
    }
    if (r.dwr_addr2 > r.dwr_addr1) out.push_back({base + r.dwr_addr1, base + r.dwr_addr2});
  }
  dwarf_ranges_dealloc(dbg_, ranges, count);
  return out;
}

std::optional<uint64_t> Dwarf::EntryPc(Dwarf_Die die,
                                       const std::vector<AddressRange>& ranges) const {
  if (ranges.empty()) return std::nullopt;
  AttrPtr attr = Attr(die, DW_AT_entry_pc);
  if (!attr) return std::nullopt;
  Dwarf_Error err = nullptr;
  Dwarf_Half form = 0;
  if (!Tolerate(dwarf_whatform(attr.get(), &form, &err), err, "form of DW_AT_entry_pc", die))
    return std::nullopt;
  const bool address_form = form == DW_FORM_addr || form == DW_FORM_addrx ||
                            form == DW_FORM_addrx1 || form == DW_FORM_addrx2 ||
                            form == DW_FORM_addrx3 || form == DW_FORM_addrx4 ||
                            form == DW_FORM_GNU_addr_index;
  if (address_form) {
    Dwarf_Addr address = 0;
    if (Tolerate(dwarf_formaddr(attr.get(), &address, &err), err, "DW_AT_entry_pc", die))
      return address;
    return std::nullopt;
  }
  // DWARF 5 also allows a constant: an offset from the entity's base address.
  Dwarf_Unsigned offset = 0;
  if (Tolerate(dwarf_formudata(attr.get(), &offset, &err), err, "DW_AT_entry_pc", die))
    return ranges.front().begin + offset;
  return std::nullopt;
}

}  // namespace hwcov::mapper
