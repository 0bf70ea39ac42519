/* HTML extraction; see html.h. libxml2 parses in recover mode and reports elements and text to
 * SAX callbacks (no tree is built); a stack of open elements carries what is inherited: hidden,
 * skipped (script, style, head ...), preformatted, text and background colour. */
#include "text/html.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "sendguard.h"
#include "text/html_prepass.h"
#include "util/arena.h"

enum { MAX_DEPTH = 128, NO_COLOR = -1 };

struct frame {
    const char *name;  /* libxml2 dictionary string, lower case */
    int color, bg;     /* 0xRRGGBB or NO_COLOR (inherited) */
    unsigned char cls; /* T_* */
    bool hidden, skip, pre, link;
};

/* The class and identity of a tag name, cached by the name's address: libxml2 interns names in
 * the parser's dictionary, so within one document an address is one name. */
struct tag_slot {
    const char *name;
    unsigned char cls, id;
};

enum { TAG_CACHE = 64 };

/* Visible text, grown in the arena; past max it stops (full) and the rest is dropped. */
struct tbuf {
    struct sg_arena *a;
    char *p;
    size_t len, cap, max;
    bool full, failed;
};

struct state {
    struct sg_arena *a;
    struct tbuf text;
    bool space;            /* collapsed whitespace pending */
    struct frame stack[MAX_DEPTH];
    int depth;             /* frames in use; deeper elements share the top frame's state */
    int overflow;          /* elements opened beyond MAX_DEPTH */
    struct sg_html_link *links;
    size_t nlinks, links_cap;
    size_t anchor_from;    /* text offset where the open <a>'s text starts */
    bool in_link;
    bool failed;           /* out of memory */
    struct sg_html *out;
    struct tag_slot cache[TAG_CACHE];
    struct sg_html_runs runs; /* the pre-pass's placeholders for text */
};

/* ---- small helpers ------------------------------------------------------------------------- */

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* ASCII case-insensitive equality of a[0..n) and NUL-terminated b. */
static bool eq_ci(const char *a, size_t n, const char *b)
{
    size_t i = 0;
    for (; i < n && b[i]; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x += 'a' - 'A';
        if (x != y)
            return false;
    }
    return i == n && b[i] == '\0';
}

/* The attributes anything here reads, found in one pass (libxml2 lower-cases names and drops
 * repeated ones). A value-less attribute reads as "". */
struct attrs {
    const char *style, *hidden, *bgcolor, *color, *width, *height, *alt, *type, *href, *action;
};

/* A value that is a placeholder of the pre-pass, put back (NUL-terminated in the arena); NULL
 * when out of memory. */
static const char *attr_value(struct sg_arena *a, const struct sg_html_runs *runs, const char *v)
{
    const struct sg_html_run *r;
    if (!runs->n || (unsigned char)v[0] != SG_HTML_RUN_LEAD || strlen(v) != 4 ||
        !(r = sg__html_run_at(runs, (const unsigned char *)v, 4)))
        return v;
    char *c = sg__arena_alloc(a, r->len + 1);
    if (c) {
        memcpy(c, r->text, r->len);
        c[r->len] = '\0';
    }
    return c;
}

static void read_attrs(struct state *s, const xmlChar **atts, struct attrs *at)
{
    memset(at, 0, sizeof *at);
    if (!atts)
        return;
    for (int i = 0; atts[i]; i += 2) {
        const char *n = (const char *)atts[i], **slot = NULL;
        switch (n[0]) {
        case 'a':
            slot = !strcmp(n, "alt") ? &at->alt : !strcmp(n, "action") ? &at->action : NULL;
            break;
        case 'b':
            slot = !strcmp(n, "bgcolor") ? &at->bgcolor : NULL;
            break;
        case 'c':
            slot = !strcmp(n, "color") ? &at->color : NULL;
            break;
        case 'h':
            slot = !strcmp(n, "href")     ? &at->href
                   : !strcmp(n, "height") ? &at->height
                   : !strcmp(n, "hidden") ? &at->hidden
                                          : NULL;
            break;
        case 's':
            slot = !strcmp(n, "style") ? &at->style : NULL;
            break;
        case 't':
            slot = !strcmp(n, "type") ? &at->type : NULL;
            break;
        case 'w':
            slot = !strcmp(n, "width") ? &at->width : NULL;
            break;
        }
        if (slot && !*slot) {
            *slot = atts[i + 1] ? attr_value(s->a, &s->runs, (const char *)atts[i + 1]) : "";
            if (!*slot) {
                s->failed = true;
                *slot = "";
            }
        }
    }
}

/* What an element is to a reader: skipped entirely, a block (a line break around it), void
 * (no end tag, no content), preformatted, a table cell; and which few elements on_start treats
 * one by one. One sorted table, searched by name. */
enum { T_SKIP = 1, T_BLOCK = 2, T_VOID = 4, T_PRE = 8, T_CELL = 16 };
enum { TAG_OTHER, TAG_A, TAG_AREA, TAG_BR, TAG_FONT, TAG_FORM, TAG_IMG, TAG_INPUT };

struct tag {
    const char *name;
    unsigned char cls, id;
};

static const struct tag tags[] = {
    {"a", 0, TAG_A},              {"address", T_BLOCK, 0},    {"applet", T_SKIP, 0},
    {"area", T_VOID, TAG_AREA},   {"article", T_BLOCK, 0},    {"aside", T_BLOCK, 0},
    {"base", T_VOID, 0},          {"blockquote", T_BLOCK, 0}, {"body", T_BLOCK, 0},
    {"br", T_VOID, TAG_BR},       {"caption", T_BLOCK, 0},    {"center", T_BLOCK, 0},
    {"col", T_VOID, 0},           {"dd", T_BLOCK, 0},         {"details", T_BLOCK, 0},
    {"div", T_BLOCK, 0},          {"dl", T_BLOCK, 0},         {"dt", T_BLOCK, 0},
    {"embed", T_VOID, 0},         {"fieldset", T_BLOCK, 0},   {"figcaption", T_BLOCK, 0},
    {"figure", T_BLOCK, 0},       {"font", 0, TAG_FONT},      {"footer", T_BLOCK, 0},
    {"form", T_BLOCK, TAG_FORM},  {"h1", T_BLOCK, 0},         {"h2", T_BLOCK, 0},
    {"h3", T_BLOCK, 0},           {"h4", T_BLOCK, 0},         {"h5", T_BLOCK, 0},
    {"h6", T_BLOCK, 0},           {"head", T_SKIP, 0},        {"header", T_BLOCK, 0},
    {"hr", T_VOID | T_BLOCK, 0},  {"html", T_BLOCK, 0},       {"img", T_VOID, TAG_IMG},
    {"input", T_VOID, TAG_INPUT}, {"keygen", T_VOID, 0},      {"li", T_BLOCK, 0},
    {"link", T_VOID, 0},          {"main", T_BLOCK, 0},       {"meta", T_VOID, 0},
    {"nav", T_BLOCK, 0},          {"noscript", T_SKIP, 0},    {"object", T_SKIP, 0},
    {"ol", T_BLOCK, 0},           {"option", T_BLOCK, 0},     {"p", T_BLOCK, 0},
    {"param", T_VOID, 0},         {"pre", T_BLOCK | T_PRE, 0}, {"script", T_SKIP, 0},
    {"section", T_BLOCK, 0},      {"source", T_VOID, 0},      {"style", T_SKIP, 0},
    {"summary", T_BLOCK, 0},      {"svg", T_SKIP, 0},         {"table", T_BLOCK, 0},
    {"tbody", T_BLOCK, 0},        {"td", T_CELL, 0},          {"template", T_SKIP, 0},
    {"textarea", T_PRE, 0},       {"tfoot", T_BLOCK, 0},      {"th", T_CELL, 0},
    {"thead", T_BLOCK, 0},        {"title", T_SKIP, 0},       {"tr", T_BLOCK, 0},
    {"track", T_VOID, 0},         {"ul", T_BLOCK, 0},         {"wbr", T_VOID, 0},
    {"xml", T_SKIP, 0},
};

static struct tag_slot tag_search(const char *name)
{
    size_t lo = 0, hi = sizeof tags / sizeof tags[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(name, tags[mid].name);
        if (c == 0)
            return (struct tag_slot){name, tags[mid].cls, tags[mid].id};
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return (struct tag_slot){name, 0, TAG_OTHER};
}

static struct tag_slot tag_of(struct state *s, const char *name)
{
    struct tag_slot *slot = &s->cache[((uintptr_t)name >> 4) % TAG_CACHE];
    if (slot->name != name)
        *slot = tag_search(name);
    return *slot;
}

/* ---- colours ------------------------------------------------------------------------------- */

struct named_color {
    const char *name;
    int rgb;
};

static const struct named_color named_colors[] = {
    {"white", 0xFFFFFF}, {"black", 0x000000}, {"red", 0xFF0000},    {"green", 0x008000},
    {"blue", 0x0000FF},  {"yellow", 0xFFFF00}, {"gray", 0x808080},  {"grey", 0x808080},
    {"silver", 0xC0C0C0}, {"maroon", 0x800000}, {"navy", 0x000080}, {"purple", 0x800080},
    {"teal", 0x008080},  {"olive", 0x808000}, {"lime", 0x00FF00},   {"aqua", 0x00FFFF},
    {"fuchsia", 0xFF00FF}, {"orange", 0xFFA500}, {"whitesmoke", 0xF5F5F5},
    {"snow", 0xFFFAFA}, {"ivory", 0xFFFFF0}, {"lightgray", 0xD3D3D3}, {"lightgrey", 0xD3D3D3},
};

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Parses a CSS/HTML colour in v[0..n): #rgb, #rrggbb, rgb()/rgba(), a common name. Returns
 * 0xRRGGBB, NO_COLOR when unknown, or -2 for a fully transparent colour. */
static int parse_color(const char *v, size_t n)
{
    while (n && is_ws((unsigned char)*v))
        v++, n--;
    while (n && is_ws((unsigned char)v[n - 1]))
        n--;
    if (n > 0 && v[0] == '#') {
        v++, n--;
        int d[6];
        if (n != 3 && n != 6)
            return NO_COLOR;
        for (size_t i = 0; i < n; i++)
            if ((d[i] = hexval((unsigned char)v[i])) < 0)
                return NO_COLOR;
        if (n == 3)
            return (d[0] * 17) << 16 | (d[1] * 17) << 8 | d[2] * 17;
        return d[0] << 20 | d[1] << 16 | d[2] << 12 | d[3] << 8 | d[4] << 4 | d[5];
    }
    if (n >= 4 && (eq_ci(v, 4, "rgb(") || (n >= 5 && eq_ci(v, 5, "rgba(")))) {
        size_t i = v[3] == '(' ? 4 : 5;
        int c[4] = {0, 0, 0, 255};
        int k = 0;
        while (i < n && k < 4) {
            while (i < n && (is_ws((unsigned char)v[i]) || v[i] == ','))
                i++;
            long x = 0;
            bool digits = false, frac = false;
            int fracval = 0;
            while (i < n && v[i] >= '0' && v[i] <= '9' && x < 100000) {
                x = x * 10 + (v[i++] - '0');
                digits = true;
            }
            if (i < n && v[i] == '.') { /* alpha 0.5 */
                frac = true;
                i++;
                if (i < n && v[i] >= '0' && v[i] <= '9')
                    fracval = v[i] - '0';
                while (i < n && v[i] >= '0' && v[i] <= '9')
                    i++;
                digits = true;
            }
            if (!digits)
                break;
            if (i < n && v[i] == '%') {
                x = x * 255 / 100;
                i++;
            }
            if (k == 3)
                x = frac ? (x * 10 + fracval) * 255 / 10 : x * 255;
            c[k++] = x > 255 ? 255 : (int)x;
        }
        if (k < 3)
            return NO_COLOR;
        if (k == 4 && c[3] == 0)
            return -2;
        return c[0] << 16 | c[1] << 8 | c[2];
    }
    if (eq_ci(v, n, "transparent"))
        return -2;
    for (size_t i = 0; i < sizeof named_colors / sizeof named_colors[0]; i++)
        if (eq_ci(v, n, named_colors[i].name))
            return named_colors[i].rgb;
    return NO_COLOR;
}

/* Near enough to read as the same colour: light grey on white still hides the text. */
static bool same_color(int a, int b)
{
    if (a < 0 || b < 0)
        return false;
    int d = abs((a >> 16) - (b >> 16)) + abs(((a >> 8) & 255) - ((b >> 8) & 255)) +
            abs((a & 255) - (b & 255));
    return d <= 24;
}

/* ---- inline style -------------------------------------------------------------------------- */

/* A CSS length in v[0..n), in px (pt and em/rem/% converted at a 16px font); -1 if unknown. */
static double css_px(const char *v, size_t n)
{
    size_t i = 0;
    while (i < n && is_ws((unsigned char)v[i]))
        i++;
    bool neg = i < n && v[i] == '-';
    if (neg)
        i++;
    double x = 0, scale = 1;
    bool digits = false, dot = false;
    for (; i < n && ((v[i] >= '0' && v[i] <= '9') || (v[i] == '.' && !dot)); i++) {
        if (v[i] == '.') {
            dot = true;
            continue;
        }
        digits = true;
        if (x < 1e9) {
            if (dot)
                scale /= 10;
            x = x * 10 + (v[i] - '0');
        }
    }
    if (!digits)
        return -1e18;
    x *= scale;
    if (neg)
        x = -x;
    const char *u = v + i;
    size_t un = n - i;
    while (un && is_ws((unsigned char)u[un - 1]))
        un--;
    if (un >= 2 && eq_ci(u, 2, "pt"))
        return x * 4 / 3;
    if (un >= 3 && eq_ci(u, 3, "rem"))
        return x * 16;
    if (un >= 2 && eq_ci(u, 2, "em"))
        return x * 16;
    if (un >= 1 && u[0] == '%')
        return x * 16 / 100;
    return x; /* px, or a bare number */
}

struct style {
    bool hidden;
    bool overflow_hidden, zero_height;
    int color, bg;
};

/* Reads the declarations of an inline style attribute that hide text. !important, comments and
 * quoting are not modelled: a value is everything up to the next ';'. */
static void parse_style(const char *s, struct style *st)
{
    const char *p = s;
    while (*p) {
        const char *name = p;
        while (*p && *p != ':' && *p != ';')
            p++;
        if (*p != ':') {
            if (*p)
                p++;
            continue;
        }
        const char *ne = p++;
        const char *val = p;
        while (*p && *p != ';')
            p++;
        const char *ve = p;
        if (*p)
            p++;
        while (name < ne && is_ws((unsigned char)*name))
            name++;
        while (ne > name && is_ws((unsigned char)ne[-1]))
            ne--;
        while (val < ve && is_ws((unsigned char)*val))
            val++;
        while (ve > val && is_ws((unsigned char)ve[-1]))
            ve--;
        size_t nn = (size_t)(ne - name), vn = (size_t)(ve - val);
        if (vn > 10 && eq_ci(ve - 10, 10, "!important")) {
            vn -= 10;
            while (vn && is_ws((unsigned char)val[vn - 1]))
                vn--;
        }
        if (eq_ci(name, nn, "display")) {
            if (eq_ci(val, vn, "none"))
                st->hidden = true;
        } else if (eq_ci(name, nn, "visibility")) {
            if (eq_ci(val, vn, "hidden") || eq_ci(val, vn, "collapse"))
                st->hidden = true;
        } else if (eq_ci(name, nn, "font-size")) {
            double px = css_px(val, vn);
            if (px > -1e17 && px < 2)
                st->hidden = true;
        } else if (eq_ci(name, nn, "opacity")) {
            double o = css_px(val, vn);
            if (o > -1e17 && o < 0.05)
                st->hidden = true;
        } else if (eq_ci(name, nn, "mso-hide")) {
            if (eq_ci(val, vn, "all"))
                st->hidden = true;
        } else if (eq_ci(name, nn, "max-height") || eq_ci(name, nn, "height")) {
            double px = css_px(val, vn);
            if (px > -1e17 && px < 1)
                st->zero_height = true;
        } else if (eq_ci(name, nn, "overflow")) {
            if (eq_ci(val, vn, "hidden"))
                st->overflow_hidden = true;
        } else if (eq_ci(name, nn, "text-indent") || eq_ci(name, nn, "left") ||
                   eq_ci(name, nn, "top")) {
            double px = css_px(val, vn);
            if (px > -1e17 && px <= -999) /* pushed off-screen */
                st->hidden = true;
        } else if (eq_ci(name, nn, "color")) {
            st->color = parse_color(val, vn);
        } else if (eq_ci(name, nn, "background-color")) {
            st->bg = parse_color(val, vn);
        } else if (eq_ci(name, nn, "background")) {
            /* the colour is one of the words; take the first that parses */
            const char *w = val, *end = val + vn;
            while (w < end) {
                const char *we = w;
                int depth = 0;
                while (we < end && (depth > 0 || !is_ws((unsigned char)*we))) {
                    depth += *we == '(' ? 1 : *we == ')' ? -1 : 0;
                    we++;
                }
                int c = parse_color(w, (size_t)(we - w));
                if (c != NO_COLOR && c != -2) {
                    st->bg = c;
                    break;
                }
                w = we;
                while (w < end && is_ws((unsigned char)*w))
                    w++;
            }
        }
    }
    if (st->zero_height && st->overflow_hidden)
        st->hidden = true;
}

/* ---- text ---------------------------------------------------------------------------------- */

/* Room for n more bytes and the final NUL; false when out of memory. */
static bool tb_reserve(struct tbuf *b, size_t n)
{
    if (b->len + n + 1 <= b->cap)
        return true;
    size_t cap = b->cap * 2;
    if (cap < b->len + n + 1)
        cap = b->len + n + 1;
    char *p = sg__arena_alloc(b->a, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    memcpy(p, b->p, b->len);
    b->p = p;
    b->cap = cap;
    return true;
}

static void tb_add(struct tbuf *b, const char *s, size_t n)
{
    if (b->full || b->failed)
        return;
    if (n > b->max - b->len) {
        n = b->max - b->len;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--; /* cut at a character boundary */
        b->full = true;
    }
    if (!tb_reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void tb_addc(struct tbuf *b, char c)
{
    tb_add(b, &c, 1);
}

static struct frame *top(struct state *s)
{
    return s->depth > 0 ? &s->stack[s->depth - 1] : NULL;
}

static void add_break(struct state *s)
{
    s->space = false;
    struct tbuf *b = &s->text;
    while (b->len > 0 && b->p[b->len - 1] == ' ')
        b->len--;
    if (b->len == 0 || b->p[b->len - 1] == '\n')
        return;
    tb_addc(b, '\n');
}

static void add_line_break(struct state *s) /* <br>: an empty line is kept, two are not */
{
    s->space = false;
    struct tbuf *b = &s->text;
    while (b->len > 0 && b->p[b->len - 1] == ' ')
        b->len--;
    if (b->len == 0 || (b->len >= 2 && b->p[b->len - 1] == '\n' && b->p[b->len - 2] == '\n'))
        return;
    tb_addc(b, '\n');
}

static void add_text(struct state *s, const xmlChar *ch, int len)
{
    struct frame *f = top(s);
    if (len <= 0 || (f && f->skip))
        return;
    if (f && f->hidden) {
        for (int i = 0; i < len; i++) {
            unsigned char c = ch[i];
            if ((c & 0xC0) != 0x80 && !is_ws(c))
                s->out->hidden_chars++;
        }
        return;
    }
    struct tbuf *b = &s->text;
    if (b->failed)
        return;
    bool pre = f && f->pre;
    /* The whole run fits (at most len bytes and one pending space): collapse it straight into
     * the buffer. Near the limit, word by word through tb_add, which cuts at the limit. */
    if (!b->full && (size_t)len < b->max - b->len) {
        if (!tb_reserve(b, (size_t)len + 1))
            return;
        char *p = b->p, *w = p + b->len;
        bool space = s->space;
        for (int i = 0; i < len; i++) {
            unsigned char c = ch[i];
            if (!pre && is_ws(c)) {
                space = true;
                continue;
            }
            if (space) {
                space = false;
                if (w > p && w[-1] != '\n')
                    *w++ = ' ';
            }
            *w++ = (char)c;
        }
        s->space = space;
        b->len = (size_t)(w - p);
        return;
    }
    for (int i = 0; i < len;) {
        if (!pre && is_ws(ch[i])) {
            s->space = true;
            i++;
            continue;
        }
        if (s->space) {
            s->space = false;
            if (b->len > 0 && b->p[b->len - 1] != '\n')
                tb_addc(b, ' ');
        }
        int j = i;
        while (j < len && (pre || !is_ws(ch[j])))
            j++;
        tb_add(b, (const char *)ch + i, (size_t)(j - i));
        i = j;
    }
}

/* Text as libxml2 hands it over, with the pre-pass's placeholders put back. */
static void on_text(void *ctx, const xmlChar *ch, int len)
{
    struct state *s = ((xmlParserCtxtPtr)ctx)->_private;
    const xmlChar *p = ch, *end = ch + (len > 0 ? len : 0);
    while (s->runs.n && p < end) {
        const xmlChar *q = memchr(p, SG_HTML_RUN_LEAD, (size_t)(end - p));
        const struct sg_html_run *r = q ? sg__html_run_at(&s->runs, q, (size_t)(end - q)) : NULL;
        if (!r)
            break;
        if (q > p)
            add_text(s, p, (int)(q - p));
        add_text(s, (const xmlChar *)r->text, (int)r->len);
        p = q + 4;
    }
    if (p < end)
        add_text(s, p, (int)(end - p));
}

static void on_nothing(void *ctx, const xmlChar *ch, int len)
{
}

static void XMLCDECL on_error(void *ctx, const char *msg, ...)
{
}

/* ---- links --------------------------------------------------------------------------------- */

/* Copies v into the arena without surrounding whitespace, and without the tabs and newlines
 * inside that browsers ignore in URLs. */
static char *copy_href(struct sg_arena *a, const char *v)
{
    size_t n = strlen(v);
    while (n && is_ws((unsigned char)*v))
        v++, n--;
    while (n && is_ws((unsigned char)v[n - 1]))
        n--;
    if (n > 8192)
        n = 8192;
    char *d = sg__arena_alloc(a, n + 1);
    if (!d)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] != '\t' && v[i] != '\n' && v[i] != '\r')
            d[k++] = v[i];
    d[k] = '\0';
    return d;
}

static void add_link(struct state *s, const char *href, const char *anchor)
{
    if (s->nlinks >= SG_HTML_MAX_LINKS) {
        s->out->truncated = true;
        return;
    }
    if (!sg__arena_grow(s->a, (void **)&s->links, &s->links_cap, s->nlinks, sizeof *s->links, 8,
                        SG_HTML_MAX_LINKS)) {
        s->failed = true;
        return;
    }
    char *h = copy_href(s->a, href);
    if (!h) {
        s->failed = true;
        return;
    }
    s->links[s->nlinks].href = h;
    s->links[s->nlinks].anchor = anchor;
    s->nlinks++;
}

/* The anchor text of the link that just closed: the visible text written since it opened. */
static void close_link(struct state *s)
{
    s->in_link = false;
    if (s->nlinks == 0 || s->text.failed)
        return;
    struct tbuf *b = &s->text;
    size_t from = s->anchor_from < b->len ? s->anchor_from : b->len, to = b->len;
    while (from < to && is_ws((unsigned char)b->p[from]))
        from++;
    while (to > from && is_ws((unsigned char)b->p[to - 1]))
        to--;
    if (to - from > SG_HTML_MAX_ANCHOR) {
        to = from + SG_HTML_MAX_ANCHOR;
        while (to > from && ((unsigned char)b->p[to] & 0xC0) == 0x80)
            to--;
    }
    char *anchor = sg__arena_strndup(s->a, b->p + from, to - from);
    if (!anchor) {
        s->failed = true;
        return;
    }
    s->links[s->nlinks - 1].anchor = anchor;
}

/* ---- elements ------------------------------------------------------------------------------ */

static long attr_num(const char *v)
{
    if (!v)
        return -1;
    while (is_ws((unsigned char)*v))
        v++;
    if (*v < '0' || *v > '9')
        return -1;
    long x = 0;
    while (*v >= '0' && *v <= '9' && x < 100000)
        x = x * 10 + (*v++ - '0');
    return x;
}

static void on_void(struct state *s, unsigned id, const struct attrs *at, bool hidden,
                    unsigned cls)
{
    if (cls & T_BLOCK) { /* hr */
        add_break(s);
    } else if (id == TAG_BR) {
        if (!hidden)
            add_line_break(s);
    } else if (id == TAG_IMG) {
        long w = attr_num(at->width), h = attr_num(at->height);
        if ((w >= 0 && w <= 2) || (h >= 0 && h <= 2))
            return; /* a tracking pixel or spacer, not content */
        s->out->images++;
        bool text = false;
        for (const char *p = at->alt; p && *p; p++)
            text |= !is_ws((unsigned char)*p);
        if (!text)
            s->out->images_without_text++;
    } else if (id == TAG_INPUT) {
        if (at->type && eq_ci(at->type, strlen(at->type), "password"))
            s->out->password_inputs++;
    } else if (id == TAG_AREA) {
        if (at->href) {
            const char *alt = at->alt;
            char *anchor = sg__arena_strndup(s->a, alt ? alt : "", alt ? strlen(alt) : 0);
            if (!anchor)
                s->failed = true;
            else
                add_link(s, at->href, anchor);
        }
    }
}

static void on_start(void *ctx, const xmlChar *xname, const xmlChar **atts)
{
    struct state *s = ((xmlParserCtxtPtr)ctx)->_private;
    const char *name = (const char *)xname;
    if (!name || s->failed)
        return;
    struct frame *parent = top(s);
    struct frame f = {.name = name, .color = NO_COLOR, .bg = NO_COLOR};
    if (parent) {
        f.hidden = parent->hidden;
        f.skip = parent->skip;
        f.pre = parent->pre;
        f.color = parent->color;
        f.bg = parent->bg;
    }
    struct tag_slot t = tag_of(s, name);
    unsigned cls = t.cls;
    struct attrs at;
    read_attrs(s, atts, &at);
    struct style st = {.color = NO_COLOR, .bg = NO_COLOR};
    if (at.style)
        parse_style(at.style, &st);
    if (at.hidden)
        st.hidden = true;
    int c;
    if (at.bgcolor && (c = parse_color(at.bgcolor, strlen(at.bgcolor))) >= 0)
        f.bg = c;
    if (t.id == TAG_FONT && at.color)
        st.color = parse_color(at.color, strlen(at.color));
    if (st.bg >= 0)
        f.bg = st.bg;
    if (st.color == -2) /* transparent text */
        st.hidden = true;
    else if (st.color >= 0)
        f.color = st.color;
    if (st.hidden || same_color(f.color, f.bg))
        f.hidden = true;
    f.cls = (unsigned char)cls;
    if (cls & T_SKIP)
        f.skip = true;
    if (cls & T_PRE)
        f.pre = true;
    if (!f.skip && (cls & T_BLOCK) && !(cls & T_VOID))
        add_break(s);
    if (cls & T_CELL)
        s->space = true;
    if (cls & T_VOID) {
        if (!f.skip)
            on_void(s, t.id, &at, f.hidden, cls);
        return;
    }
    if (t.id == TAG_FORM) {
        s->out->forms++;
        if (at.action && *at.action)
            add_link(s, at.action, NULL);
    } else if (t.id == TAG_A && at.href && !f.skip) {
        if (s->in_link)
            close_link(s);
        add_link(s, at.href, NULL);
        if (!s->failed && s->nlinks > 0 && s->links[s->nlinks - 1].href &&
            s->links[s->nlinks - 1].anchor == NULL) {
            f.link = true;
            s->in_link = true;
            s->anchor_from = s->text.len; /* a pending space written first is trimmed */
        }
    }
    if (s->depth >= MAX_DEPTH) {
        s->overflow++;
        return;
    }
    s->stack[s->depth++] = f;
}

static void on_end(void *ctx, const xmlChar *xname)
{
    struct state *s = ((xmlParserCtxtPtr)ctx)->_private;
    const char *name = (const char *)xname;
    if (!name)
        return;
    unsigned cls = tag_of(s, name).cls;
    if (cls & T_VOID)
        return;
    if (s->overflow > 0) {
        s->overflow--;
        return;
    }
    /* Pop to the matching element; an end tag nobody opened is ignored. Names are usually the
     * same dictionary string, so the address is compared first. */
    int i = s->depth - 1;
    while (i >= 0 && s->stack[i].name != name && strcmp(s->stack[i].name, name) != 0)
        i--;
    if (i < 0)
        return;
    bool block = false;
    while (s->depth > i) {
        struct frame *f = &s->stack[--s->depth];
        if (f->link && s->in_link)
            close_link(s);
        block |= !f->skip && (f->cls & T_BLOCK);
    }
    if (block)
        add_break(s);
    if (cls & T_CELL)
        s->space = true;
}

/* ---- entry --------------------------------------------------------------------------------- */

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void init_xml(void)
{
    xmlInitParser();
}

static int extract(struct sg_arena *a, const char *html, size_t len, size_t max_text,
                   struct sg_html *out, bool prepass)
{
    memset(out, 0, sizeof *out);
    if (len > (64u << 20))
        return SG_ETOOBIG;
    pthread_once(&xml_once, init_xml);
    struct state *s = sg__arena_alloc(a, sizeof *s);
    if (!s)
        return SG_ENOMEM;
    memset(s, 0, sizeof *s);
    s->a = a;
    s->out = out;
    s->text.a = a;
    s->text.max = max_text;
    s->text.cap = (len < max_text ? len : max_text) + 64;
    s->text.p = sg__arena_alloc(a, s->text.cap);
    if (!s->text.p)
        return SG_ENOMEM;
    if (len == 0) {
        out->text = "";
        return 0;
    }

    if (prepass) /* libxml2's cost is per byte: the bytes nothing here reads go first */
        len = sg__html_prepass(a, html, len, &html, &s->runs);
    htmlParserCtxtPtr ctxt = htmlCreateMemoryParserCtxt(html, (int)len);
    if (!ctxt)
        return SG_ENOMEM;
    htmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.startElement = on_start;
    sax.endElement = on_end;
    sax.characters = on_text;
    sax.ignorableWhitespace = on_text;
    sax.cdataBlock = on_nothing; /* script and style bodies */
    sax.warning = on_error;
    sax.error = on_error;
    sax.fatalError = on_error;
    memcpy(ctxt->sax, &sax, sizeof sax);
    ctxt->_private = s;
    ctxt->userData = ctxt;
    htmlCtxtUseOptions(ctxt, HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                 HTML_PARSE_RECOVER | HTML_PARSE_NOBLANKS |
                                 HTML_PARSE_IGNORE_ENC | HTML_PARSE_NOIMPLIED);
    /* Our input is UTF-8 already (the MIME layer converted it): never re-decode. */
    xmlSwitchEncoding(ctxt, XML_CHAR_ENCODING_UTF8);
    htmlParseDocument(ctxt);
    if (ctxt->myDoc)
        xmlFreeDoc(ctxt->myDoc);
    htmlFreeParserCtxt(ctxt);

    if (s->in_link)
        close_link(s);
    struct tbuf *b = &s->text;
    if (b->failed || s->failed)
        return SG_ENOMEM;
    out->truncated |= b->full;
    while (b->len > 0 && is_ws((unsigned char)b->p[b->len - 1]))
        b->len--;
    size_t from = 0;
    while (from < b->len && is_ws((unsigned char)b->p[from]))
        from++;
    b->p[b->len] = '\0';
    out->text = b->p + from;
    out->text_len = b->len - from;
    out->links = s->links;
    out->nlinks = s->nlinks;
    return 0;
}

int sg__html_extract(struct sg_arena *a, const char *html, size_t len, size_t max_text,
                     struct sg_html *out)
{
    return extract(a, html, len, max_text, out, true);
}

int sg__html_extract_reference(struct sg_arena *a, const char *html, size_t len,
                               size_t max_text, struct sg_html *out)
{
    return extract(a, html, len, max_text, out, false);
}
