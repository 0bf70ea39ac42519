/* The classifier's model: one open-addressing table of token counts per class (the global class
 * "*" and each tenant that learned), loaded from the store at open (from a class's snapshot
 * when it is current, else from its rows), changed in memory by learn and written back by flush
 * as increments. A writer-preferring rwlock lets many classify calls read at once while an
 * occasional learn waits its turn without being starved. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bayes/bayes.h"
#include "bayes/bayes_store.h"
#include "bayes/combine.h"
#include "bayes/snapshot.h"
#include "sendguard.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/hash.h"

/* Rows handed to the store per call: the store's lock is let go between calls so verdict
 * writes are not held up by a large flush. */
#define FLUSH_CHUNK 1024

/* ---- token tables: linear probing on the token hash (already uniform), key 0 empty ----
 * The home slot is the key's top bits, so keys in ascending order land in ascending slots: the
 * store hands tokens back in key order, and loading a 1.7M-token model then walks the table
 * instead of missing the cache on every row (measured on that model: 0.91 -> 0.54 s of CPU). */

struct slot {
    uint64_t key;
    union {
        struct { uint32_t spam, ham; } n;      /* counts */
        struct { int32_t spam, ham; } d;       /* pending increments */
    } u;
};

struct table {
    struct slot *slots;
    void *mem;     /* the allocation slots lie in (slots may be aligned past its start) */
    uint32_t mask; /* capacity - 1; 0 with slots NULL when empty */
    uint32_t used;
    unsigned shift; /* 64 - log2(capacity) */
};

static inline uint32_t home(const struct table *t, uint64_t key) { return (uint32_t)(key >> t->shift); }

static void table_release(struct table *t)
{
    sg__free(t->mem);
    t->slots = NULL;
    t->mem = NULL;
    t->mask = t->used = 0;
    t->shift = 0;
}

static struct slot *table_find(const struct table *t, uint64_t key)
{
    if (!t->slots)
        return NULL;
    for (uint32_t i = home(t, key);; i = (i + 1) & t->mask) {
        struct slot *s = &t->slots[i];
        if (s->key == key)
            return s;
        if (!s->key)
            return NULL;
    }
}

/* How far ahead the lookup loops prefetch: a large model's table is far bigger than the caches,
 * so each token costs a memory round trip unless several are in flight at once (measured on
 * the SpamAssassin TEST split against a 1.7M-token model: content + tokens + classify went
 * from 2,169 to 2,823 messages/s on a busy machine). */
#define PREFETCH_AHEAD 8
/* Counts below this (spam and ham) have their token terms kept directly (term_cache.small). */
#define SMALL_COUNT 16

static inline void table_prefetch(const struct table *t, uint64_t key)
{
    if (t->slots)
        __builtin_prefetch(&t->slots[home(t, key)]);
}

/* Tables from this size on are laid on transparent huge pages where the kernel gives them on
 * request (THP "madvise"): a lookup in a large model lands on a random page, and with 4 KB
 * pages nearly every one also missed the TLB (a 1.7M-token model is a 64 MB table). */
#define HUGE_PAGE ((size_t)2 << 20)

/* Zeroed room for n slots; *mem gets what to free. Large tables start on a huge-page boundary
 * (one page more is asked for) and are advised before they are first touched, so the zeroing
 * already faults in huge pages. The library's allocation hook still provides the memory. */
static struct slot *slots_alloc(uint64_t n, void **mem)
{
    size_t size = (size_t)n * sizeof(struct slot);
    if (size < 2 * HUGE_PAGE) {
        *mem = sg__calloc((size_t)n, sizeof(struct slot));
        return *mem;
    }
    char *base = sg__malloc(size + HUGE_PAGE);
    if (!base)
        return NULL;
    char *at = (char *)(((uintptr_t)base + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
#ifdef MADV_HUGEPAGE
    (void)madvise(at, size & ~(HUGE_PAGE - 1), MADV_HUGEPAGE); /* advice: failure is harmless */
#endif
    memset(at, 0, size);
    *mem = base;
    return (struct slot *)at;
}

/* Makes room for `more` new keys at most 3/4 full. */
static int table_reserve(struct table *t, uint32_t more)
{
    uint64_t need = (uint64_t)t->used + more;
    uint64_t cap = t->slots ? (uint64_t)t->mask + 1 : 0;
    if (need * 4 <= cap * 3)
        return 0;
    uint64_t ncap = cap ? cap : 64;
    while (need * 4 > ncap * 3)
        ncap <<= 1;
    if (ncap > (UINT64_C(1) << 31))
        return SG_ENOMEM;
    void *mem;
    struct slot *ns = slots_alloc(ncap, &mem);
    if (!ns)
        return SG_ENOMEM;
    struct table nt = {.slots = ns, .mem = mem, .mask = (uint32_t)(ncap - 1), .used = t->used, .shift = 64};
    for (uint64_t c = ncap; c > 1; c >>= 1)
        nt.shift--;
    for (uint64_t i = 0; i < cap; i++) {
        struct slot *s = &t->slots[i];
        if (!s->key)
            continue;
        uint32_t j = home(&nt, s->key);
        while (ns[j].key)
            j = (j + 1) & nt.mask;
        ns[j] = *s;
    }
    sg__free(t->mem);
    *t = nt;
    return 0;
}

/* The slot of key, made (zeroed) when absent; room must have been reserved. */
static struct slot *table_upsert(struct table *t, uint64_t key, bool *made)
{
    for (uint32_t i = home(t, key);; i = (i + 1) & t->mask) {
        struct slot *s = &t->slots[i];
        if (s->key == key) {
            *made = false;
            return s;
        }
        if (!s->key) {
            s->key = key;
            s->u.n.spam = s->u.n.ham = 0;
            t->used++;
            *made = true;
            return s;
        }
    }
}

/* ---- classes ---- */

struct scope {
    char *name;
    uint64_t spam_msgs, ham_msgs;
    struct table counts;
    /* Learned since the last flush (only with a store). */
    struct table pending;
    int64_t pending_spam_msgs, pending_ham_msgs;
    bool dirty;
};

/* A set of classes: the global one first, then tenants, with a name index. */
struct scopes {
    struct scope **v;
    uint32_t n, cap;
    uint32_t *index; /* position + 1 in v, 0 empty */
    uint32_t index_mask;
    uint64_t tokens; /* entries over every class */
    bool full;
    uint32_t from_snapshot, from_rows; /* classes loaded each way */
};

struct sg_bayes {
    struct sg_store *store; /* NULL: memory only */
    uint64_t seed;
    struct sg_bayes_params params;
    pthread_rwlock_t lock;        /* scopes, params */
    pthread_mutex_t flush_lock;   /* one flush or reload at a time */
    struct scopes s;
};

static void scope_free(struct scope *sc)
{
    if (!sc)
        return;
    table_release(&sc->counts);
    table_release(&sc->pending);
    sg__free(sc->name);
    sg__free(sc);
}

static void scopes_release(struct scopes *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        scope_free(s->v[i]);
    sg__free(s->v);
    sg__free(s->index);
    memset(s, 0, sizeof *s);
}

static uint64_t name_hash(const char *name) { return sg__hash(name, strlen(name), 0x62617965u); }

static struct scope *scopes_find(const struct scopes *s, const char *name)
{
    if (!s->index)
        return NULL;
    for (uint32_t i = (uint32_t)name_hash(name) & s->index_mask;; i = (i + 1) & s->index_mask) {
        uint32_t pos = s->index[i];
        if (!pos)
            return NULL;
        if (strcmp(s->v[pos - 1]->name, name) == 0)
            return s->v[pos - 1];
    }
}

static int scopes_reindex(struct scopes *s, uint32_t cap)
{
    uint32_t *idx = sg__calloc(cap, sizeof *idx);
    if (!idx)
        return SG_ENOMEM;
    for (uint32_t k = 0; k < s->n; k++) {
        uint32_t i = (uint32_t)name_hash(s->v[k]->name) & (cap - 1);
        while (idx[i])
            i = (i + 1) & (cap - 1);
        idx[i] = k + 1;
    }
    sg__free(s->index);
    s->index = idx;
    s->index_mask = cap - 1;
    return 0;
}

/* The class named name, made empty when absent; NULL when out of memory. */
static struct scope *scopes_get(struct scopes *s, const char *name)
{
    struct scope *sc = scopes_find(s, name);
    if (sc)
        return sc;
    if (s->n == s->cap) {
        uint32_t ncap = s->cap ? s->cap * 2 : 8;
        struct scope **nv = sg__realloc(s->v, (size_t)ncap * sizeof *nv);
        if (!nv)
            return NULL;
        s->v = nv;
        s->cap = ncap;
    }
    uint32_t icap = s->index ? s->index_mask + 1 : 0;
    if ((uint64_t)(s->n + 1) * 2 > icap && scopes_reindex(s, icap ? icap * 2 : 16) != 0)
        return NULL;
    sc = sg__calloc(1, sizeof *sc);
    if (!sc || !(sc->name = sg__strdup(name))) {
        sg__free(sc);
        return NULL;
    }
    s->v[s->n++] = sc;
    if (scopes_reindex(s, s->index_mask + 1) != 0) {
        s->n--;
        scope_free(sc);
        return NULL;
    }
    return sc;
}

static bool scope_trained(const struct scope *sc, const struct sg_bayes_params *p)
{
    return sc && sc->spam_msgs >= p->min_spam && sc->ham_msgs >= p->min_ham &&
           sc->spam_msgs > 0 && sc->ham_msgs > 0;
}

static const char *scope_name(const char *tenant)
{
    return tenant && *tenant ? tenant : SG_BAYES_GLOBAL;
}

/* ---- params ---- */

void sg__bayes_params_default(struct sg_bayes_params *p)
{
    p->robs = SG_BAYES_DEFAULT_ROBS;
    p->robx = SG_BAYES_DEFAULT_ROBX;
    p->min_dev = SG_BAYES_DEFAULT_MIN_DEV;
    p->min_spam = SG_BAYES_DEFAULT_MIN_SPAM;
    p->min_ham = SG_BAYES_DEFAULT_MIN_HAM;
    p->spam_cutoff = SG_BAYES_DEFAULT_SPAM_CUTOFF;
    p->ham_cutoff = SG_BAYES_DEFAULT_HAM_CUTOFF;
    p->short_cutoff = SG_BAYES_DEFAULT_SHORT_CUTOFF;
    p->short_tokens = SG_BAYES_DEFAULT_SHORT_TOKENS;
    p->long_tokens = SG_BAYES_DEFAULT_LONG_TOKENS;
    p->spam_score_min = SG_BAYES_DEFAULT_SPAM_SCORE_MIN;
    p->spam_score_max = SG_BAYES_DEFAULT_SPAM_SCORE_MAX;
    p->ham_score = SG_BAYES_DEFAULT_HAM_SCORE;
    p->probable_cutoff = SG_BAYES_DEFAULT_PROBABLE_CUTOFF;
    p->probable_score = SG_BAYES_DEFAULT_PROBABLE_SCORE;
    p->max_tokens = SG_BAYES_DEFAULT_MAX_TOKENS;
    p->max_model_tokens = SG_BAYES_DEFAULT_MAX_MODEL_TOKENS;
}

static void params_fix(struct sg_bayes_params *p)
{
    if (!p->max_tokens)
        p->max_tokens = SG_BAYES_DEFAULT_MAX_TOKENS;
    if (!p->max_model_tokens)
        p->max_model_tokens = SG_BAYES_DEFAULT_MAX_MODEL_TOKENS;
    if (!(p->robs >= 0))
        p->robs = SG_BAYES_DEFAULT_ROBS;
    if (!(p->robx > 0 && p->robx < 1))
        p->robx = SG_BAYES_DEFAULT_ROBX;
}

void sg__bayes_set_params(struct sg_bayes *b, const struct sg_bayes_params *params)
{
    if (!b || !params)
        return;
    pthread_rwlock_wrlock(&b->lock);
    b->params = *params;
    params_fix(&b->params);
    pthread_rwlock_unlock(&b->lock);
}

void sg__bayes_get_params(struct sg_bayes *b, struct sg_bayes_params *out)
{
    pthread_rwlock_rdlock(&b->lock);
    *out = b->params;
    pthread_rwlock_unlock(&b->lock);
}

uint64_t sg__bayes_seed(const struct sg_bayes *b) { return b->seed; }

/* ---- loading ----
 * Class by class, from the class's snapshot when one of its current generation is stored, else
 * from its rows, which are then also encoded into a fresh snapshot and stored (best effort), so
 * the next open is fast. Either way the model is the same: the snapshot holds exactly what a
 * load of the rows keeps (clamped counts, no empty rows), in the rows' order. */

struct load {
    struct sg_store *store;
    struct scopes *s;
    struct scope *cur;
    uint32_t max_model_tokens;
    bool fill;                  /* into the tables; false: only write the missing snapshots */
    struct sg_bayes_snapshot_writer w;
    bool writing;               /* w holds the rows so far of the class being read */
    int snapshot_err;           /* the first failure to store a snapshot */
    uint32_t from_snapshot, from_rows;
};

static uint32_t clamp_u32(int64_t v) { return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v; }

static int load_scope(void *ud, const struct sg_bayes_stored *st)
{
    struct load *l = ud;
    if (!l->fill)
        return st->fresh ? SG_BAYES_READ_NONE : SG_BAYES_READ_ROWS;
    struct scope *sc = scopes_get(l->s, st->scope);
    if (!sc)
        return SG_ENOMEM;
    sc->spam_msgs = st->spam_msgs > 0 ? (uint64_t)st->spam_msgs : 0;
    sc->ham_msgs = st->ham_msgs > 0 ? (uint64_t)st->ham_msgs : 0;
    l->cur = sc;
    return SG_BAYES_READ_SNAPSHOT;
}

/* Sized once for what is coming (no more than the model may hold). */
static int reserve_for(struct load *l, uint64_t n)
{
    if (n > l->max_model_tokens)
        n = l->max_model_tokens;
    return n ? table_reserve(&l->cur->counts, (uint32_t)n) : 0;
}

/* Adds one entry of the class being loaded, as the rows would (the model's limit applies in
 * the same order). Room must have been reserved. */
static inline void load_entry(struct load *l, uint64_t key, uint32_t spam, uint32_t ham)
{
    if (l->s->tokens >= l->max_model_tokens) {
        l->s->full = true;
        return;
    }
    bool made;
    struct slot *e = table_upsert(&l->cur->counts, key, &made);
    e->u.n.spam = spam;
    e->u.n.ham = ham;
    if (made)
        l->s->tokens++;
}

/* What a class's snapshot is bound to: a blob filed under another class or generation fails. */
static uint64_t snapshot_bind(const struct sg_bayes_stored *st)
{
    return sg__hash(st->scope, strlen(st->scope), (uint64_t)st->generation);
}

static int load_snapshot(void *ud, const struct sg_bayes_stored *st, const void *data, size_t len)
{
    struct load *l = ud;
    struct sg_bayes_snapshot_reader r;
    uint32_t n;
    if (sg__bayes_snapshot_open(&r, data, len, snapshot_bind(st), &n) != 0)
        return SG_BAYES_READ_ROWS;
    uint64_t tokens = l->s->tokens;
    bool full = l->s->full;
    int err = reserve_for(l, n);
    if (err)
        return err;
    uint64_t key;
    uint32_t spam, ham;
    while ((err = sg__bayes_snapshot_next(&r, &key, &spam, &ham)) == 1)
        load_entry(l, key, spam, ham);
    if (err < 0) {
        /* Damaged: forget what it gave and read the rows instead. */
        table_release(&l->cur->counts);
        l->s->tokens = tokens;
        l->s->full = full;
        return SG_BAYES_READ_ROWS;
    }
    l->from_snapshot++;
    return SG_BAYES_READ_NONE;
}

static int load_rows(void *ud, const struct sg_bayes_stored *st, int64_t n)
{
    (void)st;
    struct load *l = ud;
    sg__bayes_snapshot_writer_release(&l->w);
    /* Without memory for the snapshot the model still loads, only slowly next time. */
    l->writing = n >= 0 && n <= UINT32_MAX &&
                 sg__bayes_snapshot_writer_init(&l->w, (uint32_t)n) == 0;
    return l->fill ? reserve_for(l, n > 0 ? (uint64_t)n : 0) : 0;
}

static int load_token(void *ud, uint64_t token, int64_t spam, int64_t ham)
{
    struct load *l = ud;
    if (!token || (spam <= 0 && ham <= 0))
        return 0;
    uint32_t s = clamp_u32(spam), h = clamp_u32(ham);
    /* More rows than counted (another process added some): that snapshot would be refused as
     * stale anyway. */
    if (l->writing && sg__bayes_snapshot_add(&l->w, token, s, h) != 0)
        l->writing = false;
    if (!l->fill)
        return 0;
    if (table_reserve(&l->cur->counts, 1) != 0)
        return SG_ENOMEM;
    load_entry(l, token, s, h);
    return 0;
}

static int load_rows_end(void *ud, const struct sg_bayes_stored *st)
{
    struct load *l = ud;
    if (l->writing) {
        size_t len;
        const void *data = sg__bayes_snapshot_finish(&l->w, snapshot_bind(st), &len);
        int err = sg__store_bayes_snapshot_put(l->store, st->scope, st->generation, data, len);
        if (err && !l->snapshot_err)
            l->snapshot_err = err;
    }
    sg__bayes_snapshot_writer_release(&l->w);
    l->writing = false;
    l->from_rows += l->fill;
    return 0;
}

/* Reads every class from the store into *s (which starts empty but for the global class);
 * fill false reads only the classes without a fresh snapshot, to store one. *snapshot_err
 * (may be NULL) gets the first failure to store a snapshot, which does not fail the load. */
static int load_all(struct sg_bayes *b, struct scopes *s, uint32_t max_model_tokens, bool fill,
                    int *snapshot_err)
{
    if (snapshot_err)
        *snapshot_err = 0;
    if (!scopes_get(s, SG_BAYES_GLOBAL))
        return SG_ENOMEM;
    if (!b->store)
        return 0;
    struct load l = {.store = b->store, .s = s, .max_model_tokens = max_model_tokens,
                     .fill = fill};
    struct sg_bayes_loader loader = {load_scope, load_snapshot, load_rows, load_token,
                                     load_rows_end, &l};
    int err = sg__store_bayes_load(b->store, &loader);
    sg__bayes_snapshot_writer_release(&l.w);
    if (snapshot_err)
        *snapshot_err = l.snapshot_err;
    s->from_snapshot = l.from_snapshot;
    s->from_rows = l.from_rows;
    return err;
}

int sg__bayes_open(struct sg_store *store, const struct sg_bayes_params *params,
                   struct sg_bayes **out)
{
    if (!out)
        return SG_EINVAL;
    *out = NULL;
    struct sg_bayes *b = sg__calloc(1, sizeof *b);
    if (!b)
        return SG_ENOMEM;
    b->store = store;
    b->seed = store ? sg__store_seed(store) : 0;
    if (params)
        b->params = *params;
    else
        sg__bayes_params_default(&b->params);
    params_fix(&b->params);
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* glibc's default prefers readers: a steady classify load would starve learn forever. */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int rc = pthread_rwlock_init(&b->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (rc != 0) {
        sg__free(b);
        return SG_ENOMEM;
    }
    pthread_mutex_init(&b->flush_lock, NULL);
    int err = load_all(b, &b->s, b->params.max_model_tokens, true, NULL);
    if (err) {
        b->store = NULL; /* nothing to flush */
        sg__bayes_free(b);
        return err;
    }
    *out = b;
    return 0;
}

void sg__bayes_free(struct sg_bayes *b)
{
    if (!b)
        return;
    sg__bayes_flush(b);
    scopes_release(&b->s);
    pthread_mutex_destroy(&b->flush_lock);
    pthread_rwlock_destroy(&b->lock);
    sg__free(b);
}

/* ---- learning ---- */

static uint32_t sat_add(uint32_t a, int d)
{
    if (d > 0)
        return a == UINT32_MAX ? a : a + 1;
    return a ? a - 1 : 0;
}

static void pending_add(struct scope *sc, uint64_t key, enum sg_bayes_class cls, int d)
{
    bool made;
    struct slot *p = table_upsert(&sc->pending, key, &made);
    int32_t *v = cls == SG_BAYES_SPAM ? &p->u.d.spam : &p->u.d.ham;
    if ((d > 0 && *v < INT32_MAX) || (d < 0 && *v > INT32_MIN))
        *v += d;
}

/* Learns (d = 1) or unlearns (d = -1) t in one class; under the write lock. */
static int learn_scope(struct sg_bayes *b, const char *name, const struct sg_bayes_tokens *t,
                       enum sg_bayes_class cls, int d)
{
    struct scope *sc = d > 0 ? scopes_get(&b->s, name) : scopes_find(&b->s, name);
    if (!sc)
        return d > 0 ? SG_ENOMEM : 0; /* unlearning from a class that never learned */
    /* Reserve first, so a failure changes nothing and the loop cannot fail half-way. */
    if (d > 0 && table_reserve(&sc->counts, t->n) != 0)
        return SG_ENOMEM;
    bool track = b->store != NULL;
    if (track && table_reserve(&sc->pending, t->n) != 0)
        return SG_ENOMEM;
    for (uint32_t i = 0; i < t->n; i++) {
        uint64_t key = t->v[i];
        if (i + PREFETCH_AHEAD < t->n) {
            table_prefetch(&sc->counts, t->v[i + PREFETCH_AHEAD]);
            if (track)
                table_prefetch(&sc->pending, t->v[i + PREFETCH_AHEAD]);
        }
        struct slot *e;
        if (d > 0) {
            e = table_find(&sc->counts, key);
            if (!e) {
                if (b->s.tokens >= b->params.max_model_tokens) {
                    b->s.full = true;
                    continue;
                }
                bool made;
                e = table_upsert(&sc->counts, key, &made);
                b->s.tokens++;
            }
        } else {
            e = table_find(&sc->counts, key);
        }
        if (!e)
            continue;
        uint32_t *c = cls == SG_BAYES_SPAM ? &e->u.n.spam : &e->u.n.ham;
        uint32_t was = *c;
        *c = sat_add(*c, d);
        if (*c != was && track)
            pending_add(sc, key, cls, d);
    }
    uint64_t *msgs = cls == SG_BAYES_SPAM ? &sc->spam_msgs : &sc->ham_msgs;
    int64_t *pmsgs = cls == SG_BAYES_SPAM ? &sc->pending_spam_msgs : &sc->pending_ham_msgs;
    if (d > 0 || *msgs > 0) {
        *msgs = d > 0 ? *msgs + 1 : *msgs - 1;
        if (track)
            *pmsgs += d;
    }
    if (track)
        sc->dirty = true;
    return 0;
}

static int learn(struct sg_bayes *b, const char *tenant, const struct sg_bayes_tokens *t,
                 enum sg_bayes_class cls, unsigned flags, int d)
{
    if (!b || !t || (t->n && !t->v) || (cls != SG_BAYES_SPAM && cls != SG_BAYES_HAM))
        return SG_EINVAL;
    const char *name = scope_name(tenant);
    bool global = strcmp(name, SG_BAYES_GLOBAL) == 0;
    pthread_rwlock_wrlock(&b->lock);
    int err = learn_scope(b, name, t, cls, d);
    if (!err && !global && (flags & SG_BAYES_ALSO_GLOBAL))
        err = learn_scope(b, SG_BAYES_GLOBAL, t, cls, d);
    pthread_rwlock_unlock(&b->lock);
    return err;
}

int sg__bayes_learn_tokens(struct sg_bayes *b, const char *tenant, const struct sg_bayes_tokens *t,
                           enum sg_bayes_class cls, unsigned flags)
{
    return learn(b, tenant, t, cls, flags, 1);
}

int sg__bayes_unlearn_tokens(struct sg_bayes *b, const char *tenant,
                             const struct sg_bayes_tokens *t, enum sg_bayes_class cls,
                             unsigned flags)
{
    return learn(b, tenant, t, cls, flags, -1);
}

/* Tokenizes c in arena (a private one when NULL) and calls fn on the tokens. */
static int with_tokens(struct sg_bayes *b, struct sg_arena *arena, const struct sg_content *c,
                       int (*fn)(struct sg_bayes *, const struct sg_bayes_tokens *, void *),
                       void *ud)
{
    if (!b || !c)
        return SG_EINVAL;
    struct sg_arena *own = NULL;
    if (!arena && !(arena = own = sg__arena_new(0)))
        return SG_ENOMEM;
    uint32_t max_tokens;
    pthread_rwlock_rdlock(&b->lock);
    max_tokens = b->params.max_tokens;
    pthread_rwlock_unlock(&b->lock);
    struct sg_bayes_tokens t;
    int err = sg__bayes_tokenize(arena, b->seed, c, max_tokens, &t);
    if (!err)
        err = fn(b, &t, ud);
    sg__arena_free(own);
    return err;
}

struct learn_args {
    const char *tenant;
    enum sg_bayes_class cls;
    unsigned flags;
    int d;
    struct sg_bayes_result *result;
};

static int learn_cb(struct sg_bayes *b, const struct sg_bayes_tokens *t, void *ud)
{
    struct learn_args *a = ud;
    return learn(b, a->tenant, t, a->cls, a->flags, a->d);
}

int sg__bayes_learn(struct sg_bayes *b, struct sg_arena *arena, const char *tenant,
                    const struct sg_content *c, enum sg_bayes_class cls, unsigned flags)
{
    struct learn_args a = {tenant, cls, flags, 1, NULL};
    return with_tokens(b, arena, c, learn_cb, &a);
}

int sg__bayes_unlearn(struct sg_bayes *b, struct sg_arena *arena, const char *tenant,
                      const struct sg_content *c, enum sg_bayes_class cls, unsigned flags)
{
    struct learn_args a = {tenant, cls, flags, -1, NULL};
    return with_tokens(b, arena, c, learn_cb, &a);
}

/* ---- writing back ---- */

/* A class's increments taken out of the model for writing. */
struct detached {
    char *name;
    struct table pending;
    int64_t spam_msgs, ham_msgs;
};

/* Puts increments that could not be written back into the model's pending set. */
static void merge_back(struct sg_bayes *b, struct detached *d, uint32_t from_slot)
{
    pthread_rwlock_wrlock(&b->lock);
    struct scope *sc = scopes_get(&b->s, d->name);
    uint32_t cap = d->pending.slots ? d->pending.mask + 1 : 0;
    if (sc && table_reserve(&sc->pending, d->pending.used) == 0) {
        for (uint32_t i = from_slot; i < cap; i++) {
            struct slot *p = &d->pending.slots[i];
            if (!p->key)
                continue;
            bool made;
            struct slot *q = table_upsert(&sc->pending, p->key, &made);
            q->u.d.spam += p->u.d.spam;
            q->u.d.ham += p->u.d.ham;
        }
        sc->pending_spam_msgs += d->spam_msgs;
        sc->pending_ham_msgs += d->ham_msgs;
        sc->dirty = true;
    }
    pthread_rwlock_unlock(&b->lock);
}

/* SQLite orders INTEGER keys as signed. */
static int cmp_delta(const void *a, const void *b)
{
    int64_t x = (int64_t)((const struct sg_bayes_delta *)a)->token;
    int64_t y = (int64_t)((const struct sg_bayes_delta *)b)->token;
    return (x > y) - (x < y);
}

/* Writes one class's increments in key order: the B-tree then takes them as near-appends,
 * which made writing a SpamAssassin-sized model (1.4M rows) about 4x faster than hash order.
 * On failure merges back what was not written (a store failure inside a call may have applied
 * part of that call: those rows can count twice). */
static int write_detached(struct sg_bayes *b, struct detached *d)
{
    uint32_t cap = d->pending.slots ? d->pending.mask + 1 : 0;
    struct sg_bayes_delta *rows = d->pending.used ? sg__calloc(d->pending.used, sizeof *rows) : NULL;
    if (d->pending.used && !rows) {
        merge_back(b, d, 0);
        return SG_ENOMEM;
    }
    size_t n = 0;
    for (uint32_t i = 0; i < cap; i++) {
        struct slot *p = &d->pending.slots[i];
        if (p->key && (p->u.d.spam || p->u.d.ham))
            rows[n++] = (struct sg_bayes_delta){p->key, p->u.d.spam, p->u.d.ham};
    }
    qsort(rows, n, sizeof *rows, cmp_delta);
    /* The message counts go with the first call, so a class whose tokens did not change still
     * gets them. */
    int64_t spam_msgs = d->spam_msgs, ham_msgs = d->ham_msgs;
    int err = 0;
    size_t done = 0;
    while (done < n || spam_msgs || ham_msgs) {
        size_t k = n - done < FLUSH_CHUNK ? n - done : FLUSH_CHUNK;
        err = sg__store_bayes_add(b->store, d->name, spam_msgs, ham_msgs, rows + done, k);
        if (err)
            break;
        spam_msgs = ham_msgs = 0;
        done += k;
    }
    if (err) {
        /* Back into the model: the rows not written, as a table again. */
        struct detached rest = {.name = d->name, .spam_msgs = spam_msgs, .ham_msgs = ham_msgs};
        if (table_reserve(&rest.pending, (uint32_t)(n - done)) == 0) {
            for (size_t i = done; i < n; i++) {
                bool made;
                struct slot *q = table_upsert(&rest.pending, rows[i].token, &made);
                q->u.d.spam = rows[i].spam;
                q->u.d.ham = rows[i].ham;
            }
            merge_back(b, &rest, 0);
        }
        table_release(&rest.pending);
    }
    sg__free(rows);
    return err;
}

static int flush_locked(struct sg_bayes *b)
{
    if (!b->store)
        return 0;
    /* Take the increments out under the write lock (fast: table swaps), write them without it,
     * so classify goes on while SQLite works. */
    pthread_rwlock_wrlock(&b->lock);
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->s.n; i++)
        n += b->s.v[i]->dirty;
    struct detached *ds = n ? sg__calloc(n, sizeof *ds) : NULL;
    if (n && !ds) {
        pthread_rwlock_unlock(&b->lock);
        return SG_ENOMEM;
    }
    uint32_t k = 0;
    int err = 0;
    for (uint32_t i = 0; i < b->s.n && k < n; i++) {
        struct scope *sc = b->s.v[i];
        if (!sc->dirty)
            continue;
        ds[k].name = sg__strdup(sc->name);
        if (!ds[k].name) {
            err = SG_ENOMEM;
            break;
        }
        ds[k].pending = sc->pending;
        ds[k].spam_msgs = sc->pending_spam_msgs;
        ds[k].ham_msgs = sc->pending_ham_msgs;
        memset(&sc->pending, 0, sizeof sc->pending);
        sc->pending_spam_msgs = sc->pending_ham_msgs = 0;
        sc->dirty = false;
        k++;
    }
    pthread_rwlock_unlock(&b->lock);
    for (uint32_t i = 0; i < k; i++) {
        int e = write_detached(b, &ds[i]);
        if (e && !err)
            err = e;
        table_release(&ds[i].pending);
        sg__free(ds[i].name);
    }
    sg__free(ds);
    return err;
}

int sg__bayes_flush(struct sg_bayes *b)
{
    if (!b)
        return SG_EINVAL;
    pthread_mutex_lock(&b->flush_lock);
    int err = flush_locked(b);
    pthread_mutex_unlock(&b->flush_lock);
    return err;
}

/* Learned between the flush and the swap of a reload: applied to the new counts too, and kept
 * pending so the next flush writes them. */
static void carry_pending(struct scopes *to, struct scopes *from)
{
    for (uint32_t i = 0; i < from->n; i++) {
        struct scope *old = from->v[i];
        if (!old->dirty)
            continue;
        struct scope *sc = scopes_get(to, old->name);
        if (!sc || table_reserve(&sc->pending, old->pending.used) != 0 ||
            table_reserve(&sc->counts, old->pending.used) != 0)
            continue;
        uint32_t cap = old->pending.slots ? old->pending.mask + 1 : 0;
        for (uint32_t j = 0; j < cap; j++) {
            struct slot *p = &old->pending.slots[j];
            if (!p->key)
                continue;
            bool made;
            struct slot *q = table_upsert(&sc->pending, p->key, &made);
            q->u.d.spam += p->u.d.spam;
            q->u.d.ham += p->u.d.ham;
            struct slot *e = table_upsert(&sc->counts, p->key, &made);
            if (made)
                to->tokens++;
            e->u.n.spam = clamp_u32((int64_t)e->u.n.spam + p->u.d.spam);
            e->u.n.ham = clamp_u32((int64_t)e->u.n.ham + p->u.d.ham);
        }
        sc->pending_spam_msgs += old->pending_spam_msgs;
        sc->pending_ham_msgs += old->pending_ham_msgs;
        int64_t s = (int64_t)sc->spam_msgs + old->pending_spam_msgs;
        int64_t h = (int64_t)sc->ham_msgs + old->pending_ham_msgs;
        sc->spam_msgs = s > 0 ? (uint64_t)s : 0;
        sc->ham_msgs = h > 0 ? (uint64_t)h : 0;
        sc->dirty = true;
    }
}

int sg__bayes_reload(struct sg_bayes *b)
{
    if (!b)
        return SG_EINVAL;
    if (!b->store)
        return 0;
    pthread_mutex_lock(&b->flush_lock);
    int err = flush_locked(b);
    struct scopes fresh = {0};
    uint32_t max_model_tokens;
    pthread_rwlock_rdlock(&b->lock);
    max_model_tokens = b->params.max_model_tokens;
    pthread_rwlock_unlock(&b->lock);
    if (!err)
        err = load_all(b, &fresh, max_model_tokens, true, NULL);
    if (!err) {
        pthread_rwlock_wrlock(&b->lock);
        carry_pending(&fresh, &b->s);
        struct scopes old = b->s;
        b->s = fresh;
        pthread_rwlock_unlock(&b->lock);
        scopes_release(&old);
    } else {
        scopes_release(&fresh);
    }
    pthread_mutex_unlock(&b->flush_lock);
    return err;
}

int sg__bayes_write_snapshots(struct sg_bayes *b)
{
    if (!b)
        return SG_EINVAL;
    if (!b->store)
        return 0;
    pthread_mutex_lock(&b->flush_lock);
    int err = flush_locked(b);
    struct scopes scratch = {0};
    int snapshot_err = 0;
    if (!err)
        err = load_all(b, &scratch, 0, false, &snapshot_err);
    scopes_release(&scratch);
    pthread_mutex_unlock(&b->flush_lock);
    return err ? err : snapshot_err;
}

/* ---- classifying ---- */

/* One memoised term (a token's ln f and ln(1 - f), already past min_dev) into sums. */
static inline void sums_add_term(struct sg_bayes_sums *sums, double ln_f, double ln_1f)
{
    sums->ln_f += ln_f;
    sums->ln_1f += ln_1f;
    sums->n++;
}

/* f and its logarithms for a class's counts, kept by each thread across classify calls:
 * a message's common words carry the same counts in every message of a class, and computing a
 * term (a Robinson f, a log and a log1p) cost more than finding it again. A term is a function
 * of the counts and of the inputs in struct term_inputs alone, so an entry is only used under
 * the inputs it was made with (gen) and gives the very doubles the computation would. */
enum { TERM_CACHE_BITS = 12, TERM_CACHE = 1 << TERM_CACHE_BITS };
struct term_inputs {
    uint64_t spam_msgs, ham_msgs;
    double robs, robx, min_dev;
};
/* A token's counts as one value: spam in the low 32 bits, ham in the high ones, 0 unseen. */
static inline uint64_t counts_pack(uint32_t spam, uint32_t ham)
{
    return (uint64_t)spam | (uint64_t)ham << 32;
}

/* A token's term for its counts, valid in generation gen (0: never made). */
struct term {
    double ln_f, ln_1f;
    uint64_t packed; /* the counts, as counts_pack */
    uint32_t gen;
    bool counts; /* past min_dev: added to the sums */
};
static __thread struct {
    struct term_inputs in;
    uint32_t gen; /* 0: no entry is valid */
    struct term small[SMALL_COUNT][SMALL_COUNT]; /* counts both under SMALL_COUNT, direct */
    struct term e[TERM_CACHE];                   /* the others by hash: 32 bytes each, 128 KB */
} term_cache;

/* The generation of term_cache's entries made under in: a new one when in changed. */
static uint32_t term_cache_gen(const struct term_inputs *in)
{
    if (term_cache.gen == 0 || memcmp(&term_cache.in, in, sizeof *in) != 0) {
        term_cache.in = *in;
        if (++term_cache.gen == 0) {
            /* wrapped: entries of an old generation could pass for the new one */
            memset(term_cache.small, 0, sizeof term_cache.small);
            memset(term_cache.e, 0, sizeof term_cache.e);
            term_cache.gen = 1;
        }
    }
    return term_cache.gen;
}

/* The term of counts c (counts_pack) in generation gen, made now unless the cache holds it. */
static const struct term *cached_term(uint64_t c, uint32_t gen, const struct term_inputs *in)
{
    _Static_assert(SMALL_COUNT == 16, "the small-count test masks 4 bits of each count");
    /* Any slot function gives the same terms (an entry is checked against its counts); this
     * one is a few instructions where sg__hash_mix was a dozen. */
    struct term *tm = !(c & UINT64_C(0xfffffff0fffffff0))
                          ? &term_cache.small[c & 15][(c >> 32) & 15]
                          : &term_cache.e[(c * 0x9e3779b97f4a7c15ULL) >> (64 - TERM_CACHE_BITS)];
    if (tm->gen != gen || tm->packed != c) {
        uint32_t spam = (uint32_t)c, ham = (uint32_t)(c >> 32);
        double f = sg__bayes_robinson(spam, ham, in->spam_msgs, in->ham_msgs, in->robs, in->robx);
        tm->counts = sg__bayes_term(f, in->min_dev, &tm->ln_f, &tm->ln_1f);
        tm->gen = gen;
        tm->packed = c;
    }
    return tm;
}

int sg__bayes_classify_tokens(struct sg_bayes *b, const char *tenant,
                              const struct sg_bayes_tokens *t, struct sg_bayes_result *out)
{
    if (!out)
        return SG_EINVAL;
    memset(out, 0, sizeof *out);
    out->probability = 0.5;
    if (!b || !t || (t->n && !t->v))
        return SG_EINVAL;
    out->tokens = t->n;
    pthread_rwlock_rdlock(&b->lock);
    const struct sg_bayes_params *p = &b->params;
    const struct scope *sc = NULL;
    if (tenant && *tenant && strcmp(tenant, SG_BAYES_GLOBAL) != 0) {
        sc = scopes_find(&b->s, tenant);
        if (scope_trained(sc, p))
            out->tenant_class = true;
        else
            sc = NULL;
    }
    if (!sc)
        sc = scopes_find(&b->s, SG_BAYES_GLOBAL);
    out->trained = scope_trained(sc, p);
    out->cutoff = p->spam_cutoff;
    if (out->trained) {
        /* Two readings of one message: every token, and the single tokens without the OSB
         * pairs. Pairs overlap their words, so chi-square over all of them counts one piece of
         * evidence several times and is over-sure on mail that merely shares spam's phrasing
         * (commercial newsletters); words alone are calmer but miss phrases. Their mean keeps
         * most of the pairs' reach at the words' false-positive rate (docs/bayes.md has the
         * measurements). */
        struct sg_bayes_sums all = {0}, words = {0};
        /* An unseen token is x for every token: its test and logarithms, once. */
        double unseen_ln_f = 0, unseen_ln_1f = 0;
        bool unseen_counts = sg__bayes_term(p->robx, p->min_dev, &unseen_ln_f, &unseen_ln_1f);
        /* Most tokens of a message have small counts (hapaxes and their like), and f with its
         * two logarithms depends on the counts and term_inputs alone: each pair is computed
         * once while those stay the same (cached_term). The same values are added in the same order, so the result does
         * not move. */
        struct term_inputs in;
        memset(&in, 0, sizeof in); /* padding too: the inputs are compared with memcmp */
        in.spam_msgs = sc->spam_msgs;
        in.ham_msgs = sc->ham_msgs;
        in.robs = p->robs;
        in.robx = p->robx;
        in.min_dev = p->min_dev;
        uint32_t gen = term_cache_gen(&in);
        /* Lookups first, a chunk at a time, then the arithmetic in token order: a loop that
         * only looks up keeps more cache misses in flight than one that also does the maths
         * (the table is far bigger than the caches, so misses are what a lookup costs). */
        enum { CHUNK = 256, AHEAD = 2 * PREFETCH_AHEAD };
        uint64_t cnt[CHUNK]; /* counts_pack of each token of the chunk */
        /* A message without pairs reads as one whose pair flags are all 0. */
        static const uint8_t no_pairs[CHUNK];
        const struct table *tab = &sc->counts;
        for (uint32_t base = 0; base < t->n; base += CHUNK) {
            uint32_t end = t->n - base < CHUNK ? t->n - base : CHUNK;
            const uint64_t *v = t->v + base;
            /* Prefetches stop AHEAD before the message's last token, not the chunk's. */
            uint32_t pf_end = t->n - base > AHEAD ? t->n - base - AHEAD : 0;
            if (pf_end > end)
                pf_end = end;
            if (tab->slots) {
                uint32_t j = 0;
                for (; j < pf_end; j++) {
                    table_prefetch(tab, v[j + AHEAD]);
                    const struct slot *e = table_find(tab, v[j]);
                    cnt[j] = e ? counts_pack(e->u.n.spam, e->u.n.ham) : 0;
                }
                for (; j < end; j++) {
                    const struct slot *e = table_find(tab, v[j]);
                    cnt[j] = e ? counts_pack(e->u.n.spam, e->u.n.ham) : 0;
                }
            } else {
                memset(cnt, 0, (size_t)end * sizeof cnt[0]);
            }
            const uint8_t *pair = t->pair ? t->pair + base : no_pairs;
            for (uint32_t j = 0; j < end; j++) {
                bool is_word = !pair[j];
                if (!cnt[j]) {
                    if (unseen_counts) {
                        sums_add_term(&all, unseen_ln_f, unseen_ln_1f);
                        if (is_word)
                            sums_add_term(&words, unseen_ln_f, unseen_ln_1f);
                    }
                    continue;
                }
                const struct term *tm = cached_term(cnt[j], gen, &in);
                if (tm->counts) { /* the logarithms once for both sums */
                    sums_add_term(&all, tm->ln_f, tm->ln_1f);
                    if (is_word)
                        sums_add_term(&words, tm->ln_f, tm->ln_1f);
                }
            }
        }
        out->tokens_used = all.n;
        out->p_all = sg__bayes_indicator(&all);
        out->p_words = words.n == all.n ? out->p_all : sg__bayes_indicator(&words);
        out->probability = (out->p_all + out->p_words) / 2;
        if (t->short_form)
            out->cutoff = sg__bayes_spam_cutoff(p, all.n);
        out->score = sg__bayes_score(p, out->probability, out->cutoff, &out->confident);
        out->probable = !out->confident && out->score > 0;
    }
    pthread_rwlock_unlock(&b->lock);
    return 0;
}

struct classify_args {
    const char *tenant;
    struct sg_bayes_result *out;
};

static int classify_cb(struct sg_bayes *b, const struct sg_bayes_tokens *t, void *ud)
{
    struct classify_args *a = ud;
    return sg__bayes_classify_tokens(b, a->tenant, t, a->out);
}

int sg__bayes_classify(struct sg_bayes *b, struct sg_arena *arena, const char *tenant,
                       const struct sg_content *c, struct sg_bayes_result *out)
{
    if (!out)
        return SG_EINVAL;
    memset(out, 0, sizeof *out);
    out->probability = 0.5;
    struct classify_args a = {tenant, out};
    return with_tokens(b, arena, c, classify_cb, &a);
}

/* ---- stats ---- */

int sg__bayes_stats(struct sg_bayes *b, const char *tenant, struct sg_bayes_stats *out)
{
    if (!out)
        return SG_EINVAL;
    memset(out, 0, sizeof *out);
    if (!b)
        return SG_EINVAL;
    pthread_rwlock_rdlock(&b->lock);
    const struct scope *sc = scopes_find(&b->s, scope_name(tenant));
    out->model_tokens = b->s.tokens;
    out->classes = b->s.n;
    out->full = b->s.full;
    out->from_snapshot = b->s.from_snapshot;
    out->from_rows = b->s.from_rows;
    if (sc) {
        out->spam_msgs = sc->spam_msgs;
        out->ham_msgs = sc->ham_msgs;
        out->tokens = sc->counts.used;
        out->trained = scope_trained(sc, &b->params);
    }
    pthread_rwlock_unlock(&b->lock);
    return sc ? 0 : SG_ENOTFOUND;
}
