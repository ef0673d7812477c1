#include "test_name_of_process.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <optional>
#include <string_view>
#include <vector>

#include "test_name.h"

namespace hwcov::collector {
namespace {

// The NUL-separated words of a /proc file.
std::vector<std::string> Words(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string all{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::vector<std::string> words;
  for (size_t at = 0; at < all.size();) {
    const size_t end = std::min(all.find('\0', at), all.size());
    words.push_back(all.substr(at, end - at));
    at = end + 1;
  }
  return words;
}

std::optional<std::string> Variable(const std::vector<std::string>& environ,
                                    std::string_view name) {
  for (const std::string& entry : environ)
    if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 &&
        entry[name.size()] == '=')
      return entry.substr(name.size() + 1);
  return std::nullopt;
}

}  // namespace

std::string TestNameOfProcess(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  const std::vector<std::string> argv = Words(dir + "/cmdline");
  const std::vector<std::string> environ = Words(dir + "/environ");
  const std::optional<std::string> own = Variable(environ, HWCOV_TEST_NAME_VARIABLE);
  const std::optional<std::string> pytest = Variable(environ, HWCOV_PYTEST_VARIABLE);
  std::vector<const char*> words;
  for (const std::string& w : argv) words.push_back(w.c_str());
  std::string name(4096, '\0');
  hwcov_test_name(name.data(), name.size(), own ? own->c_str() : nullptr,
                  pytest ? pytest->c_str() : nullptr, words.data(), words.size());
  name.resize(name.find('\0'));
  return name;
}

}  // namespace hwcov::collector
