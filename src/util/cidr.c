/* IP address and CIDR prefix parsing, matching and canonical formatting (see cidr.h).
 * Parsers take (ptr, len) slices and never look past len; IPv4 is strict dotted-quad so that
 * "010.1.1.1" cannot mean octal to one program and decimal to another. */
#include "util/cidr.h"

#include <stdio.h>
#include <string.h>

#include "sendguard.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Exactly four decimal parts 0-255, each "0" or without a leading zero, filling the slice. */
static int parse_v4(const char *s, size_t len, uint8_t out[4])
{
    size_t p = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (p >= len || s[p] != '.')
                return SG_EPARSE;
            p++;
        }
        size_t start = p;
        unsigned v = 0;
        while (p < len && is_digit(s[p]) && p - start < 3)
            v = v * 10 + (unsigned)(s[p++] - '0');
        size_t n = p - start;
        if (n == 0 || v > 255 || (n > 1 && s[start] == '0'))
            return SG_EPARSE;
        if (p < len && is_digit(s[p]))
            return SG_EPARSE; /* a fourth digit */
        out[part] = (uint8_t)v;
    }
    return p == len ? 0 : SG_EPARSE;
}

/* RFC 4291 section 2.2 text forms: up to 8 groups of 1-4 hex digits, one "::" standing for one
 * or more zero groups, and an optional dotted-quad tail taking the last two groups. */
static int parse_v6(const char *s, size_t len, uint8_t out[16])
{
    uint16_t g[8];
    int n = 0, gap = -1;
    size_t p = 0;
    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        p = 2;
    } else if (len >= 1 && s[0] == ':') {
        return SG_EPARSE;
    }
    while (p < len) {
        size_t start = p;
        while (p < len && hexval(s[p]) >= 0)
            p++;
        if (p < len && s[p] == '.') {
            if (n > 6)
                return SG_EPARSE;
            uint8_t v4[4];
            if (parse_v4(s + start, len - start, v4) != 0)
                return SG_EPARSE;
            g[n++] = (uint16_t)(v4[0] << 8 | v4[1]);
            g[n++] = (uint16_t)(v4[2] << 8 | v4[3]);
            p = len;
            break;
        }
        size_t digits = p - start;
        if (digits == 0 || digits > 4 || n == 8)
            return SG_EPARSE;
        unsigned v = 0;
        for (size_t i = start; i < p; i++)
            v = v << 4 | (unsigned)hexval(s[i]);
        g[n++] = (uint16_t)v;
        if (p == len)
            break;
        if (s[p] != ':')
            return SG_EPARSE;
        p++;
        if (p < len && s[p] == ':') {
            if (gap >= 0)
                return SG_EPARSE;
            gap = n;
            p++;
        } else if (p == len) {
            return SG_EPARSE; /* a trailing single colon */
        }
    }
    if (gap < 0 ? n != 8 : n > 7)
        return SG_EPARSE;
    uint16_t full[8] = {0};
    if (gap < 0) {
        memcpy(full, g, sizeof full);
    } else {
        int tail = n - gap;
        memcpy(full, g, (size_t)gap * sizeof g[0]);
        memcpy(full + 8 - tail, g + gap, (size_t)tail * sizeof g[0]);
    }
    for (int i = 0; i < 8; i++) {
        out[2 * i] = (uint8_t)(full[i] >> 8);
        out[2 * i + 1] = (uint8_t)full[i];
    }
    return 0;
}

static bool has_colon(const char *s, size_t len) { return len && memchr(s, ':', len) != NULL; }

int sg__ip_parse(const char *s, size_t len, uint8_t out[16])
{
    uint8_t tmp[16];
    if (!s || len == 0)
        return SG_EPARSE;
    if (has_colon(s, len)) {
        if (parse_v6(s, len, tmp) != 0)
            return SG_EPARSE;
    } else {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        memcpy(tmp, mapped, sizeof mapped);
        if (parse_v4(s, len, tmp + 12) != 0)
            return SG_EPARSE;
    }
    memcpy(out, tmp, 16);
    return 0;
}

int sg__cidr_parse(const char *s, size_t len, struct sg_cidr *out)
{
    if (!s || len == 0)
        return SG_EPARSE;
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    struct sg_cidr c;
    if (sg__ip_parse(s, alen, c.addr) != 0)
        return SG_EPARSE;
    bool v4 = !has_colon(s, alen);
    unsigned max = v4 ? 32 : 128, bits = max;
    if (slash) {
        const char *q = slash + 1;
        size_t qlen = len - alen - 1;
        if (qlen == 0 || qlen > 3 || (qlen > 1 && q[0] == '0'))
            return SG_EPARSE;
        bits = 0;
        for (size_t i = 0; i < qlen; i++) {
            if (!is_digit(q[i]))
                return SG_EPARSE;
            bits = bits * 10 + (unsigned)(q[i] - '0');
        }
        if (bits > max)
            return SG_EPARSE;
    }
    c.bits = (uint8_t)(v4 ? 96 + bits : bits);
    for (unsigned i = 0; i < 16; i++) {
        unsigned keep = c.bits >= 8 * (i + 1) ? 8 : c.bits > 8 * i ? c.bits - 8 * i : 0;
        c.addr[i] &= (uint8_t)(0xff00u >> keep);
    }
    *out = c;
    return 0;
}

bool sg__cidr_match(const struct sg_cidr *c, const uint8_t ip[16])
{
    unsigned bits = c->bits > 128 ? 128 : c->bits;
    unsigned whole = bits / 8, rest = bits % 8;
    if (memcmp(c->addr, ip, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff00u >> rest);
    return ((c->addr[whole] ^ ip[whole]) & mask) == 0;
}

static bool is_v4_mapped(const uint8_t a[16])
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a, mapped, sizeof mapped) == 0;
}

/* RFC 5952: lowercase, no leading zeros, the longest run of two or more zero groups (the first
 * of equal runs) as "::". */
static void format_v6(const uint8_t a[16], char *buf, size_t size)
{
    uint16_t g[8];
    for (int i = 0; i < 8; i++)
        g[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
    int best = -1, best_len = 1;
    for (int i = 0; i < 8;) {
        if (g[i] != 0) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && g[j] == 0)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    size_t n = 0;
    for (int i = 0; i < 8 && n < size; i++) {
        if (i == best) {
            n += (size_t)snprintf(buf + n, size - n, "::");
            i += best_len - 1;
            continue;
        }
        bool sep = i > 0 && i != best + best_len;
        n += (size_t)snprintf(buf + n, size - n, "%s%x", sep ? ":" : "", g[i]);
    }
}

void sg__cidr_format(const struct sg_cidr *c, char *buf, size_t size)
{
    if (!buf || size == 0)
        return;
    if (c->bits >= 96 && is_v4_mapped(c->addr)) {
        snprintf(buf, size, "%u.%u.%u.%u/%u", c->addr[12], c->addr[13], c->addr[14], c->addr[15],
                 (unsigned)(c->bits - 96));
        return;
    }
    char text[48] = "";
    format_v6(c->addr, text, sizeof text);
    snprintf(buf, size, "%s/%u", text, (unsigned)c->bits);
}
