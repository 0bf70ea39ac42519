/* Prometheus metrics for sendguardd (text format 0.0.4). Counters live in per-thread blocks
 * that only their thread writes, so the hot path takes no lock and shares no cache line; a
 * scrape sums the blocks. Labels are bounded: route patterns, status codes, actions, channels. */
#ifndef SG_DAEMON_METRICS_H
#define SG_DAEMON_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "sendguard.h"

struct buf;

enum auth_reason {
    AUTH_MISSING,   /* no Authorization header, or not "Bearer ..." */
    AUTH_INVALID,   /* unknown, revoked or malformed key */
    AUTH_SIGNATURE, /* request signature missing, stale, wrong or replayed */
    AUTH_SCOPE,     /* the key lacks the route's scope */
    AUTH_TENANT,    /* a tenant key acting for another tenant */
    AUTH_LOCKED,    /* refused with 429: the address failed too often */
    AUTH_REASON_COUNT
};
const char *auth_reason_name(enum auth_reason r);

/* route is a route_table index or -1 (no route matched). */
void metrics_request(int route, int status, int64_t duration_us);
/* One judgement's outcome; channel NULL for an account verdict. */
void metrics_decision(enum sg_action action, enum sg_event_type type, const char *channel);
void metrics_auth_failure(enum auth_reason r);
/* Appends the whole exposition to out. */
void metrics_render(struct buf *out, struct sg_engine *engine, struct sg_store *store);

#endif
