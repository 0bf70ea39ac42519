/* The daemon's in-memory view of the live API keys: an immutable array sorted by id and searched
 * with bsearch, so that a request is authenticated without touching SQLite and from any number
 * of threads at once. The daemon builds a new one whenever sg_key_generation changes. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "sendguard.h"
#include "store/keys.h"
#include "util/alloc.h"

struct ring_key {
    struct sg_key_info info;
    unsigned char verifier[SG_KEY_HASH_BYTES];
    unsigned char signing[SG_KEY_HASH_BYTES];
};

struct sg_keyring {
    struct ring_key *keys;
    size_t n, cap;
};

/* The array holds signing keys, which are secrets: growing it copies into a new block and wipes
 * the old one, instead of realloc leaving a copy behind in freed memory. */
static int grow(struct sg_keyring *ring)
{
    size_t cap = ring->cap ? ring->cap * 2 : 16;
    struct ring_key *keys = sg__calloc(cap, sizeof *keys);
    if (!keys)
        return SG_ENOMEM;
    if (ring->n) {
        memcpy(keys, ring->keys, ring->n * sizeof *keys);
        sodium_memzero(ring->keys, ring->n * sizeof *keys);
    }
    sg__free(ring->keys);
    ring->keys = keys;
    ring->cap = cap;
    return 0;
}

static int add_key(void *ud, const struct sg_key_info *k,
                   const unsigned char verifier[SG_KEY_HASH_BYTES],
                   const unsigned char signing[SG_KEY_HASH_BYTES])
{
    struct sg_keyring *ring = ud;
    if (ring->n == ring->cap) {
        int err = grow(ring);
        if (err)
            return err;
    }
    struct ring_key *r = &ring->keys[ring->n++];
    r->info = *k;
    memcpy(r->verifier, verifier, SG_KEY_HASH_BYTES);
    memcpy(r->signing, signing, SG_KEY_HASH_BYTES);
    return 0;
}

static int by_id(const void *a, const void *b)
{
    const struct ring_key *x = a, *y = b;
    return memcmp(x->info.id, y->info.id, SG_KEY_ID_HEX);
}

static int id_vs_key(const void *id, const void *key)
{
    const struct ring_key *k = key;
    return memcmp(id, k->info.id, SG_KEY_ID_HEX);
}

static const struct ring_key *find(const struct sg_keyring *ring, const char *id)
{
    if (!ring->n)
        return NULL;
    return bsearch(id, ring->keys, ring->n, sizeof *ring->keys, id_vs_key);
}

void sg_keyring_free(struct sg_keyring *ring)
{
    if (!ring)
        return;
    if (ring->keys) {
        sodium_memzero(ring->keys, ring->cap * sizeof *ring->keys);
        sg__free(ring->keys);
    }
    sg__free(ring);
}

int sg_keyring_load(struct sg_store *store, struct sg_keyring **out)
{
    if (!out)
        return SG_EINVAL;
    *out = NULL;
    if (!store)
        return SG_EINVAL;
    if (sg__key_sodium_init() != 0)
        return SG_EIO;
    struct sg_keyring *ring = sg__calloc(1, sizeof *ring);
    if (!ring)
        return SG_ENOMEM;
    int err = sg__store_key_live_each(store, add_key, ring);
    if (err) {
        sg_keyring_free(ring);
        return err;
    }
    /* The store hands them over by id already; sorting again keeps bsearch right whatever the
     * collation of the column. */
    if (ring->n)
        qsort(ring->keys, ring->n, sizeof *ring->keys, by_id);
    *out = ring;
    return 0;
}

int sg_keyring_verify(const struct sg_keyring *ring, const char *key, size_t len,
                      struct sg_key_info *info)
{
    if (!ring)
        return SG_EINVAL;
    char id[SG_KEY_ID_HEX + 1], secret[SG_KEY_SECRET_HEX + 1];
    /* A malformed key is refused at once: its shape is no secret of ours. */
    if (sg__key_parse(key, len, id, secret) != 0)
        return SG_EAUTH;
    unsigned char presented[SG_KEY_HASH_BYTES];
    sg__key_derive(secret, presented, NULL);
    sodium_memzero(secret, sizeof secret);
    /* An unknown id (or a revoked key, which the ring does not hold) still costs the hash above
     * and a compare against a verifier no secret hashes to, so the answer's timing does not say
     * whether the id exists. */
    static const unsigned char dummy[SG_KEY_HASH_BYTES];
    const struct ring_key *k = find(ring, id);
    int differ = sodium_memcmp(presented, k ? k->verifier : dummy, SG_KEY_HASH_BYTES);
    sodium_memzero(presented, sizeof presented);
    if (differ != 0 || !k)
        return SG_EAUTH;
    if (info)
        *info = k->info;
    return 0;
}

int sg_keyring_signing_key(const struct sg_keyring *ring, const char *id, unsigned char out[32])
{
    if (!ring || !id || !out)
        return SG_EINVAL;
    if (!sg__key_id_valid(id))
        return SG_ENOTFOUND;
    const struct ring_key *k = find(ring, id);
    if (!k)
        return SG_ENOTFOUND;
    memcpy(out, k->signing, SG_KEY_HASH_BYTES);
    return 0;
}
