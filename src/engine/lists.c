/* In-memory lists: one hash set for the exact-match lists and a prefix array for IPs. Reloads
 * build a fresh copy and swap it in under a write lock so lookups never see half a list. */
#include "engine/lists.h"

#include <pthread.h>
#include <string.h>

#include "store/store.h"
#include "util/alloc.h"
#include "util/cidr.h"
#include "util/hash.h"

static const char *const list_names[SG_LIST_COUNT] = {"accounts", "email_domains", "url_domains", "ips"};

int sg__list_parse(const char *name)
{
    for (int i = 0; i < SG_LIST_COUNT; i++)
        if (strcmp(list_names[i], name) == 0)
            return i;
    return -1;
}

struct entry {
    uint64_t h;
    char *key;      /* list byte, tenant, NUL, entry, NUL */
    size_t key_len;
    sg_time expires;
};

struct prefix {
    char *tenant;
    struct sg_cidr cidr;
    sg_time expires;
};

struct content {
    struct entry *slots;
    size_t cap, count;
    size_t per_list[SG_LIST_COUNT]; /* entries of each exact-match list, expired ones included */
    struct prefix *prefixes;
    size_t nprefixes, prefix_cap;
};

struct sg_lists {
    uint64_t seed;
    pthread_rwlock_t lock;
    struct content c;
};

static void content_release(struct content *c)
{
    for (size_t i = 0; i < c->cap; i++)
        sg__free(c->slots[i].key);
    for (size_t i = 0; i < c->nprefixes; i++)
        sg__free(c->prefixes[i].tenant);
    sg__free(c->slots);
    sg__free(c->prefixes);
    memset(c, 0, sizeof *c);
}

struct sg_lists *sg__lists_new(uint64_t seed)
{
    struct sg_lists *l = sg__calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->seed = seed;
    pthread_rwlock_init(&l->lock, NULL);
    return l;
}

void sg__lists_free(struct sg_lists *l)
{
    if (!l)
        return;
    content_release(&l->c);
    pthread_rwlock_destroy(&l->lock);
    sg__free(l);
}

/* Builds the composite key into buf; returns its length or 0 when it does not fit. */
static size_t make_key(char *buf, size_t size, int list, const char *tenant, const char *entry,
                       size_t entry_len)
{
    size_t tl = strlen(tenant);
    size_t n = 1 + tl + 1 + entry_len;
    if (n > size)
        return 0;
    buf[0] = (char)('0' + list);
    memcpy(buf + 1, tenant, tl);
    buf[1 + tl] = '\0';
    memcpy(buf + 2 + tl, entry, entry_len);
    return n;
}

static struct entry *find(const struct content *c, uint64_t h, const char *key, size_t n)
{
    if (!c->cap)
        return NULL;
    size_t mask = c->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct entry *e = &c->slots[i];
        if (!e->key)
            return e;
        if (e->h == h && e->key_len == n && memcmp(e->key, key, n) == 0)
            return e;
    }
}

static int content_grow(struct content *c)
{
    struct content n = {.cap = c->cap ? c->cap * 2 : 256};
    n.slots = sg__calloc(n.cap, sizeof *n.slots);
    if (!n.slots)
        return SG_ENOMEM;
    for (size_t i = 0; i < c->cap; i++) {
        struct entry *e = &c->slots[i];
        if (e->key)
            *find(&n, e->h, e->key, e->key_len) = *e;
    }
    sg__free(c->slots);
    c->slots = n.slots;
    c->cap = n.cap;
    return 0;
}

static int content_add(struct content *c, uint64_t seed, int list, const char *tenant,
                       const char *entry, sg_time expires)
{
    if (list == SG_LIST_IPS) {
        struct prefix p = {.expires = expires};
        if (sg__cidr_parse(entry, strlen(entry), &p.cidr) != 0)
            return SG_EINVAL;
        if (c->nprefixes == c->prefix_cap) {
            size_t cap = c->prefix_cap ? c->prefix_cap * 2 : 16;
            struct prefix *np = sg__realloc(c->prefixes, cap * sizeof *np);
            if (!np)
                return SG_ENOMEM;
            c->prefixes = np;
            c->prefix_cap = cap;
        }
        if (!(p.tenant = sg__strdup(tenant)))
            return SG_ENOMEM;
        c->prefixes[c->nprefixes++] = p;
        return 0;
    }
    char buf[1024];
    size_t n = make_key(buf, sizeof buf, list, tenant, entry, strlen(entry));
    if (!n)
        return SG_ETOOBIG;
    if ((c->count + 1) * 10 > c->cap * 7) {
        int rc = content_grow(c);
        if (rc)
            return rc;
    }
    uint64_t h = sg__hash(buf, n, seed);
    struct entry *e = find(c, h, buf, n);
    if (!e->key) {
        if (!(e->key = sg__malloc(n)))
            return SG_ENOMEM;
        memcpy(e->key, buf, n);
        e->key_len = n;
        e->h = h;
        c->count++;
        c->per_list[list]++;
    }
    e->expires = expires;
    return 0;
}

struct load_ctx {
    struct content c;
    uint64_t seed;
    int rc;
};

static int load_one(void *ud, const char *list, const char *tenant, const char *entry, sg_time expires)
{
    struct load_ctx *lc = ud;
    int id = sg__list_parse(list);
    if (id < 0)
        return 0; /* a list a newer version added: not ours to enforce */
    int rc = content_add(&lc->c, lc->seed, id, tenant, entry, expires);
    if (rc == SG_ENOMEM) {
        lc->rc = rc;
        return rc;
    }
    return 0; /* an entry the store should have refused: skip it rather than fail the load */
}

int sg__lists_load(struct sg_lists *l, struct sg_store *store, sg_time now)
{
    struct load_ctx lc = {.seed = l->seed};
    int rc = sg__store_list_each(store, now, load_one, &lc);
    if (lc.rc)
        rc = lc.rc;
    if (rc) {
        content_release(&lc.c);
        return rc;
    }
    pthread_rwlock_wrlock(&l->lock);
    struct content old = l->c;
    l->c = lc.c;
    pthread_rwlock_unlock(&l->lock);
    content_release(&old);
    return 0;
}

int sg__lists_add(struct sg_lists *l, int list, const char *tenant, const char *entry, sg_time expires)
{
    pthread_rwlock_wrlock(&l->lock);
    int rc = content_add(&l->c, l->seed, list, tenant, entry, expires);
    pthread_rwlock_unlock(&l->lock);
    return rc;
}

static bool live(sg_time expires, sg_time now) { return expires == 0 || expires > now; }

/* The lock is held for reading. */
static bool has_one(const struct sg_lists *l, int list, const char *tenant, const char *entry,
                    size_t len, sg_time now)
{
    char buf[1024];
    size_t n = make_key(buf, sizeof buf, list, tenant, entry, len);
    if (!n)
        return false;
    struct entry *e = find(&l->c, sg__hash(buf, n, l->seed), buf, n);
    return e && e->key && live(e->expires, now);
}

static bool has_either(const struct sg_lists *l, int list, const char *tenant, const char *entry,
                       size_t len, sg_time now)
{
    return has_one(l, list, "*", entry, len, now) ||
           (strcmp(tenant, "*") != 0 && has_one(l, list, tenant, entry, len, now));
}

bool sg__lists_has(struct sg_lists *l, int list, const char *tenant, const char *entry, sg_time now)
{
    pthread_rwlock_rdlock(&l->lock);
    bool hit = l->c.count && has_either(l, list, tenant, entry, strlen(entry), now);
    pthread_rwlock_unlock(&l->lock);
    return hit;
}

bool sg__lists_may_have(struct sg_lists *l, int list)
{
    pthread_rwlock_rdlock(&l->lock);
    bool any = list >= 0 && list < SG_LIST_COUNT && l->c.per_list[list] > 0;
    pthread_rwlock_unlock(&l->lock);
    return any;
}

bool sg__lists_has_domain(struct sg_lists *l, int list, const char *tenant, const char *domain,
                          sg_time now, const char **matched)
{
    bool hit = false;
    pthread_rwlock_rdlock(&l->lock);
    for (const char *d = domain; l->c.count && d && *d;) {
        if (has_either(l, list, tenant, d, strlen(d), now)) {
            hit = true;
            if (matched)
                *matched = d;
            break;
        }
        d = strchr(d, '.');
        if (d)
            d++;
    }
    pthread_rwlock_unlock(&l->lock);
    return hit;
}

bool sg__lists_has_ip(struct sg_lists *l, const char *tenant, const uint8_t ip[16], sg_time now)
{
    bool hit = false;
    pthread_rwlock_rdlock(&l->lock);
    for (size_t i = 0; i < l->c.nprefixes && !hit; i++) {
        const struct prefix *p = &l->c.prefixes[i];
        hit = live(p->expires, now) && (strcmp(p->tenant, "*") == 0 || strcmp(p->tenant, tenant) == 0) &&
              sg__cidr_match(&p->cidr, ip);
    }
    pthread_rwlock_unlock(&l->lock);
    return hit;
}
