// The events of the events stream as the API sees them: the download queue's bus of "job"
// and "image" events (pull/event_bus.h states its promises: ids, the replay window, bounded
// subscriber queues, thread safety).
#pragma once

#include "wharf/pull/event_bus.h"

namespace wharf::service {

using EventBus = pull::EventBus;
using Event = pull::Event;

}  // namespace wharf::service
