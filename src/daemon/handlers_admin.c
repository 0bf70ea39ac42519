/* Admin routes: list entries (validated as a whole before any is applied), API keys (created
 * and revoked in the store, the keyring reloaded at once) and rate-limit keys. Each store call
 * runs under the admin lock so the store's error message is this request's. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "handlers.h"
#include "log.h"
#include "server.h"

#define LIST_ENTRIES_MAX 10000
#define TENANT_MAX 256

static const char *const list_names[] = {"accounts", "email_domains", "url_domains", "ips"};

/* The request body as a JSON object, or NULL after answering 400. An empty body is {}. */
static json_t *body_object(struct request *req, struct reply *out)
{
    if (req->body_len == 0)
        return json_object();
    json_error_t jerr;
    json_t *root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        reply_error(out, 400, "invalid_request", "invalid JSON at line %d, column %d: %s",
                    jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        reply_error(out, 400, "invalid_request", "expected a JSON object");
        return NULL;
    }
    return root;
}

/* A tenant id as the engine accepts it: 1 to 256 bytes, no control characters. */
static bool tenant_valid(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > TENANT_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f)
            return false;
    return true;
}

/* The "tenant" member, or the key's own tenant when absent; NULL after answering 400/403. */
static const char *body_tenant(struct request *req, struct reply *out, json_t *root)
{
    json_t *v = json_object_get(root, "tenant");
    if (!v || json_is_null(v))
        return req->key.tenant; /* a platform key's default is "*": every tenant */
    const char *t = json_string_value(v);
    if (!t || !tenant_valid(t)) {
        reply_error(out, 400, "invalid_request",
                    "tenant: expected a string of 1 to %d bytes without control characters",
                    TENANT_MAX);
        return NULL;
    }
    return request_tenant_ok(req, out, t) ? t : NULL;
}

/* ---- lists ---------------------------------------------------------------------------------- */

static const char *list_param(struct request *req, struct reply *out)
{
    const char *list = route_param(&req->match, "list");
    for (size_t i = 0; list && i < sizeof list_names / sizeof list_names[0]; i++)
        if (strcmp(list, list_names[i]) == 0)
            return list;
    reply_error(out, 404, "not_found",
                "no list \"%s\" (lists: accounts, email_domains, url_domains, ips)",
                list ? list : "");
    return NULL;
}

/* Answers the list's live entries; only_tenant (not NULL) keeps that tenant's entries and the
 * ones for every tenant ("*"), which apply to it too. */
static void answer_list(struct request *req, struct reply *out, const char *list,
                        const char *only_tenant)
{
    struct server *srv = req->srv;
    char *json = NULL;
    pthread_mutex_lock(&srv->admin_lock);
    int rc = sg_store_list_show(srv->store, list, sg_clock_wall(NULL), &json);
    if (rc) {
        reply_error(out, 500, "internal", "%s", sg_store_errmsg(srv->store));
        pthread_mutex_unlock(&srv->admin_lock);
        return;
    }
    pthread_mutex_unlock(&srv->admin_lock);
    if (!only_tenant || strcmp(only_tenant, "*") == 0) {
        reply_json(out, 200, json);
        sg_free(json);
        return;
    }
    json_error_t jerr;
    json_t *all = json_loads(json, 0, &jerr), *kept = json_array();
    sg_free(json);
    size_t i;
    json_t *item;
    json_array_foreach(all, i, item) {
        const char *t = json_string_value(json_object_get(item, "tenant"));
        if (t && (strcmp(t, only_tenant) == 0 || strcmp(t, "*") == 0))
            json_array_append(kept, item);
    }
    char *text = all && kept ? json_dumps(kept, JSON_COMPACT) : NULL;
    json_decref(all);
    json_decref(kept);
    if (!text) {
        reply_error(out, 500, "internal", "cannot filter the list");
        return;
    }
    reply_json(out, 200, text);
    free(text);
}

void handle_list_show(struct request *req, struct reply *out)
{
    const char *list = list_param(req, out);
    if (!list)
        return;
    char tenant[TENANT_MAX + 1];
    int q = request_query(req, "tenant", tenant, sizeof tenant);
    if (q < 0) {
        reply_error(out, 400, "invalid_request", "tenant: malformed or longer than %d bytes",
                    TENANT_MAX);
        return;
    }
    if (q == 1 && !request_tenant_ok(req, out, tenant))
        return;
    answer_list(req, out, list, q == 1 ? tenant : req->key.tenant);
}

/* Adds (add) or removes the body's entries. Every entry is first tried on a private in-memory
 * store, so a bad entry fails the request before anything changed. */
static void change_list(struct request *req, struct reply *out, bool add)
{
    struct server *srv = req->srv;
    const char *list = list_param(req, out);
    if (!list)
        return;
    json_t *root = body_object(req, out);
    if (!root)
        return;
    sg_time now = sg_clock_wall(NULL), expires = 0;
    struct sg_store *scratch = NULL;
    const char *tenant = body_tenant(req, out, root);
    json_t *entries = json_object_get(root, "entries");
    if (!tenant)
        goto out;
    request_log_tenant(req, tenant);
    if (!json_is_array(entries) || json_array_size(entries) == 0 ||
        json_array_size(entries) > LIST_ENTRIES_MAX) {
        reply_error(out, 400, "invalid_request", "entries: expected an array of 1 to %d strings",
                    LIST_ENTRIES_MAX);
        goto out;
    }
    json_t *until = json_object_get(root, "until");
    if (add && until && !json_is_null(until)) {
        const char *u = json_string_value(until);
        if (!u || sg_time_parse(u, strlen(u), &expires) != 0) {
            reply_error(out, 400, "invalid_request",
                        "until: expected an RFC 3339 time like 2026-11-23T00:04:05Z");
            goto out;
        }
        if (expires <= now) {
            reply_error(out, 400, "invalid_request", "until: %s is in the past", u);
            goto out;
        }
    }
    int rc = sg_store_open(NULL, &scratch);
    if (rc) {
        reply_error(out, 503, "unavailable", "cannot validate entries: %s", sg_strerror(rc));
        goto out;
    }
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e) {
        const char *s = json_string_value(e);
        if (!s) {
            reply_error(out, 400, "invalid_request", "entries[%zu]: expected a string", i);
            goto out;
        }
        if (sg_store_list_add(scratch, list, tenant, s, expires, now) != 0) {
            reply_error(out, 400, "invalid_request", "entries[%zu]: %s", i,
                        sg_store_errmsg(scratch));
            goto out;
        }
    }
    pthread_mutex_lock(&srv->admin_lock);
    json_array_foreach(entries, i, e) {
        const char *s = json_string_value(e);
        rc = add ? sg_store_list_add(srv->store, list, tenant, s, expires, now)
                 : sg_store_list_remove(srv->store, list, tenant, s);
        if (rc == SG_ENOTFOUND && !add)
            rc = 0; /* removing what is not there leaves the list as asked */
        if (rc) {
            reply_error(out, 500, "internal", "entries[%zu]: %s", i, sg_store_errmsg(srv->store));
            pthread_mutex_unlock(&srv->admin_lock);
            goto out;
        }
    }
    if ((rc = sg_store_flush(srv->store)) == 0)
        rc = sg_engine_reload_lists(srv->engine);
    if (rc) {
        reply_error(out, 500, "internal", "lists changed but not reloaded: %s",
                    sg_store_errmsg(srv->store));
        pthread_mutex_unlock(&srv->admin_lock);
        goto out;
    }
    pthread_mutex_unlock(&srv->admin_lock);
    log_msg(SG_LOG_INFO, "req=%s lists: %s %zu %s entr%s for tenant %s", req->id,
            add ? "added" : "removed", json_array_size(entries), list,
            json_array_size(entries) == 1 ? "y" : "ies", req->log_tenant);
    answer_list(req, out, list, req->key.tenant);
out:
    sg_store_close(scratch);
    json_decref(root);
}

void handle_list_add(struct request *req, struct reply *out) { change_list(req, out, true); }
void handle_list_remove(struct request *req, struct reply *out) { change_list(req, out, false); }

/* ---- keys ------------------------------------------------------------------------------------ */

/* "scopes": an array of names (or one comma-separated string) -> bits; 0 after answering 400. */
static unsigned body_scopes(json_t *v, struct reply *out)
{
    unsigned all = 0, bits;
    char csv[256];
    if (json_is_string(v)) {
        snprintf(csv, sizeof csv, "%s", json_string_value(v));
        if (sg_key_scopes_parse(csv, &all) == 0 && all)
            return all;
    } else if (json_is_array(v) && json_array_size(v) > 0) {
        size_t i;
        json_t *s;
        json_array_foreach(v, i, s) {
            const char *name = json_string_value(s);
            if (!name || sg_key_scopes_parse(name, &bits) != 0) {
                reply_error(out, 400, "invalid_request",
                            "scopes[%zu]: expected one of check, events, report, moderate, "
                            "audit, admin", i);
                return 0;
            }
            all |= bits;
        }
        return all;
    }
    reply_error(out, 400, "invalid_request",
                "scopes: expected an array of check, events, report, moderate, audit, admin");
    return 0;
}

static void scopes_json(struct buf *b, unsigned scopes)
{
    char csv[64];
    sg_key_scopes_format(scopes, csv, sizeof csv);
    buf_addc(b, '[');
    for (const char *p = csv; *p;) {
        size_t n = strcspn(p, ",");
        if (p != csv)
            buf_addc(b, ',');
        buf_json_str(b, p, n);
        p += n + (p[n] == ',');
    }
    buf_addc(b, ']');
}

void handle_key_create(struct request *req, struct reply *out)
{
    struct server *srv = req->srv;
    json_t *root = body_object(req, out);
    if (!root)
        return;
    const char *tenant = body_tenant(req, out, root);
    json_t *rs = json_object_get(root, "require_signature");
    unsigned scopes = tenant ? body_scopes(json_object_get(root, "scopes"), out) : 0;
    if (!scopes)
        goto out;
    if (rs && !json_is_boolean(rs)) {
        reply_error(out, 400, "invalid_request", "require_signature: expected true or false");
        goto out;
    }
    request_log_tenant(req, tenant);
    char *key = NULL;
    struct sg_key_info info;
    sg_time now = sg_clock_wall(NULL);
    pthread_mutex_lock(&srv->admin_lock);
    int rc = sg_key_create(srv->store, tenant, scopes, json_is_true(rs), now, &key, &info);
    if (rc) {
        reply_error(out, rc == SG_EINVAL ? 400 : 500,
                    rc == SG_EINVAL ? "invalid_request" : "internal", "%s",
                    sg_store_errmsg(srv->store));
        pthread_mutex_unlock(&srv->admin_lock);
        goto out;
    }
    pthread_mutex_unlock(&srv->admin_lock);
    if ((rc = auth_refresh(srv->auth, true)) < 0)
        log_msg(SG_LOG_ERROR, "req=%s keyring reload: %s", req->id, sg_strerror(rc));
    log_msg(SG_LOG_INFO, "req=%s keys: created %s for tenant %s", req->id, info.id,
            req->log_tenant);
    char created[21];
    sg_time_format(info.created ? info.created : now, created);
    out->status = 201;
    out->content_type = "application/json";
    struct buf *b = &out->body;
    buf_adds(b, "{\"id\":");
    buf_json_str(b, info.id, strlen(info.id));
    buf_adds(b, ",\"key\":");
    buf_json_str(b, key, strlen(key));
    buf_adds(b, ",\"tenant\":");
    buf_json_str(b, info.tenant, strlen(info.tenant));
    buf_adds(b, ",\"scopes\":");
    scopes_json(b, info.scopes);
    buf_addf(b, ",\"require_signature\":%s,\"created\":\"%s\"}\n",
             info.require_signature ? "true" : "false", created);
    sodium_memzero(key, strlen(key));
    sg_free(key);
out:
    json_decref(root);
}

struct key_lookup {
    const char *id;
    struct sg_key_info found;
    bool hit;
};

static int find_key(void *ud, const struct sg_key_info *k)
{
    struct key_lookup *l = ud;
    if (strcmp(k->id, l->id) != 0)
        return 0;
    l->found = *k;
    l->hit = true;
    return 1;
}

void handle_key_revoke(struct request *req, struct reply *out)
{
    struct server *srv = req->srv;
    const char *id = route_param(&req->match, "id");
    struct key_lookup l = {.id = id};
    pthread_mutex_lock(&srv->admin_lock);
    int rc = sg_key_each(srv->store, find_key, &l); /* find_key's 1 (found) stops it */
    pthread_mutex_unlock(&srv->admin_lock);
    if (rc < 0) {
        reply_error(out, 500, "internal", "%s", sg_strerror(rc));
        return;
    }
    if (!l.hit) {
        reply_error(out, 404, "not_found", "no key with id \"%s\"", id);
        return;
    }
    if (!request_tenant_ok(req, out, l.found.tenant))
        return;
    request_log_tenant(req, l.found.tenant);
    pthread_mutex_lock(&srv->admin_lock);
    rc = sg_key_revoke(srv->store, id, sg_clock_wall(NULL));
    if (rc) {
        reply_error(out, rc == SG_ENOTFOUND ? 404 : 500,
                    rc == SG_ENOTFOUND ? "not_found" : "internal", "%s",
                    sg_store_errmsg(srv->store));
        pthread_mutex_unlock(&srv->admin_lock);
        return;
    }
    pthread_mutex_unlock(&srv->admin_lock);
    /* Revoked here: this process stops honouring the key before answering. */
    if ((rc = auth_refresh(srv->auth, true)) < 0)
        log_msg(SG_LOG_ERROR, "req=%s keyring reload: %s", req->id, sg_strerror(rc));
    log_msg(SG_LOG_INFO, "req=%s keys: revoked %s", req->id, id);
    out->status = 200;
    out->content_type = "application/json";
    buf_adds(&out->body, "{\"id\":");
    buf_json_str(&out->body, id, strlen(id));
    buf_adds(&out->body, ",\"revoked\":true}\n");
}

/* ---- rate-limit keys --------------------------------------------------------------------- */

/* The {scope} and {key} of the path, after checking the key's tenant (its first segment). */
static bool limit_params(struct request *req, struct reply *out, const char **scope,
                         const char **key)
{
    *scope = route_param(&req->match, "scope");
    *key = route_param(&req->match, "key");
    char tenant[TENANT_MAX + 1];
    size_t n = strcspn(*key, "/");
    if (n > TENANT_MAX) {
        reply_error(out, 400, "invalid_request", "key: tenant longer than %d bytes", TENANT_MAX);
        return false;
    }
    memcpy(tenant, *key, n);
    tenant[n] = '\0';
    request_log_tenant(req, tenant);
    return request_tenant_ok(req, out, tenant);
}

void handle_limit_show(struct request *req, struct reply *out)
{
    const char *scope, *key;
    if (!limit_params(req, out, &scope, &key))
        return;
    char *json = NULL;
    int rc = sg_engine_limit_show(req->srv->engine, scope, key, &json);
    if (rc == SG_EINVAL)
        reply_error(out, 400, "invalid_request",
                    "scope must be sender, tenant, recipient or ip, and key TENANT/CHANNEL/ID "
                    "(TENANT/CHANNEL for the tenant scope)");
    else if (rc)
        reply_error(out, 500, "internal", "%s", sg_strerror(rc));
    else
        reply_json(out, 200, json);
    sg_free(json);
}

void handle_limit_reset(struct request *req, struct reply *out)
{
    const char *scope, *key;
    if (!limit_params(req, out, &scope, &key))
        return;
    int rc = sg_engine_limit_reset(req->srv->engine, scope, key);
    if (rc == SG_EINVAL) {
        reply_error(out, 400, "invalid_request",
                    "scope must be sender, tenant, recipient or ip, and key TENANT/CHANNEL/ID "
                    "(TENANT/CHANNEL for the tenant scope)");
        return;
    }
    if (rc && rc != SG_ENOTFOUND) {
        reply_error(out, 500, "internal", "%s", sg_strerror(rc));
        return;
    }
    log_msg(SG_LOG_INFO, "req=%s limits: reset %s %s", req->id, scope, req->log_tenant);
    out->status = 200;
    out->content_type = "application/json";
    buf_adds(&out->body, "{\"scope\":");
    buf_json_str(&out->body, scope, strlen(scope));
    buf_adds(&out->body, ",\"key\":");
    buf_json_str(&out->body, key, strlen(key));
    buf_addf(&out->body, ",\"reset\":%s}\n", rc == 0 ? "true" : "false");
}
