// The lists a case's attributes come from (DOMAIN.md): the 35 Dutch
// labour-market regions (arbeidsmarktregio's) and the target groups of the
// Participatiewet / Wajong / banenafspraak. Data, not code: a change of the
// official lists is a change here (and a note in DOMAIN.md).
#pragma once

#include <string_view>

namespace duurzaam::domain {

// True for a region spelled as on the official list, e.g. "Groot Amsterdam".
bool IsLabourMarketRegion(std::string_view region);
// True for "Wajong", "Participatiewet" or "banenafspraak".
bool IsTargetGroup(std::string_view group);

}  // namespace duurzaam::domain
