// Finding the binaries a recording ran, as perf does: the recorded path
// (under --sysroot), perf's build-id cache in both of its layouts,
// $PERF_BUILDID_DIR -- and refusing, with a warning that names it, a file
// whose build id is not the recorded one.
#include <gtest/gtest.h>

#include <cstdlib>

#include "hwcov/decoder.h"
#include "hwcov/trace.h"
#include "module_table.h"
#include "test_support.h"

namespace hwcov {
namespace {

// Where to look for binaries: a sysroot and build-id cache directories.
decoder::DecodeOptions Lookup(const std::string& sysroot, std::vector<std::string> buildid_dirs) {
  decoder::DecodeOptions options;
  options.sysroot = sysroot;
  options.buildid_dirs = std::move(buildid_dirs);
  return options;
}

namespace fs = std::filesystem;

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Sets an environment variable for the test's duration.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class ModuleLookup : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<testing::TempDir>("pt-module-lookup");
    // A private HOME: the real ~/.debug must not take part.
    home_ = std::make_unique<ScopedEnv>("HOME", (dir_->path() / "home").string());
    unsetenv("PERF_BUILDID_DIR");
    bin_ = dir_->path() / "bin" / "loops";
    fs::create_directories(bin_.parent_path());
    fs::copy_file(fs::path(HWCOV_TEST_PROGRAMS_DIR) / "loops", bin_);
    fs::permissions(bin_, fs::perms::owner_exec, fs::perm_options::add);
    trace_ = dir_->path() / "loops.data";
    auto r = testing::RunCommand(
        {HWCOV_BINARY, "record", "--backend", "soft", "-o", trace_.string(), "--", bin_.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    id_ = ReadElfBuildId(bin_).value_or(BuildId{});
    ASSERT_FALSE(id_.empty()) << "test programs are linked with a build id";
    baseline_ = Profile({});
    ASSERT_GT(baseline_.instructions, 1000u);
    ASSERT_TRUE(Module(baseline_)) << "the recorded path decodes";
  }

  decoder::ExecutionProfile Profile(const decoder::DecodeOptions& options) {
    return decoder::Decode(trace::ReadPerfData(trace_), options);
  }
  // The module decoded for the recorded binary, if any.
  const decoder::Module* Module(const decoder::ExecutionProfile& p) {
    for (const auto& m : p.modules)
      if (m.recorded_path == fs::canonical(dir_->path()).string() + "/bin/loops" ||
          m.recorded_path == bin_.string())
        return &m;
    return nullptr;
  }
  uint64_t InstructionsIn(const decoder::ExecutionProfile& p) {
    const decoder::Module* m = Module(p);
    if (!m) return 0;
    const uint32_t index = static_cast<uint32_t>(m - p.modules.data());
    uint64_t n = 0;
    for (const auto& b : p.blocks)
      if (b.module == index) n += b.count * b.instructions;
    return n;
  }
  void MoveBinaryAway() { fs::rename(bin_, dir_->path() / "moved"); }

  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<ScopedEnv> home_;
  fs::path bin_, trace_;
  BuildId id_;
  decoder::ExecutionProfile baseline_;
};

TEST_F(ModuleLookup, MissingBinaryIsAWarning) {
  MoveBinaryAway();
  decoder::ExecutionProfile p = Profile({});
  EXPECT_EQ(Module(p), nullptr);
  bool warned = false;
  for (const auto& w : p.warnings) warned |= Contains(w, bin_.string() + ": binary not found");
  EXPECT_TRUE(warned);
}

TEST_F(ModuleLookup, Sysroot) {
  const fs::path sysroot = dir_->path() / "sysroot";
  fs::create_directories((sysroot / bin_.relative_path()).parent_path());
  fs::copy_file(bin_, sysroot / bin_.relative_path());
  MoveBinaryAway();
  decoder::ExecutionProfile p = Profile(Lookup(sysroot.string(), {}));
  ASSERT_NE(Module(p), nullptr);
  EXPECT_EQ(Module(p)->path, (sysroot / bin_.relative_path()).string());
  EXPECT_EQ(InstructionsIn(p), InstructionsIn(baseline_));

  // The CLI's --sysroot.
  auto r =
      testing::RunCommand({HWCOV_BINARY, "report", "--sysroot", sysroot.string(), trace_.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "loops.c")) << r.out;
}

// perf 4.x+ layout: .build-id/xx/yyyy -> ../../<path>/<id>, a directory
// holding "elf". The entry here was cached from another path
// (`perf buildid-cache -a /elsewhere/loops`): only the link leads to it.
TEST_F(ModuleLookup, BuildIdCacheDirectoryLayout) {
  const fs::path cache = dir_->path() / "cache";
  const std::string hex = id_.Hex();
  const fs::path entry = cache / "elsewhere/loops" / hex;
  fs::create_directories(entry);
  fs::copy_file(bin_, entry / "elf");
  fs::create_directories(cache / ".build-id" / hex.substr(0, 2));
  fs::create_symlink(fs::path("../../elsewhere/loops") / hex,
                     cache / ".build-id" / hex.substr(0, 2) / hex.substr(2));
  MoveBinaryAway();
  decoder::ExecutionProfile p = Profile(Lookup("", {cache.string()}));
  ASSERT_NE(Module(p), nullptr);
  EXPECT_TRUE(Contains(Module(p)->path, ".build-id")) << Module(p)->path;
  EXPECT_EQ(InstructionsIn(p), InstructionsIn(baseline_));
}

// Older perf: .build-id/xx/yyyy is the file itself; and $PERF_BUILDID_DIR.
TEST_F(ModuleLookup, BuildIdCacheFileLayoutFromPerfBuildidDir) {
  const fs::path cache = dir_->path() / "perfcache";
  const std::string hex = id_.Hex();
  fs::create_directories(cache / ".build-id" / hex.substr(0, 2));
  fs::copy_file(bin_, cache / ".build-id" / hex.substr(0, 2) / hex.substr(2));
  MoveBinaryAway();
  ScopedEnv env("PERF_BUILDID_DIR", cache.string());
  decoder::ExecutionProfile p = Profile({});
  ASSERT_NE(Module(p), nullptr);
  EXPECT_EQ(InstructionsIn(p), InstructionsIn(baseline_));
}

// ~/.debug is perf's default cache.
TEST_F(ModuleLookup, HomeDebugIsTheDefaultCache) {
  const std::string hex = id_.Hex();
  const fs::path entry = dir_->path() / "home/.debug" / bin_.relative_path() / hex;
  fs::create_directories(entry);
  fs::copy_file(bin_, entry / "elf");
  MoveBinaryAway();
  decoder::ExecutionProfile p = Profile({});
  ASSERT_NE(Module(p), nullptr);
  EXPECT_EQ(Module(p)->path, (entry / "elf").string());
}

// A different binary at the recorded path is refused with a warning that
// names it -- unless the cache still has the recorded one.
TEST_F(ModuleLookup, RebuiltBinaryIsRefused) {
  fs::remove(bin_);
  fs::copy_file(fs::path(HWCOV_TEST_PROGRAMS_DIR) / "recursion", bin_);
  decoder::ExecutionProfile p = Profile({});
  EXPECT_EQ(Module(p), nullptr);
  bool warned = false;
  for (const auto& w : p.warnings)
    warned |= Contains(w, bin_.string() + ": build id differs from the recorded " + id_.Hex());
  EXPECT_TRUE(warned);

  const fs::path cache = dir_->path() / "cache2";
  const fs::path entry = cache / bin_.relative_path() / id_.Hex();
  fs::create_directories(entry);
  fs::copy_file(fs::path(HWCOV_TEST_PROGRAMS_DIR) / "loops", entry / "elf");
  p = Profile(Lookup("", {cache.string()}));
  ASSERT_NE(Module(p), nullptr);
  EXPECT_EQ(Module(p)->path, (entry / "elf").string());
  EXPECT_EQ(InstructionsIn(p), InstructionsIn(baseline_));
}

// A cache entry with the wrong content is not trusted either.
TEST_F(ModuleLookup, CacheEntriesAreVerifiedToo) {
  const std::string hex = id_.Hex();
  const fs::path cache = dir_->path() / "badcache";
  fs::create_directories(cache / ".build-id" / hex.substr(0, 2));
  fs::copy_file(fs::path(HWCOV_TEST_PROGRAMS_DIR) / "recursion",
                cache / ".build-id" / hex.substr(0, 2) / hex.substr(2));
  MoveBinaryAway();
  std::string why;
  EXPECT_FALSE(decoder::LocateBinary(bin_.string(), id_, Lookup("", {cache.string()}), why));
  EXPECT_TRUE(Contains(why, "binary not found")) << why;
  EXPECT_TRUE(Contains(why, cache.string())) << why;
}

// A real `perf record` of perf 4.14 (file and pipe mode) from another
// machine: the report says none of it could be decoded here and why (its
// binaries are missing), exits with hwcov's failure status rather than
// printing an empty 100%, and the decoder names the binaries this machine lacks.
TEST(PerfRecordings, ReportOfAPerf414Recording) {
  for (const char* name : {"perf.data.intel_pt-4.14", "perf.data.piped.intel_pt-4.14"}) {
    const fs::path fixture = fs::path(HWCOV_SHARED_DIR) / "fixtures" / name;
    if (!fs::exists(fixture)) GTEST_SKIP() << fixture << " not present";
    testing::TempDir home("pt-fixture-home");
    ScopedEnv env("HOME", home.path().string());
    auto r = testing::RunCommand({HWCOV_BINARY, "report", fixture.string()});
    EXPECT_EQ(r.exit_code, testing::kHwcovFailure) << name << ": " << r.err;
    EXPECT_TRUE(Contains(r.err, "no code was traced: 0.00% of ")) << r.err;
    EXPECT_TRUE(Contains(r.err, "no-image gaps (the traced binaries are missing here")) << r.err;
    EXPECT_EQ(r.out, "");
    decoder::ExecutionProfile p = decoder::Decode(trace::ReadPerfData(fixture));
    bool named = false;
    for (const auto& w : p.warnings) named |= Contains(w, "/usr/bin/coreutils: binary not found");
    EXPECT_TRUE(named) << name;
  }
}

TEST(BuildIdDirs, OptionsThenEnvironmentThenHome) {
  ScopedEnv home("HOME", "/home/someone");
  unsetenv("PERF_BUILDID_DIR");
  EXPECT_EQ(decoder::BuildIdDirs(Lookup("", {"/a", "/b"})),
            (std::vector<fs::path>{"/a", "/b", "/home/someone/.debug"}));
  ScopedEnv env("PERF_BUILDID_DIR", "/cache");
  EXPECT_EQ(decoder::BuildIdDirs({}), (std::vector<fs::path>{"/cache"}));
}

}  // namespace
}  // namespace hwcov
