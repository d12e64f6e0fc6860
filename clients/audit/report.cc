#include "clients/audit/report.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "clients/lib/text.h"
#include "codec/eventstore_codec.h"
#include "domain/timeline.h"
#include "transparency/merkle.h"

namespace duurzaam::audit {
namespace {

const char* T(bool en, const char* nl, const char* english) { return en ? english : nl; }

int Band(domain::StatusLevel level) {  // 0 = top of the chart
  switch (level) {
    case domain::StatusLevel::kSustainable:
      return 0;
    case domain::StatusLevel::kVulnerable:
      return 1;
    case domain::StatusLevel::kAtRisk:
      return 2;
    case domain::StatusLevel::kEnded:
      return 3;
  }
  return 1;
}

std::string When(int64_t micros) {
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::FromUnixMicros(micros), absl::UTCTimeZone());
}

std::string Join(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string out;
  for (const std::string& s : items) absl::StrAppend(&out, out.empty() ? "" : sep, s);
  return out;
}

// The day's x position in the chart.
struct Axis {
  domain::Date from, until;
  double left = 130, width = 560;
  double X(domain::Date d) const {
    const double span = std::max<double>(1, until - from);
    return left + width * static_cast<double>(d - from) / span;
  }
};

std::string StepPath(const std::vector<domain::LevelChange>& changes, const Axis& axis, double top,
                     double band_h) {
  std::string d;
  for (size_t i = 0; i < changes.size(); ++i) {
    const double x = axis.X(changes[i].on);
    const double y = top + band_h * (Band(changes[i].to) + 0.5);
    if (i == 0) {
      absl::StrAppendFormat(&d, "M%.1f %.1f", x, y);
    } else {
      absl::StrAppendFormat(&d, " H%.1f V%.1f", x, y);
    }
  }
  if (!changes.empty()) absl::StrAppendFormat(&d, " H%.1f", axis.X(axis.until));
  return d;
}

}  // namespace

const char* LevelWord(domain::StatusLevel level, bool en) {
  switch (level) {
    case domain::StatusLevel::kSustainable:
      return T(en, "duurzaam", "sustainable");
    case domain::StatusLevel::kVulnerable:
      return T(en, "kwetsbaar", "vulnerable");
    case domain::StatusLevel::kAtRisk:
      return T(en, "risico", "at risk");
    case domain::StatusLevel::kEnded:
      return T(en, "beëindigd", "ended");
  }
  return "?";
}

std::string Html(std::string_view text) { return client::HtmlEscape(text); }

std::string StatusChartSvg(const std::vector<domain::LevelChange>& now_known,
                           const std::vector<domain::LevelChange>& as_known, domain::Date until,
                           bool en) {
  const double top = 24, band_h = 40, height = top + 4 * band_h + 40;
  Axis axis;
  axis.until = until;
  axis.from = until;
  if (!now_known.empty()) axis.from = std::min(axis.from, now_known.front().on);
  if (!as_known.empty()) axis.from = std::min(axis.from, as_known.front().on);
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 720 %.0f\" width=\"720\" "
      "height=\"%.0f\" role=\"img\" aria-labelledby=\"chart-title chart-desc\" "
      "font-family=\"Liberation Sans, Arial, sans-serif\" font-size=\"13\">\n",
      height, height);
  absl::StrAppend(
      &svg, "<title id=\"chart-title\">", T(en, "Statusverloop", "Status history"),
      "</title>\n<desc id=\"chart-desc\">",
      Html(absl::StrCat(
          T(en, "Niveau van de plaatsing per dag van ", "Level of the placement per day from "),
          domain::FormatDate(axis.from), T(en, " tot ", " to "), domain::FormatDate(until),
          T(en,
            "; doorgetrokken: zoals nu bekend, gestreept: zoals toen bekend. De tabel hieronder "
            "geeft dezelfde gegevens.",
            "; solid: as now known, dashed: as known then. The table below gives the same data."))),
      "</desc>\n");
  const domain::StatusLevel levels[] = {domain::StatusLevel::kSustainable,
                                        domain::StatusLevel::kVulnerable,
                                        domain::StatusLevel::kAtRisk, domain::StatusLevel::kEnded};
  const char* fills[] = {"#e6f4ea", "#fff4d6", "#fde2e1", "#ececec"};
  for (int b = 0; b < 4; ++b) {
    absl::StrAppendFormat(
        &svg,
        "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"%s\"/>"
        "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\" fill=\"#1a1a1a\">%s</text>\n",
        axis.left, top + b * band_h, axis.width, band_h, fills[b], axis.left - 8,
        top + b * band_h + band_h / 2 + 4, Html(LevelWord(levels[b], en)));
  }
  // Year ticks.
  for (int y = axis.from.year() + 1; y <= until.year(); ++y) {
    const double x = axis.X(domain::Date(y, 1, 1));
    absl::StrAppendFormat(
        &svg,
        "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#767676\" "
        "stroke-width=\"1\"/><text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" "
        "fill=\"#1a1a1a\">%d</text>\n",
        x, top, x, top + 4 * band_h + 4, x, top + 4 * band_h + 20, y);
  }
  absl::StrAppendFormat(
      &svg,
      "<text x=\"%.0f\" y=\"%.0f\" fill=\"#1a1a1a\">%s</text>"
      "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\" fill=\"#1a1a1a\">%s</text>\n",
      axis.left, top + 4 * band_h + 36, domain::FormatDate(axis.from), axis.left + axis.width,
      top + 4 * band_h + 36, domain::FormatDate(until));
  // Legend.
  absl::StrAppendFormat(
      &svg,
      "<line x1=\"%.0f\" y1=\"8\" x2=\"%.0f\" y2=\"8\" stroke=\"#00508c\" stroke-width=\"3\"/>"
      "<text x=\"%.0f\" y=\"12\" fill=\"#1a1a1a\">%s</text>"
      "<line x1=\"%.0f\" y1=\"8\" x2=\"%.0f\" y2=\"8\" stroke=\"#6b3fa0\" stroke-width=\"2\" "
      "stroke-dasharray=\"6 4\"/><text x=\"%.0f\" y=\"12\" fill=\"#1a1a1a\">%s</text>\n",
      axis.left, axis.left + 24, axis.left + 30, T(en, "zoals nu bekend", "as now known"),
      axis.left + 200, axis.left + 224, axis.left + 230,
      T(en, "zoals toen bekend", "as known then"));
  if (!now_known.empty()) {
    absl::StrAppend(&svg, "<path d=\"", StepPath(now_known, axis, top, band_h),
                    "\" fill=\"none\" stroke=\"#00508c\" stroke-width=\"3\"/>\n");
  }
  // Drawn on top, a little lower, so both show where they agree.
  if (!as_known.empty()) {
    absl::StrAppend(&svg, "<path d=\"", StepPath(as_known, axis, top + 6, band_h),
                    "\" fill=\"none\" stroke=\"#6b3fa0\" stroke-width=\"2\" "
                    "stroke-dasharray=\"6 4\"/>\n");
  }
  svg += "</svg>\n";
  return svg;
}

std::string ReportHtml(const ReportInput& in) {
  const bool en = in.english;
  const ReplayedCase& replay = *in.replay;
  const Verification& v = *in.verification;
  const std::vector<const domain::Event*> joined = replay.Joined();
  const domain::StatusPair now = domain::StatusBothClocks(joined, in.on);

  std::string h = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"", en ? "en" : "nl", "\">\n<head>\n<meta charset=\"utf-8\">\n",
      "<title>", Html(absl::StrCat(T(en, "Auditrapport zaak ", "Audit report case "), in.case_id)),
      "</title>\n<style>\n"
      "body{font-family:'Liberation Sans',Arial,sans-serif;color:#1a1a1a;background:#fff;"
      "max-width:60rem;margin:1.5rem auto;padding:0 1rem;line-height:1.45}\n"
      "h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:2px solid #00508c}\n"
      "table{border-collapse:collapse;width:100%;margin:.5rem 0}"
      "th,td{border:1px solid #767676;padding:.3rem .5rem;text-align:left;vertical-align:top}"
      "th{background:#f0f4f8}td:first-child{white-space:nowrap}\n.ok{color:#1e6b30;font-weight:"
      "bold}.bad{color:#a4000f;font-weight:bold}\n"
      ".note{color:#3d3d3d}code{font-size:.9em;word-break:break-all}\n"
      "@media print{h2{break-after:avoid}tr{break-inside:avoid}}\n"
      "</style>\n</head>\n<body>\n<main>\n<h1>",
      Html(absl::StrCat(T(en, "Auditrapport zaak ", "Audit report case "), in.case_id)), "</h1>\n");
  absl::StrAppend(&h, "<p class=\"note\">", T(en, "Bron: ", "Source: "), Html(in.source), ". ",
                  T(en, "Opgesteld: ", "Generated: "), Html(in.generated_at), ". ",
                  T(en, "Status op ", "Status on "), domain::FormatDate(in.on), ".</p>\n");

  // Verification.
  absl::StrAppend(&h, "<h2>", T(en, "Verificatie", "Verification"), "</h2>\n<p>");
  if (v.ok()) {
    absl::StrAppend(
        &h, "<span class=\"ok\">", T(en, "Geslaagd", "Passed"), "</span>: ",
        Html(absl::StrCat(v.records,
                          T(en, " vastleggingen van de zaak en ", " records of the case and "),
                          v.related,
                          T(en, " verwante vastleggingen zijn opgenomen in het logboek van ",
                            " related records are included in the log of "),
                          v.origin, T(en, " met ", " of "), v.tree_size,
                          T(en, " vastleggingen, ondertekend met de vastgepinde sleutel.",
                            " records, signed with the pinned key."))));
  } else {
    const Check* bad = v.FirstFailure();
    absl::StrAppend(
        &h, "<span class=\"bad\">", T(en, "Mislukt", "Failed"), "</span>: ",
        Html(bad ? absl::StrCat(bad->Item(en), ": ", bad->Detail(en)) : std::string("")));
  }
  // One row per kind of check; every failed check on a row of its own.
  absl::StrAppend(&h, "</p>\n<table>\n<caption>", T(en, "Controles", "Checks"),
                  "</caption>\n<thead><tr><th scope=\"col\">", T(en, "Onderdeel", "Item"),
                  "</th><th scope=\"col\">", T(en, "Uitkomst", "Outcome"),
                  "</th><th scope=\"col\">", T(en, "Toelichting", "Detail"),
                  "</th></tr></thead>\n<tbody>\n");
  auto row = [&h, en](const std::string& item, bool ok, const std::string& detail) {
    absl::StrAppend(&h, "<tr><td>", Html(item), "</td><td class=\"", ok ? "ok" : "bad", "\">",
                    ok ? T(en, "in orde", "ok") : T(en, "FOUT", "FAILED"), "</td><td>",
                    Html(detail), "</td></tr>\n");
  };
  if (v.tree_size > 0) {
    row(T(en, "Checkpoint", "Checkpoint"), true,
        absl::StrCat(
            T(en, "ondertekend met de vastgepinde sleutel van ", "signed with the pinned key of "),
            v.origin, "; ", v.tree_size, T(en, " vastleggingen; wortel ", " records; root "),
            transparency::HexOf(v.root)));
  }
  if (v.records > 0) {
    row(absl::StrCat(T(en, "Vastleggingen van de zaak (", "The case's records ("), v.records, ")"),
        true,
        T(en, "elk opgenomen in de boom (inclusiebewijs), revisies zonder gat",
          "each included in the tree (inclusion proof), revisions without a gap"));
  }
  if (v.related > 0) {
    row(absl::StrCat(T(en, "Verwante vastleggingen (", "Related records ("), v.related, ")"), true,
        T(en, "van de werkgever van de zaak of haar wissing, elk opgenomen in de boom",
          "of the case's employer or its erasure, each included in the tree"));
  }
  for (const Check& c : v.checks) {
    if (!c.ok) row(c.Item(en), false, c.Detail(en));
  }
  absl::StrAppend(&h, "</tbody>\n</table>\n");

  absl::StrAppend(
      &h, "<p class=\"note\">",
      T(en,
        "Volledigheid: de bewijzen tonen dat deze vastleggingen in het logboek staan zoals "
        "ze zijn, niet dat er geen latere zijn; <code>duurzaam-audit verify-log</code> "
        "controleert het hele logboek.",
        "Completeness: the proofs show that these records are in the log as they are, not that "
        "there are no later ones; <code>duurzaam-audit verify-log</code> checks the whole log."),
      "</p>\n");
  if (!v.ok()) {
    absl::StrAppend(&h, "<p class=\"bad\" role=\"alert\">",
                    T(en,
                      "Let op: de verificatie is mislukt. Wat hieronder staat, komt uit "
                      "vastleggingen die niet konden worden geverifieerd: vertrouw het niet.",
                      "Warning: verification failed. What follows comes from records that could "
                      "not be verified: do not rely on it."),
                    "</p>\n");
  }

  // Status now, both clocks.
  absl::StrAppend(&h, "<h2>", T(en, "Status op ", "Status on "), domain::FormatDate(in.on),
                  "</h2>\n");
  auto status_block = [&](const char* heading, const domain::CaseStatus& s) {
    absl::StrAppend(&h, "<h3>", heading, ": ", Html(LevelWord(s.level, en)),
                    "</h3>\n<p class=\"note\">", T(en, "Regels versie ", "Ruleset version "),
                    Html(s.ruleset_version), "</p>\n<ul>\n");
    for (const domain::Reason& r : s.reasons) {
      absl::StrAppend(&h, "<li><code>", Html(r.rule_id), "</code> ",
                      Html(en ? r.sentence.en : r.sentence.nl));
      if (!r.evidence.empty()) {
        absl::StrAppend(&h, " <span class=\"note\">(", T(en, "bewijs: ", "evidence: "),
                        Html(Join(r.evidence)), ")</span>");
      }
      absl::StrAppend(&h, "</li>\n");
    }
    if (s.reasons.empty())
      absl::StrAppend(&h, "<li>", T(en, "geen redenen", "no reasons"), "</li>\n");
    absl::StrAppend(&h, "</ul>\n");
  };
  status_block(T(en, "Zoals nu bekend", "As now known"), now.as_now_known);
  if (now.differ) {
    status_block(T(en, "Zoals toen bekend", "As known then"), now.as_known);
    std::vector<std::string> shown(
        now.late_events.begin(),
        now.late_events.begin() + std::min<size_t>(3, now.late_events.size()));
    std::string more =
        now.late_events.size() > shown.size()
            ? absl::StrCat(T(en, " en ", " and "), now.late_events.size() - shown.size(),
                           T(en, " meer", " more"))
            : "";
    absl::StrAppend(
        &h, "<p>",
        Html(absl::StrCat(
            T(en, "De twee verschillen door ", "The two differ by "), now.late_events.size(),
            T(en, " gebeurtenissen die later zijn vastgelegd: ", " events recorded later: "),
            Join(shown), more)),
        "</p>\n");
  } else {
    absl::StrAppend(
        &h, "<p class=\"note\">",
        T(en, "Zoals toen bekend is de status dezelfde.", "As known then, the status is the same."),
        "</p>\n");
  }

  // History.
  absl::StrAppend(&h, "<h2>", T(en, "Statusverloop", "Status history"), "</h2>\n",
                  StatusChartSvg(in.history, in.history_known, in.on, en));
  auto history_table = [&](const char* caption, const std::vector<domain::LevelChange>& changes) {
    absl::StrAppend(&h, "<table>\n<caption>", caption, "</caption>\n<thead><tr><th scope=\"col\">",
                    T(en, "Datum", "Date"), "</th><th scope=\"col\">", T(en, "Van", "From"),
                    "</th><th scope=\"col\">", T(en, "Naar", "To"), "</th><th scope=\"col\">",
                    T(en, "Oorzaak", "Cause"), "</th><th scope=\"col\">",
                    T(en, "Regels", "Ruleset"), "</th></tr></thead>\n<tbody>\n");
    for (const domain::LevelChange& c : changes) {
      std::vector<std::string> cause;
      if (!c.events.empty()) {
        std::vector<std::string> first(c.events.begin(),
                                       c.events.begin() + std::min<size_t>(3, c.events.size()));
        cause.push_back(
            absl::StrCat(T(en, "gebeurtenissen ", "events "), Join(first),
                         c.events.size() > first.size()
                             ? absl::StrCat(T(en, " en ", " and "), c.events.size() - first.size(),
                                            T(en, " meer", " more"))
                             : ""));
      }
      if (!c.rules_added.empty()) {
        cause.push_back(absl::StrCat(T(en, "regels erbij ", "rules firing "), Join(c.rules_added)));
      }
      if (!c.rules_removed.empty()) {
        cause.push_back(absl::StrCat(T(en, "regels vervallen ", "rules no longer firing "),
                                     Join(c.rules_removed)));
      }
      if (c.ruleset_changed) {
        cause.push_back(T(en, "nieuwe versie van de regels", "a new ruleset version"));
      }
      if (cause.empty()) cause.push_back(T(en, "verstreken tijd", "time passed"));
      absl::StrAppend(&h, "<tr><td>", domain::FormatDate(c.on), "</td><td>",
                      c.first ? "&mdash;" : Html(LevelWord(c.from, en)), "</td><td>",
                      Html(LevelWord(c.to, en)), "</td><td>", Html(Join(cause, "; ")), "</td><td>",
                      Html(c.ruleset_version), "</td></tr>\n");
    }
    absl::StrAppend(&h, "</tbody>\n</table>\n");
  };
  history_table(
      T(en, "Elke wijziging van niveau, zoals nu bekend", "Every change of level, as now known"),
      in.history);
  if (in.history_known.empty()) {
    absl::StrAppend(&h, "<p>",
                    T(en, "Zoals toen bekend: tot deze dag was niets vastgelegd.",
                      "As known then: nothing had been recorded by this day."),
                    "</p>\n");
  } else {
    history_table(
        T(en, "Elke wijziging van niveau, zoals toen bekend (wat op elke dag was vastgelegd)",
          "Every change of level, as known then (what had been recorded by each day)"),
        in.history_known);
  }

  // Timeline.
  absl::StrAppend(&h, "<h2>", T(en, "Tijdlijn", "Timeline"), "</h2>\n");
  if (replay.erasure) {
    absl::StrAppend(&h, "<p>",
                    Html(absl::StrCat(T(en, "De persoonsgegevens van deze zaak zijn gewist op ",
                                        "The personal data of this case was erased on "),
                                      When(replay.erasure->erased_at_micros), " (",
                                      replay.erasure->reason, ").")),
                    "</p>\n");
  }
  absl::StrAppend(&h, "<table>\n<caption>",
                  T(en, "Alle gebeurtenissen zoals vastgelegd", "Every event as recorded"),
                  "</caption>\n<thead><tr><th scope=\"col\">", T(en, "Gebeurd", "Happened"),
                  "</th><th scope=\"col\">", T(en, "Vastgelegd", "Recorded"),
                  "</th><th scope=\"col\">", T(en, "Door", "By"), "</th><th scope=\"col\">",
                  T(en, "Gebeurtenis", "Event"), "</th><th scope=\"col\">",
                  T(en, "Plaats in het logboek", "Log position"), "</th></tr></thead>\n<tbody>\n");
  for (const domain::TimelineEntry& e :
       domain::BuildTimeline(replay.case_events, replay.employer_events)) {
    const RecordMeta* m = replay.MetaOf(*e.event);
    std::string what = en ? e.title.en : e.title.nl;
    if (e.employer_wide) what += T(en, " (hele werkgever)", " (employer-wide)");
    if (m != nullptr && m->sealed) {
      what += e.event->personal_data_erased
                  ? T(en, " [persoonsgegevens gewist]", " [personal data erased]")
                  : T(en, " [persoonsgegevens versleuteld]", " [personal data encrypted]");
    }
    absl::StrAppend(
        &h, "<tr><td>", domain::FormatDate(e.event->occurred_on), "</td><td>",
        m ? Html(When(m->recorded_at_micros)) : "", "</td><td>", Html(e.event->recorded_by.id),
        "</td><td>", Html(what), "</td><td>",
        m ? absl::StrCat(m->position, " (", Html(m->stream), " #", m->revision, ")") : "",
        "</td></tr>\n");
  }
  absl::StrAppend(&h, "</tbody>\n</table>\n");
  for (const std::string& u : replay.unreadable) {
    absl::StrAppend(&h, "<p class=\"bad\">", T(en, "Onleesbaar: ", "Unreadable: "), Html(u),
                    "</p>\n");
  }

  // Access.
  absl::StrAppend(&h, "<h2>", T(en, "Wie las wat", "Who read what"), "</h2>\n");
  if (in.access == nullptr) {
    absl::StrAppend(&h, "<p>",
                    T(en, "Het toegangslogboek is niet gelezen: ", "The access log was not read: "),
                    Html(in.access_error), "</p>\n");
  } else {
    struct Row {
      size_t reads = 0;
      int64_t last = 0;
    };
    std::map<std::tuple<std::string, std::string, std::string, std::string>, Row> rows;
    for (const v1::AccessRecord& r : in.access->records()) {
      Row& row = rows[{r.principal(), r.role(), r.via(), r.view()}];
      ++row.reads;
      row.last = std::max(row.last, codec::FromTimestamp(r.read_at()));
    }
    absl::StrAppend(&h, "<p class=\"note\">",
                    T(en,
                      "Het toegangslogboek is wat de server zegt: het valt niet onder de "
                      "bewijzen van het logboek.",
                      "The access log is what the server says: it is not covered by the log's "
                      "proofs."),
                    "</p>\n");
    absl::StrAppend(
        &h, "<table>\n<caption>",
        Html(absl::StrCat(in.access->records_size(), T(en, " keer gelezen, per lezer en weergave",
                                                       " reads, by reader and view"))),
        "</caption>\n<thead><tr><th scope=\"col\">", T(en, "Lezer", "Reader"),
        "</th><th scope=\"col\">", T(en, "Rol", "Role"), "</th><th scope=\"col\">",
        T(en, "Via", "Via"), "</th><th scope=\"col\">", T(en, "Weergave", "View"),
        "</th><th scope=\"col\">", T(en, "Aantal", "Reads"), "</th><th scope=\"col\">",
        T(en, "Laatst", "Last"), "</th></tr></thead>\n<tbody>\n");
    for (const auto& [key, row] : rows) {
      absl::StrAppend(&h, "<tr><td>", Html(std::get<0>(key)), "</td><td>", Html(std::get<1>(key)),
                      "</td><td>", Html(std::get<2>(key)), "</td><td>", Html(std::get<3>(key)),
                      "</td><td>", row.reads, "</td><td>", Html(When(row.last)), "</td></tr>\n");
    }
    absl::StrAppend(&h, "</tbody>\n</table>\n");
  }
  absl::StrAppend(&h, "</main>\n</body>\n</html>\n");
  return h;
}

}  // namespace duurzaam::audit
