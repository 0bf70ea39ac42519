/* Typos of brands' own domains: "dlscord.com", "steamcommunlty.com", "stearncommunity.com",
 * "paypaI.com". A host built on a brand's name (host_brand.c) needs the name whole; a typosquat
 * changes it by one letter, so it gets past that test while the eye reads the brand. Each
 * brand's registrable domains (their first label, 6 letters at least, so that a one-letter
 * change of a short name is not an ordinary word) and its names are kept in a look-alike form:
 * digits read as the letters they imitate, "rn" as "m", "vv" as "w". A link's registrable
 * domain is a typo when its first label, in the same form, is the key itself while the label as
 * written is not (stearncommunity, paypa1), or is one edit away (a letter changed, added, left
 * out, or two neighbours swapped), and no brand owns the domain. */
#include <libpsl.h>
#include <stdlib.h>
#include <string.h>

#include "rules/internal.h"
#include "util/alloc.h"

enum { TYPO_MIN = 6, TYPO_CAP = 48 };

struct typo_key {
    char raw[TYPO_CAP];   /* the label as the brand writes it */
    char shape[TYPO_CAP]; /* its look-alike form */
    uint8_t raw_len, shape_len;
};

struct sg__brand_typos {
    struct typo_key *keys; /* sorted by the first byte of shape */
    size_t n;
    uint32_t first[257];   /* keys starting with c: keys[first[c] .. first[c + 1]) */
};

/* The look-alike form of s[0..n) in out (TYPO_CAP): 0 when it does not fit or is not a plain
 * lower-case ASCII label. */
static size_t shape_of(const char *s, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '0')
            c = 'o';
        else if (c == '1')
            c = 'l';
        else if (c == '3')
            c = 'e';
        else if (c == '5')
            c = 's';
        else if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '9') || c == '-'))
            return 0;
        if (i + 1 < n && ((c == 'r' && s[i + 1] == 'n') || (c == 'v' && s[i + 1] == 'v'))) {
            c = c == 'r' ? 'm' : 'w';
            i++;
        }
        if (k + 1 >= TYPO_CAP)
            return 0;
        out[k++] = c;
    }
    out[k] = '\0';
    return k;
}

/* Whether a and b (lengths an, bn) are one edit apart: one letter changed, added or left out,
 * or two neighbours swapped. */
static bool one_edit(const char *a, size_t an, const char *b, size_t bn)
{
    if (an > bn + 1 || bn > an + 1)
        return false;
    size_t i = 0;
    while (i < an && i < bn && a[i] == b[i])
        i++;
    if (an == bn) {
        if (i == an)
            return false;
        if (memcmp(a + i + 1, b + i + 1, an - i - 1) == 0)
            return true; /* changed */
        return i + 1 < an && a[i] == b[i + 1] && a[i + 1] == b[i] &&
               memcmp(a + i + 2, b + i + 2, an - i - 2) == 0; /* swapped */
    }
    if (an > bn) /* a letter added to b */
        return memcmp(a + i + 1, b + i, bn - i) == 0;
    return memcmp(a + i, b + i + 1, an - i) == 0;
}

static int by_shape(const void *x, const void *y)
{
    const struct typo_key *a = x, *b = y;
    int c = strcmp(a->shape, b->shape);
    return c ? c : strcmp(a->raw, b->raw);
}

/* Adds the label s[0..n) when it is long enough and not there yet. */
static void add_key(struct sg__brand_typos *t, size_t cap, const char *s, size_t n)
{
    if (n < TYPO_MIN || n >= TYPO_CAP || t->n >= cap)
        return;
    struct typo_key *k = &t->keys[t->n];
    k->shape_len = (uint8_t)shape_of(s, n, k->shape);
    if (k->shape_len < TYPO_MIN)
        return;
    memcpy(k->raw, s, n);
    k->raw[n] = '\0';
    k->raw_len = (uint8_t)n;
    t->n++;
}

int sg__brand_typos_build(struct sg_rules *rs)
{
    size_t cap = 0;
    for (size_t b = 0; b < rs->nbrands; b++)
        cap += rs->brands[b].ndomains + rs->brands[b].nnames;
    struct sg__brand_typos *t = sg__calloc(1, sizeof *t);
    if (!t || !(t->keys = sg__calloc(cap + 1, sizeof *t->keys))) {
        sg__free(t);
        return SG_ENOMEM;
    }
    for (size_t b = 0; b < rs->nbrands; b++) {
        const struct sg__brand *br = &rs->brands[b];
        for (size_t k = 0; k < br->ndomains; k++) {
            /* "paypal.*" and "paypal.com" alike give "paypal"; a brand's subdomain
             * ("accounts.google.com") gives its registrable domain's label, not "accounts" */
            const char *d = br->domains[k];
            const char *reg = rs->psl && !strchr(d, '*') ? psl_registrable_domain(rs->psl, d) : d;
            const char *dot = reg ? strchr(reg, '.') : NULL;
            if (dot)
                add_key(t, cap, reg, (size_t)(dot - reg));
        }
        for (size_t k = 0; k < br->nnames; k++) {
            char squashed[TYPO_CAP];
            size_t n = 0;
            for (const char *p = br->names[k]; *p && n + 1 < sizeof squashed; p++)
                if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
                    squashed[n++] = *p;
                else if (*p != ' ' && *p != '-' && *p != '.')
                    n = sizeof squashed; /* not a plain ASCII name */
            if (n < sizeof squashed)
                add_key(t, cap, squashed, n);
        }
    }
    qsort(t->keys, t->n, sizeof *t->keys, by_shape);
    size_t kept = 0; /* a label several domains or names of the brands give, once */
    for (size_t i = 0; i < t->n; i++)
        if (!kept || strcmp(t->keys[i].raw, t->keys[kept - 1].raw))
            t->keys[kept++] = t->keys[i];
    t->n = kept;
    size_t k = 0;
    for (unsigned c = 0; c <= 256; c++) {
        while (c < 256 && k < t->n && (unsigned char)t->keys[k].shape[0] < c)
            k++;
        t->first[c] = (uint32_t)(c == 256 ? t->n : k);
    }
    rs->brand_typos = t;
    return 0;
}

void sg__brand_typos_free(struct sg__brand_typos *t)
{
    if (!t)
        return;
    sg__free(t->keys);
    sg__free(t);
}

/* Whether the label is within one look-alike letter of key k. */
static bool label_imitates(const struct typo_key *k, const char *raw, size_t raw_len,
                           const char *shape, size_t shape_len)
{
    if (raw_len == k->raw_len && memcmp(raw, k->raw, raw_len) == 0)
        return false; /* the brand's own label (under another suffix: host_brand.c's test) */
    if (shape_len == k->shape_len && memcmp(shape, k->shape, shape_len) == 0)
        return true;
    return one_edit(shape, shape_len, k->shape, k->shape_len);
}

bool sg__domain_is_brand_typo(const struct sg_rules *rs, const char *dom)
{
    const struct sg__brand_typos *t = rs->brand_typos;
    const char *dot = dom ? strchr(dom, '.') : NULL;
    if (!t || !dot)
        return false;
    size_t n = (size_t)(dot - dom);
    char shape[TYPO_CAP];
    size_t sn = n + 1 < TYPO_MIN || n >= TYPO_CAP ? 0 : shape_of(dom, n, shape);
    if (sn + 1 < TYPO_MIN)
        return false;
    /* An edit may change the first letter too, but typosquats keep it: only the keys that
     * start alike are compared, and those that start with the label's second letter (a
     * letter put in front: "xpaypal"). */
    bool found = false;
    for (int pass = 0; pass < 2 && !found; pass++) {
        unsigned char c = (unsigned char)shape[pass];
        for (uint32_t k = t->first[c]; k < t->first[c + 1] && !found; k++)
            found = label_imitates(&t->keys[k], dom, n, shape, sn);
    }
    return found && !sg__domain_of_a_brand(rs, dom);
}
