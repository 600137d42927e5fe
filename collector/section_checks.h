// Reading the configuration before anything happens: every module's section is read and validated the way its
// start function reads it, so that a bad key in detect: or cost: fails before the collector makes its database
// or binds its port (collector/modules.cpp lists the checks beside the modules).
#pragma once

#include "collector/config.h"
#include "common/result.h"

namespace ss::collector {

// The first error of any section, naming its key.
Result<void> check_module_sections(const CollectorConfig& config);

}  // namespace ss::collector
