/* Checking a rule's regex where it is read (so a bad one is reported at its own file and line,
 * in the words of the pattern as written) runs Hyperscan's full analysis, hs_expression_info,
 * once per regex: for the shipped rules that is over half of loading them, paid by every
 * `sendguard` run although the rules seldom change. So the regexes that passed are remembered
 * as 64-bit hashes (of Hyperscan's version, the flags and the text) in one sorted file in the
 * compile cache's directory (hscache.c), and a known one is not analysed again.
 *
 * A wrong entry (a collision, a forged file) can only skip this early check: every regex is
 * still compiled, and a compile failure is reported at its rule and line as well (compile.c).
 * Anything wrong with the file just means checking again. */
#include "rules/regex_memo.h"

#include <fcntl.h>
#include <hs.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules/hscache.h"
#include "util/alloc.h"
#include "util/hash.h"

/* Far more regexes than any rule set has; a file past this is not read (a fresh one replaces
 * it with what this run checked). */
#define MEMO_MAX_ENTRIES 65536u
#define MEMO_FILE "regexes-checked"

struct sg__regex_memo {
    uint64_t *known; /* sorted */
    size_t nknown;
    uint64_t *fresh; /* added by this run, unsorted */
    size_t nfresh, cap;
    uint64_t seed;   /* from Hyperscan's version */
    char dir[PATH_MAX - 64];
    bool has_dir;
};

static uint64_t key_of(const struct sg__regex_memo *m, const char *re, unsigned flags)
{
    return sg__hash(re, strlen(re), m->seed ^ ((uint64_t)flags * 0x9e3779b97f4a7c15ULL));
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void read_known(struct sg__regex_memo *m)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", m->dir, MEMO_FILE);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() && st.st_size > 0 &&
        st.st_size % 8 == 0 && (uint64_t)st.st_size <= MEMO_MAX_ENTRIES * 8ull) {
        size_t n = (size_t)st.st_size / 8;
        m->known = sg__malloc(n * sizeof *m->known);
        if (m->known && read(fd, m->known, n * 8) == st.st_size) {
            m->nknown = n;
            /* Written sorted; a file that is not is someone else's and not trusted. */
            for (size_t i = 1; i < n; i++)
                if (m->known[i - 1] >= m->known[i])
                    m->nknown = 0;
        }
    }
    close(fd);
}

struct sg__regex_memo *sg__regex_memo_open(void)
{
    struct sg__regex_memo *m = sg__calloc(1, sizeof *m);
    if (!m)
        return NULL;
    const char *version = hs_version();
    m->seed = sg__hash(version, strlen(version), 0x52454d454d4fULL);
    m->has_dir = sg__hs_cache_dir(m->dir, sizeof m->dir);
    if (m->has_dir)
        read_known(m);
    return m;
}

bool sg__regex_memo_known(const struct sg__regex_memo *m, const char *re, unsigned flags)
{
    if (!m || !m->nknown)
        return false;
    uint64_t k = key_of(m, re, flags);
    return bsearch(&k, m->known, m->nknown, sizeof k, cmp_u64) != NULL;
}

void sg__regex_memo_add(struct sg__regex_memo *m, const char *re, unsigned flags)
{
    if (!m || !m->has_dir)
        return;
    if (m->nfresh == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 256;
        uint64_t *grown = sg__realloc(m->fresh, cap * sizeof *grown);
        if (!grown)
            return; /* only costs a check next time */
        m->fresh = grown;
        m->cap = cap;
    }
    m->fresh[m->nfresh++] = key_of(m, re, flags);
}

/* known and fresh merged, sorted and without repeats, into a new array of *n entries. */
static uint64_t *merged(struct sg__regex_memo *m, size_t *n)
{
    size_t total = m->nknown + m->nfresh;
    if (total > MEMO_MAX_ENTRIES)
        m->nknown = 0, total = m->nfresh;
    uint64_t *all = sg__malloc(total * sizeof *all);
    if (!all)
        return NULL;
    memcpy(all, m->fresh, m->nfresh * sizeof *all);
    if (m->nknown)
        memcpy(all + m->nfresh, m->known, m->nknown * sizeof *all);
    qsort(all, total, sizeof *all, cmp_u64);
    size_t k = 0;
    for (size_t i = 0; i < total; i++)
        if (k == 0 || all[k - 1] != all[i])
            all[k++] = all[i];
    *n = k > MEMO_MAX_ENTRIES ? MEMO_MAX_ENTRIES : k;
    return all;
}

void sg__regex_memo_close(struct sg__regex_memo *m)
{
    if (!m)
        return;
    size_t n = 0;
    uint64_t *all = m->nfresh ? merged(m, &n) : NULL;
    if (all) {
        char tmp[PATH_MAX], path[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s/.regexes-XXXXXX", m->dir);
        snprintf(path, sizeof path, "%s/%s", m->dir, MEMO_FILE);
        int fd = mkstemp(tmp);
        if (fd >= 0) {
            bool ok = write(fd, all, n * sizeof *all) == (ssize_t)(n * sizeof *all);
            ok = close(fd) == 0 && ok;
            if (!ok || rename(tmp, path) != 0)
                unlink(tmp);
        }
        sg__free(all);
    }
    sg__free(m->known);
    sg__free(m->fresh);
    sg__free(m);
}
