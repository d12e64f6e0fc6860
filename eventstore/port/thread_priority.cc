#include "eventstore/port/thread_priority.h"

#include <sys/resource.h>
#include <unistd.h>

namespace duurzaam::eventstore::port {

bool SetThreadNice(int nice) {
  return setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice) == 0;
}

}  // namespace duurzaam::eventstore::port
