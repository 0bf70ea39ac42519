/* Text normalisation with ICU; see normalize.h and docs/content.md. ASCII takes a table-driven
 * fast path; every other code point is mapped once per process and kept in a lock-free cache, so
 * ICU is only called for characters never seen before or for combining sequences. */
#include "text/normalize.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include "sendguard.h"
#include "util/alloc.h"
#include "util/arena.h"

/* ICU objects: opened once, then only used through const pointers, which ICU documents as safe
 * to share between threads (uspoof_getSkeleton and uspoof_check2 take a const checker). */
static const UNormalizer2 *nfkc, *nfkc_cf;
static USpoofChecker *spoof;
static int init_status;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_ascii_maps(void);

static void init_icu(void)
{
    UErrorCode err = U_ZERO_ERROR;
    nfkc = unorm2_getNFKCInstance(&err);
    nfkc_cf = unorm2_getNFKCCasefoldInstance(&err);
    spoof = uspoof_open(&err);
    if (U_SUCCESS(err)) {
        /* For host labels: scripts as one language mixes them, invisible characters, mixed
         * digit systems. Skeletons ignore these settings. */
        uspoof_setChecks(spoof, USPOOF_RESTRICTION_LEVEL | USPOOF_INVISIBLE | USPOOF_MIXED_NUMBERS,
                         &err);
        uspoof_setRestrictionLevel(spoof, USPOOF_HIGHLY_RESTRICTIVE);
    }
    init_ascii_maps();
    init_status = U_SUCCESS(err) ? 0 : SG_EIO;
}

int sg__unicode_init(void)
{
    pthread_once(&init_once, init_icu);
    return init_status;
}

/* ---- the per-code-point mapping ------------------------------------------------------------ */

enum {
    F_BOUNDARY = 1 << 0, /* NFKC may not combine it with what precedes */
    F_ZW = 1 << 1,       /* zero-width character: removed and counted */
    F_BIDI = 1 << 2,     /* bidi control: removed and counted */
    F_MARK = 1 << 3,     /* combining mark: dropped after an ASCII letter (Zalgo, strike-through) */
    F_EMOJI = 1 << 4,    /* Extended_Pictographic: a ZWJ after it joins emoji, not a trick */
    F_JOINING = 1 << 5,  /* letter of a script that spells with ZWNJ/ZWJ (Persian, Indic) */
    F_WORD = 1 << 6,     /* letter, mark or decimal digit */
    F_PROTO = 1 << 7,    /* has an ASCII form (proto) */
};

/* What one code point becomes. plain: NFKC + case fold (decimal digits of any script as ASCII
 * digits, whitespace and controls as one space). proto: its ASCII look-alike when there is one:
 * plain itself when that is ASCII (fullwidth, mathematical letters, ligatures), else the TR39
 * skeleton of the character when that is ASCII (Cyrillic о, Greek Ϲ, Latin ı). */
struct cp_map {
    unsigned char flags, plen, alen;
    unsigned char letter; /* 0 not a letter, 2 ASCII, 1 other non-ASCII, 3 Cyrillic or Greek
                             (the scripts whose letters pass for Latin ones: "PаyPаl") */
    char plain[40]; /* the longest NFKC expansion (U+FDFA, 18 code points) is 33 bytes */
    char proto[20];
};

enum { ENTRY_EMPTY = 0, ENTRY_BUSY, ENTRY_READY };

struct cp_entry {
    _Atomic unsigned char state;
    struct cp_map m;
};

/* Planes 0 and 1 (letters, symbols, emoji, mathematical alphanumerics), in pages of 256 made on
 * first use and kept for the life of the process: a Latin mail touches one or two pages. */
enum { PAGE_CPS = 256, CACHE_PAGES = 0x20000 / PAGE_CPS };
static _Atomic(struct cp_entry *) pages[CACHE_PAGES];
static struct cp_map ascii_maps[128];

static bool is_zero_width(UChar32 c)
{
    return (c >= 0x200B && c <= 0x200D) || c == 0x2060 || c == 0xFEFF || c == 0x00AD;
}

static bool is_bidi(UChar32 c)
{
    return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E ||
           c == 0x200F;
}

static bool all_ascii(const UChar *s, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        if (s[i] >= 0x80)
            return false;
    return true;
}

/* Appends UTF-16 s as UTF-8 to out[*n..cap), ASCII lower-cased, whitespace and controls as one
 * space, decimal digits as ASCII. Truncates at a character boundary when cap is reached. */
static void put_utf16(const UChar *s, int32_t len, char *out, size_t cap, size_t *n)
{
    for (int32_t i = 0; i < len;) {
        UChar32 c;
        U16_NEXT(s, i, len, c);
        if (c >= 0x80 && (u_isUWhiteSpace(c) || u_charType(c) == U_CONTROL_CHAR))
            c = ' ';
        else if (c >= 0x80 && u_charType(c) == U_DECIMAL_DIGIT_NUMBER)
            c = '0' + u_charDigitValue(c);
        if (c < 0x80) {
            if (*n >= cap)
                return;
            if (c <= 0x20 || c == 0x7F)
                c = ' ';
            else if (c >= 'A' && c <= 'Z')
                c += 'a' - 'A';
            out[(*n)++] = (char)c;
            continue;
        }
        size_t k = 0;
        uint8_t b[4];
        U8_APPEND_UNSAFE(b, k, c);
        if (*n + k > cap)
            return;
        memcpy(out + *n, b, k);
        *n += k;
    }
}

/* The ASCII confusable prototype of the characters s (UTF-16), NFKC_CF'd into buf, or -1 when it
 * is not ASCII. TR39 writes its prototypes in a few spellings that would surprise a rule author:
 * "rn" for m, "l" for capital I look-alikes, "''" for a double quote; a character that looks
 * like one of those is given the letter instead. c is the (first) character of s. */
static int32_t ascii_prototype(UChar32 c, const UChar *s, int32_t n, UChar *buf, int32_t cap)
{
    UErrorCode err = U_ZERO_ERROR;
    UChar sk[64];
    int32_t skn = uspoof_getSkeleton(spoof, 0, s, n, sk, 64, &err);
    if (U_FAILURE(err))
        return -1;
    int32_t m = unorm2_normalize(nfkc_cf, sk, skn, buf, cap, &err);
    if (U_FAILURE(err) || m == 0 || !all_ascii(buf, m))
        return -1;
    if (m == 2 && buf[0] == 'r' && buf[1] == 'n') {
        buf[0] = 'm';
        return 1;
    }
    if (m == 2 && buf[0] == '\'' && buf[1] == '\'') {
        buf[0] = '"';
        return 1;
    }
    if (m == 1 && buf[0] == 'l' && (u_isupper(c) || u_istitle(c)))
        buf[0] = 'i';
    return m;
}

static void compute_map(UChar32 c, struct cp_map *m)
{
    memset(m, 0, sizeof *m);
    unsigned flags = 0;
    if (unorm2_hasBoundaryBefore(nfkc, c))
        flags |= F_BOUNDARY;
    if (is_zero_width(c) || is_bidi(c)) {
        m->flags = (unsigned char)(flags | (is_bidi(c) ? F_BIDI : F_ZW) | F_PROTO);
        return;
    }
    uint32_t mask = U_GET_GC_MASK(c);
    if (mask & (U_GC_MN_MASK | U_GC_ME_MASK))
        flags |= F_MARK;
    if (mask & (U_GC_L_MASK | U_GC_M_MASK | U_GC_ND_MASK))
        flags |= F_WORD;
    if (u_hasBinaryProperty(c, UCHAR_EXTENDED_PICTOGRAPHIC))
        flags |= F_EMOJI;
    UErrorCode err = U_ZERO_ERROR;
    UScriptCode sc = uscript_getScript(c, &err);
    bool rtl = false;
    if (mask & U_GC_L_MASK) {
        m->letter = sc == USCRIPT_CYRILLIC || sc == USCRIPT_GREEK ? 3 : 1;
        if (sc != USCRIPT_LATIN && sc != USCRIPT_COMMON && sc != USCRIPT_INHERITED &&
            sc != USCRIPT_GREEK && sc != USCRIPT_CYRILLIC)
            flags |= F_JOINING;
        UCharDirection dir = u_charDirection(c);
        rtl = dir == U_RIGHT_TO_LEFT || dir == U_RIGHT_TO_LEFT_ARABIC;
    }
    if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT)) {
        /* variation selectors, tags, fillers: invisible, dropped silently */
        m->flags = (unsigned char)(flags | F_PROTO);
        return;
    }
    UChar s[2], f[72], buf[64];
    int32_t sn = 0;
    U16_APPEND_UNSAFE(s, sn, c);
    int32_t fn = unorm2_normalize(nfkc_cf, s, sn, f, 72, &err);
    if (U_FAILURE(err))
        fn = 0;
    size_t n = 0;
    if (mask & U_GC_ND_MASK) {
        m->plain[n++] = (char)('0' + u_charDigitValue(c));
    } else if (u_isUWhiteSpace(c) || (mask & U_GC_CC_MASK)) {
        m->plain[n++] = ' ';
    } else {
        put_utf16(f, fn, m->plain, sizeof m->plain, &n);
    }
    m->plen = (unsigned char)n;
    if (rtl) { /* Arabic and Hebrew letters keep their form: no spoof reads them as Latin */
        m->flags = (unsigned char)flags;
        return;
    }
    bool ascii = true;
    for (size_t i = 0; i < n; i++)
        ascii &= (unsigned char)m->plain[i] < 0x80;
    if (ascii && n <= sizeof m->proto) {
        memcpy(m->proto, m->plain, n);
        m->alen = (unsigned char)n;
        m->flags = (unsigned char)(flags | F_PROTO);
        return;
    }
    /* The skeleton of the character as written (NFKC first would turn Ϲ into Σ, read as o;
     * folding first would read Greek Γ as its small γ, a y), else, for a compatibility
     * character that expands (½ is 1⁄2), of each piece of the expansion. */
    int32_t k = ascii_prototype(c, s, sn, buf, 64);
    n = 0;
    if (k >= 0) {
        put_utf16(buf, k, m->proto, sizeof m->proto, &n);
    } else if (u_countChar32(f, fn) < 2) {
        m->flags = (unsigned char)flags;
        return;
    } else {
        for (int32_t i = 0; i < fn;) {
            UChar32 d;
            int32_t at = i;
            U16_NEXT(f, i, fn, d);
            if (d < 0x80 || (U_GET_GC_MASK(d) & U_GC_ND_MASK)) {
                put_utf16(f + at, i - at, m->proto, sizeof m->proto, &n);
                continue;
            }
            k = ascii_prototype(d, f + at, i - at, buf, 64);
            if (k < 0) {
                m->flags = (unsigned char)flags;
                return;
            }
            put_utf16(buf, k, m->proto, sizeof m->proto, &n);
        }
        if (fn == 0) {
            m->flags = (unsigned char)flags;
            return;
        }
    }
    m->alen = (unsigned char)n;
    m->flags = (unsigned char)(flags | F_PROTO);
}

static void init_ascii_maps(void)
{
    for (int c = 0; c < 128; c++) {
        struct cp_map *m = &ascii_maps[c];
        char b = (char)c;
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (c <= 0x20 || c == 0x7F)
            b = ' ';
        else if (c >= 'A' && c <= 'Z')
            b = (char)(c + ('a' - 'A'));
        m->plain[0] = m->proto[0] = b;
        m->plen = m->alen = 1;
        m->flags = F_BOUNDARY | F_PROTO | (alpha || (c >= '0' && c <= '9') ? F_WORD : 0);
        m->letter = alpha ? 2 : 0;
    }
}

/* The mapping of c: from the cache, or computed into tmp. The first thread to see c stores it;
 * others that race with it use their own copy. */
static const struct cp_map *get_map(UChar32 c, struct cp_map *tmp)
{
    if (c >= 0 && c < 0x80)
        return &ascii_maps[c];
    struct cp_entry *e = NULL;
    if (c >= 0 && c < CACHE_PAGES * PAGE_CPS) {
        struct cp_entry *page = atomic_load_explicit(&pages[c / PAGE_CPS], memory_order_acquire);
        if (!page) {
            struct cp_entry *fresh = sg__calloc(PAGE_CPS, sizeof *fresh);
            if (fresh && !atomic_compare_exchange_strong_explicit(
                             &pages[c / PAGE_CPS], &page, fresh, memory_order_acq_rel,
                             memory_order_acquire)) {
                sg__free(fresh); /* another thread installed one: page now points to it */
            } else if (fresh) {
                page = fresh;
            }
        }
        if (page)
            e = &page[c % PAGE_CPS];
    }
    if (e && atomic_load_explicit(&e->state, memory_order_acquire) == ENTRY_READY)
        return &e->m;
    compute_map(c, tmp);
    if (e) {
        unsigned char expect = ENTRY_EMPTY;
        if (atomic_compare_exchange_strong_explicit(&e->state, &expect, ENTRY_BUSY,
                                                    memory_order_acquire, memory_order_relaxed)) {
            e->m = *tmp;
            atomic_store_explicit(&e->state, ENTRY_READY, memory_order_release);
        }
    }
    return tmp;
}

/* ---- units: a character and what NFKC composes with it ------------------------------------- */

/* Decodes the code point at s[i..len): negative for an invalid or truncated sequence, whose
 * length is then its maximal subpart (one U+FFFD each, as the WHATWG decoder does). */
static inline UChar32 next_cp_raw(const char *s, size_t len, size_t i, size_t *n)
{
    int32_t k = (int32_t)i;
    UChar32 c;
    U8_NEXT((const uint8_t *)s, k, (int32_t)len, c);
    *n = (size_t)k - i;
    return c;
}

/* As next_cp_raw, invalid bytes read as U+FFFD. */
static inline UChar32 next_cp(const char *s, size_t len, size_t i, size_t *n)
{
    UChar32 c = next_cp_raw(s, len, i, n);
    return c < 0 ? 0xFFFD : c;
}

/* Combining sequences longer than this are cut (a Zalgo bomb is not read mark by mark). */
enum { SEG_MAX_UNITS = 64, UNIT_MAX = 32, UNIT_TMP = 4 };

struct unit {
    size_t from, to;  /* input bytes */
    int n;            /* code points after NFKC (at most UNIT_MAX) */
    const struct cp_map *m[UNIT_MAX];
    struct cp_map tmp[UNIT_TMP]; /* for code points the cache could not hold */
    int ntmp;
};

static const struct cp_map *unit_map(struct unit *u, UChar32 c)
{
    struct cp_map scratch;
    struct cp_map *tmp = u->ntmp < UNIT_TMP ? &u->tmp[u->ntmp] : &scratch;
    const struct cp_map *m = get_map(c, tmp);
    if (m == &scratch)
        return NULL; /* no room to keep it: the character is dropped (pathological input) */
    if (m == tmp)
        u->ntmp++;
    return m;
}

/* Reads the unit at text[i]: one code point, or a base and the marks NFKC composes with it. */
static void next_unit(const char *text, size_t len, size_t i, struct unit *u)
{
    size_t n;
    UChar32 c = next_cp(text, len, i, &n);
    u->from = i;
    u->n = 0;
    u->ntmp = 0;
    size_t j = i + n;
    bool multi = false;
    /* Lead bytes below 0xCC are code points below U+0300, none of which combine backwards. */
    while (j < len && (unsigned char)text[j] >= 0xCC) {
        size_t n2;
        struct cp_map scratch;
        UChar32 c2 = next_cp(text, len, j, &n2);
        if (get_map(c2, &scratch)->flags & F_BOUNDARY)
            break;
        j += n2;
        multi = true;
    }
    u->to = j;
    if (!multi) {
        const struct cp_map *m = unit_map(u, c);
        if (m)
            u->m[u->n++] = m;
        return;
    }
    UChar seg[SEG_MAX_UNITS + 2], nf[SEG_MAX_UNITS * 4];
    int32_t sn = 0;
    for (size_t k = i; k < j && sn < SEG_MAX_UNITS;) {
        UChar32 d = next_cp(text, len, k, &n);
        U16_APPEND_UNSAFE(seg, sn, d);
        k += n;
    }
    UErrorCode err = U_ZERO_ERROR;
    int32_t nn = unorm2_normalize(nfkc, seg, sn, nf, SEG_MAX_UNITS * 4, &err);
    if (U_FAILURE(err))
        return;
    for (int32_t k = 0; k < nn && u->n < UNIT_MAX;) {
        UChar32 d;
        U16_NEXT(nf, k, nn, d);
        const struct cp_map *m = unit_map(u, d);
        if (m)
            u->m[u->n++] = m;
    }
}

/* ---- output -------------------------------------------------------------------------------- */

struct out {
    struct sg_arena *a;
    char *s;
    uint32_t *map;
    size_t len, cap;
    bool want_map, failed;
    bool space;          /* a whitespace run is pending */
    uint32_t space_at;   /* where it started */
    bool last_alnum;     /* the last byte written is an ASCII letter or digit */
    unsigned prev_flags; /* flags of the last character written */
    uint32_t zero_width, bidi;
    uint32_t mixed_words; /* words of ASCII letters with Cyrillic or Greek look-alikes */
};

static bool grow(struct out *o, size_t need)
{
    if (o->failed)
        return false;
    if (o->len + need <= o->cap)
        return true;
    size_t cap = o->cap * 2;
    if (cap < o->len + need + 64)
        cap = o->len + need + 64;
    char *s = sg__arena_alloc(o->a, cap + 1);
    uint32_t *map = o->want_map ? sg__arena_alloc(o->a, (cap + 1) * sizeof *map) : NULL;
    if (!s || (o->want_map && !map)) {
        o->failed = true;
        return false;
    }
    if (o->len) {
        memcpy(s, o->s, o->len);
        if (map)
            memcpy(map, o->map, o->len * sizeof *map);
    }
    o->s = s;
    o->map = map;
    o->cap = cap;
    return true;
}

/* grow's common case inline: the output writers call it for every word. */
static inline bool reserve(struct out *o, size_t need)
{
    return o->len + need <= o->cap || grow(o, need);
}

static inline void put_byte(struct out *o, char b, uint32_t at)
{
    if (o->space) {
        o->space = false;
        if (o->len > 0) {
            if (!reserve(o, 1))
                return;
            if (o->want_map)
                o->map[o->len] = o->space_at;
            o->s[o->len++] = ' ';
        }
    }
    if (!reserve(o, 1))
        return;
    if (o->want_map)
        o->map[o->len] = at;
    o->s[o->len++] = b;
    unsigned char u = (unsigned char)b;
    o->last_alnum = (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9');
}

/* A run of ASCII letters and digits, the bulk of most text: one capacity check, then a tight
 * lower-casing copy. */
static void put_ascii_word(struct out *o, const char *text, size_t from, size_t to)
{
    put_byte(o, ascii_maps[(unsigned char)text[from]].plain[0], (uint32_t)from);
    size_t n = to - from - 1;
    if (n == 0 || !reserve(o, n))
        return;
    char *d = o->s + o->len;
    const unsigned char *src = (const unsigned char *)text + from + 1;
    for (size_t i = 0; i < n; i++)
        d[i] = (char)(src[i] | ((src[i] >= 'A' && src[i] <= 'Z') ? 0x20 : 0));
    if (o->want_map) {
        uint32_t *m = o->map + o->len;
        for (size_t i = 0; i < n; i++)
            m[i] = (uint32_t)(from + 1 + i);
    }
    o->len += n;
    o->last_alnum = true;
}

static inline void put_space(struct out *o, uint32_t at)
{
    if (!o->space) {
        o->space = true;
        o->space_at = at;
    }
    o->last_alnum = false;
}

static void put_str(struct out *o, const char *s, size_t n, uint32_t at)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ')
            put_space(o, at);
        else
            put_byte(o, s[i], at);
    }
}

/* Writes one mapped code point; proto chooses the ASCII look-alike when there is one. */
static void put_map(struct out *o, const struct cp_map *m, bool proto, uint32_t at)
{
    unsigned f = m->flags;
    if (f & F_ZW) {
        /* A joiner inside an emoji sequence or a Persian/Indic word is spelling, not a trick:
         * dropped from the text but not counted. The map says which character it is not, so
         * look at what preceded it. */
        bool legit = o->prev_flags & (F_EMOJI | F_JOINING);
        if (!legit)
            o->zero_width++;
        return;
    }
    if (f & F_BIDI) {
        o->bidi++;
        return;
    }
    if ((f & F_MARK) && o->last_alnum)
        return;
    if (proto && (f & F_PROTO))
        put_str(o, m->proto, m->alen, at);
    else
        put_str(o, m->plain, m->plen, at);
    o->prev_flags = f;
}

/* A word with a non-ASCII character: its look-alikes become ASCII when the word mixes them with
 * ASCII letters ("pаypal") or is made of nothing else ("уоur"); otherwise (Russian, Greek or
 * accented words) every letter keeps its case-folded form. */
static size_t put_word(struct out *o, const char *text, size_t len, size_t i)
{
    struct unit u;
    bool ascii_letter = false, all_proto = true, lookalike = false;
    size_t end = i;
    while (end < len) {
        next_unit(text, len, end, &u);
        bool word = false;
        for (int k = 0; k < u.n; k++) {
            unsigned f = u.m[k]->flags;
            unsigned letter = u.m[k]->letter;
            word |= (f & (F_WORD | F_ZW | F_BIDI)) != 0;
            if ((letter & 1) && !(f & F_PROTO))
                all_proto = false;
            ascii_letter |= letter == 2;
            lookalike |= letter == 3 && (f & F_PROTO);
        }
        if (!word && end > i)
            break;
        end = u.to;
    }
    /* Latin with a Cyrillic or Greek look-alike inside one word is no language's spelling
     * (Turkish ı or German ß are Latin): it is written to slip past filters. */
    if (ascii_letter && lookalike)
        o->mixed_words++;
    bool proto = ascii_letter || all_proto;
    for (size_t k = i; k < end;) {
        next_unit(text, len, k, &u);
        for (int j = 0; j < u.n; j++)
            put_map(o, u.m[j], proto, (uint32_t)u.from);
        k = u.to;
    }
    return end;
}

/* ASCII letters and digits: a table, since the main loop asks it of almost every byte. */
static const bool alnum_table[256] = {['0' ... '9'] = true, ['A' ... 'Z'] = true,
                                      ['a' ... 'z'] = true};

static inline bool ascii_alnum(unsigned char b) { return alnum_table[b]; }

int sg__normalize(struct sg_arena *a, const char *text, size_t len, bool want_map,
                  struct sg_norm *out)
{
    memset(out, 0, sizeof *out);
    int rc = sg__unicode_init();
    if (rc)
        return rc;
    if (len >= INT32_MAX)
        return SG_ETOOBIG;
    struct out o = {.a = a, .want_map = want_map};
    if (!grow(&o, len + len / 8 + 16))
        return SG_ENOMEM;
    for (size_t i = 0; i < len && !o.failed;) {
        unsigned char b = (unsigned char)text[i];
        if (b < 0x80) {
            if (ascii_alnum(b)) {
                size_t j = i + 1;
                while (j < len && ascii_alnum((unsigned char)text[j]))
                    j++;
                if (j < len && (unsigned char)text[j] >= 0x80) {
                    i = put_word(&o, text, len, i); /* mixed, or followed by a mark */
                    continue;
                }
                put_ascii_word(&o, text, i, j);
                i = j;
                o.prev_flags = 0;
                continue;
            }
            if (i + 1 < len && (unsigned char)text[i + 1] >= 0xCC) {
                struct unit u; /* punctuation with a mark after it */
                next_unit(text, len, i, &u);
                for (int k = 0; k < u.n; k++)
                    put_map(&o, u.m[k], true, (uint32_t)i);
                i = u.to;
                continue;
            }
            if (b <= 0x20 || b == 0x7F)
                put_space(&o, (uint32_t)i);
            else
                put_byte(&o, (char)b, (uint32_t)i);
            o.prev_flags = 0;
            i++;
            continue;
        }
        struct unit u;
        next_unit(text, len, i, &u);
        if (u.n > 0 && (u.m[0]->flags & F_WORD)) {
            i = put_word(&o, text, len, i);
            continue;
        }
        for (int k = 0; k < u.n; k++)
            put_map(&o, u.m[k], true, (uint32_t)i);
        i = u.to;
    }
    if (o.failed)
        return SG_ENOMEM;
    o.s[o.len] = '\0';
    if (want_map)
        o.map[o.len] = (uint32_t)len;
    out->s = o.s;
    out->len = o.len;
    out->map = want_map ? o.map : NULL;
    out->zero_width = o.zero_width;
    out->bidi_controls = o.bidi;
    out->mixed_script_words = o.mixed_words;
    return 0;
}

/* ---- helpers for other modules ------------------------------------------------------------- */

bool sg__utf8_is_clean(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        if (len - i >= 8) { /* eight ASCII bytes, none of them NUL: the common case */
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & 0x8080808080808080ull) &&
                !((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        if ((unsigned char)s[i] < 0x80) {
            if (s[i] == '\0')
                return false;
            i++;
            continue;
        }
        size_t n;
        if (next_cp_raw(s, len, i, &n) < 0)
            return false;
        i += n;
    }
    return true;
}

char *sg__utf8_clean(struct sg_arena *a, const char *s, size_t len, size_t *out_len)
{
    /* Pass 1: how long the clean copy is (each invalid byte grows to the 3-byte U+FFFD). */
    size_t need = 0;
    bool clean = true;
    for (size_t i = 0; i < len;) {
        if (len - i >= 8) { /* eight ASCII bytes, none of them NUL */
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & 0x8080808080808080ull) &&
                !((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull)) {
                i += 8;
                need += 8;
                continue;
            }
        }
        if ((unsigned char)s[i] < 0x80) {
            clean &= s[i] != '\0';
            i++;
            need++;
            continue;
        }
        size_t n;
        bool bad = next_cp_raw(s, len, i, &n) < 0;
        need += bad ? 3 : n;
        clean &= !bad;
        i += n;
    }
    char *d = sg__arena_alloc(a, need + 1);
    if (!d)
        return NULL;
    if (clean) {
        memcpy(d, s, len);
    } else {
        size_t k = 0;
        for (size_t i = 0; i < len;) {
            if ((unsigned char)s[i] < 0x80) {
                d[k++] = s[i] ? s[i] : ' ';
                i++;
                continue;
            }
            size_t n;
            if (next_cp_raw(s, len, i, &n) < 0) {
                memcpy(d + k, "\xEF\xBF\xBD", 3);
                k += 3;
            } else {
                memcpy(d + k, s + i, n);
                k += n;
            }
            i += n;
        }
    }
    d[need] = '\0';
    *out_len = need;
    return d;
}

bool sg__label_confusable(const char *label, size_t len)
{
    if (sg__unicode_init() || len == 0 || len > 255)
        return false;
    bool ascii = true;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)label[i] >= 0x80)
            ascii = false;
    if (ascii)
        return false;
    UErrorCode err = U_ZERO_ERROR;
    int32_t checks = uspoof_check2UTF8(spoof, label, (int32_t)len, NULL, &err);
    if (U_SUCCESS(err) && checks != 0)
        return true;
    char sk[1024];
    err = U_ZERO_ERROR;
    int32_t n = uspoof_getSkeletonUTF8(spoof, 0, label, (int32_t)len, sk, sizeof sk, &err);
    if (U_FAILURE(err))
        return false;
    for (int32_t i = 0; i < n; i++)
        if ((unsigned char)sk[i] >= 0x80)
            return false;
    return true;
}
