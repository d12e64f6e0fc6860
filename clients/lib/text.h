// Escaping text for the client programs' output: HTML (the portal's pages,
// the audit report) and JSON strings (--json output).
#pragma once

#include <string>
#include <string_view>

namespace duurzaam::client {

// `text` safe inside HTML element content and quoted attribute values.
std::string HtmlEscape(std::string_view text);

// `text` as a JSON string literal, quotes included (control characters as
// \uXXXX; bytes >= 0x80 passed through as they are: UTF-8 stays UTF-8).
std::string JsonString(std::string_view text);

}  // namespace duurzaam::client
