// Per-test coverage's naming (docs/user-guide.md, "Per-test coverage"): the
// collectors' rule (collector/common/test_name.h) on hand-written
// environments and command lines, and the decoder's attribution of a traced
// process to a test (decoder/src/test_names.h) on hand-built sideband.
#include "test_names.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_name.h"

namespace hwcov {
namespace {

std::string Name(const char* own, const char* pytest, std::vector<const char*> argv,
                 size_t size = 256) {
  std::string out(size, '\x7f');
  hwcov_test_name(out.data(), size, own, pytest, argv.data(), argv.size());
  EXPECT_NE(out.find('\0'), std::string::npos) << "not terminated";
  return out.substr(0, out.find('\0'));
}

TEST(TestNameRule, TheUsersVariableFirst) {
  EXPECT_EQ(Name("pair", "t.py::test_x (call)", {"/b/t01_sum", "9"}), "pair");
}

TEST(TestNameRule, PytestsVariableWithoutThePhase) {
  for (const char* phase : {"setup", "call", "teardown"}) {
    const std::string value = std::string("tests/t.py::test_x[a b] (") + phase + ")";
    EXPECT_EQ(Name(nullptr, value.c_str(), {"python3"}), "tests/t.py::test_x[a b]");
    EXPECT_EQ(Name("", value.c_str(), {"python3"}), "tests/t.py::test_x[a b]") << "empty: unset";
  }
  EXPECT_EQ(Name(nullptr, "t.py::test_y", {"python3"}), "t.py::test_y") << "no phase to strip";
}

TEST(TestNameRule, ElseTheCommandLineWithTheProgramsFileName) {
  EXPECT_EQ(Name(nullptr, nullptr, {"/build/tests/t01_sum", "9", "/in/x"}), "t01_sum 9 /in/x");
  EXPECT_EQ(Name(nullptr, nullptr, {"prog"}), "prog");
  EXPECT_EQ(Name(nullptr, nullptr, {"dir/"}), "dir/") << "nothing after the slash: kept";
  EXPECT_EQ(Name(nullptr, nullptr, {}), "");
}

TEST(TestNameRule, CutToTheBuffer) {
  EXPECT_EQ(Name(nullptr, nullptr, {"abcdef", "ghi"}, 5), "abcd");
  EXPECT_EQ(Name("abcdef", nullptr, {}, 4), "abc");
  EXPECT_EQ(Name(nullptr, nullptr, {"ab", "cd"}, 4), "ab ");
  EXPECT_EQ(Name(nullptr, nullptr, {"ab"}, 1), "");
}

trace::TaskEvent Fork(uint32_t child, uint32_t parent) {
  trace::TaskEvent t;
  t.pid = t.tid = child;
  t.ppid = t.ptid = parent;
  return t;
}

trace::CommEvent Exec(uint32_t pid, const std::string& name) {
  trace::CommEvent c;
  c.pid = c.tid = pid;
  c.exec = true;
  c.name = name;
  return c;
}

TEST(TestOfProcess, RecordedNameElseForkParentsElseCommElsePid) {
  trace::Trace t;
  t.test_names = {{10, "suite case"}};
  t.tasks = {Fork(11, 10), Fork(12, 11), Fork(21, 20)};
  t.comms = {Exec(20, "old"), Exec(20, "t02_max"), Exec(12, "helper")};
  trace::TaskEvent thread = Fork(30, 30);  // a thread of 30 (pid == ppid): not a parent
  thread.tid = 31;
  t.tasks.push_back(thread);
  EXPECT_EQ(decoder::TestNameOfProcess(t, 10), "suite case");
  EXPECT_EQ(decoder::TestNameOfProcess(t, 11), "suite case") << "forked: the parent's test";
  EXPECT_EQ(decoder::TestNameOfProcess(t, 12), "helper") << "its own exec, nothing recorded";
  EXPECT_EQ(decoder::TestNameOfProcess(t, 20), "t02_max") << "no name recorded: the last exec";
  EXPECT_EQ(decoder::TestNameOfProcess(t, 21), "t02_max");
  EXPECT_EQ(decoder::TestNameOfProcess(t, 30), "pid 30");
}

TEST(TestOfProcess, ForkCycleEnds) {
  trace::Trace t;
  t.tasks = {Fork(1, 2), Fork(2, 1)};
  EXPECT_EQ(decoder::TestNameOfProcess(t, 1), "pid 1");
}

}  // namespace
}  // namespace hwcov
