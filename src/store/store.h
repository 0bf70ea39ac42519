/* The store's internal interface, used by the engine. Records (tenants, accounts, lists,
 * verdicts, alerts, reports, reviews, limiter snapshots) live in SQLite in WAL mode. The *_put
 * writes copy their row and queue it for the store's writer thread, which applies them in order
 * in transactions of store_batch writes; sg_store_flush waits for them and commits, and reports
 * a write that failed. Reads see every queued write except sg__store_account_get (the engine
 * keeps the accounts it writes). Strings handed out are owned as noted. */
#ifndef SG_STORE_STORE_H
#define SG_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sendguard.h"

/* Writes per transaction before an automatic commit (default 2000). */
void sg__store_set_batch(struct sg_store *store, uint32_t writes);

/* Writes queued for the writer thread and not yet applied (a metric). */
size_t sg__store_queue_depth(struct sg_store *store);

/* A secret 64-bit seed made when the store was created; keys the engine's hash tables so that
 * limiter keys stay stable across restarts and outsiders cannot aim collisions. */
uint64_t sg__store_seed(const struct sg_store *store);

/* ---- tenants ---- */
struct sg_tenant_row {
    const char *tenant;
    const char *timezone;      /* NULL: unset */
    const char *working_hours; /* NULL: unset */
    sg_time created;
};
int sg__store_tenant_put(struct sg_store *store, const struct sg_tenant_row *row);
/* Calls fn for every tenant; strings are valid during the call only. */
int sg__store_tenant_each(struct sg_store *store,
                          int (*fn)(void *ud, const struct sg_tenant_row *row), void *ud);

/* ---- accounts ---- */
enum sg_account_status { SG_ACCOUNT_ACTIVE, SG_ACCOUNT_REVIEW, SG_ACCOUNT_BLOCKED, SG_ACCOUNT_SUSPENDED };

struct sg_account_row {
    const char *tenant, *account;
    const char *email;        /* NULL: unknown */
    const char *email_domain; /* lower-case; NULL: unknown */
    const char *ip;           /* signup address; NULL: unknown */
    sg_time created_at;
    int verified;             /* 1 yes, 0 no */
    uint32_t posts;
    uint32_t messages;        /* messages delivered (allowed, not dry runs) */
    int status;               /* enum sg_account_status */
    double trust;
    sg_time updated;
};
/* Inserts or replaces the account. */
int sg__store_account_put(struct sg_store *store, const struct sg_account_row *row);
/* Looks up one account; SG_ENOTFOUND when absent. String fields of *out point into buf (size
 * bufsize, which must be at least 1 KiB); SG_ETOOBIG if they do not fit. */
int sg__store_account_get(struct sg_store *store, const char *tenant, const char *account,
                          struct sg_account_row *out, char *buf, size_t bufsize);

/* ---- lists ---- */
/* Calls fn for every entry not expired at now (strings valid during the call only). */
int sg__store_list_each(struct sg_store *store, sg_time now,
                        int (*fn)(void *ud, const char *list, const char *tenant,
                                  const char *entry, sg_time expires),
                        void *ud);

/* ---- verdicts: enough to answer "who received what" later ---- */
struct sg_verdict_row {
    const char *id, *tenant, *sender, *channel;
    sg_time at;
    const char *action;                  /* "allow", "defer", "hold", "reject" */
    double score;
    const char *reasons;                 /* reason codes, comma-separated ("" none) */
    const char *campaign;                /* NULL none */
    const char *template_name;           /* NULL none */
    const char *ip;                      /* NULL none */
    const char *const *recipients;
    size_t nrecipients;
    const char *const *url_domains;      /* distinct registrable link domains, first-seen order */
    size_t nurl_domains;
    const char *json;                    /* the verdict as answered */
};
/* *seq (may be NULL) gets the write's number for sg__store_wait_durable. */
int sg__store_verdict_put(struct sg_store *store, const struct sg_verdict_row *row, uint64_t *seq);
/* Waits until the write numbered seq is committed (in the WAL: it survives the process being
 * killed). Commits at once what is applied, so concurrent waiters share one commit. */
int sg__store_wait_durable(struct sg_store *store, uint64_t seq);
/* The latest verdict JSON for message id in tenant; caller frees *json with sg_free.
 * SG_ENOTFOUND when absent. */
int sg__store_verdict_get(struct sg_store *store, const char *tenant, const char *id, char **json);
/* Counts (for tests and summaries). */
int sg__store_verdict_count(struct sg_store *store, int64_t *out);

/* ---- link domains a tenant has delivered (the URL_NEW_DOMAIN fact) ---- */
/* Records domains[0..n) as delivered in tenant at `at`, keys[i] being the engine's key of
 * (tenant, domains[i]): one queued write for the lot. A key already stored is left as it is. */
int sg__store_seen_domains_put(struct sg_store *store, const char *tenant, sg_time at,
                               const uint64_t *keys, const char *const *domains, size_t n);
/* Calls fn with every stored key; a non-zero return from fn stops and is returned. */
int sg__store_seen_domains_each(struct sg_store *store, int (*fn)(void *ud, uint64_t key),
                                void *ud);
/* Calls fn with each tenant and how many of its delivered (allowed) messages carried links, from
 * the stored verdicts: the history that makes "a domain this tenant never delivered" mean
 * something. One grouped scan of the verdicts, at engine start. */
int sg__store_link_history_each(struct sg_store *store,
                                int (*fn)(void *ud, const char *tenant, uint64_t messages),
                                void *ud);

/* ---- other records ---- */
/* kind: "report" or "review"; json is the event as received. */
int sg__store_event_put(struct sg_store *store, const char *kind, const char *tenant,
                        const char *message_id, sg_time at, const char *json);
int sg__store_alert_put(struct sg_store *store, const char *tenant, const char *kind,
                        sg_time at, const char *json);
/* Alerts with at >= since for tenant (NULL: all), oldest first, as a JSON array; caller frees. */
int sg__store_alert_list(struct sg_store *store, const char *tenant, sg_time since, char **json);

/* ---- messages learned through sg_engine_learn (store/learned.c) ---- */
struct sg_learned_row {
    const char *tenant, *message;
    int cls;                  /* enum sg_bayes_class */
    bool global;              /* the global class learned it too */
    sg_time at;
    const uint64_t *tokens;   /* the token hashes counted */
    uint32_t ntokens;
};
/* Inserts or replaces the row of (tenant, message), in the batch transaction, in the caller's
 * thread (like the classifier's counts: nothing else writes this table). */
int sg__store_learned_put(struct sg_store *store, const struct sg_learned_row *row);
/* The row of (tenant, message); SG_ENOTFOUND when it was never learned. out->tenant and
 * out->message are NULL; out->tokens is allocated and the caller frees it with sg_free. */
int sg__store_learned_get(struct sg_store *store, const char *tenant, const char *message,
                          struct sg_learned_row *out);

/* ---- limiter snapshot ---- */
/* Saving: clear, then put each live key (inside the current batch transaction). */
int sg__store_limiter_clear(struct sg_store *store);
int sg__store_limiter_put(struct sg_store *store, uint64_t key, const int64_t *tat, size_t n);
/* Calls fn for every saved key; a non-zero return from fn stops and is returned. */
int sg__store_limiter_load(struct sg_store *store,
                           int (*fn)(void *ud, uint64_t key, const int64_t *tat, size_t n),
                           void *ud);

#endif
