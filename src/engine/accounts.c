/* Account cache: open addressing over (tenant, account) hashes, entries loaded lazily from the
 * store and written through to it. See accounts.h. */
#include "engine/accounts.h"

#include <ctype.h>
#include <string.h>

#include "store/store.h"
#include "util/alloc.h"
#include "util/hash.h"

struct sg_accounts {
    struct sg_store *store;
    uint64_t seed;
    pthread_mutex_t lock;
    struct sg_account **slots;
    uint64_t *hashes;
    size_t cap, count;
};

struct sg_accounts *sg__accounts_new(struct sg_store *store, uint64_t seed)
{
    struct sg_accounts *t = sg__calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->store = store;
    t->seed = seed;
    t->cap = 1024;
    t->slots = sg__calloc(t->cap, sizeof *t->slots);
    t->hashes = sg__calloc(t->cap, sizeof *t->hashes);
    if (!t->slots || !t->hashes) {
        sg__accounts_free(t);
        return NULL;
    }
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

static void account_free(struct sg_account *a)
{
    if (!a)
        return;
    sg__free(a->tenant);
    sg__free(a->account);
    sg__free(a->email);
    sg__free(a->email_domain);
    sg__free(a->ip_text);
    sg__free(a);
}

void sg__accounts_free(struct sg_accounts *t)
{
    if (!t)
        return;
    if (t->slots) {
        for (size_t i = 0; i < t->cap; i++)
            account_free(t->slots[i]);
        pthread_mutex_destroy(&t->lock);
    }
    sg__free(t->slots);
    sg__free(t->hashes);
    sg__free(t);
}

static uint64_t key_hash(const struct sg_accounts *t, const char *tenant, const char *account)
{
    uint64_t h = sg__hash(tenant, strlen(tenant), t->seed);
    return sg__hash(account, strlen(account), h);
}

static struct sg_account **find_slot(struct sg_accounts *t, uint64_t h, const char *tenant,
                                     const char *account)
{
    size_t mask = t->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct sg_account *a = t->slots[i];
        if (!a || (t->hashes[i] == h && strcmp(a->account, account) == 0 &&
                   strcmp(a->tenant, tenant) == 0))
            return &t->slots[i];
    }
}

static int grow(struct sg_accounts *t)
{
    size_t cap = t->cap * 2;
    struct sg_account **slots = sg__calloc(cap, sizeof *slots);
    uint64_t *hashes = sg__calloc(cap, sizeof *hashes);
    if (!slots || !hashes) {
        sg__free(slots);
        sg__free(hashes);
        return SG_ENOMEM;
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i])
            continue;
        size_t j = t->hashes[i] & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = t->slots[i];
        hashes[j] = t->hashes[i];
    }
    sg__free(t->slots);
    sg__free(t->hashes);
    t->slots = slots;
    t->hashes = hashes;
    t->cap = cap;
    return 0;
}

/* Places a (not yet present) account; the lock is held. */
static int insert(struct sg_accounts *t, uint64_t h, struct sg_account *a)
{
    if ((t->count + 1) * 10 > t->cap * 7) {
        int rc = grow(t);
        if (rc)
            return rc;
    }
    struct sg_account **slot = find_slot(t, h, a->tenant, a->account);
    *slot = a;
    t->hashes[slot - t->slots] = h;
    t->count++;
    return 0;
}

static struct sg_account *account_new(const char *tenant, const char *account)
{
    struct sg_account *a = sg__calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->tenant = sg__strdup(tenant);
    a->account = sg__strdup(account);
    a->verified = -1;
    if (!a->tenant || !a->account) {
        account_free(a);
        return NULL;
    }
    return a;
}

static int load(struct sg_accounts *t, const char *tenant, const char *account,
                struct sg_account **out)
{
    char buf[2048];
    struct sg_account_row row;
    int rc = sg__store_account_get(t->store, tenant, account, &row, buf, sizeof buf);
    if (rc == SG_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    struct sg_account *a = account_new(tenant, account);
    if (!a)
        return SG_ENOMEM;
    if ((row.email && !(a->email = sg__strdup(row.email))) ||
        (row.email_domain && !(a->email_domain = sg__strdup(row.email_domain))) ||
        (row.ip && !(a->ip_text = sg__strdup(row.ip)))) {
        account_free(a);
        return SG_ENOMEM;
    }
    a->created_at = row.created_at;
    a->posts = row.posts;
    a->messages = row.messages;
    a->verified = (int8_t)row.verified;
    a->status = (uint8_t)row.status;
    a->trust = row.trust;
    *out = a;
    return 0;
}

int sg__accounts_get(struct sg_accounts *t, const char *tenant, const char *account,
                     struct sg_account **out)
{
    uint64_t h = key_hash(t, tenant, account);
    *out = NULL;
    pthread_mutex_lock(&t->lock);
    struct sg_account **slot = find_slot(t, h, tenant, account);
    int rc = 0;
    if (*slot) {
        *out = *slot;
    } else {
        struct sg_account *a = NULL;
        rc = load(t, tenant, account, &a);
        if (!rc && a && (rc = insert(t, h, a)) != 0)
            account_free(a);
        else if (!rc)
            *out = a;
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

int sg__accounts_add(struct sg_accounts *t, const char *tenant, const char *account,
                     struct sg_account **out)
{
    struct sg_account *a = account_new(tenant, account);
    if (!a)
        return SG_ENOMEM;
    uint64_t h = key_hash(t, tenant, account);
    pthread_mutex_lock(&t->lock);
    int rc = insert(t, h, a);
    pthread_mutex_unlock(&t->lock);
    if (rc) {
        account_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

int sg__accounts_save(struct sg_accounts *t, const struct sg_account *a, sg_time now)
{
    struct sg_account_row row = {
        .tenant = a->tenant,
        .account = a->account,
        .email = a->email,
        .email_domain = a->email_domain,
        .ip = a->ip_text,
        .created_at = a->created_at,
        .verified = a->verified > 0,
        .posts = a->posts,
        .messages = a->messages,
        .status = a->status,
        .trust = a->trust,
        .updated = now,
    };
    return sg__store_account_put(t->store, &row);
}

static int replace_str(char **dst, const char *s, size_t n)
{
    char *copy = sg__strndup(s, n);
    if (!copy)
        return SG_ENOMEM;
    sg__free(*dst);
    *dst = copy;
    return 0;
}

int sg__accounts_set_ip(struct sg_account *a, const char *ip) { return replace_str(&a->ip_text, ip, strlen(ip)); }

bool sg__email_domain_span(const char *email, const char **domain, size_t *len)
{
    const char *at = strrchr(email, '@');
    if (!at || at == email || !at[1])
        return false;
    const char *d = at + 1;
    size_t n = strlen(d);
    while (n && d[n - 1] == '.')
        n--;
    if (n == 0 || n > 253 || !memchr(d, '.', n))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)d[i];
        if (c <= ' ' || c == '@' || c == '<' || c == '>' || c == ',' || c == '"')
            return false;
    }
    *domain = d;
    *len = n;
    return true;
}

int sg__accounts_set_email(struct sg_account *a, const char *email)
{
    int rc = replace_str(&a->email, email, strlen(email));
    if (rc)
        return rc;
    const char *d;
    size_t n;
    if (!sg__email_domain_span(email, &d, &n))
        return SG_EPARSE;
    if ((rc = replace_str(&a->email_domain, d, n)))
        return rc;
    for (size_t i = 0; i < n; i++)
        a->email_domain[i] = (char)tolower((unsigned char)a->email_domain[i]);
    return 0;
}
