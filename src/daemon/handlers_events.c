/* POST /v1/check and POST /v1/events: parse, check the tenant against the key, submit durably
 * (every verdict answered is committed first), answer the result JSON. NDJSON bodies are judged
 * line by line; a bad line answers its own error and the others go on. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "log.h"
#include "metrics.h"
#include "server.h"

struct judge_error {
    int status;
    const char *code;
    char message[1024];
};

static int fail(struct judge_error *e, int status, const char *code, const char *msg)
{
    e->status = status;
    e->code = code;
    snprintf(e->message, sizeof e->message, "%s", msg);
    return status;
}

/* Judges one event and appends its result JSON to dst. Returns 0, or the HTTP status of the
 * failure with e filled. flags: SG_SUBMIT_DURABLE for a single event; a batch commits once at
 * its end instead (sg_store_flush), which gives every line the same guarantee at a fraction
 * of the commits. */
static int judge(struct request *req, const char *json, size_t len, int default_type,
                 struct buf *dst, struct judge_error *e, bool single, unsigned flags)
{
    struct server *srv = req->srv;
    struct sg_event *ev = NULL;
    char *errmsg = NULL;
    int rc = sg_event_parse(json, len, default_type, &ev, &errmsg);
    if (rc) {
        fail(e, 400, "invalid_event", errmsg ? errmsg : sg_strerror(rc));
        sg_free(errmsg);
        return 400;
    }
    if (default_type == SG_EV_MESSAGE && sg_event_type(ev) != SG_EV_MESSAGE) {
        sg_event_free(ev);
        return fail(e, 400, "invalid_event",
                    "type: /v1/check judges message events; send other types to /v1/events");
    }
    /* A tenant key may only act for its tenant. */
    const char *tenant = sg_event_tenant(ev);
    if (single)
        request_log_tenant(req, tenant);
    if (!request_is_platform(req) && !request_may_act_for(req, tenant)) {
        e->status = 403;
        e->code = "forbidden";
        snprintf(e->message, sizeof e->message,
                 "this key belongs to tenant \"%s\" and cannot act for tenant \"%s\"",
                 req->key.tenant, tenant);
        sg_event_free(ev); /* after the message: tenant lives in the event */
        return 403;
    }
    struct sg_result *res = NULL;
    rc = sg_engine_submit(srv->engine, ev, flags, &res);
    sg_event_free(ev);
    if (rc) {
        log_msg(SG_LOG_ERROR, "req=%s submit: %s: %s", req->id, sg_strerror(rc),
                rc == SG_ESTORE ? sg_store_errmsg(srv->store) : "");
        sg_result_free(res);
        if (rc == SG_ENOMEM)
            return fail(e, 503, "unavailable", "out of memory");
        return fail(e, 500, "internal", sg_strerror(rc));
    }
    enum sg_event_type type = sg_result_type(res);
    if (type == SG_EV_MESSAGE || type == SG_EV_ACCOUNT) {
        enum sg_action action = sg_result_action(res);
        metrics_decision(action, type, sg_result_channel(res));
        if (single)
            req->log_action = sg_action_name(action);
    }
    buf_adds(dst, sg_result_json(res));
    sg_result_free(res);
    return 0;
}


static bool blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return false;
    return true;
}

/* A body that failed as one event but whose first line is a JSON value of its own and is
 * followed by more lines is NDJSON sent with the wrong content type (a pretty-printed event
 * fails the first-line test). */
static bool looks_like_ndjson(const char *body, size_t len)
{
    const char *p = body, *end = body + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (!blank(p, n)) {
            if (!nl || blank(nl + 1, (size_t)(end - nl - 1)))
                return false;
            json_error_t jerr;
            json_t *v = json_loadb(p, n, 0, &jerr);
            json_decref(v);
            return v != NULL;
        }
        p = nl ? nl + 1 : end;
    }
    return false;
}

static void ndjson(struct request *req, struct reply *out)
{
    const char *body = req->body, *end = req->body + req->body_len;
    size_t lines = 0;
    for (const char *p = body; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lines += !blank(p, n);
        p = nl ? nl + 1 : end;
    }
    if (lines > SG_NDJSON_LINES_MAX) {
        reply_error(out, 413, "too_large", "%zu events in one request; at most %d", lines,
                    SG_NDJSON_LINES_MAX);
        return;
    }
    out->status = 200;
    out->content_type = "application/x-ndjson";
    bool forbidden = false;
    size_t lineno = 0;
    for (const char *p = body; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        if (!blank(p, n)) {
            struct judge_error e;
            if (judge(req, p, n, -1, &out->body, &e, false, 0)) {
                forbidden |= e.status == 403;
                buf_addf(&out->body, "{\"line\":%zu,\"error\":{\"code\":\"%s\",\"message\":",
                         lineno, e.code);
                buf_json_str(&out->body, e.message, strlen(e.message));
                buf_adds(&out->body, "}}");
            }
            buf_addc(&out->body, '\n');
        }
        p = nl ? nl + 1 : end;
    }
    if (forbidden)
        request_tenant_failure(req);
    req->log_action = "batch";
    /* Nothing is answered before every verdict of the batch is committed. */
    int rc = sg_store_flush(req->srv->store);
    if (rc) {
        log_msg(SG_LOG_ERROR, "req=%s batch commit: %s: %s", req->id, sg_strerror(rc),
                sg_store_errmsg(req->srv->store));
        reply_error(out, 500, "internal", "the batch could not be committed: %s", sg_strerror(rc));
    }
}

/* One event in the body; a failed parse of what is really NDJSON is 415 on /v1/events. */
static void single(struct request *req, struct reply *out, int default_type)
{
    struct judge_error e;
    if (judge(req, req->body, req->body_len, default_type, &out->body, &e, true,
              SG_SUBMIT_DURABLE) == 0) {
        out->status = 200;
        out->content_type = "application/json";
        buf_addc(&out->body, '\n');
        return;
    }
    if (e.status == 400 && default_type < 0 && looks_like_ndjson(req->body, req->body_len)) {
        reply_error(out, 415, "unsupported_media_type",
                    "a body of several JSON lines needs Content-Type: application/x-ndjson");
        return;
    }
    if (e.status == 403)
        request_tenant_failure(req);
    reply_error(out, e.status, e.code, "%s", e.message);
}

void handle_check(struct request *req, struct reply *out) { single(req, out, SG_EV_MESSAGE); }

void handle_events(struct request *req, struct reply *out)
{
    if (request_is_ndjson(req))
        ndjson(req, out);
    else
        single(req, out, -1);
}
