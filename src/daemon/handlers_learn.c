/* POST /v1/learn: a moderator teaches the classifier that a message is spam or ham. The body
 * names the message by event (learned from its content) or by id (only a message learned
 * before: verdicts are kept, content is not); the engine does the counting (sg_engine_learn). */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "log.h"
#include "server.h"

#define ID_MAX 256 /* a tenant or message id, as the event parser allows */

static bool id_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

/* Learns the message event in ev_json and answers. */
static void learn_event(struct request *req, struct reply *out, json_t *ev_json,
                        const char *klass, unsigned flags)
{
    char *text = json_dumps(ev_json, JSON_COMPACT);
    if (!text) {
        reply_error(out, 503, "unavailable", "out of memory");
        return;
    }
    struct sg_event *ev = NULL;
    char *errmsg = NULL;
    int rc = sg_event_parse(text, strlen(text), SG_EV_MESSAGE, &ev, &errmsg);
    free(text);
    if (rc) {
        /* The parser names the field ("message.recipients: ..."). */
        reply_error(out, 400, "invalid_event", "%s", errmsg ? errmsg : sg_strerror(rc));
        sg_free(errmsg);
        return;
    }
    if (sg_event_type(ev) != SG_EV_MESSAGE) {
        sg_event_free(ev);
        reply_error(out, 400, "invalid_event", "message: expected a message event");
        return;
    }
    const char *tenant = sg_event_tenant(ev);
    request_log_tenant(req, tenant);
    if (!request_tenant_ok(req, out, tenant)) {
        sg_event_free(ev);
        return;
    }
    char *json = NULL;
    rc = sg_engine_learn(req->srv->engine, ev, klass, flags, &json);
    sg_event_free(ev);
    if (rc) {
        log_msg(SG_LOG_ERROR, "req=%s learn: %s: %s", req->id, sg_strerror(rc),
                rc == SG_ESTORE ? sg_store_errmsg(req->srv->store) : "");
        if (rc == SG_ENOMEM)
            reply_error(out, 503, "unavailable", "out of memory");
        else
            reply_error(out, 500, "internal", "%s", sg_strerror(rc));
        return;
    }
    reply_json(out, 200, json);
    sg_free(json);
}

static void learn_id(struct request *req, struct reply *out, json_t *root, const char *id,
                     const char *klass, unsigned flags)
{
    json_t *tv = json_object_get(root, "tenant");
    const char *tenant = tv && !json_is_null(tv) ? json_string_value(tv) : req->key.tenant;
    if (!tenant || !id_valid(tenant) || strcmp(tenant, "*") == 0) {
        reply_error(out, 400, "invalid_request",
                    "tenant: a message id needs the message's tenant (a string of 1 to %d bytes; "
                    "a tenant key's own tenant is the default)",
                    ID_MAX);
        return;
    }
    request_log_tenant(req, tenant);
    if (!request_tenant_ok(req, out, tenant))
        return;
    char *json = NULL;
    int rc = sg_engine_learn_id(req->srv->engine, tenant, id, klass, flags, &json);
    switch (rc) {
    case 0:
        reply_json(out, 200, json);
        sg_free(json);
        return;
    case SG_ENOCONTENT:
        reply_error(out, 409, "content_not_kept",
                    "message %s's content is not kept; send the message event", id);
        return;
    case SG_ENOTFOUND:
        reply_error(out, 404, "not_found",
                    "message %s is not known in tenant %s; send the message event", id, tenant);
        return;
    case SG_ENOMEM:
        reply_error(out, 503, "unavailable", "out of memory");
        return;
    default:
        log_msg(SG_LOG_ERROR, "req=%s learn: %s: %s", req->id, sg_strerror(rc),
                rc == SG_ESTORE ? sg_store_errmsg(req->srv->store) : "");
        reply_error(out, 500, "internal", "%s", sg_strerror(rc));
    }
}

void handle_learn(struct request *req, struct reply *out)
{
    if (request_is_ndjson(req)) {
        reply_error(out, 415, "unsupported_media_type",
                    "POST /v1/learn takes one JSON object ({\"message\":…,\"class\":…}), "
                    "not NDJSON");
        return;
    }
    json_error_t jerr;
    json_t *root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        reply_error(out, 400, "invalid_request", "invalid JSON at line %d, column %d: %s",
                    jerr.line, jerr.column, jerr.text);
        return;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        reply_error(out, 400, "invalid_request", "expected a JSON object");
        return;
    }
    const char *klass = json_string_value(json_object_get(root, "class"));
    json_t *msg = json_object_get(root, "message");
    json_t *global = json_object_get(root, "global");
    if (!klass || (strcmp(klass, "spam") != 0 && strcmp(klass, "ham") != 0)) {
        reply_error(out, 400, "invalid_request", "class: expected \"spam\" or \"ham\"");
    } else if (global && !json_is_boolean(global)) {
        reply_error(out, 400, "invalid_request", "global: expected true or false");
    } else if (json_is_object(msg)) {
        learn_event(req, out, msg, klass, json_is_false(global) ? SG_LEARN_TENANT_ONLY : 0);
    } else if (json_is_string(msg) && id_valid(json_string_value(msg))) {
        learn_id(req, out, root, json_string_value(msg), klass,
                 json_is_false(global) ? SG_LEARN_TENANT_ONLY : 0);
    } else {
        reply_error(out, 400, "invalid_request",
                    "message: expected a message event (an object) or a message id (a string of "
                    "1 to %d bytes)",
                    ID_MAX);
    }
    json_decref(root);
}
