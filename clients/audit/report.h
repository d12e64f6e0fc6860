// One case's audit report: HTML (print it to PDF with Chromium) with the
// verification results, the status now in both clocks, the status history
// as an SVG chart drawn from the data and as a table, the timeline, and a
// summary of who read the case. Dutch or English.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "clients/audit/evidence.h"
#include "domain/history.h"

namespace duurzaam::audit {

struct ReportInput {
  std::string case_id;
  const ReplayedCase* replay = nullptr;
  const Verification* verification = nullptr;
  domain::Date on;                                        // the report's day: "status on"
  std::vector<domain::LevelChange> history;               // as now known
  std::vector<domain::LevelChange> history_known;         // as known
  const v1::ListAccessRecordsResponse* access = nullptr;  // nullptr: not read
  std::string access_error;                               // why it was not read
  std::string generated_at;                               // a readable time, shown in the footer
  std::string source;  // "server 127.0.0.1:50051" or "bundle case.dzb"
  bool english = false;
};

// The status-history chart: a step line per clock over the case's life,
// levels as bands, years on the axis. Self-contained SVG with a title and
// a description (the table in the report carries the same data).
std::string StatusChartSvg(const std::vector<domain::LevelChange>& now_known,
                           const std::vector<domain::LevelChange>& as_known, domain::Date until,
                           bool english);

std::string ReportHtml(const ReportInput& input);

// Short words for the CLI and the report.
const char* LevelWord(domain::StatusLevel level, bool english);
std::string Html(std::string_view text);

}  // namespace duurzaam::audit
