// Which test a traced process ran for (DecodeByTest, decoder.h).
#pragma once

#include <cstdint>
#include <string>

#include "hwcov/trace.h"

namespace hwcov::decoder {

// The recorded name of |pid|, else the COMM name of its last exec, else the
// same for its fork parent (and so on up), else "pid N".
std::string TestNameOfProcess(const trace::Trace& trace, uint32_t pid);

}  // namespace hwcov::decoder
