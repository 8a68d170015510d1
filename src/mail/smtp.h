/* smtp.h — an SMTP client on the loop (RFC 5321) for outgoing mail: one TCP connection per
 * message, any number of messages in flight.
 *
 * A send runs: resolve (uv_getaddrinfo, each address tried in turn) → connect → [smtps: TLS] →
 * 220 greeting → EHLO (HELO when EHLO gets a 5xx) → STARTTLS when offered, then EHLO again →
 * AUTH PLAIN (LOGIN when only LOGIN is offered) with the URL's credentials → MAIL FROM → RCPT TO
 * each → DATA → the message → QUIT. TLS goes through src/http/tls.h: the tls_ctx_t requires a
 * valid certificate for the URL's host name. Every phase (resolving, connecting, the handshake,
 * the greeting, each reply, the message transfer) has its own timer of timeout_ms.
 *
 * Policy:
 *  - smtp:// uses STARTTLS whenever the server offers it, and requires it when the URL carries
 *    credentials: a password is never sent in clear (without STARTTLS the send fails,
 *    temporary, before AUTH). A failed handshake never falls back to plain text.
 *  - SMTPUTF8 is requested (when offered) only if an address or the message's header section
 *    holds a non-ASCII byte: asking for it otherwise would make relays without SMTPUTF8 bounce
 *    a plain message. A non-ASCII address to a server without SMTPUTF8 fails (permanent).
 *    BODY=8BITMIME is sent (when offered) if the message holds any non-ASCII byte; SIZE= when
 *    SIZE is offered.
 *  - The message is sent with CRLF line endings (bare LF and bare CR become CRLF, so no
 *    "\n.\r\n" smuggling), a "." at the start of a line is doubled, and a final CRLF is added
 *    when missing, then CRLF.CRLF.
 *  - Any recipient refused ends the transaction before DATA (nobody gets a copy), so a retry
 *    never duplicates a message: ok means accepted for every recipient.
 *  - Nothing is logged here (the caller logs the result); passwords are wiped from memory once
 *    the client is freed and from the buffers that carried them once written. */
#ifndef SLOTD_MAIL_SMTP_H
#define SLOTD_MAIL_SMTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "../http/tls.h"

#define SMTP_MAX_MESSAGE (32u << 20) /* bytes; a larger message fails (permanent) */
#define SMTP_MAX_RCPT 100

typedef struct smtp_client_s smtp_client_t;

typedef struct {
  int ok;               /* accepted (250 after the data) for every recipient */
  int temporary;        /* not ok, retry later: a 4xx, a timeout, a connection or TLS failure, or
                           no STARTTLS for credentials; otherwise (not ok) permanent: a 5xx or a
                           message that cannot be sent (bad address, too large) */
  int code;             /* the SMTP code of the server's last reply; 0 if the failure was ours
                           (timeout, connection, TLS, validation) */
  const char *reply;    /* the last reply's text (lines joined by a space, codes and enhanced
                           status kept as sent) when code > 0, else what went wrong; valid
                           during the callback only */
  uint64_t duration_ms; /* from smtp_send to the result */
} smtp_result_t;

typedef void (*smtp_cb)(void *data, const smtp_result_t *r);

/* url: smtp://[user[:password]@]host[:port] (25) or smtps://... (465), as config_parse_smtp_url
 * reads it. tls: the process's context (may be NULL: then any TLS, and so STARTTLS offered by
 * the server or smtps://, fails). helo_name: our name for EHLO (a host name, or an IP address
 * which is sent as an address literal); NULL or "" means "localhost". Returns NULL with err on
 * a bad URL or name. The client copies what it needs; the caller keeps loop and tls alive until
 * the client is gone (see smtp_client_close). */
smtp_client_t *smtp_client_new(uv_loop_t *loop, tls_ctx_t *tls, const char *url, const char *helo_name, char *err,
                               size_t errlen);

/* Sends msg (a complete RFC 5322 message: headers, empty line, body; LF or CRLF) from `from`
 * to each of rcpt[0..nrcpt) (plain addr-specs, see config_check_address). Every input is
 * copied before this returns. cb fires exactly once, later, never inside this call; it may
 * call smtp_send or smtp_client_close. timeout_ms bounds each phase (<= 0: 30000). */
void smtp_send(smtp_client_t *c, const char *from, const char *const *rcpt, int nrcpt, const char *msg, size_t len,
               int timeout_ms, smtp_cb cb, void *data);

/* Sends in flight. */
int smtp_client_inflight(const smtp_client_t *c);

/* Aborts sends in flight: their callbacks run inside this call (temporary, code 0, reply
 * "aborted"); a send whose callback already ran only has its connection closed. The client is
 * freed once its last handle is closed (run the loop); c must not be used after this call. */
void smtp_client_close(smtp_client_t *c);

#endif
