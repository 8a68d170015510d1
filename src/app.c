#include "app.h"

#include <stdlib.h>
#include <string.h>

#include "api/authn.h"
#include "api/idempotency.h"
#include "api/inputs.h"
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

/* Matching order: the router prefers static segments and then the first pattern added, so
 * dialect modules (whose paths start with their own prefixes) may come in any order. */
const app_module_t *const app_modules[] = {&api_native_module, &api_orgs_module, &api_team_module,
                                           &api_customers_module, &api_ai_module,
                                           &api_calcom_slots_module, &api_calcom_bookings_module, &api_calcom_event_types_module, &api_calcom_webhooks_module, &api_calcom_teams_module,
                                           &api_schedkit_module, &api_kordless_module,
                                           &api_calendesk_module, &api_vendor_webhooks_module, NULL};

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
  api_authn_register();
  api_idempotency_register();
  inputs_register();
  *n = total;
  return all;
}
