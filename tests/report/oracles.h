// The consumers in ../shared/oracles (its README): lcov 2.3.2 and gcovr 8.6,
// the releases most users run (Debian 12 has lcov 1.16 and gcovr 5.2), run
// from their sources with Debian's perl and python modules
// (tools/install-deps.sh). Absent when the repository is used without
// ../shared: the tests that need them skip, saying so.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace hwcov::testing {

inline std::filesystem::path OraclesDir() {
  return std::filesystem::path(HWCOV_SHARED_DIR) / "oracles";
}

// {"perl", ".../lcov-2.3.2/bin/<tool>"} for tool "lcov" or "genhtml".
inline std::optional<std::vector<std::string>> Lcov2(const std::string& tool) {
  const std::filesystem::path script = OraclesDir() / "lcov-2.3.2" / "bin" / tool;
  if (!std::filesystem::exists(script)) return std::nullopt;
  return std::vector<std::string>{"perl", script.string()};
}

// gcovr 8.6 as `python3 -m gcovr` with its sources on PYTHONPATH.
inline std::optional<std::vector<std::string>> Gcovr8() {
  const std::filesystem::path src = OraclesDir() / "gcovr-8.6" / "src";
  if (!std::filesystem::exists(src / "gcovr")) return std::nullopt;
  return std::vector<std::string>{"env", "PYTHONPATH=" + src.string(), "/usr/bin/python3", "-m",
                                  "gcovr"};
}

inline std::string NoOracle(const std::string& what) {
  return what + " is not in " + OraclesDir().string() +
         " (the ../shared checkout beside the repository): not checked";
}

// |base| followed by |args|.
inline std::vector<std::string> With(std::vector<std::string> base,
                                     const std::vector<std::string>& args) {
  base.insert(base.end(), args.begin(), args.end());
  return base;
}

}  // namespace hwcov::testing
