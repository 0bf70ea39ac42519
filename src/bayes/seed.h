/* The classifier's seed corpus: hand-written modern mail (data/seed/, docs/bayes.md) built into
 * the library, learned into an empty global class so that a class trained on an older or
 * foreign corpus has seen today's legitimate transactional mail (and today's lures) too. */
#ifndef SG_BAYES_SEED_H
#define SG_BAYES_SEED_H

#include <stdbool.h>
#include <stddef.h>

/* No includes from src/: the CLI reaches this header by path (see cmd_train.c). */
struct sg_arena;
struct sg_bayes;

struct sg_bayes_seed_mail {
    int cls;                 /* enum sg_bayes_class */
    const char *name;        /* path under the source tree, e.g. "data/seed/ham/en-x.eml" */
    const char *data, *end;  /* the raw RFC 822 bytes */
};

/* Generated from data/seed (build/generated/seed_corpus.c). */
extern const struct sg_bayes_seed_mail sg__bayes_seed_mails[];
extern const size_t sg__bayes_seed_nmails;

/* Learns every seed mail into the global class, as raw email. *learned (may be NULL) gets how
 * many were learned per class (indexed by enum sg_bayes_class). The counts are pending until
 * sg__bayes_flush, like any learning. Returns 0 or the first error (the rest are still tried). */
int sg__bayes_learn_seed(struct sg_bayes *b, struct sg_arena *arena, size_t learned[2]);

/* Whether the global class has learned nothing yet: the only time train seeds it. */
bool sg__bayes_global_empty(struct sg_bayes *b);

#endif
