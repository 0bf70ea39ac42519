/* Check: content rules. The message's content (built once per judgement) is scanned by the
 * rule engine — one Hyperscan pass for every regex and word list, then the boolean rules — and
 * each rule that fires adds its own code and score; monitor rules are reported with score 0.
 * The ruleset is the shipped one plus rules.local_dir, reloaded with the config. The check also
 * keeps the history its facts need: a delivered message counts for its sender (first_message,
 * SENDER_MESSAGES) and teaches its tenant its link domains (URL_NEW_DOMAIN). */
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "checks/checks.h"
#include "engine/accounts.h"
#include "engine/domains.h"
#include "rules/rules.h"
#include "store/store.h"
#include "text/content.h"
#include "text/urls.h"
#include "util/alloc.h"
#include "util/strbuf.h"

/* Compiling the ruleset into one Hyperscan database takes a second or two, so a process shares
 * it: every engine (tests make many; the daemon reloads on SIGHUP) reuses the compiled rules
 * while the local directory's files are unchanged (same names, sizes and mtimes). */
struct shared_rules {
    struct shared_rules *next;
    char *key;
    struct sg_rules *rules;
    unsigned refs;
};
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shared_rules *shared_list;

/* "DIR|name:size:mtime|..." for the rule files of dir ("" when none): what decides a reuse. */
static char *rules_key(const char *dir)
{
    struct sg_strbuf sb;
    sg__sb_init(&sb, 1 << 20);
    sg__sb_adds(&sb, dir ? dir : "");
    DIR *d = dir && *dir ? opendir(dir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 5 || (strcmp(e->d_name + n - 5, ".yaml") != 0 && strcmp(e->d_name + n - 4, ".yml") != 0))
            continue;
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) == 0)
            sg__sb_printf(&sb, "|%s:%lld:%lld.%09ld", e->d_name, (long long)st.st_size,
                          (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    }
    if (d)
        closedir(d);
    return sg__sb_steal(&sb); /* readdir order varies only with the files themselves */
}

static void shared_release(struct shared_rules *sr)
{
    if (!sr)
        return;
    pthread_mutex_lock(&shared_lock);
    /* The newest set stays compiled while no engine uses it: the next engine (a test's, a
     * daemon's after SIGHUP) most likely wants the same. It is reachable, so never a leak. */
    bool last = --sr->refs == 0 && sr != shared_list;
    if (last)
        for (struct shared_rules **p = &shared_list; *p; p = &(*p)->next)
            if (*p == sr) {
                *p = sr->next;
                break;
            }
    pthread_mutex_unlock(&shared_lock);
    if (last) {
        sg__rules_free(sr->rules);
        sg__free(sr->key);
        sg__free(sr);
    }
}

struct rules_check {
    struct sg_engine *engine;
    pthread_rwlock_t lock;      /* readers scan; configure swaps the ruleset */
    struct shared_rules *shared;
    struct sg_rules *rules;     /* shared->rules */
    pthread_key_t scratch_key;  /* a Hyperscan scratch per thread */
    pthread_mutex_t scratches_lock;
    struct sg_rules_scratch **scratches; /* every scratch made, freed with the check */
    size_t nscratches, cap;
    bool told_full;             /* the seen-domain bound was logged (once per engine) */
};

int sg__check_rules_init(struct sg_engine *engine, void **state)
{
    struct rules_check *r = sg__calloc(1, sizeof *r);
    if (!r)
        return SG_ENOMEM;
    r->engine = engine;
    pthread_rwlock_init(&r->lock, NULL);
    pthread_mutex_init(&r->scratches_lock, NULL);
    if (pthread_key_create(&r->scratch_key, NULL) != 0) {
        sg__free(r);
        return SG_ENOMEM;
    }
    *state = r;
    return 0;
}

/* The compiled rules for dir: shared when an identical set is loaded already, else loaded and
 * published for the next engine. */
static int shared_get(struct rules_check *r, const char *dir, struct shared_rules **out)
{
    char *key = rules_key(dir);
    if (!key)
        return SG_ENOMEM;
    pthread_mutex_lock(&shared_lock);
    for (struct shared_rules *sr = shared_list; sr; sr = sr->next)
        if (strcmp(sr->key, key) == 0) {
            sr->refs++;
            pthread_mutex_unlock(&shared_lock);
            sg__free(key);
            *out = sr;
            return 0;
        }
    pthread_mutex_unlock(&shared_lock);
    const char *dirs[1] = {dir};
    struct sg_rules *rules;
    char *errors = NULL;
    int rc = sg__rules_load(dirs, dir && *dir ? 1 : 0, 0, &rules, &errors);
    if (rc) {
        sg__log(r->engine, SG_LOG_ERROR, "rules: %s", errors ? errors : sg_strerror(rc));
        sg__free(errors);
        sg__free(key);
        return rc;
    }
    struct shared_rules *sr = sg__calloc(1, sizeof *sr);
    if (!sr) {
        sg__rules_free(rules);
        sg__free(key);
        return SG_ENOMEM;
    }
    sr->key = key;
    sr->rules = rules;
    sr->refs = 1;
    pthread_mutex_lock(&shared_lock);
    struct shared_rules *unused = shared_list && shared_list->refs == 0 ? shared_list : NULL;
    if (unused)
        shared_list = unused->next; /* the pinned set nobody uses gives way to the new one */
    sr->next = shared_list; /* two threads compiling the same set at once both publish: harmless */
    shared_list = sr;
    pthread_mutex_unlock(&shared_lock);
    if (unused) {
        sg__rules_free(unused->rules);
        sg__free(unused->key);
        sg__free(unused);
    }
    *out = sr;
    return 0;
}

int sg__check_rules_configure(void *state, const struct sg_config *cfg)
{
    struct rules_check *r = state;
    struct shared_rules *sr;
    int rc = shared_get(r, cfg->rules_local_dir, &sr);
    if (rc)
        return rc;
    pthread_rwlock_wrlock(&r->lock);
    struct shared_rules *old = r->shared;
    r->shared = sr;
    r->rules = sr->rules;
    pthread_rwlock_unlock(&r->lock);
    shared_release(old);
    return 0;
}

/* This thread's scratch, made on first use (a scratch made for an older ruleset grows). */
static struct sg_rules_scratch *scratch_for(struct rules_check *r)
{
    struct sg_rules_scratch *s = pthread_getspecific(r->scratch_key);
    if (s)
        return s;
    if (!(s = sg__rules_scratch_new(r->rules)))
        return NULL;
    pthread_mutex_lock(&r->scratches_lock);
    if (r->nscratches == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        struct sg_rules_scratch **grown = sg__realloc(r->scratches, cap * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock(&r->scratches_lock);
            sg__rules_scratch_free(s);
            return NULL;
        }
        r->scratches = grown;
        r->cap = cap;
    }
    r->scratches[r->nscratches++] = s;
    pthread_mutex_unlock(&r->scratches_lock);
    pthread_setspecific(r->scratch_key, s);
    return s;
}

/* The tenant's delivered-domain history for the message's link domains (seen[i] as
 * sg__seen_domains_lookup gives it; *seen NULL without links), and from it URL_NEW_DOMAIN: how
 * many of them the tenant has never delivered; unknown (NaN) when none is new but some could not
 * be told (the seen set is full, or the tenant has too little history for "never delivered" to
 * mean anything). */
static int new_domain_fact(struct rules_check *r, struct sg_ctx *ctx, const int8_t **seen_out,
                           double *out)
{
    const struct sg_url_domain *d;
    size_t nd;
    *seen_out = NULL;
    int rc = sg__ctx_url_domains(ctx, &d, &nd);
    if (rc || nd == 0) {
        *out = 0;
        return rc;
    }
    uint64_t *keys = sg__arena_alloc(ctx->arena, nd * sizeof *keys);
    int8_t *seen = sg__arena_alloc(ctx->arena, nd * sizeof *seen);
    if (!keys || !seen)
        return SG_ENOMEM;
    for (size_t i = 0; i < nd; i++)
        keys[i] = d[i].key;
    sg__seen_domains_lookup(r->engine->seen_domains,
                            sg__engine_history_key(r->engine, ctx->ev->tenant),
                            r->engine->cfg->rules_new_domain_history, keys, nd, seen);
    unsigned fresh = 0, unknown = 0;
    for (size_t i = 0; i < nd; i++) {
        fresh += seen[i] == 0;
        unknown += seen[i] < 0;
    }
    *out = fresh || !unknown ? (double)fresh : NAN;
    *seen_out = seen;
    return 0;
}

/* Whether domain is the raw mail's From domain or a parent of it (mail.shop.example links to
 * shop.example). */
static bool sender_owns(const struct sg_content *c, const char *domain)
{
    const char *at = c->from_addr ? strrchr(c->from_addr, '@') : NULL;
    if (!at)
        return false;
    size_t n = strlen(at + 1), dl = strlen(domain);
    return n >= dl && strcasecmp(at + 1 + n - dl, domain) == 0 &&
           (n == dl || at[1 + n - dl - 1] == '.');
}

/* URL_UNFAMILIAR_DOMAIN: how many of the message's link domains nobody vouches for: not a
 * widely known site (data/popular_domains.txt), not under a suffix only institutions can
 * register (edu.sg, ac.uk), not a brand's own, not the tenant's own name or the From domain,
 * and not delivered in this tenant before. Unlike URL_NEW_DOMAIN it speaks from a tenant's
 * first message: the list stands in for the history the tenant lacks. Reads the ruleset's
 * brands: call under r->lock. */
static double unfamiliar_domain_fact(const struct rules_check *r, const struct sg_ctx *ctx,
                                     const struct sg_content *content, const int8_t *seen)
{
    const struct sg_url_domain *d = ctx->url_domains;
    unsigned n = 0;
    for (size_t i = 0; seen && i < ctx->nurl_domains; i++)
        n += seen[i] != 1 && !sg__domain_is_popular(d[i].name) &&
             !sg__domain_is_institutional(d[i].name) &&
             !sg__domain_of_a_brand(r->rules, d[i].name) &&
             !sg__name_owns_domain(ctx->ev->tenant, d[i].name) && !sender_owns(content, d[i].name);
    return n;
}

/* URL_TENANT_LOOKALIKE: how many of the message's links go to a host built on the tenant's
 * own name that is not the tenant's domain. The platform's name is what a phisher on it puts
 * in a host; a tenant id that is no name (shorter than 4 letters or digits) never matches. */
static double tenant_lookalike_fact(const struct sg_content *c, const char *tenant)
{
    unsigned n = 0;
    for (size_t u = 0; u < c->nurls; u++)
        n += sg__host_uses_name(tenant, c->urls[u].host, c->urls[u].domain);
    return n;
}

int sg__check_rules_run(void *state, struct sg_ctx *ctx)
{
    struct rules_check *r = state;
    const struct sg_content *content;
    int rc = sg__ctx_content(ctx, &content);
    if (rc)
        return rc;
    struct sg_rules_facts facts;
    sg__rules_facts_init(&facts);
    if (ctx->account) {
        facts.v[SG_FACT_SENDER_AGE_HOURS] = (double)(ctx->now - ctx->account->created_at) / 3.6e9;
        facts.v[SG_FACT_SENDER_POSTS] = ctx->account->posts;
        /* A sender the engine has never seen has an account made for this message: count 0. */
        facts.v[SG_FACT_SENDER_MESSAGES] = ctx->account->messages;
        facts.v[SG_FACT_FIRST_MESSAGE] = ctx->account->messages == 0;
    }
    facts.v[SG_FACT_RECIPIENTS] = (double)ctx->ev->nrecipients;
    const int8_t *seen;
    if ((rc = new_domain_fact(r, ctx, &seen, &facts.v[SG_FACT_URL_NEW_DOMAIN])))
        return rc;
    facts.v[SG_FACT_URL_TENANT_LOOKALIKE] = tenant_lookalike_fact(content, ctx->ev->tenant);
    pthread_rwlock_rdlock(&r->lock);
    facts.v[SG_FACT_URL_UNFAMILIAR_DOMAIN] = unfamiliar_domain_fact(r, ctx, content, seen);
    struct sg_rules_scratch *scratch = scratch_for(r);
    size_t n = sg__rules_count(r->rules);
    struct sg_rule_hit *hits = scratch ? sg__arena_alloc(ctx->arena, (n ? n : 1) * sizeof *hits) : NULL;
    int nhits = hits ? sg__rules_scan(r->rules, scratch, content, &facts, ctx->ev->channel,
                                      ctx->arena, hits, n)
                     : SG_ENOMEM;
    pthread_rwlock_unlock(&r->lock);
    if (nhits < 0)
        return nhits == SG_ETOOBIG ? 0 : nhits;
    for (int i = 0; i < nhits; i++) {
        const struct sg_rule_hit *h = &hits[i];
        if (h->score == 0 && !h->monitor)
            continue; /* helper rules other rules build on */
        if (h->quote)
            sg__ctx_reason_named(ctx, h->code, h->score, "%s (\"%s\")", h->description, h->quote);
        else
            sg__ctx_reason_named(ctx, h->code, h->score, "%s", h->description);
    }
    return 0;
}

/* A delivered message: its sender has sent one more, and its link domains are now known in
 * its tenant. Both go through the store's writer; a failed write is logged (commit cannot fail
 * the verdict already given) and costs only a fact that errs towards "new" after a restart. */
void sg__check_rules_commit(void *state, struct sg_ctx *ctx)
{
    struct rules_check *r = state;
    struct sg_engine *e = r->engine;
    struct sg_account *a = ctx->account;
    if (a) {
        if (a->messages < UINT32_MAX)
            a->messages++;
        int rc = sg__accounts_save(e->accounts, a, ctx->now);
        if (rc)
            sg__log(e, SG_LOG_ERROR, "rules: saving %s/%s: %s", a->tenant, a->account,
                    sg_strerror(rc));
    }
    const struct sg_url_domain *d;
    size_t nd;
    if (sg__ctx_url_domains(ctx, &d, &nd) || nd == 0)
        return;
    uint64_t *keys = sg__arena_alloc(ctx->arena, nd * sizeof *keys);
    bool *added = sg__arena_alloc(ctx->arena, nd * sizeof *added);
    const char **names = sg__arena_alloc(ctx->arena, nd * sizeof *names);
    if (!keys || !added || !names)
        return;
    for (size_t i = 0; i < nd; i++)
        keys[i] = d[i].key;
    bool dropped;
    if (sg__seen_domains_history_add(e->seen_domains, sg__engine_history_key(e, ctx->ev->tenant), 1))
        sg__log(e, SG_LOG_ERROR, "rules: no memory for the link history of %s", ctx->ev->tenant);
    size_t n = sg__seen_domains_add(e->seen_domains, keys, nd, added, &dropped);
    if (n) {
        size_t k = 0;
        for (size_t i = 0; i < nd; i++)
            if (added[i]) {
                keys[k] = d[i].key;
                names[k++] = d[i].name;
            }
        int rc = sg__store_seen_domains_put(e->store, ctx->ev->tenant, ctx->now, keys, names, k);
        if (rc)
            sg__log(e, SG_LOG_ERROR, "rules: saving link domains of %s: %s", ctx->ev->tenant,
                    sg_strerror(rc));
    }
    if (dropped && !__atomic_exchange_n(&r->told_full, true, __ATOMIC_RELAXED))
        sg__log(e, SG_LOG_WARN,
                "rules: %zu link domains are known, the most kept (or memory ran out); "
                "URL_NEW_DOMAIN is unknown for the domains not yet known",
                sg__seen_domains_count(e->seen_domains));
}

void sg__check_rules_free(void *state)
{
    struct rules_check *r = state;
    if (!r)
        return;
    for (size_t i = 0; i < r->nscratches; i++)
        sg__rules_scratch_free(r->scratches[i]);
    sg__free(r->scratches);
    pthread_key_delete(r->scratch_key);
    shared_release(r->shared);
    pthread_rwlock_destroy(&r->lock);
    pthread_mutex_destroy(&r->scratches_lock);
    sg__free(r);
}
