/* calcom_bookings.c — Cal.com API v2 (issue 16): being written; no routes yet. */
#include "../../app.h"

const app_module_t api_calcom_bookings_module = {"calcom-bookings", NULL, 0, NULL};
