/* URL extraction and facts; see urls.h and docs/content.md. The scanner finds where a URL is
 * written, sg__url_parse decides what it is: the same parser serves text, hrefs and anchors. */
#include "text/urls.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <idn2.h>
#include <libpsl.h>
#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include "sendguard.h"
#include "text/normalize.h"
#include "util/arena.h"

/* ---- built-in domain lists: shorteners and abused top-level domains ------------------------ */

struct span {
    const char *p;
    size_t n;
};

enum { MAX_LISTED = 1024 };

/* One data file's entries, sorted for bsearch, parsed on first use. */
struct domain_list {
    const char *data, *end;
    struct span v[MAX_LISTED];
    size_t n;
    pthread_once_t once;
};

#define DOMAIN_LIST(text) {.data = text, .end = text##_end, .once = PTHREAD_ONCE_INIT}
static struct domain_list shorteners = DOMAIN_LIST(sg__url_shorteners);
static struct domain_list abused_tlds = DOMAIN_LIST(sg__url_abused_tlds);
static struct domain_list freemail = DOMAIN_LIST(sg__freemail_domains);
static struct domain_list popular = DOMAIN_LIST(sg__popular_domains);
static struct domain_list free_hosting = DOMAIN_LIST(sg__free_hosting_domains);

static int span_cmp(const void *x, const void *y)
{
    const struct span *a = x, *b = y;
    size_t n = a->n < b->n ? a->n : b->n;
    int c = memcmp(a->p, b->p, n);
    return c ? c : (a->n > b->n) - (a->n < b->n);
}

/* One entry a line, blanks trimmed, '#' lines skipped. */
static void domain_list_load(struct domain_list *l)
{
    const char *p = l->data, *end = l->end;
    while (p < end && l->n < MAX_LISTED) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *s = p, *e = le;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            e--;
        if (s < e && *s != '#')
            l->v[l->n++] = (struct span){s, (size_t)(e - s)};
        p = le + 1;
    }
    qsort(l->v, l->n, sizeof *l->v, span_cmp);
}

static void load_shorteners(void) { domain_list_load(&shorteners); }

static void load_abused_tlds(void) { domain_list_load(&abused_tlds); }

static void load_freemail(void) { domain_list_load(&freemail); }

static void load_popular(void) { domain_list_load(&popular); }

static void load_free_hosting(void) { domain_list_load(&free_hosting); }

static bool listed(const struct domain_list *l, const char *s, size_t n)
{
    struct span key = {s, n};
    return bsearch(&key, l->v, l->n, sizeof *l->v, span_cmp) != NULL;
}

/* Whether host[0..len) or one of its parent domains is listed: www.bit.ly is bit.ly. */
static bool listed_or_parent(const struct domain_list *l, const char *host, size_t len)
{
    for (size_t i = 0; i < len;) {
        if (listed(l, host + i, len - i))
            return true;
        const char *dot = memchr(host + i, '.', len - i);
        if (!dot)
            break;
        i = (size_t)(dot - host) + 1;
    }
    return false;
}

bool sg__url_is_shortener(const char *host, size_t len)
{
    pthread_once(&shorteners.once, load_shorteners);
    return listed_or_parent(&shorteners, host, len);
}

/* Whether label[0..n) is one of names. */
static bool label_in(const char *label, size_t n, const char *const *names)
{
    for (const char *const *p = names; *p; p++)
        if (strlen(*p) == n && memcmp(*p, label, n) == 0)
            return true;
    return false;
}

bool sg__domain_is_institutional(const char *domain)
{
    static const char *const tlds[] = {"edu", "gov", "mil", "int", NULL};
    static const char *const seconds[] = {"edu", "ac", "gov", "gob", "gouv", "govt", "gv",
                                          "go", "mil", "sch", NULL};
    const char *dot = domain ? strchr(domain, '.') : NULL;
    if (!dot)
        return false;
    const char *last = strrchr(domain, '.') + 1;
    if (label_in(last, strlen(last), tlds))
        return true;
    /* A registrable domain is one label and a public suffix, so a label after the first is
     * the suffix's own: tax.service.gov.uk, nus.edu.sg. The first label counts only as a
     * country's own government domain where it is not a suffix: gov.cz, nav.gov.hu. */
    for (const char *l = dot + 1; l < last;) {
        const char *e = strchr(l, '.');
        if (label_in(l, (size_t)(e - l), seconds))
            return true;
        l = e + 1;
    }
    return dot + 1 == last && strlen(last) == 2 &&
           label_in(domain, (size_t)(dot - domain), seconds);
}

bool sg__url_is_free_hosting(const char *host, size_t len)
{
    pthread_once(&free_hosting.once, load_free_hosting);
    return listed_or_parent(&free_hosting, host, len);
}

bool sg__domain_is_popular(const char *domain)
{
    if (!domain || !*domain)
        return false;
    pthread_once(&popular.once, load_popular);
    return listed_or_parent(&popular, domain, strlen(domain));
}

bool sg__domain_is_freemail(const char *domain)
{
    if (!domain || !*domain)
        return false;
    pthread_once(&freemail.once, load_freemail);
    return listed(&freemail, domain, strlen(domain));
}

bool sg__url_abused_tld(const char *domain)
{
    const char *dot = domain ? strchr(domain, '.') : NULL;
    if (!dot)
        return false;
    pthread_once(&abused_tlds.once, load_abused_tlds);
    return listed(&abused_tlds, dot + 1, strlen(dot + 1));
}

/* ---- characters ---------------------------------------------------------------------------- */

/* ASCII letters (1) and digits (2) by table: the scanner asks it of most bytes of the text. */
static const unsigned char ascii_kind[256] = {['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
                                              ['0' ... '9'] = 2};

static inline bool ascii_alpha(unsigned char c) { return ascii_kind[c] == 1; }

static inline bool ascii_alnum(unsigned char c) { return ascii_kind[c] != 0; }

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

static bool prefix_ci(const char *s, size_t n, const char *p)
{
    size_t k = strlen(p);
    if (n < k)
        return false;
    for (size_t i = 0; i < k; i++)
        if (lower((unsigned char)s[i]) != (unsigned char)p[i])
            return false;
    return true;
}

static bool is_zero_width(UChar32 c)
{
    return (c >= 0x200B && c <= 0x200D) || c == 0x2060 || c == 0xFEFF || c == 0x00AD;
}

static bool is_idn_dot(UChar32 c)
{
    return c == 0x3002 || c == 0xFF0E || c == 0xFF61;
}

static UChar32 cp_at(const char *s, size_t len, size_t i, size_t *n)
{
    int32_t k = (int32_t)i;
    UChar32 c;
    U8_NEXT((const uint8_t *)s, k, (int32_t)len, c);
    *n = c < 0 ? 1 : (size_t)k - i;
    return c;
}

/* A character that may be part of a host label: ASCII letter, digit, '-', '_', or a non-ASCII
 * letter, mark or digit (IDN). */
static bool label_cp(UChar32 c)
{
    if (c < 0)
        return false;
    if (c < 0x80)
        return ascii_alnum((unsigned char)c) || c == '-' || c == '_';
    return (U_GET_GC_MASK(c) & (U_GC_L_MASK | U_GC_M_MASK | U_GC_ND_MASK)) != 0;
}

/* Length of a defanged dot at s[i..]: "[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}"; else 0. */
static size_t defanged_dot(const char *s, size_t len, size_t i)
{
    static const char *const tokens[] = {"[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}", NULL};
    if (i >= len || (s[i] != '[' && s[i] != '(' && s[i] != '{'))
        return 0;
    for (const char *const *t = tokens; *t; t++)
        if (prefix_ci(s + i, len - i, *t))
            return strlen(*t);
    return 0;
}

/* Length of the separator after a scheme at s[i..]: "://", or defanged "[:]//", "[://]",
 * ":\/\/"; sets *defanged for the defanged ones. 0 when there is none. */
static size_t scheme_sep(const char *s, size_t len, size_t i, bool *defanged)
{
    static const char *const seps[] = {"://", "[:]//", "[://]", ":\\/\\/", NULL};
    for (int k = 0; seps[k]; k++)
        if (prefix_ci(s + i, len - i, seps[k])) {
            *defanged = k > 0;
            return strlen(seps[k]);
        }
    return 0;
}

/* The scheme spelled s[0..n) maps to, or NULL when it is not a web scheme. hxxp and friends are
 * the defanged spellings of threat reports (and of lures that dodge link filters). */
static const char *web_scheme(const char *s, size_t n, bool *defanged)
{
    static const struct {
        const char *as, *is;
        bool defanged;
    } schemes[] = {
        {"http", "http", false},   {"https", "https", false}, {"ftp", "ftp", false},
        {"hxxp", "http", true},    {"hxxps", "https", true},  {"hxxxp", "http", true},
        {"hxxxps", "https", true}, {"fxp", "ftp", true},      {"hxtp", "http", true},
        {"hxtps", "https", true},  {"htxp", "http", true},    {"htxps", "https", true},
    };
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (strlen(schemes[i].as) == n && prefix_ci(s, n, schemes[i].as)) {
            *defanged = schemes[i].defanged;
            return schemes[i].is;
        }
    return NULL;
}

/* ---- hosts --------------------------------------------------------------------------------- */

/* WHATWG IPv4: 1 to 4 parts, each decimal, 0x-hex or 0-octal, the last filling the remaining
 * bytes (http://3232235777/, http://0x7f.1/). 1: an address (in *out); 0: not numeric (a
 * name); -1: numeric but invalid (browsers refuse the URL). */
static int parse_ipv4(const char *h, size_t n, uint32_t *out)
{
    if (n > 0 && h[n - 1] == '.')
        n--;
    const char *last = h + n;
    while (last > h && last[-1] != '.')
        last--;
    if (last == h + n || !(last[0] >= '0' && last[0] <= '9'))
        return 0;
    uint64_t parts[4];
    int np = 0;
    for (size_t i = 0; i <= n;) {
        size_t j = i;
        while (j < n && h[j] != '.')
            j++;
        if (np == 4 || j == i)
            return -1;
        const char *p = h + i;
        size_t pn = j - i;
        unsigned base = 10;
        if (pn >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
            base = 16;
            p += 2;
            pn -= 2;
        } else if (pn >= 2 && p[0] == '0') {
            base = 8;
            p++;
            pn--;
        }
        uint64_t v = 0;
        for (size_t k = 0; k < pn; k++) {
            int d = -1;
            unsigned char c = (unsigned char)p[k];
            if (c >= '0' && c <= '9')
                d = c - '0';
            else if (base == 16 && lower(c) >= 'a' && lower(c) <= 'f')
                d = lower(c) - 'a' + 10;
            if (d < 0 || (unsigned)d >= base)
                return -1;
            v = v * base + (unsigned)d;
            if (v > 0xFFFFFFFFu)
                return -1;
        }
        parts[np++] = v;
        i = j + 1;
    }
    for (int k = 0; k < np - 1; k++)
        if (parts[k] > 255)
            return -1;
    if (parts[np - 1] >= (uint64_t)1 << (8 * (5 - np)))
        return -1;
    uint32_t ip = (uint32_t)parts[np - 1];
    for (int k = 0; k < np - 1; k++)
        ip |= (uint32_t)parts[k] << (8 * (3 - k));
    *out = ip;
    return 1;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The host as written s[0..n) made plain: defanged dots and ideographic dots become '.',
 * %XX escapes are decoded, zero-width characters dropped, ASCII lower-cased. */
static size_t plain_host(const char *s, size_t n, char *out, size_t cap, bool *defanged)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < cap;) {
        size_t d = defanged_dot(s, n, i);
        if (d) {
            out[k++] = '.';
            *defanged = true;
            i += d;
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        if (c == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
            hexval((unsigned char)s[i + 2]) >= 0) {
            out[k++] = (char)lower((unsigned char)(hexval((unsigned char)s[i + 1]) << 4 |
                                                   hexval((unsigned char)s[i + 2])));
            i += 3;
            continue;
        }
        if (c < 0x80) {
            out[k++] = (char)lower(c);
            i++;
            continue;
        }
        size_t cn;
        UChar32 cp = cp_at(s, n, i, &cn);
        if (is_zero_width(cp)) {
            i += cn;
            continue;
        }
        if (is_idn_dot(cp)) {
            out[k++] = '.';
            i += cn;
            continue;
        }
        if (k + cn > cap)
            break;
        memcpy(out + k, s + i, cn);
        k += cn;
        i += cn;
    }
    return k;
}

/* Every label of an A-label host is LDH (and '_', seen in real hosts), 1..63 bytes. */
static bool valid_ace(const char *h, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)h[i];
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        if (!(ascii_alnum(c) || c == '-' || c == '_') || ++label > 63)
            return false;
    }
    return label > 0;
}

/* Sets PUNYCODE and CONFUSABLE from the Unicode form of an A-label host. */
static unsigned idn_flags(const char *ace)
{
    unsigned flags = 0;
    bool xn = false;
    for (const char *p = ace; *p; p++)
        if ((p == ace || p[-1] == '.') && prefix_ci(p, strlen(p), "xn--"))
            xn = true;
    if (!xn)
        return 0;
    flags |= SG_URL_PUNYCODE;
    char *uni = NULL;
    if (idn2_to_unicode_8z8z(ace, &uni, 0) != IDN2_OK || !uni) {
        idn2_free(uni);
        return flags;
    }
    for (const char *p = uni; *p;) {
        const char *e = strchr(p, '.');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (sg__label_confusable(p, n))
            flags |= SG_URL_CONFUSABLE;
        p += n;
        if (*p == '.')
            p++;
    }
    idn2_free(uni);
    return flags;
}

/* ---- parsing one URL ----------------------------------------------------------------------- */

static char *arena_cat(struct sg_arena *a, const char *const *parts, const size_t *lens, int n)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += lens[i];
    char *d = sg__arena_alloc(a, total + 1);
    if (!d)
        return NULL;
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        memcpy(d + k, parts[i], lens[i]);
        k += lens[i];
    }
    d[k] = '\0';
    return d;
}

/* A host's registrable domain (libpsl, about 8K instructions a lookup) and whether it is a
 * shortener depend on the host alone, and a message names the same few hosts again and again
 * (as do the messages after it): a small direct-mapped cache per thread keeps the answers.
 * Fixed-size thread-local storage: nothing to free when a thread ends. */
enum { HOST_CACHE = 128, HOST_CACHE_MAX = 62 };

struct host_entry {
    char host[HOST_CACHE_MAX + 1]; /* NUL-terminated; "" when empty */
    unsigned char domain_at;       /* offset of the registrable domain, 0xFF none */
    bool shortener;
};

static __thread struct host_entry host_cache[HOST_CACHE];

static void host_facts(const char *host, size_t *domain_at, bool *shortener)
{
    size_t n = strlen(host);
    struct host_entry *e = NULL;
    if (n > 0 && n <= HOST_CACHE_MAX) {
        uint32_t h = 2166136261u; /* FNV-1a: hosts are short */
        for (size_t i = 0; i < n; i++)
            h = (h ^ (unsigned char)host[i]) * 16777619u;
        e = &host_cache[h % HOST_CACHE];
        if (memcmp(e->host, host, n + 1) == 0) {
            *domain_at = e->domain_at == 0xFF ? SIZE_MAX : e->domain_at;
            *shortener = e->shortener;
            return;
        }
    }
    const char *d = psl_registrable_domain(psl_builtin(), host);
    *domain_at = d ? (size_t)(d - host) : SIZE_MAX;
    *shortener = sg__url_is_shortener(host, n);
    if (e) {
        memcpy(e->host, host, n + 1);
        e->domain_at = d ? (unsigned char)(d - host) : 0xFF;
        e->shortener = *shortener;
    }
}

int sg__url_parse(struct sg_arena *a, const char *s, size_t len, unsigned flags,
                  struct sg_text_url *out)
{
    memset(out, 0, sizeof *out);
    while (len && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' ||
                   s[len - 1] == '\n'))
        len--;
    if (len > SG_URL_MAX_LEN)
        len = SG_URL_MAX_LEN;
    if (len == 0 || memchr(s, '\0', len))
        return SG_EPARSE;

    const char *scheme = NULL;
    size_t i = 0, k = 0;
    while (k < len && k < 10 && ascii_alpha((unsigned char)s[k]))
        k++;
    bool defanged = false;
    size_t sep = k > 0 ? scheme_sep(s, len, k, &defanged) : 0;
    if (sep) {
        bool d2 = false;
        scheme = web_scheme(s, k, &d2);
        if (!scheme)
            return SG_EPARSE;
        defanged |= d2;
        i = k + sep;
    } else if (k > 0 && k < len && s[k] == ':') {
        return SG_EPARSE; /* mailto:, javascript:, data:, tel: ... */
    } else if (len >= 2 && s[0] == '/' && s[1] == '/') {
        scheme = "http";
        i = 2;
    } else if (prefix_ci(s, len, "www.") || (prefix_ci(s, len, "www") && defanged_dot(s, len, 3)) ||
               (flags & SG_URL_SCHEMELESS)) {
        scheme = "http";
        flags |= SG_URL_SCHEMELESS;
    } else {
        return SG_EPARSE; /* a relative link */
    }
    while (i < len && (s[i] == '/' || s[i] == '\\'))
        i++;

    /* authority: [userinfo@]host[:port] */
    size_t auth = i;
    while (i < len && s[i] != '/' && s[i] != '?' && s[i] != '#' && s[i] != '\\')
        i++;
    size_t auth_end = i, host_at = auth;
    for (size_t j = auth; j < auth_end; j++)
        if ((unsigned char)s[j] <= 0x20 || s[j] == 0x7F)
            return SG_EPARSE; /* a space or control in the authority: not one address */
    for (size_t j = auth_end; j > auth; j--)
        if (s[j - 1] == '@') {
            host_at = j;
            flags |= SG_URL_USERINFO;
            break;
        }
    size_t host_end = auth_end;
    const char *port = NULL;
    size_t port_len = 0;
    bool ipv6 = host_at < auth_end && s[host_at] == '[' && !defanged_dot(s, auth_end, host_at);
    if (ipv6) {
        const char *rb = memchr(s + host_at, ']', auth_end - host_at);
        if (!rb)
            return SG_EPARSE;
        host_end = (size_t)(rb - s) + 1;
        if (host_end < auth_end && s[host_end] == ':') {
            port = s + host_end + 1;
            port_len = auth_end - host_end - 1;
        } else if (host_end != auth_end) {
            return SG_EPARSE;
        }
    } else {
        for (size_t j = auth_end; j > host_at; j--)
            if (s[j - 1] == ':') {
                host_end = j - 1;
                port = s + j;
                port_len = auth_end - j;
                break;
            } else if (s[j - 1] == ']' || s[j - 1] == ')' || s[j - 1] == '}') {
                break; /* the end of a defanged dot, not a port */
            }
    }
    long port_num = -1;
    if (port && port_len > 0) {
        if (port_len > 5)
            return SG_EPARSE;
        port_num = 0;
        for (size_t j = 0; j < port_len; j++) {
            if (port[j] < '0' || port[j] > '9')
                return SG_EPARSE;
            port_num = port_num * 10 + (port[j] - '0');
        }
        if (port_num > 65535)
            return SG_EPARSE;
    }
    if ((port_num == 80 && strcmp(scheme, "http") == 0) ||
        (port_num == 443 && strcmp(scheme, "https") == 0) ||
        (port_num == 21 && strcmp(scheme, "ftp") == 0))
        port_num = -1;

    /* host */
    char hbuf[1024];
    size_t hn;
    if (ipv6) {
        hn = 0;
        for (size_t j = host_at; j < host_end && hn < sizeof hbuf; j++) {
            unsigned char c = (unsigned char)s[j];
            if (!(hexval(c) >= 0 || c == ':' || c == '.' || c == '[' || c == ']'))
                return SG_EPARSE;
            hbuf[hn++] = (char)lower(c);
        }
        flags |= SG_URL_IP_LITERAL;
    } else {
        hn = plain_host(s + host_at, host_end - host_at, hbuf, sizeof hbuf, &defanged);
        while (hn > 0 && hbuf[hn - 1] == '.')
            hn--;
    }
    if (hn == 0)
        return SG_EPARSE;
    char *host = NULL;
    if (!ipv6) {
        uint32_t ip;
        int v4 = parse_ipv4(hbuf, hn, &ip);
        if (v4 < 0)
            return SG_EPARSE;
        if (v4 > 0) {
            flags |= SG_URL_IP_LITERAL;
            host = sg__arena_printf(a, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255,
                                    (ip >> 8) & 255, ip & 255);
            if (!host)
                return SG_ENOMEM;
        }
    } else {
        host = sg__arena_strndup(a, hbuf, hn);
        if (!host)
            return SG_ENOMEM;
    }
    if (!host) {
        bool ascii = true;
        for (size_t j = 0; j < hn; j++)
            ascii &= (unsigned char)hbuf[j] < 0x80;
        if (ascii) {
            host = sg__arena_strndup(a, hbuf, hn);
            if (!host)
                return SG_ENOMEM;
        } else {
            /* IDNA2008 (UTS 46 non-transitional, as browsers), transitional as a fallback. */
            char *u = sg__arena_strndup(a, hbuf, hn), *ace = NULL;
            if (!u)
                return SG_ENOMEM;
            int rc = idn2_to_ascii_8z(u, &ace, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
            if (rc != IDN2_OK) {
                idn2_free(ace);
                ace = NULL;
                rc = idn2_to_ascii_8z(u, &ace, IDN2_TRANSITIONAL | IDN2_NFC_INPUT);
            }
            if (rc != IDN2_OK || !ace) {
                idn2_free(ace);
                return SG_EPARSE; /* not a name a browser would resolve */
            }
            host = sg__arena_strndup(a, ace, strlen(ace));
            idn2_free(ace);
            if (!host)
                return SG_ENOMEM;
            flags |= SG_URL_PUNYCODE;
        }
        if (!valid_ace(host, strlen(host)))
            return SG_EPARSE;
        flags |= idn_flags(host);
    }
    if (defanged)
        flags |= SG_URL_DEFANGED;

    /* path, query, fragment: as written, backslashes as slashes, zero-width dropped, spaces
     * and controls percent-encoded (as browsers send them) */
    size_t pn = len - auth_end;
    char *path = sg__arena_alloc(a, pn * 3 + 2);
    if (!path)
        return SG_ENOMEM;
    size_t pk = 0;
    if (pn == 0 || s[auth_end] == '?' || s[auth_end] == '#')
        path[pk++] = '/';
    for (size_t j = auth_end; j < len;) {
        unsigned char c = (unsigned char)s[j];
        if (c >= 0x80) {
            size_t cn;
            UChar32 cp = cp_at(s, len, j, &cn);
            if (!is_zero_width(cp))
                memcpy(path + pk, s + j, cn), pk += cn;
            j += cn;
            continue;
        }
        if (c <= 0x20 || c == 0x7F) {
            static const char hex[] = "0123456789ABCDEF";
            path[pk++] = '%';
            path[pk++] = hex[c >> 4];
            path[pk++] = hex[c & 15];
        } else {
            path[pk++] = c == '\\' ? '/' : (char)c;
        }
        j++;
    }
    path[pk] = '\0';

    char portbuf[8] = "";
    if (port_num >= 0)
        snprintf(portbuf, sizeof portbuf, ":%ld", port_num);
    size_t ui_len = (flags & SG_URL_USERINFO) ? host_at - auth : 0;
    const char *parts[] = {scheme, "://", s + auth, host, portbuf, path};
    size_t lens[] = {strlen(scheme), 3, ui_len, strlen(host), strlen(portbuf), pk};
    out->url = arena_cat(a, parts, lens, 6);
    out->raw = sg__arena_strndup(a, s, len);
    if (!out->url || !out->raw)
        return SG_ENOMEM;
    out->host = host;
    bool shortener;
    if (flags & SG_URL_IP_LITERAL) {
        shortener = sg__url_is_shortener(host, strlen(host));
    } else {
        size_t at;
        host_facts(host, &at, &shortener);
        out->domain = at == SIZE_MAX ? NULL : host + at; /* points into host */
        /* A bare "sendmail.cf" or "julian.bond" in text is a file or a name far more often
         * than a link: written without a scheme, only a path or "www." makes it one here. */
        bool linkish = !(flags & SG_URL_SCHEMELESS) || pk > 1 || strncmp(host, "www.", 4) == 0;
        if (linkish && sg__url_abused_tld(out->domain))
            flags |= SG_URL_ABUSED_TLD;
        if (sg__url_is_free_hosting(host, strlen(host)))
            flags |= SG_URL_FREE_HOSTING;
    }
    if (shortener)
        flags |= SG_URL_SHORTENER;
    out->flags = flags;
    return 0;
}

/* ---- finding URLs in text ------------------------------------------------------------------ */

/* Characters that end a URL written in text. */
static bool ends_url(UChar32 c)
{
    if (c < 0x80)
        return c <= 0x20 || c == 0x7F || c == '<' || c == '>' || c == '"' || c == '`' ||
               c == '^' || c == '|' || c == '{' || c == '}' || c == '\\';
    return u_isUWhiteSpace(c) || c == 0x201C || c == 0x201D || c == 0x2018 || c == 0x2019 ||
           c == 0x00AB || c == 0x00BB || c == 0x3001 || c == 0x3002 || (c >= 0x3008 && c <= 0x3011) ||
           c == 0xFF08 || c == 0xFF09 || c == 0xFF0C || c == 0xFFFD;
}

/* Where the URL whose host starts at s[i] ends: the host (labels, dots, defanged dots; with
 * userinfo, ports and IPv6 brackets when full), then the path up to a character that ends URLs,
 * less trailing punctuation that belongs to the sentence. *host_end receives the host's end. */
static size_t url_extent(const char *s, size_t len, size_t i, bool full, size_t *host_end)
{
    size_t j = i;
    while (j < len) {
        size_t d = defanged_dot(s, len, j);
        if (d) {
            j += d;
            continue;
        }
        size_t n;
        UChar32 c = cp_at(s, len, j, &n);
        /* An ideographic or fullwidth dot separates labels only before an ASCII letter or
         * digit: in CJK prose it ends a sentence. */
        if (label_cp(c) || c == '.' || is_zero_width(c) ||
            (is_idn_dot(c) && j + n < len && ascii_alnum((unsigned char)s[j + n]))) {
            j += n;
            continue;
        }
        if (c == ':' && j + 1 < len && s[j + 1] >= '0' && s[j + 1] <= '9') {
            j++;
            while (j < len && s[j] >= '0' && s[j] <= '9')
                j++;
            continue;
        }
        if (full && (c == '@' || c == ':' || c == '[' || c == ']' || c == '%')) {
            j += n;
            continue;
        }
        break;
    }
    *host_end = j;
    if (j < len && (s[j] == '/' || s[j] == '?' || s[j] == '#')) {
        while (j < len) {
            size_t n;
            UChar32 c = cp_at(s, len, j, &n);
            if (ends_url(c))
                break;
            j += n;
        }
    }
    /* Sentence punctuation after a URL is not part of it; nor is a closing bracket that was
     * opened before the URL. */
    while (j > *host_end || (j > i && j == *host_end)) {
        unsigned char c = (unsigned char)s[j - 1];
        if (strchr(".,:;!?'*_~", c)) {
            j--;
            continue;
        }
        if (c == ')' || c == ']') {
            char open = c == ')' ? '(' : '[';
            int bal = 0;
            for (size_t k = i; k < j; k++)
                bal += s[k] == open ? 1 : s[k] == (char)c ? -1 : 0;
            if (bal < 0 && !defanged_dot(s, j, j >= 3 ? j - 3 : 0) &&
                !(j >= 5 && defanged_dot(s, j, j - 5))) {
                j--;
                continue;
            }
        }
        break;
    }
    if (*host_end > j)
        *host_end = j;
    return j;
}

/* Top-level domains that are also common file extensions: "report.zip" or "setup.sh" in a
 * sentence is a file, so without a path these are not taken for a URL. */
static bool file_like_tld(const char *t, size_t n)
{
    static const char *const exts[] = {"zip", "mov", "py", "sh", "md", "rs", "ps", "so",
                                       "pm", "cc", "exe", NULL};
    return label_in(t, n, exts);
}

/* The checks a URL without a scheme or www. must pass to be taken for one. */
static bool plausible_schemeless(const struct sg_text_url *u, const char *raw, size_t host_len)
{
    if (u->flags & SG_URL_IP_LITERAL)
        return false;
    const char *tld = strrchr(u->host, '.');
    if (!tld || tld == u->host)
        return false;
    tld++;
    if (!psl_is_public_suffix2(psl_builtin(), tld, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE))
        return false;
    /* "Mr.Smith", "today.How": a capitalised last word is a sentence, a real TLD is written in
     * lower case (or the whole name in capitals). */
    bool any_lower = false, tld_upper = false;
    size_t tld_at = host_len;
    while (tld_at > 0 && raw[tld_at - 1] != '.' && raw[tld_at - 1] != ']' &&
           raw[tld_at - 1] != ')' && raw[tld_at - 1] != '}')
        tld_at--;
    for (size_t i = 0; i < host_len; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c >= 'a' && c <= 'z')
            any_lower = true;
        if (i >= tld_at && c >= 'A' && c <= 'Z')
            tld_upper = true;
    }
    if (tld_upper && any_lower)
        return false;
    bool path = strlen(u->url) > strlen("http://") + strlen(u->host) + 1;
    if (!path && file_like_tld(tld, strlen(tld)))
        return false;
    /* "K.k.how is your business", "e.g.com": a one-letter label with no path is initials or a
     * typo, not a site someone names (t.co/x, with its path, still is). */
    for (const char *l = u->host; !path && l < tld;) {
        const char *dot = strchr(l, '.');
        if (dot == l + 1)
            return false;
        l = dot ? dot + 1 : tld;
    }
    return true;
}

typedef int (*found_fn)(struct sg_text_url *u, void *ctx);

/* Tries a URL with a scheme or www. at the word starting at t[i] (letters up to k). Returns
 * where scanning goes on (i when it is not one), or a negative status from found. */
static long try_scheme(struct sg_arena *a, const char *t, size_t len, size_t i, size_t k,
                       found_fn found, void *ctx, int *rc)
{
    bool defanged = false, d2 = false;
    size_t sep = 0;
    bool www = false;
    if (k - i >= 3 && k - i <= 6 && k < len && (t[k] == ':' || t[k] == '['))
        sep = scheme_sep(t, len, k, &defanged);
    if (sep && !web_scheme(t + i, k - i, &d2))
        sep = 0;
    if (!sep)
        www = k - i == 3 && k < len && (t[k] == '.' || t[k] == '[') && prefix_ci(t + i, 3, "www") &&
              (t[k] == '.' || defanged_dot(t, len, k));
    if (!sep && !www)
        return (long)i;
    size_t he, host = www ? i : k + sep;
    size_t end = url_extent(t, len, host, true, &he);
    if (end > (www ? i + 4 : host)) {
        struct sg_text_url u;
        *rc = sg__url_parse(a, t + i, end - i, 0, &u);
        if (*rc == SG_ENOMEM)
            return -1;
        if (*rc == 0 && (*rc = found(&u, ctx)) != 0)
            return -1;
    }
    *rc = 0;
    return (long)(end > i ? end : i + 1);
}

/* A URL without a scheme whose first dot (or defanged dot, dl bytes) is at t[i]. Returns where
 * scanning goes on (i when there is none), or -1 with *rc set. */
static long try_schemeless(struct sg_arena *a, const char *t, size_t len, size_t i, size_t dl,
                           size_t last_end, found_fn found, void *ctx, int *rc)
{
    *rc = 0;
    if (i <= last_end || i + dl >= len)
        return (long)i;
    /* the cheap tests first: a label character right after the dot and right before it */
    unsigned char nb = (unsigned char)t[i + dl], pb = (unsigned char)t[i - 1];
    if (nb < 0x80 ? !ascii_alnum(nb) : !label_cp(cp_at(t, len, i + dl, &(size_t){0})))
        return (long)i;
    if (pb < 0x80 && !ascii_alnum(pb) && pb != '-' && pb != '_')
        return (long)i;
    size_t s = i; /* back over the first label */
    while (s > last_end && i - s < 64) {
        int32_t k = (int32_t)s;
        UChar32 p;
        U8_PREV((const uint8_t *)t, (int32_t)last_end, k, p);
        if (!label_cp(p) && !is_zero_width(p))
            break;
        s = (size_t)k;
    }
    if (s == i)
        return (long)i;
    size_t he;
    size_t end = url_extent(t, len, s, false, &he);
    UChar32 before = 0;
    if (s > 0) {
        int32_t k = (int32_t)s;
        U8_PREV((const uint8_t *)t, 0, k, before);
    }
    /* name@domain is a mail address; /x.y and :x.y are inside something else */
    bool inside = before == '@' || before == '/' || before == ':' || before == '.' ||
                  before == '-' || before == '_';
    if (!inside && end > i + dl) {
        struct sg_text_url u;
        *rc = sg__url_parse(a, t + s, end - s, SG_URL_SCHEMELESS, &u);
        if (*rc == SG_ENOMEM)
            return -1;
        if (*rc == 0 && plausible_schemeless(&u, t + s, he - s) && (*rc = found(&u, ctx)) != 0)
            return -1;
        *rc = 0;
    }
    return (long)(end > i ? end : i + 1);
}

/* Calls found for each URL in text; stops early when found returns non-zero (that value is
 * returned, 1 meaning "enough"). One pass: only word starts, dots and brackets are looked at. */
/* The bytes scan looks at: letters (a word, maybe a scheme), dots, the brackets of a defanged
 * dot and the lead bytes of the ideographic and fullwidth dots. Any other byte (digits, white
 * space, most punctuation: much of a text) starts nothing, and the loop skips it by this
 * table alone. */
static const bool scan_stop[256] = {['A' ... 'Z'] = true, ['a' ... 'z'] = true, ['.'] = true,
                                    ['['] = true,         ['('] = true,         ['{'] = true,
                                    [0xE3] = true,        [0xEF] = true};

/* Whether try_scheme can find anything at the word t[i..k): its own first tests (a scheme of 3
 * to 6 letters before ':' or '[', or "www" before '.' or '['), asked here before the call,
 * since most words are neither. */
static inline bool scheme_candidate(const char *t, size_t len, size_t i, size_t k)
{
    if (k >= len)
        return false;
    size_t n = k - i;
    char c = t[k];
    return (n >= 3 && n <= 6 && (c == ':' || c == '[')) || (n == 3 && c == '.');
}

static int scan(struct sg_arena *a, const char *t, size_t len, found_fn found, void *ctx)
{
    size_t i = 0, last_end = 0;
    int rc = 0;
    while (i < len) {
        while (i < len && !scan_stop[(unsigned char)t[i]])
            i++;
        if (i == len)
            break;
        unsigned char c = (unsigned char)t[i];
        long next = (long)i;
        if (ascii_alpha(c)) {
            size_t k = i + 1;
            while (k < len && ascii_alpha((unsigned char)t[k]))
                k++;
            if ((i == 0 || !ascii_alnum((unsigned char)t[i - 1])) &&
                scheme_candidate(t, len, i, k))
                next = try_scheme(a, t, len, i, k, found, ctx, &rc);
            if (next < 0)
                return rc;
            if ((size_t)next == i) {
                i = k; /* no URL starts inside a word */
                continue;
            }
        } else if (c == '.') {
            next = try_schemeless(a, t, len, i, 1, last_end, found, ctx, &rc);
        } else if (c == '[' || c == '(' || c == '{') {
            size_t dl = defanged_dot(t, len, i);
            if (dl)
                next = try_schemeless(a, t, len, i, dl, last_end, found, ctx, &rc);
        } else if (c == 0xE3 || c == 0xEF) { /* lead byte of an ideographic or fullwidth dot */
            size_t n;
            if (is_idn_dot(cp_at(t, len, i, &n)) && i + n < len &&
                ascii_alnum((unsigned char)t[i + n]))
                next = try_schemeless(a, t, len, i, n, last_end, found, ctx, &rc);
        }
        if (next < 0)
            return rc;
        if ((size_t)next > i) {
            i = last_end = (size_t)next;
            continue;
        }
        i++;
    }
    return 0;
}

/* ---- lists --------------------------------------------------------------------------------- */

static int list_add(struct sg_arena *a, struct sg_url_list *list, const struct sg_text_url *u,
                    bool dedupe_any_anchor)
{
    for (size_t i = 0; i < list->n; i++) {
        const struct sg_text_url *o = &list->v[i];
        if (strcmp(o->url, u->url) != 0)
            continue;
        if (dedupe_any_anchor || (!o->anchor && !u->anchor) ||
            (o->anchor && u->anchor && strcmp(o->anchor, u->anchor) == 0))
            return 0;
    }
    if (list->n >= SG_URL_MAX) {
        list->truncated = true;
        return 0;
    }
    if (list->n == list->cap) { /* most messages have a handful: grow from 8 */
        size_t cap = list->cap ? list->cap * 2 : 8;
        if (cap > SG_URL_MAX)
            cap = SG_URL_MAX;
        struct sg_text_url *v = sg__arena_alloc(a, cap * sizeof *v);
        if (!v)
            return SG_ENOMEM;
        if (list->n)
            memcpy(v, list->v, list->n * sizeof *v);
        list->v = v;
        list->cap = cap;
    }
    list->v[list->n++] = *u;
    return 0;
}

struct scan_ctx {
    struct sg_arena *a;
    struct sg_url_list *list;
};

static int found_in_text(struct sg_text_url *u, void *ctx)
{
    struct scan_ctx *c = ctx;
    int rc = list_add(c->a, c->list, u, true);
    if (rc)
        return rc;
    return c->list->n >= SG_URL_MAX ? 1 : 0;
}

int sg__urls_scan(struct sg_arena *a, const char *text, size_t len, struct sg_url_list *list)
{
    if (!text || len == 0 || list->n >= SG_URL_MAX)
        return 0;
    struct scan_ctx c = {a, list};
    int rc = scan(a, text, len, found_in_text, &c);
    return rc == SG_ENOMEM ? rc : 0;
}

static int found_first(struct sg_text_url *u, void *ctx)
{
    *(struct sg_text_url *)ctx = *u;
    return 1;
}

/* A text's length without white space and punctuation: what a reader takes in. */
static size_t shown_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += !strchr(" \t\r\n.,;:!?()[]<>\"'", *s);
    return n;
}

/* Does the anchor text present itself as the address the reader will visit: written with a
 * scheme or "www.", or nothing but the address? "https://bank.example/login" and
 * "bank.example" are the phishing tell; "News.com: Top CIOs" over a newsletter's click-tracking
 * link only mentions a name, and a mismatch there says nothing. */
static bool anchor_shows_address(const char *anchor, const struct sg_text_url *named)
{
    if (!(named->flags & SG_URL_SCHEMELESS) || strncasecmp(named->raw, "www.", 4) == 0)
        return true;
    return shown_length(named->raw) >= shown_length(anchor);
}

int sg__urls_add_href(struct sg_arena *a, const char *href, const char *anchor,
                      struct sg_url_list *list)
{
    if (!href)
        return 0;
    struct sg_text_url u;
    int rc = sg__url_parse(a, href, strlen(href), SG_URL_FROM_HTML, &u);
    if (rc == SG_EPARSE)
        return 0;
    if (rc)
        return rc;
    if (anchor) {
        u.anchor = anchor;
        struct sg_text_url named = {0};
        rc = scan(a, anchor, strlen(anchor), found_first, &named);
        if (rc == SG_ENOMEM)
            return rc;
        if (rc == 1 && named.host) {
            u.anchor_domain = named.domain ? named.domain : named.host;
            const char *mine = u.domain ? u.domain : u.host;
            if (strcmp(mine, u.anchor_domain) != 0 && anchor_shows_address(anchor, &named))
                u.flags |= SG_URL_ANCHOR_MISMATCH;
        }
    }
    return list_add(a, list, &u, false);
}
