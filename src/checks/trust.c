/* Check: trust gates per channel — posts before private messages (the forum's "two posts" fix),
 * account age, verified email, and no links from accounts younger than link_min_age. Each reason
 * is a sentence the platform can show the sender as it is. */
#include <stdio.h>

#include "checks/checks.h"
#include "text/content.h"

/* "24 hours", "7 days", "30 minutes" for user-facing sentences. Up to two days reads better in
 * hours ("48 hours", not "2 days"), as people count a new account's first days that way. */
static void human_duration(int64_t s, char *buf, size_t size)
{
    if (s <= 2 * 86400 && s >= 3600 && s % 3600 == 0) {
        snprintf(buf, size, "%lld hour%s", (long long)(s / 3600), s == 3600 ? "" : "s");
        return;
    }
    static const struct { int64_t sec; const char *one, *many; } units[] = {
        {604800, "week", "weeks"}, {86400, "day", "days"}, {3600, "hour", "hours"},
        {60, "minute", "minutes"}, {1, "second", "seconds"},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (s >= units[i].sec && s % units[i].sec == 0) {
            int64_t n = s / units[i].sec;
            snprintf(buf, size, "%lld %s", (long long)n, n == 1 ? units[i].one : units[i].many);
            return;
        }
    }
    snprintf(buf, size, "%lld seconds", (long long)s);
}

static const char *channel_phrase(int ch)
{
    switch (ch) {
    case SG_CH_PRIVATE_MESSAGE: return "private messages";
    case SG_CH_EMAIL: return "email";
    case SG_CH_POST: return "posts";
    case SG_CH_COMMENT: return "comments";
    case SG_CH_SMS: return "text messages";
    default: return "notifications";
    }
}

int sg__check_trust_run(void *state, struct sg_ctx *ctx)
{
    const struct sg_channel_policy *p = ctx->chp;
    const struct sg_account *a = ctx->account;
    const char *what = channel_phrase(ctx->ev->channel);
    char dur[48];
    if (p->min_posts && a->posts < p->min_posts)
        sg__ctx_reason(ctx, SG_R_TRUST_MIN_POSTS,
                       "You can send %s after you have posted %s (you have posted %u %s).", what,
                       p->min_posts == 1 ? "once" : p->min_posts == 2 ? "twice" : "more",
                       a->posts, a->posts == 1 ? "time" : "times");
    if (p->min_account_age_s && sg__ctx_account_younger(ctx, p->min_account_age_s)) {
        human_duration(p->min_account_age_s, dur, sizeof dur);
        sg__ctx_reason(ctx, SG_R_TRUST_MIN_ACCOUNT_AGE,
                       "You can send %s once your account is %s old.", what, dur);
    }
    if (p->require_verified && a->verified != 1)
        sg__ctx_reason(ctx, SG_R_TRUST_UNVERIFIED,
                       "Verify your email address before you send %s.", what);
    if (p->link_min_age_s && sg__ctx_account_younger(ctx, p->link_min_age_s)) {
        /* One URL extractor decides what a link is (text/urls.c, via the content): schemeless
         * and defanged links count as they do for the rules. Built only when it matters. */
        const struct sg_content *content;
        int rc = sg__ctx_content(ctx, &content);
        if (rc)
            return rc;
        if (content->nurls > 0) {
            human_duration(p->link_min_age_s, dur, sizeof dur);
            sg__ctx_reason(ctx, SG_R_TRUST_NEW_ACCOUNT_LINK,
                           "Messages with links from accounts younger than %s are checked by a "
                           "moderator before delivery.", dur);
        }
    }
    return 0;
}
