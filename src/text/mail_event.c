/* sg_event_from_rfc822: a message event from a raw mail, so a door that holds mail rather than a
 * platform's JSON (`sendguard check` on .eml files, later the milter) judges it like any other
 * message. The addresses come from GMime's address parser; the body is left to the content
 * checks, which parse `raw` themselves.
 *
 * Two readings of the header block give the same event. A well-formed block (every line a
 * "name:" field or its continuation, up to the empty line) is read field by field here, and
 * only the address fields' values are handed to GMime: building a GMimeMessage for a few fields
 * cost a mail about 200 K instructions, most of a check's parsing. Any other block (a mbox
 * "From " line, a line that is not a field, NULs) goes to GMime's message parser, which decides
 * where such headers end; fuzz_mailevent compares the two. */
#include <gmime/gmime.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "engine/event.h"
#include "engine/policy.h"
#include "text/mail_event.h"
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

/* What a reading of the header block gives: the addresses, pointing into the GMime objects in
 * owners (unreffed by heads_clear), and the Message-ID ("" when there is none to use). */
enum { MAX_OWNERS = 40 };
struct heads {
    struct addrs from, to;
    char id[SG_EVENT_MAX_ID + 1];
    gpointer owners[MAX_OWNERS];
    unsigned nowners;
};

static void heads_clear(struct heads *h)
{
    sg__free(h->from.v);
    sg__free(h->to.v);
    for (unsigned i = 0; i < h->nowners; i++)
        g_object_unref(h->owners[i]);
}

static void set_id(struct heads *h, const char *message_id)
{
    if (message_id && *message_id && strlen(message_id) <= SG_EVENT_MAX_ID)
        snprintf(h->id, sizeof h->id, "%s", message_id);
}

/* Mail that names nobody in To/Cc/Bcc (a list's copy, a Bcc'd campaign) is still a message to
 * judge: the delivery headers say whom it reached, else one placeholder stands for the
 * undisclosed recipients. Likewise a From-less mail is judged as from its Sender or its
 * Return-Path. The milter passes the envelope instead. */
static const char *const delivered[] = {"Delivered-To", "X-Original-To", "Envelope-To",
                                        "X-Envelope-To"};

/* GMime's reading: a GMimeMessage of the header fields read here. 0, SG_ENOMEM or SG_EPARSE. */
static int read_with_parser(const char *raw, size_t len, struct heads *h, char **errmsg)
{
    size_t head_len = 0;
    char *head = header_subset(raw, len, &head_len);
    if (!head)
        return SG_ENOMEM;
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(head, head_len);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    g_object_unref(stream);
    sg__free(head);
    if (!msg)
        return fail(errmsg, "raw: not an RFC 822 message");
    h->owners[h->nowners++] = msg;
    GMimeHeaderList *headers = g_mime_object_get_header_list(GMIME_OBJECT(msg));
    if (!headers || g_mime_header_list_get_count(headers) == 0)
        return fail(errmsg, "raw: no header fields (not an RFC 822 message)");
    collect(g_mime_message_get_from(msg), &h->from, 0);
    collect(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO), &h->to, 0);
    collect(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_CC), &h->to, 0);
    collect(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_BCC), &h->to, 0);
    InternetAddressList *l;
    for (unsigned i = 0; i < sizeof delivered / sizeof *delivered && h->to.n == 0; i++)
        if ((l = header_addresses(msg, delivered[i]))) {
            h->owners[h->nowners++] = l;
            collect(l, &h->to, 0);
        }
    if (h->from.n == 0)
        collect(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_SENDER), &h->from, 0);
    if (h->from.n == 0 && (l = header_addresses(msg, "Return-Path"))) {
        h->owners[h->nowners++] = l;
        collect(l, &h->from, 0);
    }
    set_id(h, g_mime_message_get_message_id(msg));
    return 0;
}

/* The fields read here, in the order their addresses are taken. */
enum field_kind { F_FROM, F_TO, F_CC, F_BCC, F_DELIVERED, F_SENDER = F_DELIVERED + 4, F_RETURN_PATH,
                  F_MESSAGE_ID, F_KINDS };
/* With their lengths, so the lookup of every field of every mail compares no string whose
 * length differs (a strlen per name and field cost about 4.5K instructions a mail). */
#define FIELD_NAME(s) {s, sizeof s - 1}
static const struct {
    const char *s;
    size_t n;
} field_names[F_KINDS] = {
    FIELD_NAME("From"),        FIELD_NAME("To"),          FIELD_NAME("Cc"),
    FIELD_NAME("Bcc"),         FIELD_NAME("Delivered-To"), FIELD_NAME("X-Original-To"),
    FIELD_NAME("Envelope-To"), FIELD_NAME("X-Envelope-To"), FIELD_NAME("Sender"),
    FIELD_NAME("Return-Path"), FIELD_NAME("Message-ID")};
#undef FIELD_NAME

static int field_kind(const char *name, size_t n)
{
    for (int k = 0; k < F_KINDS; k++)
        if (field_names[k].n == n && g_ascii_strncasecmp(field_names[k].s, name, n) == 0)
            return k;
    return -1;
}

/* Parses count field values (values[i][0..lengths[i]), each up to its field's end) into h's
 * owners and collects their addresses into out; false when there are more lists than owners
 * can keep or a list does not parse as a whole. A value is given to the address parser as the message parser keeps it, ending in
 * its line break (one is added at the block's end): a broken value ("G: b@y;(") reads
 * differently without. */
static bool collect_kind(struct heads *h, char *const *values, const size_t *lengths,
                         unsigned count, struct addrs *out)
{
    for (unsigned i = 0; i < count; i++) {
        if (h->nowners == MAX_OWNERS)
            return false;
        size_t n = lengths[i], b = 0;
        while (b < n && (values[i][b] == ' ' || values[i][b] == '\t' || values[i][b] == '\r' ||
                         values[i][b] == '\n'))
            b++;
        if (b == n)
            continue; /* an empty "Cc:" names nobody */
        char *v = g_malloc(n + 2);
        memcpy(v, values[i], n);
        if (n == 0 || v[n - 1] != '\n')
            v[n++] = '\n';
        v[n] = '\0';
        InternetAddressList *l = internet_address_list_parse(NULL, v);
        g_free(v);
        if (!l)
            return false; /* the message parser keeps what it can of a broken list */
        h->owners[h->nowners++] = l;
        collect(l, out, 0);
    }
    return true;
}

enum { READ_DONE = 0, READ_ODD = 1 }; /* beside the negative SG_E codes */

/* The reading of a well-formed header block, field by field: READ_DONE, READ_ODD (leave the
 * block to GMime's parser, nothing kept in h) or SG_ENOMEM. A field read here must be
 * printable ASCII (non-ASCII words in RFC 2047 form): raw 8-bit text and control characters
 * are the parser's. Like the message parser, every
 * From, To, Cc, Bcc and Sender field counts in order, the first of each delivery field and
 * of Return-Path is a fallback, and the last Message-ID is the id. */
static int read_fields(const char *raw, size_t len, struct heads *h)
{
    enum { MAX_EACH = 8 };
    char *values[F_KINDS][MAX_EACH];
    size_t lengths[F_KINDS][MAX_EACH]; /* to the field's end, its line break included */
    unsigned counts[F_KINDS] = {0};
    size_t end = 0; /* the header block's length */
    while (end < len && raw[end] != '\n' && !(raw[end] == '\r' && end + 1 < len && raw[end + 1] == '\n')) {
        const char *nl = memchr(raw + end, '\n', len - end);
        end = nl ? (size_t)(nl - raw) + 1 : len;
    }
    if (end == 0 || memchr(raw, '\0', end))
        return READ_ODD;
    size_t start = 0; /* a mbox "From " line first (mail saved from a mailbox), which the
                       * parser skips like any line that is not a field */
    if (end > 5 && memcmp(raw, "From ", 5) == 0) {
        size_t p = 5;
        while (p < end && (raw[p] == ' ' || raw[p] == '\t'))
            p++;
        if (p == end || raw[p] <= ' ' || raw[p] >= 0x7F || raw[p] == ':')
            return READ_ODD; /* "From :" is a From field with white space before its colon */
        const char *nl = memchr(raw, '\n', end);
        start = nl ? (size_t)(nl - raw) + 1 : end;
    }
    char *copy = sg__malloc(end + 1); /* each field's value NUL-terminated in place */
    if (!copy)
        return SG_ENOMEM;
    memcpy(copy, raw, end);
    copy[end] = '\0';
    int rc = READ_DONE;
    unsigned wanted = 0; /* fields read here */
    for (size_t i = start; i < end && rc == READ_DONE;) {
        size_t q = i;
        while (q < end && copy[q] > ' ' && copy[q] < 0x7F && copy[q] != ':')
            q++;
        if (q == i || q == end || copy[q] != ':') {
            rc = READ_ODD; /* not a field: a continuation first, a mbox line, text */
            break;
        }
        size_t field_end = i; /* with its continuation lines */
        do {
            const char *nl = memchr(copy + field_end, '\n', end - field_end);
            field_end = nl ? (size_t)(nl - copy) + 1 : end;
        } while (field_end < end && (copy[field_end] == ' ' || copy[field_end] == '\t'));
        int k = field_kind(copy + i, q - i);
        if (k >= 0) {
            wanted++;
            if (k == F_MESSAGE_ID)
                counts[k] = 0; /* the last one counts */
            if (counts[k] == MAX_EACH) {
                rc = READ_ODD;
                break;
            }
            for (size_t b = q + 1; b < field_end && rc == READ_DONE; b++) {
                unsigned char c = (unsigned char)copy[b];
                if (c >= 0x80 || (c < ' ' && c != '\t' && c != '\n' &&
                                  !(c == '\r' && b + 1 < field_end && copy[b + 1] == '\n')))
                    rc = READ_ODD; /* 8-bit text, which the parser converts to UTF-8 first, or
                                    * control characters, which it reads its own way */
            }
            if (k == F_MESSAGE_ID) { /* unfolded, without white space after it, as the parser */
                size_t v_end = field_end;
                while (v_end > q + 1 && (copy[v_end - 1] == ' ' || copy[v_end - 1] == '\t' ||
                                         copy[v_end - 1] == '\r' || copy[v_end - 1] == '\n'))
                    v_end--;
                size_t w = q + 1; /* unfolded: the line breaks of its continuations out */
                for (size_t r = q + 1; r < v_end; r++)
                    if (copy[r] != '\r' && copy[r] != '\n')
                        copy[w++] = copy[r];
                copy[w] = '\0'; /* w < field_end, or the block's end */
            }
            values[k][counts[k]] = copy + q + 1;
            lengths[k][counts[k]++] = field_end - (q + 1);
        }
        i = field_end;
    }
    if (rc == READ_DONE && wanted == 0)
        rc = READ_ODD; /* no address or id: the parser says whether it is a message at all */
    if (rc == READ_DONE) {
        bool kept = collect_kind(h, values[F_FROM], lengths[F_FROM], counts[F_FROM], &h->from);
        for (int k = F_TO; k <= F_BCC; k++)
            kept = kept && collect_kind(h, values[k], lengths[k], counts[k], &h->to);
        for (int k = F_DELIVERED; k < F_SENDER && kept && h->to.n == 0; k++)
            kept = collect_kind(h, values[k], lengths[k], counts[k] ? 1 : 0, &h->to);
        if (kept && h->from.n == 0)
            kept = collect_kind(h, values[F_SENDER], lengths[F_SENDER], counts[F_SENDER], &h->from);
        if (kept && h->from.n == 0)
            kept = collect_kind(h, values[F_RETURN_PATH], lengths[F_RETURN_PATH],
                                counts[F_RETURN_PATH] ? 1 : 0, &h->from);
        if (kept && counts[F_MESSAGE_ID]) {
            char *id = g_mime_utils_decode_message_id(values[F_MESSAGE_ID][0]);
            set_id(h, id);
            g_free(id);
        }
        if (!kept) {
            heads_clear(h);
            memset(h, 0, sizeof *h);
            rc = READ_ODD;
        }
    }
    sg__free(copy);
    return rc;
}

int sg_event_from_rfc822(const char *raw, size_t len, const char *tenant, struct sg_event **out,
                         char **errmsg)
{
    return sg__event_from_rfc822_read(raw, len, tenant, SG__RFC822_ANY, out, errmsg);
}

int sg__event_from_rfc822_read(const char *raw, size_t len, const char *tenant, int reading,
                               struct sg_event **out, char **errmsg)
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
    struct heads h;
    memset(&h, 0, sizeof h);
    int rc = reading == SG__RFC822_PARSER ? READ_ODD : read_fields(raw, len, &h);
    if (rc == READ_ODD)
        rc = reading == SG__RFC822_FIELDS ? SG_ENOTFOUND : read_with_parser(raw, len, &h, errmsg);
    if (rc == 0) {
        if (h.to.n == 0)
            add_fixed(&h.to, SG_RFC822_UNDISCLOSED);
        if (h.from.n == 0)
            add_fixed(&h.from, SG_RFC822_UNKNOWN_SENDER);
        if (!h.id[0])
            snprintf(h.id, sizeof h.id, "sha-%016llx",
                     (unsigned long long)sg__hash(raw, len, 0x53474d41ULL));
    }
    struct sg_event *ev = NULL;
    if (rc) {
        /* said above */
    } else if (h.from.n == 0 || h.to.n == 0) {
        rc = SG_ENOMEM;
    } else if (h.to.n > SG_EVENT_MAX_RECIPIENTS) {
        fail(errmsg, "raw: more than %d recipients", SG_EVENT_MAX_RECIPIENTS);
        rc = SG_ETOOBIG;
    } else if (!(ev = sg__calloc(1, sizeof *ev)) ||
               !(ev->strings_cap = strlen(tenant) + strlen(h.id) + h.from.bytes + h.to.bytes + len + 8,
                 ev->strings = sg__malloc(ev->strings_cap)) ||
               !(ev->recipients = sg__malloc(h.to.n * sizeof *ev->recipients))) {
        rc = SG_ENOMEM;
    } else {
        ev->type = SG_EV_MESSAGE;
        ev->channel = SG_CH_EMAIL;
        ev->verified = -1;
        ev->tenant = put(ev, tenant);
        ev->id = put(ev, h.id);
        ev->sender = put(ev, h.from.v[0]);
        for (size_t i = 0; i < h.to.n; i++)
            ev->recipients[i] = put(ev, h.to.v[i]);
        ev->nrecipients = h.to.n;
        char *copy = ev->strings + ev->strings_used; /* raw may hold NULs: copy by length */
        memcpy(copy, raw, len);
        copy[len] = '\0';
        ev->strings_used += len + 1;
        ev->raw = copy;
        ev->raw_len = len;
    }
    heads_clear(&h);
    if (rc) {
        sg_event_free(ev);
        return rc;
    }
    *out = ev;
    return 0;
}
