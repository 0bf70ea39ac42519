/* The HTTP plumbing of sendguardd over libmicrohttpd: the per-request state that handlers see,
 * the reply they fill, and the server's lifetime (start, quiesce, drain, stop). Handlers never
 * touch libmicrohttpd; everything they need is on struct request. */
#ifndef SG_DAEMON_SERVER_H
#define SG_DAEMON_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "routes.h"
#include "sendguard.h"

#define SG_BODY_MAX (1024 * 1024)      /* a request body; more is 413 */
#define SG_NDJSON_LINES_MAX 10000      /* events in one NDJSON request; more is 413 */
#define SG_REPLY_MAX (64 * 1024 * 1024) /* a response body (10,000 NDJSON results fit) */

struct server_options {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    unsigned threads;
    unsigned connection_limit;
    unsigned connection_timeout_s;
    size_t connection_memory; /* libmicrohttpd's per-connection pool: headers and read buffer */
    size_t body_budget;       /* all request bodies being received at once; more is 503 */
};

struct server {
    struct server_options opt;
    struct sg_engine *engine;
    struct sg_store *store;
    struct auth *auth;
    struct MHD_Daemon *mhd;
    atomic_bool draining;
    atomic_long inflight;      /* requests between their first line and their completion */
    atomic_size_t body_bytes;  /* bytes of request bodies held now */
    uint32_t id_prefix;        /* random per process, so ids from restarts do not collide */
    atomic_uint_fast64_t next_id;
    /* Admin calls report errors through the store's one errmsg; holding this across the call
     * and the read keeps the message the one of this request. */
    pthread_mutex_t admin_lock;
};

struct request {
    struct server *srv;
    struct MHD_Connection *conn;
    char id[17];
    char *uri;          /* as sent, with the query string (the signature covers it) */
    size_t path_len;    /* bytes of uri before '?' */
    const char *query;  /* after '?', or NULL */
    const char *method;
    char client[48];    /* the peer's address: what failures are counted by */
    int64_t t0;         /* monotonic µs when the headers were in */
    struct route_match match;
    const struct route *route;
    struct sg_key_info key;
    bool has_key, need_signature;
    char *body;
    size_t body_len, body_cap, body_seen;
    bool too_large, over_budget, started, responded;
    char log_tenant[72];
    const char *log_action; /* static string */
};

struct reply {
    int status;
    struct buf body;
    const char *content_type;
    char allow[64];
    int64_t retry_after; /* > 0: a Retry-After header */
    bool www_authenticate;
};

int server_start(struct server *srv);
/* The bound port (useful with port 0). */
unsigned server_port(struct server *srv);
/* Stops accepting: the listening socket is closed, in-flight requests go on. */
void server_quiesce(struct server *srv);
/* Stops the worker threads and closes every connection. */
void server_stop(struct server *srv);

/* ---- for handlers ---- */

/* {"error":{"code":…,"message":…}} with status. */
void reply_error(struct reply *out, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A JSON body (copied). */
void reply_json(struct reply *out, int status, const char *json);
/* The value of a request header, or NULL. */
const char *request_header(struct request *req, const char *name);
/* Is the body declared NDJSON (Content-Type application/x-ndjson or application/ndjson)? */
bool request_is_ndjson(struct request *req);
/* Decodes query parameter name into dst: 1 found, 0 absent, -1 malformed or too long. */
int request_query(struct request *req, const char *name, char *dst, size_t size);
/* True when the key may act for tenant (a platform key, or the key's own tenant); otherwise
 * answers 403 and counts an authentication failure for the client address. */
bool request_tenant_ok(struct request *req, struct reply *out, const char *tenant);
/* The same test without answering: for checks repeated per NDJSON line. */
bool request_may_act_for(const struct request *req, const char *tenant);
/* Counts a 403 for another tenant against the client address (once per request). */
void request_tenant_failure(struct request *req);
bool request_is_platform(const struct request *req);
/* What the request line logs. */
void request_log_tenant(struct request *req, const char *tenant);

#endif
