/* The public rate limiter (sg_limiter_*): util/gcra.c behind the public header, for the doors
 * (the daemon counts authentication failures per client address with it). Keys are hashed
 * under a per-limiter random seed so outsiders cannot aim collisions. */
#include <stdbool.h>
#include <sys/random.h>

#include "sendguard.h"
#include "util/alloc.h"
#include "util/gcra.h"
#include "util/hash.h"

struct sg_limiter {
    struct sg_gcra_table *table;
    uint64_t seed;
};

int sg_limiter_new(struct sg_limiter **out)
{
    *out = NULL;
    struct sg_limiter *lim = sg__calloc(1, sizeof *lim);
    if (!lim)
        return SG_ENOMEM;
    if (getrandom(&lim->seed, sizeof lim->seed, 0) != (ssize_t)sizeof lim->seed)
        lim->seed = (uint64_t)(uintptr_t)lim ^ 0x9e3779b97f4a7c15ULL; /* still per process */
    if (!(lim->table = sg__gcra_new(16))) {
        sg__free(lim);
        return SG_ENOMEM;
    }
    *out = lim;
    return 0;
}

void sg_limiter_free(struct sg_limiter *lim)
{
    if (!lim)
        return;
    sg__gcra_free(lim->table);
    sg__free(lim);
}

static int run(struct sg_limiter *lim, const void *key, size_t key_len, uint32_t limit,
               uint32_t period_s, sg_time now, int64_t *retry_after_s, bool take)
{
    if (!lim || (!key && key_len) || limit == 0 || period_s == 0)
        return SG_EINVAL;
    struct sg_gcra_rule rule = {.nwindows = 1, .w = {{limit, period_s}}};
    uint64_t h = sg__hash(key, key_len, lim->seed);
    int64_t wait = 0;
    int rc = take ? sg__gcra_take(lim->table, h, &rule, 1, now, &wait)
                  : sg__gcra_peek(lim->table, h, &rule, 1, now, &wait);
    if (rc == 0 && retry_after_s)
        *retry_after_s = wait < 0 ? (int64_t)period_s : (wait + 999999) / 1000000;
    return rc;
}

int sg_limiter_take(struct sg_limiter *lim, const void *key, size_t key_len, uint32_t limit,
                    uint32_t period_s, sg_time now, int64_t *retry_after_s)
{
    return run(lim, key, key_len, limit, period_s, now, retry_after_s, true);
}

int sg_limiter_peek(struct sg_limiter *lim, const void *key, size_t key_len, uint32_t limit,
                    uint32_t period_s, sg_time now, int64_t *retry_after_s)
{
    return run(lim, key, key_len, limit, period_s, now, retry_after_s, false);
}
