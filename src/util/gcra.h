/* Rate limiting with GCRA (the generic cell rate algorithm): one theoretical arrival time (TAT)
 * per window per key, so limits slide instead of resetting on fixed boundaries. Keys are 64-bit
 * hashes chosen by the caller; the table is sharded with a lock per shard (the daemon calls it
 * from many threads) and forgets keys that are idle, i.e. whose every TAT is in the past — such a
 * key is indistinguishable from a new one, so memory follows active keys, not history.
 * This file knows nothing of messages. */
#ifndef SG_UTIL_GCRA_H
#define SG_UTIL_GCRA_H

#include <stddef.h>
#include <stdint.h>

#define SG_GCRA_MAX_WINDOWS 4

/* At most `limit` units per `period_s` seconds, with a burst of up to `limit` at once. */
struct sg_gcra_window {
    uint32_t limit;
    uint32_t period_s;
};

struct sg_gcra_rule {
    uint8_t nwindows; /* 0: no limit */
    struct sg_gcra_window w[SG_GCRA_MAX_WINDOWS];
};

/* A window's state as seen at `now`, for `limits show`. */
struct sg_gcra_state {
    uint32_t limit, period_s;
    double used;          /* units counted in the window now (0..limit, fractional while draining) */
    int64_t retry_us;     /* time until one more unit fits; 0 when it fits now */
};

struct sg_gcra_table;

/* nshards is rounded up to a power of two (1..4096). Returns NULL when out of memory. */
struct sg_gcra_table *sg__gcra_new(unsigned nshards);
void sg__gcra_free(struct sg_gcra_table *t);

/* Would `cost` units fit every window of `rule` at `now`? Returns 1 (fits) or 0 (limited); when
 * limited, *retry_us is how long until the whole cost fits in every window, or -1 when it never
 * can (cost above a window's whole limit). Changes nothing. *retry_us is 0 when it fits.
 * A clock that goes backwards never lowers a TAT, never lets more through and never gives a
 * negative retry: the table keeps no per-key clock (entries stay 40 bytes), so a step back can
 * only make the answer stricter, by at most the size of the step. `now` below 0 counts as 0.
 * A window with period_s 0 is ignored; one with limit 0 never fits (retry -1) for cost > 0.
 * Precision: each charge is cost*period/limit µs floored, so `limit` units at once fit exactly
 * and the slack is under 1 µs per charge. */
int sg__gcra_peek(struct sg_gcra_table *t, uint64_t key, const struct sg_gcra_rule *rule,
                  uint32_t cost, int64_t now, int64_t *retry_us);
/* Counts `cost` units against every window (after the verdict allowed the message). Never
 * refuses; returns 0 or SG_ENOMEM. */
int sg__gcra_charge(struct sg_gcra_table *t, uint64_t key, const struct sg_gcra_rule *rule,
                    uint32_t cost, int64_t now);
/* peek + charge under one lock: charges only when it fits. Returns 1, 0 (limited, *retry_us set)
 * or SG_ENOMEM. For callers that do not need a separate verdict step (auth failures). */
int sg__gcra_take(struct sg_gcra_table *t, uint64_t key, const struct sg_gcra_rule *rule,
                  uint32_t cost, int64_t now, int64_t *retry_us);
/* Fills out[0..rule->nwindows-1]. Returns 1 if the key is held, 0 if not (out shows empty
 * windows). A key idle at `now` counts as not held: it is exactly like a key never seen. */
int sg__gcra_state(struct sg_gcra_table *t, uint64_t key, const struct sg_gcra_rule *rule,
                   int64_t now, struct sg_gcra_state *out);
/* Forgets a key. Returns 0, or SG_ENOTFOUND when the table did not hold it. */
int sg__gcra_reset(struct sg_gcra_table *t, uint64_t key);
/* Drops every key idle at `now`. Also happens incrementally during other calls. */
void sg__gcra_expire(struct sg_gcra_table *t, int64_t now);

/* Live keys and the bytes the table holds for them (slots included). */
size_t sg__gcra_count(const struct sg_gcra_table *t);
size_t sg__gcra_bytes(const struct sg_gcra_table *t);

/* Snapshot and restore (the store keeps limiter state across restarts). The callback sees each
 * live key's TATs (SG_GCRA_MAX_WINDOWS values, 0 for unused windows); a non-zero return stops
 * and is returned. The callback runs under a shard lock: it must not call into the table.
 * Restore merges: each TAT becomes the later of the held and the given one. 0 or SG_ENOMEM. */
typedef int (*sg_gcra_visit_fn)(void *ud, uint64_t key, const int64_t tat[SG_GCRA_MAX_WINDOWS]);
int sg__gcra_foreach(struct sg_gcra_table *t, sg_gcra_visit_fn fn, void *ud);
int sg__gcra_restore(struct sg_gcra_table *t, uint64_t key, const int64_t tat[SG_GCRA_MAX_WINDOWS]);

#endif
