/* JSON events → struct sg_event (jansson). Every error names the field and what was expected,
 * so a platform developer can fix their integration from the message alone. */
#include "engine/event.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/policy.h"
#include "util/alloc.h"
#include "util/cidr.h"
#include "util/timefmt.h"

static const char *const type_names[] = {
    [SG_EV_TENANT] = "tenant",     [SG_EV_ACCOUNT] = "account", [SG_EV_ACTIVITY] = "activity",
    [SG_EV_MESSAGE] = "message",   [SG_EV_REPORT] = "report",   [SG_EV_REVIEW] = "review",
};
enum { NTYPES = sizeof type_names / sizeof type_names[0] };

int sg__event_type_parse(const char *s)
{
    for (int i = 0; i < NTYPES; i++)
        if (strcmp(type_names[i], s) == 0)
            return i;
    return -1;
}

const char *sg__event_type_name(enum sg_event_type t)
{
    return (unsigned)t < NTYPES ? type_names[t] : "event";
}

struct parse {
    struct sg_event *ev;
    json_t *obj;
    const char *prefix; /* the type's name, so errors read "message.recipients: ..." */
    char err[512];
    int rc;
};

__attribute__((format(printf, 4, 5))) static int fail(struct parse *p, const char *field, int rc,
                                                      const char *fmt, ...)
{
    int n = field ? snprintf(p->err, sizeof p->err, "%s.%s: ", p->prefix, field) : 0;
    if (n < 0 || (size_t)n >= sizeof p->err)
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, sizeof p->err - (size_t)n, fmt, ap);
    va_end(ap);
    p->rc = rc;
    return rc;
}

/* Optional string field with a length cap; *out stays NULL when absent or null. */
static int get_str(struct parse *p, const char *field, size_t max, bool required,
                   const char **out, size_t *len_out)
{
    json_t *v = json_object_get(p->obj, field);
    if (!v || json_is_null(v)) {
        if (required)
            return fail(p, field, SG_EPARSE, "missing required field");
        return 0;
    }
    if (!json_is_string(v))
        return fail(p, field, SG_EPARSE, "expected a string");
    size_t len = json_string_length(v);
    if (len > max)
        return fail(p, field, SG_ETOOBIG, "longer than %zu bytes (%zu)", max, len);
    if (required && len == 0)
        return fail(p, field, SG_EPARSE, "must not be empty");
    *out = json_string_value(v);
    if (len_out)
        *len_out = len;
    return 0;
}

static int get_id(struct parse *p, const char *field, bool required, const char **out)
{
    return get_str(p, field, SG_EVENT_MAX_ID, required, out, NULL);
}

static int get_time(struct parse *p, const char *field, sg_time *out)
{
    const char *s = NULL;
    size_t len = 0;
    int rc = get_str(p, field, 64, false, &s, &len);
    if (rc || !s)
        return rc;
    if (sg__time_parse(s, len, out) != 0)
        return fail(p, field, SG_EPARSE, "expected an RFC 3339 time like 2026-11-23T00:04:05Z, got \"%s\"", s);
    return 0;
}

static int get_bool(struct parse *p, const char *field, int *out)
{
    json_t *v = json_object_get(p->obj, field);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return fail(p, field, SG_EPARSE, "expected true or false");
    *out = json_is_true(v);
    return 0;
}

static int get_ip(struct parse *p, const char *field, const char **out)
{
    size_t len = 0;
    int rc = get_str(p, field, 64, false, out, &len);
    uint8_t addr[16];
    if (!rc && *out && sg__ip_parse(*out, len, addr) != 0)
        return fail(p, field, SG_EPARSE, "expected an IPv4 or IPv6 address, got \"%s\"", *out);
    return rc;
}

static int get_recipients(struct parse *p, struct sg_event *ev)
{
    json_t *v = json_object_get(p->obj, "recipients");
    if (!v || json_is_null(v))
        return fail(p, "recipients", SG_EPARSE, "missing required field");
    if (!json_is_array(v))
        return fail(p, "recipients", SG_EPARSE, "expected array of strings");
    size_t n = json_array_size(v);
    if (n == 0)
        return fail(p, "recipients", SG_EPARSE, "must name at least one recipient");
    if (n > SG_EVENT_MAX_RECIPIENTS)
        return fail(p, "recipients", SG_ETOOBIG, "more than %d recipients (%zu)",
                    SG_EVENT_MAX_RECIPIENTS, n);
    ev->recipients = sg__calloc(n, sizeof *ev->recipients);
    if (!ev->recipients)
        return fail(p, NULL, SG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(v, i);
        if (!json_is_string(r))
            return fail(p, "recipients", SG_EPARSE, "expected array of strings (item %zu is not a string)", i);
        size_t len = json_string_length(r);
        if (len == 0 || len > SG_EVENT_MAX_ID)
            return fail(p, "recipients", SG_EPARSE, "item %zu must be 1 to %d bytes", i, SG_EVENT_MAX_ID);
        ev->recipients[i] = json_string_value(r);
    }
    ev->nrecipients = n;
    return 0;
}

static int get_attachments(struct parse *p, struct sg_event *ev)
{
    json_t *v = json_object_get(p->obj, "attachments");
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return fail(p, "attachments", SG_EPARSE, "expected array of {name, type, size}");
    size_t n = json_array_size(v);
    if (n > SG_EVENT_MAX_ATTACHMENTS)
        return fail(p, "attachments", SG_ETOOBIG, "more than %d attachments (%zu)",
                    SG_EVENT_MAX_ATTACHMENTS, n);
    if (n == 0)
        return 0;
    ev->attachments = sg__calloc(n, sizeof *ev->attachments);
    if (!ev->attachments)
        return fail(p, NULL, SG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *a = json_array_get(v, i);
        char field[64];
        if (!json_is_object(a)) {
            snprintf(field, sizeof field, "attachments[%zu]", i);
            return fail(p, field, SG_EPARSE, "expected an object {name, type, size}");
        }
        struct sg_attachment *att = &ev->attachments[i];
        att->size = -1;
        const char *keys[2] = {"name", "type"};
        const char **dst[2] = {&att->name, &att->type};
        for (int k = 0; k < 2; k++) {
            json_t *s = json_object_get(a, keys[k]);
            if (!s || json_is_null(s))
                continue;
            snprintf(field, sizeof field, "attachments[%zu].%s", i, keys[k]);
            if (!json_is_string(s))
                return fail(p, field, SG_EPARSE, "expected a string");
            if (json_string_length(s) > SG_EVENT_MAX_SHORT)
                return fail(p, field, SG_ETOOBIG, "longer than %d bytes", SG_EVENT_MAX_SHORT);
            *dst[k] = json_string_value(s);
        }
        json_t *size = json_object_get(a, "size");
        if (size && !json_is_null(size)) {
            snprintf(field, sizeof field, "attachments[%zu].size", i);
            if (!json_is_integer(size) || json_integer_value(size) < 0)
                return fail(p, field, SG_EPARSE, "expected a non-negative integer");
            att->size = json_integer_value(size);
        }
    }
    ev->nattachments = n;
    return 0;
}

static int parse_message(struct parse *p, struct sg_event *ev)
{
    const char *channel = NULL;
    size_t channel_len = 0;
    int rc;
    if ((rc = get_id(p, "id", true, &ev->id)) || (rc = get_id(p, "sender", true, &ev->sender)) ||
        (rc = get_str(p, "channel", 64, true, &channel, &channel_len)))
        return rc;
    ev->channel = sg__channel_parse(channel, channel_len);
    if (ev->channel < 0)
        return fail(p, "channel", SG_EPARSE,
                    "unknown channel \"%s\" (expected email, private_message, post, comment, sms "
                    "or notification)", channel);
    if ((rc = get_recipients(p, ev)) || (rc = get_attachments(p, ev)) ||
        (rc = get_str(p, "subject", SG_EVENT_MAX_SHORT, false, &ev->subject, NULL)) ||
        (rc = get_str(p, "body", SG_EVENT_MAX_BYTES, false, &ev->body, &ev->body_len)) ||
        (rc = get_str(p, "html", SG_EVENT_MAX_BYTES, false, &ev->html, &ev->html_len)) ||
        (rc = get_str(p, "raw", SG_EVENT_MAX_BYTES, false, &ev->raw, &ev->raw_len)) ||
        (rc = get_id(p, "template", false, &ev->template_name)) || (rc = get_ip(p, "ip", &ev->ip)))
        return rc;
    return 0;
}

static int parse_fields(struct parse *p, struct sg_event *ev)
{
    int rc;
    switch (ev->type) {
    case SG_EV_TENANT:
        if ((rc = get_id(p, "tenant", true, &ev->tenant)) ||
            (rc = get_str(p, "timezone", 64, false, &ev->timezone, NULL)) ||
            (rc = get_str(p, "working_hours", 256, false, &ev->working_hours, NULL)))
            return rc;
        return 0;
    case SG_EV_ACCOUNT:
        if ((rc = get_id(p, "tenant", true, &ev->tenant)) ||
            (rc = get_id(p, "account", true, &ev->account)) ||
            (rc = get_str(p, "email", 320, false, &ev->email, NULL)) ||
            (rc = get_ip(p, "ip", &ev->ip)) || (rc = get_time(p, "created_at", &ev->created_at)) ||
            (rc = get_bool(p, "verified", &ev->verified)))
            return rc;
        return 0;
    case SG_EV_ACTIVITY:
        if ((rc = get_id(p, "tenant", true, &ev->tenant)) ||
            (rc = get_id(p, "account", true, &ev->account)) ||
            (rc = get_str(p, "kind", 64, false, &ev->kind, NULL)))
            return rc;
        return 0;
    case SG_EV_MESSAGE:
        if ((rc = get_id(p, "tenant", true, &ev->tenant)))
            return rc;
        return parse_message(p, ev);
    case SG_EV_REPORT:
        if ((rc = get_id(p, "tenant", true, &ev->tenant)) ||
            (rc = get_id(p, "message", true, &ev->message)) ||
            (rc = get_id(p, "reporter", true, &ev->reporter)) ||
            (rc = get_str(p, "reason", SG_EVENT_MAX_SHORT, false, &ev->reason, NULL)))
            return rc;
        return 0;
    case SG_EV_REVIEW:
        if ((rc = get_id(p, "tenant", true, &ev->tenant)) ||
            (rc = get_id(p, "message", true, &ev->message)) ||
            (rc = get_str(p, "decision", 16, true, &ev->decision, NULL)) ||
            (rc = get_id(p, "moderator", false, &ev->moderator)))
            return rc;
        if (strcmp(ev->decision, "spam") != 0 && strcmp(ev->decision, "ham") != 0)
            return fail(p, "decision", SG_EPARSE, "expected \"spam\" or \"ham\", got \"%s\"", ev->decision);
        return 0;
    }
    return fail(p, "type", SG_EPARSE, "unknown type");
}

/* Unknown fields are ignored, but their nesting is still bounded. */
static bool too_deep(json_t *v, int depth)
{
    if (depth > SG_EVENT_MAX_DEPTH)
        return true;
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach(v, k, c) if (too_deep(c, depth + 1)) return true;
    } else if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) if (too_deep(c, depth + 1)) return true;
    }
    return false;
}

int sg_event_parse(const char *json, size_t len, int default_type, struct sg_event **out,
                   char **errmsg)
{
    struct parse p = {.prefix = "event", .rc = 0};
    *out = NULL;
    if (errmsg)
        *errmsg = NULL;
    struct sg_event *ev = NULL;
    json_t *doc = NULL;
    if (len > SG_EVENT_MAX_BYTES) {
        fail(&p, NULL, SG_ETOOBIG, "event larger than %u bytes (%zu)", SG_EVENT_MAX_BYTES, len);
        goto out;
    }
    json_error_t jerr;
    doc = json_loadb(json, len, 0, &jerr);
    if (!doc) {
        fail(&p, NULL, SG_EPARSE, "invalid JSON at column %d: %s", jerr.column, jerr.text);
        goto out;
    }
    if (!json_is_object(doc)) {
        fail(&p, NULL, SG_EPARSE, "expected a JSON object");
        goto out;
    }
    if (too_deep(doc, 1)) {
        fail(&p, NULL, SG_ETOOBIG, "nested deeper than %d levels", SG_EVENT_MAX_DEPTH);
        goto out;
    }
    ev = sg__calloc(1, sizeof *ev);
    if (!ev) {
        fail(&p, NULL, SG_ENOMEM, "out of memory");
        goto out;
    }
    ev->doc = doc;
    ev->verified = -1;
    p.ev = ev;
    p.obj = doc;
    json_t *type = json_object_get(doc, "type");
    if (!type || json_is_null(type)) {
        if (default_type < 0) {
            fail(&p, NULL, SG_EPARSE, "type: missing required field");
            goto out;
        }
        ev->type = (enum sg_event_type)default_type;
    } else {
        int t = json_is_string(type) ? sg__event_type_parse(json_string_value(type)) : -1;
        if (t < 0) {
            fail(&p, NULL, SG_EPARSE,
                 "type: expected one of tenant, account, activity, message, report, review");
            goto out;
        }
        ev->type = (enum sg_event_type)t;
    }
    p.prefix = type_names[ev->type];
    if (get_time(&p, "at", &ev->at) == 0 && parse_fields(&p, ev) == 0) {
        *out = ev;
        return 0;
    }
out:
    if (ev)
        sg_event_free(ev);
    else
        json_decref(doc);
    if (errmsg)
        *errmsg = sg__strdup(p.err);
    return p.rc ? p.rc : SG_EPARSE;
}

void sg_event_free(struct sg_event *ev)
{
    if (!ev)
        return;
    json_decref(ev->doc);
    sg__free(ev->recipients);
    sg__free(ev->attachments);
    sg__free(ev);
}

enum sg_event_type sg_event_type(const struct sg_event *ev) { return ev->type; }
sg_time sg_event_at(const struct sg_event *ev) { return ev->at; }
