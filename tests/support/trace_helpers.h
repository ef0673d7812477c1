// Helpers shared by the tests that trace a program with `hwcov run` and
// check the trace: no gaps, and Linux perf decodes the same instructions.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "test_support.h"

namespace hwcov::testing {

// What one `hwcov run` gave: its result, its trace and its lcov tracefile.
struct Traced {
  CommandResult run;
  std::filesystem::path trace, lcov;
};

// Runs `hwcov run --backend BACKEND -o STEM.data --lcov STEM.info OPTIONS --
// COMMAND` in |dir|, the files in |dir| too.
Traced TraceRun(const TempDir& dir, const std::string& backend, const std::string& stem,
                const std::vector<std::string>& options, const std::vector<std::string>& command);

// The run's summary says the whole trace decoded, without gaps.
void ExpectNoGaps(const Traced& t);

enum class WithoutPerf { kSkipTest, kPass };

// perf and hwcov list the same executed instructions of |trace|, more than
// |min_instructions| of them (as multisets: the order across threads and
// processes differs between the two listings). Where perf is not installed
// nothing is checked, and the test is skipped or not as |without_perf| says.
void ExpectPerfAgrees(const std::filesystem::path& trace, size_t min_instructions,
                      WithoutPerf without_perf);

// Runs `hwcov record RECORD_OPTIONS -o |trace| -- /bin/sh -c <endless loop>`
// and sends hwcov SIGTERM a second later: hwcov must stop the program, exit
// with the program's own fate (128 + SIGTERM) and keep a trace that reports
// without gaps.
void ExpectSigtermKeepsTrace(const std::vector<std::string>& record_options,
                             const std::filesystem::path& trace);

}  // namespace hwcov::testing
