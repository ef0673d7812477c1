#include "git_diff.h"

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "hwcov/support.h"

namespace hwcov::pipeline {
namespace {

struct Output {
  int status = -1;
  std::string out, err;
};

// Runs git with |args| (no shell: the revision is the user's text).
Output Git(const std::vector<std::string>& args) {
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) throw Error("git: cannot create a pipe");
  const pid_t pid = fork();
  if (pid < 0) throw Error("git: cannot fork");
  if (pid == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
    std::vector<char*> argv = {const_cast<char*>("git")};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp("git", argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  Output result;
  // stderr is small (a message); stdout is read to the end first.
  char buf[65536];
  for (ssize_t n; (n = read(out_pipe[0], buf, sizeof buf)) > 0;) result.out.append(buf, n);
  for (ssize_t n; (n = read(err_pipe[0], buf, sizeof buf)) > 0;) result.err.append(buf, n);
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

report::ChangedLines GitChanges(const std::string& base, const std::filesystem::path& dir) {
  const Output top = Git({"-C", dir.string(), "rev-parse", "--show-toplevel"});
  if (top.status == 127) throw Error("--diff " + base + ": git is not installed");
  if (top.status != 0)
    throw Error("--diff " + base + ": " + dir.string() + ": " + FirstLine(top.err));
  const std::filesystem::path toplevel = FirstLine(top.out);
  const Output diff = Git({"-C", toplevel.string(), "diff", "--no-color", "--no-ext-diff",
                           "--no-renames", "-U0", base, "--"});
  if (diff.status != 0) throw Error("--diff " + base + ": " + FirstLine(diff.err));
  return report::ParseUnifiedDiff(diff.out, toplevel, "git diff " + base);
}

report::ChangedLines DiffFileChanges(const std::filesystem::path& file,
                                     const std::filesystem::path& base_dir) {
  std::ifstream in(file, std::ios::binary);
  if (!in) ThrowFileError(file, "cannot read the diff");
  std::ostringstream text;
  text << in.rdbuf();
  return report::ParseUnifiedDiff(text.str(), base_dir, file.string());
}

}  // namespace hwcov::pipeline
