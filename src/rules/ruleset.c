/* Loading rule files (YAML, libfyaml) into an immutable ruleset: the shipped files first, then
 * each local directory, a later rule with the same code replacing or amending an earlier one.
 * Every problem is collected as "FILE:LINE: rule CODE: problem" so `rules lint` shows them all. */
#include <dirent.h>
#include <errno.h>
#include <libfyaml.h>
#include <libpsl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "engine/policy.h"
#include "engine/reasons.h"
#include "rules/internal.h"
#include "rules/regex_memo.h"
#include "util/alloc.h"
#include "util/hash.h"
#include "util/yamltext.h"

#define ALL_CHANNELS ((1u << SG_CH_COUNT) - 1)

/* Which fields a rule entry gave: an entry with a code and no matcher amends an earlier rule. */
enum {
    F_SCORE = 1 << 0,
    F_DESC = 1 << 1,
    F_CHANNELS = 1 << 2,
    F_STATE = 1 << 3,
    F_MATCHER = 1 << 4,
};

struct loader {
    struct sg_rules *rs;
    size_t cap;
    struct sg_strbuf errs;
    int nerrs;
    int rc;            /* SG_ENOMEM or SG_EIO when one happened, else 0 */
    const char *file;  /* the file being read (owned by rs->files) */
    int layer;
    /* code -> rule index, open addressing; sized for SG_RULES_MAX_RULES */
    int32_t *slots;
    size_t nslots;
    int *brand_layer;
    size_t brands_cap;
    struct sg__regex_memo *checked; /* regexes known to pass the check */
};

/* ---- errors ------------------------------------------------------------------------------ */

static void verr(struct loader *L, const char *file, int line, const char *code,
                 const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void verr(struct loader *L, const char *file, int line, const char *code,
                 const char *fmt, va_list ap)
{
    L->nerrs++;
    if (L->nerrs > SG_RULES_MAX_ERRORS)
        return;
    if (L->nerrs == SG_RULES_MAX_ERRORS) {
        sg__sb_printf(&L->errs, "%s: more errors follow; fix these first\n", file ? file : "rules");
        return;
    }
    sg__sb_adds(&L->errs, file ? file : "rules");
    if (line > 0)
        sg__sb_printf(&L->errs, ":%d", line);
    sg__sb_adds(&L->errs, ": ");
    if (code)
        sg__sb_printf(&L->errs, "rule %s: ", code);
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    sg__sb_adds(&L->errs, msg);
    sg__sb_addc(&L->errs, '\n');
}

static void err_at(struct loader *L, int line, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void err_at(struct loader *L, int line, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verr(L, L->file, line, code, fmt, ap);
    va_end(ap);
}

static void err_rule(struct loader *L, const struct sg__rule *r, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void err_rule(struct loader *L, const struct sg__rule *r, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verr(L, r->file, line ? line : r->line, r->code, fmt, ap);
    va_end(ap);
}

static void nomem(struct loader *L)
{
    if (!L->rc)
        L->rc = SG_ENOMEM;
    err_at(L, 0, NULL, "out of memory");
}

/* ---- YAML helpers (shared ones in util/yamltext.c) ------------------------------------------------ */

static bool text_is(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* The text of a scalar (not an alias, not null), or NULL. */
static const char *scalar(struct fy_node *n, size_t *len)
{
    if (!n || fy_node_is_alias(n) || !fy_node_is_scalar(n) || sg__yaml_is_null(n))
        return NULL;
    return fy_node_get_scalar(n, len);
}

static const char *what_node(struct fy_node *n)
{
    if (sg__yaml_is_null(n))
        return "nothing";
    if (fy_node_is_alias(n))
        return "an alias";
    if (fy_node_is_mapping(n))
        return "a mapping";
    if (fy_node_is_sequence(n))
        return "a list";
    return "a scalar";
}

/* A rule file is UTF-8 text without control characters and without YAML directives (why: see
 * util/yamltext.h). */
static bool check_text(struct loader *L, const char *text, size_t len)
{
    char msg[96];
    int line = sg__yaml_text_check(text, len, msg, sizeof msg);
    if (line == 0)
        return true;
    err_at(L, line, NULL, "%s", msg);
    return false;
}

/* ---- the code table ------------------------------------------------------------------------ */

static uint64_t code_hash(const char *s) { return sg__hash(s, strlen(s), 0x5eed5eedu); }

static int find_code(const struct loader *L, const char *code)
{
    size_t mask = L->nslots - 1;
    for (size_t i = code_hash(code) & mask;; i = (i + 1) & mask) {
        int32_t v = L->slots[i];
        if (v < 0)
            return -1;
        if (strcmp(L->rs->rules[v].code, code) == 0)
            return v;
    }
}

static void put_code(struct loader *L, const char *code, int idx)
{
    size_t mask = L->nslots - 1;
    size_t i = code_hash(code) & mask;
    while (L->slots[i] >= 0)
        i = (i + 1) & mask;
    L->slots[i] = idx;
}

/* ---- one rule ----------------------------------------------------------------------------- */

static void rule_clear(struct sg__rule *r)
{
    sg__free(r->code);
    sg__free(r->description);
    for (size_t k = 0; k < r->nitems; k++)
        sg__free(r->items[k]);
    sg__free(r->items);
    sg__free(r->item_lines);
    sg__free(r->expr);
    sg__free(r->nodes);
    memset(r, 0, sizeof *r);
}

/* Moves the matcher of src into dst (dst's old matcher freed). */
static void take_matcher(struct sg__rule *dst, struct sg__rule *src)
{
    for (size_t k = 0; k < dst->nitems; k++)
        sg__free(dst->items[k]);
    sg__free(dst->items);
    sg__free(dst->item_lines);
    sg__free(dst->expr);
    sg__free(dst->nodes);
    dst->kind = src->kind;
    dst->items = src->items;
    dst->item_lines = src->item_lines;
    dst->nitems = src->nitems;
    dst->expr = src->expr;
    dst->nodes = src->nodes;
    dst->nnodes = src->nnodes;
    dst->root = src->root;
    dst->matcher_line = src->matcher_line;
    src->items = NULL;
    src->item_lines = NULL;
    src->nitems = 0;
    src->expr = NULL;
    src->nodes = NULL;
}

static bool valid_code(const char *s, size_t n)
{
    if (n == 0 || n > SG_RULES_MAX_CODE || s[0] < 'A' || s[0] > 'Z')
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static bool parse_score(const char *s, size_t n, double *out)
{
    char buf[40];
    if (n == 0 || n >= sizeof buf || strspn(s, "0123456789+-.eE") < n)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    double d = strtod(buf, &end);
    if (*end || errno || !isfinite(d) || d < -SG_RULES_MAX_SCORE || d > SG_RULES_MAX_SCORE)
        return false;
    *out = d == 0 ? 0 : d;
    return true;
}

/* A string field: a scalar without NUL bytes of 1..max bytes, copied. */
static char *string_field(struct loader *L, struct fy_node *v, const char *code, int line,
                          const char *field, size_t max)
{
    size_t len = 0;
    const char *s = scalar(v, &len);
    if (!s) {
        err_at(L, line, code, "%s: expected text, got %s", field, what_node(v));
        return NULL;
    }
    if (len == 0 || len > max || memchr(s, '\0', len)) {
        err_at(L, line, code, "%s: expected 1 to %zu bytes of text without NUL", field, max);
        return NULL;
    }
    char *copy = sg__strndup(s, len);
    if (!copy)
        nomem(L);
    return copy;
}

static bool parse_channels(struct loader *L, struct fy_node *v, const char *code, int line,
                           unsigned *out)
{
    if (!v || fy_node_is_alias(v) || !fy_node_is_sequence(v) ||
        fy_node_sequence_item_count(v) == 0) {
        err_at(L, line, code, "channels: expected a list of channels like [email, private_message], got %s",
               what_node(v));
        return false;
    }
    unsigned mask = 0;
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(v, &it))) {
        size_t len = 0;
        const char *s = scalar(item, &len);
        int ch = s ? sg__channel_parse(s, len) : -1;
        if (ch < 0) {
            err_at(L, sg__yaml_node_line(item) ? sg__yaml_node_line(item) : line, code,
                   "channels: unknown channel \"%.*s\" (expected email, private_message, post, "
                   "comment, sms or notification)",
                   s ? (int)(len > 40 ? 40 : len) : 0, s ? s : "");
            return false;
        }
        mask |= 1u << ch;
    }
    *out = mask;
    return true;
}

/* regex: one string or a list of alternatives; words: a list. */
static bool parse_items(struct loader *L, struct sg__rule *r, struct fy_node *v, int line,
                        bool words)
{
    const char *field = words ? "words" : "regex";
    size_t max_items = words ? SG_RULES_MAX_WORDS : SG_RULES_MAX_ALTERNATIVES;
    size_t max_len = words ? SG_RULES_MAX_WORD : SG_RULES_MAX_REGEX;
    struct fy_node *single = NULL;
    int count;
    if (v && !fy_node_is_alias(v) && fy_node_is_sequence(v)) {
        count = fy_node_sequence_item_count(v);
    } else if (!words && scalar(v, &(size_t){0})) {
        single = v;
        count = 1;
    } else {
        err_at(L, line, r->code, words ? "words: expected a list of words or phrases, got %s"
                                       : "regex: expected a pattern or a list of patterns, got %s",
               what_node(v));
        return false;
    }
    if (count <= 0 || (size_t)count > max_items) {
        err_at(L, line, r->code, "%s: expected 1 to %zu entries, got %d", field, max_items, count);
        return false;
    }
    r->items = sg__calloc((size_t)count, sizeof *r->items);
    r->item_lines = sg__calloc((size_t)count, sizeof *r->item_lines);
    if (!r->items || !r->item_lines) {
        nomem(L);
        return false;
    }
    void *it = NULL;
    bool ok = true;
    for (int k = 0; k < count; k++) {
        struct fy_node *item = single ? single : fy_node_sequence_iterate(v, &it);
        int iline = sg__yaml_node_line(item) ? sg__yaml_node_line(item) : line;
        size_t len = 0;
        const char *s = scalar(item, &len);
        if (!s || len == 0 || len > max_len || memchr(s, '\0', len)) {
            err_at(L, iline, r->code, "%s: expected text of 1 to %zu bytes without NUL, got %s",
                   field, max_len, s ? "that" : what_node(item));
            ok = false;
            continue;
        }
        if (words && (s[0] == ' ' || s[len - 1] == ' ')) {
            err_at(L, iline, r->code, "words: \"%.*s\" starts or ends with a space", (int)len, s);
            ok = false;
            continue;
        }
        char *copy = sg__strndup(s, len);
        if (!copy) {
            nomem(L);
            return false;
        }
        r->items[r->nitems] = copy;
        r->item_lines[r->nitems++] = iline;
        if (!words) {
            char msg[512];
            const char *problem = sg__rules_check_regex(L->checked, copy, msg, sizeof msg);
            if (problem) {
                err_at(L, iline, r->code, "regex: %s", problem);
                ok = false;
            }
        }
    }
    return ok;
}

static const char *const rule_keys = "code, score, description, channels, state, regex, words or expr";

/* Reads one entry of `rules:` into r; *fields says what it gave. False on a problem (reported). */
static bool parse_rule(struct loader *L, struct fy_node *map, int index, struct sg__rule *r,
                       unsigned *fields)
{
    memset(r, 0, sizeof *r);
    r->file = L->file;
    r->layer = L->layer;
    r->channels = ALL_CHANNELS;
    r->root = -1;
    *fields = 0;
    int line = sg__yaml_node_line(map);
    r->line = line;
    if (!map || fy_node_is_alias(map) || !fy_node_is_mapping(map)) {
        err_at(L, line, NULL, "rules[%d]: expected a mapping with %s, got %s", index, rule_keys,
               what_node(map));
        return false;
    }
    /* The code first, so every later message can name the rule. */
    struct fy_node *code_node = fy_node_mapping_lookup_by_string(map, "code", 4);
    size_t clen = 0;
    const char *code = scalar(code_node, &clen);
    char label[40];
    if (!code) {
        err_at(L, line, NULL, "rules[%d]: missing code (an UPPER_SNAKE name like PRIZE_CLAIM)", index);
        return false;
    }
    int cline = sg__yaml_node_line(code_node);
    if (!valid_code(code, clen)) {
        err_at(L, cline, NULL, "rules[%d]: code \"%.*s\" is not UPPER_SNAKE (A-Z, 0-9 and _, "
               "starting with a letter, at most %d characters)", index,
               (int)(clen > 64 ? 64 : clen), code, SG_RULES_MAX_CODE);
        return false;
    }
    if (!(r->code = sg__strndup(code, clen))) {
        nomem(L);
        return false;
    }
    r->line = cline;
    snprintf(label, sizeof label, "%s", r->code);
    if (sg__rules_fact_parse(code, clen) >= 0) {
        err_at(L, cline, r->code, "code is the name of a fact; pick another code");
        return false;
    }
    if (sg__reason_parse(code, clen) >= 0) {
        err_at(L, cline, r->code, "code is an engine reason code; pick another code");
        return false;
    }
    bool ok = true;
    void *it = NULL;
    struct fy_node_pair *pair;
    int matchers = 0;
    while ((pair = fy_node_mapping_iterate(map, &it))) {
        struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
        size_t klen = 0;
        const char *key = scalar(k, &klen);
        int kline = sg__yaml_node_line(k);
        int vline = v && fy_node_is_scalar(v) && sg__yaml_node_line(v) ? sg__yaml_node_line(v) : kline;
        if (!key) {
            err_at(L, kline ? kline : line, label, "expected a field name (%s)", rule_keys);
            ok = false;
            continue;
        }
        if (v && fy_node_is_alias(v)) {
            err_at(L, vline, label, "%.*s: YAML aliases are not supported", (int)klen, key);
            ok = false;
            continue;
        }
        if (text_is(key, klen, "code")) {
            continue;
        } else if (text_is(key, klen, "score")) {
            size_t len = 0;
            const char *s = scalar(v, &len);
            if (!s || !parse_score(s, len, &r->score)) {
                err_at(L, vline, label, "score: expected a number from %g to %g",
                       -SG_RULES_MAX_SCORE, SG_RULES_MAX_SCORE);
                ok = false;
            }
            *fields |= F_SCORE;
        } else if (text_is(key, klen, "description")) {
            r->description = string_field(L, v, label, vline, "description", SG_RULES_MAX_DESCRIPTION);
            ok = ok && r->description;
            *fields |= F_DESC;
        } else if (text_is(key, klen, "channels")) {
            ok = parse_channels(L, v, label, vline, &r->channels) && ok;
            *fields |= F_CHANNELS;
        } else if (text_is(key, klen, "state")) {
            size_t len = 0;
            const char *s = scalar(v, &len);
            if (s && text_is(s, len, "enforce")) {
                r->state = SG__RS_ENFORCE;
            } else if (s && text_is(s, len, "monitor")) {
                r->state = SG__RS_MONITOR;
            } else if (s && text_is(s, len, "off")) {
                r->state = SG__RS_OFF;
            } else {
                err_at(L, vline, label, "state: expected enforce, monitor or off");
                ok = false;
            }
            *fields |= F_STATE;
        } else if (text_is(key, klen, "regex") || text_is(key, klen, "words")) {
            bool words = key[0] == 'w';
            if (matchers++) {
                err_at(L, kline, label, "give exactly one of regex, words or expr");
                ok = false;
                continue;
            }
            r->kind = words ? SG__RK_WORDS : SG__RK_REGEX;
            r->matcher_line = vline;
            ok = parse_items(L, r, v, vline, words) && ok;
            *fields |= F_MATCHER;
        } else if (text_is(key, klen, "expr")) {
            if (matchers++) {
                err_at(L, kline, label, "give exactly one of regex, words or expr");
                ok = false;
                continue;
            }
            r->kind = SG__RK_EXPR;
            r->matcher_line = vline;
            *fields |= F_MATCHER;
            if (!(r->expr = string_field(L, v, label, vline, "expr", SG_RULES_MAX_EXPR))) {
                ok = false;
                continue;
            }
            char msg[256];
            if (sg__expr_parse(r, msg, sizeof msg) != 0) {
                err_at(L, vline, label, "%s", msg);
                ok = false;
            }
        } else {
            err_at(L, kline, label, "unknown field \"%.*s\" (expected %s)",
                   (int)(klen > 40 ? 40 : klen), key, rule_keys);
            ok = false;
        }
    }
    return ok;
}

/* Adds a parsed entry to the ruleset: new, replacing, or amending. Takes r's contents. */
static void merge_rule(struct loader *L, struct sg__rule *r, unsigned fields)
{
    int at = find_code(L, r->code);
    if (at >= 0) {
        struct sg__rule *old = &L->rs->rules[at];
        if (old->layer == r->layer) {
            err_at(L, r->line, r->code, "defined twice (first at %s:%d)", old->file, old->line);
            rule_clear(r);
            return;
        }
        /* A later layer: replace the whole rule, or amend the fields given. */
        if (fields & F_MATCHER) {
            if (!(fields & F_DESC) || !(fields & F_SCORE)) {
                err_at(L, r->line, r->code, "a rule that replaces %s:%d needs score and "
                       "description too (or leave out the matcher to change only some fields)",
                       old->file, old->line);
                rule_clear(r);
                return;
            }
            /* A replacement is a new rule under the old code: what it leaves out takes the
             * defaults, not the old rule's values. */
            take_matcher(old, r);
            old->file = r->file;
            old->line = r->line;
            old->channels = r->channels;
            old->state = r->state;
        }
        if (fields & F_SCORE)
            old->score = r->score;
        if (fields & F_DESC) {
            sg__free(old->description);
            old->description = r->description;
            r->description = NULL;
        }
        if (fields & F_CHANNELS)
            old->channels = r->channels;
        if (fields & F_STATE)
            old->state = r->state;
        old->layer = r->layer;
        rule_clear(r);
        return;
    }
    if (!(fields & F_MATCHER)) {
        err_at(L, r->line, r->code, "no rule with this code to change; a new rule needs one of "
               "regex, words or expr");
        rule_clear(r);
        return;
    }
    if (!(fields & F_SCORE) || !(fields & F_DESC)) {
        err_at(L, r->line, r->code, "missing %s", !(fields & F_SCORE) ? "score" : "description");
        rule_clear(r);
        return;
    }
    struct sg_rules *rs = L->rs;
    if (rs->nrules >= SG_RULES_MAX_RULES) {
        err_at(L, r->line, r->code, "more than %d rules", SG_RULES_MAX_RULES);
        rule_clear(r);
        return;
    }
    if (rs->nrules == L->cap) {
        size_t cap = L->cap ? L->cap * 2 : 64;
        struct sg__rule *p = sg__realloc(rs->rules, cap * sizeof *p);
        if (!p) {
            nomem(L);
            rule_clear(r);
            return;
        }
        rs->rules = p;
        L->cap = cap;
    }
    rs->rules[rs->nrules] = *r;
    put_code(L, r->code, (int)rs->nrules);
    rs->nrules++;
    memset(r, 0, sizeof *r);
}

/* ---- brands -------------------------------------------------------------------------------- */

static void brand_clear(struct sg__brand *b)
{
    sg__free(b->name);
    for (size_t k = 0; k < b->nnames; k++)
        sg__free(b->names[k]);
    sg__free(b->names);
    for (size_t k = 0; k < b->ndomains; k++)
        sg__free(b->domains[k]);
    sg__free(b->domains);
    memset(b, 0, sizeof *b);
}

static bool valid_domain(const char *s, size_t n)
{
    if (n < 3 || n > 253 || s[0] == '.' || s[0] == '-')
        return false;
    if (n > 2 && s[n - 2] == '.' && s[n - 1] == '*')
        n -= 2; /* "paypal.*" */
    bool star = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '*' && !star && i > 0 && s[i - 1] == '-' && i + 1 < n && s[i + 1] == '.') {
            star = true; /* "sparkasse-*.de": the local banks' own domains */
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
            return false;
        if (c == '.' && (i + 1 == n || s[i + 1] == '.'))
            return false;
    }
    return n > 0;
}

/* Normalised names of a brand: compared with the From display name in the same form. */
static bool add_brand_name(struct loader *L, struct sg__brand *b, const char *s, size_t n, int line)
{
    struct sg_strbuf sb;
    sg__sb_init(&sb, 4096);
    sg__norm_text(L->rs->norm, s, n, &sb);
    if (sb.failed) {
        sg__sb_release(&sb);
        nomem(L);
        return false;
    }
    if (sb.len < 3) {
        err_at(L, line, NULL, "brand %s: name \"%.*s\" is shorter than 3 letters once normalised",
               b->name, (int)(n > 40 ? 40 : n), s);
        sg__sb_release(&sb);
        return false;
    }
    for (size_t k = 0; k < b->nnames; k++)
        if (strcmp(b->names[k], sb.p) == 0) {
            sg__sb_release(&sb);
            return true;
        }
    char **p = sg__realloc(b->names, (b->nnames + 1) * sizeof *p);
    if (!p) {
        sg__sb_release(&sb);
        nomem(L);
        return false;
    }
    b->names = p;
    b->names[b->nnames++] = sg__sb_steal(&sb);
    unsigned char first = (unsigned char)b->names[b->nnames - 1][0];
    if (sg__word_byte(first))
        b->firsts[first >> 6] |= 1ull << (first & 63);
    else
        b->any_first = true;
    return true;
}

static void parse_brand(struct loader *L, struct fy_node *map, int index)
{
    int line = sg__yaml_node_line(map);
    if (!map || fy_node_is_alias(map) || !fy_node_is_mapping(map)) {
        err_at(L, line, NULL, "brands[%d]: expected a mapping with name, domains and optional "
               "names, got %s", index, what_node(map));
        return;
    }
    struct sg__brand b;
    memset(&b, 0, sizeof b);
    struct fy_node *name = fy_node_mapping_lookup_by_string(map, "name", 4);
    size_t nlen = 0;
    const char *ns = scalar(name, &nlen);
    if (!ns || nlen == 0 || nlen > 100 || memchr(ns, '\0', nlen)) {
        err_at(L, line, NULL, "brands[%d]: name: expected the brand's name (1 to 100 bytes)", index);
        return;
    }
    if (!(b.name = sg__strndup(ns, nlen))) {
        nomem(L);
        return;
    }
    bool ok = add_brand_name(L, &b, ns, nlen, sg__yaml_node_line(name));
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(map, &it))) {
        size_t klen = 0;
        const char *key = scalar(fy_node_pair_key(pair), &klen);
        struct fy_node *v = fy_node_pair_value(pair);
        int kline = sg__yaml_node_line(fy_node_pair_key(pair));
        if (key && text_is(key, klen, "name"))
            continue;
        bool is_domains = key && text_is(key, klen, "domains");
        bool is_names = key && text_is(key, klen, "names");
        if (!is_domains && !is_names) {
            err_at(L, kline, NULL, "brand %s: unknown field \"%.*s\" (expected name, domains or names)",
                   b.name, key ? (int)(klen > 40 ? 40 : klen) : 0, key ? key : "");
            ok = false;
            continue;
        }
        if (!v || fy_node_is_alias(v) || !fy_node_is_sequence(v) ||
            fy_node_sequence_item_count(v) == 0 || fy_node_sequence_item_count(v) > 200) {
            err_at(L, kline, NULL, "brand %s: %s: expected a list of 1 to 200 entries, got %s",
                   b.name, is_domains ? "domains" : "names", what_node(v));
            ok = false;
            continue;
        }
        void *it2 = NULL;
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate(v, &it2))) {
            size_t len = 0;
            const char *s = scalar(item, &len);
            int iline = sg__yaml_node_line(item) ? sg__yaml_node_line(item) : kline;
            if (!s || len == 0 || len > 253 || memchr(s, '\0', len)) {
                err_at(L, iline, NULL, "brand %s: expected text, got %s", b.name, what_node(item));
                ok = false;
                continue;
            }
            if (is_names) {
                ok = add_brand_name(L, &b, s, len, iline) && ok;
                continue;
            }
            if (!valid_domain(s, len)) {
                err_at(L, iline, NULL, "brand %s: domain \"%.*s\" is not a lower-case domain like "
                       "paypal.com or paypal.*", b.name, (int)(len > 60 ? 60 : len), s);
                ok = false;
                continue;
            }
            char **p = sg__realloc(b.domains, (b.ndomains + 1) * sizeof *p);
            if (!p || !(p[b.ndomains] = sg__strndup(s, len))) {
                if (p)
                    b.domains = p;
                nomem(L);
                ok = false;
                break;
            }
            b.domains = p;
            b.ndomains++;
        }
    }
    if (ok && b.ndomains == 0) {
        err_at(L, line, NULL, "brand %s: domains: the brand's own domains are required", b.name);
        ok = false;
    }
    if (!ok) {
        brand_clear(&b);
        return;
    }
    struct sg_rules *rs = L->rs;
    for (size_t k = 0; k < rs->nbrands; k++) {
        if (strcasecmp(rs->brands[k].name, b.name) != 0)
            continue;
        if (L->brand_layer[k] == L->layer) {
            err_at(L, line, NULL, "brand %s: defined twice in this layer", b.name);
            brand_clear(&b);
            return;
        }
        brand_clear(&rs->brands[k]);
        rs->brands[k] = b;
        L->brand_layer[k] = L->layer;
        return;
    }
    if (rs->nbrands >= SG_RULES_MAX_BRANDS) {
        err_at(L, line, NULL, "more than %d brands", SG_RULES_MAX_BRANDS);
        brand_clear(&b);
        return;
    }
    if (rs->nbrands == L->brands_cap) {
        size_t cap = L->brands_cap ? L->brands_cap * 2 : 32;
        struct sg__brand *p = sg__realloc(rs->brands, cap * sizeof *p);
        int *pl = p ? sg__realloc(L->brand_layer, cap * sizeof *pl) : NULL;
        if (p)
            rs->brands = p;
        if (!p || !pl) {
            nomem(L);
            brand_clear(&b);
            return;
        }
        L->brand_layer = pl;
        L->brands_cap = cap;
    }
    L->brand_layer[rs->nbrands] = L->layer;
    rs->brands[rs->nbrands++] = b;
}

/* ---- one file ------------------------------------------------------------------------------ */

static void discard_diag(struct fy_diag *diag, void *user, const char *buf, size_t len) {}

static void walk_document(struct loader *L, struct fy_node *root)
{
    if (sg__yaml_is_null(root))
        return;
    if (fy_node_is_alias(root) || !fy_node_is_mapping(root)) {
        err_at(L, sg__yaml_node_line(root), NULL, "expected a mapping with rules: and/or brands:, got %s",
               what_node(root));
        return;
    }
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(root, &it))) {
        size_t klen = 0;
        const char *key = scalar(fy_node_pair_key(pair), &klen);
        struct fy_node *v = fy_node_pair_value(pair);
        int kline = sg__yaml_node_line(fy_node_pair_key(pair));
        bool is_rules = key && text_is(key, klen, "rules");
        bool is_brands = key && text_is(key, klen, "brands");
        if (!is_rules && !is_brands) {
            err_at(L, kline, NULL, "unknown key \"%.*s\" (expected rules or brands)",
                   key ? (int)(klen > 40 ? 40 : klen) : 0, key ? key : "");
            continue;
        }
        if (sg__yaml_is_null(v))
            continue;
        if (fy_node_is_alias(v) || !fy_node_is_sequence(v)) {
            err_at(L, kline, NULL, "%s: expected a list, got %s", is_rules ? "rules" : "brands",
                   what_node(v));
            continue;
        }
        void *it2 = NULL;
        struct fy_node *item;
        int index = 0;
        while ((item = fy_node_sequence_iterate(v, &it2))) {
            if (L->rc == SG_ENOMEM)
                return;
            if (is_brands) {
                parse_brand(L, item, index++);
                continue;
            }
            struct sg__rule r;
            unsigned fields;
            if (parse_rule(L, item, index++, &r, &fields))
                merge_rule(L, &r, fields);
            else
                rule_clear(&r);
        }
    }
}

static void load_text(struct loader *L, const char *text, size_t len)
{
    if (len > SG_RULES_MAX_FILE) {
        err_at(L, 0, NULL, "larger than %zu bytes", SG_RULES_MAX_FILE);
        return;
    }
    if (len == 0 || !check_text(L, text, len))
        return;
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = discard_diag;
    dcfg.user = NULL;
    dcfg.colorize = false;
    struct fy_diag *diag = fy_diag_create(&dcfg);
    if (!diag) {
        nomem(L);
        return;
    }
    fy_diag_set_collect_errors(diag, true);
    struct fy_parse_cfg pcfg = {
        .flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG | FYPCF_JSON_NONE,
        .diag = diag,
    };
    struct fy_parser *fyp = fy_parser_create(&pcfg);
    if (!fyp || fy_parser_set_string(fyp, text, len) != 0) {
        nomem(L);
        goto out;
    }
    struct fy_document *doc = fy_parse_load_document(fyp);
    if (!doc) {
        if (fy_diag_got_error(diag)) {
            void *it = NULL;
            struct fy_diag_error *e = fy_diag_errors_iterate(diag, &it);
            err_at(L, e && e->line > 0 ? e->line : 0, NULL, "invalid YAML: %s",
                   e && e->msg ? e->msg : "syntax error");
        }
        goto out;
    }
    walk_document(L, fy_document_root(doc));
    fy_parse_document_destroy(fyp, doc);
    struct fy_document *next = fy_parse_load_document(fyp);
    if (next) {
        struct fy_document_state *ds = fy_document_get_document_state(next);
        const struct fy_mark *mk = ds ? fy_document_state_start_mark(ds) : NULL;
        err_at(L, mk ? mk->line + 1 : 0, NULL, "a second YAML document; put every rule in one");
        fy_parse_document_destroy(fyp, next);
    } else if (fy_diag_got_error(diag)) {
        void *it = NULL;
        struct fy_diag_error *e = fy_diag_errors_iterate(diag, &it);
        err_at(L, e && e->line > 0 ? e->line : 0, NULL, "invalid YAML: %s",
               e && e->msg ? e->msg : "syntax error");
    }
out:
    if (fyp)
        fy_parser_destroy(fyp);
    fy_diag_destroy(diag);
}

/* Remembers a file name for the ruleset's lifetime (rules point at it). */
static const char *keep_name(struct loader *L, const char *name)
{
    struct sg_rules *rs = L->rs;
    char **p = sg__realloc(rs->files, (rs->nfiles + 1) * sizeof *p);
    if (!p)
        return NULL;
    rs->files = p;
    if (!(p[rs->nfiles] = sg__strdup(name)))
        return NULL;
    return p[rs->nfiles++];
}

static void load_named(struct loader *L, const char *name, const char *text, size_t len)
{
    if (L->rs->nfiles >= SG_RULES_MAX_FILES) {
        L->nerrs++;
        sg__sb_printf(&L->errs, "%s: more than %d rule files\n", name, SG_RULES_MAX_FILES);
        return;
    }
    const char *kept = keep_name(L, name);
    if (!kept) {
        nomem(L);
        return;
    }
    L->file = kept;
    load_text(L, text, len);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool rule_file_name(const char *n)
{
    size_t len = strlen(n);
    if (n[0] == '.')
        return false;
    return (len > 5 && strcmp(n + len - 5, ".yaml") == 0) ||
           (len > 4 && strcmp(n + len - 4, ".yml") == 0);
}

static void load_dir(struct loader *L, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        L->nerrs++;
        sg__sb_printf(&L->errs, "%s: cannot open the rules directory: %s\n", dir, strerror(errno));
        if (!L->rc)
            L->rc = SG_EIO;
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!rule_file_name(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = sg__realloc(names, cap * sizeof *p);
            if (!p)
                break;
            names = p;
        }
        if (!(names[n] = sg__strdup(e->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        size_t plen = strlen(dir) + 1 + strlen(names[i]) + 1;
        char *path = sg__malloc(plen);
        if (!path) {
            nomem(L);
            break;
        }
        snprintf(path, plen, "%s%s%s", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/",
                 names[i]);
        struct stat st;
        FILE *f = NULL;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            sg__free(path);
            continue;
        }
        if ((size_t)st.st_size > SG_RULES_MAX_FILE) {
            L->nerrs++;
            sg__sb_printf(&L->errs, "%s: larger than %zu bytes\n", path, SG_RULES_MAX_FILE);
            sg__free(path);
            continue;
        }
        char *buf = sg__malloc((size_t)st.st_size + 1);
        size_t got = 0;
        if (buf && (f = fopen(path, "rb"))) {
            got = fread(buf, 1, (size_t)st.st_size, f);
            fclose(f);
        }
        if (!buf || !f || got != (size_t)st.st_size) {
            L->nerrs++;
            sg__sb_printf(&L->errs, "%s: cannot read: %s\n", path, buf ? strerror(errno) : "out of memory");
            if (!L->rc)
                L->rc = buf ? SG_EIO : SG_ENOMEM;
        } else {
            load_named(L, path, buf, got);
        }
        sg__free(buf);
        sg__free(path);
    }
    for (size_t i = 0; i < n; i++)
        sg__free(names[i]);
    sg__free(names);
}

/* ---- after every file: names, cycles, the database ----------------------------------------- */

static void resolve_names(struct loader *L)
{
    struct sg_rules *rs = L->rs;
    for (size_t i = 0; i < rs->nrules; i++) {
        struct sg__rule *r = &rs->rules[i];
        if (r->kind != SG__RK_EXPR)
            continue;
        for (int k = 0; k < r->nnodes; k++) {
            struct sg__expr_node *nd = &r->nodes[k];
            if (nd->op != SG__EX_IDENT)
                continue;
            const char *name = r->expr + nd->id_off;
            char buf[SG_RULES_MAX_CODE + 1];
            memcpy(buf, name, nd->id_len);
            buf[nd->id_len] = '\0';
            int fact = sg__rules_fact_parse(buf, nd->id_len);
            if (fact >= 0) {
                nd->op = SG__EX_FACT;
                nd->ref = (uint32_t)fact;
                if (fact == SG_FACT_FROM_BRAND_MISMATCH && r->state != SG__RS_OFF)
                    rs->uses_brand = true;
                if ((fact == SG_FACT_URL_BRAND_LOOKALIKE ||
                     fact == SG_FACT_FROM_DOMAIN_BRAND_LOOKALIKE) && r->state != SG__RS_OFF)
                    rs->uses_url_brand = true;
                if (fact == SG_FACT_TEXT_CHARS && r->state != SG__RS_OFF)
                    rs->uses_text_chars = true;
                continue;
            }
            int at = find_code(L, buf);
            if (at >= 0) {
                nd->op = SG__EX_RULE;
                nd->ref = (uint32_t)at;
                continue;
            }
            /* A near miss in case gets a hint. */
            const char *hint = NULL;
            for (size_t j = 0; j < rs->nrules && !hint; j++)
                if (strcasecmp(rs->rules[j].code, buf) == 0)
                    hint = rs->rules[j].code;
            if (hint)
                err_rule(L, r, r->matcher_line, "expr: unknown name \"%s\" (did you mean %s?)", buf, hint);
            else
                err_rule(L, r, r->matcher_line, "expr: unknown name \"%s\" (not a rule code or a fact)", buf);
        }
    }
}

/* Orders expr rules so each comes after every expr rule it reads; a cycle is an error naming
 * its rules. Iterative DFS: the colour is 0 new, 1 on the path, 2 done. */
static void order_exprs(struct loader *L)
{
    struct sg_rules *rs = L->rs;
    size_t n = rs->nrules;
    uint8_t *colour = sg__calloc(n ? n : 1, 1);
    uint32_t *stack = sg__calloc(n ? n : 1, sizeof *stack);
    int *next = sg__calloc(n ? n : 1, sizeof *next);
    rs->expr_order = sg__calloc(n ? n : 1, sizeof *rs->expr_order);
    if (!colour || !stack || !next || !rs->expr_order) {
        nomem(L);
        goto out;
    }
    for (size_t s = 0; s < n; s++) {
        if (rs->rules[s].kind != SG__RK_EXPR || colour[s])
            continue;
        size_t top = 0;
        stack[top++] = (uint32_t)s;
        colour[s] = 1;
        next[s] = 0;
        while (top) {
            uint32_t u = stack[top - 1];
            struct sg__rule *r = &rs->rules[u];
            bool pushed = false;
            while (next[u] < r->nnodes) {
                struct sg__expr_node *nd = &r->nodes[next[u]++];
                if (nd->op != SG__EX_RULE || rs->rules[nd->ref].kind != SG__RK_EXPR)
                    continue;
                uint32_t v = nd->ref;
                if (colour[v] == 1) {
                    /* The cycle is the stack from v to u, then v again. */
                    struct sg_strbuf sb;
                    sg__sb_init(&sb, 4096);
                    size_t from = 0;
                    while (from < top && stack[from] != v)
                        from++;
                    for (size_t k = from; k < top; k++)
                        sg__sb_printf(&sb, "%s -> ", rs->rules[stack[k]].code);
                    sg__sb_adds(&sb, rs->rules[v].code);
                    err_rule(L, &rs->rules[v], rs->rules[v].matcher_line,
                             "expr: rules read each other in a cycle: %s", sg__sb_cstr(&sb));
                    sg__sb_release(&sb);
                    goto out;
                }
                if (colour[v] == 0) {
                    colour[v] = 1;
                    next[v] = 0;
                    stack[top++] = v;
                    pushed = true;
                    break;
                }
            }
            if (!pushed && stack[top - 1] == u && next[u] >= r->nnodes) {
                colour[u] = 2;
                rs->expr_order[rs->nexpr++] = u;
                top--;
            }
        }
    }
out:
    sg__free(colour);
    sg__free(stack);
    sg__free(next);
}

static void report_compile(void *ud, size_t rule, int line, const char *msg)
{
    struct loader *L = ud;
    if (rule == (size_t)-1) {
        L->nerrs++;
        sg__sb_printf(&L->errs, "rules: %s\n", msg);
        return;
    }
    err_rule(L, &L->rs->rules[rule], line, "%s", msg);
}

/* ---- the public face ----------------------------------------------------------------------- */

static atomic_uint_fast64_t next_ruleset_id = 1;

static int load(const char *const *dirs, size_t ndirs, const char *sname, const char *stext,
                size_t slen, unsigned flags, struct sg_rules **out, char **errors)
{
    *out = NULL;
    if (errors)
        *errors = NULL;
    struct loader L;
    memset(&L, 0, sizeof L);
    sg__sb_init(&L.errs, 1 << 20);
    struct sg_rules *rs = sg__calloc(1, sizeof *rs);
    L.rs = rs;
    L.nslots = 2 * SG_RULES_MAX_RULES;
    L.slots = sg__malloc(L.nslots * sizeof *L.slots);
    if (!rs || !L.slots || !(rs->norm = sg__norm_new())) {
        sg__free(L.slots);
        sg__rules_free(rs);
        sg__sb_release(&L.errs);
        return SG_ENOMEM;
    }
    memset(L.slots, 0xff, L.nslots * sizeof *L.slots);
    L.checked = sg__regex_memo_open();
    rs->id = atomic_fetch_add(&next_ruleset_id, 1);
    if (!(flags & SG_RULES_NO_BUILTIN)) {
        struct sg__rules_file files[SG_RULES_SHIPPED_MAX];
        size_t nf = sg__rules_shipped(files, SG_RULES_SHIPPED_MAX);
        for (size_t i = 0; i < nf; i++)
            load_named(&L, files[i].name, files[i].text, files[i].len);
    }
    for (size_t d = 0; d < ndirs; d++) {
        L.layer++;
        load_dir(&L, dirs[d]);
    }
    if (sname) {
        L.layer++;
        load_named(&L, sname, stext, slen);
    }
    if (!L.nerrs)
        resolve_names(&L);
    if (!L.nerrs)
        order_exprs(&L);
    if (!L.nerrs && !L.rc) {
        int rc = sg__rules_compile(rs, report_compile, &L);
        if (rc && !L.rc)
            L.rc = rc;
    }
    if (!L.nerrs && rs->nbrands) {
        rs->psl = psl_latest(NULL);
        if (!rs->psl)
            rs->psl = (void *)psl_builtin();
        if (!L.rc)
            L.rc = sg__host_brands_build(rs);
        if (!L.rc)
            L.rc = sg__brand_typos_build(rs);
    }
    sg__regex_memo_close(L.checked);
    sg__free(L.slots);
    sg__free(L.brand_layer);
    if (L.errs.failed && !L.rc)
        L.rc = SG_ENOMEM;
    if (L.nerrs || L.rc) {
        if (errors)
            *errors = sg__sb_steal(&L.errs);
        sg__sb_release(&L.errs);
        sg__rules_free(rs);
        return L.rc ? L.rc : SG_ECONFIG;
    }
    sg__sb_release(&L.errs);
    *out = rs;
    return 0;
}

int sg__rules_load(const char *const *dirs, size_t ndirs, unsigned flags, struct sg_rules **out,
                   char **errors)
{
    return load(dirs, ndirs, NULL, NULL, 0, flags, out, errors);
}

int sg__rules_load_string(const char *name, const char *text, size_t len, unsigned flags,
                          struct sg_rules **out, char **errors)
{
    return load(NULL, 0, name ? name : "rules.yaml", text ? text : "", text ? len : 0, flags, out,
                errors);
}

static struct sg_rules *builtin;
static int builtin_rc;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void load_builtin(void) { builtin_rc = sg__rules_load(NULL, 0, 0, &builtin, NULL); }

int sg__rules_builtin(const struct sg_rules **out)
{
    pthread_once(&builtin_once, load_builtin);
    *out = builtin;
    return builtin_rc;
}

void sg__rules_free(struct sg_rules *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->nrules; i++)
        rule_clear(&rs->rules[i]);
    sg__free(rs->rules);
    sg__free(rs->expr_order);
    if (rs->db)
        hs_free_database(rs->db);
    sg__free(rs->expr_rule);
    sg__free(rs->expr_som);
    for (size_t i = 0; i < rs->nbrands; i++)
        brand_clear(&rs->brands[i]);
    sg__free(rs->brands);
    sg__host_brands_free(rs->host_brands);
    sg__brand_typos_free(rs->brand_typos);
    sg__norm_free(rs->norm);
    if (rs->psl && rs->psl != (void *)psl_builtin())
        psl_free(rs->psl);
    for (size_t i = 0; i < rs->nfiles; i++)
        sg__free(rs->files[i]);
    sg__free(rs->files);
    sg__free(rs);
}

size_t sg__rules_count(const struct sg_rules *rs) { return rs ? rs->nrules : 0; }

void sg__rules_info(const struct sg_rules *rs, size_t i, struct sg_rule_info *out)
{
    memset(out, 0, sizeof *out);
    if (!rs || i >= rs->nrules)
        return;
    const struct sg__rule *r = &rs->rules[i];
    static const char *const kinds[] = {"none", "regex", "words", "expr"};
    static const char *const states[] = {"enforce", "monitor", "off"};
    out->code = r->code;
    out->description = r->description;
    out->file = r->file;
    out->line = r->line;
    out->score = r->score;
    out->kind = kinds[r->kind];
    out->state = states[r->state];
    out->channels = r->channels;
}

int sg__rules_find(const struct sg_rules *rs, const char *code)
{
    if (!rs || !code)
        return -1;
    for (size_t i = 0; i < rs->nrules; i++)
        if (strcmp(rs->rules[i].code, code) == 0)
            return (int)i;
    return -1;
}

/* ---- facts ---------------------------------------------------------------------------------- */

static const char *const fact_names[] = {
#define SG__FACT_NAME(id, name, content) name,
    SG_RULES_FACT_MAP(SG__FACT_NAME)
#undef SG__FACT_NAME
};

void sg__rules_facts_init(struct sg_rules_facts *f)
{
    for (int i = 0; i < SG_FACT_COUNT; i++)
        f->v[i] = NAN;
}

int sg__rules_fact_parse(const char *s, size_t n)
{
    for (int i = 0; i < SG_FACT_COUNT; i++)
        if (strlen(fact_names[i]) == n && strncasecmp(fact_names[i], s, n) == 0)
            return i;
    return -1;
}

const char *sg__rules_fact_name(int fact)
{
    return fact >= 0 && fact < SG_FACT_COUNT ? fact_names[fact] : NULL;
}
