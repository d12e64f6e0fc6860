// Small RETURN_IF_ERROR / ASSIGN_OR_RETURN helpers: Debian's Abseil (20220623)
// ships no status_macros.h.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define DZ_CONCAT_INNER_(a, b) a##b
#define DZ_CONCAT_(a, b) DZ_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function if `expr` is not OK.
#define RETURN_IF_ERROR(expr)                                 \
  do {                                                        \
    if (absl::Status dz_status_ = (expr); !dz_status_.ok()) { \
      return dz_status_;                                      \
    }                                                         \
  } while (false)

// `ASSIGN_OR_RETURN(auto x, Foo());` assigns the value of a StatusOr or
// returns its status from the enclosing function.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(DZ_CONCAT_(dz_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)        \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = *std::move(statusor)
