/* Brand names in host names: URL_BRAND_LOOKALIKE and FROM_DOMAIN_BRAND_LOOKALIKE. At load the
 * brands' names are squashed to host form ("office 365" -> "office365") and, with the brands'
 * own domains, indexed by first character, so a host is compared only with the names and
 * domains that can start where its parts start: a message's links cost a few hundred
 * instructions, not a pass over every brand for every link. */
#include <stdlib.h>
#include <string.h>

#include "rules/internal.h"
#include "text/urls.h"
#include "util/alloc.h"

/* One squashed name or own domain, and its brand. */
struct host_key {
    const char *s;
    uint32_t len;
    uint32_t brand;
};

/* Keys sorted by first byte: those starting with c are keys[first[c] .. first[c + 1]). */
struct key_index {
    struct host_key *keys;
    size_t n;
    uint32_t first[257];
};

struct sg__host_brands {
    struct key_index names;   /* squashed brand names */
    struct key_index domains; /* the brands' own domains, but "paypal.*" and "sparkasse-*.de" */
    const char **patterns;    /* the "sparkasse-*.de" ones, tried one by one (a handful) */
    size_t npatterns;
    char *text;               /* the squashed names' bytes */
};

bool sg__brand_domain_belongs(const char *domain, const char *registrable, const char *d)
{
    size_t dl = strlen(d), n = strlen(domain);
    const char *star = strstr(d, "-*.");
    if (star) {
        /* "sparkasse-*.de": a registrable domain sparkasse-<one word>.de, for brands whose
         * local branches each have their own (sparkasse-koelnbonn.de). One word: the branch's
         * town, where a phisher's domain adds service words (sparkasse-pushtan-update.de). */
        const char *r = registrable ? registrable : domain;
        size_t pre = (size_t)(star - d) + 1, suf = dl - pre - 1, rl = strlen(r);
        return rl > pre + suf && strncmp(r, d, pre) == 0 &&
               strcmp(r + rl - suf, d + pre + 1) == 0 && !memchr(r + pre, '.', rl - pre - suf) &&
               !memchr(r + pre, '-', rl - pre - suf);
    }
    if (dl > 2 && d[dl - 2] == '.' && d[dl - 1] == '*') {
        /* "paypal.*": the registrable domain is paypal.<public suffix> */
        return registrable && strncmp(registrable, d, dl - 1) == 0 &&
               strchr(registrable, '.') == registrable + dl - 2;
    }
    if (n == dl)
        return memcmp(domain, d, n) == 0;
    return n > dl && domain[n - dl - 1] == '.' && memcmp(domain + n - dl, d, dl) == 0;
}

/* A name squashed to lower-case ASCII letters and digits ("Office 365" -> "office365"); 0
 * when it is not ASCII or too short to mean a brand in a host name. Brand names come
 * case-folded already; a tenant id may not. */
static size_t squash_name(const char *name, char *out, size_t cap)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p >= 0x80)
            return 0;
        unsigned char c = *p >= 'A' && *p <= 'Z' ? (unsigned char)(*p + ('a' - 'A')) : *p;
        if (((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) && n + 1 < cap)
            out[n++] = (char)c;
    }
    out[n] = '\0';
    return n >= 3 ? n : 0;
}

static int by_first_byte(const void *a, const void *b)
{
    const struct host_key *x = a, *y = b;
    unsigned char cx = (unsigned char)x->s[0], cy = (unsigned char)y->s[0];
    if (cx != cy)
        return cx < cy ? -1 : 1;
    return x->brand < y->brand ? -1 : x->brand > y->brand; /* stable across libc sorts */
}

static void index_keys(struct key_index *ix)
{
    qsort(ix->keys, ix->n, sizeof *ix->keys, by_first_byte);
    size_t k = 0;
    for (unsigned c = 0; c <= 256; c++) {
        while (c < 256 && k < ix->n && (unsigned char)ix->keys[k].s[0] < c)
            k++;
        ix->first[c] = (uint32_t)(c == 256 ? ix->n : k);
    }
}

int sg__host_brands_build(struct sg_rules *rs)
{
    size_t nnames = 0, ndomains = 0;
    for (size_t b = 0; b < rs->nbrands; b++) {
        nnames += rs->brands[b].nnames;
        ndomains += rs->brands[b].ndomains;
    }
    struct sg__host_brands *hb = sg__calloc(1, sizeof *hb);
    if (!hb)
        return SG_ENOMEM;
    enum { NAME_CAP = 64 };
    hb->names.keys = sg__calloc(nnames + 1, sizeof *hb->names.keys);
    hb->domains.keys = sg__calloc(ndomains + 1, sizeof *hb->domains.keys);
    hb->text = sg__malloc(nnames * NAME_CAP + 1);
    hb->patterns = sg__calloc(ndomains + 1, sizeof *hb->patterns);
    if (!hb->names.keys || !hb->domains.keys || !hb->text || !hb->patterns) {
        sg__host_brands_free(hb);
        return SG_ENOMEM;
    }
    char *at = hb->text;
    for (size_t b = 0; b < rs->nbrands; b++) {
        const struct sg__brand *br = &rs->brands[b];
        for (size_t k = 0; k < br->nnames; k++) {
            size_t len = squash_name(br->names[k], at, NAME_CAP);
            if (!len)
                continue;
            hb->names.keys[hb->names.n++] = (struct host_key){at, (uint32_t)len, (uint32_t)b};
            at += len + 1;
        }
        for (size_t k = 0; k < br->ndomains; k++) {
            const char *d = br->domains[k];
            size_t dl = strlen(d);
            if (strstr(d, "-*."))
                hb->patterns[hb->npatterns++] = d;
            if (dl <= 2 || strchr(d, '*'))
                continue; /* "paypal.*" and "sparkasse-*.de" are tried by brand_owns */
            hb->domains.keys[hb->domains.n++] = (struct host_key){d, (uint32_t)dl, (uint32_t)b};
        }
    }
    index_keys(&hb->names);
    index_keys(&hb->domains);
    rs->host_brands = hb;
    return 0;
}

void sg__host_brands_free(struct sg__host_brands *hb)
{
    if (!hb)
        return;
    sg__free(hb->names.keys);
    sg__free(hb->domains.keys);
    sg__free(hb->patterns);
    sg__free(hb->text);
    sg__free(hb);
}

/* Digits read as the letters they imitate ("paypa1", "micr0soft"). */
static char as_letter(char c) { return c == '0' ? 'o' : c == '1' ? 'l' : c; }

/* Whether host[0..n) read with as_letter is the squashed name. Only the whole part counts: a
 * brand name at the start of a longer part was tried and held ordinary hosts ("revolut" of
 * "revolution-os.com"). */
static bool host_part_is(const char *s, size_t n, const char *name, size_t len)
{
    if (n != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (as_letter(s[i]) != name[i])
            return false;
    return true;
}

/* Whether the brand owns host (or its registrable domain dom). */
static bool brand_owns(const struct sg_rules *rs, uint32_t b, const char *host, const char *dom)
{
    const struct sg__brand *br = &rs->brands[b];
    for (size_t k = 0; k < br->ndomains; k++)
        if (sg__brand_domain_belongs(host, dom, br->domains[k]))
            return true;
    return false;
}

/* Whether the brand has a "name.*" domain (amazon.de, amazon.co.uk...). */
static bool has_any_suffix_domain(const struct sg_rules *rs, uint32_t b)
{
    const struct sg__brand *br = &rs->brands[b];
    for (size_t k = 0; k < br->ndomains; k++) {
        size_t dl = strlen(br->domains[k]);
        if (dl > 2 && br->domains[k][dl - 1] == '*')
            return true;
    }
    return false;
}

/* Whether host part s[0..n) names a brand that does not own host. */
static bool part_names_other(const struct sg_rules *rs, const char *s, size_t n, const char *host,
                             const char *dom)
{
    if (n == 0)
        return false;
    const struct key_index *ix = &rs->host_brands->names;
    unsigned char c = (unsigned char)as_letter(s[0]);
    for (uint32_t k = ix->first[c]; k < ix->first[c + 1]; k++) {
        const struct host_key *key = &ix->keys[k];
        if (host_part_is(s, n, key->s, key->len) && !brand_owns(rs, key->brand, host, dom))
            return true;
    }
    return false;
}

/* What a host part is tested for: a brand that does not own the host, or one given name. */
struct part_test {
    bool (*names)(const struct part_test *t, const char *s, size_t n);
    const struct sg_rules *rs;
    const char *host, *dom; /* brands */
    const char *name;       /* one name, squashed */
    size_t name_len;
};

static bool names_other_brand(const struct part_test *t, const char *s, size_t n)
{
    return part_names_other(t->rs, s, n, t->host, t->dom);
}

static bool names_the_name(const struct part_test *t, const char *s, size_t n)
{
    return host_part_is(s, n, t->name, t->name_len);
}

/* Whether label[0..n), one of its hyphen-separated parts or the label without its hyphens
 * passes the test: "paypal-secure", "secure-paypal", "pay-pal". */
static bool label_names(const struct part_test *t, const char *label, size_t n)
{
    char joined[64];
    size_t j = 0;
    for (size_t i = 0; i < n;) {
        size_t e = i;
        while (e < n && label[e] != '-')
            e++;
        if (t->names(t, label + i, e - i))
            return true;
        for (size_t k = i; k < e && j + 1 < sizeof joined; k++)
            joined[j++] = label[k];
        i = e + 1;
    }
    return j < n && t->names(t, joined, j);
}

/* Whether the registrable domain's first label, or a hyphenated label before it, passes the
 * test. A plain subdomain label is not enough ("apple.stackexchange.com" is a site about
 * Apple). dom points into host. */
static bool host_labels_name(const struct part_test *t, const char *host, const char *dom)
{
    const char *dot = strchr(dom, '.');
    if (label_names(t, dom, dot ? (size_t)(dot - dom) : strlen(dom)))
        return true;
    for (const char *l = host; l < dom;) {
        const char *e = strchr(l, '.');
        if (!e || e > dom)
            break;
        if (memchr(l, '-', (size_t)(e - l)) && label_names(t, l, (size_t)(e - l)))
            return true;
        l = e + 1;
    }
    return false;
}

/* Whether s, a label start of host, is a brand's name that has "name.*" followed by a short
 * suffix glued to the rest with a hyphen: "olx.pl-odbior-platnosci.online". */
static bool name_under_any_suffix_glued(const struct sg_rules *rs, const char *s,
                                        const char *host, const char *dom)
{
    const char *dot = strchr(s, '.');
    if (!dot)
        return false;
    size_t n = (size_t)(dot - s), t = 0;
    while (dot[1 + t] >= 'a' && dot[1 + t] <= 'z')
        t++;
    if (t < 2 || t > 3 || dot[1 + t] != '-')
        return false;
    const struct key_index *ix = &rs->host_brands->names;
    unsigned char c = (unsigned char)s[0];
    for (uint32_t k = ix->first[c]; k < ix->first[c + 1]; k++) {
        const struct host_key *key = &ix->keys[k];
        if (key->len == n && memcmp(s, key->s, n) == 0 && has_any_suffix_domain(rs, key->brand) &&
            !brand_owns(rs, key->brand, host, dom))
            return true;
    }
    return false;
}

/* Whether host has "gov", "gouv", "gob" or "govt" as a label or a hyphenated part of one while
 * its registrable domain is under no institutional suffix: "receita-gov-br.online",
 * "agenziaentrate-gov.it-rimborso.com", "etoll.gov.pl-portal.cfd". Governments sit under
 * suffixes nobody else can register (gov.br, gov.it, gov.pl: sg__domain_is_institutional), so a
 * government word elsewhere is a costume. */
static bool host_poses_as_government(const char *host, const char *dom)
{
    static const char *const words[] = {"gov", "gouv", "gob", "govt"};
    if (sg__domain_is_institutional(dom))
        return false;
    for (const char *p = host; *p;) {
        size_t n = strcspn(p, ".-");
        for (size_t k = 0; k < sizeof words / sizeof *words; k++)
            if (n == strlen(words[k]) && memcmp(p, words[k], n) == 0)
                return true;
        p += n;
        if (*p)
            p++;
    }
    return false;
}

/* A host that uses a brand's name although the brand does not own it: the first label of the
 * registrable domain, or a hyphenated label anywhere in the host, names the brand
 * ("dhl-zoll-paket.top", "secure-paypa1.com", "inpost-doplata.pl.com" where the public suffix
 * list ends the registrable domain at pl.com), or the host carries the brand's own domain
 * among its subdomain labels ("www.paypal.com.check.example"). A plain subdomain label is not
 * enough ("apple.stackexchange.com" is a site about Apple). The brand's own domains
 * (brands.yaml) and their subdomains never count. */
bool sg__host_uses_brand(const struct sg_rules *rs, const char *host, const char *dom)
{
    if (!rs->host_brands || !host || !dom || dom < host || dom > host + strlen(host))
        return false;
    struct part_test t = {.names = names_other_brand, .rs = rs, .host = host, .dom = dom};
    if (host_labels_name(&t, host, dom))
        return true;
    size_t sub_len = (size_t)(dom - host); /* the subdomain labels and their dot */
    size_t host_len = strlen(host);
    const struct key_index *ix = &rs->host_brands->domains;
    for (size_t i = 0; i < host_len; i++) {
        if (i > 0 && host[i - 1] != '.')
            continue;
        unsigned char c = (unsigned char)host[i];
        for (uint32_t k = ix->first[c]; k < ix->first[c + 1]; k++) {
            const struct host_key *key = &ix->keys[k];
            if (i + key->len >= host_len || memcmp(host + i, key->s, key->len) != 0)
                continue;
            /* "www.paypal.com.check.example", or the domain glued on with a hyphen:
             * "postnord.se-tullavgift.info" */
            char next = host[i + key->len];
            if (((next == '.' && i + key->len < sub_len) || next == '-') &&
                !brand_owns(rs, key->brand, host, dom))
                return true;
        }
        if (name_under_any_suffix_glued(rs, host + i, host, dom))
            return true;
    }
    return sg__domain_is_brand_typo(rs, dom) || host_poses_as_government(host, dom);
}

/* A host built on a name that is not its own: the platform's name in a phisher's host
 * ("safepay-hikerhub.net", "hikerhub.secure-pay.top" does not count, "hikerhub-pay.shop" does).
 * The name's own domains are those whose registrable domain's first label is the name
 * (hikerhub.com, hikerhub.co.uk) and their subdomains. */
bool sg__host_uses_name(const char *name, const char *host, const char *dom)
{
    char squashed[64];
    size_t len =
        name && strlen(name) < sizeof squashed ? squash_name(name, squashed, sizeof squashed) : 0;
    if (len < 4 || !host || !dom || dom < host || dom > host + strlen(host))
        return false;
    if (sg__name_owns_domain(name, dom))
        return false;
    struct part_test t = {.names = names_the_name, .name = squashed, .name_len = len};
    return host_labels_name(&t, host, dom);
}

/* Whether the tenant's name owns the registrable domain dom: its first label, squashed like
 * the name, is the name (hikerhub.com, hikerhub.co.uk for tenant hikerhub; northside-league.org
 * for tenant northside-league), as sg__host_uses_name reads it. */
bool sg__name_owns_domain(const char *name, const char *dom)
{
    char squashed[64], label[64];
    size_t len =
        name && strlen(name) < sizeof squashed ? squash_name(name, squashed, sizeof squashed) : 0;
    if (len < 4 || !dom)
        return false;
    const char *dot = strchr(dom, '.');
    size_t first = dot ? (size_t)(dot - dom) : strlen(dom);
    if (first >= sizeof label)
        return false;
    memcpy(label, dom, first);
    label[first] = '\0';
    return squash_name(label, label, sizeof label) == len && memcmp(label, squashed, len) == 0;
}

/* Whether some brand owns the registrable domain dom: dom or a parent of it is one of the
 * brands' domains, or dom's first label is a brand's name that has "name.*" (amazon.de). */
bool sg__domain_of_a_brand(const struct sg_rules *rs, const char *dom)
{
    if (!rs->host_brands || !dom || !*dom)
        return false;
    const struct key_index *ix = &rs->host_brands->domains;
    size_t n = strlen(dom);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)dom[i];
        for (uint32_t k = ix->first[c]; k < ix->first[c + 1]; k++)
            if (ix->keys[k].len == n - i && memcmp(dom + i, ix->keys[k].s, n - i) == 0)
                return true;
        const char *dot = memchr(dom + i, '.', n - i);
        if (!dot)
            break;
        i = (size_t)(dot - dom) + 1;
    }
    for (size_t k = 0; k < rs->host_brands->npatterns; k++)
        if (sg__brand_domain_belongs(dom, dom, rs->host_brands->patterns[k]))
            return true;
    const char *dot = strchr(dom, '.');
    size_t first = dot ? (size_t)(dot - dom) : n;
    const struct key_index *names = &rs->host_brands->names;
    unsigned char c = (unsigned char)dom[0];
    for (uint32_t k = names->first[c]; k < names->first[c + 1]; k++) {
        const struct host_key *key = &names->keys[k];
        if (key->len == first && memcmp(dom, key->s, first) == 0 &&
            brand_owns(rs, key->brand, dom, dom))
            return true;
    }
    return false;
}
