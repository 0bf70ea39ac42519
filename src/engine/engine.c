/* The engine: parse → enrich → checks → score → act for every event, with state behind the
 * store interface and time read only from the injected clock. */
#include "engine/engine.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bayes/bayes.h"
#include "engine/accounts.h"
#include "engine/domains.h"
#include "engine/lists.h"
#include "engine/result.h"
#include "store/store.h"
#include "text/content.h"
#include "util/alloc.h"
#include "util/cidr.h"
#include "util/gcra.h"
#include "util/hash.h"

void sg__log(struct sg_engine *e, enum sg_log_level level, const char *fmt, ...)
{
    if (!e->log || level < e->cfg->log_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    e->log(e->log_ud, level, msg);
}

uint64_t sg__engine_key(const struct sg_engine *e, const char *const *parts, unsigned n)
{
    uint64_t h = e->seed;
    for (unsigned i = 0; i < n; i++)
        h = sg__hash(parts[i], strlen(parts[i]) + 1, h); /* the NUL keeps "ab","c" ≠ "a","bc" */
    return h;
}

void sg__ctx_reason(struct sg_ctx *ctx, int code, const char *fmt, ...)
{
    if (ctx->nreasons >= SG_MAX_REASONS)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = sg__arena_vprintf(ctx->arena, fmt, ap);
    va_end(ap);
    struct sg_reason *r = &ctx->reasons[ctx->nreasons++];
    r->code = code;
    r->name = NULL;
    r->score = ctx->policy->score[code];
    r->message = msg ? msg : "";
}

void sg__ctx_reason_named(struct sg_ctx *ctx, const char *code, double score, const char *fmt, ...)
{
    if (ctx->nreasons >= SG_MAX_REASONS)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = sg__arena_vprintf(ctx->arena, fmt, ap);
    va_end(ap);
    struct sg_reason *r = &ctx->reasons[ctx->nreasons++];
    r->code = -1;
    r->name = code;
    r->score = score;
    r->message = msg ? msg : "";
}

const char *sg__reason_code_text(const struct sg_reason *r)
{
    return r->code >= 0 ? sg__reason_name(r->code) : r->name;
}

int sg__ctx_content(struct sg_ctx *ctx, const struct sg_content **out)
{
    if (!ctx->content) {
        struct sg_content *c = sg__arena_alloc(ctx->arena, sizeof *c);
        if (!c)
            return SG_ENOMEM;
        int rc = sg__content_build(ctx->arena, ctx->ev, c);
        if (rc && rc != SG_ETOOBIG) /* over a limit: judge what fitted */
            return rc;
        ctx->content = c;
    }
    *out = ctx->content;
    return 0;
}

int sg__ctx_url_domains(struct sg_ctx *ctx, const struct sg_url_domain **out, size_t *n)
{
    if (!ctx->url_domains) {
        const struct sg_content *c;
        int rc = sg__ctx_content(ctx, &c);
        if (rc)
            return rc;
        struct sg_url_domain *d = sg__arena_alloc(ctx->arena, (c->nurls ? c->nurls : 1) * sizeof *d);
        if (!d)
            return SG_ENOMEM;
        /* Quadratic, but over at most the content's 200 URLs and mostly one or two domains:
         * cheaper than any table for the sizes that occur. */
        size_t nd = 0;
        for (size_t i = 0; i < c->nurls; i++) {
            const char *name = c->urls[i].domain;
            if (!name || !*name)
                continue;
            size_t j = 0;
            while (j < nd && strcmp(d[j].name, name) != 0)
                j++;
            if (j < nd)
                continue;
            /* A part of its own keeps these keys apart from sender keys of the same text. */
            const char *parts[3] = {"url_domain", ctx->ev->tenant, name};
            d[nd].name = name;
            d[nd].key = sg__engine_key(ctx->engine, parts, 3);
            nd++;
        }
        ctx->url_domains = d;
        ctx->nurl_domains = nd;
    }
    *out = ctx->url_domains;
    *n = ctx->nurl_domains;
    return 0;
}

bool sg__ctx_refused(const struct sg_ctx *ctx)
{
    for (unsigned i = 0; i < ctx->nreasons; i++) {
        if (ctx->reasons[i].code < 0)
            continue;
        enum sg_action f = sg__reason_forced_action(ctx->reasons[i].code);
        if (f == SG_REJECT || f == SG_BLOCK)
            return true;
    }
    return false;
}

bool sg__ctx_account_younger(const struct sg_ctx *ctx, int64_t age_s)
{
    return ctx->account && ctx->now - ctx->account->created_at < age_s * 1000000;
}

/* ---- lifecycle ---- */

void sg__engine_bayes_params(const struct sg_config *cfg, struct sg_bayes_params *out)
{
    sg__bayes_params_default(out);
    out->min_spam = cfg->bayes_min_spam;
    out->min_ham = cfg->bayes_min_ham;
}

static int save_limiter_key(void *ud, uint64_t key, const int64_t tat[SG_GCRA_MAX_WINDOWS])
{
    return sg__store_limiter_put(ud, key, tat, SG_GCRA_MAX_WINDOWS);
}

uint64_t sg__engine_history_key(const struct sg_engine *e, const char *tenant)
{
    const char *parts[2] = {"url_history", tenant};
    return sg__engine_key(e, parts, 2);
}

static int restore_link_history(void *ud, const char *tenant, uint64_t messages)
{
    struct sg_engine *e = ud;
    return sg__seen_domains_history_add(e->seen_domains, sg__engine_history_key(e, tenant),
                                        messages);
}

static int restore_seen_domain(void *ud, uint64_t key)
{
    bool added;
    sg__seen_domains_add(ud, &key, 1, &added, NULL); /* past the bound the rest stay unknown */
    return 0;
}

static int restore_limiter_key(void *ud, uint64_t key, const int64_t *tat, size_t n)
{
    int64_t full[SG_GCRA_MAX_WINDOWS] = {0};
    memcpy(full, tat, (n < SG_GCRA_MAX_WINDOWS ? n : SG_GCRA_MAX_WINDOWS) * sizeof *tat);
    return sg__gcra_restore(ud, key, full);
}

int sg_engine_new(const struct sg_config *cfg, struct sg_store *store, const struct sg_clock *clock,
                  struct sg_engine **out)
{
    *out = NULL;
    if (!cfg || !store || !clock || !clock->now)
        return SG_EINVAL;
    struct sg_engine *e = sg__calloc(1, sizeof *e);
    if (!e)
        return SG_ENOMEM;
    pthread_mutex_init(&e->arena_lock, NULL);
    pthread_mutex_init(&e->learn_lock, NULL);
    pthread_rwlock_init(&e->cfg_lock, NULL);
    for (unsigned i = 0; i < SG_ENGINE_STRIPES; i++)
        pthread_mutex_init(&e->stripes[i], NULL);
    e->store = store;
    e->clock = *clock;
    e->seed = sg__store_seed(store);
    int rc = sg__config_copy(cfg, &e->cfg);
    if (rc)
        goto fail;
    sg__store_set_batch(store, e->cfg->store_batch);
    rc = SG_ENOMEM;
    e->limiter = sg__gcra_new(e->cfg->limiter_shards);
    e->lists = sg__lists_new(e->seed);
    e->accounts = sg__accounts_new(store, e->seed);
    e->seen_domains = sg__seen_domains_new(0);
    e->check_state = sg__calloc(sg__ncheck, sizeof *e->check_state);
    if (!e->limiter || !e->lists || !e->accounts || !e->seen_domains || !e->check_state)
        goto fail;
    sg_time now = e->clock.now(e->clock.ud);
    if ((rc = sg__lists_load(e->lists, store, now)) ||
        (rc = sg__store_limiter_load(store, restore_limiter_key, e->limiter)) ||
        (rc = sg__store_seen_domains_each(store, restore_seen_domain, e->seen_domains)) ||
        (rc = sg__store_link_history_each(store, restore_link_history, e)))
        goto fail;
    struct sg_bayes_params bp;
    sg__engine_bayes_params(e->cfg, &bp);
    if ((rc = sg__bayes_open(store, &bp, &e->bayes)))
        goto fail;
    for (unsigned i = 0; i < sg__ncheck; i++) {
        const struct sg_check *c = &sg__checks[i];
        if ((c->init && (rc = c->init(e, &e->check_state[i]))) ||
            (c->configure && (rc = c->configure(e->check_state[i], e->cfg))))
            goto fail;
    }
    *out = e;
    return 0;
fail:
    sg_engine_free(e);
    return rc;
}

void sg_engine_free(struct sg_engine *e)
{
    if (!e)
        return;
    if (e->limiter && e->store && __atomic_load_n(&e->limiter_dirty, __ATOMIC_RELAXED)) {
        sg__gcra_expire(e->limiter, e->clock.now(e->clock.ud));
        if (sg__store_limiter_clear(e->store) == 0)
            sg__gcra_foreach(e->limiter, save_limiter_key, e->store);
        sg_store_flush(e->store);
    }
    for (unsigned i = 0; e->check_state && i < sg__ncheck; i++)
        if (sg__checks[i].free)
            sg__checks[i].free(e->check_state[i]);
    sg__free(e->check_state);
    sg__bayes_free(e->bayes); /* after the checks, which classify with it */
    sg__gcra_free(e->limiter);
    sg__lists_free(e->lists);
    sg__accounts_free(e->accounts);
    sg__seen_domains_free(e->seen_domains);
    sg__arena_free(e->spare_arena);
    pthread_mutex_destroy(&e->arena_lock);
    pthread_mutex_destroy(&e->learn_lock);
    pthread_rwlock_destroy(&e->cfg_lock);
    for (unsigned i = 0; i < SG_ENGINE_STRIPES; i++)
        pthread_mutex_destroy(&e->stripes[i]);
    if (e->cfg) {
        struct sg_config *cfg = e->cfg;
        e->cfg = NULL;
        sg_config_free(cfg);
    }
    sg__free(e);
}

void sg_engine_set_log(struct sg_engine *e, sg_log_fn fn, void *ud)
{
    e->log = fn;
    e->log_ud = ud;
}

void sg_engine_set_alert(struct sg_engine *e, sg_alert_fn fn, void *ud)
{
    e->alert = fn;
    e->alert_ud = ud;
}

int sg_engine_reload(struct sg_engine *e, const struct sg_config *cfg)
{
    struct sg_config *copy;
    int rc = sg__config_copy(cfg, &copy);
    if (rc)
        return rc;
    pthread_rwlock_wrlock(&e->cfg_lock);
    struct sg_config *old = e->cfg;
    e->cfg = copy;
    for (unsigned i = 0; i < sg__ncheck && !rc; i++)
        if (sg__checks[i].configure)
            rc = sg__checks[i].configure(e->check_state[i], copy);
    if (rc) { /* keep running on the old settings rather than half the new ones */
        e->cfg = old;
        for (unsigned i = 0; i < sg__ncheck; i++)
            if (sg__checks[i].configure)
                sg__checks[i].configure(e->check_state[i], old);
        old = copy;
    } else {
        sg__store_set_batch(e->store, copy->store_batch);
        struct sg_bayes_params bp;
        sg__engine_bayes_params(copy, &bp);
        sg__bayes_set_params(e->bayes, &bp); /* counts are kept */
    }
    pthread_rwlock_unlock(&e->cfg_lock);
    sg_config_free(old);
    return rc;
}

int sg_engine_reload_lists(struct sg_engine *e)
{
    return sg__lists_load(e->lists, e->store, e->clock.now(e->clock.ud));
}

int sg_engine_reload_model(struct sg_engine *e, uint64_t *tokens)
{
    if (!e)
        return SG_EINVAL;
    int rc = sg__bayes_reload(e->bayes);
    if (tokens) {
        struct sg_bayes_stats st;
        (void)sg__bayes_stats(e->bayes, NULL, &st); /* model_tokens even without a global class */
        *tokens = st.model_tokens;
    }
    return rc;
}

void sg_engine_stats(const struct sg_engine *e, struct sg_engine_stats *out)
{
    memset(out, 0, sizeof *out);
    out->events = e->stats_events;
    memcpy(out->by_type, e->stats_by_type, sizeof out->by_type);
    out->limiter_keys = sg__gcra_count(e->limiter);
    out->limiter_bytes = sg__gcra_bytes(e->limiter);
}

/* ---- judgement ---- */

static struct sg_arena *arena_take(struct sg_engine *e)
{
    pthread_mutex_lock(&e->arena_lock);
    struct sg_arena *a = e->spare_arena;
    e->spare_arena = NULL;
    pthread_mutex_unlock(&e->arena_lock);
    return a ? a : sg__arena_new(0);
}

static void arena_give(struct sg_engine *e, struct sg_arena *a)
{
    sg__arena_reset(a);
    pthread_mutex_lock(&e->arena_lock);
    if (!e->spare_arena) {
        e->spare_arena = a;
        a = NULL;
    }
    pthread_mutex_unlock(&e->arena_lock);
    sg__arena_free(a);
}

static int run_checks(struct sg_engine *e, struct sg_ctx *ctx)
{
    unsigned bit = 1u << ctx->ev->type;
    for (unsigned i = 0; i < sg__ncheck; i++) {
        if (!(sg__checks[i].events & bit))
            continue;
        int rc = sg__checks[i].run(e->check_state[i], ctx);
        if (rc)
            return rc;
    }
    return 0;
}

static void commit_checks(struct sg_engine *e, struct sg_ctx *ctx)
{
    unsigned bit = 1u << ctx->ev->type;
    for (unsigned i = 0; i < sg__ncheck; i++)
        if ((sg__checks[i].events & bit) && sg__checks[i].commit)
            sg__checks[i].commit(e->check_state[i], ctx);
}

/* Sum of scores, then the stronger of the threshold's action and any reason's forced action. */
static enum sg_action decide(const struct sg_ctx *ctx, double hold_at, double reject_at, double *score)
{
    double sum = 0;
    enum sg_action forced = SG_ALLOW;
    for (unsigned i = 0; i < ctx->nreasons; i++) {
        sum += ctx->reasons[i].score;
        if (ctx->reasons[i].code < 0)
            continue; /* rule-file codes only score */
        enum sg_action f = sg__reason_forced_action(ctx->reasons[i].code);
        if (f == SG_BLOCK)
            f = SG_REJECT;
        else if (f == SG_REVIEW)
            f = SG_HOLD;
        if (f > forced)
            forced = f;
    }
    *score = sum;
    enum sg_action by_score = sum >= reject_at ? SG_REJECT : sum >= hold_at ? SG_HOLD : SG_ALLOW;
    return by_score > forced ? by_score : forced;
}

static int result_new(enum sg_event_type type, struct sg_result **out)
{
    struct sg_result *res = sg__calloc(1, sizeof *res);
    if (!res)
        return SG_ENOMEM;
    res->type = type;
    res->channel = -1;
    sg__sb_init(&res->json, 0);
    *out = res;
    return 0;
}

static int finish_json(struct sg_result *res)
{
    return res->json.failed ? SG_ENOMEM : 0;
}

/* The account an event names, created (not yet saved) when unknown. In a dry run a new account
 * lives in *scratch so nothing is added to the table. */
static int account_for(struct sg_engine *e, const char *tenant, const char *account, sg_time now,
                       bool dry_run, struct sg_account *scratch, struct sg_account **out,
                       bool *created)
{
    *created = false;
    int rc = sg__accounts_get(e->accounts, tenant, account, out);
    if (rc || *out)
        return rc;
    *created = true;
    if (dry_run) {
        memset(scratch, 0, sizeof *scratch);
        scratch->tenant = (char *)tenant;
        scratch->account = (char *)account;
        scratch->verified = -1;
        scratch->created_at = now;
        *out = scratch;
        return 0;
    }
    if ((rc = sg__accounts_add(e->accounts, tenant, account, out)))
        return rc;
    (*out)->created_at = now;
    return 0;
}

static int judge_message(struct sg_engine *e, struct sg_ctx *ctx, struct sg_result *res)
{
    const struct sg_event *ev = ctx->ev;
    struct sg_account scratch;
    bool created;
    int rc = account_for(e, ev->tenant, ev->sender, ctx->now, ctx->dry_run, &scratch,
                         &ctx->account, &created);
    if (rc)
        return rc;
    if (created && !ctx->dry_run && (rc = sg__accounts_save(e->accounts, ctx->account, ctx->now)))
        return rc;
    ctx->chp = &ctx->policy->ch[ev->channel];
    ctx->email_domain = ctx->account->email_domain;
    const char *key_parts[2] = {ev->tenant, ev->sender};
    ctx->sender_key = sg__engine_key(e, key_parts, 2);
    ctx->has_ip = ev->ip && sg__ip_parse(ev->ip, strlen(ev->ip), ctx->ip) == 0;
    if ((rc = run_checks(e, ctx)))
        return rc;
    const struct sg_url_domain *domains;
    size_t ndomains;
    if ((rc = sg__ctx_url_domains(ctx, &domains, &ndomains))) /* for the JSON and the row */
        return rc;
    double score;
    enum sg_action action = decide(ctx, ctx->chp->hold_at, ctx->chp->reject_at, &score);
    res->action = action;
    res->channel = ev->channel;
    sg__result_verdict_json(&res->json, ctx, action, score);
    if ((rc = finish_json(res)) || ctx->dry_run)
        return rc;
    if (action == SG_ALLOW)
        commit_checks(e, ctx);

    /* The verdict is recorded with its recipients: "who received what" is answered from here. */
    struct sg_strbuf codes;
    sg__sb_init(&codes, 0);
    for (unsigned i = 0; i < ctx->nreasons; i++) {
        if (i)
            sg__sb_addc(&codes, ',');
        sg__sb_adds(&codes, sg__reason_code_text(&ctx->reasons[i]));
    }
    size_t nlisted = ndomains < SG_VERDICT_URL_DOMAINS_MAX ? ndomains : SG_VERDICT_URL_DOMAINS_MAX;
    const char *listed[SG_VERDICT_URL_DOMAINS_MAX];
    for (size_t i = 0; i < nlisted; i++)
        listed[i] = domains[i].name;
    struct sg_verdict_row row = {
        .id = ev->id,
        .tenant = ev->tenant,
        .sender = ev->sender,
        .channel = sg__channel_name(ev->channel),
        .at = ctx->now,
        .action = sg_action_name(action),
        .score = score,
        .reasons = sg__sb_cstr(&codes),
        .template_name = ev->template_name,
        .ip = ev->ip,
        .recipients = ev->recipients,
        .nrecipients = ev->nrecipients,
        .url_domains = listed,
        .nurl_domains = nlisted,
        .json = sg__sb_cstr(&res->json),
    };
    uint64_t seq = 0;
    rc = codes.failed ? SG_ENOMEM : sg__store_verdict_put(e->store, &row, &seq);
    sg__sb_release(&codes);
    if (!rc && (ctx->flags & SG_SUBMIT_DURABLE))
        rc = sg__store_wait_durable(e->store, seq);
    return rc;
}

static int judge_account(struct sg_engine *e, struct sg_ctx *ctx, struct sg_result *res)
{
    const struct sg_event *ev = ctx->ev;
    struct sg_account scratch;
    bool created;
    int rc = account_for(e, ev->tenant, ev->account, ctx->now, ctx->dry_run, &scratch,
                         &ctx->account, &created);
    if (rc)
        return rc;
    struct sg_account *a = ctx->account;
    bool bad_email = false;
    if (!ctx->dry_run) {
        if (ev->email && (rc = sg__accounts_set_email(a, ev->email)) == SG_EPARSE)
            bad_email = true;
        else if (rc)
            return rc;
        if (ev->ip && (rc = sg__accounts_set_ip(a, ev->ip)))
            return rc;
        if (ev->created_at)
            a->created_at = ev->created_at;
        if (ev->verified >= 0)
            a->verified = (int8_t)ev->verified;
    }
    ctx->has_ip = ev->ip && sg__ip_parse(ev->ip, strlen(ev->ip), ctx->ip) == 0;
    ctx->email_domain = a->email_domain;
    const char *dom;
    size_t dom_len;
    if (ctx->dry_run && ev->email) {
        bad_email = !sg__email_domain_span(ev->email, &dom, &dom_len);
        char *lower = bad_email ? NULL : sg__arena_strndup(ctx->arena, dom, dom_len);
        for (size_t i = 0; lower && i < dom_len; i++)
            lower[i] = (char)tolower((unsigned char)lower[i]);
        ctx->email_domain = lower;
    }
    if (bad_email)
        sg__ctx_reason(ctx, SG_R_SIGNUP_BAD_EMAIL, "The email address %s has no valid domain.", ev->email);
    if ((rc = run_checks(e, ctx)))
        return rc;
    /* Account verdicts use the email channel's thresholds: signups are judged before they send. */
    double score;
    enum sg_action m = decide(ctx, ctx->policy->ch[SG_CH_EMAIL].hold_at,
                              ctx->policy->ch[SG_CH_EMAIL].reject_at, &score);
    enum sg_action action = m == SG_REJECT ? SG_BLOCK : m == SG_HOLD ? SG_REVIEW : SG_ALLOW;
    res->action = action;
    sg__result_verdict_json(&res->json, ctx, action, score);
    if ((rc = finish_json(res)) || ctx->dry_run)
        return rc;
    if (action == SG_BLOCK)
        a->status = SG_ACCOUNT_BLOCKED;
    else if (action == SG_REVIEW && a->status == SG_ACCOUNT_ACTIVE)
        a->status = SG_ACCOUNT_REVIEW;
    return sg__accounts_save(e->accounts, a, ctx->now);
}

/* Activity that counts as a public post for the "two posts" rule. */
static bool counts_as_post(const char *kind)
{
    static const char *const kinds[] = {"post", "reply", "comment", "topic", "thread"};
    if (!kind)
        return true;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kind, kinds[i]) == 0)
            return true;
    return false;
}

static int apply_activity(struct sg_engine *e, struct sg_ctx *ctx)
{
    const struct sg_event *ev = ctx->ev;
    struct sg_account scratch;
    bool created;
    int rc = account_for(e, ev->tenant, ev->account, ctx->now, ctx->dry_run, &scratch,
                         &ctx->account, &created);
    if (rc || ctx->dry_run)
        return rc;
    if (counts_as_post(ev->kind))
        ctx->account->posts++;
    return sg__accounts_save(e->accounts, ctx->account, ctx->now);
}

static int apply_record(struct sg_engine *e, struct sg_ctx *ctx)
{
    const struct sg_event *ev = ctx->ev;
    if (ctx->dry_run)
        return 0;
    if (ev->type == SG_EV_TENANT) {
        struct sg_tenant_row row = {ev->tenant, ev->timezone, ev->working_hours, ctx->now};
        return sg__store_tenant_put(e->store, &row);
    }
    /* Reports and reviews are kept as received and acted on by the moderation issue. */
    return sg__store_event_put(e->store, sg__event_type_name(ev->type), ev->tenant, ev->message,
                               ctx->now, ev->json);
}

int sg_engine_submit(struct sg_engine *e, const struct sg_event *ev, unsigned flags,
                     struct sg_result **out)
{
    *out = NULL;
    struct sg_result *res;
    int rc = result_new(ev->type, &res);
    if (rc)
        return rc;
    struct sg_arena *arena = arena_take(e);
    if (!arena) {
        sg_result_free(res);
        return SG_ENOMEM;
    }
    pthread_rwlock_rdlock(&e->cfg_lock);
    struct sg_ctx ctx = {
        .engine = e,
        .ev = ev,
        .policy = sg__config_policy(e->cfg, ev->tenant),
        .now = e->clock.now(e->clock.ud),
        .arena = arena,
        .dry_run = flags & SG_SUBMIT_DRY_RUN,
        .flags = flags,
        .retry_after_s = -1,
    };
    const char *who = ev->type == SG_EV_MESSAGE ? ev->sender : ev->account;
    pthread_mutex_t *stripe = NULL;
    if (who) {
        const char *parts[2] = {ev->tenant, who};
        stripe = &e->stripes[sg__engine_key(e, parts, 2) % SG_ENGINE_STRIPES];
        pthread_mutex_lock(stripe);
    }
    switch (ev->type) {
    case SG_EV_MESSAGE:
        rc = judge_message(e, &ctx, res);
        break;
    case SG_EV_ACCOUNT:
        rc = judge_account(e, &ctx, res);
        break;
    case SG_EV_ACTIVITY:
        rc = apply_activity(e, &ctx);
        break;
    case SG_EV_TENANT:
    case SG_EV_REPORT:
    case SG_EV_REVIEW:
        rc = apply_record(e, &ctx);
        break;
    }
    if (stripe)
        pthread_mutex_unlock(stripe);
    pthread_rwlock_unlock(&e->cfg_lock);
    if (!rc && ev->type != SG_EV_MESSAGE && ev->type != SG_EV_ACCOUNT) {
        sg__result_ack_json(&res->json, ev, ctx.now);
        rc = finish_json(res);
    }
    arena_give(e, arena);
    if (rc) {
        sg__log(e, SG_LOG_ERROR, "%s event: %s", sg__event_type_name(ev->type), sg_strerror(rc));
        sg_result_free(res);
        return rc;
    }
    __atomic_add_fetch(&e->stats_events, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&e->stats_by_type[ev->type], 1, __ATOMIC_RELAXED);
    *out = res;
    return 0;
}
