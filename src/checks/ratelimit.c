/* Check: rate limits (GCRA, several windows at once) per sender, tenant, recipient and client
 * address, each per channel. The check only looks; the counters move in commit, after the
 * verdict allowed the message, so held, rejected and deferred messages cost nothing. */
#include <stdio.h>
#include <string.h>

#include "checks/checks.h"
#include "util/gcra.h"

/* The rate-limit key for scope; id is the sender, recipient or address (NULL for tenant). */
uint64_t sg__ratelimit_key(const struct sg_engine *e, int scope, const char *tenant, int channel,
                           const char *id)
{
    static const char *const tags[SG_SCOPE_COUNT] = {"sender", "tenant", "recipient", "ip"};
    const char *parts[4] = {tags[scope], tenant, sg__channel_name(channel), id};
    return sg__engine_key(e, parts, id ? 4 : 3);
}

int sg__check_ratelimit_init(struct sg_engine *engine, void **state)
{
    *state = engine;
    return 0;
}

static void per_period(uint32_t period_s, char *buf, size_t size)
{
    switch (period_s) {
    case 1: snprintf(buf, size, "a second"); return;
    case 60: snprintf(buf, size, "a minute"); return;
    case 3600: snprintf(buf, size, "an hour"); return;
    case 86400: snprintf(buf, size, "a day"); return;
    case 604800: snprintf(buf, size, "a week"); return;
    }
    if (period_s % 86400 == 0)
        snprintf(buf, size, "per %u days", period_s / 86400);
    else if (period_s % 3600 == 0)
        snprintf(buf, size, "per %u hours", period_s / 3600);
    else if (period_s % 60 == 0)
        snprintf(buf, size, "per %u minutes", period_s / 60);
    else
        snprintf(buf, size, "per %u seconds", period_s);
}

static void wait_phrase(int64_t s, char *buf, size_t size)
{
    if (s < 120)
        snprintf(buf, size, "%lld second%s", (long long)s, s == 1 ? "" : "s");
    else if (s < 7200)
        snprintf(buf, size, "%lld minutes", (long long)((s + 59) / 60));
    else
        snprintf(buf, size, "%lld hours", (long long)((s + 3599) / 3600));
}

/* Of the rule's windows, the one that keeps cost waiting longest (for the reason's sentence):
 * a window holding `used` units must drain used + cost - limit units of period/limit each. */
static const struct sg_gcra_window *binding_window(struct sg_gcra_table *t, uint64_t key,
                                                   const struct sg_gcra_rule *rule, uint32_t cost,
                                                   int64_t now)
{
    struct sg_gcra_state st[SG_GCRA_MAX_WINDOWS];
    sg__gcra_state(t, key, rule, now, st);
    const struct sg_gcra_window *best = &rule->w[0];
    double best_wait = -1;
    for (unsigned i = 0; i < rule->nwindows; i++) {
        double over = st[i].used + cost - rule->w[i].limit;
        double wait = cost > rule->w[i].limit ? 1e300 : over * rule->w[i].period_s / rule->w[i].limit;
        if (wait > best_wait) {
            best = &rule->w[i];
            best_wait = wait;
        }
    }
    return best;
}

static const char *unit_name(const struct sg_ctx *ctx, uint8_t cost)
{
    if (cost == SG_COST_RECIPIENTS)
        return "recipients";
    switch (ctx->ev->channel) {
    case SG_CH_PRIVATE_MESSAGE: return "private messages";
    case SG_CH_EMAIL: return "emails";
    case SG_CH_POST: return "posts";
    case SG_CH_COMMENT: return "comments";
    case SG_CH_SMS: return "text messages";
    default: return "notifications";
    }
}

/* Peeks one key; on a limit adds the scope's reason and raises the context's retry_after. */
static void limit_one(struct sg_ctx *ctx, int scope, const struct sg_rate_limit *lim, uint64_t key,
                      const char *who)
{
    struct sg_gcra_table *t = ctx->engine->limiter;
    uint32_t cost = lim->cost == SG_COST_RECIPIENTS ? (uint32_t)ctx->ev->nrecipients : 1;
    int64_t wait_us = 0;
    if (sg__gcra_peek(t, key, &lim->rule, cost, ctx->now, &wait_us))
        return;
    const struct sg_gcra_window *w = binding_window(t, key, &lim->rule, cost, ctx->now);
    char per[32], wait[32];
    per_period(w->period_s, per, sizeof per);
    const char *unit = unit_name(ctx, lim->cost);
    if (wait_us < 0) {
        sg__ctx_reason(ctx, SG_R_RATE_OVER_CAPACITY,
                       "This message has %u recipients, more than the limit of %u %s %s allows.",
                       cost, w->limit, unit, per);
        return;
    }
    int64_t wait_s = (wait_us + 999999) / 1000000;
    if (wait_s > ctx->retry_after_s)
        ctx->retry_after_s = wait_s;
    wait_phrase(wait_s, wait, sizeof wait);
    switch (scope) {
    case SG_SCOPE_SENDER:
        sg__ctx_reason(ctx, SG_R_RATE_SENDER, "You can send at most %u %s %s; try again in %s.",
                       w->limit, unit, per, wait);
        break;
    case SG_SCOPE_TENANT:
        sg__ctx_reason(ctx, SG_R_RATE_TENANT,
                       "This site has reached its limit of %u %s %s; try again in %s.", w->limit,
                       unit, per, wait);
        break;
    case SG_SCOPE_RECIPIENT:
        sg__ctx_reason(ctx, SG_R_RATE_RECIPIENT,
                       "%s has received the most %s from new accounts allowed (%u %s); try again "
                       "in %s.", who, unit, w->limit, per, wait);
        break;
    case SG_SCOPE_IP:
        sg__ctx_reason(ctx, SG_R_RATE_IP,
                       "Too many %s from the address %s (at most %u %s); try again in %s.", unit,
                       who, w->limit, per, wait);
        break;
    }
}

/* Calls fn for every (scope, key, who) this message counts against. */
static void each_key(struct sg_ctx *ctx,
                     void (*fn)(struct sg_ctx *, int, const struct sg_rate_limit *, uint64_t, const char *))
{
    const struct sg_event *ev = ctx->ev;
    const struct sg_rate_limit *lims = ctx->chp->limits;
    struct sg_engine *e = ctx->engine;
    if (lims[SG_SCOPE_SENDER].rule.nwindows)
        fn(ctx, SG_SCOPE_SENDER, &lims[SG_SCOPE_SENDER],
           sg__ratelimit_key(e, SG_SCOPE_SENDER, ev->tenant, ev->channel, ev->sender), ev->sender);
    if (lims[SG_SCOPE_TENANT].rule.nwindows)
        fn(ctx, SG_SCOPE_TENANT, &lims[SG_SCOPE_TENANT],
           sg__ratelimit_key(e, SG_SCOPE_TENANT, ev->tenant, ev->channel, NULL), ev->tenant);
    if (lims[SG_SCOPE_IP].rule.nwindows && ev->ip)
        fn(ctx, SG_SCOPE_IP, &lims[SG_SCOPE_IP],
           sg__ratelimit_key(e, SG_SCOPE_IP, ev->tenant, ev->channel, ev->ip), ev->ip);
    /* A recipient is shielded from new accounts only: established senders never count here. */
    if (lims[SG_SCOPE_RECIPIENT].rule.nwindows &&
        sg__ctx_account_younger(ctx, ctx->chp->new_account_age_s)) {
        struct sg_rate_limit one = lims[SG_SCOPE_RECIPIENT];
        one.cost = SG_COST_MESSAGES;
        for (size_t i = 0; i < ev->nrecipients; i++) {
            size_t before = ctx->nreasons;
            fn(ctx, SG_SCOPE_RECIPIENT, &one,
               sg__ratelimit_key(e, SG_SCOPE_RECIPIENT, ev->tenant, ev->channel, ev->recipients[i]),
               ev->recipients[i]);
            if (ctx->nreasons > before)
                break; /* one recipient reason is enough; the rest would only repeat it */
        }
    }
}

int sg__check_ratelimit_run(void *state, struct sg_ctx *ctx)
{
    if (!sg__ctx_refused(ctx))
        each_key(ctx, limit_one);
    return 0;
}

static void charge_one(struct sg_ctx *ctx, int scope, const struct sg_rate_limit *lim, uint64_t key,
                       const char *who)
{
    uint32_t cost = lim->cost == SG_COST_RECIPIENTS ? (uint32_t)ctx->ev->nrecipients : 1;
    sg__gcra_charge(ctx->engine->limiter, key, &lim->rule, cost, ctx->now);
}

void sg__check_ratelimit_commit(void *state, struct sg_ctx *ctx)
{
    each_key(ctx, charge_one);
    __atomic_store_n(&ctx->engine->limiter_dirty, true, __ATOMIC_RELAXED);
}
