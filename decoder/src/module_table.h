// The binaries a decode uses: one Module per (recorded path, build id), each
// located and checked once.
//
// Where a binary is looked for, as perf's dso.c does it:
//   1. its recorded path, under DecodeOptions::sysroot when set (perf --symfs);
//   2. when the trace recorded its build id, the build-id caches
//      (DecodeOptions::buildid_dirs, then $PERF_BUILDID_DIR or ~/.debug),
//      in perf's layouts: <dir>/.build-id/<xx>/<rest of id>[/elf] and
//      <dir>/<recorded path>/<id>[/elf].
// A file whose build id differs from the recorded one is never used: perf
// would decode the wrong code silently, hwcov says so in a warning.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hwcov/decoder.h"
#include "hwcov/trace.h"

namespace hwcov::decoder {

// The build-id cache directories to search, in order: |options|' own, then
// $PERF_BUILDID_DIR, else ~/.debug (perf's default).
std::vector<std::filesystem::path> BuildIdDirs(const DecodeOptions& options);

// The file that holds the binary recorded as |recorded_path| with |id|, or
// nullopt; |why| says what was tried and why it failed.
std::optional<std::filesystem::path> LocateBinary(const std::string& recorded_path,
                                                  const BuildId& id, const DecodeOptions& options,
                                                  std::string& why);

// Interns modules by (path, build id) and checks each binary once.
class ModuleTable {
 public:
  explicit ModuleTable(DecodeOptions options) : options_(std::move(options)) {}

  // Returns the module index, or nullopt when the binary is unusable (the
  // reason is added to |warnings| once).
  std::optional<uint32_t> Intern(const trace::MmapEvent& mmap, const BuildId& recorded,
                                 std::vector<std::string>& warnings);
  std::vector<Module>& modules() { return modules_; }

 private:
  DecodeOptions options_;
  std::map<std::pair<std::string, std::string>, std::optional<uint32_t>> index_;
  std::vector<Module> modules_;
};

}  // namespace hwcov::decoder
