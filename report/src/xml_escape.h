// Escaping shared by the XML and HTML writers.
#pragma once

#include <string>
#include <string_view>

namespace hwcov::report {

// Text safe inside an XML/HTML attribute value or element. Control characters
// XML 1.0 forbids (a path may contain them) become '?', since no escape can
// carry them and one bad byte makes the whole document unreadable.
inline std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r')
          out += '?';
        else
          out += c;
    }
  }
  return out;
}

}  // namespace hwcov::report
