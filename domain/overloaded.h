// `std::visit(Overloaded{[](const A&) {...}, [](const B&) {...}}, variant)`:
// one lambda per alternative; a missing alternative fails to compile.
#pragma once

namespace duurzaam::domain {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace duurzaam::domain
