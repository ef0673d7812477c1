#include "test_support.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace hwcov::testing {
namespace {

std::string Slurp(int fd) {
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv, const std::filesystem::path& cwd) {
  // stdout and stderr go to temporary files: no pipe-buffer deadlocks.
  char out_name[] = "/tmp/hwcov-test-out-XXXXXX";
  char err_name[] = "/tmp/hwcov-test-err-XXXXXX";
  int out_fd = mkstemp(out_name);
  int err_fd = mkstemp(err_name);
  if (out_fd < 0 || err_fd < 0) throw std::runtime_error("mkstemp failed");
  unlink(out_name);
  unlink(err_name);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  lseek(out_fd, 0, SEEK_SET);
  lseek(err_fd, 0, SEEK_SET);
  result.out = Slurp(out_fd);
  result.err = Slurp(err_fd);
  close(out_fd);
  close(err_fd);
  return result;
}

CommandResult RunShell(const std::string& command_line, const std::filesystem::path& cwd) {
  return RunCommand({"/bin/sh", "-c", command_line}, cwd);
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

namespace {

// hwcov's own temporaries (a `run`'s trace, and the traces it keeps after a
// failed report) go under the test's temporary directory too, not /tmp.
[[maybe_unused]] const bool kTmpdirSet = [] {
  if (const char* base = std::getenv("TEST_TMPDIR")) {
    const std::filesystem::path tmp = std::filesystem::path(base) / "tmp";
    std::error_code ec;
    std::filesystem::create_directories(tmp, ec);
    if (!ec) setenv("TMPDIR", tmp.c_str(), 1);
  }
  return true;
}();

}  // namespace

TempDir::TempDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  path_ = std::filesystem::path(base ? base : "/tmp") /
          ("hwcov-test-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  if (!std::getenv("HWCOV_KEEP_TEST_FILES")) {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
}

bool HaveTool(const std::string& tool) {
  return RunShell("command -v " + tool + " >/dev/null 2>&1").exit_code == 0;
}

}  // namespace hwcov::testing
