// Must compile: the control for dropped_status.cc (same flags, the status
// is used), so the check fails for the right reason only.
#include "common/field_violation.h"

bool KeepsAStatus() { return duurzaam::MakeInvalidArgument({"field", "rule"}).ok(); }
