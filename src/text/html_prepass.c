/* The HTML pre-pass: bytes libxml2 would parse but html.c never reads are taken out before
 * libxml2 sees the document, and plain text and attribute values stand in as one placeholder
 * character each, because libxml2's cost is per byte. See html_prepass.h for what is dropped or
 * replaced and why the SAX events html.c sees stay the same. The document is split the way libxml2 2.9's HTML parser splits it (HTMLparser.c:
 * htmlParseContentInternal, htmlParseStartTag, htmlParseAttribute, htmlParseComment,
 * htmlParseScript, htmlParseEndTag, htmlParseDocTypeDecl, htmlParsePI); wherever that is not
 * certain, the pre-pass gives up and libxml2 gets the document unchanged. */
#include "text/html_prepass.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "util/arena.h"

/* libxml2's name buffer (HTML_PARSER_BUFFER_SIZE): a longer name is cut there and the rest
 * read as something else, which the pre-pass does not follow. */
enum { MAX_NAME = 100 };

struct pass {
    struct sg_arena *a;
    const char *s;
    size_t len;
    char *out;   /* NULL until something is dropped */
    size_t k;    /* bytes in out */
    size_t from; /* s[from..) is not copied yet */
    bool failed; /* out of memory */
    struct sg_html_runs *runs; /* NULL: no placeholders in this document */
};

static bool blank(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static bool letter(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

/* htmlParseHTMLName's characters: the first, then the rest. */
static bool name_start(unsigned char c) { return letter(c) || c == '_' || c == ':' || c == '.'; }

static bool name_char(unsigned char c)
{
    return name_start(c) || (c >= '0' && c <= '9') || c == '-';
}

/* Drops s[a..b): what came before it is copied out first. */
static void drop(struct pass *p, size_t a, size_t b)
{
    if (p->failed || a >= b)
        return;
    if (!p->out && !(p->out = sg__arena_alloc(p->a, p->len + 1))) {
        p->failed = true;
        return;
    }
    memcpy(p->out + p->k, p->s + p->from, a - p->from);
    p->k += a - p->from;
    p->from = b;
}

/* libxml2's text buffer (HTML_PARSER_BIG_BUFFER_SIZE is 1000): a longer piece of text is handed
 * over in parts, split where the bytes fall, which a placeholder would move. */
enum { MAX_RUN_PIECE = 990, MIN_RUN = 5 };

/* Bytes htmlParseCharData copies as they are (no '&', no '\r', nothing it reports). */
static bool plain_text(unsigned char c)
{
    return (c >= 0x20 && c < 0x7F && c != '&' && c != '<') || c == '\t' || c == '\n';
}

/* s[a..b) replaced by a placeholder when it is long enough to pay and all plain. */
static void place(struct pass *p, size_t a, size_t b)
{
    if (b - a < MIN_RUN || p->runs->n == SG_HTML_MAX_RUNS)
        return;
    for (size_t x = a; x < b; x++)
        if (!plain_text((unsigned char)p->s[x]))
            return;
    struct sg_html_runs *r = p->runs;
    if (!sg__arena_grow(p->a, (void **)&r->v, &r->cap, r->n, sizeof *r->v, 32, SG_HTML_MAX_RUNS)) {
        p->failed = true;
        return;
    }
    drop(p, a, b);
    if (p->failed)
        return;
    uint32_t cp = 0xF0000 + (uint32_t)r->n;
    unsigned char *o = (unsigned char *)p->out + p->k;
    o[0] = SG_HTML_RUN_LEAD;
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    p->k += 4;
    r->v[r->n++] = (struct sg_html_run){p->s + a, b - a};
}

/* The text s[a..b) between two pieces of markup: its part before any '&' (a reference ends the
 * piece libxml2 reads at once; going on after one was measured to pay ~2 K instructions a mail)
 * replaced from its first to its last non-blank byte. */
static void stand_in(struct pass *p, size_t a, size_t b)
{
    const char *amp = memchr(p->s + a, '&', b - a);
    if (amp)
        b = (size_t)(amp - p->s);
    if (b - a >= MAX_RUN_PIECE)
        return;
    while (a < b && blank((unsigned char)p->s[a]))
        a++;
    while (b > a && blank((unsigned char)p->s[b - 1]))
        b--;
    place(p, a, b);
}

const struct sg_html_run *sg__html_run_at(const struct sg_html_runs *runs, const unsigned char *s,
                                          size_t n)
{
    if (n < 4 || s[1] < 0xB0 || s[1] > 0xBF || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
        return NULL;
    size_t i = (size_t)(s[1] & 0x0F) << 12 | (size_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
    return i < runs->n ? &runs->v[i] : NULL;
}

/* A character reference that may reach the placeholders' range (U+F0000 and up: six decimal
 * digits or five hexadecimal ones, leading zeros counted), or a byte of theirs. */
static bool may_hold_placeholder(const char *s, size_t len)
{
    if (memchr(s, SG_HTML_RUN_LEAD, len))
        return true;
    for (const char *e = s + len; (s = memchr(s, '&', (size_t)(e - s))); s++) {
        if (e - s < 2 || s[1] != '#')
            continue;
        const char *d = s + 2;
        bool hex = d < e && (*d == 'x' || *d == 'X');
        d += hex;
        size_t digits = 0;
        while (d < e && (hex ? isxdigit((unsigned char)*d) : isdigit((unsigned char)*d)))
            d++, digits++;
        if (digits >= (hex ? 5u : 6u))
            return true;
    }
    return false;
}

/* The end of a name starting at i (lower-cased into low, NUL-terminated, when it fits), or 0
 * when it is as long as libxml2's buffer. */
static size_t name_end(const struct pass *p, size_t i, char low[MAX_NAME + 1])
{
    size_t j = i;
    while (j < p->len && name_char((unsigned char)p->s[j])) {
        if (j - i == MAX_NAME)
            return 0;
        low[j - i] = (char)(p->s[j] | (letter((unsigned char)p->s[j]) ? 0x20 : 0));
        j++;
    }
    low[j - i] = '\0';
    return j;
}

static size_t skip_blanks(const struct pass *p, size_t j)
{
    while (j < p->len && blank((unsigned char)p->s[j]))
        j++;
    return j;
}

/* The attributes html.c reads (read_attrs): the rest go. By first letter: it is asked of every
 * attribute of the document. */
static bool read_by_html_c(const char *n)
{
    switch (n[0]) {
    case 'a': return !strcmp(n, "alt") || !strcmp(n, "action");
    case 'b': return !strcmp(n, "bgcolor");
    case 'c': return !strcmp(n, "color");
    case 'h': return !strcmp(n, "href") || !strcmp(n, "height") || !strcmp(n, "hidden");
    case 's': return !strcmp(n, "style");
    case 't': return !strcmp(n, "type");
    case 'w': return !strcmp(n, "width");
    default: return false;
    }
}

/* At an end of tag (">" or "/>")? */
static bool tag_end(const struct pass *p, size_t j)
{
    return p->s[j] == '>' || (p->s[j] == '/' && j + 1 < p->len && p->s[j + 1] == '>');
}

/* A start tag at i ('<' and a letter): its attributes that html.c does not read are dropped
 * (all kept on meta, whose attributes libxml2 reads itself); a script or style body after it
 * too. Returns where reading goes on, 0 to give up. */
static size_t start_tag(struct pass *p, size_t i)
{
    char name[MAX_NAME + 1], att[MAX_NAME + 1];
    size_t j = name_end(p, i + 1, name);
    if (!j)
        return 0;
    bool meta = strcmp(name, "meta") == 0;
    j = skip_blanks(p, j);
    while (j < p->len && !tag_end(p, j)) {
        size_t a = j;
        if (!name_start((unsigned char)p->s[j])) {
            /* libxml2 skips a bogus attribute up to a blank or the end of the tag */
            while (j < p->len && !blank((unsigned char)p->s[j]) && !tag_end(p, j))
                j++;
        } else {
            size_t e = name_end(p, j, att);
            if (!e)
                return 0;
            j = skip_blanks(p, e);
            size_t va = 0, vb = 0; /* the value */
            if (j < p->len && p->s[j] == '=') {
                j = skip_blanks(p, j + 1);
                if (j < p->len && (p->s[j] == '"' || p->s[j] == '\'')) {
                    const char *q = memchr(p->s + j + 1, p->s[j], p->len - j - 1);
                    if (!q)
                        return 0; /* libxml2 reads to the end: not followed */
                    va = j + 1;
                    vb = (size_t)(q - p->s);
                    j = vb + 1;
                } else { /* unquoted: up to a blank or '>' */
                    va = j;
                    while (j < p->len && p->s[j] != '>' && !blank((unsigned char)p->s[j]))
                        j++;
                    vb = j;
                }
                e = j;
            }
            /* kept when a '=' follows it: without it, that '=' would give the attribute
             * before it a value (libxml2 skips it as a bogus attribute here) */
            size_t after = skip_blanks(p, e);
            bool joins = after < p->len && p->s[after] == '=';
            if (!meta && !read_by_html_c(att) && !joins)
                drop(p, a, e);
            else if (!meta && p->runs) /* libxml2 copies a plain value byte by byte */
                place(p, va, vb);
        }
        j = skip_blanks(p, j);
    }
    if (j >= p->len)
        return 0; /* a start tag without its end: libxml2 pops the element */
    if (p->s[j] == '/')
        return j + 2; /* empty: no body follows */
    j++;
    bool script = strcmp(name, "script") == 0;
    if (!script && strcmp(name, "style") != 0)
        return j;
    /* A script or style body is text for libxml2 up to "</" and the element's name (any case,
     * a prefix: "</styles" too); html.c ignores it (cdataBlock). The end tag must then be the
     * element's own, or libxml2 reads on as body (or closes other elements). */
    size_t n = script ? 6 : 5;
    if (j < p->len && p->s[j] == '<')
        return 0; /* libxml2 reads a tag there before the body (and may close the element) */
    for (size_t k = j; k + 1 < p->len; k++) {
        if (p->s[k] != '<' || p->s[k + 1] != '/')
            continue;
        if (k + 2 + n > p->len || strncasecmp(p->s + k + 2, name, n) != 0)
            continue;
        if (k + 2 + n < p->len && name_char((unsigned char)p->s[k + 2 + n]))
            return 0;
        drop(p, j, k);
        return k;
    }
    return 0;
}

/* An end tag at i ("</"): copied as is; where libxml2 goes on after it. */
static size_t end_tag(const struct pass *p, size_t i)
{
    char name[MAX_NAME + 1];
    size_t j = i + 2;
    if (j >= p->len || !name_start((unsigned char)p->s[j]))
        return j; /* "</" is dropped by libxml2 and the rest read as text */
    if (!(j = name_end(p, j, name)))
        return 0;
    j = skip_blanks(p, j);
    const char *gt = j < p->len ? memchr(p->s + j, '>', p->len - j) : NULL;
    return gt ? (size_t)(gt - p->s) + 1 : p->len;
}

/* A comment at i ("<!--"): its body goes ("<!---->" is still a comment, so the text around it
 * reaches html.c in the same pieces). libxml2 ends it at the first "-->" or "--!>" from the
 * body's first byte. */
static size_t comment(struct pass *p, size_t i)
{
    size_t b = i + 4;
    for (size_t x = b; x + 2 < p->len; x++) {
        if (p->s[x] != '-' || p->s[x + 1] != '-')
            continue;
        if (p->s[x + 2] == '>' || (p->s[x + 2] == '!' && x + 3 < p->len && p->s[x + 3] == '>')) {
            drop(p, b, x);
            return x + (p->s[x + 2] == '>' ? 3 : 4);
        }
    }
    return 0;
}

/* A DOCTYPE at i: copied; it ends at the first '>' unless a quoted literal may hold one. */
static size_t doctype(const struct pass *p, size_t i)
{
    const char *gt = memchr(p->s + i, '>', p->len - i);
    if (!gt)
        return 0;
    size_t quotes = 0;
    for (const char *c = p->s + i; c < gt; c++) {
        if (*c == '\'')
            return 0;
        quotes += *c == '"';
    }
    return quotes % 2 ? 0 : (size_t)(gt - p->s) + 1;
}

/* A processing instruction at i ("<?"): copied; with a name it ends at the first '>'. */
static size_t pi(const struct pass *p, size_t i)
{
    if (i + 2 >= p->len)
        return 0;
    unsigned char c = (unsigned char)p->s[i + 2];
    if (!letter(c) && c != '_' && c != ':')
        return 0;
    const char *gt = memchr(p->s + i + 2, '>', p->len - i - 2);
    return gt ? (size_t)(gt - p->s) + 1 : 0;
}

static bool doctype_at(const struct pass *p, size_t i)
{
    return p->len - i >= 9 && strncasecmp(p->s + i + 2, "DOCTYPE", 7) == 0;
}

size_t sg__html_prepass(struct sg_arena *a, const char *html, size_t len, const char **out,
                        struct sg_html_runs *runs)
{
    *out = html;
    *runs = (struct sg_html_runs){0};
    if (memchr(html, '\0', len))
        return len; /* libxml2 stops at a NUL in most places: not followed */
    struct pass p = {.a = a, .s = html, .len = len};
    if (!may_hold_placeholder(html, len))
        p.runs = runs;
    size_t i = 0;
    bool markup = true; /* i is where libxml2 starts a piece of text (after markup it parsed) */
    while (i < len) {
        const char *lt = memchr(html + i, '<', len - i);
        if (!lt)
            break;
        if (markup && p.runs)
            stand_in(&p, i, (size_t)(lt - html));
        i = (size_t)(lt - html);
        unsigned char c = i + 1 < len ? (unsigned char)html[i + 1] : 0;
        size_t next;
        markup = true;
        if (c == '/') {
            next = end_tag(&p, i);
            /* "</" without a name: the text after it is read on with it */
            markup = i + 2 < len && name_start((unsigned char)html[i + 2]);
        } else if
(c == '!' && i + 3 < len && html[i + 2] == '-' && html[i + 3] == '-') {
            next = comment(&p, i);
        } else if (c == '!' && doctype_at(&p, i)) {
            next = doctype(&p, i);
        } else if (c == '?') {
            next = pi(&p, i);
        } else if (letter(c)) {
            next = start_tag(&p, i);
        } else {
            next = i + 1; /* a '<' that is text, read on with what follows */
            markup = false;
        }
        if (!next || p.failed) {
            runs->n = 0;
            return len; /* not followed for certain (or out of memory): unchanged */
        }
        i = next;
    }
    if (markup && p.runs && i < len)
        stand_in(&p, i, len);
    if (p.failed)
        runs->n = 0;
    if (!p.out || p.failed)
        return len;
    memcpy(p.out + p.k, html + p.from, len - p.from);
    p.k += len - p.from;
    p.out[p.k] = '\0';
    *out = p.out;
    return p.k;
}
