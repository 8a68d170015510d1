/* schedkit.c — the schedkit dialect (issue 17): being written; no routes yet. */
#include "../../app.h"

const app_module_t api_schedkit_module = {"schedkit", NULL, 0, NULL};
