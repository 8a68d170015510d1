#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/authn.h"
#include "api/idempotency.h"
#include "api/inputs.h"
#include "api/validate.h"
#include "core/util.h"

extern const app_module_t api_native_module;
extern const app_module_t api_orgs_module;
extern const app_module_t api_team_module;
extern const app_module_t api_customers_module;
extern const app_module_t api_ai_module;
extern const app_module_t api_calcom_slots_module;
extern const app_module_t api_calcom_bookings_module;
extern const app_module_t api_calcom_event_types_module;
extern const app_module_t api_calcom_webhooks_module;
extern const app_module_t api_calcom_teams_module;
extern const app_module_t api_schedkit_module;
extern const app_module_t api_kordless_module;
extern const app_module_t api_calendesk_module;
extern const app_module_t api_vendor_webhooks_module;
extern const app_module_t api_web_module;

/* Matching order: the first entry whose pattern matches the path and serves the method wins, so
 * dialect modules (whose paths start with their own prefixes) may come in any order; the booking
 * pages' "/:slug" routes are fallbacks (ROUTE_FALLBACK), tried only when nothing else matches. */
const app_module_t *const app_modules[] = {&api_native_module, &api_orgs_module, &api_team_module,
                                           &api_customers_module, &api_ai_module,
                                           &api_calcom_slots_module, &api_calcom_bookings_module, &api_calcom_event_types_module, &api_calcom_webhooks_module, &api_calcom_teams_module,
                                           &api_schedkit_module, &api_kordless_module,
                                           &api_calendesk_module, &api_vendor_webhooks_module,
                                           &api_web_module, NULL};

const http_route_t *app_routes(int *n) {
  int total = 0;
  for (const app_module_t *const *m = app_modules; *m; m++) total += (*m)->nroutes;
  static http_route_t all[APP_MAX_ROUTES];
  if (total > APP_MAX_ROUTES) abort();
  int k = 0;
  for (const app_module_t *const *m = app_modules; *m; m++) {
    if ((*m)->nroutes) memcpy(all + k, (*m)->routes, (size_t)(*m)->nroutes * sizeof *all);
    k += (*m)->nroutes;
    if ((*m)->register_statements) (*m)->register_statements();
  }
  /* A booking page at /{slug} must never shadow a route: every route's first segment that could
   * be a slug is reserved (api_reserved_slug). A programmer error, caught by any start. */
  for (int i = 0; i < total; i++) {
    const char *p = all[i].pattern + 1, *end = strchr(p, '/');
    char first[64];
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (*p == ':' || len >= sizeof first) continue;
    memcpy(first, p, len);
    first[len] = '\0';
    if (api_valid_slug(first) && !api_reserved_slug(first)) {
      fprintf(stderr, "slotd: route %s shadows booking pages: reserve \"%s\" (api_reserved_slug)\n", all[i].pattern, first);
      abort();
    }
  }
  api_authn_register();
  api_idempotency_register();
  inputs_register();
  *n = total;
  return all;
}
