/* The engine's internals shared by the pipeline (engine.c), the checks (src/checks) and the
 * state tables (accounts.c, lists.c). A judgement runs in a context (struct sg_ctx) that holds
 * the event, the policy that applies, the sender's state and the reasons found so far. */
#ifndef SG_ENGINE_ENGINE_H
#define SG_ENGINE_ENGINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/config.h"
#include "engine/event.h"
#include "engine/policy.h"
#include "engine/reasons.h"
#include "sendguard.h"
#include "util/arena.h"

#define SG_MAX_REASONS 32
#define SG_ENGINE_STRIPES 256

/* A sender as the engine knows it (cached from the store). */
struct sg_account {
    char *tenant, *account;
    char *email;          /* NULL unknown */
    char *email_domain;   /* lower-case; NULL unknown */
    char *ip_text;        /* signup address as given; NULL unknown */
    sg_time created_at;
    uint32_t posts;
    uint32_t messages;    /* messages delivered (allowed, not dry runs): first_message */
    int8_t verified;      /* -1 unknown */
    uint8_t status;       /* enum sg_account_status (store.h) */
    double trust;
};

struct sg_reason {
    int code;            /* enum sg_reason_code, or -1 for a code named at run time */
    const char *name;    /* the code of a rule from a rule file (code -1); else NULL */
    double score;
    const char *message; /* arena */
};

struct sg_engine;

/* A registrable domain the message links to, with its key in the tenant's seen-domain set. */
struct sg_url_domain {
    const char *name; /* the content's string (arena) */
    uint64_t key;     /* sg__engine_key(tenant, name) */
};

/* The verdict lists at most this many of a message's link domains (JSON and stored row); the
 * seen-domain facts consider all of them (at most the content's 200 URLs). */
#define SG_VERDICT_URL_DOMAINS_MAX 64

struct sg_ctx {
    struct sg_engine *engine;
    const struct sg_event *ev;
    const struct sg_policy *policy;
    const struct sg_channel_policy *chp; /* messages only */
    sg_time now;
    struct sg_arena *arena;
    struct sg_account *account;          /* the sender (messages) or the account (signups) */
    bool dry_run;
    unsigned flags;                      /* enum sg_submit_flags */

    /* enrichment */
    struct sg_content *content;          /* built on first use by sg__ctx_content */
    const char *email_domain;            /* the sender's signup domain, lower-case; NULL unknown */
    struct sg_url_domain *url_domains;   /* built on first use by sg__ctx_url_domains */
    size_t nurl_domains;
    uint8_t ip[16];
    bool has_ip;
    uint64_t sender_key;                 /* hash of tenant, account: keys per-sender state */

    /* findings */
    struct sg_reason reasons[SG_MAX_REASONS];
    unsigned nreasons;
    int64_t retry_after_s;               /* for defer: the longest wait any limit asks; -1 none */
};

/* Adds a reason with the policy's score for code. The message is a sentence a platform can show
 * its user. Reasons past SG_MAX_REASONS are dropped (the verdict keeps the first ones). */
void sg__ctx_reason(struct sg_ctx *ctx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A reason whose code comes from a rule file: its score is the rule's. */
void sg__ctx_reason_named(struct sg_ctx *ctx, const char *code, double score, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The reason's code as platforms see it. */
const char *sg__reason_code_text(const struct sg_reason *r);

/* The message's content (MIME, HTML, normalised text, URLs), built once per judgement in the
 * arena by whichever check asks first. Returns 0 or SG_ENOMEM. */
int sg__ctx_content(struct sg_ctx *ctx, const struct sg_content **out);

/* The message's distinct registrable link domains in first-seen order (IP literals have none),
 * from its content, built once per judgement in the arena. Returns 0 or SG_ENOMEM. */
int sg__ctx_url_domains(struct sg_ctx *ctx, const struct sg_url_domain **out, size_t *n);

/* Does the context already carry a reason that forces a reject? Counting checks skip then. */
bool sg__ctx_refused(const struct sg_ctx *ctx);

/* Is sender younger than the policy's age at ctx->now? */
bool sg__ctx_account_younger(const struct sg_ctx *ctx, int64_t age_s);

/* A check is one row of the table in src/checks/table.c. */
struct sg_check {
    const char *name;
    unsigned events;                                    /* 1 << SG_EV_* it runs on */
    int (*init)(struct sg_engine *engine, void **state);
    int (*configure)(void *state, const struct sg_config *cfg);
    int (*run)(void *state, struct sg_ctx *ctx);
    /* After the verdict allowed a message (never on dry runs): count it where the check counts. */
    void (*commit)(void *state, struct sg_ctx *ctx);
    void (*free)(void *state);
};
extern const struct sg_check sg__checks[];
extern const unsigned sg__ncheck;

/* ---- engine state the checks use ---- */
struct sg_lists;
struct sg_accounts;
struct sg_gcra_table;
struct sg_bayes;
struct sg_bayes_params;
struct sg_seen_domains;

struct sg_engine {
    struct sg_config *cfg;
    struct sg_store *store;
    struct sg_clock clock;
    uint64_t seed;
    sg_log_fn log;
    void *log_ud;
    sg_alert_fn alert;
    void *alert_ud;

    struct sg_gcra_table *limiter;
    bool limiter_dirty;                                 /* charged since load: save on free */
    struct sg_lists *lists;
    struct sg_accounts *accounts;
    struct sg_seen_domains *seen_domains;               /* per-tenant delivered link domains */
    void **check_state;
    /* The Bayes model: the bayes check classifies with it, sg_engine_learn (learn.c) teaches
     * it. The engine owns it so that learning needs no way into a check's private state. */
    struct sg_bayes *bayes;
    /* One learn at a time: the look-up of what a message was learned as, the counts and the
     * record of it must not interleave with another learn of the same message. */
    pthread_mutex_t learn_lock;

    /* Held for reading by every submit and for writing by sg_engine_reload, which swaps cfg. */
    pthread_rwlock_t cfg_lock;
    /* Events of one account are judged one at a time: a stripe of locks by account hash. */
    pthread_mutex_t stripes[SG_ENGINE_STRIPES];
    pthread_mutex_t arena_lock;
    struct sg_arena *spare_arena;                       /* reused between submits */

    uint64_t stats_events, stats_by_type[6];
};

void sg__log(struct sg_engine *e, enum sg_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The classifier's settings from the config (the rest keep the SG_BAYES_DEFAULT_* values). */
void sg__engine_bayes_params(const struct sg_config *cfg, struct sg_bayes_params *out);

/* Hash of a composite key: parts joined by NUL, seeded by the store's secret. */
uint64_t sg__engine_key(const struct sg_engine *e, const char *const *parts, unsigned n);
/* The key of a tenant's link history in the seen-domain set (engine/domains.h). */
uint64_t sg__engine_history_key(const struct sg_engine *e, const char *tenant);

#endif
