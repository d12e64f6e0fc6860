#include "common/log.h"

#include <unistd.h>

#include <cstdio>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace duurzaam {

std::string LogSafe(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  auto escape = [&out](unsigned char c) {
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c == 0x7f) {
      escape(c);
    } else if (c == 0xc2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      // U+0080..U+009F (C1 controls, e.g. NEL) in UTF-8.
      escape(c);
      escape(static_cast<unsigned char>(text[++i]));
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string LogValue(std::string_view value) {
  std::string safe = LogSafe(value);
  const bool quote = safe.empty() || safe.find_first_of(" =\"") != std::string::npos;
  if (!quote) return safe;
  std::string out = "\"";
  for (char c : safe) {
    if (c == '"') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  const absl::Time now = absl::Now();
  std::string out = "duurzaamd: ts=";
  out += absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", now, absl::UTCTimeZone());
  out += level == LogLevel::kError     ? " level=error"
         : level == LogLevel::kWarning ? " level=warning"
                                       : " level=info";
  out += " msg=";
  out += LogValue(msg);
  for (const auto& [key, value] : fields) {
    out += ' ';
    out += LogSafe(key);
    out += '=';
    out += LogValue(value);
  }
  out += '\n';
  // One write: lines from several threads never interleave.
  const char* p = out.data();
  size_t left = out.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;  // nowhere to report a failing stderr
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void LogLine(std::string_view line) {
  LogLevel level = LogLevel::kInfo;
  if (line.substr(0, 5) == "ALERT") {
    level = LogLevel::kError;
  } else if (line.substr(0, 7) == "warning" || line.substr(0, 7) == "WARNING") {
    level = LogLevel::kWarning;
  }
  Log(level, line);
}

}  // namespace duurzaam
