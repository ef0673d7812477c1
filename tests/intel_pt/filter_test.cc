// Address filters: perf's --filter syntax, resolution of symbols to the file
// offsets the kernel wants (checked against binutils' nm and readelf on a
// PIE test program and on a non-PIE one whose addresses differ from its
// offsets), and the limits of the CPU (caps/num_address_ranges).
#include <elf.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <fstream>
#include <sstream>

#include "hwcov/hex.h"
#include "hwcov/support.h"
#include "intel_pt_elf.h"
#include "intel_pt_filter.h"
#include "test_support.h"

namespace hwcov::collector {
namespace {

namespace fs = std::filesystem;
const fs::path kLoops = fs::path(HWCOV_TEST_PROGRAMS_DIR) / "loops";

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// (address, size) of function |name| per `nm -S`.
std::pair<uint64_t, uint64_t> Nm(const fs::path& file, const std::string& name) {
  auto r = testing::RunCommand({"nm", "-S", file.string()});
  for (const std::string& line : testing::SplitLines(r.out)) {
    std::istringstream in(line);
    std::string addr, size, type, sym;
    if (in >> addr >> size >> type >> sym && sym == name)
      return {std::stoull(addr, nullptr, 16), std::stoull(size, nullptr, 16)};
  }
  ADD_FAILURE() << name << " not in nm output of " << file;
  return {0, 0};
}

// File offset of |vaddr| per `readelf -lW`'s LOAD rows.
uint64_t ReadelfOffset(const fs::path& file, uint64_t vaddr) {
  auto r = testing::RunCommand({"readelf", "-lW", file.string()});
  for (const std::string& line : testing::SplitLines(r.out)) {
    std::istringstream in(line);
    std::string kind, off, va, pa, filesz;
    if (!(in >> kind >> off >> va >> pa >> filesz) || kind != "LOAD") continue;
    const uint64_t o = std::stoull(off, nullptr, 16), v = std::stoull(va, nullptr, 16),
                   n = std::stoull(filesz, nullptr, 16);
    if (vaddr >= v && vaddr < v + n) return vaddr - v + o;
  }
  ADD_FAILURE() << std::hex << vaddr << " not in a LOAD segment of " << file;
  return 0;
}

TEST(FilterParse, PerfsSyntax) {
  auto f = ParseAddrFilters("filter main @ /bin/ls");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].action, "filter");
  EXPECT_TRUE(f[0].range);
  EXPECT_EQ(f[0].sym_from, "main");
  EXPECT_EQ(f[0].file, "/bin/ls");

  f = ParseAddrFilters("filter 0x1000 / 0x200 @ ./prog, tracestop foo #2 @ ./prog");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].addr, 0x1000u);
  EXPECT_EQ(f[0].size, 0x200u);
  EXPECT_EQ(f[0].file, "./prog");
  EXPECT_EQ(f[0].text, "filter 0x1000 / 0x200 @ ./prog");
  EXPECT_EQ(f[1].action, "tracestop");
  EXPECT_EQ(f[1].sym_from, "foo");
  EXPECT_EQ(f[1].sym_from_idx, 2);

  f = ParseAddrFilters("filter a #g / b @ x");
  EXPECT_EQ(f[0].sym_from_idx, 0);
  EXPECT_EQ(f[0].sym_to, "b");

  f = ParseAddrFilters("start main @ x");  // parses; Intel PT rejects it later
  EXPECT_FALSE(f[0].range);

  for (const char* bad : {"", "trace main @ x", "filter", "filter 0x10zz @ x", "filter a #0 @ x"}) {
    const std::string e = ErrorOf([&] { ParseAddrFilters(bad); });
    EXPECT_TRUE(Contains(e, "filter|start|stop|tracestop")) << bad << ": " << e;
  }
}

TEST(FilterResolve, SymbolsBecomeFileOffsetsInAPie) {
  auto [addr, size] = Nm(kLoops, "nested");
  KernelFilter k = ResolveAddrFilter(ParseAddrFilters("filter nested @ " + kLoops.string())[0]);
  EXPECT_EQ(k.action, "filter");
  EXPECT_EQ(k.offset, ReadelfOffset(kLoops, addr));
  EXPECT_EQ(k.size, size);
  EXPECT_EQ(k.file, fs::canonical(kLoops).string());
  EXPECT_EQ(k.ToString(), "filter " + Hex(k.offset) + "/" + Hex(size) + "@" + k.file);

  // From one function to the end of another.
  auto [to, to_size] = Nm(kLoops, "skip_and_stop");
  k = ResolveAddrFilter(
      ParseAddrFilters("tracestop nested / skip_and_stop @ " + kLoops.string())[0]);
  EXPECT_EQ(k.action, "stop");  // perf turns tracestop into the kernel's "stop" range
  EXPECT_EQ(k.size, to + to_size - addr);

  // "*": the whole file, as perf's addr_filter__entire_dso.
  k = ResolveAddrFilter(ParseAddrFilters("filter * @ " + kLoops.string())[0]);
  EXPECT_EQ(k.offset, 0u);
  EXPECT_EQ(k.size, fs::file_size(kLoops));

  // Plain numbers pass through.
  k = ResolveAddrFilter(ParseAddrFilters("filter 0x1169 / 0x2e @ " + kLoops.string())[0]);
  EXPECT_EQ(k.offset, 0x1169u);
  EXPECT_EQ(k.size, 0x2eu);
}

TEST(FilterResolve, NonPieAddressesAreNotOffsets) {
  if (!testing::HaveTool("gcc")) GTEST_SKIP() << "gcc not installed";
  testing::TempDir dir("pt-nopie");
  std::ofstream(dir.path() / "t.c") << "int work(int x) { return x * 3; }\n"
                                       "int main(void) { return work(2) - 6; }\n";
  auto r = testing::RunCommand({"gcc", "-O0", "-no-pie", "-fno-pie", "-o",
                                (dir.path() / "t").string(), (dir.path() / "t.c").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path bin = dir.path() / "t";
  auto [addr, size] = Nm(bin, "work");
  ASSERT_GE(addr, 0x400000u);
  KernelFilter k = ResolveAddrFilter(ParseAddrFilters("filter work @ " + bin.string())[0]);
  EXPECT_EQ(k.offset, ReadelfOffset(bin, addr));
  EXPECT_LT(k.offset, addr);
  EXPECT_EQ(k.size, size);
}

TEST(FilterResolve, ClearErrors) {
  const std::string loops = kLoops.string();
  EXPECT_TRUE(
      Contains(ErrorOf([&] { ResolveAddrFilter(ParseAddrFilters("filter main")[0]); }), "@ FILE"));
  EXPECT_TRUE(
      Contains(ErrorOf([&] { ResolveAddrFilter(ParseAddrFilters("start main @ " + loops)[0]); }),
               "address ranges only"));
  EXPECT_TRUE(
      Contains(ErrorOf([&] { ResolveAddrFilter(ParseAddrFilters("stop 0x1169 @ " + loops)[0]); }),
               "address ranges only"));
  EXPECT_TRUE(
      Contains(ErrorOf([&] { ResolveAddrFilter(ParseAddrFilters("filter mian @ " + loops)[0]); }),
               "no function 'mian' in " + loops));
  EXPECT_TRUE(Contains(
      ErrorOf([&] { ResolveAddrFilter(ParseAddrFilters("filter main @ /no/such/file")[0]); }),
      "/no/such/file"));
  EXPECT_TRUE(Contains(
      ErrorOf([&] { ResolveAddrFilter(ParseAddrFilters("filter main #3 @ " + loops)[0]); }),
      "not 3"));
}

TEST(FilterLimits, CountedAgainstTheCpusAddressRanges) {
  const std::string loops = kLoops.string();
  const std::vector<std::string> three = {
      "filter main @ " + loops, "filter nested @ " + loops + ", filter digits @ " + loops};
  const std::string e = ErrorOf([&] { BuildFilterString(three, 2); });
  EXPECT_TRUE(Contains(e, "3 address ranges given")) << e;
  EXPECT_TRUE(Contains(e, "supports 2 (caps/num_address_ranges)")) << e;
  const std::string none = ErrorOf([&] { BuildFilterString({"filter main @ " + loops}, 0); });
  EXPECT_TRUE(Contains(none, "cannot filter by address")) << none;

  const std::string two = BuildFilterString({three[0], "filter nested @ " + loops}, 2);
  EXPECT_EQ(std::count(two.begin(), two.end(), ','), 1) << two;  // perf joins with commas
  EXPECT_EQ(two.rfind("filter 0x", 0), 0u) << two;
  EXPECT_EQ(BuildFilterString({}, 2), "");
}

// A symbol table whose string table offset points outside the file (a
// patched or truncated binary) is an error naming the file; it used to
// build a name pointer from the offset unchecked (SEGV in strnlen).
TEST(ElfCode, StringTableOutsideTheFileIsAnError) {
  testing::TempDir dir("pt-elf-strtab");
  const fs::path copy = dir.path() / "loops";
  fs::copy_file(kLoops, copy);
  std::fstream f(copy, std::ios::in | std::ios::out | std::ios::binary);
  Elf64_Ehdr eh{};
  f.read(reinterpret_cast<char*>(&eh), sizeof eh);
  bool patched = false;
  for (unsigned i = 0; i < eh.e_shnum && !patched; ++i) {
    Elf64_Shdr sh{};
    f.seekg(static_cast<std::streamoff>(eh.e_shoff + i * uint64_t{eh.e_shentsize}));
    f.read(reinterpret_cast<char*>(&sh), sizeof sh);
    if (sh.sh_type != SHT_SYMTAB) continue;
    const uint64_t link_offset =
        eh.e_shoff + sh.sh_link * uint64_t{eh.e_shentsize} + offsetof(Elf64_Shdr, sh_offset);
    const uint64_t far = 0x7fff000000000000ull;
    f.seekp(static_cast<std::streamoff>(link_offset));
    f.write(reinterpret_cast<const char*>(&far), sizeof far);
    patched = true;
  }
  f.close();
  ASSERT_TRUE(patched) << "loops has a .symtab";
  const std::string e = ErrorOf([&] { ElfCode elf(copy); });
  EXPECT_TRUE(Contains(e, copy.string())) << e;
  EXPECT_TRUE(Contains(e, "lies outside the file")) << e;
}

TEST(FilterLimits, TheDefaultFilterIsTheBinarysCode) {
  const ElfCode elf(kLoops);
  ASSERT_EQ(elf.exec_segments().size(), 1u);
  const auto seg = elf.exec_segments()[0];
  const std::string real = fs::canonical(kLoops).string();
  EXPECT_EQ(BinaryFilterString({kLoops.string()}, 2, false).filter,
            "filter " + Hex(seg.offset) + "/" + Hex(seg.size) + "@" + real);
  // Attached: not starting on the page boundary where the read-only
  // mapping before the code ends (the kernel counts that end as a match).
  EXPECT_EQ(BinaryFilterString({kLoops.string()}, 2, true).filter,
            "filter " + Hex(seg.offset + 1) + "/" + Hex(seg.size - 1) + "@" + real);
  EXPECT_TRUE(Contains(ErrorOf([&] { BinaryFilterString({kLoops.string()}, 0, false); }),
                       "caps/num_address_ranges"));
}

}  // namespace
}  // namespace hwcov::collector
