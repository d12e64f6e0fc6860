#include "domain/status.h"

#include <gtest/gtest.h>

#include "tests/domain/domain_test_util.h"

namespace duurzaam::domain {
namespace {

using namespace duurzaam::domain::testing;

TEST(CaseStatusTest, WellFollowedPermanentPlacementIsSustainable) {
  CaseStatus s = SustainablePlacement().StatusOn(D(2024, 3, 1));
  EXPECT_EQ(s.level, StatusLevel::kSustainable);
  EXPECT_TRUE(Has(s, "SUSTAINABLE"));
  EXPECT_EQ(s.ruleset_version, CurrentRuleset().version);
  EXPECT_FALSE(s.reasons[0].sentence.nl.empty());
  EXPECT_FALSE(s.reasons[0].sentence.en.empty());
}

// The status is a function of the events and the day alone, compared in
// full and against a known answer.
TEST(CaseStatusTest, TheStatusDependsOnTheEventsAndTheDayOnly) {
  History h = SustainablePlacement();
  const CaseStatus a = h.StatusOn(D(2024, 3, 1));
  EXPECT_EQ(a.level, StatusLevel::kSustainable);  // the known answer
  EXPECT_TRUE(Has(a, "SUSTAINABLE"));
  // The same events built anew, evaluated after other evaluations ran.
  (void)SustainablePlacement().StatusOn(D(2023, 6, 1));
  const CaseStatus b = SustainablePlacement().StatusOn(D(2024, 3, 1));
  EXPECT_EQ(b.level, a.level);
  EXPECT_EQ(b.ruleset_version, a.ruleset_version);
  ASSERT_EQ(b.reasons.size(), a.reasons.size());
  for (size_t i = 0; i < a.reasons.size(); ++i) {
    EXPECT_EQ(b.reasons[i].rule_id, a.reasons[i].rule_id);
    EXPECT_EQ(b.reasons[i].sentence.nl, a.reasons[i].sentence.nl);
    EXPECT_EQ(b.reasons[i].sentence.en, a.reasons[i].sentence.en);
    EXPECT_EQ(b.reasons[i].evidence, a.reasons[i].evidence);
    EXPECT_EQ(b.reasons[i].audience, a.reasons[i].audience);
  }
  ASSERT_EQ(b.watch_items.size(), a.watch_items.size());
  for (size_t i = 0; i < a.watch_items.size(); ++i) {
    EXPECT_EQ(b.watch_items[i].rule_id, a.watch_items[i].rule_id);
  }
  ASSERT_EQ(b.actions.size(), a.actions.size());
  // A different day can give a different answer: the check is not vacuous.
  EXPECT_NE(h.StatusOn(D(2023, 6, 1)).level, a.level);
}

TEST(CaseStatusTest, NoticeGivenIsAtRisk) {
  History h = SustainablePlacement();
  h.Add(D(2024, 2, 1), NoticeGiven{true, D(2024, 3, 31)});
  CaseStatus s = h.StatusOn(D(2024, 3, 1));
  EXPECT_EQ(s.level, StatusLevel::kAtRisk);
  ASSERT_TRUE(Has(s, "AT_RISK.NOTICE_GIVEN"));
  EXPECT_EQ(Find(s, "AT_RISK.NOTICE_GIVEN")->evidence, std::vector<std::string>{h.LastId()});
  EXPECT_FALSE(s.actions.empty());
  EXPECT_EQ(h.StatusOn(D(2024, 1, 31)).level, StatusLevel::kSustainable);  // the day before
}

TEST(CaseStatusTest, FixedTermEndingWithin60DaysIsAtRisk) {
  History h;
  h.Add(D(2023, 1, 1), CaseOpened{"w", "employer:acme", "Twente", "Participatiewet"});
  h.Add(D(2023, 1, 2), Hired{ContractType::kFixedTerm, D(2024, 4, 30), 32, "", ""});
  // 2024-03-01 is 60 days before the end: at risk. One day earlier: not.
  EXPECT_TRUE(Has(h.StatusOn(D(2024, 3, 1)), "AT_RISK.FIXED_TERM_ENDING"));
  CaseStatus before = h.StatusOn(D(2024, 2, 29));
  EXPECT_FALSE(Has(before, "AT_RISK.FIXED_TERM_ENDING"));
  EXPECT_TRUE(Has(before, "VULNERABLE.NOT_PERMANENT"));
}

TEST(CaseStatusTest, SubsidyEndingWithin90DaysWithoutPermanentContractIsAtRisk) {
  History h;
  h.Add(D(2023, 1, 1), CaseOpened{"w", "employer:acme", "Twente", "Participatiewet"});
  h.Add(D(2023, 1, 2), Hired{ContractType::kFixedTerm, D(2025, 12, 31), 32, "", ""});
  h.Add(D(2023, 1, 3), SubsidyGranted{SubsidyKind::kWageCostSubsidy, 60, D(2024, 5, 30)});
  EXPECT_TRUE(Has(h.StatusOn(D(2024, 3, 1)), "AT_RISK.SUBSIDY_ENDING"));    // 90 days
  EXPECT_FALSE(Has(h.StatusOn(D(2024, 2, 29)), "AT_RISK.SUBSIDY_ENDING"));  // 91 days
  // With a permanent contract it is a vulnerability, not a risk.
  h.Add(D(2024, 1, 1), ContractChanged{ContractType::kPermanent, std::nullopt, 32});
  CaseStatus s = h.StatusOn(D(2024, 3, 1));
  EXPECT_FALSE(Has(s, "AT_RISK.SUBSIDY_ENDING"));
}

TEST(CaseStatusTest, SubsidyEndingWithin180DaysIsVulnerable) {
  History h = SustainablePlacement();
  h.Add(D(2023, 6, 2), SubsidyGranted{SubsidyKind::kWageCostSubsidy, 70, D(2024, 8, 28)});
  EXPECT_TRUE(Has(h.StatusOn(D(2024, 3, 1)), "VULNERABLE.SUBSIDY_ENDING"));  // 180 days
  CaseStatus before = h.StatusOn(D(2024, 2, 29));                            // 181 days
  EXPECT_EQ(before.level, StatusLevel::kSustainable);
  bool watched = false;
  for (const auto& w : before.watch_items) watched |= w.rule_id == "WATCH.SUBSIDY_END";
  EXPECT_TRUE(watched) << "sustainable, but the subsidy end is a watch item";
}

TEST(CaseStatusTest, ReorganisationWithoutFollowUpFor30DaysIsAtRisk) {
  History h = SustainablePlacement();
  h.Add(D(2024, 1, 20), OrganisationChanged{OrganisationChangeKind::kReorganisation, "merger"});
  CaseStatus s = h.StatusOn(D(2024, 2, 20));  // 31 days
  EXPECT_EQ(s.level, StatusLevel::kAtRisk);
  const Reason* r = Find(s, "AT_RISK.DISRUPTION_UNADDRESSED");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->audience, Audience::kEmployer);
  EXPECT_NE(r->sentence.en.find("2024-01-20"), std::string::npos) << r->sentence.en;
  bool assess_fit = false;
  for (const auto& a : s.actions) assess_fit |= a.text.en.find("assess fit") != std::string::npos;
  EXPECT_TRUE(assess_fit);
  EXPECT_FALSE(Has(h.StatusOn(D(2024, 2, 19)), "AT_RISK.DISRUPTION_UNADDRESSED"));  // 30 days
}

TEST(CaseStatusTest, FollowedUpDisruptionIsVulnerableForSixMonths) {
  History h = SustainablePlacement();
  h.Add(D(2024, 1, 20), OrganisationChanged{OrganisationChangeKind::kManagementChange, "new boss"});
  h.Add(D(2024, 2, 1), InterventionStarted{InterventionKind::kCoaching, "coach employer", ""});
  CaseStatus s = h.StatusOn(D(2024, 3, 1));
  EXPECT_EQ(s.level, StatusLevel::kVulnerable);
  EXPECT_TRUE(Has(s, "VULNERABLE.RECENT_DISRUPTION"));
  EXPECT_FALSE(Has(h.StatusOn(D(2024, 7, 21)), "VULNERABLE.RECENT_DISRUPTION"));  // 183 days
  EXPECT_TRUE(Has(h.StatusOn(D(2024, 7, 20)), "VULNERABLE.RECENT_DISRUPTION"));   // 182 days
}

TEST(CaseStatusTest, PrivateLifeReasonsAreRestricted) {
  History h = SustainablePlacement();
  h.Add(D(2024, 1, 20), PrivateLifeChanged{"divorce"});
  CaseStatus s = h.StatusOn(D(2024, 2, 25));
  const Reason* r = Find(s, "AT_RISK.DISRUPTION_UNADDRESSED");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->audience, Audience::kRestricted);
  EXPECT_EQ(r->sentence.en.find("divorce"), std::string::npos) << "no details in reasons";
}

TEST(CaseStatusTest, TwoDisruptionsWithin12MonthsAreAtRisk) {
  History h = SustainablePlacement();
  h.Add(D(2023, 3, 1), SocietalDisruption{"pandemic measures"});
  h.Add(D(2023, 3, 5), ContactMoment{ContactKind::kPhone, "call"});
  h.Add(D(2024, 2, 1), OrganisationChanged{OrganisationChangeKind::kRelocation, "moved"});
  h.Add(D(2024, 2, 2), ContactMoment{ContactKind::kVisit, "visit"});
  EXPECT_TRUE(Has(h.StatusOn(D(2024, 2, 28)), "AT_RISK.REPEATED_DISRUPTIONS"));   // 364 days
  EXPECT_FALSE(Has(h.StatusOn(D(2024, 2, 29)), "AT_RISK.REPEATED_DISRUPTIONS"));  // 365 days
}

TEST(CaseStatusTest, LowIntentionToContinueIsAtRisk) {
  History h = SustainablePlacement();
  auto scores = AllFours();
  scores[Item::kIntentionToContinue] = 3;
  h.Add(D(2024, 2, 1), CheckIn(Respondent::kWorker, scores));
  EXPECT_FALSE(Has(h.StatusOn(D(2024, 3, 1)), "AT_RISK.LOW_INTENTION"));
  scores[Item::kIntentionToContinue] = 2;
  h.Add(D(2024, 2, 2), CheckIn(Respondent::kWorker, scores));
  CaseStatus s = h.StatusOn(D(2024, 3, 1));
  EXPECT_TRUE(Has(s, "AT_RISK.LOW_INTENTION"));
  EXPECT_EQ(Find(s, "AT_RISK.LOW_INTENTION")->audience, Audience::kExpert);
}

TEST(CaseStatusTest, BothScoringFitLowIsAtRiskOneIsNot) {
  History h = SustainablePlacement();
  auto scores = AllFours();
  scores[Item::kFit] = 2;
  h.Add(D(2024, 2, 1), CheckIn(Respondent::kEmployer, scores));
  EXPECT_FALSE(Has(h.StatusOn(D(2024, 3, 1)), "AT_RISK.LOW_FIT"));
  h.Add(D(2024, 2, 2), CheckIn(Respondent::kWorker, scores));
  EXPECT_TRUE(Has(h.StatusOn(D(2024, 3, 1)), "AT_RISK.LOW_FIT"));
}

TEST(CaseStatusTest, PerspectivesDifferingByTwoAreVulnerable) {
  History h = SustainablePlacement();
  auto employer = AllFours(), worker = AllFours();
  employer[Item::kMeaningfulWork] = 5;
  worker[Item::kMeaningfulWork] = 4;
  h.Add(D(2024, 2, 1), CheckIn(Respondent::kEmployer, employer));
  h.Add(D(2024, 2, 1), CheckIn(Respondent::kWorker, worker));
  EXPECT_FALSE(Has(h.StatusOn(D(2024, 3, 1)), "VULNERABLE.PERSPECTIVES_DIFFER"));
  worker[Item::kMeaningfulWork] = 3;
  h.Add(D(2024, 2, 2), CheckIn(Respondent::kWorker, worker));
  EXPECT_TRUE(Has(h.StatusOn(D(2024, 3, 1)), "VULNERABLE.PERSPECTIVES_DIFFER"));
}

TEST(CaseStatusTest, LowGuidanceSelfEfficacyOrCopingIsVulnerable) {
  for (Item item : {Item::kGuidance, Item::kSelfEfficacy, Item::kCoping}) {
    History h = SustainablePlacement();
    auto scores = AllFours();
    scores[item] = 3;
    h.Add(D(2024, 2, 1), CheckIn(Respondent::kWorker, scores));
    EXPECT_FALSE(Has(h.StatusOn(D(2024, 3, 1)), "VULNERABLE.LOW_SUCCESS_FACTOR"));
    scores[item] = 2;
    h.Add(D(2024, 2, 2), CheckIn(Respondent::kWorker, scores));
    EXPECT_TRUE(Has(h.StatusOn(D(2024, 3, 1)), "VULNERABLE.LOW_SUCCESS_FACTOR"));
  }
}

TEST(CaseStatusTest, AbsenceOver6WeeksIsVulnerableOver26WeeksAtRisk) {
  History h = SustainablePlacement();
  h.Add(D(2024, 2, 1), AbsenceReported{});
  EXPECT_FALSE(Has(h.StatusOn(D(2024, 3, 14)), "VULNERABLE.ABSENCE"));   // 42 days
  EXPECT_TRUE(Has(h.StatusOn(D(2024, 3, 15)), "VULNERABLE.ABSENCE"));    // 43 days
  EXPECT_FALSE(Has(h.StatusOn(D(2024, 8, 1)), "AT_RISK.LONG_ABSENCE"));  // 182 days
  EXPECT_TRUE(Has(h.StatusOn(D(2024, 8, 2)), "AT_RISK.LONG_ABSENCE"));   // 183 days
  h.Add(D(2024, 4, 1), AbsenceEnded{});
  EXPECT_FALSE(Has(h.StatusOn(D(2024, 8, 2)), "AT_RISK.LONG_ABSENCE"));
}

TEST(CaseStatusTest, NoCheckInOrContactFor24MonthsIsAtRisk) {
  History h = SustainablePlacement();  // last touch: check-in 2024-01-16
  // Questionnaires lapse first (vulnerable); after 730 days it is a risk.
  EXPECT_FALSE(Has(h.StatusOn(D(2026, 1, 15)), "AT_RISK.NO_CONTACT"));  // 730 days
  EXPECT_TRUE(Has(h.StatusOn(D(2026, 1, 16)), "AT_RISK.NO_CONTACT"));   // 731 days
}

TEST(CaseStatusTest, MissingYearlyQuestionnaireIsVulnerableAfterGrace) {
  History h = SustainablePlacement();               // employer 2024-01-15, worker 2024-01-16
  CaseStatus on_time = h.StatusOn(D(2025, 3, 15));  // 425 days after the employer's
  EXPECT_FALSE(Has(on_time, "VULNERABLE.QUESTIONNAIRE_MISSING"));
  CaseStatus late = h.StatusOn(D(2025, 3, 16));  // 426 days
  EXPECT_TRUE(Has(late, "VULNERABLE.QUESTIONNAIRE_MISSING"));
  EXPECT_NE(Find(late, "VULNERABLE.QUESTIONNAIRE_MISSING")->sentence.en.find("employer"),
            std::string::npos);
}

TEST(CaseStatusTest, EarlyPlacementNeedsContactEveryFourWeeksAndAThreeWayConversation) {
  History h;
  h.Add(D(2024, 1, 1), CaseOpened{"w", "employer:acme", "Twente", "Wajong"});
  h.Add(D(2024, 1, 8), Hired{ContractType::kPermanent, std::nullopt, 20, "", ""});
  // Day 28: nothing due yet for the three-way conversation, one contact due.
  CaseStatus day28 = h.StatusOn(D(2024, 2, 5));
  EXPECT_FALSE(Has(day28, "VULNERABLE.NO_THREE_WAY_CONVERSATION"));
  EXPECT_TRUE(Has(day28, "VULNERABLE.TOO_FEW_EARLY_CONTACTS"));
  EXPECT_FALSE(Has(h.StatusOn(D(2024, 2, 4)), "VULNERABLE.TOO_FEW_EARLY_CONTACTS"));    // day 27
  EXPECT_TRUE(Has(h.StatusOn(D(2024, 2, 6)), "VULNERABLE.NO_THREE_WAY_CONVERSATION"));  // 29
  h.Add(D(2024, 1, 20), ContactMoment{ContactKind::kThreeWayConversation, "driegesprek"});
  CaseStatus fixed = h.StatusOn(D(2024, 2, 6));
  EXPECT_FALSE(Has(fixed, "VULNERABLE.NO_THREE_WAY_CONVERSATION"));
  EXPECT_FALSE(Has(fixed, "VULNERABLE.TOO_FEW_EARLY_CONTACTS"));
  EXPECT_TRUE(Has(fixed, "VULNERABLE.EARLY_PLACEMENT"));
}

TEST(CaseStatusTest, EndedEmploymentIsEnded) {
  History h = SustainablePlacement();
  h.Add(D(2024, 2, 1), EmploymentEnded{EndReason::kResignation});
  CaseStatus s = h.StatusOn(D(2024, 3, 1));
  EXPECT_EQ(s.level, StatusLevel::kEnded);
  EXPECT_TRUE(Has(s, "ENDED.EMPLOYMENT_ENDED"));
  EXPECT_EQ(h.StatusOn(D(2024, 1, 31)).level, StatusLevel::kSustainable);
}

TEST(CaseStatusTest, StatusAsOfADayIgnoresEventsRecordedLater) {
  History h = SustainablePlacement();
  // Recorded on 2024-06-01 about 2024-02-01: on 2024-03-01 nobody knew.
  h.AddRecorded(D(2024, 2, 1), D(2024, 6, 1), NoticeGiven{true, D(2024, 4, 1)});
  EXPECT_EQ(h.StatusOn(D(2024, 3, 1)).level, StatusLevel::kSustainable);
  EXPECT_EQ(h.StatusOn(D(2024, 6, 1)).level, StatusLevel::kAtRisk);
}

TEST(CaseStatusTest, ExpertJudgementIsShownBesideTheRulesUntilItExpires) {
  History h = SustainablePlacement();
  h.Add(D(2024, 2, 1), ExpertJudgement{StatusLevel::kVulnerable, "manager leaving", D(2024, 4, 1)});
  CaseStatus s = h.StatusOn(D(2024, 3, 1));
  EXPECT_EQ(s.level, StatusLevel::kSustainable) << "a judgement never hides the rule output";
  ASSERT_TRUE(s.judgement.has_value());
  EXPECT_EQ(s.judgement->level, StatusLevel::kVulnerable);
  EXPECT_FALSE(h.StatusOn(D(2024, 4, 2)).judgement.has_value());
}

}  // namespace
}  // namespace duurzaam::domain

#include "domain/timeline.h"

namespace duurzaam::domain {
namespace {

using namespace duurzaam::domain::testing;

TEST(TimelineTest, EmployerReorganisationJoinsEveryCaseThereInOrder) {
  History employer;
  employer.Add(D(2022, 6, 1), OrganisationChanged{OrganisationChangeKind::kMerger, "before"});
  employer.Add(D(2024, 1, 20), OrganisationChanged{OrganisationChangeKind::kReorganisation, "x"});
  History placement = SustainablePlacement();
  auto timeline = BuildTimeline(placement.events(), employer.events());
  ASSERT_EQ(timeline.size(), placement.events().size() + 1) << "the 2022 merger predates the case";
  int employer_wide = 0;
  for (size_t i = 0; i < timeline.size(); ++i) {
    if (i > 0) EXPECT_LE(timeline[i - 1].event->occurred_on, timeline[i].event->occurred_on);
    if (timeline[i].employer_wide) {
      ++employer_wide;
      EXPECT_EQ(timeline[i].title.en, "Reorganisation at the employer");
      EXPECT_EQ(timeline[i].title.nl, "Reorganisatie bij de werkgever");
    }
  }
  EXPECT_EQ(employer_wide, 1);
  // And it counts as a disruption for the status.
  auto all = WithEmployerEvents(placement.events(), employer.events());
  CaseStatus s = Evaluate(FoldAsOf(all, D(2024, 3, 1)), D(2024, 3, 1), CurrentRuleset());
  EXPECT_TRUE(Has(s, "AT_RISK.DISRUPTION_UNADDRESSED"));
}

}  // namespace
}  // namespace duurzaam::domain
