/* The classifier's tokenizer: words and OSB pairs of the normalised subject and body, URL
 * domains and flags, a few header fields of raw mail and facts of the message, each hashed to
 * 64 bits under a seed. No allocation per token: hashes go into one arena array, deduplicated
 * through a hash set of their positions, capped at max_tokens distinct tokens. */
#include "bayes/tokens.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bayes/bayes.h"
#include "bayes/pairs.h"
#include "sendguard.h"
#include "text/content.h"
#include "util/arena.h"
#include "util/hash.h"
#include "util/utf8.h"

/* ---- hashing ---- */

/* 0 marks an empty slot in every token table, so no token may be 0. */
static inline uint64_t nonzero(uint64_t t) { return t ? t : 1; }

uint64_t sg__bayes_word_hash(uint64_t seed, const char *w, size_t n) { return sg__hash(w, n, seed); }

uint64_t sg__bayes_tok_word(uint64_t word_hash, enum sg_bayes_tag tag)
{
    return nonzero(sg__hash_mix(word_hash, (uint64_t)tag));
}

uint64_t sg__bayes_tok_pair(uint64_t earlier, uint64_t later, unsigned distance, bool subject)
{
    /* sg__hash_mix is not symmetric, so (a, b) and (b, a) differ, as word order should. */
    uint64_t h = sg__hash_mix(earlier, later);
    h = sg__hash_mix(h, (uint64_t)(subject ? SG_BTAG_SUBJECT_PAIR : SG_BTAG_PAIR));
    return nonzero(sg__hash_mix(h, distance));
}

uint64_t sg__bayes_tok_url(uint64_t seed, const char *domain, size_t n)
{
    return nonzero(sg__hash_mix(sg__hash(domain, n, seed), SG_BTAG_URL_DOMAIN));
}

uint64_t sg__bayes_tok_header(uint64_t seed, enum sg_bayes_header h, const char *v, size_t n)
{
    uint64_t x = sg__hash_mix(sg__hash(v, n, seed), SG_BTAG_HEADER);
    return nonzero(sg__hash_mix(x, (uint64_t)h));
}

uint64_t sg__bayes_tok_fact(uint64_t seed, enum sg_bayes_tag tag, uint32_t value)
{
    return nonzero(sg__hash_mix(sg__hash_mix(seed, (uint64_t)tag), value));
}

/* ---- the set of a message's distinct tokens ---- */

/* Open addressing over positions in v: slots[i] is 1 + the index in v of the token there, 0
 * empty, so a slot is 4 bytes instead of the token's 8 and the table is made at its full size
 * (half full at most) once, never grown and rehashed. */
struct tokset {
    uint32_t *slots;
    uint32_t mask;
    uint64_t *v;
    uint8_t *pair;  /* pair[i]: v[i] is an OSB pair */
    uint32_t *at;   /* at[i]: the slot of v[i], so the table is emptied without probing */
    uint32_t n, max;
    bool full;
};

/* The table of every message with the default limit (2 * 3000 tokens fit in 8192 slots) is
 * kept by the thread and emptied after use, slot by slot (tokset_clear): zeroing or growing an
 * arena table for each message cost more than all its hashing. Larger limits get a zeroed arena
 * table. */
enum { TLS_SLOTS = 8192 };
static __thread uint32_t tls_slots[TLS_SLOTS];

/* Adds t[0 .. count) in order, each flagged is_pair, skipping those already in; stops when the
 * set is full (a token after that could only be one already in, or another refused). The
 * fields are read into locals once: stored through pointers of their own types, they would
 * otherwise be read again after every store. Inlined: it runs twice a word. */
static inline __attribute__((always_inline)) void add_many(struct tokset *s, const uint64_t *t,
                                                           unsigned count, bool is_pair)
{
    uint32_t *slots = s->slots, mask = s->mask, n = s->n, max = s->max;
    uint64_t *v = s->v;
    for (unsigned j = 0; j < count; j++) {
        uint32_t i = (uint32_t)t[j] & mask;
        bool seen = false;
        for (uint32_t k; (k = slots[i]) != 0; i = (i + 1) & mask)
            if (v[k - 1] == t[j]) {
                seen = true;
                break;
            }
        if (seen)
            continue;
        if (n == max) {
            s->full = true;
            break;
        }
        s->pair[n] = is_pair;
        s->at[n] = i;
        v[n++] = t[j];
        slots[i] = n;
    }
    s->n = n;
}

static void add(struct tokset *s, uint64_t t) { add_many(s, &t, 1, false); }

/* Empties the thread's table: only the slots the tokens took. */
static void tokset_clear(struct tokset *s)
{
    for (uint32_t k = 0; k < s->n; k++)
        s->slots[s->at[k]] = 0;
}

/* ---- words ---- */

enum cclass { SEP, WORD, INNER };

/* What a code point is to the word splitter. Letters and digits of every script are word
 * characters (norm is already NFKC and case folded); the currency signs are too, because "£1000"
 * and "$$$" are exactly what spam says. Apostrophes, dots, hyphens, '_' and '@' join two word
 * characters ("don't", "e-mail", "paypal.com"); ',' joins digits only ("1,000"). */
static enum cclass char_class(uint32_t cp)
{
    if (cp < 0x80) {
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
            cp == '$')
            return WORD;
        if (cp == '\'' || cp == '.' || cp == '-' || cp == '_' || cp == '@' || cp == ',')
            return INNER;
        return SEP;
    }
    if (cp == 0x2019) /* ’ as an apostrophe */
        return INNER;
    if (cp <= 0xBF) /* Latin-1 punctuation and symbols, but ¢ £ ¥ and µ */
        return (cp == 0xA2 || cp == 0xA3 || cp == 0xA5 || cp == 0xB5) ? WORD : SEP;
    if (cp == 0xD7 || cp == 0xF7 || cp == 0xFFFD)
        return SEP;
    if (cp >= 0x2000 && cp <= 0x206F) /* general punctuation: dashes, quotes, spaces */
        return SEP;
    if (cp >= 0x2100 && cp <= 0x2BFF) /* arrows, maths, boxes, dingbats */
        return SEP;
    if ((cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFE00 && cp <= 0xFE0F) ||
        (cp >= 0xFF00 && cp <= 0xFF0F))
        return SEP;
    return WORD;
}

/* char_class of ASCII, as a table: the splitter looks at every byte of the text. SEP is 0. */
static const unsigned char ascii_class[128] = {
    ['0' ... '9'] = WORD, ['A' ... 'Z'] = WORD, ['a' ... 'z'] = WORD, ['$'] = WORD,
    ['\''] = INNER, ['.'] = INNER, ['-'] = INNER, ['_'] = INNER, ['@'] = INNER, [','] = INNER,
};

/* ascii_class[c] == WORD as a table over every byte (0 for 0x80 and above): the word loop's one
 * test for its common case. */
static const bool ascii_word[256] = {
    ['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true, ['$'] = true,
};

/* Decodes the character at p (n >= 1 bytes); an invalid byte is U+FFFD of length 1. */
static size_t decode(const char *p, size_t n, uint32_t *cp)
{
    const unsigned char *s = (const unsigned char *)p;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t k = sg__utf8_seq(s, n);
    switch (k) {
    case 2: *cp = ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F); break;
    case 3: *cp = ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F); break;
    case 4:
        *cp = ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
              ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        break;
    default: *cp = 0xFFFD; return 1;
    }
    return k;
}

/* The character at p (n >= 1 bytes) and its class; ASCII without a call. */
static inline size_t next_char(const char *p, size_t n, uint32_t *cp, enum cclass *cls)
{
    unsigned char c = (unsigned char)p[0];
    if (c < 0x80) {
        *cp = c;
        *cls = (enum cclass)ascii_class[c];
        return 1;
    }
    size_t k = decode(p, n, cp);
    *cls = char_class(*cp);
    return k;
}

/* One stream of words (the subject or the body) with its OSB window. */
struct stream {
    struct tokset *set;
    uint64_t seed;
    bool subject;
    uint64_t prev[SG_BAYES_PAIRS]; /* prev[0] is the word just before */
    unsigned nprev;
    bool long_words;
    bool vector; /* sg__bayes_pairs_vector() */
};

static void stream_word(struct stream *s, const char *w, size_t n, bool number, size_t digits)
{
    enum sg_bayes_tag tag = s->subject ? SG_BTAG_SUBJECT_WORD : SG_BTAG_WORD;
    uint64_t h = sg__bayes_word_hash(s->seed, w, n);
    add(s->set, sg__bayes_tok_word(h, tag));
    uint64_t id = h;
    if (number && digits >= SG_BAYES_NUMBER_SHAPE_MIN) {
        /* '#' is never a word character, so a shape never equals a word. */
        char shape[24];
        int k = snprintf(shape, sizeof shape, "#%zu", digits);
        id = sg__bayes_word_hash(s->seed, shape, (size_t)k);
        add(s->set, sg__bayes_tok_word(id, tag));
    }
    if (s->nprev) {
        uint64_t pairs[SG_BAYES_PAIRS];
        sg__bayes_tok_pairs(s->prev, id, s->nprev, s->subject, s->vector, pairs);
        add_many(s->set, pairs, s->nprev, true);
    }
    for (unsigned d = SG_BAYES_OSB_WINDOW - 2; d > 0; d--) /* a fixed shift, no call */
        s->prev[d] = s->prev[d - 1];
    s->prev[0] = id;
    if (s->nprev < SG_BAYES_OSB_WINDOW - 1)
        s->nprev++;
}

/* Splits p[0..len) into words (ASCII folded to lower case, for text that skipped
 * normalisation) and feeds them to the stream. */
static void scan(struct stream *s, const char *p, size_t len)
{
    char buf[SG_BAYES_MAX_WORD];
    size_t i = 0;
    while (i < len && !s->set->full) {
        /* The ASCII between words (spaces, punctuation) in a tight loop: nothing but a word
         * changes the set. */
        while (i < len && (unsigned char)p[i] < 0x80 && !ascii_word[(unsigned char)p[i]])
            i++;
        if (i == len)
            break;
        uint32_t cp;
        enum cclass cls;
        size_t k = next_char(p + i, len - i, &cp, &cls);
        if (cls != WORD) {
            i += k;
            continue;
        }
        size_t n = 0, digits = 0;
        bool number = true;
        while (i < len) {
            unsigned char c0 = (unsigned char)p[i];
            if (ascii_word[c0]) {
                /* Most characters of a word: an ASCII letter, digit or '$' needs no decoding
                 * and no look-ahead; what the general path below does with one, in short.
                 * | 0x20 folds a letter and leaves digits and '$' (0x20 set already) alone. */
                bool digit = (unsigned)(c0 - '0') < 10;
                digits += digit;
                number &= digit;
                if (n < sizeof buf)
                    buf[n] = (char)(c0 | 0x20);
                n++;
                i++;
                continue;
            }
            k = next_char(p + i, len - i, &cp, &cls);
            if (cls == SEP)
                break;
            if (cls == INNER) {
                /* Joins only when a word character follows (and for ',', digits both sides). */
                uint32_t next = 0;
                enum cclass next_cls;
                if (i + k >= len)
                    break;
                next_char(p + i + k, len - i - k, &next, &next_cls);
                if (next_cls != WORD)
                    break;
                /* The character before is a digit exactly when its last byte is one (every
                 * byte of a multi-byte character is 0x80 or more); i is past the word's start. */
                char last = p[i - 1];
                if (cp == ',' && !(last >= '0' && last <= '9' && next >= '0' && next <= '9'))
                    break;
                if (cp != '.' && cp != ',')
                    number = false;
            } else if (cp >= '0' && cp <= '9') {
                digits++;
            } else {
                number = false;
            }
            if (cp == 0x2019) {
                cp = '\'';
                if (n + 1 <= sizeof buf)
                    buf[n] = '\'';
                n += 1;
            } else if (k == 1 && n < sizeof buf) {
                char c = p[i];
                buf[n++] = (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
            } else if (n + k <= sizeof buf) {
                for (size_t j = 0; j < k; j++) {
                    char c = p[i + j];
                    buf[n + j] = (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
                }
                n += k;
            } else {
                n += k;
            }
            i += k;
        }
        if (n > sizeof buf) /* n only grows: over the buffer at the end is over it at any point */
            s->long_words = true;
        else
            stream_word(s, buf, n, number && digits > 0, digits);
    }
}

/* ---- header fields of raw mail ---- */

/* The lower-case domain of an address ("Name <a@Example.COM>" -> "example.com") into buf;
 * its length, 0 when there is none. */
static size_t addr_domain(const char *addr, char *buf, size_t size)
{
    if (!addr)
        return 0;
    const char *at = strrchr(addr, '@');
    if (!at)
        return 0;
    size_t n = 0;
    for (const char *q = at + 1; *q && n < size; q++) {
        char c = *q;
        if (c == '>' || c == ' ' || c == '\t' || c == ',' || c == ';' || c == '"' || c == ')')
            break;
        buf[n++] = (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
    }
    while (n && buf[n - 1] == '.')
        n--;
    return n;
}

static const char *header(const struct sg_content *c, const char *name)
{
    for (size_t i = 0; i < c->nheaders; i++)
        if (c->headers[i].name && c->headers[i].value && strcasecmp(c->headers[i].name, name) == 0)
            return c->headers[i].value;
    return NULL;
}

static void header_tokens(struct tokset *set, uint64_t seed, const struct sg_content *c)
{
    char from[256], other[256];
    size_t nfrom = addr_domain(c->from_addr, from, sizeof from);
    if (nfrom)
        add(set, sg__bayes_tok_header(seed, SG_BHDR_FROM_DOMAIN, from, nfrom));
    size_t nreply = addr_domain(c->reply_to, other, sizeof other);
    if (nreply) {
        add(set, sg__bayes_tok_header(seed, SG_BHDR_REPLY_TO_DOMAIN, other, nreply));
        if (nfrom && (nfrom != nreply || memcmp(from, other, nfrom) != 0))
            add(set, sg__bayes_tok_fact(seed, SG_BTAG_META, SG_BMETA_REPLY_TO_DIFFERS << 8 | 1));
    }
    /* The mailer without its version: "Microsoft Outlook Express 6.00.2600.0000" and
     * "... 6.00.2800.1106" are the same fact. User-Agent is the same field for other clients. */
    const char *mailer = header(c, "X-Mailer");
    if (!mailer)
        mailer = header(c, "User-Agent");
    if (mailer) {
        size_t n = 0;
        for (const char *q = mailer; *q && n < 48; q++) {
            char ch = *q;
            other[n++] = (ch >= '0' && ch <= '9') ? '#' : (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
        }
        add(set, sg__bayes_tok_header(seed, SG_BHDR_X_MAILER, other, n));
    }
    const char *ctype = header(c, "Content-Type");
    if (ctype) {
        size_t n = 0;
        const char *q = ctype;
        while (*q == ' ' || *q == '\t')
            q++;
        for (; *q && *q != ';' && *q != ' ' && n < 64; q++)
            other[n++] = (*q >= 'A' && *q <= 'Z') ? (char)(*q + 32) : *q;
        if (n)
            add(set, sg__bayes_tok_header(seed, SG_BHDR_CONTENT_TYPE, other, n));
        const char *cs = strcasestr(ctype, "charset=");
        if (cs) {
            cs += 8;
            if (*cs == '"')
                cs++;
            n = 0;
            for (; *cs && *cs != '"' && *cs != ';' && *cs != ' ' && n < 64; cs++)
                other[n++] = (*cs >= 'A' && *cs <= 'Z') ? (char)(*cs + 32) : *cs;
            if (n)
                add(set, sg__bayes_tok_header(seed, SG_BHDR_CHARSET, other, n));
        }
    }
    size_t nmid = addr_domain(header(c, "Message-ID"), other, sizeof other);
    if (nmid)
        add(set, sg__bayes_tok_header(seed, SG_BHDR_MESSAGE_ID_DOMAIN, other, nmid));
}

/* ---- facts ---- */

static void meta(struct tokset *set, uint64_t seed, uint32_t kind, uint32_t bucket)
{
    add(set, sg__bayes_tok_fact(seed, SG_BTAG_META, kind << 8 | bucket));
}

static uint32_t log2_bucket(size_t n)
{
    uint32_t b = 0;
    for (n += 1; n > 1; n >>= 1)
        b++;
    return b;
}

static void url_tokens(struct tokset *set, uint64_t seed, const struct sg_content *c)
{
    size_t n = c->nurls < SG_BAYES_MAX_URLS ? c->nurls : SG_BAYES_MAX_URLS;
    bool ip = false;
    for (size_t i = 0; i < n && c->urls; i++) {
        const struct sg_text_url *u = &c->urls[i];
        if (u->domain && *u->domain)
            add(set, sg__bayes_tok_url(seed, u->domain, strlen(u->domain)));
        if (u->flags & SG_URL_IP_LITERAL)
            ip = true;
        for (unsigned bit = 0; bit < 32; bit++)
            if (u->flags & (1u << bit))
                add(set, sg__bayes_tok_fact(seed, SG_BTAG_URL_FLAG, bit));
    }
    if (ip)
        meta(set, seed, SG_BMETA_URL_IP, 1);
    meta(set, seed, SG_BMETA_URLS, c->nurls == 0 ? 0 : c->nurls == 1 ? 1 : c->nurls < 5 ? 2 : 3);
}

static void fact_tokens(struct tokset *set, uint64_t seed, const struct sg_content *c,
                        size_t body_len)
{
    if (c->has_html)
        meta(set, seed, SG_BMETA_HTML, 1);
    if (c->nattachments)
        meta(set, seed, SG_BMETA_ATTACHMENTS, 1);
    if (c->hidden_chars)
        meta(set, seed, SG_BMETA_HIDDEN, 1);
    if (c->zero_width || c->bidi_controls)
        meta(set, seed, SG_BMETA_INVISIBLE, 1);
    if (c->images_without_text)
        meta(set, seed, SG_BMETA_IMAGES_NO_TEXT, 1);
    if (c->forms)
        meta(set, seed, SG_BMETA_FORMS, 1);
    if (c->password_inputs)
        meta(set, seed, SG_BMETA_FORMS, 2);
    if (c->mime_broken)
        meta(set, seed, SG_BMETA_MIME_BROKEN, 1);
    meta(set, seed, SG_BMETA_LENGTH, log2_bucket(body_len));
}

/* ---- the tokenizer ---- */

int sg__bayes_tokenize(struct sg_arena *arena, uint64_t seed, const struct sg_content *c,
                       uint32_t max_tokens, struct sg_bayes_tokens *out)
{
    if (!arena || !c || !out)
        return SG_EINVAL;
    out->v = NULL;
    out->n = 0;
    out->truncated = false;
    out->short_form = c->short_form;
    if (!max_tokens)
        max_tokens = SG_BAYES_DEFAULT_MAX_TOKENS;
    if (max_tokens > (1u << 24))
        max_tokens = 1u << 24;
    /* Half full at most, so probes stay short. */
    uint32_t slots = 64;
    while (slots < 2 * max_tokens)
        slots <<= 1;
    struct tokset set = {.mask = slots - 1, .max = max_tokens};
    bool tls = slots <= TLS_SLOTS;
    set.slots = tls ? tls_slots : sg__arena_alloc(arena, (size_t)slots * sizeof *set.slots);
    set.v = sg__arena_alloc(arena, (size_t)max_tokens * sizeof *set.v);
    set.pair = sg__arena_alloc(arena, max_tokens);
    set.at = sg__arena_alloc(arena, (size_t)max_tokens * sizeof *set.at);
    if (!set.slots || !set.v || !set.pair || !set.at)
        return SG_ENOMEM;
    if (!tls)
        memset(set.slots, 0, (size_t)slots * sizeof *set.slots);

    /* The order decides what survives the cap: the subject and the message's facts first (few
     * and telling), then the body. */
    bool vector = sg__bayes_pairs_vector();
    struct stream subj = {.set = &set, .seed = seed, .subject = true, .vector = vector};
    const char *s = c->norm_subject ? c->norm_subject : c->subject;
    size_t slen = c->norm_subject ? c->norm_subject_len : c->subject_len;
    if (s)
        scan(&subj, s, slen);
    const char *body = c->norm ? c->norm : c->text;
    size_t blen = c->norm ? c->norm_len : c->text_len;
    if (!body)
        blen = 0;
    header_tokens(&set, seed, c);
    url_tokens(&set, seed, c);
    fact_tokens(&set, seed, c, blen);
    struct stream text = {.set = &set, .seed = seed, .subject = false, .vector = vector};
    if (body)
        scan(&text, body, blen);
    if (subj.long_words || text.long_words)
        meta(&set, seed, SG_BMETA_LONG_WORDS, 1);

    if (tls)
        tokset_clear(&set);
    out->v = set.v;
    out->pair = set.pair;
    out->n = set.n;
    out->truncated = set.full;
    out->short_form = c->short_form;
    return 0;
}
