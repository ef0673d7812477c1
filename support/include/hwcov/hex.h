// "0x1a2b": how every message and dump of hwcov writes an address or offset.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace hwcov {

inline std::string Hex(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(value));
  return buf;
}

}  // namespace hwcov
