// A C++ program whose instructions are mostly in libstdc++ and libc:
// stream formatting, string conversion and searching, printf-style output.
// Its own code is a small loop; templates that would be instantiated in the
// program itself (std::sort, std::map) are avoided on purpose.
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 200;
  std::string all;
  double sum = 0;
  for (int i = 0; i < n; i++) {
    std::ostringstream line;
    line << "item " << i << " weighs " << i * 0.37 << " kg";
    all += line.str();
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", i / 7.0);
    sum += std::strtod(buf, nullptr);
  }
  std::printf("%zu bytes, found at %zu, sum %.2f\n", all.size(), all.find("weighs 3.7"), sum);
  return 0;
}
