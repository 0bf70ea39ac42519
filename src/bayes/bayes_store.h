/* The classifier's tables in the store (src/store/bayes.c): per-class message counts and
 * per-token counts. Declared here, next to their one user, the model; they follow store.h's
 * rules (status returns, the store's errmsg on failure). */
#ifndef SG_BAYES_BAYES_STORE_H
#define SG_BAYES_BAYES_STORE_H

#include <stddef.h>
#include <stdint.h>

struct sg_store;

/* An increment of one token's counts (negative: unlearned). */
struct sg_bayes_delta {
    uint64_t token;
    int32_t spam, ham;
};

/* Adds increments to scope's message counts and to its tokens' counts, in the store's batch
 * transaction. Counts are clamped at zero; a token whose counts are both zero is deleted.
 * Runs in the caller's thread under the store lock (not through the writer queue: the rows are
 * increments to tables nothing else writes, so their order against other writes is
 * irrelevant). */
int sg__store_bayes_add(struct sg_store *store, const char *scope, int64_t spam_msgs,
                        int64_t ham_msgs, const struct sg_bayes_delta *rows, size_t n);

/* Calls scope_fn for every class (with its number of token rows), then token_fn for every
 * token, grouped by scope (strings valid during the call only). A non-zero return from a
 * callback stops and is returned. */
int sg__store_bayes_load(struct sg_store *store,
                         int (*scope_fn)(void *ud, const char *scope, int64_t spam_msgs,
                                         int64_t ham_msgs, int64_t tokens),
                         int (*token_fn)(void *ud, const char *scope, uint64_t token,
                                         int64_t spam, int64_t ham),
                         void *ud);

#endif
