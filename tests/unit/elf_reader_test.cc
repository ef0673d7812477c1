// The one ELF reader (hwcov/elf.h) and its symbol rule. Addresses come from
// binutils' readelf, sizes from the byte counts of elf_symbols.S
// (hand-worked).
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "hwcov/elf.h"
#include "test_support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using testing::RunShell;

// elf_symbols.S: a program whose symbol table exercises each clause of
// the rule (its comments give the byte counts the sizes below come from).
const fs::path kAssembly = fs::path(HWCOV_SOURCE_DIR) / "tests/unit/elf_symbols.S";

class ElfReader : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("elf-reader");
    fs::copy_file(kAssembly, dir_->path() / "symbols.S");
    Build("-static", "symbols");
    Build("-shared", "symbols.so");
    const auto strip = RunShell("strip --strip-all -o stripped.so symbols.so", dir_->path());
    ASSERT_EQ(strip.exit_code, 0) << strip.err;
  }
  static void TearDownTestSuite() { delete dir_; }

  static void Build(const std::string& kind, const std::string& out) {
    const auto r = RunShell(
        "gcc -nostdlib " + kind + " -Wl,--build-id=sha1 -o " + out + " symbols.S", dir_->path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // readelf's value of each symbol called |name| in |file|'s symbol tables.
  static uint64_t AddressOf(const std::string& file, const std::string& name) {
    const auto r = RunShell("readelf -sW " + file, dir_->path());
    for (const std::string& line : testing::SplitLines(r.out)) {
      std::istringstream in(line);
      std::string num, value, size, type, bind, vis, ndx, symbol;
      if (in >> num >> value >> size >> type >> bind >> vis >> ndx >> symbol && symbol == name)
        return std::stoull(value, nullptr, 16);
    }
    ADD_FAILURE() << "readelf lists no " << name << " in " << file << ":\n" << r.out;
    return 0;
  }

  static std::map<std::string, ElfSymbol> Functions(const std::string& file) {
    std::map<std::string, ElfSymbol> out;
    for (const ElfSymbol& s : ReadElfImage(dir_->path() / file).functions) {
      EXPECT_TRUE(out.emplace(s.name, s).second) << s.name << " listed twice in " << file;
    }
    return out;
  }

  static testing::TempDir* dir_;
};

testing::TempDir* ElfReader::dir_ = nullptr;

TEST_F(ElfReader, FunctionsFollowTheOneSymbolRule) {
  const auto functions = Functions("symbols");
  const std::map<std::string, std::pair<uint64_t, bool>> expected = {{"_start", {9, true}},
                                                                     {"sized", {3, true}},
                                                                     {"unsized", {5, false}},
                                                                     {"chooser", {8, true}},
                                                                     {"tail", {2, false}}};
  ASSERT_EQ(functions.size(), expected.size());
  for (const auto& [name, size_global] : expected) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(functions.count(name));
    const ElfSymbol& s = functions.at(name);
    EXPECT_EQ(s.address, AddressOf("symbols", name));
    EXPECT_EQ(s.size, size_global.first);
    EXPECT_EQ(s.global, size_global.second);
  }
}

TEST_F(ElfReader, AStrippedFileGivesItsDynamicSymbolsOnce) {
  // Unstripped, .dynsym repeats .symtab's global functions: each is listed once.
  EXPECT_EQ(Functions("symbols.so").size(), 5u);
  // Stripped, only the exported ones remain; _start now ends where the next
  // function the file still names starts.
  const auto functions = Functions("stripped.so");
  ASSERT_EQ(functions.size(), 3u);
  EXPECT_EQ(functions.at("_start").size, 9u);
  EXPECT_EQ(functions.at("sized").size, 3u);
  EXPECT_EQ(functions.at("chooser").address, AddressOf("stripped.so", "chooser"));
  EXPECT_EQ(functions.at("chooser").size, 8u);
}

TEST_F(ElfReader, SegmentsAndBuildIdAgreeWithReadelf) {
  const ElfImage image = ReadElfImage(dir_->path() / "symbols");
  EXPECT_EQ(image.file_size, fs::file_size(dir_->path() / "symbols"));
  const auto phdrs = RunShell("readelf -lW symbols", dir_->path());
  std::vector<ElfSegment> loads;
  for (const std::string& line : testing::SplitLines(phdrs.out)) {
    std::istringstream in(line);
    std::string type, offset, vaddr, paddr, filesz;
    if (!(in >> type >> offset >> vaddr >> paddr >> filesz) || type != "LOAD") continue;
    loads.push_back({std::stoull(offset, nullptr, 16), std::stoull(vaddr, nullptr, 16),
                     std::stoull(filesz, nullptr, 16), line.find(" E ") != std::string::npos});
  }
  ASSERT_EQ(image.segments.size(), loads.size()) << phdrs.out;
  for (size_t i = 0; i < loads.size(); ++i) {
    EXPECT_EQ(image.segments[i].offset, loads[i].offset);
    EXPECT_EQ(image.segments[i].vaddr, loads[i].vaddr);
    EXPECT_EQ(image.segments[i].filesz, loads[i].filesz);
    EXPECT_EQ(image.segments[i].executable, loads[i].executable);
  }
  const uint64_t start = AddressOf("symbols", "_start");
  const auto code = std::find_if(loads.begin(), loads.end(), [](auto& s) { return s.executable; });
  ASSERT_NE(code, loads.end());
  EXPECT_EQ(FileOffsetOf(image.segments, start), start - code->vaddr + code->offset);
  EXPECT_EQ(AddressOfFileOffset(image.segments, start - code->vaddr + code->offset), start);
  EXPECT_EQ(FileOffsetOf(image.segments, 0x10), std::nullopt);

  ASSERT_TRUE(image.build_id);
  const auto notes = RunShell("readelf -n symbols", dir_->path());
  EXPECT_NE(notes.out.find("Build ID: " + image.build_id->Hex()), std::string::npos) << notes.out;
  EXPECT_EQ(ReadElfBuildId(dir_->path() / "symbols"), image.build_id);
}

TEST_F(ElfReader, ANonElfFileIsAnErrorNamingIt) {
  const fs::path text = dir_->path() / "symbols.S";
  try {
    ReadElfImage(text);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), text.string() + ": not an ELF file");
  }
  EXPECT_EQ(ReadElfBuildId(text), std::nullopt);
}

}  // namespace
}  // namespace hwcov
