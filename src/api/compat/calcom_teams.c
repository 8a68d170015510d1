/* calcom_teams.c — Cal.com API v2 (issue 16): being written; no routes yet. */
#include "../../app.h"

const app_module_t api_calcom_teams_module = {"calcom-teams", NULL, 0, NULL};
