/* Builds a message's content (content.h) from an event: raw RFC 822 through mime.c, or the
 * event's subject/body/html; HTML through html.c; then URLs (urls.c) and the normalised forms
 * (normalize.c). Everything lands in the judgement's arena. */
#include "text/content.h"

#include <string.h>

#include "engine/event.h"
#include "engine/policy.h"
#include "sendguard.h"
#include "text/html.h"
#include "text/mime.h"
#include "text/normalize.h"
#include "text/urls.h"
#include "util/arena.h"

/* The most text (original, UTF-8) kept per message, over all parts. */
#define MAX_TEXT SG_MIME_MAX_TEXT
enum { MAX_PIECES = 64 };

struct piece {
    const char *s;
    size_t n;
    int alt_group; /* multipart/alternative group, -1 none */
};

struct build {
    struct sg_arena *a;
    struct sg_content *out;
    struct sg_url_list urls;
    struct piece pieces[MAX_PIECES];
    size_t npieces, text_used;
    bool over;     /* a limit cut something */
};

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Same words in the same order, whatever the whitespace between them: a text/plain alternative
 * that says exactly what its HTML sibling shows is kept once. */
static bool same_words(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < an && is_space((unsigned char)a[i]))
            i++;
        while (j < bn && is_space((unsigned char)b[j]))
            j++;
        if (i == an || j == bn)
            return i == an && j == bn;
        while (i < an && j < bn && !is_space((unsigned char)a[i]) && a[i] == b[j])
            i++, j++;
        bool ea = i == an || is_space((unsigned char)a[i]);
        bool eb = j == bn || is_space((unsigned char)b[j]);
        if (!ea || !eb)
            return false;
    }
}

static void add_piece(struct build *b, const char *s, size_t n, int group)
{
    size_t t = n;
    while (t > 0 && is_space((unsigned char)s[t - 1]))
        t--;
    size_t f = 0;
    while (f < t && is_space((unsigned char)s[f]))
        f++;
    if (f == t)
        return;
    if (group >= 0)
        for (size_t i = 0; i < b->npieces; i++)
            if (b->pieces[i].alt_group == group &&
                same_words(b->pieces[i].s, b->pieces[i].n, s + f, t - f))
                return;
    if (b->npieces == MAX_PIECES) {
        b->over = true;
        return;
    }
    size_t left = MAX_TEXT - b->text_used;
    if (t - f > left) {
        b->over = true;
        t = f + left;
        while (t > f && ((unsigned char)s[t] & 0xC0) == 0x80)
            t--;
    }
    b->pieces[b->npieces++] = (struct piece){s + f, t - f, group};
    b->text_used += t - f + 2;
    if (b->text_used > MAX_TEXT)
        b->text_used = MAX_TEXT;
}

/* Visible text and facts of one HTML document; its links go to the URL list first, so that a
 * URL shown in the text and linked is kept once, with its anchor. */
static int add_html(struct build *b, const char *html, size_t len, int group)
{
    struct sg_content *out = b->out;
    struct sg_html h;
    size_t left = MAX_TEXT - b->text_used;
    int rc = sg__html_extract(b->a, html, len, left, &h);
    if (rc == SG_ETOOBIG) {
        b->over = true;
        return 0;
    }
    if (rc)
        return rc;
    out->has_html = true;
    out->hidden_chars += h.hidden_chars;
    out->forms += h.forms;
    out->password_inputs += h.password_inputs;
    out->images += h.images;
    out->images_without_text += h.images_without_text;
    if (h.truncated)
        b->over = true;
    for (size_t i = 0; i < h.nlinks; i++)
        if ((rc = sg__urls_add_href(b->a, h.links[i].href, h.links[i].anchor, &b->urls)))
            return rc;
    const char *text = h.text;
    size_t n = h.text_len;
    if (!sg__utf8_is_clean(text, n) && !(text = sg__utf8_clean(b->a, h.text, h.text_len, &n)))
        return SG_ENOMEM;
    add_piece(b, text, n, group);
    return 0;
}

static int from_raw(struct build *b, const struct sg_event *ev)
{
    struct sg_content *out = b->out;
    struct sg_mime m;
    int rc = sg__mime_parse(b->a, ev->raw, ev->raw_len, &m);
    if (rc == SG_ENOMEM)
        return rc;
    if (rc == SG_ETOOBIG)
        b->over = true;
    out->mime_broken = m.broken;
    out->from_name = m.from_name;
    out->from_addr = m.from_addr;
    out->reply_to = m.reply_to;
    out->headers = m.headers;
    out->nheaders = m.nheaders;
    out->attachments = m.attachments;
    out->nattachments = m.nattachments;
    if (m.subject) {
        out->subject = m.subject;
        out->subject_len = strlen(m.subject);
    }
    for (size_t i = 0; i < m.ntexts; i++) {
        const struct sg_mime_text *t = &m.texts[i];
        if (t->html) {
            if ((rc = add_html(b, t->text, t->len, t->alt_group)))
                return rc;
        } else {
            add_piece(b, t->text, t->len, t->alt_group);
        }
    }
    return 0;
}

static int from_fields(struct build *b, const struct sg_event *ev)
{
    if (ev->body && ev->body_len) {
        const char *body = ev->body; /* the event outlives the content: no copy when clean */
        size_t n = ev->body_len;
        if ((!sg__utf8_is_clean(body, n) || body[n] != '\0') &&
            !(body = sg__utf8_clean(b->a, ev->body, ev->body_len, &n)))
            return SG_ENOMEM;
        add_piece(b, body, n, 0); /* body and html are alternatives of one message */
    }
    if (ev->html && ev->html_len) {
        int rc = add_html(b, ev->html, ev->html_len, 0);
        if (rc)
            return rc;
    }
    return 0;
}

static int join_text(struct build *b)
{
    struct sg_content *out = b->out;
    if (b->npieces == 0) {
        out->text = "";
        return 0;
    }
    if (b->npieces == 1) { /* already NUL-terminated in the arena? copy only if not */
        const struct piece *p = &b->pieces[0];
        if (p->s[p->n] == '\0') {
            out->text = p->s;
            out->text_len = p->n;
            return 0;
        }
    }
    size_t total = 0;
    for (size_t i = 0; i < b->npieces; i++)
        total += b->pieces[i].n + (i ? 2 : 0);
    char *t = sg__arena_alloc(b->a, total + 1);
    if (!t)
        return SG_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < b->npieces; i++) {
        if (i) {
            memcpy(t + k, "\n\n", 2);
            k += 2;
        }
        memcpy(t + k, b->pieces[i].s, b->pieces[i].n);
        k += b->pieces[i].n;
    }
    t[k] = '\0';
    out->text = t;
    out->text_len = k;
    return 0;
}

int sg__content_build(struct sg_arena *arena, const struct sg_event *ev, struct sg_content *out)
{
    memset(out, 0, sizeof *out);
    struct build *b = sg__arena_alloc(arena, sizeof *b);
    if (!b)
        return SG_ENOMEM;
    memset(b, 0, sizeof *b);
    b->a = arena;
    b->out = out;
    int rc = ev->raw && ev->raw_len ? from_raw(b, ev) : from_fields(b, ev);
    if (rc)
        return rc;

    /* The event's own fields fill what the MIME structure did not have. */
    out->short_form = ev->channel != SG_CH_EMAIL;
    if (!out->subject && ev->subject) {
        size_t n;
        out->subject = sg__utf8_clean(arena, ev->subject, strlen(ev->subject), &n);
        if (!out->subject)
            return SG_ENOMEM;
        out->subject_len = n;
    }
    if (!out->subject)
        out->subject = "";
    if (b->npieces == 0 && ev->raw && ev->raw_len && (rc = from_fields(b, ev)))
        return rc;
    if (out->nattachments == 0 && ev->nattachments) {
        out->attachments = sg__arena_alloc(arena, ev->nattachments * sizeof *out->attachments);
        if (!out->attachments)
            return SG_ENOMEM;
        for (size_t i = 0; i < ev->nattachments; i++)
            out->attachments[i] = (struct sg_text_attachment){
                ev->attachments[i].name, ev->attachments[i].type, ev->attachments[i].size};
        out->nattachments = ev->nattachments;
    }
    if ((rc = join_text(b)))
        return rc;

    if ((rc = sg__urls_scan(arena, out->subject, out->subject_len, &b->urls)) ||
        (rc = sg__urls_scan(arena, out->text, out->text_len, &b->urls)))
        return rc;
    out->urls = b->urls.v;
    out->nurls = b->urls.n;

    struct sg_norm ns, nt;
    if ((rc = sg__normalize(arena, out->subject, out->subject_len, false, &ns)) ||
        (rc = sg__normalize(arena, out->text, out->text_len, true, &nt)))
        return rc;
    out->norm_subject = ns.s;
    out->norm_subject_len = ns.len;
    out->norm = nt.s;
    out->norm_len = nt.len;
    out->norm_to_text = nt.map;
    out->zero_width = ns.zero_width + nt.zero_width;
    out->bidi_controls = ns.bidi_controls + nt.bidi_controls;
    out->mixed_script_words = ns.mixed_script_words + nt.mixed_script_words;
    return b->over || b->urls.truncated ? SG_ETOOBIG : 0;
}
