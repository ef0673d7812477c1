// Per-test coverage in the shape of the total (docs/user-guide.md, "Per-test
// coverage"): every test has exactly the total's files, lines, functions and
// branch outcomes, in the same order, with its own counts (0, or "-" for a
// jump it never ran, where it has none). Writers then read a test's count of
// an item at the item's index, and lcov's sum of the test sections is the
// total.
#pragma once

#include "hwcov/mapper.h"

namespace hwcov::report {

// Reshapes every test of |coverage| to the total's items. The unknown state
// is the total's (an unknown item has count 0 in every test).
void AlignTests(mapper::Coverage& coverage);

// Throws hwcov::Error unless every test of |coverage| has the total's shape
// (what writers rely on).
void CheckTestsAligned(const mapper::Coverage& coverage);

}  // namespace hwcov::report
