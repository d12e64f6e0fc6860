#include "clients/portal/pages.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "clients/lib/text.h"
#include "clients/portal/oidc.h"

namespace duurzaam::portal {
namespace {

constexpr const char* kMonthsNl[] = {"januari",   "februari", "maart",    "april",
                                     "mei",       "juni",     "juli",     "augustus",
                                     "september", "oktober",  "november", "december"};
constexpr const char* kMonthsEn[] = {"January",   "February", "March",    "April",
                                     "May",       "June",     "July",     "August",
                                     "September", "October",  "November", "December"};

std::string Iso(const v1::CalendarDate& d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

// "1 december 2026" / "1 December 2026" inside <time>.
std::string Date(Lang lang, const v1::CalendarDate& d) {
  if (d.month() < 1 || d.month() > 12) return "";
  return absl::StrCat("<time datetime=\"", Iso(d), "\">", d.day(), " ",
                      lang == Lang::kEn ? kMonthsEn[d.month() - 1] : kMonthsNl[d.month() - 1], " ",
                      d.year(), "</time>");
}

std::string LevelBadge(Lang lang, int level) {
  return absl::StrCat("<span class=\"level level-", level, "\">", Html(LevelName(lang, level)),
                      "</span>");
}

std::string Contract(Lang lang, const v1::PlacementSummary& p) {
  switch (p.contract()) {
    case v1::CONTRACT_TYPE_PERMANENT:
      return T(lang, "Vast", "Permanent");
    case v1::CONTRACT_TYPE_FIXED_TERM:
      if (p.has_contract_end()) {
        return absl::StrCat(T(lang, "Tijdelijk, tot ", "Fixed-term, until "),
                            Date(lang, p.contract_end()));
      }
      return T(lang, "Tijdelijk", "Fixed-term");
    default:
      return T(lang, "Nog niet in dienst", "Not hired yet");
  }
}

const char* OrderName(Lang lang, const std::string& order) {
  if (order == "case") return T(lang, "Plaatsing", "Placement");
  if (order == "attention") return T(lang, "Eerstvolgend aandachtspunt", "Next point of attention");
  return T(lang, "Urgentie", "Urgency");
}

}  // namespace

std::string Html(std::string_view text) { return client::HtmlEscape(text); }

std::string LevelName(Lang lang, int level) {
  switch (level) {
    case v1::STATUS_LEVEL_SUSTAINABLE:
      return T(lang, "Duurzaam", "Sustainable");
    case v1::STATUS_LEVEL_VULNERABLE:
      return T(lang, "Kwetsbaar", "Vulnerable");
    case v1::STATUS_LEVEL_AT_RISK:
      return T(lang, "Risico", "At risk");
    case v1::STATUS_LEVEL_ENDED:
      return T(lang, "Beëindigd", "Ended");
    default:
      return T(lang, "Onbekend", "Unknown");
  }
}

namespace {

std::string Layout(const Frame& f, const std::string& content) {
  const Lang lang = f.lang;
  const Lang other = lang == Lang::kEn ? Lang::kNl : Lang::kEn;
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"", lang == Lang::kEn ? "en" : "nl",
      "\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
      Html(f.title), " – ", T(lang, "Werkgeversportaal duurzaam", "Employer portal duurzaam"),
      "</title>\n<link rel=\"stylesheet\" href=\"/static/portal.css\">\n</head>\n<body>\n"
      "<a class=\"skip\" href=\"#main\">",
      T(lang, "Naar de inhoud", "Skip to content"),
      "</a>\n<header class=\"site\">\n<div class=\"bar\">\n<a class=\"brand\" "
      "href=\"/plaatsingen\">",
      T(lang, "Werkgeversportaal", "Employer portal"),
      " <span>duurzaam</span></a>\n<nav class=\"tools\" aria-label=\"",
      T(lang, "Taal en account", "Language and account"),
      "\">\n<a href=\"/taal?naar=", other == Lang::kEn ? "en" : "nl",
      "&amp;terug=", Html(UrlEncode(f.path)), "\" lang=\"", other == Lang::kEn ? "en" : "nl",
      "\" hreflang=\"", other == Lang::kEn ? "en" : "nl", "\">",
      other == Lang::kEn ? "English" : "Nederlands", "</a>\n");
  if (!f.user_name.empty()) {
    absl::StrAppend(&out, "<p class=\"who\">", T(lang, "Ingelogd als ", "Signed in as "),
                    Html(f.user_name), " <span class=\"org\">(", Html(f.organisation),
                    ")</span></p>\n<form method=\"post\" action=\"/uitloggen\" class=\"logout\">"
                    "<input type=\"hidden\" name=\"csrf\" value=\"",
                    Html(f.csrf), "\"><button type=\"submit\">", T(lang, "Uitloggen", "Sign out"),
                    "</button></form>\n");
  }
  absl::StrAppend(&out, "</nav>\n</div>\n</header>\n<main id=\"main\" tabindex=\"-1\">\n");
  if (!f.notice.empty()) {
    absl::StrAppend(&out, "<div class=\"notice\" role=\"status\"><p>", Html(f.notice),
                    "</p></div>\n");
  }
  absl::StrAppend(&out, content, "</main>\n<footer class=\"site\">\n<p>",
                  T(lang,
                    "Dit portaal toont de plaatsingen bij uw organisatie, zonder gegevens over "
                    "gezondheid of privéleven van werknemers.",
                    "This portal shows the placements at your organisation, without any details "
                    "of employees' health or private life."),
                  "</p>\n<p><a href=\"/toegankelijkheid\">",
                  T(lang, "Toegankelijkheidsverklaring", "Accessibility statement"),
                  "</a></p>\n</footer>\n</body>\n</html>\n");
  return out;
}

}  // namespace

std::string SignInPage(const Frame& f, std::string_view message, std::string_view return_to) {
  const Lang l = f.lang;
  std::string content =
      absl::StrCat("<h1>", T(l, "Werkgeversportaal", "Employer portal"), "</h1>\n");
  if (!message.empty()) {
    absl::StrAppend(&content, "<div class=\"error-summary\" role=\"alert\"><p>", Html(message),
                    "</p></div>\n");
  }
  absl::StrAppend(
      &content, "<p class=\"lead\">",
      T(l,
        "Hier volgt u de plaatsingen van medewerkers met een arbeidsbeperking bij uw organisatie: "
        "hun status, wat er aandacht vraagt en de tijdlijn. U legt hier ook contractwijzigingen "
        "vast.",
        "Here you follow the placements of employees with an occupational disability at your "
        "organisation: their status, what needs attention and the timeline. You also record "
        "contract changes here."),
      "</p>\n<p><a class=\"button\" href=\"/inloggen",
      return_to.empty() ? "" : absl::StrCat("?terug=", Html(UrlEncode(return_to))), "\">",
      T(l, "Inloggen met eHerkenning", "Sign in with eHerkenning"), "</a></p>\n<p>",
      T(l, "U logt in bij uw eHerkenningsmakelaar. Daarna komt u hier terug.",
        "You sign in at your eHerkenning broker, then you come back here."),
      "</p>\n");
  return Layout(f, content);
}

std::string ErrorPage(const Frame& f, std::string_view heading, std::string_view message) {
  return Layout(f,
                absl::StrCat("<h1>", Html(heading), "</h1>\n<p>", Html(message),
                             "</p>\n<p><a href=\"/plaatsingen\">",
                             T(f.lang, "Naar mijn plaatsingen", "To my placements"), "</a></p>\n"));
}

std::string QueryString(const ListQuery& q) {
  std::vector<std::string> parts;
  for (int level : q.levels) {
    parts.push_back(absl::StrCat("level=", UrlEncode(v1::StatusLevel_Name(level).substr(13))));
  }
  if (!q.order.empty() && q.order != "urgency") parts.push_back("order=" + UrlEncode(q.order));
  if (q.descending) parts.push_back("desc=1");
  if (!q.page.empty()) parts.push_back("page=" + UrlEncode(q.page));
  if (!q.prev.empty()) parts.push_back("prev=" + UrlEncode(absl::StrJoin(q.prev, ",")));
  return absl::StrJoin(parts, "&");
}

std::string PlacementsPage(const Frame& f, const ListQuery& q, const v1::PlacementList& list) {
  const Lang l = f.lang;
  std::string content =
      absl::StrCat("<h1>", T(l, "Mijn plaatsingen", "My placements"), "</h1>\n<p class=\"lead\">",
                   T(l, "Plaatsingen bij ", "Placements at "), Html(list.employer_id()),
                   T(l, ", stand van ", ", as of "), Date(l, list.as_of()), ".</p>\n");
  // Filters and order: a GET form, so the page works without JavaScript.
  absl::StrAppend(&content,
                  "<form method=\"get\" action=\"/plaatsingen\" class=\"filters\">\n"
                  "<fieldset>\n<legend>",
                  T(l, "Toon status", "Show status"), "</legend>\n");
  for (int level : {v1::STATUS_LEVEL_AT_RISK, v1::STATUS_LEVEL_VULNERABLE,
                    v1::STATUS_LEVEL_SUSTAINABLE, v1::STATUS_LEVEL_ENDED}) {
    const bool checked = std::find(q.levels.begin(), q.levels.end(), level) != q.levels.end();
    absl::StrAppend(&content, "<div class=\"check\"><input type=\"checkbox\" id=\"level-", level,
                    "\" name=\"level\" value=\"", v1::StatusLevel_Name(level).substr(13), "\"",
                    checked ? " checked" : "", "><label for=\"level-", level, "\">",
                    Html(LevelName(l, level)), "</label></div>\n");
  }
  absl::StrAppend(&content, "</fieldset>\n<div class=\"field\"><label for=\"order\">",
                  T(l, "Sorteren op", "Sort by"), "</label>\n<select id=\"order\" name=\"order\">");
  for (const char* order : {"urgency", "case", "attention"}) {
    absl::StrAppend(
        &content, "<option value=\"", order, "\"",
        (q.order.empty() ? std::string("urgency") : q.order) == order ? " selected" : "", ">",
        OrderName(l, order), "</option>");
  }
  absl::StrAppend(&content,
                  "</select></div>\n<div class=\"check\"><input type=\"checkbox\" id=\"desc\" "
                  "name=\"desc\" value=\"1\"",
                  q.descending ? " checked" : "", "><label for=\"desc\">",
                  T(l, "Omgekeerde volgorde", "Reverse order"),
                  "</label></div>\n<button type=\"submit\">", T(l, "Toepassen", "Apply"),
                  "</button>\n</form>\n");
  if (list.placements_size() == 0) {
    absl::StrAppend(&content, "<p>",
                    T(l, "Er zijn geen plaatsingen die aan deze keuze voldoen.",
                      "No placements match this choice."),
                    "</p>\n");
  } else {
    const int page_number = static_cast<int>(q.prev.size()) + (q.page.empty() ? 1 : 2);
    absl::StrAppend(
        &content, "<table class=\"placements\">\n<caption>", list.total(),
        T(l, " plaatsingen", " placements"),
        list.total() > list.placements_size()
            ? absl::StrCat(T(l, ", pagina ", ", page "), q.page.empty() ? 1 : page_number)
            : "",
        T(l, ", gesorteerd op ", ", sorted by "), OrderName(l, q.order),
        "</caption>\n<thead><tr><th scope=\"col\">", T(l, "Plaatsing", "Placement"),
        "</th><th scope=\"col\">", T(l, "Status", "Status"), "</th><th scope=\"col\">",
        T(l, "Contract", "Contract"), "</th><th scope=\"col\">",
        T(l, "Vraagt aandacht", "Needs attention"), "</th></tr></thead>\n<tbody>\n");
    for (const v1::PlacementSummary& p : list.placements()) {
      absl::StrAppend(&content, "<tr><th scope=\"row\"><a href=\"/plaatsingen/",
                      UrlEncode(p.case_id()), "\">", Html(p.case_id()), "</a></th><td>",
                      LevelBadge(l, p.level()),
                      p.closed() ? T(l, " (afgesloten)", " (closed)") : "", "</td><td>",
                      Contract(l, p), "</td><td>");
      if (p.attention_size() == 0) {
        absl::StrAppend(&content, T(l, "Niets", "Nothing"));
      } else {
        absl::StrAppend(&content, "<ul>");
        for (const auto& a : p.attention())
          absl::StrAppend(&content, "<li>", Html(a.text()), "</li>");
        absl::StrAppend(&content, "</ul>");
      }
      absl::StrAppend(&content, "</td></tr>\n");
    }
    absl::StrAppend(&content, "</tbody>\n</table>\n");
  }
  // Paging: back along the tokens seen, on with the server's.
  if (!q.page.empty() || !list.next_page_token().empty()) {
    absl::StrAppend(&content, "<nav class=\"pages\" aria-label=\"",
                    T(l, "Paginering", "Pagination"), "\"><ul>");
    if (!q.page.empty()) {
      ListQuery back = q;
      back.page = q.prev.empty() ? "" : q.prev.back();
      if (!back.prev.empty()) back.prev.pop_back();
      absl::StrAppend(&content, "<li><a href=\"/plaatsingen?", Html(QueryString(back)),
                      "\" rel=\"prev\">", T(l, "Vorige pagina", "Previous page"), "</a></li>");
    }
    if (!list.next_page_token().empty()) {
      ListQuery next = q;
      if (!q.page.empty()) next.prev.push_back(q.page);
      if (q.page.empty() && !q.prev.empty()) next.prev.clear();
      next.page = list.next_page_token();
      absl::StrAppend(&content, "<li><a href=\"/plaatsingen?", Html(QueryString(next)),
                      "\" rel=\"next\">", T(l, "Volgende pagina", "Next page"), "</a></li>");
    }
    absl::StrAppend(&content, "</ul></nav>\n");
  }
  return Layout(f, content);
}

std::string PlacementPage(const Frame& f, const std::string& case_id, const v1::CaseStatus& status,
                          const v1::Timeline& timeline, const v1::PlacementSummary* summary) {
  const Lang l = f.lang;
  std::string content = absl::StrCat(
      "<nav class=\"crumbs\" aria-label=\"", T(l, "Kruimelpad", "Breadcrumb"),
      "\"><a href=\"/plaatsingen\">", T(l, "Mijn plaatsingen", "My placements"), "</a></nav>\n<h1>",
      T(l, "Plaatsing ", "Placement "), Html(case_id),
      "</h1>\n<section aria-labelledby=\"status-h\">\n<h2 id=\"status-h\">",
      T(l, "Status op ", "Status on "), Date(l, status.as_of()), "</h2>\n<p class=\"level-line\">",
      LevelBadge(l, status.level()), "</p>\n<h3>", T(l, "Waarom", "Why"), "</h3>\n");
  if (status.reasons_size() == 0) {
    absl::StrAppend(&content, "<p>",
                    T(l, "Er zijn geen bijzonderheden die u kunt inzien.",
                      "There is nothing in particular you can see."),
                    "</p>\n");
  } else {
    absl::StrAppend(&content, "<ul class=\"reasons\">");
    for (const auto& r : status.reasons())
      absl::StrAppend(&content, "<li>", Html(r.text()), "</li>");
    absl::StrAppend(&content, "</ul>\n");
  }
  absl::StrAppend(&content, "<h3>", T(l, "Vraagt aandacht", "Needs attention"), "</h3>\n");
  if (summary == nullptr || summary->attention_size() == 0) {
    absl::StrAppend(
        &content, "<p>",
        T(l, "Er loopt binnen een half jaar geen contract, subsidie of no-riskpolis af.",
          "No contract, subsidy or no-risk cover ends within half a year."),
        "</p>\n");
  } else {
    absl::StrAppend(&content, "<ul class=\"attention\">");
    for (const auto& a : summary->attention()) {
      absl::StrAppend(&content, "<li>", Html(a.text()), "</li>");
    }
    absl::StrAppend(&content, "</ul>\n");
  }
  if (summary != nullptr) {
    absl::StrAppend(&content, "<p>", T(l, "Contract: ", "Contract: "), Contract(l, *summary),
                    "</p>\n");
  }
  absl::StrAppend(&content, "<p><a class=\"button\" href=\"/plaatsingen/", UrlEncode(case_id),
                  "/contract\">", T(l, "Contractwijziging vastleggen", "Record a contract change"),
                  "</a></p>\n</section>\n<section aria-labelledby=\"timeline-h\">\n"
                  "<h2 id=\"timeline-h\">",
                  T(l, "Tijdlijn", "Timeline"), "</h2>\n");
  if (timeline.entries_size() == 0) {
    absl::StrAppend(&content, "<p>", T(l, "Nog geen gebeurtenissen.", "No events yet."), "</p>\n");
  } else {
    absl::StrAppend(&content, "<ol class=\"timeline\" id=\"timeline\">\n");
    for (const auto& e : timeline.entries()) {
      absl::StrAppend(&content, "<li>", Date(l, e.occurred_on()), " <span class=\"title\">",
                      Html(e.title()), "</span>",
                      e.employer_wide()
                          ? absl::StrCat(" <span class=\"tag\">",
                                         T(l, "hele organisatie", "whole organisation"), "</span>")
                          : "",
                      "</li>\n");
    }
    absl::StrAppend(&content, "</ol>\n");
  }
  absl::StrAppend(&content, "</section>\n");
  return Layout(f, content);
}

std::string ContractPage(const Frame& f, const std::string& case_id, const ContractForm& form) {
  const Lang l = f.lang;
  auto error_of = [&](const std::string& field) -> const ContractForm::Error* {
    for (const auto& e : form.errors) {
      if (e.field == field) return &e;
    }
    return nullptr;
  };
  std::string content =
      absl::StrCat("<nav class=\"crumbs\" aria-label=\"", T(l, "Kruimelpad", "Breadcrumb"),
                   "\"><a href=\"/plaatsingen\">", T(l, "Mijn plaatsingen", "My placements"),
                   "</a> › <a href=\"/plaatsingen/", UrlEncode(case_id), "\">",
                   T(l, "Plaatsing ", "Placement "), Html(case_id), "</a></nav>\n<h1>",
                   T(l, "Contractwijziging vastleggen", "Record a contract change"), "</h1>\n");
  if (!form.errors.empty()) {
    absl::StrAppend(&content,
                    "<div class=\"error-summary\" role=\"alert\" aria-labelledby=\"errors-h\" "
                    "tabindex=\"-1\" id=\"errors\" autofocus>\n<h2 id=\"errors-h\">",
                    T(l, "Controleer het formulier", "Please check the form"), "</h2>\n<ul>");
    for (const auto& e : form.errors) {
      const std::string target =
          e.field.empty() ? "" : (e.field == "contract" ? "contract-permanent" : e.field);
      if (target.empty()) {
        absl::StrAppend(&content, "<li>", Html(e.message), "</li>");
      } else {
        absl::StrAppend(&content, "<li><a href=\"#", target, "\">", Html(e.message), "</a></li>");
      }
    }
    absl::StrAppend(&content, "</ul>\n</div>\n");
  }
  absl::StrAppend(&content, "<p>", T(l, "Plaatsing ", "Placement "), Html(case_id),
                  T(l, ". Alle velden zijn verplicht, behalve de einddatum bij een vast contract.",
                    ". Every field is required, but the end date with a permanent contract."),
                  "</p>\n<form method=\"post\" action=\"/plaatsingen/", UrlEncode(case_id),
                  "/contract\" novalidate>\n<input type=\"hidden\" name=\"csrf\" value=\"",
                  Html(f.csrf), "\">\n<input type=\"hidden\" name=\"event_id\" value=\"",
                  Html(form.event_id), "\">\n<input type=\"hidden\" name=\"revision\" value=\"",
                  Html(form.revision), "\">\n");
  // Contract type: radios in a fieldset.
  const ContractForm::Error* contract_error = error_of("contract");
  absl::StrAppend(&content, "<fieldset class=\"field", contract_error ? " invalid" : "", "\"",
                  contract_error ? " aria-describedby=\"contract-error\"" : "", ">\n<legend>",
                  T(l, "Soort contract", "Type of contract"), "</legend>\n");
  if (contract_error) {
    absl::StrAppend(&content, "<p class=\"field-error\" id=\"contract-error\">",
                    Html(contract_error->message), "</p>\n");
  }
  for (const auto& [value, nl, en] :
       {std::tuple{"permanent", "Vast contract", "Permanent contract"},
        std::tuple{"fixed_term", "Tijdelijk contract", "Fixed-term contract"}}) {
    absl::StrAppend(&content,
                    "<div class=\"check\"><input type=\"radio\" name=\"contract\" id=\"contract-",
                    value, "\" value=\"", value, "\"", form.contract == value ? " checked" : "",
                    "><label for=\"contract-", value, "\">", T(l, nl, en), "</label></div>\n");
  }
  absl::StrAppend(&content, "</fieldset>\n");
  auto input = [&](const std::string& id, const char* label_nl, const char* label_en,
                   const char* hint_nl, const char* hint_en, const std::string& type,
                   const std::string& value, const std::string& extra) {
    const ContractForm::Error* e = error_of(id);
    std::string described = absl::StrCat(id, "-hint", e ? absl::StrCat(" ", id, "-error") : "");
    absl::StrAppend(&content, "<div class=\"field", e ? " invalid" : "", "\">\n<label for=\"", id,
                    "\">", T(l, label_nl, label_en), "</label>\n<p class=\"hint\" id=\"", id,
                    "-hint\">", T(l, hint_nl, hint_en), "</p>\n");
    if (e) {
      absl::StrAppend(&content, "<p class=\"field-error\" id=\"", id, "-error\">", Html(e->message),
                      "</p>\n");
    }
    absl::StrAppend(&content, "<input type=\"", type, "\" id=\"", id, "\" name=\"", id,
                    "\" value=\"", Html(value), "\" aria-describedby=\"", described, "\"",
                    e ? " aria-invalid=\"true\"" : "", extra, ">\n</div>\n");
  };
  input("contract_end", "Einddatum", "End date",
        "Alleen bij een tijdelijk contract, als jjjj-mm-dd. Bijvoorbeeld 2027-12-31.",
        "For a fixed-term contract only, as yyyy-mm-dd. For example 2027-12-31.", "text",
        form.contract_end, " autocomplete=\"off\" class=\"date\"");
  input("hours", "Uren per week", "Hours per week", "Bijvoorbeeld 32 of 24,5.",
        "For example 32 or 24.5.", "text", form.hours,
        " inputmode=\"decimal\" autocomplete=\"off\" class=\"short\"");
  input("occurred_on", "Ingangsdatum", "Effective date",
        "De dag waarop de wijziging ingaat of inging, als jjjj-mm-dd. Bijvoorbeeld 2026-12-01.",
        "The day the change takes or took effect, as yyyy-mm-dd. For example 2026-12-01.", "text",
        form.occurred_on, " autocomplete=\"off\" class=\"date\"");
  absl::StrAppend(&content, "<div class=\"actions\"><button type=\"submit\">",
                  T(l, "Vastleggen", "Record"), "</button> <a href=\"/plaatsingen/",
                  UrlEncode(case_id), "\">", T(l, "Annuleren", "Cancel"), "</a></div>\n</form>\n");
  return Layout(f, content);
}

}  // namespace duurzaam::portal
