/* Keyring, signatures and lockouts (see auth.h). The request path takes the keyring's read
 * lock only; the lockout and signature tables are touched only by failing or signed requests,
 * and the signature table is sharded so signed traffic does not serialise on one mutex. */
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "log.h"

#define US 1000000LL

/* ---- lockouts: a set-associative table of addresses that went over the failure limit ----- */

#define LOCK_SETS 1024
#define LOCK_WAYS 4

struct lockout {
    char addr[48];        /* "" when free */
    sg_time locked_until; /* refuse keyless requests before this */
    sg_time last_seen;    /* last failure or refused attempt: the episode's pulse */
    bool alerted;         /* this episode's auth_abuse alert is stored */
};

/* ---- seen signatures: sharded open addressing, rebuilt in place to drop expired slots ------ */

#define SIG_SHARDS 16

struct seen_sig {
    unsigned char mac[16]; /* half an HMAC-SHA256: collisions are out of reach of anyone */
    sg_time expires;       /* 0: never used; <= now: expired (still continues a probe chain) */
};

struct sig_shard {
    pthread_mutex_t lock;
    struct seen_sig *slots;
    size_t cap, used; /* used counts expired slots too until a rebuild */
};

struct auth {
    struct sg_store *store;
    struct auth_options opt;

    pthread_rwlock_t ring_lock;
    struct sg_keyring *ring;
    pthread_mutex_t refresh_lock;
    int64_t generation;

    struct sg_limiter *failures;
    pthread_mutex_t lock_lock;
    struct lockout *lockouts; /* LOCK_SETS * LOCK_WAYS */
    unsigned char addr_key[crypto_shorthash_KEYBYTES];

    struct sig_shard shards[SIG_SHARDS];
};

int auth_new(struct sg_store *store, const struct auth_options *opt, struct auth **out)
{
    *out = NULL;
    struct auth *a = calloc(1, sizeof *a);
    if (!a)
        return SG_ENOMEM;
    a->store = store;
    a->opt = *opt;
    pthread_rwlock_init(&a->ring_lock, NULL);
    pthread_mutex_init(&a->refresh_lock, NULL);
    pthread_mutex_init(&a->lock_lock, NULL);
    crypto_shorthash_keygen(a->addr_key);
    size_t per = 64;
    while (per * SIG_SHARDS < opt->max_signatures)
        per *= 2;
    for (int i = 0; i < SIG_SHARDS; i++) {
        pthread_mutex_init(&a->shards[i].lock, NULL);
        a->shards[i].cap = per;
        /* calloc'd zero pages cost nothing until a signature lands in them. */
        a->shards[i].slots = calloc(per, sizeof(struct seen_sig));
    }
    a->lockouts = calloc(LOCK_SETS * LOCK_WAYS, sizeof *a->lockouts);
    int rc = sg_limiter_new(&a->failures);
    if (!rc && !a->lockouts)
        rc = SG_ENOMEM;
    for (int i = 0; !rc && i < SIG_SHARDS; i++)
        if (!a->shards[i].slots)
            rc = SG_ENOMEM;
    if (!rc && (rc = auth_refresh(a, true)) > 0)
        rc = 0;
    if (rc) {
        auth_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void auth_free(struct auth *a)
{
    if (!a)
        return;
    sg_keyring_free(a->ring);
    sg_limiter_free(a->failures);
    free(a->lockouts);
    for (int i = 0; i < SIG_SHARDS; i++) {
        free(a->shards[i].slots);
        pthread_mutex_destroy(&a->shards[i].lock);
    }
    pthread_rwlock_destroy(&a->ring_lock);
    pthread_mutex_destroy(&a->refresh_lock);
    pthread_mutex_destroy(&a->lock_lock);
    free(a);
}

/* ---- keyring ------------------------------------------------------------------------------ */

int auth_refresh(struct auth *a, bool force)
{
    pthread_mutex_lock(&a->refresh_lock);
    int64_t gen = 0;
    int rc = sg_key_generation(a->store, &gen);
    if (rc || (!force && a->ring && gen == a->generation)) {
        pthread_mutex_unlock(&a->refresh_lock);
        return rc;
    }
    /* Loaded outside the ring lock: requests keep verifying against the old ring meanwhile. */
    struct sg_keyring *ring = NULL;
    if ((rc = sg_keyring_load(a->store, &ring))) {
        pthread_mutex_unlock(&a->refresh_lock);
        return rc;
    }
    pthread_rwlock_wrlock(&a->ring_lock);
    struct sg_keyring *old = a->ring;
    a->ring = ring;
    pthread_rwlock_unlock(&a->ring_lock);
    a->generation = gen;
    pthread_mutex_unlock(&a->refresh_lock);
    sg_keyring_free(old);
    return 1;
}

int auth_verify_key(struct auth *a, const char *key, size_t len, struct sg_key_info *info)
{
    pthread_rwlock_rdlock(&a->ring_lock);
    int rc = a->ring ? sg_keyring_verify(a->ring, key, len, info) : SG_EAUTH;
    pthread_rwlock_unlock(&a->ring_lock);
    return rc ? SG_EAUTH : 0;
}

/* ---- lockouts ------------------------------------------------------------------------------ */

static struct lockout *lockout_set(struct auth *a, const char *addr)
{
    uint64_t h;
    crypto_shorthash((unsigned char *)&h, (const unsigned char *)addr, strlen(addr), a->addr_key);
    return &a->lockouts[(h % LOCK_SETS) * LOCK_WAYS];
}

/* The entry for addr, or NULL; with create, a free way or else the stalest one of the set. */
static struct lockout *lockout_find(struct auth *a, const char *addr, bool create)
{
    struct lockout *set = lockout_set(a, addr), *victim = NULL;
    for (int i = 0; i < LOCK_WAYS; i++) {
        if (strcmp(set[i].addr, addr) == 0 && set[i].addr[0])
            return &set[i];
        if (!victim || !set[i].addr[0] ||
            (victim->addr[0] && set[i].last_seen < victim->last_seen))
            victim = &set[i];
    }
    if (!create)
        return NULL;
    memset(victim, 0, sizeof *victim);
    snprintf(victim->addr, sizeof victim->addr, "%s", addr);
    return victim;
}

/* Marks activity on an entry; a gap of the cool-down ends the previous episode. */
static void lockout_pulse(struct auth *a, struct lockout *l, sg_time now)
{
    if (l->last_seen && now - l->last_seen >= (sg_time)a->opt.cooldown_s * US)
        l->alerted = false;
    l->last_seen = now;
}

int64_t auth_lockout(struct auth *a, const char *addr, sg_time now)
{
    int64_t wait = 0;
    pthread_mutex_lock(&a->lock_lock);
    struct lockout *l = lockout_find(a, addr, false);
    if (l && now < l->locked_until) {
        wait = (l->locked_until - now + US - 1) / US;
        lockout_pulse(a, l, now);
    }
    pthread_mutex_unlock(&a->lock_lock);
    return wait;
}

void auth_failure(struct auth *a, const char *addr, sg_time now)
{
    int64_t retry = 0;
    int within = sg_limiter_take(a->failures, addr, strlen(addr), a->opt.fail_limit,
                                 a->opt.fail_period_s, now, &retry);
    if (within < 0) {
        log_msg(SG_LOG_WARN, "auth: failure count for %s: %s", addr, sg_strerror(within));
        return;
    }
    bool alert = false;
    pthread_mutex_lock(&a->lock_lock);
    struct lockout *l = lockout_find(a, addr, within == 0);
    if (l) {
        lockout_pulse(a, l, now);
        if (within == 0) {
            if (now >= l->locked_until) /* a lockout runs its course; failures do not extend it */
                l->locked_until = now + (sg_time)a->opt.cooldown_s * US;
            alert = !l->alerted;
            l->alerted = true;
        }
    }
    pthread_mutex_unlock(&a->lock_lock);
    if (!alert)
        return;
    char reason[96];
    snprintf(reason, sizeof reason, "%" PRIu32 " failed authentications in a minute",
             a->opt.fail_limit + 1);
    log_msg(SG_LOG_WARN, "auth_abuse: %s: %s; locked out for %" PRIu32 " s", addr, reason,
            a->opt.cooldown_s);
    int rc = sg_store_alert_add(a->store, NULL, "auth_abuse", addr, reason, now);
    if (rc)
        log_msg(SG_LOG_ERROR, "auth_abuse alert for %s not stored: %s", addr, sg_strerror(rc));
}

/* ---- signatures ---------------------------------------------------------------------------- */

/* Drops expired slots by re-inserting the live ones into a fresh array of the same size. */
static bool shard_rebuild(struct sig_shard *s, sg_time now)
{
    struct seen_sig *fresh = calloc(s->cap, sizeof *fresh);
    if (!fresh)
        return false;
    size_t used = 0, mask = s->cap - 1;
    for (size_t i = 0; i < s->cap; i++) {
        if (s->slots[i].expires <= now)
            continue;
        uint64_t h;
        memcpy(&h, s->slots[i].mac, sizeof h);
        size_t j = (size_t)(h >> 4) & mask;
        while (fresh[j].expires)
            j = (j + 1) & mask;
        fresh[j] = s->slots[i];
        used++;
    }
    free(s->slots);
    s->slots = fresh;
    s->used = used;
    return true;
}

/* SIG_OK after recording mac, SIG_REPLAYED when it is already live, SIG_FULL when the table
 * has no room (rebuilds run at 3/4 and must leave at most half used, so each costs O(cap) only
 * after cap/4 inserts). */
static enum sig_result seen_insert(struct auth *a, const unsigned char mac[32], sg_time expires,
                                   sg_time now)
{
    struct sig_shard *s = &a->shards[mac[0] % SIG_SHARDS];
    enum sig_result res = SIG_OK;
    pthread_mutex_lock(&s->lock);
    if (s->used >= s->cap / 4 * 3 && (!shard_rebuild(s, now) || s->used >= s->cap / 2)) {
        pthread_mutex_unlock(&s->lock);
        return SIG_FULL;
    }
    uint64_t h;
    memcpy(&h, mac, sizeof h);
    size_t mask = s->cap - 1, j = (size_t)(h >> 4) & mask;
    for (; s->slots[j].expires; j = (j + 1) & mask)
        if (memcmp(s->slots[j].mac, mac, 16) == 0 && s->slots[j].expires > now) {
            res = SIG_REPLAYED;
            break;
        }
    if (res == SIG_OK) {
        memcpy(s->slots[j].mac, mac, 16);
        s->slots[j].expires = expires;
        s->used++;
    }
    pthread_mutex_unlock(&s->lock);
    return res;
}

enum sig_result auth_signature(struct auth *a, const struct sg_key_info *key, const char *method,
                               const char *uri, const char *ts, const char *sig,
                               const char *body, size_t body_len, sg_time now, char *why,
                               size_t why_size)
{
    if (!ts || !sig) {
        snprintf(why, why_size, "missing %s header%s",
                 !ts && !sig ? "X-Sendguard-Timestamp and X-Sendguard-Signature"
                 : !ts      ? "X-Sendguard-Timestamp"
                            : "X-Sendguard-Signature",
                 key->require_signature ? " (this key requires signed requests)" : "");
        return SIG_MISSING;
    }
    /* The timestamp: Unix seconds, 1 to 12 decimal digits without a leading zero. */
    size_t tlen = strlen(ts);
    int64_t t = 0;
    bool ok = tlen >= 1 && tlen <= 12 && (ts[0] != '0' || tlen == 1);
    for (size_t i = 0; ok && i < tlen; i++) {
        ok = ts[i] >= '0' && ts[i] <= '9';
        t = t * 10 + (ts[i] - '0');
    }
    if (!ok) {
        snprintf(why, why_size, "X-Sendguard-Timestamp is not Unix seconds");
        return SIG_STALE;
    }
    int64_t skew = t - now / US;
    if (skew > (int64_t)a->opt.sig_skew_s || -skew > (int64_t)a->opt.sig_skew_s) {
        snprintf(why, why_size, "stale X-Sendguard-Timestamp: %" PRId64 " s from the server clock "
                 "(at most %" PRIu32 " s allowed)", skew, a->opt.sig_skew_s);
        return SIG_STALE;
    }
    unsigned char given[32];
    size_t glen = 0;
    bool hex = strlen(sig) == 64;
    for (size_t i = 0; hex && i < 64; i++)
        hex = (sig[i] >= '0' && sig[i] <= '9') || (sig[i] >= 'a' && sig[i] <= 'f');
    if (!hex || sodium_hex2bin(given, sizeof given, sig, 64, NULL, &glen, NULL) != 0 ||
        glen != 32) {
        snprintf(why, why_size,
                 "signature mismatch: X-Sendguard-Signature must be 64 lower-case hex digits");
        return SIG_MISMATCH;
    }
    unsigned char secret[32], mac[32];
    pthread_rwlock_rdlock(&a->ring_lock);
    int rc = a->ring ? sg_keyring_signing_key(a->ring, key->id, secret) : SG_ENOTFOUND;
    pthread_rwlock_unlock(&a->ring_lock);
    if (rc) {
        snprintf(why, why_size, "signature mismatch: no signing secret for this key");
        return SIG_MISMATCH;
    }
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, secret, sizeof secret);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)method, strlen(method));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"\n", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)uri, strlen(uri));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"\n", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, tlen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"\n", 1);
    if (body_len)
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, body_len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(&st, sizeof st);
    if (sodium_memcmp(mac, given, sizeof mac) != 0) {
        snprintf(why, why_size, "signature mismatch: HMAC-SHA256 over METHOD, PATH, TIMESTAMP "
                 "and BODY does not match");
        return SIG_MISMATCH;
    }
    /* A signature can only pass the time check until t + skew, so it is remembered until then
     * (at most 2 * skew = 600 s from now). */
    enum sig_result res = seen_insert(a, mac, (t + (int64_t)a->opt.sig_skew_s + 1) * US, now);
    if (res == SIG_REPLAYED)
        snprintf(why, why_size, "replayed signature: each signature is accepted once");
    else if (res == SIG_FULL)
        snprintf(why, why_size, "too many signed requests in flight; retry");
    return res;
}

/* ---- last use -------------------------------------------------------------------------------- */

#define TOUCH_SLOTS 64
#define TOUCH_EVERY (10 * US)

void auth_touch(struct auth *a, const char *id, sg_time now)
{
    static _Thread_local struct {
        char id[17];
        sg_time at;
    } recent[TOUCH_SLOTS];
    uint64_t h = 0;
    for (const char *p = id; *p; p++)
        h = h * 31 + (unsigned char)*p;
    unsigned slot = (unsigned)(h % TOUCH_SLOTS);
    if (strcmp(recent[slot].id, id) == 0 && now - recent[slot].at < TOUCH_EVERY)
        return;
    snprintf(recent[slot].id, sizeof recent[slot].id, "%s", id);
    recent[slot].at = now;
    int rc = sg_key_touch(a->store, id, now);
    if (rc)
        log_msg(SG_LOG_DEBUG, "auth: touching key %s: %s", id, sg_strerror(rc));
}
