#include "domain/regions.h"

#include <algorithm>
#include <array>

namespace duurzaam::domain {
namespace {

constexpr std::array<std::string_view, 35> kRegions = {
    "Groningen",
    "Friesland",
    "Drenthe",
    "Regio Zwolle",
    "Twente",
    "Stedendriehoek en Noordwest Veluwe",
    "Achterhoek",
    "Midden-Gelderland",
    "Rijk van Nijmegen",
    "FoodValley",
    "Rivierenland",
    "Amersfoort",
    "Midden-Utrecht",
    "Gooi en Vechtstreek",
    "Zaanstreek/Waterland",
    "Groot Amsterdam",
    "Noord-Holland Noord",
    "Zuid-Kennemerland en IJmond",
    "Zuid-Holland Centraal",
    "Holland Rijnland",
    "Haaglanden",
    "Midden-Holland",
    "Rijnmond",
    "Drechtsteden",
    "Gorinchem",
    "Zeeland",
    "West-Brabant",
    "Midden-Brabant",
    "Noordoost-Brabant",
    "Zuidoost-Brabant",
    "Helmond-De Peel",
    "Noord-Limburg",
    "Midden-Limburg",
    "Zuid-Limburg",
    "Flevoland",
};

constexpr std::array<std::string_view, 3> kTargetGroups = {"Wajong", "Participatiewet",
                                                           "banenafspraak"};

}  // namespace

bool IsLabourMarketRegion(std::string_view region) {
  return std::find(kRegions.begin(), kRegions.end(), region) != kRegions.end();
}

bool IsTargetGroup(std::string_view group) {
  return std::find(kTargetGroups.begin(), kTargetGroups.end(), group) != kTargetGroups.end();
}

}  // namespace duurzaam::domain
