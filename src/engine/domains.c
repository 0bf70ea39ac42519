/* The seen-domain set: open addressing over 64-bit keys behind a reader-writer lock. Lookups
 * (every message with links) share the lock; adds (a delivered message with a new domain,
 * rare once a tenant's usual domains are known) take it alone. See domains.h. */
#include "engine/domains.h"

#include <pthread.h>
#include <string.h>

#include "sendguard.h"
#include "util/alloc.h"

/* A tenant's history: its delivered messages with links. Tenants are few (a table of them,
 * grown by doubling, is never the bound). */
struct tenant_history {
    uint64_t key; /* 0: empty, as in slots */
    uint64_t messages;
};

struct sg_seen_domains {
    pthread_rwlock_t lock;
    uint64_t *slots; /* 0: empty; a key that hashes to 0 is stored as 1 (a 2^-64 collision) */
    size_t cap, count, max;
    struct tenant_history *tenants;
    size_t tenants_cap, ntenants;
};

struct sg_seen_domains *sg__seen_domains_new(size_t max)
{
    struct sg_seen_domains *s = sg__calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->max = max ? max : SG_SEEN_DOMAINS_MAX;
    s->cap = 1024;
    if (!(s->slots = sg__calloc(s->cap, sizeof *s->slots))) {
        sg__free(s);
        return NULL;
    }
    pthread_rwlock_init(&s->lock, NULL);
    return s;
}

void sg__seen_domains_free(struct sg_seen_domains *s)
{
    if (!s)
        return;
    pthread_rwlock_destroy(&s->lock);
    sg__free(s->slots);
    sg__free(s->tenants);
    sg__free(s);
}

static uint64_t norm_key(uint64_t k) { return k ? k : 1; }

/* The slot holding k, or the empty slot where it would go. The keys are hashes already, so
 * their low bits index directly. */
static size_t find(const struct sg_seen_domains *s, uint64_t k)
{
    size_t mask = s->cap - 1;
    size_t i = (size_t)k & mask;
    while (s->slots[i] && s->slots[i] != k)
        i = (i + 1) & mask;
    return i;
}

static bool has(const struct sg_seen_domains *s, uint64_t k) { return s->slots[find(s, k)] != 0; }

/* Doubles the table; the exclusive lock is held. Load stays at or under a half. */
static int grow(struct sg_seen_domains *s)
{
    size_t cap = s->cap * 2;
    uint64_t *slots = sg__calloc(cap, sizeof *slots);
    if (!slots)
        return SG_ENOMEM;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->slots[i])
            continue;
        size_t j = (size_t)s->slots[i] & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = s->slots[i];
    }
    sg__free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return 0;
}

/* The tenant's entry, or the empty one where it would go (tenants_cap > 0). */
static struct tenant_history *tenant_find(const struct sg_seen_domains *s, uint64_t k)
{
    size_t mask = s->tenants_cap - 1;
    size_t i = (size_t)k & mask;
    while (s->tenants[i].key && s->tenants[i].key != k)
        i = (i + 1) & mask;
    return &s->tenants[i];
}

static uint64_t history_of(const struct sg_seen_domains *s, uint64_t k)
{
    return s->tenants_cap ? __atomic_load_n(&tenant_find(s, k)->messages, __ATOMIC_RELAXED) : 0;
}

/* Makes room for one more tenant (load at most a half); the exclusive lock is held. */
static int tenants_reserve(struct sg_seen_domains *s)
{
    if ((s->ntenants + 1) * 2 <= s->tenants_cap)
        return 0;
    size_t cap = s->tenants_cap ? s->tenants_cap * 2 : 16;
    struct tenant_history *grown = sg__calloc(cap, sizeof *grown);
    if (!grown)
        return SG_ENOMEM;
    struct tenant_history *old = s->tenants;
    size_t old_cap = s->tenants_cap;
    s->tenants = grown;
    s->tenants_cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].key)
            *tenant_find(s, old[i].key) = old[i];
    sg__free(old);
    return 0;
}

int sg__seen_domains_history_add(struct sg_seen_domains *s, uint64_t tenant_key,
                                 uint64_t messages)
{
    uint64_t k = norm_key(tenant_key);
    /* Every delivered message with links comes here: a known tenant's count moves under the
     * shared lock (an atomic add), so judging threads never queue behind one another. */
    pthread_rwlock_rdlock(&s->lock);
    struct tenant_history *t = s->tenants_cap ? tenant_find(s, k) : NULL;
    bool known = t && t->key;
    if (known)
        __atomic_add_fetch(&t->messages, messages, __ATOMIC_RELAXED);
    pthread_rwlock_unlock(&s->lock);
    if (known)
        return 0;
    pthread_rwlock_wrlock(&s->lock);
    int rc = tenants_reserve(s);
    if (!rc) {
        t = tenant_find(s, k); /* another thread may have added it meanwhile */
        if (!t->key) {
            t->key = k;
            s->ntenants++;
        }
        t->messages += messages;
    }
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

void sg__seen_domains_lookup(struct sg_seen_domains *s, uint64_t tenant_key, uint64_t min_history,
                             const uint64_t *keys, size_t n, int8_t *seen)
{
    pthread_rwlock_rdlock(&s->lock);
    bool unknown = s->count >= s->max || history_of(s, norm_key(tenant_key)) < min_history;
    for (size_t i = 0; i < n; i++)
        seen[i] = has(s, norm_key(keys[i])) ? 1 : unknown ? -1 : 0;
    pthread_rwlock_unlock(&s->lock);
}

size_t sg__seen_domains_add(struct sg_seen_domains *s, const uint64_t *keys, size_t n,
                            bool *added, bool *dropped)
{
    bool missing = false, dropped_any = false;
    pthread_rwlock_rdlock(&s->lock);
    bool full = s->count >= s->max;
    for (size_t i = 0; i < n && !missing; i++)
        missing = !has(s, norm_key(keys[i]));
    pthread_rwlock_unlock(&s->lock);
    memset(added, 0, n * sizeof *added);
    if (dropped)
        *dropped = missing && full;
    if (!missing || full)
        return 0;
    size_t nadded = 0;
    pthread_rwlock_wrlock(&s->lock);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = norm_key(keys[i]);
        size_t at = find(s, k);
        if (s->slots[at])
            continue;
        /* Out of memory: the domain stays new, which errs towards attention. */
        if (s->count >= s->max || ((s->count + 1) * 2 > s->cap && grow(s) != 0)) {
            dropped_any = true;
            continue;
        }
        at = find(s, k); /* the table may have grown */
        s->slots[at] = k;
        s->count++;
        added[i] = true;
        nadded++;
    }
    pthread_rwlock_unlock(&s->lock);
    if (dropped)
        *dropped = dropped_any;
    return nadded;
}

size_t sg__seen_domains_count(struct sg_seen_domains *s)
{
    pthread_rwlock_rdlock(&s->lock);
    size_t n = s->count;
    pthread_rwlock_unlock(&s->lock);
    return n;
}

bool sg__seen_domains_full(struct sg_seen_domains *s)
{
    pthread_rwlock_rdlock(&s->lock);
    bool full = s->count >= s->max;
    pthread_rwlock_unlock(&s->lock);
    return full;
}
