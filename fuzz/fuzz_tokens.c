/* libFuzzer driver for the classifier's tokenizer: the input is cut at 0x01 bytes into subject,
 * body, From, Reply-To, X-Mailer, Content-Type, Message-ID and a URL domain (each an exact-size
 * heap copy, so ASan sees any read past a field), the first byte choosing which are present and
 * the per-message cap. Invariants: at most max_tokens tokens, none 0, all distinct, the same
 * twice; learning then unlearning leaves an empty class; the probability stays in [0, 1]. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bayes/bayes.h"
#include "text/content.h"
#include "util/arena.h"

enum { F_SUBJECT, F_BODY, F_FROM, F_REPLY_TO, F_MAILER, F_CTYPE, F_MSGID, F_URL, F_COUNT };

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void check(const struct sg_bayes_tokens *t, uint32_t max)
{
    if (t->n > max || (t->truncated && t->n != max))
        abort();
    uint64_t *v = malloc((t->n ? t->n : 1) * sizeof *v);
    if (!v)
        abort();
    memcpy(v, t->v, t->n * sizeof *v);
    qsort(v, t->n, sizeof *v, cmp_u64);
    for (uint32_t i = 0; i < t->n; i++)
        if (!v[i] || (i && v[i] == v[i - 1]))
            abort();
    free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned flags = data[0];
    char *field[F_COUNT] = {0};
    size_t len[F_COUNT] = {0};
    size_t start = 1;
    for (int f = 0; f < F_COUNT && start <= size; f++) {
        size_t end = start;
        while (end < size && data[end] != 0x01)
            end++;
        len[f] = end - start;
        field[f] = malloc(len[f] + 1);
        if (!field[f])
            abort();
        memcpy(field[f], data + start, len[f]);
        field[f][len[f]] = '\0';
        start = end + 1;
    }

    struct sg_content c;
    memset(&c, 0, sizeof c);
    if (field[F_SUBJECT] && (flags & 1)) {
        c.norm_subject = field[F_SUBJECT];
        c.norm_subject_len = len[F_SUBJECT];
    }
    if (field[F_BODY]) {
        /* Normalised or not: the tokenizer reads text when norm is missing. */
        if (flags & 2) {
            c.norm = field[F_BODY];
            c.norm_len = len[F_BODY];
        } else {
            c.text = field[F_BODY];
            c.text_len = len[F_BODY];
        }
    }
    c.from_addr = field[F_FROM];
    c.reply_to = field[F_REPLY_TO];
    struct sg_text_header headers[3];
    const char *names[3] = {"X-Mailer", "Content-Type", "Message-ID"};
    for (int i = 0; i < 3; i++)
        if (field[F_MAILER + i])
            headers[c.nheaders++] = (struct sg_text_header){names[i], field[F_MAILER + i]};
    c.headers = headers;
    struct sg_text_url url = {.domain = field[F_URL], .flags = flags & 0x1ff};
    if (field[F_URL] && (flags & 4)) {
        c.urls = &url;
        c.nurls = 1;
    }
    c.has_html = flags & 8;

    uint32_t max = (flags >> 4) ? (flags >> 4) * 7 : SG_BAYES_DEFAULT_MAX_TOKENS;
    struct sg_arena *a = sg__arena_new(0);
    struct sg_bayes_tokens t1, t2;
    if (!a || sg__bayes_tokenize(a, 0x5eed, &c, max, &t1) != 0 ||
        sg__bayes_tokenize(a, 0x5eed, &c, max, &t2) != 0)
        abort();
    check(&t1, max);
    if (t1.n != t2.n || t1.truncated != t2.truncated ||
        memcmp(t1.v, t2.v, t1.n * sizeof *t1.v) != 0)
        abort();

    /* Through a memory model: learn, classify, unlearn. */
    struct sg_bayes_params p;
    sg__bayes_params_default(&p);
    p.min_spam = p.min_ham = 1;
    p.max_tokens = max;
    struct sg_bayes *b;
    if (sg__bayes_open(NULL, &p, &b) != 0)
        abort();
    if (sg__bayes_learn_tokens(b, NULL, &t1, SG_BAYES_SPAM, 0) != 0 ||
        sg__bayes_learn_tokens(b, "t", &t1, SG_BAYES_HAM, SG_BAYES_ALSO_GLOBAL) != 0)
        abort();
    struct sg_bayes_result r;
    if (sg__bayes_classify(b, a, "t", &c, &r) != 0 || !(r.probability >= 0 && r.probability <= 1))
        abort();
    if (sg__bayes_unlearn_tokens(b, NULL, &t1, SG_BAYES_SPAM, 0) != 0 ||
        sg__bayes_unlearn_tokens(b, "t", &t1, SG_BAYES_HAM, SG_BAYES_ALSO_GLOBAL) != 0)
        abort();
    struct sg_bayes_stats st;
    if (sg__bayes_stats(b, NULL, &st) != 0 || st.spam_msgs || st.ham_msgs)
        abort();
    sg__bayes_free(b);
    sg__arena_free(a);
    for (int f = 0; f < F_COUNT; f++)
        free(field[f]);
    return 0;
}
