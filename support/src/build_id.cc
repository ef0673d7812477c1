#include "hwcov/support.h"

namespace hwcov {

std::string BuildId::Hex() const {
  static const char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : bytes) {
    hex += kDigits[c >> 4];
    hex += kDigits[c & 15];
  }
  return hex;
}

BuildId BuildId::FromHex(const std::string& hex) {
  auto nibble = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw Error("invalid build id '" + hex + "'");
  };
  if (hex.size() % 2) throw Error("invalid build id '" + hex + "'");
  BuildId id;
  for (size_t i = 0; i < hex.size(); i += 2)
    id.bytes += static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1]));
  return id;
}

}  // namespace hwcov
