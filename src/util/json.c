/* The JSON reader; see json.h. Validation happens once, in sg__json_value; the iterators then
 * walk text already known to be well formed, which keeps them free of error paths. */
#include "util/json.h"

#include <string.h>

#include "util/utf8.h"

void sg__json_init(struct sg_json *j, const char *text, size_t len, int max_depth)
{
    j->start = j->p = text;
    j->end = text + len;
    j->max_depth = max_depth;
    j->error = NULL;
    j->error_offset = 0;
}

static int fail(struct sg_json *j, const char *at, const char *why)
{
    if (!j->error) {
        j->error = why;
        j->error_offset = (size_t)(at - j->start);
    }
    return -1;
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

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

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

/* j->p is at the opening quote. */
static int scan_string(struct sg_json *j, struct sg_json_val *out)
{
    const char *p = j->p + 1, *end = j->end;
    out->type = SG_JSON_STRING;
    out->p = p;
    out->escaped = false;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            out->len = (size_t)(p - out->p);
            j->p = p + 1;
            return 0;
        }
        if (c < 0x20)
            return fail(j, p, "control character in string");
        if (c == '\\') {
            out->escaped = true;
            if (p + 1 >= end)
                break;
            char e = p[1];
            if (e == 'u') {
                if (end - p < 6)
                    return fail(j, p, "truncated \\u escape");
                int u = hex4(p + 2);
                if (u < 0)
                    return fail(j, p, "invalid \\u escape");
                if (u == 0)
                    return fail(j, p, "\\u0000 is not allowed in strings");
                if (u >= 0xdc00 && u <= 0xdfff)
                    return fail(j, p, "unpaired UTF-16 surrogate");
                if (u >= 0xd800 && u <= 0xdbff) {
                    if (end - p < 12 || p[6] != '\\' || p[7] != 'u')
                        return fail(j, p, "unpaired UTF-16 surrogate");
                    int lo = hex4(p + 8);
                    if (lo < 0xdc00 || lo > 0xdfff)
                        return fail(j, p, "unpaired UTF-16 surrogate");
                    p += 12;
                } else {
                    p += 6;
                }
                continue;
            }
            if (e == '\0' || !strchr("\"\\/bfnrt", e))
                return fail(j, p, "invalid escape in string");
            p += 2;
            continue;
        }
        if (c >= 0x80) {
            size_t n = sg__utf8_seq((const unsigned char *)p, (size_t)(end - p));
            if (!n)
                return fail(j, p, "invalid UTF-8 in string");
            p += n;
            continue;
        }
        p++;
    }
    return fail(j, end, "unterminated string");
}

static int scan_number(struct sg_json *j, struct sg_json_val *out)
{
    const char *p = j->p, *end = j->end;
    out->type = SG_JSON_NUMBER;
    out->p = p;
    out->escaped = false;
    if (p < end && *p == '-')
        p++;
    if (p >= end || *p < '0' || *p > '9')
        return fail(j, p, "invalid number");
    if (*p == '0')
        p++;
    else
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return fail(j, p, "invalid number");
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return fail(j, p, "invalid number");
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    out->len = (size_t)(p - out->p);
    j->p = p;
    return 0;
}

static int scan_literal(struct sg_json *j, const char *word, enum sg_json_type type,
                        struct sg_json_val *out)
{
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
        return fail(j, j->p, "unexpected character");
    out->type = type;
    out->p = j->p;
    out->len = n;
    out->escaped = false;
    j->p += n;
    return 0;
}

static int scan_value(struct sg_json *j, struct sg_json_val *out, int depth);

/* Arrays and objects share one loop: objects read "key": before each value. */
static int scan_container(struct sg_json *j, struct sg_json_val *out, int depth, bool object)
{
    const char *open = j->p;
    char close = object ? '}' : ']';
    if (depth >= j->max_depth)
        return fail(j, open, "nested too deeply");
    out->type = object ? SG_JSON_OBJECT : SG_JSON_ARRAY;
    out->escaped = false;
    j->p = skip_ws(open + 1, j->end);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        out->p = open;
        out->len = (size_t)(j->p - open);
        return 0;
    }
    for (;;) {
        struct sg_json_val v;
        if (object) {
            if (j->p >= j->end || *j->p != '"')
                return fail(j, j->p, j->p >= j->end ? "unexpected end of input" : "expected a string key");
            if (scan_string(j, &v))
                return -1;
            j->p = skip_ws(j->p, j->end);
            if (j->p >= j->end || *j->p != ':')
                return fail(j, j->p, "expected ':' after key");
            j->p = skip_ws(j->p + 1, j->end);
        }
        if (scan_value(j, &v, depth + 1))
            return -1;
        j->p = skip_ws(j->p, j->end);
        if (j->p >= j->end)
            return fail(j, j->p, "unexpected end of input");
        if (*j->p == close) {
            j->p++;
            out->p = open;
            out->len = (size_t)(j->p - open);
            return 0;
        }
        if (*j->p != ',')
            return fail(j, j->p, object ? "expected ',' or '}'" : "expected ',' or ']'");
        j->p = skip_ws(j->p + 1, j->end);
    }
}

static int scan_value(struct sg_json *j, struct sg_json_val *out, int depth)
{
    j->p = skip_ws(j->p, j->end);
    if (j->p >= j->end)
        return fail(j, j->p, "unexpected end of input");
    switch (*j->p) {
    case '"': return scan_string(j, out);
    case '{': return scan_container(j, out, depth, true);
    case '[': return scan_container(j, out, depth, false);
    case 't': return scan_literal(j, "true", SG_JSON_TRUE, out);
    case 'f': return scan_literal(j, "false", SG_JSON_FALSE, out);
    case 'n': return scan_literal(j, "null", SG_JSON_NULL, out);
    default: return scan_number(j, out);
    }
}

int sg__json_value(struct sg_json *j, struct sg_json_val *out) { return scan_value(j, out, 0); }

int sg__json_end(struct sg_json *j)
{
    j->p = skip_ws(j->p, j->end);
    return j->p == j->end ? 0 : fail(j, j->p, "unexpected text after the value");
}

/* Iteration re-reads validated text with a scanner that cannot fail. */
static void next_value(const char **pp, const char *end, struct sg_json_val *v)
{
    struct sg_json j;
    sg__json_init(&j, *pp, (size_t)(end - *pp), 1 << 30);
    scan_value(&j, v, 0);
    *pp = j.p;
}

int sg__json_object_next(const struct sg_json_val *obj, size_t *pos, struct sg_json_val *key,
                         struct sg_json_val *val)
{
    const char *end = obj->p + obj->len - 1; /* the closing brace */
    const char *p = skip_ws(obj->p + (*pos ? *pos : 1), end);
    if (p < end && *p == ',')
        p = skip_ws(p + 1, end);
    if (p >= end)
        return 0;
    next_value(&p, end, key);
    p = skip_ws(p, end) + 1; /* ':' */
    next_value(&p, end, val);
    *pos = (size_t)(p - obj->p);
    return 1;
}

int sg__json_array_next(const struct sg_json_val *arr, size_t *pos, struct sg_json_val *val)
{
    const char *end = arr->p + arr->len - 1;
    const char *p = skip_ws(arr->p + (*pos ? *pos : 1), end);
    if (p < end && *p == ',')
        p = skip_ws(p + 1, end);
    if (p >= end)
        return 0;
    next_value(&p, end, val);
    *pos = (size_t)(p - arr->p);
    return 1;
}

static size_t put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

size_t sg__json_string(const struct sg_json_val *v, char *out)
{
    if (!v->escaped) {
        memcpy(out, v->p, v->len);
        out[v->len] = '\0';
        return v->len;
    }
    const char *p = v->p, *end = v->p + v->len;
    size_t n = 0;
    while (p < end) {
        if (*p != '\\') {
            out[n++] = *p++;
            continue;
        }
        char e = p[1];
        p += 2;
        switch (e) {
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u': {
            unsigned cp = (unsigned)hex4(p);
            p += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                unsigned lo = (unsigned)hex4(p + 2);
                p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            n += put_utf8(out + n, cp);
            break;
        }
        default: out[n++] = e; /* " \ / */
        }
    }
    out[n] = '\0';
    return n;
}

bool sg__json_string_is(const struct sg_json_val *v, const char *lit)
{
    size_t n = strlen(lit);
    if (!v->escaped)
        return v->len == n && memcmp(v->p, lit, n) == 0;
    char buf[64];
    if (v->len >= sizeof buf)
        return false;
    return sg__json_string(v, buf) == n && memcmp(buf, lit, n) == 0;
}

bool sg__json_int(const struct sg_json_val *v, int64_t *out)
{
    if (v->type != SG_JSON_NUMBER)
        return false;
    const char *p = v->p, *end = v->p + v->len;
    bool neg = p < end && *p == '-';
    if (neg)
        p++;
    uint64_t x = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return false;
        if (x > (UINT64_MAX - 9) / 10)
            return false;
        x = x * 10 + (uint64_t)(*p - '0');
    }
    if (x > (uint64_t)INT64_MAX + neg)
        return false;
    *out = neg ? (int64_t)(0 - x) : (int64_t)x;
    return true;
}
