#include "tz.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define TZ_DIR "/usr/share/zoneinfo"

int tz_valid(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > 64 || name[0] == '/' || name[0] == '.' || strstr(name, "..") || strstr(name, "//"))
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '_' ||
          c == '-' || c == '+'))
      return 0;
  }
  /* Not the tool folders of the tzdata package. */
  if (strncmp(name, "posix/", 6) == 0 || strncmp(name, "right/", 6) == 0 || strcmp(name, "posixrules") == 0 ||
      strcmp(name, "localtime") == 0 || strcmp(name, "Factory") == 0)
    return 0;
  char path[128];
  snprintf(path, sizeof path, TZ_DIR "/%s", name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char magic[4];
  ssize_t r = read(fd, magic, sizeof magic);
  close(fd);
  return r == 4 && memcmp(magic, "TZif", 4) == 0;
}
