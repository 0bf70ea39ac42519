/* The classifier's tables in the store (src/store/bayes.c): per-class message counts and
 * per-token counts. Declared here, next to their one user, the model; they follow store.h's
 * rules (status returns, the store's errmsg on failure). */
#ifndef SG_BAYES_BAYES_STORE_H
#define SG_BAYES_BAYES_STORE_H

#include <stdbool.h>
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
 * irrelevant). Every transaction it writes in also bumps the class's generation, which is what
 * tells a stored snapshot from a stale one. */
int sg__store_bayes_add(struct sg_store *store, const char *scope, int64_t spam_msgs,
                        int64_t ham_msgs, const struct sg_bayes_delta *rows, size_t n);

/* One class as the store holds it, handed to the loader's callbacks (valid during the call). */
struct sg_bayes_stored {
    const char *scope;
    int64_t spam_msgs, ham_msgs;
    /* Bumped in every transaction that changes the class's rows (sg__store_bayes_add). */
    int64_t generation;
    /* A snapshot of exactly this generation is stored. */
    bool fresh;
};

/* What the loader wants of a class. */
enum sg_bayes_read {
    SG_BAYES_READ_NONE = 0, /* nothing (more): the class is done */
    SG_BAYES_READ_SNAPSHOT, /* its snapshot (rows when there is no fresh one) */
    SG_BAYES_READ_ROWS,     /* its token rows */
};

/* The loader's callbacks. Each returns an sg_bayes_read or a negative status, which stops the
 * load and is returned. */
struct sg_bayes_loader {
    /* Every class, in name order (the order of the rows, so a limit on the model's size drops
     * the same tokens whichever way they are read). */
    int (*scope)(void *ud, const struct sg_bayes_stored *sc);
    /* The class's snapshot blob (valid during the call): NONE when used, ROWS when not. */
    int (*snapshot)(void *ud, const struct sg_bayes_stored *sc, const void *data, size_t len);
    /* Before the class's rows: how many there are (to size a table once). */
    int (*rows)(void *ud, const struct sg_bayes_stored *sc, int64_t n);
    /* Each row, in ascending (signed) token order; returns 0 or a negative status. */
    int (*token)(void *ud, uint64_t token, int64_t spam, int64_t ham);
    /* After the class's rows, with no statement running: the store may be written to (a fresh
     * snapshot); returns 0 or a negative status. */
    int (*rows_end)(void *ud, const struct sg_bayes_stored *sc);
    void *ud;
};

/* Reads every class from the store through the loader's callbacks, under the store lock. The
 * rows of bayes_tokens are the truth; a snapshot is only offered when it is of the class's
 * current generation. */
int sg__store_bayes_load(struct sg_store *store, const struct sg_bayes_loader *loader);

/* Stores data (a snapshot blob, copied) as scope's snapshot of generation, replacing the one
 * before, unless the class's generation has moved on meanwhile (then nothing is written:
 * another process changed the rows since they were read). Commits the open batch first and
 * writes in a transaction of its own, so a failure here loses no other write. */
int sg__store_bayes_snapshot_put(struct sg_store *store, const char *scope, int64_t generation,
                                 const void *data, size_t len);

#endif
