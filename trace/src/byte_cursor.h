// Bounds-checked little-endian reading of a byte range whose errors name the
// file and the absolute offset where the data ran out.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>

#include "hwcov/support.h"

namespace hwcov::trace {

class ByteCursor {
 public:
  ByteCursor(std::span<const uint8_t> bytes, uint64_t file_offset,
             const std::filesystem::path& path)
      : bytes_(bytes), base_(file_offset), path_(&path) {}

  template <typename T>
  T Get() {
    Need(sizeof(T));
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  std::span<const uint8_t> Take(uint64_t n) {
    Need(n);
    auto out = bytes_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  void Skip(uint64_t n) { Take(n); }
  // A NUL-terminated string inside the next |n| bytes (NUL padding dropped).
  std::string FixedString(uint64_t n) {
    auto raw = Take(n);
    size_t len = 0;
    while (len < raw.size() && raw[len] != 0) ++len;
    return std::string(reinterpret_cast<const char*>(raw.data()), len);
  }
  uint64_t remaining() const { return bytes_.size() - pos_; }
  uint64_t offset() const { return base_ + pos_; }

  [[noreturn]] void Fail(const std::string& what) const {
    ThrowFileError(*path_, what + " at offset " + std::to_string(offset()));
  }

 private:
  void Need(uint64_t n) const {
    if (n > remaining())
      Fail("truncated: need " + std::to_string(n) + " bytes, " + std::to_string(remaining()) +
           " left");
  }
  std::span<const uint8_t> bytes_;
  uint64_t base_;
  uint64_t pos_ = 0;
  const std::filesystem::path* path_;
};

}  // namespace hwcov::trace
