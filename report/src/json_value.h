// A small JSON parser for hwcov's own coverage files (docs/json-format.md).
// Not a general library: integers are kept exact as uint64 (counts pass 2^53),
// other numbers are not needed by the schema and are refused; depth and size
// are bounded so a hostile file cannot exhaust the stack or memory.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hwcov::report::json {

struct Value {
  enum class Kind { kNull, kBool, kInt, kString, kArray, kObject } kind = Kind::kNull;
  bool boolean = false;
  uint64_t integer = 0;
  std::string string;
  std::vector<Value> array;
  std::map<std::string, Value> object;
};

// Parses |text|; throws hwcov::Error("<what> at byte <offset>") without a file
// name, which the caller prefixes.
Value Parse(std::string_view text);

// |text| as a JSON string literal, quotes included.
std::string Quote(std::string_view text);

// |text| fit for a one-line error message: control characters as \xNN, cut
// after 200 bytes ("..."). Text from the input (paths, names, keys, a stray
// byte) goes through it before it is put in an hwcov::Error.
std::string Printable(std::string_view text);

}  // namespace hwcov::report::json
