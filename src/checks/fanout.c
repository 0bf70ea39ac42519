/* Check: fan-out — an account younger than new_account_age reaching more than fanout.max
 * distinct recipients within fanout.window is held. Per new sender it keeps the most recent
 * distinct recipients (32-bit hash, time), at most fanout.max of them, so memory follows the
 * active new senders; old senders keep nothing. */
#include <string.h>

#include "checks/checks.h"
#include "util/alloc.h"
#include "util/hash.h"

struct seen {
    uint32_t h;      /* recipient hash */
    uint32_t at_s;   /* seconds since the epoch */
};

struct fan {
    struct fan *next;
    uint64_t key;
    uint32_t cap, n;
    struct seen seen[];
};

struct fanout {
    struct sg_engine *engine;
    pthread_mutex_t lock;
    struct fan **buckets;
    size_t nbuckets, count;
    uint64_t ops;
};

enum { MAX_TRACKED = 4096 };

int sg__check_fanout_init(struct sg_engine *engine, void **state)
{
    struct fanout *f = sg__calloc(1, sizeof *f);
    if (!f)
        return SG_ENOMEM;
    f->engine = engine;
    f->nbuckets = 1024;
    f->buckets = sg__calloc(f->nbuckets, sizeof *f->buckets);
    if (!f->buckets) {
        sg__free(f);
        return SG_ENOMEM;
    }
    pthread_mutex_init(&f->lock, NULL);
    *state = f;
    return 0;
}

void sg__check_fanout_free(void *state)
{
    struct fanout *f = state;
    if (!f)
        return;
    for (size_t i = 0; i < f->nbuckets; i++)
        for (struct fan *x = f->buckets[i], *n; x; x = n) {
            n = x->next;
            sg__free(x);
        }
    pthread_mutex_destroy(&f->lock);
    sg__free(f->buckets);
    sg__free(f);
}

static struct fan **find(struct fanout *f, uint64_t key)
{
    struct fan **p = &f->buckets[key & (f->nbuckets - 1)];
    while (*p && (*p)->key != key)
        p = &(*p)->next;
    return p;
}

/* Drops recipients older than the window; returns how many remain. */
static uint32_t prune(struct fan *x, uint32_t now_s, int64_t window_s)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < x->n; i++)
        if ((int64_t)now_s - x->seen[i].at_s < window_s)
            x->seen[k++] = x->seen[i];
    x->n = k;
    return k;
}

static bool seen_has(const struct seen *s, uint32_t n, uint32_t h)
{
    for (uint32_t i = 0; i < n; i++)
        if (s[i].h == h)
            return true;
    return false;
}

static bool applies(const struct sg_ctx *ctx)
{
    return ctx->chp->fanout_max && sg__ctx_account_younger(ctx, ctx->chp->new_account_age_s);
}

static uint32_t recipient_hash(const struct sg_ctx *ctx, size_t i)
{
    const char *r = ctx->ev->recipients[i];
    return (uint32_t)sg__hash(r, strlen(r), ctx->engine->seed);
}

int sg__check_fanout_run(void *state, struct sg_ctx *ctx)
{
    struct fanout *f = state;
    if (!applies(ctx) || sg__ctx_refused(ctx))
        return 0;
    uint32_t max = ctx->chp->fanout_max;
    uint32_t now_s = (uint32_t)(ctx->now / 1000000);
    /* Distinct recipients so far in the window plus this message's new ones, counted until the
     * limit is passed. The message's own hashes are kept in the arena to dedupe it. */
    uint32_t *mine = sg__arena_alloc(ctx->arena, (max + 1) * sizeof *mine);
    if (!mine)
        return SG_ENOMEM;
    uint32_t distinct = 0, nmine = 0;
    pthread_mutex_lock(&f->lock);
    struct fan *x = *find(f, ctx->sender_key);
    if (x)
        distinct = prune(x, now_s, ctx->chp->fanout_window_s);
    for (size_t i = 0; i < ctx->ev->nrecipients && distinct <= max; i++) {
        uint32_t h = recipient_hash(ctx, i);
        bool dup = (x && seen_has(x->seen, x->n, h));
        for (uint32_t j = 0; !dup && j < nmine; j++)
            dup = mine[j] == h;
        if (!dup) {
            mine[nmine++] = h;
            distinct++;
        }
    }
    pthread_mutex_unlock(&f->lock);
    if (distinct > max)
        sg__ctx_reason(ctx, SG_R_FANOUT_NEW_ACCOUNT,
                       "New accounts can reach at most %u different people an hour; this message "
                       "is held for a moderator.", max);
    return 0;
}

/* Frees every sender whose recipients have all left the window. The lock is held. */
static void sweep(struct fanout *f, uint32_t now_s, int64_t window_s)
{
    for (size_t i = 0; i < f->nbuckets; i++)
        for (struct fan **p = &f->buckets[i]; *p;) {
            if (prune(*p, now_s, window_s) == 0) {
                struct fan *dead = *p;
                *p = dead->next;
                sg__free(dead);
                f->count--;
            } else {
                p = &(*p)->next;
            }
        }
}

static void grow(struct fanout *f)
{
    size_t n = f->nbuckets * 2;
    struct fan **b = sg__calloc(n, sizeof *b);
    if (!b)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < f->nbuckets; i++)
        for (struct fan *x = f->buckets[i], *next; x; x = next) {
            next = x->next;
            x->next = b[x->key & (n - 1)];
            b[x->key & (n - 1)] = x;
        }
    sg__free(f->buckets);
    f->buckets = b;
    f->nbuckets = n;
}

void sg__check_fanout_commit(void *state, struct sg_ctx *ctx)
{
    struct fanout *f = state;
    if (!applies(ctx))
        return;
    uint32_t cap = ctx->chp->fanout_max < MAX_TRACKED ? ctx->chp->fanout_max : MAX_TRACKED;
    uint32_t now_s = (uint32_t)(ctx->now / 1000000);
    pthread_mutex_lock(&f->lock);
    if (++f->ops % 4096 == 0)
        sweep(f, now_s, ctx->chp->fanout_window_s);
    struct fan **p = find(f, ctx->sender_key);
    struct fan *x = *p;
    if (x && x->cap < cap) { /* the policy's maximum grew */
        struct fan *bigger = sg__realloc(x, sizeof *x + cap * sizeof x->seen[0]);
        if (bigger) {
            bigger->cap = cap;
            *p = x = bigger;
        }
    }
    if (!x) {
        x = sg__malloc(sizeof *x + cap * sizeof x->seen[0]);
        if (!x) {
            pthread_mutex_unlock(&f->lock);
            return;
        }
        x->key = ctx->sender_key;
        x->cap = cap;
        x->n = 0;
        x->next = NULL;
        *p = x;
        if (++f->count > f->nbuckets * 2)
            grow(f);
    }
    prune(x, now_s, ctx->chp->fanout_window_s);
    for (size_t i = 0; i < ctx->ev->nrecipients; i++) {
        uint32_t h = recipient_hash(ctx, i);
        struct seen s = {h, now_s};
        bool updated = false;
        for (uint32_t j = 0; j < x->n && !updated; j++)
            if (x->seen[j].h == h) {
                x->seen[j].at_s = now_s;
                updated = true;
            }
        if (updated)
            continue;
        if (x->n < x->cap) {
            x->seen[x->n++] = s;
        } else { /* full: the oldest leaves */
            uint32_t oldest = 0;
            for (uint32_t j = 1; j < x->n; j++)
                if (x->seen[j].at_s < x->seen[oldest].at_s)
                    oldest = j;
            x->seen[oldest] = s;
        }
    }
    pthread_mutex_unlock(&f->lock);
}
