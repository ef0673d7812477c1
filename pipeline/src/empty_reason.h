// Why a report has nothing in scope, in one sentence a user can act on.
#pragma once

#include <string>

#include "hwcov/report.h"

namespace hwcov::pipeline {

struct ScopeDescription {
  std::string root;  // the root used, and where it came from
  bool root_is_default = false;
};

// |all| is the merged coverage before filtering, |counts| what the filter did.
std::string EmptyReportReason(const mapper::Coverage& all, const report::FilterCounts& counts,
                              const ScopeDescription& scope);

}  // namespace hwcov::pipeline
