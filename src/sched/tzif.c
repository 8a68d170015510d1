#include "tzif.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/map.h"
#include "../core/timeutil.h"
#include "../core/util.h"

#define TZ_DIR "/usr/share/zoneinfo"
#define TZ_MAX_FILE (1 << 20)

/* A POSIX TZ rule date: Jn (1..365, no Feb 29), n (0..365), or Mm.w.d. */
typedef struct {
  char kind; /* 'J', 'N' or 'M' */
  int a, b, c;
  int32_t time; /* seconds after local midnight; may be negative or > 24 h (RFC 8536 3.3.1) */
} rule_date_t;

typedef struct {
  int valid;
  int32_t std_off; /* UTC offsets (local - UTC), i.e. the negation of POSIX's */
  int32_t dst_off;
  int has_dst;
  rule_date_t start, end;
} posix_tz_t;

struct tz_s {
  char *name;
  int64_t *trans; /* transition instants, ascending */
  uint8_t *idx;   /* type index after each transition */
  int32_t *offs;  /* type offsets */
  uint32_t ntrans, ntypes;
  int32_t first_off; /* before the first transition: the first type (RFC 8536: type 0) */
  posix_tz_t footer;
};

/* ------------------------------------------------------------------ POSIX TZ strings */

static const char *parse_name(const char *p) {
  if (*p == '<') {
    while (*p && *p != '>') p++;
    return *p == '>' ? p + 1 : NULL;
  }
  const char *s = p;
  while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) p++;
  return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] -> seconds; hours up to 167 (for rule times). */
static const char *parse_hms(const char *p, int32_t *out) {
  int sign = 1;
  if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
  if (*p < '0' || *p > '9') return NULL;
  int h = 0, m = 0, s = 0;
  while (*p >= '0' && *p <= '9') {
    h = h * 10 + (*p++ - '0');
    if (h > 167) return NULL; /* before it can overflow */
  }
  if (*p == ':') {
    p++;
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') return NULL;
    m = (p[0] - '0') * 10 + (p[1] - '0');
    p += 2;
    if (*p == ':') {
      p++;
      if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') return NULL;
      s = (p[0] - '0') * 10 + (p[1] - '0');
      p += 2;
    }
  }
  *out = sign * (h * 3600 + m * 60 + s);
  return p;
}

static const char *parse_int(const char *p, int *out) {
  if (*p < '0' || *p > '9') return NULL;
  int v = 0;
  while (*p >= '0' && *p <= '9' && v < 100000) v = v * 10 + (*p++ - '0');
  *out = v;
  return p;
}

static const char *parse_rule_date(const char *p, rule_date_t *d) {
  d->time = 7200; /* default 02:00 */
  if (*p == 'J') {
    d->kind = 'J';
    if (!(p = parse_int(p + 1, &d->a)) || d->a < 1 || d->a > 365) return NULL;
  } else if (*p == 'M') {
    d->kind = 'M';
    if (!(p = parse_int(p + 1, &d->a)) || *p != '.' || !(p = parse_int(p + 1, &d->b)) || *p != '.' ||
        !(p = parse_int(p + 1, &d->c)))
      return NULL;
    if (d->a < 1 || d->a > 12 || d->b < 1 || d->b > 5 || d->c > 6) return NULL;
  } else {
    d->kind = 'N';
    if (!(p = parse_int(p, &d->a)) || d->a > 365) return NULL;
  }
  if (*p == '/' && !(p = parse_hms(p + 1, &d->time))) return NULL;
  return p;
}

static int parse_posix(const char *s, posix_tz_t *z) {
  memset(z, 0, sizeof *z);
  const char *p = parse_name(s);
  int32_t off;
  if (!p || !(p = parse_hms(p, &off))) return -1;
  z->std_off = -off;
  if (!*p) {
    z->valid = 1;
    return 0;
  }
  if (!(p = parse_name(p))) return -1;
  z->has_dst = 1;
  z->dst_off = z->std_off + 3600;
  if (*p && *p != ',') {
    if (!(p = parse_hms(p, &off))) return -1;
    z->dst_off = -off;
  }
  if (*p != ',') return -1; /* a DST zone without rules: not produced by zic */
  if (!(p = parse_rule_date(p + 1, &z->start)) || *p != ',' || !(p = parse_rule_date(p + 1, &z->end)) || *p)
    return -1;
  z->valid = 1;
  return 0;
}

/* Local seconds (since the epoch, wall clock) of a rule date in a given year, at its time. */
static int64_t rule_local(const rule_date_t *d, int64_t year) {
  int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int64_t jan1 = time_days_from_civil(year, 1, 1);
  int64_t day;
  if (d->kind == 'J') {
    day = jan1 + d->a - 1 + (leap && d->a >= 60 ? 1 : 0);
  } else if (d->kind == 'N') {
    day = jan1 + d->a;
  } else {
    int64_t first = time_days_from_civil(year, d->a, 1);
    int wd = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday (4) */
    int64_t mday = (d->c - wd + 7) % 7;         /* first weekday d->c of the month */
    mday += (int64_t)(d->b - 1) * 7;
    int dim = time_days_in_month(year, d->a);
    while (mday >= dim) mday -= 7; /* week 5 = last */
    day = first + mday;
  }
  return day * 86400 + d->time;
}

static int64_t year_of(int64_t t) {
  int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
  /* civil year of a day number */
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  return yoe + era * 400 + (mp >= 10);
}

/* The footer's DST start/end instants for a year. */
static void footer_year(const posix_tz_t *z, int64_t year, int64_t *start, int64_t *end) {
  *start = rule_local(&z->start, year) - z->std_off; /* DST starts at a standard-time wall clock */
  *end = rule_local(&z->end, year) - z->dst_off;     /* and ends at a daylight wall clock */
}

static int32_t footer_offset(const posix_tz_t *z, int64_t t) {
  if (!z->has_dst) return z->std_off;
  int64_t y = year_of(t);
  /* Look at the neighbouring years too: rule instants can fall in the adjacent UTC year. */
  int32_t off = z->std_off;
  int64_t best = INT64_MIN;
  for (int64_t yy = y - 1; yy <= y + 1; yy++) {
    int64_t s, e;
    footer_year(z, yy, &s, &e);
    if (s <= t && s > best) best = s, off = z->dst_off;
    if (e <= t && e > best) best = e, off = z->std_off;
  }
  return off;
}

/* ------------------------------------------------------------------ TZif */

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static int64_t be64(const unsigned char *p) { return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)); }

typedef struct {
  uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} hdr_t;

static int read_hdr(const unsigned char *p, size_t len, hdr_t *h) {
  if (len < 44 || memcmp(p, "TZif", 4) != 0) return -1;
  h->isutcnt = be32(p + 20);
  h->isstdcnt = be32(p + 24);
  h->leapcnt = be32(p + 28);
  h->timecnt = be32(p + 32);
  h->typecnt = be32(p + 36);
  h->charcnt = be32(p + 40);
  if (h->typecnt == 0 || h->typecnt > 256 || h->timecnt > 100000 || h->charcnt > 100000 || h->leapcnt > 100000 ||
      (h->isutcnt && h->isutcnt != h->typecnt) || (h->isstdcnt && h->isstdcnt != h->typecnt))
    return -1;
  return 0;
}

static size_t block_len(const hdr_t *h, int tsize) {
  return (size_t)h->timecnt * (size_t)tsize + h->timecnt + (size_t)h->typecnt * 6 + h->charcnt +
         (size_t)h->leapcnt * (size_t)(tsize + 4) + h->isstdcnt + h->isutcnt;
}

tz_t *tzif_parse(const unsigned char *data, size_t len) {
  hdr_t h;
  if (read_hdr(data, len, &h) != 0) return NULL;
  char version = (char)data[4];
  const unsigned char *p = data + 44;
  size_t left = len - 44;
  int tsize = 4;
  if (version >= '2') { /* skip the v1 block, use the 64-bit one */
    size_t skip = block_len(&h, 4);
    if (skip > left) return NULL;
    p += skip;
    left -= skip;
    if (read_hdr(p, left, &h) != 0) return NULL;
    p += 44;
    left -= 44;
    tsize = 8;
  }
  size_t need = block_len(&h, tsize);
  if (need > left) return NULL;
  tz_t *tz = xcalloc(1, sizeof *tz);
  tz->ntrans = h.timecnt;
  tz->ntypes = h.typecnt;
  tz->trans = xcalloc(h.timecnt ? h.timecnt : 1, sizeof *tz->trans);
  tz->idx = xcalloc(h.timecnt ? h.timecnt : 1, 1);
  tz->offs = xcalloc(h.typecnt, sizeof *tz->offs);
  for (uint32_t i = 0; i < h.timecnt; i++) {
    tz->trans[i] = tsize == 8 ? be64(p + (size_t)i * 8) : (int64_t)(int32_t)be32(p + (size_t)i * 4);
    if (i && tz->trans[i] <= tz->trans[i - 1]) goto bad;
  }
  p += (size_t)h.timecnt * (size_t)tsize;
  for (uint32_t i = 0; i < h.timecnt; i++) {
    tz->idx[i] = p[i];
    if (p[i] >= h.typecnt) goto bad;
  }
  p += h.timecnt;
  for (uint32_t i = 0; i < h.typecnt; i++) {
    int32_t off = (int32_t)be32(p + (size_t)i * 6);
    if (off < -25 * 3600 || off > 26 * 3600) goto bad;
    tz->offs[i] = off;
  }
  tz->first_off = tz->offs[0];
  p += (size_t)h.typecnt * 6;
  p += h.charcnt + (size_t)h.leapcnt * (size_t)(tsize + 4) + h.isstdcnt + h.isutcnt;
  left -= need;
  if (version >= '2' && left >= 2 && p[0] == '\n') { /* footer: "\nTZ\n" */
    const unsigned char *end = memchr(p + 1, '\n', left - 1);
    if (end && (size_t)(end - p - 1) < 128) {
      char s[128];
      memcpy(s, p + 1, (size_t)(end - p - 1));
      s[end - p - 1] = 0;
      if (s[0]) parse_posix(s, &tz->footer);
    }
  }
  return tz;
bad:
  tz_free(tz);
  return NULL;
}

void tz_free(tz_t *tz) {
  if (!tz) return;
  free(tz->name);
  free(tz->trans);
  free(tz->idx);
  free(tz->offs);
  free(tz);
}

int32_t tz_offset(const tz_t *tz, int64_t t) {
  if (tz->ntrans == 0 || t < tz->trans[0]) {
    if (tz->ntrans == 0 && tz->footer.valid) return footer_offset(&tz->footer, t);
    return tz->first_off;
  }
  if (t >= tz->trans[tz->ntrans - 1] && tz->footer.valid) {
    /* Past the table: the footer governs (its rule agrees with the last transition). */
    return footer_offset(&tz->footer, t);
  }
  uint32_t lo = 0, hi = tz->ntrans; /* last transition <= t */
  while (hi - lo > 1) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (tz->trans[mid] <= t) lo = mid;
    else hi = mid;
  }
  return tz->offs[tz->idx[lo]];
}

/* Transition instants in [from, to), ascending, at most max of them, from the table or the
 * footer's rules. */
static int transitions_between(const tz_t *tz, int64_t from, int64_t to, int64_t *out, int max) {
  int n = 0;
  uint32_t lo = 0, hi = tz->ntrans; /* first transition >= from */
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (tz->trans[mid] < from) lo = mid + 1;
    else hi = mid;
  }
  for (uint32_t i = lo; i < tz->ntrans && tz->trans[i] < to && n < max; i++) out[n++] = tz->trans[i];
  if (tz->footer.valid && tz->footer.has_dst) {
    int64_t last = tz->ntrans ? tz->trans[tz->ntrans - 1] : INT64_MIN;
    for (int64_t y = year_of(from) - 1; y <= year_of(to) + 1 && n < max; y++) {
      int64_t s, e;
      footer_year(&tz->footer, y, &s, &e);
      int64_t a = s < e ? s : e, b = s < e ? e : s;
      if (a >= from && a < to && a > last && n < max) out[n++] = a;
      if (b >= from && b < to && b > last && n < max) out[n++] = b;
    }
  }
  return n;
}

int64_t tz_local_to_utc(const tz_t *tz, int64_t local) {
  /* Offsets never exceed 26 h, so every instant whose wall clock can be `local` lies within
   * local -/+ 26 h. Candidates: the offsets in effect around every transition of that span. */
  int64_t trans[16];
  int n = transitions_between(tz, local - 26 * 3600, local + 26 * 3600, trans, 16);
  int64_t best = INT64_MAX;
  int32_t o = tz_offset(tz, local - 26 * 3600);
  if (tz_offset(tz, local - o) == o) best = local - o;
  for (int i = 0; i < n; i++) {
    int32_t before = tz_offset(tz, trans[i] - 1), after = tz_offset(tz, trans[i]);
    if (tz_offset(tz, local - before) == before && local - before < best) best = local - before;
    if (tz_offset(tz, local - after) == after && local - after < best) best = local - after;
  }
  if (best != INT64_MAX) return best; /* the first occurrence */
  /* Nonexistent (in a gap): read it with the offset before the gap. */
  for (int i = 0; i < n; i++) {
    int32_t before = tz_offset(tz, trans[i] - 1), after = tz_offset(tz, trans[i]);
    if (after > before && local >= trans[i] + before && local < trans[i] + after) return local - before;
  }
  return local - tz_offset(tz, local); /* unreachable for well-formed zones */
}

/* ------------------------------------------------------------------ cache */

/* Every zone name on this system, found once by walking TZ_DIR (tz_preload), mapped to its zone
 * once loaded (NULL before). A name that is not in the map is not a zone: tz_get answers it
 * without touching the file system, so clients sending made-up names cost a hash lookup. */
#define TZ_MAX_NAME 64    /* longest name accepted */
#define TZ_MAX_NAMES 4096 /* a tzdata release has about 600 (plus posix/ and right/, skipped) */
#define TZ_MAX_DEPTH 8

static map_t *g_zones;      /* name -> tz_t* (NULL until first used); NULL until tz_preload */
static size_t g_fs_lookups; /* zone files opened by tz_get (the start-up walk not counted) */

static int name_ok(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > TZ_MAX_NAME || name[0] == '/' || name[0] == '.' || strstr(name, "..") || strstr(name, "//") ||
      name[n - 1] == '/')
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '_' ||
          c == '-' || c == '+'))
      return 0;
  }
  /* The tzdata package's tool folders and aliases of the host's own setting are not zones. */
  if (strncmp(name, "posix/", 6) == 0 || strncmp(name, "right/", 6) == 0 || strcmp(name, "posixrules") == 0 ||
      strcmp(name, "localtime") == 0 || strcmp(name, "Factory") == 0)
    return 0;
  return 1;
}

static tz_t *load_file(const char *name) {
  char path[128];
  snprintf(path, sizeof path, TZ_DIR "/%s", name);
  g_fs_lookups++;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat st;
  tz_t *tz = NULL;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && st.st_size < TZ_MAX_FILE) {
    unsigned char *buf = xmalloc((size_t)st.st_size);
    size_t got = 0;
    ssize_t r;
    while (got < (size_t)st.st_size && (r = read(fd, buf + got, (size_t)st.st_size - got)) > 0) got += (size_t)r;
    if (got == (size_t)st.st_size) tz = tzif_parse(buf, got);
    free(buf);
  }
  close(fd);
  if (tz) tz->name = xstrdup(name);
  return tz;
}

/* Would load_file() find a zone here? The checks it makes before parsing, plus the TZif magic,
 * which keeps tzdata's other files (leapseconds) out of the name set. */
static int looks_like_zone(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  struct stat st;
  unsigned char magic[4];
  int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && st.st_size < TZ_MAX_FILE &&
           read(fd, magic, sizeof magic) == (ssize_t)sizeof magic && memcmp(magic, "TZif", 4) == 0;
  close(fd);
  return ok;
}

typedef struct {
  dev_t dev;
  ino_t ino;
} dir_id_t;

/* Adds the zone names under path (TZ_DIR "/" rel, rel at path + rel_off; rel is "" at the top)
 * to g_zones. Symbolic links are followed, as open() in load_file follows them; a directory
 * already on the way down is not entered again (a link loop would never end). */
static void walk(char *path, size_t rel_off, dir_id_t *up, int depth) {
  DIR *d = opendir(path);
  if (!d) return;
  size_t plen = strlen(path);
  struct dirent *e;
  while ((e = readdir(d)) != NULL && map_size(g_zones) < TZ_MAX_NAMES) {
    if (e->d_name[0] == '.') continue; /* ".", ".." and hidden files: name_ok refuses a leading '.' */
    size_t nlen = strlen(e->d_name);
    if (plen + 1 + nlen - rel_off > TZ_MAX_NAME) continue; /* rel would be too long: name_ok refuses it */
    if (depth == 0 && (strcmp(e->d_name, "posix") == 0 || strcmp(e->d_name, "right") == 0))
      continue; /* copies of every zone under names name_ok refuses */
    path[plen] = '/';
    memcpy(path + plen + 1, e->d_name, nlen + 1);
    const char *rel = path + rel_off;
    struct stat st;
    int is_dir = e->d_type == DT_DIR, maybe_file = e->d_type == DT_REG;
    if (e->d_type == DT_LNK || e->d_type == DT_UNKNOWN) {
      if (stat(path, &st) != 0) goto next;
      is_dir = S_ISDIR(st.st_mode);
      maybe_file = S_ISREG(st.st_mode);
    }
    if (is_dir && depth + 1 < TZ_MAX_DEPTH && stat(path, &st) == 0) {
      int loop = 0;
      for (int i = 0; i <= depth; i++) loop |= up[i].dev == st.st_dev && up[i].ino == st.st_ino;
      if (!loop) {
        up[depth + 1] = (dir_id_t){st.st_dev, st.st_ino};
        walk(path, rel_off, up, depth + 1);
      }
    } else if (maybe_file && name_ok(rel) && looks_like_zone(path)) {
      map_put(g_zones, rel, NULL); /* value: NULL until the zone is loaded */
    }
  next:
    path[plen] = '\0';
  }
  closedir(d);
}

size_t tz_preload(void) {
  if (g_zones) return map_size(g_zones);
  /* One more than the walk may add, so the map never clears itself (map.h). */
  g_zones = map_new(sizeof(tz_t *), TZ_MAX_NAMES + 1);
  char path[sizeof TZ_DIR + TZ_MAX_NAME + 2] = TZ_DIR;
  dir_id_t up[TZ_MAX_DEPTH];
  struct stat st;
  if (stat(path, &st) != 0) return 0; /* no tzdata: no zones, as before */
  up[0] = (dir_id_t){st.st_dev, st.st_ino};
  walk(path, sizeof TZ_DIR, up, 0);
  return map_size(g_zones);
}

size_t tz_fs_lookups(void) { return g_fs_lookups; }

const tz_t *tz_get(const char *name) {
  if (!name || !name_ok(name)) return NULL;
  if (!g_zones) tz_preload();
  tz_t **slot = map_get(g_zones, name);
  if (!slot) return NULL; /* not a zone on this system: no file-system call */
  if (*slot) return *slot;
  tz_t *tz = load_file(name); /* the zone's first use: its one file-system call */
  if (!tz) {
    map_del(g_zones, name); /* listed but unreadable or malformed: remembered as a miss */
    return NULL;
  }
  *slot = tz; /* the map never grows after the walk, so zones handed out stay valid */
  return tz;
}

const char *tz_name(const tz_t *tz) { return tz->name; }

void tz_format_rfc3339(const tz_t *tz, int64_t t, char *out, size_t outlen) {
  int32_t off = tz_offset(tz, t);
  char iso[40];
  time_format_utc(t + off, iso, sizeof iso);
  iso[19] = 0; /* drop the Z */
  int32_t a = off < 0 ? -off : off;
  if (off == 0) snprintf(out, outlen, "%sZ", iso);
  else snprintf(out, outlen, "%s%c%02d:%02d", iso, off < 0 ? '-' : '+', (int)(a / 3600), (int)(a / 60 % 60));
}

static int free_entry(const char *key, void *value, void *ctx) {
  (void)key, (void)ctx;
  tz_free(*(tz_t **)value); /* NULL for a zone never used */
  return 1;
}

void tz_cache_free(void) {
  if (!g_zones) return;
  map_filter(g_zones, free_entry, NULL);
  map_free(g_zones);
  g_zones = NULL;
}
