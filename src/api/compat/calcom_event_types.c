/* calcom_event_types.c — Cal.com API v2 (issue 16): being written; no routes yet. */
#include "../../app.h"

const app_module_t api_calcom_event_types_module = {"calcom-event_types", NULL, 0, NULL};
