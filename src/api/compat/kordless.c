/* kordless.c — the kordless dialect (issue 17): being written; no routes yet. */
#include "../../app.h"

const app_module_t api_kordless_module = {"kordless", NULL, 0, NULL};
