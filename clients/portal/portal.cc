#include "clients/portal/portal.h"

#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/lib/error_details.h"
#include "clients/portal/assets.h"
#include "clients/portal/pages.h"
#include "common/mutex.h"
#include "duurzaam/v1/cases.grpc.pb.h"
#include "eventstore/types.h"

namespace duurzaam::portal {
namespace {

constexpr char kSessionCookie[] = "__Host-dz-session";
constexpr char kLoginCookie[] = "__Host-dz-login";
constexpr char kLangCookie[] = "dz-lang";
constexpr char kDraftCookie[] = "__Host-dz-draft";
constexpr int64_t kLoginSeconds = 600;  // a sign-in must come back within this
constexpr size_t kMaxPending = 10000;   // sign-ins on their way at most

std::string Random(size_t bytes = 32) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    std::abort();  // no randomness: never hand out a guessable session
  }
  return Base64Url(raw);
}

bool SameSecret(const std::string& a, const std::string& b) {
  return !a.empty() && a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::map<std::string, std::string> Cookies(const httplib::Request& req) {
  std::map<std::string, std::string> out;
  for (auto [it, end] = req.headers.equal_range("Cookie"); it != end; ++it) {
    for (absl::string_view part : absl::StrSplit(it->second, ';')) {
      part = absl::StripAsciiWhitespace(part);
      const size_t eq = part.find('=');
      if (eq == absl::string_view::npos) continue;
      out.emplace(std::string(part.substr(0, eq)), std::string(part.substr(eq + 1)));
    }
  }
  return out;
}

std::string Cookie(const std::string& name, const std::string& value, int64_t max_age = -1,
                   bool http_only = true) {
  return absl::StrCat(name, "=", value, "; Path=/; Secure", http_only ? "; HttpOnly" : "",
                      "; SameSite=Lax", max_age >= 0 ? absl::StrCat("; Max-Age=", max_age) : "");
}

struct Session {
  std::string csrf;
  SignedIn who;
  int64_t created = 0;
  int64_t last_seen = 0;
};

// A contract form posted after its session had expired: kept (for this
// browser, a while) so the user finds it filled in again after signing in.
struct Draft {
  std::string case_id;
  ContractForm form;
  int64_t created = 0;
};

struct Pending {
  PendingLogin login;
  std::string return_to;
  int64_t created = 0;
};

// A safe place to return to after sign-in or a language switch: a path of
// this portal, never another site ("//evil", "https://...").
std::string LocalPath(const std::string& path) {
  // A path of this portal: "/" then no second "/" or "\" (a browser reads
  // "//host" and "/\host" as another site), and no control character or
  // space anywhere (browsers drop tabs and newlines from a URL, so
  // "/<TAB>/host" would become "//host").
  const bool safe = !path.empty() && path.size() <= 2048 && path[0] == '/' &&
                    (path.size() == 1 || (path[1] != '/' && path[1] != '\\')) &&
                    std::none_of(path.begin(), path.end(), [](char c) {
                      const auto u = static_cast<unsigned char>(c);
                      return u <= 0x20 || u == 0x7f || c == '\\';
                    });
  return safe ? path : "/plaatsingen";
}

// Validates a case id from a URL before it goes anywhere.
bool IsCaseId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

}  // namespace

struct Portal::Impl {
  PortalConfig config;
  std::unique_ptr<OidcClient> oidc;
  std::string public_origin;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Cases::Stub> cases;
  std::unique_ptr<httplib::Server> server;
  std::thread thread;

  Mutex mu;
  std::map<std::string, Session> sessions ABSL_GUARDED_BY(mu);
  std::map<std::string, Pending> pending ABSL_GUARDED_BY(mu);
  std::map<std::string, Draft> drafts ABSL_GUARDED_BY(mu);

  int64_t Now() const { return config.now ? config.now() : absl::ToUnixSeconds(absl::Now()); }

  // ---- sessions -------------------------------------------------------
  std::string NewSession(SignedIn who) {
    const std::string id = Random();
    const int64_t now = Now();
    MutexLock lock(&mu);
    if (sessions.size() >= config.max_sessions) Expire(now);
    if (sessions.size() >= config.max_sessions) sessions.erase(sessions.begin());
    sessions[id] = Session{Random(), std::move(who), now, now};
    return id;
  }
  void Expire(int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::erase_if(sessions, [&](const auto& s) { return !Alive(s.second, now); });
    std::erase_if(pending, [&](const auto& p) { return p.second.created + kLoginSeconds < now; });
  }
  // Sign-ins on their way are few; anyone may start one, so their number is
  // capped (the oldest go first) and only they are looked at here.
  void KeepPendingBounded(int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::erase_if(drafts, [&](const auto& d) { return d.second.created + kLoginSeconds < now; });
    while (drafts.size() >= kMaxPending) drafts.erase(drafts.begin());
    if (pending.size() < kMaxPending) return;
    std::erase_if(pending, [&](const auto& p) { return p.second.created + kLoginSeconds < now; });
    while (pending.size() >= kMaxPending) {
      auto oldest = std::min_element(
          pending.begin(), pending.end(),
          [](const auto& a, const auto& b) { return a.second.created < b.second.created; });
      pending.erase(oldest);
    }
  }
  bool Alive(const Session& s, int64_t now) const {
    return s.last_seen + config.idle_seconds > now && s.created + config.absolute_seconds > now;
  }
  // The live session the request's cookie names (and the request keeps it
  // alive); nullopt when there is none or it has expired.
  std::optional<std::pair<std::string, Session>> SessionOf(const httplib::Request& req,
                                                           bool* expired) {
    *expired = false;
    auto cookies = Cookies(req);
    auto it = cookies.find(kSessionCookie);
    if (it == cookies.end()) return std::nullopt;
    const int64_t now = Now();
    MutexLock lock(&mu);
    auto s = sessions.find(it->second);
    if (s == sessions.end()) {
      *expired = true;  // a cookie the portal no longer knows: it ended
      return std::nullopt;
    }
    if (!Alive(s->second, now)) {
      sessions.erase(s);
      *expired = true;
      return std::nullopt;
    }
    s->second.last_seen = now;
    return std::make_pair(s->first, s->second);
  }

  // ---- page frame -----------------------------------------------------
  Lang LangOf(const httplib::Request& req) const {
    auto cookies = Cookies(req);
    auto it = cookies.find(kLangCookie);
    return it != cookies.end() && it->second == "en" ? Lang::kEn : Lang::kNl;
  }
  Frame FrameFor(const httplib::Request& req, const Session* session, std::string title) const {
    Frame f;
    f.lang = LangOf(req);
    f.title = std::move(title);
    f.path = req.target.empty() ? req.path : req.target;
    if (session != nullptr) {
      f.user_name = session->who.display_name;
      f.organisation = session->who.organisation;
      f.csrf = session->csrf;
    }
    return f;
  }

  void Headers(httplib::Response& res, bool cache) const {
    // Forms post to this portal only (the sign-out's redirect to the
    // provider is a form's redirect too); no scripts, frames or plugins.
    res.set_header("Content-Security-Policy",
                   absl::StrCat("default-src 'none'; style-src 'self'; img-src 'self'; "
                                "form-action 'self' ",
                                oidc->FormOrigins(), "; frame-ancestors 'none'; base-uri 'none'"));
    res.set_header("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("X-Frame-Options", "DENY");
    // same-origin: Chromium sends "Origin: null" on a form post under
    // no-referrer, which the CSRF check would refuse.
    res.set_header("Referrer-Policy", "same-origin");
    res.set_header("Cross-Origin-Opener-Policy", "same-origin");
    res.set_header("Cross-Origin-Resource-Policy", "same-origin");
    res.set_header("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()");
    if (!cache) {
      res.set_header("Cache-Control", "no-store");
      res.set_header("Pragma", "no-cache");
    }
  }

  void Html(httplib::Response& res, int status, const std::string& body) const {
    res.status = status;
    res.set_content(body, "text/html; charset=utf-8");
  }

  void Redirect(httplib::Response& res, const std::string& to) const {
    res.status = 303;
    res.set_header("Location", to);
  }

  // ---- duurzaamd --------------------------------------------------------
  void AsUser(grpc::ClientContext* context, const Session& s) const {
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (config.dev) {
      context->AddMetadata("x-duurzaam-principal",
                           absl::StrCat("employer:", s.who.organisation, "/", s.who.user));
      context->AddMetadata("x-duurzaam-role", "EMPLOYER");
      context->AddMetadata("x-duurzaam-organisation", s.who.organisation);
      context->AddMetadata("x-duurzaam-via", absl::StrCat("portal:", config.name));
      return;
    }
    context->AddMetadata("x-duurzaam-on-behalf-of", s.who.user);
    context->AddMetadata("x-duurzaam-organisation", s.who.organisation);
  }

  // A backend failure as a page (never the server's words about other
  // organisations: the status code decides).
  void BackendError(const httplib::Request& req, httplib::Response& res, const Session& s,
                    const grpc::Status& status) const {
    const Lang l = LangOf(req);
    Frame f = FrameFor(req, &s, T(l, "Fout", "Error"));
    switch (status.error_code()) {
      case grpc::StatusCode::PERMISSION_DENIED:
      case grpc::StatusCode::NOT_FOUND:
        return Html(res, 404,
                    ErrorPage(f, T(l, "Niet gevonden", "Not found"),
                              T(l, "Deze plaatsing bestaat niet of hoort niet bij uw organisatie.",
                                "This placement does not exist or is not at your organisation.")));
      case grpc::StatusCode::UNAUTHENTICATED:
        return Html(res, 403,
                    ErrorPage(f, T(l, "Geen toegang", "No access"),
                              T(l,
                                "Het portaal mag nu niet namens u werken. Neem contact op met "
                                "de beheerder.",
                                "The portal may not act for you now. Please contact the "
                                "administrator.")));
      default:
        return Html(res, 503,
                    ErrorPage(f, T(l, "Even niet bereikbaar", "Temporarily unavailable"),
                              T(l,
                                "De gegevens zijn nu niet bereikbaar. Probeer het over een "
                                "paar minuten opnieuw.",
                                "The data cannot be reached right now. Please try again in a few "
                                "minutes.")));
    }
  }

  // ---- requests ---------------------------------------------------------
  // The session for a page that needs one: else a redirect to sign in.
  std::optional<std::pair<std::string, Session>> Require(const httplib::Request& req,
                                                         httplib::Response& res) {
    bool expired = false;
    auto s = SessionOf(req, &expired);
    if (!s) {
      Redirect(res, absl::StrCat("/?", expired ? "verlopen=1&" : "",
                                 "terug=", UrlEncode(req.target.empty() ? req.path : req.target)));
      if (expired) res.set_header("Set-Cookie", Cookie(kSessionCookie, "", 0));
    }
    return s;
  }

  // The same for a page about one placement (the case id of the path must
  // be a case id, else the page is not found).
  std::optional<std::pair<std::string, Session>> RequireCase(const httplib::Request& req,
                                                             httplib::Response& res) {
    auto s = Require(req, res);
    if (s && !IsCaseId(req.matches[1])) {
      BackendError(req, res, s->second, grpc::Status(grpc::StatusCode::NOT_FOUND, ""));
      return std::nullopt;
    }
    return s;
  }

  // A state-changing request must carry the session's CSRF token and come
  // from this portal's own pages.
  bool CsrfOk(const httplib::Request& req, const Session& s) const {
    const std::string origin = req.get_header_value("Origin");
    if (!origin.empty() && origin != public_origin) return false;
    if (origin.empty()) {
      const std::string referer = req.get_header_value("Referer");
      if (!referer.empty() && !absl::StartsWith(referer, public_origin + "/")) return false;
    }
    return SameSecret(req.get_param_value("csrf"), s.csrf);
  }

  void Refused(const httplib::Request& req, httplib::Response& res, const Session* s) const {
    const Lang l = LangOf(req);
    Html(res, 403,
         ErrorPage(FrameFor(req, s, T(l, "Geweigerd", "Refused")),
                   T(l, "Niet uitgevoerd", "Not done"),
                   T(l,
                     "Dit verzoek kwam niet van een formulier van dit portaal, of het formulier "
                     "was verlopen. Er is niets gewijzigd. Open de pagina opnieuw en probeer het "
                     "nog eens.",
                     "This request did not come from a form of this portal, or the form had "
                     "expired. Nothing was changed. Open the page again and retry.")));
  }

  void Routes();
  void Home(const httplib::Request& req, httplib::Response& res);
  void SignIn(const httplib::Request& req, httplib::Response& res);
  void Callback(const httplib::Request& req, httplib::Response& res);
  void SignOut(const httplib::Request& req, httplib::Response& res);
  void Placements(const httplib::Request& req, httplib::Response& res);
  void Placement(const httplib::Request& req, httplib::Response& res);
  void ContractGet(const httplib::Request& req, httplib::Response& res);
  void ContractPost(const httplib::Request& req, httplib::Response& res);
  void Language(const httplib::Request& req, httplib::Response& res);
  void Statement(const httplib::Request& req, httplib::Response& res);
  std::optional<v1::PlacementSummary> Summary(const Session& s, const std::string& case_id,
                                              Lang lang, grpc::Status* status) const;
};

void Portal::Impl::Home(const httplib::Request& req, httplib::Response& res) {
  bool expired = false;
  if (SessionOf(req, &expired)) return Redirect(res, "/plaatsingen");
  const Lang l = LangOf(req);
  std::string message;
  if (req.has_param("verlopen") || expired) {
    message = T(l, "Uw sessie is verlopen. Log opnieuw in.",
                "Your session has expired. Please sign in again.");
  }
  if (req.has_param("fout")) {
    message =
        T(l, "Inloggen is niet gelukt. Probeer het opnieuw of neem contact op met de beheerder.",
          "Signing in did not succeed. Please retry or contact the administrator.");
  }
  Frame f = FrameFor(req, nullptr, T(l, "Inloggen", "Sign in"));
  if (req.has_param("uitgelogd")) f.notice = T(l, "U bent uitgelogd.", "You have signed out.");
  if (expired) res.set_header("Set-Cookie", Cookie(kSessionCookie, "", 0));
  const std::string back = req.get_param_value("terug");
  Html(res, 200, SignInPage(f, message, back.empty() ? "" : LocalPath(back)));
}

void Portal::Impl::SignIn(const httplib::Request& req, httplib::Response& res) {
  absl::StatusOr<PendingLogin> login = oidc->Begin();
  const Lang l = LangOf(req);
  if (!login.ok()) {
    std::fprintf(stderr, "duurzaam-portal: sign-in cannot start: %s\n",
                 std::string(login.status().message()).c_str());
    return Html(res, 503,
                ErrorPage(FrameFor(req, nullptr, T(l, "Inloggen", "Sign in")),
                          T(l, "Inloggen kan nu niet", "Signing in is not possible now"),
                          T(l,
                            "De inlogdienst is niet bereikbaar. Probeer het over een paar "
                            "minuten opnieuw.",
                            "The sign-in service cannot be reached. Please try again in a few "
                            "minutes.")));
  }
  {
    MutexLock lock(&mu);
    KeepPendingBounded(Now());
    pending[login->state] = Pending{*login, LocalPath(req.get_param_value("terug")), Now()};
  }
  // The browser that started the sign-in is the one that must finish it.
  res.set_header("Set-Cookie", Cookie(kLoginCookie, login->state, kLoginSeconds));
  Redirect(res, login->url);
}

void Portal::Impl::Callback(const httplib::Request& req, httplib::Response& res) {
  const std::string state = req.get_param_value("state");
  auto cookies = Cookies(req);
  std::optional<Pending> p;
  {
    MutexLock lock(&mu);
    auto it = pending.find(state);
    if (it != pending.end()) {
      p = it->second;
      pending.erase(it);  // one use only
    }
  }
  auto fail = [&](const std::string& why) {
    std::fprintf(stderr, "duurzaam-portal: sign-in refused: %s\n",
                 absl::CHexEscape(why.substr(0, 300)).c_str());
    res.set_header("Set-Cookie", Cookie(kLoginCookie, "", 0));
    Redirect(res, "/?fout=1");
  };
  if (!p || !SameSecret(cookies[kLoginCookie], state) || p->created + kLoginSeconds < Now()) {
    return fail("no sign-in of this browser waits for that state");
  }
  if (req.has_param("error")) {
    return fail("the provider answered error " +
                absl::CHexEscape(req.get_param_value("error").substr(0, 100)));
  }
  absl::StatusOr<SignedIn> in = oidc->Finish(req.get_param_value("code"), p->login, Now());
  if (!in.ok()) return fail(std::string(in.status().message()));
  const std::string id = NewSession(*std::move(in));
  res.set_header("Set-Cookie", Cookie(kSessionCookie, id));
  res.headers.emplace("Set-Cookie", Cookie(kLoginCookie, "", 0));
  Redirect(res, p->return_to);
}

void Portal::Impl::SignOut(const httplib::Request& req, httplib::Response& res) {
  bool expired = false;
  auto s = SessionOf(req, &expired);
  if (!s) return Redirect(res, "/?uitgelogd=1");
  if (!CsrfOk(req, s->second)) return Refused(req, res, &s->second);
  {
    MutexLock lock(&mu);
    sessions.erase(s->first);
  }
  res.set_header("Set-Cookie", Cookie(kSessionCookie, "", 0));
  const std::string at_provider = oidc->LogoutUrl(s->second.who.id_token);
  Redirect(res, at_provider.empty() ? "/?uitgelogd=1" : at_provider);
}

std::optional<v1::PlacementSummary> Portal::Impl::Summary(const Session& s,
                                                          const std::string& case_id, Lang lang,
                                                          grpc::Status* status) const {
  v1::ListPlacementsRequest request;
  request.add_case_ids(case_id);
  request.set_language(lang == Lang::kEn ? "en" : "nl");
  v1::PlacementList list;
  grpc::ClientContext context;
  AsUser(&context, s);
  *status = cases->ListPlacements(&context, request, &list);
  if (!status->ok() || list.placements_size() != 1) return std::nullopt;
  return list.placements(0);
}

void Portal::Impl::Placements(const httplib::Request& req, httplib::Response& res) {
  auto s = Require(req, res);
  if (!s) return;
  const Lang l = LangOf(req);
  ListQuery q;
  v1::ListPlacementsRequest request;
  request.set_language(l == Lang::kEn ? "en" : "nl");
  request.set_page_size(config.page_size);
  for (size_t i = 0; i < req.get_param_value_count("level"); ++i) {
    v1::StatusLevel level;
    if (v1::StatusLevel_Parse("STATUS_LEVEL_" + req.get_param_value("level", i), &level) &&
        level != v1::STATUS_LEVEL_UNSPECIFIED) {
      request.add_levels(level);
      q.levels.push_back(level);
    }
  }
  q.order = req.get_param_value("order");
  if (q.order == "case") {
    request.set_order(v1::ListPlacementsRequest::CASE_ID);
  } else if (q.order == "attention") {
    request.set_order(v1::ListPlacementsRequest::ATTENTION_DATE);
  } else {
    q.order = "urgency";
  }
  q.descending = req.get_param_value("desc") == "1";
  request.set_descending(q.descending);
  q.page = req.get_param_value("page");
  request.set_page_token(q.page);
  for (absl::string_view t : absl::StrSplit(req.get_param_value("prev"), ',', absl::SkipEmpty())) {
    q.prev.emplace_back(t);
  }
  v1::PlacementList list;
  grpc::ClientContext context;
  AsUser(&context, s->second);
  grpc::Status status = cases->ListPlacements(&context, request, &list);
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT && !q.page.empty()) {
    // A stale page link: start again at page one with the same choice.
    q.page.clear();
    q.prev.clear();
    return Redirect(res, "/plaatsingen?" + QueryString(q));
  }
  if (!status.ok()) return BackendError(req, res, s->second, status);
  Html(res, 200,
       PlacementsPage(FrameFor(req, &s->second, T(l, "Mijn plaatsingen", "My placements")), q,
                      list));
}

void Portal::Impl::Placement(const httplib::Request& req, httplib::Response& res) {
  auto s = RequireCase(req, res);
  if (!s) return;
  const Lang l = LangOf(req);
  const std::string case_id = req.matches[1];
  const std::string language = l == Lang::kEn ? "en" : "nl";
  v1::GetStatusRequest status_request;
  status_request.set_case_id(case_id);
  status_request.set_language(language);
  v1::CaseStatus status;
  grpc::ClientContext c1;
  AsUser(&c1, s->second);
  grpc::Status got = cases->GetStatus(&c1, status_request, &status);
  if (!got.ok()) return BackendError(req, res, s->second, got);
  v1::GetTimelineRequest timeline_request;
  timeline_request.set_case_id(case_id);
  timeline_request.set_language(language);
  v1::Timeline timeline;
  grpc::ClientContext c2;
  AsUser(&c2, s->second);
  got = cases->GetTimeline(&c2, timeline_request, &timeline);
  if (!got.ok()) return BackendError(req, res, s->second, got);
  std::optional<v1::PlacementSummary> summary = Summary(s->second, case_id, l, &got);
  if (!got.ok()) return BackendError(req, res, s->second, got);
  Frame f = FrameFor(req, &s->second, absl::StrCat(T(l, "Plaatsing ", "Placement "), case_id));
  if (req.get_param_value("vastgelegd") == "1") {
    f.notice =
        T(l, "De contractwijziging is vastgelegd.", "The contract change has been recorded.");
    // The title is what a screen reader reads first on the new page.
    f.title = absl::StrCat(T(l, "Vastgelegd: ", "Recorded: "), f.title);
  }
  Html(res, 200, PlacementPage(f, case_id, status, timeline, summary ? &*summary : nullptr));
}

void Portal::Impl::ContractGet(const httplib::Request& req, httplib::Response& res) {
  auto s = RequireCase(req, res);
  if (!s) return;
  const Lang l = LangOf(req);
  const std::string case_id = req.matches[1];
  // The revision the form is shown at: a change recorded meanwhile is a
  // conflict, not silently overwritten.
  v1::GetTimelineRequest request;
  request.set_case_id(case_id);
  v1::Timeline timeline;
  grpc::ClientContext context;
  AsUser(&context, s->second);
  grpc::Status got = cases->GetTimeline(&context, request, &timeline);
  if (!got.ok()) return BackendError(req, res, s->second, got);
  ContractForm form;
  form.event_id = eventstore::EventId::Random().ToString();
  form.revision = std::to_string(timeline.revision());
  Frame frame =
      FrameFor(req, &s->second, T(l, "Contractwijziging vastleggen", "Record a contract change"));
  // A form its user filled in before the session ended: back as it was.
  auto cookies = Cookies(req);
  if (auto c = cookies.find(kDraftCookie); c != cookies.end()) {
    MutexLock lock(&mu);
    auto d = drafts.find(c->second);
    if (d != drafts.end() && d->second.case_id == case_id) {
      form = d->second.form;
      drafts.erase(d);
      res.set_header("Set-Cookie", Cookie(kDraftCookie, "", 0));
      frame.notice = T(l,
                       "Uw sessie was verlopen. Wat u had ingevuld staat er nog: controleer het en "
                       "leg het vast.",
                       "Your session had expired. What you entered is still here: check it and "
                       "record it.");
    }
  }
  form.occurred_on =
      absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(Now()), absl::UTCTimeZone());
  Html(res, 200, ContractPage(frame, case_id, form));
}

namespace {

// The contract form as posted.
ContractForm FormOf(const httplib::Request& req) {
  ContractForm form;
  form.contract = req.get_param_value("contract");
  form.contract_end = req.get_param_value("contract_end");
  form.hours = req.get_param_value("hours");
  form.occurred_on = req.get_param_value("occurred_on");
  form.event_id = req.get_param_value("event_id");
  form.revision = req.get_param_value("revision");
  return form;
}

}  // namespace

void Portal::Impl::ContractPost(const httplib::Request& req, httplib::Response& res) {
  bool expired = false;
  if (!SessionOf(req, &expired) && IsCaseId(req.matches[1]) &&
      req.get_header_value("Origin") == public_origin) {
    // The session ended while the form was being filled in (WCAG 2.2.1):
    // what was typed is kept for this browser until it signs in again.
    ContractForm form = FormOf(req);
    const std::string id = Random();
    {
      MutexLock lock(&mu);
      KeepPendingBounded(Now());
      drafts[id] = Draft{req.matches[1], std::move(form), Now()};
    }
    res.set_header("Set-Cookie", Cookie(kDraftCookie, id, kLoginSeconds));
    res.headers.emplace("Set-Cookie", Cookie(kSessionCookie, "", 0));
    return Redirect(
        res, absl::StrCat("/?verlopen=1&terug=",
                          UrlEncode(absl::StrCat("/plaatsingen/", std::string(req.matches[1]),
                                                 "/contract"))));
  }
  auto s = RequireCase(req, res);
  if (!s) return;
  if (!CsrfOk(req, s->second)) return Refused(req, res, &s->second);
  const Lang l = LangOf(req);
  const std::string case_id = req.matches[1];
  ContractForm form = FormOf(req);
  auto show = [&](int status) {
    Html(res, status,
         ContractPage(
             FrameFor(req, &s->second,
                      absl::StrCat(T(l, "Fout: ", "Error: "), T(l, "Contractwijziging vastleggen",
                                                                "Record a contract change"))),
             case_id, form));
  };
  // What the portal must read before it can ask: the rest is the server's.
  auto date = [&](const std::string& text, v1::CalendarDate* out) {
    int y = 0, m = 0, d = 0;
    if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2d-%2d", &y, &m, &d) != 3)
      return false;
    out->set_year(y);
    out->set_month(m);
    out->set_day(d);
    return true;
  };
  v1::RecordCaseEventRequest request;
  request.set_case_id(case_id);
  auto* change = request.mutable_event()->mutable_contract_changed();
  if (form.contract == "permanent") {
    change->set_contract(v1::CONTRACT_TYPE_PERMANENT);
  } else if (form.contract == "fixed_term") {
    change->set_contract(v1::CONTRACT_TYPE_FIXED_TERM);
  } else {
    form.errors.push_back({"contract", T(l, "Kies een vast of een tijdelijk contract.",
                                         "Choose a permanent or a fixed-term contract.")});
  }
  if (!form.contract_end.empty() && !date(form.contract_end, change->mutable_contract_end())) {
    form.errors.push_back(
        {"contract_end", T(l, "Vul de einddatum in als jjjj-mm-dd, bijvoorbeeld 2027-12-31.",
                           "Enter the end date as yyyy-mm-dd, for example 2027-12-31.")});
  }
  std::string hours = form.hours;
  std::replace(hours.begin(), hours.end(), ',', '.');
  double h = 0;
  if (!absl::SimpleAtod(hours, &h)) {
    form.errors.push_back(
        {"hours", T(l, "Vul het aantal uren per week in als getal, bijvoorbeeld 32.",
                    "Enter the hours per week as a number, for example 32.")});
  }
  change->set_hours_per_week(h);
  if (!date(form.occurred_on, request.mutable_event()->mutable_occurred_on())) {
    form.errors.push_back(
        {"occurred_on", T(l, "Vul de ingangsdatum in als jjjj-mm-dd, bijvoorbeeld 2026-12-01.",
                          "Enter the effective date as yyyy-mm-dd, for example 2026-12-01.")});
  }
  int64_t revision = 0;
  if (!absl::SimpleAtoi(form.revision, &revision) ||
      !eventstore::EventId::Parse(form.event_id).ok()) {
    form.errors.push_back({"", T(l, "Het formulier is onvolledig. Open het opnieuw.",
                                 "The form is incomplete. Please open it again.")});
  }
  if (!form.errors.empty()) return show(422);
  request.set_event_id(form.event_id);
  request.set_expected_revision(revision);
  v1::RecordCaseEventResponse response;
  grpc::ClientContext context;
  AsUser(&context, s->second);
  grpc::Status status = cases->RecordCaseEvent(&context, request, &response);
  if (status.ok()) {
    return Redirect(res, absl::StrCat("/plaatsingen/", UrlEncode(case_id), "?vastgelegd=1"));
  }
  const client::ErrorDetails details = client::ReadErrorDetails(status);
  // The server's field paths, mapped to the form's fields; Dutch sentences
  // for what the portal knows, the server's own words otherwise.
  for (const client::FieldViolation& v : details.field_violations) {
    std::string field;
    std::string message = v.description;
    if (absl::EndsWith(v.field, "contract_end")) {
      field = "contract_end";
      if (l == Lang::kNl) {
        if (absl::StrContains(v.description, "needs an end date")) {
          message = "Vul de einddatum in: een tijdelijk contract heeft er een.";
        } else if (absl::StrContains(v.description, "must end after")) {
          message = "De einddatum moet na de ingangsdatum liggen.";
        } else if (absl::StrContains(v.description, "no end date")) {
          message = "Een vast contract heeft geen einddatum: laat dit veld leeg.";
        }
      }
    } else if (absl::EndsWith(v.field, "hours_per_week")) {
      field = "hours";
      if (l == Lang::kNl) message = "Vul het aantal uren per week in: meer dan 0 en hoogstens 60.";
    } else if (absl::EndsWith(v.field, "occurred_on")) {
      field = "occurred_on";
      if (l == Lang::kNl) {
        message = absl::StrContains(v.description, "future")
                      ? "De ingangsdatum kan niet in de toekomst liggen."
                  : absl::StrContains(v.description, "before")
                      ? "De ingangsdatum ligt vóór de indiensttreding."
                      : "Deze ingangsdatum kan niet.";
      }
    } else if (absl::EndsWith(v.field, ".contract")) {
      field = "contract";
    }
    form.errors.push_back({field, message});
  }
  if (details.reason == "WRONG_EXPECTED_REVISION") {
    form.errors.push_back({"", T(l,
                                 "Deze plaatsing is intussen bijgewerkt. Bekijk de tijdlijn en "
                                 "leg de wijziging daarna opnieuw vast.",
                                 "This placement was updated meanwhile. Look at the timeline, then "
                                 "record the change again.")});
    if (auto actual = details.actual_revision()) form.revision = std::to_string(*actual);
  } else if (details.reason == "NOT_HIRED") {
    form.errors.push_back({"", T(l,
                                 "Deze plaatsing heeft nog geen indiensttreding; een "
                                 "contractwijziging kan pas daarna.",
                                 "This placement has no hire yet; a contract change comes after "
                                 "it.")});
  } else if (form.errors.empty()) {
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
        status.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
        status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
      return BackendError(req, res, s->second, status);
    }
    form.errors.push_back({"", l == Lang::kNl
                                   ? absl::StrCat("Niet vastgelegd: ", status.error_message())
                                   : absl::StrCat("Not recorded: ", status.error_message())});
  }
  // A new event id for a new attempt (the refused one is not recorded).
  form.event_id = eventstore::EventId::Random().ToString();
  show(422);
}

void Portal::Impl::Language(const httplib::Request& req, httplib::Response& res) {
  const std::string to = req.get_param_value("naar") == "en" ? "en" : "nl";
  res.set_header("Set-Cookie", Cookie(kLangCookie, to, 365 * 24 * 3600, /*http_only=*/false));
  Redirect(res, LocalPath(req.get_param_value("terug")));
}

void Portal::Impl::Statement(const httplib::Request& req, httplib::Response& res) {
  bool expired = false;
  auto s = SessionOf(req, &expired);
  const Lang l = LangOf(req);
  Frame f = FrameFor(req, s ? &s->second : nullptr,
                     T(l, "Toegankelijkheidsverklaring", "Accessibility statement"));
  Html(res, 200,
       ErrorPage(f, T(l, "Toegankelijkheidsverklaring", "Accessibility statement"),
                 T(l,
                   "Dit portaal is gemaakt om te voldoen aan EN 301 549 (WCAG 2.1 niveau A en "
                   "AA). Elke pagina wordt bij elke wijziging automatisch getoetst (axe-core) "
                   "en met alleen een toetsenbord doorlopen. Werkt iets niet voor u, meld het "
                   "dan bij uw contactpersoon; u krijgt binnen vijf werkdagen antwoord.",
                   "This portal is made to meet EN 301 549 (WCAG 2.1 levels A and AA). Every page "
                   "is checked automatically (axe-core) and walked through with a keyboard alone "
                   "on every change. If something does not work for you, tell your contact; you "
                   "get an answer within five working days.")));
}

void Portal::Impl::Routes() {
  httplib::Server& svr = *server;
  svr.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    Headers(res, absl::StartsWith(req.path, "/static/"));
  });
  svr.Get("/", [this](const auto& req, auto& res) { Home(req, res); });
  svr.Get("/inloggen", [this](const auto& req, auto& res) { SignIn(req, res); });
  svr.Get("/auth/callback", [this](const auto& req, auto& res) { Callback(req, res); });
  svr.Post("/uitloggen", [this](const auto& req, auto& res) { SignOut(req, res); });
  svr.Get("/plaatsingen", [this](const auto& req, auto& res) { Placements(req, res); });
  svr.Get(R"(/plaatsingen/([a-z0-9-]+))",
          [this](const auto& req, auto& res) { Placement(req, res); });
  svr.Get(R"(/plaatsingen/([a-z0-9-]+)/contract)",
          [this](const auto& req, auto& res) { ContractGet(req, res); });
  svr.Post(R"(/plaatsingen/([a-z0-9-]+)/contract)",
           [this](const auto& req, auto& res) { ContractPost(req, res); });
  svr.Get("/taal", [this](const auto& req, auto& res) { Language(req, res); });
  svr.Get("/toegankelijkheid", [this](const auto& req, auto& res) { Statement(req, res); });
  svr.Get("/static/portal.css", [](const auto&, auto& res) {
    res.set_header("Cache-Control", "public, max-age=3600");
    res.set_content(std::string(kPortalCss), "text/css; charset=utf-8");
  });
  svr.Get("/healthz", [](const auto&, auto& res) { res.set_content("ok\n", "text/plain"); });
  svr.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    // Only for what no route answered (a route's own error page stays).
    if (!res.body.empty() || (res.status != 404 && res.status != 405 && res.status != 400)) return;
    const Lang l = LangOf(req);
    Html(res, res.status,
         ErrorPage(FrameFor(req, nullptr, T(l, "Niet gevonden", "Not found")),
                   T(l, "Niet gevonden", "Not found"),
                   T(l, "Deze pagina bestaat niet.", "This page does not exist.")));
  });
  svr.set_exception_handler(
      [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
        const Lang l = LangOf(req);
        Html(res, 500,
             ErrorPage(FrameFor(req, nullptr, T(l, "Fout", "Error")),
                       T(l, "Er ging iets mis", "Something went wrong"),
                       T(l, "Probeer het opnieuw.", "Please try again.")));
      });
}

Portal::Portal(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Portal::~Portal() { Stop(); }

absl::StatusOr<std::unique_ptr<Portal>> Portal::Create(PortalConfig config) {
  auto impl = std::make_unique<Impl>();
  absl::StatusOr<Url> url = ParseUrl(config.public_url);
  if (!url.ok() || !absl::StartsWith(config.public_url, "https://")) {
    return absl::InvalidArgumentError("--public_url must be the portal's https:// address");
  }
  impl->public_origin = url->origin;
  if (config.oidc.issuer.empty() || config.oidc.client_id.empty() ||
      config.oidc.client_secret.empty()) {
    return absl::InvalidArgumentError(
        "the sign-in provider needs --oidc_issuer, --oidc_client_id and --oidc_client_secret_file");
  }
  if (config.oidc.redirect_uri.empty()) config.oidc.redirect_uri = url->origin + "/auth/callback";
  if (config.oidc.post_logout_redirect_uri.empty()) {
    config.oidc.post_logout_redirect_uri = url->origin + "/?uitgelogd=1";
  }
  for (const std::string* file : {&config.tls_cert, &config.tls_key}) {
    if (file->empty() || ReadFile(*file).empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the portal serves HTTPS only: --tls_cert and --tls_key must name PEM "
                       "files (",
                       *file, " cannot be read)"));
    }
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (config.dev) {
    if (!absl::StartsWith(config.server, "127.0.0.1:") &&
        !absl::StartsWith(config.server, "localhost:") &&
        !absl::StartsWith(config.server, "[::1]:")) {
      return absl::InvalidArgumentError("--dev talks to a loopback dev server only");
    }
    credentials = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFile(config.server_ca);
    ssl.pem_cert_chain = ReadFile(config.cert);
    ssl.pem_private_key = ReadFile(config.key);
    if (ssl.pem_root_certs.empty() || ssl.pem_cert_chain.empty() || ssl.pem_private_key.empty()) {
      return absl::InvalidArgumentError(
          "duurzaamd is reached over mutual TLS: --server_ca, --cert and --key (the portal's "
          "PORTAL certificate) must name readable PEM files");
    }
    credentials = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  impl->channel = grpc::CreateCustomChannel(config.server, credentials, args);
  impl->cases = v1::Cases::NewStub(impl->channel);
  impl->oidc = std::make_unique<OidcClient>(config.oidc);
  impl->config = std::move(config);
  return std::unique_ptr<Portal>(new Portal(std::move(impl)));
}

absl::StatusOr<int> Portal::Start() {
  Impl& p = *impl_;
  auto server =
      std::make_unique<httplib::SSLServer>(p.config.tls_cert.c_str(), p.config.tls_key.c_str());
  if (!server->is_valid()) {
    return absl::InvalidArgumentError("the portal's TLS certificate or key cannot be loaded");
  }
  SSL_CTX_set_min_proto_version(server->ssl_context(), TLS1_2_VERSION);
  const int threads = p.config.threads;
  server->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server->set_tcp_nodelay(true);  // else Nagle and delayed ACKs add 40 ms to a page
  server->set_keep_alive_max_count(1000);
  server->set_keep_alive_timeout(5);
  server->set_read_timeout(10, 0);
  server->set_payload_max_length(64 << 10);  // forms are small
  p.server = std::move(server);
  p.Routes();
  int port = p.config.listen_port;
  if (port == 0) {
    port = p.server->bind_to_any_port(p.config.listen_host);
  } else if (!p.server->bind_to_port(p.config.listen_host, port)) {
    port = -1;
  }
  if (port <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", p.config.listen_host, ":", p.config.listen_port));
  }
  p.thread = std::thread([&p] { p.server->listen_after_bind(); });
  return port;
}

void Portal::Stop() {
  if (!impl_ || !impl_->server) return;
  impl_->server->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace duurzaam::portal
