#include "git_diff.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "hwcov/process.h"
#include "hwcov/support.h"

namespace hwcov::pipeline {
namespace {

// Runs git with |args| (no shell: the revision is the user's text).
CommandOutput Git(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"git"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCapturing(argv);
}

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

report::ChangedLines GitChanges(const std::string& base, const std::filesystem::path& dir) {
  if (!FindInPath("git")) throw Error("--diff " + base + ": git is not installed");
  const CommandOutput top = Git({"-C", dir.string(), "rev-parse", "--show-toplevel"});
  if (top.exit_code != 0)
    throw Error("--diff " + base + ": " + dir.string() + ": " + FirstLine(top.err));
  const std::filesystem::path toplevel = FirstLine(top.out);
  const CommandOutput diff = Git({"-C", toplevel.string(), "diff", "--no-color", "--no-ext-diff",
                                  "--no-renames", "-U0", base, "--"});
  if (diff.exit_code != 0) throw Error("--diff " + base + ": " + FirstLine(diff.err));
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
