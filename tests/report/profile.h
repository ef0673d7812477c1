// A fixed, hand-built coverage profile the writer tests share: every case a
// writer must handle, without running a tracer.
#pragma once

#include <filesystem>
#include <string>

#include "hwcov/mapper.h"

namespace hwcov::testing {

// Files under /src/proj (two directories), one with XML-hostile characters in
// its name, a count above 2^31, a branch whose jump never ran, an uncalled
// function, a template name with <>, and a trace with gaps around which a
// function's lines, one jump and the function itself are unknown.
mapper::Coverage FixedProfile();

// Compares |actual| with golden file |name|; with HWCOV_UPDATE_GOLDEN=1 in the
// environment it rewrites the golden file instead.
void ExpectGolden(const std::string& actual, const std::string& name);

// Runs the python3 program |script| with |file| as its argument, and expects
// it to succeed and print |expected|.
void ExpectPythonPrints(const std::string& script, const std::filesystem::path& file,
                        const std::string& expected);

}  // namespace hwcov::testing
