/* Growable buffer and JSON writer; see strbuf.h. */
#include "util/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/utf8.h"

void sg__sb_init(struct sg_strbuf *sb, size_t max)
{
    memset(sb, 0, sizeof *sb);
    sb->max = max ? max : (size_t)16 << 20;
}

void sg__sb_release(struct sg_strbuf *sb)
{
    sg__free(sb->p);
    size_t max = sb->max;
    memset(sb, 0, sizeof *sb);
    sb->max = max;
}

void sg__sb_clear(struct sg_strbuf *sb)
{
    sb->len = 0;
    sb->failed = false;
    if (sb->p)
        sb->p[0] = '\0';
}

static bool reserve(struct sg_strbuf *sb, size_t extra)
{
    if (sb->failed)
        return false;
    if (extra > sb->max || sb->len + extra > sb->max) {
        sb->failed = true;
        return false;
    }
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap)
        return true;
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > sb->max + 1)
        cap = sb->max + 1;
    char *p = sg__realloc(sb->p, cap);
    if (!p) {
        sb->failed = true;
        return false;
    }
    sb->p = p;
    sb->cap = cap;
    return true;
}

void sg__sb_add(struct sg_strbuf *sb, const char *s, size_t n)
{
    if (!reserve(sb, n))
        return;
    memcpy(sb->p + sb->len, s, n);
    sb->len += n;
    sb->p[sb->len] = '\0';
}

void sg__sb_adds(struct sg_strbuf *sb, const char *s) { sg__sb_add(sb, s, strlen(s)); }

void sg__sb_addc(struct sg_strbuf *sb, char c)
{
    if (!reserve(sb, 1))
        return;
    sb->p[sb->len++] = c;
    sb->p[sb->len] = '\0';
}

void sg__sb_printf(struct sg_strbuf *sb, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        sb->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        sg__sb_add(sb, small, (size_t)n);
        return;
    }
    if (!reserve(sb, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(sb->p + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

const char *sg__sb_cstr(struct sg_strbuf *sb)
{
    if (!sb->p || sb->failed)
        return "";
    return sb->p;
}

char *sg__sb_steal(struct sg_strbuf *sb)
{
    if (sb->failed) {
        sg__sb_release(sb);
        return NULL;
    }
    if (!sb->p && !reserve(sb, 0))
        return NULL;
    sb->p[sb->len] = '\0';
    char *p = sb->p;
    size_t max = sb->max;
    memset(sb, 0, sizeof *sb);
    sb->max = max;
    return p;
}

void sg__sb_json_str(struct sg_strbuf *sb, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    sg__sb_addc(sb, '"');
    size_t run = 0; /* bytes copied verbatim in one go */
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            run++;
            continue;
        }
        size_t seq = c >= 0x80 ? sg__utf8_seq(s + i, n - i) : 0;
        if (seq) {
            i += seq;
            run += seq;
            continue;
        }
        sg__sb_add(sb, (const char *)s + i - run, run);
        run = 0;
        switch (c) {
        case '"': sg__sb_add(sb, "\\\"", 2); break;
        case '\\': sg__sb_add(sb, "\\\\", 2); break;
        case '\n': sg__sb_add(sb, "\\n", 2); break;
        case '\r': sg__sb_add(sb, "\\r", 2); break;
        case '\t': sg__sb_add(sb, "\\t", 2); break;
        default:
            if (c < 0x20)
                sg__sb_printf(sb, "\\u%04x", c);
            else
                sg__sb_add(sb, "\xef\xbf\xbd", 3); /* invalid UTF-8 byte */
        }
        i++;
    }
    sg__sb_add(sb, (const char *)s + n - run, run);
    sg__sb_addc(sb, '"');
}

void sg__sb_json_cstr(struct sg_strbuf *sb, const char *s)
{
    if (!s)
        sg__sb_add(sb, "null", 4);
    else
        sg__sb_json_str(sb, s, strlen(s));
}

/* Writes v with prec significant digits (at most 17) into buf[32]; whether it reads back as v. */
static bool reads_back(char buf[32], unsigned prec, double v)
{
    if (prec > 17)
        prec = 17; /* said where the compiler's check of the output size can see it */
    snprintf(buf, 32, "%.*g", (int)prec, v);
    return strtod(buf, NULL) == v;
}

void sg__sb_json_num(struct sg_strbuf *sb, double v)
{
    if (!isfinite(v)) {
        sg__sb_add(sb, "null", 4);
        return;
    }
    if (v == (double)(long long)v && fabs(v) < 1e15) {
        sg__sb_printf(sb, "%lld", (long long)v);
        return;
    }
    /* The fewest significant digits that read back as v. Each try is a printf and a strtod, and
     * most scores need 16 digits, so the count is found by bisection: a correctly rounded
     * p-digit form is never closer to v than the (p+1)-digit one, and the doubles that read as
     * v lie in an interval centred on v, so once p digits read back so do p + 1. Only at a
     * power of two is that interval lopsided (the gap below is half the one above): there the
     * digits are tried one by one, as everywhere before. */
    char buf[32];
    int e;
    if (fabs(frexp(v, &e)) == 0.5) {
        for (unsigned prec = 1; !reads_back(buf, prec, v) && prec < 17; prec++)
            ;
    } else {
        unsigned lo = 1, hi = 17; /* 17 digits always read back */
        bool have = false;        /* buf holds hi's form */
        char t[32];
        while (lo < hi) {
            unsigned mid = (lo + hi) / 2;
            if (reads_back(t, mid, v)) {
                hi = mid;
                memcpy(buf, t, sizeof t);
                have = true;
            } else {
                lo = mid + 1;
            }
        }
        if (!have)
            reads_back(buf, 17, v);
    }
    sg__sb_adds(sb, buf);
}

void sg__sb_json_key(struct sg_strbuf *sb, const char *key)
{
    if (sb->len && sb->p[sb->len - 1] != '{' && sb->p[sb->len - 1] != '[')
        sg__sb_addc(sb, ',');
    sg__sb_json_cstr(sb, key);
    sg__sb_addc(sb, ':');
}
