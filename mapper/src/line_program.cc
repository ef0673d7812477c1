#include "line_program.h"

#include <dwarf.h>

#include <algorithm>
#include <filesystem>

#include "hwcov/support.h"

namespace hwcov::mapper {
namespace {

// Bounds-checked little-endian reader over one section.
class Cursor {
 public:
  Cursor(std::span<const uint8_t> data, uint64_t offset, const std::string& path)
      : data_(data), pos_(offset), path_(path) {}

  uint64_t pos() const { return pos_; }
  void Seek(uint64_t pos) { pos_ = pos; }
  bool AtOrPast(uint64_t end) const { return pos_ >= end; }

  uint64_t Fixed(size_t bytes) {
    Need(bytes);
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(data_[pos_ + i]) << (8 * i);
    pos_ += bytes;
    return v;
  }
  uint8_t U8() { return static_cast<uint8_t>(Fixed(1)); }
  uint64_t Uleb() {
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      uint8_t b = U8();
      if (shift < 64) v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  }
  int64_t Sleb() {
    int64_t v = 0;
    int shift = 0;
    uint8_t b;
    do {
      b = U8();
      if (shift < 64) v |= static_cast<int64_t>(static_cast<uint64_t>(b & 0x7f) << shift);
      shift += 7;
    } while (b & 0x80);
    if (shift < 64 && (b & 0x40)) v |= -(static_cast<int64_t>(1) << shift);
    return v;
  }
  std::string CString() {
    std::string s;
    for (uint8_t c; (c = U8()) != 0;) s += static_cast<char>(c);
    return s;
  }
  void Skip(uint64_t bytes) {
    Need(bytes);
    pos_ += bytes;
  }
  [[noreturn]] void Fail(const std::string& what) const {
    ThrowFileError(path_, ".debug_line: " + what + " at offset " + std::to_string(pos_));
  }

 private:
  void Need(uint64_t bytes) const {
    if (pos_ > data_.size() || data_.size() - pos_ < bytes) Fail("truncated line program");
  }
  std::span<const uint8_t> data_;
  uint64_t pos_;
  const std::string& path_;
};

std::string StringAt(std::span<const uint8_t> section, uint64_t offset, const Cursor& at,
                     const char* what) {
  if (offset >= section.size()) at.Fail(std::string("bad ") + what + " offset");
  const uint8_t* begin = section.data() + offset;
  const uint8_t* end = section.data() + section.size();
  const uint8_t* nul = std::find(begin, end, 0);
  return std::string(begin, nul);
}

// One attribute of a DWARF 5 directory or file entry: a string, a number, or
// nothing we use (skipped).
struct EntryValue {
  std::string text;
  uint64_t number = 0;
};

EntryValue ReadForm(Cursor& c, uint64_t form, size_t offset_size, const LineStrings& strings) {
  EntryValue v;
  switch (form) {
    case DW_FORM_string:
      v.text = c.CString();
      break;
    case DW_FORM_line_strp:
      v.text = StringAt(strings.line_str, c.Fixed(offset_size), c, "line_strp");
      break;
    case DW_FORM_strp:
      v.text = StringAt(strings.str, c.Fixed(offset_size), c, "strp");
      break;
    case DW_FORM_udata:
      v.number = c.Uleb();
      break;
    case DW_FORM_data1:
      v.number = c.Fixed(1);
      break;
    case DW_FORM_data2:
      v.number = c.Fixed(2);
      break;
    case DW_FORM_data4:
      v.number = c.Fixed(4);
      break;
    case DW_FORM_data8:
      v.number = c.Fixed(8);
      break;
    case DW_FORM_data16:
      c.Skip(16);
      break;
    case DW_FORM_block:
      c.Skip(c.Uleb());
      break;
    default:
      c.Fail("unsupported form " + std::to_string(form) + " in a file table");
  }
  return v;
}

std::string Join(const std::string& dir, const std::string& name) {
  if (name.empty() || name[0] == '/' || dir.empty()) return name;
  return (std::filesystem::path(dir) / name).string();
}

struct Header {
  uint16_t version = 0;
  size_t offset_size = 4;
  uint8_t address_size = 8;
  uint8_t min_inst_length = 1;
  bool default_is_stmt = true;
  int8_t line_base = 0;
  uint8_t line_range = 1;
  uint8_t opcode_base = 1;
  std::vector<uint8_t> standard_lengths;
  uint64_t program_begin = 0, unit_end = 0;
};

// DWARF 5: format descriptions, then the entries they describe.
std::vector<std::pair<std::string, uint64_t>> ReadV5Entries(Cursor& c, const Header& h,
                                                            const LineStrings& strings) {
  std::vector<std::pair<uint64_t, uint64_t>> format(c.U8());
  for (auto& [type, form] : format) {
    type = c.Uleb();
    form = c.Uleb();
  }
  const uint64_t count = c.Uleb();
  if (count > h.unit_end - c.pos()) c.Fail("file table longer than its line program");
  std::vector<std::pair<std::string, uint64_t>> entries(count);  // (path, directory index)
  for (auto& [path, dir] : entries) {
    for (auto [type, form] : format) {
      EntryValue v = ReadForm(c, form, h.offset_size, strings);
      if (type == DW_LNCT_path) path = v.text;
      if (type == DW_LNCT_directory_index) dir = v.number;
    }
  }
  return entries;
}

}  // namespace

LineProgram ReadLineProgram(std::span<const uint8_t> debug_line, uint64_t offset,
                            const LineStrings& strings, const std::string& comp_dir,
                            const std::string& path) {
  Cursor c(debug_line, offset, path);
  Header h;
  uint64_t length = c.Fixed(4);
  if (length == 0xffffffff) {
    h.offset_size = 8;
    length = c.Fixed(8);
  }
  h.unit_end = c.pos() + length;
  if (h.unit_end > debug_line.size()) c.Fail("line program longer than its section");
  h.version = static_cast<uint16_t>(c.Fixed(2));
  if (h.version < 2 || h.version > 5)
    c.Fail("unsupported line table version " + std::to_string(h.version));
  if (h.version >= 5) {
    h.address_size = c.U8();
    c.U8();  // segment selector size
  }
  const uint64_t header_length = c.Fixed(h.offset_size);
  h.program_begin = c.pos() + header_length;
  h.min_inst_length = c.U8();
  if (h.version >= 4) c.U8();  // maximum_operations_per_instruction: 1 on x86
  h.default_is_stmt = c.U8() != 0;
  h.line_base = static_cast<int8_t>(c.U8());
  h.line_range = c.U8();
  h.opcode_base = c.U8();
  if (h.line_range == 0) c.Fail("line_range 0");
  for (int i = 1; i < h.opcode_base; ++i) h.standard_lengths.push_back(c.U8());

  LineProgram out;
  out.version = h.version;
  if (h.version >= 5) {
    std::vector<std::string> dirs;
    for (auto& [dir, unused] : ReadV5Entries(c, h, strings)) dirs.push_back(Join(comp_dir, dir));
    for (auto& [name, dir] : ReadV5Entries(c, h, strings))
      out.files.push_back(Join(dir < dirs.size() ? dirs[dir] : comp_dir, name));
  } else {
    std::vector<std::string> dirs{comp_dir};
    for (std::string dir; !(dir = c.CString()).empty();) dirs.push_back(Join(comp_dir, dir));
    out.files.emplace_back();  // no file 0 before DWARF 5
    for (std::string name; !(name = c.CString()).empty();) {
      uint64_t dir = c.Uleb();
      c.Uleb();  // modification time
      c.Uleb();  // length
      out.files.push_back(Join(dir < dirs.size() ? dirs[dir] : comp_dir, name));
    }
  }

  c.Seek(h.program_begin);
  LineProgramRow state;
  auto reset = [&] {
    state = LineProgramRow{};
    state.file = 1;  // DWARF 2-5 alike (DWARF 5 section 6.2.2, table 6.4)
    state.line = 1;
    state.is_stmt = h.default_is_stmt;
  };
  auto emit = [&] {
    out.rows.push_back(state);
    state.prologue_end = false;
  };
  reset();
  const uint64_t const_add = (255u - h.opcode_base) / h.line_range * h.min_inst_length;
  while (!c.AtOrPast(h.unit_end)) {
    const uint8_t op = c.U8();
    if (op >= h.opcode_base) {
      const uint8_t adjusted = static_cast<uint8_t>(op - h.opcode_base);
      state.address += static_cast<uint64_t>(adjusted / h.line_range) * h.min_inst_length;
      state.line = static_cast<uint32_t>(static_cast<int64_t>(state.line) + h.line_base +
                                         adjusted % h.line_range);
      emit();
      continue;
    }
    switch (op) {
      case 0: {  // extended opcode
        const uint64_t len = c.Uleb();
        const uint64_t end = c.pos() + len;
        if (len == 0) break;
        const uint8_t sub = c.U8();
        if (sub == DW_LNE_end_sequence) {
          state.end_sequence = true;
          emit();
          reset();
        } else if (sub == DW_LNE_set_address) {
          if (len - 1 > 8) c.Fail("bad DW_LNE_set_address length " + std::to_string(len - 1));
          state.address = c.Fixed(static_cast<size_t>(len - 1));
        }
        c.Seek(end);  // DW_LNE_set_discriminator, define_file, vendor ones: skipped
        break;
      }
      case DW_LNS_copy:
        emit();
        break;
      case DW_LNS_advance_pc:
        state.address += c.Uleb() * h.min_inst_length;
        break;
      case DW_LNS_advance_line:
        state.line = static_cast<uint32_t>(static_cast<int64_t>(state.line) + c.Sleb());
        break;
      case DW_LNS_set_file:
        state.file = static_cast<uint32_t>(c.Uleb());
        break;
      case DW_LNS_set_column:
        c.Uleb();
        break;
      case DW_LNS_negate_stmt:
        state.is_stmt = !state.is_stmt;
        break;
      case DW_LNS_set_basic_block:
        break;
      case DW_LNS_const_add_pc:
        state.address += const_add;
        break;
      case DW_LNS_fixed_advance_pc:
        state.address += c.Fixed(2);
        break;
      case DW_LNS_set_prologue_end:
        state.prologue_end = true;
        break;
      case DW_LNS_set_epilogue_begin:
        break;
      case DW_LNS_set_isa:
        c.Uleb();
        break;
      default:  // an opcode this reader does not know: skip its ULEB operands
        for (uint8_t i = 0; i < h.standard_lengths[op - 1]; ++i) c.Uleb();
    }
  }
  return out;
}

}  // namespace hwcov::mapper
