/* Bounded growable buffer (STYLE: every growable buffer has a hard maximum). Growth doubles so
 * appends are amortised O(1); the maximum bounds what one request can make the daemon hold. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
    b->failed = false;
}

void buf_free(struct buf *b)
{
    free(b->data);
    buf_init(b, b->max);
}

static bool reserve(struct buf *b, size_t more)
{
    if (b->failed)
        return false;
    if (more > b->max || b->len > b->max - more) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + more + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

bool buf_add(struct buf *b, const void *p, size_t n)
{
    if (!reserve(b, n))
        return false;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

bool buf_adds(struct buf *b, const char *s) { return buf_add(b, s, strlen(s)); }

bool buf_addc(struct buf *b, char c) { return buf_add(b, &c, 1); }

bool buf_addf(struct buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return false;
    }
    if ((size_t)n < sizeof small)
        return buf_add(b, small, (size_t)n);
    if (!reserve(b, (size_t)n))
        return false;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

bool buf_json_str(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_addc(b, '"');
    size_t run = 0; /* bytes copied as they are, flushed in one append */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        buf_add(b, s + i - run, run);
        run = 0;
        char esc[6] = {'\\', (char)c, 0, 0, 0, 0};
        size_t len = 2;
        if (c == '\n')
            esc[1] = 'n';
        else if (c == '\r')
            esc[1] = 'r';
        else if (c == '\t')
            esc[1] = 't';
        else if (c < 0x20) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            len = 6;
        }
        buf_add(b, esc, len);
    }
    buf_add(b, s + n - run, run);
    return buf_addc(b, '"');
}

char *buf_take(struct buf *b, size_t *len)
{
    if (!reserve(b, 0)) { /* failed earlier, or no memory for an empty string */
        buf_free(b);
        return NULL;
    }
    char *p = b->data;
    p[b->len] = '\0';
    if (len)
        *len = b->len;
    buf_init(b, b->max);
    return p;
}
