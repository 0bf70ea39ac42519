/* Metric counters and their exposition. Each thread registers one block on first use; blocks
 * live until exit (the worker pool is fixed). Increments are relaxed load+store pairs on the
 * thread's own block (no locked instruction); a scrape reads them with relaxed loads, which at
 * worst misses an increment in flight. */
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "metrics.h"
#include "routes.h"

static const int statuses[] = {200, 201, 400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 503};
#define NSTATUS (sizeof statuses / sizeof statuses[0] + 1) /* + "other" */
/* Upper bounds in microseconds: 50 µs to 1 s. */
static const int64_t buckets_us[] = {50,     100,    250,    500,    1000,    2500,   5000,
                                     10000,  25000,  50000,  100000, 250000,  500000, 1000000};
#define NBUCKETS (sizeof buckets_us / sizeof buckets_us[0] + 1) /* + +Inf */
#define NROUTES (ROUTES_MAX + 1)                                 /* + unmatched */
#define NACTIONS 6
static const char *const channels[] = {"email", "private_message", "post", "comment", "sms",
                                       "notification", "account", "other"};
#define NCHANNELS (sizeof channels / sizeof channels[0])

typedef _Atomic uint64_t counter;

struct metrics_block {
    struct metrics_block *next;
    counter requests[NROUTES][NSTATUS];
    counter duration[NROUTES][NBUCKETS]; /* per bucket, made cumulative when rendered */
    counter duration_sum_us[NROUTES];
    counter decisions[NACTIONS][NCHANNELS];
    counter auth_failures[AUTH_REASON_COUNT];
};

static pthread_mutex_t blocks_lock = PTHREAD_MUTEX_INITIALIZER;
static struct metrics_block *blocks;
static _Thread_local struct metrics_block *mine;
/* When a block cannot be allocated the thread counts into this shared one (rare; racy
 * increments there may lose counts, which is acceptable for an out-of-memory fallback). */
static struct metrics_block fallback;

static struct metrics_block *block(void)
{
    if (mine)
        return mine;
    struct metrics_block *b = calloc(1, sizeof *b);
    if (!b)
        return &fallback;
    pthread_mutex_lock(&blocks_lock);
    b->next = blocks;
    blocks = b;
    pthread_mutex_unlock(&blocks_lock);
    return mine = b;
}

static inline void inc(counter *c, uint64_t by)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + by,
                          memory_order_relaxed);
}

static uint64_t get(const counter *c)
{
    return atomic_load_explicit((counter *)c, memory_order_relaxed);
}

const char *auth_reason_name(enum auth_reason r)
{
    static const char *const names[] = {"missing_key", "invalid_key", "bad_signature",
                                        "scope", "tenant", "locked_out"};
    return (unsigned)r < AUTH_REASON_COUNT ? names[r] : "other";
}

void metrics_request(int route, int status, int64_t duration_us)
{
    struct metrics_block *b = block();
    size_t r = route >= 0 && route < ROUTES_MAX ? (size_t)route : ROUTES_MAX;
    size_t s = NSTATUS - 1;
    for (size_t i = 0; i < NSTATUS - 1; i++)
        if (statuses[i] == status)
            s = i;
    size_t k = NBUCKETS - 1;
    for (size_t i = 0; i < NBUCKETS - 1; i++)
        if (duration_us <= buckets_us[i]) {
            k = i;
            break;
        }
    inc(&b->requests[r][s], 1);
    inc(&b->duration[r][k], 1);
    inc(&b->duration_sum_us[r], duration_us > 0 ? (uint64_t)duration_us : 0);
}

void metrics_decision(enum sg_action action, enum sg_event_type type, const char *channel)
{
    if ((unsigned)action >= NACTIONS)
        return;
    size_t c = NCHANNELS - 1;
    if (type == SG_EV_ACCOUNT)
        c = NCHANNELS - 2;
    else
        for (size_t i = 0; channel && i < NCHANNELS - 2; i++)
            if (strcmp(channel, channels[i]) == 0)
                c = i;
    inc(&block()->decisions[action][c], 1);
}

void metrics_auth_failure(enum auth_reason r)
{
    if ((unsigned)r < AUTH_REASON_COUNT)
        inc(&block()->auth_failures[r], 1);
}

/* Sums one counter (at offset bytes into a block) over every block. The list only grows at
 * its head, so walking it from a snapshot of the head is safe without holding the lock. */
static uint64_t sum_at(const struct metrics_block *head, size_t offset)
{
    uint64_t sum = get((const counter *)((const char *)&fallback + offset));
    for (const struct metrics_block *b = head; b; b = b->next)
        sum += get((const counter *)((const char *)b + offset));
    return sum;
}
/* A counter's offset in a block; for a per-route array, row r is r row sizes further. */
#define OFFSET(field) ((size_t)((char *)&fallback.field - (char *)&fallback))
#define SUM(field) sum_at(head, OFFSET(field))

static const char *route_label(size_t r)
{
    return r < route_count ? route_table[r].pattern : "unmatched";
}

/* Rows that share a pattern (GET/POST/DELETE /v1/lists/{list}) share one label: the series is
 * the first such row, summing the others; later rows are skipped. */
static bool label_owner(size_t r)
{
    for (size_t i = 0; r < route_count && i < r; i++)
        if (strcmp(route_table[i].pattern, route_table[r].pattern) == 0)
            return false;
    return r < route_count || r == ROUTES_MAX;
}

static uint64_t sum_label(const struct metrics_block *head, size_t r, size_t offset_in_row,
                          size_t row_size)
{
    uint64_t sum = 0;
    for (size_t i = r; i < NROUTES; i++) {
        if (i != r && (i >= route_count || r >= route_count ||
                       strcmp(route_table[i].pattern, route_table[r].pattern) != 0))
            continue;
        sum += sum_at(head, i * row_size + offset_in_row);
    }
    return sum;
}

void metrics_render(struct buf *out, struct sg_engine *engine, struct sg_store *store)
{
    pthread_mutex_lock(&blocks_lock);
    const struct metrics_block *head = blocks;
    pthread_mutex_unlock(&blocks_lock);

    buf_adds(out, "# HELP sendguard_http_requests_total HTTP requests answered, by route pattern "
                  "and status.\n# TYPE sendguard_http_requests_total counter\n");
    for (size_t r = 0; r < NROUTES; r++) {
        if (!label_owner(r))
            continue;
        for (size_t s = 0; s < NSTATUS; s++) {
            uint64_t n =
                sum_label(head, r, OFFSET(requests[0][s]), sizeof fallback.requests[0]);
            if (!n)
                continue;
            if (s < NSTATUS - 1)
                buf_addf(out, "sendguard_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                         route_label(r), statuses[s], (unsigned long long)n);
            else
                buf_addf(out, "sendguard_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                         route_label(r), (unsigned long long)n);
        }
    }

    buf_adds(out, "# HELP sendguard_request_duration_seconds Time from the request's headers "
                  "to its answer, by route pattern.\n"
                  "# TYPE sendguard_request_duration_seconds histogram\n");
    for (size_t r = 0; r < NROUTES; r++) {
        if (!label_owner(r))
            continue;
        uint64_t cum = 0, counts[NBUCKETS];
        for (size_t k = 0; k < NBUCKETS; k++) {
            counts[k] = sum_label(head, r, OFFSET(duration[0][k]), sizeof fallback.duration[0]);
            cum += counts[k];
        }
        if (!cum)
            continue;
        cum = 0;
        for (size_t k = 0; k < NBUCKETS; k++) {
            cum += counts[k];
            if (k < NBUCKETS - 1)
                buf_addf(out, "sendguard_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} "
                         "%llu\n", route_label(r), (double)buckets_us[k] / 1e6,
                         (unsigned long long)cum);
            else
                buf_addf(out, "sendguard_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
                         "%llu\n", route_label(r), (unsigned long long)cum);
        }
        buf_addf(out, "sendguard_request_duration_seconds_sum{route=\"%s\"} %.6f\n",
                 route_label(r), (double)sum_label(head, r, OFFSET(duration_sum_us[0]),
                                          sizeof fallback.duration_sum_us[0]) / 1e6);
        buf_addf(out, "sendguard_request_duration_seconds_count{route=\"%s\"} %llu\n",
                 route_label(r), (unsigned long long)cum);
    }

    buf_adds(out, "# HELP sendguard_decisions_total Verdicts answered, by action and channel "
                  "(\"account\" for signup verdicts).\n"
                  "# TYPE sendguard_decisions_total counter\n");
    for (size_t a = 0; a < NACTIONS; a++)
        for (size_t c = 0; c < NCHANNELS; c++) {
            uint64_t n = SUM(decisions[a][c]);
            if (n)
                buf_addf(out, "sendguard_decisions_total{action=\"%s\",channel=\"%s\"} %llu\n",
                         sg_action_name((enum sg_action)a), channels[c], (unsigned long long)n);
        }

    buf_adds(out, "# HELP sendguard_auth_failures_total Refused authentications, by reason.\n"
                  "# TYPE sendguard_auth_failures_total counter\n");
    for (size_t i = 0; i < AUTH_REASON_COUNT; i++)
        buf_addf(out, "sendguard_auth_failures_total{reason=\"%s\"} %llu\n",
                 auth_reason_name((enum auth_reason)i),
                 (unsigned long long)SUM(auth_failures[i]));

    struct sg_engine_stats st;
    sg_engine_stats(engine, &st);
    buf_addf(out, "# HELP sendguard_engine_events_total Events the engine judged or applied.\n"
                  "# TYPE sendguard_engine_events_total counter\n"
                  "sendguard_engine_events_total %llu\n", (unsigned long long)st.events);
    buf_addf(out, "# HELP sendguard_store_queue_depth Writes queued for the store and not yet "
                  "applied.\n# TYPE sendguard_store_queue_depth gauge\n"
                  "sendguard_store_queue_depth %zu\n", sg_store_queue_depth(store));
    buf_addf(out, "# HELP sendguard_limiter_keys Rate-limit keys held in memory.\n"
                  "# TYPE sendguard_limiter_keys gauge\nsendguard_limiter_keys %llu\n",
             (unsigned long long)st.limiter_keys);
}
