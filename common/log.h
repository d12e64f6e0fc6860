// The server's log: structured, one logfmt line per event on stderr, written
// in one write, with every byte a caller could use to forge or hide a line
// escaped. Anything a client sends (a certificate's CN, a case id, a reason)
// may reach a log line, so no log line is written any other way.
//
//   duurzaamd: ts=2026-12-06T08:40:01.123Z level=warning msg="..." key=value
//
// Levels: info (what the server does), warning (something needs an
// operator soon: a disk filling up, a service NOT_SERVING), error (writes
// refused, a projection failing, a record quarantined: act now). The README
// ("Operating duurzaamd") lists each warning and error and what to do.
//
// Thread-safe: concurrent lines never interleave.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace duurzaam {

enum class LogLevel { kInfo, kWarning, kError };

// `text` with control characters (C0, DEL, C1 encoded as UTF-8) and the
// backslash escaped as \xNN / \\, so it reads as one line and an escape in
// the input cannot pass for one made here.
std::string LogSafe(std::string_view text);

// A logfmt value: LogSafe, and quoted ("..." with \" inside) when empty or
// holding a space, '=' or '"'.
std::string LogValue(std::string_view value);

using LogField = std::pair<std::string_view, std::string_view>;

// Writes one line: time (UTC), level, msg, then the fields in order.
void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});

// Log() with the level read from the text: "ALERT…" is an error,
// "warning…" a warning, anything else info.
void LogLine(std::string_view line);

}  // namespace duurzaam
