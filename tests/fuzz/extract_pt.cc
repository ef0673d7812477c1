// Writes the PT stream of each AUX queue of a perf.data file to
// OUT_PREFIX.<idx>, for seeding the pt_decoder fuzz corpus (make_corpus.sh).
// usage: hwcov_fuzz_extract_pt TRACE OUT_PREFIX
#include <cstdio>
#include <fstream>
#include <iostream>

#include "hwcov/trace.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " TRACE OUT_PREFIX\n";
    return 2;
  }
  try {
    const hwcov::trace::Trace t = hwcov::trace::ReadPerfData(argv[1]);
    for (const auto& q : t.queues) {
      std::ofstream out(std::string(argv[2]) + "." + std::to_string(q.idx), std::ios::binary);
      for (const auto& b : q.buffers) {
        auto bytes = t.AuxBytes(b);
        out.write(reinterpret_cast<const char*>(bytes.data()),
                  static_cast<std::streamsize>(bytes.size()));
      }
    }
  } catch (const hwcov::Error& e) {
    std::cerr << "hwcov_fuzz_extract_pt: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
