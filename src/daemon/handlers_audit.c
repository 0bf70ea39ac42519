/* Audit and operations routes: alert records, the Prometheus metrics and the health check. */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "metrics.h"
#include "server.h"

void handle_alerts(struct request *req, struct reply *out)
{
    char tenant[257], since_text[64];
    int q = request_query(req, "tenant", tenant, sizeof tenant);
    if (q < 0) {
        reply_error(out, 400, "invalid_request", "tenant: malformed or longer than 256 bytes");
        return;
    }
    if (q == 1 && !request_tenant_ok(req, out, tenant))
        return;
    /* A tenant key sees its own alerts; a platform key without ?tenant= sees all of them. */
    const char *which = q == 1 ? tenant : request_is_platform(req) ? NULL : req->key.tenant;
    if (which)
        request_log_tenant(req, which);
    sg_time since = 0;
    int s = request_query(req, "since", since_text, sizeof since_text);
    if (s < 0 || (s == 1 && sg_time_parse(since_text, strlen(since_text), &since) != 0)) {
        reply_error(out, 400, "invalid_request",
                    "since: expected an RFC 3339 time like 2026-11-23T00:00:00Z");
        return;
    }
    char *json = NULL;
    pthread_mutex_lock(&req->srv->admin_lock);
    int rc = sg_store_alerts(req->srv->store, which, since, &json);
    if (rc)
        reply_error(out, 500, "internal", "%s", sg_store_errmsg(req->srv->store));
    pthread_mutex_unlock(&req->srv->admin_lock);
    if (!rc)
        reply_json(out, 200, json);
    sg_free(json);
}

void handle_metrics(struct request *req, struct reply *out)
{
    out->status = 200;
    out->content_type = "text/plain; version=0.0.4; charset=utf-8";
    metrics_render(&out->body, req->srv->engine, req->srv->store);
}

void handle_healthz(struct request *req, struct reply *out)
{
    if (atomic_load(&req->srv->draining))
        reply_json(out, 503, "{\"ok\":false,\"draining\":true}");
    else
        reply_json(out, 200, "{\"ok\":true}");
}
