/* Authentication for sendguardd: the in-memory keyring (reloaded when the store's key
 * generation moves, so a revocation by another process lands within a second), request
 * signatures (HMAC-SHA256, a time window, each signature accepted once) and the per-address
 * failure count that locks an address out and raises one auth_abuse alert per episode. */
#ifndef SG_DAEMON_AUTH_H
#define SG_DAEMON_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sendguard.h"

struct auth_options {
    uint32_t fail_limit;    /* failures per fail_period_s an address may have (20) */
    uint32_t fail_period_s; /* 60 */
    uint32_t cooldown_s;    /* how long a lockout lasts, and the quiet time that ends an episode */
    uint32_t sig_skew_s;    /* accepted distance of X-Sendguard-Timestamp from now (300) */
    size_t max_signatures;  /* slots of the seen-signature table (half of them may be live) */
};

enum sig_result { SIG_OK, SIG_MISSING, SIG_STALE, SIG_MISMATCH, SIG_REPLAYED, SIG_FULL };

struct auth;

int auth_new(struct sg_store *store, const struct auth_options *opt, struct auth **out);
void auth_free(struct auth *a);
/* Reloads the keyring when the store's key generation changed, or always when force. Returns
 * 1 when it reloaded, 0 when nothing changed, a negative SG_E* on failure (the old ring stays). */
int auth_refresh(struct auth *a, bool force);
/* 0 and *info for a live key; SG_EAUTH otherwise. */
int auth_verify_key(struct auth *a, const char *key, size_t len, struct sg_key_info *info);

/* Seconds until addr may try again without a valid key; 0 when it is not locked out. A refused
 * attempt keeps the episode going (it is not quiet). */
int64_t auth_lockout(struct auth *a, const char *addr, sg_time now);
/* Counts a failed authentication (401 or 403) from addr. Past the limit the address is locked
 * out for the cool-down and, once per episode, an auth_abuse alert is stored. */
void auth_failure(struct auth *a, const char *addr, sg_time now);

/* Verifies X-Sendguard-Timestamp (ts) and X-Sendguard-Signature (sig), either may be NULL,
 * over METHOD "\n" URI "\n" TS "\n" BODY with the key's signing secret. On failure why gets a
 * sentence for the error message. */
enum sig_result auth_signature(struct auth *a, const struct sg_key_info *key, const char *method,
                               const char *uri, const char *ts, const char *sig,
                               const char *body, size_t body_len, sg_time now, char *why,
                               size_t why_size);

/* Records that key id was used (sg_key_touch), at most every few seconds per key per thread:
 * last_used is for `keys list`, not for accounting. */
void auth_touch(struct auth *a, const char *id, sg_time now);

#endif
