/* tzif.h — time zones from the system tzdata (/usr/share/zoneinfo, the files PostgreSQL
 * reads), parsed by our own TZif reader (RFC 8536): version 2+ 64-bit data, plus the POSIX TZ
 * footer for instants after the last transition. Pure: tzif_parse() takes bytes; only
 * tz_preload() (the set of zone names, once) and tz_get() (each zone's file, on its first use)
 * touch the file system; zones stay loaded, read-only.
 *
 * Wall-clock rule (RFC 5545, what calendars do): a local time that occurs twice (fall back) is
 * its first occurrence; a local time that does not exist (spring forward) is shifted forward by
 * the gap, i.e. read with the offset in effect before the transition (Python zoneinfo fold=0). */
#ifndef SLOTD_SCHED_TZIF_H
#define SLOTD_SCHED_TZIF_H

#include <stddef.h>
#include <stdint.h>

typedef struct tz_s tz_t;

/* Parses a TZif file image. NULL if it is malformed (never reads past len). */
tz_t *tzif_parse(const unsigned char *data, size_t len);
void tz_free(tz_t *tz);

/* Walks /usr/share/zoneinfo once (about 600 opens) and keeps the set of zone names: every file
 * there that is TZif data, symbolic links (US/Eastern, UTC, GMT) included, less posix/, right/,
 * posixrules, localtime and Factory. Returns the number of names; later calls only return it.
 * Call it at start-up, off the request path; tz_get() calls it if nobody did. Zones added to
 * the system afterwards are not seen until a restart (or tz_cache_free). Loop thread only. */
size_t tz_preload(void);
/* The loaded zone for an IANA name, or NULL if the name is not a zone on this system.
 * Names are validated as before (no paths, no "..", at most 64 bytes); a name outside the set
 * returns NULL without any file-system call. A zone's file is read on its first use (a listed
 * file that then fails to load is remembered as a miss). Cached for the process. */
const tz_t *tz_get(const char *name);
/* Test hook: how many zone files tz_get() has opened (the tz_preload walk not counted). */
size_t tz_fs_lookups(void);
const char *tz_name(const tz_t *tz);
/* Instant t as RFC 3339 on zone tz's wall clock with its offset ("...-05:00", or "Z" for a
 * zero offset); out holds at least 32 bytes. */
void tz_format_rfc3339(const tz_t *tz, int64_t t, char *out, size_t outlen);
/* Frees the cache and the name set (at exit, for leak checkers); every zone handed out dies. */
void tz_cache_free(void);

/* UTC offset in seconds in effect at instant t (local = t + offset). */
int32_t tz_offset(const tz_t *tz, int64_t t);
/* The instant of local wall-clock time `local` (seconds since 1970-01-01 00:00 local), by the
 * rule above. */
int64_t tz_local_to_utc(const tz_t *tz, int64_t local);

#endif
