// The collector's web pages (docs/ui.md): GET / (to /ui/), GET /ui/ (incidents over a range with filters,
// a timeline and dollars per kind and job), GET /ui/incidents/<id> (one incident's story) and the JSON
// behind a page, GET /api/v1/incidents/<id>/view, which `stormscope report` renders the same way.
// Read-only; registered on the router, so they get whatever authentication the router's server applies.
#pragma once

#include "collector/api/router.h"
#include "collector/incidents/service.h"
#include "collector/store/store.h"

namespace ss::collector::ui {

void add_routes(Router& router, Store& store, incidents::DetectionService& service);

}  // namespace ss::collector::ui
