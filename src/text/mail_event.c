/* sg_event_from_rfc822: a message event from a raw mail, so a door that holds mail rather than a
 * platform's JSON (`sendguard check` on .eml files, later the milter) judges it like any other
 * message. The addresses come from GMime's header parsing; the body is left to the content
 * checks, which parse `raw` themselves. */
#include <gmime/gmime.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "engine/event.h"
#include "engine/policy.h"
#include "text/mime.h"
#include "util/alloc.h"
#include "util/hash.h"

struct addrs {
    const char **v;
    size_t n, cap;
    size_t bytes; /* their lengths plus NULs */
};

/* Collects mailbox addresses, groups flattened, up to the event's recipient limit. */
static void collect(InternetAddressList *list, struct addrs *out, int depth)
{
    int n = list ? internet_address_list_length(list) : 0;
    for (int i = 0; i < n && out->n <= SG_EVENT_MAX_RECIPIENTS; i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            if (depth < 4)
                collect(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), out, depth + 1);
            continue;
        }
        const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
        size_t len = addr ? strlen(addr) : 0;
        if (len == 0 || len > SG_EVENT_MAX_ID)
            continue;
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 16;
            const char **grown = sg__realloc(out->v, cap * sizeof *grown);
            if (!grown)
                return;
            out->v = grown;
            out->cap = cap;
        }
        out->v[out->n++] = addr;
        out->bytes += len + 1;
    }
}

/* A fixed address (a placeholder) in out; dropped only when out of memory, which the caller
 * then reports as SG_ENOMEM. */
static void add_fixed(struct addrs *out, const char *addr)
{
    const char **grown = sg__realloc(out->v, (out->n + 1) * sizeof *grown);
    if (!grown)
        return;
    out->v = grown;
    out->cap = out->n + 1;
    out->v[out->n++] = addr;
    out->bytes += strlen(addr) + 1;
}

/* The addresses of header name, parsed like To (the caller unrefs the list); NULL if absent. */
static InternetAddressList *header_addresses(GMimeMessage *msg, const char *name)
{
    const char *v = g_mime_object_get_header(GMIME_OBJECT(msg), name);
    return v && *v ? internet_address_list_parse(NULL, v) : NULL;
}

__attribute__((format(printf, 2, 3))) static int fail(char **errmsg, const char *fmt, ...)
{
    if (errmsg) {
        char buf[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        *errmsg = sg__strdup(buf);
    }
    return SG_EPARSE;
}

static char *put(struct sg_event *ev, const char *s)
{
    size_t n = strlen(s);
    char *out = ev->strings + ev->strings_used;
    memcpy(out, s, n + 1);
    ev->strings_used += n + 1;
    return out;
}

/* What GMime is given: the header block only, and of it only the fields read here (From, To,
 * Cc, Bcc, Message-ID and the fallbacks below) and any line that is not a well-formed "name:" field (where GMime may
 * end the headers, so they stay in order), then the empty line. The body and the other fields
 * (twenty to a hundred Received, X-* and the like in real mail) are what a full parse spent
 * its time on; they cannot change the addresses. NULL when out of memory (free with sg__free). */
static char *header_subset(const char *raw, size_t len, size_t *out_len)
{
    static const char *const wanted[] = {"From", "To", "Cc", "Bcc", "Message-ID",
                                         /* the fallbacks when To/Cc/Bcc or From name nobody */
                                         "Sender", "Return-Path", "Delivered-To", "X-Original-To",
                                         "Envelope-To", "X-Envelope-To"};
    char *out = sg__malloc(len + 3);
    if (!out)
        return NULL;
    size_t k = 0, i = 0;
    while (i < len) {
        const char *nl = memchr(raw + i, '\n', len - i);
        size_t line_end = nl ? (size_t)(nl - raw) + 1 : len;
        if (raw[i] == '\n' || (raw[i] == '\r' && i + 1 < len && raw[i + 1] == '\n'))
            break; /* the empty line */
        size_t field_end = line_end; /* with its continuation lines */
        while (field_end < len && (raw[field_end] == ' ' || raw[field_end] == '\t')) {
            const char *n2 = memchr(raw + field_end, '\n', len - field_end);
            field_end = n2 ? (size_t)(n2 - raw) + 1 : len;
        }
        size_t q = i;
        while (q < line_end && raw[q] > ' ' && raw[q] < 0x7F && raw[q] != ':')
            q++;
        bool keep = !(q > i && q < line_end && raw[q] == ':');
        for (size_t w = 0; !keep && w < sizeof wanted / sizeof wanted[0]; w++)
            keep = strlen(wanted[w]) == q - i && g_ascii_strncasecmp(wanted[w], raw + i, q - i) == 0;
        if (keep) {
            memcpy(out + k, raw + i, field_end - i);
            k += field_end - i;
        }
        i = field_end;
    }
    if (k == 0) { /* no field kept: GMime judges the mail as it is (no From, or not a mail) */
        memcpy(out, raw, len);
        *out_len = len;
        return out;
    }
    if (out[k - 1] != '\n')
        out[k++] = '\n'; /* a last field without a line break */
    out[k++] = '\n';
    out[k] = '\0';
    *out_len = k;
    return out;
}

int sg_event_from_rfc822(const char *raw, size_t len, const char *tenant, struct sg_event **out,
                         char **errmsg)
{
    *out = NULL;
    if (errmsg)
        *errmsg = NULL;
    if (!tenant || !*tenant || strlen(tenant) > SG_EVENT_MAX_ID)
        return fail(errmsg, "tenant: must be 1 to %d bytes", SG_EVENT_MAX_ID);
    if (len > SG_EVENT_MAX_BYTES) {
        fail(errmsg, "raw: larger than %u bytes (%zu)", SG_EVENT_MAX_BYTES, len);
        return SG_ETOOBIG;
    }
    sg__mime_init();
    char *head = NULL;
    size_t head_len = 0;
    if (!(head = header_subset(raw, len, &head_len)))
        return SG_ENOMEM;
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(head, head_len);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    g_object_unref(stream);
    sg__free(head);
    if (!msg)
        return fail(errmsg, "raw: not an RFC 822 message");
    int rc = 0;
    struct addrs from = {0}, to = {0};
    collect(g_mime_message_get_from(msg), &from, 0);
    collect(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO), &to, 0);
    collect(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_CC), &to, 0);
    collect(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_BCC), &to, 0);
    /* Mail that names nobody in To/Cc/Bcc (a list's copy, a Bcc'd campaign) is still a message
     * to judge: the delivery headers say whom it reached, else one placeholder stands for the
     * undisclosed recipients. Likewise a From-less mail is judged as from its Sender or its
     * Return-Path. The milter passes the envelope instead. */
    static const char *const delivered[] = {"Delivered-To", "X-Original-To", "Envelope-To",
                                            "X-Envelope-To"};
    InternetAddressList *parsed[8] = {0};
    unsigned nparsed = 0;
    for (unsigned i = 0; i < sizeof delivered / sizeof *delivered && to.n == 0; i++)
        if ((parsed[nparsed] = header_addresses(msg, delivered[i])))
            collect(parsed[nparsed++], &to, 0);
    if (to.n == 0)
        add_fixed(&to, SG_RFC822_UNDISCLOSED);
    if (from.n == 0)
        collect(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_SENDER), &from, 0);
    if (from.n == 0 && (parsed[nparsed] = header_addresses(msg, "Return-Path")))
        collect(parsed[nparsed++], &from, 0);
    if (from.n == 0)
        add_fixed(&from, SG_RFC822_UNKNOWN_SENDER);
    GMimeHeaderList *headers = g_mime_object_get_header_list(GMIME_OBJECT(msg));
    const char *message_id = g_mime_message_get_message_id(msg);
    char id[SG_EVENT_MAX_ID + 1];
    if (message_id && *message_id && strlen(message_id) <= SG_EVENT_MAX_ID)
        snprintf(id, sizeof id, "%s", message_id);
    else
        snprintf(id, sizeof id, "sha-%016llx", (unsigned long long)sg__hash(raw, len, 0x53474d41ULL));
    struct sg_event *ev = NULL;
    if (!headers || g_mime_header_list_get_count(headers) == 0) {
        rc = fail(errmsg, "raw: no header fields (not an RFC 822 message)");
    } else if (from.n == 0 || to.n == 0) {
        rc = SG_ENOMEM;
    } else if (to.n > SG_EVENT_MAX_RECIPIENTS) {
        fail(errmsg, "raw: more than %d recipients", SG_EVENT_MAX_RECIPIENTS);
        rc = SG_ETOOBIG;
    } else if (!(ev = sg__calloc(1, sizeof *ev)) ||
               !(ev->strings_cap = strlen(tenant) + strlen(id) + from.bytes + to.bytes + len + 8,
                 ev->strings = sg__malloc(ev->strings_cap)) ||
               !(ev->recipients = sg__malloc(to.n * sizeof *ev->recipients))) {
        rc = SG_ENOMEM;
    } else {
        ev->type = SG_EV_MESSAGE;
        ev->channel = SG_CH_EMAIL;
        ev->verified = -1;
        ev->tenant = put(ev, tenant);
        ev->id = put(ev, id);
        ev->sender = put(ev, from.v[0]);
        for (size_t i = 0; i < to.n; i++)
            ev->recipients[i] = put(ev, to.v[i]);
        ev->nrecipients = to.n;
        char *copy = ev->strings + ev->strings_used; /* raw may hold NULs: copy by length */
        memcpy(copy, raw, len);
        copy[len] = '\0';
        ev->strings_used += len + 1;
        ev->raw = copy;
        ev->raw_len = len;
    }
    sg__free(from.v);
    sg__free(to.v);
    for (unsigned i = 0; i < nparsed; i++)
        g_object_unref(parsed[i]);
    g_object_unref(msg);
    if (rc) {
        sg_event_free(ev);
        return rc;
    }
    *out = ev;
    return 0;
}
