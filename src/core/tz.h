/* tz.h — time zone names. For now: whether a name is a real IANA zone on this system (the
 * tzdata PostgreSQL reads), checked once per name against /usr/share/zoneinfo. */
#ifndef SLOTD_CORE_TZ_H
#define SLOTD_CORE_TZ_H

/* 1 if name is a zone (e.g. "America/New_York", "UTC"); rejects paths, "..", odd characters. */
int tz_valid(const char *name);

#endif
