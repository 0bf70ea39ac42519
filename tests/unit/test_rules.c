/* Unit tests for the rule engine: every case file under rules/tests (each shipped rule fires on
 * its `fires` texts and stays quiet on its `quiet` ones, legitimate mail stays below hold, lures
 * reach it), the loader's errors with FILE:LINE, local overrides, expressions and facts, quotes
 * of the original text, and the built-in copies matching the rules/ sources. */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <libfyaml.h>

#include "engine/policy.h"
#include "rules/internal.h"
#include "rules/rules.h"
#include "text/content.h"
#include "text/urls.h"
#include "util/arena.h"
#include "util/alloc.h"
#include "util/yamltext.h"

#ifndef SG_SOURCE_DIR
#error "SG_SOURCE_DIR must name the source tree (a string literal)"
#endif

#define HOLD 5.0
#define HAM_MAX 2.5 /* legitimate mail may trip one mild rule, never a combination */
#define MAX_HITS 512

static struct sg_rules *shipped;
static struct sg_rules_scratch *scratch;

static int setup(void **state)
{
    char *err = NULL;
    int rc = sg__rules_load(NULL, 0, 0, &shipped, &err);
    if (rc)
        fprintf(stderr, "shipped rules: %s\n", err ? err : "?");
    sg__free(err);
    scratch = shipped ? sg__rules_scratch_new(shipped) : NULL;
    return rc || !scratch;
}

static int teardown(void **state)
{
    sg__rules_scratch_free(scratch);
    sg__rules_free(shipped);
    return 0;
}

/* ---- a message to scan ---------------------------------------------------------------------- */

struct msg {
    const char *subject, *body, *from, *reply_to;
    int channel;
    long attachments;
    const char *attachment_name[8]; /* attachment_names: the first attachments' file names */
    size_t nattachment_names;
    unsigned url_flags[16];
    const char *url_text[16]; /* a URL written out: parsed by the real parser (text/urls.c) */
    const char *url_anchor[16]; /* with url_text: an HTML link's text (sg__urls_add_href) */
    size_t nurls;
    uint32_t zero_width, bidi, hidden, forms, password_inputs, images, images_without_text;
    struct sg_rules_facts facts;
};

static void msg_init(struct msg *m)
{
    memset(m, 0, sizeof *m);
    m->channel = SG_CH_EMAIL;
    sg__rules_facts_init(&m->facts);
}

/* Scans m; fills hits and returns their number, *total the sum of scores. */
static int scan_msg(const struct sg_rules *rs, struct sg_rules_scratch *s, const struct msg *m,
                    struct sg_arena *a, struct sg_rule_hit *hits, double *total)
{
    struct sg_content c;
    const char *subj = m->subject ? m->subject : "";
    const char *body = m->body ? m->body : "";
    assert_int_equal(sg__rules_plain_content(a, subj, strlen(subj), body, strlen(body), &c), 0);
    struct sg_text_attachment att[8];
    memset(att, 0, sizeof att);
    c.attachments = att;
    c.nattachments = (size_t)(m->attachments > 8 ? 8 : m->attachments);
    for (size_t i = 0; i < m->nattachment_names; i++)
        att[i].name = m->attachment_name[i];
    if (c.nattachments < m->nattachment_names)
        c.nattachments = m->nattachment_names;
    struct sg_text_url urls[16];
    memset(urls, 0, sizeof urls);
    for (size_t i = 0; i < m->nurls; i++) {
        if (m->url_anchor[i]) {
            struct sg_url_list one = {0};
            assert_int_equal(sg__urls_add_href(a, m->url_text[i], m->url_anchor[i], &one), 0);
            assert_int_equal(one.n, 1);
            urls[i] = one.v[0];
            continue;
        }
        if (m->url_text[i]) {
            assert_int_equal(sg__url_parse(a, m->url_text[i], strlen(m->url_text[i]), 0, &urls[i]), 0);
            continue;
        }
        urls[i].url = urls[i].raw = "https://example.org/";
        urls[i].flags = m->url_flags[i];
    }
    c.urls = urls;
    c.nurls = m->nurls;
    c.zero_width += m->zero_width;
    c.bidi_controls += m->bidi;
    c.hidden_chars = m->hidden;
    c.forms = m->forms;
    c.password_inputs = m->password_inputs;
    c.images = m->images;
    c.images_without_text = m->images_without_text;
    char name[256] = "", addr[256] = "";
    if (m->from) {
        const char *lt = strchr(m->from, '<');
        if (lt) {
            snprintf(name, sizeof name, "%.*s", (int)(lt - m->from), m->from);
            snprintf(addr, sizeof addr, "%s", lt + 1);
            char *gt = strchr(addr, '>');
            if (gt)
                *gt = '\0';
        } else {
            snprintf(addr, sizeof addr, "%s", m->from);
        }
        c.from_name = name;
        c.from_addr = addr;
        c.reply_to = m->reply_to;
    }
    int n = sg__rules_scan(rs, s, &c, &m->facts, m->channel, a, hits, MAX_HITS);
    assert_true(n >= 0);
    *total = 0;
    for (int i = 0; i < n; i++)
        *total += hits[i].score;
    return n;
}

static bool has_hit(const struct sg_rule_hit *hits, int n, const char *code)
{
    for (int i = 0; i < n; i++)
        if (strcmp(hits[i].code, code) == 0)
            return true;
    return false;
}

static const struct sg_rule_hit *find_hit(const struct sg_rule_hit *hits, int n, const char *code)
{
    for (int i = 0; i < n; i++)
        if (strcmp(hits[i].code, code) == 0)
            return &hits[i];
    return NULL;
}

/* ---- case files -------------------------------------------------------------------------------- */

struct runner {
    const char *file;
    int failures;
    struct sg_arena *arena;
    int *fires, *quiet; /* per shipped rule */
    int cases;
};

static void fail_case(struct runner *r, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_case(struct runner *r, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: ", r->file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    r->failures++;
}

/* A scalar as a string in the arena. */
static const char *text_of(struct runner *r, struct fy_node *n)
{
    size_t len = 0;
    const char *s = n && fy_node_is_scalar(n) ? fy_node_get_scalar(n, &len) : NULL;
    return s ? sg__arena_strndup(r->arena, s, len) : NULL;
}

static double number_of(struct runner *r, struct fy_node *n)
{
    const char *s = text_of(r, n);
    char *end = NULL;
    double v = s ? strtod(s, &end) : NAN;
    if (!s || *end)
        fail_case(r, sg__yaml_node_line(n), "expected a number");
    return v;
}

static unsigned url_flag(const char *name)
{
    static const struct {
        const char *name;
        unsigned flag;
    } flags[] = {
        {"URL_IP_LITERAL", SG_URL_IP_LITERAL}, {"URL_SHORTENER", SG_URL_SHORTENER},
        {"URL_PUNYCODE", SG_URL_PUNYCODE},     {"URL_CONFUSABLE", SG_URL_CONFUSABLE},
        {"URL_ANCHOR_MISMATCH", SG_URL_ANCHOR_MISMATCH},
        {"URL_USERINFO", SG_URL_USERINFO},     {"URL_DEFANGED", SG_URL_DEFANGED},
        {"URL_SCHEMELESS", SG_URL_SCHEMELESS}, {"URL_FROM_HTML", SG_URL_FROM_HTML},
        {"URL_ABUSED_TLD", SG_URL_ABUSED_TLD},
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (strcmp(flags[i].name, name) == 0)
            return flags[i].flag;
    return 0;
}

/* A case: a scalar (the body) or a mapping of message fields. */
static bool parse_msg(struct runner *r, struct fy_node *n, struct msg *m, double *limit)
{
    msg_init(m);
    if (fy_node_is_scalar(n)) {
        m->body = text_of(r, n);
        return true;
    }
    if (!fy_node_is_mapping(n)) {
        fail_case(r, sg__yaml_node_line(n), "a case is a text or a mapping");
        return false;
    }
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(n, &it))) {
        const char *k = text_of(r, fy_node_pair_key(p));
        struct fy_node *v = fy_node_pair_value(p);
        if (!k) {
            fail_case(r, sg__yaml_node_line(n), "bad key");
            return false;
        }
        if (!strcmp(k, "subject")) {
            m->subject = text_of(r, v);
        } else if (!strcmp(k, "body")) {
            m->body = text_of(r, v);
        } else if (!strcmp(k, "from")) {
            m->from = text_of(r, v);
        } else if (!strcmp(k, "reply_to")) {
            m->reply_to = text_of(r, v);
        } else if (!strcmp(k, "channel")) {
            const char *ch = text_of(r, v);
            m->channel = ch ? sg__channel_parse(ch, strlen(ch)) : -1;
            if (m->channel < 0)
                fail_case(r, sg__yaml_node_line(v), "unknown channel");
        } else if (!strcmp(k, "attachments")) {
            m->attachments = (long)number_of(r, v);
        } else if (!strcmp(k, "attachment_names")) {
            struct fy_node *name;
            void *it2 = NULL;
            while ((name = fy_node_sequence_iterate(v, &it2)) && m->nattachment_names < 8)
                m->attachment_name[m->nattachment_names++] = text_of(r, name);
        } else if (!strcmp(k, "zero_width")) {
            m->zero_width = (uint32_t)number_of(r, v);
        } else if (!strcmp(k, "bidi_controls")) {
            m->bidi = (uint32_t)number_of(r, v);
        } else if (!strcmp(k, "hidden_chars")) {
            m->hidden = (uint32_t)number_of(r, v);
        } else if (!strcmp(k, "forms")) {
            m->forms = (uint32_t)number_of(r, v);
        } else if (!strcmp(k, "password_inputs")) {
            m->password_inputs = (uint32_t)number_of(r, v);
        } else if (!strcmp(k, "images")) {
            m->images = (uint32_t)number_of(r, v);
        } else if (!strcmp(k, "images_without_text")) {
            m->images_without_text = (uint32_t)number_of(r, v);
        } else if (!strcmp(k, "max") || !strcmp(k, "min")) {
            *limit = number_of(r, v);
        } else if (!strcmp(k, "urls")) {
            /* a list of URLs, each a list of flag names ([] for a plain link), the URL
             * itself as text, or an HTML link as {href: URL, text: what it shows} */
            void *it2 = NULL;
            struct fy_node *u;
            while ((u = fy_node_sequence_iterate(v, &it2)) && m->nurls < 16) {
                if (fy_node_is_scalar(u)) {
                    m->url_text[m->nurls++] = text_of(r, u);
                    continue;
                }
                if (fy_node_is_mapping(u)) {
                    m->url_text[m->nurls] = text_of(r, fy_node_mapping_lookup_by_string(u, "href", -1));
                    m->url_anchor[m->nurls] = text_of(r, fy_node_mapping_lookup_by_string(u, "text", -1));
                    if (!m->url_text[m->nurls] || !m->url_anchor[m->nurls])
                        fail_case(r, sg__yaml_node_line(u), "a link needs href and text");
                    m->nurls++;
                    continue;
                }
                unsigned flags = 0;
                void *it3 = NULL;
                struct fy_node *f;
                while (fy_node_is_sequence(u) && (f = fy_node_sequence_iterate(u, &it3))) {
                    const char *name = text_of(r, f);
                    unsigned fl = name ? url_flag(name) : 0;
                    if (!fl)
                        fail_case(r, sg__yaml_node_line(f), "unknown URL flag");
                    flags |= fl;
                }
                m->url_flags[m->nurls++] = flags;
            }
        } else if (!strcmp(k, "facts")) {
            void *it2 = NULL;
            struct fy_node_pair *fp;
            while ((fp = fy_node_mapping_iterate(v, &it2))) {
                const char *name = text_of(r, fy_node_pair_key(fp));
                int f = name ? sg__rules_fact_parse(name, strlen(name)) : -1;
                if (f < 0)
                    fail_case(r, sg__yaml_node_line(fy_node_pair_key(fp)), "unknown fact");
                else
                    m->facts.v[f] = number_of(r, fy_node_pair_value(fp));
            }
        } else {
            fail_case(r, sg__yaml_node_line(fy_node_pair_key(p)), "unknown case field \"%s\"", k);
            return false;
        }
    }
    return true;
}

static void describe(const struct sg_rule_hit *hits, int n, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%s %g", i ? ", " : "", hits[i].code,
                              hits[i].score);
}

static const char *short_text(const struct msg *m)
{
    return m->body && m->body[0] ? m->body : m->subject ? m->subject : "";
}

/* fires: / quiet: lists of one rule. */
static void run_rule_cases(struct runner *r, const char *key, struct fy_node *v)
{
    char code[SG_RULES_MAX_CODE + 1]; /* the key lives in the arena, reset after each case */
    snprintf(code, sizeof code, "%s", key ? key : "");
    int idx = sg__rules_find(shipped, code);
    if (idx < 0) {
        fail_case(r, sg__yaml_node_line(v), "no shipped rule %s", code);
        return;
    }
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(v, &it))) {
        const char *kind = text_of(r, fy_node_pair_key(p));
        bool fires = kind && !strcmp(kind, "fires");
        if (!kind || (!fires && strcmp(kind, "quiet"))) {
            fail_case(r, sg__yaml_node_line(fy_node_pair_key(p)), "expected fires or quiet");
            continue;
        }
        void *it2 = NULL;
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate(fy_node_pair_value(p), &it2))) {
            struct msg m;
            double limit = NAN;
            if (!parse_msg(r, item, &m, &limit))
                continue;
            struct sg_rule_hit hits[MAX_HITS];
            double total;
            int n = scan_msg(shipped, scratch, &m, r->arena, hits, &total);
            r->cases++;
            if (has_hit(hits, n, code) != fires) {
                char got[2048];
                describe(hits, n, got, sizeof got);
                fail_case(r, sg__yaml_node_line(item), "%s should %s on \"%.80s\" (hits: %s)", code,
                          fires ? "fire" : "stay quiet", short_text(&m), got);
            }
            (fires ? r->fires : r->quiet)[idx]++;
            sg__arena_reset(r->arena);
        }
    }
}

/* ham: (legitimate mail, total below a limit) and spam: (lures, total at least hold). */
static void run_corpus(struct runner *r, struct fy_node *v, bool ham)
{
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(v, &it))) {
        struct msg m;
        double limit = NAN;
        if (!parse_msg(r, item, &m, &limit))
            continue;
        if (isnan(limit))
            limit = ham ? HAM_MAX : HOLD;
        struct sg_rule_hit hits[MAX_HITS];
        double total;
        int n = scan_msg(shipped, scratch, &m, r->arena, hits, &total);
        r->cases++;
        if (ham ? total > limit : total < limit) {
            char got[2048];
            describe(hits, n, got, sizeof got);
            fail_case(r, sg__yaml_node_line(item), "%s scored %g (%s %g) on \"%.80s\" (hits: %s)",
                      ham ? "legitimate mail" : "lure", total, ham ? "max" : "min", limit,
                      short_text(&m), got);
        }
        sg__arena_reset(r->arena);
    }
}

static void run_case_file(struct runner *r, const char *path)
{
    struct fy_document *doc = fy_document_build_from_file(NULL, path);
    if (!doc) {
        fail_case(r, 0, "does not parse");
        return;
    }
    struct fy_node *root = fy_document_root(doc);
    void *it = NULL;
    struct fy_node_pair *p;
    while (root && (p = fy_node_mapping_iterate(root, &it))) {
        const char *k = text_of(r, fy_node_pair_key(p));
        struct fy_node *v = fy_node_pair_value(p);
        if (k && !strcmp(k, "cases")) {
            void *it2 = NULL;
            struct fy_node_pair *cp;
            while ((cp = fy_node_mapping_iterate(v, &it2)))
                run_rule_cases(r, text_of(r, fy_node_pair_key(cp)), fy_node_pair_value(cp));
        } else if (k && (!strcmp(k, "ham") || !strcmp(k, "spam"))) {
            run_corpus(r, v, k[0] == 'h');
        } else {
            fail_case(r, sg__yaml_node_line(fy_node_pair_key(p)), "expected cases, ham or spam");
        }
    }
    fy_document_destroy(doc);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_case_files(void **state)
{
    const char *dir = SG_SOURCE_DIR "/rules/tests";
    DIR *d = opendir(dir);
    assert_non_null(d);
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256)
        if (strstr(e->d_name, ".yaml"))
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    size_t nrules = sg__rules_count(shipped);
    struct runner r = {.arena = sg__arena_new(0)};
    r.fires = calloc(nrules, sizeof *r.fires);
    r.quiet = calloc(nrules, sizeof *r.quiet);
    for (size_t i = 0; i < n; i++) {
        char path[1024], label[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(label, sizeof label, "rules/tests/%s", names[i]);
        r.file = label;
        run_case_file(&r, path);
        free(names[i]);
    }
    r.file = "rules/tests";
    for (size_t i = 0; i < nrules; i++) {
        struct sg_rule_info info;
        sg__rules_info(shipped, i, &info);
        if (!r.fires[i] || !r.quiet[i])
            fail_case(&r, 0, "rule %s (%s:%d) needs a case that fires and one that stays quiet "
                      "(has %d and %d)", info.code, info.file, info.line, r.fires[i], r.quiet[i]);
    }
    fprintf(stderr, "rules: %zu rules, %d cases, %d failures\n", nrules, r.cases, r.failures);
    free(r.fires);
    free(r.quiet);
    sg__arena_free(r.arena);
    assert_int_equal(r.failures, 0);
}

/* ---- the built-in copies ------------------------------------------------------------------- */

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void test_builtin_matches_sources(void **state)
{
    struct sg__rules_file files[SG_RULES_SHIPPED_MAX];
    size_t nf = sg__rules_shipped(files, SG_RULES_SHIPPED_MAX);
    assert_true(nf > 5);
    for (size_t i = 0; i < nf; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", SG_SOURCE_DIR, files[i].name);
        size_t len = 0;
        char *src = read_all(path, &len);
        assert_non_null(src);
        if (len != files[i].len || memcmp(src, files[i].text, len) != 0)
            fail_msg("%s differs from its built-in copy: rebuild (touch src/rules/shipped.c)",
                     files[i].name);
        free(src);
    }
    /* Every YAML file in rules/ is shipped. */
    DIR *d = opendir(SG_SOURCE_DIR "/rules");
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".yaml"))
            continue;
        bool found = false;
        for (size_t i = 0; i < nf; i++)
            found |= !strcmp(files[i].name + strlen("rules/"), e->d_name);
        if (!found)
            fail_msg("rules/%s is not built in: add it to src/rules/shipped.c", e->d_name);
    }
    closedir(d);
}

/* ---- loader errors ------------------------------------------------------------------------ */

/* Loads text alone (no shipped rules) and returns the error text ("" when it loads). */
static char *load_err(const char *text, unsigned flags)
{
    struct sg_rules *rs = NULL;
    char *err = NULL;
    int rc = sg__rules_load_string("t.yaml", text, strlen(text), flags, &rs, &err);
    if (rc == 0) {
        assert_non_null(rs);
        assert_null(err);
        sg__rules_free(rs);
        return strdup("");
    }
    assert_null(rs);
    assert_non_null(err);
    char *copy = strdup(err);
    sg__free(err);
    return copy;
}

static void expect_err(const char *text, const char *want)
{
    char *err = load_err(text, SG_RULES_NO_BUILTIN);
    if (!strstr(err, want))
        fail_msg("expected \"%s\" in:\n%s\nfor:\n%s", want, err, text);
    free(err);
}

#define RULE(body) "rules:\n  - code: R1\n    score: 1\n    description: d.\n" body

static void test_load_errors(void **state)
{
    char *ok = load_err(RULE("    regex: 'abc'\n"), SG_RULES_NO_BUILTIN);
    assert_string_equal(ok, "");
    free(ok);
    expect_err("rules:\n  - code: bad_code\n    score: 1\n", "t.yaml:2: rules[0]: code \"bad_code\" is not UPPER_SNAKE");
    expect_err("rules:\n  - score: 1\n", "t.yaml:2: rules[0]: missing code");
    expect_err(RULE("    regex: '(abc'\n"), "t.yaml:5: rule R1: regex: ");
    expect_err(RULE("    regex: ['abc', 'a(']\n"), "t.yaml:5: rule R1: regex: ");
    expect_err(RULE("    regex: 'x*'\n"), "t.yaml:5: rule R1: regex: matches the empty text");
    expect_err(RULE("    regex: '[à-ÿ]x'\n"), "t.yaml:5: rule R1: regex: a character range must be ASCII");
    expect_err(RULE("    regex: 'a'\n    words: [b]\n"), "t.yaml:6: rule R1: give exactly one of regex, words or expr");
    expect_err(RULE("    regx: 'a'\n"), "t.yaml:5: rule R1: unknown field \"regx\"");
    expect_err(RULE("    regex: 'a'\n    state: maybe\n"), "t.yaml:6: rule R1: state: expected enforce, monitor or off");
    expect_err(RULE("    regex: 'a'\n    channels: [email, fax]\n"), "t.yaml:6: rule R1: channels: unknown channel \"fax\"");
    expect_err("rules:\n  - code: R1\n    score: 500\n    description: d.\n    regex: a\n",
               "t.yaml:3: rule R1: score: expected a number from -100 to 100");
    expect_err("rules:\n  - code: R1\n    description: d.\n    regex: a\n", "t.yaml:2: rule R1: missing score");
    expect_err(RULE("    expr: R2 &&\n"), "t.yaml:5: rule R1: expr: expected a rule code, a fact or a number at the end");
    expect_err(RULE("    expr: attachments = 0\n"), "t.yaml:5: rule R1: expr: \"=\" is not an operator");
    expect_err(RULE("    expr: 1 < attachments < 3\n"), "comparisons do not chain");
    expect_err(RULE("    expr: (urls > 0\n"), "expected \")\"");
    expect_err(RULE("    expr: NOPE > 1\n"), "t.yaml:5: rule R1: expr: unknown name \"NOPE\" (not a rule code or a fact)");
    expect_err(RULE("    expr: r1\n"), "unknown name \"r1\" (did you mean R1?)");
    expect_err("rules:\n  - {code: A, score: 1, description: d., expr: B}\n"
               "  - {code: B, score: 1, description: d., expr: C || urls > 1}\n"
               "  - {code: C, score: 1, description: d., expr: A}\n",
               "expr: rules read each other in a cycle: A -> B -> C -> A");
    expect_err(RULE("    regex: a\n") "  - {code: R1, score: 1, description: d., regex: b}\n",
               "t.yaml:6: rule R1: defined twice (first at t.yaml:2)");
    expect_err("rules:\n  - {code: URLS, score: 1, description: d., regex: b}\n", "code is the name of a fact");
    expect_err("rules:\n  - {code: TRUST_MIN_POSTS, score: 1, description: d., regex: b}\n", "engine reason code");
    expect_err("rules:\n  - {code: R2, score: 1}\n", "no rule with this code to change");
    expect_err("rulez: []\n", "t.yaml:1: unknown key \"rulez\"");
    expect_err("rules: [a\n", "t.yaml:");
    expect_err("%YAML 1.2\n---\nrules: []\n", "t.yaml:1: YAML directives");
    expect_err("rules: []\n---\nrules: []\n", "a second YAML document");
    expect_err("rules:\n  - &x {code: R1, score: 1, description: d., regex: a}\n  - *x\n", "alias");
    expect_err("rules: []\n\x01\n", "t.yaml:2: control character 0x01");
    expect_err("rules: []\n\xff\n", "t.yaml:2: not valid UTF-8");
    expect_err("brands:\n  - {name: X}\n", "brand X");
    expect_err("brands:\n  - {name: Foo, domains: [Foo.COM]}\n", "domain \"Foo.COM\" is not a lower-case domain");
    /* Every error is reported, not just the first. */
    char *err = load_err("rules:\n  - {code: A, score: 1, description: d., regex: '('}\n"
                         "  - {code: B, score: 1, description: d., regex: ')'}\n", SG_RULES_NO_BUILTIN);
    assert_non_null(strstr(err, "t.yaml:2: rule A:"));
    assert_non_null(strstr(err, "t.yaml:3: rule B:"));
    free(err);
    /* An empty file and a comment-only file are fine. */
    err = load_err("", SG_RULES_NO_BUILTIN);
    assert_string_equal(err, "");
    free(err);
    err = load_err("# nothing yet\n", SG_RULES_NO_BUILTIN);
    assert_string_equal(err, "");
    free(err);
}

/* ---- behaviour ------------------------------------------------------------------------------- */

static struct sg_rules *load_ok(const char *text, unsigned flags)
{
    struct sg_rules *rs = NULL;
    char *err = NULL;
    int rc = sg__rules_load_string("t.yaml", text, strlen(text), flags, &rs, &err);
    if (rc)
        fail_msg("load: %s", err ? err : "?");
    return rs;
}

static int scan_text(const struct sg_rules *rs, const char *subject, const char *body,
                     struct sg_arena *a, struct sg_rule_hit *hits, double *total)
{
    struct sg_rules_scratch *s = sg__rules_scratch_new(rs);
    struct msg m;
    msg_init(&m);
    m.subject = subject;
    m.body = body;
    int n = scan_msg(rs, s, &m, a, hits, total);
    sg__rules_scratch_free(s);
    return n;
}

/* A \b next to a non-ASCII letter, through a group's alternatives, a class or optional atoms,
 * is left out (it could never match byte-wise); every other \b still holds. */
/* The memo of checked regexes (regex_memo.c): filled by a load, used by the next, and a bad
 * regex is reported whatever the memo holds, since only passing ones are remembered and a
 * file not written by it is ignored. */
static void test_regex_memo(void **state)
{
    (void)state;
    char dir[] = "/tmp/sg-memo-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[sizeof dir + 32];
    snprintf(path, sizeof path, "%s/regexes-checked", dir);
    char *old = getenv("SENDGUARD_CACHE_DIR") ? strdup(getenv("SENDGUARD_CACHE_DIR")) : NULL;
    setenv("SENDGUARD_CACHE_DIR", dir, 1);
    const char *two = "rules:\n  - {code: A, score: 1, description: d., regex: [abc, 'de+f']}\n";
    for (int run = 0; run < 2; run++) {
        char *ok = load_err(two, SG_RULES_NO_BUILTIN);
        assert_string_equal(ok, "");
        free(ok);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_size, 2 * 8); /* the second load adds nothing */
    }
    expect_err(RULE("    regex: '(abc'\n"), "t.yaml:5: rule R1: regex: ");
    expect_err(RULE("    regex: 'x*'\n"), "t.yaml:5: rule R1: regex: matches the empty text");
    /* Not a memo (odd size): read as empty, so the regexes are checked and it is rewritten. */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("garbage", f);
    fclose(f);
    expect_err(RULE("    regex: ['abc', 'a(']\n"), "t.yaml:5: rule R1: regex: ");
    char *ok = load_err(two, SG_RULES_NO_BUILTIN);
    assert_string_equal(ok, "");
    free(ok);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 2 * 8);
    unlink(path);
    rmdir(dir);
    if (old)
        setenv("SENDGUARD_CACHE_DIR", old, 1);
    else
        unsetenv("SENDGUARD_CACHE_DIR");
    free(old);
}

static void test_boundaries_next_to_non_ascii(void **state)
{
    (void)state;
    struct sg_rules *rs = load_ok(
        "rules:\n"
        "  - {code: ALT, score: 1, description: d., regex: '\\b(?:send|\u00fcberweisen) geld'}\n"
        "  - {code: END, score: 1, description: d., regex: '(?:paid|pay\u00e9)\\b'}\n"
        "  - {code: OPT, score: 1, description: d., regex: 'impay\u00e9e?s?\\b'}\n"
        "  - {code: CLS, score: 1, description: d., regex: '\\b[\u00e9e]chec de livraison'}\n"
        "  - {code: ASC, score: 1, description: d., regex: '\\bwebcam\\b'}\n",
        SG_RULES_NO_BUILTIN);
    struct sg_arena *a = sg__arena_new(0);
    struct sg_rule_hit hits[16];
    double total;
    int n = scan_text(rs, "", "\u00dcberweisen Geld. Pay\u00e9. Amende impay\u00e9. "
                      "\u00c9chec de livraison.", a, hits, &total);
    assert_int_equal(n, 4);
    assert_non_null(find_hit(hits, n, "ALT"));
    assert_non_null(find_hit(hits, n, "END"));
    assert_non_null(find_hit(hits, n, "OPT"));
    assert_non_null(find_hit(hits, n, "CLS"));
    /* A \b between ASCII characters stays: no match inside a word. (A left-out one is left out
     * for every alternative of its group: "(?:paid|payé)" then also matches in "prepaid".) */
    n = scan_text(rs, "", "mywebcams", a, hits, &total);
    assert_null(find_hit(hits, n, "ASC"));
    n = scan_text(rs, "", "my webcam. send geld", a, hits, &total);
    assert_non_null(find_hit(hits, n, "ASC"));
    assert_non_null(find_hit(hits, n, "ALT"));
    sg__arena_free(a);
    sg__rules_free(rs);
}

static void test_quotes_and_words(void **state)
{
    struct sg_rules *rs = load_ok(
        "rules:\n"
        "  - {code: W, score: 1, description: d., words: [seed phrase, nft, groß]}\n"
        "  - {code: R, score: 2, description: d., regex: 'claim (?:your|the) prize'}\n"
        "  - {code: A, score: 1, description: d., regex: '\\b[úu]ltima chance'}\n"
        "  - {code: E, score: 1.5, description: d., expr: 'W && R'}\n",
        SG_RULES_NO_BUILTIN);
    struct sg_arena *a = sg__arena_new(0);
    struct sg_rule_hit hits[16];
    double total;
    /* Quotes are the original text, through norm_to_text: case, accents, spacing. */
    int n = scan_text(rs, "", "Hello!  CLAIM   Your PRIZE now, and keep your SEED\n phrase.", a, hits, &total);
    assert_int_equal(n, 3);
    assert_string_equal(find_hit(hits, n, "R")->quote, "CLAIM   Your PRIZE");
    assert_string_equal(find_hit(hits, n, "W")->quote, "SEED  phrase"); /* controls as spaces */
    /* An expr rule quotes the first pattern rule it rests on that fired (W of "W && R"). */
    assert_string_equal(find_hit(hits, n, "E")->quote, "SEED  phrase");
    assert_true(total == 4.5);
    /* Whole words only; "ß" matches the "ss" the normaliser writes. */
    n = scan_text(rs, "", "nftx anft", a, hits, &total);
    assert_int_equal(n, 0);
    n = scan_text(rs, "", "Ein GROSS Preis", a, hits, &total);
    assert_true(has_hit(hits, n, "W"));
    /* \b next to a non-ASCII letter is dropped, so both spellings match. */
    n = scan_text(rs, "", "Última chance", a, hits, &total);
    assert_true(has_hit(hits, n, "A"));
    n = scan_text(rs, "", "ultima chance", a, hits, &total);
    assert_true(has_hit(hits, n, "A"));
    /* A match in the subject is found and quoted from the original subject too. */
    n = scan_text(rs, "Re: Claim your  PRIZE", "hi", a, hits, &total);
    assert_string_equal(find_hit(hits, n, "R")->quote, "Claim your  PRIZE");
    /* Look-alike letters are read as what they imitate: Cyrillic а in "clаim". */
    n = scan_text(rs, "", "cl\xd0\xb0im your prize", a, hits, &total);
    assert_true(has_hit(hits, n, "R"));
    /* Long quotes are cut at 80 bytes on a character boundary. */
    struct sg_rules *rl = load_ok("rules:\n  - {code: L, score: 1, description: d., regex: 'start.*end'}\n",
                                  SG_RULES_NO_BUILTIN);
    char body[400];
    snprintf(body, sizeof body, "start %s end", "ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé");
    n = scan_text(rl, "", body, a, hits, &total);
    assert_int_equal(n, 1);
    assert_true(strlen(hits[0].quote) <= 80);
    sg__rules_free(rl);
    sg__rules_free(rs);
    sg__arena_free(a);
}

static void test_expr_facts(void **state)
{
    struct sg_rules *rs = load_ok(
        "rules:\n"
        "  - {code: NEWBIE, score: 1, description: d., expr: 'SENDER_AGE_HOURS < 24'}\n"
        "  - {code: OLD, score: 1, description: d., expr: '!(SENDER_AGE_HOURS < 24)'}\n"
        "  - {code: FIRST, score: 1, description: d., expr: first_message}\n"
        "  - {code: NOATT, score: 1, description: d., expr: 'attachments == 0 && urls >= 2'}\n"
        "  - {code: SHORT, score: 1, description: d., expr: 'URL_SHORTENER > 0 || URL_IP_LITERAL > 1.5'}\n"
        "  - {code: PREC, score: 1, description: d., expr: '!FIRST || NEWBIE && OLD'}\n",
        SG_RULES_NO_BUILTIN);
    struct sg_rules_scratch *s = sg__rules_scratch_new(rs);
    struct sg_arena *a = sg__arena_new(0);
    struct sg_rule_hit hits[16];
    double total;
    struct msg m;
    msg_init(&m);
    m.body = "hello";
    /* Unknown facts: comparisons are false, a negated one true. */
    int n = scan_msg(rs, s, &m, a, hits, &total);
    assert_false(has_hit(hits, n, "NEWBIE"));
    assert_true(has_hit(hits, n, "OLD"));
    assert_false(has_hit(hits, n, "FIRST"));
    assert_true(has_hit(hits, n, "PREC")); /* ! binds tighter than &&, && than || */
    m.facts.v[SG_FACT_SENDER_AGE_HOURS] = 3;
    m.facts.v[SG_FACT_FIRST_MESSAGE] = 1;
    m.nurls = 2;
    m.url_flags[1] = SG_URL_SHORTENER;
    n = scan_msg(rs, s, &m, a, hits, &total);
    assert_true(has_hit(hits, n, "NEWBIE"));
    assert_false(has_hit(hits, n, "OLD"));
    assert_true(has_hit(hits, n, "FIRST"));
    assert_true(has_hit(hits, n, "NOATT"));
    assert_true(has_hit(hits, n, "SHORT"));
    assert_false(has_hit(hits, n, "PREC"));
    /* Content facts come from the content, whatever the caller's struct says. */
    m.facts.v[SG_FACT_ATTACHMENTS] = 5;
    n = scan_msg(rs, s, &m, a, hits, &total);
    assert_true(has_hit(hits, n, "NOATT"));
    /* The hits array bounds the output. */
    n = sg__rules_scan(rs, s, &(struct sg_content){0}, NULL, -1, a, hits, 1);
    assert_int_equal(n, 1);
    sg__rules_scratch_free(s);
    sg__rules_free(rs);
    sg__arena_free(a);
}

static void test_channels_states(void **state)
{
    struct sg_rules *rs = load_ok(
        "rules:\n"
        "  - {code: PM, score: 2, description: d., regex: 'hello', channels: [private_message]}\n"
        "  - {code: MON, score: 3, description: d., regex: 'hello', state: monitor}\n"
        "  - {code: OFF, score: 3, description: d., regex: 'hello', state: off}\n"
        "  - {code: USE, score: 1, description: d., expr: 'OFF || PM'}\n",
        SG_RULES_NO_BUILTIN);
    struct sg_rules_scratch *s = sg__rules_scratch_new(rs);
    struct sg_arena *a = sg__arena_new(0);
    struct sg_rule_hit hits[16];
    double total;
    struct msg m;
    msg_init(&m);
    m.body = "hello there";
    m.channel = SG_CH_EMAIL;
    int n = scan_msg(rs, s, &m, a, hits, &total);
    assert_int_equal(n, 1);
    assert_string_equal(hits[0].code, "MON");
    assert_true(hits[0].monitor);
    assert_true(hits[0].score == 0);
    assert_string_equal(hits[0].quote, "hello");
    m.channel = SG_CH_PRIVATE_MESSAGE;
    n = scan_msg(rs, s, &m, a, hits, &total);
    assert_int_equal(n, 3);
    assert_true(has_hit(hits, n, "PM"));
    assert_true(has_hit(hits, n, "USE"));
    assert_true(total == 3);
    sg__rules_scratch_free(s);
    sg__rules_free(rs);
    sg__arena_free(a);
}

static char *make_dir(const char *name, const char *file, const char *text)
{
    char *dir = malloc(256);
    snprintf(dir, 256, "/tmp/sg_rules_test_%d_%s", (int)getpid(), name);
    mkdir(dir, 0700);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return dir;
}

static void remove_dir(char *dir, const char *file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    unlink(path);
    rmdir(dir);
    free(dir);
}

static void test_local_overrides(void **state)
{
    /* A local directory replaces a shipped rule, amends another, turns a third off, adds one. */
    char *dir = make_dir("local", "local.yaml",
                         "rules:\n"
                         "  - code: CRYPTO_TERMS\n    score: 0.5\n"
                         "  - code: PRIZE_CLAIM\n    state: off\n"
                         "  - code: PRIZE_WON\n    score: 1\n    description: Replaced.\n"
                         "    regex: 'jackpot winner'\n"
                         "  - code: LOCAL_CLINIC_NAME\n    score: 4\n    state: monitor\n"
                         "    description: Names a clinic that is not ours.\n"
                         "    words: [acme clinic]\n"
                         "  - code: LOCAL_COMBO\n    score: 1\n    description: d.\n"
                         "    expr: LOCAL_CLINIC_NAME && CRYPTO_TERMS\n"
                         "  - code: ATTACHMENT_MISSING\n    score: 1\n    description: Replaced.\n"
                         "    expr: MENTIONS_ATTACHMENT\n"
                         "brands:\n  - {name: Acme Health, domains: [acme-health.example]}\n");
    const char *dirs[] = {dir};
    struct sg_rules *rs = NULL;
    char *err = NULL;
    int rc = sg__rules_load(dirs, 1, 0, &rs, &err);
    if (rc)
        fail_msg("%s", err);
    struct sg_arena *a = sg__arena_new(0);
    struct sg_rule_hit hits[MAX_HITS];
    double total;
    int n = scan_text(rs, "", "You have won! Claim your prize. Free NFT from ACME Clinic, jackpot winner.",
                      a, hits, &total);
    assert_false(has_hit(hits, n, "PRIZE_CLAIM"));
    const struct sg_rule_hit *h = find_hit(hits, n, "PRIZE_WON");
    assert_non_null(h);
    assert_string_equal(h->description, "Replaced.");
    assert_string_equal(h->quote, "jackpot winner");
    assert_true(find_hit(hits, n, "CRYPTO_TERMS")->score == 0.5);
    h = find_hit(hits, n, "LOCAL_CLINIC_NAME");
    assert_true(h && h->monitor && h->score == 0);
    assert_true(has_hit(hits, n, "LOCAL_COMBO"));
    /* A replacement takes the defaults for what it leaves out: the shipped rule was email only. */
    struct msg pm;
    msg_init(&pm);
    pm.channel = SG_CH_PRIVATE_MESSAGE;
    pm.body = "See the attached file.";
    struct sg_rules_scratch *s = sg__rules_scratch_new(rs);
    n = scan_msg(rs, s, &pm, a, hits, &total);
    assert_true(has_hit(hits, n, "ATTACHMENT_MISSING"));
    sg__rules_scratch_free(s);
    struct sg_rule_info info;
    sg__rules_info(rs, (size_t)sg__rules_find(rs, "PRIZE_WON"), &info);
    assert_non_null(strstr(info.file, "local.yaml"));
    assert_string_equal(info.kind, "regex");
    /* The local brand is known. */
    assert_true(sg__rules_brand_mismatch(rs, a, "Acme Health Billing", "billing@elsewhere.example"));
    assert_false(sg__rules_brand_mismatch(rs, a, "Acme Health Billing", "billing@mail.acme-health.example"));
    sg__rules_free(rs);
    remove_dir(dir, "local.yaml");
    /* A missing directory is an I/O error naming it. */
    const char *missing[] = {"/nonexistent/sendguard-rules"};
    rc = sg__rules_load(missing, 1, 0, &rs, &err);
    assert_int_equal(rc, SG_EIO);
    assert_non_null(strstr(err, "/nonexistent/sendguard-rules: cannot open"));
    sg__free(err);
    sg__arena_free(a);
}

static void test_brands(void **state)
{
    struct sg_arena *a = sg__arena_new(0);
    assert_true(sg__rules_brand_mismatch(shipped, a, "PayPal Service", "service@paypa1-secure.example"));
    assert_true(sg__rules_brand_mismatch(shipped, a, "P\xd0\xb0yPal", "x@evil.example")); /* Cyrillic а */
    assert_false(sg__rules_brand_mismatch(shipped, a, "PayPal", "service@intl.paypal.com"));
    assert_false(sg__rules_brand_mismatch(shipped, a, "PayPal", "service@paypal.co.uk"));
    assert_false(sg__rules_brand_mismatch(shipped, a, "Amazon.de", "versand@amazon.de"));
    assert_true(sg__rules_brand_mismatch(shipped, a, "Amazon Prime", "prime@amazon-billing.example"));
    assert_false(sg__rules_brand_mismatch(shipped, a, "Dr. Smith's Practice", "info@smith-clinic.example"));
    assert_false(sg__rules_brand_mismatch(shipped, a, "Paypalooza Fan Club", "x@fans.example")); /* not a whole word */
    /* A name that contains the brand among words of its own is not claiming to be it. */
    assert_false(sg__rules_brand_mismatch(shipped, a, "Lockergnome Apple Core", "subscriptions@lockergnome.example"));
    assert_false(sg__rules_brand_mismatch(shipped, a, "Apple Valley Dental", "desk@applevalleydental.example"));
    assert_true(sg__rules_brand_mismatch(shipped, a, "Apple ID Support", "id@apple-verify.example"));
    assert_true(sg__rules_brand_mismatch(shipped, a, "Service Client PayPal", "x@evil.example"));
    assert_true(sg__rules_brand_mismatch(shipped, a, "Microsoft 365 Team", "admin@office-verify.example"));
    assert_false(sg__rules_brand_mismatch(shipped, a, "PayPal", NULL));
    assert_false(sg__rules_brand_mismatch(shipped, a, NULL, "x@y.example"));
    sg__arena_free(a);
}

/* The tenant's name in a link's host: a hyphenated part or the registrable domain's label
 * (digits read as letters), never the tenant's own domain or a plain subdomain label. */
static void test_tenant_lookalike_hosts(void **state)
{
    static const struct {
        const char *tenant, *host, *dom;
        bool uses;
    } cases[] = {
        {"hikerhub", "safepay-hikerhub.net", "safepay-hikerhub.net", true},
        {"hikerhub", "hikerhub-livraison.fr-paiement.com", "fr-paiement.com", true},
        {"HikerHub", "hikerhub-pay.shop", "hikerhub-pay.shop", true},
        {"gamerguild", "gamerguild.premi-ufficiali.com", "premi-ufficiali.com", false},
        {"tutorly", "tutor1y-verify.com", "tutor1y-verify.com", true},
        {"hikerhub", "hikerhub.com", "hikerhub.com", false},
        {"hikerhub", "mail.hikerhub.co.uk", "hikerhub.co.uk", false},
        {"hikerhub", "www.youtube.com", "youtube.com", false},
        {"hikerhub", "hikerhubs.com", "hikerhubs.com", false},
        {"t-1", "t-1-pay.com", "t-1-pay.com", false}, /* too short to be a name */
        {"forum", "forum-help.example", "forum-help.example", true},
        /* a hyphenated tenant id on its own hyphenated domain */
        {"northside-league", "northside-league.org", "northside-league.org", false},
        {"starfall-online", "support.starfall-online.com", "starfall-online.com", false},
        {"starfall-online", "starfall-online.com-gift.xyz", "com-gift.xyz", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char host[128];
        snprintf(host, sizeof host, "%s", cases[i].host);
        const char *dom = host + strlen(host) - strlen(cases[i].dom);
        if (sg__host_uses_name(cases[i].tenant, host, dom) != cases[i].uses)
            fail_msg("%s on %s: expected %d", cases[i].tenant, cases[i].host, cases[i].uses);
    }
    assert_false(sg__host_uses_name(NULL, "a-hikerhub.com", "a-hikerhub.com"));
}

static void test_scratch_reuse(void **state)
{
    /* A scratch made for one ruleset grows to fit another, so a thread keeps it across reloads. */
    struct sg_rules *small = load_ok("rules:\n  - {code: X, score: 1, description: d., regex: 'xyz'}\n",
                                     SG_RULES_NO_BUILTIN);
    struct sg_rules_scratch *s = sg__rules_scratch_new(small);
    struct sg_arena *a = sg__arena_new(0);
    struct sg_rule_hit hits[MAX_HITS];
    double total;
    struct msg m;
    msg_init(&m);
    m.body = "Congratulations, you have won! xyz";
    int n = scan_msg(shipped, s, &m, a, hits, &total);
    assert_true(has_hit(hits, n, "PRIZE_WON"));
    n = scan_msg(small, s, &m, a, hits, &total);
    assert_int_equal(n, 1);
    sg__rules_scratch_free(s);
    sg__rules_free(small);
    /* A ruleset with no patterns at all (only expressions) scans too. */
    struct sg_rules *exprs = load_ok("rules:\n  - {code: Y, score: 1, description: d., expr: 'urls == 0'}\n",
                                     SG_RULES_NO_BUILTIN);
    s = sg__rules_scratch_new(exprs);
    n = scan_msg(exprs, s, &m, a, hits, &total);
    assert_int_equal(n, 1);
    assert_null(hits[0].quote);
    sg__rules_scratch_free(s);
    sg__rules_free(exprs);
    assert_int_equal(sg__rules_scan(NULL, NULL, NULL, NULL, 0, a, hits, 1), SG_EINVAL);
    /* The shared built-in ruleset: loaded once, the same pointer every time. */
    const struct sg_rules *b1 = NULL, *b2 = NULL;
    assert_int_equal(sg__rules_builtin(&b1), 0);
    assert_int_equal(sg__rules_builtin(&b2), 0);
    assert_non_null(b1);
    assert_ptr_equal(b1, b2);
    assert_int_equal(sg__rules_count(b1), sg__rules_count(shipped));
    sg__arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_matches_sources),
        cmocka_unit_test(test_case_files),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_regex_memo),
        cmocka_unit_test(test_quotes_and_words),
        cmocka_unit_test(test_boundaries_next_to_non_ascii),
        cmocka_unit_test(test_expr_facts),
        cmocka_unit_test(test_channels_states),
        cmocka_unit_test(test_local_overrides),
        cmocka_unit_test(test_brands),
        cmocka_unit_test(test_tenant_lookalike_hosts),
        cmocka_unit_test(test_scratch_reuse),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
