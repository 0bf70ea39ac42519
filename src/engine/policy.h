/* Policy: what the settings decide for one tenant — per channel trust gates, thresholds, rate
 * limits and fan-out, and the score of every reason code. The config builds one policy for the
 * defaults and one per tenant that overrides anything. */
#ifndef SG_ENGINE_POLICY_H
#define SG_ENGINE_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/reasons.h"
#include "util/gcra.h"

enum sg_channel {
    SG_CH_EMAIL,
    SG_CH_PRIVATE_MESSAGE,
    SG_CH_POST,
    SG_CH_COMMENT,
    SG_CH_SMS,
    SG_CH_NOTIFICATION,
    SG_CH_COUNT
};

/* "email", "private_message", ...; NULL for an out-of-range value. */
const char *sg__channel_name(int ch);
/* The channel named by s[0..len), or -1. */
int sg__channel_parse(const char *s, size_t len);

/* Whom a rate limit counts. */
enum sg_rate_scope {
    SG_SCOPE_SENDER,    /* one sender on one channel */
    SG_SCOPE_TENANT,    /* a whole tenant on one channel */
    SG_SCOPE_RECIPIENT, /* one recipient, counting only messages from new accounts */
    SG_SCOPE_IP,        /* one client address */
    SG_SCOPE_COUNT
};
const char *sg__scope_name(int scope);
int sg__scope_parse(const char *s, size_t len);

enum sg_rate_cost { SG_COST_MESSAGES, SG_COST_RECIPIENTS };

struct sg_rate_limit {
    struct sg_gcra_rule rule; /* rule.nwindows 0: this scope is not limited */
    uint8_t cost;             /* enum sg_rate_cost */
};

struct sg_channel_policy {
    double hold_at, reject_at;       /* score thresholds */
    uint32_t min_posts;              /* public posts before the channel is open to a sender */
    int64_t min_account_age_s;       /* account age before the channel is open */
    bool require_verified;           /* the sender's email must be verified */
    int64_t link_min_age_s;          /* younger accounts' messages with links are held; 0 off */
    int64_t new_account_age_s;       /* "new" for fan-out and the recipient scope */
    uint32_t fanout_max;             /* distinct recipients per fanout_window_s for new accounts; 0 off */
    int64_t fanout_window_s;
    struct sg_rate_limit limits[SG_SCOPE_COUNT];
};

struct sg_policy {
    struct sg_channel_policy ch[SG_CH_COUNT];
    double score[SG_REASON_COUNT];   /* each reason code's score */
};

#endif
