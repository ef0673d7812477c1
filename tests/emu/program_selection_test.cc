// The default selection of traced programs (collector/common/program_selection.h):
// system directories run untraced, the project's programs are traced, and
// --only-exe / --all-code replace the rule.
#include "program_selection.h"

#include <gtest/gtest.h>

namespace hwcov::collector {
namespace {

TEST(ProgramSelection, SystemDirectories) {
  for (const char* path :
       {"/usr/bin/ctest", "/usr/local/bin/cmake", "/bin/sh", "/sbin/ldconfig",
        "/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6", "/libx32/ld.so",
        "/opt/conda/bin/python3", "/etc/init.d/x", "/snap/bin/code",
        "/nix/store/abc-hello/bin/hello", "/gnu/store/abc-hello/bin/hello"})
    EXPECT_TRUE(IsSystemPath(path)) << path;
  for (const char* path : {"/work/build/tests/t01_sum", "/home/u/proj/.libs/lt-prog", "/tmp/a.out",
                           "/usrx/bin/prog", "/nix/var/prog", "/library", "/"})
    EXPECT_FALSE(IsSystemPath(path)) << path;
  // Mappings without a file are never the project's code.
  for (const char* path : {"[vdso]", "//anon", "relative/prog"}) EXPECT_TRUE(IsSystemPath(path));
}

TEST(ProgramSelection, OnlyExeAndAllCodeReplaceTheRule) {
  RecordOptions options;
  EXPECT_TRUE(IsSelectedExecutable(options, "/work/build/t01_sum"));
  EXPECT_FALSE(IsSelectedExecutable(options, "/usr/bin/ctest"));
  options.only_exe = {"ctest"};
  EXPECT_TRUE(IsSelectedExecutable(options, "/usr/bin/ctest"));
  EXPECT_FALSE(IsSelectedExecutable(options, "/work/build/t01_sum"));
  options.only_exe.clear();
  options.trace_everything = true;
  EXPECT_TRUE(IsSelectedExecutable(options, "/bin/sh"));
}

}  // namespace
}  // namespace hwcov::collector
