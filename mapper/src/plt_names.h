// Names of PLT stubs. A call to an imported function goes to a stub in
// .plt/.plt.sec/.plt.got that jumps through a GOT slot; the dynamic
// relocation of that slot names the function. Used to recognise calls to
// check handlers such as __stack_chk_fail (branch_sites.cc).
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace hwcov::mapper {

class ElfSections;
struct ElfFile;

// Stub address -> imported function name, for x86-64 ELF.
std::map<uint64_t, std::string> ReadPltNames(const ElfSections& sections, const ElfFile& elf);

}  // namespace hwcov::mapper
