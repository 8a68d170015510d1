/* mcp.h — POST /mcp: the Model Context Protocol's Streamable HTTP transport (JSON-RPC 2.0,
 * plain JSON responses) for AI agents: find slots, book, and manage bookings (issue 15). */
#ifndef SLOTD_API_MCP_H
#define SLOTD_API_MCP_H

#include "../http/server.h"
#include "respond.h"

int mcp_post(http_req_t *req);
int mcp_get(http_req_t *req);    /* no SSE stream: 405 */
int mcp_delete(http_req_t *req); /* sessions are not kept: 405 */
/* Transport-level failures (rate limits, 415, oversize bodies, 401) as JSON-RPC errors. */
extern const api_dialect_t mcp_dialect;
void mcp_register_statements(void);

#endif
