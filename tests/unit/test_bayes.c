/* The Bayes classifier: the tokenizer (OSB pairs, subject prefixes, URL, header and number
 * tokens, the cap), Robinson–Fisher combining against hand-computed values, learn/unlearn
 * symmetry, persistence through a file store (counts survive reopen, increments from two
 * models add up), tenant versus global class, no score without enough training, and classify
 * running while another thread learns. Contents are built by hand. */
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bayes/bayes.h"
#include "bayes/combine.h"
#include "bayes/pairs.h"
#include "bayes/seed.h"
#include "engine/event.h"
#include "bayes/tokens.h"
#include "sendguard.h"
#include "store/store.h"
#include "support/sqlite_query.h"
#include "text/content.h"
#include "util/arena.h"
#include "support/tmpdir.h"

/* ---- helpers ---- */

static void content_init(struct sg_content *c, const char *subject, const char *body)
{
    memset(c, 0, sizeof *c);
    if (subject) {
        c->subject = c->norm_subject = subject;
        c->subject_len = c->norm_subject_len = strlen(subject);
    }
    if (body) {
        c->text = c->norm = body;
        c->text_len = c->norm_len = strlen(body);
    }
}

static bool has(const struct sg_bayes_tokens *t, uint64_t tok)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (t->v[i] == tok)
            return true;
    return false;
}

static uint64_t wh(uint64_t seed, const char *w) { return sg__bayes_word_hash(seed, w, strlen(w)); }

static uint64_t body_word(uint64_t seed, const char *w)
{
    return sg__bayes_tok_word(wh(seed, w), SG_BTAG_WORD);
}

static uint64_t body_pair(uint64_t seed, const char *a, const char *b, unsigned d)
{
    return sg__bayes_tok_pair(wh(seed, a), wh(seed, b), d, false);
}

/* A deterministic generator of synthetic messages: spam words or ham words mixed with common
 * ones, so the classes overlap a little as real mail does. */
static const char *const spam_words[] = {"claim", "prize", "wallet", "nft", "crypto", "winner",
                                         "urgent", "verify", "bitcoin", "reward", "bonus",
                                         "click", "limited", "offer", "congratulations", "cash"};
static const char *const ham_words[] = {"meeting", "tomorrow", "agenda", "report", "lunch",
                                        "project", "thanks", "regards", "attached", "schedule",
                                        "review", "notes", "appointment", "patient", "invoice",
                                        "minutes"};
static const char *const common_words[] = {"the", "a", "you", "your", "and", "to", "of", "is",
                                           "for", "we", "this", "please"};

static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void gen_message(char *buf, size_t size, bool spam, uint32_t *rng)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < 30; i++) {
        uint32_t r = rng_next(rng);
        const char *w = (r % 10) < 7 ? (spam ? spam_words : ham_words)[(r >> 8) % 16]
                                      : common_words[(r >> 8) % 12];
        int k = snprintf(buf + n, size - n, "%s%s", i ? " " : "", w);
        if (k < 0 || (size_t)k >= size - n)
            break;
        n += (size_t)k;
    }
}

static void train(struct sg_bayes *b, const char *tenant, int nspam, int nham, bool invert,
                  uint32_t seed)
{
    uint32_t rng = seed;
    char buf[512];
    struct sg_content c;
    for (int i = 0; i < nspam + nham; i++) {
        bool spam = i < nspam;
        gen_message(buf, sizeof buf, spam, &rng);
        content_init(&c, NULL, buf);
        enum sg_bayes_class cls = (spam != invert) ? SG_BAYES_SPAM : SG_BAYES_HAM;
        assert_int_equal(sg__bayes_learn(b, NULL, tenant, &c, cls, 0), 0);
    }
}

static struct sg_bayes_result classify(struct sg_bayes *b, const char *tenant, const char *body)
{
    struct sg_content c;
    content_init(&c, NULL, body);
    struct sg_bayes_result r;
    assert_int_equal(sg__bayes_classify(b, NULL, tenant, &c, &r), 0);
    return r;
}

static const char SPAMMY[] = "congratulations you are the winner claim your nft prize now verify "
                             "your wallet to receive the crypto reward";
static const char HAMMY[] = "thanks for the meeting notes please review the attached agenda for "
                            "tomorrow and the project schedule";

/* ---- tokenizer ---- */

static void test_osb_pairs(void **state)
{
    struct sg_arena *a = sg__arena_new(0);
    uint64_t seed = 42;
    struct sg_content c;
    content_init(&c, NULL, "alpha beta gamma delta epsilon zeta");
    struct sg_bayes_tokens t;
    assert_int_equal(sg__bayes_tokenize(a, seed, &c, 0, &t), 0);
    const char *w[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta"};
    for (int i = 0; i < 6; i++) {
        assert_true(has(&t, body_word(seed, w[i])));
        for (int d = 1; d <= 4; d++)
            if (i - d >= 0)
                assert_true(has(&t, body_pair(seed, w[i - d], w[i], (unsigned)d)));
    }
    /* Window 5: no pair spans 5 words; order and distance are part of the token. */
    assert_false(has(&t, body_pair(seed, "alpha", "zeta", 5)));
    assert_false(has(&t, body_pair(seed, "beta", "alpha", 1)));
    assert_false(has(&t, body_pair(seed, "alpha", "gamma", 1)));
    /* 6 words + 14 pairs + 2 facts (no URLs, the length bucket). */
    assert_int_equal(t.n, 6 + 14 + 2);
    assert_true(has(&t, sg__bayes_tok_fact(seed, SG_BTAG_META, SG_BMETA_URLS << 8 | 0)));
    assert_true(has(&t, sg__bayes_tok_fact(seed, SG_BTAG_META, SG_BMETA_LENGTH << 8 | 5)));
    assert_false(t.truncated);

    /* A different seed gives different tokens for the same words. */
    struct sg_bayes_tokens t2;
    assert_int_equal(sg__bayes_tokenize(a, seed + 1, &c, 0, &t2), 0);
    assert_int_equal(t2.n, t.n);
    assert_false(has(&t2, body_word(seed, "alpha")));
    sg__arena_free(a);
}

static void test_subject_prefix(void **state)
{
    struct sg_arena *a = sg__arena_new(0);
    uint64_t seed = 7;
    struct sg_content c;
    content_init(&c, "Free Money", "free money");
    c.norm_subject = "free money"; /* normalised (case folded) as content.c would */
    struct sg_bayes_tokens t;
    assert_int_equal(sg__bayes_tokenize(a, seed, &c, 0, &t), 0);
    uint64_t subj = sg__bayes_tok_word(wh(seed, "free"), SG_BTAG_SUBJECT_WORD);
    uint64_t body = body_word(seed, "free");
    assert_true(subj != body);
    assert_true(has(&t, subj));
    assert_true(has(&t, body));
    assert_true(has(&t, sg__bayes_tok_pair(wh(seed, "free"), wh(seed, "money"), 1, true)));
    assert_true(has(&t, body_pair(seed, "free", "money", 1)));
    /* Subject and body are separate streams: no pair crosses from one to the other. */
    assert_false(has(&t, body_pair(seed, "money", "free", 1)));
    /* 2+1 subject, 2+1 body, 2 facts. */
    assert_int_equal(t.n, 8);
    sg__arena_free(a);
}

static void test_words_and_numbers(void **state)
{
    struct sg_arena *a = sg__arena_new(0);
    uint64_t seed = 9;
    struct sg_content c;
    /* Unnormalised text (no norm): ASCII is folded here. Inner punctuation joins only between
     * word characters; ',' only between digits; a phone number also counts by its shape and
     * pairs by it; a word over the maximum is a fact, not a word. */
    content_init(&c, NULL, NULL);
    c.text = "Don't e-mail me, CALL 09061701461 now... £1,000 cash! www.claim.io "
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    c.text_len = strlen(c.text);
    struct sg_bayes_tokens t;
    assert_int_equal(sg__bayes_tokenize(a, seed, &c, 0, &t), 0);
    assert_true(has(&t, body_word(seed, "don't")));
    assert_true(has(&t, body_word(seed, "e-mail")));
    assert_true(has(&t, body_word(seed, "me")));
    assert_true(has(&t, body_word(seed, "call")));
    assert_true(has(&t, body_word(seed, "09061701461")));
    assert_true(has(&t, body_word(seed, "#11")));
    assert_true(has(&t, body_word(seed, "now")));
    assert_true(has(&t, body_word(seed, "£1,000")));
    assert_true(has(&t, body_word(seed, "www.claim.io")));
    assert_false(has(&t, body_word(seed, "me,")));
    assert_false(has(&t, body_word(seed, "now.")));
    assert_true(has(&t, body_pair(seed, "call", "#11", 1)));
    assert_true(has(&t, body_pair(seed, "#11", "now", 1)));
    assert_false(has(&t, body_pair(seed, "call", "09061701461", 1)));
    assert_true(has(&t, sg__bayes_tok_fact(seed, SG_BTAG_META, SG_BMETA_LONG_WORDS << 8 | 1)));
    sg__arena_free(a);

    /* Typographic apostrophe and dashes of other scripts. */
    a = sg__arena_new(0);
    content_init(&c, NULL, "don\xe2\x80\x99t\xe2\x80\x94stop \xd0\xbf\xd1\x80\xd0\xb8\xd0\xb7");
    assert_int_equal(sg__bayes_tokenize(a, seed, &c, 0, &t), 0);
    assert_true(has(&t, body_word(seed, "don't")));
    assert_true(has(&t, body_word(seed, "stop")));
    assert_true(has(&t, body_word(seed, "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb7")));
    sg__arena_free(a);
}

static void test_url_and_header_tokens(void **state)
{
    struct sg_arena *a = sg__arena_new(0);
    uint64_t seed = 11;
    struct sg_content c;
    content_init(&c, NULL, "see link");
    struct sg_text_url urls[2] = {
        {.raw = "https://bit.ly/x", .url = "https://bit.ly/x", .host = "bit.ly",
         .domain = "bit.ly", .flags = SG_URL_SHORTENER},
        {.raw = "http://1.2.3.4/", .url = "http://1.2.3.4/", .host = "1.2.3.4", .domain = NULL,
         .flags = SG_URL_IP_LITERAL},
    };
    c.urls = urls;
    c.nurls = 2;
    struct sg_text_header hdrs[3] = {
        {"X-Mailer", "Microsoft Outlook Express 6.00.2600.0000"},
        {"Content-Type", "text/HTML; charset=\"ISO-8859-1\""},
        {"Message-ID", "<abc.123@Mail.Example.COM>"},
    };
    c.headers = hdrs;
    c.nheaders = 3;
    c.from_addr = "Promo@Bank-Secure.example";
    c.reply_to = "Claims <win@claim-nft.io>";
    c.has_html = true;
    struct sg_bayes_tokens t;
    assert_int_equal(sg__bayes_tokenize(a, seed, &c, 0, &t), 0);
    assert_true(has(&t, sg__bayes_tok_url(seed, "bit.ly", 6)));
    assert_true(has(&t, sg__bayes_tok_fact(seed, SG_BTAG_URL_FLAG, 1))); /* SHORTENER bit */
    assert_true(has(&t, sg__bayes_tok_fact(seed, SG_BTAG_URL_FLAG, 0))); /* IP_LITERAL bit */
    assert_true(has(&t, sg__bayes_tok_fact(seed, SG_BTAG_META, SG_BMETA_URL_IP << 8 | 1)));
    assert_true(has(&t, sg__bayes_tok_fact(seed, SG_BTAG_META, SG_BMETA_URLS << 8 | 2)));
    assert_true(has(&t, sg__bayes_tok_fact(seed, SG_BTAG_META, SG_BMETA_HTML << 8 | 1)));
    assert_true(has(&t, sg__bayes_tok_header(seed, SG_BHDR_FROM_DOMAIN, "bank-secure.example", 19)));
    assert_true(has(&t, sg__bayes_tok_header(seed, SG_BHDR_REPLY_TO_DOMAIN, "claim-nft.io", 12)));
    assert_true(has(&t, sg__bayes_tok_fact(seed, SG_BTAG_META, SG_BMETA_REPLY_TO_DIFFERS << 8 | 1)));
    const char *mailer = "microsoft outlook express #.##.####.####";
    assert_true(has(&t, sg__bayes_tok_header(seed, SG_BHDR_X_MAILER, mailer, strlen(mailer))));
    assert_true(has(&t, sg__bayes_tok_header(seed, SG_BHDR_CONTENT_TYPE, "text/html", 9)));
    assert_true(has(&t, sg__bayes_tok_header(seed, SG_BHDR_CHARSET, "iso-8859-1", 10)));
    assert_true(has(&t, sg__bayes_tok_header(seed, SG_BHDR_MESSAGE_ID_DOMAIN, "mail.example.com", 16)));
    /* A URL domain is not the word of the same letters. */
    assert_true(sg__bayes_tok_url(seed, "bit.ly", 6) != body_word(seed, "bit.ly"));
    sg__arena_free(a);
}

static void test_token_cap(void **state)
{
    struct sg_arena *a = sg__arena_new(0);
    char *body = malloc(5000 * 8);
    size_t n = 0;
    for (int i = 0; i < 5000; i++)
        n += (size_t)snprintf(body + n, 5000 * 8 - n, "w%d ", i);
    struct sg_content c;
    content_init(&c, "subject words", body);
    struct sg_bayes_tokens t;
    assert_int_equal(sg__bayes_tokenize(a, 1, &c, 100, &t), 0);
    assert_int_equal(t.n, 100);
    assert_true(t.truncated);
    /* The subject comes first, so it survives the cap. */
    assert_true(has(&t, sg__bayes_tok_word(wh(1, "subject"), SG_BTAG_SUBJECT_WORD)));
    /* Distinct: a repeated word counts once. */
    content_init(&c, NULL, "spam spam spam spam spam spam");
    assert_int_equal(sg__bayes_tokenize(a, 1, &c, 0, &t), 0);
    /* spam + (spam,spam) at distances 1..4 + 2 facts */
    assert_int_equal(t.n, 1 + 4 + 2);
    /* The default cap is 3000. */
    content_init(&c, NULL, body);
    assert_int_equal(sg__bayes_tokenize(a, 1, &c, 0, &t), 0);
    assert_int_equal(t.n, SG_BAYES_DEFAULT_MAX_TOKENS);
    free(body);
    sg__arena_free(a);
}

static void test_tokenize_empty(void **state)
{
    struct sg_arena *a = sg__arena_new(0);
    struct sg_content c;
    content_init(&c, NULL, NULL);
    struct sg_bayes_tokens t;
    assert_int_equal(sg__bayes_tokenize(a, 1, &c, 0, &t), 0);
    assert_int_equal(t.n, 2); /* no URLs, length 0 */
    assert_int_equal(sg__bayes_tokenize(NULL, 1, &c, 0, &t), SG_EINVAL);
    /* A tiny arena: out of memory, not a crash. */
    struct sg_arena *tiny = sg__arena_new(1024);
    assert_int_equal(sg__bayes_tokenize(tiny, 1, &c, 0, &t), SG_ENOMEM);
    sg__arena_free(tiny);
    sg__arena_free(a);
}

/* ---- combining ---- */

/* The four pair tokens computed together (the vector path where the machine has one) are
 * sg__bayes_tok_pair's, for any previous words, in the body and in the subject. */
static void test_pairs_together(void **state)
{
    (void)state;
    uint64_t x = 0x243f6a8885a308d3ULL; /* xorshift64: varied high and low halves */
    for (int it = 0; it < 20000; it++) {
        uint64_t prev[SG_BAYES_PAIRS], later;
        for (unsigned d = 0; d < SG_BAYES_PAIRS; d++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            prev[d] = it % 7 == 0 ? (uint64_t)d : x; /* small values too */
        }
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        later = x;
        bool subject = it & 1;
        for (int vector = 0; vector < 2; vector++) {
            uint64_t out[SG_BAYES_PAIRS];
            sg__bayes_tok_pairs(prev, later, SG_BAYES_PAIRS, subject,
                                vector && sg__bayes_pairs_vector(), out);
            for (unsigned d = 1; d <= SG_BAYES_PAIRS; d++)
                assert_int_equal(out[d - 1], sg__bayes_tok_pair(prev[d - 1], later, d, subject));
        }
    }
}

static void test_chi2q(void **state)
{
    /* df 2: e^(-x/2). df 4: e^(-x/2) (1 + x/2). */
    assert_float_equal(sg__bayes_chi2q(2, 2), 0.367879441171442, 1e-12);
    assert_float_equal(sg__bayes_chi2q(10, 4), 0.0404276819945128, 1e-12);
    assert_float_equal(sg__bayes_chi2q(0, 4), 1.0, 0);
    /* Beyond e^-m's range (m = 800): the log-space sum, against 60-digit decimal sums. */
    assert_float_equal(sg__bayes_chi2q(1600, 1800), 9.997240865590925e-01, 1e-9);
    assert_float_equal(sg__bayes_chi2q(1600, 1400), 1.440501538210458e-04, 1e-12);
    assert_float_equal(sg__bayes_chi2q(2000, 2000), 4.957947558197845e-01, 1e-9);
}

/* The log-space series as first written: a log() and an exp() per term. */
static double chi2q_reference(double x2, uint32_t df)
{
    double m = x2 / 2, lm = log(m), lt = -m, best = lt, acc = 1;
    for (uint32_t i = 1; i < df / 2; i++) {
        lt += lm - log((double)i);
        if (lt > best) {
            acc = acc * exp(best - lt) + 1;
            best = lt;
        } else {
            acc += exp(lt - best);
        }
    }
    double q = exp(best + log(acc));
    return q < 1 ? q : 1;
}

/* The table of ln i and the skipped negligible terms change no bit of the result. */
static void test_chi2q_exact(void **state)
{
    for (double x2 = 1400; x2 < 40000; x2 *= 1.37)
        for (uint32_t df = 2; df < 12000; df = df * 3 / 2 + 2)
            assert_true(sg__bayes_chi2q(x2, df) == chi2q_reference(x2, df));
}

static void test_robinson_and_indicator(void **state)
{
    /* spam 3 of 10, ham 1 of 20: p = 0.3 / (0.3 + 0.05) = 6/7; f = (0.5 + 4 * 6/7) / 5. */
    assert_float_equal(sg__bayes_robinson(3, 1, 10, 20, 1, 0.5), 0.785714285714286, 1e-12);
    assert_float_equal(sg__bayes_robinson(0, 0, 10, 20, 1, 0.5), 0.5, 0);
    assert_float_equal(sg__bayes_robinson(5, 0, 10, 20, 0, 0.5), 1.0, 0);

    struct sg_bayes_sums sums = {0};
    assert_true(sg__bayes_sums_add(&sums, 0.9, 0.1));
    assert_true(sg__bayes_sums_add(&sums, 0.8, 0.1));
    assert_true(sg__bayes_sums_add(&sums, 0.3, 0.1));
    assert_false(sg__bayes_sums_add(&sums, 0.55, 0.1)); /* near neutral: ignored */
    assert_false(sg__bayes_sums_add(&sums, 0.6, 0.1));  /* exactly min_dev away: ignored */
    assert_int_equal(sums.n, 3);
    /* H = Q(-2 ln(0.9*0.8*0.3), 6) = 0.80065..., S = Q(-2 ln(0.1*0.2*0.7), 6) = 0.20131... */
    assert_float_equal(sg__bayes_indicator(&sums), 0.799668588311775, 1e-12);
    struct sg_bayes_sums none = {0};
    assert_float_equal(sg__bayes_indicator(&none), 0.5, 0);

    /* Scores: graded on -log10(1 - p) between the cutoff and 1 - 1e-6. */
    struct sg_bayes_params p;
    sg__bayes_params_default(&p);
    bool conf;
    assert_float_equal(sg__bayes_score(&p, 0.5, p.spam_cutoff, &conf), 0, 0);
    assert_false(conf);
    /* The probable band: a fixed score below hold, not confident. */
    assert_float_equal(sg__bayes_score(&p, 0.69, p.spam_cutoff, &conf), 0, 0);
    assert_false(conf);
    assert_float_equal(sg__bayes_score(&p, 0.7, p.spam_cutoff, &conf), 3.5, 0);
    assert_false(conf);
    assert_float_equal(sg__bayes_score(&p, 0.89, p.spam_cutoff, &conf), 3.5, 0);
    assert_false(conf);
    p.probable_score = 0; /* off */
    assert_float_equal(sg__bayes_score(&p, 0.89, p.spam_cutoff, &conf), 0, 0);
    p.probable_score = SG_BAYES_DEFAULT_PROBABLE_SCORE;
    assert_float_equal(sg__bayes_score(&p, 0.9, p.spam_cutoff, &conf), 5.0, 1e-9);
    assert_true(conf);
    assert_float_equal(sg__bayes_score(&p, 0.99999, p.spam_cutoff, &conf), 6.6, 1e-9);
    assert_float_equal(sg__bayes_score(&p, 1.0, p.spam_cutoff, &conf), 7.0, 1e-9);
    assert_float_equal(sg__bayes_score(&p, 0.005, p.spam_cutoff, &conf), 0.0, 0);
    assert_true(conf);
    p.ham_score = -1;
    assert_float_equal(sg__bayes_score(&p, 0.005, p.spam_cutoff, &conf), -1.0, 0);

    /* Short messages of short-form channels: confident from short_cutoff (0.7) up to 50 tokens
     * used, moving linearly to spam_cutoff (0.9) at 200; the band moves down with it. */
    assert_float_equal(sg__bayes_spam_cutoff(&p, 0), 0.7, 0);
    assert_float_equal(sg__bayes_spam_cutoff(&p, 50), 0.7, 0);
    assert_float_equal(sg__bayes_spam_cutoff(&p, 125), 0.8, 1e-12);
    assert_float_equal(sg__bayes_spam_cutoff(&p, 200), 0.9, 0);
    assert_float_equal(sg__bayes_spam_cutoff(&p, 5000), 0.9, 0);
    assert_float_equal(sg__bayes_score(&p, 0.7, sg__bayes_spam_cutoff(&p, 30), &conf), 5.0, 1e-9);
    assert_true(conf);
    assert_float_equal(sg__bayes_score(&p, 0.69, sg__bayes_spam_cutoff(&p, 30), &conf), 3.5, 0); /* the band moves down */
    assert_false(conf);
    assert_float_equal(sg__bayes_score(&p, 0.5, sg__bayes_spam_cutoff(&p, 30), &conf), 3.5, 0);
    assert_float_equal(sg__bayes_score(&p, 0.49, sg__bayes_spam_cutoff(&p, 30), &conf), 0, 0);
    assert_float_equal(sg__bayes_score(&p, 0.79, sg__bayes_spam_cutoff(&p, 125), &conf), 3.5, 0); /* the band below 0.8 */
    assert_false(conf);
    assert_float_equal(sg__bayes_score(&p, 0.6, sg__bayes_spam_cutoff(&p, 125), &conf), 3.5, 0);
    assert_float_equal(sg__bayes_score(&p, 0.59, sg__bayes_spam_cutoff(&p, 125), &conf), 0, 0);
    assert_float_equal(sg__bayes_score(&p, 0.8, sg__bayes_spam_cutoff(&p, 125), &conf), 5.0, 1e-9);
    assert_true(conf);
    p.short_cutoff = p.spam_cutoff; /* off: one cutoff whatever the length */
    assert_float_equal(sg__bayes_spam_cutoff(&p, 10), 0.9, 0);
    assert_float_equal(sg__bayes_score(&p, 0.8, sg__bayes_spam_cutoff(&p, 10), &conf), 3.5, 0);
}

/* ---- the model ---- */

static struct sg_bayes *memory_model(uint32_t min_each)
{
    struct sg_bayes_params p;
    sg__bayes_params_default(&p);
    p.min_spam = p.min_ham = min_each;
    struct sg_bayes *b;
    assert_int_equal(sg__bayes_open(NULL, &p, &b), 0);
    return b;
}

static void test_classify_trained(void **state)
{
    struct sg_bayes *b = memory_model(SG_BAYES_DEFAULT_MIN_SPAM);
    train(b, NULL, 250, 250, false, 1);
    struct sg_bayes_result r = classify(b, NULL, SPAMMY);
    assert_true(r.trained);
    assert_false(r.tenant_class);
    assert_true(r.probability >= 0.99);
    assert_true(r.confident);
    assert_true(r.score >= 5.0 && r.score <= 7.0);
    assert_true(r.tokens_used > 0 && r.tokens_used <= r.tokens);
    r = classify(b, NULL, HAMMY);
    assert_true(r.probability <= 0.01);
    assert_true(r.confident);
    assert_float_equal(r.score, 0, 0);
    /* Nothing known: neutral, not confident. */
    r = classify(b, NULL, "zebra quartz xylophone");
    assert_float_equal(r.probability, 0.5, 1e-9);
    assert_int_equal(r.tokens_used, 0);
    assert_false(r.confident);
    /* The length-aware cutoff is for short-form channels only: the same short text as an email
     * keeps spam_cutoff, as an SMS gets the lower cutoff of its length. */
    struct sg_content c;
    content_init(&c, NULL, SPAMMY);
    assert_int_equal(sg__bayes_classify(b, NULL, NULL, &c, &r), 0);
    assert_true(r.tokens_used < SG_BAYES_DEFAULT_SHORT_TOKENS);
    assert_float_equal(r.cutoff, SG_BAYES_DEFAULT_SPAM_CUTOFF, 0);
    c.short_form = true;
    assert_int_equal(sg__bayes_classify(b, NULL, NULL, &c, &r), 0);
    assert_float_equal(r.cutoff, SG_BAYES_DEFAULT_SHORT_CUTOFF, 0);
    sg__bayes_free(b);
}

/* The indicator is the mean of two readings, every token and the single tokens only: a message
 * whose pairs are spammy but whose words are hammy lands between the two, where reading every
 * token as a word would call it neutral. */
static void test_pairs_and_words_read_apart(void **state)
{
    struct sg_bayes *b = memory_model(10);
    uint64_t spam_v[] = {101, 102}, ham_v[] = {201, 202};
    uint8_t spam_pair[] = {0, 1}, ham_pair[] = {0, 1};
    struct sg_bayes_tokens spam_t = {.v = spam_v, .pair = spam_pair, .n = 2},
                           ham_t = {.v = ham_v, .pair = ham_pair, .n = 2};
    for (int i = 0; i < 10; i++) {
        assert_int_equal(sg__bayes_learn_tokens(b, NULL, &spam_t, SG_BAYES_SPAM, 0), 0);
        assert_int_equal(sg__bayes_learn_tokens(b, NULL, &ham_t, SG_BAYES_HAM, 0), 0);
    }
    /* A hammy word (201) with a spammy pair (102). */
    uint64_t mixed_v[] = {201, 102};
    uint8_t mixed_pair[] = {0, 1};
    struct sg_bayes_tokens mixed = {.v = mixed_v, .pair = mixed_pair, .n = 2};
    struct sg_bayes_result r;
    assert_int_equal(sg__bayes_classify_tokens(b, NULL, &mixed, &r), 0);

    struct sg_bayes_params p;
    sg__bayes_params_default(&p);
    double f_ham = sg__bayes_robinson(0, 10, 10, 10, p.robs, p.robx);
    double f_spam = sg__bayes_robinson(10, 0, 10, 10, p.robs, p.robx);
    struct sg_bayes_sums all = {0}, words = {0};
    sg__bayes_sums_add(&all, f_ham, p.min_dev);
    sg__bayes_sums_add(&all, f_spam, p.min_dev);
    sg__bayes_sums_add(&words, f_ham, p.min_dev);
    double want = (sg__bayes_indicator(&all) + sg__bayes_indicator(&words)) / 2;
    assert_float_equal(r.probability, want, 1e-12);
    assert_true(r.probability < 0.4); /* the word reading pulls it toward ham */
    assert_int_equal(r.tokens_used, 2);

    /* Without pair marks every token is a word: one reading, neutral here. */
    struct sg_bayes_tokens unmarked = {.v = mixed_v, .n = 2};
    assert_int_equal(sg__bayes_classify_tokens(b, NULL, &unmarked, &r), 0);
    assert_float_equal(r.probability, sg__bayes_indicator(&all), 1e-12);
    sg__bayes_free(b);
}

static void test_not_enough_training(void **state)
{
    struct sg_bayes *b = memory_model(SG_BAYES_DEFAULT_MIN_SPAM);
    train(b, NULL, 199, 250, false, 2);
    struct sg_bayes_result r = classify(b, NULL, SPAMMY);
    assert_false(r.trained);
    assert_false(r.confident);
    assert_float_equal(r.score, 0, 0);
    assert_float_equal(r.probability, 0.5, 0);
    struct sg_bayes_stats st;
    assert_int_equal(sg__bayes_stats(b, NULL, &st), 0);
    assert_int_equal(st.spam_msgs, 199);
    assert_int_equal(st.ham_msgs, 250);
    assert_false(st.trained);
    /* One more spam message and it speaks. */
    train(b, NULL, 1, 0, false, 3);
    r = classify(b, NULL, SPAMMY);
    assert_true(r.trained);
    assert_true(r.confident);
    assert_true(r.score >= 4.0);
    sg__bayes_free(b);
}

static void test_learn_unlearn_symmetry(void **state)
{
    struct sg_bayes *b = memory_model(5);
    train(b, NULL, 20, 20, false, 4);
    struct sg_bayes_stats before, after;
    assert_int_equal(sg__bayes_stats(b, NULL, &before), 0);
    struct sg_bayes_result r0 = classify(b, NULL, SPAMMY);

    struct sg_content c;
    content_init(&c, "a subject never seen", "brand new words here and claim prize");
    assert_int_equal(sg__bayes_learn(b, NULL, NULL, &c, SG_BAYES_SPAM, 0), 0);
    struct sg_bayes_result r1 = classify(b, NULL, SPAMMY);
    assert_true(r1.probability != r0.probability || r1.tokens_used != r0.tokens_used);
    assert_int_equal(sg__bayes_unlearn(b, NULL, NULL, &c, SG_BAYES_SPAM, 0), 0);
    assert_int_equal(sg__bayes_stats(b, NULL, &after), 0);
    assert_int_equal(after.spam_msgs, before.spam_msgs);
    assert_int_equal(after.ham_msgs, before.ham_msgs);
    struct sg_bayes_result r2 = classify(b, NULL, SPAMMY);
    assert_float_equal(r2.probability, r0.probability, 0);
    assert_int_equal(r2.tokens_used, r0.tokens_used);

    /* Unlearning what was never learned leaves counts at zero, never below. */
    content_init(&c, NULL, "claim prize");
    for (int i = 0; i < 100; i++)
        assert_int_equal(sg__bayes_unlearn(b, NULL, NULL, &c, SG_BAYES_HAM, 0), 0);
    assert_int_equal(sg__bayes_stats(b, NULL, &after), 0);
    assert_int_equal(after.ham_msgs, 0);
    assert_int_equal(sg__bayes_unlearn(b, NULL, "nobody", &c, SG_BAYES_HAM, 0), 0);
    assert_int_equal(sg__bayes_stats(b, "nobody", &after), SG_ENOTFOUND);
    sg__bayes_free(b);
}

static void test_tenant_vs_global(void **state)
{
    struct sg_bayes *b = memory_model(50);
    train(b, NULL, 60, 60, false, 5);
    /* Tenant "odd" labels the other way round (a tenant whose users talk about crypto prizes
     * legitimately) and has enough training; tenant "small" has too little. */
    train(b, "odd", 60, 60, true, 6);
    train(b, "small", 10, 10, true, 7);

    struct sg_bayes_result g = classify(b, NULL, SPAMMY);
    assert_true(g.trained && !g.tenant_class && g.probability >= 0.99);
    struct sg_bayes_result o = classify(b, "odd", SPAMMY);
    assert_true(o.trained && o.tenant_class && o.probability <= 0.01);
    struct sg_bayes_result s = classify(b, "small", SPAMMY);
    assert_true(s.trained && !s.tenant_class);
    assert_float_equal(s.probability, g.probability, 0);
    struct sg_bayes_result u = classify(b, "unknown", SPAMMY);
    assert_true(!u.tenant_class);
    assert_float_equal(u.probability, g.probability, 0);
    struct sg_bayes_result star = classify(b, "*", SPAMMY);
    assert_float_equal(star.probability, g.probability, 0);

    /* Tenant-only learning leaves the global class alone; ALSO_GLOBAL counts in both. */
    struct sg_bayes_stats st;
    assert_int_equal(sg__bayes_stats(b, NULL, &st), 0);
    assert_int_equal(st.spam_msgs, 60);
    assert_int_equal(st.classes, 3);
    struct sg_content c;
    content_init(&c, NULL, SPAMMY);
    assert_int_equal(sg__bayes_learn(b, NULL, "small", &c, SG_BAYES_SPAM, SG_BAYES_ALSO_GLOBAL), 0);
    assert_int_equal(sg__bayes_stats(b, NULL, &st), 0);
    assert_int_equal(st.spam_msgs, 61);
    assert_int_equal(sg__bayes_stats(b, "small", &st), 0);
    assert_int_equal(st.spam_msgs, 11);
    sg__bayes_free(b);
}

static void test_model_cap(void **state)
{
    struct sg_bayes_params p;
    sg__bayes_params_default(&p);
    p.max_model_tokens = 50;
    struct sg_bayes *b;
    assert_int_equal(sg__bayes_open(NULL, &p, &b), 0);
    train(b, NULL, 20, 20, false, 8);
    struct sg_bayes_stats st;
    assert_int_equal(sg__bayes_stats(b, NULL, &st), 0);
    assert_int_equal(st.model_tokens, 50);
    assert_true(st.full);
    assert_int_equal(st.spam_msgs, 20);
    sg__bayes_free(b);
}

/* ---- persistence ---- */


static struct sg_bayes *file_model(const char *path, struct sg_store **store, uint32_t min_each)
{
    assert_int_equal(sg_store_open(path, store), 0);
    struct sg_bayes_params p;
    sg__bayes_params_default(&p);
    p.min_spam = p.min_ham = min_each;
    struct sg_bayes *b;
    int rc = sg__bayes_open(*store, &p, &b);
    if (rc)
        fprintf(stderr, "bayes open: %s\n", sg_store_errmsg(*store));
    assert_int_equal(rc, 0);
    return b;
}

static void test_persistence(void **state)
{
    struct tmp *t = *state;
    struct sg_store *store;
    struct sg_bayes *b = file_model(t->path, &store, 20);
    train(b, NULL, 30, 30, false, 9);
    train(b, "clinic", 25, 25, true, 10);
    struct sg_bayes_result g0 = classify(b, NULL, SPAMMY);
    struct sg_bayes_result c0 = classify(b, "clinic", SPAMMY);
    struct sg_bayes_stats s0, sc0;
    assert_int_equal(sg__bayes_stats(b, NULL, &s0), 0);
    assert_int_equal(sg__bayes_stats(b, "clinic", &sc0), 0);
    assert_int_equal(sg__bayes_flush(b), 0);
    sg__bayes_free(b);
    sg_store_close(store);

    assert_int_equal(file_query_int(t->path, "SELECT count(*) FROM bayes_scopes"), 2);
    assert_int_equal(file_query_int(t->path, "SELECT spam_msgs FROM bayes_scopes WHERE scope = '*'"), 30);
    assert_int_equal(file_query_int(t->path, "SELECT count(*) FROM bayes_tokens WHERE scope = '*'"),
                     (int64_t)s0.tokens);

    b = file_model(t->path, &store, 20);
    struct sg_bayes_stats s1, sc1;
    assert_int_equal(sg__bayes_stats(b, NULL, &s1), 0);
    assert_int_equal(sg__bayes_stats(b, "clinic", &sc1), 0);
    assert_int_equal(s1.spam_msgs, s0.spam_msgs);
    assert_int_equal(s1.ham_msgs, s0.ham_msgs);
    assert_int_equal(s1.tokens, s0.tokens);
    assert_int_equal(sc1.tokens, sc0.tokens);
    assert_int_equal(sc1.spam_msgs, sc0.spam_msgs);
    struct sg_bayes_result g1 = classify(b, NULL, SPAMMY);
    struct sg_bayes_result c1 = classify(b, "clinic", SPAMMY);
    assert_float_equal(g1.probability, g0.probability, 0);
    assert_int_equal(g1.tokens_used, g0.tokens_used);
    assert_float_equal(c1.probability, c0.probability, 0);
    assert_true(c1.tenant_class);

    /* Unlearning to zero deletes the rows (free then closes with a flush). */
    struct sg_content c;
    content_init(&c, NULL, "unique words only here");
    assert_int_equal(sg__bayes_learn(b, NULL, NULL, &c, SG_BAYES_HAM, 0), 0);
    assert_int_equal(sg__bayes_flush(b), 0);
    assert_int_equal(sg_store_flush(store), 0);
    int64_t with = file_query_int(t->path, "SELECT count(*) FROM bayes_tokens");
    assert_int_equal(sg__bayes_unlearn(b, NULL, NULL, &c, SG_BAYES_HAM, 0), 0);
    sg__bayes_free(b);
    sg_store_close(store);
    int64_t without = file_query_int(t->path, "SELECT count(*) FROM bayes_tokens");
    assert_true(without < with);
    assert_int_equal(file_query_int(t->path, "SELECT count(*) FROM bayes_tokens WHERE spam = 0 AND ham = 0"), 0);
    assert_int_equal(file_query_int(t->path, "SELECT ham_msgs FROM bayes_scopes WHERE scope = '*'"), 30);
}

/* Two models on one store (a daemon and `sendguard train`) learn; the increments add up. */
static void test_two_writers(void **state)
{
    struct tmp *t = *state;
    struct sg_store *s1, *s2;
    struct sg_bayes *b1 = file_model(t->path, &s1, 5);
    struct sg_bayes *b2 = file_model(t->path, &s2, 5);
    train(b1, NULL, 10, 0, false, 11);
    train(b2, NULL, 7, 3, false, 12);
    assert_int_equal(sg__bayes_flush(b1), 0);
    assert_int_equal(sg_store_flush(s1), 0);
    assert_int_equal(sg__bayes_flush(b2), 0);
    assert_int_equal(sg_store_flush(s2), 0);
    struct sg_bayes_stats st;
    /* b1 learns after the other's flush but before its reload: kept, and written once. */
    train(b1, NULL, 1, 0, false, 13);
    assert_int_equal(sg__bayes_reload(b1), 0);
    assert_int_equal(sg__bayes_stats(b1, NULL, &st), 0);
    assert_int_equal(st.spam_msgs, 18);
    assert_int_equal(st.ham_msgs, 3);
    sg__bayes_free(b1);
    sg__bayes_free(b2);
    sg_store_close(s1);
    sg_store_close(s2);
    assert_int_equal(file_query_int(t->path, "SELECT spam_msgs FROM bayes_scopes WHERE scope = '*'"), 18);
    /* The word "claim" was in (nearly) every spam message: its count is the sum. */
    struct sg_store *s3;
    struct sg_bayes *b3 = file_model(t->path, &s3, 5);
    assert_int_equal(sg__bayes_stats(b3, NULL, &st), 0);
    assert_int_equal(st.spam_msgs, 18);
    sg__bayes_free(b3);
    sg_store_close(s3);
}

/* ---- threads ---- */

struct race {
    struct sg_bayes *b;
    int classified;
};

static void *classifier_thread(void *arg)
{
    struct race *r = arg;
    struct sg_arena *a = sg__arena_new(0);
    struct sg_content c;
    for (int i = 0; i < 2000; i++) {
        content_init(&c, NULL, (i & 1) ? SPAMMY : HAMMY);
        struct sg_bayes_result res;
        if (sg__bayes_classify(r->b, a, (i & 2) ? "tenant" : NULL, &c, &res) == 0 &&
            res.probability >= 0 && res.probability <= 1)
            r->classified++;
        sg__arena_reset(a);
    }
    sg__arena_free(a);
    return NULL;
}

static void test_classify_while_learning(void **state)
{
    struct tmp *t = *state;
    struct sg_store *store;
    struct sg_bayes *b = file_model(t->path, &store, 50);
    train(b, NULL, 60, 60, false, 14);
    struct race r = {.b = b};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, classifier_thread, &r), 0);
    /* Learning (and flushing, and reloading) while the other thread reads. */
    uint32_t rng = 15;
    char buf[512];
    struct sg_content c;
    for (int i = 0; i < 300; i++) {
        gen_message(buf, sizeof buf, i & 1, &rng);
        content_init(&c, NULL, buf);
        assert_int_equal(sg__bayes_learn(b, NULL, (i % 3) ? NULL : "tenant", &c,
                                         (i & 1) ? SG_BAYES_SPAM : SG_BAYES_HAM,
                                         SG_BAYES_ALSO_GLOBAL), 0);
        if (i % 50 == 49)
            assert_int_equal(sg__bayes_flush(b), 0);
        if (i == 150)
            assert_int_equal(sg__bayes_reload(b), 0);
    }
    pthread_join(th, NULL);
    assert_int_equal(r.classified, 2000);
    struct sg_bayes_stats st;
    assert_int_equal(sg__bayes_stats(b, NULL, &st), 0);
    assert_int_equal(st.spam_msgs + st.ham_msgs, 120 + 300);
    sg__bayes_free(b);
    sg_store_close(store);
    b = file_model(t->path, &store, 50);
    assert_int_equal(sg__bayes_stats(b, NULL, &st), 0);
    assert_int_equal(st.spam_msgs + st.ham_msgs, 120 + 300);
    assert_int_equal(sg__bayes_stats(b, "tenant", &st), 0);
    assert_int_equal(st.spam_msgs + st.ham_msgs, 100);
    sg__bayes_free(b);
    sg_store_close(store);
}

/* The built-in seed: every mail is whole legitimate mail (a text part, a subject, several
 * dozen tokens) and learning it fills an empty global class with exactly those messages. */
static void test_seed_corpus(void **state)
{
    (void)state;
    assert_true(sg__bayes_seed_nmails >= 100);
    struct sg_arena *a = sg__arena_new(0);
    size_t per_class[2] = {0, 0};
    for (size_t i = 0; i < sg__bayes_seed_nmails; i++) {
        const struct sg_bayes_seed_mail *m = &sg__bayes_seed_mails[i];
        per_class[m->cls]++;
        struct sg_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = SG_EV_MESSAGE;
        ev.raw = m->data;
        ev.raw_len = (size_t)(m->end - m->data);
        ev.verified = -1;
        struct sg_content c;
        assert_int_equal(sg__content_build(a, &ev, &c), 0);
        if (c.subject_len == 0 || c.text_len < 40 || c.mime_broken)
            fail_msg("%s: subject %zu bytes, text %zu bytes, broken MIME %d", m->name,
                     c.subject_len, c.text_len, (int)c.mime_broken);
        struct sg_bayes_tokens t;
        assert_int_equal(sg__bayes_tokenize(a, 1, &c, 0, &t), 0);
        if (t.n < 30)
            fail_msg("%s: only %u tokens", m->name, t.n);
        sg__arena_reset(a);
    }
    struct sg_bayes *b = memory_model(SG_BAYES_DEFAULT_MIN_SPAM);
    assert_true(sg__bayes_global_empty(b));
    size_t learned[2];
    assert_int_equal(sg__bayes_learn_seed(b, a, learned), 0);
    assert_int_equal(learned[SG_BAYES_HAM], per_class[SG_BAYES_HAM]);
    assert_int_equal(learned[SG_BAYES_SPAM], per_class[SG_BAYES_SPAM]);
    assert_false(sg__bayes_global_empty(b));
    struct sg_bayes_stats st;
    assert_int_equal(sg__bayes_stats(b, NULL, &st), 0);
    assert_int_equal(st.ham_msgs, per_class[SG_BAYES_HAM]);
    assert_int_equal(st.spam_msgs, per_class[SG_BAYES_SPAM]);
    assert_true(st.tokens > 10000);
    sg__bayes_free(b);
    sg__arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_osb_pairs),
        cmocka_unit_test(test_subject_prefix),
        cmocka_unit_test(test_words_and_numbers),
        cmocka_unit_test(test_url_and_header_tokens),
        cmocka_unit_test(test_token_cap),
        cmocka_unit_test(test_tokenize_empty),
        cmocka_unit_test(test_pairs_together),
        cmocka_unit_test(test_chi2q),
        cmocka_unit_test(test_chi2q_exact),
        cmocka_unit_test(test_robinson_and_indicator),
        cmocka_unit_test(test_classify_trained),
        cmocka_unit_test(test_pairs_and_words_read_apart),
        cmocka_unit_test(test_not_enough_training),
        cmocka_unit_test(test_learn_unlearn_symmetry),
        cmocka_unit_test(test_tenant_vs_global),
        cmocka_unit_test(test_model_cap),
        cmocka_unit_test(test_seed_corpus),
        cmocka_unit_test_setup_teardown(test_persistence, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_two_writers, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_classify_while_learning, tmp_setup, tmp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
