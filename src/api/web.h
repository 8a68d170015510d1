/* web.h — the hosted booking pages and the embed script (issue 19): the assets compiled into
 * the binary by web/bundle.py, and the module serving them with the pages' HTML shell. */
#ifndef SLOTD_API_WEB_H
#define SLOTD_API_WEB_H

#include <stddef.h>

typedef struct {
  const char *path; /* the URL path: "/assets/app.1a2b3c4d.js", "/embed.js"; NULL ends the list */
  const char *type; /* Content-Type */
  const unsigned char *body;
  size_t len;
  const unsigned char *gz; /* the same, gzip-compressed */
  size_t gz_len;
  const char *etag; /* quoted, strong */
  int immutable;    /* a fingerprinted name: cached for a year */
} web_asset_t;

extern const web_asset_t web_assets[];
extern const char web_app_js[], web_app_css[]; /* the fingerprinted paths the shell names */

/* The asset at path, or NULL. */
const web_asset_t *web_asset(const char *path);

#endif
