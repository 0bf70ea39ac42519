/* JSON events → struct sg_event. The hot path of replay and the daemon: one validating pass of
 * util/json.c over the input (no allocation per value), then the known fields are decoded into
 * one buffer the event owns. Every error names the field and what was expected, so a platform
 * developer can fix their integration from the message alone. */
#include "engine/event.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/policy.h"
#include "util/alloc.h"
#include "util/cidr.h"
#include "util/json.h"
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

/* The fields any event type may carry; the top-level object is read once into this table. */
#define SG_EVENT_FIELDS(X)                                                                   \
    X(type) X(at) X(tenant) X(timezone) X(working_hours) X(account) X(email) X(ip)          \
    X(created_at) X(verified) X(kind) X(id) X(channel) X(sender) X(recipients) X(subject)   \
    X(body) X(html) X(raw) X(template) X(attachments) X(message) X(reporter) X(reason)      \
    X(decision) X(moderator)

enum field {
#define SG__FIELD_ENUM(name) F_##name,
    SG_EVENT_FIELDS(SG__FIELD_ENUM)
#undef SG__FIELD_ENUM
    NFIELDS
};

static const char *const field_names[NFIELDS] = {
#define SG__FIELD_NAME(name) #name,
    SG_EVENT_FIELDS(SG__FIELD_NAME)
#undef SG__FIELD_NAME
};

static int field_lookup(const struct sg_json_val *key)
{
    char buf[32];
    const char *k = key->p;
    size_t n = key->len;
    if (key->escaped) {
        if (key->len >= sizeof buf)
            return -1;
        n = sg__json_string(key, buf);
        k = buf;
    }
    for (int i = 0; i < NFIELDS; i++)
        if (strlen(field_names[i]) == n && memcmp(field_names[i], k, n) == 0)
            return i;
    return -1;
}

struct parse {
    struct sg_event *ev;
    struct sg_json_val fields[NFIELDS];
    bool present[NFIELDS];
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

/* The field's value, or NULL when absent or null (absent and null mean the same). */
static const struct sg_json_val *field(const struct parse *p, enum field f)
{
    return p->present[f] && p->fields[f].type != SG_JSON_NULL ? &p->fields[f] : NULL;
}

/* Decodes a string value into the event's buffer (which has room for every string of the
 * input: a decoded string plus its NUL never outgrows its quoted form). */
static const char *decode(struct sg_event *ev, const struct sg_json_val *v, size_t *len)
{
    char *out = ev->strings + ev->strings_used;
    size_t n = sg__json_string(v, out);
    ev->strings_used += n + 1;
    if (len)
        *len = n;
    return out;
}

static int get_str(struct parse *p, enum field f, size_t max, bool required, const char **out,
                   size_t *len_out)
{
    const char *name = field_names[f];
    const struct sg_json_val *v = field(p, f);
    if (!v) {
        if (required)
            return fail(p, name, SG_EPARSE, "missing required field");
        return 0;
    }
    if (v->type != SG_JSON_STRING)
        return fail(p, name, SG_EPARSE, "expected a string");
    size_t len;
    const char *s = decode(p->ev, v, &len);
    if (len > max)
        return fail(p, name, SG_ETOOBIG, "longer than %zu bytes (%zu)", max, len);
    if (required && len == 0)
        return fail(p, name, SG_EPARSE, "must not be empty");
    *out = s;
    if (len_out)
        *len_out = len;
    return 0;
}

static int get_id(struct parse *p, enum field f, bool required, const char **out)
{
    return get_str(p, f, SG_EVENT_MAX_ID, required, out, NULL);
}

static int get_time(struct parse *p, enum field f, sg_time *out)
{
    const char *s = NULL;
    size_t len = 0;
    int rc = get_str(p, f, 64, false, &s, &len);
    if (rc || !s)
        return rc;
    if (sg__time_parse(s, len, out) != 0)
        return fail(p, field_names[f], SG_EPARSE,
                    "expected an RFC 3339 time like 2026-11-23T00:04:05Z, got \"%s\"", s);
    return 0;
}

static int get_bool(struct parse *p, enum field f, int *out)
{
    const struct sg_json_val *v = field(p, f);
    if (!v)
        return 0;
    if (v->type != SG_JSON_TRUE && v->type != SG_JSON_FALSE)
        return fail(p, field_names[f], SG_EPARSE, "expected true or false");
    *out = v->type == SG_JSON_TRUE;
    return 0;
}

static int get_ip(struct parse *p, enum field f, const char **out)
{
    size_t len = 0;
    int rc = get_str(p, f, 64, false, out, &len);
    uint8_t addr[16];
    if (!rc && *out && sg__ip_parse(*out, len, addr) != 0)
        return fail(p, field_names[f], SG_EPARSE, "expected an IPv4 or IPv6 address, got \"%s\"", *out);
    return rc;
}

static int get_recipients(struct parse *p, struct sg_event *ev)
{
    const struct sg_json_val *v = field(p, F_recipients);
    if (!v)
        return fail(p, "recipients", SG_EPARSE, "missing required field");
    if (v->type != SG_JSON_ARRAY)
        return fail(p, "recipients", SG_EPARSE, "expected array of strings");
    size_t n = 0, pos = 0;
    struct sg_json_val item;
    while (sg__json_array_next(v, &pos, &item)) {
        if (item.type != SG_JSON_STRING)
            return fail(p, "recipients", SG_EPARSE, "expected array of strings (item %zu is not a string)", n);
        n++;
    }
    if (n == 0)
        return fail(p, "recipients", SG_EPARSE, "must name at least one recipient");
    if (n > SG_EVENT_MAX_RECIPIENTS)
        return fail(p, "recipients", SG_ETOOBIG, "more than %d recipients (%zu)",
                    SG_EVENT_MAX_RECIPIENTS, n);
    ev->recipients = sg__malloc(n * sizeof *ev->recipients);
    if (!ev->recipients)
        return fail(p, NULL, SG_ENOMEM, "out of memory");
    pos = 0;
    for (size_t i = 0; sg__json_array_next(v, &pos, &item); i++) {
        size_t len;
        ev->recipients[i] = decode(ev, &item, &len);
        if (len == 0 || len > SG_EVENT_MAX_ID)
            return fail(p, "recipients", SG_EPARSE, "item %zu must be 1 to %d bytes", i, SG_EVENT_MAX_ID);
    }
    ev->nrecipients = n;
    return 0;
}

static int get_attachment(struct parse *p, const struct sg_json_val *a, size_t i,
                          struct sg_attachment *att)
{
    char field_name[64];
    if (a->type != SG_JSON_OBJECT) {
        snprintf(field_name, sizeof field_name, "attachments[%zu]", i);
        return fail(p, field_name, SG_EPARSE, "expected an object {name, type, size}");
    }
    att->size = -1;
    size_t pos = 0;
    struct sg_json_val key, val;
    while (sg__json_object_next(a, &pos, &key, &val)) {
        bool is_name = sg__json_string_is(&key, "name"), is_type = sg__json_string_is(&key, "type");
        if ((is_name || is_type) && val.type != SG_JSON_NULL) {
            snprintf(field_name, sizeof field_name, "attachments[%zu].%s", i, is_name ? "name" : "type");
            if (val.type != SG_JSON_STRING)
                return fail(p, field_name, SG_EPARSE, "expected a string");
            size_t len;
            const char *s = decode(p->ev, &val, &len);
            if (len > SG_EVENT_MAX_SHORT)
                return fail(p, field_name, SG_ETOOBIG, "longer than %d bytes", SG_EVENT_MAX_SHORT);
            *(is_name ? &att->name : &att->type) = s;
        } else if (sg__json_string_is(&key, "size") && val.type != SG_JSON_NULL) {
            int64_t size;
            if (!sg__json_int(&val, &size) || size < 0) {
                snprintf(field_name, sizeof field_name, "attachments[%zu].size", i);
                return fail(p, field_name, SG_EPARSE, "expected a non-negative integer");
            }
            att->size = size;
        }
    }
    return 0;
}

static int get_attachments(struct parse *p, struct sg_event *ev)
{
    const struct sg_json_val *v = field(p, F_attachments);
    if (!v)
        return 0;
    if (v->type != SG_JSON_ARRAY)
        return fail(p, "attachments", SG_EPARSE, "expected array of {name, type, size}");
    size_t n = 0, pos = 0;
    struct sg_json_val item;
    while (sg__json_array_next(v, &pos, &item))
        n++;
    if (n > SG_EVENT_MAX_ATTACHMENTS)
        return fail(p, "attachments", SG_ETOOBIG, "more than %d attachments (%zu)",
                    SG_EVENT_MAX_ATTACHMENTS, n);
    if (n == 0)
        return 0;
    ev->attachments = sg__calloc(n, sizeof *ev->attachments);
    if (!ev->attachments)
        return fail(p, NULL, SG_ENOMEM, "out of memory");
    pos = 0;
    for (size_t i = 0; sg__json_array_next(v, &pos, &item); i++) {
        int rc = get_attachment(p, &item, i, &ev->attachments[i]);
        if (rc)
            return rc;
    }
    ev->nattachments = n;
    return 0;
}

static int parse_message(struct parse *p, struct sg_event *ev)
{
    const char *channel = NULL;
    size_t channel_len = 0;
    int rc;
    if ((rc = get_id(p, F_id, true, &ev->id)) || (rc = get_id(p, F_sender, true, &ev->sender)) ||
        (rc = get_str(p, F_channel, 64, true, &channel, &channel_len)))
        return rc;
    ev->channel = sg__channel_parse(channel, channel_len);
    if (ev->channel < 0)
        return fail(p, "channel", SG_EPARSE,
                    "unknown channel \"%s\" (expected email, private_message, post, comment, sms "
                    "or notification)", channel);
    if ((rc = get_recipients(p, ev)) || (rc = get_attachments(p, ev)) ||
        (rc = get_str(p, F_subject, SG_EVENT_MAX_SHORT, false, &ev->subject, NULL)) ||
        (rc = get_str(p, F_body, SG_EVENT_MAX_BYTES, false, &ev->body, &ev->body_len)) ||
        (rc = get_str(p, F_html, SG_EVENT_MAX_BYTES, false, &ev->html, &ev->html_len)) ||
        (rc = get_str(p, F_raw, SG_EVENT_MAX_BYTES, false, &ev->raw, &ev->raw_len)) ||
        (rc = get_id(p, F_template, false, &ev->template_name)) || (rc = get_ip(p, F_ip, &ev->ip)))
        return rc;
    return 0;
}

static int parse_fields(struct parse *p, struct sg_event *ev)
{
    int rc;
    if ((rc = get_id(p, F_tenant, true, &ev->tenant)))
        return rc;
    switch (ev->type) {
    case SG_EV_TENANT:
        if ((rc = get_str(p, F_timezone, 64, false, &ev->timezone, NULL)) ||
            (rc = get_str(p, F_working_hours, 256, false, &ev->working_hours, NULL)))
            return rc;
        return 0;
    case SG_EV_ACCOUNT:
        if ((rc = get_id(p, F_account, true, &ev->account)) ||
            (rc = get_str(p, F_email, 320, false, &ev->email, NULL)) ||
            (rc = get_ip(p, F_ip, &ev->ip)) || (rc = get_time(p, F_created_at, &ev->created_at)) ||
            (rc = get_bool(p, F_verified, &ev->verified)))
            return rc;
        return 0;
    case SG_EV_ACTIVITY:
        if ((rc = get_id(p, F_account, true, &ev->account)) ||
            (rc = get_str(p, F_kind, 64, false, &ev->kind, NULL)))
            return rc;
        return 0;
    case SG_EV_MESSAGE:
        return parse_message(p, ev);
    case SG_EV_REPORT:
        if ((rc = get_id(p, F_message, true, &ev->message)) ||
            (rc = get_id(p, F_reporter, true, &ev->reporter)) ||
            (rc = get_str(p, F_reason, SG_EVENT_MAX_SHORT, false, &ev->reason, NULL)))
            return rc;
        return 0;
    case SG_EV_REVIEW:
        if ((rc = get_id(p, F_message, true, &ev->message)) ||
            (rc = get_str(p, F_decision, 16, true, &ev->decision, NULL)) ||
            (rc = get_id(p, F_moderator, false, &ev->moderator)))
            return rc;
        if (strcmp(ev->decision, "spam") != 0 && strcmp(ev->decision, "ham") != 0)
            return fail(p, "decision", SG_EPARSE, "expected \"spam\" or \"ham\", got \"%s\"", ev->decision);
        return 0;
    }
    return fail(p, "type", SG_EPARSE, "unknown type");
}

static int parse_type(struct parse *p, int default_type)
{
    const struct sg_json_val *type = field(p, F_type);
    if (!type) {
        if (default_type < 0)
            return fail(p, NULL, SG_EPARSE, "type: missing required field");
        p->ev->type = (enum sg_event_type)default_type;
        return 0;
    }
    for (int t = 0; type->type == SG_JSON_STRING && t < NTYPES; t++)
        if (sg__json_string_is(type, type_names[t])) {
            p->ev->type = (enum sg_event_type)t;
            return 0;
        }
    return fail(p, NULL, SG_EPARSE, "type: expected one of tenant, account, activity, message, report, review");
}

int sg_event_parse(const char *json, size_t len, int default_type, struct sg_event **out,
                   char **errmsg)
{
    struct parse p = {.prefix = "event", .rc = 0};
    struct sg_event *ev = NULL;
    *out = NULL;
    if (errmsg)
        *errmsg = NULL;
    if (len > SG_EVENT_MAX_BYTES) {
        fail(&p, NULL, SG_ETOOBIG, "event larger than %u bytes (%zu)", SG_EVENT_MAX_BYTES, len);
        goto out;
    }
    struct sg_json j;
    struct sg_json_val root;
    sg__json_init(&j, json, len, SG_EVENT_MAX_DEPTH);
    if (sg__json_value(&j, &root) || sg__json_end(&j)) {
        int rc = strcmp(j.error, "nested too deeply") == 0 ? SG_ETOOBIG : SG_EPARSE;
        if (rc == SG_ETOOBIG)
            fail(&p, NULL, rc, "nested deeper than %d levels", SG_EVENT_MAX_DEPTH);
        else
            fail(&p, NULL, rc, "invalid JSON at column %zu: %s", j.error_offset + 1, j.error);
        goto out;
    }
    if (root.type != SG_JSON_OBJECT) {
        fail(&p, NULL, SG_EPARSE, "expected a JSON object");
        goto out;
    }
    size_t pos = 0;
    struct sg_json_val key, val;
    while (sg__json_object_next(&root, &pos, &key, &val)) {
        int f = field_lookup(&key);
        if (f >= 0) { /* a repeated key: the last one wins, as in most JSON readers */
            p.fields[f] = val;
            p.present[f] = true;
        }
    }
    ev = sg__calloc(1, sizeof *ev);
    if (ev)
        ev->strings = sg__malloc(len + 1);
    if (!ev || !ev->strings) {
        fail(&p, NULL, SG_ENOMEM, "out of memory");
        goto out;
    }
    ev->strings_cap = len + 1;
    ev->verified = -1;
    p.ev = ev;
    if (parse_type(&p, default_type))
        goto out;
    p.prefix = type_names[ev->type];
    if (get_time(&p, F_at, &ev->at) || parse_fields(&p, ev))
        goto out;
    if (ev->type == SG_EV_REPORT || ev->type == SG_EV_REVIEW) {
        if (!(ev->json = sg__strndup(json, len))) {
            fail(&p, NULL, SG_ENOMEM, "out of memory");
            goto out;
        }
        ev->json_len = len;
    }
    *out = ev;
    return 0;
out:
    sg_event_free(ev);
    if (errmsg)
        *errmsg = sg__strdup(p.err);
    return p.rc ? p.rc : SG_EPARSE;
}

void sg_event_free(struct sg_event *ev)
{
    if (!ev)
        return;
    sg__free(ev->strings);
    sg__free(ev->json);
    sg__free(ev->recipients);
    sg__free(ev->attachments);
    sg__free(ev);
}

enum sg_event_type sg_event_type(const struct sg_event *ev) { return ev->type; }
sg_time sg_event_at(const struct sg_event *ev) { return ev->at; }
const char *sg_event_tenant(const struct sg_event *ev) { return ev->tenant; }
