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
#include "text/addr_spec.h"
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

/* The fields read here, in the order their addresses are taken. Mail that names nobody in
 * To/Cc/Bcc (a list's copy, a Bcc'd campaign) is still a message to judge: the delivery fields
 * (F_DELIVERED and the three after it) say whom it reached, else one placeholder stands for the
 * undisclosed recipients. Likewise a From-less mail is judged as from its Sender or its
 * Return-Path. The milter passes the envelope instead. */
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

/* Where the name of the line at raw[i] ends: at its ':' when the line is a well-formed
 * "name:" field, else at the first character a field name cannot hold. */
static size_t name_end(const char *raw, size_t len, size_t i)
{
    while (i < len && raw[i] > ' ' && raw[i] < 0x7F && raw[i] != ':')
        i++;
    return i;
}

/* The end of the field that starts at raw[i], past its line break and continuation lines. */
static size_t field_end(const char *raw, size_t len, size_t i)
{
    do {
        const char *nl = memchr(raw + i, '\n', len - i);
        i = nl ? (size_t)(nl - raw) + 1 : len;
    } while (i < len && (raw[i] == ' ' || raw[i] == '\t'));
    return i;
}

/* What GMime is given: the header block only, and of it only the fields read here (From, To,
 * Cc, Bcc, Message-ID and the fallbacks: field_names) and any line that is not a well-formed "name:" field (where GMime may
 * end the headers, so they stay in order), then the empty line. The body and the other fields
 * (twenty to a hundred Received, X-* and the like in real mail) are what a full parse spent
 * its time on; they cannot change the addresses. NULL when out of memory (free with sg__free). */
static char *header_subset(const char *raw, size_t len, size_t *out_len)
{
    char *out = sg__malloc(len + 3);
    if (!out)
        return NULL;
    size_t k = 0, i = 0;
    while (i < len) {
        if (raw[i] == '\n' || (raw[i] == '\r' && i + 1 < len && raw[i + 1] == '\n'))
            break; /* the empty line */
        size_t end = field_end(raw, len, i), q = name_end(raw, len, i);
        bool field = q > i && q < len && raw[q] == ':';
        if (!field || field_kind(raw + i, q - i) >= 0) {
            memcpy(out + k, raw + i, end - i);
            k += end - i;
        }
        i = end;
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
    char *copies[MAX_OWNERS]; /* the addresses of lists read by simple_list (sg__free) */
    unsigned ncopies;
};

static void heads_clear(struct heads *h)
{
    sg__free(h->from.v);
    sg__free(h->to.v);
    for (unsigned i = 0; i < h->nowners; i++)
        g_object_unref(h->owners[i]);
    for (unsigned i = 0; i < h->ncopies; i++)
        sg__free(h->copies[i]);
}

static void set_id(struct heads *h, const char *message_id)
{
    if (message_id && *message_id && strlen(message_id) <= SG_EVENT_MAX_ID)
        snprintf(h->id, sizeof h->id, "%s", message_id);
}

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
    for (int k = F_DELIVERED; k < F_SENDER && h->to.n == 0; k++)
        if ((l = header_addresses(msg, field_names[k].s))) {
            h->owners[h->nowners++] = l;
            collect(l, &h->to, 0);
        }
    if (h->from.n == 0)
        collect(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_SENDER), &h->from, 0);
    if (h->from.n == 0 && (l = header_addresses(msg, field_names[F_RETURN_PATH].s))) {
        h->owners[h->nowners++] = l;
        collect(l, &h->from, 0);
    }
    set_id(h, g_mime_message_get_message_id(msg));
    return 0;
}

/* ---- simple address lists, read without GMime ------------------------------------------- */

/* Most address fields are a few "addr@example.org" or "Some Name <addr@example.org>" items:
 * for those, GMime's address parser (an InternetAddressList of GObjects per field, torn down
 * again) cost a mail about 35 K instructions for addresses that are the text as written. A
 * value is read here only when it has none of what GMime reads its own way: quoted
 * pairs, comments, groups, routes, encoded words, escapes, 8-bit bytes, empty items, IDN labels;
 * anything else goes to GMime (collect_kind). fuzz_mailevent compares the result with
 * GMime's message parser. */

static bool simple_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Reads v[0..n) when it is a simple list (see above), collecting its addresses into out as
 * collect would, their copies in one buffer kept in h; false (nothing collected) when the
 * value is not one, which leaves it to GMime. */
static bool simple_list(struct heads *h, const char *v, size_t n, struct addrs *out)
{
    size_t starts[64], lens[64], count = 0;
    size_t i = 0;
    for (;;) {
        while (i < n && simple_ws(v[i]))
            i++;
        if (i == n || count == sizeof starts / sizeof *starts)
            return false; /* empty (or the last item empty after a comma), or long: GMime's */
        if (v[i] == '.')
            return false; /* GMime gives up on a display name that starts with a dot */
        size_t j = i; /* a display name, if the item has one: words and quoted strings */
        while (j < n) {
            if (sg__addr_atext[(unsigned char)v[j]] || v[j] == '.' || simple_ws(v[j])) {
                j++;
            } else if (v[j] == '"') { /* no escapes in it, nothing GMime would decode */
                size_t q = j + 1;
                while (q < n && v[q] != '"' && v[q] != '\\' && v[q] != '=' && v[q] != '?')
                    q++;
                if (q == n || v[q] != '"')
                    return false;
                j = q + 1;
            } else {
                break;
            }
        }
        size_t a, at;
        if (j < n && v[j] == '<') {
            at = j + 1;
            a = sg__addr_spec_len(v, n, at);
            if (a == 0 || at + a >= n || v[at + a] != '>')
                return false;
            i = at + a + 1;
        } else {
            at = i;
            a = sg__addr_spec_len(v, n, at);
            if (a == 0)
                return false;
            i = at + a;
        }
        starts[count] = at, lens[count] = a, count++;
        while (i < n && simple_ws(v[i]))
            i++;
        if (i == n)
            break;
        if (v[i] != ',')
            return false;
        i++;
    }
    size_t bytes = 0;
    for (size_t k = 0; k < count; k++)
        bytes += lens[k] + 1;
    char *buf = sg__malloc(bytes);
    if (!buf)
        return false; /* GMime then reads it, as before */
    h->copies[h->ncopies++] = buf;
    for (size_t k = 0; k < count && out->n <= SG_EVENT_MAX_RECIPIENTS; k++) {
        memcpy(buf, v + starts[k], lens[k]);
        buf[lens[k]] = '\0';
        if (lens[k] <= SG_EVENT_MAX_ID) {
            if (out->n == out->cap) {
                size_t cap = out->cap ? out->cap * 2 : 16;
                const char **grown = sg__realloc(out->v, cap * sizeof *grown);
                if (!grown)
                    return true; /* as collect: the addresses so far */
                out->v = grown;
                out->cap = cap;
            }
            out->v[out->n++] = buf;
            out->bytes += lens[k] + 1;
        }
        buf += lens[k] + 1;
    }
    return true;
}

/* Parses count field values (values[i][0..lengths[i]), each up to its field's end) into h's
 * owners and collects their addresses into out; false when there are more lists than owners
 * can keep or a list does not parse as a whole. A value is given to the address parser as the message parser keeps it, ending in
 * its line break (one is added at the block's end): a broken value ("G: b@y;(") reads
 * differently without. */
static bool collect_kind(struct heads *h, const char *const *values, const size_t *lengths,
                         unsigned count, struct addrs *out)
{
    for (unsigned i = 0; i < count; i++) {
        if (h->nowners + h->ncopies == MAX_OWNERS)
            return false; /* a list read by simple_list counts as one GMime would have made */
        size_t n = lengths[i], b = 0;
        while (b < n && (values[i][b] == ' ' || values[i][b] == '\t' || values[i][b] == '\r' ||
                         values[i][b] == '\n'))
            b++;
        if (b == n)
            continue; /* an empty "Cc:" names nobody */
        if (simple_list(h, values[i], n, out))
            continue;
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

/* The Message-ID value v[0..n) as the parser reads it: unfolded (the line breaks of its
 * continuations out), without the white space after it, then decoded. */
static void set_id_from_value(struct heads *h, const char *v, size_t n)
{
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
        n--;
    char *unfolded = g_malloc(n + 1);
    size_t w = 0;
    for (size_t r = 0; r < n; r++)
        if (v[r] != '\r' && v[r] != '\n')
            unfolded[w++] = v[r];
    unfolded[w] = '\0';
    char *id = g_mime_utils_decode_message_id(unfolded);
    set_id(h, id);
    g_free(id);
    g_free(unfolded);
}

/* Whether a field value holds only what the parser reads as it is: printable ASCII (non-ASCII
 * words in RFC 2047 form), tabs and line breaks. Raw 8-bit text the parser converts to UTF-8
 * first, and control characters it reads its own way. */
static bool plain_value(const char *v, size_t n)
{
    for (size_t b = 0; b < n; b++) {
        unsigned char c = (unsigned char)v[b];
        if (c >= 0x80 || (c < ' ' && c != '\t' && c != '\n' &&
                          !(c == '\r' && b + 1 < n && v[b + 1] == '\n')))
            return false;
    }
    return true;
}

/* The reading of a well-formed header block, field by field: READ_DONE, or READ_ODD (leave the
 * block to GMime's parser, nothing kept in h). A field read here must be a plain_value. Like the message parser, every From, To, Cc, Bcc and Sender field counts in
 * order, the first of each delivery field and of Return-Path is a fallback, and the last
 * Message-ID is the id. */
static int read_fields(const char *raw, size_t len, struct heads *h)
{
    enum { MAX_EACH = 8 };
    const char *values[F_KINDS][MAX_EACH];
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
    unsigned wanted = 0; /* fields read here */
    for (size_t i = start; i < end;) {
        size_t q = name_end(raw, end, i);
        if (q == i || q == end || raw[q] != ':')
            return READ_ODD; /* not a field: a continuation first, a mbox line, text */
        size_t fe = field_end(raw, end, i);
        int k = field_kind(raw + i, q - i);
        if (k >= 0) {
            wanted++;
            if (k == F_MESSAGE_ID)
                counts[k] = 0; /* the last one counts */
            if (counts[k] == MAX_EACH || !plain_value(raw + q + 1, fe - (q + 1)))
                return READ_ODD;
            values[k][counts[k]] = raw + q + 1;
            lengths[k][counts[k]++] = fe - (q + 1);
        }
        i = fe;
    }
    if (wanted == 0)
        return READ_ODD; /* no address or id: the parser says whether it is a message at all */
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
    /* A comment in the Message-ID (an unclosed one reads differently once unfolded) is the
     * parser's to read, as fuzz_mailevent found. */
    if (kept && counts[F_MESSAGE_ID] &&
        memchr(values[F_MESSAGE_ID][0], '(', lengths[F_MESSAGE_ID][0]))
        kept = false;
    if (!kept) {
        heads_clear(h);
        memset(h, 0, sizeof *h);
        return READ_ODD;
    }
    if (counts[F_MESSAGE_ID])
        set_id_from_value(h, values[F_MESSAGE_ID][0], lengths[F_MESSAGE_ID][0]);
    return READ_DONE;
}

/* The event of what h read, with its placeholders filled in: 0, SG_ENOMEM or SG_ETOOBIG. */
static int build_event(struct heads *h, const char *raw, size_t len, const char *tenant,
                       struct sg_event **out, char **errmsg)
{
    if (h->to.n == 0)
        add_fixed(&h->to, SG_RFC822_UNDISCLOSED);
    if (h->from.n == 0)
        add_fixed(&h->from, SG_RFC822_UNKNOWN_SENDER);
    if (!h->id[0])
        snprintf(h->id, sizeof h->id, "sha-%016llx",
                 (unsigned long long)sg__hash(raw, len, 0x53474d41ULL));
    if (h->from.n == 0 || h->to.n == 0)
        return SG_ENOMEM; /* a placeholder could not be added */
    if (h->to.n > SG_EVENT_MAX_RECIPIENTS) {
        fail(errmsg, "raw: more than %d recipients", SG_EVENT_MAX_RECIPIENTS);
        return SG_ETOOBIG;
    }
    struct sg_event *ev = sg__calloc(1, sizeof *ev);
    if (!ev)
        return SG_ENOMEM;
    ev->strings_cap = strlen(tenant) + strlen(h->id) + h->from.bytes + h->to.bytes + len + 8;
    ev->strings = sg__malloc(ev->strings_cap);
    ev->recipients = sg__malloc(h->to.n * sizeof *ev->recipients);
    if (!ev->strings || !ev->recipients) {
        sg_event_free(ev);
        return SG_ENOMEM;
    }
    ev->type = SG_EV_MESSAGE;
    ev->channel = SG_CH_EMAIL;
    ev->verified = -1;
    ev->tenant = put(ev, tenant);
    ev->id = put(ev, h->id);
    ev->sender = put(ev, h->from.v[0]);
    for (size_t i = 0; i < h->to.n; i++)
        ev->recipients[i] = put(ev, h->to.v[i]);
    ev->nrecipients = h->to.n;
    char *copy = ev->strings + ev->strings_used; /* raw may hold NULs: copy by length */
    memcpy(copy, raw, len);
    copy[len] = '\0';
    ev->strings_used += len + 1;
    ev->raw = copy;
    ev->raw_len = len;
    *out = ev;
    return 0;
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
    if (rc == 0)
        rc = build_event(&h, raw, len, tenant, out, errmsg);
    heads_clear(&h);
    return rc;
}
