#include "hwcov/profile.h"

namespace hwcov::profile {

std::string GapKindName(GapKind kind) {
  switch (kind) {
    case GapKind::kOverflow:
      return "overflow";
    case GapKind::kLostData:
      return "lost-data";
    case GapKind::kNoImage:
      return "no-image";
    case GapKind::kDecodeError:
      return "decode-error";
  }
  return "?";
}

}  // namespace hwcov::profile
