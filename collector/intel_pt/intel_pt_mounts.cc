#include "intel_pt_mounts.h"

#include <fstream>
#include <sstream>
#include <system_error>

namespace hwcov::collector {
namespace {

// mountinfo escapes ' ', '\t', '\n' and '\\' as \ooo (fs/proc_namespace.c
// show_mountinfo via seq_path with " \t\n\\").
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool octal =
        i + 3 < s.size() && s.substr(i + 1, 3).find_first_not_of("01234567") == std::string::npos;
    if (s[i] == '\\' && octal) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool Contains(const std::string& mount_point, const std::string& path) {
  if (mount_point == "/") return true;
  return path.compare(0, mount_point.size(), mount_point) == 0 &&
         (path.size() == mount_point.size() || path[mount_point.size()] == '/');
}

}  // namespace

std::string FilesystemTypeOf(const std::filesystem::path& mountinfo, const std::string& path) {
  std::ifstream in(mountinfo);
  std::string line, best_point, best_type;
  bool found = false;
  // "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw"
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point, field;
    if (!(fields >> id >> parent >> dev >> root >> point)) continue;
    while (fields >> field && field != "-") {
    }
    std::string type;
    if (!(fields >> type)) continue;
    point = Unescape(point);
    // Later lines mount over earlier ones at the same point.
    if (Contains(point, path) && (!found || point.size() >= best_point.size())) {
      best_point = point;
      best_type = type;
      found = true;
    }
  }
  return best_type;
}

bool InOtherMountNamespace(const std::filesystem::path& proc, pid_t pid) {
  std::error_code a, b;
  const auto theirs = std::filesystem::read_symlink(proc / std::to_string(pid) / "ns/mnt", a);
  const auto ours = std::filesystem::read_symlink(proc / "self/ns/mnt", b);
  return !a && !b && theirs != ours;
}

}  // namespace hwcov::collector
