/* Literal normalisation for rule patterns: rules are written in plain text and the message text
 * is normalised (text/normalize.c: NFKC case fold, look-alikes as ASCII), so every literal
 * character of a regex or word is compiled to "itself or its normalised form" with the very
 * same normaliser. "ß" then also matches the "ss" the text holds; ASCII is left as written. */
#include <string.h>

#include "rules/internal.h"
#include "text/normalize.h"
#include "util/alloc.h"
#include "util/arena.h"

#define ALT_MAX 2     /* the character as written, and its normalised form */
#define ALT_BYTES 48  /* longer forms (a few ligatures and Arabic phrases) are left out */

struct alts {
    uint8_t n;
    bool optional; /* some form is empty: the character may vanish from the normalised text */
    uint8_t len[ALT_MAX];
    char s[ALT_MAX][ALT_BYTES];
};

struct sg__norm {
    struct sg_arena *arena; /* for sg__normalize; reset after each use */
    const char *error;      /* set by a pattern the transform cannot express */
};

size_t sg__utf8_decode(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned c = u[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        *cp = 0xfffd;
        return 1;
    }
    if (n < len)
        goto bad;
    for (size_t i = 1; i < len; i++) {
        if ((u[i] & 0xc0) != 0x80)
            goto bad;
        v = (v << 6) | (u[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        goto bad;
    *cp = v;
    return len;
bad:
    *cp = 0xfffd;
    return 1;
}

static size_t utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* ASCII letters compare without case: the patterns are compiled caseless. */
static bool same_form(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y)
            return false;
    }
    return true;
}

static void compute_alts(struct sg__norm *nm, uint32_t cp, struct alts *a)
{
    memset(a, 0, sizeof *a);
    a->len[0] = (uint8_t)utf8_encode(cp, a->s[0]);
    a->n = 1;
    if (cp < 0x80)
        return; /* the normaliser only lower-cases ASCII; matching is caseless anyway */
    struct sg_norm out;
    if (sg__normalize(nm->arena, a->s[0], a->len[0], false, &out) == 0) {
        if (out.len == 0)
            a->optional = true; /* an invisible character: gone from the text */
        else if (out.len < ALT_BYTES && !same_form(a->s[0], a->len[0], out.s, out.len)) {
            memcpy(a->s[1], out.s, out.len);
            a->len[1] = (uint8_t)out.len;
            a->n = 2;
        }
    }
    sg__arena_reset(nm->arena);
}

struct sg__norm *sg__norm_new(void)
{
    if (sg__unicode_init() != 0)
        return NULL;
    struct sg__norm *nm = sg__calloc(1, sizeof *nm);
    if (nm && !(nm->arena = sg__arena_new(1 << 20))) {
        sg__free(nm);
        nm = NULL;
    }
    return nm;
}

void sg__norm_free(struct sg__norm *nm)
{
    if (!nm)
        return;
    sg__arena_free(nm->arena);
    sg__free(nm);
}

static void get_alts(struct sg__norm *nm, uint32_t cp, struct alts *a)
{
    compute_alts(nm, cp, a);
}

static bool is_word_ascii(unsigned c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* One code point of a form, escaped for use outside a class (in_class false) or inside. */
static void emit_cp(struct sg_strbuf *out, const char *s, size_t n, bool in_class)
{
    unsigned c = (unsigned char)s[0];
    if (c >= 0x80 || is_word_ascii(c) || (c == ' ' && !in_class)) {
        sg__sb_add(out, s, n);
    } else if (c > 0x20 && c < 0x7f) {
        sg__sb_addc(out, '\\');
        sg__sb_addc(out, (char)c);
    } else {
        sg__sb_printf(out, "\\x{%x}", c);
    }
}

static void emit_form(struct sg_strbuf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = sg__utf8_decode(s + i, n - i, &cp);
        emit_cp(out, s + i, k, false);
        i += k;
    }
}

static bool single_cp(const char *s, size_t n)
{
    uint32_t cp;
    return sg__utf8_decode(s, n, &cp) == n;
}

/* A literal character outside a class. Patterns are compiled byte-wise (compile.c), so a
 * character of several bytes is always grouped: a quantifier after it applies to all of them. */
static void emit_literal(struct sg__norm *nm, uint32_t cp, struct sg_strbuf *out)
{
    struct alts a;
    get_alts(nm, cp, &a);
    if (a.n == 1 && !a.optional && a.len[0] == 1) {
        emit_form(out, a.s[0], a.len[0]);
        return;
    }
    sg__sb_adds(out, "(?:");
    for (int i = 0; i < a.n; i++) {
        if (i)
            sg__sb_addc(out, '|');
        emit_form(out, a.s[i], a.len[i]);
    }
    sg__sb_addc(out, ')');
    if (a.optional)
        sg__sb_addc(out, '?');
}

void sg__norm_word(struct sg__norm *nm, const char *w, size_t n, struct sg_strbuf *out)
{
    if (n == 0)
        return;
    uint32_t first, last = 0;
    sg__utf8_decode(w, n, &first);
    /* \b is ASCII (compile.c): only an ASCII word character gets one. */
    if (is_word_ascii(first))
        sg__sb_adds(out, "\\b");
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += sg__utf8_decode(w + i, n - i, &cp);
        emit_literal(nm, cp, out);
        last = cp;
    }
    if (last < 0x80 && is_word_ascii(last))
        sg__sb_adds(out, "\\b");
}

/* Copies s[*i] and following bytes through the first `close` (inclusive), or to the end. */
static void copy_through(const char *s, size_t n, size_t *i, char close, struct sg_strbuf *out)
{
    size_t j = *i;
    while (j < n && s[j] != close)
        j++;
    if (j < n)
        j++;
    sg__sb_add(out, s + *i, j - *i);
    *i = j;
}

/* An escape at s[*i] == '\\' that stands for more than one literal character, or for a
 * character given by code (\x41, \p{L}, \w ...): copied as written. Returns false for an
 * escaped literal (\. \- \é), which the caller normalises. */
static bool copy_escape(const char *s, size_t n, size_t *i, struct sg_strbuf *out)
{
    size_t j = *i + 1;
    if (j >= n) {
        sg__sb_addc(out, '\\');
        *i = j;
        return true;
    }
    unsigned char c = (unsigned char)s[j];
    if (c >= 0x80 || !(is_word_ascii(c)))
        return false;
    size_t start = *i;
    j++;
    if ((c == 'x' || c == 'p' || c == 'P' || c == 'o' || c == 'N') && j < n && s[j] == '{') {
        while (j < n && s[j] != '}')
            j++;
        if (j < n)
            j++;
    } else if (c == 'x') {
        for (int k = 0; k < 2 && j < n && strchr("0123456789abcdefABCDEF", s[j]) && s[j]; k++)
            j++;
    } else if ((c == 'p' || c == 'P' || c == 'c') && j < n) {
        j++;
    }
    sg__sb_add(out, s + start, j - start);
    *i = j;
    return true;
}

/* A class at s[*i] == '['. Matching is byte-wise, so only ASCII members stay in the class;
 * the forms of a non-ASCII member become alternatives next to it ([ée] is (?:[e]|é)). In a
 * negated class a non-ASCII member's bytes are excluded, which excludes that character (and
 * others sharing its lead byte). A range must be ASCII. */
static void emit_class(struct sg__norm *nm, const char *s, size_t n, size_t *i,
                       struct sg_strbuf *out)
{
    struct sg_strbuf cls, extra;
    sg__sb_init(&cls, 1 << 16);
    sg__sb_init(&extra, 1 << 16);
    size_t j = *i + 1;
    bool negated = j < n && s[j] == '^';
    if (negated)
        j++;
    bool first = true;
    while (j < n && (s[j] != ']' || first)) {
        first = false;
        if (s[j] == '[' && j + 1 < n && (s[j + 1] == ':' || s[j + 1] == '=' || s[j + 1] == '.')) {
            char close = s[j + 1];
            size_t k = j + 2;
            while (k + 1 < n && !(s[k] == close && s[k + 1] == ']'))
                k++;
            k = k + 2 <= n ? k + 2 : n;
            sg__sb_add(&cls, s + j, k - j);
            j = k;
            continue;
        }
        if (s[j] == '\\') {
            size_t k = j;
            if (copy_escape(s, n, &k, &cls)) {
                j = k;
                continue;
            }
            j++; /* an escaped literal: normalised below */
            if (j >= n)
                break;
        }
        uint32_t cp;
        size_t len = sg__utf8_decode(s + j, n - j, &cp);
        if (j + len + 1 < n && s[j + len] == '-' && s[j + len + 1] != ']') {
            /* A range is taken as written (ASCII only: byte-wise, "à-ÿ" means nothing). */
            size_t e = j + len + 1;
            uint32_t cp2 = 0;
            size_t l2 = 0;
            if (s[e] == '\\' && e + 1 < n) {
                l2 = 1 + sg__utf8_decode(s + e + 1, n - e - 1, &cp2);
            } else {
                l2 = sg__utf8_decode(s + e, n - e, &cp2);
            }
            if (cp >= 0x80 || cp2 >= 0x80)
                nm->error = "a character range must be ASCII (write the letters out: [éèê])";
            sg__sb_add(&cls, s + j, e + l2 - j);
            j = e + l2;
            continue;
        }
        struct alts a;
        get_alts(nm, cp, &a);
        for (int k = 0; k < a.n; k++) {
            if (a.len[k] == 1) {
                emit_cp(&cls, a.s[k], a.len[k], true);
            } else if (negated) {
                if (single_cp(a.s[k], a.len[k]))
                    sg__sb_add(&cls, a.s[k], a.len[k]);
            } else {
                sg__sb_addc(&extra, '|');
                emit_form(&extra, a.s[k], a.len[k]);
            }
        }
        j += len;
    }
    if (j < n)
        j++; /* the closing ] */
    *i = j;
    if (negated || !extra.len) {
        sg__sb_adds(out, negated ? "[^" : "[");
        sg__sb_add(out, cls.p ? cls.p : "", cls.len);
        sg__sb_addc(out, ']');
    } else if (!cls.len) {
        sg__sb_adds(out, "(?:");
        sg__sb_add(out, extra.p + 1, extra.len - 1);
        sg__sb_addc(out, ')');
    } else {
        sg__sb_adds(out, "(?:[");
        sg__sb_add(out, cls.p, cls.len);
        sg__sb_addc(out, ']');
        sg__sb_add(out, extra.p, extra.len);
        sg__sb_addc(out, ')');
    }
    if (cls.failed || extra.failed)
        out->failed = true;
    sg__sb_release(&cls);
    sg__sb_release(&extra);
}

/* Does the class at s[i] == '[' hold a non-ASCII character? */
static bool class_has_nonascii(const char *s, size_t n, size_t i)
{
    for (size_t j = i + 1; j < n; j++) {
        if ((unsigned char)s[j] >= 0x80)
            return true;
        if (s[j] == '\\')
            j++;
        else if (s[j] == ']' && j > i + 1)
            return false;
    }
    return false;
}

/* Is s[i..] a counted quantifier {n}, {n,}, {n,m} or {,m}? */
static size_t quantifier_len(const char *s, size_t n, size_t i)
{
    size_t j = i + 1;
    size_t digits = 0;
    while (j < n && s[j] >= '0' && s[j] <= '9')
        j++, digits++;
    if (j < n && s[j] == ',') {
        j++;
        while (j < n && s[j] >= '0' && s[j] <= '9')
            j++, digits++;
    }
    if (digits == 0 || j >= n || s[j] != '}')
        return 0;
    return j + 1 - i;
}

const char *sg__norm_regex(struct sg__norm *nm, const char *re, size_t n, struct sg_strbuf *out)
{
    nm->error = NULL;
    size_t i = 0;
    bool prev_nonascii = false; /* the last thing emitted was a non-ASCII literal */
    while (i < n && !out->failed) {
        unsigned char c = (unsigned char)re[i];
        bool was_nonascii = prev_nonascii;
        prev_nonascii = false;
        switch (c) {
        case '\\':
            if (i + 1 < n && re[i + 1] == 'b' &&
                (was_nonascii || sg__regex_boundary_nonascii(re, n, i))) {
                /* \b is ASCII: next to "é" (or a class, a group's alternative or an optional
                 * atom that can be one) it would fail where the text has that letter, so it is
                 * left out. */
                i += 2;
                continue;
            }
            if (i + 1 < n && re[i + 1] == 'Q') {
                /* \Q...\E: every character literal. */
                i += 2;
                while (i < n && !(re[i] == '\\' && i + 1 < n && re[i + 1] == 'E')) {
                    uint32_t cp;
                    i += sg__utf8_decode(re + i, n - i, &cp);
                    emit_literal(nm, cp, out);
                }
                if (i < n)
                    i += 2;
                continue;
            }
            if (copy_escape(re, n, &i, out))
                continue;
            i++; /* an escaped literal */
            if (i < n) {
                uint32_t cp;
                i += sg__utf8_decode(re + i, n - i, &cp);
                emit_literal(nm, cp, out);
            }
            continue;
        case '[': {
            prev_nonascii = class_has_nonascii(re, n, i);
            emit_class(nm, re, n, &i, out);
            continue;
        }
        case '(':
            if (i + 1 < n && re[i + 1] == '?') {
                if (i + 2 < n && re[i + 2] == '#') {
                    copy_through(re, n, &i, ')', out);
                    continue;
                }
                size_t j = i + 2;
                if (j < n && (re[j] == 'P' || re[j] == '<' || re[j] == '\'')) {
                    if (re[j] == '<' && j + 1 < n && (re[j + 1] == '=' || re[j + 1] == '!')) {
                        /* A lookbehind (Hyperscan refuses it anyway). */
                        sg__sb_add(out, re + i, j + 2 - i);
                        i = j + 2;
                        continue;
                    }
                    /* (?P<name>, (?<name>, (?'name': copy the name, never normalise it. */
                    char close = re[j] == '\'' ? '\'' : '>';
                    size_t k = j + 1;
                    while (k < n && re[k] != close)
                        k++;
                    if (k < n)
                        k++;
                    sg__sb_add(out, re + i, k - i);
                    i = k;
                    continue;
                }
                /* Flags like (?i) or (?i: and other (?X forms: copied as written. */
                while (j < n && (is_word_ascii((unsigned char)re[j]) || re[j] == '-' ||
                                 re[j] == '^' || re[j] == '=' || re[j] == '!' || re[j] == '>'))
                    j++;
                if (j < n && (re[j] == ':' || re[j] == ')'))
                    j++;
                sg__sb_add(out, re + i, j - i);
                i = j;
                continue;
            }
            sg__sb_addc(out, '(');
            i++;
            continue;
        case '{': {
            size_t q = quantifier_len(re, n, i);
            if (q) {
                sg__sb_add(out, re + i, q);
                i += q;
            } else {
                sg__sb_adds(out, "\\{");
                i++;
            }
            continue;
        }
        case '.': case '^': case '$': case '|': case ')': case '*': case '+': case '?':
            sg__sb_addc(out, (char)c);
            i++;
            continue;
        default: {
            uint32_t cp;
            i += sg__utf8_decode(re + i, n - i, &cp);
            emit_literal(nm, cp, out);
            prev_nonascii = cp >= 0x80;
        }
        }
    }
    return nm->error;
}

void sg__norm_text(struct sg__norm *nm, const char *s, size_t n, struct sg_strbuf *out)
{
    struct sg_norm res;
    if (sg__normalize(nm->arena, s, n, false, &res) == 0)
        sg__sb_add(out, res.s, res.len);
    else
        out->failed = true;
    sg__arena_reset(nm->arena);
}
