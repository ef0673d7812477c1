// Which binaries are the system's rather than the project's: the rule behind
// hwcov's default scope (docs/user-guide.md, "What is traced by default").
#pragma once

#include <string>

namespace hwcov::collector {

// True for paths under the directories a distribution installs into (/usr,
// /bin, /sbin, /lib*, /snap, /nix/store, /gnu/store) and for pseudo-files
// with no path ("[vdso]", "//anon"). Everything else (a build tree, a
// libtool .libs/ directory, /opt, /home) is the project's.
bool IsSystemPath(const std::string& path);

}  // namespace hwcov::collector
