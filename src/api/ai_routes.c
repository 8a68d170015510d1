/* ai_routes.c — the routes for AI clients (issue 15): the booking assistant of seed 001
 * (POST /api/ai/chat, public, per-IP limit) and the Model Context Protocol endpoint for agents
 * (POST /mcp, public; a Bearer API key adds the host's tools). A module of its own (app.c). */
#include <llhttp.h>

#include "../app.h"
#include "ai_chat.h"
#include "dispatch.h"
#include "mcp.h"
#include "query.h"
#include "respond.h"

#define PUB(fn, d) api_dispatch, ROUTE_PUBLIC, &(const api_handler_t){fn, API_PUBLIC, d}

static const http_route_t routes[] = {
    {M(HTTP_POST), "/api/ai/chat", PUB(ai_chat, &api_native_dialect)},
    {M(HTTP_POST), "/mcp", PUB(mcp_post, &mcp_dialect)},
    {M(HTTP_GET), "/mcp", PUB(mcp_get, &mcp_dialect)},
    {M(HTTP_DELETE), "/mcp", PUB(mcp_delete, &mcp_dialect)},
};

static const api_stmt_t statements[] = {
    {"chat_open", "SELECT page, state FROM api.chat_open($1, $2)", 0},
    {"chat_save", "SELECT api.chat_save($1, $2, $3, $4)", 1},
    {NULL, NULL, 0},
};

static void register_statements(void) {
  api_register_statements(statements);
  mcp_register_statements();
}

const app_module_t api_ai_module = {"ai", routes, (int)(sizeof routes / sizeof routes[0]), register_statements};
