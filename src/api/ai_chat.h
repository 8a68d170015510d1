/* ai_chat.h — POST /api/ai/chat: the booking assistant of seed 001 (issue 15). Reads the
 * invitee's message with assistant/nlu.c, keeps the conversation in PostgreSQL
 * (api.chat_open / api.chat_save), offers real free slots (availability_slots) and books through
 * the booking core (book_create). */
#ifndef SLOTD_API_AI_CHAT_H
#define SLOTD_API_AI_CHAT_H

#include "../http/server.h"

int ai_chat(http_req_t *req);

#endif
