// Per-thread scheduling priority (Linux): the engine's writer and syncer
// threads run above the appenders' own threads.
#pragma once

namespace duurzaam::eventstore::port {

// Sets the calling thread's nice value (negative: higher priority). False
// when the system refuses (no CAP_SYS_NICE or RLIMIT_NICE).
bool SetThreadNice(int nice);

}  // namespace duurzaam::eventstore::port
