#pragma once
// RunDaemon: builds the parts from a validated Config and runs them until
// SIGTERM/SIGINT. Returns the process exit code.

#include "proxy/config.h"

namespace sippacer::proxy {

int RunDaemon(const Config& config);

}  // namespace sippacer::proxy
