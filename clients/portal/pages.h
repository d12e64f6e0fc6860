// The portal's pages: server-rendered HTML that works without JavaScript,
// in Dutch (default) or English, written for WCAG 2.1 AA: one h1 per page,
// landmarks and a skip link, labelled fields, errors in a summary that links
// to each field and beside the field itself, status in words (never colour
// alone), tables with captions and header cells. Every value that comes
// from elsewhere is escaped here and nowhere else.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "duurzaam/v1/cases.pb.h"

namespace duurzaam::portal {

enum class Lang { kNl, kEn };

// Escapes text for HTML content and quoted attribute values.
std::string Html(std::string_view text);

// What every page shows around its content.
struct Frame {
  Lang lang = Lang::kNl;
  std::string title;         // the page's own part of <title>
  std::string path;          // this page's path and query, for the language switch
  std::string user_name;     // empty: not signed in
  std::string organisation;  // the employer id the user acts for
  std::string csrf;          // the sign-out form's token
  std::string notice;        // a message to show once (already translated)
};

// A sentence in both languages, picked by `lang`.
inline const char* T(Lang lang, const char* nl, const char* en) {
  return lang == Lang::kEn ? en : nl;
}

// `return_to`: the portal page to come back to after signing in.
std::string SignInPage(const Frame& frame, std::string_view message, std::string_view return_to);
std::string ErrorPage(const Frame& frame, std::string_view heading, std::string_view message);

// The placements list: the query that made it (for the filter form and the
// page links), the answer, and the tokens of the pages before this one.
struct ListQuery {
  std::vector<int> levels;  // v1::StatusLevel values
  std::string order;        // "urgency" | "case" | "attention"
  bool descending = false;
  std::string page;               // this page's token (empty: the first)
  std::vector<std::string> prev;  // the tokens of the pages before it
};
std::string PlacementsPage(const Frame& frame, const ListQuery& query,
                           const v1::PlacementList& list);
// The query string of a list query (without "?"), for links and redirects.
std::string QueryString(const ListQuery& query);

std::string PlacementPage(const Frame& frame, const std::string& case_id,
                          const v1::CaseStatus& status, const v1::Timeline& timeline,
                          const v1::PlacementSummary* summary);

// The contract change form, with the values given and the errors found.
struct ContractForm {
  std::string contract;      // "permanent" | "fixed_term"
  std::string contract_end;  // YYYY-MM-DD
  std::string hours;         // hours per week
  std::string occurred_on;   // YYYY-MM-DD
  std::string event_id;      // made once per form: a double submit records once
  std::string revision;      // the employer revision the form was shown at
  struct Error {
    std::string field;  // "contract", "contract_end", "hours", "occurred_on" or "" (the form)
    std::string message;
  };
  std::vector<Error> errors;
};
std::string ContractPage(const Frame& frame, const std::string& case_id, const ContractForm& form);

// The level's name in words ("Risico", "At risk").
std::string LevelName(Lang lang, int level);

}  // namespace duurzaam::portal
