// duurzaam-portal: the employer portal (clients/portal/portal.h). Dutch
// first; --lang=en for English help.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "clients/lib/args.h"
#include "clients/portal/portal.h"

namespace {

volatile std::sig_atomic_t stop = 0;
void OnSignal(int) { stop = 1; }

constexpr char kHelpNl[] = R"(duurzaam-portal: het werkgeversportaal van duurzaam.

Werkgevers zien de tijdlijnen en status van hun eigen plaatsingen (zonder
gegevens over gezondheid of privéleven) en leggen contractwijzigingen vast,
in een browser. Het portaal is een eigen proces voor duurzaamd: het praat
HTTPS met browsers, laat medewerkers inloggen met OpenID Connect (bij een
eHerkenningsmakelaar) en praat met duurzaamd over wederzijds TLS met zijn
eigen PORTAL-certificaat (deploy/duurzaam-pki issue DIR PORTAL NAAM).

Gebruik: duurzaam-portal [opties]

  --listen=HOST:POORT          waar het portaal luistert (127.0.0.1:8443)
  --tls_cert=F --tls_key=F     het HTTPS-certificaat en de sleutel van het portaal
  --public_url=URL             waar browsers het portaal bereiken (https://localhost:8443)
  --server=HOST:POORT          duurzaamd (localhost:50051)
  --pki=DIR [--name=NAAM]      kort voor --server_ca=DIR/ca.pem
                               --cert=DIR/clients/NAAM.pem --key=DIR/clients/NAAM.key
                               (NAAM: werkgeversportaal)
  --server_ca=F --cert=F --key=F   los opgegeven
  --dev                        duurzaamd in dev-modus op loopback (platte tekst)
  --oidc_issuer=URL            de inlogdienst (https)
  --oidc_client_id=ID --oidc_client_secret_file=F
  --oidc_ca=F                  CA van het TLS-certificaat van de inlogdienst
  --oidc_org_claim=NAAM        claim met de werkgever-id (employer_id)
  --oidc_user_claim=NAAM       claim met de gebruiker (email)
  --oidc_scopes="..."          (openid profile email)
  --oidc_acr_values="..."      vereiste betrouwbaarheidsniveaus (de acr-waarden van de
                               makelaar voor eHerkenning EH3 en hoger); leeg: geen eis
  --session_idle=SEC           sessie eindigt na zoveel seconden niets (900)
  --session_max=SEC            en uiterlijk zoveel na het inloggen (28800)
  --threads=N                  verzoeken tegelijk (64)
  --page_size=N                plaatsingen per pagina (25; 1 tot 100)
  --lang=en                    deze hulp in het Engels

Afsluitcodes: 0 netjes gestopt (Ctrl-C), 1 kon niet starten, 2 verkeerde opties.
)";

constexpr char kHelpEn[] = R"(duurzaam-portal: the employer portal of duurzaam.

Employers see the timelines and status of their own placements (without
health or private-life details) and record contract changes, in a browser.
The portal is a process of its own in front of duurzaamd: it speaks HTTPS to
browsers, signs staff in with OpenID Connect (at an eHerkenning broker) and
talks to duurzaamd over mutual TLS with its own PORTAL certificate
(deploy/duurzaam-pki issue DIR PORTAL NAME).

Usage: duurzaam-portal [options]

  --listen=HOST:PORT           where the portal listens (127.0.0.1:8443)
  --tls_cert=F --tls_key=F     the portal's HTTPS certificate and key
  --public_url=URL             where browsers reach the portal (https://localhost:8443)
  --server=HOST:PORT           duurzaamd (localhost:50051)
  --pki=DIR [--name=NAME]      short for --server_ca=DIR/ca.pem
                               --cert=DIR/clients/NAME.pem --key=DIR/clients/NAME.key
                               (NAME: werkgeversportaal)
  --server_ca=F --cert=F --key=F   given one by one
  --dev                        duurzaamd in dev mode on loopback (plaintext)
  --oidc_issuer=URL            the sign-in provider (https)
  --oidc_client_id=ID --oidc_client_secret_file=F
  --oidc_ca=F                  CA of the provider's TLS certificate
  --oidc_org_claim=NAME        the claim naming the employer id (employer_id)
  --oidc_user_claim=NAME       the claim naming the user (email)
  --oidc_scopes="..."          (openid profile email)
  --oidc_acr_values="..."      the assurance levels required (the broker's acr values
                               for eHerkenning EH3 and up); empty: none required
  --session_idle=SEC           a session ends after this many idle seconds (900)
  --session_max=SEC            and at most this long after sign-in (28800)
  --threads=N                  requests at a time (64)
  --page_size=N                placements per page (25; 1 to 100)
  --lang=en                    this help in English

Exit codes: 0 stopped cleanly (Ctrl-C), 1 could not start, 2 wrong options.
)";

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  using duurzaam::portal::PortalConfig;
  const duurzaam::client::Args args = duurzaam::client::ParseArgs(argc, argv);
  const bool english = args.Flag("lang") == "en";
  if (args.Has("help") || !args.positional.empty()) {
    std::fputs(english ? kHelpEn : kHelpNl, args.Has("help") ? stdout : stderr);
    return args.Has("help") ? 0 : 2;
  }
  auto usage = [&](const char* nl, const char* en) {
    std::fprintf(stderr, "duurzaam-portal: %s (--help)\n", english ? en : nl);
    return 2;
  };
  PortalConfig config;
  const std::string listen = args.Flag("listen", "127.0.0.1:8443");
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &config.listen_port)) {
    return usage("--listen moet HOST:POORT zijn", "--listen must be HOST:PORT");
  }
  config.listen_host = listen.substr(0, colon);
  config.tls_cert = args.Flag("tls_cert");
  config.tls_key = args.Flag("tls_key");
  config.public_url = args.Flag("public_url", "https://localhost:8443");
  config.server = args.Flag("server", "localhost:50051");
  config.dev = args.Has("dev");
  config.name = args.Flag("name", "werkgeversportaal");
  if (args.Has("pki")) {
    const std::string dir = args.Flag("pki");
    config.server_ca = dir + "/ca.pem";
    config.cert = dir + "/clients/" + config.name + ".pem";
    config.key = dir + "/clients/" + config.name + ".key";
  }
  config.server_ca = args.Flag("server_ca", config.server_ca);
  config.cert = args.Flag("cert", config.cert);
  config.key = args.Flag("key", config.key);
  config.oidc.issuer = args.Flag("oidc_issuer");
  config.oidc.client_id = args.Flag("oidc_client_id");
  if (args.Has("oidc_client_secret_file")) {
    config.oidc.client_secret = Slurp(args.Flag("oidc_client_secret_file"));
  }
  config.oidc.ca_file = args.Flag("oidc_ca");
  config.oidc.organisation_claim = args.Flag("oidc_org_claim", config.oidc.organisation_claim);
  config.oidc.user_claim = args.Flag("oidc_user_claim", config.oidc.user_claim);
  config.oidc.scopes = args.Flag("oidc_scopes", config.oidc.scopes);
  config.oidc.acr_values = args.Flag("oidc_acr_values");
  for (const auto& [flag, target] :
       {std::pair<const char*, int64_t*>{"session_idle", &config.idle_seconds},
        {"session_max", &config.absolute_seconds}}) {
    if (args.Has(flag) && (!absl::SimpleAtoi(args.Flag(flag), target) || *target <= 0)) {
      return usage("een sessieduur is een positief aantal seconden",
                   "a session length is a positive number of seconds");
    }
  }
  if (args.Has("threads") && (!absl::SimpleAtoi(args.Flag("threads"), &config.threads) ||
                              config.threads < 1 || config.threads > 1024)) {
    return usage("--threads moet 1 tot 1024 zijn", "--threads must be 1 to 1024");
  }
  if (args.Has("page_size") && (!absl::SimpleAtoi(args.Flag("page_size"), &config.page_size) ||
                                config.page_size < 1 || config.page_size > 100)) {
    return usage("--page_size moet 1 tot 100 zijn", "--page_size must be 1 to 100");
  }
  auto portal = duurzaam::portal::Portal::Create(std::move(config));
  if (!portal.ok()) {
    std::fprintf(stderr, "duurzaam-portal: %s\n", std::string(portal.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<int> port = (*portal)->Start();
  if (!port.ok()) {
    std::fprintf(stderr, "duurzaam-portal: %s\n", std::string(port.status().message()).c_str());
    return 1;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::fprintf(stderr, "duurzaam-portal: listening on %s:%d\n", listen.substr(0, colon).c_str(),
               *port);
  while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::fprintf(stderr, "duurzaam-portal: stopping\n");
  (*portal)->Stop();
  return 0;
}
