#include "test_programs.h"

#include <stdexcept>

namespace hwcov::testing {

namespace fs = std::filesystem;

std::vector<Compiler> Compilers() {
  std::vector<Compiler> out;
  if (Have(HWCOV_TEST_GCC) && Have(HWCOV_TEST_GXX) && Have(HWCOV_TEST_GCOV))
    out.push_back({"gcc", HWCOV_TEST_GCC, HWCOV_TEST_GXX, {HWCOV_TEST_GCOV}});
  if (Have(HWCOV_TEST_CLANG) && Have(HWCOV_TEST_CLANGXX) && Have(HWCOV_TEST_LLVM_COV))
    out.push_back({"clang", HWCOV_TEST_CLANG, HWCOV_TEST_CLANGXX, {HWCOV_TEST_LLVM_COV, "gcov"}});
  return out;
}

const fs::path& ProgramSourceDir() {
  static const fs::path dir = fs::path(HWCOV_MAPPER_PROGRAMS_DIR).lexically_normal();
  return dir;
}

CommandResult MustRun(const std::vector<std::string>& argv, const fs::path& cwd) {
  CommandResult r = RunCommand(argv, cwd);
  if (r.exit_code != 0) {
    std::string command;
    for (const auto& a : argv) command += a + " ";
    throw std::runtime_error(command + "failed (" + std::to_string(r.exit_code) + "): " + r.err);
  }
  return r;
}

namespace {

bool IsCxx(const std::string& source) { return fs::path(source).extension() == ".cc"; }

fs::path Compile(const Compiler& compiler, const std::string& source, const fs::path& dir,
                 const std::vector<std::string>& flags, bool pic) {
  const fs::path object = dir / (fs::path(source).stem().string() + ".o");
  std::vector<std::string> argv = {IsCxx(source) ? compiler.cxx : compiler.cc,
                                   "-c",
                                   (ProgramSourceDir() / source).string(),
                                   "-o",
                                   object.string(),
                                   "-I" + ProgramSourceDir().string(),
                                   pic ? "-fPIC" : "-fPIE"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  // In the output directory: clang's --coverage records a source below the
  // working directory by a relative path, which gcov output would then show.
  MustRun(argv, dir);
  return object;
}

}  // namespace

fs::path Build(const Compiler& compiler, const Program& program, const fs::path& dir,
               const std::vector<std::string>& flags) {
  fs::create_directories(dir);
  bool cxx = false;
  std::vector<std::string> link_tail;
  if (!program.library_sources.empty()) {
    std::vector<std::string> argv = {compiler.cc, "-shared", "-o",
                                     (dir / ("lib" + program.library + ".so")).string()};
    for (const auto& source : program.library_sources) {
      argv.push_back(Compile(compiler, source, dir, flags, /*pic=*/true).string());
      cxx |= IsCxx(source);
    }
    argv.insert(argv.end(), flags.begin(), flags.end());
    MustRun(argv);
    link_tail = {"-L" + dir.string(), "-l" + program.library, "-Wl,-rpath,$ORIGIN"};
  }
  std::vector<std::string> objects;
  for (const auto& source : program.sources) {
    objects.push_back(Compile(compiler, source, dir, flags, /*pic=*/false).string());
    cxx |= IsCxx(source);
  }
  const fs::path exe = dir / program.name;
  std::vector<std::string> argv = {cxx ? compiler.cxx : compiler.cc, "-pie", "-o", exe.string()};
  argv.insert(argv.end(), objects.begin(), objects.end());
  argv.insert(argv.end(), link_tail.begin(), link_tail.end());
  argv.insert(argv.end(), flags.begin(), flags.end());
  MustRun(argv);
  return exe;
}

void RunReference(const Compiler& compiler, const Program& program, const fs::path& exe,
                  const fs::path& out_dir) {
  std::vector<std::string> run = {exe.string()};
  run.insert(run.end(), program.args.begin(), program.args.end());
  MustRun(run, exe.parent_path());
  fs::create_directories(out_dir);
  std::vector<std::string> argv = compiler.gcov;
  argv.insert(argv.end(), {"-b", "-c"});
  for (const auto& entry : fs::directory_iterator(exe.parent_path()))
    if (entry.path().extension() == ".gcno") argv.push_back(entry.path().string());
  MustRun(argv, out_dir);
}

fs::path RunHwcov(const Program& program, const fs::path& exe,
                  const std::vector<std::string>& extra_options) {
  const fs::path info = exe.parent_path() / (program.name + ".info");
  std::vector<std::string> argv = {HWCOV_BINARY, "run",        "--backend",
                                   "soft",       "--only",     (exe.parent_path() / "*").string(),
                                   "--lcov",     info.string()};
  argv.insert(argv.end(), extra_options.begin(), extra_options.end());
  argv.push_back("--");
  argv.push_back(exe.string());
  argv.insert(argv.end(), program.args.begin(), program.args.end());
  MustRun(argv, exe.parent_path());
  return info;
}

}  // namespace hwcov::testing
