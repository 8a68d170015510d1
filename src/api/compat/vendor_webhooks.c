/* vendor_webhooks.c — the vendors' own webhook subscription endpoints (issue 17): being written;
 * no routes yet. */
#include "../../app.h"

const app_module_t api_vendor_webhooks_module = {"vendor-webhooks", NULL, 0, NULL};
