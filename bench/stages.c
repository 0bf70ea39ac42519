/* The content path's cost stage by stage: for raw RFC 822 files named on stdin (one a line),
 * µs per message for MIME (GMime), HTML (libxml2), normalisation (ICU), URLs, the whole
 * sg__content_build, Bayes tokens, classify (with --db) and the shipped rules' scan. Each stage
 * is timed on its own over the whole list, best of --passes; stages after MIME rerun on
 * inputs built once, so their figures do not include the stages before them.
 *   build/bench_stages [--db FILE] [--passes N] [--dump] < list
 * --dump prints one line per message instead (content facts, token count and a hash of the
 * tokens, the probability, the rules hit) to compare two builds for identical results. Timings
 * are for people: no test looks at them. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bayes/bayes.h"
#include "engine/event.h"
#include "rules/rules.h"
#include "sendguard.h"
#include "store/store.h"
#include "text/content.h"
#include "text/html.h"
#include "text/mime.h"
#include "text/normalize.h"
#include "text/urls.h"
#include "util/arena.h"
#include "util/hash.h"

struct msg {
    char *path, *buf;
    const char *raw;
    size_t raw_len;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, k;
    char *b = malloc(cap + 1);
    while (b && (k = fread(b + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap)
            b = realloc(b, (cap *= 2) + 1);
    }
    fclose(f);
    if (b)
        b[n] = '\0';
    *len = n;
    return b;
}

static void event_of(const struct msg *m, struct sg_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->type = SG_EV_MESSAGE;
    ev->tenant = "bench";
    ev->raw = m->raw;
    ev->raw_len = m->raw_len;
    ev->verified = -1;
}

enum { S_MIME, S_HTML, S_NORM, S_URLS, S_CONTENT, S_TOKENS, S_CLASSIFY, S_RULES, NSTAGES };
static const char *const stage_names[NSTAGES] = {
    "mime (GMime parse + walk)", "html (libxml2 SAX, per message)", "normalise (ICU)",
    "urls (scan + hrefs)", "content_build (all of the above)", "bayes tokens", "bayes classify",
    "rules scan (shipped)"};

struct ctx {
    struct msg *v;
    size_t n;
    struct sg_arena *a;
    struct sg_bayes *bayes;
    uint64_t seed;
    const struct sg_rules *rules;
    struct sg_rules_scratch *scratch;
    struct sg_rule_hit *hits;
    size_t nhits;
};

/* One pass of one stage over every message; returns the seconds spent inside the stage. */
static double run_stage(struct ctx *c, int stage)
{
    double spent = 0;
    for (size_t i = 0; i < c->n; i++) {
        struct sg_event ev;
        event_of(&c->v[i], &ev);
        struct sg_content content;
        struct sg_mime m;
        double t0 = 0, t1 = 0;
        if (stage == S_MIME) {
            t0 = now();
            sg__mime_parse(c->a, ev.raw, ev.raw_len, &m);
            t1 = now();
        } else if (stage == S_HTML) {
            sg__mime_parse(c->a, ev.raw, ev.raw_len, &m);
            t0 = now();
            for (size_t k = 0; k < m.ntexts; k++) {
                struct sg_html h;
                if (m.texts[k].html)
                    sg__html_extract(c->a, m.texts[k].text, m.texts[k].len, SG_MIME_MAX_TEXT, &h);
            }
            t1 = now();
        } else {
            sg__content_build(c->a, &ev, &content);
            if (stage == S_CONTENT) {
                sg__arena_reset(c->a);
                t0 = now();
                sg__content_build(c->a, &ev, &content);
                t1 = now();
            } else if (stage == S_NORM) {
                struct sg_norm ns, nt;
                t0 = now();
                sg__normalize(c->a, content.subject, content.subject_len, false, &ns);
                sg__normalize(c->a, content.text, content.text_len, true, &nt);
                t1 = now();
            } else if (stage == S_URLS) {
                /* hrefs are cheap next to the scan; the scan of subject and text is timed */
                struct sg_url_list urls = {0};
                t0 = now();
                sg__urls_scan(c->a, content.subject, content.subject_len, &urls);
                sg__urls_scan(c->a, content.text, content.text_len, &urls);
                t1 = now();
            } else if (stage == S_TOKENS) {
                struct sg_bayes_tokens t;
                t0 = now();
                sg__bayes_tokenize(c->a, c->seed, &content, 0, &t);
                t1 = now();
            } else if (stage == S_CLASSIFY && c->bayes) {
                struct sg_bayes_tokens t;
                struct sg_bayes_result r;
                sg__bayes_tokenize(c->a, c->seed, &content, 0, &t);
                t0 = now();
                sg__bayes_classify_tokens(c->bayes, NULL, &t, &r);
                t1 = now();
            } else if (stage == S_RULES && c->rules) {
                t0 = now();
                sg__rules_scan(c->rules, c->scratch, &content, NULL, -1, c->a, c->hits, c->nhits);
                t1 = now();
            }
        }
        spent += t1 - t0;
        sg__arena_reset(c->a);
    }
    return spent;
}

/* noinline: bench/stages.sh counts instructions inside it (callgrind --toggle-collect) */
__attribute__((noinline)) static void dump(struct ctx *c)
{
    for (size_t i = 0; i < c->n; i++) {
        struct sg_event ev;
        event_of(&c->v[i], &ev);
        struct sg_content x;
        int rc = sg__content_build(c->a, &ev, &x);
        uint64_t h = sg__hash(x.norm, x.norm_len, 1);
        h = sg__hash_mix(h, sg__hash(x.text, x.text_len, 2));
        h = sg__hash_mix(h, sg__hash(x.norm_subject, x.norm_subject_len, 3));
        for (size_t k = 0; k < x.norm_len + 1 && x.norm_to_text; k++)
            h = sg__hash_mix(h, x.norm_to_text[k]);
        for (size_t k = 0; k < x.nurls; k++) {
            const struct sg_text_url *u = &x.urls[k];
            h = sg__hash_mix(h, sg__hash(u->url, strlen(u->url), u->flags));
            if (u->domain)
                h = sg__hash_mix(h, sg__hash(u->domain, strlen(u->domain), 4));
            if (u->anchor_domain)
                h = sg__hash_mix(h, sg__hash(u->anchor_domain, strlen(u->anchor_domain), 5));
        }
        for (size_t k = 0; k < x.nheaders; k++)
            h = sg__hash_mix(h, sg__hash(x.headers[k].value, strlen(x.headers[k].value), k));
        for (size_t k = 0; k < x.nattachments; k++)
            h = sg__hash_mix(h, (uint64_t)x.attachments[k].size);
        printf("%s rc=%d content=%016" PRIx64 " urls=%zu hdrs=%zu att=%zu broken=%d html=%d "
               "hidden=%u zw=%u bidi=%u forms=%u/%u img=%u/%u from=%s reply=%s",
               c->v[i].path, rc, h, x.nurls, x.nheaders, x.nattachments, x.mime_broken,
               x.has_html, x.hidden_chars, x.zero_width, x.bidi_controls, x.forms,
               x.password_inputs, x.images, x.images_without_text,
               x.from_addr ? x.from_addr : "-", x.reply_to ? x.reply_to : "-");
        struct sg_bayes_tokens t;
        if (sg__bayes_tokenize(c->a, c->seed, &x, 0, &t) == 0) {
            uint64_t th = 0;
            for (uint32_t k = 0; k < t.n; k++)
                th = sg__hash_mix(th, t.v[k]);
            printf(" tokens=%u/%016" PRIx64, t.n, th);
            struct sg_bayes_result r;
            if (c->bayes && sg__bayes_classify_tokens(c->bayes, NULL, &t, &r) == 0)
                printf(" p=%.17g used=%u", r.probability, r.tokens_used);
        }
        if (c->rules) {
            int n = sg__rules_scan(c->rules, c->scratch, &x, NULL, -1, c->a, c->hits, c->nhits);
            printf(" rules=");
            for (int k = 0; k < n; k++)
                printf("%s%s", k ? "," : "", c->hits[k].code);
        }
        putchar('\n');
        sg__arena_reset(c->a);
    }
}

int main(int argc, char **argv)
{
    const char *db = NULL;
    int passes = 3;
    bool want_dump = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            db = argv[++i];
        else if (strcmp(argv[i], "--passes") == 0 && i + 1 < argc)
            passes = (int)strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--dump") == 0)
            want_dump = true;
        else {
            fprintf(stderr, "usage: %s [--db FILE] [--passes N] [--dump] < file-list\n", argv[0]);
            return 2;
        }
    }
    struct ctx c = {0};
    size_t cap = 0, bytes = 0;
    char line[4096];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!*line)
            continue;
        struct msg m = {strdup(line), NULL, NULL, 0};
        size_t len;
        if (!(m.buf = read_file(line, &len))) {
            fprintf(stderr, "%s: cannot read\n", line);
            free(m.path);
            continue;
        }
        m.raw = m.buf;
        if (len >= 5 && memcmp(m.buf, "From ", 5) == 0) { /* as sendguard train does */
            const char *nl = memchr(m.buf, '\n', len);
            m.raw = nl ? nl + 1 : m.buf + len;
        }
        m.raw_len = len - (size_t)(m.raw - m.buf);
        bytes += m.raw_len;
        if (c.n == cap)
            c.v = realloc(c.v, (cap = cap ? cap * 2 : 256) * sizeof *c.v);
        c.v[c.n++] = m;
    }
    if (!c.n) {
        fprintf(stderr, "no files\n");
        return 2;
    }
    c.a = sg__arena_new(0);
    struct sg_store *store = NULL;
    if (db) {
        if (sg_store_open(db, &store) != 0 ||
            sg__bayes_open(store, NULL, &c.bayes) != 0) {
            fprintf(stderr, "%s: cannot open the model\n", db);
            return 1;
        }
        c.seed = sg__bayes_seed(c.bayes);
    }
    if (sg__rules_builtin(&c.rules) == 0) {
        c.scratch = sg__rules_scratch_new(c.rules);
        c.nhits = sg__rules_count(c.rules);
        c.hits = calloc(c.nhits ? c.nhits : 1, sizeof *c.hits);
    }
    if (want_dump) {
        dump(&c);
    } else {
        printf("%zu messages, %.1f KB average raw size; best of %d passes\n", c.n,
               (double)bytes / (double)c.n / 1024, passes);
        for (int s = 0; s < NSTAGES; s++) {
            if ((s == S_CLASSIFY && !c.bayes) || (s == S_RULES && !c.rules))
                continue;
            double best = 1e99;
            for (int p = 0; p < passes; p++) {
                double t = run_stage(&c, s);
                if (t < best)
                    best = t;
            }
            printf("  %-36s %8.1f µs/message\n", stage_names[s], best * 1e6 / (double)c.n);
        }
    }
    sg__rules_scratch_free(c.scratch);
    free(c.hits);
    sg__bayes_free(c.bayes);
    sg_store_close(store);
    sg__arena_free(c.a);
    for (size_t i = 0; i < c.n; i++) {
        free(c.v[i].path);
        free(c.v[i].buf);
    }
    free(c.v);
    return 0;
}
