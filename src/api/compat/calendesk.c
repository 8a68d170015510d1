/* calendesk.c — the Calendesk dialect (issue 18): being written; no routes yet. */
#include "../../app.h"

const app_module_t api_calendesk_module = {"calendesk", NULL, 0, NULL};
