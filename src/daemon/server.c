/* libmicrohttpd plumbing: the raw request target is kept per connection (routing and
 * signatures need it as sent), a request is routed and authenticated on its first callback,
 * its body gathered into a bounded buffer, and answered by its route's handler once the body
 * is complete. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "log.h"
#include "metrics.h"
#include "server.h"

/* Past this many discarded bytes of an oversized body the connection is closed instead of
 * read to the end for a polite 413. */
#define SG_DISCARD_MAX (8 * SG_BODY_MAX)
#define KEY_LEN_MAX 512

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- helpers for handlers ------------------------------------------------------------------ */

void reply_error(struct reply *out, int status, const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    buf_free(&out->body);
    out->status = status;
    out->content_type = "application/json";
    buf_adds(&out->body, "{\"error\":{\"code\":");
    buf_json_str(&out->body, code, strlen(code));
    buf_adds(&out->body, ",\"message\":");
    buf_json_str(&out->body, msg, strlen(msg));
    buf_adds(&out->body, "}}\n");
}

void reply_json(struct reply *out, int status, const char *json)
{
    buf_free(&out->body);
    out->status = status;
    out->content_type = "application/json";
    buf_adds(&out->body, json);
    buf_addc(&out->body, '\n');
}

const char *request_header(struct request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

bool request_is_ndjson(struct request *req)
{
    const char *content_type = request_header(req, "Content-Type");
    if (!content_type)
        return false;
    size_t n = strcspn(content_type, ";");
    while (n && (content_type[n - 1] == ' ' || content_type[n - 1] == '\t'))
        n--;
    static const char *const types[] = {"application/x-ndjson", "application/ndjson"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strlen(types[i]) == n && strncasecmp(content_type, types[i], n) == 0)
            return true;
    return false;
}

int request_query(struct request *req, const char *name, char *dst, size_t size)
{
    size_t nlen = strlen(name);
    for (const char *p = req->query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        if (klen == nlen && memcmp(p, name, nlen) == 0) {
            const char *v = eq ? eq + 1 : p + len;
            size_t vlen = (size_t)(p + len - v);
            if (vlen >= size) /* decoding only shrinks, so this bound is safe */
                return -1;
            return url_decode(v, vlen, dst, 1) < 0 ? -1 : 1;
        }
        p = amp ? amp + 1 : NULL;
    }
    return 0;
}

bool request_is_platform(const struct request *req)
{
    return req->has_key && strcmp(req->key.tenant, "*") == 0;
}

void request_log_tenant(struct request *req, const char *tenant)
{
    /* Only printable, space-free bytes reach the log line: tenant ids are the client's text. */
    size_t i = 0;
    for (; tenant[i] && i < sizeof req->log_tenant - 1; i++) {
        unsigned char c = (unsigned char)tenant[i];
        req->log_tenant[i] = c > 0x20 && c < 0x7f ? (char)c : '?';
    }
    req->log_tenant[i] = '\0';
}

bool request_may_act_for(const struct request *req, const char *tenant)
{
    return request_is_platform(req) || (tenant && strcmp(tenant, req->key.tenant) == 0);
}

void request_tenant_failure(struct request *req)
{
    metrics_auth_failure(AUTH_TENANT);
    auth_failure(req->srv->auth, req->client, sg_clock_wall(NULL));
}

bool request_tenant_ok(struct request *req, struct reply *out, const char *tenant)
{
    if (request_may_act_for(req, tenant))
        return true;
    request_tenant_failure(req);
    reply_error(out, 403, "forbidden",
                "this key belongs to tenant \"%s\" and cannot act for %s%s%s", req->key.tenant,
                tenant ? "tenant \"" : "every tenant", tenant ? tenant : "", tenant ? "\"" : "");
    return false;
}

/* ---- answering ------------------------------------------------------------------------------ */

static enum MHD_Result respond(struct request *req, struct reply *r)
{
    struct server *srv = req->srv;
    req->responded = true;
    size_t len = 0;
    char *body = buf_take(&r->body, &len);
    if (!body) { /* the reply ran out of memory or over its maximum */
        r->status = 500;
        r->content_type = "application/json";
        static const char oom[] = "{\"error\":{\"code\":\"internal\",\"message\":\"the answer did "
                                  "not fit in memory\"}}\n";
        body = malloc(sizeof oom);
        if (body) {
            memcpy(body, oom, sizeof oom);
            len = sizeof oom - 1;
        }
    }
    struct MHD_Response *resp =
        body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type",
                            r->content_type ? r->content_type : "application/json");
    MHD_add_response_header(resp, "X-Request-Id", req->id);
    if (r->allow[0])
        MHD_add_response_header(resp, "Allow", r->allow);
    if (r->retry_after > 0) {
        char ra[24];
        snprintf(ra, sizeof ra, "%lld", (long long)r->retry_after);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    if (r->www_authenticate)
        MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"sendguard\"");
    if (atomic_load(&srv->draining))
        MHD_add_response_header(resp, "Connection", "close");
    enum MHD_Result ok = MHD_queue_response(req->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);

    int64_t us = mono_us() - req->t0;
    int route = req->route ? (int)(req->route - route_table) : -1;
    metrics_request(route, r->status, us);
    if (log_enabled(SG_LOG_INFO))
        log_msg(SG_LOG_INFO, "req=%s %s %s %d tenant=%s action=%s %lldus", req->id, req->method,
                req->route ? req->route->pattern : "-", r->status,
                req->log_tenant[0] ? req->log_tenant : "-",
                req->log_action ? req->log_action : "-", (long long)us);
    return ok;
}

/* ---- authentication (first callback: headers only) ------------------------------------------ */

/* The key from "Authorization: Bearer KEY", or NULL. */
static const char *bearer(const char *h, size_t *len)
{
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    size_t n = strlen(h);
    while (n && (h[n - 1] == ' ' || h[n - 1] == '\t'))
        n--;
    if (n == 0 || n > KEY_LEN_MAX)
        return NULL;
    *len = n;
    return h;
}

static bool authenticate(struct request *req, struct reply *out)
{
    struct server *srv = req->srv;
    sg_time now = sg_clock_wall(NULL);
    size_t klen = 0;
    const char *header = request_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *key = bearer(header, &klen);
    /* The key is checked before the lockout: a valid key is never locked out by failures of
     * others behind the same address. */
    if (key && auth_verify_key(srv->auth, key, klen, &req->key) == 0) {
        req->has_key = true;
        request_log_tenant(req, req->key.tenant);
        if (!(req->key.scopes & req->route->scope)) {
            char scope[64];
            sg_key_scopes_format(req->route->scope, scope, sizeof scope);
            metrics_auth_failure(AUTH_SCOPE);
            auth_failure(srv->auth, req->client, now);
            reply_error(out, 403, "forbidden", "this key lacks the \"%s\" scope needed for %s %s",
                        scope, req->route->method, req->route->pattern);
            return false;
        }
        req->need_signature = req->key.require_signature ||
                              request_header(req, "X-Sendguard-Signature") ||
                              request_header(req, "X-Sendguard-Timestamp");
        return true;
    }
    int64_t wait = auth_lockout(srv->auth, req->client, now);
    if (wait > 0) {
        metrics_auth_failure(AUTH_LOCKED);
        out->retry_after = wait;
        reply_error(out, 429, "too_many_failures",
                    "too many failed authentications from %s; retry in %lld s", req->client,
                    (long long)wait);
        return false;
    }
    metrics_auth_failure(key ? AUTH_INVALID : AUTH_MISSING);
    auth_failure(srv->auth, req->client, now);
    out->www_authenticate = true;
    if (key)
        reply_error(out, 401, "unauthorized", "unknown, revoked or malformed API key");
    else if (header)
        reply_error(out, 401, "unauthorized", "the Authorization header must be \"Bearer <key>\"");
    else
        reply_error(out, 401, "unauthorized",
                    "missing API key: send \"Authorization: Bearer <key>\"");
    return false;
}

/* Final step of authentication, once the body is here: the request signature. */
static bool verify_signature(struct request *req, struct reply *out)
{
    struct server *srv = req->srv;
    sg_time now = sg_clock_wall(NULL);
    if (req->need_signature) {
        char why[256];
        enum sig_result r = auth_signature(srv->auth, &req->key, req->method, req->uri,
                                           request_header(req, "X-Sendguard-Timestamp"),
                                           request_header(req, "X-Sendguard-Signature"), req->body,
                                           req->body_len, now, why, sizeof why);
        if (r == SIG_FULL) {
            out->retry_after = 1;
            reply_error(out, 503, "unavailable", "%s", why);
            return false;
        }
        if (r != SIG_OK) {
            metrics_auth_failure(AUTH_SIGNATURE);
            auth_failure(srv->auth, req->client, now);
            reply_error(out, 401, "bad_signature", "%s", why);
            return false;
        }
    }
    auth_touch(srv->auth, req->key.id, now);
    return true;
}

/* ---- the body ------------------------------------------------------------------------------- */

static bool body_reserve(struct request *req, size_t need)
{
    struct server *srv = req->srv;
    if (need <= req->body_cap)
        return true;
    size_t cap = req->body_cap ? req->body_cap : 4096;
    while (cap < need)
        cap *= 2;
    if (cap > SG_BODY_MAX + 1)
        cap = SG_BODY_MAX + 1; /* + 1: room for a NUL after a body of exactly the maximum */
    size_t grow = cap - req->body_cap;
    if (atomic_fetch_add(&srv->body_bytes, grow) + grow > srv->opt.body_budget) {
        atomic_fetch_sub(&srv->body_bytes, grow);
        req->over_budget = true;
        return false;
    }
    char *p = realloc(req->body, cap);
    if (!p) {
        atomic_fetch_sub(&srv->body_bytes, grow);
        req->over_budget = true;
        return false;
    }
    req->body = p;
    req->body_cap = cap;
    return true;
}

static void body_release(struct request *req)
{
    if (req->body_cap)
        atomic_fetch_sub(&req->srv->body_bytes, req->body_cap);
    free(req->body);
    req->body = NULL;
    req->body_cap = req->body_len = 0;
}

/* Returns false when the connection should be dropped (an oversized body that goes on). */
static bool body_append(struct request *req, const char *data, size_t n)
{
    req->body_seen += n;
    if (req->too_large || req->over_budget)
        return req->body_seen <= SG_DISCARD_MAX;
    if (req->body_len + n > SG_BODY_MAX) {
        req->too_large = true;
        body_release(req);
        return true;
    }
    if (!body_reserve(req, req->body_len + n + 1)) {
        body_release(req);
        return true;
    }
    memcpy(req->body + req->body_len, data, n);
    req->body_len += n;
    req->body[req->body_len] = '\0';
    return true;
}

/* ---- libmicrohttpd callbacks --------------------------------------------------------------- */

/* The raw request target of a connection's current request. libmicrohttpd hands the access
 * handler a decoded path without the query; routing (a %2F inside a limit key) and signatures
 * (the target as sent) need it raw, and only the URI log callback sees it. That callback's own
 * result is not freed by libmicrohttpd when a request fails before its headers are complete, so
 * the copy lives with the connection, and requests on a connection come one at a time. */
struct conn_state {
    char *uri;
};

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = calloc(1, sizeof(struct conn_state));
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct conn_state *c = *socket_context;
        if (c)
            free(c->uri);
        free(c);
        *socket_context = NULL;
    }
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct conn_state *c = ci ? ci->socket_context : NULL;
    if (c) {
        free(c->uri);
        c->uri = strdup(uri); /* NULL when out of memory: the request is then refused */
    }
    return NULL;
}

/* The request's state, made on the first call of the access handler (libmicrohttpd then always
 * reports its completion, which frees it). */
static struct request *request_new(struct server *srv, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct conn_state *c = ci ? ci->socket_context : NULL;
    struct request *req = c && c->uri ? calloc(1, sizeof *req) : NULL;
    if (!req)
        return NULL;
    req->uri = c->uri; /* taken: the next request on the connection brings its own */
    c->uri = NULL;
    req->srv = srv;
    req->conn = conn;
    req->t0 = mono_us();
    req->path_len = strcspn(req->uri, "?");
    req->query = req->uri[req->path_len] == '?' ? req->uri + req->path_len + 1 : NULL;
    uint64_t n = atomic_fetch_add(&srv->next_id, 1);
    snprintf(req->id, sizeof req->id, "%08x%08x", srv->id_prefix, (unsigned)(n & 0xffffffffu));
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, req->client,
                  sizeof req->client);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, req->client,
                  sizeof req->client);
    else
        snprintf(req->client, sizeof req->client, "unknown");
    atomic_fetch_add(&srv->inflight, 1);
    return req;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct server *srv = cls;
    struct request *req = *con_cls;
    if (!req)
        return;
    if (!req->responded)
        log_msg(SG_LOG_DEBUG, "req=%s %s %.*s: connection ended before an answer (%d)", req->id,
                req->method ? req->method : "?", (int)req->path_len, req->uri, (int)toe);
    body_release(req);
    route_match_free(&req->match);
    free(req->uri);
    free(req);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->inflight, 1);
}

/* First callback: route, authenticate, look at the declared length. Returns true when the
 * request goes on to its body; otherwise out holds the answer. */
static bool begin(struct request *req, struct reply *out)
{
    if (route_match(req->method, req->uri, req->path_len, &req->match) != 0) {
        reply_error(out, 503, "unavailable", "out of memory");
        return false;
    }
    if (req->match.index == ROUTE_NONE) {
        if (req->match.path_known) {
            snprintf(out->allow, sizeof out->allow, "%s", req->match.allow);
            reply_error(out, 405, "method_not_allowed", "%s is not allowed here; allowed: %s",
                        req->method, req->match.allow);
        } else {
            reply_error(out, 404, "not_found", "no route for %s %.*s", req->method,
                        (int)(req->path_len > 200 ? 200 : req->path_len), req->uri);
        }
        return false;
    }
    req->route = &route_table[req->match.index];
    if (req->route->scope != ROUTE_PUBLIC && !authenticate(req, out))
        return false;
    const char *cl = request_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        unsigned long long n = strtoull(cl, NULL, 10);
        if (n > SG_BODY_MAX) {
            reply_error(out, 413, "too_large",
                        "request body of %llu bytes is over the %d-byte limit", n, SG_BODY_MAX);
            return false;
        }
    }
    return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct request *req = *con_cls;
    if (!req && !(req = *con_cls = request_new(cls, conn)))
        return MHD_NO; /* out of memory: drop the connection */
    struct reply out = {.status = 500};
    buf_init(&out.body, SG_REPLY_MAX);
    if (!req->started) {
        req->started = true;
        req->method = method;
        if (begin(req, &out))
            return MHD_YES;
        return respond(req, &out);
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (req->responded)
            return MHD_YES;
        return body_append(req, upload_data, n) ? MHD_YES : MHD_NO;
    }
    if (req->responded)
        return MHD_YES;
    if (req->too_large)
        reply_error(&out, 413, "too_large", "request body is over the %d-byte limit", SG_BODY_MAX);
    else if (req->over_budget) {
        out.retry_after = 1;
        reply_error(&out, 503, "unavailable", "too many request bodies in memory; retry");
    } else if (req->route->scope == ROUTE_PUBLIC || verify_signature(req, &out)) {
        if (!req->body && !body_reserve(req, 1)) { /* handlers get a string, even empty */
            out.retry_after = 1;
            reply_error(&out, 503, "unavailable", "too many request bodies in memory; retry");
        } else {
            if (req->body_len == 0)
                req->body[0] = '\0';
            req->route->handler(req, &out);
        }
    }
    return respond(req, &out);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_msg(SG_LOG_WARN, "http: %s", msg);
}

/* ---- lifetime -------------------------------------------------------------------------------- */

int server_start(struct server *srv)
{
    if (getrandom(&srv->id_prefix, sizeof srv->id_prefix, 0) != (ssize_t)sizeof srv->id_prefix)
        srv->id_prefix = (uint32_t)time(NULL);
    pthread_mutex_init(&srv->admin_lock, NULL);
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (srv->opt.addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem pool[] = {
        {MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)srv->opt.threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    srv->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&srv->opt.addr,
        MHD_OPTION_CONNECTION_LIMIT, srv->opt.connection_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, srv->opt.connection_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, srv->opt.connection_memory,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        /* A pool of one is no pool: libmicrohttpd wants the option absent then. */
        MHD_OPTION_ARRAY, srv->opt.threads > 1 ? pool : pool + 1,
        MHD_OPTION_END);
    return srv->mhd ? 0 : -1;
}

unsigned server_port(struct server *srv)
{
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
    return di ? di->port : 0;
}

void server_quiesce(struct server *srv)
{
    atomic_store(&srv->draining, true);
    MHD_socket fd = MHD_quiesce_daemon(srv->mhd);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

void server_stop(struct server *srv)
{
    if (srv->mhd)
        MHD_stop_daemon(srv->mhd);
    srv->mhd = NULL;
    pthread_mutex_destroy(&srv->admin_lock);
}
