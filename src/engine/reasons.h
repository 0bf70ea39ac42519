/* Every reason code the engine can give, with its default score and the action it forces, if
 * any. Codes are a stable contract (platforms key on them); add, never rename.
 * X(CODE, default score, forced action): SG_ALLOW forces nothing and leaves it to the score. */
#ifndef SG_ENGINE_REASONS_H
#define SG_ENGINE_REASONS_H

#include "sendguard.h"

#define SG_REASON_MAP(X)                                   \
    X(LIST_BANNED_ACCOUNT, 100.0, SG_REJECT)               \
    X(LIST_BLOCKED_EMAIL_DOMAIN, 100.0, SG_REJECT)         \
    X(LIST_BLOCKED_IP, 100.0, SG_REJECT)                   \
    X(ACCOUNT_BLOCKED, 100.0, SG_REJECT)                 \
    X(SIGNUP_DISPOSABLE_DOMAIN, 10.0, SG_BLOCK)            \
    X(SIGNUP_BAD_EMAIL, 5.0, SG_REVIEW)                    \
    X(TRUST_MIN_POSTS, 10.0, SG_REJECT)                    \
    X(TRUST_MIN_ACCOUNT_AGE, 10.0, SG_REJECT)              \
    X(TRUST_UNVERIFIED, 10.0, SG_REJECT)                   \
    X(TRUST_NEW_ACCOUNT_LINK, 5.0, SG_HOLD)                \
    X(RATE_SENDER, 0.0, SG_DEFER)                          \
    X(RATE_TENANT, 0.0, SG_DEFER)                          \
    X(RATE_RECIPIENT, 0.0, SG_DEFER)                       \
    X(RATE_IP, 0.0, SG_DEFER)                              \
    X(RATE_OVER_CAPACITY, 10.0, SG_REJECT)                 \
    X(FANOUT_NEW_ACCOUNT, 5.0, SG_HOLD)                    \
    X(BAYES_SPAM, 5.0, SG_ALLOW)                           \
    X(LIST_BLOCKED_URL_DOMAIN, 100.0, SG_REJECT)

enum sg_reason_code {
#define SG__REASON_ENUM(code, score, action) SG_R_##code,
    SG_REASON_MAP(SG__REASON_ENUM)
#undef SG__REASON_ENUM
    SG_REASON_COUNT
};

const char *sg__reason_name(int code);
/* The code named by s, or -1. */
int sg__reason_parse(const char *s, size_t len);
double sg__reason_default_score(int code);
enum sg_action sg__reason_forced_action(int code);

#endif
