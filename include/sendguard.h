/* sendguard — outbound message abuse firewall: the one public header.
 * The engine judges events (tenants, accounts, activity, messages, reports, reviews) against
 * stored state and policy; the daemon, the CLI and replay are thin doors over this API. */
#ifndef SENDGUARD_H
#define SENDGUARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SG_EXTERN __attribute__((visibility("default")))
#else
#define SG_EXTERN
#endif

#define SG_VERSION "0.1.0"

/* Errors are negative ints from this one list; sg_strerror()/sg_err_name() come from it too. */
#define SG_ERRNO_MAP(X)                                                  \
    X(NOMEM, -1, "out of memory")                                        \
    X(INVAL, -2, "invalid argument")                                     \
    X(PARSE, -3, "malformed input")                                      \
    X(TOOBIG, -4, "input over a limit")                                  \
    X(NOTFOUND, -5, "not found")                                         \
    X(STORE, -6, "store failure")                                        \
    X(IO, -7, "input/output error")                                      \
    X(CONFIG, -8, "invalid configuration")                               \
    X(ORDER, -9, "event earlier than the one before it")                 \
    X(SCHEMA, -10, "store schema is newer than this program")            \
    X(AUTH, -11, "not authenticated")                                    \
    X(FORBIDDEN, -12, "not allowed")                                     \
    X(NOCONTENT, -13, "message content is not kept")

enum sg_errno {
#define SG__ERRNO_ENUM(name, value, text) SG_E##name = value,
    SG_ERRNO_MAP(SG__ERRNO_ENUM)
#undef SG__ERRNO_ENUM
};

/* Static strings; never NULL (unknown codes give "unknown error"). */
SG_EXTERN const char *sg_strerror(int err);
SG_EXTERN const char *sg_err_name(int err);

/* All allocation in the library goes through one hook (realloc semantics: size 0 frees).
 * Set it before creating any object; NULL restores the C library's realloc. */
typedef void *(*sg_realloc_fn)(void *ptr, size_t size);
SG_EXTERN void sg_set_allocator(sg_realloc_fn fn);
/* Frees memory the library handed to the caller (JSON strings, error messages). */
SG_EXTERN void sg_free(void *ptr);

/* ---- time ------------------------------------------------------------------------------- */

/* Microseconds since the Unix epoch, UTC. The engine reads time only through a clock. */
typedef int64_t sg_time;
typedef sg_time (*sg_clock_fn)(void *ud);
struct sg_clock {
    sg_clock_fn now;
    void *ud;
};
/* The wall clock (CLOCK_REALTIME). */
SG_EXTERN sg_time sg_clock_wall(void *ud);

/* Parses an RFC 3339 timestamp ("2026-11-23T00:04:05Z", offsets and fractions accepted). */
SG_EXTERN int sg_time_parse(const char *s, size_t len, sg_time *out);
/* Writes "YYYY-MM-DDTHH:MM:SSZ" (seconds precision, UTC) plus NUL; buf needs 21 bytes. */
SG_EXTERN void sg_time_format(sg_time t, char buf[21]);

/* ---- logging ------------------------------------------------------------------------------ */

enum sg_log_level { SG_LOG_DEBUG, SG_LOG_INFO, SG_LOG_WARN, SG_LOG_ERROR };
typedef void (*sg_log_fn)(void *ud, enum sg_log_level level, const char *msg);

/* ---- configuration ------------------------------------------------------------------------- */

struct sg_config;
/* A config holding every setting's default. Free with sg_config_free. */
SG_EXTERN int sg_config_new(struct sg_config **out);
SG_EXTERN void sg_config_free(struct sg_config *cfg);
/* Loads YAML settings on top of what cfg holds. On error returns SG_ECONFIG (or SG_EIO) and
 * sg_config_errmsg() says "FILE:LINE: SETTING: problem"; cfg is then unchanged. */
SG_EXTERN int sg_config_load_file(struct sg_config *cfg, const char *path);
SG_EXTERN int sg_config_load_string(struct sg_config *cfg, const char *name, const char *yaml,
                                    size_t len);
/* The last error's message; owned by cfg, valid until the next call on cfg. */
SG_EXTERN const char *sg_config_errmsg(const struct sg_config *cfg);
/* The effective configuration as YAML, every setting with its value. Caller frees with sg_free. */
SG_EXTERN int sg_config_dump(const struct sg_config *cfg, char **out);

/* ---- store ----------------------------------------------------------------------------------- */

struct sg_store;
/* Opens (creating or migrating) the SQLite store at path; path NULL opens a private in-memory
 * store. Free with sg_store_close, which commits pending writes. */
SG_EXTERN int sg_store_open(const char *path, struct sg_store **out);
SG_EXTERN void sg_store_close(struct sg_store *store);
/* The last error's message; owned by the store. */
SG_EXTERN const char *sg_store_errmsg(const struct sg_store *store);
/* Commits batched writes now. */
SG_EXTERN int sg_store_flush(struct sg_store *store);

/* Lists: "accounts", "email_domains", "url_domains", "ips". tenant "*" applies to every tenant.
 * expires 0 means never. An account entry is the platform's account id. */
SG_EXTERN int sg_store_list_add(struct sg_store *store, const char *list, const char *tenant,
                                const char *entry, sg_time expires, sg_time now);
/* Returns SG_ENOTFOUND when the entry was not on the list. */
SG_EXTERN int sg_store_list_remove(struct sg_store *store, const char *list, const char *tenant,
                                   const char *entry);
/* The list's live entries as a JSON array of {"entry","tenant","added","expires"}; caller frees
 * *out with sg_free. list NULL shows every list (each item then has "list"). */
SG_EXTERN int sg_store_list_show(struct sg_store *store, const char *list, sg_time now,
                                 char **out);

/* Writes queued for the store's writer thread and not yet applied (a metric). */
SG_EXTERN size_t sg_store_queue_depth(struct sg_store *store);

/* Alert records ({"type":"alert","at","tenant","kind","subject","reason"}): kind is one of
 * sender_suspended, campaign_blocked, cohort_flagged, tenant_paused, key_suspended, auth_abuse,
 * volume_anomaly. tenant NULL for platform-wide alerts (auth_abuse). */
SG_EXTERN int sg_store_alert_add(struct sg_store *store, const char *tenant, const char *kind,
                                 const char *subject, const char *reason, sg_time at);
/* Alerts of tenant (NULL: all) with at >= since, oldest first, as a JSON array; caller frees
 * *out with sg_free. */
SG_EXTERN int sg_store_alerts(struct sg_store *store, const char *tenant, sg_time since, char **out);

/* ---- a general rate limiter (GCRA) for the doors: auth failures per address, etc. ---------- */

struct sg_limiter;
/* Keys idle for longer than their period are forgotten, so memory follows active keys. */
SG_EXTERN int sg_limiter_new(struct sg_limiter **out);
SG_EXTERN void sg_limiter_free(struct sg_limiter *lim);
/* Counts one event for key (any bytes) against "limit per period_s" at now. Returns 1 when it
 * was within the limit, 0 when over it (it is then not counted, and *retry_after_s, if not
 * NULL, says when the next one fits). */
SG_EXTERN int sg_limiter_take(struct sg_limiter *lim, const void *key, size_t key_len,
                              uint32_t limit, uint32_t period_s, sg_time now,
                              int64_t *retry_after_s);
/* Would one more fit now? Changes nothing. Same returns as sg_limiter_take. */
SG_EXTERN int sg_limiter_peek(struct sg_limiter *lim, const void *key, size_t key_len,
                              uint32_t limit, uint32_t period_s, sg_time now,
                              int64_t *retry_after_s);

/* ---- API keys ------------------------------------------------------------------------------ */

/* A key is "sg_<id>_<secret>": id 16 lower-case hex digits, secret 64 (256 random bits from
 * libsodium). The store keeps only a hash of the secret; checks compare in constant time. */
enum sg_key_scope {
    SG_KEY_CHECK = 1 << 0,
    SG_KEY_EVENTS = 1 << 1,
    SG_KEY_REPORT = 1 << 2,
    SG_KEY_MODERATE = 1 << 3,
    SG_KEY_AUDIT = 1 << 4,
    SG_KEY_ADMIN = 1 << 5,
};
/* "check,events" -> bits. SG_EINVAL naming nothing: unknown or empty scopes. */
SG_EXTERN int sg_key_scopes_parse(const char *csv, unsigned *out);
/* bits -> "check,events" into buf (>= 64 bytes). */
SG_EXTERN void sg_key_scopes_format(unsigned scopes, char *buf, size_t size);

struct sg_key_info {
    char id[17];
    char tenant[257];       /* "*" for a platform key */
    unsigned scopes;        /* enum sg_key_scope bits */
    int require_signature;  /* requests must carry X-Sendguard-Signature */
    sg_time created, last_used; /* last_used 0: never */
    int revoked;
};
/* Creates a key for tenant ("*" for every tenant) with scopes. A tenant that does not exist yet
 * is created with the default policy. *key_out is the whole key, shown once; caller frees it
 * with sg_free. info (may be NULL) is filled. */
SG_EXTERN int sg_key_create(struct sg_store *store, const char *tenant, unsigned scopes,
                            int require_signature, sg_time now, char **key_out,
                            struct sg_key_info *info);
/* SG_ENOTFOUND for an unknown id; revoking twice is not an error. */
SG_EXTERN int sg_key_revoke(struct sg_store *store, const char *id, sg_time now);
/* Calls fn for every key (revoked ones too), oldest first; a non-zero return stops. */
SG_EXTERN int sg_key_each(struct sg_store *store, int (*fn)(void *ud, const struct sg_key_info *k),
                          void *ud);
/* Changes whenever a key is created or revoked (by any process): poll it to refresh a cache. */
SG_EXTERN int sg_key_generation(struct sg_store *store, int64_t *out);
/* Records that key id was used at now (batched; for `keys list`). */
SG_EXTERN int sg_key_touch(struct sg_store *store, const char *id, sg_time now);

/* The keys' secrets are needed only to verify: the daemon keeps a verifier in memory. */
struct sg_keyring;
/* Loads every live key's id, tenant, scopes and secret hash. Free with sg_keyring_free. */
SG_EXTERN int sg_keyring_load(struct sg_store *store, struct sg_keyring **out);
SG_EXTERN void sg_keyring_free(struct sg_keyring *ring);
/* Checks a presented key ("sg_<id>_<secret>", len bytes). 0 and *info filled when it is a live
 * key; SG_EAUTH when malformed, unknown, revoked or wrong (the same answer for each, taking the
 * same time whether or not the id exists). */
SG_EXTERN int sg_keyring_verify(const struct sg_keyring *ring, const char *key, size_t len,
                                struct sg_key_info *info);
/* The key's signing secret for HMAC-SHA256 request signatures: 32 bytes, SHA-256 of
 * "sendguard-signing:" and the key's secret, so the platform derives it from its key and the
 * store never holds the secret itself (docs/keys.md). */
SG_EXTERN int sg_keyring_signing_key(const struct sg_keyring *ring, const char *id,
                                     unsigned char out[32]);

/* ---- events and the engine ------------------------------------------------------------------ */

enum sg_event_type {
    SG_EV_TENANT,
    SG_EV_ACCOUNT,
    SG_EV_ACTIVITY,
    SG_EV_MESSAGE,
    SG_EV_REPORT,
    SG_EV_REVIEW,
};

enum sg_action { SG_ALLOW, SG_DEFER, SG_HOLD, SG_REJECT, SG_REVIEW, SG_BLOCK };
SG_EXTERN const char *sg_action_name(enum sg_action a);

struct sg_event;
/* Parses one JSON event. default_type < 0 requires "type"; otherwise a missing "type" means
 * default_type (POST /v1/check). On failure returns SG_EPARSE or SG_ETOOBIG and, if errmsg is
 * not NULL, sets *errmsg to a message naming the field ("message.recipients: expected array of
 * strings") that the caller frees with sg_free. */
SG_EXTERN int sg_event_parse(const char *json, size_t len, int default_type,
                             struct sg_event **out, char **errmsg);
/* A message event (email channel) from a raw RFC 822 message: sender = the From address (else
 * Sender, else Return-Path, else SG_RFC822_UNKNOWN_SENDER), recipients = the To, Cc and Bcc
 * addresses (else Delivered-To, X-Original-To, Envelope-To or X-Envelope-To, else the one
 * recipient SG_RFC822_UNDISCLOSED), id = the Message-ID (else "sha-" and a hash of the text),
 * raw = the message itself. For `sendguard check` on .eml files and the milter. Errors as
 * sg_event_parse ("raw: not an RFC 822 message"). */
#define SG_RFC822_UNDISCLOSED "undisclosed-recipients"
#define SG_RFC822_UNKNOWN_SENDER "unknown-sender"
SG_EXTERN int sg_event_from_rfc822(const char *raw, size_t len, const char *tenant,
                                   struct sg_event **out, char **errmsg);
SG_EXTERN void sg_event_free(struct sg_event *ev);
SG_EXTERN enum sg_event_type sg_event_type(const struct sg_event *ev);
/* The event's "at", or 0 when it has none. */
SG_EXTERN sg_time sg_event_at(const struct sg_event *ev);
/* The event's tenant (every event type has one); owned by the event. */
SG_EXTERN const char *sg_event_tenant(const struct sg_event *ev);

struct sg_engine;
/* cfg is copied; store and clock are borrowed and must outlive the engine. Loads lists and
 * limiter state from the store. */
SG_EXTERN int sg_engine_new(const struct sg_config *cfg, struct sg_store *store,
                            const struct sg_clock *clock, struct sg_engine **out);
/* Saves limiter state and pending writes to the store, then frees. */
SG_EXTERN void sg_engine_free(struct sg_engine *engine);
SG_EXTERN void sg_engine_set_log(struct sg_engine *engine, sg_log_fn fn, void *ud);
/* Called for every alert record, as JSON (valid during the call only). */
typedef void (*sg_alert_fn)(void *ud, const char *json);
SG_EXTERN void sg_engine_set_alert(struct sg_engine *engine, sg_alert_fn fn, void *ud);
/* Re-reads lists from the store (after another process changed them). */
SG_EXTERN int sg_engine_reload_lists(struct sg_engine *engine);
/* Re-reads the classifier's counts from the store (after `sendguard train` wrote to it), first
 * saving what this engine learned and has not written yet, so nothing is lost. Judging goes on
 * with the old model until the new one is in. *tokens (may be NULL) gets the distinct tokens
 * now held. */
SG_EXTERN int sg_engine_reload_model(struct sg_engine *engine, uint64_t *tokens);

enum sg_submit_flags {
    /* Judge only: record nothing, move no counter (sendguard check). */
    SG_SUBMIT_DRY_RUN = 1 << 0,
    /* Return only once the verdict is committed to the store (the daemon: every verdict it
     * answered survives a kill -9). Concurrent submits share one commit. */
    SG_SUBMIT_DURABLE = 1 << 1,
};

struct sg_result;
/* Judges or applies one event at the clock's time. Every event gives a result; tenant,
 * activity, report and review events give an acknowledgement. Safe to call from several
 * threads at once: events of one sender are judged one at a time (so a sender's rate limits are
 * checked and charged atomically), different senders in parallel. */
SG_EXTERN int sg_engine_submit(struct sg_engine *engine, const struct sg_event *ev,
                               unsigned flags, struct sg_result **out);
SG_EXTERN void sg_result_free(struct sg_result *res);
SG_EXTERN enum sg_event_type sg_result_type(const struct sg_result *res);
SG_EXTERN enum sg_action sg_result_action(const struct sg_result *res);
SG_EXTERN const char *sg_result_channel(const struct sg_result *res); /* NULL unless message */
/* The result as one line of JSON (no newline), owned by res. */
SG_EXTERN const char *sg_result_json(struct sg_result *res);

/* A rate-limit key's state as JSON: {"scope","key","cost","active","windows":[{"limit","period",
 * "used","retry_after"}]}. scope is "sender", "tenant", "recipient" or "ip"; key is
 * "TENANT/CHANNEL/ID" (ID a sender, recipient or client address) or "TENANT/CHANNEL" for the
 * tenant scope. SG_EINVAL for a malformed scope or key. Caller frees *out with sg_free. */
SG_EXTERN int sg_engine_limit_show(struct sg_engine *engine, const char *scope, const char *key,
                                   char **out);
/* Resets a rate-limit key (DELETE /v1/limits/...). SG_ENOTFOUND when it held nothing. */
SG_EXTERN int sg_engine_limit_reset(struct sg_engine *engine, const char *scope, const char *key);

/* ---- teaching the classifier (POST /v1/learn) ---- */

enum sg_learn_flags {
    /* Count the message in the tenant's class only. By default the global class learns it too,
     * so every tenant's moderation improves the shared model (docs/bayes.md). */
    SG_LEARN_TENANT_ONLY = 1 << 0,
};

/* Teaches the Bayes classifier that message event ev (sg_event_parse, type SG_EV_MESSAGE) is
 * klass, "spam" or "ham": its content is built and tokenized as the bayes check does, counted
 * in the tenant's class (and the global one unless SG_LEARN_TENANT_ONLY), remembered in the
 * store under (tenant, id) with the tokens counted, and committed before the call returns.
 * A message already learned as klass is not counted again ("status":"already_learned"); one
 * learned as the other class is moved: the tokens counted then are taken back from the old
 * class and the new ones counted in klass ("status":"relearned"). *result_json (caller frees
 * with sg_free) is one JSON object:
 *   {"message":"m1","tenant":"t1","class":"spam","status":"learned|relearned|already_learned",
 *    "learned":true,"previous":null|"ham","tokens":N,
 *    "tenant_class":{"spam":S,"ham":H,"tokens":T,"trained":false},
 *    "global":{"spam":S,"ham":H,"tokens":T,"trained":false}}
 * learned: the counts changed; tokens: the message's distinct tokens; tenant_class and global:
 * the classes' counts after the call (trained: min_spam and min_ham reached). Returns SG_EINVAL
 * for an event that is not a message or a klass that is neither word, SG_ESTORE (the store's
 * errmsg says why) or SG_ENOMEM. Safe to call while other threads submit; learns run one at a
 * time. */
SG_EXTERN int sg_engine_learn(struct sg_engine *engine, const struct sg_event *ev,
                              const char *klass, unsigned flags, char **result_json);
/* The same for a message named only by id, in tenant: possible when the message was learned
 * before (its tokens are kept, so a correction needs only the id). Otherwise SG_ENOCONTENT
 * when a verdict for the id exists (sendguard keeps verdicts, not message content: send the
 * event), SG_ENOTFOUND when the id is unknown. Answers as sg_engine_learn. */
SG_EXTERN int sg_engine_learn_id(struct sg_engine *engine, const char *tenant,
                                 const char *message_id, const char *klass, unsigned flags,
                                 char **result_json);

/* Replaces the engine's configuration (SIGHUP): policies, thresholds, limits and scores take
 * effect for the next event; limiter and account state are kept. cfg is copied. */
SG_EXTERN int sg_engine_reload(struct sg_engine *engine, const struct sg_config *cfg);

/* Counts since the engine was created, for summaries and metrics. */
struct sg_engine_stats {
    uint64_t events;
    uint64_t by_type[6];
    uint64_t limiter_keys;
    uint64_t limiter_bytes;
};
SG_EXTERN void sg_engine_stats(const struct sg_engine *engine, struct sg_engine_stats *out);

#ifdef __cplusplus
}
#endif
#endif
