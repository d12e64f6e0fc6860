// The server's log: one line per call, written to stderr in one write, with
// every byte a caller could use to forge or hide a line escaped. Anything a
// client sends (a certificate's CN, a case id, a reason) may reach a log line,
// so no log line is written any other way.
//
// Thread-safe: concurrent lines never interleave.
#pragma once

#include <string>
#include <string_view>

namespace duurzaam {

// `text` with control characters (C0, DEL, C1 encoded as UTF-8) and the
// backslash escaped as \xNN / \\, so it reads as one line and an escape in
// the input cannot pass for one made here.
std::string LogSafe(std::string_view text);

// Writes "duurzaamd: <LogSafe(line)>\n" to stderr.
void LogLine(std::string_view line);

}  // namespace duurzaam
