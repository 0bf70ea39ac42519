/* A cache of compiled Hyperscan databases on disk: compiling the shipped rules takes seconds,
 * deserialising them milliseconds, and every `sendguard` run would otherwise pay the compile.
 * Keyed by a 128-bit hash of Hyperscan's version and every expression with its flags and id, so
 * any change to the rules (or the library) misses. The cache lives in a directory only the user
 * can write ($SENDGUARD_CACHE_DIR, else $XDG_CACHE_HOME/sendguard, else ~/.cache/sendguard);
 * anything wrong with it (missing, foreign, unreadable, corrupt) just means compiling. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hs.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rules/hscache.h"
#include "util/alloc.h"
#include "util/hash.h"

#define SG_HSCACHE_MAX_BYTES (256u << 20)
/* Only compiles slower than this are worth a file (the shipped rules take seconds; a test's
 * or a fuzz input's small set takes milliseconds and would only fill the directory). */
#define SG_HSCACHE_MIN_COMPILE_NS 100000000LL
/* At most this many entries: saving one more removes the oldest. */
#define SG_HSCACHE_MAX_ENTRIES 16

bool sg__hs_cache_dir(char *out, size_t size)
{
    const char *env = getenv("SENDGUARD_CACHE_DIR");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (env && *env)
        n = snprintf(out, size, "%s", env);
    else if (xdg && *xdg == '/')
        n = snprintf(out, size, "%s/sendguard", xdg);
    else if (home && *home == '/')
        n = snprintf(out, size, "%s/.cache/sendguard", home);
    else
        return false;
    if (n < 0 || (size_t)n >= size)
        return false;
    if (mkdir(out, 0700) != 0 && errno != EEXIST) {
        /* ~/.cache itself may be missing */
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s", out);
        char *slash = strrchr(parent, '/');
        if (!slash || slash == parent)
            return false;
        *slash = '\0';
        if (mkdir(parent, 0700) != 0 && errno != EEXIST)
            return false;
        if (mkdir(out, 0700) != 0 && errno != EEXIST)
            return false;
    }
    /* Only a real directory of ours that nobody else can write may feed the scanner. */
    struct stat st;
    return lstat(out, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
           (st.st_mode & 022) == 0;
}

static void cache_key(const char *const *texts, const unsigned *flags, const unsigned *ids,
                      unsigned n, uint64_t key[2])
{
    const char *version = hs_version();
    key[0] = sg__hash(version, strlen(version), 0x5347484353ULL);
    key[1] = sg__hash(version, strlen(version), 0x9e3779b97f4a7c15ULL);
    for (unsigned i = 0; i < n; i++) {
        uint64_t fid[2] = {flags[i], ids[i]};
        for (int k = 0; k < 2; k++) {
            key[k] = sg__hash(texts[i], strlen(texts[i]) + 1, key[k]);
            key[k] = sg__hash(fid, sizeof fid, key[k]);
        }
    }
}

static hs_database_t *load(const char *path)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    hs_database_t *db = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() && st.st_size > 0 &&
        (uint64_t)st.st_size <= SG_HSCACHE_MAX_BYTES) {
        char *bytes = sg__malloc((size_t)st.st_size);
        if (bytes && read(fd, bytes, (size_t)st.st_size) == st.st_size &&
            hs_deserialize_database(bytes, (size_t)st.st_size, &db) != HS_SUCCESS)
            db = NULL;
        sg__free(bytes);
    }
    close(fd);
    return db;
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Keeps the directory to SG_HSCACHE_MAX_ENTRIES - 1 entries by removing the oldest. */
static void prune(const char *dir)
{
    for (;;) {
        DIR *d = opendir(dir);
        if (!d)
            return;
        int n = 0;
        char oldest[PATH_MAX] = "";
        struct timespec oldest_at = {0, 0};
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t len = strlen(e->d_name);
            if (len < 6 || e->d_name[0] == '.' || strcmp(e->d_name + len - 5, ".hsdb") != 0)
                continue;
            char path[PATH_MAX];
            struct stat st;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (lstat(path, &st) != 0)
                continue;
            n++;
            if (!oldest[0] || st.st_mtim.tv_sec < oldest_at.tv_sec ||
                (st.st_mtim.tv_sec == oldest_at.tv_sec && st.st_mtim.tv_nsec < oldest_at.tv_nsec)) {
                snprintf(oldest, sizeof oldest, "%s", path);
                oldest_at = st.st_mtim;
            }
        }
        closedir(d);
        if (n < SG_HSCACHE_MAX_ENTRIES || unlink(oldest) != 0)
            return;
    }
}

/* Writes atomically (a private temporary file, then rename); failures are ignored. */
static void save(const char *dir, const char *path, const hs_database_t *db)
{
    char *bytes = NULL;
    size_t len = 0;
    if (hs_serialize_database(db, &bytes, &len) != HS_SUCCESS)
        return;
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/.hsdb-XXXXXX", dir);
    int fd = mkstemp(tmp);
    if (fd >= 0) {
        bool ok = write(fd, bytes, len) == (ssize_t)len;
        ok = close(fd) == 0 && ok;
        if (!ok || rename(tmp, path) != 0)
            unlink(tmp);
    }
    free(bytes); /* Hyperscan's misc allocator: the C library's malloc */
}

hs_error_t sg__hs_compile_cached(const char *const *texts, const unsigned *flags,
                                 const unsigned *ids, unsigned n, hs_database_t **db,
                                 hs_compile_error_t **cerr)
{
    char dir[PATH_MAX - 64], path[PATH_MAX];
    bool cached = sg__hs_cache_dir(dir, sizeof dir);
    if (cached) {
        uint64_t key[2];
        cache_key(texts, flags, ids, n, key);
        snprintf(path, sizeof path, "%s/%016llx%016llx.hsdb", dir, (unsigned long long)key[0],
                 (unsigned long long)key[1]);
        if ((*db = load(path))) {
            *cerr = NULL;
            return HS_SUCCESS;
        }
    }
    long long start = now_ns();
    hs_error_t rc = hs_compile_multi(texts, flags, ids, n, HS_MODE_BLOCK, NULL, db, cerr);
    /* SENDGUARD_CACHE_MIN_MS overrides the threshold (tests cache their small sets with 0). */
    const char *min_ms = getenv("SENDGUARD_CACHE_MIN_MS");
    long long min_ns = min_ms && *min_ms ? strtoll(min_ms, NULL, 10) * 1000000LL
                                         : SG_HSCACHE_MIN_COMPILE_NS;
    if (rc == HS_SUCCESS && cached && now_ns() - start >= min_ns) {
        prune(dir);
        save(dir, path, *db);
    }
    return rc;
}
