// The mapper tests' programs (tests/programs_mapper), built at test time
// with gcc or clang in a temporary directory, and the tools that cover them.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "test_support.h"

namespace hwcov::testing {

struct Compiler {
  std::string name;  // "gcc" or "clang": test names and messages
  std::string cc, cxx;
  // The reference coverage tool for this compiler's --coverage build, as
  // argv: gcc's gcov, or llvm-cov's gcov mode for clang's.
  std::vector<std::string> gcov;
};

// Whether CMake found a tool: its HWCOV_TEST_<TOOL> path is not empty.
inline bool Have(const char* tool) { return tool[0] != '\0'; }

// gcc and clang when installed (paths found by CMake).
std::vector<Compiler> Compilers();

struct Program {
  std::string name;
  std::vector<std::string> sources;          // in tests/programs_mapper
  std::vector<std::string> library_sources;  // built into lib<name>.so when set
  std::string library;                       // the library's name
  std::vector<std::string> args;
};

const std::filesystem::path& ProgramSourceDir();

// Compiles |program| into |dir| (objects, the executable and its library)
// with |flags| added to every compile and link. Throws std::runtime_error
// with the compiler's message on failure.
std::filesystem::path Build(const Compiler& compiler, const Program& program,
                            const std::filesystem::path& dir,
                            const std::vector<std::string>& flags);

// Runs the executable |exe| of a --coverage build and its reference tool:
// the *.gcov files land in |out_dir|.
void RunReference(const Compiler& compiler, const Program& program,
                  const std::filesystem::path& exe, const std::filesystem::path& out_dir);

// `hwcov run --backend soft` of |exe| tracing every binary in its
// directory; returns the lcov tracefile's path. Throws on failure.
std::filesystem::path RunHwcov(const Program& program, const std::filesystem::path& exe,
                               const std::vector<std::string>& extra_options = {});

// Throws std::runtime_error with the command's stderr unless it exited 0.
CommandResult MustRun(const std::vector<std::string>& argv, const std::filesystem::path& cwd = {});

}  // namespace hwcov::testing
