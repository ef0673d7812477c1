#include "function_names.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace hwcov::mapper {

std::string Demangle(const std::string& name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(
      abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status), std::free);
  return status == 0 && out ? std::string(out.get()) : name;
}

namespace {

// gcc names the abstract instance of a constructor or destructor with the
// "unified" variant C4/D4, which no symbol has. A function that exists only
// inlined keeps that name; report the base-object variant (C2/D2) that an
// out-of-line copy would have, and that gcov names it by.
std::string BodyName(const std::string& name) {
  if (name.rfind("_Z", 0) != 0) return name;
  for (size_t at = 0; (at = name.find_first_of("CD", at)) != std::string::npos; ++at) {
    if (at + 1 >= name.size() || name[at + 1] != '4') continue;
    std::string candidate = name;
    candidate[at + 1] = '2';
    const std::string demangled = Demangle(name);
    if (demangled != name && Demangle(candidate) == demangled) return candidate;
  }
  return name;
}

}  // namespace

FunctionNames NameFunctions(const ModuleData& module) {
  const DebugInfo& debug = module.debug;
  FunctionNames out;
  out.names.resize(debug.functions.size());
  out.demangled.resize(debug.functions.size());
  for (size_t i = 0; i < debug.functions.size(); ++i) out.names[i] = debug.functions[i].linkage;
  // C++ functions with internal linkage and lambdas often have no linkage
  // name in DWARF, but their symbol has it. C symbols are left alone: a
  // clone's DW_AT_name ("sign") is better than its symbol ("sign.constprop.0").
  for (const CodeInstance& instance : debug.instances) {
    std::string& name = out.names[instance.function];
    if (!name.empty() || instance.depth != 0) continue;
    const std::string symbol = module.elf.NameAt(instance.entry);
    if (symbol.rfind("_Z", 0) == 0) name = symbol.substr(0, symbol.find('.'));
  }
  for (size_t i = 0; i < debug.functions.size(); ++i) {
    out.names[i] = out.names[i].empty() ? debug.functions[i].name : BodyName(out.names[i]);
    out.demangled[i] = Demangle(out.names[i]);
  }
  return out;
}

}  // namespace hwcov::mapper
