// What every fuzz target shares: the input as a file. hwcov's readers take
// paths (they map the file, as they would a real trace or binary), so each
// input is written to one scratch file in a private directory of this
// process, removed at exit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace hwcov::fuzz {

class ScratchFile {
 public:
  explicit ScratchFile(const std::string& name);
  // Replaces the file's content with |data| and returns its path.
  const std::filesystem::path& Write(const uint8_t* data, size_t size);

 private:
  std::filesystem::path path_;
};

// Stops the fuzzer with a report when an invariant of hwcov's output breaks
// (abort() is what libFuzzer and the replay driver both catch).
void Check(bool condition, const char* what);

// An input hwcov refused with an hwcov::Error (the expected outcome for
// most mutations). With HWCOV_FUZZ_VERBOSE set, prints the message, to see
// what a corpus exercises.
void Refused(const char* what);

// With HWCOV_FUZZ_VERBOSE set, prints a summary of an accepted input.
void Accepted(const std::string& summary);

}  // namespace hwcov::fuzz
