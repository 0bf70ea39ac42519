/* GCRA rate limiting over a sharded open-addressing table (semantics in gcra.h).
 * Each shard is a linear-probing array of 40-byte entries under its own mutex; deletion shifts
 * entries back instead of leaving tombstones, so idle keys can be dropped at any moment cheaply. */
#include "util/gcra.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "sendguard.h"
#include "util/alloc.h"
#include "util/hash.h"

#define US_PER_S 1000000
#define MAX_SHARDS 4096
#define MIN_CAP 8
/* Slots the incremental expiry looks at per call: enough to lap the table long before it has
 * to grow, cheap enough to stay invisible next to the lock. */
#define STEP_SLOTS 3
/* TATs saturate here so that adding a period or comparing with `now` can never overflow. */
#define TAT_MAX (INT64_MAX / 4)

struct entry {
    uint64_t key; /* 0 marks an empty slot; key 0 itself lives in shard.zero */
    int64_t tat[SG_GCRA_MAX_WINDOWS];
};

struct shard {
    pthread_mutex_t lock;
    struct entry *slots;
    size_t cap; /* 0 (nothing allocated yet) or a power of two */
    size_t count; /* occupied slots, key 0 not included */
    size_t cursor; /* where the incremental expiry resumes */
    bool has_zero;
    struct entry zero;
};

/* Shards are padded to whole cache lines so that two threads on neighbouring shards do not
 * bounce one line between cores. */
union padded_shard {
    struct shard s;
    char pad[(sizeof(struct shard) + 63) / 64 * 64];
};

struct sg_gcra_table {
    union padded_shard *shards;
    unsigned nshards;
    unsigned shard_bits;
};

/* The caller's key is already a hash, but tests and careless callers pass sequential numbers;
 * a bijective finaliser spreads those over shards (high bits) and slots (low bits). */
static inline uint64_t mix(uint64_t k) { return sg__hash_u64(k); }

static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

static inline int64_t sat_add(int64_t a, int64_t b)
{
    return a > TAT_MAX - b ? TAT_MAX : a + b;
}

/* cost * period / limit in microseconds, floored. Computing the whole cost at once (not cost
 * times a rounded interval) keeps a burst of exactly `limit` equal to the period; flooring
 * errs by under 1 µs per charge, i.e. a relative slack below 1/interval_us. */
static int64_t increment(uint32_t cost, const struct sg_gcra_window *w)
{
    /* floor(a * 1e6 / L) without a 128-bit type: with a = q*L + r it is q*1e6 + floor(r*1e6/L),
     * and r*1e6 < 2^32 * 2^20 cannot overflow. */
    uint64_t a = (uint64_t)cost * w->period_s;
    uint64_t q = a / w->limit, r = a % w->limit;
    if (q > (uint64_t)TAT_MAX / US_PER_S)
        return TAT_MAX;
    int64_t x = (int64_t)(q * US_PER_S + r * US_PER_S / w->limit);
    if (x == 0 && cost > 0)
        return 1; /* rates above one unit per µs are not representable: cap them there */
    return x;
}

static unsigned nwindows(const struct sg_gcra_rule *rule)
{
    if (!rule)
        return 0;
    return rule->nwindows < SG_GCRA_MAX_WINDOWS ? rule->nwindows : SG_GCRA_MAX_WINDOWS;
}

static bool is_idle(const struct entry *e, int64_t now)
{
    for (int i = 0; i < SG_GCRA_MAX_WINDOWS; i++)
        if (e->tat[i] > now)
            return false;
    return true;
}

/* ---- table -------------------------------------------------------------------------------- */

static struct shard *shard_of(struct sg_gcra_table *t, uint64_t key, uint64_t *h)
{
    *h = mix(key);
    unsigned idx = t->shard_bits ? (unsigned)(*h >> (64 - t->shard_bits)) : 0;
    return &t->shards[idx].s;
}

static struct entry *find(struct shard *s, uint64_t key, uint64_t h)
{
    if (key == 0)
        return s->has_zero ? &s->zero : NULL;
    if (s->cap == 0)
        return NULL;
    size_t mask = s->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        if (s->slots[i].key == key)
            return &s->slots[i];
        if (s->slots[i].key == 0)
            return NULL;
    }
}

/* Backward-shift deletion: walk the cluster after the hole and pull back every entry whose home
 * slot does not lie between the hole and its current place, so probes never meet a gap early. */
static void remove_at(struct shard *s, size_t hole)
{
    size_t mask = s->cap - 1;
    size_t j = hole;
    for (;;) {
        j = (j + 1) & mask;
        if (s->slots[j].key == 0)
            break;
        size_t home = mix(s->slots[j].key) & mask;
        bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (stays)
            continue;
        s->slots[hole] = s->slots[j];
        hole = j;
    }
    memset(&s->slots[hole], 0, sizeof s->slots[hole]);
    s->count--;
}

static void place(struct entry *slots, size_t cap, const struct entry *e)
{
    size_t mask = cap - 1;
    size_t i = mix(e->key) & mask;
    while (slots[i].key != 0)
        i = (i + 1) & mask;
    slots[i] = *e;
}

static int resize(struct shard *s, size_t newcap)
{
    struct entry *slots = NULL;
    if (newcap) {
        slots = sg__calloc(newcap, sizeof *slots);
        if (!slots)
            return SG_ENOMEM;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slots[i].key != 0)
                place(slots, newcap, &s->slots[i]);
    }
    sg__free(s->slots);
    s->slots = slots;
    s->cap = newcap;
    s->cursor = 0;
    return 0;
}

/* Every live slot is examined once: a deletion at i only pulls entries from later in the
 * cluster into i or beyond, so re-examining i after a deletion misses none. */
static void sweep(struct shard *s, int64_t now)
{
    if (s->has_zero && is_idle(&s->zero, now))
        s->has_zero = false;
    for (size_t i = 0; i < s->cap;) {
        if (s->slots[i].key != 0 && is_idle(&s->slots[i], now))
            remove_at(s, i);
        else
            i++;
    }
}

/* The incremental expiry: a few slots per call, so memory follows the active keys even when
 * nobody calls sg__gcra_expire. */
static void step(struct shard *s, int64_t now)
{
    for (int k = 0; k < STEP_SLOTS && s->cap; k++) {
        struct entry *e = &s->slots[s->cursor];
        if (e->key != 0 && is_idle(e, now)) {
            remove_at(s, s->cursor); /* a later entry may now sit here: look again next turn */
            continue;
        }
        s->cursor = (s->cursor + 1) & (s->cap - 1);
        if (s->cursor == 0 && s->has_zero && is_idle(&s->zero, now))
            s->has_zero = false;
    }
}

/* Adds `key` with all TATs 0 (a fresh key). `now` is used to drop idle keys before growing, so
 * growth follows live keys; expire_ok false skips that (restore has no clock). */
static int insert(struct shard *s, uint64_t key, uint64_t h, int64_t now, bool expire_ok,
                  struct entry **out)
{
    if (key == 0) {
        memset(&s->zero, 0, sizeof s->zero);
        s->has_zero = true;
        *out = &s->zero;
        return 0;
    }
    if ((s->count + 1) * 10 > s->cap * 7) {
        if (expire_ok && s->cap)
            sweep(s, now);
        /* Grow unless the sweep left real room: below half full, the next full sweep is at
         * least a fifth of the table's inserts away, which keeps sweeps amortised O(1). */
        if ((s->count + 1) * 2 > s->cap) {
            size_t newcap = s->cap ? s->cap * 2 : MIN_CAP;
            if (resize(s, newcap) != 0 && s->count + 2 > s->cap)
                return SG_ENOMEM; /* a grow that failed is fine while a gap is left */
        }
    }
    size_t mask = s->cap - 1;
    size_t i = h & mask;
    while (s->slots[i].key != 0)
        i = (i + 1) & mask;
    memset(&s->slots[i], 0, sizeof s->slots[i]);
    s->slots[i].key = key;
    s->count++;
    *out = &s->slots[i];
    return 0;
}

struct sg_gcra_table *sg__gcra_new(unsigned nshards)
{
    unsigned n = 1, bits = 0;
    while (n < nshards && n < MAX_SHARDS) {
        n <<= 1;
        bits++;
    }
    struct sg_gcra_table *t = sg__calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->shards = sg__calloc(n, sizeof *t->shards);
    if (!t->shards) {
        sg__free(t);
        return NULL;
    }
    for (unsigned i = 0; i < n; i++) {
        if (pthread_mutex_init(&t->shards[i].s.lock, NULL) != 0) {
            t->nshards = i;
            sg__gcra_free(t);
            return NULL;
        }
    }
    t->nshards = n;
    t->shard_bits = bits;
    return t;
}

void sg__gcra_free(struct sg_gcra_table *t)
{
    if (!t)
        return;
    for (unsigned i = 0; i < t->nshards; i++) {
        pthread_mutex_destroy(&t->shards[i].s.lock);
        sg__free(t->shards[i].s.slots);
    }
    sg__free(t->shards);
    sg__free(t);
}

/* ---- the algorithm ------------------------------------------------------------------------ */

/* Does `cost` fit every window given the key's TATs (e NULL: a fresh key)? */
static int check(const struct entry *e, const struct sg_gcra_rule *rule, uint32_t cost,
                 int64_t now, int64_t *retry_us)
{
    int64_t worst = 0;
    unsigned n = nwindows(rule);
    for (unsigned i = 0; i < n; i++) {
        const struct sg_gcra_window *w = &rule->w[i];
        if (w->period_s == 0 || cost == 0)
            continue;
        if (cost > w->limit) {
            worst = -1;
            continue;
        }
        int64_t tat = e ? e->tat[i] : 0;
        int64_t next = sat_add(max64(tat, now), increment(cost, w));
        int64_t over = next - (int64_t)w->period_s * US_PER_S - now;
        if (over > 0 && worst >= 0 && over > worst)
            worst = over;
    }
    if (retry_us)
        *retry_us = worst;
    return worst == 0;
}

static bool chargeable(const struct sg_gcra_rule *rule, uint32_t cost)
{
    unsigned n = nwindows(rule);
    for (unsigned i = 0; i < n && cost; i++)
        if (rule->w[i].period_s && rule->w[i].limit)
            return true;
    return false;
}

static int charge(struct shard *s, uint64_t key, uint64_t h, const struct sg_gcra_rule *rule,
                  uint32_t cost, int64_t now)
{
    if (!chargeable(rule, cost))
        return 0;
    struct entry *e = find(s, key, h);
    if (!e) {
        int rc = insert(s, key, h, now, true, &e);
        if (rc)
            return rc;
    }
    unsigned n = nwindows(rule);
    for (unsigned i = 0; i < n; i++) {
        const struct sg_gcra_window *w = &rule->w[i];
        if (w->period_s == 0 || w->limit == 0)
            continue;
        /* max() is what keeps a backwards clock from ever lowering a TAT. */
        e->tat[i] = sat_add(max64(e->tat[i], now), increment(cost, w));
    }
    return 0;
}

int sg__gcra_peek(struct sg_gcra_table *t, uint64_t key, const struct sg_gcra_rule *rule,
                  uint32_t cost, int64_t now, int64_t *retry_us)
{
    uint64_t h;
    struct shard *s = shard_of(t, key, &h);
    if (now < 0)
        now = 0;
    pthread_mutex_lock(&s->lock);
    step(s, now);
    int fits = check(find(s, key, h), rule, cost, now, retry_us);
    pthread_mutex_unlock(&s->lock);
    return fits;
}

int sg__gcra_charge(struct sg_gcra_table *t, uint64_t key, const struct sg_gcra_rule *rule,
                    uint32_t cost, int64_t now)
{
    uint64_t h;
    struct shard *s = shard_of(t, key, &h);
    if (now < 0)
        now = 0;
    pthread_mutex_lock(&s->lock);
    step(s, now);
    int rc = charge(s, key, h, rule, cost, now);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sg__gcra_take(struct sg_gcra_table *t, uint64_t key, const struct sg_gcra_rule *rule,
                  uint32_t cost, int64_t now, int64_t *retry_us)
{
    uint64_t h;
    struct shard *s = shard_of(t, key, &h);
    if (now < 0)
        now = 0;
    pthread_mutex_lock(&s->lock);
    step(s, now);
    int rc = check(find(s, key, h), rule, cost, now, retry_us);
    if (rc == 1) {
        int crc = charge(s, key, h, rule, cost, now);
        if (crc)
            rc = crc;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sg__gcra_state(struct sg_gcra_table *t, uint64_t key, const struct sg_gcra_rule *rule,
                   int64_t now, struct sg_gcra_state *out)
{
    uint64_t h;
    struct shard *s = shard_of(t, key, &h);
    if (now < 0)
        now = 0;
    pthread_mutex_lock(&s->lock);
    step(s, now);
    const struct entry *e = find(s, key, h);
    int held = e && !is_idle(e, now);
    unsigned n = nwindows(rule);
    for (unsigned i = 0; i < n; i++) {
        const struct sg_gcra_window *w = &rule->w[i];
        struct sg_gcra_state *o = &out[i];
        memset(o, 0, sizeof *o);
        o->limit = w->limit;
        o->period_s = w->period_s;
        if (w->period_s == 0)
            continue;
        if (w->limit == 0) {
            o->retry_us = -1;
            continue;
        }
        int64_t tat = held ? e->tat[i] : 0;
        int64_t ahead = tat > now ? tat - now : 0;
        double used = (double)ahead * w->limit / ((double)w->period_s * US_PER_S);
        o->used = used > w->limit ? w->limit : used; /* a backwards clock can overshoot */
        int64_t over = sat_add(max64(tat, now), increment(1, w)) -
                       (int64_t)w->period_s * US_PER_S - now;
        o->retry_us = over > 0 ? over : 0;
    }
    pthread_mutex_unlock(&s->lock);
    return held;
}

int sg__gcra_reset(struct sg_gcra_table *t, uint64_t key)
{
    uint64_t h;
    struct shard *s = shard_of(t, key, &h);
    int rc = SG_ENOTFOUND;
    pthread_mutex_lock(&s->lock);
    struct entry *e = find(s, key, h);
    if (e == &s->zero) {
        s->has_zero = false;
        rc = 0;
    } else if (e) {
        remove_at(s, (size_t)(e - s->slots));
        rc = 0;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

void sg__gcra_expire(struct sg_gcra_table *t, int64_t now)
{
    for (unsigned i = 0; i < t->nshards; i++) {
        struct shard *s = &t->shards[i].s;
        pthread_mutex_lock(&s->lock);
        sweep(s, now);
        /* Shrink only far below the growth point (to a quarter or less), so a table that
         * hovers around one size does not flap between two. */
        size_t want = 0;
        if (s->count) {
            want = MIN_CAP;
            while (s->count * 20 > want * 7)
                want *= 2;
        }
        if (want * 4 <= s->cap)
            resize(s, want); /* on failure the old array simply stays */
        pthread_mutex_unlock(&s->lock);
    }
}

size_t sg__gcra_count(const struct sg_gcra_table *t)
{
    size_t n = 0;
    for (unsigned i = 0; i < t->nshards; i++) {
        struct shard *s = &t->shards[i].s;
        pthread_mutex_lock(&s->lock);
        n += s->count + (s->has_zero ? 1 : 0);
        pthread_mutex_unlock(&s->lock);
    }
    return n;
}

size_t sg__gcra_bytes(const struct sg_gcra_table *t)
{
    size_t n = sizeof *t + (size_t)t->nshards * sizeof *t->shards;
    for (unsigned i = 0; i < t->nshards; i++) {
        struct shard *s = &t->shards[i].s;
        pthread_mutex_lock(&s->lock);
        n += s->cap * sizeof(struct entry);
        pthread_mutex_unlock(&s->lock);
    }
    return n;
}

int sg__gcra_foreach(struct sg_gcra_table *t, sg_gcra_visit_fn fn, void *ud)
{
    for (unsigned i = 0; i < t->nshards; i++) {
        struct shard *s = &t->shards[i].s;
        int rc = 0;
        pthread_mutex_lock(&s->lock);
        if (s->has_zero)
            rc = fn(ud, 0, s->zero.tat);
        for (size_t j = 0; j < s->cap && rc == 0; j++)
            if (s->slots[j].key != 0)
                rc = fn(ud, s->slots[j].key, s->slots[j].tat);
        pthread_mutex_unlock(&s->lock);
        if (rc)
            return rc;
    }
    return 0;
}

int sg__gcra_restore(struct sg_gcra_table *t, uint64_t key, const int64_t tat[SG_GCRA_MAX_WINDOWS])
{
    uint64_t h;
    struct shard *s = shard_of(t, key, &h);
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    struct entry *e = find(s, key, h);
    if (!e)
        rc = insert(s, key, h, 0, false, &e);
    if (rc == 0) {
        for (int i = 0; i < SG_GCRA_MAX_WINDOWS; i++) {
            int64_t v = tat[i] > TAT_MAX ? TAT_MAX : tat[i];
            e->tat[i] = max64(e->tat[i], v);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}
