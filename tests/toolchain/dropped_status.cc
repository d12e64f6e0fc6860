// Must NOT compile: a dropped absl::Status from a project function
// (tests/CMakeLists.txt runs the compiler on it and expects failure).
#include "common/field_violation.h"

void DropsAStatus() { duurzaam::MakeInvalidArgument({"field", "rule"}); }
