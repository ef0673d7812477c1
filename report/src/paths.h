// Path helpers the writers and filters share.
#pragma once

#include <filesystem>

namespace hwcov::report {

// |root| without a trailing separator: "/src/" and "/src" are one root, but
// lexically_relative sees an empty last element in the first.
std::filesystem::path NormalRoot(const std::filesystem::path& root);

}  // namespace hwcov::report
