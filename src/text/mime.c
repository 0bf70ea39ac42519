/* MIME reading with GMime 3; see mime.h. GMime owns the parse (objects are freed before
 * returning); everything handed back is copied into the arena. Charsets are converted here, not
 * by GMime, so that undeclared and mislabelled 8-bit text is read the way browsers read it. */
#include "text/mime.h"

#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <gmime/gmime.h>

#include "sendguard.h"
#include "text/addr_spec.h"
#include "text/normalize.h"
#include "util/arena.h"

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void measure_kept(void);

static void init_gmime(void)
{
    g_mime_init();
    measure_kept();
}

void sg__mime_init(void) { pthread_once(&gmime_once, init_gmime); }

/* ---- charsets ------------------------------------------------------------------------------ */

/* windows-1252 0x80..0x9F (the rest of the range is Latin-1); undefined bytes map to the C1
 * control of the same value, as the WHATWG encoding standard does. */
static const uint16_t cp1252_high[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

static bool label_is(const char *cs, const char *const *names)
{
    for (; *names; names++)
        if (g_ascii_strcasecmp(cs, *names) == 0)
            return true;
    return false;
}

static const char *const utf8_labels[] = {"utf-8", "utf8", "unicode-1-1-utf-8", NULL};
static const char *const cp1252_labels[] = {
    "iso-8859-1", "iso8859-1", "latin1", "l1", "iso_8859-1", "iso-ir-100", "ibm819", "cp819",
    "windows-1252", "cp1252", "x-cp1252", "us-ascii", "ascii", "ansi_x3.4-1968", "iso-8859-15x",
    NULL};

/* A growable output in the arena. */
struct obuf {
    struct sg_arena *a;
    char *p;
    size_t len, cap, max;
    bool cut, failed;
};

static bool ob_reserve(struct obuf *o, size_t n)
{
    if (o->failed)
        return false;
    if (o->len + n <= o->cap)
        return true;
    size_t cap = o->cap ? o->cap * 2 : 256;
    while (cap < o->len + n)
        cap *= 2;
    char *p = sg__arena_alloc(o->a, cap + 1);
    if (!p) {
        o->failed = true;
        return false;
    }
    if (o->len)
        memcpy(p, o->p, o->len);
    o->p = p;
    o->cap = cap;
    return true;
}

static void ob_cp(struct obuf *o, uint32_t c)
{
    char b[4];
    size_t n;
    if (c < 0x80) {
        b[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        b[0] = (char)(0xC0 | c >> 6);
        b[1] = (char)(0x80 | (c & 0x3F));
        n = 2;
    } else {
        b[0] = (char)(0xE0 | c >> 12);
        b[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        b[2] = (char)(0x80 | (c & 0x3F));
        n = 3;
    }
    if (ob_reserve(o, n)) {
        memcpy(o->p + o->len, b, n);
        o->len += n;
    }
}

static void decode_cp1252(struct obuf *o, const unsigned char *s, size_t n)
{
    /* three bytes at most per input byte: reserved once, written without further checks */
    if (!ob_reserve(o, 3 * n))
        return;
    char *d = o->p + o->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = s[i];
        if (b < 0x80) {
            *d++ = (char)b;
            continue;
        }
        uint32_t c = b < 0xA0 ? cp1252_high[b - 0x80] : b;
        if (c < 0x800) {
            *d++ = (char)(0xC0 | c >> 6);
            *d++ = (char)(0x80 | (c & 0x3F));
        } else {
            *d++ = (char)(0xE0 | c >> 12);
            *d++ = (char)(0x80 | ((c >> 6) & 0x3F));
            *d++ = (char)(0x80 | (c & 0x3F));
        }
    }
    o->len = (size_t)(d - o->p);
}

/* iconv from charset; false when iconv does not know it. A byte it cannot read becomes U+FFFD
 * and reading goes on after it. */
static bool decode_iconv(struct obuf *o, const char *charset, const char *s, size_t n)
{
    iconv_t cd = g_mime_iconv_open("UTF-8", charset);
    if (cd == (iconv_t)-1)
        return false;
    char *in = (char *)s, *out;
    size_t inleft = n, outleft;
    while (inleft > 0 && ob_reserve(o, inleft * 2 + 16)) {
        out = o->p + o->len;
        outleft = o->cap - o->len;
        size_t r = iconv(cd, &in, &inleft, &out, &outleft);
        o->len = (size_t)(out - o->p);
        if (r != (size_t)-1)
            break;
        if (errno == E2BIG) {
            ob_reserve(o, o->cap);
        } else if (errno == EILSEQ) {
            ob_cp(o, 0xFFFD);
            in++;
            inleft--;
        } else { /* EINVAL: a sequence cut off by the end */
            ob_cp(o, 0xFFFD);
            break;
        }
    }
    if (ob_reserve(o, 16)) { /* back to the initial shift state (ISO-2022-JP) */
        out = o->p + o->len;
        outleft = o->cap - o->len;
        iconv(cd, NULL, NULL, &out, &outleft);
        o->len = (size_t)(out - o->p);
    }
    g_mime_iconv_close(cd);
    return true;
}

char *sg__mime_to_utf8(struct sg_arena *a, const char *charset, const char *s, size_t n,
                       size_t max, size_t *out_len, bool *cut)
{
    struct obuf o = {.a = a};
    *cut = false;
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) { /* a UTF-8 byte-order mark */
        s += 3;
        n -= 3;
    }
    bool utf8 = sg__utf8_is_clean(s, n);
    const char *raw = NULL;
    size_t raw_len = 0;
    if (charset && label_is(charset, utf8_labels)) {
        raw = s; /* invalid sequences become U+FFFD below */
        raw_len = n;
    } else if (!charset || label_is(charset, cp1252_labels)) {
        if (utf8) { /* pure ASCII, or UTF-8 sent without (or with the wrong) label */
            raw = s;
            raw_len = n;
        } else {
            decode_cp1252(&o, (const unsigned char *)s, n);
        }
    } else if (!decode_iconv(&o, charset, s, n)) {
        if (utf8) {
            raw = s;
            raw_len = n;
        } else {
            decode_cp1252(&o, (const unsigned char *)s, n);
        }
    }
    if (o.failed)
        return NULL;
    if (!raw) {
        raw = o.p ? o.p : "";
        raw_len = o.len;
    }
    if (raw_len > max) {
        raw_len = max;
        while (raw_len > 0 && ((unsigned char)raw[raw_len] & 0xC0) == 0x80)
            raw_len--;
        *cut = true;
    }
    if (raw == o.p && !*cut && sg__utf8_is_clean(raw, raw_len)) {
        o.p[raw_len] = '\0'; /* converted output is ours already: no second copy */
        *out_len = raw_len;
        return o.p;
    }
    if (raw == s && utf8) { /* checked clean above (and cut at a character): a plain copy */
        char *d = sg__arena_alloc(a, raw_len + 1);
        if (!d)
            return NULL;
        memcpy(d, raw, raw_len);
        d[raw_len] = '\0';
        *out_len = raw_len;
        return d;
    }
    return sg__utf8_clean(a, raw, raw_len, out_len);
}

/* ---- the walk ------------------------------------------------------------------------------ */

struct walk {
    struct sg_arena *a;
    struct sg_mime *out;
    size_t text_left;
    int parts, groups;
    size_t ntexts_cap, natt_cap;
    bool failed;
};

static char *dup_clean_n(struct sg_arena *a, const char *s, size_t n, size_t max)
{
    size_t len;
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return sg__utf8_clean(a, s, n, &len);
}

static char *dup_clean(struct sg_arena *a, const char *s, size_t max)
{
    return s ? dup_clean_n(a, s, strlen(s), max) : NULL;
}

static bool grow_array(struct walk *w, void **v, size_t *cap, size_t n, size_t size)
{
    if (sg__arena_grow(w->a, v, cap, n, size, 8, SIZE_MAX / size))
        return true;
    w->failed = true;
    return false;
}

/* Base64 that GMime's lenient decoder would silently repair: foreign characters, data after
 * the padding, or a length that is not a multiple of four. Fed chunk by chunk. */
struct b64_check {
    size_t count;
    bool pad, bad;
};

/* What b64_feed makes of a byte: a table, because it looks at every byte of every base64 part. */
enum { B64_BAD, B64_CHAR, B64_SPACE, B64_PAD };
static const unsigned char b64_class[256] = {
    ['A' ... 'Z'] = B64_CHAR, ['a' ... 'z'] = B64_CHAR, ['0' ... '9'] = B64_CHAR,
    ['+'] = B64_CHAR,         ['/'] = B64_CHAR,         [' '] = B64_SPACE,
    ['\t'] = B64_SPACE,       ['\r'] = B64_SPACE,       ['\n'] = B64_SPACE,
    ['='] = B64_PAD,
};

static void b64_feed(struct b64_check *c, const char *buf, size_t n)
{
    const unsigned char *p = (const unsigned char *)buf;
    for (size_t i = 0; i < n && !c->bad; i++) {
        switch (b64_class[p[i]]) {
        case B64_SPACE:
            break;
        case B64_PAD:
            c->pad = true;
            c->count++;
            break;
        case B64_CHAR:
            if (c->pad) /* data after the padding */
                c->bad = true;
            c->count++;
            break;
        default:
            c->bad = true;
            c->count++;
            break;
        }
    }
}

struct content {
    char *data;      /* decoded bytes kept (text parts), in the arena */
    size_t len;
    int64_t size;    /* decoded size of the whole content */
    bool broken;     /* base64 needing repair */
    bool failed;     /* out of memory */
};

/* A part's encoded content: GMime's stream of it, or the bytes themselves when the part was read
 * without GMime's parser (see parse_leaf). */
struct source {
    GMimeStream *stream;
    const char *p;
    size_t len;
    GMimeContentEncoding enc;
};

/* The next chunk of src, at most n bytes: read into buf from a stream, else pointed at. */
static size_t source_next(struct source *src, char *buf, size_t n, const char **chunk)
{
    if (src->stream) {
        ssize_t r = g_mime_stream_read(src->stream, buf, n);
        *chunk = buf;
        return r > 0 ? (size_t)r : 0;
    }
    size_t k = src->len < n ? src->len : n;
    *chunk = src->p;
    if (k) { /* p is NULL for no content */
        src->p += k;
        src->len -= k;
    }
    return k;
}

/* Reads a part's content once: undoes its transfer encoding with GMime's step decoder (cheaper
 * than a filter stream per part), checks base64, counts the decoded size and keeps at most keep
 * decoded bytes. */
static void read_content(struct sg_arena *a, struct source *src, size_t keep, struct content *r)
{
    memset(r, 0, sizeof *r);
    GMimeStream *s = src->stream;
    GMimeContentEncoding enc = src->enc;
    bool decode = enc == GMIME_CONTENT_ENCODING_BASE64 ||
                  enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
                  enc == GMIME_CONTENT_ENCODING_UUENCODE;
    GMimeEncoding st;
    if (decode)
        g_mime_encoding_init_decode(&st, enc);
    struct b64_check chk = {0};
    struct obuf ob = {.a = a};
    gint64 enc_len = s ? g_mime_stream_length(s) : (gint64)src->len; /* decoding never grows */
    if (keep && enc_len > 0)
        ob_reserve(&ob, (size_t)enc_len < keep ? (size_t)enc_len + 16 : keep);
    char in[4096], out[8192]; /* a decoder step never writes more than 4 bytes per 3 read */
    if (s)
        g_mime_stream_reset(s);
    for (bool last = false; !last;) {
        const char *chunk;
        size_t n = source_next(src, in, sizeof in, &chunk);
        last = n == 0;
        if (enc == GMIME_CONTENT_ENCODING_BASE64)
            b64_feed(&chk, chunk, n);
        const char *o = chunk;
        size_t on = n;
        if (decode) {
            on = last ? g_mime_encoding_flush(&st, chunk, 0, out)
                      : g_mime_encoding_step(&st, chunk, n, out);
            o = out;
        }
        r->size += (int64_t)on;
        size_t take = ob.len < keep ? keep - ob.len : 0;
        if (take > on)
            take = on;
        if (take && ob_reserve(&ob, take)) {
            memcpy(ob.p + ob.len, o, take);
            ob.len += take;
        }
    }
    if (s)
        g_mime_stream_reset(s);
    r->data = ob.p;
    r->len = ob.len;
    r->failed = ob.failed;
    r->broken = enc == GMIME_CONTENT_ENCODING_BASE64 && (chk.bad || chk.count % 4 != 0);
}

static void add_attachment(struct walk *w, GMimeContentType *ct, const char *name, int64_t size)
{
    struct sg_mime *m = w->out;
    if (!grow_array(w, (void **)&m->attachments, &w->natt_cap, m->nattachments,
                    sizeof *m->attachments))
        return;
    struct sg_text_attachment *at = &m->attachments[m->nattachments++];
    /* no content type: a part without the field, which GMime reads as text/plain */
    char *type = ct ? g_mime_content_type_get_mime_type(ct) : g_strdup("text/plain");
    if (type)
        for (char *p = type; *p; p++)
            *p = g_ascii_tolower(*p);
    at->type = dup_clean(w->a, type, 255);
    at->name = dup_clean(w->a, name, 1024);
    at->size = size;
    g_free(type);
}

static void add_text(struct walk *w, GMimeContentType *ct, struct source *src, bool html,
                     int group)
{
    struct sg_mime *m = w->out;
    /* a decoded byte gives at least a quarter of an output byte (UTF-32 is the widest) */
    struct content c;
    read_content(w->a, src, w->text_left * 4 + 16, &c);
    if (c.failed) {
        w->failed = true;
        return;
    }
    m->broken |= c.broken;
    if (w->text_left == 0) {
        m->over_limit = true;
        return;
    }
    const char *charset = ct ? g_mime_content_type_get_parameter(ct, "charset") : NULL;
    size_t len;
    bool cut;
    char *text = sg__mime_to_utf8(w->a, charset, c.data ? c.data : "", c.len, w->text_left, &len,
                                  &cut);
    if (!text) {
        w->failed = true;
        return;
    }
    if (cut || (int64_t)c.len < c.size)
        m->over_limit = true;
    w->text_left -= len;
    if (!grow_array(w, (void **)&m->texts, &w->ntexts_cap, m->ntexts, sizeof *m->texts))
        return;
    m->texts[m->ntexts++] = (struct sg_mime_text){text, len, html, group};
}

static bool is_signature(const char *type)
{
    return g_ascii_strcasecmp(type, "application/pgp-signature") == 0 ||
           g_ascii_strcasecmp(type, "application/pkcs7-signature") == 0 ||
           g_ascii_strcasecmp(type, "application/x-pkcs7-signature") == 0;
}

/* A leaf part: a text part's decoded text, or an attachment with its decoded size (src NULL:
 * no content at all). ct NULL reads as text/plain. */
static void read_leaf(struct walk *w, GMimeContentType *ct, const char *name, bool attachment,
                      struct source *src, int group)
{
    const char *type = ct ? g_mime_content_type_get_media_type(ct) : "text";
    const char *sub = ct ? g_mime_content_type_get_media_subtype(ct) : "plain";
    struct source none = {0};
    if (!src)
        src = &none;
    bool text = type && g_ascii_strcasecmp(type, "text") == 0 && sub &&
                (g_ascii_strcasecmp(sub, "plain") == 0 || g_ascii_strcasecmp(sub, "html") == 0);
    if (text && !attachment && !name) {
        add_text(w, ct, src, g_ascii_strcasecmp(sub, "html") == 0, group);
        return;
    }
    char full[256];
    g_snprintf(full, sizeof full, "%s/%s", type ? type : "", sub ? sub : "");
    if (is_signature(full))
        return;
    struct content c;
    read_content(w->a, src, 0, &c);
    w->out->broken |= c.broken;
    add_attachment(w, ct, name, c.size);
}

static void walk(struct walk *w, GMimeObject *obj, int depth, int group)
{
    if (!obj || w->failed)
        return;
    if (depth > SG_MIME_MAX_DEPTH || ++w->parts > SG_MIME_MAX_PARTS) {
        w->out->over_limit = true;
        return;
    }
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        const char *disp = g_mime_object_get_disposition(obj);
        if (disp && g_ascii_strcasecmp(disp, "attachment") == 0) {
            const char *name = g_mime_object_get_content_disposition_parameter(obj, "filename");
            if (!name && inner)
                name = g_mime_message_get_subject(inner);
            add_attachment(w, ct, name, -1);
        }
        if (inner)
            walk(w, g_mime_message_get_mime_part(inner), depth + 1, -1);
        return;
    }
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        const char *sub = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;
        int g = sub && g_ascii_strcasecmp(sub, "alternative") == 0 ? w->groups++ : group;
        int n = g_mime_multipart_get_count(mp);
        if (n == 0)
            w->out->broken = true;
        for (int i = 0; i < n && !w->failed; i++)
            walk(w, g_mime_multipart_get_part(mp, i), depth + 1, g);
        return;
    }
    if (!GMIME_IS_PART(obj))
        return;
    GMimePart *part = GMIME_PART(obj);
    GMimeDataWrapper *dw = g_mime_part_get_content(part);
    struct source src = {.stream = dw ? g_mime_data_wrapper_get_stream(dw) : NULL};
    if (src.stream)
        src.enc = g_mime_data_wrapper_get_encoding(dw);
    read_leaf(w, ct, g_mime_part_get_filename(part), g_mime_part_is_attachment(part),
              src.stream ? &src : NULL, group);
}

/* ---- headers ------------------------------------------------------------------------------- */

static const char *const kept_headers[] = {
    "From", "Reply-To", "Subject", "Return-Path", "Message-ID", "X-Mailer", "List-Unsubscribe",
    "Content-Type", "Received", "Authentication-Results", NULL};

/* strlen of each kept_headers entry, measured once by init_gmime before any parse. */
static size_t kept_lengths[sizeof kept_headers / sizeof *kept_headers], kept_longest;

static void measure_kept(void)
{
    for (size_t i = 0; kept_headers[i]; i++) {
        kept_lengths[i] = strlen(kept_headers[i]);
        if (kept_lengths[i] > kept_longest)
            kept_longest = kept_lengths[i];
    }
}

/* True when raw[0..n) has no 8-bit byte and no encoded word: its value is the raw text
 * unfolded, without GMime's decoder (the costliest step of a parse). */
static bool is_plain(const char *raw, size_t n)
{
    /* the bytes that may end plainness: 8-bit ones and the '=' of "=?" */
    static const bool stop[256] = {['='] = true, [0x80 ... 0xFF] = true};
    const unsigned char *p = (const unsigned char *)raw;
    for (size_t i = 0; i < n; i++)
        if (stop[p[i]] && (p[i] >= 0x80 || (i + 1 < n && p[i + 1] == '?')))
            return false;
    return true;
}

/* A plain value raw[0..n): trimmed and unfolded into the arena. */
static char *plain_value(struct sg_arena *a, const char *raw, size_t n)
{
    while (n && (*raw == ' ' || *raw == '\t' || *raw == '\r' || *raw == '\n'))
        raw++, n--;
    while (n && (raw[n - 1] == ' ' || raw[n - 1] == '\t' || raw[n - 1] == '\r' || raw[n - 1] == '\n'))
        n--;
    if (n > SG_MIME_MAX_HEADER_VALUE)
        n = SG_MIME_MAX_HEADER_VALUE;
    char *v = sg__arena_alloc(a, n + 1);
    if (!v)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (raw[i] != '\r' && raw[i] != '\n') /* a fold keeps the whitespace after it */
            v[k++] = raw[i];
    v[k] = '\0';
    return v;
}

/* A header's value, unfolded and RFC 2047-decoded. */
static char *header_value(struct sg_arena *a, GMimeHeader *h)
{
    const char *raw = g_mime_header_get_raw_value(h);
    if (raw && is_plain(raw, strlen(raw)))
        return plain_value(a, raw, strlen(raw));
    const char *value = g_mime_header_get_value(h);
    return dup_clean(a, value ? value : "", SG_MIME_MAX_HEADER_VALUE);
}

/* A kept field read by filter_headers from the raw text instead of GMime: its name (a
 * kept_headers entry), value, and its offset in the text GMime parses, to merge it in order
 * with the fields GMime read. */
struct own_field {
    const char *name;
    char *value;
    size_t pos;
};

/* Room for the own fields: more could never be among the first SG_MIME_MAX_HEADERS kept. */
enum { MAX_OWN_FIELDS = SG_MIME_MAX_HEADERS + 3 };

struct own_fields {
    struct own_field v[MAX_OWN_FIELDS];
    size_t n;
};

static bool add_header(struct walk *w, const char *name, char *value, int *received)
{
    struct sg_mime *m = w->out;
    if (strcmp(name, "Received") == 0 && ++*received > 3)
        return true;
    if (!m->headers) {
        m->headers = sg__arena_alloc(w->a, SG_MIME_MAX_HEADERS * sizeof *m->headers);
        if (!m->headers) {
            w->failed = true;
            return false;
        }
    }
    m->headers[m->nheaders++] = (struct sg_text_header){name, value};
    return true;
}

/* The kept headers of obj's header list, in message order with the own fields (NULL for a
 * body part). GMime files the message's Content-* headers under its body part, so both lists
 * are read. */
static void read_headers(struct walk *w, GMimeObject *obj, const struct own_fields *own)
{
    struct sg_mime *m = w->out;
    GMimeHeaderList *hl = obj ? g_mime_object_get_header_list(obj) : NULL;
    int n = hl ? g_mime_header_list_get_count(hl) : 0, received = 0;
    size_t j = 0, nown = own ? own->n : 0;
    for (int i = 0; i <= n && m->nheaders < SG_MIME_MAX_HEADERS && !w->failed; i++) {
        GMimeHeader *h = i < n ? g_mime_header_list_get_header_at(hl, i) : NULL;
        gint64 off = h ? g_mime_header_get_offset(h) : INT64_MAX;
        while (j < nown && (gint64)own->v[j].pos <= off && m->nheaders < SG_MIME_MAX_HEADERS) {
            if (!add_header(w, own->v[j].name, own->v[j].value, &received))
                return;
            j++;
        }
        if (!h || m->nheaders == SG_MIME_MAX_HEADERS)
            break;
        const char *name = g_mime_header_get_name(h);
        const char *const *k = kept_headers;
        while (*k && g_ascii_strcasecmp(*k, name) != 0)
            k++;
        if (!*k || (strcmp(*k, "Received") == 0 && received >= 3)) {
            if (*k)
                received++;
            continue;
        }
        char *v = header_value(w->a, h);
        if (!v) {
            w->failed = true;
            return;
        }
        if (!add_header(w, *k, v, &received))
            return;
    }
}

/* The first mailbox of an address list (looking into groups). */
static InternetAddressMailbox *first_mailbox(InternetAddressList *list, int depth)
{
    int n = list ? internet_address_list_length(list) : 0;
    for (int i = 0; i < n; i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia))
            return INTERNET_ADDRESS_MAILBOX(ia);
        if (INTERNET_ADDRESS_IS_GROUP(ia) && depth < 2) {
            InternetAddressMailbox *mb = first_mailbox(
                internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), depth + 1);
            if (mb)
                return mb;
        }
    }
    return NULL;
}

/* The sender fields from the address lists of From and Reply-To and the decoded Subject. */
static void put_senders(struct walk *w, InternetAddressList *from_list,
                        InternetAddressList *reply_list, const char *subject)
{
    struct sg_mime *m = w->out;
    InternetAddressMailbox *from = first_mailbox(from_list, 0);
    if (from) {
        const char *name = internet_address_get_name(INTERNET_ADDRESS(from));
        if (name && *name)
            m->from_name = dup_clean(w->a, name, 1024);
        m->from_addr = dup_clean(w->a, internet_address_mailbox_get_addr(from), 1024);
    }
    InternetAddressMailbox *rt = first_mailbox(reply_list, 0);
    if (rt)
        m->reply_to = dup_clean(w->a, internet_address_mailbox_get_addr(rt), 1024);
    if (subject)
        m->subject = dup_clean(w->a, subject, 4096);
}

/* ---- a simple sender field, read without GMime's address parser ------------------------ */

/* From and Reply-To are nearly always one "addr@example.org", "Some Name <addr@example.org>"
 * or "\"Some Name\" <addr@example.org>": for those GMime's address parser builds a list of
 * GObjects only for put_senders to copy two strings out of it and tear it down, about 20 K
 * instructions a mail. Only such a value, on one line, in printable ASCII, with no comment,
 * group, route, escape or encoded word, is read here, as GMime reads it: the display name
 * (the words as written, or the quoted text) without the white space around it, the address
 * as written. Anything else goes to GMime (parse_addresses); fuzz_mime compares the fast
 * path, and so this, with the reference reading. */
struct simple_mailbox {
    const char *name, *addr;
    size_t name_len, addr_len;
};

static bool mb_blank(char c) { return c == ' ' || c == '\t'; }

/* Reads v[0..n) (a raw field value, its line break included) into mb when it is one simple
 * mailbox; false leaves it to GMime. */
static bool simple_mailbox(const char *v, size_t n, struct simple_mailbox *mb)
{
    /* one line: only the field's own line break at the end */
    while (n && (v[n - 1] == '\n' || v[n - 1] == '\r'))
        n--;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < ' ' && v[i] != '\t')
            return false;
    size_t i = 0;
    while (i < n && mb_blank(v[i]))
        i++;
    while (n > i && mb_blank(v[n - 1]))
        n--;
    if (i == n)
        return false;
    *mb = (struct simple_mailbox){0};
    size_t a = sg__addr_spec_len(v, n, i);
    if (a && i + a == n) { /* the bare address */
        mb->addr = v + i, mb->addr_len = a;
        return true;
    }
    size_t lt;
    if (v[i] == '"') { /* a quoted name: printable, no escape, nothing to decode */
        size_t q = i + 1;
        while (q < n && v[q] != '"' && v[q] != '\\' && v[q] != '=' && v[q] != '?')
            q++;
        if (q == n || v[q] != '"')
            return false;
        size_t s = i + 1, e = q;
        while (s < e && mb_blank(v[s]))
            s++;
        while (e > s && mb_blank(v[e - 1]))
            e--;
        mb->name = v + s, mb->name_len = e - s;
        lt = q + 1;
        while (lt < n && mb_blank(v[lt]))
            lt++;
    } else { /* words: atext and dots, not starting with one (GMime gives up on that) */
        if (v[i] == '.')
            return false;
        lt = i;
        while (lt < n && (sg__addr_atext[(unsigned char)v[lt]] || v[lt] == '.' || mb_blank(v[lt])))
            lt++;
        size_t e = lt;
        while (e > i && mb_blank(v[e - 1]))
            e--;
        mb->name = v + i, mb->name_len = e - i;
    }
    if (lt >= n || v[lt] != '<')
        return false;
    a = sg__addr_spec_len(v, n, lt + 1);
    if (!a || lt + 1 + a + 1 != n || v[lt + 1 + a] != '>')
        return false;
    mb->addr = v + lt + 1, mb->addr_len = a;
    return true;
}

/* put_senders' work for the sender fields read by simple_mailbox (NULL: that field was not,
 * and put_senders did it from GMime's list, or there is no such field). */
static void put_simple_senders(struct walk *w, const struct simple_mailbox *from,
                               const struct simple_mailbox *reply)
{
    struct sg_mime *m = w->out;
    if (from) {
        if (from->name_len)
            m->from_name = dup_clean_n(w->a, from->name, from->name_len, 1024);
        m->from_addr = dup_clean_n(w->a, from->addr, from->addr_len, 1024);
    }
    if (reply)
        m->reply_to = dup_clean_n(w->a, reply->addr, reply->addr_len, 1024);
}

static void read_senders(struct walk *w, GMimeMessage *msg)
{
    put_senders(w, g_mime_message_get_from(msg), g_mime_message_get_reply_to(msg),
                g_mime_message_get_subject(msg));
}

/* An address field's raw value parsed as GMime's message parses it; false when GMime's parser
 * gives up on it (the message then keeps what it read before failing, which the public parser
 * does not return: the fast path is not taken). *list is NULL when there is no such field. */
static bool parse_addresses(GMimeParserOptions *opts, const char *v, size_t n,
                            InternetAddressList **list)
{
    *list = NULL;
    if (!v)
        return true;
    char *raw = g_strndup(v, n);
    *list = internet_address_list_parse(opts, raw);
    g_free(raw);
    return *list != NULL;
}

/* True when a message/rfc822 part is anywhere below obj (GMime parses them all, whatever the
 * walk's limits). */
static bool has_message_part(GMimeObject *obj)
{
    if (GMIME_IS_MESSAGE_PART(obj))
        return true;
    if (!GMIME_IS_MULTIPART(obj))
        return false;
    GMimeMultipart *mp = GMIME_MULTIPART(obj);
    int n = g_mime_multipart_get_count(mp);
    for (int i = 0; i < n; i++)
        if (has_message_part(g_mime_multipart_get_part(mp, i)))
            return true;
    return false;
}

/* ---- entry --------------------------------------------------------------------------------- */

static void on_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer ud)
{
    struct sg_mime *m = ud;
    switch (code) {
    case GMIME_WARN_MALFORMED_MULTIPART:
    case GMIME_WARN_TRUNCATED_MESSAGE:
    case GMIME_WARN_MALFORMED_MESSAGE:
    case GMIME_WARN_INVALID_CONTENT_TYPE:
    case GMIME_WARN_PART_WITHOUT_CONTENT:
    case GMIME_CRIT_INVALID_HEADER_NAME:
    case GMIME_CRIT_CONFLICTING_HEADER:
    case GMIME_CRIT_CONFLICTING_PARAMETER:
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
    case GMIME_CRIT_NESTING_OVERFLOW:
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
        m->broken = true;
        break;
    default: /* duplicated or 8-bit headers, bad encoded words: common in legitimate mail */
        break;
    }
}

/* A multipart whose closing boundary never comes: GMime reads to the end without a word. Each
 * check scans the message, so only the first MAX_CLOSE_CHECKS multiparts are checked. */
enum { MAX_CLOSE_CHECKS = 16 };

static bool missing_close(GMimeObject *obj, const char *raw, size_t len, int depth, int *checks)
{
    if (!obj || depth > SG_MIME_MAX_DEPTH || *checks >= MAX_CLOSE_CHECKS)
        return false;
    if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        return inner &&
               missing_close(g_mime_message_get_mime_part(inner), raw, len, depth + 1, checks);
    }
    if (!GMIME_IS_MULTIPART(obj))
        return false;
    GMimeMultipart *mp = GMIME_MULTIPART(obj);
    const char *b = g_mime_multipart_get_boundary(mp);
    if (b) {
        ++*checks;
        char close[128];
        int n = g_snprintf(close, sizeof close, "--%s--", b);
        if (n > 0 && (size_t)n < sizeof close && !memmem(raw, len, close, (size_t)n))
            return true;
    }
    int count = g_mime_multipart_get_count(mp);
    for (int i = 0; i < count && i < SG_MIME_MAX_PARTS; i++)
        if (missing_close(g_mime_multipart_get_part(mp, i), raw, len, depth + 1, checks))
            return true;
    return false;
}

/* ---- top-level header filter --------------------------------------------------------------- */

/* GMime makes a GObject per header, decodes every value (to report bad encoded words to the
 * warning callback), parses To/Cc address lists and the Date, and tears it all down again: on
 * mail with twenty Received lines that was most of the parse. So the top-level fields are
 * sorted before GMime sees them:
 * - given to GMime: Content-* and MIME-Version (structure), From, Reply-To and Subject
 *   (read_senders uses GMime's address parser and decoder), any line that is not a well-formed
 *   "name:" field (so that GMime still sees and flags it), and a kept field whose value is not
 *   plain (GMime decodes it, as before);
 * - read here: the other kept fields with a plain value (Received, Return-Path, Message-ID...),
 *   exactly as header_value would read them from GMime; only the first three Received;
 * - dropped: everything else. GMime's one check on those, a repeated RFC 5322 single field
 *   (To, Cc, Date...) whose raw value differs (GMIME_CRIT_CONFLICTING_HEADER, read as
 *   broken), is made here. */

/* The kept_headers entry named name[0..n), or NULL. Every field of every mail asks, so the
 * entries' lengths are measured once (kept_lengths: a strlen per entry and field cost about
 * 1.5 K instructions a mail), and a name longer than any entry is not compared at all. */
static const char *kept_name(const char *name, size_t n)
{
    if (n > kept_longest)
        return NULL;
    for (size_t i = 0; kept_headers[i]; i++) {
        const char *k = kept_headers[i];
        if (kept_lengths[i] == n && ((*k ^ *name) & ~0x20) == 0 &&
            g_ascii_strncasecmp(k, name, n) == 0)
            return k;
    }
    return NULL;
}

static bool for_gmime(const char *name, size_t n, const char *kept)
{
    if (n >= 8 && g_ascii_strncasecmp(name, "Content-", 8) == 0)
        return true;
    if (n == 12 && g_ascii_strncasecmp(name, "MIME-Version", 12) == 0)
        return true;
    return kept && (strcmp(kept, "From") == 0 || strcmp(kept, "Reply-To") == 0 ||
                    strcmp(kept, "Subject") == 0);
}

/* What the fast path (see parse_fast) needs from the top-level fields besides own: the raw
 * value of From, Reply-To and the last Subject (the one GMime's message keeps), and whether the
 * block could be read that way at all. */
enum { LAST_FROM, LAST_REPLY_TO, LAST_SUBJECT, NLAST };

struct fast_fields {
    GMimeParserOptions *opts; /* for decoding the values that are not plain */
    struct {
        const char *v;
        size_t n;
    } last[NLAST], first[NLAST + 1]; /* first[NLAST]: the first Message-ID that is not plain */
    const char *subject;             /* the last Subject read by plain_value, whole; or NULL */
    bool ok;                         /* every field well-formed, ended by an empty line */
};

/* A value that is not plain, read as GMime's g_mime_header_get_value reads it (unfolded, then
 * RFC 2047-decoded with the parse's options), into the arena. */
static char *decoded_value(struct sg_arena *a, GMimeParserOptions *opts, const char *v, size_t n)
{
    char *raw = g_strndup(v, n);
    char *unfolded = g_mime_utils_header_unfold(raw);
    char *text = g_mime_utils_header_decode_text(opts, unfolded);
    char *r = dup_clean(a, text ? text : "", SG_MIME_MAX_HEADER_VALUE);
    g_free(text);
    g_free(unfolded);
    g_free(raw);
    return r;
}

/* GMime's check of a repeated RFC 5322 single field on the fields it is given: a conflict when
 * the raw value (up to a NUL) differs from the first one's. */
static void check_repeat(struct fast_fields *f, int i, const char *v, size_t n, bool *conflict)
{
    if (!f->first[i].v)
        f->first[i].v = v, f->first[i].n = n;
    else if (f->first[i].n != n || memcmp(f->first[i].v, v, n) != 0)
        *conflict = true;
}

/* raw[0..len) with the top-level fields read here or dropped taken out, in the arena; raw
 * itself when nothing is taken out (or out of memory: the unfiltered parse gives the same
 * result, only slower). Fields read here go to own; *conflict is set when a dropped single
 * field repeats with another value.
 * With fast set, only the Content-* fields are left for GMime (g_mime_parser_construct_part)
 * and every kept field is read here, GMime's decoder doing those that are not plain; NULL when
 * a field is not well-formed, the block has no empty line after it or own is full (the fast
 * path is not taken: see sg__mime_parse). */
static const char *filter_headers(struct sg_arena *a, const char *raw, size_t *len,
                                  struct own_fields *own, bool *conflict, struct fast_fields *fast)
{
    /* the RFC 5322 single fields GMime checks that are dropped */
    /* with their lengths: every dropped field of every mail is compared with them */
#define SINGLE(s) {s, sizeof s - 1}
    static const struct {
        const char *s;
        size_t n;
    } single[] = {SINGLE("Bcc"),        SINGLE("Cc"),     SINGLE("Date"), SINGLE("In-Reply-To"),
                  SINGLE("References"), SINGLE("Sender"), SINGLE("To")};
#undef SINGLE
    struct {
        const char *v;
        size_t n;
    } first[sizeof single / sizeof single[0]] = {{0}};
    const char *end = raw + *len, *p = raw;
    char *out = NULL;
    size_t k = 0;
    int received = 0;
    bool blank = false;
    own->n = 0;
    if (fast)
        fast->ok = false;
    while (p < end) {
        const char *line_end = memchr(p, '\n', (size_t)(end - p));
        line_end = line_end ? line_end + 1 : end;
        if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
            blank = true;
            break; /* the empty line: the body follows */
        }
        /* one field: this line and its continuation lines */
        const char *field_end = line_end;
        while (field_end < end && (*field_end == ' ' || *field_end == '\t')) {
            const char *nl = memchr(field_end, '\n', (size_t)(end - field_end));
            field_end = nl ? nl + 1 : end;
        }
        const char *q = p;
        while (q < line_end && *q > ' ' && *q < 0x7F && *q != ':')
            q++;
        size_t nn = (size_t)(q - p);
        bool well_formed = q > p && q < line_end && *q == ':';
        const char *kept = well_formed ? kept_name(p, nn) : NULL;
        /* the raw value, as GMime keeps it: after the colon, up to a NUL */
        const char *v = q + 1;
        size_t vn = well_formed ? (size_t)(field_end - v) : 0;
        const char *nul = vn ? memchr(v, '\0', vn) : NULL;
        if (nul)
            vn = (size_t)(nul - v);
        bool give = !well_formed || for_gmime(p, nn, kept);
        char *value = NULL;
        if (fast) {
            if (!well_formed)
                return NULL;
            give = nn >= 8 && g_ascii_strncasecmp(p, "Content-", 8) == 0;
            if (!give && kept) {
                bool plain = is_plain(v, vn);
                int last = strcmp(kept, "From") == 0       ? LAST_FROM
                           : strcmp(kept, "Reply-To") == 0 ? LAST_REPLY_TO
                           : strcmp(kept, "Subject") == 0  ? LAST_SUBJECT
                                                           : -1;
                if (last >= 0) {
                    /* How a message joins repeated address fields changed between GMime
                     * builds (the last one, or all of them in order): left to the message. */
                    if (last != LAST_SUBJECT && fast->last[last].v)
                        return NULL;
                    /* given to GMime before, so checked by it: repeated with another value */
                    check_repeat(fast, last, v, vn, conflict);
                    fast->last[last].v = v;
                    fast->last[last].n = vn;
                } else if (strcmp(kept, "Message-ID") == 0 && !plain) {
                    check_repeat(fast, NLAST, v, vn, conflict); /* only those were given */
                }
                if (strcmp(kept, "Received") == 0 && ++received > 3)
                    ; /* read_headers skips it: dropped */
                else if (own->n == MAX_OWN_FIELDS)
                    return NULL;
                else if (!(value = plain ? plain_value(a, v, vn)
                                         : decoded_value(a, fast->opts, v, vn)))
                    return NULL;
                /* A plain value is what GMime's unfolding and decoding would give (the
                 * reference reads plain header values that way too), unless plain_value cut it
                 * short before unfolding. */
                if (last == LAST_SUBJECT)
                    fast->subject = plain && vn <= SG_MIME_MAX_HEADER_VALUE ? value : NULL;
            }
        } else if (!give && kept) {
            if (strcmp(kept, "Received") == 0 && ++received > 3)
                ; /* read_headers skips it: dropped */
            else if (!is_plain(v, vn) || own->n == MAX_OWN_FIELDS)
                give = true;
            else if (!(value = plain_value(a, v, vn)))
                break; /* out of memory: unfiltered below */
        }
        if (!give && !kept) {
            for (size_t i = 0; i < sizeof single / sizeof single[0]; i++) {
                if (single[i].n != nn || g_ascii_strncasecmp(single[i].s, p, nn) != 0)
                    continue;
                const char *ve = v + vn; /* compared without the last line break */
                if (ve > v && ve[-1] == '\n')
                    ve--;
                if (ve > v && ve[-1] == '\r')
                    ve--;
                size_t cn = (size_t)(ve - v);
                if (!first[i].v)
                    first[i].v = v, first[i].n = cn;
                else if (first[i].n != cn || memcmp(first[i].v, v, cn) != 0)
                    *conflict = true;
                break;
            }
        }
        if (give) {
            if (out) {
                memcpy(out + k, p, (size_t)(field_end - p));
                k += (size_t)(field_end - p);
            }
        } else {
            if (!out) { /* the first field taken out: copy what was given so far */
                if (!(out = sg__arena_alloc(a, *len + 1)))
                    break;
                k = (size_t)(p - raw);
                memcpy(out, raw, k);
            }
            if (value)
                own->v[own->n++] = (struct own_field){kept, value, k};
        }
        p = field_end;
    }
    if (fast) {
        if (!blank)
            return NULL;
        fast->ok = true;
    }
    if (!out) {
        own->n = 0;
        return raw;
    }
    memcpy(out + k, p, (size_t)(end - p));
    k += (size_t)(end - p);
    *len = k;
    return out;
}

static GMimeParserOptions *new_options(struct sg_mime *out)
{
    GMimeParserOptions *opts = g_mime_parser_options_new();
    static const char *fallback[] = {"utf-8", "windows-1252", NULL};
    g_mime_parser_options_set_fallback_charsets(opts, fallback);
    g_mime_parser_options_set_warning_callback(opts, on_warning, out);
    return opts;
}

/* The walk and the checks after it, common to both paths; body is the top-level part. */
static void read_body(struct walk *w, GMimeObject *body, const char *raw, size_t len)
{
    struct sg_mime *out = w->out;
    if (!body)
        out->broken = true;
    walk(w, body, 0, -1);
    int checks = 0;
    if (!out->broken && missing_close(body, raw, len, 0, &checks))
        out->broken = true;
}

/* Only Content-Type from the top-level part: the rest of the kept names are message fields. */
static void read_body_headers(struct walk *w, GMimeObject *body)
{
    struct sg_mime *out = w->out;
    size_t before = out->nheaders;
    read_headers(w, body, NULL);
    size_t k = before;
    for (size_t i = before; i < out->nheaders; i++)
        if (strcmp(out->headers[i].name, "Content-Type") == 0)
            out->headers[k++] = out->headers[i];
    out->nheaders = k;
}

/* The last line of t[0..n) starts with "--". */
static bool ends_with_dash_line(const char *t, size_t n)
{
    size_t e = n && t[n - 1] == '\n' ? n - 1 : n, b = e;
    while (b && t[b - 1] != '\n')
        b--;
    return e - b >= 2 && t[b] == '-' && t[b + 1] == '-';
}

/* The reference reading: GMime builds the whole message (g_mime_parser_construct_message). */
static int parse_message(struct sg_arena *a, const char *raw, size_t len, struct sg_mime *out)
{
    memset(out, 0, sizeof *out);
    struct walk w = {.a = a, .out = out, .text_left = SG_MIME_MAX_TEXT};
    size_t flen = len;
    bool conflict = false;
    struct own_fields *own = sg__arena_alloc(a, sizeof *own);
    if (!own)
        return SG_ENOMEM;
    const char *filtered = filter_headers(a, raw, &flen, own, &conflict, NULL);
    if (conflict)
        out->broken = true;
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(filtered, flen);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    GMimeParserOptions *opts = new_options(out);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, opts);
    if (!msg) {
        out->broken = true;
    } else {
        GMimeObject *body = g_mime_message_get_mime_part(msg);
        read_headers(&w, GMIME_OBJECT(msg), own);
        if (body && !w.failed)
            read_body_headers(&w, body);
        if (!w.failed)
            read_senders(&w, msg);
        read_body(&w, body, raw, len);
        g_object_unref(msg);
    }
    g_mime_parser_options_free(opts);
    g_object_unref(parser);
    g_object_unref(stream);
    if (w.failed)
        return SG_ENOMEM;
    return out->over_limit ? SG_ETOOBIG : 0;
}

/* A field's value unfolded (plain_value) when it is plain and whole; else NULL. */
static char *plain_field(struct sg_arena *a, const char *v, size_t n)
{
    return n <= SG_MIME_MAX_HEADER_VALUE && is_plain(v, n) ? plain_value(a, v, n) : NULL;
}

/* The top-level part of text[0..len) (its fields are all Content-* ones, well-formed, ended by
 * an empty line: filter_headers made it so) read without GMime's parser when it is a single leaf
 * part: GMime's part object, data wrapper and substreams cost more than reading the part itself
 * (a third of a parse). The field values still go through GMime's own readers (content type,
 * disposition and their parameters, the transfer encoding's name) with the parse's options, so
 * its warnings are raised the same; the content is what the parser gives a top-level leaf (all
 * that follows the empty line) and is decoded as a part's stream is. Not taken (false, nothing
 * added to w) for a multipart or message/ part, a Content-* field that repeats (which GMime may
 * check), a value that is not plain (GMime reads the decoded value), a transfer encoding that is
 * not one plain token, or when GMime's readers report a structural problem (broken): GMime's
 * parser stays the reading of record for those. fuzz/fuzz_mime.c compares the result with the
 * whole-message reading. */
static bool parse_leaf(struct walk *w, GMimeParserOptions *opts, const char *text, size_t len)
{
    enum { F_TYPE, F_ENCODING, F_DISPOSITION, NFIELDS, MAX_CONTENT_FIELDS = 8 };
    static const char *const names[NFIELDS] = {"Content-Type", "Content-Transfer-Encoding",
                                               "Content-Disposition"};
    struct {
        const char *v;
        size_t n;
    } field[NFIELDS] = {{0}}, seen[MAX_CONTENT_FIELDS];
    size_t nseen = 0;
    const char *end = text + len, *p = text;
    while (p < end && *p != '\n' && !(*p == '\r' && p + 1 < end && p[1] == '\n')) {
        const char *field_end = memchr(p, '\n', (size_t)(end - p));
        field_end = field_end ? field_end + 1 : end;
        while (field_end < end && (*field_end == ' ' || *field_end == '\t')) {
            const char *nl = memchr(field_end, '\n', (size_t)(end - field_end));
            field_end = nl ? nl + 1 : end;
        }
        const char *colon = memchr(p, ':', (size_t)(field_end - p));
        size_t nn = (size_t)(colon - p);
        if (nseen == MAX_CONTENT_FIELDS)
            return false;
        for (size_t i = 0; i < nseen; i++)
            if (seen[i].n == nn && g_ascii_strncasecmp(seen[i].v, p, nn) == 0)
                return false;
        seen[nseen].v = p;
        seen[nseen++].n = nn;
        const char *v = colon + 1;
        size_t vn = (size_t)(field_end - v);
        const char *nul = memchr(v, '\0', vn); /* GMime keeps a value up to a NUL */
        if (nul)
            vn = (size_t)(nul - v);
        for (int i = 0; i < NFIELDS; i++)
            if (strlen(names[i]) == nn && g_ascii_strncasecmp(names[i], p, nn) == 0)
                field[i].v = v, field[i].n = vn;
        p = field_end;
    }
    p += *p == '\r' ? 2 : 1; /* the empty line */
    GMimeContentEncoding enc = GMIME_CONTENT_ENCODING_DEFAULT;
    if (field[F_ENCODING].v) {
        const char *v = field[F_ENCODING].v;
        size_t n = field[F_ENCODING].n;
        /* only folding whitespace: GMime does not read "base64\f" as base64 */
        while (n && (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n'))
            v++, n--;
        while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
            n--;
        char token[32];
        if (n >= sizeof token)
            return false;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)v[i] <= ' ' || (unsigned char)v[i] >= 0x7F || v[i] == '=')
                return false;
        memcpy(token, v, n);
        token[n] = '\0';
        enc = g_mime_content_encoding_from_string(token);
    }
    char *type_value = NULL, *disp_value = NULL;
    if ((field[F_TYPE].v && !(type_value = plain_field(w->a, field[F_TYPE].v, field[F_TYPE].n))) ||
        (field[F_DISPOSITION].v &&
         !(disp_value = plain_field(w->a, field[F_DISPOSITION].v, field[F_DISPOSITION].n))))
        return false;
    /* broken is cleared to see whether GMime's readers report anything, then restored */
    struct sg_mime *out = w->out;
    bool broken = out->broken;
    out->broken = false;
    GMimeContentType *ct = type_value ? g_mime_content_type_parse(opts, type_value) : NULL;
    GMimeContentDisposition *disp =
        disp_value ? g_mime_content_disposition_parse(opts, disp_value) : NULL;
    const char *type = ct ? g_mime_content_type_get_media_type(ct) : "text";
    bool taken = !out->broken && type && g_ascii_strcasecmp(type, "multipart") != 0 &&
                 g_ascii_strcasecmp(type, "message") != 0;
    out->broken = broken;
    if (taken) {
        /* read_body_headers: the part's Content-Type field, as header_value reads it */
        int received = 0;
        if (type_value && out->nheaders < SG_MIME_MAX_HEADERS)
            add_header(w, "Content-Type", type_value, &received);
        /* g_mime_part_get_filename and g_mime_part_is_attachment */
        const char *name = disp ? g_mime_content_disposition_get_parameter(disp, "filename") : NULL;
        if (!name && ct)
            name = g_mime_content_type_get_parameter(ct, "name");
        bool attachment = disp && g_mime_content_disposition_is_attachment(disp);
        struct source src = {.p = p, .len = (size_t)(end - p), .enc = enc};
        if (!w->failed) {
            w->parts++;
            read_leaf(w, ct, name, attachment, &src, -1);
        }
    }
    if (ct)
        g_object_unref(ct);
    if (disp)
        g_object_unref(disp);
    return taken;
}

/* The fast path. Building a GMimeMessage was half of GMime's cost: six address lists, a header
 * object per field, each field's value decoded once to validate it and the sender fields parsed
 * again, all torn down at the end, and none of it read but From, Reply-To and Subject. So GMime
 * is given only the Content-* fields and builds the top-level part alone
 * (g_mime_parser_construct_part); the kept fields are read as before (GMime's decoder for those
 * that are not plain) and the sender fields go through GMime's address parser and decoder, as
 * the message would have read them. The result is the reference's whenever
 * the two parses differ in nothing but the message object, which is when:
 * - every top-level field is well-formed and the block ends with an empty line: GMime's
 *   message parse treats a bad first line (a stray "From ") and a block cut off by the end
 *   differently from its part parse;
 * - no header block starts at the very end (the last line is not a "--" line) and there is no
 *   message/rfc822 part: a header block that finds no input at all leaves the parser in error,
 *   which only the message parse reports (GMIME_WARN_MALFORMED_MESSAGE, read as broken);
 * - From and Reply-To appear once each at most and GMime's address parser accepts them whole:
 *   on a list it gives up on, the message keeps the addresses read before the failure, the
 *   public parser none (and what a message makes of a repeated address field depends on the
 *   GMime build: Debian's joins them, upstream 3.2.13 keeps the last);
 * - the repeated single fields GMime would have checked (From, Reply-To, Subject, the
 *   Message-IDs it was given) are checked here, like the dropped ones.
 * Otherwise (rare) *rc is not set, false is returned and the reference reading is done. The
 * unit tests and fuzz/fuzz_mime.c compare the two readings. */
static bool parse_fast(struct sg_arena *a, const char *raw, size_t len, struct sg_mime *out,
                       int *rc)
{
    memset(out, 0, sizeof *out);
    struct own_fields *own = sg__arena_alloc(a, sizeof *own);
    if (!own)
        return false;
    GMimeParserOptions *opts = new_options(out);
    struct fast_fields f = {.opts = opts};
    size_t flen = len;
    bool conflict = false;
    const char *filtered = filter_headers(a, raw, &flen, own, &conflict, &f);
    InternetAddressList *from = NULL, *reply = NULL;
    struct simple_mailbox from_mb, reply_mb;
    const struct simple_mailbox *from_simple = NULL, *reply_simple = NULL;
    if (filtered && f.ok && f.last[LAST_FROM].v &&
        simple_mailbox(f.last[LAST_FROM].v, f.last[LAST_FROM].n, &from_mb))
        from_simple = &from_mb;
    if (filtered && f.ok && f.last[LAST_REPLY_TO].v &&
        simple_mailbox(f.last[LAST_REPLY_TO].v, f.last[LAST_REPLY_TO].n, &reply_mb))
        reply_simple = &reply_mb;
    if (!filtered || !f.ok || ends_with_dash_line(filtered, flen) ||
        (!from_simple &&
         !parse_addresses(opts, f.last[LAST_FROM].v, f.last[LAST_FROM].n, &from)) ||
        (!reply_simple &&
         !parse_addresses(opts, f.last[LAST_REPLY_TO].v, f.last[LAST_REPLY_TO].n, &reply))) {
        if (from)
            g_object_unref(from);
        g_mime_parser_options_free(opts);
        return false;
    }
    struct walk w = {.a = a, .out = out, .text_left = SG_MIME_MAX_TEXT};
    if (conflict)
        out->broken = true;
    read_headers(&w, NULL, own);
    bool leaf = !w.failed && parse_leaf(&w, opts, filtered, flen);
    GMimeStream *stream = NULL;
    GMimeParser *parser = NULL;
    GMimeObject *body = NULL;
    if (!leaf) {
        stream = g_mime_stream_mem_new_with_buffer(filtered, flen);
        parser = g_mime_parser_new_with_stream(stream);
        body = g_mime_parser_construct_part(parser, opts);
    }
    bool taken = leaf || (body && !has_message_part(body));
    if (taken) {
        if (body && !w.failed)
            read_body_headers(&w, body);
        if (!w.failed) {
            const char *subject = f.subject;
            char *decoded = NULL;
            if (!subject && f.last[LAST_SUBJECT].v) {
                char *rawv = g_strndup(f.last[LAST_SUBJECT].v, f.last[LAST_SUBJECT].n);
                char *unfolded = g_mime_utils_header_unfold(rawv);
                subject = decoded = g_mime_utils_header_decode_text(opts, unfolded);
                g_free(unfolded);
                g_free(rawv);
            }
            put_senders(&w, from, reply, subject);
            put_simple_senders(&w, from_simple, reply_simple);
            g_free(decoded);
        }
        if (body)
            read_body(&w, body, raw, len);
        *rc = w.failed ? SG_ENOMEM : out->over_limit ? SG_ETOOBIG : 0;
    }
    if (body)
        g_object_unref(body);
    if (from)
        g_object_unref(from);
    if (reply)
        g_object_unref(reply);
    g_mime_parser_options_free(opts);
    if (parser)
        g_object_unref(parser);
    if (stream)
        g_object_unref(stream);
    return taken;
}

/* An mbox "From " line before the headers is not a header. */
static void skip_from_line(const char **raw, size_t *len)
{
    if (*len >= 5 && memcmp(*raw, "From ", 5) == 0) {
        const char *nl = memchr(*raw, '\n', *len);
        size_t skip = nl ? (size_t)(nl - *raw) + 1 : *len;
        *raw += skip;
        *len -= skip;
    }
}

int sg__mime_parse(struct sg_arena *a, const char *raw, size_t len, struct sg_mime *out)
{
    pthread_once(&gmime_once, init_gmime);
    skip_from_line(&raw, &len);
    int rc;
    if (parse_fast(a, raw, len, out, &rc))
        return rc;
    return parse_message(a, raw, len, out);
}

int sg__mime_parse_reference(struct sg_arena *a, const char *raw, size_t len,
                             struct sg_mime *out)
{
    pthread_once(&gmime_once, init_gmime);
    skip_from_line(&raw, &len);
    return parse_message(a, raw, len, out);
}
