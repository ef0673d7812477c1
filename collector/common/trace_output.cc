#include "trace_output.h"

#include "hwcov/support.h"
#include "software_pt.h"

namespace hwcov::collector {
namespace {

std::unique_ptr<trace::PerfDataWriter> FileOf(const RecordOptions& options) {
  if (options.output.empty()) {
    if (!options.live) throw Error("a recording needs an output file or a live decoder");
    return nullptr;
  }
  return std::make_unique<trace::PerfDataWriter>(options.output);
}

std::vector<trace::TraceSink*> SinksOf(trace::PerfDataWriter* file, trace::TraceSink* live) {
  std::vector<trace::TraceSink*> sinks;
  if (file) sinks.push_back(file);
  if (live) sinks.push_back(live);
  return sinks;
}

}  // namespace

TraceOutput::TraceOutput(const RecordOptions& options)
    : TraceOutput(options, SoftwarePtEventParams(options)) {}

TraceOutput::TraceOutput(const RecordOptions& options, const trace::PtEventParams& params)
    : file_(FileOf(options)), tee_(SinksOf(file_.get(), options.live)) {
  tee_.Begin(params);
}

}  // namespace hwcov::collector
